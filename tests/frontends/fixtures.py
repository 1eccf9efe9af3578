"""The streams the front-end tests serve, the server that serves them, and the Node runner.

Every fixture is served by a real uvicorn on 127.0.0.1 (tests/integration/servers.py) in one
of the front ends' protocols; Node scripts in js/ read them with the protocols' own client
packages (installed by ``npm ci`` in js/, which .ci/run does). Without node or the packages
the tests skip, unless ``CI`` is set, where that is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import streamdantic as sd
from streamdantic.starlette import EventStreamResponse

JS = Path(__file__).with_name("js")


# ------------------------------------------------------------------------------ models


class Record(BaseModel):
    id: int
    name: str
    score: float
    tags: list[str]
    active: bool


class Records(BaseModel):
    records: list[Record]


class Address(BaseModel):
    street: str
    city: str
    zip: str


class Line(BaseModel):
    sku: str
    qty: int
    price: float


class Order(BaseModel):
    id: int
    customer: dict[str, Any]
    shipping: Address
    lines: list[Line]
    note: str


RECORDS = {
    "records": [
        {
            "id": i,
            "name": f"record number {i}",
            "score": i * 1.25,
            "tags": [f"t{i}", "x" * (i % 5)],
            "active": i % 2 == 0,
        }
        for i in range(30)
    ]
}
NESTED = {
    "id": 7,
    "customer": {"name": "Ada", "tier": {"level": 3, "since": "2019"}, "flags": [True, None]},
    "shipping": {"street": "1 Long Road", "city": "Cambridge", "zip": "CB1"},
    "lines": [{"sku": f"SKU-{i}", "qty": i + 1, "price": 9.5 + i} for i in range(6)],
    "note": "leave at the door, please",
}
UNICODE = {
    "id": 1,
    "customer": {"name": "Zoë Ñandú 日本語", "emoji": "🎉👩‍💻"},
    "shipping": {"street": 'Straße 5 «quoted» "q" back\\slash', "city": "Zürich", "zip": "8001"},
    "lines": [{"sku": "Ω-1", "qty": 1, "price": 1.0}],
    "note": "line one\nline two\ttab, é\u2028separator",
}

OBJECTS: dict[str, tuple[type[BaseModel], dict[str, Any]]] = {
    "records": (Records, RECORDS),
    "nested": (Order, NESTED),
    "unicode": (Order, UNICODE),
}


def pieces(document: dict[str, Any], size: int = 7) -> list[str]:
    """The document's JSON text in `size`-character pieces (as a model streams tokens)."""
    text = json.dumps(document, ensure_ascii=False)
    return [text[i : i + size] for i in range(0, len(text), size)]


def final_json(name: str) -> Any:
    """The validated final object of fixture `name`, as the front end receives it."""
    model, document = OBJECTS[name]
    return sd.stream_to_object(pieces(document), model).model_dump(mode="json", by_alias=True)


async def _text(
    document: dict[str, Any], *, fail_after: int | None = None, error: Exception | None = None
) -> AsyncIterator[str]:
    for n, piece in enumerate(pieces(document)):
        if n == fail_after and error is not None:
            raise error
        yield piece
        await anyio.lowlevel.checkpoint()


def agent_parts() -> list[sd.parts.Part]:
    """Prose, reasoning and two tool calls (one fails), as an agent's stream carries them."""
    return [
        sd.parts.ReasoningDelta("The user wants the weather; "),
        sd.parts.ReasoningDelta("call the tool."),
        sd.parts.TextDelta("Let me look "),
        sd.parts.TextDelta("that up — ☀️."),
        sd.parts.ToolCallDelta("call-1", '{"city": ', name="weather", index=0),
        sd.parts.ToolCallDelta("call-1", '"Paris"}'),
        sd.parts.ToolCallDone("call-1", "weather", '{"city": "Paris"}', {"city": "Paris"}),
        sd.parts.ToolResult("call-1", {"temperature": 21, "sky": "clear"}),
        sd.parts.ToolCallDelta("call-2", '{"city": "Atlantis"}', name="weather", index=1),
        sd.parts.ToolCallDone("call-2", "weather", '{"city": "Atlantis"}', {"city": "Atlantis"}),
        sd.parts.ToolResult("call-2", LookupError("no such city: Atlantis")),
        sd.parts.TextDelta("It is 21 °C and clear in Paris."),
        sd.parts.Usage(12, 34),
        sd.parts.Finish("stop"),
    ]


class Hang:
    """A source that streams part of an object, then waits for ever: `cancelled` is set
    once the server closed it (the client went away)."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()

    async def source(self) -> AsyncIterator[str]:
        try:
            for piece in pieces(NESTED)[:12]:
                yield piece
            await anyio.sleep_forever()
        finally:
            self.cancelled.set()


def source_for(name: str, hang: Hang) -> Any:
    if name in OBJECTS:
        model, document = OBJECTS[name]
        return sd.astream(_text(document), model)
    if name == "agent":
        return agent_parts()
    if name == "error":
        error = sd.ProviderError("the provider is overloaded (529), retry later")
        return sd.astream(_text(NESTED, fail_after=10, error=error), Order)
    if name == "cancelled":
        cancel = sd.StreamCancelledError("the user pressed stop")
        return sd.astream(_text(NESTED, fail_after=8, error=cancel), Order)
    if name == "hang":
        return sd.astream(hang.source(), Order)
    raise KeyError(name)


def make_app(
    protocol: Callable[[Any], Any], hang: Hang, *, extra: list[Route] | None = None
) -> Starlette:
    """POST (or GET) /stream/{name}: fixture `name` in the protocol ``protocol(body)``
    gives (`body`: the request's JSON, or None)."""

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        return EventStreamResponse(
            source_for(request.path_params["name"], hang),
            protocol=protocol(json.loads(body) if body else None),
        )

    return Starlette(
        routes=[Route("/stream/{name}", endpoint, methods=["GET", "POST"]), *(extra or [])]
    )


def node() -> str:
    """The node executable, with the packages of js/ installed (skip, or fail under CI)."""
    exe = shutil.which("node")
    problem = None
    if exe is None:
        problem = "node is not installed"
    elif not (JS / "node_modules" / "ai").is_dir():
        problem = "the front-end packages are not installed (npm ci in tests/frontends/js)"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{problem} (CI is set, so the front-end tests must run)")
        pytest.skip(problem)
    assert exe is not None
    return exe


def run_node(script: str, *args: str, timeout: float = 60) -> list[dict[str, Any]]:
    """Run js/`script` with `args`; its output's JSON lines."""
    result = subprocess.run(
        [node(), str(JS / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=JS,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.split("\n") if line.strip()]
