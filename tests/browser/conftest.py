"""Real headless Chromium (Debian's, driven by Playwright) against `streamdantic serve`'s app.

The browser is the system's /usr/bin/chromium: Playwright's own browser downloads are never
used. Without it these tests skip, unless ``CI`` is set, where a missing browser is a failure
(.ci/run installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest

from streamdantic._cli.replay import ReplayServer
from streamdantic._cli.serve import ServeConfig, create_app

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One persistent Chromium context per test module, with a fresh profile directory.

    Module scope, not session: Playwright's sync API keeps an event loop marked as running
    in this thread while it is started, which would break later tests that run their own.
    """
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (it is in the test dependency group)")
    profile = tempfile.mkdtemp(prefix="streamdantic-chromium-")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=LAUNCH_ARGS,
            viewport={"width": 1280, "height": 860},
        )
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A new tab that fails the test on any uncaught page error."""
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda m: print(f"console.{m.type}: {m.text}"))  # shown on failure
    tab.on("requestfailed", lambda r: print(f"request failed: {r.method} {r.url} {r.failure}"))
    yield tab
    tab.close()
    assert not errors, errors


class DropFirstConnection:
    """ASGI middleware (test only): end the first SSE connection of each stream after
    `after` body messages, as a proxy dropping it would, and tell the app the client left.
    Every SSE request's path and resume position is logged."""

    def __init__(self, app: Any, after: int | None) -> None:
        self.app = app
        self.after = after
        self.seen: set[str] = set()
        self.log: list[tuple[str, str | None]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not re.fullmatch(r"/api/streams/[^/]+", path):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        last = headers.get(b"last-event-id")
        query = re.search(rb"last_event_id=(\d+)", scope.get("query_string", b""))
        position = last or (query.group(1) if query else None)
        self.log.append((path, position.decode() if position else None))
        if self.after is None or path in self.seen:
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


class HeldReplay(ReplayServer):
    """A replay server that stops before content frame `hold_after` of each reply until
    `release` is called, so a test acts on a stream that is certainly still running."""

    def __init__(self, *, hold_after: int | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.hold_after = hold_after
        self.held = threading.Event()  # set when a reply reached the hold
        self._release = threading.Event()

    def release(self) -> None:
        self._release.set()

    def pauses(self, count: int) -> Iterator[float]:
        for i, pause in enumerate(super().pauses(count)):
            if i == self.hold_after:
                self.held.set()
                self._release.wait(60)
            yield pause


@dataclass
class Server:
    url: str
    app: Any
    replay: HeldReplay
    middleware: DropFirstConnection
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> Any:
        return self.app.state.serve


@pytest.fixture
def serve(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Start the page's app on 127.0.0.1 (uvicorn in a thread):
    ``serve(speed, drop_after, hold_after)``."""
    import uvicorn

    started: list[tuple[Any, threading.Thread, HeldReplay]] = []

    def start(
        speed: float = 0, drop_after: int | None = None, hold_after: int | None = None
    ) -> Server:
        replay = HeldReplay(tokens_per_second=speed, hold_after=hold_after).start()
        app = create_app(ServeConfig(speed=speed), replay=replay)
        middleware = DropFirstConnection(app, drop_after)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(middleware, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        started.append((server, thread, replay))
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return Server(f"http://127.0.0.1:{port}/", app, replay, middleware)

    yield start
    for server, thread, replay in started:
        replay.release()
        server.should_exit = True
        thread.join(10)
        replay.close()


def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)
