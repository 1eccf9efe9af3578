"""The stream-layer benchmark still runs: `benchmarks/bench_stream.py --fast`.

Only a smoke test: it checks that the script runs and reports, never how fast anything is.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_stream.py"


def test_bench_stream_fast_reports_stream_against_the_validator() -> None:
    """The --fast run exits 0 with a row per workload and the stream / validator ratio."""
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--fast"],
        capture_output=True,
        text=True,
        timeout=180,  # generous: a loaded 2-core machine, never a measure of speed
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == (
        "| workload | size | chunking | chunks | validator us/chunk | stream us/chunk | ratio |"
    )
    rows = [line.split(" | ")[0].lstrip("| ") for line in lines[2:]]
    assert rows == ["prose", "records", "numbers", "deep", "unicode", "string"]
    assert all(line.endswith("x |") for line in lines[2:])
