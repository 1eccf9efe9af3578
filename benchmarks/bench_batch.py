#!/usr/bin/env python
"""Benchmark provider batch results: `collect_batch` against the loop a user writes by hand.

A batch output file is generated into a temporary directory (never committed): one JSON line
per request, each of about 10 KB holding the model's output as a JSON string (8.3 KB), a list of
records (`Batch`: ``{"records": [Record, ...]}``), in OpenAI's Batch API shape (a chat
completion under ``response.body``) and in Anthropic's Message Batches shape (a text block
under ``result.message``). Each contender runs in its own fresh subprocess, one after the
other, so each peak RSS is that contender's alone:

  hand-written   for line in file: obj = json.loads(line); content = <the output text>;
                 Batch.model_validate_json(content)  (the floor a user would write)
  collect_batch  for outcome in collect_batch(path, Batch): ...  (typed outcomes, custom_id,
                 usage, finish reason, failures as values)
  acollect_batch async for outcome in acollect_batch(path, Batch), on asyncio (reading and
                 validation in worker threads, a few outcomes per thread hop)

Throughput is file bytes / CPU time of the work (user + system, imports excluded), in MB/s
(10^6 bytes): per core, so other load on a shared machine counts less than in wall time;
wall time is reported too. Peak memory is the child's own peak RSS (`ru_maxrss`), in MB.

  python benchmarks/bench_batch.py                    # ~1 GB per format (100k lines of 10 KB)
  python benchmarks/bench_batch.py --fast             # 5 MB smoke run
  python benchmarks/bench_batch.py --size-mb 200 --formats openai
  python benchmarks/bench_batch.py --dask --size-mb 400 --repeat 3   # streamdantic.dask

With ``--dask``, the size is split over ``--files`` files (4) of the first format, and
`streamdantic.dask.read_batch` (one partition per file) counts the valid outcomes on a
`distributed.LocalCluster` of 1 and of 2 worker processes (one thread each), in ``--repeat``
interleaved rounds (a fresh cluster each time, started before the clock and warmed up on one
file): the wall time of the computation and the CPU time of each worker process, medians.
In the same rounds, the machine's ceiling: 2 processes of a pure CPU loop against 1 (2.0x
on an idle 2-core machine; less when other work shares the CPUs).
Then the same size in 2, 8 and 32 files (``--partition-files``) on 2 workers: the CPU
seconds per MB of each partition's task, which must not depend on the number of files.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MB = 1_000_000
LINE_CONTENT_BYTES = 8_300  # the output text; its line, escaped and wrapped, is ~10 KB
FORMATS = ("openai", "anthropic")
CONTENDERS = {
    "hand": "hand-written json.loads + model_validate_json",
    "batch": "collect_batch",
    "abatch": "acollect_batch (asyncio)",
}

MODELS = """
from pydantic import BaseModel


class Location(BaseModel):
    city: str
    lat: float
    lon: float


class Record(BaseModel):
    id: int
    name: str
    email: str
    score: float
    visits: int
    active: bool
    tags: list[str]
    location: Location


class Batch(BaseModel):
    records: list[Record]
"""


def make_record(rng: random.Random, i: int) -> dict[str, Any]:
    first = rng.choice(["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Zoë", "José"])
    return {
        "id": i,
        "name": f"{first} {rng.choice(['Lovelace', 'Hopper', 'Turing', 'Liskov', 'Knuth'])}",
        "email": f"{first.lower()}.{i}@example.com",
        "score": round(rng.uniform(0, 100), rng.randint(1, 6)),
        "visits": rng.randint(0, 1_000_000),
        "active": rng.random() < 0.5,
        "tags": rng.sample(["alpha", "beta", "gamma", "delta", "eps"], rng.randint(0, 3)),
        "location": {
            "city": rng.choice(["Paris", "Zürich", "Lagos", "Osaka", "Lima"]),
            "lat": rng.uniform(-90, 90),
            "lon": rng.uniform(-180, 180),
        },
    }


def make_content(rng: random.Random, start: int) -> str:
    records: list[dict[str, Any]] = []
    size = 14
    while size < LINE_CONTENT_BYTES:
        record = make_record(rng, start + len(records))
        size += len(json.dumps(record)) + 2
        records.append(record)
    return json.dumps({"records": records})


def make_line(fmt: str, custom_id: str, content: str) -> str:
    if fmt == "openai":
        body = {
            "id": "chatcmpl-" + custom_id,
            "object": "chat.completion",
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 120, "completion_tokens": 2900, "total_tokens": 3020},
        }
        row: dict[str, Any] = {
            "id": "batch_req_" + custom_id,
            "custom_id": custom_id,
            "response": {"status_code": 200, "request_id": "req_" + custom_id, "body": body},
            "error": None,
        }
    else:
        message = {
            "id": "msg_" + custom_id,
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": content}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 120, "output_tokens": 2900},
        }
        row = {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}
    return json.dumps(row)


def generate(path: Path, fmt: str, size_bytes: int, seed: int = 0) -> int:
    """Write a batch output file of at least `size_bytes`; return its number of lines.

    200 distinct outputs are cycled (validation costs the same on each), so generating 1 GB
    takes seconds rather than minutes."""
    rng = random.Random(seed)
    contents = [make_content(rng, i * 100) for i in range(200)]
    tmp = path.with_suffix(".tmp")
    written = lines = 0
    with tmp.open("w", encoding="utf-8") as file:
        while written < size_bytes:
            line = make_line(fmt, f"request-{lines}", contents[lines % len(contents)]) + "\n"
            file.write(line)
            written += len(line.encode())
            lines += 1
    tmp.replace(path)
    return lines


# --- the contenders, each in a child process ---------------------------------------------------

CHILD = """
import json, resource, sys, time
from pathlib import Path
namespace = {}
exec(compile(MODELS, "models", "exec"), namespace)
Batch = namespace["Batch"]
import streamdantic

contender, fmt, path = sys.argv[1], sys.argv[2], Path(sys.argv[3])
usage0 = resource.getrusage(resource.RUSAGE_SELF)
wall0 = time.perf_counter()
count = ok = 0
if contender == "hand":
    validate = Batch.model_validate_json
    with open(path, "rb") as file:
        if fmt == "openai":
            for line in file:
                obj = json.loads(line)
                content = obj["response"]["body"]["choices"][0]["message"]["content"]
                validate(content)
                count += 1
        else:
            for line in file:
                obj = json.loads(line)
                content = obj["result"]["message"]["content"][0]["text"]
                validate(content)
                count += 1
    ok = count
elif contender == "abatch":
    import asyncio

    async def main():
        count = ok = 0
        async for outcome in streamdantic.acollect_batch(path, Batch, format=fmt):
            count += 1
            ok += outcome.ok
        return count, ok

    count, ok = asyncio.run(main())
else:
    for outcome in streamdantic.collect_batch(path, Batch, format=fmt):
        count += 1
        ok += outcome.ok
wall = time.perf_counter() - wall0
usage1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
print(json.dumps({"lines": count, "ok": ok, "cpu": cpu, "wall": wall,
                  "rss_mb": usage1.ru_maxrss * 1024 / 1e6}))
"""


def run_child(contender: str, fmt: str, path: Path) -> dict[str, Any]:
    code = f"MODELS = {MODELS!r}\n" + CHILD
    proc = subprocess.run(
        [sys.executable, "-c", code, contender, fmt, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{contender} on {fmt} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


DASK_CHILD = """
import json, resource, sys, time
from pathlib import Path
namespace = {"__name__": "__main__"}
exec(compile(MODELS, "models", "exec"), namespace)
Batch = namespace["Batch"]
import distributed
from streamdantic.dask import read_batch

workers, fmt, paths = int(sys.argv[1]), sys.argv[2], [Path(p) for p in sys.argv[3:]]


def timed(outcomes):
    # Fused into the partition's task by dask: the iterator is read here, so this is the
    # CPU of reading, validating and counting one file.
    started = time.process_time()
    ok = sum(outcome.ok for outcome in outcomes)
    return [(ok, time.process_time() - started)]


def worker_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


with distributed.LocalCluster(n_workers=workers, processes=True, threads_per_worker=1,
                              host="127.0.0.1", dashboard_address=None) as cluster, \\
        distributed.Client(cluster.scheduler_address) as client:
    # warm-up: every worker imports streamdantic and reads a file before the clock starts
    client.run(lambda: __import__("streamdantic.batch"))
    warm = read_batch(paths[:workers], Batch, format=fmt).map_partitions(timed)
    client.compute(warm).result()
    bag = read_batch(paths, Batch, format=fmt).map_partitions(timed)
    cpu0 = client.run(worker_cpu)
    started = time.perf_counter()
    parts = client.compute(bag).result()
    wall = time.perf_counter() - started
    cpu1 = client.run(worker_cpu)
cpu = [cpu1[w] - cpu0[w] for w in cpu0]
print(json.dumps({"ok": sum(p[0] for p in parts), "wall": wall, "worker_cpu": cpu,
                  "partition_cpu": [p[1] for p in parts], "partitions": bag.npartitions}))
"""


def dask_child(workers: int, fmt: str, paths: list[Path]) -> dict[str, Any]:
    code = f"MODELS = {MODELS!r}\n" + DASK_CHILD
    proc = subprocess.run(
        [sys.executable, "-c", code, str(workers), fmt, *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"dask with {workers} worker(s) failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# The machine's own ceiling, run in the same rounds: `n` processes of a pure CPU loop at once,
# the wall time until all are done. On an idle 2-core machine 2 take the time of 1 (2.0x).
CEILING_LOOP = "x = 0\nfor i in range(40_000_000):\n    x += i\n"


def ceiling_wall(processes: int) -> float:
    started = time.perf_counter()
    running = [subprocess.Popen([sys.executable, "-c", CEILING_LOOP]) for _ in range(processes)]
    for proc in running:
        proc.wait()
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    return statistics.median(values)


def run_dask(args: argparse.Namespace, size: int, fmt: str) -> int:
    """--dask: read_batch on a LocalCluster of 1 and of 2 workers, over the same files, in
    interleaved rounds; then the CPU per MB of each partition for the same bytes in 2, 8 and
    32 files (``--partition-files``)."""
    rounds = max(args.repeat, 1)
    print(f"# streamdantic.dask on a LocalCluster: 1 vs 2 workers, {size / MB:,.0f} MB of {fmt}")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print()
    out: dict[str, Any] = {"dask": [], "partitions": []}
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-batch-") as tmp:
        paths = [Path(tmp) / f"{fmt}_part{i}.jsonl" for i in range(args.files)]
        lines = sum(generate(path, fmt, size // args.files, seed=i) for i, path in enumerate(paths))
        nbytes = sum(path.stat().st_size for path in paths)
        runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
        ceiling: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(rounds):  # interleaved, so drift in the load hits both
            for workers in (1, 2):
                r = dask_child(workers, fmt, paths)
                if r["ok"] != lines:
                    raise SystemExit(f"dask with {workers} worker(s): {r['ok']}/{lines} lines ok")
                runs[workers].append(r)
                ceiling[workers].append(ceiling_wall(workers))
        print(f"Scaling: {args.files} files, {lines:,} lines, {nbytes / MB:,.0f} MB; median of")
        print(f"{rounds} interleaved rounds (wall of the computation; CPU of the worker processes)")
        print()
        print(
            "| workers | wall s | MB/s (wall) | worker CPU s (total) | CPU s per worker"
            " | vs 1 worker (wall) |"
        )
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        wall1 = median([r["wall"] for r in runs[1]])
        for workers in (1, 2):
            wall = median([r["wall"] for r in runs[workers]])
            total = median([sum(r["worker_cpu"]) for r in runs[workers]])
            per = " / ".join(
                f"{median([r['worker_cpu'][i] for r in runs[workers]]):.2f}" for i in range(workers)
            )
            print(
                f"| {workers} | {wall:.2f} | {nbytes / wall / MB:,.1f} | {total:.2f} | {per} |"
                f" {wall1 / wall:.2f}x |"
            )
            out["dask"].append(
                {
                    "workers": workers,
                    "files": args.files,
                    "lines": lines,
                    "bytes": nbytes,
                    "ok": runs[workers][-1]["ok"],
                    "partitions": runs[workers][-1]["partitions"],
                    "wall": wall,
                    "walls": [r["wall"] for r in runs[workers]],
                    "worker_cpu": total,
                    "speedup": wall1 / wall,
                }
            )
        print(
            "\nspeedups per round: "
            + ", ".join(
                f"{a['wall'] / b['wall']:.2f}x" for a, b in zip(runs[1], runs[2], strict=True)
            )
        )
        # The same rounds' ceiling: 2 processes of a CPU loop against 1 (wall time of 2 loops
        # done side by side against one loop, times 2: 2.0x when both CPUs are free).
        ceilings = [2 * a / b for a, b in zip(ceiling[1], ceiling[2], strict=True)]
        print(
            f"machine ceiling (2 CPU-loop processes vs 1, same rounds): median"
            f" {median(ceilings):.2f}x; per round: " + ", ".join(f"{c:.2f}x" for c in ceilings)
        )
        out["ceiling"] = {"speedups": ceilings, "median": median(ceilings)}
        for path in paths:
            path.unlink()

        counts = [int(n) for n in args.partition_files.split(",") if n]
        if counts:
            print()
            print(
                f"Per-partition cost: the same {size / MB:,.0f} MB in {', '.join(map(str, counts))}"
            )
            print("files, 2 workers; CPU of each partition's task (read, validate, count),")
            print("median over the partitions and over the rounds")
            print()
            print("| files | MB per file | partitions | CPU s per MB (median) | min | max |")
            print("| ---: | ---: | ---: | ---: | ---: | ---: |")
            for count in counts:
                files = [Path(tmp) / f"{fmt}_{count}_{i}.jsonl" for i in range(count)]
                expected = sum(
                    generate(path, fmt, size // count, seed=i) for i, path in enumerate(files)
                )
                sizes = [path.stat().st_size for path in files]
                per_mb: list[float] = []
                for _ in range(rounds):
                    r = dask_child(2, fmt, files)
                    if r["ok"] != expected:
                        raise SystemExit(f"dask on {count} files: {r['ok']}/{expected} ok")
                    per_mb += [
                        cpu / (n / MB) for cpu, n in zip(r["partition_cpu"], sizes, strict=True)
                    ]
                print(
                    f"| {count} | {sum(sizes) / count / MB:,.1f} | {count} |"
                    f" {median(per_mb):.4f} | {min(per_mb):.4f} | {max(per_mb):.4f} |"
                )
                out["partitions"].append(
                    {
                        "files": count,
                        "bytes": sum(sizes),
                        "cpu_s_per_mb": median(per_mb),
                        "min": min(per_mb),
                        "max": max(per_mb),
                    }
                )
                for path in files:
                    path.unlink()
    print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=1000.0, help="file size per format")
    parser.add_argument("--fast", action="store_true", help="5 MB smoke run")
    parser.add_argument("--formats", default=",".join(FORMATS), help="openai,anthropic")
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender (best kept)")
    parser.add_argument("--dir", type=Path, default=None, help="where to generate (a tmp dir)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument(
        "--contenders", default=",".join(CONTENDERS), help=f"among {','.join(CONTENDERS)}"
    )
    parser.add_argument("--dask", action="store_true", help="streamdantic.dask, 2 workers vs 1")
    parser.add_argument("--files", type=int, default=4, help="files for --dask")
    parser.add_argument(
        "--partition-files",
        default="2,8,32",
        help="--dask: file counts for the per-partition cost table ('' to skip)",
    )
    args = parser.parse_args(argv)
    size = int((5.0 if args.fast else args.size_mb) * MB)
    formats = [f for f in args.formats.split(",") if f]
    for fmt in formats:
        if fmt not in FORMATS:
            parser.error(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if args.dask:
        return run_dask(args, size, formats[0])
    contenders = [c for c in args.contenders.split(",") if c]
    for contender in contenders:
        if contender not in CONTENDERS:
            parser.error(f"unknown contender {contender!r}; choose from {', '.join(CONTENDERS)}")

    print(f"# collect_batch vs a hand-written loop, {size / MB:,.0f} MB per format")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    print()
    print("| format | contender | lines | CPU s | wall s | MB/s (CPU) | vs hand | peak RSS MB |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-batch-") as tmp:
        for fmt in formats:
            path = Path(tmp) / f"{fmt}_batch_output.jsonl"
            started = time.perf_counter()
            lines = generate(path, fmt, size)
            nbytes = path.stat().st_size
            print(
                f"<!-- generated {lines} lines, {nbytes / MB:,.0f} MB in"
                f" {time.perf_counter() - started:.1f} s -->",
                file=sys.stderr,
            )
            best: dict[str, dict[str, Any]] = {}
            for _ in range(args.repeat):
                for contender in contenders:  # alternated, so drift in load hits all
                    r = run_child(contender, fmt, path)
                    if r["lines"] != lines or r["ok"] != lines:
                        raise SystemExit(f"{contender} on {fmt}: {r['ok']}/{lines} lines ok")
                    if contender not in best or r["cpu"] < best[contender]["cpu"]:
                        best[contender] = r
            hand_rate = nbytes / best["hand"]["cpu"] if "hand" in best else float("nan")
            for contender in contenders:
                label = CONTENDERS[contender]
                r = best[contender]
                rate = nbytes / r["cpu"]
                print(
                    f"| {fmt} | {label} | {r['lines']:,} | {r['cpu']:.2f} | {r['wall']:.2f} |"
                    f" {rate / MB:,.1f} | {rate / hand_rate:.2f}x | {r['rss_mb']:.0f} |"
                )
                results.append(
                    {
                        "format": fmt,
                        "contender": contender,
                        "bytes": nbytes,
                        **r,
                        "ratio": rate / hand_rate,
                    }
                )
            path.unlink()
    if args.json:
        args.json.write_text(json.dumps({"results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
