"""A local HTTP server that replays the recorded provider streams in `fixtures/`.

Real clients (the openai SDK, httpx) are pointed at it. Each stream's bytes are written in
small pieces (7 bytes by default), each its own HTTP/1.1 chunk on a TCP_NODELAY socket, so
clients see SSE lines and UTF-8 characters split across reads. The server runs in its own
process (`ReplayServer` starts ``python replay.py``, which uses only the standard library): in
the tests' process its thread would compete with the client for the GIL, slowing both and
skewing the benchmark. Routes (any method, the request body is recorded and otherwise ignored):

    /replay/<piece>/<dir>/<name>/<tag>/...
                                       200 text/event-stream: fixtures/<dir>/<name>.sse in
                                       <piece>-byte writes (point a base_url at .../v1); the
                                       tag tells one test's requests from another's;
                                       fixtures/<dir>/<name>.ndjson as application/x-ndjson
                                       when there is no .sse
    /status/<code>/...                 <code> with an OpenAI-style JSON error body
    /html/...                          200 text/html (not an event stream)
    /_requests, /_disconnected         200 JSON: the requests, the early disconnects so far

`ReplayServer.requests` holds (path, parsed JSON body) of every request; `disconnected` the
paths of the responses the client closed before their end.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # each small write goes out as it is made
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _quick_ack(self) -> None:
        # Clients write a request's headers and body separately; with Nagle on their side and
        # delayed ACKs on ours, the body would wait ~40 ms for an ACK. Linux only.
        if hasattr(socket, "TCP_QUICKACK"):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    def handle_one_request(self) -> None:
        self._quick_ack()
        super().handle_one_request()

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self._quick_ack()
        raw = self.rfile.read(length) if length else b""
        if self.path in ("/_requests", "/_disconnected"):
            with self.server.lock:
                log = json.dumps(getattr(self.server, self.path[2:])).encode()
            self._send_whole(200, "application/json", log)
            return
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self.server.lock:
            self.server.requests.append((self.path, body))
        parts = self.path.strip("/").split("/")
        if parts[0] == "replay":
            path = FIXTURES / parts[2] / f"{parts[3]}.sse"
            if path.exists():
                self._send_stream(path.read_bytes(), int(parts[1]))
            else:  # NDJSON streams (Ollama's /api/chat)
                data = path.with_suffix(".ndjson").read_bytes()
                self._send_stream(data, int(parts[1]), "application/x-ndjson")
        elif parts[0] == "status":
            error = {"error": {"message": "Rate limit reached for requests", "type": "requests"}}
            error["error"]["code"] = "rate_limit_exceeded"
            self._send_whole(int(parts[1]), "application/json", json.dumps(error).encode())
        elif parts[0] == "html":
            self._send_whole(200, "text/html; charset=utf-8", b"<html><body>Welcome</body></html>")
        else:
            self._send_whole(404, "text/plain", b"no such route")

    def _send_whole(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(
        self, data: bytes, piece: int, content_type: str = "text/event-stream; charset=utf-8"
    ) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        try:
            for start in range(0, len(data), piece):
                chunk = data[start : start + piece]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            with self.server.lock:
                self.server.disconnected.append(self.path)
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[tuple[str, Any]]
    disconnected: list[str]
    lock: threading.Lock


class ReplayServer:
    """The replay server on 127.0.0.1 (a free port), in a child process."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _log(self, name: str) -> Any:
        with urllib.request.urlopen(f"{self.origin}/_{name}", timeout=10) as response:
            return json.loads(response.read())

    @property
    def requests(self) -> list[tuple[str, Any]]:
        """(path, parsed JSON body) of every request so far."""
        return [(path, body) for path, body in self._log("requests")]

    @property
    def disconnected(self) -> list[str]:
        """Paths of the responses their client closed before the end."""
        return list(self._log("disconnected"))

    def base_url(self, stream_id: str, *, piece: int = 7, tag: str = "t") -> str:
        """The API root (``.../v1``) that replays fixture `stream_id` (``openai_chat/small``)."""
        return f"{self.origin}/replay/{piece}/{stream_id}/{tag}/v1"

    def wait_for_disconnect(self, tag: str, timeout: float = 5.0) -> bool:
        """Whether a response of a request tagged `tag` was closed early by its client."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(f"/{tag}/" in path for path in self.disconnected):
                return True
            time.sleep(0.01)
        return False

    def start(self) -> ReplayServer:
        self._process = subprocess.Popen(
            [sys.executable, __file__], stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        self.port = int(self._process.stdout.readline())
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None


def main() -> None:
    """Serve until terminated; the first line written to stdout is the port."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.requests = []
    server.disconnected = []
    server.lock = threading.Lock()
    print(server.server_address[1], flush=True)
    server.serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    main()
