"""streamdantic.js in real Chromium never splices two generations of a stream.

The endpoints run on uvicorn (127.0.0.1): source-backed `EventStreamResponse`s whose model
answers another book on each call, with their first response cut after a few body messages
(a proxy timeout), and hand-written servers that answer a reconnection with another
generation. Both transports (EventSource, which reconnects by itself, and fetch) must end
with one generation's final object, or with a declared error and the object unspliced.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from streamdantic import astream, stream
from streamdantic.sse import ProfileEncoder, ServerSentEvent, encode, stream_frame
from streamdantic.starlette import EventStreamResponse
from tests.integration.servers import serve_in_thread

pytestmark = pytest.mark.integration

CLIENT = Path(__file__).resolve().parents[2] / "src" / "streamdantic" / "_web" / "streamdantic.js"
TRANSPORTS = ["eventsource", "fetch"]
SSE_PATHS = ("/source", "/restart", "/liar", "/tokenless", "/tokenless-v2", "/snapshot")

BOOK_A = ['{"title": "A Wiza', 'rd of Earthsea", ', '"year": 19', "68, ", '"isbn": "0-"', "}"]
BOOK_B = ['{"title": "The L', 'eft Hand of Darkness", ', '"year": 19', "69, ", '"isbn": "1-"', "}"]
FINAL_A = {"title": "A Wizard of Earthsea", "year": 1968, "isbn": "0-"}
FINAL_B = {"title": "The Left Hand of Darkness", "year": 1969, "isbn": "1-"}

PAGE = """<!doctype html><meta charset="utf-8"><title>generations</title>
<script type="module">
import { connect } from "/streamdantic.js";
window.run = (url, transport) => new Promise((resolve) => {
  const stream = connect(url, { transport, retryDelay: 10 });
  const restarts = [];
  stream.addEventListener("restart", () => restarts.push(stream.value === undefined));
  stream.addEventListener("end", (e) => {
    const error = stream.error;
    resolve({
      status: e.detail.status,
      value: stream.value === undefined ? null : stream.value,
      final: stream.final === undefined ? null : stream.final,
      error: error ? { name: error.name, type: error.type || null, message: error.message,
                       pointer: error.pointer === undefined ? null : error.pointer } : null,
      restarts, reconnects: stream.reconnects,
    });
  });
});
window.ready = true;
</script>"""


class Book(BaseModel):
    title: str
    year: int
    isbn: str


def frames(chunks: list[str], **options: Any) -> list[ServerSentEvent]:
    encoder = ProfileEncoder(**options)
    out = [f for output in stream(chunks, Book).events() for f in encoder.feed(output)]
    return out + encoder.close()


def body(*events: ServerSentEvent) -> bytes:
    return b"".join(map(encode, events))


class CutFirstResponse:
    """ASGI middleware (test only): the first response to each SSE path ends after `after`
    body messages, as a proxy timeout would, and the app is told its client left."""

    def __init__(self, app: Any, after: int) -> None:
        self.app = app
        self.after = after
        self.seen: set[str] = set()
        self.log: list[tuple[str, str | None]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path not in SSE_PATHS:
            await self.app(scope, receive, send)
            return
        last = dict(scope["headers"]).get(b"last-event-id")
        self.log.append((path, last.decode() if last else None))
        if path in self.seen:
            await self.app(scope, receive, send)
            return
        self.seen.add(path)
        cut = anyio.Event()
        count = 0

        async def cut_send(message: Any) -> None:
            nonlocal count
            if cut.is_set():
                return
            if message["type"] == "http.response.body" and message.get("more_body"):
                count += 1
                if count > self.after:
                    cut.set()
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
            await send(message)

        async def cut_receive() -> Any:
            if cut.is_set():
                return {"type": "http.disconnect"}
            result: Any = {"type": "http.disconnect"}
            async with anyio.create_task_group() as group:

                async def real() -> None:
                    nonlocal result
                    result = await receive()
                    group.cancel_scope.cancel()

                async def on_cut() -> None:
                    await cut.wait()
                    group.cancel_scope.cancel()

                group.start_soon(real)
                group.start_soon(on_cut)
            return result

        await self.app(scope, cut_receive, cut_send)


def build_app() -> CutFirstResponse:
    calls = {"n": 0}

    async def model() -> AsyncIterator[str]:
        chunks = (BOOK_A, BOOK_B)[calls["n"] % 2]  # another book on each call
        calls["n"] += 1
        for chunk in chunks:
            await anyio.lowlevel.checkpoint()
            yield chunk

    async def source(request: Request) -> Response:
        return EventStreamResponse(astream(model(), Book), retry=10)

    async def restart(request: Request) -> Response:
        return EventStreamResponse(astream(model(), Book), retry=10, on_resume="restart")

    answers: dict[str, int] = {}
    a, b = frames(BOOK_A), frames(BOOK_B)
    a2, b2 = frames(BOOK_A, version=2), frames(BOOK_B, version=2)
    with_snapshots = frames(BOOK_A, snapshot_every=2)
    snapshot = [f for f in with_snapshots if f.event == "snapshot"][1]  # after frame 4
    after = [f for f in with_snapshots if f.event != "snapshot" and int(f.id or 0) > 4]
    assert snapshot.id == "4" and after[0].id == "5"
    retry = ServerSentEvent(retry=10)
    scripted = {
        # A server that answers the reconnection with another generation, unannounced.
        "/liar": [body(retry, stream_frame("gen-a"), *a[:3]), body(stream_frame("gen-b"), *b)],
        # An old server without stream frames that restarts: only the final check sees it.
        "/tokenless": [body(retry, *a[:1]), body(*b)],
        "/tokenless-v2": [body(retry, *a2[:1]), body(*b2)],
        # A store that dropped frames 2..4: the resumed client starts from the snapshot.
        "/snapshot": [
            body(retry, stream_frame("gen-a"), *a[:1]),
            body(stream_frame("gen-a"), snapshot, *after),
        ],
    }

    async def scripted_answer(request: Request) -> Response:
        path = request.url.path
        n = answers[path] = answers.get(path, -1) + 1
        bodies = scripted[path]
        return Response(bodies[min(n, len(bodies) - 1)], media_type="text/event-stream")

    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE)

    async def client_js(request: Request) -> Response:
        return Response(CLIENT.read_bytes(), media_type="text/javascript")

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/streamdantic.js", client_js),
            Route("/source", source),
            Route("/restart", restart),
            Route("/liar", scripted_answer),
            Route("/tokenless", scripted_answer),
            Route("/tokenless-v2", scripted_answer),
            Route("/snapshot", scripted_answer),
        ]
    )
    return CutFirstResponse(app, after=2)  # the stream frame (and retry), one delta: cut


@pytest.fixture
def site() -> Iterator[tuple[str, CutFirstResponse]]:
    app = build_app()
    with serve_in_thread(app) as url:
        yield url, app


def run(page: Any, url: str, path: str, transport: str) -> dict[str, Any]:
    page.goto(url + "/")
    page.wait_for_function("window.ready === true")
    result: dict[str, Any] = page.evaluate(
        "([path, transport]) => window.run(path, transport)", [path, transport]
    )
    return result


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_source_that_cannot_resume_fails_without_splicing(
    site: Any, page: Any, transport: str
) -> None:
    """A cut source-backed stream is refused on reconnect (409): a declared error, and the
    object stays the first generation's partial."""
    url, app = site
    result = run(page, url, "/source", transport)
    assert result["status"] == "failed" and result["final"] is None
    if transport == "fetch":
        assert result["error"]["name"] == "StreamNotResumableError"
        assert "ResumableStreams" in result["error"]["message"]
    else:  # EventSource does not expose the status
        assert "did not resume" in result["error"]["message"]
    assert FINAL_A["title"].startswith(result["value"]["title"])
    assert [position for _, position in app.log] == [None, "1"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_restarting_source_resets_and_ends_with_one_generation(
    site: Any, page: Any, transport: str
) -> None:
    """With on_resume="restart", the reconnection is a new generation: the client resets
    (a "restart" event, the object empty) and ends with the second book, whole."""
    url, _ = site
    result = run(page, url, "/restart", transport)
    assert result["error"] is None, result["error"]
    assert result["status"] == "done"
    assert result["restarts"] == [True]
    assert result["final"] == result["value"] == FINAL_B


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_reconnection_to_another_generation_is_refused(
    site: Any, page: Any, transport: str
) -> None:
    """A reconnection answered with another stream token (no restart) is a
    StreamIntegrityError; none of its frames is applied."""
    url, _ = site
    result = run(page, url, "/liar", transport)
    assert result["error"]["name"] == "StreamIntegrityError", result["error"]
    assert result["final"] is None
    assert result["value"] == {"title": "A Wizard of Earthsea", "year": 1968}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_spliced_frames_fail_the_final_digest(site: Any, page: Any, transport: str) -> None:
    """Version 3, without stream tokens: the spliced frames are caught at the final frame,
    whose digest is not the one of the delta frames the browser applied."""
    url, _ = site
    result = run(page, url, "/tokenless", transport)
    assert result["error"]["name"] == "StreamIntegrityError", result["error"]
    assert "final frame's digest" in result["error"]["message"]
    assert result["final"] is None
    assert result["value"]["title"] == "A Wizaeft Hand of Darkness"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_resume_from_a_snapshot_verifies_the_digest(site: Any, page: Any, transport: str) -> None:
    """Version 3: a client that resumes from a snapshot (frames 2..4 dropped) continues the
    digest the snapshot carries, so its final check passes and it delivers the object."""
    url, _ = site
    result = run(page, url, "/snapshot", transport)
    assert result["error"] is None, result["error"]
    assert result["status"] == "done"
    assert result["final"] == result["value"] == FINAL_A


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_spliced_version_2_frames_fail_the_final_check(
    site: Any, page: Any, transport: str
) -> None:
    """Version 2, without stream tokens: the spliced object is caught at the final frame,
    with the pointer of the first difference."""
    url, _ = site
    result = run(page, url, "/tokenless-v2", transport)
    assert result["error"]["name"] == "StreamIntegrityError", result["error"]
    assert result["error"]["pointer"] == "/title"
    assert result["final"] is None
    assert result["value"]["title"] == "A Wizaeft Hand of Darkness"
