"""A short Redis soak: concurrent generations of 10-30 s through two server processes sharing
one redis-server, clients cut at random points (resuming on either process), cancels, and a
Redis restart in the middle."""

from __future__ import annotations

import random
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from streamdantic import (
    GenerationLostError,
    SSEError,
    StoreUnavailableError,
    StreamCancelledError,
    StreamdanticError,
)
from streamdantic.sse import ClientUpdate, Retry, connect

from .apps import soak_document
from .servers import CuttingProxy, RedisServer, serve_in_subprocess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SEED = 20261202
# Cut often on purpose, and long: no reconnection budget, no deadline.
RETRY = Retry(
    max_retries=20,
    initial_delay=0.05,
    max_delay=0.5,
    max_reconnects_per_minute=None,
    deadline=None,
)
# What a stream hit by the restart may end with instead of its object: a declared error
# (the store was unreachable; the stream was lost with it; 404 after it came back empty).
DECLARED = (StoreUnavailableError, GenerationLostError, SSEError)


@dataclass
class Run:
    """One client's stream: what it asked for, and what it got."""

    wave: str
    seed: int
    size: int
    count: int
    cancel_at: int | None = None
    stream_id: str = ""
    updates: list[ClientUpdate[Any]] = field(default_factory=list)
    error: StreamdanticError | None = None

    @property
    def spec(self) -> dict[str, Any]:
        return {"seed": self.seed, "size": self.size, "count": self.count, "delay": 0.2}


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with RedisServer(executable) as server:
        yield server


def follow(run: Run, proxy: str, servers: list[str]) -> Run:
    """Follow the stream through the cutting proxy (to both processes), cancelling it via one
    of them after `cancel_at` updates."""
    with httpx.Client(timeout=15) as client:
        try:
            for update in connect(client, f"{proxy}/streams/{run.stream_id}", retry=RETRY):
                run.updates.append(update)
                if run.cancel_at is not None and len(run.updates) == run.cancel_at:
                    target = servers[run.seed % 2]
                    answer = client.delete(f"{target}/streams/{run.stream_id}")
                    assert answer.status_code == 202, answer.text
        except StreamdanticError as exc:
            run.error = exc
    return run


def check_frames(run: Run) -> None:
    """Every frame once, in order."""
    ids = [int(u.event_id) for u in run.updates]
    assert ids == list(range(1, len(ids) + 1)), (run.wave, run.seed, ids)


def test_a_soak_with_cuts_cancels_and_a_redis_restart(redis_server: RedisServer) -> None:
    """Streams wholly before or after the restart end exactly as generated (or cancelled when
    asked), with every frame once; streams the restart hits end with their object or a
    declared error; never a false `truncated`; the app starts streams after the restart."""
    rng = random.Random(SEED)
    env = {
        "STREAMDANTIC_REDIS_URL": redis_server.url,
        "STREAMDANTIC_TEST_PREFIX": f"soak-{uuid.uuid4().hex}",
        "STREAMDANTIC_TEST_LEASE": "5.0",
        "STREAMDANTIC_TEST_RENEW": "0.5",
        "STREAMDANTIC_TEST_STORE_TIMEOUT": "3",
    }

    def budget(n: int) -> int | None:
        cut = random.Random(SEED + n)  # per connection: the same cuts whatever the timing
        return None if cut.random() < 0.2 else cut.randint(400, 5000)

    def wave(name: str, k: int, counts: tuple[int, int], cancels: int) -> list[Run]:
        runs = [Run(name, rng.randrange(10**6), 30, rng.randint(*counts), None) for _ in range(k)]
        for run in rng.sample(runs, cancels):
            run.cancel_at = rng.randint(5, 20)
        return runs

    before = wave("before", 6, (50, 70), cancels=2)  # 10-14 s, done before the restart
    # 300 s if left alone: running at the restart on any machine (which ends them).
    hit = wave("hit", 3, (1500, 1500), cancels=0)
    after = wave("after", 4, (50, 60), cancels=1)  # started after the restart
    factory = "tests.integration.apps:redis_app"
    with (
        serve_in_subprocess(factory, env) as a,
        serve_in_subprocess(factory, env) as b,
        CuttingProxy([a, b], budget) as proxy,
        ThreadPoolExecutor(max_workers=len(before) + len(hit) + len(after)) as pool,
        httpx.Client(timeout=30) as client,
    ):
        servers = [a, b]

        def launch(runs: list[Run]) -> list[Future[Run]]:
            for i, run in enumerate(runs):
                answer = client.post(f"{servers[i % 2]}/streams", json=run.spec)
                assert answer.status_code == 201, answer.text
                run.stream_id = answer.json()["stream_id"]
            return [pool.submit(follow, run, proxy.url, servers) for run in runs]

        first = launch(before)
        hit_futures = launch(hit)
        for future in first:
            future.result()
        # Every stream of the first wave has ended; the long ones are mid-generation.
        redis_server.stop()
        redis_server.start()
        last = launch(after)
        results = [f.result() for f in (*first, *hit_futures, *last)]
        cuts = proxy.cuts
        for server in servers:  # both processes still serve
            assert client.post(f"{server}/streams", json=after[0].spec).status_code == 201
    outcomes = Counter(
        (run.wave, "final" if run.error is None else type(run.error).__name__) for run in results
    )
    print(f"\n{len(results)} streams, {cuts} cuts: {dict(sorted(outcomes.items()))}")
    assert cuts >= 5, f"only {cuts} cuts"
    for run in results:
        check_frames(run)
        assert run.error is not None or run.updates[-1].done
        if run.wave == "hit":
            if run.error is None:
                assert run.updates[-1].final == soak_document(run.seed, run.size)
            else:
                assert isinstance(run.error, DECLARED), repr(run.error)
        elif run.cancel_at is not None:
            assert isinstance(run.error, StreamCancelledError), repr(run.error)
            assert len(run.updates) >= run.cancel_at
        else:
            assert run.error is None, (run.wave, repr(run.error))
            assert run.updates[-1].final == soak_document(run.seed, run.size)
