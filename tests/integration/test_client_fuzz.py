"""Property: whatever a server does, only StreamdanticError comes out of the client, and the
client stops. Hypothesis draws each request's answer (statuses, content types, Retry-After,
valid frames, random bytes, invalid UTF-8, huge ids and retry: values, bad gzip, cut
connections, silence, heartbeats); a real uvicorn serves them to `connect` and `aconnect`."""

from __future__ import annotations

import email.utils
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from streamdantic import StreamdanticError
from streamdantic.sse import Retry

from .apps import HEARTBEAT, Answer, Misbehaving
from .servers import serve_in_thread
from .test_client_policy import DOCUMENT, FRAMES, HTTPX_TRIO_GENERATORS, Outcome, run

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120), HTTPX_TRIO_GENERATORS]

# Fast and bounded: no backoff, Retry-After over half a second gives up instead of waiting, a
# silent connection is dropped after 0.15 s, at most 8 reconnections (the budget), 20 s at
# most in all.
RETRY = Retry(
    max_retries=3,
    initial_delay=0,
    max_delay=0,
    jitter="none",
    max_retry_after=0.5,
    idle_timeout=0.15,
    deadline=20,
    max_reconnects_per_minute=8,
)
MOST_REQUESTS = 1 + 8  # the first, and the budget's reconnections

RESUME = b"<the stream from Last-Event-ID>"
WHOLE = b"".join(FRAMES)
HUGE_ID = b"event: delta\nid: " + b"7" * 5000 + b'\ndata: {"v": 1}\n\n'
HUGE_RETRY = b"retry: " + b"9" * 4000 + b"\n\n"  # an int, but no float
INVALID_UTF8 = b"event: delta\nid: 1\ndata: \xff\xfe{\xc3\n\n"

pieces = st.one_of(
    st.sampled_from(FRAMES),
    st.just(RESUME),
    st.just(WHOLE),
    st.just(HUGE_ID),
    st.just(HUGE_RETRY),
    st.just(INVALID_UTF8),
    st.just(HEARTBEAT),
    st.binary(max_size=80),
    st.sampled_from(FRAMES).map(lambda frame: frame[: len(frame) // 2]),  # half a frame
)
content_types = st.sampled_from(
    [
        b"text/event-stream",
        b"text/event-stream; charset=utf-8",
        b"application/json",
        b"text/html",
        None,
    ]
)
retry_afters = st.one_of(
    st.none(),
    st.sampled_from([b"0", b"1", b"soon", b"-1", b"9" * 5000]),
    st.integers(-5, 5).map(
        lambda s: email.utils.formatdate(1.7e9 + s * 86400 * 365, usegmt=True).encode()
    ),
)


@st.composite
def answers(draw: Any) -> Answer:
    status = draw(st.just(200) | st.sampled_from([200, 204, 301, 404, 409, 429, 500, 503]))
    headers: list[tuple[bytes, bytes]] = []
    content_type = draw(st.just(b"text/event-stream") | content_types)
    if content_type is not None:
        headers.append((b"content-type", content_type))
    retry_after = draw(retry_afters)
    if retry_after is not None:
        headers.append((b"retry-after", retry_after))
    if status == 301:
        headers.append((b"location", b"/elsewhere"))
    if draw(st.integers(0, 3)) == 0:
        headers.append((b"content-encoding", b"gzip"))  # over bytes that are not gzip
    body = tuple(draw(st.lists(pieces, min_size=1, max_size=5)))
    end = draw(st.sampled_from(["close", "close", "cut", "cut", "idle", "heartbeats"]))
    return Answer(status, tuple(headers), body, end, pause=draw(st.sampled_from([0, 0.01])))


def script_of(drawn: list[Answer]) -> Any:
    def script(n: int, last: str) -> Answer:
        answer = drawn[n % len(drawn)]
        body: list[bytes] = []
        for piece in answer.body:
            if piece == RESUME:
                start = int(last) if last.isdigit() and len(last) < 5 else 0
                body.extend(FRAMES[start:])
            else:
                body.append(piece)
        return Answer(
            answer.status,
            answer.headers,
            tuple(body),
            answer.end,
            answer.pause,
            heartbeats=3,  # then silence: the idle timeout ends it
        )

    return script


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Misbehaving, str]]:
    app = Misbehaving()
    with serve_in_thread(app) as url:
        yield app, url


def check(outcome: Outcome, app: Misbehaving) -> None:
    assert outcome.error is None or isinstance(outcome.error, StreamdanticError), repr(
        outcome.error
    )
    assert len(app.requests) <= MOST_REQUESTS
    if outcome.error is None and outcome.final is not None:
        assert outcome.final == DOCUMENT


SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(drawn=st.lists(answers(), min_size=1, max_size=4))
def test_connect_raises_only_streamdantic_errors(
    server: tuple[Misbehaving, str], drawn: list[Answer]
) -> None:
    """`connect` against any sequence of answers ends, with the object or an error of
    ours, after a bounded number of requests."""
    app, url = server
    app.requests.clear()
    app.script = script_of(drawn)
    check(run("sync", url, RETRY), app)


@SETTINGS
@given(
    drawn=st.lists(answers(), min_size=1, max_size=4),
    backend=st.sampled_from(["asyncio", "trio"]),
)
def test_aconnect_raises_only_streamdantic_errors(
    server: tuple[Misbehaving, str], drawn: list[Answer], backend: str
) -> None:
    """`aconnect` (asyncio and trio) likewise."""
    app, url = server
    app.requests.clear()
    app.script = script_of(drawn)
    check(run(backend, url, RETRY), app)
