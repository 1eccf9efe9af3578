"""The parser benchmark still runs: `benchmarks/bench_parser.py --fast` in this interpreter.

Only a smoke test: it checks that the script runs and reports, never how fast anything is
(speed is measured by the benchmark itself, against its peers in the same run).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import streamdantic

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_parser.py"


@pytest.mark.skipif(
    not hasattr(streamdantic, "JSONParser"), reason="streamdantic.JSONParser not written yet"
)
def test_bench_parser_fast_runs_and_reports_streamdantic_and_jiter(tmp_path: Path) -> None:
    """The --fast run exits 0 and its table has a streamdantic row and a jiter column."""
    out_json = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--fast", "--json", str(out_json)],
        capture_output=True,
        text=True,
        timeout=180,  # generous: a loaded 2-core machine, never a measure of speed
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    header = next(line for line in lines if line.startswith("| workload | size | chunking | bytes"))
    assert "| streamdantic |" in header
    assert "| jiter |" in header
    assert any(line.startswith("| records | 2K | token |") for line in lines)
    assert "### streamdantic: microseconds per chunk" in proc.stdout

    results = json.loads(out_json.read_text())["results"]
    measured = {(r["workload"], r["impl"]) for r in results if r["status"] == "measured"}
    for workload in ("prose", "records", "numbers", "deep", "unicode", "string"):
        assert (workload, "streamdantic") in measured
        assert (workload, "jiter") in measured
