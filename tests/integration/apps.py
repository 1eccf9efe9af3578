"""Starlette apps the integration tests serve (importable by `uvicorn --factory` too)."""

from __future__ import annotations

import json
import os
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import anyio.lowlevel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
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

    # A frame per change: the cut tests need many frames to cut between.
    streams = ResumableStreams(start, store=store, snapshot_every=snapshot_every, emit="changes")
    return Starlette(routes=[Route("/health", health), *streams.routes], lifespan=streams.lifespan)


def soak_document(seed: int, size: int) -> dict[str, Any]:
    """A document of `size` items that depends on `seed` (each generation a different one)."""
    rng = random.Random(seed)
    return {
        "seed": seed,
        "items": [{"i": i, "word": f"w{rng.randrange(10**6)}"} for i in range(size)],
    }


async def paced(text: str, count: int, delay: float) -> AsyncIterator[str]:
    """`text` in `count` pieces, one every `delay` seconds: a generation of about
    ``count * delay`` seconds."""
    step = -(-len(text) // count)
    for i in range(0, len(text), step):
        await anyio.sleep(delay)
        yield text[i : i + step]


def redis_app() -> Starlette:
    """`resumable_app` on the RedisStore of $STREAMDANTIC_REDIS_URL (for subprocesses).

    ``POST /streams`` with a JSON body ``{"seed", "size", "count", "delay"}`` streams
    `soak_document(seed, size)` in `count` pieces paced by `delay`; without a body, the
    orders document every $STREAMDANTIC_TEST_DELAY seconds (default 0.002). The store's lease
    and renewal: $STREAMDANTIC_TEST_LEASE, $STREAMDANTIC_TEST_RENEW; the generations'
    store_timeout: $STREAMDANTIC_TEST_STORE_TIMEOUT.
    """
    env = os.environ
    options: dict[str, Any] = {}
    if "STREAMDANTIC_TEST_LEASE" in env:
        options["lease"] = float(env["STREAMDANTIC_TEST_LEASE"])
        options["renew_every"] = float(env["STREAMDANTIC_TEST_RENEW"])
    store = RedisStore.from_url(
        env["STREAMDANTIC_REDIS_URL"], prefix=env["STREAMDANTIC_TEST_PREFIX"], **options
    )
    delay = float(env.get("STREAMDANTIC_TEST_DELAY", "0.002"))

    async def start(request: Request) -> Any:
        body = await request.body()
        if not body:
            return astream(slow_text(pieces(), delay))
        spec = json.loads(body)
        text = json.dumps(soak_document(spec["seed"], spec["size"]))
        return astream(paced(text, spec["count"], spec["delay"]))

    streams = ResumableStreams(
        start,
        store=store,
        snapshot_every=50,
        emit="changes",  # the soak cuts between frames, as test_resume does
        store_timeout=float(env.get("STREAMDANTIC_TEST_STORE_TIMEOUT", "30")),
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


# ------------------------------------------------------------- a misbehaving server's app


@dataclass(frozen=True)
class Answer:
    """How the misbehaving server answers one request: a status and headers, body pieces
    sent one message each, then an ending: ``"close"`` (a complete body), ``"cut"`` (the
    connection closed mid-body), ``"idle"`` (silence until the client leaves) or
    ``"heartbeats"`` (a comment every `pause` seconds, `heartbeats` of them or without end,
    then silence, until the client leaves). `pause` also separates the pieces."""

    status: int = 200
    headers: tuple[tuple[bytes, bytes], ...] = ((b"content-type", b"text/event-stream"),)
    body: tuple[bytes, ...] = ()
    end: Literal["close", "cut", "idle", "heartbeats"] = "close"
    pause: float = 0.0
    heartbeats: int | None = None


HEARTBEAT = b": heartbeat\n\n"


class Misbehaving:
    """A raw ASGI app (uvicorn speaks to it directly, so it can send anything) whose
    request n is answered by ``script(n, last_event_id)``; it records each request's
    Last-Event-ID. Tests replace `script` between runs on the same server."""

    def __init__(self) -> None:
        self.script: Callable[[int, str], Answer] = lambda n, last: Answer(status=404)
        self.requests: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        headers = dict(scope["headers"])
        last = headers.get(b"last-event-id", b"").decode("utf-8", "replace")
        n = len(self.requests)
        self.requests.append(last)
        answer = self.script(n, last)
        await send(
            {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
        )
        for piece in answer.body:
            if answer.pause:
                await anyio.sleep(answer.pause)
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        if answer.end == "cut":
            return  # uvicorn closes a connection whose app returned mid-body
        if answer.end == "close":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        async with anyio.create_task_group() as group:

            async def heartbeats() -> None:
                sent = 0
                while answer.heartbeats is None or sent < answer.heartbeats:
                    sent += 1
                    await anyio.sleep(answer.pause)
                    await send({"type": "http.response.body", "body": HEARTBEAT, "more_body": True})

            if answer.end == "heartbeats":
                group.start_soon(heartbeats)
            while (await receive())["type"] != "http.disconnect":
                pass
            group.cancel_scope.cancel()


# ------------------------------------------------------------------ the caps' and guards' apps


async def gated_text(text: str, gate: anyio.Event) -> AsyncIterator[str]:
    """`text` in pieces, once `gate` is set: a generation held until the test lets it go."""
    await gate.wait()
    for chunk in pieces(text):
        await anyio.lowlevel.checkpoint()
        yield chunk


def gated_app(
    store: Store | None = None, *, max_generations: int | None = 256, **options: Any
) -> Starlette:
    """POST /streams streams orders_20k.json once ``POST /release`` was called (every
    generation waits for it); ``GET /stats`` is ``{"running", "started"}``: the generations
    running now, and how many times `start` was called."""
    started = 0
    gate: list[anyio.Event] = []

    async def start(request: Request) -> Any:
        nonlocal started
        started += 1
        return astream(gated_text(DOCUMENT_TEXT, gate[0]))

    # A frame per change, so that frame ids (Last-Event-ID) do not depend on timing.
    options.setdefault("emit", "changes")
    streams = ResumableStreams(start, store=store, max_generations=max_generations, **options)

    async def release(request: Request) -> JSONResponse:
        gate[0].set()
        return JSONResponse({"released": True})

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse({"running": streams.running, "started": started})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        gate.append(anyio.Event())
        async with streams:
            yield

    routes = [
        Route("/health", health),
        Route("/release", release, methods=["POST"]),
        Route("/stats", stats),
        *streams.routes,
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def overload_app() -> Starlette:
    """`gated_app` with $STREAMDANTIC_TEST_MAX_GENERATIONS (for a subprocess)."""
    return gated_app(max_generations=int(os.environ["STREAMDANTIC_TEST_MAX_GENERATIONS"]))
