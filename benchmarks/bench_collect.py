#!/usr/bin/env python
"""Benchmark batch collection: `collect(path, Record)` against loading the whole file.

A JSON array of records (a dict per record: strings, ints, floats, a bool, a nested object
and a short list) is generated once into `benchmarks/data/` (gitignored), then every
contender runs in its own fresh subprocess, one after the other, so that each peak RSS is
that contender's alone:

  baseline                     the interpreter with pydantic and streamdantic imported
  streamdantic collect         for record in collect(path, Record): ...   (items discarded)
  collect, push path           the same over an iterator of 64 KiB chunks: ItemCollector.feed
  streamdantic acollect        async for record in acollect(path, Record), on asyncio (the
                               pull path in worker threads)
  ijson.items + model_validate for obj in ijson.items(file, "item"): Record.model_validate(obj)
                               (the fastest bounded-memory loop a user writes by hand)
  ijson.items, no validation   ijson's C backend alone, building dicts: the parse floor
  json.load + validate_python  json.load(file) then TypeAdapter(list[Record]).validate_python
  validate_json (whole file)   TypeAdapter(list[Record]).validate_json(path.read_bytes())

Throughput is file bytes / wall time of the work (imports excluded), in MB/s (10^6 bytes);
CPU seconds (`time.process_time`) are shown too, since other work may share the CPUs, and
the ratios ("vs ijson+validate", "vs validate_json") compare CPU seconds of the same run.
With ``--repeat N`` the contenders run in N interleaved rounds (each round runs every
contender once, in order) and each figure is the median of its N runs.
Peak memory is the child's own peak RSS (`getrusage(RUSAGE_SELF).ru_maxrss`), in MB.

A second table times one long string, ``["xx...x"]`` of 1 MB and 10 MB (0.1 and 1 MB with
``--fast``), read from a file in 64 KiB chunks by `collect` and by an `ijson.items` loop: the
time must grow linearly with the length (ten times the string, about ten times the time).

  python benchmarks/bench_collect.py                 # 200 MB file (several minutes, ~3 GB RAM)
  python benchmarks/bench_collect.py --fast          # 5 MB smoke run
  python benchmarks/bench_collect.py --size-mb 50 --repeat 5 --markdown benchmarks/data/collect.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MB = 1_000_000

CONTENDERS = {
    "baseline": "baseline (imports only)",
    "collect": "streamdantic collect",
    "collect-push": "streamdantic collect, push path (chunks)",
    "acollect": "streamdantic acollect (asyncio)",
    "ijson-validate": "ijson.items + model_validate",
    "ijson": "ijson.items, no validation",
    "json-load": "json.load + validate_python",
    "validate-json": "validate_json (whole file)",
}


# --- the workload ------------------------------------------------------------------------------


def make_record(rng: random.Random, i: int) -> dict[str, Any]:
    first = rng.choice(["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Zoë", "José"])
    return {
        "id": i,
        "name": f"{first} {rng.choice(['Lovelace', 'Hopper', 'Turing', 'Liskov', 'Knuth'])}",
        "email": f"{first.lower()}.{i}@example.com",
        "score": round(rng.uniform(0, 100), rng.randint(1, 6)),
        "ratio": rng.random(),
        "visits": rng.randint(0, 1_000_000),
        "active": rng.random() < 0.5,
        "tags": rng.sample(["alpha", "beta", "gamma", "delta", "eps"], rng.randint(0, 3)),
        "location": {
            "city": rng.choice(["Paris", "Zürich", "Lagos", "Osaka", "Lima"]),
            "lat": rng.uniform(-90, 90),
            "lon": rng.uniform(-180, 180),
        },
    }


def generate(path: Path, size_bytes: int, seed: int = 0) -> None:
    """Write a JSON array of records, one per line, of at least `size_bytes` bytes."""
    rng = random.Random(seed)
    tmp = path.with_suffix(".tmp")
    written = 0
    with tmp.open("w", encoding="utf-8") as file:
        file.write("[\n")
        i = 0
        while written < size_bytes:
            line = ("," if i else "") + json.dumps(make_record(rng, i), ensure_ascii=False) + "\n"
            file.write(line)
            written += len(line.encode())
            i += 1
        file.write("]\n")
    tmp.replace(path)


# --- the child: one contender, one run ---------------------------------------------------------


def run_child(contender: str, path: Path) -> dict[str, Any]:
    from pydantic import BaseModel, TypeAdapter

    from streamdantic._collect import ItemCollector, collect

    class Location(BaseModel):
        city: str
        lat: float
        lon: float

    class Record(BaseModel):
        id: int
        name: str
        email: str
        score: float
        ratio: float
        visits: int
        active: bool
        tags: list[str]
        location: Location

    records = TypeAdapter(list[Record])
    records.validate_python([])  # build everything before timing
    start = time.perf_counter()
    cpu_start = time.process_time()
    if contender == "baseline":
        count = 0
    elif contender == "collect":
        count = sum(1 for _ in collect(path, Record))
    elif contender == "collect-push":

        def chunks() -> Any:
            with path.open("rb") as file:
                while chunk := file.read(64 * 1024):
                    yield chunk

        count = sum(1 for _ in collect(chunks(), Record))
    elif contender == "acollect":
        import asyncio

        from streamdantic._collect import acollect

        async def count_items() -> int:
            return sum([1 async for _ in acollect(path, Record)])

        count = asyncio.run(count_items())
    elif contender == "ijson-validate":
        import ijson  # type: ignore[import-untyped]

        with path.open("rb") as file:
            count = sum(
                1
                for obj in ijson.get_backend("yajl2_c").items(file, "item", use_float=True)
                if Record.model_validate(obj) is not None
            )
    elif contender == "ijson":
        import ijson  # type: ignore[import-untyped]

        with path.open("rb") as file:
            count = sum(1 for _ in ijson.get_backend("yajl2_c").items(file, "item", use_float=True))
    elif contender == "json-load":
        with path.open("rb") as file:
            items = records.validate_python(json.load(file))
        count = len(items)
    elif contender == "validate-json":
        items = records.validate_json(path.read_bytes())
        count = len(items)
    elif contender == "collect-string":
        count = sum(1 for _ in collect(path, str))
    elif contender == "ijson-string":
        import ijson  # type: ignore[import-untyped]

        with path.open("rb") as file:
            count = sum(1 for _ in ijson.get_backend("yajl2_c").items(file, "item"))
    else:
        raise SystemExit(f"unknown contender {contender!r}")
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "contender": contender,
        "items": count,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_mb": peak_kib * 1024 / MB,
        "backend": ItemCollector.backend,
    }


# --- the parent ------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    total = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        total = f", {kib / 1024**2:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} CPUs{total}, {platform.platform()}"


def versions() -> str:
    import importlib.metadata as md

    names = ["pydantic", "pydantic-core", "ijson"]
    found = ", ".join(f"{name} {md.version(name)}" for name in names)
    return f"Python {platform.python_version()}, {found}"


def measure(contender: str, path: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", contender, "--file", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{contender} failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


STRING_CONTENDERS = {"collect-string": "streamdantic collect", "ijson-string": "ijson.items"}


def string_table(data_dir: Path, sizes_mb: list[float]) -> str:
    """Time one long string of each size (a file ``["xx...x"]``) for both contenders."""
    rows = [
        "| contender | " + " | ".join(f"{mb:g} MB (s)" for mb in sizes_mb) + " | ratio |",
        "| --- |" + " ---: |" * (len(sizes_mb) + 1),
    ]
    paths = []
    for mb in sizes_mb:
        path = data_dir / f"collect-string-v1-{mb:g}MB.json"
        if not path.exists():
            path.write_bytes(b'["' + b"x" * int(mb * MB) + b'"]')
        paths.append(path)
    for contender, label in STRING_CONTENDERS.items():
        print(f"running {contender} ...", file=sys.stderr)
        seconds = [measure(contender, path)["seconds"] for path in paths]
        rows.append(
            f"| {label} | "
            + " | ".join(f"{t:.3f}" for t in seconds)
            + f" | {seconds[-1] / seconds[0]:.0f}x |"
        )
    return "\n".join(rows)


def table(results: list[dict[str, Any]], size: int) -> str:
    baseline = next((r for r in results if r["contender"] == "baseline"), None)
    cpu = {r["contender"]: r["cpu_seconds"] for r in results}

    def ratio(r: dict[str, Any], other: str) -> str:
        return f"{r['cpu_seconds'] / cpu[other]:.2f}" if other in cpu else "-"

    rows = [
        "| contender | items | seconds | CPU s | MB/s | vs ijson+validate | vs validate_json"
        " | peak RSS (MB) | over baseline (MB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        timed = r["contender"] != "baseline"
        over = r["peak_rss_mb"] - baseline["peak_rss_mb"] if baseline else float("nan")
        rows.append(
            f"| {CONTENDERS[r['contender']]} | {r['items']:,} | "
            + (
                f"{r['seconds']:.2f} | {r['cpu_seconds']:.2f} | {size / MB / r['seconds']:.1f}"
                f" | {ratio(r, 'ijson-validate')} | {ratio(r, 'validate-json')} | "
                if timed
                else "- | - | - | - | - | "
            )
            + f"{r['peak_rss_mb']:.0f} | "
            + (f"{over:.0f} |" if timed else "- |")
        )
    return "\n".join(rows)


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row from a contender's runs: the median of each measure."""
    row = dict(runs[0])
    for key in ("seconds", "cpu_seconds", "peak_rss_mb"):
        row[key] = statistics.median(r[key] for r in runs)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=200.0, help="file size (default 200)")
    parser.add_argument("--fast", action="store_true", help="a 5 MB smoke run")
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    parser.add_argument(
        "--contenders",
        default=",".join(CONTENDERS),
        help=f"comma list among {','.join(CONTENDERS)}",
    )
    parser.add_argument(
        "--string-mb",
        default="1,10",
        help="lengths of the long-string case, in MB (default 1,10; 0.1,1 with --fast)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="interleaved rounds (medians)")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(run_child(args.child, args.file)))
        return

    size_mb = 5.0 if args.fast else args.size_mb
    contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    unknown = set(contenders) - set(CONTENDERS)
    if unknown:
        parser.error(f"unknown contenders {sorted(unknown)}; choose among {list(CONTENDERS)}")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    path = args.data_dir / f"collect-records-v1-{size_mb:g}MB.json"
    if not path.exists():
        print(f"generating {path} ...", file=sys.stderr)
        generate(path, int(size_mb * MB))
    size = path.stat().st_size

    load_before = os.getloadavg()[0]
    runs: dict[str, list[dict[str, Any]]] = {contender: [] for contender in contenders}
    for round_ in range(max(args.repeat, 1)):  # interleaved: drift in the load hits all
        for contender in contenders:
            print(f"running {contender} (round {round_ + 1}) ...", file=sys.stderr)
            runs[contender].append(measure(contender, path))
    results = [_median_run(runs[contender]) for contender in contenders]
    counts = {r["items"] for r in results if r["contender"] != "baseline"}
    if len(counts) > 1:
        raise SystemExit(f"contenders disagree on the number of items: {results}")
    string_mb = [0.1, 1.0] if args.fast else [float(mb) for mb in args.string_mb.split(",")]
    strings = string_table(args.data_dir, string_mb)

    report = "\n".join(
        [
            f"File: {path.name}, {size / MB:.1f} MB, {max(counts, default=0):,} records"
            f" (JSON array, one record per line).",
            f"Machine: {machine()}.",
            f"Software: {versions()}; ijson backend of collect: {results[0]['backend']}.",
            f"Load average (1 min) {load_before:.1f} before the runs, {os.getloadavg()[0]:.1f}"
            f" after ({os.cpu_count()} CPUs): above ~1, other work shared the CPUs."
            + (f" Medians of {args.repeat} interleaved rounds." if args.repeat > 1 else ""),
            "",
            table(results, size),
            "",
            "One long string, read in 64 KiB chunks (ratio: the longer over the shorter):",
            "",
            strings,
        ]
    )
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n")


if __name__ == "__main__":
    main()
