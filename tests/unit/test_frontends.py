"""The front-end protocol encoders (streamdantic.frontends), sans-IO: exact frames in, out."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from pydantic import BaseModel

import streamdantic as sd
from streamdantic import sse
from streamdantic._mirror import Mirror
from streamdantic.frontends import (
    PROTOCOLS,
    TextStreamEncoder,
    UIMessageStreamEncoder,
    frontend_encoder,
)
from streamdantic.frontends._common import PartState, coalesce_updates


class Item(BaseModel):
    name: str
    qty: int


class Order(BaseModel):
    id: int
    items: list[Item]


TEXT = '{"id": 12, "items": [{"name": "ab", "qty": 3}]}'


def updates(text: str = TEXT, size: int = 6, model: Any = Order) -> list[sd.Update[Any]]:
    return list(sd.stream([text[i : i + size] for i in range(0, len(text), size)], model))


def chunks(frames: list[sse.ServerSentEvent]) -> list[Any]:
    return [f.data if f.data == "[DONE]" else json.loads(f.data or "") for f in frames]


def ui(outputs: list[Any], encoder: UIMessageStreamEncoder, step: float = 0.0) -> list[Any]:
    frames = []
    for n, output in enumerate(outputs):
        frames += encoder.feed(output, now=n * step)
    return chunks(frames + encoder.close())


def test_ui_message_stream_every_change() -> None:
    """Without coalescing: start, one data part per state (same id), the validated final
    object, then finish-step, finish (reason and usage in the metadata) and [DONE]."""
    outputs: list[Any] = updates()
    outputs.insert(1, sd.parts.Usage(3, 4))
    outputs.insert(1, sd.parts.Finish("end_turn"))
    out = ui(outputs, UIMessageStreamEncoder(name="order", interval=0, growth=0))
    assert out[:2] == [{"type": "start"}, {"type": "start-step"}]
    data = [c for c in out if isinstance(c, dict) and c["type"] == "data-order"]
    assert {c["id"] for c in data} == {"order"}
    assert [c["data"] for c in data] == [
        {},
        {"id": 12},
        {"id": 12, "items": [{}]},
        {"id": 12, "items": [{"name": "ab"}]},
        {"id": 12, "items": [{"name": "ab", "qty": 3}]},  # the final one: not sent twice
    ]
    assert out[-3:] == [
        {"type": "finish-step"},
        {
            "type": "finish",
            "finishReason": "stop",
            "messageMetadata": {"usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}},
        },
        "[DONE]",
    ]


def test_ui_message_stream_throttles_by_interval_and_sends_the_final() -> None:
    """With an interval, the first change goes at once, then at most one state per
    interval; the final object is always sent."""
    many = updates(size=1)
    out = ui(many, UIMessageStreamEncoder(interval=0.1, growth=0), step=0.04)
    data = [c["data"] for c in out if isinstance(c, dict) and c["type"] == "data-object"]
    # updates at t = 0, 0.04, 0.08, ...: states at 0, then every third (t >= last + 0.1)
    assert len(data) <= 2 + (len(many) - 1) // 3
    assert len(data) >= (len(many) - 1) // 3
    assert data[0] == {} and data[-1] == {"id": 12, "items": [{"name": "ab", "qty": 3}]}


def test_ui_message_stream_growth_keeps_bytes_linear() -> None:
    """With the default growth the data parts of a document add up to a bounded multiple
    of its size, whatever its length (linear), even at every update."""

    def cost(n: int) -> tuple[int, int]:
        doc = {"records": [{"id": i, "name": f"name {i}", "tags": ["a", "b"]} for i in range(n)]}
        text = json.dumps(doc)
        encoder = UIMessageStreamEncoder(interval=0)
        frames = []
        for u in updates(text, size=4, model=None):
            frames += encoder.feed(u)
        frames += encoder.close()
        return sum(len(f.data or "") for f in frames), len(text)

    small, small_size = cost(50)
    large, large_size = cost(400)
    assert large / large_size <= 19 and small / small_size <= 19
    assert large / small < 1.3 * large_size / small_size  # linear, not quadratic


def test_ui_message_stream_prose_reasoning_and_tools() -> None:
    """Parts map to the protocol's own chunks; a text part ends when another kind starts."""
    out = ui(
        [
            sd.parts.ReasoningDelta("hm"),
            sd.parts.TextDelta("Hi"),
            sd.parts.ToolCallDelta("c1", '{"a":', name="f"),
            sd.parts.ToolCallDelta("c1", "1}"),
            sd.parts.ToolCallDone("c1", "f", '{"a":1}', {"a": 1}),
            sd.parts.ToolResult("c1", {"ok": True}),
            sd.parts.ToolCallDone("c2", "g", "{}", {}),
            sd.parts.ToolResult("c2", ValueError("bad")),
        ],
        UIMessageStreamEncoder(),
    )
    assert out[2:-3] == [
        {"type": "reasoning-start", "id": "reasoning-1"},
        {"type": "reasoning-delta", "id": "reasoning-1", "delta": "hm"},
        {"type": "reasoning-end", "id": "reasoning-1"},
        {"type": "text-start", "id": "text-2"},
        {"type": "text-delta", "id": "text-2", "delta": "Hi"},
        {"type": "text-end", "id": "text-2"},
        {"type": "tool-input-start", "toolCallId": "c1", "toolName": "f"},
        {"type": "tool-input-delta", "toolCallId": "c1", "inputTextDelta": '{"a":'},
        {"type": "tool-input-delta", "toolCallId": "c1", "inputTextDelta": "1}"},
        {"type": "tool-input-available", "toolCallId": "c1", "toolName": "f", "input": {"a": 1}},
        {"type": "tool-output-available", "toolCallId": "c1", "output": {"ok": True}},
        {"type": "tool-input-start", "toolCallId": "c2", "toolName": "g"},
        {"type": "tool-input-available", "toolCallId": "c2", "toolName": "g", "input": {}},
        {"type": "tool-output-error", "toolCallId": "c2", "errorText": "bad"},
    ]
    assert out[-2:] == [{"type": "finish"}, "[DONE]"]


@pytest.mark.parametrize(
    ("error", "last"),
    [
        (sd.ProviderError("overloaded"), {"type": "error", "errorText": "overloaded"}),
        (sd.StreamCancelledError("stop"), {"type": "abort", "reason": "stop"}),
        (KeyError("secret"), {"type": "error", "errorText": "the server failed while streaming"}),
        (
            None,
            {"type": "error", "errorText": "the stream ended before the object was complete"},
        ),
    ],
    ids=["provider", "cancelled", "internal", "truncated"],
)
def test_ui_message_stream_errors(error: BaseException | None, last: Any) -> None:
    """A stream that fails ends with the last state, the protocol's error (or abort) chunk
    and [DONE]; internal errors do not leak their message."""
    encoder = UIMessageStreamEncoder(interval=10)
    frames = []
    for n, u in enumerate(updates()[:3]):
        frames += encoder.feed(u, now=n)
    out = chunks(frames + encoder.close(error))
    assert out[-2:] == [last, "[DONE]"]
    assert out[-3] == {"type": "data-object", "id": "object", "data": {"id": 12, "items": [{}]}}


def test_ui_message_stream_refuses_use_after_end() -> None:
    """Feeding an ended stream is a UsageError; a foreign object a TypeError."""
    encoder = UIMessageStreamEncoder()
    with pytest.raises(TypeError, match="takes an Update"):
        encoder.feed("text")  # type: ignore[arg-type]
    for u in updates():
        encoder.feed(u)
    assert encoder.close() == []
    with pytest.raises(sd.UsageError, match="has ended"):
        encoder.feed(updates()[0])


def test_text_stream_is_the_json_text() -> None:
    """The text stream protocol writes the object's JSON text, also from a merger's
    events (stored streams), whose order differs from the parser's."""
    direct = TextStreamEncoder()
    text = "".join(t for u in updates() for t in direct.feed(u))
    assert json.loads(text) == json.loads(TEXT)
    profile = sse.ProfileEncoder()
    decoder: sse.ProfileDecoder[Any] = sse.ProfileDecoder()
    from_store = TextStreamEncoder()
    out = []
    for u in updates('{"a": {"b": "x"}, "c": [1, {"d": "é\\n"}], "e": "f"}', size=3, model=None):
        for frame in profile.feed(u):
            for client_update in decoder.feed(frame):
                out += from_store.feed(client_update)
    assert json.loads("".join(out)) == {"a": {"b": "x"}, "c": [1, {"d": "é\n"}], "e": "f"}


def test_mirror_applies_merger_order() -> None:
    """The mirror takes events in a merger's order (sets before completions)."""
    merger = sd.deltas.ChunkMerger("nested")
    mirror = Mirror()
    mirror.apply(merger.apply(sd.deltas.Chunk(sd.deltas.Delta(json={"": {}}))))
    mirror.apply(
        merger.apply(sd.deltas.Chunk(sd.deltas.Delta(json={"/a": {"b": [1, "x"]}, "/s": "ab"})))
    )
    mirror.apply(
        merger.apply(
            sd.deltas.Chunk(sd.deltas.Delta(text={"/s": "cd"}, json={"/n": 5}, done=("",)))
        )
    )
    assert mirror.value == {"a": {"b": [1, "x"]}, "s": "abcd", "n": 5} == merger.value
    assert mirror.done


def test_coalesce_updates_from_the_last_snapshot() -> None:
    """Updates read at once become one, starting at the last snapshot."""
    a: sse.ClientUpdate[Any] = sse.ClientUpdate(
        "1", "delta", None, events=(sd.events.ValueStarted((), "object"),)
    )
    b: sse.ClientUpdate[Any] = sse.ClientUpdate(
        "2", "snapshot", {}, events=(sd.events.ValueStarted((), "object"),)
    )
    c: sse.ClientUpdate[Any] = sse.ClientUpdate(
        "3", "delta", {"x": 1}, events=(sd.events.ValueCompleted(("x",), 1),)
    )
    merged = coalesce_updates([a, b, c])
    assert merged is not None
    assert (merged.kind, merged.event_id, merged.events) == ("snapshot", "3", b.events + c.events)
    assert coalesce_updates([]) is None and coalesce_updates([a]) is a


def test_unknown_protocol_is_a_usage_error() -> None:
    """An unknown protocol name is a UsageError that lists the known ones."""
    with pytest.raises(sd.UsageError, match="'ai-sdk', 'ai-sdk-text', 'ag-ui'"):
        frontend_encoder("vercel")
    assert PROTOCOLS == ("ai-sdk", "ai-sdk-text", "ag-ui")
    encoder = UIMessageStreamEncoder()
    assert frontend_encoder(encoder) is encoder


def test_event_stream_response_protocol() -> None:
    """EventStreamResponse(protocol=...): the protocol's media type and headers, no stream
    token; an unknown name or a profile beside it is a UsageError."""
    pytest.importorskip("starlette")
    from streamdantic.starlette import EventStreamResponse

    response = EventStreamResponse([], protocol="ai-sdk")
    headers = dict(response.headers)
    assert headers["x-vercel-ai-ui-message-stream"] == "v1"
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    text = EventStreamResponse([], protocol="ai-sdk-text")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.heartbeat is None  # a comment would be text of the object
    with pytest.raises(sd.UsageError, match="unknown protocol 'vercel'"):
        EventStreamResponse([], protocol="vercel")  # type: ignore[arg-type]
    with pytest.raises(sd.UsageError, match="no retry field"):
        EventStreamResponse([], protocol="ai-sdk-text", retry=1000)
    with pytest.raises(sd.UsageError, match="not both"):
        EventStreamResponse([], protocol="ai-sdk", profile="compatible")


def _agui(outputs: list[Any], error: BaseException | None = None, **options: Any) -> list[Any]:
    pytest.importorskip("ag_ui")
    from streamdantic.frontends import AGUIEncoder

    encoder = AGUIEncoder(thread_id="t", run_id="r", **options)
    frames = []
    for n, output in enumerate(outputs):
        frames += encoder.feed(output, now=float(n))
    frames += encoder.close(error)
    return [json.loads(f.removeprefix("data: ")) for f in frames]


def test_agui_state_snapshot_then_patches_from_the_deltas() -> None:
    """The first state is a STATE_SNAPSHOT; later ones are JSON Patch deltas built from
    the events: a value added once with its content, a growing string replaced."""
    text = '{"id": 12, "note": "hello world", "items": [{"name": "ab", "qty": 3}]}'
    events = _agui(updates(text, size=7, model=None), interval=0)
    assert events[0] == {"type": "RUN_STARTED", "threadId": "t", "runId": "r"}
    assert events[1] == {"type": "STATE_SNAPSHOT", "snapshot": {}}
    ops = [op for e in events if e["type"] == "STATE_DELTA" for op in e["delta"]]
    assert ops == [
        {"op": "add", "path": "/id", "value": 12},
        {"op": "add", "path": "/note", "value": "h"},
        {"op": "replace", "path": "/note", "value": "hello wo"},
        {"op": "replace", "path": "/note", "value": "hello world"},
        {"op": "add", "path": "/items", "value": [{}]},  # with what it holds
        {"op": "add", "path": "/items/0/name", "value": "ab"},
        {"op": "add", "path": "/items/0/qty", "value": 3},
    ]
    assert events[-1] == {"type": "RUN_FINISHED", "threadId": "t", "runId": "r"}


def test_agui_coalesces_a_string_into_one_replace() -> None:
    """Within one interval, a string that grows over many updates is one replace."""
    text = '{"note": "' + "x" * 40 + '"}'
    events = _agui(updates(text, size=12, model=None), interval=1000)
    assert [e["type"] for e in events] == [
        "RUN_STARTED",
        "STATE_SNAPSHOT",
        "STATE_DELTA",
        "RUN_FINISHED",
    ]
    assert events[1]["snapshot"] == {"note": "xx"}
    assert events[2]["delta"] == [{"op": "replace", "path": "/note", "value": "x" * 40}]


def test_agui_errors_and_cancel() -> None:
    """A failed stream ends with RUN_ERROR (message, type as code); a cancelled one with
    RUN_FINISHED and the cancelled outcome."""
    failed = _agui(updates()[:3], sd.ProviderError("overloaded"))
    assert failed[-1] == {"type": "RUN_ERROR", "message": "overloaded", "code": "provider_error"}
    cancelled = _agui(updates()[:3], sd.StreamCancelledError("stop"))
    assert cancelled[-1]["outcome"] == {"type": "cancelled"}


def test_agui_messages_and_tools() -> None:
    """Prose, reasoning and tool calls are AG-UI messages; tool calls attach to the text
    message before them."""
    events = _agui(
        [
            sd.parts.ReasoningDelta("hm"),
            sd.parts.TextDelta("Hi"),
            sd.parts.ToolCallDelta("c1", "{}", name="f"),
            sd.parts.ToolCallDone("c1", "f", "{}", {}),
            sd.parts.ToolResult("c1", {"ok": True}),
        ]
    )
    assert [e["type"] for e in events] == [
        "RUN_STARTED",
        "REASONING_START",
        "REASONING_MESSAGE_START",
        "REASONING_MESSAGE_CONTENT",
        "REASONING_MESSAGE_END",
        "REASONING_END",
        "TEXT_MESSAGE_START",
        "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_END",
        "TOOL_CALL_START",
        "TOOL_CALL_ARGS",
        "TOOL_CALL_END",
        "TOOL_CALL_RESULT",
        "RUN_FINISHED",
    ]
    assert events[9]["parentMessageId"] == events[6]["messageId"]
    assert events[12]["content"] == '{"ok": true}'


def test_exported_names() -> None:
    """streamdantic.frontends: sorted __all__, every name importable, shown as its own."""
    import streamdantic.frontends as frontends

    assert frontends.__all__ == sorted(frontends.__all__, key=str)
    for name in frontends.__all__:
        member = getattr(frontends, name)
        if inspect.isclass(member) or inspect.isfunction(member):
            assert member.__module__ == "streamdantic.frontends", name


class Recorder(PartState[str]):
    """The smallest encoder over the shared bookkeeping: it records what it is fed."""

    def _feed_update(self, update: Any, now: float, out: list[str]) -> None:
        self._note_update(update, out)
        out.append("update")

    def _feed_part(self, part: sd.parts.Part, out: list[str]) -> None:
        if not self._note_part(part):
            out.append(self._next_id(part.kind))


def test_part_state_remembers_usage_finish_and_provider_error() -> None:
    """Usage, Finish and ProviderErrorPart make no output but are kept; other parts are
    handed on with numbered ids."""
    state = Recorder()
    out: list[str] = []
    usage = sd.parts.Usage(1, 2)
    for part in (
        sd.parts.TextDelta("a"),
        usage,
        sd.parts.Finish("length"),
        sd.parts.TextDelta("b"),
    ):
        state._dispatch(part, 0.0, out)
    assert out == ["text-1", "text-2"]
    assert (state._usage, state._finish_reason) == (usage, "length")
    assert state._end_error(None, Mirror()) is None
    state._dispatch(sd.parts.ProviderErrorPart("overloaded", "overloaded_error"), 0.0, out)
    error = state._end_error(None, Mirror())
    assert isinstance(error, sd.ProviderError)
    assert (str(error), error.code) == ("overloaded", "overloaded_error")


def test_part_state_an_object_started_and_not_done_is_truncated() -> None:
    """At close, a mirror holding an unfinished object gives a truncation error, with the
    finish reason seen; an error passed in wins."""
    state = Recorder()
    mirror = Mirror()
    mirror.apply(sd.JSONParser().feed('{"id": 1'))
    state._note_part(sd.parts.Finish("length"))
    assert isinstance(state._end_error(None, mirror), sd.TruncatedStreamError)
    cancelled = sd.StreamCancelledError("gone")
    assert state._end_error(cancelled, mirror) is cancelled


def test_part_state_rejects_what_is_neither_update_nor_part() -> None:
    """Anything else fed raises TypeError naming the encoder class."""
    with pytest.raises(TypeError, match=r"Recorder\.feed\(\) takes an Update, .* not int"):
        Recorder()._dispatch(3, 0.0, [])  # type: ignore[arg-type]
