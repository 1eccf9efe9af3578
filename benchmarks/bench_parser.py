#!/usr/bin/env python
"""Benchmark streamdantic's incremental JSONParser against its peers, in the same run.

For each workload x size x chunking, every implementation consumes the whole stream and
produces the partial value after EVERY chunk (what a UI does). Timed with perf_counter, gc
enabled (the harness's own objects frozen during a run: _harness.frozen_heap), best of a
few repeats for small cases.

  streamdantic         JSONParser(events=False): feed(chunk), then read .value after every
                       chunk; finish(). What a UI that re-renders the partial value does: it
                       builds no events (the value and the path queries only)
  streamdantic-feed    JSONParser(): feed(chunk) only; the returned events (each with its full
                       JSON path) are the output. This is how a UI follows the huge-string
                       workload: it appends the string-delta events instead of re-reading a
                       multi-MB string from .value per chunk
  jiter                jiter.from_json(buf.encode(), partial_mode="trailing-strings") on the
                       accumulated buffer (what the openai SDK and many users do)
  pydantic             TypeAdapter(Any).validate_json(buf, experimental_allow_partial=
                       "trailing-strings") on the accumulated buffer
  partial-json-parser  partial_json_parser.loads(buf) on the accumulated buffer
  langchain            langchain_core.utils.json.parse_partial_json(buf), accumulated buffer
  ijson                ijson's yajl2_c basic_parse_coro(use_float=True), pushed the UTF-8 bytes
                       of each chunk (encoded beforehand): events only, no value, and no string
                       is shown until it closes
  floor-json           one json.loads(doc) of the final document
  floor-jiter          one jiter.from_json(doc_bytes) of the final document

Time limits (no number is ever invented):
- a peer's run predicted (from the growth at smaller sizes of the same series) to take more
  than --budget seconds is not run: it is reported as an extrapolated estimate, marked "~",
  or as "skipped" when there are too few measured points to extrapolate;
- a run that passes --max-run seconds anyway is stopped and reported as a lower bound, ">".

Peers that are not installed are skipped with a note (benchmarks/README.md: setup_peers.sh).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads
from _harness import (
    MARK,
    Aborted,
    csv_list,
    fmt_ms,
    frozen_heap,
    growth,
    predict,
    progress,
    ratio,
    ratio_cell,
    rel_path,
    version,
)

perf_counter = time.perf_counter

OURS = "streamdantic"
OURS_FEED = "streamdantic-feed"
PEERS = ["jiter", "pydantic", "partial-json-parser", "langchain", "ijson"]
FLOORS = ["floor-json", "floor-jiter"]

# The stream loops check the clock once per batch of chunks, so a run over --max-run can be
# stopped without putting a clock read into the per-chunk loop.
BATCH = 2048


@dataclass
class Case:
    workload: str
    size: str
    chunking: str
    doc: str
    doc_bytes: bytes
    nchunks: int
    batches: list[list[str]]  # the chunks, in batches of BATCH
    bbatches: list[list[bytes]]  # the same chunks, UTF-8 encoded (for ijson)

    @classmethod
    def make(cls, workload: str, size: str, chunking: str, doc: str, seed: int) -> Case:
        chunks = workloads.chunk(doc, chunking, seed)
        batches = [chunks[i : i + BATCH] for i in range(0, len(chunks), BATCH)]
        bbatches = [[c.encode() for c in b] for b in batches]
        return cls(workload, size, chunking, doc, doc.encode(), len(chunks), batches, bbatches)


# A runner consumes one stream and returns (seconds, final value, number of chunks after which
# the implementation raised). It times itself, so its setup stays outside the measurement, and
# raises Aborted once it has run for more than `limit` seconds.
Runner = Callable[[Case, float], tuple[float, Any, int]]


@dataclass
class Impl:
    name: str
    kind: str  # "ours", "peer" or "floor"
    description: str
    runner: Runner | None
    unavailable: str = ""  # why it cannot run here
    builds_value: bool = True
    incremental: bool = False  # designed to parse each byte once (no re-parse of the buffer)


@dataclass
class Result:
    workload: str
    size: str
    chunking: str
    impl: str
    bytes: int
    chunks: int
    # "measured"; "estimated" (not run: extrapolated); "skipped" (not run: over budget, too
    # few points to extrapolate); "aborted" (stopped after max-run: seconds is a lower bound);
    # "error" (raised, or a wrong final value)
    status: str
    seconds: float | None = None
    repeats: int = 0
    raised_on_chunks: int = 0
    note: str = ""
    # CPU time of the process over the best run (time.process_time), only a diagnostic: on a
    # busy machine, seconds (perf_counter) well above cpu_seconds means the run was preempted.
    cpu_seconds: float | None = None


# -- implementations ---------------------------------------------------------------------------


def _streamdantic_impls() -> list[Impl]:
    desc_value = "JSONParser(events=False): feed(chunk), read .value after every chunk, finish()"
    desc_feed = "JSONParser(): feed(chunk) only (events returned), .value not read, finish()"
    try:
        import streamdantic

        parser_cls = streamdantic.JSONParser
    except (ImportError, AttributeError) as exc:
        why = f"streamdantic.JSONParser is not available: {exc}"
        return [
            Impl(OURS, "ours", desc_value, None, unavailable=why),
            Impl(OURS_FEED, "ours", desc_feed, None, unavailable=why),
        ]

    def run_value(case: Case, limit: float) -> tuple[float, Any, int]:
        value = None
        t0 = perf_counter()
        parser = parser_cls(events=False)
        feed = parser.feed
        for i, batch in enumerate(case.batches):
            for chunk in batch:
                feed(chunk)
                value = parser.value
            if perf_counter() - t0 > limit:
                raise Aborted(perf_counter() - t0, (i + 1) * BATCH)
        final = parser.finish()
        elapsed = perf_counter() - t0
        if value != final:
            raise AssertionError(".value after the last chunk differs from finish()")
        return elapsed, final, 0

    def run_feed(case: Case, limit: float) -> tuple[float, Any, int]:
        t0 = perf_counter()
        parser = parser_cls()
        feed = parser.feed
        for i, batch in enumerate(case.batches):
            for chunk in batch:
                feed(chunk)
            if perf_counter() - t0 > limit:
                raise Aborted(perf_counter() - t0, (i + 1) * BATCH)
        final = parser.finish()
        return perf_counter() - t0, final, 0

    return [
        Impl(OURS, "ours", desc_value, run_value, incremental=True),
        Impl(OURS_FEED, "ours", desc_feed, run_feed, incremental=True),
    ]


def _reparse_runner(parse: Callable[[str], Any], catch: type[Exception]) -> Runner:
    """Append each chunk to a str buffer and call `parse(buf)` after every chunk."""

    def run(case: Case, limit: float) -> tuple[float, Any, int]:
        raised = 0
        value = None
        t0 = perf_counter()
        buf = ""
        for i, batch in enumerate(case.batches):
            for chunk in batch:
                buf += chunk
                try:
                    value = parse(buf)
                except catch:
                    raised += 1
            if perf_counter() - t0 > limit:
                raise Aborted(perf_counter() - t0, (i + 1) * BATCH)
        return perf_counter() - t0, value, raised

    return run


def _jiter_impl() -> Impl:
    from jiter import from_json

    def run(case: Case, limit: float) -> tuple[float, Any, int]:
        raised = 0
        value = None
        t0 = perf_counter()
        buf = ""
        for i, batch in enumerate(case.batches):
            for chunk in batch:
                buf += chunk
                try:
                    value = from_json(buf.encode(), partial_mode="trailing-strings")
                except ValueError:
                    raised += 1
            if perf_counter() - t0 > limit:
                raise Aborted(perf_counter() - t0, (i + 1) * BATCH)
        return perf_counter() - t0, value, raised

    desc = 'from_json(buf.encode(), partial_mode="trailing-strings") on the accumulated buffer'
    return Impl("jiter", "peer", desc, run)


def _pydantic_impl() -> Impl:
    from typing import Any as AnyType

    from pydantic import TypeAdapter

    validate = TypeAdapter(AnyType).validate_json

    def parse(buf: str) -> Any:
        return validate(buf, experimental_allow_partial="trailing-strings")

    desc = 'TypeAdapter(Any).validate_json(buf, experimental_allow_partial="trailing-strings")'
    return Impl("pydantic", "peer", desc, _reparse_runner(parse, ValueError))


def _optional_impl(name: str, dist: str, module: str, attr: str, description: str) -> Impl:
    try:
        parse = getattr(__import__(module, fromlist=[attr]), attr)
    except ImportError:
        why = (
            f"{dist} is not installed in this environment (a benchmark-only peer: run "
            "`bash benchmarks/setup_peers.sh`, then use benchmarks/.peers/bin/python)"
        )
        return Impl(name, "peer", description, None, unavailable=why)
    return Impl(name, "peer", description, _reparse_runner(parse, Exception))


def _ijson_impl() -> Impl:
    import ijson  # type: ignore[import-untyped]

    desc = "yajl2_c basic_parse_coro(use_float=True), pushed bytes; events only, builds no value"
    try:
        backend = ijson.get_backend("yajl2_c")
    except Exception as exc:  # the C extension may be missing on exotic platforms
        return Impl("ijson", "peer", desc, None, unavailable=f"no yajl2_c backend: {exc}")
    make_coro = backend.basic_parse_coro
    sendable_list = ijson.sendable_list

    def run(case: Case, limit: float) -> tuple[float, Any, int]:
        t0 = perf_counter()
        events = sendable_list()
        coro = make_coro(events, use_float=True)
        send = coro.send
        for i, batch in enumerate(case.bbatches):
            for chunk in batch:
                send(chunk)
                del events[:]  # the consumer takes the events as they come
            if perf_counter() - t0 > limit:
                raise Aborted(perf_counter() - t0, (i + 1) * BATCH)
        coro.close()
        return perf_counter() - t0, None, 0

    return Impl("ijson", "peer", desc, run, builds_value=False, incremental=True)


def _floor_impls() -> list[Impl]:
    from jiter import from_json

    def floor_json(case: Case, limit: float) -> tuple[float, Any, int]:
        doc = case.doc
        t0 = perf_counter()
        value = json.loads(doc)
        return perf_counter() - t0, value, 0

    def floor_jiter(case: Case, limit: float) -> tuple[float, Any, int]:
        data = case.doc_bytes
        t0 = perf_counter()
        value = from_json(data)
        return perf_counter() - t0, value, 0

    return [
        Impl("floor-json", "floor", "one json.loads(doc) of the final document", floor_json),
        Impl("floor-jiter", "floor", "one jiter.from_json(doc bytes), final document", floor_jiter),
    ]


def all_impls() -> list[Impl]:
    return [
        *_streamdantic_impls(),
        _jiter_impl(),
        _pydantic_impl(),
        _optional_impl(
            "partial-json-parser",
            "partial-json-parser",
            "partial_json_parser",
            "loads",
            "partial_json_parser.loads(buf) on the accumulated buffer",
        ),
        _optional_impl(
            "langchain",
            "langchain-core",
            "langchain_core.utils.json",
            "parse_partial_json",
            "langchain_core.utils.json.parse_partial_json(buf) on the accumulated buffer",
        ),
        _ijson_impl(),
        *_floor_impls(),
    ]


# -- measuring ---------------------------------------------------------------------------------


def measure(
    impl: Impl, case: Case, expected: Any, repeats: int, min_time: float, limit: float
) -> Result:
    """Best of up to `repeats` runs; stops repeating once `min_time` seconds were spent, but
    runs streamdantic and ijson at least twice, the floors at least 5 times (the quadratic
    peers at least once)."""
    assert impl.runner is not None
    best = math.inf
    best_cpu = math.nan
    runs = 0
    spent = 0.0
    raised = 0
    at_least = 1 if impl.kind == "peer" and not impl.incremental else min(2, repeats)
    if impl.kind == "floor":
        at_least = max(repeats, 5)  # one parse of a small document: noisy, and cheap to repeat
        repeats = at_least
    # Collect once, before the first run: collecting before every run would also evict the
    # CPU caches, which makes sub-millisecond cases (the floors) several times slower.
    gc.collect()
    while runs < repeats and (runs < at_least or spent < min_time):
        cpu0 = time.process_time()
        try:
            with frozen_heap():
                seconds, value, raised = impl.runner(case, limit)
        except Aborted as stop:
            done = min(stop.done, case.nchunks) / case.nchunks
            note = f"stopped after {stop.elapsed:.0f}s, at {done:.0%} of the stream"
            return _result(case, impl, "aborted", stop.elapsed, runs + 1, note=note)
        except Exception as exc:
            return _result(case, impl, "error", note=f"raised {type(exc).__name__}: {exc}")
        cpu = time.process_time() - cpu0
        runs += 1
        spent += seconds
        if seconds < best:
            best, best_cpu = seconds, cpu
        if runs == 1 and impl.builds_value and value != expected:
            note = "the final value differs from json.loads(doc)"
            return _result(case, impl, "error", seconds, runs, raised, note)
    result = _result(case, impl, "measured", best, runs, raised)
    result.cpu_seconds = best_cpu
    return result


def _result(
    case: Case,
    impl: Impl,
    status: str,
    seconds: float | None = None,
    repeats: int = 0,
    raised: int = 0,
    note: str = "",
) -> Result:
    return Result(
        case.workload,
        case.size,
        case.chunking,
        impl.name,
        len(case.doc_bytes),
        case.nchunks,
        status,
        seconds,
        repeats,
        raised,
        note,
    )


def run_one(
    impl: Impl, case: Case, expected: Any, hist: list[tuple[int, float]], args: argparse.Namespace
) -> Result:
    """Measure, unless a peer's run is predicted to take longer than the budget.

    `hist` holds the (bytes, seconds) measured at smaller sizes of the same series; an
    infinite time marks a series given up at a smaller size. streamdantic is always run
    (only --max-run can stop it): its numbers are never estimated.
    """
    if impl.kind == "peer" and hist:
        if math.isinf(hist[-1][1]):
            return _result(case, impl, "skipped", note="over budget at a smaller size")
        guess = predict(hist, len(case.doc_bytes))
        if guess is None:
            # One point: assume linear growth for the incremental parsers and quadratic for
            # the re-parsing peers (each chunk re-parses the whole buffer): skip, don't guess.
            k = 1.0 if impl.incremental else 2.0
            if hist[-1][1] * (len(case.doc_bytes) / hist[-1][0]) ** k > args.budget:
                return _result(case, impl, "skipped", note="predicted over budget")
        elif guess[0] > args.budget:
            seconds, k = guess
            note = f"extrapolated with growth exponent {k:.2f}"
            return _result(case, impl, "estimated", seconds, note=note)
    return measure(impl, case, expected, args.repeats, args.min_time, args.max_run)


# -- reporting ---------------------------------------------------------------------------------


def per_chunk(r: Result | None) -> str:
    if r is None or r.seconds is None or r.status not in ("measured", "aborted"):
        return fmt_ms(r)
    return MARK.get(r.status, "") + f"{r.seconds / r.chunks * 1e6:.2f}"


def markdown(
    results: list[Result], impls: list[Impl], args: argparse.Namespace, meta: dict[str, Any]
) -> str:
    idx = {(r.workload, r.size, r.chunking, r.impl): r for r in results}
    cases = list(dict.fromkeys((r.workload, r.size, r.chunking) for r in results))
    ran = [i.name for i in impls if not i.unavailable]
    peers = [n for n in PEERS if n in ran]
    floors = [n for n in FLOORS if n in ran]
    out: list[str] = []
    w = out.append
    w("## Parser benchmark\n")
    w(f"- command: `{meta['command']}`")
    w(f"- python: `{meta['python']}`")
    w(f"- machine: {meta['machine']}")
    w("- versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    w(
        f"- gc enabled (the harness's own objects frozen during a run); best of up to {args.repeats} runs, fewer once a case has taken "
        f"{args.min_time}s (but streamdantic and ijson at least 2 runs, the floors 5); "
        f"budget {args.budget}s, max-run {args.max_run}s"
    )
    timed = [r for r in results if r.status == "measured" and r.cpu_seconds and r.seconds]
    wall = sum(r.seconds for r in timed if r.seconds)
    cpu = sum(r.cpu_seconds for r in timed if r.cpu_seconds)
    w(
        f"- load average (1 min) at start {meta['loadavg'][0]:.2f}, at end "
        f"{meta['loadavg'][1]:.2f}; wall/CPU time of the kept runs {wall / cpu if cpu else 0:.3f} "
        f"(1.000 = never preempted); parser source sha256 {meta['parser_sha256']}"
    )
    w("")
    w("Implementations:")
    w("")
    for i in impls:
        state = f"NOT RUN: {i.unavailable}" if i.unavailable else i.description
        w(f"- **{i.name}**: {state}")
    w(
        "- ijson is incremental but shows no partial value: it emits events, and a string "
        "only once the string has closed. It is the C-speed push-parser reference, not a "
        "like-for-like partial-value peer."
    )
    w(
        "- string workload (one huge string): a UI appends the string-delta events "
        "(streamdantic-feed) instead of re-reading the whole growing string from `.value` "
        "after every chunk; both are measured."
    )
    w(
        "- `~`: not run, the predicted time exceeded the budget; extrapolated from the two "
        "largest measured sizes with their growth exponent (clamped to 1..2.2). `>`: stopped "
        "after max-run, a lower bound. `skipped`: over budget with too few points to "
        "extrapolate. `error`: raised, or a wrong final value (listed at the end)."
    )
    w("")

    w("### Time to consume the stream, partial value after every chunk (ms)\n")
    cols = [c for c in [OURS, OURS_FEED, *peers, *floors] if c in ran]
    w("| workload | size | chunking | bytes | chunks | " + " | ".join(cols) + " |")
    w("|" + "---|" * (5 + len(cols)))
    for wl, sz, ch in cases:
        first = next(r for r in results if (r.workload, r.size, r.chunking) == (wl, sz, ch))
        row = " | ".join(fmt_ms(idx.get((wl, sz, ch, c))) for c in cols)
        w(f"| {wl} | {sz} | {ch} | {first.bytes:,} | {first.chunks:,} | {row} |")
    w("")

    if OURS in ran:
        w(
            "### streamdantic: microseconds per chunk, and ratios "
            "(`vs peer` = peer time / streamdantic time; `x floor` = streamdantic time / floor)\n"
        )
        head = ["us/chunk", "feed-only us/chunk", *[f"vs {p}" for p in peers]]
        head += [f"x {f}" for f in floors]
        w("| workload | size | chunking | " + " | ".join(head) + " |")
        w("|" + "---|" * (3 + len(head)))
        for wl, sz, ch in cases:
            ours = idx.get((wl, sz, ch, OURS))
            cells = [per_chunk(ours), per_chunk(idx.get((wl, sz, ch, OURS_FEED)))]
            cells += [ratio_cell(idx.get((wl, sz, ch, p)), ours) for p in peers]
            for f in floors:
                fr = idx.get((wl, sz, ch, f))
                if ours and ours.status == "measured" and ours.seconds and fr and fr.seconds:
                    cells.append(ratio(ours.seconds / fr.seconds))
                else:
                    cells.append("")
            w(f"| {wl} | {sz} | {ch} | " + " | ".join(cells) + " |")
        w("")

    sizes = list(dict.fromkeys(r.size for r in results))
    if len(sizes) > 1:
        steps = list(zip(sizes, sizes[1:], strict=False))
        w(
            "### Growth per 10x size: time ratio normalized to exactly 10x bytes "
            "(10 = linear, 100 = quadratic)\n"
        )
        w(
            "| workload | chunking | implementation | "
            + " | ".join(f"{a} -> {b}" for a, b in steps)
            + " |"
        )
        w("|" + "---|" * (3 + len(steps)))
        for wl, ch in dict.fromkeys((r.workload, r.chunking) for r in results):
            for name in [c for c in [OURS, OURS_FEED, *peers] if c in ran]:
                steps_cells = [
                    growth(idx.get((wl, a, ch, name)), idx.get((wl, b, ch, name))) for a, b in steps
                ]
                if any(steps_cells):
                    w(f"| {wl} | {ch} | {name} | " + " | ".join(steps_cells) + " |")
        w("")

    flagged = [r for r in results if r.raised_on_chunks or r.status in ("error", "aborted")]
    if flagged:
        w("### Errors, exceptions on prefixes, stopped runs\n")
        for r in flagged:
            what = r.note or f"raised on {r.raised_on_chunks:,} of {r.chunks:,} prefixes"
            w(f"- {r.impl} on {r.workload}/{r.size}/{r.chunking}: {what}")
        w("")
    return "\n".join(out)


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--fast",
        action="store_true",
        help="smoke run: every workload at 2K, token chunks, 3 repeats, small budget (seconds)",
    )
    ap.add_argument("--workloads", type=csv_list, help="comma list (default: all)")
    ap.add_argument("--sizes", type=csv_list, help="comma list of 2K,20K,200K,2M (default: all)")
    ap.add_argument("--chunkings", type=csv_list, help="comma list of char,token,64 (default: all)")
    ap.add_argument(
        "--peers",
        type=csv_list,
        help="comma list of the peers and floors to run next to streamdantic "
        f"(default: all): {','.join(PEERS + FLOORS)}",
    )
    ap.add_argument("--repeats", type=int, default=5, help="max runs per case; the best counts")
    ap.add_argument(
        "--min-time", type=float, default=2.0, help="stop repeating a case after this (seconds)"
    )
    ap.add_argument(
        "--budget",
        type=float,
        default=10.0,
        help="don't run an implementation predicted to take longer than this (seconds)",
    )
    ap.add_argument(
        "--max-run", type=float, default=90.0, help="stop any single run after this (seconds)"
    )
    ap.add_argument("--seed", type=int, default=0, help="seed of the documents and chunkers")
    ap.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    ap.add_argument("--markdown", type=Path, help="also write the Markdown report to this file")
    args = ap.parse_args(argv)
    if args.fast:
        args.sizes = args.sizes or ["2K"]
        args.chunkings = args.chunkings or ["token"]
        args.repeats = 3
        args.budget = min(args.budget, 1.0)
        args.max_run = min(args.max_run, 2.0)
    args.workloads = args.workloads or list(workloads.WORKLOADS)
    args.sizes = args.sizes or list(workloads.SIZES)
    args.chunkings = args.chunkings or list(workloads.CHUNKINGS)
    for what, given, known in (
        ("workload", args.workloads, list(workloads.WORKLOADS)),
        ("size", args.sizes, list(workloads.SIZES)),
        ("chunking", args.chunkings, list(workloads.CHUNKINGS)),
        ("peer", args.peers or [], PEERS + FLOORS),
    ):
        bad = [g for g in given if g not in known]
        if bad:
            ap.error(f"unknown {what} {', '.join(bad)}; valid: {', '.join(known)}")
    args.sizes.sort(key=lambda s: workloads.SIZES[s])
    return args


def _versions() -> dict[str, str]:
    dists = ["streamdantic", "jiter", "pydantic", "pydantic-core", "ijson"]
    dists += ["partial-json-parser", "langchain-core"]
    versions = {d: version(d) for d in dists}
    return {d: v for d, v in versions.items() if v != "?"}


def _parser_digest() -> str:
    """First 12 hex digits of the sha256 of streamdantic's parser sources (`_parser.py`, then
    `_speedups.c`), to tie results to the parser they measured ("-" if not found), and which
    scanner ran: "compiled" or "pure Python"."""
    try:
        import streamdantic._parser as parser_module

        module = Path(parser_module.__file__ or "")
        source = module.read_bytes()
        c_source = module.with_name("_speedups.c")
        if c_source.exists():
            source += c_source.read_bytes()
    except (ImportError, OSError):
        return "-"
    scanner = "compiled" if parser_module.COMPILED else "pure Python"
    return f"{hashlib.sha256(source).hexdigest()[:12]} ({scanner})"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    gc.enable()
    wanted = {OURS, OURS_FEED, *(args.peers if args.peers is not None else PEERS + FLOORS)}
    impls = [i for i in all_impls() if i.name in wanted]
    for i in impls:
        if i.unavailable:
            print(f"note: {i.name} skipped: {i.unavailable}", file=sys.stderr)
    runnable = [i for i in impls if not i.unavailable]
    argv_shown = sys.argv[1:] if argv is None else argv
    meta: dict[str, Any] = {
        "command": " ".join([rel_path(sys.executable), rel_path(__file__), *argv_shown]),
        "python": sys.version.replace("\n", " "),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "versions": _versions(),
        "parser_sha256": _parser_digest(),
        "loadavg": [os.getloadavg()[0]],
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }

    results: list[Result] = []
    history: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
    for wl in args.workloads:
        for size in args.sizes:
            doc = workloads.document(wl, workloads.SIZES[size], args.seed)
            expected = json.loads(doc)
            for ch in args.chunkings:
                case = Case.make(wl, size, ch, doc, args.seed)
                for impl in runnable:
                    hist = history.setdefault((wl, ch, impl.name), [])
                    r = run_one(impl, case, expected, hist, args)
                    if r.status == "measured" and r.seconds is not None:
                        hist.append((r.bytes, r.seconds))
                    elif r.status in ("skipped", "aborted"):
                        hist.append((r.bytes, math.inf))
                    results.append(r)
                    progress(r, 20)
                del case

    meta["loadavg"].append(os.getloadavg()[0])
    report = markdown(results, impls, args, meta)
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n", encoding="utf-8")
    if args.json:
        payload = {"meta": meta, "results": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
