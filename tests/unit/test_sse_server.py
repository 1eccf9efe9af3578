"""EventStreamResponse, ResumableStreams and MemoryStore, driven in-process (no sockets)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
import trio
import trio.testing
from starlette.applications import Starlette

from streamdantic import (
    ProviderError,
    StoreFullError,
    StoreUnavailableError,
    StreamCancelledError,
    Throttle,
    TooManyGenerationsError,
    UsageError,
    astream,
    stream,
)
from streamdantic.parts import ToolCallDelta
from streamdantic.sse import (
    MemoryStore,
    ProfileDecoder,
    ProfileEncoder,
    ServerSentEvent,
    SSEDecoder,
    encode,
)
from streamdantic.sse._profile import WireVersion
from streamdantic.starlette import (
    EventStreamResponse,
    ResumableStreams,
    _Connection,
    _stored_token,
)

pytestmark = pytest.mark.anyio

DOC = '{"title": "Shakshuka", "tags": ["eggs", "tomato"], "servings": 2}'


def pieces(text: str = DOC, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


class Call:
    """One ASGI call: what was sent, and a receive that reports a disconnect on demand."""

    def __init__(
        self, *, headers: list[tuple[bytes, bytes]] | None = None, query: bytes = b""
    ) -> None:
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/",
            "raw_path": b"/",
            "root_path": "",
            "query_string": query,
            "headers": headers or [],
            "server": ("test", 80),
            "client": ("client", 1234),
        }
        self.messages: list[Any] = []
        self.disconnect = anyio.Event()
        self.on_send: Callable[[Any], Any] | None = None
        self._requested = False

    async def receive(self) -> Any:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Any) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            self.disconnect.set()
        if self.on_send is not None:
            await self.on_send(message)

    async def run(self, response: Any) -> None:
        with anyio.fail_after(10):
            await response(self.scope, self.receive, self.send)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.messages[0]["headers"]}

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])

    @property
    def complete(self) -> bool:
        return self.messages[-1]["type"] == "http.response.body" and not self.messages[-1].get(
            "more_body"
        )

    def events(self) -> list[ServerSentEvent]:
        return SSEDecoder().feed(self.body)


def final_of(events: list[ServerSentEvent]) -> Any:
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    for event in events:
        decoder.feed(event)
    return decoder.final


async def slow(chunks: list[str], gate: anyio.Event | None = None) -> AsyncIterator[str]:
    for i, chunk in enumerate(chunks):
        if i == 1 and gate is not None:
            await gate.wait()
        yield chunk


# ------------------------------------------------------------------------------ EventStreamResponse


async def test_a_stream_is_sent_as_profile_frames() -> None:
    """The response has the SSE headers and carries the stream to its final frame."""
    call = Call()
    await call.run(EventStreamResponse(astream(slow(pieces()))))
    assert call.status == 200
    assert call.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert call.headers["cache-control"] == "no-store"
    assert call.headers["x-accel-buffering"] == "no"
    assert "content-length" not in call.headers
    assert call.complete
    assert final_of(call.events()) == json.loads(DOC)


async def test_the_default_policy_coalesces_what_arrives_between_flushes() -> None:
    """A network stream sends its first change at once, then what arrives within the
    throttle interval as one frame, and the final state at once (here no interval passes:
    a 1000 s one)."""
    call = Call()
    await call.run(EventStreamResponse(astream(slow(pieces(size=2))), emit=Throttle(0.001)))
    names = [event.event for event in call.events()]
    assert names == ["stream", "message", "message", "final"]
    assert final_of(call.events()) == json.loads(DOC)


async def test_emit_changes_sends_a_frame_per_update() -> None:
    """``emit="changes"``: one delta frame for each update of the stream."""
    updates = len(list(stream(pieces(size=2)))) - 1  # the final update carries no delta here
    call = Call()
    await call.run(EventStreamResponse(astream(slow(pieces(size=2))), emit="changes"))
    deltas = [event for event in call.events() if event.event == "message"]
    assert len(deltas) >= updates > 4
    assert final_of(call.events()) == json.loads(DOC)


async def test_frames_queued_while_a_send_waits_go_out_in_one_send() -> None:
    """While one send waits for the client, other writes only queue their bytes; the waiting
    writer then sends all of them in one ASGI message (no lock, no send per frame)."""
    gate, entered = anyio.Event(), anyio.Event()
    messages: list[Any] = []

    async def send(message: Any) -> None:
        messages.append(message)
        if len(messages) == 1:
            entered.set()
            await gate.wait()

    async with anyio.create_task_group() as group:
        connection = _Connection(send, None, group.cancel_scope)
        group.start_soon(connection.write, b"a")
        await entered.wait()
        await connection.write(b"b")  # returns at once: queued behind the waiting send
        await connection.write(b"c")
        assert [m["body"] for m in messages] == [b"a"]
        gate.set()
        await connection.aclose()
    assert [(m["body"], m["more_body"]) for m in messages] == [
        (b"a", True),
        (b"bc", True),
        (b"", False),
    ]


async def test_changes_held_past_their_deadline_during_a_send_follow_it() -> None:
    """When the throttle's deadline passes while a send waits, the watchdog still takes
    the held changes, and they go out right after that send, without more input."""
    gate, entered, got = anyio.Event(), anyio.Event(), anyio.Event()
    messages: list[Any] = []

    async def send(message: Any) -> None:
        messages.append(message)
        if len(messages) == 1:
            entered.set()
            await gate.wait()
        if b'"yz"' in message.get("body", b""):
            got.set()

    outputs = list(stream(['{"a": "x', "y", "z", '"}']).events())
    encoder = ProfileEncoder(emit=Throttle(1000))
    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            connection = _Connection(send, None, group.cancel_scope, encoder=encoder)
            group.start_soon(connection.watch)
            now = anyio.current_time()
            group.start_soon(connection.write, encode(encoder.feed(outputs[0], now=now)[0]))
            await entered.wait()
            assert encoder.feed(outputs[1], now=now) == encoder.feed(outputs[2], now=now) == []
            connection.nudge()
            while encoder.next_deadline != float("inf"):  # the watchdog took them
                await anyio.lowlevel.checkpoint()
            gate.set()
            await got.wait()
            group.cancel_scope.cancel()


async def test_sync_sources_work_too() -> None:
    """A sync stream, or a list of its outputs, is iterated off the event loop."""
    for source in (stream(pieces()), list(stream(pieces()).events())):
        call = Call()
        await call.run(EventStreamResponse(source))
        assert final_of(call.events()) == json.loads(DOC)


async def test_the_retry_hint_comes_first() -> None:
    """`retry` is sent as a control frame before anything else."""
    call = Call()
    await call.run(EventStreamResponse(astream(slow(pieces())), retry=3000))
    assert call.body.startswith(b"retry: 3000\n\n")


async def test_a_failing_source_ends_with_an_error_frame() -> None:
    """A source error becomes the stream's error frame; the response still completes."""

    async def failing() -> AsyncIterator[Any]:
        for item in list(stream(pieces()).events())[:2]:
            yield item
        raise ProviderError("overloaded", code="529")

    call = Call()
    await call.run(EventStreamResponse(failing()))
    last = call.events()[-1]
    assert last.event == "error"
    assert json.loads(last.data)["type"] == "provider_error"
    assert call.complete


async def test_unexpected_errors_are_logged_and_not_leaked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug in the source is logged; the client gets an internal_error without details."""

    async def buggy() -> AsyncIterator[Any]:
        raise RuntimeError("database password is hunter2")
        yield  # pragma: no cover

    call = Call()
    with caplog.at_level(logging.ERROR, logger="streamdantic"):
        await call.run(EventStreamResponse(buggy()))
    data = json.loads(call.events()[-1].data)
    assert data["type"] == "internal_error"
    assert "hunter2" not in data["message"]
    assert "hunter2" in caplog.text


async def test_the_compatible_profile_sends_unnamed_chunks() -> None:
    """profile="compatible" sends data-only compatible chunks."""
    call = Call()
    await call.run(EventStreamResponse(astream(slow(pieces())), profile="compatible"))
    events = call.events()
    assert {e.event for e in events} == {"message"}
    decoder: ProfileDecoder[Any] = ProfileDecoder(profile="compatible")
    for event in events:
        decoder.feed(event)
    assert decoder.close()[-1].final == json.loads(DOC)


async def test_a_lone_surrogate_in_the_text_still_ends_with_a_terminal_frame() -> None:
    """Upstream text UTF-8 cannot carry (a lone surrogate) is sent with U+FFFD in its place;
    the response and a stored stream both end with their terminal frame."""
    call = Call()
    await call.run(EventStreamResponse(astream(['{"t": "a\ud800"}'])))
    assert call.complete and final_of(call.events()) == {"t": "a\ufffd"}
    streams = ResumableStreams(lambda request: astream(['{"t": "a\ud800', '"}']))
    app = Starlette(routes=streams.routes)
    async with (
        streams,
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        url = (await client.post("/streams")).json()["url"]
        response = await client.get(url)
        assert response.status_code == 200
        assert final_of(SSEDecoder().feed(response.content)) == {"t": "a\ufffd"}


async def test_prose_and_tool_calls_are_sendable() -> None:
    """An agent's stream with tools and no model (prose beside tool calls) is served whole."""
    source = ["Looking ", ToolCallDelta("c1", '{"q": "x"}', name="search"), "it up."]
    call = Call()
    await call.run(EventStreamResponse(astream(source, tools={"search": dict})))
    events = call.events()
    assert [e.event for e in events] == [
        "stream",
        "message",
        "tool_call",
        "tool_call",
        "message",
        "message",
        "final",
    ]
    assert final_of(events) == "Looking it up."


async def test_a_disconnect_cancels_and_closes_the_source() -> None:
    """When the client disconnects, the source is cancelled and closed before the call ends."""
    log: list[str] = []

    async def endless() -> AsyncIterator[str]:
        try:
            yield '{"a": "'
            while True:
                await anyio.sleep(0.001)
                yield "x"
        except BaseException as exc:
            log.append(type(exc).__name__)
            raise

    call = Call()

    async def disconnect_after_a_frame(message: Any) -> None:
        if message.get("body"):
            call.disconnect.set()

    call.on_send = disconnect_after_a_frame
    await call.run(EventStreamResponse(astream(endless())))
    assert log and log[0] in ("CancelledError", "Cancelled", "GeneratorExit")
    assert not call.complete


async def test_a_frozen_client_is_dropped_after_the_send_timeout() -> None:
    """A send that does not return within send_timeout ends the response and the source."""
    log: list[str] = []

    async def endless() -> AsyncIterator[str]:
        try:
            yield '{"a": "'
            while True:
                await anyio.lowlevel.checkpoint()
                yield "x"
        finally:
            log.append("closed")

    call = Call()

    async def freeze(message: Any) -> None:
        if b"id: " in message.get("body", b""):  # a numbered frame: mid-stream, the source runs
            await anyio.sleep_forever()

    call.on_send = freeze
    await call.run(EventStreamResponse(astream(endless()), send_timeout=0.05))
    assert log == ["closed"]


async def test_heartbeats_fill_the_silence() -> None:
    """While the source is idle, comment frames go out."""
    gate = anyio.Event()
    call = Call()

    async def count(message: Any) -> None:
        if call.body.count(b":\n\n") >= 2:
            gate.set()

    call.on_send = count
    await call.run(EventStreamResponse(astream(slow(pieces(), gate)), heartbeat=0.01))
    assert call.body.count(b":\n\n") >= 2
    assert final_of(call.events()) == json.loads(DOC)


class _Steps(trio.abc.Instrument):
    """Counts the steps (wake-ups) of the tasks whose name contains `name`."""

    def __init__(self, name: str) -> None:
        self.name, self.steps = name, 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        if self.name in task.name:
            self.steps += 1


def _paced_run(
    response: Callable[[AsyncIterator[str]], Any], chunks: list[str], *, rate: float
) -> tuple[Call, int]:
    """Serve `chunks` arriving at `rate` per second, on trio's mock clock (virtual time,
    deterministic); returns the call and the steps of the response's watchdog."""
    steps = _Steps("watch")

    async def paced() -> AsyncIterator[str]:
        for chunk in chunks:
            await anyio.sleep(1 / rate)
            yield chunk

    async def main() -> Call:
        call = Call()
        await call.run(response(paced()))
        return call

    call = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0), instruments=[steps])
    return call, steps.steps


LONG_DOC = json.dumps({"items": [{"name": f"item {i}", "n": i} for i in range(40)]})


def test_at_a_token_rate_the_watchdog_wakes_once_per_throttle_period() -> None:
    """At 100 chunks/s under Throttle(20), the watchdog wakes about once per 50 ms period
    (one timer per stream), not again for every change it must be told about."""
    chunks = pieces(LONG_DOC, 4)  # 200+ chunks: 2+ s of virtual time
    call, steps = _paced_run(
        lambda source: EventStreamResponse(astream(source), emit=Throttle(20)), chunks, rate=100
    )
    periods = len(chunks) / 100 * 20
    assert final_of(call.events()) == json.loads(LONG_DOC)
    frames = sum(1 for event in call.events() if event.event == "message")
    assert periods * 0.8 <= frames <= periods + 2  # still a frame per period, on time
    assert steps <= periods + 5


def test_a_watchdog_write_that_never_completes_ends_the_response() -> None:
    """The watchdog's own writes (a heartbeat) are bounded by send_timeout too: a client
    that freezes on one is dropped, and the source is closed."""
    log: list[str] = []

    async def main() -> Call:
        async def endless() -> AsyncIterator[str]:
            try:
                yield '{"a": "x"'
                await anyio.sleep_forever()
                yield "}"
            finally:
                log.append("closed")

        call = Call()

        async def freeze(message: Any) -> None:
            if message.get("body") == b":\n\n":  # the heartbeat, sent by the watchdog
                await anyio.sleep_forever()

        call.on_send = freeze
        await call.run(EventStreamResponse(astream(endless()), heartbeat=1, send_timeout=5))
        return call

    call = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert log == ["closed"]
    assert call.body.endswith(b":\n\n") and not call.complete


def test_bad_arguments_are_refused() -> None:
    """Source xor store; a store needs a stream id; timings must be positive."""
    with pytest.raises(ValueError):
        EventStreamResponse()
    with pytest.raises(ValueError):
        EventStreamResponse(store=MemoryStore())
    with pytest.raises(ValueError):
        EventStreamResponse([], heartbeat=0)
    with pytest.raises(TypeError):
        EventStreamResponse(42)


# ------------------------------------------------------------------------------ generations


def closing_source(log: list[str]) -> Any:
    """An astream whose model records whether it ran and whether it was closed."""

    async def model() -> AsyncIterator[str]:
        log.append("ran")
        for chunk in pieces():
            yield chunk

    stream_ = astream(model())
    aclose = stream_.aclose

    async def logged_aclose() -> None:
        log.append("closed")
        await aclose()

    stream_.aclose = logged_aclose  # type: ignore[method-assign]
    return stream_


@pytest.mark.parametrize(
    ("headers", "query"),
    [([(b"last-event-id", b"7")], b""), ([], b"last_event_id=7")],
    ids=["header", "query"],
)
async def test_a_source_refuses_to_resume(headers: list[tuple[bytes, bytes]], query: bytes) -> None:
    """A request asking to resume a source-backed response gets 409 with a JSON detail
    pointing to ResumableStreams; the source is closed without running."""
    log: list[str] = []
    call = Call(headers=headers, query=query)
    await call.run(EventStreamResponse(closing_source(log)))
    assert call.status == 409
    assert call.headers["content-type"] == "application/json"
    detail = json.loads(call.body)["detail"]
    assert "cannot be resumed" in detail and "ResumableStreams" in detail
    assert log == ["closed"]


async def test_a_compatible_source_refuses_to_resume_too() -> None:
    """The compatible profile has no ids, so nothing resumes it: a request that asks to is
    refused the same way, and a compatible response has no stream frame."""
    call = Call(headers=[(b"last-event-id", b"3")])
    await call.run(EventStreamResponse(astream(slow(pieces())), profile="compatible"))
    assert call.status == 409
    fresh = Call()
    await fresh.run(EventStreamResponse(astream(slow(pieces())), profile="compatible"))
    assert {e.event for e in fresh.events()} == {"message"}


async def test_a_restarting_source_declares_a_new_generation() -> None:
    """With on_resume="restart", a resume request gets the whole stream of a new
    generation, opened by a stream frame that says so."""
    call = Call(headers=[(b"last-event-id", b"7")])
    await call.run(EventStreamResponse(astream(slow(pieces())), on_resume="restart"))
    first, *frames = call.events()
    assert first.event == "stream" and b"id:" not in call.body.split(b"\n\n")[0]
    assert json.loads(first.data)["restart"] is True
    assert frames[0].id == "1" and final_of(frames) == json.loads(DOC)


async def test_every_source_response_opens_with_a_fresh_token() -> None:
    """Each response of a source names its own generation, not as a restart."""
    tokens = []
    for _ in range(2):
        call = Call()
        await call.run(EventStreamResponse(astream(slow(pieces())), retry=100))
        assert call.body.startswith(b"retry: 100\n\nevent: stream\n")
        data = json.loads(call.events()[0].data)
        assert data["restart"] is False
        tokens.append(data["token"])
    assert len(set(tokens)) == 2 and all(len(t) >= 16 for t in tokens)


async def test_a_stored_streams_token_is_fixed_per_stream() -> None:
    """Every response of a stored stream carries the same token (derived from its id, not
    the id itself); another stream has another."""
    store = await stored(2)
    await store.create("t")
    await store.append("t", ServerSentEvent("{}", event="final", id="1"))
    tokens = []
    for stream_id, headers in [("s", []), ("s", [(b"last-event-id", b"1")]), ("t", [])]:
        call = Call(headers=headers)
        await call.run(EventStreamResponse(store=store, stream_id=stream_id))
        first = call.events()[0]
        assert first.event == "stream"
        tokens.append(json.loads(first.data)["token"])
    assert tokens[0] == tokens[1] != tokens[2]
    assert "s" != tokens[0] == _stored_token("s")


def test_on_resume_is_checked() -> None:
    """on_resume is one of its words, and restart needs the streamdantic profile."""
    with pytest.raises(ValueError, match=r"on_resume must be one of \('refuse', 'restart'\)"):
        EventStreamResponse([], on_resume="resume")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="compatible profile has no stream frame"):
        EventStreamResponse([], on_resume="restart", profile="compatible")


# ------------------------------------------------------------------------------ stored streams


async def stored(frames: int, *, done: bool = True) -> MemoryStore:
    store = MemoryStore()
    await store.create("s")
    for n in range(1, frames + 1):
        await store.append("s", ServerSentEvent(str(n), event="reasoning", id=str(n)))
    if done:
        await store.append("s", ServerSentEvent("{}", event="final", id=str(frames + 1)))
        await store.mark_done("s")
    return store


@pytest.mark.parametrize(
    ("headers", "query", "first"),
    [([], b"", "1"), ([(b"last-event-id", b"2")], b"", "3"), ([], b"last_event_id=3", "4")],
    ids=["from-start", "header", "query"],
)
async def test_a_stored_stream_resumes_after_the_last_event_id(
    headers: list[tuple[bytes, bytes]], query: bytes, first: str
) -> None:
    """The Last-Event-ID header (or the last_event_id parameter) says where to resume."""
    store = await stored(4)
    call = Call(headers=headers, query=query)
    await call.run(EventStreamResponse(store=store, stream_id="s"))
    stream, *events = call.events()
    assert stream.event == "stream" and events[0].id == first and events[-1].event == "final"
    assert call.complete


@pytest.mark.parametrize(
    ("stream_id", "headers", "status"),
    [
        ("nope", [], 404),
        ("s", [(b"last-event-id", b"x")], 400),
        ("s", [(b"last-event-id", b"5")], 204),
    ],
    ids=["unknown", "malformed", "up-to-date"],
)
async def test_stored_streams_answer_without_a_stream_when_there_is_none(
    stream_id: str, headers: list[tuple[bytes, bytes]], status: int
) -> None:
    """Unknown: 404; a malformed Last-Event-ID: 400; nothing more to send: 204."""
    call = Call(headers=headers)
    await call.run(EventStreamResponse(store=await stored(4), stream_id=stream_id))
    assert call.status == status


async def test_a_stored_stream_is_followed_while_it_grows() -> None:
    """A reader gets frames as they are appended, until the terminal frame."""
    store = await stored(1, done=False)
    call = Call()
    async with anyio.create_task_group() as group:
        group.start_soon(call.run, EventStreamResponse(store=store, stream_id="s"))
        for n in (2, 3):
            await anyio.sleep(0.01)
            await store.append("s", ServerSentEvent(str(n), event="reasoning", id=str(n)))
        await store.append("s", ServerSentEvent("{}", event="final", id="4"))
        await store.mark_done("s")
    assert [e.id for e in call.events()] == ["", "1", "2", "3", "4"]  # the stream frame first


# ------------------------------------------------------------------------------ ResumableStreams


def resumable(**options: Any) -> tuple[ResumableStreams, httpx.AsyncClient]:
    streams = ResumableStreams(lambda request: astream(slow(pieces())), **options)
    app = Starlette(routes=streams.routes)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")
    return streams, client


async def test_a_generation_is_started_followed_and_kept() -> None:
    """POST starts a generation; GET serves it, to any number of clients, after it ended."""
    streams, client = resumable()
    async with streams, client:
        answer = await client.post("/streams")
        assert answer.status_code == 201
        url = answer.json()["url"]
        assert (
            answer.headers["location"] == url == f"http://test/streams/{answer.json()['stream_id']}"
        )
        for _ in range(2):
            response = await client.get(url)
            assert final_of(SSEDecoder().feed(response.content)) == json.loads(DOC)


async def test_a_generation_stores_coalesced_frames_by_default_policy() -> None:
    """With a throttle, a generation stores its first change at once and the rest with its
    final state (no interval passes here: a 1000 s one), not a frame per update."""
    store = MemoryStore()
    streams = ResumableStreams(store=store, emit=Throttle(0.001))
    async with streams:
        stream_id = await streams.spawn(astream(slow(pieces(size=2))))
        events: list[ServerSentEvent] = []
        with anyio.fail_after(10):
            while not events or events[-1].event != "final":
                frames = await store.read(stream_id, len(events), wait=1)
                assert frames is not None
                events += frames.events
    assert [event.event for event in events] == ["message", "message", "final"]
    assert final_of(events) == json.loads(DOC)


async def test_a_generation_stores_held_changes_when_its_source_goes_quiet() -> None:
    """What the throttle holds is stored at its deadline, without waiting for more input."""
    gate = anyio.Event()

    async def source() -> AsyncIterator[str]:
        for piece in pieces()[:3]:
            yield piece
        await gate.wait()
        for piece in pieces()[3:]:
            yield piece

    store = MemoryStore()
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    streams = ResumableStreams(store=store, emit=Throttle(1000))
    async with streams:
        stream_id = await streams.spawn(astream(source()))
        with anyio.fail_after(10):
            after = 0
            while decoder.value != {"title": "Shakshuka"}:
                frames = await store.read(stream_id, after, wait=1)
                assert frames is not None
                for event in frames.events:
                    decoder.feed(event)
                    after = int(event.id or after)
        gate.set()
    assert decoder.final is None  # the rest came only after the gate opened


async def test_the_generation_outlives_its_clients_until_cancelled() -> None:
    """A generation runs without clients; DELETE (or POST .../cancel) stops it."""
    gate = anyio.Event()
    streams = ResumableStreams(store=MemoryStore())
    app = Starlette(routes=streams.routes)
    async with (
        streams,
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client,
    ):
        stream_id = await streams.spawn(astream(slow(pieces(), gate)))
        assert (await client.post(f"/streams/{stream_id}/cancel")).status_code == 202
        response = await client.get(f"/streams/{stream_id}")
        last = SSEDecoder().feed(response.content)[-1]
        assert json.loads(last.data)["type"] == "cancelled"
        assert (await client.delete(f"/streams/{stream_id}")).status_code == 404
        assert (await client.post("/streams")).status_code == 404  # no start: no POST route


class FlakyStore(MemoryStore):
    """A store whose reads after the first fail `failures` times (a Redis restart, as its
    readers see it), then work again; `failed` is set once they all have."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.reads = 0
        self.failed = anyio.Event()

    async def read(self, stream_id: str, after: int, /, *, wait: float = 0) -> Any:
        self.reads += 1
        if self.reads > 1 and self.failures:
            self.failures -= 1
            if not self.failures:
                self.failed.set()
            raise StoreUnavailableError("redis restarting")
        return await super().read(stream_id, after, wait=wait)


async def test_a_reader_rides_out_a_short_store_outage() -> None:
    """A store that fails a few reads (Redis restarting) and comes back within
    `store_timeout`: the reader retries and the client gets the whole stream, not a
    ``store_unavailable`` error frame."""
    gate = anyio.Event()
    store = FlakyStore(failures=3)
    streams = ResumableStreams(store=store)
    app = Starlette(routes=streams.routes)
    async with (
        streams,
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client,
    ):
        stream_id = await streams.spawn(astream(slow(pieces(), gate)))

        async def release() -> None:
            await store.failed.wait()
            gate.set()

        async with anyio.create_task_group() as group:
            group.start_soon(release)
            response = await client.get(f"/streams/{stream_id}")
    assert final_of(SSEDecoder().feed(response.content)) == json.loads(DOC)
    assert store.reads > 4


class SlowStore(MemoryStore):
    """A store whose appends take a while, as over a network: a cancel lands mid-append."""

    def __init__(self) -> None:
        super().__init__()
        self.appending = anyio.Event()
        self.ended = anyio.Event()

    async def mark_done(self, stream_id: str, /) -> None:
        await super().mark_done(stream_id)
        self.ended.set()

    async def append(self, stream_id: str, frame: ServerSentEvent, /) -> None:
        self.appending.set()
        await anyio.sleep(0.02)
        await super().append(stream_id, frame)


async def test_a_cancel_during_an_append_loses_no_frame() -> None:
    """The frame being stored when the cancel arrives is kept: the terminal frame follows
    it without a gap in the ids (a client would refuse the gap)."""
    store = SlowStore()
    streams = ResumableStreams(store=store)
    async with streams:
        stream_id = await streams.spawn(astream(slow(pieces(size=3))))
        with anyio.fail_after(5):
            await store.appending.wait()
            assert await streams.cancel(stream_id)
            await store.ended.wait()
    frames = await store.read(stream_id)
    assert frames is not None and frames.done
    ids = [int(event.id or 0) for event in frames.events]
    assert ids == list(range(1, len(ids) + 1))
    assert json.loads(frames.events[-1].data)["type"] == "cancelled"
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    with pytest.raises(StreamCancelledError):
        for event in frames.events:
            decoder.feed(event)


async def test_spawning_needs_the_task_group() -> None:
    """Without `async with streams` (or its lifespan), spawn explains what to do."""
    with pytest.raises(UsageError, match="lifespan"):
        await ResumableStreams().spawn([])


async def test_leaving_the_lifespan_cancels_running_generations() -> None:
    """At shutdown, running generations end with a cancelled frame in the store."""
    store = MemoryStore()
    streams = ResumableStreams(store=store)
    async with streams:
        stream_id = await streams.spawn(astream(slow(pieces(), anyio.Event())))
        await anyio.sleep(0.01)
    frames = await store.read(stream_id)
    assert frames is not None and frames.done
    assert json.loads(frames.events[-1].data)["type"] == "cancelled"


# ------------------------------------------------------------------------------ MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_memory_entries_expire_by_the_clock() -> None:
    """An entry is gone once `ttl` seconds passed since its last write."""
    clock = Clock()
    store = MemoryStore(ttl=10, clock=clock)
    await store.create("s")
    clock.now = 9.9
    assert await store.read("s") is not None
    clock.now = 10.0
    assert await store.read("s") is None


async def test_memory_appends_must_be_in_order() -> None:
    """Frames take the next id; a snapshot's id lies between the last snapshot and frame."""
    store = MemoryStore()
    with pytest.raises(KeyError):
        await store.append("s", ServerSentEvent("x", event="delta", id="1"))
    await store.create("s")
    with pytest.raises(ValueError):
        await store.append("s", ServerSentEvent("x", event="delta", id="2"))
    with pytest.raises(ValueError):
        await store.append("s", ServerSentEvent("x", event="delta", id="one"))
    await store.append("s", ServerSentEvent("x", event="delta", id="1"))
    with pytest.raises(ValueError):
        await store.append("s", ServerSentEvent("{}", event="snapshot", id="2"))


async def test_a_waiting_memory_reader_wakes_when_the_stream_ends() -> None:
    """mark_done wakes readers that wait for frames."""
    store = MemoryStore()
    await store.create("s")
    got: list[Any] = []

    async def reader() -> None:
        got.append(await store.read("s", wait=10))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(reader)
            await anyio.sleep(0.01)
            await store.mark_done("s")
    assert got[0].done and got[0].events == ()


def test_store_limits_are_checked() -> None:
    """ttl and max_frames must be positive."""
    with pytest.raises(ValueError):
        MemoryStore(ttl=0)
    with pytest.raises(ValueError):
        MemoryStore(max_frames=0)


# ------------------------------------------------------------------------------ caps


async def finished_stream(store: MemoryStore, stream_id: str, frames: int = 1) -> None:
    await store.create(stream_id)
    for n in range(1, frames + 1):
        await store.append(stream_id, ServerSentEvent("x" * 100, event="delta", id=str(n)))
    await store.mark_done(stream_id)


async def test_a_full_memory_store_evicts_the_stream_that_ended_first() -> None:
    """At max_streams, a new stream evicts the finished stream that ended first (not the
    one created first); running ones stay."""
    store = MemoryStore(max_streams=3)
    await store.create("running")
    await finished_stream(store, "b")
    await finished_stream(store, "a")
    await store.mark_done("b")  # ends again: now the latest to have ended
    await store.create("new")
    assert [await store.read(s) is not None for s in ("running", "a", "b", "new")] == [
        True,
        False,
        True,
        True,
    ]
    assert store.size[0] == 3


async def test_a_memory_store_of_running_streams_refuses_a_new_one() -> None:
    """When every stream in a full store runs, create raises StoreFullError (a
    StoreUnavailableError) and keeps them all; a lost stream is evicted instead."""
    clock = Clock()
    store = MemoryStore(max_streams=2, lease=10, renew_every=1, clock=clock)
    await store.create("a")
    await store.create("b")
    with pytest.raises(StoreFullError, match="max_streams=2") as info:
        await store.create("c")
    assert isinstance(info.value, StoreUnavailableError)
    assert [await store.read(s) is not None for s in ("a", "b", "c")] == [True, True, False]
    clock.now = 5.0
    await store.append("b", ServerSentEvent("x", event="delta", id="1"))  # renews b's lease
    clock.now = 11.0  # a's lease lapsed: it is lost
    await store.create("c")
    assert [await store.read(s) is not None for s in ("a", "b", "c")] == [False, True, True]


async def test_a_memory_store_over_max_bytes_evicts_finished_streams() -> None:
    """Past max_bytes, an append evicts finished streams, oldest end first, never the
    running stream itself; the accounting comes back to zero as entries go."""
    clock = Clock()
    store = MemoryStore(max_bytes=5_000, ttl=100, clock=clock)
    await finished_stream(store, "old", frames=2)
    await finished_stream(store, "older", frames=2)
    await store.mark_done("old")
    await store.create("live")
    for n in range(1, 5):  # ~300 bytes each: "older" goes first, then "old"
        await store.append("live", ServerSentEvent("y" * 100, event="delta", id=str(n)))
    assert await store.read("older") is None and await store.read("old") is not None
    for n in range(5, 9):
        await store.append("live", ServerSentEvent("y" * 100, event="delta", id=str(n)))
    assert await store.read("old") is None
    for n in range(9, 30):  # over the cap with nothing to evict: the running stream goes on
        await store.append("live", ServerSentEvent("y" * 100, event="delta", id=str(n)))
    live = await store.read("live")
    assert live is not None and len(live.events) == 29
    assert store.size[1] > store.max_bytes
    with pytest.raises(StoreFullError, match="max_bytes=5000"):
        await store.create("another")
    clock.now = 200.0
    assert await store.read("live") is None
    assert store.size == (0, 0)


def test_the_caps_are_checked() -> None:
    """max_streams, max_bytes and max_generations must be positive ints."""
    for options in ({"max_streams": 0}, {"max_bytes": 1.5}, {"max_streams": True}):
        with pytest.raises(ValueError):
            MemoryStore(**options)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_generations"):
        ResumableStreams(max_generations=0)
    with pytest.raises(ValueError, match="name"):
        ResumableStreams(name="a:b")


async def test_spawn_past_max_generations_raises_and_closes_the_source() -> None:
    """With max_generations running, spawn raises TooManyGenerationsError and closes the
    source unread; a slot frees when a generation ends."""
    log: list[str] = []
    gate = anyio.Event()
    streams = ResumableStreams(max_generations=1)
    async with streams:
        first = await streams.spawn(astream(slow(pieces(), gate)))
        with pytest.raises(TooManyGenerationsError, match="max_generations=1"):
            await streams.spawn(closing_source(log))
        assert log == ["closed"] and streams.running == 1
        await streams.cancel(first)
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()  # the generation has ended
        assert streams.running == 0
        await streams.spawn([])


# ------------------------------------------------------------------------------ authorize


async def test_an_authorize_hook_must_return_a_bool() -> None:
    """A hook that returns None (a forgotten return) is a TypeError, not a silent allow or
    deny."""
    streams = ResumableStreams(lambda request: [], authorize=lambda request, s, action: None)  # type: ignore[arg-type,return-value]
    app = Starlette(routes=streams.routes)
    async with (
        streams,
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client,
    ):
        with pytest.raises(TypeError, match="forget to return"):
            await client.get("/streams/x")


# ------------------------------------------------------------------------------ wire versions


@pytest.mark.parametrize("version", [2, 3])
async def test_a_response_writes_the_wire_version_asked_for(version: WireVersion) -> None:
    """``wire_version=2`` keeps the version-2 frames (the object in final, chunk-shaped
    deltas) for older clients; the default is version 3 (a digest)."""
    call = Call()
    options: dict[str, Any] = {} if version == 3 else {"wire_version": 2}
    await call.run(EventStreamResponse(astream(slow(pieces())), **options))
    events = call.events()
    final = json.loads(events[-1].data or "")
    assert ("digest" in final) == (version == 3) and ("value" in final) == (version == 2)
    name = "delta" if version == 2 else "message"  # version 3: delta frames are unnamed
    deltas = [json.loads(e.data or "") for e in events if e.event == name]
    assert deltas and all(("delta" in d) == (version == 2) for d in deltas)
    assert final_of(events) == json.loads(DOC)


async def test_a_generation_stores_the_wire_version_asked_for() -> None:
    """ResumableStreams(wire_version=2) stores version-2 frames, which its readers serve."""
    store = MemoryStore()
    streams = ResumableStreams(store=store, emit="changes", wire_version=2)
    async with streams:
        stream_id = await streams.spawn(astream(slow(pieces())))
        events: list[ServerSentEvent] = []
        with anyio.fail_after(10):
            while not events or events[-1].event != "final":
                frames = await store.read(stream_id, len(events), wait=1)
                assert frames is not None
                events += frames.events
    assert "value" in json.loads(events[-1].data or "")
    assert final_of(events) == json.loads(DOC)
    with pytest.raises(ValueError, match="version must be one of"):
        ResumableStreams(wire_version=4)  # type: ignore[arg-type]
