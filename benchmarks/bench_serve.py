#!/usr/bin/env python
"""Benchmark the serving path: one uvicorn worker on 127.0.0.1 streaming the 20 KB
record-list document to many concurrent clients.

Server implementations (routes of one app, in one uvicorn process, measured in the same
run so that their ratios hold on a loaded machine):

  default        EventStreamResponse(astream(tokens, Orders)): the default policy
                 (emit=Throttle(12): first change at once, then at most 12 frames/s,
                 final state at once)
  changes        the same with emit="changes": one frame per change
  sse-starlette  sse-starlette's EventSourceResponse sending the very frames of
                 ProfileEncoder(emit="changes") over astream(tokens, Orders)
  raw            the tokens forwarded as `data:` frames by a plain StreamingResponse, no
                 parsing at all (the floor of any server that parses nothing)

Each stream's source yields the document's token-sized chunks (benchmarks/workloads.py,
"records" 20K, "token" chunking) as a socket read would: each read returns the chunks that
have arrived, at most 64 (a 16 KiB read of provider events), then the task yields to the
loop. `burst`: every chunk has arrived at the start (a throughput test); `--rate 100`:
chunk i arrives at start + i/rate, as an LLM API delivers them, so a server that keeps up
reads one chunk per read, and one that falls behind reads what queued meanwhile.

uvicorn runs as deployed (uvloop and httptools, the `bench` group; plain asyncio and h11
when they are missing) for every route. The client is one uvloop process of bare asyncio
protocols over HTTP/1.0 (no httpx, no HTTP parser: 500 httpx clients would cost more CPU
than the server): it counts the body's bytes and frames (blank lines) and the time from the
request to the last byte, and each row reports the server's and the client's share of a
core over the level; a stream fails if it does not end with its
terminal frame (`event: final`, or `data: [DONE]` for raw) by the deadline. Server CPU is
the uvicorn process's user+system time (/proc) over the run, divided by the streams. At a
token rate, "late" is how long after its last token was due the last frame arrived, and
"loop lag" the p99 delay of a 10 ms timer in the server's event loop (how long any ready
frame waits for the loop).

  python benchmarks/bench_serve.py --fast                        # smoke run (seconds)
  python benchmarks/bench_serve.py --streams 1,10,100,500        # burst, every impl
  python benchmarks/bench_serve.py --rate 100 --streams 500,1000 --impls default

sse-starlette is a benchmark-only peer (the `bench` dependency group); without it its rows
are skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from workloads import chunk, document  # noqa: E402

IMPLS = ("default", "changes", "sse-starlette", "raw")
# uvicorn as deployed (uvicorn[standard], the `bench` group): uvloop and httptools, for the
# server and (uvloop) the client; the test environment's plain uvicorn falls back.
LOOP = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
HTTP = "httptools" if importlib.util.find_spec("httptools") else "h11"
READ_TOKENS = 64


def tokens() -> list[str]:
    return chunk(document("records", 20_000), "token")


# ----------------------------------------------------------------------------------- server


def build_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    from bench_validation import Orders
    from streamdantic import astream
    from streamdantic.sse import ProfileEncoder, stream_frame
    from streamdantic.starlette import EventStreamResponse

    chunks = tokens()
    lags: list[float] = []

    async def source(rate: float | None) -> AsyncIterator[str]:
        # Like an LLM response read from a socket: each read returns the tokens that have
        # arrived (those due by now), at most READ_TOKENS (a 16 KiB read of provider SSE
        # events of ~250 bytes each); between reads the task waits (a checkpoint, or a
        # sleep until the next token is due). The loop's own clock and sleep, as a socket
        # read costs no anyio backend lookup: this source is the same for every route.
        clock = asyncio.get_running_loop().time
        start = clock()
        i, n = 0, len(chunks)
        while i < n:
            if rate is None:
                due = n
            else:
                now = clock()
                due = min(n, int((now - start) * rate) + 1)
                if due <= i:
                    await asyncio.sleep(start + i / rate - now)
                    continue
            end = min(due, i + READ_TOKENS)
            for piece in chunks[i:end]:
                yield piece
            i = end
            if rate is None or end < due:
                # More has arrived: yield to the loop between reads, as a socket read does.
                # Paced and caught up, the next read waits for its token (the sleep above):
                # one wake-up per read, not two.
                await asyncio.sleep(0)

    def rate_of(request: Request) -> float | None:
        rate = request.query_params.get("rate")
        return float(rate) if rate else None

    async def default(request: Request) -> Response:
        return EventStreamResponse(astream(source(rate_of(request)), Orders))

    async def changes(request: Request) -> Response:
        return EventStreamResponse(astream(source(rate_of(request)), Orders), emit="changes")

    async def peer(request: Request) -> Response:
        from sse_starlette import EventSourceResponse

        async def frames() -> AsyncIterator[dict[str, Any]]:
            encoder = ProfileEncoder(emit="changes")
            head = stream_frame("bench")
            yield {"event": head.event, "data": head.data}
            # Unnamed frames (version 3's deltas) without an event line, as they are encoded.
            async for output in astream(source(rate_of(request)), Orders).events():
                for f in encoder.feed(output):
                    yield {
                        "event": None if f.event == "message" else f.event,
                        "id": f.id,
                        "data": f.data,
                    }
            for f in encoder.close():
                yield {"event": f.event, "id": f.id, "data": f.data}

        # The same heartbeat, send timeout and line ending as EventStreamResponse.
        return EventSourceResponse(frames(), ping=15, sep="\n", send_timeout=30)

    async def raw(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            async for piece in source(rate_of(request)):
                yield b"data: " + json.dumps(piece).encode() + b"\n\n"
            yield b"data: [DONE]\n\n"

        return StreamingResponse(body(), media_type="text/event-stream")

    async def lag(request: Request) -> Response:
        values = sorted(lags)
        lags.clear()
        p99 = values[int(len(values) * 0.99) - 1] if values else 0.0
        return JSONResponse({"p99": p99, "max": values[-1] if values else 0.0})

    async def probe() -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - start - 0.01)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        task = asyncio.get_running_loop().create_task(probe())
        yield
        task.cancel()

    routes = [
        Route("/default", default),
        Route("/changes", changes),
        Route("/sse-starlette", peer),
        Route("/raw", raw),
        Route("/lag", lag),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def serve(port: int) -> None:
    import uvicorn

    config = uvicorn.Config(
        build_app(),
        host="127.0.0.1",
        port=port,
        # As deployed (uvicorn[standard]): uvloop and httptools, for every route alike.
        loop=LOOP,
        http=HTTP,
        log_level="warning",
        access_log=False,
        backlog=4096,
        limit_concurrency=None,
        timeout_keep_alive=5,
    )
    uvicorn.Server(config).run()


# ----------------------------------------------------------------------------------- client


@dataclass
class Result:
    ok: bool
    frames: int
    size: int
    seconds: float


class _Counter(asyncio.Protocol):
    """One stream's client: counts bytes and frames (blank lines) as they arrive and looks
    for the terminal frame, nothing else (no HTTP parser, no buffering of the body)."""

    def __init__(self, request: bytes, terminal: bytes, done: asyncio.Future[None]) -> None:
        self.request, self.terminal, self.done = request, terminal, done
        self.head = b""
        self.in_body = False
        self.status_ok = False
        self.size = self.frames = 0
        self.tail = b""  # the last bytes, for a blank line or terminal split across reads
        self.seen_terminal = False
        self.last = time.perf_counter()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        cast(asyncio.WriteTransport, transport).write(self.request)  # uvloop's, or asyncio's

    def data_received(self, data: bytes) -> None:
        self.last = time.perf_counter()
        if not self.in_body:
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            head, data = self.head.split(b"\r\n\r\n", 1)
            self.status_ok = b" 200 " in head.split(b"\r\n", 1)[0]
            self.in_body = True
        self.size += len(data)
        joined = self.tail + data
        self.frames += joined.count(b"\n\n") - self.tail.count(b"\n\n")
        if not self.seen_terminal and self.terminal in joined:
            self.seen_terminal = True
        self.tail = joined[-len(self.terminal) :]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def one_stream(port: int, path: str, terminal: bytes, deadline: float) -> Result:
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    done: asyncio.Future[None] = loop.create_future()
    request = f"GET {path} HTTP/1.0\r\nHost: bench\r\n\r\n".encode()
    counter = _Counter(request, terminal, done)
    transport: asyncio.BaseTransport | None = None
    try:
        async with asyncio.timeout_at(deadline):
            transport, _ = await loop.create_connection(lambda: counter, "127.0.0.1", port)
            await done
    except (TimeoutError, OSError):
        return Result(False, counter.frames, counter.size, time.perf_counter() - start)
    finally:
        if transport is not None:
            transport.close()
    ok = counter.status_ok and counter.seen_terminal
    return Result(ok, counter.frames, counter.size, counter.last - start)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def get(port: int, path: str) -> Any:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: bench\r\n\r\n".encode())
        data = b""
        while chunk_ := sock.recv(65536):
            data += chunk_
    return json.loads(data.split(b"\r\n\r\n", 1)[1])


async def scenario(
    port: int, pid: int, impl: str, streams: int, rate: float | None, budget: float
) -> dict[str, Any]:
    path = f"/{impl}" + (f"?rate={rate:g}" if rate else "")
    terminal = b"data: [DONE]" if impl == "raw" else b"event: final"
    get(port, "/lag")  # reset
    cpu0 = cpu_seconds(pid)
    client0, wall0 = time.process_time(), time.perf_counter()
    deadline = asyncio.get_running_loop().time() + budget
    results = await asyncio.gather(
        *(one_stream(port, path, terminal, deadline) for _ in range(streams))
    )
    cpu = cpu_seconds(pid) - cpu0
    client, wall = time.process_time() - client0, time.perf_counter() - wall0
    lag = get(port, "/lag")
    done = [r for r in results if r.ok]
    times = sorted(r.seconds for r in done)
    ideal = len(tokens()) / rate if rate else 0.0

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")

    return {
        "impl": impl,
        "streams": streams,
        "rate": rate,
        "cpu_ms": cpu / streams * 1000,
        "frames": statistics.mean(r.frames for r in done) if done else float("nan"),
        "bytes": statistics.mean(r.size for r in done) if done else float("nan"),
        "p50_s": pct(times, 0.5),
        "p99_s": pct(times, 0.99),
        "late_p50_ms": (pct(times, 0.5) - ideal) * 1000 if rate else None,
        "late_p99_ms": (pct(times, 0.99) - ideal) * 1000 if rate else None,
        "loop_lag_p99_ms": lag["p99"] * 1000,
        "failures": streams - len(done),
        # Each process's CPU over the level's wall time (100 = one whole core).
        "server_cpu_pct": cpu / wall * 100,
        "client_cpu_pct": client / wall * 100,
    }


def _loop_factory() -> Any:
    if LOOP == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--fast", action="store_true", help="1 and 10 streams (CI smoke)")
    parser.add_argument("--streams", default="1,10,100,500", help="concurrency levels")
    parser.add_argument("--impls", default=",".join(IMPLS), help=f"among {','.join(IMPLS)}")
    parser.add_argument("--rate", type=float, default=None, help="tokens/s per stream")
    parser.add_argument("--timeout", type=float, default=240.0, help="deadline per level, s")
    parser.add_argument("--json", type=Path, help="append the rows to this file (JSON lines)")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    impls = args.impls.split(",")
    try:
        peer = importlib.metadata.version("sse-starlette")
    except importlib.metadata.PackageNotFoundError:
        peer = None
        impls = [i for i in impls if i != "sse-starlette"]
    levels = [1, 10] if args.fast else [int(n) for n in args.streams.split(",")]
    n_tokens = len(tokens())
    size = len(document("records", 20_000).encode())
    print(
        f"python {platform.python_version()}, streamdantic "
        f"{importlib.metadata.version('streamdantic')}, uvicorn "
        f"{importlib.metadata.version('uvicorn')}, sse-starlette {peer or 'not installed'}; "
        f"document {size} B, {n_tokens} chunks, "
        + (f"{args.rate:g} tokens/s per stream" if args.rate else "burst")
        + f", uvicorn loop={LOOP} http={HTTP}, load average {os.getloadavg()[0]:.1f}"
    )
    header = (
        f"{'impl':14} {'streams':>7} {'cpu ms/stream':>13} {'frames':>7} {'bytes':>8} "
        f"{'p50 s':>7} {'p99 s':>7} {'late p50 ms':>11} {'late p99 ms':>11} "
        f"{'loop lag p99 ms':>15} {'failed':>6} {'server %':>8} {'client %':>8}"
    )
    print(header)
    print("-" * len(header))
    proc, port = start_server()
    try:
        for streams in levels:
            for impl in impls:
                run = scenario(port, proc.pid, impl, streams, args.rate, args.timeout)
                with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                    row = runner.run(run)
                late = [
                    f"{row[key]:.0f}" if row[key] is not None else "-"
                    for key in ("late_p50_ms", "late_p99_ms")
                ]
                print(
                    f"{impl:14} {streams:>7} {row['cpu_ms']:13.1f} {row['frames']:7.0f} "
                    f"{row['bytes']:8.0f} {row['p50_s']:7.2f} {row['p99_s']:7.2f} "
                    f"{late[0]:>11} {late[1]:>11} {row['loop_lag_p99_ms']:15.1f} "
                    f"{row['failures']:>6} {row['server_cpu_pct']:8.0f} "
                    f"{row['client_cpu_pct']:8.0f}",
                    flush=True,
                )
                if args.json:
                    with args.json.open("a") as out:
                        out.write(json.dumps(row) + "\n")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # uvicorn waiting for streams cut short
            proc.kill()


if __name__ == "__main__":
    main()
