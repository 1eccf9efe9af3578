#!/usr/bin/env python
"""Benchmark streamdantic's typed partials against its peers, in the same run.

Same workloads, sizes and chunkings as bench_parser.py (workloads.py), each with a pydantic
model. For each workload x size x chunking, every implementation consumes the whole stream,
produces a typed partial object after EVERY chunk (what a UI does), and ends with the final
object, which must equal `Model.model_validate_json(doc)`.

  streamdantic      JSONParser().feed(chunk) -> PartialValidator(Model).apply(events), the
                    typed partial read after every chunk (a snapshot: a value that never
                    changes, unchanged subtrees shared); close(), then validate_final()
  streamdantic-live the same with PartialValidator(Model, partials="live"): one partial object
                    changed in place (not a peer: the cost of snapshots is the ratio)
  instructor        instructor.Partial[Model].model_from_chunks(chunks): per chunk it appends
                    to the buffer, re-parses it with jiter (trailing-strings), analyses which
                    paths are complete (a second jiter parse) and builds the partial with
                    model_construct, validating complete nested models; a complete root is
                    validated with the model (benchmark-only peer: benchmarks/.peers)
  pydantic          pydantic 2.14 has no partial validation for BaseModel (a prefix fails
                    on its first missing required field), so this column uses what pydantic
                    offers: a TypedDict mirror of the model (total=False, same field types)
                    validated with TypeAdapter(...).validate_json(buf,
                    experimental_allow_partial="trailing-strings") per chunk; the final with
                    Model.model_validate_json(buf)
  pydantic-model    TypeAdapter(Model).validate_json(buf, experimental_allow_partial=
                    "trailing-strings") per chunk: it raises on every prefix that lacks a
                    required field (counted, see the errors section)
  openai            the openai SDK's per-chunk work for `response_format=Model` (openai/lib/
                    streaming/chat/_completions.py): jiter.from_json(bytes(buf, "utf-8"),
                    partial_mode=True) on the accumulated content; the per-chunk `parsed` is
                    an untyped dict, and the model is validated once, at the end
                    (model_validate_json). The JSON work alone: a lower bound of the SDK
  openai-sdk        the same through the SDK itself: ChatCompletionStreamState(
                    response_format=Model).handle_chunk(chunk) for every ChatCompletionChunk
                    (built before the timer), final object from the content.done parse

Time limits are bench_parser.py's: a run predicted to exceed --budget from the growth at
smaller sizes is not run ("~" estimate, or "skipped"); a run over --max-run is stopped (">").
Peers that are not installed are skipped with a note (benchmarks/README.md: setup_peers.sh).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads
from _harness import (
    MARK,
    TIMED,
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

# The clock every implementation is timed with (`--clock`): CPU time of the process by
# default, so runs on a shared machine are not charged for the time another job had the core.
clock = time.process_time

OURS = "streamdantic"
LIVE = "streamdantic-live"  # partials="live": the snapshot overhead is OURS / LIVE
PEERS = ["instructor", "pydantic", "pydantic-model", "openai", "openai-sdk"]
# Peers that give a partial after (nearly) every chunk: "fastest peer" is taken among these.
# pydantic-model raises on every prefix before the last required field, so it shows nothing.
PARTIAL_PEERS = ["instructor", "pydantic", "openai", "openai-sdk"]
BATCH = 2048  # chunks between two checks of the clock

# -- models ------------------------------------------------------------------------------------


class Section(BaseModel):
    heading: str
    body: str
    words: int


class Essay(BaseModel):
    title: str
    summary: str
    sections: list[Section]
    conclusion: str


Country = Literal["PT", "JP", "CA", "KE", "FR", "US", "PL", "BR"]


class Address(BaseModel):
    street: str
    city: str
    zip: str
    country: Country


class Customer(BaseModel):
    id: int
    name: str
    vip: bool
    address: Address


class LineItem(BaseModel):
    sku: str
    name: str
    qty: int = Field(gt=0)
    unit_price: float
    discount: float | None
    tags: list[str]
    in_stock: bool


class Order(BaseModel):
    id: str
    created: datetime
    customer: Customer
    items: list[LineItem]
    total: float
    paid: bool
    note: str | None


class Orders(BaseModel):
    orders: list[Order]
    count: int


class Numbers(BaseModel):
    values: list[int | float]


class Forest(BaseModel):
    # The trees alternate objects and arrays at random, 50-196 levels deep. Their exact type
    # is a union recursing through lists, which pydantic accepts only as a PEP 695 /
    # TypeAliasType alias; streamdantic's partial schema does not read those aliases yet (it
    # would show each tree only once complete), so the trees are untyped here and this
    # workload measures the raw-mirror (`Any`) path of every implementation.
    trees: list[Any]


Lang = Literal["zh", "ja", "ru", "fr", "pt", "mixed"]


class Message(BaseModel):
    id: int
    lang: Lang
    text: str
    reaction: str | None = None


class Messages(BaseModel):
    messages: list[Message]


class Text(BaseModel):
    text: str


MODELS: dict[str, type[BaseModel]] = {
    "prose": Essay,
    "records": Orders,
    "numbers": Numbers,
    "deep": Forest,
    "unicode": Messages,
    "string": Text,
}

# TypedDict mirrors (total=False: any key may be missing from a prefix) for pydantic's
# partial validation, which supports TypedDict but not BaseModel.


class SectionTD(TypedDict, total=False):
    heading: str
    body: str
    words: int


class EssayTD(TypedDict, total=False):
    title: str
    summary: str
    sections: list[SectionTD]
    conclusion: str


class AddressTD(TypedDict, total=False):
    street: str
    city: str
    zip: str
    country: Country


class CustomerTD(TypedDict, total=False):
    id: int
    name: str
    vip: bool
    address: AddressTD


class LineItemTD(TypedDict, total=False):
    sku: str
    name: str
    qty: Annotated[int, Field(gt=0)]
    unit_price: float
    discount: float | None
    tags: list[str]
    in_stock: bool


class OrderTD(TypedDict, total=False):
    id: str
    created: datetime
    customer: CustomerTD
    items: list[LineItemTD]
    total: float
    paid: bool
    note: str | None


class OrdersTD(TypedDict, total=False):
    orders: list[OrderTD]
    count: int


class NumbersTD(TypedDict, total=False):
    values: list[int | float]


class ForestTD(TypedDict, total=False):
    trees: list[Any]


class MessageTD(TypedDict, total=False):
    id: int
    lang: Lang
    text: str
    reaction: str | None


class MessagesTD(TypedDict, total=False):
    messages: list[MessageTD]


class TextTD(TypedDict, total=False):
    text: str


TYPED_DICTS: dict[str, Any] = {
    "prose": EssayTD,
    "records": OrdersTD,
    "numbers": NumbersTD,
    "deep": ForestTD,
    "unicode": MessagesTD,
    "string": TextTD,
}


# -- cases and results -------------------------------------------------------------------------


@dataclass
class Case:
    workload: str
    size: str
    chunking: str
    model: type[BaseModel]
    doc: str
    nbytes: int
    chunks: list[str]
    expected: BaseModel


# A runner consumes one stream: returns (seconds, final object, prefixes on which it raised).
# It times itself (setup outside the measurement) and raises Aborted after `limit` seconds.
Runner = Callable[[Case, float], tuple[float, Any, int]]


@dataclass
class Impl:
    name: str
    description: str
    runner: Runner | None
    unavailable: str = ""
    incremental: bool = False


@dataclass
class Result:
    workload: str
    size: str
    chunking: str
    impl: str
    bytes: int
    chunks: int
    status: str  # measured, estimated, skipped, aborted, error (as in bench_parser.py)
    seconds: float | None = None
    repeats: int = 0
    raised_on_chunks: int = 0
    note: str = ""


def _batches(chunks: list[Any]) -> list[list[Any]]:
    return [chunks[i : i + BATCH] for i in range(0, len(chunks), BATCH)]


# -- implementations ---------------------------------------------------------------------------


def _streamdantic_impl(partials: Literal["snapshot", "live"] = "snapshot") -> Impl:
    name = OURS if partials == "snapshot" else LIVE
    desc = (
        f'JSONParser().feed(chunk) -> PartialValidator(Model, partials="{partials}")'
        ".apply(events), partial read after every chunk; close(); "
        "validate_final(value, raw_text=...)"
    )
    try:
        from streamdantic import JSONParser
        from streamdantic._validation import PartialValidator
    except ImportError as exc:  # pragma: no cover - the package is always importable here
        return Impl(name, desc, None, unavailable=f"streamdantic is not importable: {exc}")

    def run(case: Case, limit: float) -> tuple[float, Any, int]:
        batches = _batches(case.chunks)
        PartialValidator(case.model)  # compile the partial schema (cached) outside the timer
        t0 = clock()
        parser = JSONParser()
        validator: PartialValidator[Any] = PartialValidator(case.model, partials=partials)
        feed, apply = parser.feed, validator.apply
        received: list[str] = []
        keep = received.append
        partial = None
        for i, batch in enumerate(batches):
            for chunk in batch:
                keep(chunk)
                apply(feed(chunk))
                partial = validator.partial
            if clock() - t0 > limit:
                raise Aborted(clock() - t0, (i + 1) * BATCH)
        apply(parser.close())
        final = validator.validate_final(parser.value, raw_text="".join(received))
        elapsed = clock() - t0
        assert partial is not None
        return elapsed, final, 0

    return Impl(name, desc, run, incremental=True)


def _instructor_impl() -> Impl:
    desc = (
        "instructor.Partial[Model].model_from_chunks(chunks): re-parses the accumulated "
        "buffer with jiter and rebuilds the partial after every chunk"
    )
    try:
        import instructor  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        why = (
            "instructor is not installed in this environment (a benchmark-only peer: run "
            "`bash benchmarks/setup_peers.sh`, then use benchmarks/.peers/bin/python)"
        )
        return Impl("instructor", desc, None, unavailable=why)
    partial_classes: dict[type[BaseModel], Any] = {}

    def run(case: Case, limit: float) -> tuple[float, Any, int]:
        cls = partial_classes.get(case.model)
        if cls is None:
            cls = partial_classes[case.model] = instructor.Partial[case.model]
            cls.get_partial_model()  # built once and cached by instructor: outside the timer
        done = 0

        def chunks() -> Any:
            nonlocal done
            for i, batch in enumerate(_batches(case.chunks)):
                yield from batch
                done = (i + 1) * BATCH
                if clock() - t0 > limit:
                    raise Aborted(clock() - t0, done)

        obj = None
        t0 = clock()
        for obj in cls.model_from_chunks(chunks()):  # noqa: B007 - the partial of each chunk
            pass
        return clock() - t0, obj, 0

    return Impl("instructor", desc, run)


def _pydantic_impls() -> list[Impl]:
    desc_td = (
        "TypeAdapter(<TypedDict mirror, total=False>).validate_json(buf, "
        'experimental_allow_partial="trailing-strings") per chunk (pydantic has no partial '
        "BaseModel validation); final Model.model_validate_json(buf)"
    )
    desc_model = (
        'TypeAdapter(Model).validate_json(buf, experimental_allow_partial="trailing-strings")'
        " per chunk: raises until every required field exists; final model_validate_json"
    )
    adapters: dict[Any, TypeAdapter[Any]] = {}

    def reparse(validate_of: Callable[[Case], Callable[..., Any]]) -> Runner:
        def run(case: Case, limit: float) -> tuple[float, Any, int]:
            validate = validate_of(case)
            batches = _batches(case.chunks)
            raised = 0
            t0 = clock()
            buf = ""
            for i, batch in enumerate(batches):
                for chunk in batch:
                    buf += chunk
                    try:
                        validate(buf, experimental_allow_partial="trailing-strings")
                    except ValidationError:
                        raised += 1
                if clock() - t0 > limit:
                    raise Aborted(clock() - t0, (i + 1) * BATCH)
            final = case.model.model_validate_json(buf)
            return clock() - t0, final, raised

        return run

    def typed_dict(case: Case) -> Callable[..., Any]:
        td = TYPED_DICTS[case.workload]
        adapter = adapters.get(td)
        if adapter is None:
            adapter = adapters[td] = TypeAdapter(td)
        return adapter.validate_json

    def model(case: Case) -> Callable[..., Any]:
        adapter = adapters.get(case.model)
        if adapter is None:
            adapter = adapters[case.model] = TypeAdapter(case.model)
        return adapter.validate_json

    return [
        Impl("pydantic", desc_td, reparse(typed_dict)),
        Impl("pydantic-model", desc_model, reparse(model)),
    ]


def _openai_impls() -> list[Impl]:
    desc = (
        'jiter.from_json(bytes(buf, "utf-8"), partial_mode=True) on the accumulated content '
        "per chunk (an untyped dict, as the openai SDK's parsed snapshot); final "
        "Model.model_validate_json(buf)"
    )
    desc_sdk = (
        "openai ChatCompletionStreamState(response_format=Model).handle_chunk(chunk) per "
        "ChatCompletionChunk (built before the timer); final object from content.done"
    )
    from jiter import from_json

    def run(case: Case, limit: float) -> tuple[float, Any, int]:
        batches = _batches(case.chunks)
        t0 = clock()
        buf = ""
        for i, batch in enumerate(batches):
            for chunk in batch:
                buf += chunk
                if buf.lstrip():  # the SDK skips content that is only whitespace
                    from_json(bytes(buf, "utf-8"), partial_mode=True)
            if clock() - t0 > limit:
                raise Aborted(clock() - t0, (i + 1) * BATCH)
        final = case.model.model_validate_json(buf)
        return clock() - t0, final, 0

    impls = [Impl("openai", desc, run)]
    try:
        from openai.lib.streaming.chat import ChatCompletionStreamState
        from openai.types.chat import ChatCompletionChunk
    except ImportError as exc:
        impls.append(Impl("openai-sdk", desc_sdk, None, unavailable=f"openai: {exc}"))
        return impls

    def completion_chunks(case: Case) -> list[Any]:
        head = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m"}

        def make(delta: dict[str, Any], finish: str | None) -> Any:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return ChatCompletionChunk.model_validate({**head, "choices": [choice]})

        out = [make({"role": "assistant", "content": ""}, None)]
        out += [make({"content": chunk}, None) for chunk in case.chunks]
        out.append(make({}, "stop"))
        return out

    def run_sdk(case: Case, limit: float) -> tuple[float, Any, int]:
        batches = _batches(completion_chunks(case))
        t0 = clock()
        state = ChatCompletionStreamState(response_format=case.model)
        handle = state.handle_chunk
        for i, batch in enumerate(batches):
            for chunk in batch:
                for _ in handle(chunk):
                    pass
            if clock() - t0 > limit:
                raise Aborted(clock() - t0, (i + 1) * BATCH)
        final = state.current_completion_snapshot.choices[0].message.parsed
        return clock() - t0, final, 0

    impls.append(Impl("openai-sdk", desc_sdk, run_sdk))
    return impls


def all_impls() -> list[Impl]:
    return [
        _streamdantic_impl(),
        _streamdantic_impl("live"),
        _instructor_impl(),
        *_pydantic_impls(),
        *_openai_impls(),
    ]


# -- measuring ---------------------------------------------------------------------------------


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
        case.nbytes,
        len(case.chunks),
        status,
        seconds,
        repeats,
        raised,
        note,
    )


def measure(impl: Impl, case: Case, repeats: int, min_time: float, limit: float) -> Result:
    """Best of up to `repeats` runs; a re-parsing peer stops repeating once `min_time` seconds
    were spent, an incremental implementation makes all `repeats` runs at every size (so the
    growth from 20K to 2M compares a best of N with a best of N, not with a single run)."""
    assert impl.runner is not None
    best, runs, spent, raised = math.inf, 0, 0.0, 0
    at_least = repeats if impl.incremental else 1
    while runs < repeats and (runs < at_least or spent < min_time):
        gc.collect()
        try:
            with frozen_heap():
                seconds, final, raised = impl.runner(case, limit)
        except Aborted as stop:
            done = min(stop.done, len(case.chunks)) / len(case.chunks)
            note = f"stopped after {stop.elapsed:.0f}s, at {done:.0%} of the stream"
            return _result(case, impl, "aborted", stop.elapsed, runs + 1, note=note)
        except Exception as exc:
            return _result(case, impl, "error", note=f"raised {type(exc).__name__}: {exc}")
        runs += 1
        spent += seconds
        best = min(best, seconds)
        if runs == 1 and final != case.expected:
            note = "the final object differs from Model.model_validate_json(doc)"
            return _result(case, impl, "error", seconds, runs, raised, note)
    return _result(case, impl, "measured", best, runs, raised)


def run_one(
    impl: Impl, case: Case, hist: list[tuple[int, float]], args: argparse.Namespace
) -> Result:
    """Measure, unless the run is predicted to take longer than the budget."""
    if hist:
        if math.isinf(hist[-1][1]):
            return _result(case, impl, "skipped", note="over budget at a smaller size")
        guess = predict(hist, case.nbytes)
        if guess is None:
            k = 1.0 if impl.incremental else 2.0  # re-parsing peers grow quadratically
            if hist[-1][1] * (case.nbytes / hist[-1][0]) ** k > args.budget:
                return _result(case, impl, "skipped", note="predicted over budget")
        elif guess[0] > args.budget:
            note = f"extrapolated with growth exponent {guess[1]:.2f}"
            return _result(case, impl, "estimated", guess[0], note=note)
    repeats = args.repeats if impl.incremental or len(case.chunks) < 100_000 else 1
    return measure(impl, case, repeats, args.min_time, args.max_run)


# -- reporting ---------------------------------------------------------------------------------


def fastest(results: list[Result | None]) -> Result | None:
    timed = [r for r in results if r is not None and r.seconds is not None and r.status in TIMED]
    return min(timed, key=lambda r: r.seconds or 0.0, default=None)


def markdown(
    results: list[Result], impls: list[Impl], args: argparse.Namespace, meta: dict[str, Any]
) -> str:
    idx = {(r.workload, r.size, r.chunking, r.impl): r for r in results}
    cases = list(dict.fromkeys((r.workload, r.size, r.chunking) for r in results))
    ran = [i.name for i in impls if not i.unavailable]
    peers = [p for p in PEERS if p in ran]
    partial_peers = [p for p in PARTIAL_PEERS if p in ran]
    out: list[str] = []
    w = out.append
    w("## Typed partials benchmark\n")
    w(f"- command: `{meta['command']}`")
    w(f"- python: `{meta['python']}`")
    w(f"- machine: {meta['machine']}")
    w("- versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    w(
        f"- clock: {'CPU time of the process' if args.clock == 'cpu' else 'wall clock'}; "
        f"gc enabled (the harness's own objects frozen during a run); best of {args.repeats} runs for streamdantic at every size, "
        f"of up to {args.repeats} for the peers (fewer once a case has taken {args.min_time}s; "
        "1 run from 100,000 chunks); budget {args.budget}s, "
        f"max-run {args.max_run}s"
    )
    w("")
    w("Implementations (each produces a partial after every chunk and the final object):")
    w("")
    for i in impls:
        state = f"NOT RUN: {i.unavailable}" if i.unavailable else i.description
        w(f"- **{i.name}**: {state}")
    w(
        "- models: prose `Essay`, records `Orders` (nested customer/address, `Literal` "
        "country, `datetime`, `Field(gt=0)`), numbers `list[int | float]`, deep `list[Any]` "
        "(see the docstring), unicode `Messages` (`Literal` lang), string `Text`."
    )
    w(
        "- `~`: not run, extrapolated from the two largest measured sizes (growth exponent "
        "clamped to 1..2.2). `>`: stopped after max-run, a lower bound. `skipped`: over budget "
        "with too few points. `error`: raised, or a wrong final object (listed at the end)."
    )
    w("")

    w("### Time to consume the stream, typed partial after every chunk (ms)\n")
    cols = [c for c in [OURS, LIVE, *peers] if c in ran]
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
            "(`vs peer` = peer time / streamdantic time)\n"
        )
        head = ["us/chunk", "vs fastest peer", *[f"vs {p}" for p in peers]]
        w("| workload | size | chunking | " + " | ".join(head) + " |")
        w("|" + "---|" * (3 + len(head)))
        for wl, sz, ch in cases:
            ours = idx.get((wl, sz, ch, OURS))
            best = fastest([idx.get((wl, sz, ch, p)) for p in partial_peers])
            best_cell = ratio_cell(best, ours)
            best_cell += f" ({best.impl})" if best and best_cell else ""
            cells = [_per_chunk(ours), best_cell]
            cells += [ratio_cell(idx.get((wl, sz, ch, p)), ours) for p in peers]
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
            for name in cols:
                cells = [
                    growth(idx.get((wl, a, ch, name)), idx.get((wl, b, ch, name))) for a, b in steps
                ]
                if any(cells):
                    w(f"| {wl} | {ch} | {name} | " + " | ".join(cells) + " |")
        w("")

    if OURS in ran and LIVE in ran:
        w("### Snapshots vs live partials: microseconds per chunk, and the ratio\n")
        w("| workload | size | chunking | snapshot us/chunk | live us/chunk | snapshot / live |")
        w("|---|---|---|---|---|---|")
        for wl, sz, ch in cases:
            snap, live = idx.get((wl, sz, ch, OURS)), idx.get((wl, sz, ch, LIVE))
            cell = ""
            if snap and live and snap.seconds and live.seconds and "measured" == snap.status:
                cell = f"{snap.seconds / live.seconds:.2f}x"
            w(f"| {wl} | {sz} | {ch} | {_per_chunk(snap)} | {_per_chunk(live)} | {cell} |")
        w("")

    targets = _targets(idx, cases, partial_peers)
    if targets:
        w("### Targets (token chunks)\n")
        out.extend(targets)
        w("")

    flagged = [r for r in results if r.raised_on_chunks or r.status in ("error", "aborted")]
    if flagged:
        w("### Errors, exceptions on prefixes, stopped runs\n")
        for r in flagged:
            what = r.note or f"raised on {r.raised_on_chunks:,} of {r.chunks:,} prefixes"
            w(f"- {r.impl} on {r.workload}/{r.size}/{r.chunking}: {what}")
        w("")
    return "\n".join(out)


def _per_chunk(r: Result | None) -> str:
    if r is None or r.status != "measured" or r.seconds is None:
        return fmt_ms(r)
    return f"{r.seconds / r.chunks * 1e6:.2f}"


def _targets(
    idx: dict[tuple[str, str, str, str], Result],
    cases: list[tuple[str, str, str]],
    partial_peers: list[str],
) -> list[str]:
    """One line per target: >= 4x the fastest peer at 20K, >= 40x at 200K, linear growth,
    <= ~10 us per chunk on records; each says met / NOT met with the numbers."""
    lines: list[str] = []
    token = [(wl, sz) for wl, sz, ch in cases if ch == "token"]
    if not token or not partial_peers:
        return lines
    for size, want in (("20K", 4.0), ("200K", 40.0)):
        for wl in dict.fromkeys(w for w, s in token if s == size):
            ours = idx.get((wl, size, "token", OURS))
            best = fastest([idx.get((wl, size, "token", p)) for p in partial_peers])
            if ours is None or best is None or not ours.seconds or ours.status != "measured":
                continue
            assert best.seconds is not None
            speedup = best.seconds / ours.seconds
            verdict = "met" if speedup >= want else "NOT met"
            lines.append(
                f"- {wl} {size}: {MARK.get(best.status, '')}{ratio(speedup)} the fastest peer "
                f"({best.impl}), target >= {want:.0f}x: **{verdict}**"
            )
    # Linear growth: the exponent k of time ~ bytes**k from 20K (2K is dominated by fixed
    # costs) to the largest size measured; shared-machine noise is about +-0.1.
    for wl in dict.fromkeys(w for w, _ in token):
        timed = [
            r
            for s in workloads.SIZES
            if s != "2K"
            and (r := idx.get((wl, s, "token", OURS))) is not None
            and r.status == "measured"
            and r.seconds
        ]
        if len(timed) < 2:
            continue
        a, b = timed[0], timed[-1]
        assert a.seconds is not None and b.seconds is not None
        k = math.log(b.seconds / a.seconds) / math.log(b.bytes / a.bytes)
        verdict = "met" if k <= 1.15 else "NOT met"
        per_chunk = ", ".join(f"{r.size} {(r.seconds or 0.0) / r.chunks * 1e6:.2f}" for r in timed)
        lines.append(
            f"- {wl}: time ~ bytes^{k:.2f} from {a.size} to {b.size} (us per chunk: "
            f"{per_chunk}), target linear (<= 1.15): **{verdict}**"
        )
    # Snapshots: at most 1.4x live per chunk on record lists, at every size.
    for sz in ("20K", "200K", "2M"):
        snap = idx.get(("records", sz, "token", OURS))
        live = idx.get(("records", sz, "token", LIVE))
        if (
            snap
            and live
            and snap.seconds
            and live.seconds
            and snap.status == live.status == "measured"
        ):
            r = snap.seconds / live.seconds
            verdict = "met" if r <= 1.4 else "NOT met"
            lines.append(
                f"- records {sz}: snapshots {r:.2f}x live per chunk, target <= 1.4x: **{verdict}**"
            )
    for sz in ("200K", "2M", "20K"):
        r = idx.get(("records", sz, "token", OURS))
        if r is not None and r.status == "measured" and r.seconds:
            us = r.seconds / r.chunks * 1e6
            verdict = "met" if us <= 11 else "NOT met"
            lines.append(f"- records {sz}: {us:.2f} us per chunk, target <= ~10: **{verdict}**")
            break
    return lines


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
        help=f"comma list of the peers to run next to streamdantic (default: all): {','.join(PEERS)}",
    )
    ap.add_argument("--repeats", type=int, default=5, help="max runs per case; the best counts")
    ap.add_argument(
        "--min-time", type=float, default=1.0, help="stop repeating a case after this (seconds)"
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
    ap.add_argument(
        "--clock",
        choices=["cpu", "wall"],
        default="cpu",
        help="time each run by the process's CPU time (default: a shared machine's other jobs "
        "are not counted) or by the wall clock",
    )
    ap.add_argument("--seed", type=int, default=0, help="seed of the documents and chunkers")
    ap.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    ap.add_argument("--markdown", type=Path, help="also write the Markdown report to this file")
    args = ap.parse_args(argv)
    if args.fast:
        args.sizes = args.sizes or ["2K"]
        args.chunkings = args.chunkings or ["token"]
        args.repeats = min(args.repeats, 3)
        args.budget = min(args.budget, 1.0)
        args.max_run = min(args.max_run, 2.0)
    args.workloads = args.workloads or list(workloads.WORKLOADS)
    args.sizes = args.sizes or list(workloads.SIZES)
    args.chunkings = args.chunkings or list(workloads.CHUNKINGS)
    for what, given, known in (
        ("workload", args.workloads, list(workloads.WORKLOADS)),
        ("size", args.sizes, list(workloads.SIZES)),
        ("chunking", args.chunkings, list(workloads.CHUNKINGS)),
        ("peer", args.peers or [], PEERS),
    ):
        bad = [g for g in given if g not in known]
        if bad:
            ap.error(f"unknown {what} {', '.join(bad)}; valid: {', '.join(known)}")
    args.sizes.sort(key=lambda s: workloads.SIZES[s])
    return args


def _versions() -> dict[str, str]:
    dists = ["streamdantic", "pydantic", "pydantic-core", "jiter", "instructor", "openai"]
    versions = {d: version(d) for d in dists}
    return {d: v for d, v in versions.items() if v != "?"}


def main(argv: list[str] | None = None) -> int:
    global clock
    args = parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    gc.enable()
    wanted = {OURS, LIVE, *(args.peers if args.peers is not None else PEERS)}
    impls = [i for i in all_impls() if i.name in wanted]
    for i in impls:
        if i.unavailable:
            print(f"note: {i.name} skipped: {i.unavailable}", file=sys.stderr)
    runnable = [i for i in impls if not i.unavailable]
    argv_shown = sys.argv[1:] if argv is None else argv
    meta = {
        "command": " ".join([rel_path(sys.executable), rel_path(__file__), *argv_shown]),
        "python": sys.version.replace("\n", " "),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "versions": _versions(),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }

    results: list[Result] = []
    history: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
    for wl in args.workloads:
        model = MODELS[wl]
        for size in args.sizes:
            doc = workloads.document(wl, workloads.SIZES[size], args.seed)
            expected = model.model_validate_json(doc)
            for ch in args.chunkings:
                chunks = workloads.chunk(doc, ch, args.seed)
                case = Case(wl, size, ch, model, doc, len(doc.encode()), chunks, expected)
                for impl in runnable:
                    hist = history.setdefault((wl, ch, impl.name), [])
                    r = run_one(impl, case, hist, args)
                    if r.status == "measured" and r.seconds is not None:
                        hist.append((r.bytes, r.seconds))
                    elif r.status in ("skipped", "aborted"):
                        hist.append((r.bytes, math.inf))
                    results.append(r)
                    progress(r, 15)
                del case, chunks

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
