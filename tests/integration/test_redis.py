"""Two server processes sharing one redis-server: resume on the other, cancel from it."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

import httpx
import pytest

from streamdantic import StreamCancelledError
from streamdantic.sse import connect

from .apps import DOCUMENT
from .servers import CuttingProxy, serve_in_subprocess
from .test_resume import FAST_RETRY, delta_ids, follow, start

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture
def two_servers(redis_url: str) -> Iterator[tuple[str, str]]:
    env = {
        "STREAMDANTIC_REDIS_URL": redis_url,
        "STREAMDANTIC_TEST_PREFIX": f"test-{uuid.uuid4().hex}",
    }
    factory = "tests.integration.apps:redis_app"
    with serve_in_subprocess(factory, env) as a, serve_in_subprocess(factory, env) as b:
        yield a, b


def test_a_client_cut_from_one_server_resumes_from_the_other(
    two_servers: tuple[str, str],
) -> None:
    """Connections alternate between two processes and are cut; the client still rebuilds
    the object, with every delta exactly once."""
    a, b = two_servers
    rng = random.Random(3)
    stream_id = start(a)  # the generation runs in process a

    def budget(n: int) -> int:
        return 16384 if n % 10 == 9 else rng.randint(300, 4000)

    with CuttingProxy([a, b], budget) as proxy:
        cut = follow(proxy.url, stream_id, retry=FAST_RETRY)
        connections, cuts = list(proxy.connections), proxy.cuts
    uncut = follow(b, stream_id)
    assert cuts >= 5
    assert set(connections) == {0, 1}
    assert cut[-1].final == uncut[-1].final == DOCUMENT
    counts = delta_ids(cut)
    assert set(counts.values()) == {1}
    assert counts == delta_ids(uncut)


def test_a_cancel_sent_to_the_other_server_stops_the_generation(
    two_servers: tuple[str, str],
) -> None:
    """DELETE on process b stops the generation that process a runs."""
    a, b = two_servers
    stream_id = start(a)
    with httpx.Client(timeout=5) as client:
        cancelled = False
        with pytest.raises(StreamCancelledError):
            for update in connect(client, f"{a}/streams/{stream_id}"):
                if update.kind == "delta" and not cancelled:
                    assert client.delete(f"{b}/streams/{stream_id}").status_code == 202
                    cancelled = True
        assert client.delete(f"{b}/streams/{stream_id}").status_code == 404
