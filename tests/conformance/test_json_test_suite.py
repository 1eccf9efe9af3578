"""JSONTestSuite: every verdict and value identical fed whole, byte by byte and in random splits."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from streamdantic import JSONParseError
from tests.helpers import SPLITTERS, parse_chunks

SUITE = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "JSONTestSuite"
PARSING = SUITE / "test_parsing"

if not PARSING.is_dir():  # pragma: no cover - CI always has shared/ beside the checkout
    pytest.skip(f"JSONTestSuite not found at {PARSING}", allow_module_level=True)

FILES = sorted(PARSING.glob("*.json"))

# Implementation-defined inputs, pinned. True: accepted; False: rejected with JSONParseError.
# Accepted: numbers json.loads also accepts (huge exponents become inf or 0.0, big ints stay
# exact), a UTF-8 byte order mark (RFC 8259 section 8.1 allows ignoring it), 500 nested
# arrays (under the default max_depth). Rejected: anything that is not valid UTF-8 or that
# escapes a lone surrogate (it could not be encoded back to UTF-8 for a browser or a file).
ACCEPTED_I = {
    "i_number_double_huge_neg_exp.json",
    "i_number_huge_exp.json",
    "i_number_neg_int_huge_exp.json",
    "i_number_pos_double_huge_exp.json",
    "i_number_real_neg_overflow.json",
    "i_number_real_pos_overflow.json",
    "i_number_real_underflow.json",
    "i_number_too_big_neg_int.json",
    "i_number_too_big_pos_int.json",
    "i_number_very_big_negative_int.json",
    "i_structure_500_nested_arrays.json",
    "i_structure_UTF-8_BOM_empty_object.json",
}


def expected_value(raw: bytes) -> Any:
    text = raw.decode("utf-8")
    return json.loads(text.removeprefix("\ufeff"))


def same(a: Any, b: Any) -> bool:
    """Equality that treats NaN as equal to itself and tells 1 from 1.0 and True.

    Iterative, so 500 nested arrays do not hit the recursion limit.
    """
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, float):
            if not (x == y or (math.isnan(x) and math.isnan(y))):
                return False
        elif isinstance(x, dict):
            if list(x) != list(y):
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif x != y:
            return False
    return True


def test_corpus_is_complete() -> None:
    """The corpus holds the expected number of files, so a missing checkout cannot pass."""
    assert len(FILES) == 318
    pinned = {f.name for f in FILES if f.name.startswith("i_")}
    assert ACCEPTED_I <= pinned


@pytest.mark.parametrize("mode", list(SPLITTERS))
@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_parsing(path: Path, mode: str) -> None:
    """y_ files parse to json.loads' value, n_ files raise JSONParseError, i_ files as pinned."""
    raw = path.read_bytes()
    name = path.name
    chunks = SPLITTERS[mode](raw)
    accept = name.startswith("y_") or name in ACCEPTED_I
    if accept:
        value, _ = parse_chunks(chunks)
        assert same(value, expected_value(raw))
    else:
        with pytest.raises(JSONParseError):
            parse_chunks(chunks)


@pytest.mark.parametrize(
    "path", [f for f in FILES if f.name.startswith("y_")], ids=lambda p: p.name
)
def test_parsing_text_random_splits(path: Path) -> None:
    """Decoded text fed in random splits (several seeds) gives the same value as bytes."""
    text = path.read_bytes().decode("utf-8")
    for seed in range(3):
        chunks = SPLITTERS["random"](text)
        if seed:
            from tests.helpers import split_random

            chunks = split_random(text, seed=seed, max_size=5)
        value, _ = parse_chunks(chunks)
        assert same(value, expected_value(path.read_bytes()))
