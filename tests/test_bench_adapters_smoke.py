"""The adapter benchmark still runs: `benchmarks/bench_adapters.py --fast` in this interpreter.

Only a smoke test: it checks that the script runs and reports its variants and ratios, never how
fast anything is (speed is measured by the benchmark itself, side by side in one run).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_adapters.py"


def test_bench_adapters_fast_runs_and_reports_every_variant(tmp_path: Path) -> None:
    """The --fast run exits 0 and reports the four variants, the ratios, the conversion table and the
    agent-framework table."""
    out_json = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--fast", "--json", str(out_json)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for variant in (
        "| (a) sdk-plain",
        "| (b) sdk-helper",
        "| (c) streamdantic",
        "| (d) streamdantic",
    ):
        assert variant in proc.stdout
    assert "| (c) / (a)" in proc.stdout and "| (b) / (d)" in proc.stdout
    assert "| pydantic-ai run_stream_events (output tool) |" in proc.stdout
    assert "| LangChain BaseChatModel.stream (AIMessageChunk) |" in proc.stdout
    assert "| OpenAI Agents SDK Runner.run_streamed (Chat Completions model) |" in proc.stdout
    assert "| LiteLLM completion(stream=True) (openai/ route) |" in proc.stdout

    results = json.loads(out_json.read_text())
    assert set(results["variants"]) == {"a", "b", "c", "d"}
    assert all(v["best_ms"] > 0 for v in results["variants"].values())
    assert set(results["ratios"]) == {"c/a", "b/c", "b/d"}
    assert [row["ratio"] > 0 for row in results["agents"]] == [True, True]
    assert "| Bedrock converse_stream" in proc.stdout
    assert "| Gemini generate_content_stream" in proc.stdout
    assert [r["source"].split()[0] for r in results["sources"]] == [
        "Bedrock",
        "Gemini",
        "Ollama",
        "LiteLLM",
        "OpenAI",
    ]
    for row in results["sources"]:
        assert row["deltas"] > 1000 and row["plain_us"] > 0 and row["ratio"] > 0
