"""The Bedrock ConverseStream adapter: the recorded event dicts of `fixtures/bedrock/`, passed
to the stream as botocore yields them (detected by their shape) and through `bedrock_events`."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

import streamdantic as sd
from streamdantic.adapters import _registry
from streamdantic.adapters.bedrock import (
    STOP_REASONS,
    abedrock_events,
    bedrock_events,
    tool_config,
)
from tests.adapters.bedrock_wire import botocore_stream
from tests.adapters.support import FIXTURES, MODELS, TOOLS, aiter_list, collect, grows

BEDROCK: dict[str, dict[str, Any]] = {
    s["id"]: s
    for s in json.loads((FIXTURES / "bedrock" / "manifest.json").read_text(encoding="utf-8"))[
        "streams"
    ]
}


def events(stream_id: str) -> list[dict[str, Any]]:
    """The recorded events, one dict per line, as botocore's EventStream yields them."""
    text = (FIXTURES / BEDROCK[stream_id]["file"]).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def expected(output: dict[str, Any]) -> Any:
    model = getattr(MODELS, output["pydantic_model"])
    return model.model_validate_json((FIXTURES / output["document"]).read_bytes())


@pytest.mark.parametrize("stream_id", sorted(BEDROCK))
def test_fixtures_are_what_botocore_yields_for_the_wire_bytes(stream_id: str) -> None:
    """botocore's parser, decoding the recorded events from event-stream bytes split every 7
    bytes, yields exactly the recorded dicts (and raises for an exception event)."""
    from botocore.exceptions import EventStreamError

    recorded = events(stream_id)
    error = BEDROCK[stream_id]["error"]
    yielded: list[dict[str, Any]] = []
    if error is None:
        yielded.extend(botocore_stream(recorded))
        assert yielded == recorded
    else:
        with pytest.raises(EventStreamError) as info:
            yielded.extend(botocore_stream(recorded))
        assert yielded == recorded[:-1]
        ((code, body),) = error.items()
        assert info.value.response["Error"] == {"Code": code, "Message": body["message"]}


def test_botocore_event_stream_is_a_source() -> None:
    """botocore's EventStream (``response["stream"]``) streams the object as it is, and the
    stream closes it (and so the HTTP body) when it ends."""
    source = botocore_stream(events("bedrock/text_unicode"))
    final = sd.stream_to_object(source, MODELS.UnicodeSample)
    assert final == expected(BEDROCK["bedrock/text_unicode"]["outputs"][0])
    assert source._raw_stream.closed


def test_generated_fixtures_are_up_to_date() -> None:
    """fixtures/make_bedrock.py --check finds every generated file as it would write it."""
    result = subprocess.run(
        [sys.executable, str(FIXTURES / "make_bedrock.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("stream_id", "model"),
    [
        ("bedrock/text_json", "Recipe"),
        ("bedrock/text_unicode", "UnicodeSample"),
        ("bedrock/orders_20k", "OrderBatch"),
    ],
)
def test_event_dicts_stream_directly(stream_id: str, model: str) -> None:
    """The event dicts are a source as they are: the final object equals model_validate_json
    of the full text, partials only grow, and usage and finish reason come through."""
    entry = BEDROCK[stream_id]
    run = collect(sd.stream(iter(events(stream_id)), getattr(MODELS, model)))
    assert run.error is None
    (output,) = entry["outputs"]
    assert run.final == getattr(MODELS, model).model_validate_json(output["text"])
    assert run.final == expected(output)
    assert grows(run.dumps)
    assert len(run.dumps) > 10
    assert run.finish_reason == "stop"
    assert run.usage is not None
    sent = entry["usage"]
    assert (run.usage.input_tokens, run.usage.output_tokens, run.usage.total_tokens) == (
        sent["inputTokens"],
        sent["outputTokens"],
        sent["totalTokens"],
    )
    assert run.usage.raw == sent


def test_explicit_converter_gives_the_same_outcome() -> None:
    """bedrock_events(events) streams the same object as the events given directly."""
    final = sd.stream_to_object(bedrock_events(events("bedrock/text_json")), MODELS.Recipe)
    assert final == expected(BEDROCK["bedrock/text_json"]["outputs"][0])


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_rechunking_of_the_text_gives_the_same_object(data: st.DataObject) -> None:
    """The same text split into other text deltas still gives the object, and every partial
    extends the previous one (the contract)."""
    text = BEDROCK["bedrock/text_unicode"]["outputs"][0]["text"]
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(text)), max_size=60))))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True) if a < b]
    stream = [
        {"messageStart": {"role": "assistant"}},
        *({"contentBlockDelta": {"delta": {"text": p}, "contentBlockIndex": 0}} for p in pieces),
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "end_turn"}},
    ]
    run = collect(sd.stream(stream, MODELS.UnicodeSample))
    assert run.error is None
    assert run.final == MODELS.UnicodeSample.model_validate_json(text)
    assert grows(run.dumps)


def test_tool_use_blocks_give_one_typed_call_each() -> None:
    """toolUse.input pieces per content block give each call's typed partial arguments and
    its validated value, named by contentBlockStart's toolUseId and name."""
    entry = BEDROCK["bedrock/tool_use"]
    parts = list(bedrock_events(events("bedrock/tool_use")))
    prose = "".join(p.text for p in parts if type(p) is sd.parts.TextDelta)
    assert prose == entry["outputs"][0]["text"]
    run = collect(sd.stream([p for p in parts if type(p) is not sd.parts.TextDelta], tools=TOOLS))
    assert run.error is None
    calls = entry["outputs"][1:]
    assert [(d.call_id, d.name, d.value) for d in run.of_type(sd.parts.ToolCallDone)] == [
        (c["id"], c["name"], expected(c)) for c in calls
    ]
    for call in calls:
        dumps = [d for cid, d in run.tool_dumps if cid == call["id"]]
        assert len(dumps) > 3
        assert grows(dumps)
        mine = [d for d in run.of_type(sd.parts.ToolCallDelta) if d.call_id == call["id"]]
        assert {d.index for d in mine} == {call["index"]}
        assert "".join(d.arguments for d in mine) == call["text"]
        assert isinstance(mine[-1].partial, sd.Partial[TOOLS[call["name"]]])
    assert run.finish_reason == "tool_calls"


def test_interleaved_tool_blocks_give_one_partial_per_call() -> None:
    """Deltas of two toolUse blocks that alternate are kept apart by contentBlockIndex."""

    def delta(index: int, piece: str) -> dict[str, Any]:
        return {
            "contentBlockDelta": {
                "delta": {"toolUse": {"input": piece}},
                "contentBlockIndex": index,
            }
        }

    def start(index: int, call_id: str, name: str) -> dict[str, Any]:
        return {
            "contentBlockStart": {
                "start": {"toolUse": {"toolUseId": call_id, "name": name}},
                "contentBlockIndex": index,
            }
        }

    stream = [
        {"messageStart": {"role": "assistant"}},
        start(0, "tu_a", "get_weather"),
        start(1, "tu_b", "get_weather"),
        delta(0, '{"location": "Lis'),
        delta(1, '{"location": "Osl'),
        delta(0, 'bon", "days": 3'),
        delta(1, 'o", "days": 2'),
        delta(0, ', "unit": "celsius", "include_hourly": true}'),
        delta(1, ', "unit": "fahrenheit", "include_hourly": false}'),
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"contentBlockStop": {"contentBlockIndex": 1}},
        {"messageStop": {"stopReason": "tool_use"}},
    ]
    run = collect(sd.stream(stream, tools=TOOLS))
    assert run.error is None
    done = {d.call_id: d.value for d in run.of_type(sd.parts.ToolCallDone)}
    assert done == {
        "tu_a": MODELS.WeatherArgs(location="Lisbon", days=3, unit="celsius", include_hourly=True),
        "tu_b": MODELS.WeatherArgs(
            location="Oslo", days=2, unit="fahrenheit", include_hourly=False
        ),
    }
    last = dict(run.tool_dumps)
    assert last["tu_a"]["location"] == "Lisbon"
    assert last["tu_b"]["location"] == "Oslo"
    for call_id in ("tu_a", "tu_b"):
        assert grows([d for cid, d in run.tool_dumps if cid == call_id])


def test_reasoning_gives_reasoning_deltas_then_the_object() -> None:
    """reasoningContent.text becomes ReasoningDelta (the signature is skipped); the text
    block after it is the object."""
    entry = BEDROCK["bedrock/reasoning"]
    run = collect(sd.stream(events("bedrock/reasoning"), MODELS.NumberSample))
    assert run.error is None
    assert (
        "".join(p.text for p in run.of_type(sd.parts.ReasoningDelta)) == entry["outputs"][0]["text"]
    )
    assert run.final == expected(entry["outputs"][1])


def test_max_tokens_raises_truncated_stream_error_with_the_partial() -> None:
    """stopReason max_tokens reads as "length" and raises TruncatedStreamError."""
    run = collect(sd.stream(events("bedrock/max_tokens"), MODELS.Recipe))
    assert isinstance(run.error, sd.TruncatedStreamError)
    assert run.error.finish_reason == "length"
    assert run.error.partial.author.name == "Dana Okafor"
    assert grows(run.dumps)


def test_guardrail_raises_content_filter_error_with_the_partial() -> None:
    """stopReason guardrail_intervened raises ContentFilterError with the partial."""
    run = collect(sd.stream(events("bedrock/guardrail"), MODELS.Recipe))
    assert type(run.error) is sd.ContentFilterError
    assert run.error.partial.title == "Weeknight shakshuka"


def test_exception_event_raises_provider_error_with_the_partial() -> None:
    """A throttlingException event raises ProviderError with its message, its key as the
    code, the event as raw, and the partial."""
    entry = BEDROCK["bedrock/throttling"]
    run = collect(sd.stream(events("bedrock/throttling"), MODELS.Recipe))
    error = run.error
    assert type(error) is sd.ProviderError
    assert (str(error), error.code) == (
        "Too many tokens, please wait before trying again.",
        "throttlingException",
    )
    assert error.raw == entry["error"]
    assert error.partial.title == "Weeknight shakshuka"


def test_model_stream_error_uses_the_original_message_when_message_is_empty() -> None:
    """modelStreamErrorException without a message reports its originalMessage."""
    stream = [
        {"contentBlockDelta": {"delta": {"text": '{"title": "Sh'}, "contentBlockIndex": 0}},
        {"modelStreamErrorException": {"originalStatusCode": 500, "originalMessage": "boom"}},
    ]
    with pytest.raises(sd.ProviderError) as info:
        sd.stream_to_object(stream, MODELS.Recipe)
    assert (str(info.value), info.value.code) == ("boom", "modelStreamErrorException")
    assert info.value.partial.title == "Sh"


def test_botocore_event_stream_error_raises_provider_error_with_the_partial() -> None:
    """botocore raises EventStreamError for an exception event; it ends the stream as
    ProviderError with the partial, chained to botocore's exception."""
    from botocore.exceptions import EventStreamError

    recorded = events("bedrock/throttling")
    sent = recorded[-1]["throttlingException"]
    with pytest.raises(sd.ProviderError) as info:
        sd.stream_to_object(botocore_stream(recorded), MODELS.Recipe)
    assert (str(info.value), info.value.code) == (sent["message"], "throttlingException")
    assert info.value.partial.title == "Weeknight shakshuka"
    assert isinstance(info.value.__cause__, EventStreamError)


@pytest.mark.parametrize(("stop_reason", "finish"), sorted(STOP_REASONS.items()))
def test_stop_reasons_map_to_finish_reasons(stop_reason: str, finish: str) -> None:
    """Each stopReason maps to the finish reason the stream acts on."""
    (part,) = bedrock_events([{"messageStop": {"stopReason": stop_reason}}])
    assert part == sd.parts.Finish(finish)


def test_unknown_stop_reason_passes_unchanged() -> None:
    """A stopReason without a mapping (malformed_tool_use) reaches Finish as sent."""
    (part,) = bedrock_events([{"messageStop": {"stopReason": "malformed_tool_use"}}])
    assert part == sd.parts.Finish("malformed_tool_use")


@pytest.mark.anyio
async def test_async_converter_and_astream_read_the_events() -> None:
    """abedrock_events over an async iterable gives the sync parts; astream_to_object reads
    the dicts directly from an async iterable."""
    recorded = events("bedrock/tool_use")
    parts = [p async for p in abedrock_events(aiter_list(recorded))]
    assert parts == list(bedrock_events(recorded))
    final = await sd.astream_to_object(aiter_list(events("bedrock/text_json")), MODELS.Recipe)
    assert final == expected(BEDROCK["bedrock/text_json"]["outputs"][0])


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({"contentBlockDelta": {"contentBlockIndex": 0}}, id="delta-without-delta"),
        pytest.param({"messageStop": {}}, id="stop-without-reason"),
        pytest.param({"contentBlockStart": {"start": {"toolUse": {}}}}, id="tool-without-id"),
        pytest.param({"a": 1, "b": 2}, id="two-keys"),
    ],
)
def test_event_of_unknown_shape_raises_adapter_error(event: dict[str, Any]) -> None:
    """A malformed event raises AdapterError carrying the event."""
    with pytest.raises(sd.AdapterError) as info:
        list(bedrock_events([event]))
    assert info.value.event == event


def test_dicts_of_other_shapes_are_not_taken_for_bedrock_events() -> None:
    """A dict whose key is not a ConverseStream member finds no adapter."""
    assert _registry.adapter_factory({"type": "message_start"}) is None
    assert _registry.adapter_factory({"messageStart": {}}) is not None


def test_tool_config_forces_one_tool_with_the_model_schema() -> None:
    """tool_config(Model) gives Converse's toolConfig: one toolSpec whose inputSchema.json
    is the model's JSON schema, forced by toolChoice; its streamed input is the object."""
    config = tool_config(MODELS.WeatherArgs, name="answer")
    assert config == {
        "tools": [
            {
                "toolSpec": {
                    "name": "answer",
                    "description": "Reply with one answer object as this tool's input.",
                    "inputSchema": {"json": MODELS.WeatherArgs.model_json_schema()},
                }
            }
        ],
        "toolChoice": {"tool": {"name": "answer"}},
    }
