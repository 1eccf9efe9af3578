"""Resumable streams over real connections: uvicorn on 127.0.0.1, httpx, connections cut."""

from __future__ import annotations

import random
import time
from collections import Counter

import httpx
import pytest

from streamdantic import StreamCancelledError
from streamdantic.sse import ClientUpdate, MemoryStore, Retry, connect

from .apps import DOCUMENT, resumable_app
from .servers import CuttingProxy, serve_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

# 20+ cuts in a few seconds on purpose: no reconnection budget (the default would stop it).
FAST_RETRY = Retry(
    max_retries=20, initial_delay=0.005, max_delay=0.05, max_reconnects_per_minute=None
)


def start(base_url: str) -> str:
    answer = httpx.post(base_url + "/streams", timeout=5)
    assert answer.status_code == 201
    body = answer.json()
    assert answer.headers["location"] == body["url"]
    return str(body["stream_id"])


def follow(base_url: str, stream_id: str, **options: object) -> list[ClientUpdate[object]]:
    with httpx.Client(base_url=base_url, timeout=5) as client:
        with connect(client, f"/streams/{stream_id}", **options) as updates:  # type: ignore[arg-type]
            return list(updates)


def delta_ids(updates: list[ClientUpdate[object]]) -> Counter[str]:
    return Counter(u.event_id for u in updates if u.kind == "delta")


def test_a_client_cut_at_random_points_gets_every_delta_once() -> None:
    """A client whose connection is cut 20+ times rebuilds the uncut run's object, and sees
    every delta exactly once."""
    rng = random.Random(7)

    def budget(n: int) -> int:
        # Mostly short connections (the version-3 stream is about 6 KB: its final frame is a
        # digest, its delta frames short), every tenth a long one.
        return 16384 if n % 10 == 9 else rng.randint(80, 500)

    with serve_in_thread(resumable_app(MemoryStore())) as server:
        stream_id = start(server)
        with CuttingProxy([server], budget) as proxy:
            started = time.monotonic()
            cut = follow(proxy.url, stream_id, retry=FAST_RETRY)
            elapsed = time.monotonic() - started
            cuts = proxy.cuts
        uncut = follow(server, stream_id)
    assert cuts >= 20, f"only {cuts} cuts"
    assert elapsed < 30
    assert cut[-1].done and uncut[-1].done
    assert cut[-1].final == uncut[-1].final == DOCUMENT
    counts = delta_ids(cut)
    assert set(counts.values()) == {1}
    assert counts == delta_ids(uncut)


def test_a_late_client_gets_the_final_object() -> None:
    """A client that arrives after the generation completed still gets the whole object."""
    with serve_in_thread(resumable_app(MemoryStore(), delay=0)) as server:
        stream_id = start(server)
        first = follow(server, stream_id)
        late = follow(server, stream_id)
        with httpx.Client(base_url=server) as client:
            done = client.get(
                f"/streams/{stream_id}", headers={"Last-Event-ID": first[-1].event_id}
            )
            missing = client.get("/streams/nope")
    assert late[-1].final == first[-1].final == DOCUMENT
    assert done.status_code == 204
    assert missing.status_code == 404


def test_the_cancel_route_stops_the_generation() -> None:
    """DELETE /streams/{id} stops the generation; its followers get a cancelled error."""
    with serve_in_thread(resumable_app(MemoryStore(), delay=0.05)) as server:
        stream_id = start(server)
        with httpx.Client(base_url=server, timeout=5) as client:
            updates = connect(client, f"/streams/{stream_id}")
            cancelled = False
            with pytest.raises(StreamCancelledError):
                for update in updates:
                    if update.kind == "delta" and not cancelled:
                        assert client.delete(f"/streams/{stream_id}").status_code == 202
                        cancelled = True
            assert client.delete(f"/streams/{stream_id}").status_code == 404
