"""The public API under mypy strict: typed options (TypedDict + Unpack) and Self return types.

tests/typing/api_ok.py must type-check with every `assert_type` holding;
tests/typing/api_errors.py must give exactly the errors it announces (misspelled options).
"""

from __future__ import annotations

import gc
import re
from pathlib import Path

import pytest
from mypy import api

TYPING = Path(__file__).parent / "typing"
OK = TYPING / "api_ok.py"
ERRORS = TYPING / "api_errors.py"
LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): error: (?P<message>.*?)  \[(?P<code>[\w-]+)\]$")
EXPECTED = re.compile(r"^\s*# E: \[(?P<code>[\w-]+)\] (?P<message>.*)$")


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[int, str, str]]]:
    tmp = tmp_path_factory.mktemp("api")
    config = tmp / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\npython_version = 3.11\n")
    args = ["--config-file", str(config), "--cache-dir", str(tmp / "cache"), "--no-pretty"]
    threshold = gc.get_threshold()
    try:
        stdout, stderr, status = api.run([*args, str(OK), str(ERRORS)])
    finally:
        gc.set_threshold(*threshold)  # mypy tunes the collector for its own process
    assert status in (0, 1) and not stderr, stdout + stderr
    errors: dict[str, list[tuple[int, str, str]]] = {}
    for line in stdout.splitlines():
        match = LINE.match(line)
        if match:
            errors.setdefault(Path(match["path"]).name, []).append(
                (int(match["line"]), match["code"], match["message"])
            )
    assert sum(": error: " in line for line in stdout.splitlines()) == sum(
        map(len, errors.values())
    ), stdout
    return errors


def _announced() -> list[tuple[int, str, str]]:
    expected: list[tuple[int, str, str]] = []
    pending: list[tuple[str, str]] = []
    for number, line in enumerate(ERRORS.read_text().splitlines(), start=1):
        match = EXPECTED.match(line)
        if match:
            pending.append((match["code"], match["message"]))
        elif pending:
            expected.extend((number, code, message) for code, message in pending)
            pending = []
    return expected


def test_the_ok_examples_type_check(reported: dict[str, list[tuple[int, str, str]]]) -> None:
    """Options, `**StreamOptions` dicts, path sources and Self return types all type-check."""
    assert OK.name not in reported, reported.get(OK.name)


def test_misspelled_options_are_type_errors(
    reported: dict[str, list[tuple[int, str, str]]],
) -> None:
    """mypy strict rejects a misspelled or misplaced option on every entry point."""
    expected = _announced()
    assert len(expected) >= 5
    assert reported.get(ERRORS.name) == expected
