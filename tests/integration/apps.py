"""Starlette apps the integration tests serve (importable by `uvicorn --factory` too)."""

from __future__ import annotations

import json
import os
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from streamdantic import astream
from streamdantic.sse import RedisStore, Store
from streamdantic.starlette import ResumableStreams

from .servers import ROOT

DOCUMENT_TEXT = (ROOT / "fixtures" / "documents" / "orders_20k.json").read_text("utf-8")
DOCUMENT = json.loads(DOCUMENT_TEXT)


def pieces(text: str = DOCUMENT_TEXT, seed: int = 0, longest: int = 60) -> list[str]:
    """`text` in random pieces, as a model would stream it."""
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(text):
        k = rng.randint(1, longest)
        out.append(text[i : i + k])
        i += k
    return out


async def slow_text(chunks: list[str], delay: float) -> AsyncIterator[str]:
    """The pieces, one every `delay` seconds: a model that takes its time."""
    for chunk in chunks:
        await anyio.sleep(delay)
        yield chunk


async def health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def resumable_app(
    store: Store | None = None, *, delay: float = 0.0005, snapshot_every: int = 100
) -> Starlette:
    """POST /streams streams orders_20k.json, slowly; GET/DELETE /streams/{id}."""

    async def start(request: Request) -> Any:
        return astream(slow_text(pieces(), delay))

    streams = ResumableStreams(start, store=store, snapshot_every=snapshot_every)
    return Starlette(routes=[Route("/health", health), *streams.routes], lifespan=streams.lifespan)


def redis_app() -> Starlette:
    """`resumable_app` on the RedisStore of $STREAMDANTIC_REDIS_URL (for subprocesses)."""
    store = RedisStore.from_url(
        os.environ["STREAMDANTIC_REDIS_URL"], prefix=os.environ["STREAMDANTIC_TEST_PREFIX"]
    )
    streams = ResumableStreams(
        lambda request: astream(slow_text(pieces(), 0.002)), store=store, snapshot_every=50
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with streams:
                yield
        finally:
            await store.aclose()

    return Starlette(routes=[Route("/health", health), *streams.routes], lifespan=lifespan)


# ------------------------------------------------------------------ the reconnect matrix's app


def book_texts(count: int = 5) -> list[str]:
    """`count` different books as JSON text: a model answering differently on each call."""
    titles = [
        "The Left Hand of Darkness",
        "A Wizard of Earthsea",
        "The Dispossessed",
        "The Lathe of Heaven",
        "Always Coming Home",
        "The Word for World Is Forest",
    ]
    words = "ice winter gethen shifgrethor ansible orbit anarres urras river dream".split()
    out = []
    for n in range(count):
        rng = random.Random(100 + n)
        title = titles[n % len(titles)]
        book = {
            "title": title,
            "author": "Ursula K. Le Guin",
            "year": 1966 + 3 * n,
            "chapters": [
                {"title": f"{title}, part {i + 1}", "pages": rng.randint(5, 40)}
                for i in range(rng.randint(6, 10))
            ],
            "blurb": " ".join(rng.choice(words) for _ in range(rng.randint(120, 180))),
        }
        out.append(json.dumps(book))
    return out


BOOK_TEXTS = book_texts()


class Books:
    """The model of the matrix: call n answers book n mod 5, in the pieces of seed n mod 5."""

    def __init__(self) -> None:
        self.calls = 0

    def answer(self) -> AsyncIterator[str]:
        index = self.calls % len(BOOK_TEXTS)
        self.calls += 1
        return slow_text(pieces(BOOK_TEXTS[index], seed=index, longest=12), 0)
