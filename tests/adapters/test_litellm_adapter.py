"""The LiteLLM adapter: real ``litellm.completion`` / ``acompletion`` with ``model="openai/..."``
and ``api_base`` pointed at the replay server (the recorded Chat Completions streams in
`fixtures/openai_chat/`, split at 7 or 61 bytes), LiteLLM's ``CustomStreamWrapper`` passed to
the stream as it is. The cost map is LiteLLM's local copy (tests/conftest.py); no network."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import litellm
import pytest
from hypothesis import given, settings, strategies as st
from litellm.exceptions import MidStreamFallbackError
from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices

import streamdantic as sd
from streamdantic.adapters.litellm import alitellm_events, litellm_events
from tests.adapters.replay import ReplayServer
from tests.adapters.support import (
    MODELS,
    STREAMS,
    TOOLS,
    Run,
    collect,
    contradicted_numbers,
    expected_object,
    grows,
    model_for,
    piece_for,
    request_kwargs,
)
from tests.property.strategies import chunkings

COMPLETE = ["openai_chat/small", "openai_chat/unicode", "openai_chat/numbers"]
WITH_USAGE = [s for s in COMPLETE if STREAMS[s]["usage"]]  # requested with include_usage


@pytest.fixture(scope="module", autouse=True)
def _quiet_litellm() -> Iterator[None]:
    # LiteLLM prints a "Give Feedback / Get Help" banner to stdout for each exception.
    before = litellm.suppress_debug_info
    litellm.suppress_debug_info = True
    yield
    litellm.suppress_debug_info = before


def completion(server: ReplayServer, stream_id: str, *, tag: str = "litellm", **extra: Any) -> Any:
    """LiteLLM's stream of the recorded request, as a user calls it (``openai/`` model)."""
    request = request_kwargs(stream_id)
    request["model"] = "openai/" + request["model"]
    request.update(extra)
    url = server.base_url(stream_id, piece=piece_for(stream_id), tag=tag)
    return litellm.completion(**request, api_base=url, api_key="k", max_retries=0, stream=True)


@pytest.fixture(autouse=True)
def _close_the_loop_litellm_sets() -> Iterator[None]:
    """LiteLLM's service logging calls ``asyncio.get_event_loop()`` from sync
    ``completion()``, which creates and sets an event loop that nothing closes (garbage
    collected later, it warns ResourceWarning): close it after each test."""
    yield
    policy = asyncio.get_event_loop_policy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = policy.get_event_loop()
        except RuntimeError:
            return
    if not loop.is_running():
        loop.close()
        policy.set_event_loop(None)


@pytest.fixture(scope="module")
def litellm_run(replay_server: ReplayServer) -> Iterator[Callable[[str], Run]]:
    """Each stream through ``litellm.completion(stream=True)`` and `streamdantic.stream`."""

    @cache
    def run(stream_id: str) -> Run:
        source = completion(replay_server, stream_id)
        return collect(sd.stream(source, model_for(stream_id), tools=TOOLS))

    yield run
    run.cache_clear()


@pytest.mark.parametrize("stream_id", COMPLETE)
def test_final_object_equals_the_document(
    litellm_run: Callable[[str], Run], stream_id: str
) -> None:
    """The final object equals Model.model_validate_json of the full text (the fixture's
    document)."""
    run = litellm_run(stream_id)
    assert run.error is None
    (output,) = STREAMS[stream_id]["outputs"]
    model = model_for(stream_id)
    assert model is not None
    assert run.final == model.model_validate_json(output["text"]) == expected_object(output)


@pytest.mark.parametrize("stream_id", COMPLETE)
def test_partials_satisfy_the_contract(litellm_run: Callable[[str], Run], stream_id: str) -> None:
    """Partials only grow, and no number shown in a partial is contradicted by the final."""
    run = litellm_run(stream_id)
    assert len(run.dumps) > 10
    assert grows(run.dumps)
    assert contradicted_numbers(run.dumps, run.final) == []


@pytest.mark.parametrize("stream_id", WITH_USAGE)
def test_usage_and_finish_reason_are_carried_through(
    litellm_run: Callable[[str], Run], stream_id: str
) -> None:
    """The last chunk's usage (include_usage) and the finish reason reach the stream; the
    usage's raw dict keeps LiteLLM's own cost field."""
    run = litellm_run(stream_id)
    sent = STREAMS[stream_id]["usage"]
    assert run.finish_reason == "stop"
    assert run.usage is not None
    assert (run.usage.input_tokens, run.usage.output_tokens, run.usage.total_tokens) == (
        sent["prompt_tokens"],
        sent["completion_tokens"],
        sent["total_tokens"],
    )
    assert "cost" in run.usage.raw


def test_truncation_raises_truncated_stream_error_with_the_partial(
    litellm_run: Callable[[str], Run],
) -> None:
    """finish_reason "length" raises TruncatedStreamError with the partial so far."""
    run = litellm_run("openai_chat/truncated_length")
    error = run.error
    assert isinstance(error, sd.TruncatedStreamError)
    assert error.finish_reason == "length"
    assert error.partial.sensor_id == "thermo-rig-07"
    assert error.partial.integers[:3] == [0, 1, -1]
    assert run.usage is not None and run.usage.output_tokens == 90


def test_midstream_error_raises_provider_error_keeping_the_partial(
    litellm_run: Callable[[str], Run],
) -> None:
    """The provider's ``data: {"error": ...}`` frame, which LiteLLM raises as
    MidStreamFallbackError, raises ProviderError with the provider's message and type and the
    partial, chained to LiteLLM's exception."""
    run = litellm_run("openai_chat/error_midstream")
    error = run.error
    assert type(error) is sd.ProviderError
    assert str(error) == "The server had an error while processing your request. Sorry about that!"
    assert error.code == "server_error"
    assert error.partial.title == "Weeknight shakshuka"
    assert error.partial.author.name == "Dana Okafor"
    assert isinstance(error.__cause__, MidStreamFallbackError)


def test_interleaved_tool_calls_give_one_typed_partial_per_call(
    litellm_run: Callable[[str], Run],
) -> None:
    """Two tool calls whose argument deltas alternate across indexes 0 and 1 give, per call,
    typed partials of its own model that only grow, and one validated ToolCallDone each."""
    stream_id = "openai_chat/tool_calls_interleaved"
    run = litellm_run(stream_id)
    assert run.error is None
    outputs = STREAMS[stream_id]["outputs"]
    done = [(d.call_id, d.name, d.value) for d in run.of_type(sd.parts.ToolCallDone)]
    assert done == [(o["id"], o["name"], expected_object(o)) for o in outputs]
    deltas = run.of_type(sd.parts.ToolCallDelta)
    order = [d.call_id for d in deltas if d.arguments]
    assert order[:4] == [outputs[0]["id"], outputs[1]["id"]] * 2  # interleaved as sent
    for output in outputs:
        mine = [d for d in deltas if d.call_id == output["id"]]
        assert "".join(d.arguments for d in mine) == output["text"]
        assert {d.index for d in mine} == {output["index"]}
        partial_class = sd.Partial[TOOLS[output["name"]]]
        assert all(isinstance(d.partial, partial_class) for d in mine if d.arguments)
        assert grows(dumped for call_id, dumped in run.tool_dumps if call_id == output["id"])
    assert run.finish_reason == "tool_calls"


def test_response_format_model_is_sent_as_json_schema(replay_server: ReplayServer) -> None:
    """``response_format=Recipe`` (LiteLLM turns the model into a JSON-schema format) streams
    the object with stream_to_object; the request carries the schema and stream=true."""
    request = request_kwargs("openai_chat/small")
    request.pop("response_format")
    source = completion(replay_server, "openai_chat/small", tag="litellm-format")
    final = sd.stream_to_object(source, MODELS.Recipe)
    assert final == expected_object(STREAMS["openai_chat/small"]["outputs"][0])
    source = litellm.completion(
        model="openai/gpt-4.1",
        messages=request["messages"],
        response_format=MODELS.Recipe,
        stream=True,
        api_base=replay_server.base_url("openai_chat/small", tag="litellm-schema"),
        api_key="k",
    )
    assert sd.stream_to_object(source, MODELS.Recipe) == final
    ((_, body),) = [(p, b) for p, b in replay_server.requests if "/litellm-schema/" in p]
    assert body["stream"] is True
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["title"] == "Recipe"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # LiteLLM's async client is asyncio
async def test_acompletion_stream_is_a_source(replay_server: ReplayServer) -> None:
    """``await litellm.acompletion(..., stream=True)`` streams the object through astream,
    with growing partials and the usage, and alitellm_events gives the sync converter's
    parts."""
    stream_id = "openai_chat/unicode"
    request = request_kwargs(stream_id)
    request["model"] = "openai/" + request["model"]
    url = replay_server.base_url(stream_id, piece=7, tag="litellm-async")
    source = await litellm.acompletion(**request, api_base=url, api_key="k", stream=True)
    dumps = []
    async with sd.astream(source, model_for(stream_id)) as s:
        async for update in s:
            dumps.append(update.partial.model_dump())  # noqa: PERF401
    assert s.final == expected_object(STREAMS[stream_id]["outputs"][0])
    assert grows(dumps)
    assert s.usage is not None
    assert s.usage.output_tokens == STREAMS[stream_id]["usage"]["completion_tokens"]
    chunks = list(completion(replay_server, "openai_chat/tool_calls_interleaved", tag="l-p"))
    assert [p async for p in alitellm_events(chunks)] == list(litellm_events(chunks))


def _chunk(content: str | None = None, finish: str | None = None) -> ModelResponseStream:
    choice = StreamingChoices(index=0, delta=Delta(content=content), finish_reason=finish)
    return ModelResponseStream(choices=[choice])


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_any_rechunking_gives_the_same_object(data: st.DataObject) -> None:
    """The text split into other LiteLLM chunks still gives the object, each partial
    extending the previous one."""
    text = STREAMS["openai_chat/unicode"]["outputs"][0]["text"]
    chunks = [_chunk(p) for p in data.draw(chunkings(text))] + [_chunk(finish="stop")]
    run = collect(sd.stream(chunks, MODELS.UnicodeSample))
    assert run.error is None
    assert run.final == MODELS.UnicodeSample.model_validate_json(text)
    assert grows(run.dumps)


def test_import_is_lazy_and_wins_over_the_openai_adapter() -> None:
    """``import streamdantic`` imports no litellm; with the openai adapter loaded first
    (LiteLLM's chunks subclass openai.BaseModel), a LiteLLM chunk still gets this adapter."""
    code = (
        "import sys, streamdantic as sd\n"
        "assert 'litellm' not in sys.modules, 'litellm imported'\n"
        "import streamdantic.adapters.openai\n"
        "from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices\n"
        "c = [ModelResponseStream(choices=[StreamingChoices(delta=Delta(content=t),"
        " finish_reason=f)]) for t, f in (('[1, ', None), ('2]', 'stop'))]\n"
        "assert sd.stream_to_object(c, list[int]) == [1, 2]\n"
        "assert 'streamdantic.adapters.litellm' in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={"LITELLM_LOCAL_MODEL_COST_MAP": "True", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr


def test_chunk_of_unknown_shape_raises_adapter_error() -> None:
    """A chunk without choices or usage raises AdapterError carrying it."""
    chunk = ModelResponseStream.model_construct()
    del chunk.__dict__["choices"]
    with pytest.raises(sd.AdapterError) as info:
        list(litellm_events([chunk]))
    assert info.value.event is chunk


def test_reasoning_content_becomes_reasoning_deltas() -> None:
    """``delta.reasoning_content`` (LiteLLM's name for every provider's reasoning) becomes
    ReasoningDelta parts beside the object's text."""
    chunks = [
        ModelResponseStream(
            choices=[StreamingChoices(delta=Delta(content=text, reasoning_content=thought))]
        )
        for text, thought in (("", "The user "), ("[1, ", "wants a list."), ("2]", None))
    ]
    chunks.append(_chunk(finish="stop"))
    run = collect(sd.stream(chunks, list[int]))
    assert run.final == [1, 2]
    assert [p.text for p in run.of_type(sd.parts.ReasoningDelta)] == ["The user ", "wants a list."]
