"""Stores of resumable streams: the frames of each stream, by stream id, for a while.

A generation appends its frames (ids 1, 2, 3, ...) as it produces them; readers (one per
client connection, in any server process sharing the store) read the frames after their
``Last-Event-ID`` and wait for more. `MemoryStore` serves one process; `RedisStore` keeps
the frames in Redis Streams so that any process can serve any stream. docs/sse.md gives the
resume rules these implement.
"""

# Strategy / invariants
# - Frames are kept in id order, contiguous. Snapshots are not frames: a snapshot carries the
#   id of the last frame it includes, and only the latest one is kept, aside.
# - A stream keeps at most `max_frames` frames but never drops a frame after its latest
#   snapshot, so every reader can be served without a hole: read(after) returns the frames
#   after `after` when they are all retained; when some were dropped, it returns the latest
#   snapshot and the frames after it (the client resets its state from the snapshot).
# - An entry expires `ttl` seconds after its last write (append, mark_done), so a client
#   arriving after completion still gets the final frame until then.
# - Cancellation is a request stored with the stream, so a cancel arriving at any process
#   reaches the process that runs the generation (which waits for it with wait_cancelled).
# - Liveness: `create` gives the stream a lease of `lease` seconds, which the generation
#   renews (each `append`, and `hold_lease` every `renew_every` seconds while it runs). A
#   stream that has not ended and whose lease lapsed is lost (its generation died, or lost
#   the store): `read` says so (`Frames.lost`), and readers end with a `generation_lost`
#   error instead of waiting for the TTL.
# - RedisStore's connections do not grow with streams: per store object (per process), one
#   blocking XREAD over every stream that has waiting readers and one BLPOP on the process's
#   cancel inbox, each run by one of its waiting callers at a time (`_Relay`); every other
#   command is short and goes through a limiter sized to half the client's pool.
# - No blocking call outlives the client's socket timeout (blocks are capped below it), and
#   a store that cannot be reached raises `StoreUnavailableError`, never a redis error.

from __future__ import annotations

import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar, runtime_checkable

import anyio

from .._exceptions import StoreFullError, StoreUnavailableError
from ._codec import ServerSentEvent

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Frames", "MemoryStore", "RedisStore", "Store"]

T = TypeVar("T")

# One hour: long enough for a client to come back after a network change or a laptop
# sleep; the final object is kept as long. (Vercel's resumable-stream package defaults
# to 24 hours on Redis; an in-process default is better kept short.)
DEFAULT_TTL: Final = 3600.0
# Frames per stream: a long structured answer is a few thousand deltas.
DEFAULT_MAX_FRAMES: Final = 10_000
# The lease of a running generation: its readers learn within ~10 s that it died (instead
# of the TTL), while it survives four missed renewals in a row (a store failover, a
# stalled event loop). Renewing every 2 s costs 0.5 commands/s per running stream (the
# renewal also picks up a cancel request whose notification was lost).
DEFAULT_LEASE: Final = 10.0
DEFAULT_RENEW_EVERY: Final = 2.0
# Streams per MemoryStore, running or kept for late clients: 10,000 is ~3 new streams a
# second for the whole default TTL of an hour; a generation lasts 10-120 s, so that rate is
# already 30-300 concurrent generations, more than one process runs (ResumableStreams'
# max_generations defaults to 256). Past it, the oldest finished streams go first, so the
# cap only shortens how long late clients find a finished stream.
DEFAULT_MAX_STREAMS: Final = 10_000
# Bytes of frames per MemoryStore (as accounted below, close to CPython's real cost): a
# quarter of a 1 GiB container. That is ~1,300 streams of the 20 KB orders document (its
# 575 frames and latest snapshot take ~200 KB) or ~10,000 typical 2 KB answers; the
# 5,000 finished streams that once took 254 MB fit in it only with the oldest evicted.
DEFAULT_MAX_BYTES: Final = 256 * 2**20
# What a stored frame costs beyond its characters: the ServerSentEvent and its three str
# objects (measured on CPython 3.11: ~185 bytes with ASCII data); a stream entry's own cost.
_FRAME_COST: Final = 200
_ENTRY_COST: Final = 1_000
# The largest frame id, and Last-Event-ID: 2**63 - 1, what every 64-bit integer (and a
# Redis stream entry id) holds. A position past it cannot name a frame.
MAX_FRAME_ID: Final = 2**63 - 1

logger = logging.getLogger("streamdantic")


@dataclass(frozen=True, slots=True)
class Frames:
    """The answer of `Store.read`.

    Attributes:
        events: frames after the requested id, in order (starting with the latest snapshot
            when the frames right after the requested id were dropped).
        done: the stream has ended (`Store.mark_done`) and `events` reach its end.
        lost: the stream has not ended but its generation's lease lapsed (the process
            running it died or lost the store): no more frames will come.
    """

    events: tuple[ServerSentEvent, ...]
    done: bool
    lost: bool = False


@runtime_checkable
class Store(Protocol):
    """Where resumable streams keep their frames (async; safe for concurrent readers).

    Frames are `ServerSentEvent`s whose ``id`` is the decimal frame number, 1, 2, 3, ...
    without holes. A ``"snapshot"`` is not a frame: its id is that of the last frame it
    includes; the store keeps the latest one to resume readers whose frames it dropped.

    A running generation holds a lease on its stream (taken by `create`, renewed by `append`
    and `hold_lease`); a stream whose lease lapsed before it ended reads as lost. A store
    that cannot be reached raises `StoreUnavailableError` from any method but
    `wait_cancelled` and `hold_lease`, which retry until it is back.
    """

    async def create(self, stream_id: str, /) -> None:
        """Register a new stream (readers may arrive before its first frame) and take its
        lease; `StoreFullError` when the store has no room for it."""
        ...

    async def append(self, stream_id: str, frame: ServerSentEvent, /) -> None:
        """Add the stream's next frame and wake its readers, or replace its snapshot; renew
        the lease. Appending the last frame again is a no-op (so a failed append can be
        retried); `KeyError` when the stream is gone."""
        ...

    async def read(self, stream_id: str, /, after: int = 0, *, wait: float = 0.0) -> Frames | None:
        """The frames after id `after` (0 to `MAX_FRAME_ID`, else `ValueError`); when there
        are none yet and the stream has neither ended nor been lost, wait up to `wait`
        seconds for one. ``None``: no such stream (or expired)."""
        ...

    async def hold_lease(self, stream_id: str, /) -> None:
        """Renew the stream's lease periodically while this runs (the generation runs it
        beside its source and cancels it at the end); returns when the stream has ended,
        raises `KeyError` when it is gone."""
        ...

    async def mark_done(self, stream_id: str, /) -> None:
        """Record that the stream has ended (its terminal frame was appended)."""
        ...

    async def cancel(self, stream_id: str, /) -> bool:
        """Ask the generation to stop; False when there is no such running stream."""
        ...

    async def wait_cancelled(self, stream_id: str, /) -> None:
        """Return when `cancel` was called for the stream (from any process)."""
        ...


def _check_limits(ttl: float, max_frames: int, lease: float, renew_every: float) -> None:
    if not ttl > 0:
        raise ValueError(f"ttl must be positive, not {ttl!r}")
    if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1:
        raise ValueError(f"max_frames must be a positive int, not {max_frames!r}")
    if not 0 < renew_every < lease:
        raise ValueError(
            f"renew_every must be positive and below the lease ({lease!r}), not {renew_every!r}"
        )


def parse_frame_id(raw: str) -> int | None:
    """`raw` as a frame id (a decimal integer from 0 to `MAX_FRAME_ID`, leading zeros
    allowed), or None. Never calls int() on more than 19 digits (int() refuses numbers of
    over 4,300 digits with a ValueError of its own)."""
    if not (raw.isascii() and raw.isdigit()):
        return None
    digits = raw.lstrip("0")
    if len(digits) > 19:
        return None
    n = int(digits or "0")
    return n if n <= MAX_FRAME_ID else None


def _frame_id(frame: ServerSentEvent) -> int:
    if frame.data is None:
        raise ValueError(f"stored frames carry data; frame {frame.id!r} has data=None")
    n = parse_frame_id(frame.id or "")
    if n is None:
        raise ValueError(
            f"stored frames need a decimal id from 0 to {MAX_FRAME_ID}, not {frame.id!r}"
        )
    return n


def _check_after(after: int) -> None:
    if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after <= MAX_FRAME_ID:
        raise ValueError(f"read after a frame id from 0 to {MAX_FRAME_ID}, not {after!r}")


def _cost(frame: ServerSentEvent) -> int:
    return len(frame.data or "") + len(frame.event) + len(frame.id or "") + _FRAME_COST


# ------------------------------------------------------------------------------ memory


class _Entry:
    __slots__ = (
        "cancelled",
        "changed",
        "done",
        "expires",
        "frames",
        "last",
        "lease_until",
        "size",
        "snapshot",
        "snapshot_id",
    )

    def __init__(self, expires: float, lease_until: float) -> None:
        self.lease_until = lease_until  # the generation's lease (clock time)
        self.frames: deque[ServerSentEvent] = deque()  # contiguous ids, ending at `last`
        self.last = 0  # id of the last frame appended
        self.snapshot: ServerSentEvent | None = None  # the latest snapshot
        self.snapshot_id = 0
        self.size = _ENTRY_COST  # the bytes it accounts for (frames, snapshot, itself)
        self.done = False
        self.expires = expires
        self.changed = anyio.Event()  # set (and replaced) at each change
        self.cancelled = anyio.Event()

    def tail(self, after: int) -> list[ServerSentEvent]:
        """The frames after id `after` (all retained), in O(their number)."""
        count = min(self.last - after, len(self.frames))
        if count <= 0:
            return []
        events = list(islice(reversed(self.frames), count))
        events.reverse()
        return events


class MemoryStore:
    """A `Store` in this process's memory (the default): one server process only.

    Memory is bounded by `max_streams` and `max_bytes`: when a new stream or a frame would
    pass either, the finished streams (and lost ones) go first, the oldest first; a running
    stream is never evicted nor cut, so when only running streams remain, `create` refuses
    the new stream with `StoreFullError` (the appends of running streams go on, so
    `max_bytes` is exceeded by at most what they add; `ResumableStreams(max_generations=...)`
    bounds their number).

    Args:
        ttl: seconds an entry is kept after its last write.
        max_frames: frames kept per stream (older ones are dropped, never those after the
            latest snapshot).
        max_streams: streams kept at once, running or finished.
        max_bytes: bytes of frames kept at once: the characters of each frame's data, event
            and id plus ~200 bytes of bookkeeping per frame (about what CPython spends).
        lease: seconds a generation's lease lasts unless renewed (see `Store`).
        renew_every: seconds between the renewals of `hold_lease` (below `lease`).
        clock: the monotonic clock, in seconds (replaceable in tests).

    Raises:
        ValueError: a limit is not positive, or `renew_every` is not below `lease`.
    """

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        max_frames: int = DEFAULT_MAX_FRAMES,
        max_streams: int = DEFAULT_MAX_STREAMS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        lease: float = DEFAULT_LEASE,
        renew_every: float = DEFAULT_RENEW_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        _check_limits(ttl, max_frames, lease, renew_every)
        for name, value in (("max_streams", max_streams), ("max_bytes", max_bytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, not {value!r}")
        self.ttl = ttl
        self.max_frames = max_frames
        self.max_streams = max_streams
        self.max_bytes = max_bytes
        self.lease = lease
        self.renew_every = renew_every
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._finished: dict[str, None] = {}  # the ended streams, oldest end first
        self._bytes = 0  # the sum of the entries' sizes
        self._next_purge = 0.0

    @property
    def size(self) -> tuple[int, int]:
        """The streams and bytes kept now (see `max_streams`, `max_bytes`)."""
        return len(self._entries), self._bytes

    def _get(self, stream_id: str) -> _Entry | None:
        entry = self._entries.get(stream_id)
        if entry is not None and entry.expires <= self._clock():
            self._drop(stream_id)
            return None
        return entry

    def _drop(self, stream_id: str) -> None:
        entry = self._entries.pop(stream_id)
        self._finished.pop(stream_id, None)
        self._bytes -= entry.size
        entry.changed.set()  # its waiting readers find it gone

    def _resize(self, entry: _Entry, delta: int) -> None:
        entry.size += delta
        self._bytes += delta

    def _evict_one(self) -> bool:
        """Drop the finished stream that ended first (else a lost one); False if none."""
        if self._finished:
            self._drop(next(iter(self._finished)))
            return True
        for key, entry in self._entries.items():  # O(streams), only when full
            if self._lost(entry):
                self._drop(key)
                return True
        return False

    def _touch(self, entry: _Entry) -> None:
        now = self._clock()
        entry.expires = now + self.ttl
        changed, entry.changed = entry.changed, anyio.Event()
        changed.set()
        if now >= self._next_purge:  # drop expired entries, at most once a second
            self._purge(now)

    def _purge(self, now: float) -> None:
        self._next_purge = now + 1.0
        for key in [k for k, e in self._entries.items() if e.expires <= now]:
            self._drop(key)

    def _full(self) -> bool:
        return len(self._entries) >= self.max_streams or self._bytes >= self.max_bytes

    async def create(self, stream_id: str, /) -> None:
        """Register a new stream (see `Store.create`), evicting finished streams when the
        store is at `max_streams` or `max_bytes`.

        Raises:
            StoreFullError: the store is at a cap and every stream in it is running.
        """
        if stream_id in self._entries:
            self._drop(stream_id)
        now = self._clock()
        entry = _Entry(now + self.ttl, now + self.lease)
        self._touch(entry)
        if self._full():
            self._purge(now)  # expired entries go before anything is evicted
        while self._full():
            if not self._evict_one():
                raise StoreFullError(
                    f"MemoryStore is full: {len(self._entries)} streams, {self._bytes} bytes "
                    f"(max_streams={self.max_streams}, max_bytes={self.max_bytes}), all of "
                    "them running; retry once one has ended, or raise the caps"
                )
        self._entries[stream_id] = entry
        self._bytes += entry.size

    async def append(self, stream_id: str, frame: ServerSentEvent, /) -> None:
        """Add a frame or replace the snapshot (see `Store.append`); past `max_bytes`,
        finished streams are evicted (never a running one).

        Raises:
            KeyError: no such stream.
            ValueError: the frame's id is not the next one (a snapshot's: not between the
                previous snapshot's and the last frame's).
        """
        entry = self._get(stream_id)
        if entry is None:
            raise KeyError(stream_id)
        n = _frame_id(frame)
        entry.lease_until = self._clock() + self.lease
        if frame.event != "snapshot" and n == entry.last and n and entry.frames[-1] == frame:
            return  # a retried append of the frame stored last
        if frame.event == "snapshot":
            if not entry.snapshot_id <= n <= entry.last:
                raise ValueError(f"snapshot {n} of stream {stream_id!r} is out of order")
            old = _cost(entry.snapshot) if entry.snapshot is not None else 0
            entry.snapshot, entry.snapshot_id = frame, n
            self._resize(entry, _cost(frame) - old)
        else:
            if n != entry.last + 1:
                raise ValueError(
                    f"frame {n} appended to stream {stream_id!r}, expected {entry.last + 1}"
                )
            entry.frames.append(frame)
            entry.last = n
            self._resize(entry, _cost(frame))
        frames = entry.frames
        excess = len(frames) - self.max_frames
        if excess > 0 and entry.snapshot_id:
            # Never drop a frame after the snapshot: it is what resumes a client from it.
            after_snapshot = entry.last - entry.snapshot_id
            for _ in range(min(excess, len(frames) - after_snapshot)):
                self._resize(entry, -_cost(frames.popleft()))
        while self._bytes > self.max_bytes and self._finished:  # (lost ones: at create)
            self._drop(next(iter(self._finished)))
        self._touch(entry)

    async def read(self, stream_id: str, /, after: int = 0, *, wait: float = 0.0) -> Frames | None:
        """Frames after `after`, waiting up to `wait` seconds (see `Store.read`).

        Raises:
            ValueError: `after` is not a frame id (0 to `MAX_FRAME_ID`).
        """
        _check_after(after)
        entry = self._get(stream_id)
        if entry is None:
            return None
        if entry.last <= after and not entry.done and wait > 0 and not self._lost(entry):
            # Wake at the next change, or when the lease would lapse.
            with anyio.move_on_after(min(wait, entry.lease_until - self._clock() + 0.01)):
                await entry.changed.wait()
            entry = self._get(stream_id)
            if entry is None:
                return None
        lost = self._lost(entry)
        if entry.last <= after:
            return Frames((), entry.done, lost)
        first = entry.last - len(entry.frames) + 1
        if after + 1 < first and entry.snapshot is not None:
            # The frames after `after` were dropped: resume from the latest snapshot.
            events = [entry.snapshot, *entry.tail(entry.snapshot_id)]
        else:
            events = entry.tail(after)
        return Frames(tuple(events), entry.done, lost)

    def _lost(self, entry: _Entry) -> bool:
        return not entry.done and entry.lease_until <= self._clock()

    async def hold_lease(self, stream_id: str, /) -> None:
        """Renew the lease every `renew_every` seconds (see `Store.hold_lease`).

        Raises:
            KeyError: the stream is gone (expired).
        """
        while True:
            entry = self._get(stream_id)
            if entry is None:
                raise KeyError(stream_id)
            if entry.done:
                return
            entry.lease_until = max(entry.lease_until, self._clock() + self.lease)
            await anyio.sleep(self.renew_every)

    async def mark_done(self, stream_id: str, /) -> None:
        """Record the end of the stream (see `Store.mark_done`)."""
        entry = self._get(stream_id)
        if entry is not None:
            entry.done = True
            self._finished.pop(stream_id, None)
            self._finished[stream_id] = None  # evicted in the order they ended
            self._touch(entry)

    async def cancel(self, stream_id: str, /) -> bool:
        """Ask the generation to stop (see `Store.cancel`)."""
        entry = self._get(stream_id)
        if entry is None or entry.done:
            return False
        entry.cancelled.set()
        return True

    async def wait_cancelled(self, stream_id: str, /) -> None:
        """Wait for a cancel request (see `Store.wait_cancelled`)."""
        entry = self._get(stream_id)
        if entry is None:
            await anyio.sleep_forever()
        else:
            await entry.cancelled.wait()


# ------------------------------------------------------------------------------- redis


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class _Waiter:
    """One caller waiting in a `_Relay`: notified (``ready``) by the loop, or woken to lead."""

    __slots__ = ("deadline", "event", "ready")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline  # anyio.current_time() at which it stops waiting
        self.ready = False
        self.event = anyio.Event()

    def notify(self) -> None:
        self.ready = True
        self.event.set()


class _Relay:
    """A blocking loop run for all of its waiters by one of them at a time.

    `step(deadline)` makes one blocking call (bounded by the deadline and the socket
    timeout) and notifies the waiters it concerns. The first waiter that finds nobody
    leading runs steps until it is notified itself (or its deadline passes), then hands the
    lead to the next waiter in line, so one connection serves every waiter and no task
    outlives its caller.
    """

    def __init__(self, step: Callable[[float], Awaitable[None]]) -> None:
        self._step = step
        self._leading = False
        self._standby: dict[_Waiter, None] = {}  # waiting for the lead, in arrival order

    async def wait(self, waiter: _Waiter) -> None:
        try:
            while not waiter.ready and anyio.current_time() < waiter.deadline:
                if not self._leading:
                    self._leading = True
                    try:
                        while not waiter.ready and anyio.current_time() < waiter.deadline:
                            await self._step(waiter.deadline)
                    finally:
                        self._leading = False
                    return
                self._standby[waiter] = None
                try:
                    remaining = waiter.deadline - anyio.current_time()
                    with anyio.move_on_after(None if math.isinf(remaining) else remaining):
                        await waiter.event.wait()
                finally:
                    del self._standby[waiter]
                if not waiter.ready:
                    waiter.event = anyio.Event()  # woken to lead: loop
        finally:
            if not self._leading:  # hand the lead on
                for other in self._standby:
                    if not other.ready:
                        other.event.set()
                        break


# One stream's keys: its frames, its hash, its lease.
_APPEND: Final = """
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
local n = tonumber(ARGV[1])
local meta = redis.call('HMGET', KEYS[2], 'last', 'snapshot_id')
local last = tonumber(meta[1] or '0')
local snapshot = tonumber(meta[2] or '0')
if ARGV[4] == '1' then
  if n < snapshot or n > last then
    return redis.error_reply('snapshot ' .. ARGV[1] .. ' is out of order')
  end
  redis.call('HSET', KEYS[2], 'snapshot_id', ARGV[1], 'snapshot', ARGV[3])
elseif n == last then
  return 0
elseif n ~= last + 1 then
  return redis.error_reply('frame ' .. ARGV[1] .. ' appended, expected ' .. (last + 1))
else
  local minid = 0
  if snapshot > 0 then minid = math.min(n - tonumber(ARGV[5]) + 1, snapshot + 1) end
  if minid > 1 then
    redis.call('XADD', KEYS[1], 'MINID', '=', string.format('%d-0', minid),
               ARGV[1] .. '-0', 'event', ARGV[2], 'data', ARGV[3])
  else
    redis.call('XADD', KEYS[1], ARGV[1] .. '-0', 'event', ARGV[2], 'data', ARGV[3])
  end
  redis.call('HSET', KEYS[2], 'last', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[7])
return 1
"""
# -1: gone, 0: ended, 1: renewed, 2: renewed and a cancel was requested.
_RENEW: Final = """
local meta = redis.call('HMGET', KEYS[1], 'created', 'done', 'cancelled')
if not meta[1] then return -1 end
if meta[2] == '1' then return 0 end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
if meta[3] == '1' then return 2 end
return 1
"""
# The owner (the generating store's inbox) of a running stream, marked cancelled; or nil.
_CANCEL: Final = """
local meta = redis.call('HMGET', KEYS[1], 'created', 'done', 'owner')
if not meta[1] or meta[2] == '1' then return false end
redis.call('HSET', KEYS[1], 'cancelled', '1')
return meta[3]
"""
# Blocking calls end this much before the client's socket timeout would (and, without one,
# after at most _MAX_BLOCK seconds): a block never meets the timeout.
_MAX_BLOCK: Final = 10.0
_BLOCK_SHARE: Final = 0.5


class RedisStore:
    """A `Store` in Redis, shared by every server process: Redis Streams, one per stream.

    Keys (``{...}`` is a Redis Cluster hash tag, so a stream's keys share a slot):
    ``<prefix>:{<stream id>}:frames``, a Redis Stream of frames with entry ids ``<n>-0``
    (XADD with MINID trimming; XRANGE, and XREAD BLOCK to wait); ``<prefix>:{<stream id>}:meta``,
    a hash (``created``, ``done``, ``last``, ``owner``, ``cancelled``, and the latest
    snapshot: ``snapshot_id``, ``snapshot``); ``<prefix>:{<stream id>}:lease``, the running
    generation's lease (a key that expires unless renewed). A cancel request sets
    ``cancelled`` and is pushed to the inbox of the store that runs the generation,
    ``<prefix>:inbox:<token>`` (a list). Every write renews the keys' expiry.

    Connections do not grow with streams: this object makes one blocking ``XREAD`` for all
    the streams its readers wait for, and one blocking ``BLPOP`` on its inbox for all its
    generations, and renews the leases of all its generations in one pipeline every
    ``renew_every`` seconds; its other commands are short, at most half the client's
    ``max_connections`` at a time (so the default pool of 100 serves thousands of streams).
    Blocking calls stay below the client's ``socket_timeout``. Redis errors become
    `StoreUnavailableError`. asyncio only (redis-py's ``redis.asyncio``); the shared
    multi-key ``XREAD`` needs one Redis (or its replicas), not a Cluster.

    Args:
        redis: a ``redis.asyncio.Redis`` client (with or without ``decode_responses``).
        ttl: seconds the keys are kept after the stream's last write.
        max_frames: frames kept per stream (never those after the latest snapshot).
        prefix: the key prefix.
        lease: seconds a generation's lease lasts unless renewed (see `Store`).
        renew_every: seconds between the renewals of `hold_lease` (below `lease`).

    Raises:
        ValueError: a limit is not positive, or `renew_every` is not below `lease`.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        ttl: float = DEFAULT_TTL,
        max_frames: int = DEFAULT_MAX_FRAMES,
        prefix: str = "streamdantic",
        lease: float = DEFAULT_LEASE,
        renew_every: float = DEFAULT_RENEW_EVERY,
    ) -> None:
        from redis.exceptions import (
            ConnectionError,
            OutOfMemoryError,
            ResponseError,
            TimeoutError,
        )

        _check_limits(ttl, max_frames, lease, renew_every)
        self.redis = redis
        self.ttl = ttl
        self.max_frames = max_frames
        self.prefix = prefix
        self.lease = lease
        self.renew_every = renew_every
        self._owned = False
        self._unavailable: tuple[type[Exception], ...] = (ConnectionError, TimeoutError)
        self._stale: type[Exception] = ConnectionError
        self._timeout: type[Exception] = TimeoutError
        self._refused: type[Exception] = ResponseError
        self._out_of_memory: type[Exception] = OutOfMemoryError
        pool = getattr(redis, "connection_pool", None)
        options = getattr(pool, "connection_kwargs", {})
        timeout = options.get("socket_timeout")
        self._block = _MAX_BLOCK if not timeout else min(_MAX_BLOCK, timeout * _BLOCK_SHARE)
        self._concurrency = max(1, getattr(pool, "max_connections", 100) // 2)
        self._limiter: anyio.CapacityLimiter | None = None
        self._append = redis.register_script(_APPEND)
        self._renew = redis.register_script(_RENEW)
        self._cancel = redis.register_script(_CANCEL)
        # This object's cancel inbox, and the generations waiting for a cancel.
        self._inbox = f"{prefix}:inbox:{secrets.token_hex(8)}"
        self._cancel_waiters: dict[str, _Waiter] = {}
        self._cancels = _Relay(self._cancel_step)
        # The generations holding a lease, renewed together (`hold_lease`).
        self._holders: dict[str, _Holder] = {}
        self._leases = _Relay(self._lease_step)
        # Readers waiting for frames: stream key -> waiter -> the id it read up to; the keys
        # (and ids) of the XREAD in flight; a stream that wakes that XREAD to add a key.
        self._readers: dict[str, dict[_Waiter, int]] = {}
        self._reads = _Relay(self._read_step)
        self._covered: dict[str, int] | None = None
        self._bell = f"{prefix}:bell:{self._inbox.rsplit(':', 1)[1]}"
        self._bell_seen = "0-0"
        self._rung = False
        self._failing = False  # a blocking loop is failing (logged once until it recovers)
        self._renewals_failing = False

    @classmethod
    def from_url(cls, url: str, /, **options: Any) -> RedisStore:
        """A store with its own client for `url` (closed by `aclose`).

        Args:
            url: a ``redis://`` URL (its query may set the client's options, such as
                ``socket_timeout``).
            options: the store's options (``ttl``, ``max_frames``, ``prefix``, ``lease``,
                ``renew_every``).

        Returns:
            The store.
        """
        from redis.asyncio import Redis

        store = cls(Redis.from_url(url), **options)
        store._owned = True
        return store

    async def aclose(self) -> None:
        """Close the client if `from_url` created it."""
        if self._owned:
            await self.redis.aclose()

    def _keys(self, stream_id: str) -> tuple[str, str, str]:
        base = f"{self.prefix}:{{{stream_id}}}"
        return f"{base}:frames", f"{base}:meta", f"{base}:lease"

    def _ms(self, seconds: float) -> int:
        return max(1, int(seconds * 1000))

    async def _call(self, what: str, exchange: Callable[[], Awaitable[T]]) -> T:
        """One short `exchange` with Redis: limited in number, its failures translated.

        A connection error is retried once at once: after a Redis restart, the pool's idle
        connections are dead, and the first command on one fails although Redis is up
        (every exchange here is idempotent: a retried append finds its frame stored).
        """
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self._concurrency)
        async with self._limiter:
            try:
                try:
                    return await exchange()
                except self._refused as exc:
                    if isinstance(exc, self._out_of_memory) or str(exc).startswith("OOM"):
                        raise StoreFullError(
                            f"could not {what}: Redis is out of memory ({exc}); raise its "
                            "maxmemory, or let it evict (docs/sse.md, Caps)"
                        ) from exc
                    raise
                except self._stale:
                    return await exchange()
            except self._unavailable as exc:
                raise StoreUnavailableError(
                    f"could not {what}: Redis is unreachable ({exc}); the streams kept there "
                    "cannot go on until it is back"
                ) from exc

    async def _pipeline(self, what: str, build: Callable[[Any], None]) -> list[Any]:
        """One transaction (``MULTI``/``EXEC``) of the commands `build(pipe)` queues."""

        async def exchange() -> list[Any]:
            async with self.redis.pipeline() as pipe:
                build(pipe)
                return await pipe.execute()

        return await self._call(what, exchange)

    async def create(self, stream_id: str, /) -> None:
        """Register a new stream and take its lease (see `Store.create`).

        Raises:
            StoreUnavailableError: Redis cannot be reached.
        """
        _, meta, lease = self._keys(stream_id)
        fields: dict[Any, Any] = {
            "created": str(time.time()),
            "done": "0",
            "last": "0",
            "snapshot_id": "0",
            "owner": self._inbox,
        }

        def build(pipe: Any) -> None:
            pipe.hset(meta, mapping=fields)
            pipe.pexpire(meta, self._ms(self.ttl))
            pipe.set(lease, "1", px=self._ms(self.lease))

        await self._pipeline("create a stream", build)

    async def append(self, stream_id: str, frame: ServerSentEvent, /) -> None:
        """Add a frame or replace the snapshot; renew the lease (see `Store.append`).

        Raises:
            KeyError: no such stream (it expired, or Redis lost it).
            ValueError: the frame's id is not the next one (a snapshot's: not between the
                previous snapshot's and the last frame's).
            StoreUnavailableError: Redis cannot be reached.
        """
        keys = self._keys(stream_id)
        n = _frame_id(frame)
        snapshot = "1" if frame.event == "snapshot" else "0"
        args: list[Any] = [n, frame.event, frame.data, snapshot, self.max_frames]
        args += [self._ms(self.ttl), self._ms(self.lease)]
        try:
            stored = await self._call(
                "store a frame", lambda: self._append(keys=list(keys), args=args)
            )
        except self._refused as exc:
            raise ValueError(f"stream {stream_id!r}: {exc}") from None
        if stored == -1:
            raise KeyError(stream_id)

    @staticmethod
    def _events(entries: Any) -> list[tuple[int, ServerSentEvent]]:
        out = []
        for entry_id, fields in entries:
            n = int(_text(entry_id).split("-", 1)[0])
            values = {_text(k): _text(v) for k, v in fields.items()}
            out.append((n, ServerSentEvent(values["data"], event=values["event"], id=str(n))))
        return out

    async def _peek(
        self, stream_id: str, after: int
    ) -> tuple[list[tuple[int, ServerSentEvent]], bool, float] | None:
        """The frames after `after`, whether the stream is done, and the seconds its lease
        has left (0: lost; inf: done, or a stream without a lease)."""
        frames_key, meta, lease = self._keys(stream_id)

        def build(pipe: Any) -> None:
            pipe.hmget(meta, ["created", "done", "owner"])
            pipe.pttl(lease)
            pipe.xrange(frames_key, min=f"({after}-0", max="+")

        (created, done_flag, owner), left, entries = await self._pipeline("read a stream", build)
        if created is None:
            return None
        done = done_flag is not None and _text(done_flag) == "1"
        # A stream without an owner was created by a version without leases (during a
        # rolling upgrade): it is never reported lost.
        if done or owner is None or left == -1:
            remaining = math.inf
        else:
            remaining = max(0.0, left / 1000) if left >= 0 else 0.0
        return self._events(entries), done, remaining

    async def read(self, stream_id: str, /, after: int = 0, *, wait: float = 0.0) -> Frames | None:
        """Frames after `after`, waiting up to `wait` seconds (see `Store.read`).

        Raises:
            ValueError: `after` is not a frame id (0 to `MAX_FRAME_ID`).
            StoreUnavailableError: Redis cannot be reached.
        """
        _check_after(after)
        peeked = await self._peek(stream_id, after)
        if peeked is None:
            return None
        events, done, remaining = peeked
        if not events and not done and remaining > 0 and wait > 0:
            # Wake at the next frame, or when the lease would lapse if it is not renewed.
            await self._wait_frames(self._keys(stream_id)[0], after, min(wait, remaining + 0.01))
            peeked = await self._peek(stream_id, after)
            if peeked is None:
                return None
            events, done, remaining = peeked
        lost = remaining <= 0
        if events and events[0][0] > after + 1:
            resumed = await self._from_snapshot(stream_id)
            if resumed is not None:
                return Frames(resumed[0], resumed[1], lost)
        return Frames(tuple(frame for _, frame in events), done, lost)

    async def _from_snapshot(
        self, stream_id: str
    ) -> tuple[tuple[ServerSentEvent, ...], bool] | None:
        # The frames after `after` were dropped: resume from the latest snapshot. A newer
        # snapshot may trim between our two reads, so check and retry.
        frames_key, meta, _ = self._keys(stream_id)
        for _ in range(5):
            snapshot_id, snapshot, done_flag = await self._call(
                "read a stream", lambda: self.redis.hmget(meta, ["snapshot_id", "snapshot", "done"])
            )
            if snapshot is None:
                return None
            s = int(_text(snapshot_id))
            entries = await self._call(
                "read a stream", partial(self.redis.xrange, frames_key, min=f"({s}-0", max="+")
            )
            tail = self._events(entries)
            if not tail or tail[0][0] == s + 1:
                head = ServerSentEvent(_text(snapshot), event="snapshot", id=str(s))
                done = done_flag is not None and _text(done_flag) == "1"
                return (head, *(frame for _, frame in tail)), done
        return None

    async def _wait_frames(self, key: str, after: int, wait: float) -> None:
        """Until the stream `key` may have a frame after `after`, or `wait` seconds."""
        waiter = _Waiter(anyio.current_time() + wait)
        waiters = self._readers.setdefault(key, {})
        waiters[waiter] = after
        try:
            covered = self._covered
            if covered is not None and covered.get(key, after + 1) > after:
                await self._ring()  # the XREAD in flight does not cover this reader
            await self._reads.wait(waiter)
        finally:
            waiters.pop(waiter, None)
            if not waiters and self._readers.get(key) is waiters:
                del self._readers[key]

    async def _ring(self) -> None:
        """Wake the XREAD in flight (it restarts with the keys of every waiting reader)."""
        if self._rung:
            return
        self._rung = True
        try:

            def build(pipe: Any) -> None:
                pipe.xadd(self._bell, {"n": "1"}, maxlen=1, approximate=False)
                pipe.pexpire(self._bell, self._ms(self.ttl))

            await self._pipeline("wake the shared read", build)
        except StoreUnavailableError:
            pass  # the shared read is failing too; its waiters poll again soon

    async def _read_step(self, deadline: float) -> None:
        block = min(self._block, deadline - anyio.current_time())
        if block <= 0:
            return
        streams: dict[Any, Any] = {self._bell: self._bell_seen}
        covered: dict[str, int] = {}
        for key, waiters in self._readers.items():
            if waiters:
                covered[key] = min(waiters.values())
                streams[key] = f"{covered[key]}-0"
        self._covered, self._rung = covered, False
        try:
            answer = await self.redis.xread(streams, block=self._ms(block), count=1)
        except self._timeout:
            return  # nothing yet
        except self._unavailable as exc:
            await self._failed("wait for frames", exc, block)
            return
        finally:
            self._covered = None
        self._failing = False
        for key, entries in _stream_entries(answer):
            if not entries:
                continue
            first = _text(entries[0][0])
            if key == self._bell:
                self._bell_seen = first
                continue
            n = int(first.split("-", 1)[0])
            waiters = self._readers.get(key, {})
            for waiter in [w for w, seen in waiters.items() if seen < n]:
                del waiters[waiter]
                waiter.notify()

    async def _failed(self, what: str, exc: Exception, pause: float) -> None:
        if not self._failing:
            self._failing = True
            logger.warning("RedisStore could not %s (retrying): %s", what, exc)
        await anyio.sleep(min(pause, 1.0))

    async def mark_done(self, stream_id: str, /) -> None:
        """Record the end of the stream and release its lease (see `Store.mark_done`).

        Raises:
            StoreUnavailableError: Redis cannot be reached.
        """
        frames, meta, lease = self._keys(stream_id)

        def build(pipe: Any) -> None:
            pipe.hset(meta, "done", "1")
            pipe.pexpire(meta, self._ms(self.ttl))
            pipe.pexpire(frames, self._ms(self.ttl))
            pipe.delete(lease)

        await self._pipeline("end a stream", build)

    async def cancel(self, stream_id: str, /) -> bool:
        """Ask the generation to stop (see `Store.cancel`).

        Raises:
            StoreUnavailableError: Redis cannot be reached.
        """
        _, meta, _ = self._keys(stream_id)
        owner = await self._call("cancel a stream", lambda: self._cancel(keys=[meta]))
        if owner is None:
            return False
        inbox = _text(owner)

        def build(pipe: Any) -> None:
            pipe.rpush(inbox, stream_id)
            pipe.pexpire(inbox, self._ms(self.ttl))

        await self._pipeline("cancel a stream", build)
        return True

    async def wait_cancelled(self, stream_id: str, /) -> None:
        """Wait for a cancel request (see `Store.wait_cancelled`); retries while Redis is
        unreachable (`hold_lease` sees requests made meanwhile)."""
        waiter = _Waiter(math.inf)
        self._cancel_waiters[stream_id] = waiter
        try:
            _, meta, _ = self._keys(stream_id)
            try:  # a request made before we waited
                requested = await self._call(
                    "check for a cancel", lambda: self.redis.hget(meta, "cancelled")
                )
            except StoreUnavailableError:
                requested = None
            if requested is not None and _text(requested) == "1":
                return
            await self._cancels.wait(waiter)
        finally:
            if self._cancel_waiters.get(stream_id) is waiter:
                del self._cancel_waiters[stream_id]

    async def _cancel_step(self, deadline: float) -> None:
        try:
            answer = await self.redis.blpop([self._inbox], timeout=self._block)
        except self._timeout:
            return  # nothing yet
        except self._unavailable as exc:
            await self._failed("wait for cancel requests", exc, self._block)
            return
        self._failing = False
        if answer:
            waiter = self._cancel_waiters.get(_text(answer[1]))
            if waiter is not None:
                waiter.notify()

    async def hold_lease(self, stream_id: str, /) -> None:
        """Renew the lease every `renew_every` seconds (see `Store.hold_lease`); retries
        while Redis is unreachable.

        The leases of all the generations this object runs are renewed together, in one
        pipeline per period on one connection (outside the limit on short commands), so a
        renewal never queues behind the readers' commands: under load (a thousand streams
        on a saturated machine) a queued renewal could wait past the lease, and readers
        would see a running generation as lost.

        Raises:
            KeyError: the stream is gone (it expired, or Redis lost it).
        """
        holder = _Holder()
        self._holders[stream_id] = holder
        try:
            await self._leases.wait(holder)
        finally:
            if self._holders.get(stream_id) is holder:
                del self._holders[stream_id]
        if holder.gone:
            raise KeyError(stream_id)

    async def _lease_step(self, deadline: float) -> None:
        """Renew every held lease in one pipeline, settle the holders, wait a period."""
        held = list(self._holders.items())
        if held:
            try:
                states = await self._renew_all([stream_id for stream_id, _ in held])
            except self._unavailable as exc:
                if not self._renewals_failing:  # once per outage, not once per stream
                    self._renewals_failing = True
                    logger.warning("RedisStore could not renew leases (retrying): %s", exc)
            else:
                self._renewals_failing = False
                for (stream_id, holder), state in zip(held, states, strict=True):
                    if isinstance(state, Exception):
                        logger.warning("could not renew the lease of %s: %s", stream_id, state)
                    elif state == -1:
                        holder.gone = True
                        holder.notify()
                    elif state == 0:
                        holder.notify()
                    elif state == 2 and (waiter := self._cancel_waiters.get(stream_id)):
                        waiter.notify()
        await anyio.sleep(min(self.renew_every, max(0.0, deadline - anyio.current_time())))

    async def _renew_all(self, stream_ids: list[str]) -> list[Any]:
        # One round trip for all of them; a connection error is retried once at once, as
        # in `_call` (a Redis restart leaves the pool's idle connections dead).
        args = [self._ms(self.lease)]

        async def exchange() -> list[Any]:
            async with self.redis.pipeline(transaction=False) as pipe:
                for stream_id in stream_ids:
                    _, meta, lease = self._keys(stream_id)
                    await self._renew(keys=[meta, lease], args=args, client=pipe)
                return list(await pipe.execute(raise_on_error=False))

        # Shielded (up to a block's length): a generation that ends while it leads the loop
        # is cancelled, and the round it started still renews the others' leases.
        with anyio.CancelScope(shield=True, deadline=anyio.current_time() + self._block):
            try:
                return await exchange()
            except self._stale:
                return await exchange()
        raise self._timeout("renewing the leases took longer than a blocking call")


class _Holder(_Waiter):
    """A generation holding its lease in `RedisStore`'s renewal loop: ``ready`` when the
    stream ended (``gone``: it is no longer in the store)."""

    __slots__ = ("gone",)

    def __init__(self) -> None:
        super().__init__(math.inf)
        self.gone = False


def _stream_entries(answer: Any) -> list[tuple[str, Any]]:
    """(key, entries) of each stream in an XREAD answer (RESP2 list or RESP3 map)."""
    if not answer:
        return []
    if isinstance(answer, dict):
        return [(_text(key), value[0]) for key, value in answer.items()]
    return [(_text(key), entries) for key, entries in answer]
