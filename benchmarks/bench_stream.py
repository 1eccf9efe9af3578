#!/usr/bin/env python
"""What `stream()` costs above the bare validator, per chunk (issue #14's 1.3x target).

Same workloads, models and chunkings as bench_validation.py. For each case two runs consume
the whole stream and read a typed partial after every update:

  validator   JSONParser().feed(chunk) -> PartialValidator(Model).apply(events), the partial
              read after every chunk; close(), validate_final() (bench_validation.py's
              streamdantic column)
  stream      for update in stream(chunks, Model): update.partial (the default policy,
              emit="changes", snapshots): the source router, the object pipeline, the
              emitter building each frozen Update, the clock read per chunk

The ratio stream / validator is what the stream layer adds; unit tests never time anything.
`--fast` is the smoke mode.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads
from _harness import csv_list, frozen_heap
from bench_validation import MODELS
from streamdantic import JSONParser, stream
from streamdantic._validation import PartialValidator

# CPU time of this process: the machines these run on are shared, and wall time counts
# the time other processes hold the core.
perf_counter = time.process_time


def run_validator(model: type[Any], chunks: list[str]) -> tuple[float, Any]:
    PartialValidator(model)  # compile the partial schema (cached) outside the timer
    t0 = perf_counter()
    parser = JSONParser()
    validator: PartialValidator[Any] = PartialValidator(model)
    feed, apply = parser.feed, validator.apply
    received: list[str] = []
    keep = received.append
    partial = None
    for chunk in chunks:
        keep(chunk)
        apply(feed(chunk))
        partial = validator.partial
    apply(parser.close())
    final = validator.validate_final(parser.value, raw_text="".join(received))
    elapsed = perf_counter() - t0
    assert partial is not None
    return elapsed, final


def run_stream(model: type[Any], chunks: list[str]) -> tuple[float, Any]:
    PartialValidator(model)
    t0 = perf_counter()
    update = None
    partial = None
    for update in stream(chunks, model):
        partial = update.partial
    elapsed = perf_counter() - t0
    assert update is not None and partial is not None
    return elapsed, update.final


RUNNERS: dict[str, Callable[[type[Any], list[str]], tuple[float, Any]]] = {
    "validator": run_validator,
    "stream": run_stream,
}


def best(model: Any, chunks: list[str], n: int) -> dict[str, float]:
    """The best of `n` runs of each runner, interleaved (validator, stream, validator, ...)
    so that a change in the machine's load hits both columns alike."""
    times: dict[str, list[float]] = {name: [] for name in RUNNERS}
    for _ in range(n):
        for name, runner in RUNNERS.items():
            gc.collect()
            with frozen_heap():
                seconds, _final = runner(model, chunks)
            times[name].append(seconds)
    return {name: min(ts) for name, ts in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="smoke mode: 2K documents, 1 run")
    parser.add_argument("--workloads", type=csv_list, default=list(MODELS))
    parser.add_argument("--sizes", type=csv_list, default=["20K", "200K"])
    parser.add_argument("--chunkings", type=csv_list, default=["token"])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)
    if args.fast:
        args.sizes, args.repeats = ["2K"], 1
    print("| workload | size | chunking | chunks | validator us/chunk | stream us/chunk | ratio |")
    print("|---|---|---|---|---|---|---|")
    for wl in args.workloads:
        model = MODELS[wl]
        for size in args.sizes:
            doc = workloads.document(wl, workloads.SIZES[size])
            expected = model.model_validate_json(doc)
            for ch in args.chunkings:
                chunks = workloads.chunk(doc, ch)
                for name, runner in RUNNERS.items():
                    assert runner(model, chunks)[1] == expected, name
                per = {
                    name: seconds / len(chunks) * 1e6
                    for name, seconds in best(model, chunks, args.repeats).items()
                }
                v, s = per["validator"], per["stream"]
                print(
                    f"| {wl} | {size} | {ch} | {len(chunks):,} | {v:.2f} | {s:.2f} | {s / v:.2f}x |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
