"""A client that (re)connects to a stored stream in a front end's protocol gets the state so
far as one snapshot, then the rest live: useChat's resume (``reconnectToStream``) and an
AG-UI agent run against a `ResumableStreams` stream."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import streamdantic as sd
from streamdantic.starlette import ResumableStreams
from tests.frontends.fixtures import JS, NESTED, Order, final_json, node, pieces
from tests.integration.servers import serve_in_thread
from tests.property.contract import extends

pytestmark = pytest.mark.integration

HALF = len(pieces(NESTED)) // 2


class Gated:
    """The nested fixture's text: half of it, then nothing until `gate` is set."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.gate = threading.Event()

    async def text(self) -> AsyncIterator[str]:
        for n, piece in enumerate(pieces(NESTED)):
            if n == HALF:
                self.reached.set()
                await anyio.to_thread.run_sync(self.gate.wait, abandon_on_cancel=True)
            yield piece


def _half_state() -> Any:
    """The raw JSON of the object after half its text (what the snapshot must show)."""
    merger = sd.deltas.ChunkMerger("nested")
    parser = sd.JSONParser()
    encoder = sd.deltas.DeltaEncoder()
    for piece in pieces(NESTED)[:HALF]:
        for chunk in encoder.encode(parser.feed(piece)):
            merger.apply(chunk)
    return merger.value


@pytest.fixture
def server() -> Iterator[tuple[str, Gated]]:
    gated = Gated()
    streams = ResumableStreams(protocol="ai-sdk")
    agui = ResumableStreams(protocol="ag-ui")  # the same store, another protocol
    agui.store = streams.store

    async def start(request: Request) -> Response:
        stream_id = await streams.spawn(sd.astream(gated.text(), Order))
        return Response(json.dumps({"stream_id": stream_id}), media_type="application/json")

    async def chat_stream(request: Request) -> Response:
        return streams.response(request.path_params["stream_id"])

    async def agui_stream(request: Request) -> Response:
        await request.body()
        return agui.response(request.path_params["stream_id"])

    app = Starlette(
        routes=[
            Route("/start", start, methods=["POST"]),
            Route("/chat/{stream_id}/stream", chat_stream, methods=["GET"]),
            Route("/agui/{stream_id}", agui_stream, methods=["POST"]),
        ],
        lifespan=streams.lifespan,
    )
    with serve_in_thread(app) as url:
        yield url, gated
        gated.gate.set()


def _reconnect(command: list[str], gated: Gated, first_kind: str) -> list[dict[str, Any]]:
    """Run the Node client; open the gate once it has shown its first state."""
    lines = []
    with subprocess.Popen(
        command, cwd=JS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        try:
            for raw in process.stdout:
                line = json.loads(raw)
                lines.append(line)
                if line["kind"] == first_kind and not gated.gate.is_set():
                    gated.gate.set()  # the rest of the generation only now
            assert process.wait(60) == 0, process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
    return lines


def test_use_chat_resume_gets_a_snapshot_then_the_rest(server: tuple[str, Gated]) -> None:
    """reconnectToStream (useChat's resume) mid-generation: the first data part already
    holds everything generated so far, later ones extend it, the last is the final object."""
    url, gated = server
    stream_id = httpx.post(f"{url}/start").json()["stream_id"]
    assert gated.reached.wait(30)
    command = [node(), str(JS / "ui_message_stream.mjs"), f"{url}/chat", "--resume", stream_id]
    lines = _reconnect(command, gated, "message")
    states = [
        part["data"]
        for line in lines
        if line["kind"] == "message"
        for part in line["message"]["parts"]
        if part["type"] == "data-object"
    ]
    assert states[0] == _half_state()
    assert states[-1] == final_json("nested")
    for old, new in zip(states, states[1:], strict=False):
        assert extends(new, old)


def test_agui_run_on_a_stored_stream_gets_a_state_snapshot(server: tuple[str, Gated]) -> None:
    """An AG-UI run on a stream already half generated: STATE_SNAPSHOT of the state so far,
    then STATE_DELTA patches that end at the final object."""
    pytest.importorskip("ag_ui")
    url, gated = server
    stream_id = httpx.post(f"{url}/start").json()["stream_id"]
    assert gated.reached.wait(30)
    command = [node(), str(JS / "agui_run.mjs"), f"{url}/agui/{stream_id}"]
    lines = _reconnect(command, gated, "state")
    events = [line["type"] for line in lines if line["kind"] == "event"]
    assert events[:2] == ["RUN_STARTED", "STATE_SNAPSHOT"] and events[-1] == "RUN_FINISHED"
    states = [line["state"] for line in lines if line["kind"] == "state"]
    assert states[0] == _half_state()
    assert lines[-1]["state"] == final_json("nested")
    for old, new in zip(states, states[1:], strict=False):
        assert extends(new, old)
