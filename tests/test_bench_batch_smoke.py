"""The batch benchmark still runs: `benchmarks/bench_batch.py --fast` in this interpreter.

Only a smoke test: it checks that the script runs, that both contenders read every line of
both formats, and that it reports; never how fast anything is (that is the benchmark's job).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_batch.py"


def test_bench_batch_fast_runs_every_contender_on_both_formats(tmp_path: Path) -> None:
    """The --fast run exits 0 and reports hand-written, collect_batch and acollect_batch
    rows per format."""
    out_json = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--fast", "--dir", str(tmp_path), "--json", str(out_json)],
        capture_output=True,
        text=True,
        timeout=300,  # generous: a loaded 2-core machine, never a measure of speed
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "| openai | collect_batch |" in proc.stdout
    assert "| anthropic | hand-written" in proc.stdout
    assert "| openai | acollect_batch (asyncio) |" in proc.stdout
    results = json.loads(out_json.read_text())["results"]
    assert {(r["format"], r["contender"]) for r in results} == {
        (fmt, contender)
        for fmt in ("openai", "anthropic")
        for contender in ("hand", "batch", "abatch")
    }
    assert all(r["lines"] == r["ok"] > 0 for r in results)
    assert list(tmp_path.glob("bench-batch-*")) == []  # the generated files are removed


def test_bench_batch_dask_fast_runs_one_and_two_workers(tmp_path: Path) -> None:
    """--dask --fast reads every line on a LocalCluster of 1 and of 2 workers, and reports."""
    out_json = tmp_path / "dask.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--dask",
            "--fast",
            "--dir",
            str(tmp_path),
            "--json",
            str(out_json),
        ],
        capture_output=True,
        text=True,
        timeout=300,  # generous: a loaded 2-core machine, never a measure of speed
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out_json.read_text())["dask"]
    assert [r["workers"] for r in results] == [1, 2]
    assert all(r["ok"] == r["lines"] > 0 and r["partitions"] == r["files"] == 4 for r in results)
    assert list(tmp_path.glob("bench-batch-*")) == []
