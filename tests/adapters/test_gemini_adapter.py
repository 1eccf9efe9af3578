"""The Gemini adapter: the real google-genai client, pointed at the replay server serving the
recorded ``streamGenerateContent?alt=sse`` bodies of `fixtures/gemini/` in 7-byte writes
(splitting SSE lines and UTF-8 characters), its ``generate_content_stream`` passed to the
stream as it is."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from google import genai
from google.genai import errors as genai_errors, types as genai_types
from hypothesis import given, settings, strategies as st

import streamdantic as sd
from streamdantic.adapters.gemini import (
    FINISH_REASONS,
    agemini_events,
    gemini_events,
    response_config,
)
from tests.adapters.replay import ReplayServer
from tests.adapters.support import FIXTURES, MODELS, TOOLS, collect, grows

GEMINI: dict[str, dict[str, Any]] = {
    s["id"]: s
    for s in json.loads((FIXTURES / "gemini" / "manifest.json").read_text(encoding="utf-8"))[
        "streams"
    ]
}


def client(server: ReplayServer, stream_id: str, piece: int = 7) -> genai.Client:
    """A real google-genai client whose API root replays `stream_id`."""
    return genai.Client(
        api_key="test-key",
        http_options=genai_types.HttpOptions(
            base_url=f"{server.origin}/replay/{piece}/{stream_id}/t/",
            retry_options=genai_types.HttpRetryOptions(attempts=1),
        ),
    )


# The SDK closes its HTTP client when the genai.Client is collected, and its stream does not
# keep the Client alive: hold every client for the session, as a user's variable would.
_CLIENTS: list[genai.Client] = []


def sdk_stream(server: ReplayServer, stream_id: str, model: type[Any] | None) -> Any:
    config = response_config(model) if model is not None else None
    _CLIENTS.append(made := client(server, stream_id))
    return made.models.generate_content_stream(
        model="gemini-2.5-flash", contents="Convert the attached content into JSON.", config=config
    )


def expected(output: dict[str, Any]) -> Any:
    model = getattr(MODELS, output["pydantic_model"])
    return model.model_validate_json((FIXTURES / output["document"]).read_bytes())


def test_generated_fixtures_are_up_to_date() -> None:
    """fixtures/make_gemini.py --check finds every generated file as it would write it."""
    result = subprocess.run(
        [sys.executable, str(FIXTURES / "make_gemini.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("stream_id", "model"),
    [("gemini/text_json", "Recipe"), ("gemini/text_unicode", "UnicodeSample")],
)
def test_sdk_stream_gives_growing_partials_and_the_object(
    replay_server: ReplayServer, stream_id: str, model: str
) -> None:
    """generate_content_stream is a source as it is: the final object equals
    model_validate_json of the full text, partials only grow, usage and finish come through."""
    entry = GEMINI[stream_id]
    cls = getattr(MODELS, model)
    run = collect(sd.stream(sdk_stream(replay_server, stream_id, cls), cls))
    assert run.error is None
    (output,) = entry["outputs"]
    assert run.final == cls.model_validate_json(output["text"]) == expected(output)
    assert grows(run.dumps)
    assert len(run.dumps) > 10
    assert run.finish_reason == "stop"
    sent = entry["usage"]
    assert run.usage is not None
    assert (run.usage.input_tokens, run.usage.output_tokens, run.usage.total_tokens) == (
        sent["promptTokenCount"],
        sent["candidatesTokenCount"],
        sent["totalTokenCount"],
    )


def test_request_carries_the_json_schema(replay_server: ReplayServer) -> None:
    """response_config(Model) sends responseMimeType and responseJsonSchema on the wire."""
    tag = "schema-check"
    tagged = genai.Client(
        api_key="k",
        http_options=genai_types.HttpOptions(
            base_url=f"{replay_server.origin}/replay/61/gemini/text_json/{tag}/"
        ),
    )
    sd.stream_to_object(
        tagged.models.generate_content_stream(
            model="gemini-2.5-flash", contents="x", config=response_config(MODELS.Recipe)
        ),
        MODELS.Recipe,
    )
    ((path, body),) = [(p, b) for p, b in replay_server.requests if f"/{tag}/" in p]
    assert path.endswith("models/gemini-2.5-flash:streamGenerateContent?alt=sse")
    assert body["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseJsonSchema": MODELS.Recipe.model_json_schema(),
    }


def recorded_responses(stream_id: str) -> list[genai_types.GenerateContentResponse]:
    """The recorded chunks as the SDK's objects, built by the SDK from the JSON."""
    body = (FIXTURES / GEMINI[stream_id]["file"]).read_bytes().decode("utf-8")
    frames = [f[len("data: ") :] for f in body.split("\r\n\r\n") if f]
    return [genai_types.GenerateContentResponse.model_validate_json(f) for f in frames]


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_any_rechunking_gives_the_same_object(data: st.DataObject) -> None:
    """The text of a stream split into other chunks still gives the object, every partial
    extending the previous one."""
    text = GEMINI["gemini/text_unicode"]["outputs"][0]["text"]
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(text)), max_size=40))))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True) if a < b]
    chunks = [
        genai_types.GenerateContentResponse(
            candidates=[
                genai_types.Candidate(
                    content=genai_types.Content(role="model", parts=[genai_types.Part(text=p)]),
                    finish_reason=genai_types.FinishReason.STOP if i == len(pieces) - 1 else None,
                )
            ]
        )
        for i, p in enumerate(pieces)
    ]
    run = collect(sd.stream(chunks, MODELS.UnicodeSample))
    assert run.error is None
    assert run.final == MODELS.UnicodeSample.model_validate_json(text)
    assert grows(run.dumps)


def test_thought_parts_give_reasoning_deltas(replay_server: ReplayServer) -> None:
    """Parts with thought=True become ReasoningDelta; the text after them is the object."""
    entry = GEMINI["gemini/thinking"]
    run = collect(
        sd.stream(sdk_stream(replay_server, "gemini/thinking", None), MODELS.NumberSample)
    )
    assert run.error is None
    assert (
        "".join(p.text for p in run.of_type(sd.parts.ReasoningDelta)) == entry["outputs"][0]["text"]
    )
    assert run.final == expected(entry["outputs"][1])


def test_function_calls_give_one_typed_call_each(replay_server: ReplayServer) -> None:
    """Each function_call part gives its typed arguments (ToolCallDelta.partial) and its
    validated value, with the call's id and name."""
    entry = GEMINI["gemini/function_calls"]
    run = collect(sd.stream(sdk_stream(replay_server, "gemini/function_calls", None), tools=TOOLS))
    assert run.error is None
    assert [(d.call_id, d.name, d.value) for d in run.of_type(sd.parts.ToolCallDone)] == [
        (o["id"], o["name"], expected(o)) for o in entry["outputs"]
    ]
    for output in entry["outputs"]:
        (delta,) = [d for d in run.of_type(sd.parts.ToolCallDelta) if d.call_id == output["id"]]
        assert isinstance(delta.partial, sd.Partial[TOOLS[output["name"]]])
        assert json.loads(delta.arguments) == json.loads(output["text"])


def test_max_tokens_raises_truncated_stream_error(replay_server: ReplayServer) -> None:
    """finish_reason MAX_TOKENS reads as "length" and raises TruncatedStreamError."""
    run = collect(sd.stream(sdk_stream(replay_server, "gemini/max_tokens", None), MODELS.Recipe))
    assert isinstance(run.error, sd.TruncatedStreamError)
    assert run.error.finish_reason == "length"
    assert run.error.partial.author.name == "Dana Okafor"


def test_safety_raises_content_filter_error(replay_server: ReplayServer) -> None:
    """finish_reason SAFETY raises ContentFilterError with the partial."""
    run = collect(sd.stream(sdk_stream(replay_server, "gemini/safety", None), MODELS.Recipe))
    assert type(run.error) is sd.ContentFilterError
    assert run.error.partial.title == "Weeknight shakshuka"


def test_blocked_prompt_raises_content_filter_error(replay_server: ReplayServer) -> None:
    """prompt_feedback.block_reason without candidates raises ContentFilterError."""
    run = collect(
        sd.stream(sdk_stream(replay_server, "gemini/prompt_blocked", None), MODELS.Recipe)
    )
    assert type(run.error) is sd.ContentFilterError
    assert run.error.partial is None


def test_error_frame_raises_provider_error_with_the_partial(replay_server: ReplayServer) -> None:
    """The client raises ServerError for a data: {"error": ...} frame; the stream ends with
    ProviderError (the status as code) with the partial, chained to the SDK's error."""
    run = collect(
        sd.stream(sdk_stream(replay_server, "gemini/error_overloaded", None), MODELS.Recipe)
    )
    error = run.error
    assert type(error) is sd.ProviderError
    assert (str(error), error.code) == (
        "The model is overloaded. Please try again later.",
        "UNAVAILABLE",
    )
    assert error.raw == GEMINI["gemini/error_overloaded"]["error"]
    assert error.partial.title == "Weeknight shakshuka"
    assert isinstance(error.__cause__, genai_errors.ServerError)


@pytest.mark.parametrize(("reason", "finish"), sorted(FINISH_REASONS.items()))
def test_finish_reasons_map(reason: str, finish: str) -> None:
    """Each finish_reason maps to the finish reason the stream acts on."""
    chunk = genai_types.GenerateContentResponse(
        candidates=[genai_types.Candidate(finish_reason=genai_types.FinishReason(reason))]
    )
    assert list(gemini_events([chunk])) == [sd.parts.Finish(finish)]


def test_unknown_finish_reason_passes_lower_cased() -> None:
    """A finish_reason without a mapping reaches Finish lower-cased."""
    chunk = genai_types.GenerateContentResponse(
        candidates=[genai_types.Candidate(finish_reason="MALFORMED_FUNCTION_CALL")]
    )
    assert list(gemini_events([chunk])) == [sd.parts.Finish("malformed_function_call")]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # google-genai's aio client needs asyncio
async def test_async_client_stream_is_a_source(replay_server: ReplayServer) -> None:
    """client.aio.models.generate_content_stream streams the object through astream_to_object,
    and agemini_events gives the sync converter's parts."""
    _CLIENTS.append(made := client(replay_server, "gemini/text_json"))
    source = await made.aio.models.generate_content_stream(
        model="gemini-2.5-flash", contents="x", config=response_config(MODELS.Recipe)
    )
    final = await sd.astream_to_object(source, MODELS.Recipe)
    assert final == expected(GEMINI["gemini/text_json"]["outputs"][0])
    recorded = recorded_responses("gemini/thinking")
    assert [p async for p in agemini_events(recorded)] == list(gemini_events(recorded))


def test_response_of_unknown_shape_raises_adapter_error() -> None:
    """An object without candidates raises AdapterError carrying it."""

    class Odd(genai_types.GenerateContentResponse):
        @property
        def candidates(self) -> Any:  # type: ignore[override]
            raise AttributeError("candidates")

    with pytest.raises(sd.AdapterError):
        list(gemini_events([Odd()]))
