"""The Anthropic adapter: the recorded Messages streams, decoded with streamdantic's own
SSEDecoder into dicts (as without the anthropic package), through `anthropic_events`."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

import streamdantic as sd
from streamdantic.adapters import _registry, anthropic as sd_anthropic
from streamdantic.adapters.anthropic import aanthropic_events, anthropic_events
from streamdantic.sse import SSEDecoder
from tests.adapters.support import (
    FIXTURES,
    MODELS,
    STREAMS,
    TOOLS,
    aiter_list,
    collect,
    expected_object,
    grows,
)


def events(stream_id: str) -> list[dict[str, Any]]:
    """The stream's events as dicts, decoded the way a client without the SDK would."""
    decoder = SSEDecoder()
    frames = decoder.feed((FIXTURES / STREAMS[stream_id]["file"]).read_bytes()) + decoder.close()
    return [json.loads(frame.data) for frame in frames]


def as_objects(value: Any) -> Any:
    """Dicts as attribute objects, the way the SDK's events read."""
    if isinstance(value, dict):
        return types.SimpleNamespace(**{k: as_objects(v) for k, v in value.items()})
    if isinstance(value, list):
        return [as_objects(v) for v in value]
    return value


def _without_raw(parts: list[sd.parts.Part]) -> list[dict[str, Any]]:
    return [{k: v for k, v in p.to_dict().items() if k != "raw"} for p in parts]


@pytest.mark.parametrize("stream_id", ["anthropic/text_json", "anthropic/text_unicode"])
def test_text_json_streams_the_object(stream_id: str) -> None:
    """Text deltas of a JSON document give growing typed partials and the validated object."""
    run = collect(
        sd.stream(
            anthropic_events(events(stream_id)),
            getattr(MODELS, STREAMS[stream_id]["pydantic_model"]),
        )
    )
    assert run.error is None
    assert run.final == expected_object(STREAMS[stream_id]["outputs"][0])
    assert grows(run.dumps)
    assert run.finish_reason == "stop"


def test_tool_use_gives_tool_call_done_values() -> None:
    """input_json_delta per content block gives each tool_use block's validated arguments."""
    outputs = STREAMS["anthropic/tool_use"]["outputs"]
    parts = list(anthropic_events(events("anthropic/tool_use")))
    # The text block is a prose preamble, not a JSON object: keep it out of the object stream.
    prose = "".join(p.text for p in parts if type(p) is sd.parts.TextDelta)
    assert prose == outputs[0]["text"]
    run = collect(sd.stream([p for p in parts if type(p) is not sd.parts.TextDelta], tools=TOOLS))
    assert run.error is None
    expected = [(o["id"], o["name"], expected_object(o)) for o in outputs[1:]]
    assert [(d.call_id, d.name, d.value) for d in run.of_type(sd.parts.ToolCallDone)] == expected
    assert run.finish_reason == "tool_calls"


def test_tool_use_deltas_are_typed_and_indexed() -> None:
    """Tool-call deltas carry the block index and typed partial arguments of their tool."""
    parts = [
        p
        for p in anthropic_events(events("anthropic/tool_use"))
        if type(p) is not sd.parts.TextDelta
    ]
    run = collect(sd.stream(parts, tools=TOOLS))
    for output in STREAMS["anthropic/tool_use"]["outputs"][1:]:
        mine = [d for d in run.of_type(sd.parts.ToolCallDelta) if d.call_id == output["id"]]
        assert {d.index for d in mine} == {output["index"]}
        assert "".join(d.arguments for d in mine) == output["text"]
        assert isinstance(mine[-1].partial, sd.Partial[TOOLS[output["name"]]])


def test_thinking_gives_reasoning_deltas_then_the_object() -> None:
    """thinking_delta becomes ReasoningDelta; the text block after it is the object."""
    outputs = STREAMS["anthropic/thinking"]["outputs"]
    run = collect(sd.stream(anthropic_events(events("anthropic/thinking")), MODELS.NumberSample))
    assert "".join(p.text for p in run.of_type(sd.parts.ReasoningDelta)) == outputs[0]["text"]
    assert run.final == expected_object(outputs[1])


def test_max_tokens_raises_truncated_stream_error() -> None:
    """stop_reason max_tokens reads as "length" and raises TruncatedStreamError with the partial."""
    run = collect(sd.stream(anthropic_events(events("anthropic/max_tokens")), MODELS.Recipe))
    assert isinstance(run.error, sd.TruncatedStreamError)
    assert run.error.finish_reason == "length"
    assert run.error.partial.author.name == "Dana Okafor"


def test_overloaded_error_raises_provider_error_keeping_the_partial() -> None:
    """An ``error`` event (overloaded_error) raises ProviderError with its type and the partial."""
    run = collect(sd.stream(anthropic_events(events("anthropic/error_overloaded")), MODELS.Recipe))
    error = run.error
    assert type(error) is sd.ProviderError
    assert (str(error), error.code) == ("Overloaded", "overloaded_error")
    assert error.raw == STREAMS["anthropic/error_overloaded"]["error"]
    assert error.partial.title == "Weeknight shakshuka"


@pytest.mark.parametrize(
    "stream_id", ["anthropic/text_json", "anthropic/tool_use", "anthropic/thinking"]
)
def test_usage_is_reported(stream_id: str) -> None:
    """message_delta usage arrives as a Usage part (input, output and total tokens)."""
    (usage,) = [p for p in anthropic_events(events(stream_id)) if type(p) is sd.parts.Usage]
    sent = STREAMS[stream_id]["usage"]
    assert (usage.input_tokens, usage.output_tokens) == (
        sent["input_tokens"],
        sent["output_tokens"],
    )
    assert usage.total_tokens == sent["input_tokens"] + sent["output_tokens"]
    assert usage.raw == sent


def test_input_tokens_come_from_message_start_when_message_delta_lacks_them() -> None:
    """Older streams report input tokens only in message_start; Usage still has them."""
    stream = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 12, "output_tokens": 1}}},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 5},
        },
    ]
    assert list(anthropic_events(stream)) == [
        sd.parts.Usage(12, 5, raw={"output_tokens": 5}),
        sd.parts.Finish("stop"),
    ]


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("tool_use", "tool_calls"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("refusal", "content_filter"),
        ("pause_turn", "pause_turn"),
    ],
)
def test_stop_reasons_map_to_finish_reasons(stop_reason: str, finish: str) -> None:
    """Each stop_reason maps as documented in STOP_REASONS (others pass unchanged)."""
    event = {"type": "message_delta", "delta": {"stop_reason": stop_reason}}
    assert list(anthropic_events([event])) == [sd.parts.Finish(finish)]


@pytest.mark.parametrize(
    "stream_id", ["anthropic/tool_use", "anthropic/thinking", "anthropic/error_overloaded"]
)
def test_sdk_like_objects_give_the_same_parts(stream_id: str) -> None:
    """Events read by attribute (as the SDK's objects are) give the parts the dicts give."""
    from_dicts = list(anthropic_events(events(stream_id)))
    from_objects = list(anthropic_events(as_objects(e) for e in events(stream_id)))
    assert _without_raw(from_objects) == _without_raw(from_dicts)


@pytest.mark.anyio
async def test_async_converter_gives_the_sync_parts() -> None:
    """`aanthropic_events` gives the same parts from an async or a sync iterable."""
    dicts = events("anthropic/thinking")
    expected = list(anthropic_events(dicts))
    assert [p async for p in aanthropic_events(aiter_list(dicts))] == expected
    assert [p async for p in aanthropic_events(dicts)] == expected


@pytest.mark.anyio
async def test_astream_to_object_reads_the_async_converter() -> None:
    """`astream_to_object` over `aanthropic_events` returns the validated object."""
    source = aanthropic_events(aiter_list(events("anthropic/text_json")))
    result = await sd.astream_to_object(source, MODELS.Recipe)
    assert result == expected_object(STREAMS["anthropic/text_json"]["outputs"][0])


def test_events_that_carry_nothing_are_skipped() -> None:
    """ping, message_stop, signature deltas, text-block stops and unknown types give no parts."""
    stream = [
        {"type": "ping"},
        {"type": "message_stop"},
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": "x"},
        },
        {"type": "a_future_event", "payload": 1},
    ]
    assert list(anthropic_events(stream)) == []


@pytest.mark.parametrize(
    "event",
    [
        {"index": 0},
        {"type": "content_block_delta", "index": 0},
        {"type": "content_block_delta", "delta": {}},
    ],
    ids=["no-type", "no-delta", "delta-without-type"],
)
def test_event_of_unknown_shape_raises_adapter_error(event: dict[str, Any]) -> None:
    """An event the converter cannot read raises AdapterError carrying it."""
    with pytest.raises(sd.AdapterError) as info:
        list(anthropic_events([event]))
    assert info.value.event is event


# ---------------------------------------------------------------- with the SDK installed


@pytest.fixture
def fake_sdk(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """A stand-in `anthropic` package (the real one is not a dependency), registered into
    copies of the adapter registries that are restored afterwards."""
    module = types.ModuleType("anthropic")

    class BaseModel:
        def __init__(self, **fields: Any) -> None:
            self.__dict__.update(fields)

    class APIStatusError(Exception):
        def __init__(self, message: str, *, body: Any) -> None:
            super().__init__(message)
            self.body = body

    module.BaseModel = BaseModel  # type: ignore[attr-defined]
    module.APIStatusError = APIStatusError  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "anthropic", module)
    monkeypatch.setattr(_registry, "ADAPTERS", dict(_registry.ADAPTERS))
    monkeypatch.setattr(_registry, "ERROR_TRANSLATORS", dict(_registry.ERROR_TRANSLATORS))
    sd_anthropic._register_sdk()
    yield module


def test_sdk_error_mid_stream_raises_provider_error_keeping_the_partial(
    fake_sdk: types.ModuleType,
) -> None:
    """SDK event objects stream directly, and the APIStatusError the SDK raises for an
    ``event: error`` frame becomes ProviderError with the partial, chained to it."""
    dicts = events("anthropic/error_overloaded")
    sent_error = dicts.pop()

    def sdk_stream() -> Iterator[Any]:
        for event in dicts:
            yield fake_sdk.BaseModel(**vars(as_objects(event)))
        raise fake_sdk.APIStatusError("Overloaded", body=sent_error)

    with pytest.raises(sd.ProviderError) as info:
        sd.stream_to_object(sdk_stream(), MODELS.Recipe)
    assert info.value.code == "overloaded_error"
    assert info.value.partial.title == "Weeknight shakshuka"
    assert isinstance(info.value.__cause__, fake_sdk.APIStatusError)
