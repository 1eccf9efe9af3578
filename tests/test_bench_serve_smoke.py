"""The serving benchmark still runs: `benchmarks/bench_serve.py --fast` in this interpreter.

Only a smoke test: it checks that the script starts its uvicorn server, streams to every
implementation and reports complete streams, never how fast anything is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_serve.py"


@pytest.mark.integration
def test_bench_serve_fast_runs_and_every_stream_completes(tmp_path: Path) -> None:
    """The --fast run exits 0 with a row per implementation and level, none failed, and
    the default policy sends fewer frames than a frame per change."""
    out = tmp_path / "rows.jsonl"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--fast", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,  # generous: a loaded 2-core machine, never a measure of speed
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    impls = {row["impl"] for row in rows}
    assert {"default", "changes", "raw"} <= impls
    assert all(row["failures"] == 0 for row in rows), rows
    frames = {(row["impl"], row["streams"]): row["frames"] for row in rows}
    assert frames[("default", 1)] < frames[("changes", 1)]
