"""The front-end protocol benchmark still runs: `benchmarks/bench_frontends.py --fast` here.

Only a smoke test: it checks that the script runs and reports a row per protocol and size,
never how fast anything is.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_frontends.py"


def test_bench_frontends_fast_runs_and_reports_every_protocol() -> None:
    """The --fast run exits 0 with a table row per protocol and document size."""
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--fast"],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(" | ")[0:2] for line in proc.stdout.splitlines() if line.startswith("| ")]
    expected = [
        [f"| {protocol}", size]
        for size in ("2 KB", "8 KB")
        for protocol in ("profile", "ai-sdk", "ai-sdk-text", "ag-ui")
    ]
    assert rows[1:] == expected  # after the header
