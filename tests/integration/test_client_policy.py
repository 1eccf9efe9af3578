"""The client's retry policy against a real misbehaving uvicorn server: Retry-After,
heartbeats without frames, silence, one frame per connection, bad gzip, huge ids. Each test
runs the sync client and the async one (asyncio and trio). Waits are asserted on the client's
own record of them (`ClientStream.sleeps`), never by timing."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from streamdantic import ReconnectError, SSEError, StreamdanticError, stream
from streamdantic.sse import ClientUpdate, ProfileEncoder, Retry, aconnect, connect, encode

from .apps import Answer, Misbehaving
from .servers import serve_in_thread

# httpx's body iterators are async generators nested three deep: a response dropped
# mid-body (a deadline, an integrity error) leaves the inner ones to the garbage collector,
# and trio warns about each (encode/httpx#3686; the fix, encode/httpx#3777, is not released;
# httpcore's own generators likewise).
# Closing the response releases the connection all the same.
HTTPX_TRIO_GENERATORS = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <async_generator object "
    "(Response.aiter_raw|AsyncResponseStream.__aiter__|BoundAsyncStream.__aiter__"
    "|AsyncHTTP11Connection._receive_response_body|HTTP11ConnectionByteStream.__aiter__"
    "|PoolByteStream.__aiter__)"
    ":pytest.PytestUnraisableExceptionWarning"
)
pytestmark = [pytest.mark.integration, pytest.mark.timeout(60), HTTPX_TRIO_GENERATORS]

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "fixtures" / "documents" / "small.json").read_text("utf-8")
DOCUMENT = json.loads(TEXT)


def _frames() -> list[bytes]:
    encoder = ProfileEncoder()
    chunks = [TEXT[i : i + 7] for i in range(0, len(TEXT), 7)]
    events = [f for item in stream(chunks).events() for f in encoder.feed(item)]
    return [encode(f) for f in events + encoder.close()]


FRAMES = _frames()  # each frame's bytes; frame i has id i + 1
EVENT_STREAM = ((b"content-type", b"text/event-stream"),)


def frames_after(last: str) -> tuple[bytes, ...]:
    return tuple(FRAMES[int(last or 0) :])


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Misbehaving, str]]:
    app = Misbehaving()
    with serve_in_thread(app) as url:
        yield app, url


@pytest.fixture
def misbehaving(server: tuple[Misbehaving, str]) -> Misbehaving:
    app, _ = server
    app.requests.clear()
    return app


@dataclass
class Outcome:
    updates: list[ClientUpdate[Any]] = field(default_factory=list)
    error: BaseException | None = None
    final: Any = None
    sleeps: tuple[float, ...] = ()


MODES = ["sync", "asyncio", "trio"]


def run(mode: str, url: str, retry: Retry, library: Any = httpx) -> Outcome:
    """Stream /s with `connect` (mode "sync") or `aconnect` on the given anyio backend, over
    a client of `library` (httpx, or httpx2)."""
    outcome = Outcome()
    if mode == "sync":
        with library.Client(base_url=url) as http:
            updates = connect(http, "/s", retry=retry)
            try:
                with updates:
                    outcome.updates.extend(updates)
            except Exception as exc:
                outcome.error = exc
            outcome.final = updates.final
            outcome.sleeps = tuple(s.seconds for s in updates.sleeps)
        return outcome

    async def main() -> None:
        async with library.AsyncClient(base_url=url) as http:
            updates = aconnect(http, "/s", retry=retry)
            try:
                async with updates:
                    async for update in updates:
                        outcome.updates.append(update)
            except Exception as exc:
                outcome.error = exc
            outcome.final = updates.final
            outcome.sleeps = tuple(s.seconds for s in updates.sleeps)

    anyio.run(main, backend=mode)
    return outcome


FAST = Retry(initial_delay=0.01, max_delay=0.05, jitter="none")


@pytest.mark.parametrize("mode", MODES)
def test_429_retry_after_seconds_is_waited(
    misbehaving: Misbehaving, server: Any, mode: str
) -> None:
    """429 with Retry-After: 1, then the stream: the client waits at least 1 s (its own
    record of the wait), then delivers the object."""
    misbehaving.script = lambda n, last: (
        Answer(429, ((b"retry-after", b"1"),)) if n == 0 else Answer(body=frames_after(last))
    )
    outcome = run(mode, server[1], FAST)
    assert outcome.error is None
    assert outcome.final == DOCUMENT
    assert len(misbehaving.requests) == 2
    assert outcome.sleeps == (1.0,)  # Retry-After, over the backoff's 0.01 s


@pytest.mark.parametrize("mode", MODES)
def test_503_retry_after_date_is_waited(misbehaving: Misbehaving, server: Any, mode: str) -> None:
    """503 with an HTTP-date Retry-After two seconds ahead: the client waits at least 2 s
    from the response's Date (uvicorn's), then delivers the object."""
    when = email.utils.formatdate(time.time() + 2, usegmt=True).encode()
    misbehaving.script = lambda n, last: (
        Answer(503, ((b"retry-after", when),)) if n == 0 else Answer(body=frames_after(last))
    )
    outcome = run(mode, server[1], FAST)
    assert outcome.error is None and outcome.final == DOCUMENT
    assert len(outcome.sleeps) == 1 and outcome.sleeps[0] >= 2.0


@pytest.mark.parametrize("mode", MODES)
def test_heartbeats_alone_end_at_the_deadline(
    misbehaving: Misbehaving, server: Any, mode: str
) -> None:
    """A server that sends only heartbeats (never a frame) keeps the connection alive but
    cannot hold the client past its deadline: ReconnectError("deadline"), one request."""
    misbehaving.script = lambda n, last: Answer(end="heartbeats", pause=0.02)
    outcome = run(mode, server[1], Retry(deadline=1.0, idle_timeout=30))
    assert isinstance(outcome.error, ReconnectError), outcome.error
    assert outcome.error.reason == "deadline"
    assert "deadline=1.0" in str(outcome.error)
    assert len(misbehaving.requests) == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_silent_server_trips_the_idle_timeout(
    misbehaving: Misbehaving, server: Any, mode: str
) -> None:
    """Headers then silence: each connection is dropped after idle_timeout and retried;
    after max_retries the client gives up with the read timeout as the cause."""
    misbehaving.script = lambda n, last: Answer(end="idle")
    retry = Retry(idle_timeout=0.2, max_retries=2, initial_delay=0, jitter="none")
    outcome = run(mode, server[1], retry)
    assert isinstance(outcome.error, ReconnectError), outcome.error
    assert outcome.error.reason == "attempts"
    assert isinstance(outcome.error.__cause__, httpx.ReadTimeout)
    assert len(misbehaving.requests) == 3


@pytest.mark.parametrize("mode", MODES)
def test_an_httpx2_client_gets_the_same_timeouts_and_retries(
    misbehaving: Misbehaving, server: Any, mode: str
) -> None:
    """httpx2 (the fork the openai SDK and starlette's TestClient use when it is installed):
    the client's own Timeout class and errors are used, so a silent server is retried and
    given up on exactly as with httpx (an httpx.Timeout made httpx2 refuse every request,
    and its errors escaped the retries)."""
    httpx2 = pytest.importorskip("httpx2")
    misbehaving.script = lambda n, last: Answer(end="idle")
    retry = Retry(idle_timeout=0.2, max_retries=2, initial_delay=0, jitter="none")
    outcome = run(mode, server[1], retry, library=httpx2)
    assert isinstance(outcome.error, ReconnectError), outcome.error
    assert outcome.error.reason == "attempts"
    assert isinstance(outcome.error.__cause__, httpx2.ReadTimeout)
    assert len(misbehaving.requests) == 3


@pytest.mark.parametrize("mode", MODES)
def test_a_silent_server_fails_at_once_with_on_idle_fail(
    misbehaving: Misbehaving, server: Any, mode: str
) -> None:
    """With on_idle="fail", the first silent connection ends the stream."""
    misbehaving.script = lambda n, last: Answer(end="idle")
    outcome = run(mode, server[1], Retry(idle_timeout=0.2, on_idle="fail"))
    assert isinstance(outcome.error, ReconnectError) and outcome.error.reason == "idle"
    assert len(misbehaving.requests) == 1


@pytest.mark.parametrize("mode", MODES)
def test_one_frame_per_connection_is_bounded(
    misbehaving: Misbehaving, server: Any, mode: str
) -> None:
    """A server that ends every response after one frame (each connection progresses, so
    the attempt count never grows) gets the first request and max_reconnects_per_minute
    reconnections, then ReconnectError("budget") saying where to resume."""
    assert len(FRAMES) > 8
    misbehaving.script = lambda n, last: Answer(body=frames_after(last)[:1])
    retry = Retry(initial_delay=0.01, jitter="none", max_reconnects_per_minute=6)
    outcome = run(mode, server[1], retry)
    assert isinstance(outcome.error, ReconnectError), outcome.error
    assert outcome.error.reason == "budget"
    assert "max_reconnects_per_minute=6" in str(outcome.error)
    assert len(misbehaving.requests) == 7
    assert outcome.error.last_event_id == "7"
    assert [u.event_id for u in outcome.updates] == [str(i) for i in range(1, 8)]


@pytest.mark.parametrize("mode", MODES)
def test_a_bad_gzip_body_is_retried_then_wrapped(
    misbehaving: Misbehaving, server: Any, mode: str
) -> None:
    """Content-Encoding: gzip over garbage is retried like a broken connection, and the
    give-up is a ReconnectError chained to httpx's DecodingError."""
    headers = (*EVENT_STREAM, (b"content-encoding", b"gzip"))
    misbehaving.script = lambda n, last: Answer(headers=headers, body=(b"not gzip at all",))
    outcome = run(mode, server[1], Retry(max_retries=2, initial_delay=0))
    assert isinstance(outcome.error, ReconnectError), outcome.error
    assert isinstance(outcome.error.__cause__, httpx.DecodingError)
    assert len(misbehaving.requests) == 3


@pytest.mark.parametrize("mode", MODES)
def test_a_frame_id_of_5000_digits_is_an_sse_error(
    misbehaving: Misbehaving, server: Any, mode: str
) -> None:
    """A frame id longer than int() converts raises SSEError, not ValueError."""
    frame = b"event: delta\nid: " + b"1" * 5000 + b'\ndata: {"v": 1}\n\n'
    misbehaving.script = lambda n, last: Answer(body=(frame,))
    outcome = run(mode, server[1], FAST)
    assert isinstance(outcome.error, SSEError), outcome.error
    assert isinstance(outcome.error, StreamdanticError)


@pytest.mark.parametrize("mode", MODES)
def test_a_status_that_is_not_retried_says_why(
    misbehaving: Misbehaving, server: Any, mode: str
) -> None:
    """404 is final: ReconnectError("status") with the status, one request."""
    misbehaving.script = lambda n, last: Answer(404, ((b"content-type", b"text/plain"),))
    outcome = run(mode, server[1], FAST)
    assert isinstance(outcome.error, ReconnectError) and outcome.error.reason == "status"
    assert outcome.error.status_code == 404
    assert len(misbehaving.requests) == 1
