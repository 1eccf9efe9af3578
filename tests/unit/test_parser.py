"""Unit tests of JSONParser: exact events, errors with positions, modes, limits, misuse."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from streamdantic import (
    IncompleteJSONError,
    JSONParseError,
    JSONParser,
    LimitExceededError,
    UsageError,
    parse_partial,
)
from streamdantic._parser import COMPILED, PyJSONParser
from streamdantic.events import DocumentCompleted, StringAppended, ValueCompleted, ValueStarted
from tests.helpers import SPLITTERS, parse_chunks


def feed_all(chunks: list[Any], **options: Any) -> tuple[JSONParser, list[Any]]:
    parser = JSONParser(**options)
    events: list[Any] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    return parser, events


def test_events_for_a_small_document() -> None:
    """A document fed whole produces the documented events in document order."""
    _, events = feed_all(['{"a": "xy", "b": [1, true]}'])
    assert events == [
        ValueStarted((), "object"),
        ValueStarted(("a",), "string"),
        StringAppended(("a",), "xy"),
        ValueCompleted(("a",), "xy"),
        ValueStarted(("b",), "array"),
        ValueCompleted(("b", 0), 1),
        ValueCompleted(("b", 1), True),
        ValueCompleted(("b",), [1, True]),
        ValueCompleted((), {"a": "xy", "b": [1, True]}),
        DocumentCompleted({"a": "xy", "b": [1, True]}),
    ]


def test_number_is_held_back_until_delimited() -> None:
    """A number that may still grow is not shown; its delimiter shows it."""
    parser = JSONParser()
    assert parser.feed('{"n": 12') == [ValueStarted((), "object")]
    assert parser.value == {}
    assert parser.feed("3") == []
    assert parser.feed(".5,") == [ValueCompleted(("n",), 123.5)]
    assert parser.value == {"n": 123.5}


def test_number_at_end_completed_by_finish() -> None:
    """A root number has no delimiter: finish() completes it."""
    parser = JSONParser()
    assert parser.feed("-12") == []
    assert parser.value is None
    assert parser.finish() == -12


@pytest.mark.parametrize("word,value", [("true", True), ("false", False), ("null", None)])
def test_literal_appears_only_complete(word: str, value: Any) -> None:
    """A literal split across chunks appears only when its last letter arrives."""
    parser = JSONParser()
    parser.feed("[" + word[:2])
    assert parser.value == []
    parser.feed(word[2:])
    assert parser.value == [value]


def test_key_appears_only_when_its_value_begins() -> None:
    """A complete key is not shown until its value is visible."""
    parser = JSONParser()
    parser.feed('{"name"')
    assert parser.value == {}
    parser.feed(": ")
    assert parser.value == {}
    parser.feed('"')
    assert parser.value == {"name": ""}


def test_key_of_a_number_appears_with_the_number() -> None:
    """A key whose value is a number appears together with the complete number."""
    parser = JSONParser()
    parser.feed('{"n": 4')
    assert parser.value == {}
    parser.feed("2}")
    assert parser.value == {"n": 42}


@pytest.mark.parametrize(
    "chunks,expected",
    [
        (['["\\', 'u00e9"]'], "é"),
        (['["\\u0', '0e9"]'], "é"),
        (['["\\ud83d', '\\ude00"]'], "😀"),
        (['["\\ud83d\\', 'ude00"]'], "😀"),
        (['["\\ud83d\\ude0', '0"]'], "😀"),
        ([b'["\xf0\x9f', b'\x98\x80"]'], "😀"),
        ([b'["\xc3', b'\xa9"]'], "é"),
    ],
    ids=[
        "after-backslash",
        "inside-hex",
        "between-pair",
        "after-second-backslash",
        "inside-second-hex",
        "utf8-4byte-split",
        "utf8-2byte-split",
    ],
)
def test_split_escapes_and_characters_appear_whole(chunks: list[Any], expected: str) -> None:
    """An escape or UTF-8 character split across chunks is shown only once complete."""
    parser = JSONParser()
    parser.feed(chunks[0])
    assert parser.value == [""]
    events = parser.feed(chunks[1])
    assert StringAppended((0,), expected) in events
    assert parser.finish() == [expected]


def test_string_events_are_one_per_feed() -> None:
    """Escapes inside one chunk do not fragment the appended text."""
    _, events = feed_all(['"a\\nb\\u00e9c', '"'])
    assert [e for e in events if isinstance(e, StringAppended)] == [StringAppended((), "a\nbéc")]


def test_value_is_a_live_view_of_the_open_string() -> None:
    """Reading value joins the open string into its slot; the next feed keeps growing it."""
    parser = JSONParser()
    parser.feed('{"t": "ab')
    first = parser.value
    assert first == {"t": "ab"}
    parser.feed("cd")
    assert parser.value is first and first == {"t": "abcd"}


@pytest.mark.parametrize(
    "text,what,line,column,offset,path",
    [
        ('{"a": [1, 2,]}', "trailing comma before ']'", 1, 13, 12, ("a",)),
        ('{"a": 01}', "invalid number '01'", 1, 7, 6, ()),
        ('{\n  "a": tru}', "invalid literal, expected 'true'", 2, 8, 9, ()),
        ('{"é": "x\x01"}', "control character '\\x01' in a string", 1, 9, 9, ("é",)),
        ("[1] 2", "extra data after the JSON value: '2'", 1, 5, 4, ()),
        ("[NaN]", "expected a value, found 'N'", 1, 2, 1, ()),
        ("{'a': 1}", 'expected a string key, found "\'"', 1, 2, 1, ()),
        ('["\\x"]', "invalid escape '\\x'", 1, 3, 2, (0,)),
        ('["\\ud800"]', "lone surrogate escape (no low surrogate follows)", 1, 3, 2, (0,)),
    ],
    ids=[
        "trailing-comma",
        "leading-zero",
        "bad-literal",
        "control-char",
        "extra-data",
        "nan",
        "single-quotes",
        "bad-escape",
        "lone-surrogate",
    ],
)
@pytest.mark.parametrize("mode", list(SPLITTERS))
def test_error_says_what_and_where(
    text: str, what: str, line: int, column: int, offset: int, path: tuple[Any, ...], mode: str
) -> None:
    """Parse errors carry the same message, line, column, byte offset and path for any split."""
    with pytest.raises(JSONParseError) as info:
        parse_chunks(SPLITTERS[mode](text.encode()))
    error = info.value
    assert (error.what, error.line, error.column, error.offset, error.path) == (
        what,
        line,
        column,
        offset,
        path,
    )
    assert f"line {line} column {column}" in str(error)
    assert isinstance(error, ValueError)


def test_error_keeps_partial_and_refuses_more_input() -> None:
    """After an error the partial stays readable and further input is refused."""
    parser = JSONParser()
    parser.feed('{"a": "ok", "b": [1,')
    with pytest.raises(JSONParseError) as info:
        parser.feed("]")
    assert info.value.partial == {"a": "ok", "b": [1]}
    assert parser.value == {"a": "ok", "b": [1]}
    with pytest.raises(UsageError, match="earlier error") as refused:
        parser.feed("2]}")
    assert refused.value.__cause__ is info.value


def test_incomplete_error_carries_partial() -> None:
    """finish() inside a value raises IncompleteJSONError with the partial value."""
    parser = JSONParser()
    parser.feed('{"a": [1, {"b": "tex')
    with pytest.raises(IncompleteJSONError) as info:
        parser.finish()
    assert info.value.partial == {"a": [1, {"b": "tex"}]}
    assert info.value.path == ("a", 1, "b")


def test_empty_input_is_incomplete() -> None:
    """No input at all is an IncompleteJSONError saying no value was found."""
    with pytest.raises(IncompleteJSONError, match="no JSON value found"):
        JSONParser().finish()


def test_truncated_utf8_at_end_is_incomplete() -> None:
    """Bytes that end inside a UTF-8 character are reported as incomplete input."""
    parser = JSONParser()
    parser.feed(b'"\xe2\x82')
    with pytest.raises(IncompleteJSONError, match="truncated UTF-8"):
        parser.finish()


def test_invalid_utf8_reports_byte_offset() -> None:
    """Invalid UTF-8 raises JSONParseError at the offending byte."""
    parser = JSONParser()
    parser.feed(b'["ab')
    with pytest.raises(JSONParseError, match="invalid UTF-8") as info:
        parser.feed(b'c\xff"]')
    assert info.value.offset == 5


def test_feed_after_finish_is_usage_error() -> None:
    """A finished parser refuses input and says to create a new one."""
    parser = JSONParser()
    parser.feed("[]")
    assert parser.finish() == []
    with pytest.raises(UsageError, match="create a new JSONParser"):
        parser.feed("[]")
    with pytest.raises(UsageError):
        parser.finish()


def test_feed_rejects_other_types() -> None:
    """Only str and bytes are accepted."""
    with pytest.raises(TypeError, match="str or bytes"):
        JSONParser().feed(12)  # type: ignore[arg-type]


def test_bom_is_ignored_even_split() -> None:
    """A leading UTF-8 byte order mark is skipped, even split across chunks."""
    value, _ = parse_chunks([b"\xef", b"\xbb", b"\xbf[1]"])
    assert value == [1]


def test_duplicate_keys_last_wins_like_json_loads() -> None:
    """Duplicate keys keep json.loads' semantics (the one documented replacement)."""
    value, _ = parse_chunks(['{"a": 1, "a": 2}'])
    assert value == json.loads('{"a": 1, "a": 2}')


class TestLenient:
    def test_skips_prose_and_fence(self) -> None:
        """Lenient mode skips text before the root and ignores what follows it."""
        text = 'Sure! Here it is:\n```json\n{"a": [1, 2]}\n```\nAnything else?'
        for mode, split in SPLITTERS.items():
            value, _ = parse_chunks(split(text), lenient=True)
            assert value == {"a": [1, 2]}, mode

    def test_strict_mode_rejects_prose(self) -> None:
        """Strict mode (the default) rejects text before the JSON value."""
        with pytest.raises(JSONParseError, match="expected a value"):
            parse_chunks(["Here: {}"])

    def test_no_json_at_all(self) -> None:
        """Lenient mode with no JSON raises IncompleteJSONError at finish."""
        with pytest.raises(IncompleteJSONError, match="no JSON value found"):
            parse_chunks(["no json here"], lenient=True)


class TestMultiple:
    def test_json_lines(self) -> None:
        """Multiple mode reads JSON Lines, reporting each document once."""
        text = '{"a": 1}\n[2]\n"three"\n4\n'
        for mode, split in SPLITTERS.items():
            value, events = parse_chunks(split(text), multiple=True)
            assert value == [{"a": 1}, [2], "three", 4], mode
            docs = [e for e in events if isinstance(e, DocumentCompleted)]
            assert [d.index for d in docs] == [0, 1, 2, 3]

    def test_concatenated_values(self) -> None:
        """Concatenated documents need no separator between containers."""
        value, _ = parse_chunks(['{}[]{"x":null}'], multiple=True)
        assert value == [{}, [], {"x": None}]

    def test_empty_stream_is_no_documents(self) -> None:
        """An empty JSON Lines stream has zero documents."""
        value, _ = parse_chunks(["\n\n"], multiple=True)
        assert value == []

    def test_lenient_multiple_skips_prose_between(self) -> None:
        """Lenient multiple mode skips prose between documents."""
        value, _ = parse_chunks(['one {"a": 1} two [2] end'], multiple=True, lenient=True)
        assert value == [{"a": 1}, [2]]

    def test_truncated_last_document(self) -> None:
        """A stream that stops inside a document is incomplete."""
        with pytest.raises(IncompleteJSONError):
            parse_chunks(['{"a": 1}\n{"b": '], multiple=True)


class TestLimits:
    def test_depth(self) -> None:
        """Nesting beyond max_depth raises LimitExceededError, not RecursionError."""
        with pytest.raises(LimitExceededError, match="max_depth=3"):
            parse_chunks(["[[[[1]]]]"], max_depth=3)
        assert parse_chunks(["[[[1]]]"], max_depth=3)[0] == [[[1]]]

    def test_default_depth_bomb(self) -> None:
        """A nesting bomb stops at the default depth with a clear error."""
        with pytest.raises(LimitExceededError, match="max_depth=512"):
            parse_chunks(["[" * 100_000])

    def test_size(self) -> None:
        """Input beyond max_size bytes raises LimitExceededError."""
        parser = JSONParser(max_size=10)
        parser.feed('["12345')
        with pytest.raises(LimitExceededError, match="max_size=10"):
            parser.feed("6789")

    def test_string_length(self) -> None:
        """A string longer than max_string_length raises, however it is split."""
        for split in SPLITTERS.values():
            with pytest.raises(LimitExceededError, match="max_string_length=5"):
                parse_chunks(split('["123456"]'), max_string_length=5)

    def test_key_length(self) -> None:
        """A key longer than max_string_length raises too, however it is split (a whole key
        in one chunk included), and one at the limit does not."""
        for split in SPLITTERS.values():
            with pytest.raises(LimitExceededError, match="key longer"):
                parse_chunks(split('{"123456": 1}'), max_string_length=5)
            assert parse_chunks(split('{"12345": 1}'), max_string_length=5)[0] == {"12345": 1}

    def test_number_length(self) -> None:
        """A number longer than max_number_length raises, even while still growing."""
        parser = JSONParser(max_number_length=10)
        parser.feed("[12345")
        with pytest.raises(LimitExceededError, match="max_number_length=10"):
            parser.feed("678901")

    def test_huge_integer_under_limit_is_exact(self) -> None:
        """Integers up to the default length are exact Python ints, as json.loads gives."""
        digits = "9" * 4000
        assert parse_chunks([f"[{digits}]"])[0] == [int(digits)]


class TestState:
    def test_state_of_paths(self) -> None:
        """state_of tells pending, streaming and complete paths apart."""
        parser = JSONParser()
        parser.feed('{"a": "done", "b": {"c": [1, "gro')
        assert parser.state_of(("a",)) == "complete"
        assert parser.state_of(("b", "c", 0)) == "complete"
        assert parser.state_of(("b", "c", 1)) == "streaming"
        assert parser.state_of(("b", "c")) == "streaming"
        assert parser.state_of(()) == "streaming"
        assert parser.state_of(("z",)) == "pending"
        assert parser.current_path == ("b", "c", 1)
        assert parser.open_paths == [(), ("b",), ("b", "c"), ("b", "c", 1)]
        assert parser.is_complete(("a",)) and not parser.is_complete(("b",))

    def test_done(self) -> None:
        """done turns true when the root value closes."""
        parser = JSONParser()
        parser.feed("[1")
        assert not parser.done
        parser.feed("]")
        assert parser.done and parser.state_of(()) == "complete"


def test_close_returns_the_events_of_the_end() -> None:
    """close() reports the completion of a number that only the end of input delimits."""
    parser = JSONParser(multiple=True)
    assert parser.feed('{"a": 1}\n7') == [
        ValueStarted((), "object"),
        ValueCompleted(("a",), 1),
        ValueCompleted((), {"a": 1}),
        DocumentCompleted({"a": 1}, 0),
    ]
    assert parser.close() == [ValueCompleted((), 7), DocumentCompleted(7, 1)]


def test_parse_partial() -> None:
    """parse_partial shows a prefix's partial value and hides an unfinished number."""
    assert parse_partial('{"a": [1, 2') == {"a": [1]}
    assert parse_partial('{"a": "hel') == {"a": "hel"}
    assert parse_partial(b'{"a": tr') == {}
    assert parse_partial("") is None


# ---------------------------------------------------------------------------- numbers

# Both scanners where the compiled one is built; under STREAMDANTIC_PURE_PYTHON=1 (the run of
# test_parser_suites_pass_on_the_pure_python_scanner) JSONParser is the pure one: once.
SCANNERS = [pytest.param(JSONParser, id="default")]
if COMPILED:
    SCANNERS.append(pytest.param(PyJSONParser, id="pure"))


@pytest.fixture
def int_digits_640() -> Iterator[None]:
    """The interpreter's int conversion limit lowered to 640 digits, as an app may do."""
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(before)


def assert_terminal(parser: JSONParser | PyJSONParser, error: JSONParseError) -> None:
    """Later input and close() are refused, chained to `error`."""
    for attempt in (lambda: parser.feed("]"), parser.close):
        with pytest.raises(UsageError, match="earlier error") as refused:
            attempt()
        assert refused.value.__cause__ is error


@pytest.mark.usefixtures("int_digits_640")
@pytest.mark.parametrize("cls", SCANNERS)
@pytest.mark.parametrize("mode", list(SPLITTERS))
def test_integer_over_the_interpreter_limit_is_a_declared_error(
    cls: type[JSONParser], mode: str
) -> None:
    """An integer with more digits than int() converts raises LimitExceededError where it
    starts, naming the limit and how to raise it; nothing after it is parsed."""
    parser = cls()
    text = '{"a": [' + "1" * 1000 + ", 1]}"
    with pytest.raises(LimitExceededError) as info:
        for chunk in SPLITTERS[mode](text):
            parser.feed(chunk)
    error = info.value
    assert (error.line, error.column, error.offset, error.path) == (1, 8, 7, ("a",))
    assert error.what.startswith("integer of 1000 digits")
    assert "sys.get_int_max_str_digits() is 640" in error.what
    assert "sys.set_int_max_str_digits()" in error.what
    assert isinstance(error.__cause__, ValueError)
    assert error.partial == {"a": []} and parser.value == {"a": []}
    assert_terminal(parser, error)


@pytest.mark.parametrize("cls", SCANNERS)
def test_integer_over_the_interpreter_limit_at_the_end_is_a_declared_error(
    cls: type[JSONParser],
) -> None:
    """A root integer that only close() delimits is refused by close() the same way."""
    parser = cls(max_number_length=10_000)
    parser.feed("-" + "7" * 5000)
    with pytest.raises(LimitExceededError, match="integer of 5000 digits") as info:
        parser.close()
    assert (info.value.offset, info.value.path, parser.value) == (0, (), None)
    assert_terminal(parser, info.value)


@pytest.mark.parametrize("cls", SCANNERS)
def test_a_float_over_the_interpreter_limit_still_parses(cls: type[JSONParser]) -> None:
    """The digit limit is int()'s: a long float converts as json.loads converts it."""
    text = "[" + "1" * 5000 + ".5, 2]"
    parser = cls(max_number_length=6000)
    parser.feed(text)
    assert parser.finish() == json.loads(text)


# Prefixes that no continuation can turn into a number, ending at the first character that
# cannot belong: (text, what the error names).
DEAD_NUMBERS = [
    ("[--", "'--'"),
    ("[01", "'01'"),
    ("[-01", "'-01'"),
    ("[00", "'00'"),
    ("[1.2.", "'1.2.'"),
    ("[1..", "'1..'"),
    ("[1.e", "'1.e'"),
    ("[1e5e", "'1e5e'"),
    ("[1e+-", "'1e+-'"),
    ("[1e5.", "'1e5.'"),
    ("[-.", "'-.'"),
    ("[0x", None),  # 'x' is no number character: the number 0 ends, then 'x' is refused
    ("[1+", "'1+'"),
    ("-e", "'-e'"),
]


@pytest.mark.parametrize("cls", SCANNERS)
@pytest.mark.parametrize("mode", list(SPLITTERS))
@pytest.mark.parametrize(("text", "token"), DEAD_NUMBERS, ids=[t for t, _ in DEAD_NUMBERS])
def test_a_number_that_cannot_be_completed_is_refused_at_once(
    cls: type[JSONParser], mode: str, text: str, token: str | None
) -> None:
    """The feed that brings the first character no number can continue with raises, in any
    split; the error names the number up to that character, where the number starts."""
    parser = cls()
    chunks = SPLITTERS[mode](text)
    for chunk in chunks[:-1]:
        parser.feed(chunk)
    with pytest.raises(JSONParseError) as info:
        parser.feed(chunks[-1])
    start = text.index(text.lstrip("[")[0])
    if token is None:
        assert info.value.what == "expected ',' or ']', found 'x'"
    else:
        assert info.value.what == f"invalid number {token}"
        assert (info.value.offset, info.value.column) == (start, start + 1)
    assert_terminal(parser, info.value)


@pytest.mark.parametrize("text", ["[--", "[01", "[1.2.3"])
def test_parse_partial_refuses_a_dead_number(text: str) -> None:
    """parse_partial raises on a prefix no JSON document starts with, instead of ``[]``."""
    with pytest.raises(JSONParseError, match="invalid number"):
        parse_partial(text)


@pytest.mark.parametrize("cls", SCANNERS)
def test_a_dead_number_within_the_length_limit_is_reported_before_the_limit(
    cls: type[JSONParser],
) -> None:
    """Whole or split, a bad character inside the limit is named, one past it the limit is."""
    for text, error in [("[12-" + "3" * 20, "invalid number"), ("[" + "1" * 9 + "-", "max_n")]:
        for split in SPLITTERS.values():
            parser = cls(max_number_length=8)
            with pytest.raises(JSONParseError, match=error):
                for chunk in split(text):
                    parser.feed(chunk)


@pytest.mark.parametrize("cls", SCANNERS)
@pytest.mark.parametrize("text", ["[-", "[1.", "[1e", "[1E+", "[-0.0e-", "[0", "[12.5e9"])
def test_a_number_that_can_still_be_completed_is_held_back(
    cls: type[JSONParser], text: str
) -> None:
    """A valid number prefix at the end of the input is held back, not refused."""
    parser = cls()
    for chunk in SPLITTERS["bytewise"](text):
        assert parser.feed(chunk) in ([], [ValueStarted((), "array")])
    assert parser.value == []


# ---------------------------------------------------------------------------- limits

ESCAPES = ["\\n", '\\"', "\\u00e9", "\\ud83d\\ude00"]


def _limit_error(
    cls: type[JSONParser] | type[PyJSONParser], chunks: list[Any], **options: Any
) -> tuple[JSONParser | PyJSONParser, LimitExceededError]:
    """Feed `chunks` and close; return the parser and the LimitExceededError it raised."""
    parser = cls(**options)
    with pytest.raises(LimitExceededError) as info:
        for chunk in chunks:
            parser.feed(chunk)
        parser.close()
    return parser, info.value


def _feeds(text: str) -> Iterator[tuple[str, list[Any]]]:
    """`text` in every split, as str and as UTF-8 bytes (characters split between chunks)."""
    for name, split in SPLITTERS.items():
        yield name, split(text)
        yield f"{name}-bytes", split(text.encode())


@pytest.mark.parametrize("cls", SCANNERS)
@pytest.mark.parametrize("escape", ESCAPES, ids=["newline", "quote", "u00e9", "surrogate-pair"])
def test_escapes_count_against_max_string_length_in_a_value(
    cls: type[JSONParser], escape: str
) -> None:
    """A string of escapes is as long as the characters they stand for: it is refused at the
    first escape beyond the limit, cut there in the partial value, in any split."""
    text = '{"k": "' + escape * 100 + '"}'
    char = json.loads(f'"{escape}"')
    for name, chunks in _feeds(text):
        parser, error = _limit_error(cls, chunks, max_string_length=3)
        where = 7 + 3 * len(escape)  # the fourth escape
        assert (error.what, error.offset, error.line, error.column, error.path) == (
            "string longer than max_string_length=3",
            where,
            1,
            where + 1,
            ("k",),
        ), name
        assert error.partial == {"k": char * 3} == parser.value, name
        assert_terminal(parser, error)


@pytest.mark.parametrize("cls", SCANNERS)
@pytest.mark.parametrize("escape", ESCAPES, ids=["newline", "quote", "u00e9", "surrogate-pair"])
def test_escapes_count_against_max_string_length_in_a_key(
    cls: type[JSONParser], escape: str
) -> None:
    """A key of escapes counts the characters they stand for, as a string value does."""
    text = '{"' + escape * 100 + '": 1}'
    for name, chunks in _feeds(text):
        parser, error = _limit_error(cls, chunks, max_string_length=3)
        where = 2 + 3 * len(escape)
        assert (error.what, error.offset, error.column, error.path, error.partial) == (
            "key longer than max_string_length=3",
            where,
            where + 1,
            (),
            {},
        ), name
        assert_terminal(parser, error)


@pytest.mark.parametrize("cls", SCANNERS)
@pytest.mark.parametrize("escape", ESCAPES, ids=["newline", "quote", "u00e9", "surrogate-pair"])
def test_escapes_up_to_max_string_length_are_accepted(cls: type[JSONParser], escape: str) -> None:
    """As many escapes as the limit allows parse, in a value and in a key (a surrogate pair
    is one character)."""
    char = json.loads(f'"{escape}"')
    text = '{"' + escape * 3 + '": "' + escape * 3 + '"}'
    for name, chunks in _feeds(text):
        parser = cls(max_string_length=3)
        for chunk in chunks:
            parser.feed(chunk)
        assert parser.finish() == {char * 3: char * 3}, name


@pytest.mark.parametrize("cls", SCANNERS)
@pytest.mark.parametrize(
    ("text", "limit", "where", "partial"),
    [
        ('["ab\\ncd"]', 4, 7, ["ab\nc"]),  # plain text after an escape
        ('["abc\\n"]', 3, 5, ["abc"]),  # an escape after plain text
        ('["123456"]', 5, 7, ["12345"]),
        ('["é€😀a😀"]', 4, 12, ["é€😀a"]),  # characters, not bytes: offset 12 is column 7
    ],
    ids=["escape-then-plain", "plain-then-escape", "plain", "multi-byte"],
)
def test_max_string_length_refuses_the_first_character_beyond_it(
    cls: type[JSONParser], text: str, limit: int, where: int, partial: list[str]
) -> None:
    """Plain characters and escapes count together; the error points at the first character
    beyond the limit and the partial value holds the string up to it, in any split."""
    for name, chunks in _feeds(text):
        parser, error = _limit_error(cls, chunks, max_string_length=limit)
        assert error.what == f"string longer than max_string_length={limit}", name
        assert (error.offset, error.column, error.path) == (
            where,
            len(text.encode()[:where].decode()) + 1,
            (0,),
        ), name
        assert error.partial == partial == parser.value, name
        assert_terminal(parser, error)


@pytest.mark.parametrize("cls", SCANNERS)
@pytest.mark.parametrize(
    ("text", "where", "path", "partial"),
    [
        ('["abcdefghijkl"]', 5, (0,), ["abc"]),
        ('["é€"]', 4, (0,), ["é"]),  # the euro sign (bytes 4 to 6) does not fit whole
        ("[1234567", 5, (), []),  # a number held back for the next chunk counts too
        ("[1, 23456]", 5, (), [1]),
    ],
    ids=["string", "multi-byte", "held-back-number", "delimited-number"],
)
def test_max_size_refuses_the_first_character_beyond_it(
    cls: type[JSONParser], text: str, where: int, path: tuple[int, ...], partial: list[Any]
) -> None:
    """max_size counts the input as it arrives, an unfinished token included: the first
    character not wholly within the limit is refused, in any split, and nothing after it
    reaches the partial value."""
    for name, chunks in _feeds(text):
        parser, error = _limit_error(cls, chunks, max_size=5)
        assert (error.what, error.offset, error.path) == (
            "document larger than max_size=5 bytes",
            where,
            path,
        ), name
        assert error.column == len(text.encode()[:where].decode()) + 1, name
        assert error.partial == partial == parser.value, name
        assert_terminal(parser, error)


@pytest.mark.parametrize("cls", SCANNERS)
def test_a_document_of_max_size_is_accepted_with_its_final_number(cls: type[JSONParser]) -> None:
    """A document of exactly max_size bytes parses, a root number that close() delimits
    included: the end of the input is not a byte of it, and `offset` does not count it."""
    for text, value in [("123", 123), ("[1,2]", [1, 2]), ('"é"', "é")]:
        for name, chunks in _feeds(text):
            parser = cls(max_size=len(text.encode()))
            for chunk in chunks:
                parser.feed(chunk)
            assert parser.finish() == value, name
            assert parser.offset == len(text.encode()), name


@pytest.mark.parametrize("cls", SCANNERS)
@pytest.mark.parametrize(
    ("text", "options", "what", "where", "path", "partial"),
    [
        ("[[[[1]]]]", {"max_depth": 3}, "nesting deeper than max_depth=3", 3, (0, 0), [[[]]]),
        (
            "[12345678901]",
            {"max_number_length": 10},
            "number longer than max_number_length=10",
            1,
            (),
            [],
        ),
    ],
    ids=["depth", "number-length"],
)
def test_depth_and_number_limits_are_the_same_in_any_split(
    cls: type[JSONParser],
    text: str,
    options: dict[str, Any],
    what: str,
    where: int,
    path: tuple[Any, ...],
    partial: Any,
) -> None:
    """The other limits raise at the same place whatever the split: the bracket that goes
    too deep, the start of the number that is too long."""
    for name, chunks in _feeds(text):
        parser, error = _limit_error(cls, chunks, **options)
        assert (error.what, error.offset, error.column, error.path) == (
            what,
            where,
            where + 1,
            path,
        ), name
        assert error.partial == partial == parser.value, name
        assert_terminal(parser, error)
