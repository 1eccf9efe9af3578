"""The openai adapter, driven by the real `openai` client reading the recorded streams from a
local replay server (small writes that split SSE lines and UTF-8 characters).

The async client runs on asyncio only: under trio, openai's `AsyncStream` leaves its inner
async generators (`_iter_events`, `SSEDecoder.aiter_bytes`) unclosed when it stops at
``[DONE]`` or raises, and trio's async-generator finalizer warns about each (ResourceWarning,
an error in this suite). Plain ``async for chunk in stream`` does the same, so it is the SDK's,
not the adapter's; the raw-HTTP adapter's async tests run on both backends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import ResponseInProgressEvent

import streamdantic as sd
from streamdantic.adapters import openai as sd_openai
from tests.adapters.conftest import sdk_stream as _sdk_stream
from tests.adapters.replay import ReplayServer
from tests.adapters.support import (
    MODELS,
    STREAMS,
    TOOLS,
    Run,
    acollect,
    collect,
    contradicted_numbers,
    expected_object,
    grows,
    ids_where,
    model_for,
    outcome,
    piece_for,
)

OPENAI = ("openai_chat", "openai_responses")
ALL = ids_where(OPENAI)
WITH_MODEL = ids_where(OPENAI, pydantic_model=bool)
COMPLETE = ids_where(OPENAI, pydantic_model=bool, truncated=False, errored=False)
TRUNCATED = ids_where(
    OPENAI, truncated=True, errored=False, finish_reason=lambda r: r != "content_filter"
)
ERRORED = ids_where(OPENAI, errored=True)
REFUSALS = [i for i in ALL if STREAMS[i]["outputs"][0]["kind"] == "refusal"]
WITH_USAGE = ids_where(OPENAI, usage=bool)
TOOL_CALLS = [i for i in ALL if STREAMS[i]["outputs"][0]["kind"] in ("tool_call", "function_call")]
# The finish reason each stream's manifest entry implies, as the adapters report it.
FINISH = {"completed": "stop", "incomplete": "length"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # see the module docstring


def _client(
    server: ReplayServer, stream_id: str, *, fine: bool = True, tag: str = "t"
) -> openai.OpenAI:
    url = server.base_url(stream_id, piece=piece_for(stream_id, fine=fine), tag=tag)
    return openai.OpenAI(base_url=url, api_key="test-key", max_retries=0)


def _aclient(server: ReplayServer, stream_id: str) -> openai.AsyncOpenAI:
    url = server.base_url(stream_id, piece=piece_for(stream_id, fine=False))
    return openai.AsyncOpenAI(base_url=url, api_key="test-key", max_retries=0)


# ------------------------------------------------------------------ structured output


@pytest.mark.parametrize("stream_id", COMPLETE)
def test_final_object_equals_the_document(sdk_run: Callable[[str], Run], stream_id: str) -> None:
    """The final object is the fixture's document validated with its model."""
    run = sdk_run(stream_id)
    assert run.error is None
    output = next(o for o in STREAMS[stream_id]["outputs"] if o["pydantic_model"])
    assert run.final == expected_object(output)


@pytest.mark.parametrize("stream_id", WITH_MODEL)
def test_partials_only_grow(sdk_run: Callable[[str], Run], stream_id: str) -> None:
    """Every typed partial extends the one before it (None meaning not yet)."""
    run = sdk_run(stream_id)
    assert len(run.dumps) > 3
    assert grows(run.dumps)


@pytest.mark.parametrize("stream_id", COMPLETE)
def test_no_partial_number_is_contradicted_by_the_final(
    sdk_run: Callable[[str], Run], stream_id: str
) -> None:
    """A number shown in any partial is the number the final object has at that path."""
    run = sdk_run(stream_id)
    assert contradicted_numbers(run.dumps, run.final) == []


@pytest.mark.parametrize("stream_id", TRUNCATED)
def test_truncation_raises_truncated_stream_error_with_the_partial(
    sdk_run: Callable[[str], Run], stream_id: str
) -> None:
    """Output cut by the token limit raises TruncatedStreamError, finish "length", partial kept."""
    error = sdk_run(stream_id).error
    assert isinstance(error, sd.TruncatedStreamError)
    assert error.finish_reason == "length"
    assert error.partial.sensor_id == "thermo-rig-07"
    assert error.partial.integers[:3] == [0, 1, -1]


def test_content_filter_raises_content_filter_error(sdk_run: Callable[[str], Run]) -> None:
    """finish_reason "content_filter" raises ContentFilterError with the partial."""
    error = sdk_run("openai_chat/content_filter").error
    assert isinstance(error, sd.ContentFilterError)
    assert error.partial.title == "Weeknight shakshuka"


@pytest.mark.parametrize("stream_id", REFUSALS)
def test_refusal_raises_refusal_error_with_the_text(
    sdk_run: Callable[[str], Run], stream_id: str
) -> None:
    """Refusal deltas make the stream raise RefusalError carrying the whole refusal text."""
    error = sdk_run(stream_id).error
    assert isinstance(error, sd.RefusalError)
    assert error.refusal == STREAMS[stream_id]["outputs"][0]["text"]


@pytest.mark.parametrize("stream_id", ERRORED)
def test_midstream_error_raises_provider_error_keeping_the_partial(
    sdk_run: Callable[[str], Run], stream_id: str
) -> None:
    """An error mid-stream raises ProviderError with the provider's error and the partial."""
    error = sdk_run(stream_id).error
    entry = STREAMS[stream_id]
    sent = entry["error"]
    assert type(error) is sd.ProviderError
    assert error.code == "server_error"
    expected = sent["error"] if entry["format"] == "openai_chat" else sent
    assert expected.items() <= error.raw.items()
    assert error.partial.title == "Weeknight shakshuka"
    assert error.partial.author.name == "Dana Okafor"


def test_sdk_raised_error_is_chained_to_the_api_error(sdk_run: Callable[[str], Run]) -> None:
    """The ProviderError for the error the SDK raises is chained to the SDK's APIError."""
    error = sdk_run("openai_chat/error_midstream").error
    assert type(error.__cause__) is openai.APIError


def test_midstream_error_part_reaches_events(sdk_run: Callable[[str], Run]) -> None:
    """events() shows the ProviderErrorPart before the stream raises."""
    (part,) = sdk_run("openai_chat/error_midstream").of_type(sd.parts.ProviderErrorPart)
    assert part.code == "server_error"


@pytest.mark.parametrize("stream_id", WITH_USAGE)
def test_usage_is_reported(sdk_run: Callable[[str], Run], stream_id: str) -> None:
    """The provider's token usage arrives as a Usage part with its raw fields."""
    run = sdk_run(stream_id)
    sent = STREAMS[stream_id]["usage"]
    assert run.usage is not None
    assert run.usage.raw == sent
    assert run.usage.input_tokens == sent.get("prompt_tokens", sent.get("input_tokens"))
    assert run.usage.output_tokens == sent.get("completion_tokens", sent.get("output_tokens"))
    assert run.usage.total_tokens == sent["total_tokens"]


@pytest.mark.parametrize("stream_id", ids_where(OPENAI, errored=False))
def test_finish_reason_is_reported(sdk_run: Callable[[str], Run], stream_id: str) -> None:
    """The finish reason is the provider's (Responses: completed -> stop, incomplete -> length)."""
    sent = STREAMS[stream_id]["finish_reason"]
    assert sdk_run(stream_id).finish_reason == FINISH.get(sent, sent)


# ------------------------------------------------------------------------ tool calls


@pytest.mark.parametrize("stream_id", TOOL_CALLS)
def test_tool_calls_give_validated_values(sdk_run: Callable[[str], Run], stream_id: str) -> None:
    """Each parallel call ends in a ToolCallDone with its id, name and validated arguments."""
    done = sdk_run(stream_id).of_type(sd.parts.ToolCallDone)
    expected = [
        (o["id"], o["name"], o["text"], expected_object(o)) for o in STREAMS[stream_id]["outputs"]
    ]
    assert sorted((d.call_id, d.name, d.arguments, d.value) for d in done) == sorted(expected)


@pytest.mark.parametrize("stream_id", TOOL_CALLS)
def test_tool_call_partials_are_typed_and_grow(
    sdk_run: Callable[[str], Run], stream_id: str
) -> None:
    """Tool-call deltas carry typed partial arguments of their tool's model, only growing."""
    run = sdk_run(stream_id)
    for output in STREAMS[stream_id]["outputs"]:
        partial_class = sd.Partial[TOOLS[output["name"]]]
        deltas = [d for d in run.of_type(sd.parts.ToolCallDelta) if d.call_id == output["id"]]
        assert all(isinstance(d.partial, partial_class) for d in deltas if d.arguments)
        assert grows(partial for call_id, partial in run.tool_dumps if call_id == output["id"])


@pytest.mark.parametrize("stream_id", TOOL_CALLS)
def test_tool_call_deltas_are_demultiplexed_by_call(
    sdk_run: Callable[[str], Run], stream_id: str
) -> None:
    """Each call's argument deltas, interleaved or not, concatenate to that call's text."""
    deltas = sdk_run(stream_id).of_type(sd.parts.ToolCallDelta)
    for output in STREAMS[stream_id]["outputs"]:
        mine = [d for d in deltas if d.call_id == output["id"]]
        assert "".join(d.arguments for d in mine) == output["text"]
        assert mine[0].name == output["name"]
        assert {d.index for d in mine} == {output["index"]}


def test_interleaved_calls_alternate_between_calls(sdk_run: Callable[[str], Run]) -> None:
    """In the interleaved stream the deltas really alternate between the two calls."""
    deltas = sdk_run("openai_chat/tool_calls_interleaved").of_type(sd.parts.ToolCallDelta)
    switches = sum(a.call_id != b.call_id for a, b in zip(deltas, deltas[1:], strict=False))
    assert switches > 10


# ------------------------------------------------------------------ responses extras


def test_reasoning_summary_arrives_as_reasoning_deltas(sdk_run: Callable[[str], Run]) -> None:
    """Reasoning summary text deltas become ReasoningDelta parts, in order."""
    stream_id = "openai_responses/reasoning_summary"
    run = sdk_run(stream_id)
    summaries = [
        o["text"] for o in STREAMS[stream_id]["outputs"] if o["kind"] == "reasoning_summary"
    ]
    assert "".join(p.text for p in run.of_type(sd.parts.ReasoningDelta)) == "".join(summaries)


def test_incomplete_response_keeps_its_usage(sdk_run: Callable[[str], Run]) -> None:
    """response.incomplete still reports usage before the stream raises."""
    run = sdk_run("openai_responses/incomplete_max_output_tokens")
    assert run.usage is not None and run.usage.output_tokens == 96


# ---------------------------------------------------------------- other entry points


@pytest.mark.parametrize("stream_id", ALL)
@pytest.mark.anyio
async def test_async_client_gives_the_sync_outcome(
    replay_server: ReplayServer, sdk_run: Callable[[str], Run], stream_id: str
) -> None:
    """`streamdantic.astream` over `AsyncOpenAI`'s stream gives what the sync client gives."""
    async with _aclient(replay_server, stream_id) as client:
        source = await _sdk_stream(client, stream_id)
        stream = sd.astream(source, model_for(stream_id), tools=TOOLS)
        run = await acollect(stream, snapshots=stream_id != "openai_chat/orders_20k")
    assert outcome(run) == outcome(sdk_run(stream_id))
    assert grows(run.dumps)  # the 0.9 MB orders stream's growth is checked in the sync run


def test_stream_to_object_reads_an_sdk_stream(replay_server: ReplayServer) -> None:
    """`stream_to_object` over the SDK's chat stream returns the validated object."""
    with _client(replay_server, "openai_chat/unicode", fine=False) as client:
        source = _sdk_stream(client, "openai_chat/unicode")
        result = sd.stream_to_object(source, MODELS.UnicodeSample)
    assert result == expected_object(STREAMS["openai_chat/unicode"]["outputs"][0])


@pytest.mark.anyio
async def test_astream_to_object_keeps_the_partial_on_a_midstream_error(
    replay_server: ReplayServer,
) -> None:
    """`astream_to_object` over an async SDK stream raises ProviderError with the partial."""
    async with _aclient(replay_server, "openai_chat/error_midstream") as client:
        source = await _sdk_stream(client, "openai_chat/error_midstream")
        with pytest.raises(sd.ProviderError) as info:
            await sd.astream_to_object(source, MODELS.Recipe)
    assert info.value.partial.author.name == "Dana Okafor"


def test_stream_to_text_keeps_the_text_on_a_midstream_error(replay_server: ReplayServer) -> None:
    """`stream_to_text` turns the SDK's APIError into ProviderError holding the text so far."""
    with _client(replay_server, "openai_chat/error_midstream") as client:
        source = _sdk_stream(client, "openai_chat/error_midstream")
        with pytest.raises(sd.ProviderError) as info:
            sd.stream_to_text(source)
    assert info.value.partial == STREAMS["openai_chat/error_midstream"]["outputs"][0]["text"]


def test_sdk_chat_stream_helper_is_understood(replay_server: ReplayServer) -> None:
    """The events of `client.chat.completions.stream()` stream the same object."""
    with (
        _client(replay_server, "openai_chat/small") as client,
        client.chat.completions.stream(
            model="gpt-x",
            messages=[{"role": "user", "content": "hi"}],
            response_format=MODELS.Recipe,
        ) as helper,
    ):
        result = sd.stream_to_object(helper, MODELS.Recipe)
    assert result == expected_object(STREAMS["openai_chat/small"]["outputs"][0])


# --------------------------------------------------------------------- convenience


def _last_body(server: ReplayServer, stream_id: str) -> Any:
    return next(body for path, body in reversed(server.requests) if stream_id in path)


def test_convenience_stream_sends_a_strict_schema_and_streams_the_object(
    replay_server: ReplayServer,
) -> None:
    """`adapters.openai.stream` asks for strict JSON-schema output and usage, then streams."""
    with _client(replay_server, "openai_chat/numbers") as client:
        s = sd_openai.stream(
            client, MODELS.NumberSample, model="gpt-x", messages=[{"role": "user", "content": "hi"}]
        )
        run = collect(s)
    assert run.final == expected_object(STREAMS["openai_chat/numbers"]["outputs"][0])
    body = _last_body(replay_server, "openai_chat/numbers")
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["response_format"]["type"] == "json_schema"
    spec = body["response_format"]["json_schema"]
    assert (spec["name"], spec["strict"]) == ("NumberSample", True)
    assert spec["schema"]["additionalProperties"] is False
    assert spec["schema"]["required"] == list(MODELS.NumberSample.model_fields)


@pytest.mark.anyio
async def test_convenience_astream_streams_the_object(replay_server: ReplayServer) -> None:
    """`adapters.openai.astream` sends the request on iteration and streams the object."""
    async with _aclient(replay_server, "openai_chat/small") as client:
        s = sd_openai.astream(client, MODELS.Recipe, model="gpt-x", messages=[])
        run = await acollect(s)
    assert run.final == expected_object(STREAMS["openai_chat/small"]["outputs"][0])


def test_convenience_tools_mapping_sends_strict_tools_and_types_the_calls(
    replay_server: ReplayServer,
) -> None:
    """A `tools` mapping is sent as strict function tools and gives typed tool-call values."""
    stream_id = "openai_chat/tool_calls_interleaved"
    with _client(replay_server, stream_id) as client:
        run = collect(sd_openai.stream(client, None, tools=TOOLS, model="gpt-x", messages=[]))
    assert {d.name: d.value for d in run.of_type(sd.parts.ToolCallDone)} == {
        o["name"]: expected_object(o) for o in STREAMS[stream_id]["outputs"]
    }
    tools = _last_body(replay_server, stream_id)["tools"]
    assert [(t["function"]["name"], t["function"]["strict"]) for t in tools] == [
        ("get_weather", True),
        ("search_places", True),
    ]
    assert "response_format" not in _last_body(replay_server, stream_id)


def test_convenience_stream_response_sends_a_strict_text_format(
    replay_server: ReplayServer,
) -> None:
    """`adapters.openai.stream_response` asks for strict ``text.format`` and streams."""
    stream_id = "openai_responses/structured_output"
    with _client(replay_server, stream_id) as client:
        s = sd_openai.stream_response(
            client, MODELS.Recipe, model="gpt-x", input="hi", text={"verbosity": "low"}
        )
        run = collect(s)
    assert run.final == expected_object(STREAMS[stream_id]["outputs"][0])
    text = _last_body(replay_server, stream_id)["text"]
    assert text["verbosity"] == "low"
    assert (text["format"]["type"], text["format"]["name"], text["format"]["strict"]) == (
        "json_schema",
        "Recipe",
        True,
    )


@pytest.mark.anyio
async def test_convenience_astream_response_raises_on_incomplete(
    replay_server: ReplayServer,
) -> None:
    """`adapters.openai.astream_response` raises TruncatedStreamError on response.incomplete."""
    stream_id = "openai_responses/incomplete_max_output_tokens"
    async with _aclient(replay_server, stream_id) as client:
        run = await acollect(
            sd_openai.astream_response(client, MODELS.NumberSample, model="gpt-x", input="hi")
        )
    assert isinstance(run.error, sd.TruncatedStreamError)
    assert run.error.finish_reason == "length"


def test_convenience_stream_closed_early_releases_the_response(
    replay_server: ReplayServer,
) -> None:
    """Leaving the stream after the first update closes the SDK's response."""
    with _client(replay_server, "openai_chat/unicode", tag="early-close") as client:
        s = sd_openai.stream(client, MODELS.UnicodeSample, model="gpt-x", messages=[])
        with s:
            next(iter(s))
    assert replay_server.wait_for_disconnect("early-close")


# ------------------------------------------------------------------- adapter itself


def test_unknown_openai_object_raises_adapter_error() -> None:
    """A non-stream SDK object (a whole ChatCompletion) raises AdapterError carrying it."""
    completion = ChatCompletion.construct(id="x", choices=[], created=0, model="m")
    with pytest.raises(sd.AdapterError) as info:
        list(sd.stream([completion]).events())
    assert info.value.event is completion


def test_chunk_of_unknown_shape_raises_adapter_error() -> None:
    """A chunk whose choices are not a list of choices raises AdapterError carrying it."""
    chunk = ChatCompletionChunk.construct(id="x", choices=[1], created=0, model="m")
    with pytest.raises(sd.AdapterError) as info:
        list(sd.stream([chunk]).events())
    assert info.value.event is chunk


def test_events_that_carry_nothing_are_skipped() -> None:
    """Lifecycle events (response.in_progress) produce no parts."""
    event = ResponseInProgressEvent.construct(type="response.in_progress", sequence_number=1)
    assert list(sd_openai._OpenAIEvents()(event)) == []


def test_other_choices_are_ignored() -> None:
    """Deltas of choice 1 and above (n > 1) are not part of the object."""
    chunk = ChatCompletionChunk.model_validate(
        {
            "id": "x",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "m",
            "choices": [
                {"index": 1, "delta": {"content": "ignored"}, "finish_reason": None},
                {"index": 0, "delta": {"content": '{"a": 1}'}, "finish_reason": "stop"},
            ],
        }
    )
    assert list(sd_openai._OpenAIEvents()(chunk)) == [
        sd.parts.TextDelta('{"a": 1}'),
        sd.parts.Finish("stop"),
    ]


def test_the_parameter_lists_are_not_empty() -> None:
    """The manifest queries above select the streams these tests are about."""
    assert {"openai_chat/tool_calls_interleaved", "openai_responses/function_calls"} <= set(
        TOOL_CALLS
    )
    assert (len(COMPLETE), len(TRUNCATED), len(ERRORED), len(REFUSALS)) == (7, 2, 3, 2)


def test_fields_the_sdk_does_not_model_are_read() -> None:
    """vLLM's ``reasoning_content`` (an extra field on the SDK's delta) becomes ReasoningDelta."""
    chunk = ChatCompletionChunk.model_validate(
        {
            "id": "x",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "delta": {"reasoning_content": "think"}}],
        }
    )
    assert list(sd_openai._OpenAIEvents()(chunk)) == [sd.parts.ReasoningDelta("think")]
