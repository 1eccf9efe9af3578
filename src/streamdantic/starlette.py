"""Serve streams as Server-Sent Events from Starlette (and FastAPI) apps.

`EventStreamResponse` sends one stream (``astream(...)``, or any iterable of updates and
parts) to one client in the streamdantic SSE profile (or the compatible one), with
heartbeats, a send timeout and prompt cancellation of the generation when the client goes
away; with a store it serves a stored stream from the client's ``Last-Event-ID`` instead.
`ResumableStreams` runs generations in the background, independent of any connection, and
gives the routes to start, follow (and resume, from any server process sharing the store)
and cancel them. Requires the ``starlette`` extra. docs/sse.md describes the protocol and
the concurrency (an ASCII diagram of the response's task group).
"""

# Strategy / invariants
# - One async implementation: sync sources are iterated in worker threads, one item per
#   anyio.to_thread call, so the event loop never blocks (S4.5).
# - The response's body, its watchdog and its disconnect listener race in one task group.
#   The body sends its frames itself: no lock and no timeout scope per send (a flag guards
#   the send side; bytes that arrive while a send waits are queued and go out with the next
#   one). The watchdog enforces the send timeout, flushes what a throttled encoder holds at
#   its deadline and writes heartbeats. A disconnect, a send error or a send timeout
#   cancels the group, so the pending read of the upstream is cancelled at once and the
#   upstream iterator is closed (shielded) before __call__ returns.
# - A background generation writes frames to the store and nothing else; readers (client
#   connections) only read the store. So a generation outlives its clients, and any process
#   sharing the store can serve it.

from __future__ import annotations

import base64
import copy
import hashlib
import inspect
import json
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeVar

import anyio
import anyio.abc
import anyio.lowlevel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message, Receive, Scope, Send

from ._aggregate import AsyncStream, Stream
from ._exceptions import (
    GenerationLostError,
    StoreFullError,
    StoreUnavailableError,
    StreamCancelledError,
    StreamdanticError,
    TooManyGenerationsError,
    UsageError,
)
from ._stream_core import Throttle
from .frontends import FrontendEncoder, FrontendProtocol, frontend_encoder
from .frontends._common import coalesce_updates
from .sse._codec import ServerSentEvent, encode, encode_comment
from .sse._profile import (
    TERMINAL_EVENTS,
    FrameRate,
    ProfileDecoder,
    ProfileEncoder,
    SSEProfile,
    WireVersion,
    _check_profile,
    error_type,
    stream_frame,
)
from .sse._store import MAX_FRAME_ID, Frames, MemoryStore, Store, parse_frame_id

__all__ = ["Action", "Authorize", "EventStreamResponse", "OnResume", "ResumableStreams"]

#: What a source-backed `EventStreamResponse` does with a request that asks to resume.
OnResume = Literal["refuse", "restart"]
_ON_RESUME: Final = ("refuse", "restart")

#: What a request to `ResumableStreams` asks its ``authorize`` hook for: start a stream
#: (``POST``; no stream id yet), read one (``GET``), cancel one (``DELETE``, ``.../cancel``).
Action = Literal["start", "read", "cancel"]
#: ``authorize(request, stream_id, action)``, sync or async: True lets the request through,
#: False answers 403; raising ``HTTPException`` answers with its status instead.
Authorize = Callable[[Request, str | None, Action], bool | Awaitable[bool]]

logger = logging.getLogger("streamdantic")

# §9.2.7 suggests a comment "every 15 seconds or so" against proxies that close idle
# connections; sse-starlette also pings every 15 s.
DEFAULT_HEARTBEAT: Final = 15.0
# A client that takes longer than this to accept one frame is treated as gone (its TCP
# window stayed shut): long enough for a slow mobile link, short enough not to hold an LLM
# request open for nobody.
DEFAULT_SEND_TIMEOUT: Final = 30.0
# The frame rate of a network stream: 12 flushes a second is smooth for a UI (a redraw every
# 83 ms; people read text at a few words a second), and bounds the frames, the bytes and the
# server's work per stream by time instead of by the model's token count (at 100 tokens/s,
# one frame per 8 tokens). Below ~15 a second a frame carries more than its own framing
# (id and data lines, the blank line, the send's chunked framing: ~22 bytes), so the wire
# stays under twice the document at a token rate (20 a second: 2.15x; docs/performance.md).
# The first change and the final state go at once. emit="changes" sends a frame per change
# (what the decoder tests and replay tools want).
DEFAULT_EMIT: Final = Throttle(12)
# Bytes queued for a client before the body waits for the writer: a client that reads
# slower than the model writes holds the generation back instead of the server's memory.
_HIGH_WATER: Final = 64 * 1024
# How long one store read waits before looping (the heartbeat keeps the client meanwhile).
_STORE_POLL: Final = 5.0
# How long a generation retries a store write that fails before it gives up: a Redis
# restart or failover takes seconds; past this the stream is lost (its lease lapses).
DEFAULT_STORE_TIMEOUT: Final = 30.0
_T = TypeVar("_T")

# Generations one ResumableStreams runs at once (each is an upstream LLM request, its
# parser and its frames). 256 is above what one process streams smoothly: at ~50 tokens/s
# each, 256 streams are ~13,000 frames/s to parse, validate and store in one event loop,
# and the OpenAI SDK keeps 100 connections alive per client. 1,000 anonymous POSTs once
# started 1,000 generations; past the cap a POST gets 429 before `start` is called.
DEFAULT_MAX_GENERATIONS: Final = 256
# Retry-After of a 429 (generation cap) or a full store: a slot frees when a generation
# ends (they last 10-120 s), so an immediate retry mostly finds it still full.
_RETRY_FULL: Final = 5
_END: Final = object()
_NOT_RESUMABLE: Final = (
    "this stream cannot be resumed: the endpoint runs its model again for each request (a "
    "source-backed EventStreamResponse), so a reconnection would get another generation. "
    "Request it again without Last-Event-ID to start over, serve it with "
    "streamdantic.starlette.ResumableStreams to make it resumable, or create the response "
    "with on_resume='restart' to let reconnections restart it"
)


# --------------------------------------------------------------------------------- sources


class _Upstream:
    """One source of outputs, async or sync, with a prompt and certain close."""

    def __init__(self, source: Any) -> None:
        self._stream: Any = None
        self._aiter: Any = None
        self._iter: Any = None
        if isinstance(source, AsyncStream):
            self._stream = source
            self._aiter = source.events().__aiter__()
        elif isinstance(source, Stream):
            self._stream = source
            self._iter = iter(source.events())
        elif hasattr(source, "__aiter__"):
            self._aiter = source.__aiter__()
        elif hasattr(source, "__iter__") and not isinstance(source, str | bytes | Mapping):
            self._iter = iter(source)
        else:
            raise TypeError(
                "the source must be astream(...)/stream(...) or an (async) iterable of "
                f"updates and parts, not {type(source).__name__}"
            )

    async def next(self) -> Any:
        """The next output, or _END."""
        if self._aiter is not None:
            try:
                return await self._aiter.__anext__()
            except StopAsyncIteration:
                return _END
        return await anyio.to_thread.run_sync(next, self._iter, _END)

    @property
    def anext(self) -> Callable[[], Awaitable[Any]] | None:
        """The async source's own ``__anext__`` (None for a sync one): the body awaits it
        directly, one coroutine less per output than `next`."""
        return self._aiter.__anext__ if self._aiter is not None else None

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            if self._aiter is not None:
                aclose = getattr(self._aiter, "aclose", None)
                if aclose is not None:
                    await aclose()
                if self._stream is not None:
                    await self._stream.aclose()
            else:
                close = getattr(self._iter, "close", None)
                if close is not None:
                    await anyio.to_thread.run_sync(close)
                if self._stream is not None:
                    await anyio.to_thread.run_sync(self._stream.close)


def _clock() -> Callable[[], float]:
    """`anyio.current_time` for the running loop without its backend lookup on every call:
    the backend's own ``current_time`` (anyio 4.11+ names it on the loop's token)."""
    current_token = getattr(anyio.lowlevel, "current_token", None)
    if current_token is None:  # anyio before 4.11
        return anyio.current_time
    clock: Callable[[], float] = current_token().backend_class.current_time
    return clock


def _report(error: Exception) -> None:
    if error_type(error) == "internal_error":
        logger.error("a streamed generation failed", exc_info=error)


# ------------------------------------------------------------------------------ response


class _Connection:
    """The sending side of one response, without a lock or a timeout scope per send.

    Whoever has bytes to send (the body, or the watchdog) calls `write`: when no send is in
    progress it sends them at once, else it queues them and the send in progress sends
    everything queued, in one ASGI message, before it ends. So the hot path, the body
    sending its frames, is one ``await send(...)``; frames that become ready while a send
    waits (a slow client) coalesce. The watchdog task (`watch`) enforces the send timeout
    on the body's sends, flushes what a throttled encoder holds when its deadline comes,
    and writes a heartbeat comment after `heartbeat` seconds of silence; its own sends are
    bounded by the timeout directly. A send that fails (the client is gone) or that does
    not complete in time (the client is frozen) cancels the response's group.
    """

    def __init__(
        self,
        send: Send,
        timeout: float | None,
        scope: anyio.CancelScope,
        *,
        heartbeat: float | None = None,
        encoder: ProfileEncoder | None = None,
        interval: float | None = None,
    ) -> None:
        self._send = send
        self._timeout = timeout
        self._scope = scope
        self._heartbeat = heartbeat
        self.encoder = encoder
        # The throttled encoder's period, and when it last flushed (what the body and the
        # watchdog saw of it; never later than the encoder's own): a change held from now
        # on is due at `last_flush + interval` at the earliest, so until then the watchdog
        # sleeps on a plain timer that nothing needs to bring forward.
        self._interval = interval
        self.last_flush = float("-inf")
        self._bound: anyio.CancelScope | None = None  # the watchdog's send timeout
        self._queue: list[bytes] = []
        self._queued = 0  # bytes in _queue
        self._sending = False  # a writer is draining the queue
        self._in_send = False  # ...and is inside `send` (the watchdog's concern)
        self._send_started = 0.0
        self._idle: anyio.Event | None = None  # set when the writer stops (waiters only)
        self._drained: anyio.Event | None = None  # set when the queue is taken (waiters only)
        self._wake: anyio.Event | None = None  # set to wake the waiting watchdog
        self._wake_at = float("inf")  # when the waiting watchdog wakes by itself
        self._now = _clock()  # the loop's clock, read per send and per watchdog step
        self.last_send = self._now()

    @property
    def clock(self) -> Callable[[], float]:
        """The loop's clock (`anyio.current_time` without its per-call backend lookup)."""
        return self._now

    async def write(self, body: bytes) -> None:
        """Send `body` now, or after the send in progress (see the class docstring); waits
        while more than `_HIGH_WATER` bytes are queued behind a slow client."""
        self._queue.append(body)
        self._queued += len(body)
        if not self._sending:
            await self._drain()
            return
        while self._sending and self._queued > _HIGH_WATER:
            self._drained = drained = anyio.Event()
            await drained.wait()

    def nudge(self) -> None:
        """Wake the watchdog when the encoder's deadline is earlier than its wake-up."""
        encoder = self.encoder
        if self._wake is not None and encoder is not None and encoder.next_deadline < self._wake_at:
            self._wake.set()

    async def start(self, message: Message) -> None:
        """Send the response's start (before the watchdog runs)."""
        await self._send_one(message)

    async def aclose(self) -> None:
        """Send what is queued and end the body."""
        while self._sending:
            self._idle = idle = anyio.Event()
            await idle.wait()
        if self._queue:
            await self._drain()
        await self._send_one({"type": "http.response.body", "body": b"", "more_body": False})

    async def _drain(self) -> None:
        self._sending = True
        try:
            while queue := self._queue:
                self._queue, self._queued = [], 0
                if self._drained is not None:
                    self._drained.set()
                    self._drained = None
                body = queue[0] if len(queue) == 1 else b"".join(queue)
                await self._send_one(
                    {"type": "http.response.body", "body": body, "more_body": True}
                )
        finally:
            self._sending = False
            if self._idle is not None:
                self._idle.set()
                self._idle = None

    async def _send_one(self, message: Message) -> None:
        self._in_send = True
        self._send_started = self._now()
        try:
            await self._send(message)
        except OSError:  # ASGI 2.4: the client is gone
            self._scope.cancel()
            await anyio.lowlevel.checkpoint()  # raises the cancellation here
        finally:
            self._in_send = False
        self.last_send = self._now()

    async def _write_bounded(self, body: bytes) -> None:
        # The watchdog's own writes: nobody watches it while it sends, so its sends are
        # bounded by the deadline of its one cancel scope (see `watch`), set around each
        # write: a timer per write, not a scope entered and left per write.
        bound = self._bound
        if self._timeout is None or bound is None:
            await self.write(body)
            return
        bound.deadline = self._now() + self._timeout
        try:
            await self.write(body)
        finally:
            bound.deadline = float("inf")

    def _frozen(self) -> None:
        self._scope.cancel()

    async def watch(self) -> None:
        """The watchdog task (see the class docstring)."""
        with anyio.CancelScope() as self._bound:
            await self._watch()
        if self._bound.cancelled_caught:  # one of its own sends timed out
            self._frozen()

    async def _watch(self) -> None:
        timeout, heartbeat, encoder = self._timeout, self._heartbeat, self.encoder
        interval = self._interval
        while True:
            now = self._now()
            wake_at = float("inf")
            if encoder is not None:
                deadline = encoder.next_deadline
                if now >= deadline:
                    frames = encoder.poll(now)
                    self.last_flush = now
                    if frames:
                        body = b"".join(map(encode, frames))
                        if self._sending:  # the send in progress sends it next
                            self._queue.append(body)
                            self._queued += len(body)
                        else:
                            await self._write_bounded(body)
                    continue
                wake_at = deadline
            if self._in_send:
                if timeout is not None:
                    if now - self._send_started >= timeout:
                        self._frozen()
                        return
                    wake_at = min(wake_at, self._send_started + timeout)
            else:
                if heartbeat is not None:
                    due = self.last_send + heartbeat
                    if now >= due and not self._sending:
                        await self._write_bounded(encode_comment())
                        continue
                    wake_at = min(wake_at, due)
                if timeout is not None:  # to watch a send that starts meanwhile
                    wake_at = min(wake_at, now + timeout)
            if encoder is not None and interval is not None:
                # While a change is held, nothing can make its deadline earlier; while none
                # is, none can be due before `last_flush + interval`. Until then a plain
                # sleep: at a token rate, one timer per throttle period and no wake-up per
                # change (`nudge` is only needed past it).
                earliest = deadline if deadline != float("inf") else self.last_flush + interval
                if earliest > now:
                    await anyio.sleep_until(min(wake_at, earliest))
                    continue
            self._wake = wake = anyio.Event()
            self._wake_at = wake_at
            try:
                if wake_at == float("inf"):
                    await wake.wait()
                else:
                    with anyio.move_on_after(wake_at - now):
                        await wake.wait()
            finally:
                self._wake, self._wake_at = None, float("inf")


class EventStreamResponse(Response):
    """An ASGI response that streams Server-Sent Events.

    Give it a source to stream it to this client, or a store and a stream id to serve a
    stored stream (resuming after the request's ``Last-Event-ID`` header, or its
    ``last_event_id`` query parameter for EventSource polyfills).

    The headers are ``Content-Type: text/event-stream; charset=utf-8``,
    ``Cache-Control: no-store`` and ``X-Accel-Buffering: no`` (nginx must not buffer). A
    comment goes out whenever nothing was sent for `heartbeat` seconds. When the client
    disconnects, or does not accept a frame within `send_timeout`, the source is cancelled
    and closed at once (for a sync source, after its current item), so no generation runs
    on for nobody. An error of the source is sent as an ``error`` frame.

    Every response of the streamdantic profile opens with a ``stream`` frame naming its
    generation (docs/sse.md): a fresh random token for a source, the stream's own token for
    a stored stream. A source cannot be resumed (running it again gives another
    generation), so a request that asks to resume (``Last-Event-ID``, or the
    ``last_event_id`` query parameter) is refused with 409 and a JSON ``detail``, and the
    source is closed unread; with ``on_resume="restart"`` it is answered with a new
    generation instead, which the ``stream`` frame declares as a restart (clients reset).
    A ``Last-Event-ID`` that is not a frame id (decimal, 0 to 2**63 - 1) gets 400 with a
    JSON ``detail``, with a source or a store alike.

    Args:
        source: ``astream(...)`` / ``stream(...)``, or an async or sync iterable of
            `Update`s and `Part`s (sync ones are iterated in worker threads). ``None`` with
            `store`.
        heartbeat: seconds of silence before a heartbeat comment; ``None`` for none.
        send_timeout: seconds one send may take before the client counts as frozen;
            ``None`` waits forever.
        profile: ``"nested"`` (default: the streamdantic frames) or ``"compatible"``
            (sources only); see `ProfileEncoder`.
        emit: how often a source's changes go out (sources only): ``Throttle(n)``, at most
            n frames a second (default ``Throttle(12)``: the first change and the final
            state at once, what arrives in between coalesced into one frame), or
            ``"changes"``, a frame for every update and part.
        wire_version: the version of the streamdantic profile a source's frames are written
            in: ``3`` (default) or ``2``, for clients that read only version 2 while they
            are upgraded (docs/sse.md, "Versions").
        on_resume: for a source, what a request asking to resume gets: ``"refuse"``
            (default: 409) or ``"restart"`` (a new generation, declared as such; the
            streamdantic profile only).
        store: serve the stream `stream_id` from this store (see `ResumableStreams`): 404
            when it does not exist, 204 when the client already has all of it, 400 for a
            malformed ``Last-Event-ID``.
        stream_id: the stored stream to serve.
        store_timeout: seconds a reader of a stored stream keeps retrying a store that
            cannot be reached (Redis restarting) before it ends the response with a
            ``store_unavailable`` error frame; heartbeats keep the connection open meanwhile.
        retry: a reconnection delay for the client, in milliseconds, sent first.
        status_code: the status of a streamed response.
        headers: extra headers.
        protocol: speak a front end's own protocol instead of a streamdantic profile
            (docs/frontends.md): ``"ai-sdk"`` (the Vercel AI SDK's UI message stream),
            ``"ai-sdk-text"`` (its text stream, for ``useObject``), ``"ag-ui"``, or an
            encoder instance (`streamdantic.frontends`) for its options. These protocols
            have no frame ids: a request that asks to resume a source is refused as above
            (or restarted), and a stored stream is sent from its start, its state so far
            coalesced into one snapshot, then live.

    Raises:
        ValueError: neither or both of `source` and `store`; `store` without `stream_id`;
            an unknown profile, `emit`, `wire_version` or `on_resume`; ``on_resume="restart"`` with the compatible
            profile (it has no frame to declare a restart).
        UsageError: an unknown `protocol`, `protocol` with a non-default `profile`, or
            `retry` with the plain-text protocol.
        TypeError: the source is not iterable.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        source: Any = None,
        /,
        *,
        heartbeat: float | None = DEFAULT_HEARTBEAT,
        send_timeout: float | None = DEFAULT_SEND_TIMEOUT,
        profile: SSEProfile = "nested",
        emit: FrameRate = DEFAULT_EMIT,
        wire_version: WireVersion = 3,
        on_resume: OnResume = "refuse",
        store: Store | None = None,
        stream_id: str | None = None,
        store_timeout: float = DEFAULT_STORE_TIMEOUT,
        retry: int | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        protocol: FrontendProtocol | FrontendEncoder | None = None,
    ) -> None:
        profile = _check_profile(profile)
        frontend: FrontendEncoder | None = None
        if protocol is not None:
            if profile != "nested":
                raise UsageError(
                    "give EventStreamResponse a profile (streamdantic's SSE profiles) or a "
                    "protocol (a front end's), not both"
                )
            frontend = frontend_encoder(protocol)
            self.media_type = frontend.media_type
            headers = {**frontend.headers, **(headers or {})}
            if not frontend.heartbeats:
                if retry is not None:
                    raise UsageError(
                        f"the {type(frontend).__name__} protocol is plain text: it has no "
                        "retry field (leave retry=None)"
                    )
                heartbeat = None  # any byte sent is text of the object
        self._protocol = protocol
        self._frontend = frontend
        if on_resume not in _ON_RESUME:
            raise ValueError(f"on_resume must be one of {_ON_RESUME!r}, not {on_resume!r}")
        if on_resume == "restart" and profile == "compatible":
            raise ValueError(
                "on_resume='restart' needs the streamdantic profile: the compatible profile "
                "has no stream frame to declare a restart"
            )
        if (source is None) == (store is None):
            raise ValueError("give EventStreamResponse a source, or a store and a stream_id")
        if store is not None and not stream_id:
            raise ValueError("a stored stream needs its stream_id")
        if heartbeat is not None and not heartbeat > 0:
            raise ValueError(f"heartbeat must be positive or None, not {heartbeat!r}")
        if send_timeout is not None and not send_timeout > 0:
            raise ValueError(f"send_timeout must be positive or None, not {send_timeout!r}")
        if not store_timeout > 0:
            raise ValueError(f"store_timeout must be positive, not {store_timeout!r}")
        self.store_timeout = store_timeout
        # No snapshots: they serve clients that missed frames, which only a store can serve.
        encoder = ProfileEncoder(profile=profile, emit=emit, version=wire_version)  # checks them
        self._interval = 1 / emit.per_second if isinstance(emit, Throttle) else None
        self._encoder: ProfileEncoder | FrontendEncoder | None = None
        if source is not None:
            self._encoder = frontend if frontend is not None else encoder
        self._upstream = _Upstream(source) if source is not None else None
        self._store = store
        self.stream_id = stream_id
        self.on_resume = on_resume
        # The generation's token (docs/sse.md): None in the compatible profile, which has
        # no stream frame.
        self._token: str | None = None
        if frontend is not None:
            pass  # the front ends' protocols have no stream frame
        elif stream_id:
            self._token = _stored_token(stream_id)
        elif profile == "nested":
            self._token = secrets.token_urlsafe(16)
        self.heartbeat = heartbeat
        self.send_timeout = send_timeout
        self.retry = retry
        if retry is not None:
            encode(ServerSentEvent(retry=retry))  # check it now, not mid-response
        self.status_code = status_code
        self.background = None
        self.init_headers(
            {"Cache-Control": "no-store", "X-Accel-Buffering": "no", **(headers or {})}
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        first: Frames | None = None
        restart = False
        try:
            after = _last_event_id(scope)
        except ValueError as exc:
            if self._upstream is not None:
                await self._upstream.aclose()  # never run
            await _plain(400, str(exc))(scope, receive, send)
            return
        if self._upstream is not None and _resume_position(scope):
            if self.on_resume == "refuse":
                await self._upstream.aclose()  # never run: its output would be another stream
                await _plain(409, _NOT_RESUMABLE)(scope, receive, send)
                return
            restart = True
        if self._store is not None:
            assert self.stream_id is not None
            try:
                # A front end's protocol has no frame ids: its readers start from the start.
                start = after if self._frontend is None else 0
                first = await self._store.read(self.stream_id, start)
            except StoreUnavailableError as exc:
                logger.warning("could not read stream %s: %s", self.stream_id, exc)
                await _plain(503, "the store of this stream is unavailable: retry later")(
                    scope, receive, send
                )
                return
            if first is None:
                await _plain(404, "no such stream (or it expired)")(scope, receive, send)
                return
            if first.done and not first.events:
                await Response(status_code=204)(scope, receive, send)  # nothing more: stop
                return
        try:
            async with anyio.create_task_group() as group:
                connection = _Connection(
                    send,
                    self.send_timeout,
                    group.cancel_scope,
                    heartbeat=self.heartbeat,
                    # The watchdog flushes what a throttled ProfileEncoder holds; the front
                    # ends' encoders hold nothing past the next update (no timer).
                    encoder=self._encoder if isinstance(self._encoder, ProfileEncoder) else None,
                    interval=self._interval,
                )
                group.start_soon(_listen_for_disconnect, receive, group.cancel_scope)
                await connection.start(
                    {
                        "type": "http.response.start",
                        "status": self.status_code,
                        "headers": self.raw_headers,
                    }
                )
                group.start_soon(connection.watch)
                head = []
                if self.retry is not None:
                    head.append(ServerSentEvent(retry=self.retry))
                if self._token is not None:
                    head.append(stream_frame(self._token, restart=restart))
                if head:
                    await connection.write(b"".join(map(encode, head)))
                if first is not None and self._frontend is not None:
                    await self._serve_stored_frontend(connection, first)
                elif first is not None:
                    await self._serve_stored(connection, after, first)
                else:
                    await self._serve_source(connection)
                await connection.aclose()
                group.cancel_scope.cancel()
        finally:
            if self._upstream is not None:
                await self._upstream.aclose()

    async def _serve_source(self, connection: _Connection) -> None:
        upstream, encoder = self._upstream, self._encoder
        assert upstream is not None and encoder is not None
        error: Exception | None = None
        # Per output (usually per token): the source's __anext__ awaited directly and the
        # loop's own clock, not anyio.current_time's backend lookup on every call.
        anext, clock = upstream.anext, connection.clock
        feed, nudge = encoder.feed_bytes, connection.nudge
        try:
            while True:
                if anext is not None:
                    try:
                        output = await anext()
                    except StopAsyncIteration:
                        break
                elif (output := await upstream.next()) is _END:
                    break
                now = clock()
                body = feed(output, now=now)
                if body:
                    connection.last_flush = now  # a throttled encoder sends only on a flush
                    await connection.write(body)
                else:
                    nudge()  # the encoder may hold it until a deadline
        except Exception as exc:  # the source failed: the client gets an error frame
            _report(exc)
            error = exc
        await upstream.aclose()
        body = encoder.close_bytes(error)
        if body:
            await connection.write(body)

    async def _serve_stored_frontend(self, connection: _Connection, first: Frames) -> None:
        # A front end's protocol has no frame ids: the stored frames (the streamdantic
        # profile) are read from the start and rebuilt by a ProfileDecoder, whose updates
        # the protocol's encoder re-encodes. What the store already holds arrives at once,
        # so the encoder coalesces it into one state (a snapshot), then follows live.
        encoder = self._frontend
        assert encoder is not None
        decoder: ProfileDecoder[Any] = ProfileDecoder()
        store, stream_id = self._store, self.stream_id
        assert store is not None and stream_id is not None
        frames: Frames | None = first
        after = 0
        error: Exception | None = None
        try:
            while True:
                if frames is None:
                    raise GenerationLostError("the stream is no longer in the store")
                updates: list[Any] = []
                try:
                    for frame in frames.events:
                        after = int(frame.id or after)
                        updates.extend(decoder.feed(frame))
                except StreamdanticError as exc:  # the stream's error frame
                    error = exc
                update = coalesce_updates(updates)
                if update is not None:
                    body = encoder.feed_bytes(update, now=anyio.current_time())
                    if body:
                        await connection.write(body)
                if error is not None or decoder.done or frames.done:
                    break
                if frames.lost:
                    raise GenerationLostError(
                        "the stream's generation stopped before the end (its server process "
                        "died or lost the store): start a new stream"
                    )
                frames = await _while_unavailable(
                    partial(store.read, stream_id, after, wait=_STORE_POLL), self.store_timeout
                )
        except StreamdanticError as exc:  # the store's
            error = exc
        body_end = encoder.close_bytes(error)
        if body_end:
            await connection.write(body_end)

    async def _serve_stored(self, connection: _Connection, after: int, first: Frames) -> None:
        store, stream_id = self._store, self.stream_id
        assert store is not None and stream_id is not None
        frames: Frames | None = first
        while True:
            if frames is None:  # it was there: it expired, or the store lost it
                lost = GenerationLostError("the stream is no longer in the store")
                await connection.write(_error_frame(after, lost))
                return
            if frames.events:
                await connection.write(b"".join(map(encode, frames.events)))
                after = int(frames.events[-1].id or after)
                if any(event.event in TERMINAL_EVENTS for event in frames.events):
                    return
            elif frames.done:
                return
            if frames.lost:
                lost = GenerationLostError(
                    "the stream's generation stopped before the end (its server process "
                    "died or lost the store): start a new stream"
                )
                await connection.write(_error_frame(after, lost))
                return
            try:
                frames = await _while_unavailable(
                    partial(store.read, stream_id, after, wait=_STORE_POLL), self.store_timeout
                )
            except StoreUnavailableError as exc:
                logger.warning("could not read stream %s: %s", stream_id, exc)
                unavailable = StoreUnavailableError(
                    "the server could not read the stream from its store: retry later"
                )
                await connection.write(_error_frame(after, unavailable))
                return


async def _while_unavailable(call: Callable[[], Awaitable[_T]], seconds: float) -> _T:
    """`call()`, retried while the store is unavailable (a Redis restart: its clients'
    pooled connections die with it and reconnect), for up to `seconds`."""
    deadline = anyio.current_time() + seconds
    delay = 0.05
    while True:
        try:
            return await call()
        except StoreUnavailableError:
            if anyio.current_time() + delay > deadline:
                raise
        await anyio.sleep(delay)
        delay = min(delay * 2, 1.0)


def _error_frame(after: int, error: Exception) -> bytes:
    """A terminal error frame a reader sends after frame `after` (the generation could not)."""
    data = {"type": error_type(error), "message": str(error), "partial": None}
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return encode(ServerSentEvent(text, event="error", id=str(after + 1)))


async def _listen_for_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return


def _resume_position(scope: Scope) -> str:
    """The Last-Event-ID header (UTF-8), else the last_event_id query parameter; "" for
    none."""
    for name, value in scope.get("headers", ()):
        if name == b"last-event-id":
            raw: bytes = value
            return raw.decode("utf-8", "replace").strip()
    return str(Request(scope).query_params.get("last_event_id", "")).strip()


def _last_event_id(scope: Scope) -> int:
    """The id to resume after: the position (`_resume_position`) as an int; 0 for none.

    Raises:
        ValueError: the position is not a frame id (a decimal integer from 0 to
            MAX_FRAME_ID); its message is the 400's detail.
    """
    raw = _resume_position(scope)
    if not raw:
        return 0
    n = parse_frame_id(raw)
    if n is None:
        shown = raw if len(raw) <= 40 else f"{raw[:40]}... ({len(raw)} characters)"
        raise ValueError(
            f"malformed Last-Event-ID {shown!r} (header or last_event_id parameter): frame "
            f"ids are decimal integers from 0 to {MAX_FRAME_ID}; resume with the id of the "
            "last frame received, or send none to start from the beginning"
        )
    return n


def _stored_token(stream_id: str) -> str:
    """The stream token of a stored stream: derived from its id, so every response of the
    generation, from any process sharing the store, carries the same one (a stored stream
    id names one generation), without echoing the id itself in the body."""
    digest = hashlib.sha256(b"streamdantic stream token\0" + stream_id.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


def _plain(status: int, detail: str) -> Response:
    return JSONResponse({"detail": detail}, status_code=status)


def _unavailable(exc: StoreUnavailableError) -> Response:
    if isinstance(exc, StoreFullError):
        detail, retry_after = "the store of the streams is full: retry later", _RETRY_FULL
    else:
        detail, retry_after = "the store of the streams is unavailable: retry later", 1
    return JSONResponse(
        {"detail": detail}, status_code=503, headers={"Retry-After": str(retry_after)}
    )


def _too_many(limit: int) -> Response:
    return JSONResponse(
        {"detail": f"this server runs as many generations as it may ({limit}): retry later"},
        status_code=429,
        headers={"Retry-After": str(_RETRY_FULL)},
    )


class _Run:
    """The state of one generation that its tasks share."""

    __slots__ = ("gone", "lock", "wake")

    def __init__(self) -> None:
        self.gone = False  # the stream left the store, or the store stayed unavailable
        self.lock = anyio.Lock()  # held while frames are being stored
        self.wake: anyio.Event | None = None  # wakes _flush_held while it waits


class _StreamGone(Exception):
    """The generation's stream cannot be written any more (internal)."""


# ------------------------------------------------------------------------------ resumable


class ResumableStreams:
    """Background generations whose frames live in a store, and the routes to use them.

    Routes (under `prefix`, default ``/streams``; their names start with `name`):

    - ``POST /streams`` (``<name>_start``): calls ``start(request)`` for a source (it may be
      async, and read the request's body), runs it in the background, answers 201 with
      ``{"stream_id": ..., "url": ...}`` and a ``Location`` header (the URL of the stream
      under the ``POST``'s own URL, so it is right under any ``Mount``); 429 with
      ``Retry-After`` when `max_generations` run already (before ``start`` is called), 503
      with ``Retry-After`` when the store is full or unreachable;
    - ``GET /streams/{id}`` (``<name>``): the stream as Server-Sent Events from the store,
      after the client's ``Last-Event-ID`` (header, or ``last_event_id`` query parameter);
      404 when unknown or expired, 204 when the client already has everything, 400 for a
      malformed ``Last-Event-ID``;
    - ``DELETE /streams/{id}`` (``<name>_delete``) or ``POST /streams/{id}/cancel``
      (``<name>_cancel``): stop the generation (202, or 404 when there is no such running
      stream); it ends with a ``cancelled`` error frame.

    A stream id is an unguessable bearer capability: whoever holds it may read and cancel
    the stream. Give `authorize` to check each request (ownership, a session) before it
    touches the store or calls ``start``.

    A generation runs to its end even when no client is connected (so a client can come
    back, to this process or another sharing the store); only the cancel route (or the
    app's shutdown, which cancels what still runs) stops it early. Run the generations'
    task group with the app: ``Starlette(routes=streams.routes, lifespan=streams.lifespan)``
    or ``async with streams:`` in your own lifespan.

    Args:
        start: request -> source (``astream(...)`` or an iterable of updates and parts), or
            an awaitable of one. Without it there is no ``POST`` route; use `spawn`.
        store: where frames are kept (default: a new `MemoryStore`, one process only).
        prefix: the routes' path prefix.
        name: the name of the ``GET`` route (``request.url_for(name, stream_id=...)``) and
            the start of the others'; default: the prefix's segments joined by ``_``
            (``"/streams"``: ``"streams"``, ``"/api/v1/chats"``: ``"api_v1_chats"``; no
            prefix: ``"streams"``), so instances with different prefixes never collide.
        authorize: ``authorize(request, stream_id, action)``, sync or async, called first
            by every route (``action`` is ``"start"`` with ``stream_id`` None, ``"read"``
            or ``"cancel"``): True lets the request through, False answers 403 (raise
            Starlette's ``HTTPException`` for another status, such as 401); anything else
            is a bug (TypeError). `spawn`, `cancel` and `response` do not call it.
        max_generations: generations this object runs at once (``None``: no cap); past it
            `spawn` raises `TooManyGenerationsError` and ``POST`` answers 429.
        heartbeat, send_timeout, retry: as for `EventStreamResponse`.
        emit: how often a generation's changes become frames in the store, as for
            `EventStreamResponse` (default ``Throttle(12)``; each frame is a store write).
        wire_version: the version of the streamdantic profile the stored frames are written
            in, as for `EventStreamResponse` (default ``3``).
        snapshot_every: frames between the snapshots kept in the store, from which a client
            whose frames were dropped resumes (keep it below the store's ``max_frames``:
            frames after the latest snapshot are never dropped).
        store_timeout: seconds a generation retries a store write that fails (Redis
            restarting) before it gives up; then its source is closed and its readers end
            with a ``generation_lost`` error once its lease lapses.
        protocol: serve the ``GET`` route in a front end's protocol (see
            `EventStreamResponse`; an encoder instance is copied for each response). The
            store keeps the streamdantic profile's frames either way.

    A generation's failure, or the store's, ends that stream only: it never cancels other
    generations nor the task group.

    Raises:
        ValueError: a bad `snapshot_every`, `emit`, `store_timeout`, `max_generations` or
            `name`.
    """

    def __init__(
        self,
        start: Callable[[Request], Any] | None = None,
        *,
        store: Store | None = None,
        prefix: str = "/streams",
        name: str | None = None,
        authorize: Authorize | None = None,
        max_generations: int | None = DEFAULT_MAX_GENERATIONS,
        heartbeat: float | None = DEFAULT_HEARTBEAT,
        send_timeout: float | None = DEFAULT_SEND_TIMEOUT,
        snapshot_every: int | None = 100,
        emit: FrameRate = DEFAULT_EMIT,
        retry: int | None = None,
        store_timeout: float = DEFAULT_STORE_TIMEOUT,
        protocol: FrontendProtocol | FrontendEncoder | None = None,
        wire_version: WireVersion = 3,
    ) -> None:
        if protocol is not None:
            frontend_encoder(protocol)  # check it now
        self.protocol = protocol
        if not store_timeout > 0:
            raise ValueError(f"store_timeout must be positive, not {store_timeout!r}")
        if max_generations is not None and (
            isinstance(max_generations, bool)
            or not isinstance(max_generations, int)
            or max_generations < 1
        ):
            raise ValueError(
                f"max_generations must be a positive int or None, not {max_generations!r}"
            )
        self._start = start
        self.store_timeout = store_timeout
        self.store: Store = store if store is not None else MemoryStore()
        self.prefix = prefix.rstrip("/")
        if name is None:
            name = "_".join(part for part in self.prefix.split("/") if part) or "streams"
        if not name or ":" in name:
            raise ValueError(
                f"name must be non-empty without ':' (Mount's separator), not {name!r}"
            )
        self.name = name
        self.authorize = authorize
        self.max_generations = max_generations
        self.heartbeat = heartbeat
        self.send_timeout = send_timeout
        self.snapshot_every = snapshot_every
        self.emit = emit
        self.wire_version: WireVersion = wire_version
        self.retry = retry
        # check the options now
        ProfileEncoder(snapshot_every=snapshot_every, emit=emit, version=wire_version)
        self._group: anyio.abc.TaskGroup | None = None
        self._running = 0  # generations started by spawn and not yet ended

    @property
    def running(self) -> int:
        """The generations this object runs now (see `max_generations`)."""
        return self._running

    @property
    def routes(self) -> list[BaseRoute]:
        """The Starlette routes (see the class docstring)."""
        p, name = self.prefix, self.name
        routes: list[BaseRoute] = [
            Route(p + "/{stream_id}", self._get, methods=["GET"], name=name),
            Route(p + "/{stream_id}", self._cancel, methods=["DELETE"], name=f"{name}_delete"),
            Route(p + "/{stream_id}/cancel", self._cancel, methods=["POST"], name=f"{name}_cancel"),
        ]
        if self._start is not None:
            routes.insert(0, Route(p or "/", self._post, methods=["POST"], name=f"{name}_start"))
        return routes

    @asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        """A Starlette lifespan that runs the generations' task group."""
        async with self:
            yield

    async def __aenter__(self) -> Self:
        if self._group is not None:
            raise UsageError("these ResumableStreams are already running")
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        group, self._group = self._group, None
        assert group is not None
        group.cancel_scope.cancel()  # running generations end with a "cancelled" frame
        return await group.__aexit__(exc_type, exc, tb)

    async def spawn(self, source: Any, /) -> str:
        """Start a generation in the background.

        Args:
            source: ``astream(...)`` / ``stream(...)``, or an async or sync iterable of
                updates and parts.

        Returns:
            The new stream's id (``secrets.token_urlsafe(16)``: unguessable, so knowing it
            is the capability to read and cancel the stream).

        Raises:
            UsageError: the task group is not running (enter the object or use `lifespan`).
            TypeError: the source is not iterable.
            TooManyGenerationsError: `max_generations` run already (the source is closed
                unread).
            StoreUnavailableError: the store cannot be reached (no generation started);
                `StoreFullError` when it is full.
        """
        group = self._group
        if group is None:
            raise UsageError(
                "ResumableStreams is not running: pass lifespan=streams.lifespan to the app, "
                "or enter `async with streams:` in your lifespan"
            )
        upstream = _Upstream(source)
        if self._full():
            await upstream.aclose()
            raise TooManyGenerationsError(
                f"{self._running} generations are running, max_generations="
                f"{self.max_generations}: retry once one has ended, or raise the cap"
            )
        encoder = ProfileEncoder(
            snapshot_every=self.snapshot_every, emit=self.emit, version=self.wire_version
        )
        stream_id = secrets.token_urlsafe(16)
        self._running += 1  # taken before the first await: concurrent spawns see it
        try:
            await self.store.create(stream_id)
        except BaseException:
            self._running -= 1
            await upstream.aclose()
            raise
        group.start_soon(self._generate, stream_id, upstream, encoder, name=f"stream {stream_id}")
        return stream_id

    def _full(self) -> bool:
        return self.max_generations is not None and self._running >= self.max_generations

    async def cancel(self, stream_id: str, /) -> bool:
        """Stop a generation (whichever process runs it).

        Args:
            stream_id: the stream.

        Returns:
            False when there is no such running stream.

        Raises:
            StoreUnavailableError: the store cannot be reached.
        """
        return await self.store.cancel(stream_id)

    def response(self, stream_id: str, /) -> EventStreamResponse:
        """The response that serves the stored stream `stream_id` (what ``GET`` returns)."""
        return EventStreamResponse(
            store=self.store,
            stream_id=stream_id,
            store_timeout=self.store_timeout,
            heartbeat=self.heartbeat,
            send_timeout=self.send_timeout,
            retry=self.retry,
            protocol=(
                copy.deepcopy(self.protocol)
                if self.protocol is not None and not isinstance(self.protocol, str)
                else self.protocol
            ),
        )

    async def _generate(self, stream_id: str, upstream: _Upstream, encoder: ProfileEncoder) -> None:
        # Nothing but a cancellation leaves this task: an exception would cancel every
        # other generation in the group (and fail the app's lifespan).
        try:
            await self._run(stream_id, upstream, encoder)
        except Exception as exc:
            logger.error("the generation of stream %s failed", stream_id, exc_info=exc)
        finally:
            self._running -= 1

    async def _run(self, stream_id: str, upstream: _Upstream, encoder: ProfileEncoder) -> None:
        error: BaseException | None = None
        run = _Run()
        try:
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as group:
                    group.start_soon(self._watch_cancel, stream_id, scope)
                    group.start_soon(self._hold_lease, stream_id, scope, run)
                    group.start_soon(self._flush_held, stream_id, encoder, scope, run)
                    try:
                        while (output := await upstream.next()) is not _END:
                            frames = encoder.feed(output, now=anyio.current_time())
                            if frames:
                                await self._store_frames(stream_id, frames, run)
                            elif run.wake is not None and encoder.next_deadline < float("inf"):
                                run.wake.set()  # the encoder holds changes until a deadline
                            # A cancel lands here, even if the source never waits.
                            await anyio.lowlevel.checkpoint_if_cancelled()
                    except _StreamGone:
                        pass
                    except Exception as exc:
                        _report(exc)
                        error = exc
                    finally:
                        await upstream.aclose()
                    group.cancel_scope.cancel()
            if scope.cancelled_caught:
                error = StreamCancelledError("the stream was cancelled")
        except anyio.get_cancelled_exc_class():
            error = StreamCancelledError("the stream was cancelled: the server is shutting down")
            raise
        finally:
            if not run.gone:
                # Shielded (shutdown too), but bounded: a store that is down at shutdown
                # leaves the stream to lapse.
                with anyio.CancelScope(shield=True), anyio.move_on_after(self.store_timeout):
                    await self._end(stream_id, encoder, error, run)

    async def _end(
        self, stream_id: str, encoder: ProfileEncoder, error: BaseException | None, run: _Run
    ) -> None:
        """Store the terminal frame and mark the stream done; when that fails, the
        stream's lease lapses and its readers end with ``generation_lost``."""
        try:
            for frame in encoder.close(error):
                await self._append(stream_id, frame, run)
            await self._retrying(lambda: self.store.mark_done(stream_id))
        except _StreamGone:
            pass
        except Exception as exc:
            logger.error("could not end stream %s in the store", stream_id, exc_info=exc)

    async def _append(self, stream_id: str, frame: ServerSentEvent, run: _Run) -> None:
        try:
            await self._retrying(lambda: self.store.append(stream_id, frame))
        except KeyError:
            logger.warning("stream %s is no longer in the store: its generation stops", stream_id)
            run.gone = True
            raise _StreamGone from None
        except StoreUnavailableError as exc:
            logger.error(
                "stream %s: the store was unavailable for %s s, the generation stops: %s",
                stream_id,
                self.store_timeout,
                exc,
            )
            run.gone = True
            raise _StreamGone from None

    async def _retrying(self, write: Callable[[], Any]) -> None:
        """`write()`, retried while the store is unavailable, for up to `store_timeout`."""
        await _while_unavailable(write, self.store_timeout)

    async def _store_frames(self, stream_id: str, frames: list[ServerSentEvent], run: _Run) -> None:
        # The encoder has numbered these frames: a cancel must not drop one half-stored, or
        # the terminal frame would follow a gap. The lock keeps the frames of the body and
        # of _flush_held in id order (anyio locks are FIFO, taken before any await). The
        # wait for the lock is shielded too: a cancel landing there would drop frames the
        # encoder has already numbered (each holder is bounded by store_timeout).
        with anyio.CancelScope(shield=True):
            async with run.lock:
                for frame in frames:
                    await self._append(stream_id, frame, run)

    async def _flush_held(
        self, stream_id: str, encoder: ProfileEncoder, scope: anyio.CancelScope, run: _Run
    ) -> None:
        """Store what a throttled encoder holds once its deadline passes (the source may
        be quiet until then)."""
        try:
            await self._flush_loop(stream_id, encoder, run)
        except _StreamGone:  # logged by _append; run.gone is set, so no terminal frame
            scope.cancel()

    async def _flush_loop(self, stream_id: str, encoder: ProfileEncoder, run: _Run) -> None:
        while True:
            deadline = encoder.next_deadline
            if deadline == float("inf"):
                run.wake = wake = anyio.Event()
                try:
                    await wake.wait()
                finally:
                    run.wake = None
                continue
            await anyio.sleep_until(deadline)
            frames = encoder.poll(anyio.current_time())
            if frames:
                await self._store_frames(stream_id, frames, run)

    async def _watch_cancel(self, stream_id: str, scope: anyio.CancelScope) -> None:
        try:
            await self.store.wait_cancelled(stream_id)
        except Exception as exc:
            logger.error("cannot watch stream %s for cancel requests", stream_id, exc_info=exc)
            return
        scope.cancel()

    async def _hold_lease(self, stream_id: str, scope: anyio.CancelScope, run: _Run) -> None:
        try:
            await self.store.hold_lease(stream_id)
        except KeyError:
            logger.warning("stream %s is no longer in the store: its generation stops", stream_id)
            run.gone = True
            scope.cancel()
        except Exception as exc:
            logger.error("cannot renew the lease of stream %s", stream_id, exc_info=exc)

    async def _allowed(self, request: Request, stream_id: str | None, action: Action) -> bool:
        if self.authorize is None:
            return True
        verdict = self.authorize(request, stream_id, action)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        if not isinstance(verdict, bool):
            raise TypeError(
                f"authorize() must return True or False (or raise HTTPException), not "
                f"{verdict!r}: did it forget to return?"
            )
        return verdict

    async def _post(self, request: Request) -> Response:
        assert self._start is not None
        if not await self._allowed(request, None, "start"):
            return _forbidden("start")
        if self._full():  # before `start`, which may already call the model
            assert self.max_generations is not None
            return _too_many(self.max_generations)
        source = self._start(request)
        if inspect.isawaitable(source):
            source = await source
        try:
            stream_id = await self.spawn(source)
        except TooManyGenerationsError:  # others took the last slots while `start` ran
            assert self.max_generations is not None
            return _too_many(self.max_generations)
        except StoreUnavailableError as exc:
            logger.warning("could not start a stream: %s", exc)
            return _unavailable(exc)
        # Under this POST's own URL (the routes share the prefix), so any Mount, named or
        # not, and any root_path are respected without a route name.
        path = request.url.path.rstrip("/") + "/" + stream_id
        url = str(request.url.replace(path=path, query=""))
        return JSONResponse(
            {"stream_id": stream_id, "url": url}, status_code=201, headers={"Location": url}
        )

    async def _get(self, request: Request) -> Response:
        stream_id = request.path_params["stream_id"]
        if not await self._allowed(request, stream_id, "read"):
            return _forbidden("read")
        return self.response(stream_id)

    async def _cancel(self, request: Request) -> Response:
        stream_id = request.path_params["stream_id"]
        if not await self._allowed(request, stream_id, "cancel"):
            return _forbidden("cancel")
        try:
            cancelled = await self.cancel(stream_id)
        except StoreUnavailableError as exc:
            logger.warning("could not cancel a stream: %s", exc)
            return _unavailable(exc)
        if cancelled:
            return JSONResponse({"cancelled": True}, status_code=202)
        return _plain(404, "no such running stream")


def _forbidden(action: Action) -> Response:
    what = "start a stream" if action == "start" else f"{action} this stream"
    return _plain(403, f"not allowed to {what}")
