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

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

import anyio

from ._sse import ServerSentEvent

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Frames", "MemoryStore", "RedisStore", "Store"]

# One hour: long enough for a client to come back after a network change or a laptop
# sleep; the final object is kept as long. (Vercel's resumable-stream package defaults
# to 24 hours on Redis; an in-process default is better kept short.)
DEFAULT_TTL: Final = 3600.0
# Frames per stream: a long structured answer is a few thousand deltas.
DEFAULT_MAX_FRAMES: Final = 10_000


@dataclass(frozen=True, slots=True)
class Frames:
    """The answer of `Store.read`.

    Attributes:
        events: frames after the requested id, in order (starting with the latest snapshot
            when the frames right after the requested id were dropped).
        done: the stream has ended (`Store.mark_done`) and `events` reach its end.
    """

    events: tuple[ServerSentEvent, ...]
    done: bool


@runtime_checkable
class Store(Protocol):
    """Where resumable streams keep their frames (async; safe for concurrent readers).

    Frames are `ServerSentEvent`s whose ``id`` is the decimal frame number, 1, 2, 3, ...
    without holes. A ``"snapshot"`` is not a frame: its id is that of the last frame it
    includes; the store keeps the latest one to resume readers whose frames it dropped.
    """

    async def create(self, stream_id: str, /) -> None:
        """Register a new stream (readers may arrive before its first frame)."""
        ...

    async def append(self, stream_id: str, frame: ServerSentEvent, /) -> None:
        """Add the stream's next frame and wake its readers, or replace its snapshot."""
        ...

    async def read(self, stream_id: str, /, after: int = 0, *, wait: float = 0.0) -> Frames | None:
        """The frames after id `after`; when there are none yet and the stream has not
        ended, wait up to `wait` seconds for one. ``None``: no such stream (or expired)."""
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


def _check_limits(ttl: float, max_frames: int) -> None:
    if not ttl > 0:
        raise ValueError(f"ttl must be positive, not {ttl!r}")
    if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1:
        raise ValueError(f"max_frames must be a positive int, not {max_frames!r}")


def _frame_id(frame: ServerSentEvent) -> int:
    raw = frame.id or ""
    if not (raw.isascii() and raw.isdigit()):
        raise ValueError(f"stored frames need a decimal id, not {frame.id!r}")
    return int(raw)


# ------------------------------------------------------------------------------ memory


class _Entry:
    __slots__ = (
        "cancelled",
        "changed",
        "done",
        "expires",
        "frames",
        "last",
        "snapshot",
        "snapshot_id",
    )

    def __init__(self, expires: float) -> None:
        self.frames: deque[ServerSentEvent] = deque()  # contiguous ids, ending at `last`
        self.last = 0  # id of the last frame appended
        self.snapshot: ServerSentEvent | None = None  # the latest snapshot
        self.snapshot_id = 0
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

    Args:
        ttl: seconds an entry is kept after its last write.
        max_frames: frames kept per stream (older ones are dropped, never those after the
            latest snapshot).
        clock: the monotonic clock, in seconds (replaceable in tests).

    Raises:
        ValueError: a limit is not positive.
    """

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        max_frames: int = DEFAULT_MAX_FRAMES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        _check_limits(ttl, max_frames)
        self.ttl = ttl
        self.max_frames = max_frames
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._next_purge = 0.0

    def _get(self, stream_id: str) -> _Entry | None:
        entry = self._entries.get(stream_id)
        if entry is not None and entry.expires <= self._clock():
            del self._entries[stream_id]
            entry.changed.set()
            return None
        return entry

    def _touch(self, entry: _Entry) -> None:
        now = self._clock()
        entry.expires = now + self.ttl
        changed, entry.changed = entry.changed, anyio.Event()
        changed.set()
        if now >= self._next_purge:  # drop expired entries, at most once a second
            self._next_purge = now + 1.0
            for key in [k for k, e in self._entries.items() if e.expires <= now]:
                self._entries.pop(key).changed.set()

    async def create(self, stream_id: str, /) -> None:
        """Register a new stream (see `Store.create`)."""
        entry = _Entry(self._clock() + self.ttl)
        self._entries[stream_id] = entry
        self._touch(entry)

    async def append(self, stream_id: str, frame: ServerSentEvent, /) -> None:
        """Add a frame or replace the snapshot (see `Store.append`).

        Raises:
            KeyError: no such stream.
            ValueError: the frame's id is not the next one (a snapshot's: not between the
                previous snapshot's and the last frame's).
        """
        entry = self._get(stream_id)
        if entry is None:
            raise KeyError(stream_id)
        n = _frame_id(frame)
        if frame.event == "snapshot":
            if not entry.snapshot_id <= n <= entry.last:
                raise ValueError(f"snapshot {n} of stream {stream_id!r} is out of order")
            entry.snapshot, entry.snapshot_id = frame, n
        else:
            if n != entry.last + 1:
                raise ValueError(
                    f"frame {n} appended to stream {stream_id!r}, expected {entry.last + 1}"
                )
            entry.frames.append(frame)
            entry.last = n
        frames = entry.frames
        excess = len(frames) - self.max_frames
        if excess > 0 and entry.snapshot_id:
            # Never drop a frame after the snapshot: it is what resumes a client from it.
            after_snapshot = entry.last - entry.snapshot_id
            for _ in range(min(excess, len(frames) - after_snapshot)):
                frames.popleft()
        self._touch(entry)

    async def read(self, stream_id: str, /, after: int = 0, *, wait: float = 0.0) -> Frames | None:
        """Frames after `after`, waiting up to `wait` seconds (see `Store.read`)."""
        entry = self._get(stream_id)
        if entry is None:
            return None
        if entry.last <= after and not entry.done and wait > 0:
            with anyio.move_on_after(wait):
                await entry.changed.wait()
            entry = self._get(stream_id)
            if entry is None:
                return None
        if entry.last <= after:
            return Frames((), entry.done)
        first = entry.last - len(entry.frames) + 1
        if after + 1 < first and entry.snapshot is not None:
            # The frames after `after` were dropped: resume from the latest snapshot.
            events = [entry.snapshot, *entry.tail(entry.snapshot_id)]
        else:
            events = entry.tail(after)
        return Frames(tuple(events), entry.done)

    async def mark_done(self, stream_id: str, /) -> None:
        """Record the end of the stream (see `Store.mark_done`)."""
        entry = self._get(stream_id)
        if entry is not None:
            entry.done = True
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


class RedisStore:
    """A `Store` in Redis, shared by every server process: Redis Streams, one per stream.

    Keys (``{...}`` is a Redis Cluster hash tag, so a stream's keys share a slot):
    ``<prefix>:{<stream id>}:frames``, a Redis Stream of frames with entry ids ``<n>-0``
    (XADD with MINID trimming; XRANGE, and XREAD BLOCK to wait); ``<prefix>:{<stream id>}:meta``,
    a hash (``created``, ``done``, and the latest snapshot: ``snapshot_id``, ``snapshot``);
    ``<prefix>:{<stream id>}:cancel``, a list a cancel request is pushed to (BLPOP by the
    generation). Every write renews the keys' expiry.

    asyncio only (redis-py's ``redis.asyncio``).

    Args:
        redis: a ``redis.asyncio.Redis`` client (with or without ``decode_responses``).
        ttl: seconds the keys are kept after the stream's last write.
        max_frames: frames kept per stream (never those after the latest snapshot).
        prefix: the key prefix.

    Raises:
        ValueError: a limit is not positive.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        ttl: float = DEFAULT_TTL,
        max_frames: int = DEFAULT_MAX_FRAMES,
        prefix: str = "streamdantic",
    ) -> None:
        _check_limits(ttl, max_frames)
        self.redis = redis
        self.ttl = ttl
        self.max_frames = max_frames
        self.prefix = prefix
        self._owned = False
        # The latest snapshot id of the streams this process writes (the writer trims).
        self._snapshots: dict[str, int] = {}

    @classmethod
    def from_url(cls, url: str, /, **options: Any) -> RedisStore:
        """A store with its own client for `url` (closed by `aclose`); `options` are the
        store's (``ttl``, ``max_frames``, ``prefix``)."""
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
        return f"{base}:frames", f"{base}:meta", f"{base}:cancel"

    @property
    def _ttl_ms(self) -> int:
        return max(1, int(self.ttl * 1000))

    async def create(self, stream_id: str, /) -> None:
        """Register a new stream (see `Store.create`)."""
        _, meta, _ = self._keys(stream_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(meta, mapping={"created": str(time.time()), "done": "0", "snapshot_id": "0"})
            pipe.pexpire(meta, self._ttl_ms)
            await pipe.execute()

    async def append(self, stream_id: str, frame: ServerSentEvent, /) -> None:
        """Add a frame or replace the snapshot (see `Store.append`).

        Raises:
            redis.ResponseError: a frame's id is not above the last one (XADD refuses it).
        """
        frames, meta, _ = self._keys(stream_id)
        n = _frame_id(frame)
        async with self.redis.pipeline(transaction=True) as pipe:
            if frame.event == "snapshot":
                self._snapshots[stream_id] = n
                pipe.hset(meta, mapping={"snapshot_id": str(n), "snapshot": frame.data})
            else:
                snapshot = self._snapshots.get(stream_id, 0)
                # Keep the last max_frames frames, and every frame after the snapshot.
                minid = min(n - self.max_frames + 1, snapshot + 1) if snapshot else 0
                pipe.xadd(
                    frames,
                    {"event": frame.event, "data": frame.data},
                    id=f"{n}-0",
                    minid=f"{minid}-0" if minid > 1 else None,
                    approximate=False,
                )
                pipe.pexpire(frames, self._ttl_ms)
            pipe.pexpire(meta, self._ttl_ms)
            await pipe.execute()

    @staticmethod
    def _events(entries: Any) -> list[tuple[int, ServerSentEvent]]:
        out = []
        for entry_id, fields in entries:
            n = int(_text(entry_id).split("-", 1)[0])
            values = {_text(k): _text(v) for k, v in fields.items()}
            out.append((n, ServerSentEvent(values["data"], event=values["event"], id=str(n))))
        return out

    async def read(self, stream_id: str, /, after: int = 0, *, wait: float = 0.0) -> Frames | None:
        """Frames after `after`, waiting up to `wait` seconds (see `Store.read`)."""
        frames_key, meta, _ = self._keys(stream_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hmget(meta, ["created", "done"])
            pipe.xrange(frames_key, min=f"({after}-0", max="+")
            (created, done_flag), entries = await pipe.execute()
        if created is None:
            return None
        done = done_flag is not None and _text(done_flag) == "1"
        events = self._events(entries)
        if not events and not done and wait > 0:
            # XREAD BLOCK wakes at the next XADD; `done` is set after the terminal frame
            # was added, so a reader never sleeps through the end.
            answer = await self.redis.xread(
                {frames_key: f"{after}-0"}, block=max(1, int(wait * 1000))
            )
            events = self._events(_stream_entries(answer))
            if events:
                flag = await self.redis.hget(meta, "done")
                done = flag is not None and _text(flag) == "1"
        if events and events[0][0] > after + 1:
            # The frames after `after` were dropped: resume from the latest snapshot. A
            # newer snapshot may trim between our two reads, so check and retry.
            for _ in range(5):
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.hmget(meta, ["snapshot_id", "snapshot", "done"])
                    ((snapshot_id, snapshot, done_flag),) = await pipe.execute()
                if snapshot is None:
                    break
                s = int(_text(snapshot_id))
                entries = await self.redis.xrange(frames_key, min=f"({s}-0", max="+")
                tail = self._events(entries)
                if not tail or tail[0][0] == s + 1:
                    head = ServerSentEvent(_text(snapshot), event="snapshot", id=str(s))
                    done = done_flag is not None and _text(done_flag) == "1"
                    return Frames((head, *(frame for _, frame in tail)), done)
        return Frames(tuple(frame for _, frame in events), done)

    async def mark_done(self, stream_id: str, /) -> None:
        """Record the end of the stream (see `Store.mark_done`)."""
        frames, meta, cancel = self._keys(stream_id)
        self._snapshots.pop(stream_id, None)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(meta, "done", "1")
            pipe.pexpire(meta, self._ttl_ms)
            pipe.pexpire(frames, self._ttl_ms)
            pipe.delete(cancel)
            await pipe.execute()

    async def cancel(self, stream_id: str, /) -> bool:
        """Ask the generation to stop (see `Store.cancel`)."""
        _, meta, cancel = self._keys(stream_id)
        done = await self.redis.hget(meta, "done")
        if done is None or _text(done) == "1":
            return False
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(cancel, "1")
            pipe.pexpire(cancel, self._ttl_ms)
            await pipe.execute()
        return True

    async def wait_cancelled(self, stream_id: str, /) -> None:
        """Wait for a cancel request (see `Store.wait_cancelled`): BLPOP, one connection."""
        _, _, cancel = self._keys(stream_id)
        while True:
            # Bounded blocks, so the connection goes back to the pool now and then.
            if await self.redis.blpop([cancel], timeout=5) is not None:
                return


def _stream_entries(answer: Any) -> Any:
    """The entries of the one stream in an XREAD answer (RESP2 list or RESP3 map)."""
    if not answer:
        return []
    if isinstance(answer, dict):
        return next(iter(answer.values()))[0]
    return answer[0][1]
