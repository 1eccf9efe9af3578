"""Run the compiled parser with its private fields set to bad values (a child process).

`python -m tests.property.corrupt_parser_fields grid` tries every field the C scanner reads
with a list of bad values, from parsers stopped in each state, then feeds more input;
`... random N` does the same with N hypothesis examples that set several fields at once.
Each case is printed before it runs, so that when the process dies of a crash (exit 139),
its last line names the case. A bad value may be refused when set, or by the next call
with a TypeError naming the field, or give some other value or a declared
`StreamdanticError`; any other exception is reported (BAD lines, exit status 1). Called by
`test_corrupted_fields_never_crash` in test_parser_compiled.py: a segfault then fails that
test instead of killing pytest.
"""

from __future__ import annotations

import faulthandler
import sys
import warnings
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from streamdantic import JSONParser, StreamdanticError

# Every field the C code reads (the `Core` struct of _speedups.c), ints and bools first.
INT_FIELDS = (
    "_state",
    "_str_len",
    "_str_joined",
    "_str_emitted",
    "_pos_bytes",
    "_pos_line",
    "_pos_column",
    "_max_depth",
    "_max_number_length",
    "_max_string",
    "_max_size_bytes",
)
BOOL_FIELDS = ("_lenient", "_multiple", "_root_started", "_started", "_events")
OBJECT_FIELDS = (
    "_containers",
    "_paths",
    "_key",
    "_key_parts",
    "_pending",
    "_root",
    "_documents",
    "_str_parts",
    "_str_container",
    "_str_slot",
    "_str_path",
    "_decoder",
    "_max_size",
    "_max_string_length",
)
FIELDS = INT_FIELDS + BOOL_FIELDS + OBJECT_FIELDS

MAX = sys.maxsize
DELETE = object()  # a value meaning `del parser.<field>`


class Mapping(dict[Any, Any]):
    """A dict subclass: the C code must not take it for a dict it may write into directly."""


class Noisy:
    """An object whose item methods run Python code."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def __getitem__(self, key: Any) -> Any:
        return None


# Factories, so that each case gets fresh mutable values.
INT_VALUES: list[Callable[[], Any]] = [
    lambda: -1,
    lambda: -MAX - 1,
    lambda: MAX,
    lambda: MAX - 2,
    lambda: 2**31,
    lambda: 2**32 + 2,  # truncated to 2 by a T_INT member (with a RuntimeWarning)
    lambda: 2**64,
    lambda: 0,
    lambda: 1,
    lambda: 2,
    lambda: 6,
    lambda: 7,
    lambda: 8,
    lambda: 10,
    lambda: 12,
    lambda: True,
    lambda: 1.5,
    lambda: "1",
    lambda: None,
    lambda: DELETE,
]
OBJECT_VALUES: list[Callable[[], Any]] = [
    lambda: None,
    lambda: 5,
    lambda: "x",
    lambda: (),
    lambda: ("a", 0),
    list,
    dict,
    lambda: [5],
    lambda: [None],
    lambda: ["x", 5],
    lambda: [{}],
    lambda: [[]],
    lambda: [(), ()],
    lambda: [Mapping()],
    lambda: Mapping(),
    lambda: Noisy(),
    lambda: object(),
    lambda: -1,
    lambda: MAX,
    lambda: DELETE,
]

# Inputs that leave the parser in each of its states (and modes), then the input fed after
# the field is set: enough to leave each state along each of its ways out.
PREFIXES: list[tuple[dict[str, Any], str]] = [
    ({}, ""),
    ({}, "["),
    ({}, "[1"),
    ({}, "[1,"),
    ({}, "[[1], "),
    ({}, "{"),
    ({}, '{"a"'),
    ({}, '{"a":'),
    ({}, '{"a": 1,'),
    ({}, '{"a": "b'),
    ({}, '["ab", "cd'),
    ({}, '"ab'),
    ({}, '{"ke'),
    ({}, '{"k\\'),
    ({}, '["x\\u00'),
    ({}, "[1]"),
    ({}, "[tr"),
    ({"events": False}, '{"a": ["b'),
    ({"events": False}, '{"a": [1'),
    ({"lenient": True}, "prose "),
    ({"multiple": True}, "[1] "),
    ({"max_string_length": 3, "max_depth": 2, "max_size": 40}, '["a'),
]
CONTINUATIONS = [
    ',"c": "d"}',
    '"], 2]',
    "]",
    "}",
    '"',
    '",',
    "1,",
    '\\n\\u0041"',
    "x",
    '{"z": [true, null]}',
    "[[[[",
    "\n\n",
]


def run_case(options: dict[str, Any], prefix: str, values: dict[str, Any], rest: str) -> str | None:
    """Set the fields of a parser fed `prefix`, then feed `rest`, read the value, close.

    Returns a description of an undeclared exception, or None."""
    parser = JSONParser(**options)
    parser.feed(prefix)
    for field, value in values.items():
        try:
            if value is DELETE:
                delattr(parser, field)
            else:
                setattr(parser, field, value)
        except (TypeError, OverflowError, ValueError, AttributeError, RuntimeWarning):
            pass  # refused (a RuntimeWarning raised as an error comes after the store)
    for step in (lambda: parser.feed(rest), lambda: parser.value, parser.close):
        try:
            step()
        except (StreamdanticError, TypeError):
            pass
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
    return None


def describe(options: dict[str, Any], prefix: str, values: dict[str, Any], rest: str) -> str:
    shown = {k: "<del>" if v is DELETE else v for k, v in values.items()}
    return f"{options!r} {prefix!r} {shown!r} {rest!r}"


def grid() -> int:
    bad = 0
    count = 0
    for field in FIELDS:
        factories = OBJECT_VALUES if field in OBJECT_FIELDS else INT_VALUES
        for make in factories:
            for options, prefix in PREFIXES:
                for rest in CONTINUATIONS:
                    values = {field: make()}
                    print("CASE", describe(options, prefix, values, rest), flush=True)
                    problem = run_case(options, prefix, values, rest)
                    count += 1
                    if problem is not None:
                        bad += 1
                        print("BAD", problem, flush=True)
    print(f"DONE {count} cases, {bad} bad", flush=True)
    return 1 if bad else 0


VALUES = st.one_of(
    st.integers(-(2**64), 2**64),
    st.sampled_from([-1, 0, 1, 2, 6, 7, 8, 9, 10, 11, 12, MAX, -MAX - 1]),
    st.none(),
    st.booleans(),
    st.text(alphabet='ab"\\[', max_size=3),
    st.lists(
        st.one_of(st.none(), st.integers(-2, 2), st.text(max_size=2), st.builds(dict)),
        max_size=3,
    ),
    st.lists(st.builds(list), max_size=2),
    st.tuples(st.text(max_size=2), st.integers(-1, 3)),
    st.builds(Mapping),
    st.just(DELETE),
)


def random(examples: int) -> int:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.sampled_from(PREFIXES),
        st.dictionaries(st.sampled_from(FIELDS), VALUES, min_size=1, max_size=3),
        st.text(alphabet='[]{}",:1 a\\u0\n', max_size=12),
    )
    def check(start: tuple[dict[str, Any], str], values: dict[str, Any], rest: str) -> None:
        options, prefix = start
        print("CASE", describe(options, prefix, values, rest), flush=True)
        problem = run_case(options, prefix, values, rest)
        assert problem is None, problem

    check()
    print(f"DONE {examples} examples", flush=True)
    return 0


def main() -> int:
    faulthandler.enable()
    warnings.simplefilter("error", RuntimeWarning)  # as the test suite runs (filterwarnings)
    if sys.argv[1:2] == ["grid"]:
        return grid()
    return random(int(sys.argv[2]))


if __name__ == "__main__":
    sys.exit(main())
