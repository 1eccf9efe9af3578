"""Real servers for the integration tests: uvicorn in a thread or a subprocess, redis-server,
and a TCP proxy that cuts connections after a number of bytes. Everything listens on
127.0.0.1 on ports the kernel picks, and every wait is bounded."""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `predicate` every 10 ms; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Run `app` with uvicorn in a thread; yield its base URL."""
    sock = _listening_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="error",
        lifespan="on",
        ws="none",
        http="h11",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, 10, "uvicorn to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class ServerProcess:
    """A uvicorn subprocess: its base URL and its `subprocess.Popen` (to kill it)."""

    def __init__(self, url: str, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.process = process


@contextlib.contextmanager
def server_process(factory: str, env: dict[str, str]) -> Iterator[ServerProcess]:
    """Run ``uvicorn --factory <factory>`` in a new process on an inherited socket; yield it
    once ``GET /health`` answers."""
    sock = _listening_socket()
    sock.listen(64)
    port = sock.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--fd",
        str(sock.fileno()),
        "--log-level",
        "error",
        "--ws",
        "none",
        "--http",
        "h11",
        "--timeout-graceful-shutdown",
        "2",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, pass_fds=(sock.fileno(),)
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"{factory} exited with {process.returncode}")
            try:
                return httpx.get(url + "/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, 20, f"{factory} to answer")
        yield ServerProcess(url, process)
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        sock.close()


@contextlib.contextmanager
def serve_in_subprocess(factory: str, env: dict[str, str]) -> Iterator[str]:
    """`server_process`, yielding its base URL."""
    with server_process(factory, env) as server:
        yield server.url


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A redis-server of the test's own on 127.0.0.1 (no persistence), on a free port that
    it keeps across `stop` and `start` (so a test can restart it). Needs redis-server on
    PATH (`redis_executable` skips the test otherwise)."""

    def __init__(self, executable: str) -> None:
        self._executable = executable
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [self._executable, "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no", "--logfile", ""]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        process = self._process

        def up() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {process.returncode}")
            return _ping(self.port)

        wait_until(up, 10, f"redis-server on port {self.port}")

    def stop(self) -> None:
        """Stop it now (SIGKILL: every connection drops at once, nothing is saved)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(10)
            self._process = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class CuttingProxy:
    """A TCP proxy on 127.0.0.1 that sends connection n to ``upstreams[n % len]`` and cuts
    it (closes both sides) once ``budget(n)`` bytes went back to the client (``None``: no
    cut). One thread, one selector; `close` stops it."""

    def __init__(self, upstreams: list[str], budget: Callable[[int], int | None]) -> None:
        self._upstreams = [httpx.URL(u) for u in upstreams]
        self._budget = budget
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._stopping = False
        self._pairs: set[_Pair] = set()
        self.connections: list[int] = []  # the upstream index of each connection
        self.cuts = 0
        self._cut_all = threading.Event()
        self._all_cut = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def cut_all(self) -> None:
        """Cut every open connection now (a network blip); new ones are accepted."""
        self._all_cut.clear()
        self._cut_all.set()
        if not self._all_cut.wait(10):
            raise TimeoutError("the proxy did not cut its connections")

    def _run(self) -> None:
        while not self._stopping:
            if self._cut_all.is_set():
                for pair in list(self._pairs):
                    self.cuts += 1
                    self._drop(pair)
                self._cut_all.clear()
                self._all_cut.set()
            for key, _ in self._selector.select(0.05):
                if key.data is None:
                    self._accept()
                else:
                    pair, from_client = key.data
                    if pair in self._pairs:
                        self._pump(pair, from_client)

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        n = len(self.connections)
        index = n % len(self._upstreams)
        self.connections.append(index)
        target = self._upstreams[index]
        upstream = socket.create_connection((target.host, target.port), timeout=5)
        client.setblocking(True)
        client.settimeout(5)
        pair = _Pair(client, upstream, self._budget(n))
        self._pairs.add(pair)
        self._selector.register(client, selectors.EVENT_READ, (pair, True))
        self._selector.register(upstream, selectors.EVENT_READ, (pair, False))

    def _pump(self, pair: _Pair, from_client: bool) -> None:
        source, target = (
            (pair.client, pair.upstream) if from_client else (pair.upstream, pair.client)
        )
        try:
            data = source.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._drop(pair)
            return
        cut = False
        if not from_client and pair.remaining is not None:
            data = data[: pair.remaining]
            pair.remaining -= len(data)
            cut = pair.remaining <= 0
        try:
            target.sendall(data)
        except OSError:
            cut = False
            self._drop(pair)
            return
        if cut:
            self.cuts += 1
            self._drop(pair)

    def _drop(self, pair: _Pair) -> None:
        if pair not in self._pairs:
            return
        self._pairs.discard(pair)
        for sock in (pair.client, pair.upstream):
            self._selector.unregister(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._stopping = True
        self._thread.join(5)
        for pair in list(self._pairs):
            self._drop(pair)
        self._selector.unregister(self._listener)
        self._selector.close()
        self._listener.close()

    def __enter__(self) -> CuttingProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Pair:
    __slots__ = ("client", "remaining", "upstream")

    def __init__(self, client: socket.socket, upstream: socket.socket, remaining: int | None):
        self.client = client
        self.upstream = upstream
        self.remaining = remaining
