"""The client's sans-IO reconnection flow, and its sync and async drivers over httpx."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from streamdantic import (
    ProviderError,
    SSEError,
    StreamIntegrityError,
    StreamNotResumableError,
    stream,
)
from streamdantic._client import (
    Connect,
    Deliver,
    Failed,
    Opened,
    Receive,
    Retry,
    Sleep,
    event_flow,
)
from streamdantic.sse import (
    ProfileDecoder,
    ProfileEncoder,
    ServerSentEvent,
    aconnect,
    connect,
    encode,
    stream_frame,
)
from tests.helpers import split_random

ROOT = Path(__file__).resolve().parents[2]
SMALL_TEXT = (ROOT / "fixtures" / "documents" / "small.json").read_text("utf-8")
SMALL = json.loads(SMALL_TEXT)
EVENT_STREAM = Opened(200, "text/event-stream; charset=utf-8")


def small_frames() -> list[ServerSentEvent]:
    encoder = ProfileEncoder()
    items = stream(split_random(SMALL_TEXT, seed=1, max_size=30)).events()
    return [f for item in items for f in encoder.feed(item)] + encoder.close()


FRAMES = small_frames()


def body(frames: list[ServerSentEvent]) -> bytes:
    return b"".join(map(encode, frames))


Flow = Generator[Any, Any, None]


class Clock:
    """A clock the test moves: `event_flow`'s monotonic and wall clocks."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# Without jitter, so that the delays are exact; the jitter has tests of its own.
EXACT = Retry(jitter="none")


def new_flow(
    retry: Retry | None = None, last_event_id: str = "", clock: Clock | None = None
) -> tuple[Flow, Any]:
    clock = clock or Clock()
    flow = event_flow(
        ProfileDecoder(),
        retry or EXACT,
        last_event_id=last_event_id,
        clock=clock,
        wall_clock=clock,
    )
    return flow, next(flow)


def send(flow: Flow, result: Any) -> Any:
    """Send a result; return the next action, or None when the flow ended."""
    try:
        return flow.send(result)
    except StopIteration:
        return None


def read_all(flow: Flow, action: Any, data: bytes) -> tuple[Any, list[Any]]:
    """Answer Receive with `data` (then nothing), collecting delivered updates, until the
    flow asks for something else."""
    updates: list[Any] = []
    assert action == Receive()
    action = send(flow, data)
    while isinstance(action, Deliver):
        updates.extend(action.updates)
        action = send(flow, None)
    return action, updates


# ------------------------------------------------------------------------------ policy


def test_the_first_request_asks_for_an_event_stream() -> None:
    """The first Connect asks for text/event-stream, uncached, without Last-Event-ID."""
    _, action = new_flow()
    headers = {"Accept": b"text/event-stream", "Cache-Control": b"no-store"}
    assert action == Connect(headers, timeout=45.0)  # the idle timeout


def test_a_given_last_event_id_is_sent_as_utf8() -> None:
    """A starting Last-Event-ID goes out as UTF-8 bytes."""
    _, action = new_flow(last_event_id="é7")
    assert action.headers["Last-Event-ID"] == "é7".encode()


def test_a_complete_stream_is_delivered_and_drained() -> None:
    """All frames in one body: the updates are delivered, the body read to its end, done."""
    flow, action = new_flow()
    action = send(flow, EVENT_STREAM)
    action, updates = read_all(flow, action, body(FRAMES))
    assert updates[-1].done and updates[-1].final == SMALL
    assert action == Receive()  # draining the end of the body
    assert send(flow, b"") is None


@pytest.mark.parametrize(
    ("backoff", "delays"),
    [("exponential", [0.5, 1.0, 2.0, 4.0, 4.0]), ("linear", [0.5, 1.0, 1.5, 2.0, 2.5])],
)
def test_failed_connections_back_off(backoff: Any, delays: list[float]) -> None:
    """Connection failures in a row wait longer and longer, up to max_delay, then give up."""
    retry = Retry(max_retries=5, backoff=backoff, initial_delay=0.5, max_delay=4.0, jitter="none")
    flow, action = new_flow(retry)
    seen = []
    for _ in range(5):
        assert isinstance(action, Connect)
        action = send(flow, Failed(httpx.ConnectError("refused")))
        assert isinstance(action, Sleep)
        seen.append(action.seconds)
        action = send(flow, None)
    with pytest.raises(SSEError, match="gave up after 5") as info:
        send(flow, Failed(httpx.ConnectError("refused")))
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert seen == delays


def test_without_retries_the_first_failure_is_final() -> None:
    """max_retries=0 never reconnects."""
    flow, _ = new_flow(Retry(max_retries=0))
    with pytest.raises(SSEError):
        send(flow, Failed(httpx.ConnectError("refused")))


def test_a_dropped_stream_resumes_after_its_last_event_id() -> None:
    """After a drop, the next request carries the id of the last frame applied."""
    flow, action = new_flow()
    action = send(flow, EVENT_STREAM)
    action, first = read_all(flow, action, body(FRAMES[:3]))
    assert [u.event_id for u in first] == ["1", "2", "3"]
    action = send(flow, b"")  # the connection ended early
    assert action == Sleep(0.5)
    action = send(flow, None)
    assert action.headers["Last-Event-ID"] == b"3"


def test_replayed_frames_are_not_delivered_twice() -> None:
    """A server that replays frames after reconnecting does not duplicate updates."""
    flow, action = new_flow()
    action = send(flow, EVENT_STREAM)
    action, first = read_all(flow, action, body(FRAMES[:3]))
    action = send(flow, Failed(httpx.ReadError("reset")))
    action = send(flow, None)
    action = send(flow, EVENT_STREAM)
    action, rest = read_all(flow, action, body(FRAMES))  # everything again, from frame 1
    ids = [u.event_id for u in first + rest]
    assert ids == [f.id for f in FRAMES]
    assert rest[-1].final == SMALL


def test_the_servers_retry_sets_the_base_delay() -> None:
    """The server's retry: field replaces initial_delay (backoff still applies)."""
    flow, action = new_flow(Retry(initial_delay=0.5, max_delay=60, jitter="none"))
    action = send(flow, EVENT_STREAM)
    action, _ = read_all(flow, action, encode(ServerSentEvent(retry=2000)) + body(FRAMES[:1]))
    assert send(flow, b"") == Sleep(2.0)
    assert isinstance(send(flow, None), Connect)
    assert send(flow, Failed(httpx.ConnectError("refused"))) == Sleep(4.0)


def test_progress_resets_the_backoff() -> None:
    """A connection that applied a frame starts the delays over."""
    flow, action = new_flow()
    assert send(flow, Failed(httpx.ConnectError("x"))) == Sleep(0.5)
    send(flow, None)
    assert send(flow, Failed(httpx.ConnectError("x"))) == Sleep(1.0)
    send(flow, None)
    action = send(flow, EVENT_STREAM)
    action, _ = read_all(flow, action, body(FRAMES[:1]))
    assert send(flow, Failed(httpx.ReadTimeout("idle"))) == Sleep(0.5)


def test_204_stops_without_error() -> None:
    """204 No Content means there is nothing more: the flow ends."""
    flow, _ = new_flow()
    assert send(flow, Opened(204, None)) is None


@pytest.mark.parametrize("status", [400, 401, 404, 409])
def test_client_errors_fail_without_retry(status: int) -> None:
    """A 4xx answer raises SSEError at once."""
    flow, _ = new_flow()
    with pytest.raises(SSEError, match=str(status)):
        send(flow, Opened(status, "application/json"))


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried(status: int) -> None:
    """A 5xx answer is retried after the backoff delay."""
    flow, _ = new_flow()
    assert send(flow, Opened(status, "text/html")) == Sleep(0.5)


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_a_wrong_content_type_fails_without_retry(content_type: str | None) -> None:
    """A 200 answer that is not text/event-stream raises SSEError at once."""
    flow, _ = new_flow()
    with pytest.raises(SSEError, match="not text/event-stream"):
        send(flow, Opened(200, content_type))


def test_the_content_type_is_matched_without_parameters_or_case() -> None:
    """``TEXT/Event-Stream;charset=utf-8`` is an event stream."""
    flow, _ = new_flow()
    assert send(flow, Opened(200, "TEXT/Event-Stream;charset=utf-8")) == Receive()


def test_an_error_frame_raises() -> None:
    """The server's error frame raises its exception; nothing is retried."""
    encoder = ProfileEncoder()
    frames = encoder.close(ProviderError("overloaded", code="529"))
    flow, _ = new_flow()
    send(flow, EVENT_STREAM)
    with pytest.raises(ProviderError, match="overloaded"):
        send(flow, body(frames))


def cut_then_reconnect(flow: Flow, action: Any, first: bytes) -> tuple[Any, list[Any]]:
    """Answer the first connection with `first` then a cut; return the reconnection's
    Connect and the updates delivered."""
    action = send(flow, EVENT_STREAM)
    action, updates = read_all(flow, action, first)
    action = send(flow, b"")  # the body ended early
    assert isinstance(action, Sleep)
    action = send(flow, None)
    assert isinstance(action, Connect)
    return action, updates


def test_a_refused_resume_is_a_declared_error() -> None:
    """A 409 to a request that asked to resume raises StreamNotResumableError with the
    server's detail (its body is read, a little at most), and is not retried."""
    flow, action = new_flow()
    action, _ = cut_then_reconnect(flow, action, body([stream_frame("a"), *FRAMES[:3]]))
    assert action.headers["Last-Event-ID"] == b"3"
    assert send(flow, Opened(409, "application/json")) == Receive()
    assert send(flow, b'{"detail": "this stream cannot') == Receive()
    assert send(flow, b' be resumed: use ResumableStreams"}') == Receive()
    with pytest.raises(StreamNotResumableError, match=r"after frame 3 .*\(409\)") as caught:
        send(flow, b"")
    assert caught.value.detail == "this stream cannot be resumed: use ResumableStreams"
    assert caught.value.partial == flow_partial(FRAMES[:3])


def flow_partial(frames: list[ServerSentEvent]) -> Any:
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    for frame in frames:
        decoder.feed(frame)
    return decoder.partial


def test_a_reconnection_answered_by_another_generation_fails() -> None:
    """A reconnection whose stream frame names another generation raises
    StreamIntegrityError; none of its frames is delivered."""
    flow, action = new_flow()
    action, first = cut_then_reconnect(flow, action, body([stream_frame("a"), *FRAMES[:3]]))
    assert send(flow, EVENT_STREAM) == Receive()
    with pytest.raises(StreamIntegrityError, match="another stream"):
        send(flow, body([stream_frame("b"), *FRAMES]))
    assert len(first) == 3


def test_a_declared_restart_is_delivered_and_followed() -> None:
    """A restart resets the object (a "restart" update) and the new generation is
    delivered from its first frame to its final one."""
    flow, action = new_flow()
    action, first = cut_then_reconnect(flow, action, body([stream_frame("a"), *FRAMES[:3]]))
    send(flow, EVENT_STREAM)
    action, rest = read_all(flow, Receive(), body([stream_frame("b", restart=True), *FRAMES]))
    assert rest[0].kind == "restart" and rest[0].restarted and rest[0].partial is None
    assert [u.event_id for u in rest[1:]] == [f.id for f in FRAMES]
    assert rest[-1].final == SMALL


def test_a_restart_alone_is_not_progress() -> None:
    """A restart that applies no frame does not reset the retry count; the next request,
    with nothing applied, asks for the stream from the start."""
    flow, action = new_flow(Retry(initial_delay=1, jitter="none"))
    action, _ = cut_then_reconnect(flow, action, body([stream_frame("a"), *FRAMES[:1]]))
    send(flow, EVENT_STREAM)
    action, _ = read_all(flow, Receive(), body([stream_frame("b", restart=True)]))
    assert send(flow, b"") == Sleep(2.0)  # the second attempt without progress
    assert "Last-Event-ID" not in send(flow, None).headers


def test_a_compatible_response_fails_at_once() -> None:
    """A compatible-profile body (unnamed frames, no stream frame) is refused at once
    rather than ignored and retried (each retry would run the model again)."""
    encoder = ProfileEncoder(profile="compatible")
    frames = [f for item in stream(['{"title": "Ro', 'bot"}']).events() for f in encoder.feed(item)]
    flow, _ = new_flow()
    send(flow, EVENT_STREAM)
    with pytest.raises(SSEError, match="compatible profile"):
        send(flow, body(frames))


def test_retry_options_are_checked() -> None:
    """Invalid policies are refused."""
    with pytest.raises(ValueError):
        Retry(max_retries=-1)
    with pytest.raises(ValueError):
        Retry(backoff="random")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Retry(initial_delay=-1)


# ------------------------------------------------------------------------------ drivers


class Server:
    """An httpx handler that serves FRAMES from the request's Last-Event-ID and cuts each
    response after `budgets[n]` bytes (a read error); records the requests."""

    def __init__(self, budgets: list[int | None]) -> None:
        self.budgets = budgets
        self.requests: list[httpx.Request] = []

    def _body(self, request: httpx.Request) -> tuple[bytes, int | None]:
        self.requests.append(request)
        after = int(request.headers.get("last-event-id") or 0)
        data = body([f for f in FRAMES if int(f.id or 0) > after])
        n = len(self.requests) - 1
        return data, self.budgets[n] if n < len(self.budgets) else None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        data, budget = self._body(request)
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=_Cut(data, budget)
        )

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        data, budget = self._body(request)
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=_Cut(data, budget)
        )


class _Cut(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __init__(self, data: bytes, budget: int | None) -> None:
        self.data, self.budget = data, budget

    def _chunks(self) -> Iterator[bytes]:
        data = self.data if self.budget is None else self.data[: self.budget]
        for i in range(0, len(data), 50):
            yield data[i : i + 50]
        if self.budget is not None:
            raise httpx.ReadError("connection reset")

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks():
            yield chunk


FAST = Retry(initial_delay=0, max_retries=3)
BUDGETS: list[int | None] = [120, 300, 90, 500]


def test_connect_resumes_over_cut_responses() -> None:
    """The sync driver reconnects after each cut, with Last-Event-ID, and finishes."""
    server = Server(BUDGETS)
    with httpx.Client(transport=httpx.MockTransport(server), base_url="http://test") as client:
        with connect(client, "/s", retry=FAST) as updates:
            seen = list(updates)
            assert updates.final == SMALL
    assert [u.event_id for u in seen] == [f.id for f in FRAMES]
    resumed = [r.headers.get("last-event-id") for r in server.requests]
    assert resumed[0] is None and all(resumed[1:])
    assert len(server.requests) == len(BUDGETS) + 1


@pytest.mark.anyio
async def test_aconnect_resumes_over_cut_responses() -> None:
    """The async driver behaves like the sync one."""
    server = Server(BUDGETS)
    transport = httpx.MockTransport(server.handle_async)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        async with aconnect(client, "/s", retry=FAST) as updates:
            seen = [u async for u in updates]
            assert updates.final == SMALL
            assert updates.last_event_id == FRAMES[-1].id
    assert [u.event_id for u in seen] == [f.id for f in FRAMES]
    assert len(server.requests) == len(BUDGETS) + 1


def test_a_client_stream_is_iterated_once() -> None:
    """Iterating a ClientStream twice is a usage error."""
    from streamdantic import UsageError

    server = Server([])
    with httpx.Client(transport=httpx.MockTransport(server), base_url="http://test") as client:
        updates = connect(client, "/s")
        list(updates)
        with pytest.raises(UsageError):
            iter(updates)


def test_updates_before_an_error_frame_are_delivered_first() -> None:
    """Frames that arrived with the error frame are delivered before it raises."""
    encoder = ProfileEncoder()
    outputs = stream(['{"a": "x', "y"]).events()
    frames = [f for item in (next(outputs), next(outputs)) for f in encoder.feed(item)]
    outputs.close()  # before the end: the object never completes
    frames += encoder.close(ProviderError("overloaded"))
    flow, _ = new_flow()
    action = send(flow, EVENT_STREAM)
    action = send(flow, body(frames))
    assert isinstance(action, Deliver)
    assert action.updates[-1].partial == {"a": "xy"}
    with pytest.raises(ProviderError, match="overloaded"):
        send(flow, None)
