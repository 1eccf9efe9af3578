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
