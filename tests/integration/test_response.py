"""EventStreamResponse on a real uvicorn: cancellation on disconnect, heartbeats, frozen
clients, sync sources, and the async client on both anyio backends."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from streamdantic import astream, stream
from streamdantic.parts import ReasoningDelta
from streamdantic.sse import MemoryStore, aconnect, connect
from streamdantic.starlette import EventStreamResponse

from .apps import DOCUMENT, pieces, resumable_app
from .servers import CuttingProxy, serve_in_thread, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


class Probe:
    """What an upstream generator records about its own end."""

    def __init__(self) -> None:
        self.ended = threading.Event()
        self.how = ""
        self.at = 0.0

    def record(self, how: str) -> None:
        self.how, self.at = how, time.monotonic()
        self.ended.set()


def finished(store: MemoryStore, stream_id: str) -> bool:
    frames = anyio.run(store.read, stream_id)  # no waiting: safe from this thread
    return frames is not None and frames.done


def app_for(response: Any) -> Starlette:
    async def endpoint(request: Request) -> EventStreamResponse:
        return response()  # type: ignore[no-any-return]

    return Starlette(routes=[Route("/", endpoint)])


def test_a_disconnect_cancels_the_upstream_within_a_second() -> None:
    """When the client goes away, the upstream generator is cancelled in under a second."""
    probe = Probe()

    async def endless() -> AsyncIterator[str]:
        try:
            yield '{"text": "'
            while True:
                await anyio.sleep(0.01)
                yield "word "
        except BaseException as exc:
            probe.record(type(exc).__name__)
            raise

    app = app_for(lambda: EventStreamResponse(astream(endless())))
    with serve_in_thread(app) as url, httpx.Client(timeout=5) as client:
        with client.stream("GET", url) as response:
            assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["x-accel-buffering"] == "no"
            received = b""
            chunks = response.iter_bytes()
            while b"\n\nid: 1\n" not in received:  # the first delta frame: the upstream runs
                received += next(chunks)
            assert received.startswith(b"event: stream\n")
            closed_at = time.monotonic()
        assert probe.ended.wait(5)
    assert probe.how in ("CancelledError", "GeneratorExit")
    assert probe.at - closed_at < 1.0


def test_heartbeats_keep_an_idle_stream_alive() -> None:
    """While the upstream is idle, comment frames go out every `heartbeat` seconds."""

    async def idle() -> AsyncIterator[str]:
        yield '{"a": 1'
        await anyio.sleep(1.0)
        yield "}"

    app = app_for(lambda: EventStreamResponse(astream(idle()), heartbeat=0.2))
    with serve_in_thread(app) as url:
        body = httpx.get(url, timeout=5).content
    assert body.count(b":\n\n") >= 3
    assert b"event: final\n" in body


def test_a_frozen_client_hits_the_send_timeout() -> None:
    """A client that stops reading is dropped after `send_timeout`, and the upstream is
    cancelled."""
    probe = Probe()

    async def flood() -> AsyncIterator[ReasoningDelta]:
        try:
            while True:
                yield ReasoningDelta("x" * 65536)
        except BaseException as exc:
            probe.record(type(exc).__name__)
            raise

    app = app_for(lambda: EventStreamResponse(flood(), send_timeout=0.3, heartbeat=None))
    with serve_in_thread(app) as url:
        port = httpx.URL(url).port
        assert port is not None
        with socket.socket() as frozen:
            frozen.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            frozen.connect(("127.0.0.1", port))
            frozen.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            started = time.monotonic()
            assert probe.ended.wait(10)  # and never reads a byte
    assert probe.at - started < 5


def test_a_sync_source_is_iterated_in_a_thread() -> None:
    """A sync stream (or iterable of updates) is served like an async one."""

    def updates() -> Iterator[Any]:
        yield from stream(pieces()).events()

    app = app_for(lambda: EventStreamResponse(updates()))
    with serve_in_thread(app) as url, httpx.Client(timeout=5) as client:
        final = list(connect(client, url))[-1]
    assert final.done and final.final == DOCUMENT


def test_a_late_joiner_resumes_from_a_snapshot_after_frames_were_dropped() -> None:
    """When the store dropped the early frames, a client starts from the latest snapshot."""
    store = MemoryStore(max_frames=40)
    with serve_in_thread(resumable_app(store, delay=0, snapshot_every=15)) as server:
        stream_id = httpx.post(server + "/streams").json()["stream_id"]
        with CuttingProxy([server], lambda n: None) as proxy, httpx.Client() as client:
            # The generation does not wait for readers: let it finish.
            wait_until(lambda: finished(store, stream_id), 10, "the generation to end")
            updates = list(connect(client, f"{proxy.url}/streams/{stream_id}"))
    assert updates[0].kind == "snapshot"
    assert int(updates[0].event_id) > 40
    assert updates[-1].final == DOCUMENT


@pytest.mark.anyio
async def test_the_async_client_follows_a_stream() -> None:
    """aconnect rebuilds the same object as connect, on asyncio and trio."""
    with serve_in_thread(resumable_app(MemoryStore(), delay=0)) as server:
        async with httpx.AsyncClient(base_url=server, timeout=5) as client:
            answer = await client.post("/streams")
            async with aconnect(client, answer.json()["url"]) as updates:
                seen = [update async for update in updates]
    assert seen[-1].done and seen[-1].final == DOCUMENT
    assert [int(u.event_id) for u in seen] == list(range(1, len(seen) + 1))
