"""A local OpenAI-compatible endpoint that replays recorded streams at a token rate.

`streamdantic demo` and `streamdantic serve` point the real openai client at it (through
``base_url``), so the whole path a newcomer will use against a provider (HTTP, SSE, the SDK's
stream object, the adapter, the typed partials) runs without a key or a network.

Strategy: the standard library's threading HTTP server, bound to 127.0.0.1 on a free port,
so the demo needs no web framework. ``POST .../chat/completions`` with ``"stream": true``
answers with the recorded body of the example the request asks for (matched on its
``json_schema`` name or its ``model``), one SSE frame at a time, sleeping between content
frames to keep the rate. The response is close-delimited (HTTP/1.0), as simple as a
streaming body gets; a client that goes away ends the replay at the next write.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from .examples import DEFAULT_EXAMPLE, Example, examples

__all__ = ["ReplayServer", "frames"]

# A model streams roughly 50-100 tokens a second; one recorded content delta is about one
# token (1-12 characters, mean 4), so frames are paced at this many per second.
DEFAULT_TOKENS_PER_SECOND = 75.0


def frames(body: bytes) -> list[bytes]:
    """Split a recorded SSE body into its frames (each ending with its blank line)."""
    parts = re.split(rb"(?<=\n\n)", body)
    return [p for p in parts if p]


def _normalize(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


class ReplayServer:
    """Serve the bundled recordings as an OpenAI-compatible API on 127.0.0.1.

    Args:
        tokens_per_second: the pace of content frames (``0`` or ``inf``: no pause).
        api_key: when set, requests must carry ``Authorization: Bearer <api_key>``;
            others get the 401 error body the OpenAI API sends.
        host, port: where to listen (port 0: a free port).
        jitter: relative spread of the pause between frames (deterministic, seeded).

    Use it as a context manager; `base_url` is what to pass to ``openai.OpenAI``.
    """

    def __init__(
        self,
        *,
        tokens_per_second: float = DEFAULT_TOKENS_PER_SECOND,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        jitter: float = 0.35,
    ) -> None:
        if not tokens_per_second >= 0:
            raise ValueError(f"tokens_per_second must be >= 0, got {tokens_per_second!r}")
        self.tokens_per_second = tokens_per_second
        self.api_key = api_key
        self.jitter = jitter
        self.requests: list[dict[str, Any]] = []  # request bodies received, for tests
        self.disconnects = 0  # replays ended by the client going away
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.replay = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:53219/v1``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> ReplayServer:
        """Start serving in a background thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="streamdantic-replay",
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def pick(self, request: Mapping[str, Any]) -> Example:
        """The example a request asks for: by its ``json_schema`` name, by its ``model``
        (``"recipe"``, ``"replay-recipe"``...), else the default."""
        wanted: list[str] = []
        response_format = request.get("response_format")
        if isinstance(response_format, Mapping):
            schema = response_format.get("json_schema")
            if isinstance(schema, Mapping) and isinstance(schema.get("name"), str):
                wanted.append(schema["name"])
        if isinstance(request.get("model"), str):
            wanted.append(request["model"])
        known = examples()
        for name in wanted:
            key = _normalize(name)
            for ex in known.values():
                candidates = (ex.name, ex.schema_name, ex.model.__name__)
                if any(_normalize(c) == key or key.endswith(_normalize(c)) for c in candidates):
                    return ex
        return known[DEFAULT_EXAMPLE]

    def pauses(self, count: int) -> Iterator[float]:
        """Seconds to wait before each of `count` content frames."""
        rate = self.tokens_per_second
        if rate == 0 or rate == float("inf"):
            yield from (0.0 for _ in range(count))
            return
        rng = random.Random(0)
        base = 1 / rate
        for _ in range(count):
            yield base * (1 + self.jitter * (2 * rng.random() - 1))


class _Handler(BaseHTTPRequestHandler):
    server_version = "streamdantic-replay"
    protocol_version = "HTTP/1.0"

    @property
    def replay(self) -> ReplayServer:
        return self.server.replay  # type: ignore[attr-defined, no-any-return]

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the demo owns the terminal

    def _error(self, status: int, message: str, kind: str, code: str | None = None) -> None:
        body = json.dumps(
            {"error": {"message": message, "type": kind, "param": None, "code": code}}
        )
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            listing = {
                "object": "list",
                "data": [
                    {"id": n, "object": "model", "owned_by": "streamdantic"} for n in examples()
                ],
            }
            data = json.dumps(listing).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self._error(404, f"unknown path {self.path}", "invalid_request_error")

    def do_POST(self) -> None:
        replay = self.replay
        length = int(self.headers.get("Content-Length") or 0)
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._error(400, "the request body is not JSON", "invalid_request_error")
            return
        if replay.api_key is not None:
            sent = self.headers.get("Authorization", "")
            if sent != f"Bearer {replay.api_key}":
                self._error(
                    401,
                    "Incorrect API key provided.",
                    "invalid_request_error",
                    "invalid_api_key",
                )
                return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._error(
                404,
                f"this replay server only has chat/completions, not {self.path}",
                "invalid_request_error",
            )
            return
        if not isinstance(request, dict) or request.get("stream") is not True:
            self._error(
                400, "this replay server only answers stream=true requests", "invalid_request_error"
            )
            return
        replay.requests.append(request)
        recorded = frames(replay.pick(request).read())
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        pauses = replay.pauses(len(recorded))
        try:
            for frame in recorded:
                pause = next(pauses)
                if pause and b'"content":"' in frame:
                    time.sleep(pause)
                self.wfile.write(frame)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            replay.disconnects += 1
