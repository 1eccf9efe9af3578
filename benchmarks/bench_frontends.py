#!/usr/bin/env python
"""Benchmark the front-end protocols: frames and bytes per document, and server CPU per stream.

One typed stream (a records document, JSON text in 4-character tokens, parsed and validated
by `stream(...)`) is encoded in each protocol with its default coalescing, and in the
streamdantic SSE profile for comparison:

  profile        ProfileEncoder (deltas: each change once)
  ai-sdk         UIMessageStreamEncoder (the object as one data part, re-sent as it grows)
  ai-sdk-text    TextStreamEncoder (the JSON text)
  ag-ui          AGUIEncoder (STATE_SNAPSHOT, then JSON Patch STATE_DELTA)

Coalescing is paced by time: the updates carry a simulated clock of a model writing
`--tokens-per-second` tokens (100 by default, a fast model), so the interval-based
coalescing sees what it would see live. Sizes 20 KB and 80 KB show whether the bytes grow
linearly (x4 for a 4x larger document). CPU is `time.process_time` of parsing, validating
and encoding one stream, best of `--repeat` runs; "encode" is the encoder's share alone.

  python benchmarks/bench_frontends.py          # full run (about 20 s)
  python benchmarks/bench_frontends.py --fast   # smoke run for CI (a second)
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

import streamdantic as sd
from streamdantic.frontends import TextStreamEncoder, UIMessageStreamEncoder
from streamdantic.sse import ProfileEncoder, encode

KB = 1_000


class Record(BaseModel):
    id: int
    name: str
    email: str
    score: float
    tags: list[str]
    active: bool


class Records(BaseModel):
    records: list[Record]


def document(size: int) -> str:
    """A records document of about `size` bytes of JSON."""
    records: list[dict[str, Any]] = []
    while True:
        i = len(records)
        records.append(
            {
                "id": i,
                "name": f"Customer number {i}",
                "email": f"customer{i}@example.com",
                "score": round(i * 1.37, 2),
                "tags": ["retail", "newsletter"][: 1 + i % 2],
                "active": i % 3 != 0,
            }
        )
        text = json.dumps({"records": records})
        if len(text) >= size:
            return text


def tokens(text: str) -> list[str]:
    return [text[i : i + 4] for i in range(0, len(text), 4)]


@dataclass
class Result:
    protocol: str
    size: int  # the nominal size
    text: int  # the document's length
    frames: int
    bytes: int
    cpu_ms: float
    encode_ms: float


def _agui() -> Any:
    from streamdantic.frontends import AGUIEncoder

    return AGUIEncoder(thread_id="thread", run_id="run")


ENCODERS: dict[str, Callable[[], Any]] = {
    "profile": ProfileEncoder,
    "ai-sdk": UIMessageStreamEncoder,
    "ai-sdk-text": TextStreamEncoder,
    "ag-ui": _agui,
}


def _frames_of(protocol: str, output: list[Any]) -> tuple[int, int]:
    if protocol == "profile" or protocol == "ai-sdk":
        return len(output), sum(len(encode(frame)) for frame in output)
    return len(output), sum(len(frame.encode("utf-8")) for frame in output)


def run(protocol: str, size_: int, rate: float, repeat: int) -> Result:
    text = document(size_)
    pieces = tokens(text)
    best_cpu = best_encode = float("inf")
    frames = size = 0
    for _ in range(repeat):
        encoder = ENCODERS[protocol]()
        frames = size = 0
        encode_time = 0.0
        start = time.process_time()
        for n, update in enumerate(sd.stream(pieces, Records)):
            now = n / rate
            t0 = time.process_time()
            out = encoder.feed(update, now=now)
            encode_time += time.process_time() - t0
            count, length = _frames_of(protocol, out)
            frames += count
            size += length
        t0 = time.process_time()
        out = encoder.close()
        encode_time += time.process_time() - t0
        count, length = _frames_of(protocol, out)
        frames += count
        size += length
        best_cpu = min(best_cpu, time.process_time() - start)
        best_encode = min(best_encode, encode_time)
    return Result(protocol, size_, len(text), frames, size, best_cpu * 1000, best_encode * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="small sizes, one run (CI smoke)")
    parser.add_argument("--tokens-per-second", type=float, default=100.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [2 * KB, 8 * KB] if args.fast else [20 * KB, 80 * KB]
    repeat = 1 if args.fast else args.repeat
    results = [
        run(protocol, size, args.tokens_per_second, repeat)
        for size in sizes
        for protocol in ENCODERS
    ]
    profile = {r.size: r for r in results if r.protocol == "profile"}
    print(
        f"tokens of 4 characters at {args.tokens_per_second:g} tokens/s; "
        f"CPU: best of {repeat} (parse + validate + encode)\n"
    )
    print(
        "| protocol | document | frames | bytes | bytes / document | vs profile | "
        "CPU per stream | encoding |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        base = profile[r.size]
        print(
            f"| {r.protocol} | {r.size / KB:.0f} KB | {r.frames:,} | {r.bytes:,} | "
            f"{r.bytes / r.text:.1f}x | {r.bytes / base.bytes:.2f}x | {r.cpu_ms:.0f} ms | "
            f"{r.encode_ms:.0f} ms |"
        )
    small, large = sizes
    print(f"\ngrowth of the bytes from {small / KB:.0f} KB to {large / KB:.0f} KB:")
    for protocol in ENCODERS:
        a = next(r for r in results if r.protocol == protocol and r.size == small)
        b = next(r for r in results if r.protocol == protocol and r.size == large)
        print(f"  {protocol}: x{b.bytes / a.bytes:.2f} (document x{b.text / a.text:.2f})")


if __name__ == "__main__":
    main()
