"""The Ollama adapter: the real `ollama.Client`, pointed at the replay server serving the
recorded NDJSON bodies of `/api/chat` in `fixtures/ollama/` in 7-byte writes (splitting lines
and UTF-8 characters), its ``chat(..., stream=True)`` passed to the stream as it is."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import ollama
import pytest
from hypothesis import given, settings, strategies as st

import streamdantic as sd
from streamdantic.adapters.ollama import aollama_events, json_format, ollama_events
from tests.adapters.replay import ReplayServer
from tests.adapters.support import FIXTURES, MODELS, TOOLS, collect, grows

OLLAMA: dict[str, dict[str, Any]] = {
    s["id"]: s
    for s in json.loads((FIXTURES / "ollama" / "manifest.json").read_text(encoding="utf-8"))[
        "streams"
    ]
}
MESSAGES = [{"role": "user", "content": "Convert the attached content into JSON."}]


def host(server: ReplayServer, stream_id: str, tag: str = "t", piece: int = 7) -> str:
    return f"{server.origin}/replay/{piece}/{stream_id}/{tag}"


def chat(
    server: ReplayServer, stream_id: str, model: type[Any] | None = None
) -> Iterator[ollama.ChatResponse]:
    """The client's chunks, as a user's ``with ollama.Client(...) as client:`` block streams
    them (the client, and so its connection, closed when the stream closes this)."""
    fmt = json_format(model) if model is not None else None
    with ollama.Client(host=host(server, stream_id)) as client:
        yield from client.chat(model="qwen3:8b", messages=MESSAGES, stream=True, format=fmt)


def expected(output: dict[str, Any]) -> Any:
    model = getattr(MODELS, output["pydantic_model"])
    return model.model_validate_json((FIXTURES / output["document"]).read_bytes())


def test_generated_fixtures_are_up_to_date() -> None:
    """fixtures/make_ollama.py --check finds every generated file as it would write it."""
    result = subprocess.run(
        [sys.executable, str(FIXTURES / "make_ollama.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("stream_id", "model"),
    [("ollama/text_json", "Recipe"), ("ollama/text_unicode", "UnicodeSample")],
)
def test_client_stream_gives_growing_partials_and_the_object(
    replay_server: ReplayServer, stream_id: str, model: str
) -> None:
    """chat(stream=True) is a source as it is: the final object equals model_validate_json of
    the full text, partials only grow, usage and finish reason come through."""
    entry = OLLAMA[stream_id]
    cls = getattr(MODELS, model)
    run = collect(sd.stream(chat(replay_server, stream_id, cls), cls))
    assert run.error is None
    (output,) = entry["outputs"]
    assert run.final == cls.model_validate_json(output["text"]) == expected(output)
    assert grows(run.dumps)
    assert len(run.dumps) > 10
    assert run.finish_reason == "stop"
    assert run.usage is not None
    sent = entry["usage"]
    assert (run.usage.input_tokens, run.usage.output_tokens) == (
        sent["prompt_eval_count"],
        sent["eval_count"],
    )


def test_request_carries_the_format_schema(replay_server: ReplayServer) -> None:
    """json_format(Model) is sent as the request's format, with stream=true, to /api/chat."""
    with ollama.Client(host=host(replay_server, "ollama/text_json", tag="format-check")) as c:
        chunks = c.chat(
            model="qwen3:8b", messages=MESSAGES, stream=True, format=json_format(MODELS.Recipe)
        )
        sd.stream_to_object(chunks, MODELS.Recipe)
    ((path, body),) = [(p, b) for p, b in replay_server.requests if "/format-check/" in p]
    assert path.endswith("/api/chat")
    assert (body["format"], body["stream"]) == (MODELS.Recipe.model_json_schema(), True)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_any_rechunking_gives_the_same_object(data: st.DataObject) -> None:
    """The text split into other chunks still gives the object, each partial extending the
    previous one."""
    text = OLLAMA["ollama/text_unicode"]["outputs"][0]["text"]
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(text)), max_size=40))))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True) if a < b]
    chunks = [
        ollama.ChatResponse(message=ollama.Message(role="assistant", content=p), done=False)
        for p in pieces
    ]
    chunks.append(
        ollama.ChatResponse(
            message=ollama.Message(role="assistant", content=""), done=True, done_reason="stop"
        )
    )
    run = collect(sd.stream(chunks, MODELS.UnicodeSample))
    assert run.error is None
    assert run.final == MODELS.UnicodeSample.model_validate_json(text)
    assert grows(run.dumps)


def test_thinking_gives_reasoning_deltas(replay_server: ReplayServer) -> None:
    """message.thinking becomes ReasoningDelta; the content after it is the object."""
    entry = OLLAMA["ollama/thinking"]
    run = collect(sd.stream(chat(replay_server, "ollama/thinking"), MODELS.NumberSample))
    assert run.error is None
    assert (
        "".join(p.text for p in run.of_type(sd.parts.ReasoningDelta)) == entry["outputs"][0]["text"]
    )
    assert run.final == expected(entry["outputs"][1])


def test_tool_calls_give_one_typed_call_each(replay_server: ReplayServer) -> None:
    """Each of message.tool_calls gives its typed arguments and validated value, ids
    call_1, call_2 in order."""
    entry = OLLAMA["ollama/tool_calls"]
    run = collect(sd.stream(chat(replay_server, "ollama/tool_calls"), tools=TOOLS))
    assert run.error is None
    assert [(d.call_id, d.name, d.value) for d in run.of_type(sd.parts.ToolCallDone)] == [
        (f"call_{i}", o["name"], expected(o)) for i, o in enumerate(entry["outputs"], 1)
    ]
    for i, output in enumerate(entry["outputs"], 1):
        (delta,) = [d for d in run.of_type(sd.parts.ToolCallDelta) if d.call_id == f"call_{i}"]
        assert isinstance(delta.partial, sd.Partial[TOOLS[output["name"]]])
    assert run.finish_reason == "stop"


def test_length_raises_truncated_stream_error(replay_server: ReplayServer) -> None:
    """done_reason length raises TruncatedStreamError with the partial."""
    run = collect(sd.stream(chat(replay_server, "ollama/length"), MODELS.Recipe))
    assert isinstance(run.error, sd.TruncatedStreamError)
    assert run.error.finish_reason == "length"
    assert run.error.partial.author.name == "Dana Okafor"


def test_error_line_raises_provider_error_with_the_partial(replay_server: ReplayServer) -> None:
    """The client raises ResponseError for an {"error": ...} line; the stream ends with
    ProviderError with the message and the partial, chained to the client's error."""
    run = collect(sd.stream(chat(replay_server, "ollama/error"), MODELS.Recipe))
    error = run.error
    assert type(error) is sd.ProviderError
    sent = OLLAMA["ollama/error"]["error"]
    assert str(error) == sent["error"]
    assert error.raw == sent
    assert error.partial.title == "Weeknight shakshuka"
    assert isinstance(error.__cause__, ollama.ResponseError)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # ollama.AsyncClient is httpx on asyncio
async def test_async_client_stream_is_a_source(replay_server: ReplayServer) -> None:
    """AsyncClient.chat(stream=True) streams the object through astream_to_object, and
    aollama_events gives the sync converter's parts."""
    client = ollama.AsyncClient(host=host(replay_server, "ollama/text_json"))
    try:
        source = await client.chat(
            model="qwen3:8b", messages=MESSAGES, stream=True, format=json_format(MODELS.Recipe)
        )
        final = await sd.astream_to_object(source, MODELS.Recipe)
    finally:
        await client.close()
    assert final == expected(OLLAMA["ollama/text_json"]["outputs"][0])
    with ollama.Client(host=host(replay_server, "ollama/thinking")) as sync_client:
        chunks = list(sync_client.chat(model="qwen3:8b", messages=MESSAGES, stream=True))
    assert [p async for p in aollama_events(chunks)] == list(ollama_events(chunks))


def test_chunk_of_unknown_shape_raises_adapter_error() -> None:
    """A chunk without a message raises AdapterError carrying it."""
    chunk = ollama.ChatResponse.model_construct(done=False)
    with pytest.raises(sd.AdapterError) as info:
        list(ollama_events([chunk]))
    assert info.value.event is chunk
