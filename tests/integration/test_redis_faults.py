"""RedisStore under faults and load: generations longer than the client's socket timeout, a
generating process killed, Redis stopped and restarted, a thousand streams at once."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.routing import Route

from streamdantic import (
    GenerationLostError,
    SSEError,
    StoreUnavailableError,
    astream,
)
from streamdantic.sse import (
    MemoryStore,
    ProfileDecoder,
    RedisStore,
    ServerSentEvent,
    SSEDecoder,
    connect,
)
from streamdantic.starlette import ResumableStreams

from .apps import health, paced, soak_document
from .servers import CuttingProxy, RedisServer, serve_in_thread, server_process

pytestmark = [pytest.mark.integration]

FACTORY = "tests.integration.apps:redis_app"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # redis.asyncio runs on asyncio only


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of this test's own (so it may stop and restart it)."""
    executable = shutil.which("redis-server")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed; CI requires it")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with RedisServer(executable) as server:
        yield server


def prefix() -> str:
    return f"test-{uuid.uuid4().hex}"


def app_for(streams: ResumableStreams, store: RedisStore) -> Starlette:
    """The routes of `streams`, with a lifespan that runs them and closes `store`."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with streams:
                yield
        finally:
            await store.aclose()

    return Starlette(routes=[Route("/health", health), *streams.routes], lifespan=lifespan)


async def read_stored(streams: ResumableStreams, stream_id: str) -> bytes:
    """The body of ``GET /streams/{id}``, by calling the response as an ASGI app."""
    body = bytearray()
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError

    async def send(message: Any) -> None:
        if message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await streams.response(stream_id)(scope, receive, send)
    return bytes(body)


def decode(body: bytes) -> tuple[list[int], Any]:
    """The ids of the frames in `body` and the final object they build (raises like the
    client for an error frame)."""
    events = SSEDecoder().feed(body)
    decoder = ProfileDecoder()
    for event in events:
        decoder.feed(event)
    ids = [int(e.id) for e in events if e.event and e.event != "snapshot" and e.id]
    return ids, decoder.final


# ---------------------------------------------------------------- past the socket timeout


@pytest.mark.anyio
@pytest.mark.timeout(60)
async def test_generations_outlive_the_clients_socket_timeout(redis_url: str) -> None:
    """With a 0.5 s socket timeout, paced generations of 4 s with a silence of 1.5 s (three
    timeouts) complete, side by side, and the streams still accept new ones afterwards."""
    client = Redis.from_url(redis_url, socket_timeout=0.5)
    store = RedisStore(client, prefix=prefix())
    streams = ResumableStreams(store=store)
    documents = [soak_document(seed, 8) for seed in range(3)]

    async def source(document: Any) -> AsyncIterator[str]:
        text = json.dumps(document)
        half = len(text) // 2
        async for piece in paced(text[:half], 8, 0.2):
            yield piece
        await anyio.sleep(1.5)  # the model thinks: every blocking call outlasts its timeout
        async for piece in paced(text[half:], 8, 0.2):
            yield piece

    try:
        async with streams:
            ids = [await streams.spawn(astream(source(d))) for d in documents]
            bodies: list[bytes] = [b""] * len(ids)

            async def follow(i: int) -> None:
                bodies[i] = await read_stored(streams, ids[i])

            async with anyio.create_task_group() as group:
                for i in range(len(ids)):
                    group.start_soon(follow, i)
            for body, document in zip(bodies, documents, strict=True):
                frame_ids, final = decode(body)
                assert frame_ids == list(range(1, len(frame_ids) + 1))
                assert final == document
            later = await streams.spawn(astream(paced(json.dumps(documents[0]), 3, 0.01)))
            assert decode(await read_stored(streams, later))[1] == documents[0]
    finally:
        await client.aclose()


@pytest.mark.timeout(90)
def test_a_generation_of_realistic_length_completes_across_two_processes(
    redis_url: str,
) -> None:
    """A 12 s generation (a frame every 0.2 s, past redis-py's 5 s socket timeout) run by one
    process and followed through the other completes, every frame once and in order."""
    env = {"STREAMDANTIC_REDIS_URL": redis_url, "STREAMDANTIC_TEST_PREFIX": prefix()}
    document = soak_document(11, 40)
    spec = {"seed": 11, "size": 40, "count": 60, "delay": 0.2}
    with server_process(FACTORY, env) as a, server_process(FACTORY, env) as b:
        stream_id = httpx.post(f"{a.url}/streams", json=spec, timeout=10).json()["stream_id"]
        with httpx.Client(timeout=10) as client:
            updates = list(connect(client, f"{b.url}/streams/{stream_id}"))
        # Both processes still serve after the generation.
        for server in (a, b):
            assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
    assert updates[-1].final == document
    assert [int(u.event_id) for u in updates] == list(range(1, len(updates) + 1))


# ----------------------------------------------------------------------------- liveness


@pytest.mark.timeout(90)
def test_a_reader_learns_that_the_generating_process_was_killed(redis_url: str) -> None:
    """SIGKILL the process running a generation: a client following it through the other
    process gets a declared generation_lost error (its lease lapsed), not a wait for the
    TTL."""
    env = {
        "STREAMDANTIC_REDIS_URL": redis_url,
        "STREAMDANTIC_TEST_PREFIX": prefix(),
        "STREAMDANTIC_TEST_LEASE": "2.0",
        "STREAMDANTIC_TEST_RENEW": "0.2",
    }
    spec = {"seed": 5, "size": 200, "count": 2000, "delay": 0.05}  # 100 s if left alone
    with server_process(FACTORY, env) as a, server_process(FACTORY, env) as b:
        stream_id = httpx.post(f"{a.url}/streams", json=spec, timeout=10).json()["stream_id"]
        seen = 0
        with httpx.Client(timeout=30) as client, pytest.raises(GenerationLostError) as info:
            for _ in connect(client, f"{b.url}/streams/{stream_id}"):
                seen += 1
                if seen == 3:
                    a.process.send_signal(signal.SIGKILL)
                    a.process.wait(10)
        assert seen >= 3
        assert "generation" in str(info.value)
        # Process b goes on serving.
        assert httpx.post(f"{b.url}/streams", timeout=10).status_code == 201


# ------------------------------------------------------------------------------ outages


@pytest.mark.timeout(120)
def test_a_redis_outage_ends_its_streams_with_a_declared_error_and_the_app_recovers(
    redis_server: RedisServer,
) -> None:
    """Redis stopped mid-stream: the follower gets store_unavailable (or generation_lost), a
    POST gets 503 while it is down, and once it is back the app starts and serves streams."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix())
    document = soak_document(3, 20)

    async def start(request: Any) -> Any:
        spec = json.loads(await request.body())
        return astream(paced(json.dumps(document), spec["count"], spec["delay"]))

    streams = ResumableStreams(start, store=store, store_timeout=2.0)
    app = app_for(streams, store)
    long = {"count": 1000, "delay": 0.05}
    with serve_in_thread(app) as server, httpx.Client(base_url=server, timeout=30) as client:
        stream_id = client.post("/streams", json=long).json()["stream_id"]
        seen = 0
        with pytest.raises((StoreUnavailableError, GenerationLostError)):
            for _ in connect(client, f"/streams/{stream_id}"):
                seen += 1
                if seen == 3:
                    redis_server.stop()
        assert client.post("/streams", json=long).status_code == 503
        redis_server.start()
        answer = client.post("/streams", json={"count": 10, "delay": 0.01})
        assert answer.status_code == 201
        updates = list(connect(client, answer.json()["url"]))
        assert updates[-1].final == document


@pytest.mark.timeout(60)
def test_a_client_of_a_stream_lost_in_a_restart_gets_a_declared_error(
    redis_server: RedisServer,
) -> None:
    """Redis restarted empty while a client was away: resuming the stream gives a declared
    answer (404 is an SSEError, an error frame its exception), never a hang."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix())
    document = soak_document(4, 20)

    async def start(request: Any) -> Any:
        return astream(paced(json.dumps(document), 400, 0.05))

    streams = ResumableStreams(start, store=store, store_timeout=2.0)
    app = app_for(streams, store)
    with serve_in_thread(app) as server, httpx.Client(base_url=server, timeout=30) as client:
        stream_id = client.post("/streams").json()["stream_id"]
        redis_server.stop()
        redis_server.start()
        with pytest.raises((SSEError, GenerationLostError, StoreUnavailableError)):
            list(connect(client, f"/streams/{stream_id}"))


# --------------------------------------------------------------------------------- scale


@pytest.mark.anyio
@pytest.mark.timeout(300)
async def test_a_thousand_concurrent_streams_share_a_few_connections(redis_url: str) -> None:
    """1,000 generations and 1,000 readers at once in one process, on redis-py's default
    pool: every reader gets its generation's object, with a few connections in all."""
    n = 1000
    name = f"streamdantic-scale-{uuid.uuid4().hex[:8]}"
    client = Redis.from_url(redis_url, client_name=name)
    store = RedisStore(client, prefix=prefix())
    streams = ResumableStreams(store=store, max_generations=n)  # past the default of 256
    observer = Redis.from_url(redis_url)
    release = anyio.Event()
    started = 0
    most_connections = 0
    documents = [{"n": i, "words": [f"w{i}-{k}" for k in range(4)]} for i in range(n)]

    async def source(document: Any) -> AsyncIterator[str]:
        text = json.dumps(document)
        first = text.index(",") + 1  # '{"n": 0,': one complete value, one frame
        yield text[:first]
        await release.wait()  # every stream stays open until all readers are in
        for i in range(first, len(text), 8):
            yield text[i : i + 8]

    async def connections() -> int:
        return sum(1 for c in await observer.client_list() if c.get("name") == name)

    bodies: list[bytes] = [b""] * n

    async def follow(i: int, stream_id: str) -> None:
        nonlocal started
        body = bytearray()
        scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}

        async def receive() -> dict[str, Any]:
            await anyio.sleep_forever()
            raise AssertionError

        async def send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.body" and message.get("body"):
                if not body:
                    started += 1
                    if started == n:
                        release.set()
                body.extend(message["body"])

        await streams.response(stream_id)(scope, receive, send)
        bodies[i] = bytes(body)

    clock = time.monotonic()
    try:
        async with streams:
            ids = [await streams.spawn(astream(source(d))) for d in documents]
            async with anyio.create_task_group() as group:
                for i, stream_id in enumerate(ids):
                    group.start_soon(follow, i, stream_id)
                await release.wait()
                most_connections = await connections()
        elapsed = time.monotonic() - clock
    finally:
        await client.aclose()
        await observer.aclose()
    for body, document in zip(bodies, documents, strict=True):
        frame_ids, final = decode(body)
        assert final == document
        assert frame_ids == list(range(1, len(frame_ids) + 1))
    assert (
        most_connections <= 60
    )  # the limiter: half the pool, plus the two blocking calls and the renewals
    print(f"\n{n} streams in {elapsed:.1f} s, {most_connections} Redis connections at the peak")


@pytest.mark.anyio
@pytest.mark.timeout(120)
async def test_leases_are_renewed_while_every_short_command_slot_is_taken(redis_url: str) -> None:
    """A renewal never waits behind the readers' commands: with every slot of the store's
    limit on short commands held (a thousand readers on a saturated machine), the leases of
    its generations are still renewed, in one pipeline for all of them."""
    client = Redis.from_url(redis_url)
    store = RedisStore(client, prefix=prefix(), lease=30.0, renew_every=0.05)
    ids = [f"held-{i}" for i in range(20)]
    try:
        for stream_id in ids:
            await store.create(stream_id)  # a lease of 30 s each
        leases = [store._keys(stream_id)[2] for stream_id in ids]
        for lease in leases:  # far longer than a renewal would leave them
            await client.pexpire(lease, 3_600_000)
        limiter = store._limiter
        assert limiter is not None
        owners = [object() for _ in range(int(limiter.total_tokens))]
        for owner in owners:  # every short command now waits
            await limiter.acquire_on_behalf_of(owner)
        try:
            async with anyio.create_task_group() as group:
                for stream_id in ids:
                    group.start_soon(store.hold_lease, stream_id)
                with anyio.fail_after(90):
                    while True:  # until each lease was renewed to 30 s
                        ttls = [await client.pttl(lease) for lease in leases]
                        if all(0 < ttl <= 30_000 for ttl in ttls):
                            break
                        await anyio.sleep(0.05)
                group.cancel_scope.cancel()
        finally:
            for owner in owners:
                limiter.release_on_behalf_of(owner)
        for stream_id in ids:
            await store.mark_done(stream_id)
        async with anyio.create_task_group() as group:  # ended: hold_lease returns
            for stream_id in ids:
                group.start_soon(store.hold_lease, stream_id)
        await store.create(ids[1])
        await client.delete(store._keys(ids[1])[1])  # gone: hold_lease raises KeyError
        with pytest.raises(KeyError):
            await store.hold_lease(ids[1])
    finally:
        await client.aclose()


# -------------------------------------------------------------- one failure, one stream


class FailingFor(MemoryStore):
    """A MemoryStore whose every operation on one stream fails (a broken store entry)."""

    def __init__(self) -> None:
        super().__init__()
        self.broken = ""

    def _check(self, stream_id: str) -> None:
        if stream_id == self.broken:
            raise RuntimeError(f"stream {stream_id} is broken")

    async def append(self, stream_id: str, frame: ServerSentEvent, /) -> None:
        self._check(stream_id)
        await super().append(stream_id, frame)

    async def wait_cancelled(self, stream_id: str, /) -> None:
        self._check(stream_id)
        await super().wait_cancelled(stream_id)

    async def hold_lease(self, stream_id: str, /) -> None:
        self._check(stream_id)
        await super().hold_lease(stream_id)

    async def mark_done(self, stream_id: str, /) -> None:
        self._check(stream_id)
        await super().mark_done(stream_id)


@pytest.mark.anyio
@pytest.mark.timeout(30)
async def test_a_generation_whose_store_fails_never_cancels_the_others() -> None:
    """Every store call of one stream raises: that stream alone stops (its readers learn it
    is lost); a generation beside it completes, and new ones start afterwards."""
    store = FailingFor()
    streams = ResumableStreams(store=store)
    document = soak_document(8, 10)
    gate = anyio.Event()

    async def source() -> AsyncIterator[str]:
        yield json.dumps(document)[:20]
        await gate.wait()
        yield json.dumps(document)[20:]

    async with streams:
        store.broken = await streams.spawn(astream(source()))
        other = await streams.spawn(astream(source()))
        await anyio.wait_all_tasks_blocked()  # the broken generation has failed by now
        gate.set()
        assert decode(await read_stored(streams, other))[1] == document
        later = await streams.spawn(astream(paced(json.dumps(document), 3, 0.01)))
        assert decode(await read_stored(streams, later))[1] == document


@pytest.mark.timeout(60)
def test_a_generation_goes_on_through_dropped_redis_connections(redis_url: str) -> None:
    """Every Redis connection of the server dropped twice mid-stream (a network blip, a
    proxy's reset): the generation goes on and its client gets the whole object, every
    frame once."""
    redis = httpx.URL(redis_url.replace("redis://", "http://"))
    document = soak_document(9, 30)
    with CuttingProxy([f"http://{redis.host}:{redis.port}"], lambda n: None) as tunnel:
        port = httpx.URL(tunnel.url).port
        store = RedisStore.from_url(f"redis://127.0.0.1:{port}/0", prefix=prefix())

        async def start(request: Any) -> Any:
            return astream(paced(json.dumps(document), 60, 0.05))

        streams = ResumableStreams(start, store=store)
        with serve_in_thread(app_for(streams, store)) as server:
            with httpx.Client(base_url=server, timeout=30) as client:
                url = client.post("/streams").json()["url"]
                updates = []
                for update in connect(client, url):
                    updates.append(update)
                    if len(updates) in (10, 30):
                        tunnel.cut_all()
        cuts = tunnel.cuts
    assert cuts >= 2
    assert updates[-1].final == document
    assert [int(u.event_id) for u in updates] == list(range(1, len(updates) + 1))


@pytest.mark.timeout(60)
def test_a_redis_out_of_memory_refuses_new_streams_with_503(redis_server: RedisServer) -> None:
    """Redis at its maxmemory with noeviction refuses writes with OOM: RedisStore raises
    StoreFullError, so POST /streams answers 503 with Retry-After (not a 500), and streams
    start again once Redis has room."""
    import redis

    admin = redis.Redis.from_url(redis_server.url)
    store = RedisStore.from_url(redis_server.url, prefix=prefix())

    async def start(request: Any) -> Any:
        return astream(paced(json.dumps(soak_document(1, 5)), 3, 0))

    streams = ResumableStreams(start, store=store)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with streams:
            yield
        await store.aclose()

    app = Starlette(routes=[Route("/health", health), *streams.routes], lifespan=lifespan)
    try:
        with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as client:
            admin.config_set("maxmemory-policy", "noeviction")
            admin.config_set("maxmemory", "1")  # below what Redis already uses: writes fail
            full = client.post("/streams")
            assert full.status_code == 503
            assert full.headers["retry-after"] == "5"
            assert "full" in full.json()["detail"]
            admin.config_set("maxmemory", "0")
            assert client.post("/streams").status_code == 201
    finally:
        admin.close()
