"""The reconnect matrix: every kind of endpoint, cut at random byte offsets, never splices.

A model that answers a different book on each call sits behind a source-backed
`EventStreamResponse` (refusing resumes, the default, and with ``on_resume="restart"``) and
behind `ResumableStreams` (MemoryStore, RedisStore). A TCP proxy on 127.0.0.1 cuts the
client's connection at random byte offsets (seeded) and `connect` reconnects with
``Last-Event-ID``. After every applied frame the client's object must be the state some
single generation had after that frame id (a spliced object matches none), and every run
must end with one generation's final object or a declared error.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import pytest
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from streamdantic import StreamdanticError, StreamNotResumableError, astream, stream
from streamdantic.sse import (
    AsyncClientStream,
    ClientUpdate,
    MemoryStore,
    ProfileEncoder,
    RedisStore,
    Retry,
    aconnect,
    connect,
)
from streamdantic.starlette import EventStreamResponse, ResumableStreams

from .apps import BOOK_TEXTS, Books, health, pieces
from .servers import CuttingProxy, serve_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

CUTS = 20
# CUTS cuts in a few seconds on purpose: no reconnection budget (the default would stop it).
RETRY = Retry(max_retries=40, initial_delay=0.002, max_delay=0.02, max_reconnects_per_minute=None)


class Chapter(BaseModel):
    title: str
    pages: int


class Book(BaseModel):
    title: str
    author: str
    year: int
    chapters: list[Chapter]
    blurb: str


BOOKS = [json.loads(text) for text in BOOK_TEXTS]


def consistent(partial: Any, full: Any) -> bool:
    """Whether `partial` is a state some prefix of `full`'s text parses to: strings are
    prefixes, arrays prefixes of consistent items, objects subsets of consistent members,
    other values equal. An object spliced from two different books is consistent with
    neither."""
    if isinstance(partial, str):
        return isinstance(full, str) and full.startswith(partial)
    if isinstance(partial, list):
        return (
            isinstance(full, list)
            and len(partial) <= len(full)
            and all(map(consistent, partial, full))
        )
    if isinstance(partial, dict):
        return isinstance(full, dict) and all(
            key in full and consistent(value, full[key]) for key, value in partial.items()
        )
    return type(partial) is type(full) and partial == full


def _body_lengths() -> list[int]:
    lengths = []
    for index, text in enumerate(BOOK_TEXTS):
        encoder = ProfileEncoder()
        outputs = stream(pieces(text, seed=index, longest=12), Book).events()
        lengths.append(sum(len(encoder.feed_bytes(output)) for output in outputs))
    return lengths


# The bodies' lengths without headers: a budget below SHORTEST always cuts a response.
SHORTEST, LONGEST = min(_body_lengths()), max(_body_lengths())


@dataclass
class Run:
    """One client run: what it saw and how it ended."""

    spliced: list[str] = field(default_factory=list)
    final: Any = None
    error: BaseException | None = None
    restarts: int = 0


def check(run: Run, update: ClientUpdate[Book], value: Any) -> None:
    """Record what one update shows: a restart, a spliced object, the final one."""
    if update.restarted:
        run.restarts += 1
    if value is not None and not any(consistent(value, book) for book in BOOKS):
        run.spliced.append(f"after frame {update.event_id}: {value!r:.160}")
    if update.done:
        run.final = update.final.model_dump() if update.final else None


def follow(url: str, path: str) -> Run:
    """Follow `path` through the proxy at `url`; check every state the client reaches."""
    run = Run()
    with httpx.Client(base_url=url, timeout=10) as client:
        updates = connect(client, path, Book, retry=RETRY)
        try:
            for update in updates:
                check(run, update, updates.decoder.value)
        except Exception as exc:  # judged below: declared errors only
            run.error = exc
    return run


def afollow(url: str, path: str) -> Run:
    """`follow` with `aconnect` (on asyncio)."""
    run = Run()

    async def main() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            updates: AsyncClientStream[Book] = aconnect(client, path, Book, retry=RETRY)
            try:
                async for update in updates:
                    check(run, update, updates.decoder.value)
            except Exception as exc:
                run.error = exc

    anyio.run(main)
    return run


def build_app(redis_url: str | None) -> tuple[Starlette, Books]:
    books = Books()

    async def source(request: Request) -> EventStreamResponse:
        # A frame per change: the cuts must land between many frames (LONGEST counts them).
        return EventStreamResponse(astream(books.answer(), Book), emit="changes")

    async def restart(request: Request) -> EventStreamResponse:
        return EventStreamResponse(
            astream(books.answer(), Book), on_resume="restart", emit="changes"
        )

    # A frame per change here too: the cuts land between many frames.
    memory = ResumableStreams(
        lambda r: astream(books.answer(), Book), store=MemoryStore(), emit="changes"
    )
    redis_store = (
        RedisStore.from_url(redis_url, prefix=f"matrix-{uuid.uuid4().hex}") if redis_url else None
    )
    stored = ResumableStreams(
        lambda r: astream(books.answer(), Book),
        store=redis_store,
        prefix="/redis-streams",
        snapshot_every=40,
        emit="changes",
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with memory, stored:
                yield
        finally:
            if redis_store is not None:
                await redis_store.aclose()

    routes = [
        Route("/health", health),
        Route("/source", source),
        Route("/restart", restart),
        *memory.routes,
        *stored.routes,
    ]
    return Starlette(routes=routes, lifespan=lifespan), books


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[Callable[[bool], tuple[str, Books]]]:
    started: list[Any] = []

    def start(with_redis: bool) -> tuple[str, Books]:
        redis_url = request.getfixturevalue("redis_url") if with_redis else None
        app, books = build_app(redis_url)
        context = serve_in_thread(app)
        url = context.__enter__()
        started.append(context)
        return url, books

    yield start
    for context in started:
        context.__exit__(None, None, None)


def assert_clean(run: Run) -> None:
    assert not run.spliced, run.spliced[:3]
    if run.error is None:
        assert run.final in BOOKS, "the run ended without one generation's final object"
    else:
        assert isinstance(run.error, StreamdanticError), repr(run.error)


def test_a_source_backed_stream_cut_anywhere_never_splices(server: Any) -> None:
    """20 runs, each cut once at a random offset: each ends with one book, or refuses to
    resume with a declared error."""
    url, books = server(False)
    rng = random.Random(11)
    outcomes = []
    # 20 random offsets, and one inside the status line: the client, with nothing applied,
    # asks again from the start and gets a whole (new) generation.
    for offset in [*(rng.randint(1, LONGEST + 300) for _ in range(CUTS)), 5]:
        with CuttingProxy([url], lambda n, at=offset: at if n == 0 else None) as proxy:
            run = follow(proxy.url, "/source")
        assert_clean(run)
        if run.error is not None:
            assert isinstance(run.error, StreamNotResumableError), repr(run.error)
            assert "ResumableStreams" in str(run.error)
        outcomes.append("refused" if run.error else "final")
    assert outcomes[-1] == "final"
    assert outcomes.count("refused") >= CUTS // 2, outcomes  # most cuts land mid-stream
    assert books.calls >= CUTS


@pytest.mark.parametrize("driver", [follow, afollow], ids=["connect", "aconnect"])
def test_a_restarting_stream_cut_20_times_ends_with_one_generation(
    server: Any, driver: Callable[[str, str], Run]
) -> None:
    """With on_resume="restart", each reconnect is a new generation: the client resets and
    ends with the last generation's book, whole."""
    url, books = server(False)
    rng = random.Random(12)
    budgets = [rng.randint(1, SHORTEST) for _ in range(CUTS)]
    with CuttingProxy([url], lambda n: budgets[n] if n < len(budgets) else None) as proxy:
        run = driver(proxy.url, "/restart")
        cuts = proxy.cuts
    assert_clean(run)
    assert run.error is None, repr(run.error)
    assert cuts == CUTS
    assert run.restarts >= 1
    assert run.final == BOOKS[(books.calls - 1) % len(BOOKS)]


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_a_stored_stream_cut_20_times_ends_with_its_own_generation(server: Any, store: str) -> None:
    """A resumable stream cut 20 times at random offsets resumes each time and ends with
    the book its generation produced."""
    url, books = server(store == "redis")
    prefix = "/streams" if store == "memory" else "/redis-streams"
    rng = random.Random(13 if store == "memory" else 14)
    # Budgets of up to an eighth of the shortest body (about 5.6 KB since version 3's short
    # delta frames): the 20 cuts fall before the stream's end.
    budgets = [rng.randint(1, SHORTEST // 8) for _ in range(CUTS)]
    with httpx.Client(base_url=url, timeout=10) as client:
        created = client.post(prefix)
    assert created.status_code == 201
    generation = books.calls - 1
    stream_path = f"{prefix}/{created.json()['stream_id']}"
    with CuttingProxy([url], lambda n: budgets[n] if n < len(budgets) else None) as proxy:
        run = follow(proxy.url, stream_path)
        cuts = proxy.cuts
    assert_clean(run)
    assert run.error is None, repr(run.error)
    assert cuts == CUTS
    assert run.final == BOOKS[generation % len(BOOKS)]
