"""The public API under mypy strict: typed options (TypedDict + Unpack) and Self return types.

tests/typing/api_ok.py must type-check with every `assert_type` holding;
tests/typing/api_errors.py must give exactly the errors it announces (misspelled options).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_mypy_plugin import EXPECTED, Result, _mypy

TYPING = Path(__file__).parent / "typing"
OK = TYPING / "api_ok.py"
ERRORS = TYPING / "api_errors.py"


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Result:
    return _mypy(tmp_path_factory.mktemp("api"), None, OK, ERRORS)


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


def test_the_ok_examples_type_check(reported: Result) -> None:
    """Options, `**StreamOptions` dicts, path sources and Self return types all type-check."""
    assert OK.name not in reported.errors, reported.output


def test_misspelled_options_are_type_errors(reported: Result) -> None:
    """mypy strict rejects a misspelled or misplaced option on every entry point."""
    expected = _announced()
    assert len(expected) >= 5
    assert reported.errors.get(ERRORS.name) == expected, reported.output
