"""Helpers shared by the benchmark scripts bench_parser.py and bench_validation.py.

Both scripts import it (their own directory is on sys.path): the Aborted exception a runner
raises past --max-run, the heap freeze around a measured run, package versions, argument and path helpers, the extrapolation of a
series' time to a larger size, and the formatting of the report's cells and progress lines.
"""

from __future__ import annotations

import gc
import importlib.metadata
import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Aborted(Exception):
    def __init__(self, elapsed: float, done: int) -> None:
        self.elapsed = elapsed
        self.done = done


class Row(Protocol):
    """The fields of a script's Result that the helpers below read."""

    workload: str
    size: str
    chunking: str
    impl: str
    bytes: int
    status: str
    seconds: float | None
    note: str


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Move every object alive now (the documents, the chunk lists of every case, earlier
    results) to the collector's permanent generation for the measured run, and back after.

    The cycle collector stays on: it still scans everything the run itself creates. Without
    the freeze, each full collection a value-building parser triggers would also walk the
    harness's own data (half a million chunks at 2 MB), a cost that grows with the benchmark,
    not with the parser, and that a parser building no containers (ijson) never pays.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def csv_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def rel_path(path: str) -> str:
    return os.path.relpath(path) if os.path.exists(path) else path


def predict(history: list[tuple[int, float]], nbytes: int) -> tuple[float, float] | None:
    """Extrapolate (seconds, exponent) at `nbytes` from the two largest measured sizes, with
    their growth exponent clamped to [1, 2.2]; None with fewer than two points."""
    if len(history) < 2:
        return None
    (b1, t1), (b2, t2) = history[-2], history[-1]
    k = math.log(max(t2, 1e-9) / max(t1, 1e-9)) / math.log(b2 / b1)
    k = min(max(k, 1.0), 2.2)
    return t2 * (nbytes / b2) ** k, k


# -- reporting ---------------------------------------------------------------------------------

MARK = {"estimated": "~", "aborted": ">"}
TIMED = ("measured", "estimated", "aborted")


def num(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def ratio(x: float) -> str:
    return f"{x:,.0f}x" if x >= 100 else f"{x:.1f}x" if x >= 10 else f"{x:.2f}x"


def fmt_ms(r: Row | None) -> str:
    if r is None:
        return ""
    if r.seconds is not None and r.status in TIMED:
        return MARK.get(r.status, "") + num(r.seconds * 1e3)
    return r.status


def ratio_cell(peer: Row | None, ours: Row | None) -> str:
    """peer time / our time, marked like the peer's time."""
    if peer is None or ours is None or ours.status != "measured" or not ours.seconds:
        return ""
    if peer.seconds is None or peer.status not in TIMED:
        return peer.status
    return MARK.get(peer.status, "") + ratio(peer.seconds / ours.seconds)


def growth(a: Row | None, b: Row | None) -> str:
    """time(b) / time(a), normalized to exactly 10x bytes (10 = linear, 100 = quadratic)."""
    if a is None or b is None or a.seconds is None or b.seconds is None:
        return ""
    if a.status != "measured" or b.status not in TIMED:
        return ""
    g = (b.seconds / a.seconds) / (b.bytes / a.bytes) * 10
    return MARK.get(b.status, "") + (f"{g:.1f}" if g < 100 else f"{g:,.0f}")


def progress(r: Row, width: int) -> None:
    """One progress line on stderr; `width` is the implementation column's width."""
    t = f"{r.seconds:.4f}s" if r.seconds is not None else "-"
    print(
        f"  {r.workload:8} {r.size:5} {r.chunking:6} {r.impl:{width}} {r.status:9} {t} {r.note}",
        file=sys.stderr,
        flush=True,
    )
