#!/usr/bin/env python
"""Benchmark streamdantic's SSEDecoder: throughput, and linear growth when the input grows 10x.

Workloads (each body is pre-split into chunks; only decoding is timed):

  one-big-event  a single event whose one data line is N bytes, fed in 1 B, 16 B and 4 KiB
                 chunks: catches quadratic re-scanning or re-joining of the incomplete line
  tiny-events    N small JSON events (`data: {"i": 12345}` + blank line) fed in 7 B chunks:
                 catches per-call overhead

Every workload runs at sizes 10x apart; the "x10" column is time(size) / time(previous size),
about 10 for linear code and about 100 for quadratic code. In 4 KiB chunks the 1 MB body is
decoded in a fraction of a millisecond from CPU cache and recycled memory, while the 10 MB one
first-touches fresh pages for its few full-size string copies, so that row's ratio comes out
above 10 without any quadratic work; `--huge` adds a 100 MB body to show 10 MB -> 100 MB.

Peer, in the same run when importable: httpx-sse (its SSELineDecoder + SSEDecoder behind the
same incremental UTF-8 decoder httpx uses). It is never installed in the main venv; run
`benchmarks/.peers/bin/python benchmarks/bench_sse.py` after installing it there
(`benchmarks/.peers/bin/python -m pip install httpx-sse`). Without it the peer rows are skipped.

  python benchmarks/bench_sse.py            # full run (about 15 s)
  python benchmarks/bench_sse.py --fast     # smoke run for CI (about a second)
  python benchmarks/bench_sse.py --huge     # adds a 100 MB event in 4 KiB chunks (~1 GB RAM)
"""

from __future__ import annotations

import argparse
import codecs
import gc
import importlib
import importlib.metadata
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass

from streamdantic.sse import SSEDecoder

KB = 1_000
MB = 1_000_000

Decode = Callable[[list[bytes]], tuple[int, int]]  # chunks -> (events, data characters)


# The default limits (16 Mi characters) would stop the --huge body; raise them for the benchmark.
LIMITS = {"max_line_length": 1 << 30, "max_event_size": 1 << 30}


def decode_streamdantic(chunks: list[bytes]) -> tuple[int, int]:
    decoder = SSEDecoder(**LIMITS)
    count = size = 0
    for chunk in chunks:
        for event in decoder.feed(chunk):
            count += 1
            size += len(event.data)
    decoder.close()
    return count, size


def load_httpx_sse() -> Decode | None:
    try:
        # Imported by name: the peer lives only in benchmarks/.peers, not in the main venv.
        decoders = importlib.import_module("httpx_sse._decoders")
    except ImportError:
        return None
    PeerDecoder, SSELineDecoder = decoders.SSEDecoder, decoders.SSELineDecoder

    def decode_httpx_sse(chunks: list[bytes]) -> tuple[int, int]:
        text_decoder = codecs.getincrementaldecoder("utf-8")("replace")
        lines = SSELineDecoder()
        decoder = PeerDecoder()
        count = size = 0
        for chunk in chunks:
            for line in lines.decode(text_decoder.decode(chunk)):
                event = decoder.decode(line)
                if event is not None:
                    count += 1
                    size += len(event.data)
        for line in lines.flush():
            decoder.decode(line)
        return count, size

    return decode_httpx_sse


@dataclass(frozen=True)
class Workload:
    name: str
    chunk_size: int
    sizes: tuple[int, ...]  # body sizes in bytes, each 10x the one before
    make: Callable[[int], bytes]

    def body(self, size: int) -> bytes:
        return self.make(size)


def one_big_event(size: int) -> bytes:
    prefix, suffix = b"data: ", b"\n\n"
    return prefix + b"x" * (size - len(prefix) - len(suffix)) + suffix


TINY = b'data: {"i": 12345}\n\n'


def tiny_events(size: int) -> bytes:
    return TINY * (size // len(TINY))


def workloads(fast: bool, huge: bool) -> list[Workload]:
    scale = 10 if fast else 1
    big = (1 * MB // scale, 10 * MB // scale, *((100 * MB // scale,) if huge else ()))
    return [
        Workload("one-big-event", 1, (100 * KB // scale, 1 * MB // scale), one_big_event),
        Workload("one-big-event", 16, (1 * MB // scale, 10 * MB // scale), one_big_event),
        Workload("one-big-event", 4096, big, one_big_event),
        # 210 KB / 2.1 MB: 10k / 100k events.
        Workload(
            "tiny-events",
            7,
            (len(TINY) * 10_000 // scale, len(TINY) * 100_000 // scale),
            tiny_events,
        ),
    ]


def split(body: bytes, chunk_size: int) -> list[bytes]:
    return [body[i : i + chunk_size] for i in range(0, len(body), chunk_size)]


def best_time(decode: Decode, chunks: list[bytes], repeat: int) -> tuple[float, tuple[int, int]]:
    best, result = float("inf"), (0, 0)
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = decode(chunks)
        best = min(best, time.perf_counter() - start)
    return best, result


def human(size: int) -> str:
    return f"{size / MB:g} MB" if size >= MB else f"{size / KB:g} KB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fast", action="store_true", help="smaller inputs, one repeat (CI smoke)")
    parser.add_argument(
        "--repeat", type=int, default=None, help="best of N runs (default 3, 1 with --fast)"
    )
    parser.add_argument("--huge", action="store_true", help="add a 100 MB event (4 KiB chunks)")
    args = parser.parse_args()
    repeat = args.repeat or (1 if args.fast else 3)

    impls: dict[str, Decode] = {"streamdantic": decode_streamdantic}
    peer = load_httpx_sse()
    if peer is not None:
        impls["httpx-sse"] = peer

    versions = [
        f"python {platform.python_version()}",
        f"streamdantic {importlib.metadata.version('streamdantic')}",
    ]
    versions.append(
        f"httpx-sse {importlib.metadata.version('httpx-sse')}"
        if peer
        else "httpx-sse not importable: skipped"
    )
    print(", ".join(versions), f"| best of {repeat}", "| --fast" if args.fast else "")
    header = (
        f"{'workload':14} {'chunk':>7} {'size':>7} {'impl':13} {'time s':>8} {'MB/s':>7} {'x10':>6}"
    )
    print(header)
    print("-" * len(header))
    for workload in workloads(args.fast, args.huge):
        bodies = {size: workload.body(size) for size in workload.sizes}
        chunked = {size: split(body, workload.chunk_size) for size, body in bodies.items()}
        expected = {size: decode_streamdantic([body]) for size, body in bodies.items()}
        for name, decode in impls.items():
            times: list[float] = []
            for size in workload.sizes:
                elapsed, result = best_time(decode, chunked[size], repeat)
                if result != expected[size]:
                    raise SystemExit(
                        f"{name} decoded {result}, expected {expected[size]} (events, chars)"
                    )
                times.append(elapsed)
                ratio = f"{elapsed / times[-2]:6.1f}" if len(times) > 1 else ""
                mb_per_s = len(bodies[size]) / elapsed / MB
                print(
                    f"{workload.name:14} {workload.chunk_size:>5} B {human(size):>7} {name:13}"
                    f" {elapsed:8.3f} {mb_per_s:7.1f} {ratio:>6}"
                )


if __name__ == "__main__":
    main()
