"""`streamdantic collect`: batch result files to JSON Lines of objects and of failures."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from streamdantic._cli.batch import run
from streamdantic._cli.main import build_parser, main
from tests.unit.test_batch import anthropic, lines, openai_chat, openai_error

SCHEMA = """\
from pydantic import BaseModel

class Person(BaseModel):
    name: str
    age: int
"""


@pytest.fixture
def batch_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(lines(openai_chat("a1"), openai_chat("a2", "nope")))
    (folder / "b.jsonl.gz").write_bytes(gzip.compress(lines(anthropic("b1"), openai_error("x"))))
    (tmp_path / "schema.py").write_text(SCHEMA)
    return tmp_path


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_collect_writes_objects_and_failures_with_their_custom_id(
    batch_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Objects go to --out, failures (with custom_id and kind) beside it; exit 1 if any failed."""
    out = batch_dir / "people.jsonl"
    code = main(
        [
            "collect",
            str(batch_dir / "results"),
            "--schema",
            f"{batch_dir / 'schema.py'}:Person",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 1
    assert read_jsonl(out) == [
        {"custom_id": "a1", "value": {"name": "Ada", "age": 36}},
        {"custom_id": "b1", "value": {"name": "Ada", "age": 36}},
    ]
    failures = read_jsonl(batch_dir / "people.failures.jsonl")
    assert [(f["custom_id"], f["kind"], f["line"]) for f in failures] == [
        ("a2", "invalid_json", 2),
        ("x", "malformed_line", 2),
    ]
    err = capsys.readouterr().err
    assert "4 requests in 2 file(s)" in err
    assert "2 object(s) ->" in err


def test_collect_expands_globs_and_exits_0_when_all_succeed(
    batch_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A quoted glob is expanded; with no failure the exit status is 0 and a bar can show."""
    good = batch_dir / "good"
    good.mkdir()
    (good / "1.jsonl").write_bytes(lines(*(openai_chat(str(i)) for i in range(300))))
    out = batch_dir / "o.jsonl"
    failures = batch_dir / "f.jsonl"
    argv = [str(good / "*.jsonl"), "--schema", f"{batch_dir / 'schema.py'}:Person"]
    argv += ["--out", str(out), "--failures", str(failures), "--progress"]
    assert run(argv) == 0
    assert len(read_jsonl(out)) == 300
    assert failures.read_text() == ""
    assert "ok 300" in capsys.readouterr().err


def test_collect_reports_a_missing_path_as_a_usage_error(
    batch_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A path that names nothing is one line on stderr and exit status 2."""
    argv = ["collect", str(batch_dir / "missing.jsonl"), "--schema", "x:Y", "--out", "o.jsonl"]
    argv[3] = f"{batch_dir / 'schema.py'}:Person"
    assert main(argv) == 2
    assert "no file or directory" in capsys.readouterr().err


def test_collect_is_listed_in_the_command_help() -> None:
    """`streamdantic --help` lists the collect command."""
    assert "collect" in build_parser().format_help()
