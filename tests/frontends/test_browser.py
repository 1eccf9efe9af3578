"""One browser test: a page built from @ai-sdk/react's useChat (bundled with esbuild from
npm, js/build_page.mjs; no CDN) renders a streamdantic data part live, in Chromium.

Set STREAMDANTIC_UPDATE_SCREENSHOT=1 to refresh docs/img/ai-sdk-midstream.png.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

import streamdantic as sd
from streamdantic.frontends import UIMessageStreamEncoder
from streamdantic.starlette import EventStreamResponse
from tests.browser.conftest import browser, page  # noqa: F401  (the Chromium fixtures)
from tests.frontends.fixtures import JS, node, pieces
from tests.integration.servers import serve_in_thread

pytestmark = pytest.mark.integration

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "ai-sdk-midstream.png"


class Stop(BaseModel):
    city: str
    nights: int
    note: str


class Trip(BaseModel):
    title: str
    stops: list[Stop]


TRIP = {
    "title": "Two weeks through Japan",
    "stops": [
        {"city": "Tokyo", "nights": 4, "note": "Shibuya at night, Tsukiji outer market at dawn."},
        {
            "city": "Hakone",
            "nights": 1,
            "note": "A ryokan with an onsen, Fuji if the sky is clear.",
        },
        {"city": "Kyoto", "nights": 4, "note": "Fushimi Inari early, then the Higashiyama walk."},
        {"city": "Nara", "nights": 1, "note": "The deer park and Todai-ji's great hall."},
        {"city": "Osaka", "nights": 2, "note": "Dotonbori street food; a day trip to Himeji."},
        {"city": "Hiroshima", "nights": 2, "note": "The peace park, and Miyajima by ferry."},
    ],
}
TEXT = pieces(TRIP, size=5)
HOLD = len(TEXT) * 3 // 5  # the generation waits here until the screenshot is taken


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("page") / "bundle.js"
    result = subprocess.run(
        [node(), str(JS / "build_page.mjs"), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture
def site(bundle: Path) -> Iterator[tuple[str, threading.Event]]:
    gate = threading.Event()

    async def text() -> AsyncIterator[str]:
        for n, piece in enumerate(TEXT):
            if n == HOLD:
                await anyio.to_thread.run_sync(gate.wait, abandon_on_cancel=True)
            yield piece
            await anyio.lowlevel.checkpoint()

    async def chat(request: Request) -> Response:
        await request.body()
        return EventStreamResponse(
            sd.astream(text(), Trip),
            protocol=UIMessageStreamEncoder(name="trip", interval=0, growth=0),
        )

    async def index(request: Request) -> Response:
        return HTMLResponse(
            '<!doctype html><meta charset="utf-8"><title>useChat + streamdantic</title>'
            '<div id="root"></div><script type="module" src="/bundle.js"></script>'
        )

    async def script(request: Request) -> Response:
        return FileResponse(bundle, media_type="text/javascript")

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/bundle.js", script),
            Route("/api/chat", chat, methods=["POST"]),
        ]
    )
    with serve_in_thread(app) as url:
        yield url, gate
        gate.set()


def test_use_chat_page_renders_the_data_part_live(
    page: Any,  # noqa: F811
    site: tuple[str, threading.Event],
    tmp_path: Path,
) -> None:
    """The useChat page shows the trip while it streams (some stops, the status still
    "streaming"), then the whole validated trip once the stream ends."""
    url, gate = site
    page.goto(url)
    page.click("#plan")
    page.wait_for_function(
        "window.chatState && window.chatState.trip && window.chatState.trip.stops"
        " && window.chatState.trip.stops.length >= 3"
    )
    shot = SCREENSHOT if os.environ.get("STREAMDANTIC_UPDATE_SCREENSHOT") else tmp_path / "mid.png"
    page.screenshot(path=str(shot))
    state = page.evaluate("window.chatState")
    assert state["status"] == "streaming"
    assert state["dataParts"] == 1  # one part, replaced in place
    assert len(state["trip"]["stops"]) < len(TRIP["stops"])
    gate.set()
    page.wait_for_function("window.chatState.status === 'ready'")
    state = page.evaluate("window.chatState")
    assert state["trip"] == TRIP and state["error"] is None
    assert page.locator("li.stop").count() == len(TRIP["stops"])
