"""Caps under load, on real uvicorn: the generation cap of ResumableStreams (429) and the
stream cap of MemoryStore (503), with the admitted streams completing intact."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

from streamdantic.sse import MemoryStore, connect

from .apps import DOCUMENT, gated_app
from .servers import serve_in_thread, server_process, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CAP = 20
POSTS = 300
# The server process's resident memory: measured at 46 MB idle, 48 MB after the burst and
# 57 MB once the 20 admitted streams ran (each keeps ~200 KB of frames); without the cap
# (all 300 admitted) it reached 187 MB. 120 MiB is twice the measured peak, room for a
# loaded CI box and another allocator, and still well below the uncapped run.
RSS_BOUND = 120 * 2**20


def rss(pid: int) -> int:
    """The VmRSS of process `pid`, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


async def burst(url: str, count: int) -> list[httpx.Response]:
    """`count` POSTs to /streams at once (up to 100 connections in flight)."""
    answers: list[httpx.Response] = []
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def post() -> None:
            answers.append(await client.post("/streams"))

        async with anyio.create_task_group() as group:
            for _ in range(count):
                group.start_soon(post)
    return answers


def follow(url: str, stream_url: str) -> object:
    with httpx.Client(timeout=30) as client, connect(client, stream_url) as updates:
        for _ in updates:
            pass
        return updates.final


def test_posts_past_the_generation_cap_get_429_and_the_admitted_ones_complete() -> None:
    """300 POSTs at once to a server capped at 20 generations (held until released): 20
    get 201, 280 get 429 with Retry-After, `start` runs 20 times, every admitted stream
    then ends with the whole document, and the process stays under RSS_BOUND."""
    env = {"STREAMDANTIC_TEST_MAX_GENERATIONS": str(CAP)}
    with server_process("tests.integration.apps:overload_app", env) as server:
        answers = anyio.run(burst, server.url, POSTS)
        after_burst = rss(server.process.pid)
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [201] * CAP + [429] * (POSTS - CAP)
        refused = [answer for answer in answers if answer.status_code == 429]
        assert {answer.headers["retry-after"] for answer in refused} == {"5"}
        assert "generations" in refused[0].json()["detail"]
        stats = httpx.get(server.url + "/stats").json()
        assert stats == {"running": CAP, "started": CAP}

        assert httpx.post(server.url + "/release").status_code == 200
        admitted = [answer.json()["url"] for answer in answers if answer.status_code == 201]
        finals = [follow(server.url, url) for url in admitted]
        assert finals == [DOCUMENT] * CAP
        wait_until(
            lambda: httpx.get(server.url + "/stats").json()["running"] == 0,
            30,
            "the generations to end",
        )
        peak = max(after_burst, rss(server.process.pid))
        assert peak < RSS_BOUND, f"the server's RSS reached {peak / 2**20:.1f} MiB"
        assert httpx.post(server.url + "/streams").status_code == 201  # slots freed


def test_a_memory_store_full_of_running_streams_answers_503() -> None:
    """With MemoryStore(max_streams=3) holding three running streams, a fourth POST gets
    503 with Retry-After; once they finished, new streams evict the oldest finished one."""
    store = MemoryStore(max_streams=3)
    with serve_in_thread(gated_app(store, max_generations=None)) as url:
        with httpx.Client(base_url=url, timeout=10) as client:
            first = [client.post("/streams") for _ in range(3)]
            assert [answer.status_code for answer in first] == [201] * 3
            full = client.post("/streams")
            assert full.status_code == 503
            assert full.headers["retry-after"] == "5"
            assert "full" in full.json()["detail"]
            assert client.get("/stats").json() == {"running": 3, "started": 4}
            client.post("/release")
            urls = [answer.json()["url"] for answer in first]
            assert [follow(url, stream) for stream in urls] == [DOCUMENT] * 3
            wait_until(
                lambda: client.get("/stats").json()["running"] == 0, 30, "the generations to end"
            )
            assert client.post("/streams").status_code == 201
            assert client.get(urls[0]).status_code == 404  # the oldest finished: evicted
            assert client.get(urls[1], headers={"Last-Event-ID": "1"}).status_code == 200
