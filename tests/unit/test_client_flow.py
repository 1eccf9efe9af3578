"""The client's sans-IO reconnection flow, and its sync and async drivers over httpx."""

from __future__ import annotations

import email.utils
import json
import random
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from streamdantic import (
    ProviderError,
    ReconnectError,
    SSEError,
    StreamIntegrityError,
    StreamNotResumableError,
    UpdateLike,
    stream,
)
from streamdantic.deltas import ChunkMerger
from streamdantic.sse import (
    ProfileDecoder,
    ProfileEncoder,
    ServerSentEvent,
    aconnect,
    connect,
    encode,
    stream_frame,
)
from streamdantic.sse._client import (
    Connect,
    Deliver,
    Failed,
    Opened,
    Receive,
    Retry,
    Sleep,
    event_flow,
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


@pytest.mark.parametrize(
    "options",
    [
        {"max_retries": -1},
        {"max_retries": 1.5},
        {"max_retries": True},
        {"backoff": "random"},
        {"jitter": "half"},
        {"on_idle": "wait"},
        {"initial_delay": -1},
        {"max_delay": float("inf")},
        {"max_retry_after": float("nan")},
        {"deadline": 0},
        {"deadline": -5},
        {"idle_timeout": 0},
        {"idle_timeout": "45"},
        {"max_reconnects_per_minute": 0},
        {"seed": "x"},
    ],
    ids=repr,
)
def test_retry_options_are_checked(options: dict[str, Any]) -> None:
    """Invalid policies are refused, naming the option."""
    name = next(iter(options))
    with pytest.raises(ValueError, match=rf"Retry\({name}="):
        Retry(**options)


def test_retry_is_a_small_frozen_value() -> None:
    """Retry compares by value and cannot be changed."""
    assert Retry(seed=1) == Retry(seed=1)
    with pytest.raises(AttributeError):
        Retry().deadline = 5  # type: ignore[misc]


# ------------------------------------------------------------------ policy arithmetic


@pytest.mark.parametrize(
    ("jitter", "draw", "expected"),
    [
        ("none", 0.0, 4.0),
        ("none", 0.7, 4.0),
        ("full", 0.0, 0.0),
        ("full", 0.25, 1.0),
        ("full", 1.0, 4.0),
        ("equal", 0.0, 2.0),
        ("equal", 0.5, 3.0),
        ("equal", 1.0, 4.0),
    ],
)
def test_jitter_places_the_delay_in_its_range(jitter: Any, draw: float, expected: float) -> None:
    """Attempt 4 of 0.5 s doubling is 4 s; full jitter draws in [0, 4], equal in [2, 4]."""
    assert Retry(jitter=jitter).delay(4, draw=draw) == expected


def test_huge_attempts_and_bases_stay_finite() -> None:
    """No overflow: a huge attempt number or server retry: is capped at max_delay."""
    assert Retry(jitter="none").delay(10_000) == 30.0
    assert Retry(jitter="none").delay(3, base=1e300) == 30.0


def failures(flow: Flow, action: Any, count: int, clock: Clock | None = None) -> list[float]:
    """Answer `count` Connects with a refused connection; return the Sleeps' seconds."""
    waits = []
    for _ in range(count):
        assert isinstance(action, Connect)
        action = send(flow, Failed(httpx.ConnectError("refused")))
        assert isinstance(action, Sleep)
        waits.append(action.seconds)
        if clock is not None:
            clock.now += action.seconds
        action = send(flow, None)
    return waits


@pytest.mark.parametrize("jitter", ["full", "equal"])
def test_jittered_waits_follow_the_seed(jitter: Any) -> None:
    """The waits are the seeded random draws placed in each attempt's range: the same seed,
    the same waits; the ranges are those of the backoff."""
    retry = Retry(jitter=jitter, seed=7, max_retries=5)
    flow, action = new_flow(retry)
    waits = failures(flow, action, 5)
    rng = random.Random(7)
    assert waits == [retry.delay(n, draw=rng.random()) for n in range(1, 6)]
    for n, wait in enumerate(waits, 1):
        ceiling = Retry(jitter="none").delay(n)
        assert (0 if jitter == "full" else ceiling / 2) <= wait <= ceiling
    assert len(set(waits)) == 5  # jittered: no two alike
    assert failures(*new_flow(retry), 5) == waits


def opened(status: int, retry_after: str | None = None, date: str | None = None) -> Opened:
    return Opened(status, "application/json", retry_after=retry_after, date=date)


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_are_waited(status: int) -> None:
    """A 429 or 503 with Retry-After: 7 waits 7 s, more than the backoff's 0.5 s."""
    flow, _ = new_flow()
    assert send(flow, opened(status, "7")) == Sleep(7.0)


def test_a_short_retry_after_keeps_the_backoff() -> None:
    """Retry-After is a floor: the backoff's longer delay still applies."""
    flow, action = new_flow(Retry(jitter="none", initial_delay=3))
    assert send(flow, opened(429, "1")) == Sleep(3.0)


def test_a_retry_after_date_is_measured_against_the_response_date() -> None:
    """An HTTP-date Retry-After counts from the response's Date (not the local clock)."""
    flow, _ = new_flow(clock=Clock(0.0))  # a local clock decades off
    sent = opened(503, "Wed, 21 Oct 2026 07:28:30 GMT", date="Wed, 21 Oct 2026 07:28:00 GMT")
    assert send(flow, sent) == Sleep(30.0)


def test_a_retry_after_date_without_a_date_uses_the_wall_clock() -> None:
    """Without a Date header, an HTTP-date counts from the wall clock."""
    when = email.utils.parsedate_to_datetime("Wed, 21 Oct 2026 07:28:30 GMT").timestamp()
    flow, _ = new_flow(clock=Clock(when - 12))
    assert send(flow, opened(429, "Wed, 21 Oct 2026 07:28:30 GMT")) == Sleep(12.0)


@pytest.mark.parametrize("value", ["soon", "-3", "1.5", "", "Wed, 99 Foo 2026"])
def test_an_unparsable_retry_after_is_ignored(value: str) -> None:
    """A Retry-After that is neither delay-seconds nor an HTTP-date leaves the backoff."""
    flow, _ = new_flow()
    assert send(flow, opened(429, value)) == Sleep(0.5)


def test_retry_after_is_read_only_on_429_and_503() -> None:
    """A 500's Retry-After is ignored (RFC 9110 defines it for 503, RFC 6585 for 429)."""
    flow, _ = new_flow()
    assert send(flow, opened(500, "9")) == Sleep(0.5)


def test_a_retry_after_over_the_maximum_gives_up_at_once() -> None:
    """Retry-After above max_retry_after raises ReconnectError("retry_after") instead of
    hanging."""
    flow, _ = new_flow(Retry(max_retry_after=60))
    with pytest.raises(ReconnectError, match="Retry-After: 3600 s") as caught:
        send(flow, opened(429, "3600"))
    assert caught.value.reason == "retry_after"
    assert (caught.value.status_code, caught.value.retry_after) == (429, 3600.0)


def test_a_huge_retry_after_is_not_a_huge_int() -> None:
    """Ten thousand digits of Retry-After give up like any long wait (no int overflow)."""
    flow, _ = new_flow()
    with pytest.raises(ReconnectError) as caught:
        send(flow, opened(503, "9" * 10_000))
    assert caught.value.reason == "retry_after"


def test_429_is_retried_and_its_attempts_are_counted() -> None:
    """429 without Retry-After backs off like a 5xx; max_retries of them give up with the
    status."""
    flow, _ = new_flow(Retry(jitter="none", max_retries=2))
    assert send(flow, opened(429)) == Sleep(0.5)
    send(flow, None)
    assert send(flow, opened(429)) == Sleep(1.0)
    send(flow, None)
    with pytest.raises(ReconnectError, match="gave up after 2") as caught:
        send(flow, opened(429))
    assert (caught.value.reason, caught.value.status_code, caught.value.requests) == (
        "attempts",
        429,
        3,
    )


def test_408_is_retried() -> None:
    """408 Request Timeout is retried."""
    flow, _ = new_flow()
    assert send(flow, opened(408)) == Sleep(0.5)


@pytest.mark.parametrize("status", [301, 400, 404, 410])
def test_a_status_that_is_not_retried_says_so(status: int) -> None:
    """Other statuses raise ReconnectError("status") with the status and what to check."""
    flow, _ = new_flow()
    with pytest.raises(ReconnectError, match="check the URL") as caught:
        send(flow, opened(status))
    assert (caught.value.reason, caught.value.status_code) == ("status", status)


def test_the_deadline_bounds_each_requests_timeout() -> None:
    """Each Connect's timeout is the idle timeout, or the time left when that is less."""
    clock = Clock()
    flow, action = new_flow(Retry(jitter="none", deadline=100, idle_timeout=45), clock=clock)
    assert action.timeout == 45
    clock.now += 80
    assert send(flow, Failed(httpx.ConnectError("x"))) == Sleep(0.5)
    clock.now += 0.5
    assert send(flow, None).timeout == 19.5


HEARTBEAT = b": ping\n\n"


def test_heartbeats_alone_end_at_the_deadline() -> None:
    """A server that sends only heartbeats holds the client until the deadline, then
    ReconnectError("deadline")."""
    clock = Clock()
    flow, _ = new_flow(Retry(deadline=60), clock=clock)
    assert send(flow, EVENT_STREAM) == Receive()
    for _ in range(3):
        clock.now += 15
        assert send(flow, HEARTBEAT) == Receive()
    clock.now += 15
    with pytest.raises(ReconnectError, match=r"within Retry\(deadline=60\)") as caught:
        send(flow, HEARTBEAT)
    assert caught.value.reason == "deadline"


def test_a_wait_past_the_deadline_gives_up_at_once() -> None:
    """A backoff that would end after the deadline gives up now, without sleeping."""
    clock = Clock()
    flow, _ = new_flow(Retry(jitter="none", deadline=10, initial_delay=4), clock=clock)
    assert send(flow, Failed(httpx.ConnectError("x"))) == Sleep(4.0)
    clock.now += 4
    send(flow, None)
    with pytest.raises(ReconnectError) as caught:  # 4 + 8 > 10
        send(flow, Failed(httpx.ConnectError("x")))
    assert caught.value.reason == "deadline"
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_a_read_timeout_set_by_the_deadline_is_the_deadline() -> None:
    """A read timeout shortened to the deadline reports the deadline, not idleness."""
    clock = Clock()
    flow, action = new_flow(Retry(deadline=10, idle_timeout=45, on_idle="fail"), clock=clock)
    assert action.timeout == 10
    send(flow, EVENT_STREAM)
    clock.now += 9.999  # a timer that fires a hair early
    with pytest.raises(ReconnectError) as caught:
        send(flow, Failed(httpx.ReadTimeout("timed out"), idle=True))
    assert caught.value.reason == "deadline"


def test_an_idle_connection_reconnects_by_default() -> None:
    """A read timeout (idle) is a failure like any other: back off and resume."""
    flow, _ = new_flow()
    send(flow, EVENT_STREAM)
    assert send(flow, Failed(httpx.ReadTimeout("idle"), idle=True)) == Sleep(0.5)


def test_an_idle_connection_can_fail() -> None:
    """With on_idle="fail", an idle connection raises ReconnectError("idle")."""
    flow, _ = new_flow(Retry(on_idle="fail"))
    send(flow, EVENT_STREAM)
    with pytest.raises(ReconnectError, match="idle_timeout=45") as caught:
        send(flow, Failed(httpx.ReadTimeout("idle"), idle=True))
    assert caught.value.reason == "idle"


def one_frame_per_connection(flow: Flow, action: Any, clock: Clock) -> int:
    """Serve each Connect the stream from its Last-Event-ID, one frame and a cut each time,
    a second apart; return how many requests were made when the flow raised."""
    requests = 0
    while True:
        assert isinstance(action, Connect)
        requests += 1
        after = int(action.headers.get("Last-Event-ID", b"0"))
        assert send(flow, EVENT_STREAM) == Receive()
        action, updates = read_all(flow, Receive(), body(FRAMES[after : after + 1]))
        assert [u.event_id for u in updates] == [FRAMES[after].id]
        clock.now += 1
        action = send(flow, b"")  # cut after the frame
        assert isinstance(action, Sleep)
        clock.now += action.seconds
        action = send(flow, None)


def test_one_frame_per_connection_cannot_storm() -> None:
    """Every connection makes progress, so the attempt count never grows; the budget
    stops the reconnections: the first request and `cap` reconnections, then
    ReconnectError("budget")."""
    assert len(FRAMES) > 12
    clock = Clock()
    flow, action = new_flow(Retry(max_reconnects_per_minute=5), clock=clock)
    with pytest.raises(ReconnectError, match=r"5 reconnections within 60 s") as caught:
        one_frame_per_connection(flow, action, clock)
    assert caught.value.reason == "budget"
    assert caught.value.requests == 6
    assert caught.value.last_event_id == "6"


@pytest.mark.parametrize(("pause", "gives_up"), [(58, True), (61, False)])
def test_the_budget_is_a_rolling_minute(pause: float, gives_up: bool) -> None:
    """With a budget of 2, a third failure within 60 s of the two reconnections gives up;
    once they are more than 60 s old, the client backs off again."""
    clock = Clock()
    retry = Retry(jitter="none", max_reconnects_per_minute=2, max_retries=100)
    flow, action = new_flow(retry, clock=clock)
    assert failures(flow, action, 2, clock) == [0.5, 1.0]  # reconnections at +0.5 and +1.5 s
    clock.now += pause
    if gives_up:
        with pytest.raises(ReconnectError) as caught:
            send(flow, Failed(httpx.ConnectError("x")))
        assert caught.value.reason == "budget"
    else:
        assert send(flow, Failed(httpx.ConnectError("x"))) == Sleep(2.0)


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


# ------------------------------------------------------- only StreamdanticError escapes


def test_a_frame_id_of_thousands_of_digits_is_an_sse_error() -> None:
    """An id over int()'s 4300 digits raises SSEError (it was a bare ValueError)."""
    flow, _ = new_flow()
    send(flow, EVENT_STREAM)
    with pytest.raises(SSEError, match="id of 5000 digits"):
        send(flow, b"event: delta\nid: " + b"1" * 5000 + b'\ndata: {"v": 1}\n\n')


def test_a_retry_field_of_thousands_of_digits_is_capped() -> None:
    """A retry: of 4000 digits (an int, but no float) sets the delay to max_delay."""
    flow, _ = new_flow()
    send(flow, EVENT_STREAM)
    assert send(flow, b"retry: " + b"9" * 4000 + b"\n\n") == Receive()
    assert send(flow, b"") == Sleep(30.0)


def test_a_deeply_nested_409_detail_is_read_as_text() -> None:
    """A 409 body too deep for json (RecursionError) still gives StreamNotResumableError."""
    flow, action = new_flow()
    cut_then_reconnect(flow, action, body([stream_frame("a"), *FRAMES[:1]]))
    send(flow, Opened(409, "application/json"))
    with pytest.raises(StreamNotResumableError, match=r"\(409\): \[\[\["):
        send(flow, b"[" * 4096)  # the detail's limit: read no more


class _BrokenDecoder(ProfileDecoder[Any]):
    """A decoder with a bug: a foreign exception on its second frame."""

    def feed(self, event: ServerSentEvent, /) -> Any:
        if event.id == "2":
            raise KeyError("bug")
        return super().feed(event)


def test_a_foreign_exception_from_the_decoder_becomes_an_sse_error() -> None:
    """Whatever a decoder raises, the flow raises an SSEError chained to it, after
    delivering the updates before it."""
    flow = event_flow(_BrokenDecoder(), EXACT)
    next(flow)
    send(flow, EVENT_STREAM)
    action = send(flow, body(FRAMES[:3]))
    assert isinstance(action, Deliver) and len(action.updates) == 1
    with pytest.raises(SSEError, match="KeyError") as caught:
        send(flow, None)
    assert isinstance(caught.value.__cause__, KeyError)


# ------------------------------------------------- one shape for local and remote updates


def render(update: UpdateLike[Any], merger: ChunkMerger) -> dict[str, Any]:
    """What a UI does with an update, written once for `stream()` and `connect()`: show
    the partial, forward the deltas (here into a merger standing for the browser), and on
    the last one show the final object, finish reason and usage."""
    for chunk in update.deltas:
        merger.apply(chunk)
    return {
        "partial": update.partial,
        "done": update.done,
        "final": update.final if update.done else None,
        "finish_reason": update.finish_reason if update.done else None,
        "usage": update.usage,
        "parts": [type(p).__name__ for p in update.parts],
        "events": len(update.events) > 0 or update.done,
    }


def test_a_local_and_a_remote_stream_render_alike() -> None:
    """One render function takes `Update`s from stream() and `ClientUpdate`s from
    connect(): both satisfy UpdateLike, end in the same rendering, and their deltas rebuild
    the same object."""
    local_merger, remote_merger = ChunkMerger(), ChunkMerger()
    local = list(stream(split_random(SMALL_TEXT, seed=1, max_size=30)))
    with httpx.Client(transport=httpx.MockTransport(Server([])), base_url="http://test") as client:
        with connect(client, "/s") as updates:
            remote = list(updates)
    assert all(isinstance(u, UpdateLike) for u in [*local, *remote])
    local_views = [render(u, local_merger) for u in local]
    remote_views = [render(u, remote_merger) for u in remote]
    assert local_views == remote_views  # the same frames: the same screens, one by one
    assert local_views[-1]["final"] == SMALL and local_views[-1]["done"]
    assert local_merger.value == remote_merger.value == SMALL
