"""The Store contract, on MemoryStore and on RedisStore over a real redis-server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from streamdantic.sse import Frames, MemoryStore, RedisStore, ServerSentEvent, Store

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

MakeStore = Callable[..., Store]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # redis.asyncio runs on asyncio only


@pytest.fixture(params=["memory", "redis"])
async def make_store(request: pytest.FixtureRequest) -> AsyncIterator[MakeStore]:
    made: list[RedisStore] = []
    if request.param == "memory":
        yield MemoryStore
        return
    url = request.getfixturevalue("redis_url")

    def make(**options: Any) -> Store:
        store = RedisStore.from_url(url, prefix=f"test-{uuid.uuid4().hex}", **options)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.aclose()


def frame(n: int, event: str = "delta") -> ServerSentEvent:
    return ServerSentEvent(f'{{"n": {n}}}', event=event, id=str(n))


def ids(frames: Frames | None) -> list[str]:
    assert frames is not None
    return [f"{e.event[0]}{e.id}" for e in frames.events]


@pytest.mark.anyio
async def test_unknown_streams_read_as_none(make_store: MakeStore) -> None:
    """Reading or cancelling a stream that was never created finds nothing."""
    store = make_store()
    assert await store.read("nope") is None
    assert await store.cancel("nope") is False


@pytest.mark.anyio
async def test_frames_are_read_after_an_id(make_store: MakeStore) -> None:
    """read(after) returns the frames after `after`, in order, until the stream is done."""
    store = make_store()
    await store.create("s")
    assert await store.read("s") == Frames((), False)
    for n in (1, 2, 3):
        await store.append("s", frame(n))
    assert ids(await store.read("s")) == ["d1", "d2", "d3"]
    assert ids(await store.read("s", 2)) == ["d3"]
    assert await store.read("s", 3) == Frames((), False)
    await store.append("s", frame(4, "final"))
    await store.mark_done("s")
    assert await store.read("s", 3) == Frames((frame(4, "final"),), True)
    assert await store.read("s", 4) == Frames((), True)


@pytest.mark.anyio
async def test_a_blocking_read_wakes_at_the_next_frame(make_store: MakeStore) -> None:
    """A reader waiting for new frames gets one as soon as it is appended."""
    store = make_store()
    await store.create("s")
    got: list[Frames | None] = []

    async def reader() -> None:
        got.append(await store.read("s", 0, wait=10))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(reader)
            await anyio.sleep(0.05)
            await store.append("s", frame(1))
    assert ids(got[0]) == ["d1"]


@pytest.mark.anyio
async def test_dropped_frames_resume_from_the_latest_snapshot(make_store: MakeStore) -> None:
    """Past max_frames old frames go; a reader behind them gets the snapshot and the rest."""
    store = make_store(max_frames=5)
    await store.create("s")
    for n in range(1, 13):
        await store.append("s", frame(n))
        if n in (4, 8):
            await store.append("s", frame(n, "snapshot"))
    assert ids(await store.read("s", 0)) == ["s8", "d9", "d10", "d11", "d12"]
    assert ids(await store.read("s", 2)) == ["s8", "d9", "d10", "d11", "d12"]
    assert ids(await store.read("s", 9)) == ["d10", "d11", "d12"]


@pytest.mark.anyio
async def test_frames_after_the_snapshot_are_never_dropped(make_store: MakeStore) -> None:
    """max_frames yields to the snapshot: every frame after it stays (no hole to resume)."""
    store = make_store(max_frames=3)
    await store.create("s")
    for n in range(1, 11):
        await store.append("s", frame(n))
        if n == 2:
            await store.append("s", frame(n, "snapshot"))
    assert ids(await store.read("s", 0)) == ["s2"] + [f"d{n}" for n in range(3, 11)]


@pytest.mark.anyio
async def test_without_a_snapshot_nothing_is_dropped(make_store: MakeStore) -> None:
    """A stream that has no snapshot keeps every frame (it could not be resumed otherwise)."""
    store = make_store(max_frames=2)
    await store.create("s")
    for n in range(1, 6):
        await store.append("s", frame(n))
    assert ids(await store.read("s")) == ["d1", "d2", "d3", "d4", "d5"]


@pytest.mark.anyio
async def test_a_cancel_request_reaches_the_waiting_generation(make_store: MakeStore) -> None:
    """cancel() wakes wait_cancelled(); a finished stream cannot be cancelled."""
    store = make_store()
    await store.create("s")
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(store.wait_cancelled, "s")
            await anyio.sleep(0.05)
            assert await store.cancel("s") is True
    await store.mark_done("s")
    assert await store.cancel("s") is False


@pytest.mark.anyio
async def test_entries_expire_after_their_ttl(make_store: MakeStore) -> None:
    """An entry is gone `ttl` seconds after its last write."""
    store = make_store(ttl=0.2)
    await store.create("s")
    await store.append("s", frame(1))
    assert await store.read("s") is not None
    await anyio.sleep(0.5)
    assert await store.read("s") is None


@pytest.mark.anyio
async def test_a_stream_whose_lease_lapsed_reads_as_lost(make_store: MakeStore) -> None:
    """A stream whose generation stopped renewing its lease reads as lost (with the frames
    it has), and a blocking read returns instead of waiting; an ended one never does."""
    store = make_store(lease=1.0, renew_every=0.05)
    await store.create("s")
    await store.create("t")
    await store.append("s", frame(1))
    await store.append("t", frame(1, "final"))
    await store.mark_done("t")
    assert await store.read("s") == Frames((frame(1),), False, False)
    with anyio.fail_after(10):
        while not (read := await store.read("s", 1, wait=5)).lost:  # waits for the lapse
            pass
    assert read == Frames((), False, True)
    assert await store.read("s") == Frames((frame(1),), False, True)
    assert await store.read("t") == Frames((frame(1, "final"),), True, False)


@pytest.mark.anyio
async def test_a_held_lease_keeps_the_stream_alive(make_store: MakeStore) -> None:
    """While hold_lease runs, the stream never reads as lost (checked over three lease
    periods); hold_lease returns once the stream ended, and raises KeyError for a stream
    that is gone."""
    store = make_store(lease=1.0, renew_every=0.05)
    await store.create("s")
    renewals = 0
    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(store.hold_lease, "s")
            while renewals < 10:  # 10 reads of 0.35 s each
                read = await store.read("s", 0, wait=0.35)
                assert read is not None and not read.lost
                renewals += 1
            await store.append("s", frame(1, "final"))
            await store.mark_done("s")
    with pytest.raises(KeyError):
        await store.hold_lease("nope")


@pytest.mark.anyio
async def test_appending_the_last_frame_again_is_a_no_op(make_store: MakeStore) -> None:
    """A failed append can be retried: the same frame again changes nothing."""
    store = make_store()
    await store.create("s")
    await store.append("s", frame(1))
    await store.append("s", frame(1))
    await store.append("s", frame(2))
    assert ids(await store.read("s")) == ["d1", "d2"]
    with pytest.raises(ValueError):
        await store.append("s", frame(4))
    with pytest.raises(KeyError):
        await store.append("nope", frame(1))


@pytest.mark.anyio
async def test_many_readers_of_many_streams_wake_at_their_frames(make_store: MakeStore) -> None:
    """Readers of different streams, two per stream, waiting at once (for RedisStore, in
    one shared XREAD), each wake with the frame appended to their stream."""
    store = make_store()
    for name in "abc":
        await store.create(name)
        await store.append(name, frame(1))
    got: dict[tuple[str, int], list[str]] = {}

    async def reader(name: str, after: int) -> None:
        got[name, after] = ids(await store.read(name, after, wait=10))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            for name in "abc":
                group.start_soon(reader, name, 1)
                group.start_soon(reader, name, 1)
            # (A reader that reads before the frames are appended gets them too.)
            await anyio.wait_all_tasks_blocked()
            for name in "cba":
                await store.append(name, frame(2))
    assert got == {(name, 1): ["d2"] for name in "abc"}
