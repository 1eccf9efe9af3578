"""Unit tests for the limits pre-scan of batch collection (`streamdantic._limits`).

Every test runs on both implementations: the pure-Python reference and the compiled twin
(`_speedups.prescan`), when it is built.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import pytest

from streamdantic import _limits
from streamdantic._limits import DEPTH, NUMBER, STRING, new_state
from streamdantic._parser import COMPILED

BIG = sys.maxsize
Scan = Callable[..., tuple[list[int], int, int, int]]

IMPLEMENTATIONS = [pytest.param(_limits._py_prescan, id="python")]
if _limits._C_PRESCAN is not None:
    IMPLEMENTATIONS.append(pytest.param(_limits._C_PRESCAN, id="compiled"))


@pytest.fixture(params=IMPLEMENTATIONS)
def scan(request: pytest.FixtureRequest) -> Scan:
    """Each implementation of `prescan` in turn."""
    return request.param  # type: ignore[no-any-return]


def run(
    scan: Scan,
    data: bytes,
    *,
    step: int = 0,
    depth: int = BIG,
    string: int = BIG,
    number: int = BIG,
    jsonl: bool = False,
    state: list[int] | None = None,
    base: int = 0,
) -> tuple[list[int], int, int, int]:
    return scan(
        new_state() if state is None else state, data, base, step, depth, string, number, jsonl
    )


def test_the_pre_scan_is_compiled_exactly_when_the_parser_is() -> None:
    """Both come from `_speedups`, and STREAMDANTIC_PURE_PYTHON=1 turns both off."""
    assert (_limits._C_PRESCAN is not None) == COMPILED
    assert _limits.prescan is (_limits._C_PRESCAN or _limits._py_prescan)


@pytest.mark.parametrize(
    ("data", "limit", "at"),
    [
        (b"[[[", 2, 2),
        (b'[{"a": [1]}]', 2, 7),
        (b'["[[[[", {}]', 2, BIG),  # brackets in strings do not count
        (b'["\\"[[[", {}]', 2, BIG),  # nor after an escaped quote
        (b"[]" * 100 + b"[[", 2, BIG),  # closed levels are left
    ],
    ids=["plain", "object", "in-string", "escaped-quote", "closed"],
)
def test_depth_is_crossed_at_the_opening_bracket(
    scan: Scan, data: bytes, limit: int, at: int
) -> None:
    """The depth limit is crossed at the bracket that opens one level too many."""
    _, _, kind, where = run(scan, data, depth=limit)
    assert (kind, where) == ((DEPTH, at) if at != BIG else (0, 0))


STRINGS = {"ascii": "abc", "utf8": "é€😀", "escapes": 'a\nb\t"\\/', "controls": "\x00\x1f"}
STRINGS |= {"astral": "😀😀", "lone-high": "\ud800x", "lone-low": "x\udc00"}


@pytest.mark.parametrize(
    ("text", "ensure_ascii"),
    [
        pytest.param(text, ensure_ascii, id=f"{name}-{'escaped' if ensure_ascii else 'raw'}")
        for name, text in STRINGS.items()
        for ensure_ascii in (True, False)
        if ensure_ascii or not name.startswith("lone")  # a lone surrogate has no UTF-8
    ],
)
def test_string_length_counts_characters_like_json_parser(
    scan: Scan, text: str, ensure_ascii: bool
) -> None:
    """A string of n characters (escaped or not, pairs of \\u escapes too) fits a limit of n."""
    data = json.dumps(text, ensure_ascii=ensure_ascii).encode()
    assert run(scan, data, string=len(text))[2] == 0
    _, _, kind, at = run(scan, data, string=len(text) - 1)
    assert kind == STRING and 0 < at < len(data) - 1


def test_a_long_bare_token_crosses_the_number_limit_at_its_extra_byte(scan: Scan) -> None:
    """A run of number characters longer than the limit stops at the byte that crosses it."""
    assert run(scan, b"[12345]", number=5)[2:] == (0, 0)
    assert run(scan, b"[123456]", number=5)[2:] == (NUMBER, 6)
    assert run(scan, b'["123456"]', number=5)[2:] == (0, 0)  # in a string: not a number


def test_cuts_fall_between_tokens(scan: Scan) -> None:
    """At each step the cut is the boundary itself, or the start of the token spanning it."""
    data = b'[1, "abcdefgh", 22, true]'
    cuts, tail, kind, _ = run(scan, data, step=4)
    assert kind == 0 and tail == len(data)
    # 8 and 12 fall in the string (it starts at 4); at 24 "true" is not delimited yet.
    assert cuts == [4, 16, 20]


def test_an_open_token_is_the_tail_even_when_it_started_earlier(scan: Scan) -> None:
    """The tail is where the token still open starts, negative when before the data."""
    state = new_state()
    assert run(scan, b'[1, "abc', state=state) == ([], 4, 0, 0)
    assert run(scan, b"def", state=state, base=8) == ([], -4, 0, 0)
    assert run(scan, b'g", 12', state=state, base=11) == ([], 4, 0, 0)
    assert run(scan, b"3]", state=state, base=17) == ([], 2, 0, 0)


def test_json_lines_start_afresh_at_every_line_ending(scan: Scan) -> None:
    """In JSON Lines mode CR or LF resets the depth, even inside an unclosed string."""
    assert run(scan, b"[[\n[[\r\n[[", depth=2, jsonl=True)[2] == 0
    assert run(scan, b'["[\n[[', depth=2, jsonl=True)[2] == 0
    assert run(scan, b"[[\n[[", depth=2)[2:] == (DEPTH, 3)


def test_the_state_carries_over_any_split(scan: Scan) -> None:
    """Scanning in pieces gives the state and the limit of scanning at once."""
    data = b'{"k": ["\\u00e9\\ud83d\\ude00", [[1.5e3]], "x\\"]"]}'
    whole = new_state()
    expected = run(scan, data, state=whole, string=3, depth=3)
    for cut in range(len(data) + 1):
        state = new_state()
        first: Any = run(scan, data[:cut], state=state, string=3, depth=3)
        if first[2]:
            assert first[2:] == expected[2:]
            continue
        second = run(scan, data[cut:], state=state, base=cut, string=3, depth=3)
        assert state == whole
        assert (second[2], second[3] + cut) == (expected[2], expected[3])
