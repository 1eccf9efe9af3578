"""The compiled scanner (`streamdantic._speedups`) against the pure-Python one.

Both must be indistinguishable: the same events, the same partial value after every chunk,
the same final value, and the same errors (class, message, offset, line, column, path,
partial) on any input, in any split, in every mode and under tight limits. The pure-Python
scanner is the reference; the rest of the suite checks it against the JSON contract.

`test_parser_suites_pass_on_the_pure_python_scanner` also runs the parser's own test
modules with ``STREAMDANTIC_PURE_PYTHON=1``, in slices of a few seconds, one subprocess each,
so both scanners pass them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from streamdantic import JSONParseError, JSONParser
from streamdantic._parser import COMPILED, PyJSONParser
from streamdantic.events import StringAppended

from .strategies import chunkings, json_documents

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

needs_compiled = pytest.mark.skipif(not COMPILED, reason="the C extension is not built")

OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "lenient": st.booleans(),
        "multiple": st.booleans(),
        "max_depth": st.integers(1, 6),
        "max_size": st.integers(0, 200) | st.none(),
        "max_string_length": st.integers(0, 12) | st.none(),
        "max_number_length": st.integers(1, 8),
        "events": st.booleans(),
    },
)


def trace(cls: type[JSONParser] | type[PyJSONParser], chunks: list[Any], options: Any) -> list[Any]:
    """Everything observable while parsing `chunks`: events, values, the end or the error."""
    parser = cls(**options)
    seen: list[Any] = []
    try:
        for chunk in chunks:
            seen.append(parser.feed(chunk))
            seen.append(repr(parser.value))
            seen.append((parser.open_paths, parser.current_path, parser.offset, parser.done))
        seen.append(parser.close())
        seen.append(repr(parser.value))
    except JSONParseError as exc:
        seen.append(
            (type(exc), str(exc), exc.offset, exc.line, exc.column, exc.path, repr(exc.partial))
        )
        seen.append(repr(parser.value))
    return seen


def assert_same(chunks: list[Any], options: Any) -> None:
    assert trace(JSONParser, chunks, options) == trace(PyJSONParser, chunks, options)


def test_the_extension_is_built_in_ci() -> None:
    # CI installs from source with gcc present: a silently missing build would make every
    # benchmark and this module's comparisons meaningless.
    if os.environ.get("CI"):
        assert COMPILED, "streamdantic._speedups was not built"


@needs_compiled
@SETTINGS
@given(st.data(), json_documents(), OPTIONS, st.booleans())
def test_same_trace_on_valid_documents(
    data: st.DataObject, text: str, options: Any, as_bytes: bool
) -> None:
    doc: str | bytes = text.encode() if as_bytes else text
    assert_same(data.draw(chunkings(doc)), options)


@needs_compiled
@SETTINGS
@given(st.data(), json_documents(), st.integers(0, 10_000), st.sampled_from('x]}:,"\\0-e.\n'))
def test_same_trace_on_damaged_documents(
    data: st.DataObject, text: str, where: int, junk: str
) -> None:
    # One character inserted anywhere: most such documents are invalid somewhere inside.
    where %= len(text) + 1
    damaged = text[:where] + junk + text[where:]
    options = data.draw(OPTIONS)
    assert_same(data.draw(chunkings(damaged)), options)


@needs_compiled
@SETTINGS
@given(
    st.data(),
    st.text(alphabet='{}[]":,0123456789.eE+-truefalsn \\u\n\u00e9\U0001f600', max_size=60),
)
def test_same_trace_on_json_shaped_noise(data: st.DataObject, text: str) -> None:
    assert_same(data.draw(chunkings(text)), data.draw(OPTIONS))


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(st.data(), st.binary(max_size=64))
def test_same_trace_on_random_bytes(data: st.DataObject, raw: bytes) -> None:
    assert_same(data.draw(chunkings(raw)), data.draw(OPTIONS))


@needs_compiled
@pytest.mark.parametrize(
    "chunks",
    [
        ['{"a": "\\ud83d', '\\ude00"}'],  # a surrogate pair split between chunks
        ['["\\ud83d\\u0041"]'],  # a high surrogate followed by a non-surrogate
        ['["\\udc00"]'],  # a lone low surrogate
        ['["\\u12', 'G4"]'],  # bad hex in a split escape
        ['["\\q"]'],
        ["[1.]", "[01]", "[-]", "[1e]", "[1e+]"],
        ["[tru", "e, nul", "l, fals", "e]"],
        ["[trux]"],
        ["\ufeff[1]"],
        [b"\xef\xbb\xbf[1]"],
        [b'["\xc3', b'\xa9"]'],
        [b'["\xc3', '"]'],  # text after bytes that ended inside a character
        ["[" + "9" * 30 + "]"],
        ["[123456789012345678, -123456789012345678, 1234567890123456789]"],
        ["[1e400, -1e400, 1e-400, 0.1, 2.5e-3]"],
        ["[--"],
        ["[01"],
        ["[-01]"],
        ["[1.2.3"],
        ["[1.", "2.", "3]"],
        ["[1e5e", "5]"],
        ["[1.e5]"],
        ["[1e+-2]"],
        ["[-.5]"],
        ["[12-" + "3" * 9 + "]"],  # a bad character before the length limit
        ["[" + "1" * 5000 + ", 1]"],  # over max_number_length and the interpreter's limit
        ["[" + "1" * 5000 + ".5]"],
        ['{"k\\n\\u00e9y": 1, "', "sp", 'lit\\"key": 2}'],
        ['{"a": 1} {"b": 2}\n[3]'],
        ['prose before ```json\n{"a": [1, 2]}\n``` after'],
    ],
)
@pytest.mark.parametrize("mode", [{}, {"lenient": True}, {"multiple": True}])
def test_same_trace_on_edge_cases(chunks: list[Any], mode: dict[str, Any]) -> None:
    for one in chunks:
        assert_same([one], mode)
    assert_same(chunks, mode)
    joined: Any = b"".join(chunks) if all(isinstance(c, bytes) for c in chunks) else None
    if joined is not None:
        assert_same([joined[i : i + 1] for i in range(len(joined))], mode)


@needs_compiled
@pytest.mark.parametrize(
    ("chunks", "options"),
    [
        (['{"k": "' + "\\n" * 100 + '"}'], {"max_string_length": 3}),
        (['{"' + "\\u00e9" * 100 + '": 1}'], {"max_string_length": 3}),
        (['["\\ud83d', "\\ude00\\ud8", '3d\\ude00"]'], {"max_string_length": 1}),
        (['["ab\\ncd"]'], {"max_string_length": 4}),
        ([b'["\xc3\xa9\xe2', b'\x82\xac"]'], {"max_size": 5}),
        (["[1234", "567"], {"max_size": 5}),
        (["123"], {"max_size": 3}),
        (['{"a": 1} {"b": 2}'], {"max_size": 12, "multiple": True}),
    ],
)
def test_same_trace_at_the_limits(chunks: list[Any], options: Any) -> None:
    # Escapes against max_string_length, held-back text and split characters against
    # max_size: the same error at the same character, whole, as given and char by char.
    assert_same(chunks, options)
    joined: Any = b"".join(chunks) if isinstance(chunks[0], bytes) else "".join(chunks)
    assert_same([joined], options)
    assert_same([joined[i : i + 1] for i in range(len(joined))], options)


@needs_compiled
@pytest.mark.parametrize(
    "chunks",
    [
        ["[" + "1" * 1000 + ", 1]"],
        ["[" + "1" * 500, "1" * 500 + "]"],
        ['{"a": -' + "2" * 641 + "}"],
        ["1" * 700],  # delimited by close()
        ["[" + "1" * 700 + ".5, 1" + "1" * 640 + "e1]"],  # floats have no digit limit
        ["[" + "1" * 640 + "]"],
    ],
)
@pytest.mark.parametrize("options", [{}, {"max_number_length": 10_000}, {"events": False}])
def test_same_trace_over_the_interpreter_int_limit(chunks: list[Any], options: Any) -> None:
    # More digits than int() converts (an app lowered the limit): the same declared error.
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        assert_same(chunks, options)
        assert_same([c for chunk in chunks for c in chunk], options)
    finally:
        sys.set_int_max_str_digits(before)


@needs_compiled
def test_same_errors_after_failure_and_finish() -> None:
    for cls in (JSONParser, PyJSONParser):
        parser = cls()
        with pytest.raises(JSONParseError):
            parser.feed("[1, x")
        with pytest.raises(Exception, match="stopped at an earlier error"):
            parser.feed("]")
        done = cls()
        done.feed("[1]")
        assert done.finish() == [1]
        with pytest.raises(Exception, match="finished"):
            done.feed(" ")


@needs_compiled
def test_type_errors_and_corrupted_state() -> None:
    """Wrong types are refused when set, deletion always, and bad values on the next feed."""
    with pytest.raises(TypeError, match="takes str or bytes"):
        JSONParser().feed(42)  # type: ignore[arg-type]
    parser = JSONParser()
    with pytest.raises(TypeError, match="_containers must be a list, not tuple"):
        parser._containers = ()  # type: ignore[assignment]
    with pytest.raises(TypeError, match="_decoder must be None or a codecs.IncrementalDecoder"):
        parser._decoder = 5  # type: ignore[assignment]
    with pytest.raises(TypeError, match="_root cannot be deleted"):
        del parser._root
    assert parser.feed("[1") == JSONParser().feed("[1")  # nothing was changed
    parser._state = 2
    parser._containers = []
    with pytest.raises(TypeError, match="corrupted: _containers and _paths differ in length"):
        parser.feed(",")
    parser._paths = []
    with pytest.raises(TypeError, match=r"corrupted: _state 2 \(after a value\) without an"):
        parser.feed(",")
    parser = JSONParser()
    parser.feed('"')
    parser._str_emitted = -1
    with pytest.raises(TypeError, match="corrupted: _str_emitted is -1, outside 0 to"):
        parser.feed('"')
    parser._str_emitted = 0  # put back: the parser goes on
    parser.feed('"')
    assert parser.finish() == ""


def _run_corrupting_child(*args: str) -> None:
    """Run tests/property/corrupt_parser_fields.py; a crash fails here, naming its case."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.property.corrupt_parser_fields", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = proc.stdout.splitlines()
    bad = [
        f"{case}\n  {line}"
        for case, line in zip(lines, lines[1:], strict=False)
        if line.startswith("BAD")
    ]
    last = next((line for line in reversed(lines) if line.startswith("CASE")), "")
    assert proc.returncode == 0, (
        f"exit status {proc.returncode} (-11 or 139: a crash), last case: {last}\n"
        + "\n".join(bad[:20])
        + proc.stderr[-3000:]
    )
    assert not bad
    assert lines[-1].startswith("DONE"), lines[-3:]


@needs_compiled
def test_corrupted_fields_never_crash() -> None:
    """Every field the C code reads, set to each bad value in each parser state, then fed:
    refused when set, a TypeError or a declared error, never a crash or another error."""
    _run_corrupting_child("grid")


@needs_compiled
def test_corrupted_fields_never_crash_random() -> None:
    """Hypothesis: several fields at once set to random values, then random input."""
    _run_corrupting_child("random", "1500")


def _pure_python_slices() -> dict[str, list[str]]:
    """The parser's own test modules, cut into slices of a few seconds each (a slice runs
    in its own process, so each has the whole per-test timeout for itself, even on a CI
    machine several times slower than this one). The property module, the longest, is cut
    in two by its tests (functions and classes, as pytest collects them by default), listed
    from the module itself so that none is left out."""
    from . import test_parser_properties

    module = "tests/property/test_parser_properties.py"
    names = sorted(
        name
        for name, obj in vars(test_parser_properties).items()
        if name.startswith(("test", "Test")) and callable(obj)
    )
    return {
        "unit+conformance": [
            "tests/unit/test_parser.py",
            "tests/conformance/test_json_test_suite.py",
        ],
        "properties-1": [f"{module}::{name}" for name in names[0::2]],
        "properties-2": [f"{module}::{name}" for name in names[1::2]],
        "collect": ["tests/unit/test_collect.py", "tests/unit/test_limits.py"],
    }


PURE_PYTHON_SLICES = _pure_python_slices()
# One interpreter runs the tests and then checks that they ran on the pure scanner
# (streamdantic is imported after pytest starts, so that its plugins are rewritten first).
_RUN_PURE = (
    "import sys, pytest; code = pytest.main(sys.argv[1:]); "
    "from streamdantic._parser import COMPILED; "
    "assert not COMPILED, 'STREAMDANTIC_PURE_PYTHON=1 did not select the pure scanner'; "
    "sys.exit(code)"
)


@pytest.mark.parametrize("targets", list(PURE_PYTHON_SLICES.values()), ids=list(PURE_PYTHON_SLICES))
def test_parser_suites_pass_on_the_pure_python_scanner(targets: list[str]) -> None:
    env = {**os.environ, "STREAMDANTIC_PURE_PYTHON": "1"}
    result = subprocess.run(
        [sys.executable, "-c", _RUN_PURE, "-q", "-p", "no:cacheprovider", *targets],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


@pytest.mark.parametrize("cls", [JSONParser, PyJSONParser])
def test_a_shown_string_held_by_the_caller_never_changes(cls: type[PyJSONParser]) -> None:
    # The compiled scanner grows the shown string in place only while nothing else holds
    # it; a string the caller kept must stay what it was.
    parser = cls()
    parser.feed('{"text": "ab')
    parser.feed("cd")
    kept = parser.value["text"]
    (event,) = parser.feed("ef")
    assert isinstance(event, StringAppended)
    assert (kept, event.text, parser.value["text"]) == ("abcd", "ef", "abcdef")
    for piece in ("gh", "ij", "kl"):
        parser.feed(piece)
        assert parser.value["text"].endswith(piece)
    assert kept == "abcd"
    root = cls()
    root.feed('"x')
    first = root.value
    root.feed("y")
    assert (first, root.value) == ("x", "xy")
    root.feed("z")
    second = root.value
    root.feed('"')
    assert (first, second, root.finish()) == ("x", "xyz", "xyz")


@needs_compiled
def test_the_c_fields_are_the_python_slots() -> None:
    # Both scanners keep the same state under the same names: the shared Python code reads
    # and writes it on either.
    from streamdantic import _parser, _speedups

    # Ints and bools are members; object fields are properties that check what is set.
    fields = {
        name
        for name, attr in vars(_speedups.ParserCore).items()
        if type(attr).__name__ in ("member_descriptor", "getset_descriptor") and name != "value"
    }
    assert fields == set(_parser._FIELDS)
