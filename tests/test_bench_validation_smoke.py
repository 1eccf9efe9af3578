"""The typed-partials benchmark still runs: `benchmarks/bench_validation.py --fast` here.

Only a smoke test: it checks that the script runs and reports, never how fast anything is.
In the main venv the benchmark-only peers (instructor) are absent and their columns skipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_validation.py"


def test_bench_validation_fast_runs_and_reports_streamdantic(tmp_path: Path) -> None:
    """The --fast run exits 0, and its tables have a streamdantic column and row per workload."""
    out_json = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--fast", "--repeats", "1", "--json", str(out_json)],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    header = next(line for line in lines if line.startswith("| workload | size | chunking | bytes"))
    assert "| streamdantic |" in header
    assert any(line.startswith("| records | 2K | token |") for line in lines)
    assert "### streamdantic: microseconds per chunk" in proc.stdout

    results = json.loads(out_json.read_text())["results"]
    ours = {r["workload"]: r["status"] for r in results if r["impl"] == "streamdantic"}
    assert ours == dict.fromkeys(
        ["prose", "records", "numbers", "deep", "unicode", "string"], "measured"
    )


def test_bench_validation_compares_snapshots_with_live_partials(tmp_path: Path) -> None:
    """The --fast run has a live column and the snapshot-vs-live table."""
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--fast", "--repeats", "1", "--workloads", "records"],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "| streamdantic-live |" in proc.stdout
    assert "### Snapshots vs live partials" in proc.stdout
