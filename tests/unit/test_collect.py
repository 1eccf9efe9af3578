"""Unit tests for batch collection (`streamdantic._collect`): `ItemCollector`, `collect`, `acollect`.

Expected items come from pydantic itself: ``TypeAdapter(list[Model]).validate_json`` of the
whole document is the oracle, so "validates as from JSON" is checked, not assumed.
"""

from __future__ import annotations

import builtins
import datetime
import enum
import gc
import io
import json
import re
import subprocess
import sys
import threading
import uuid
import weakref
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import ijson  # type: ignore[import-untyped]
import pytest
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, model_validator

import streamdantic as sd
from streamdantic import (
    IncompleteJSONError,
    JSONParseError,
    LimitExceededError,
    StreamValidationError,
    UsageError,
    _collect,
)
from streamdantic._collect import (
    ItemCollector,
    SkippedItem,
    _DocumentCollector,
    _LinesCollector,
    acollect,
    collect,
)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Async tests of this module run on both anyio backends."""
    return str(request.param)


class Location(BaseModel):
    lat: float
    lon: float
    label: str


class Record(BaseModel):
    id: int
    name: str
    score: float
    active: bool
    tags: list[str]
    location: Location


def record(i: int, **changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "id": i,
        "name": f"r\u00e9cord {i}",
        "score": i * 1.25 + 0.1,
        "active": i % 2 == 0,
        "tags": ["a", "b"][: i % 3],
        "location": {"lat": 48.85 + i, "lon": -2.35, "label": "caf\u00e9 \u2615"},
    }
    value.update(changes)
    return value


RECORDS = [record(i) for i in range(4)]
DOC = json.dumps(RECORDS, ensure_ascii=False).encode()
EXPECTED = TypeAdapter(list[Record]).validate_json(DOC)
JSONL = "\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS).encode() + b"\n"


def feed_all(collector: ItemCollector[Any], chunks: list[bytes]) -> list[Any]:
    items: list[Any] = []
    for chunk in chunks:
        items.extend(collector.feed(chunk))
    items.extend(collector.close())
    return items


def located(records: list[dict[str, Any]]) -> tuple[bytes, list[int]]:
    """A compact JSON array of `records` and the byte offset where each element ends."""
    parts, ends, size = [b"["], [], 1
    for i, value in enumerate(records):
        text = (b", " if i else b"") + json.dumps(value, ensure_ascii=False).encode()
        parts.append(text)
        size += len(text)
        ends.append(size)
    parts.append(b"]")
    return b"".join(parts), ends


# --- items ---------------------------------------------------------------------------------


def test_items_of_a_top_level_array() -> None:
    """The default path "$[*]" yields each element of the top-level array, validated."""
    assert list(collect(DOC, Record)) == EXPECTED


def test_items_under_a_nested_prefix() -> None:
    """A path such as "$.data.results[*]" yields the elements of that array only."""
    doc = json.dumps({"meta": {"n": 4, "results": [1]}, "data": {"results": RECORDS}}).encode()
    assert list(collect(doc, Record, item="$.data.results[*]")) == EXPECTED


def test_the_empty_prefix_yields_the_whole_document() -> None:
    """item="$" makes the top-level value the one item; a top-level scalar works too."""
    assert list(collect(DOC, list[Record], item="$")) == [EXPECTED]
    assert list(collect(b" 12 ", int, item="$")) == [12]
    assert list(collect(b" 12 ", int, item="")) == [12]


def test_several_array_levels_give_full_paths() -> None:
    """With two array levels the path has both indices, tracked from the parse events."""
    doc = json.dumps(
        {"groups": [{"members": [record(0), record(1)]}, {"members": [record(2, id="x")]}]}
    ).encode()
    items = collect(doc, Record, item="$.groups[*].members[*]", on_invalid="skip")
    assert list(items) == EXPECTED[:2]
    assert [(s.index, s.path) for s in items.skipped] == [(2, ("groups", 1, "members", 0))]
    assert items.skipped[0].errors[0]["loc"] == ("groups", 1, "members", 0, "id")


def test_nested_arrays_under_item_item() -> None:
    """The path "$[*][*]" reaches into an array of arrays, paths and all."""
    doc = json.dumps([[1, 2], [], [3, "x"]]).encode()
    items = collect(doc, int, item="$[*][*]", on_invalid="skip")
    assert list(items) == [1, 2, 3]
    assert [s.path for s in items.skipped] == [(2, 1)]


@pytest.mark.parametrize(
    ("legacy", "path"),
    [("item", "$[*]"), ("data.results.item", "$.data.results[*]"), ("item.item", "$[*][*]")],
    ids=["top", "nested", "two-levels"],
)
def test_an_ijson_prefix_still_works_with_a_deprecation_warning(legacy: str, path: str) -> None:
    """The old ijson form of `item` gives the same items and warns with the new spelling."""
    doc = json.dumps({"data": {"results": RECORDS}}).encode()
    if legacy.startswith("item"):
        doc = json.dumps([RECORDS] if legacy == "item.item" else RECORDS).encode()
    expected = list(collect(doc, Record, item=path))
    assert expected == EXPECTED
    with pytest.warns(
        DeprecationWarning, match=rf"write the path as item='{re.escape(path)}'"
    ) as w:
        assert list(collect(doc, Record, item=legacy)) == expected
    assert w[0].filename == __file__  # attributed to the caller's line


def test_the_old_errors_keyword_works_with_a_deprecation_warning() -> None:
    """``errors=`` is the old name of ``on_invalid=``: same behaviour, a warning at the caller."""
    doc = json.dumps([record(0), record(1, id="x")]).encode()
    for call in (
        lambda: collect(doc, Record, errors="skip"),
        lambda: ItemCollector(Record, errors="skip"),
    ):
        with pytest.warns(
            DeprecationWarning, match=r"\(errors=\.\.\.\) is deprecated; use on_invalid="
        ) as w:
            call()
        assert w[0].filename == __file__
    with pytest.warns(DeprecationWarning):
        items = collect(doc, Record, errors="skip")
    assert list(items) == [EXPECTED[0]] and [s.index for s in items.skipped] == [1]
    with pytest.raises(TypeError, match="both errors= and on_invalid="):
        collect(doc, Record, errors="skip", on_invalid="skip")


def test_an_unknown_option_is_refused_with_a_suggestion() -> None:
    """A misspelled option is a TypeError naming it and the closest option, as Python does."""
    with pytest.raises(
        TypeError,
        match=r"collect\(\) got an unexpected keyword argument 'on_invalide'; did you mean 'on_invalid'\?",
    ):
        collect(b"[]", Record, on_invalide="skip")  # type: ignore[call-overload]
    with pytest.raises(
        TypeError, match=r"ItemCollector\(\) got an unexpected keyword argument 'chunk_size'"
    ):
        ItemCollector(Record, chunk_size=4)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="acollect"):
        acollect(b"[]", Record, jsonlines=True)  # type: ignore[call-overload]


def test_item_takes_a_tuple_of_keys() -> None:
    """A tuple with "*" for every element is the same path as the text form."""
    doc = json.dumps({"data": {"results": RECORDS}}).encode()
    assert list(collect(doc, Record, item=("data", "results", "*"))) == EXPECTED


def test_an_item_path_with_an_index_is_refused() -> None:
    """collect takes every element of an array: an index is a ValueError that suggests [*]."""
    with pytest.raises(ValueError, match=r"names an array index.*'\$\.results\[\*\]'"):
        collect(b"{}", Record, item="$.results[2]")
    with pytest.raises(ValueError, match=r"invalid path"):
        ItemCollector(Record, item="$.results[")
    with pytest.raises(TypeError, match="a path such as"):
        ItemCollector(Record, item=3)  # type: ignore[call-overload]


def test_any_type_for_a_type_adapter() -> None:
    """The model may be any type TypeAdapter accepts, not only a BaseModel."""
    assert list(collect(b'[1, "2", 3.0]', int)) == [1, 2, 3]
    assert list(collect(b'[{"a": [1]}, {}]', dict[str, list[int]])) == [{"a": [1]}, {}]


def test_a_prefix_that_matches_nothing_yields_nothing() -> None:
    """A valid document without the path is not an error: it has no items."""
    assert list(collect(b'{"other": [1, 2]}', int, item="$.results[*]")) == []


@pytest.mark.parametrize("jsonl", [False, True], ids=["json", "jsonl"])
def test_any_two_way_split_gives_the_same_items(jsonl: bool) -> None:
    """Bytes split at every position (inside UTF-8 sequences too) give the same items."""
    data = JSONL if jsonl else DOC
    for cut in range(len(data) + 1):
        collector = ItemCollector(Record, jsonl=jsonl)
        assert feed_all(collector, [data[:cut], data[cut:]]) == EXPECTED, cut


@pytest.mark.parametrize("jsonl", [False, True], ids=["json", "jsonl"])
def test_byte_by_byte_gives_the_same_items(jsonl: bool) -> None:
    """Feeding one byte at a time gives the same items."""
    data = JSONL if jsonl else DOC
    chunks = [data[i : i + 1] for i in range(len(data))]
    assert feed_all(ItemCollector(Record, jsonl=jsonl), chunks) == EXPECTED


def test_feed_returns_items_as_soon_as_they_complete() -> None:
    """An item is returned by the feed that completes it, not at the end."""
    collector = ItemCollector(int)
    assert collector.feed(b"[1, 2") == [1]
    assert collector.feed(b", 3]") == [2, 3]
    assert collector.close() == []
    assert collector.count == 3 and collector.offset == 9


def test_bytearray_and_memoryview_chunks() -> None:
    """Chunks may be any bytes-like object."""
    collector = ItemCollector(int)
    assert feed_all(collector, [bytearray(b"[1,"), memoryview(b" 2]")]) == [1, 2]  # type: ignore[list-item]


# --- numbers -------------------------------------------------------------------------------


class Numbers(BaseModel):
    i: int
    f: float
    any: Any
    fs: list[float]


NUMBER_DOC = (
    json.dumps(
        [
            {"i": 1, "f": 1, "any": 1, "fs": [0.1, 0.2, 1e-7, 5e-324, 1.7976931348623157e308]},
            {"i": 1.0, "f": -0.0, "any": 0.1, "fs": [2.2250738585072014e-308, 3.141592653589793]},
            {"i": 9223372036854775807, "f": 9007199254740993, "any": 1e2, "fs": [1e22, 1.5e-10]},
            {"i": -42, "f": 123456789.123456789, "any": [1.25, -3], "fs": []},
        ]
    )
    .replace('"i": 1.0', '"i": 1.0e0')
    .encode()
)


def test_numbers_validate_as_from_json() -> None:
    """ints stay ints, other numbers are exact floats (never Decimal), as in validate_json."""
    expected = TypeAdapter(list[Numbers]).validate_json(NUMBER_DOC)
    items = list(collect(NUMBER_DOC, Numbers))
    assert items == expected
    assert [type(n.any) for n in items] == [int, float, float, list]
    assert items[3].any == [1.25, -3] and type(items[3].any[1]) is int
    assert repr(items[1].f) == "-0.0"


def test_numbers_match_json_loads_bit_for_bit() -> None:
    """Every float the parser makes equals the one json.loads makes from the same text."""
    texts = ["0.1", "1e-400", "4.9e-324", "2.2250738585072011e-308", "123.456e-7", "-0.0"]
    texts += [f"{n}.{n * 7919 % 10**9}e{n % 600 - 300}" for n in range(1, 2000, 7)]
    doc = ("[" + ",".join(texts) + "]").encode()
    items: list[Any] = list(collect(doc, Any))
    assert items == json.loads(doc)
    assert all(type(x) is float for x in items)


def test_integer_out_of_64_bits_is_a_limit_error() -> None:
    """The C parser reads integers as 64-bit: a larger one is LimitExceededError, with offset."""
    with pytest.raises(LimitExceededError, match="number out of range") as info:
        list(collect(b"[1, 123456789012345678901234567890]", int))
    assert isinstance(info.value, JSONParseError)
    assert info.value.offset == 4  # where the number starts


class Colour(enum.Enum):
    RED = "red"


class StrictRecord(BaseModel):
    model_config = ConfigDict(strict=True)
    when: datetime.datetime
    key: uuid.UUID
    colour: Colour
    pair: tuple[int, int]
    score: float


def test_strict_models_validate_as_from_json() -> None:
    """Strict mode accepts JSON strings for datetime, UUID and enums: items validate as JSON."""
    doc = json.dumps(
        [
            {
                "when": "2024-05-01T12:00:00Z",
                "key": "12345678-1234-5678-1234-567812345678",
                "colour": "red",
                "pair": [1, 2],
                "score": 3,
            }
        ]
        * 2
    ).encode()
    assert list(collect(doc, StrictRecord)) == TypeAdapter(list[StrictRecord]).validate_json(doc)
    with pytest.raises(StreamValidationError):
        list(
            collect(
                b'[{"when": 1, "key": "x", "colour": "red", "pair": [1, 2], "score": "3"}]',
                StrictRecord,
            )
        )


class Blob(BaseModel):
    model_config = ConfigDict(val_json_bytes="base64")
    data: bytes


def test_json_only_config_validates_as_from_json() -> None:
    """val_json_bytes="base64" decodes only JSON input: items are validated as JSON."""
    doc = b'[{"data": "aGVsbG8="}]'
    assert list(collect(doc, Blob)) == [Blob(data=b"hello")]


# --- validation errors -----------------------------------------------------------------------


def test_validation_error_names_index_path_and_offset() -> None:
    """on_invalid="raise": the items before are delivered, then StreamValidationError says where."""
    records = [record(i) for i in range(60)]
    records[41] = record(41, score="high")
    doc, ends = located(records)
    payload = json.dumps({"results": json.loads(doc)}).encode()
    items = collect(payload, Record, item="$.results[*]")
    got: list[Record] = []
    with pytest.raises(StreamValidationError) as info:
        got.extend(items)
    error = info.value
    assert [r.id for r in got] == list(range(41))
    assert error.path == ("results", 41)
    assert [e["loc"] for e in error.errors] == [("results", 41, "score")]
    assert error.partial == records[41]
    assert isinstance(error.__cause__, ValidationError)
    message = str(error)
    assert message.startswith("item 41 ($.results[41], ends at or before byte ")
    assert "$.results[41].score: Input should be a valid number" in message
    assert "as Record: 1 error" in message
    offset = int(message.split("byte ")[1].split(")")[0])
    true_end = payload.index(json.dumps(records[41]).encode()) + len(json.dumps(records[41]))
    assert true_end <= offset < true_end + 4096
    assert (error.index, error.offset) == (41, offset)


def test_reported_offsets_bound_each_item_end_within_four_kib() -> None:
    """A skipped item's offset is at or after its true end, and less than 4 KiB after it."""
    records = [record(i, id="bad") if i % 7 == 3 else record(i) for i in range(200)]
    doc, ends = located(records)
    for chunks in ([doc], [doc[i : i + 5000] for i in range(0, len(doc), 5000)]):
        items = collect(iter(chunks), Record, on_invalid="skip")
        assert len(list(items)) == 200 - len(items.skipped)
        assert [s.index for s in items.skipped] == [i for i in range(200) if i % 7 == 3]
        for skipped in items.skipped:
            assert ends[skipped.index] <= skipped.offset < ends[skipped.index] + 4096


def test_skip_mode_records_every_skipped_item() -> None:
    """on_invalid="skip": invalid items are left out and listed in order with their errors."""
    records = [record(0), record(1, id="one"), record(2), record(3, location={}), record(4)]
    items = collect(json.dumps(records).encode(), Record, on_invalid="skip")
    assert [r.id for r in items] == [0, 2, 4]
    assert items.count == 5
    assert [(s.index, s.path, s.line) for s in items.skipped] == [(1, (1,), None), (3, (3,), None)]
    assert [e["type"] for e in items.skipped[1].errors] == ["missing"] * 3
    assert all(e["loc"][:1] == (3,) for e in items.skipped[1].errors)


def test_skipped_item_is_a_frozen_value_with_a_short_repr() -> None:
    """SkippedItem compares by value, is immutable, and its repr omits an unset line."""
    item = SkippedItem(1, ("results", 1), 99, ())
    assert item == SkippedItem(1, ("results", 1), 99, ())
    assert repr(item) == "SkippedItem(index=1, path=('results', 1), offset=99, errors=())"
    assert "line=3" in repr(SkippedItem(1, (1,), 9, (), line=3))
    with pytest.raises(AttributeError):
        item.index = 2  # type: ignore[misc]


def test_an_error_after_items_is_raised_by_the_next_call() -> None:
    """feed returns the items before a failing one; the error comes at the next call, for good."""
    collector = ItemCollector(int)
    assert collector.feed(b'[1, 2, "x", 4]') == [1, 2]
    with pytest.raises(StreamValidationError) as first:
        collector.close()
    with pytest.raises(StreamValidationError) as again:
        collector.feed(b"")
    assert again.value is first.value


# --- malformed and truncated input -----------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "offset", "line", "column", "what"),
    [
        (b'[{"a" 1}]', 7, 1, 8, "object key and value must be separated by a colon"),
        (b"[1,\n 2,\n x]", 10, 3, 3, "invalid char in json text"),
        (b"[1] [2]", 5, 1, 6, "trailing garbage"),
        (b"[1,]", 4, 1, 5, "unallowed token"),
        ('["\u00e9\u00e9", 1 2]'.encode(), 12, 1, 11, "after array element"),
        (b'["\xff"]', 3, 1, 4, "invalid bytes in UTF8 string"),
        (b"[" + b"1, " * 600 + b"}", 1802, 1, 1803, "unallowed token"),
    ],
    ids=["colon", "lines", "garbage", "comma", "utf8-column", "bad-utf8", "far"],
)
def test_malformed_json_raises_with_the_exact_position(
    doc: bytes, offset: int, line: int, column: int, what: str
) -> None:
    """JSONParseError gives the offset where the parser stopped, its line and column."""
    with pytest.raises(JSONParseError) as info:
        list(collect(doc, Any))
    error = info.value
    assert not isinstance(error, IncompleteJSONError)
    assert (error.offset, error.line, error.column) == (offset, line, column)
    assert what in error.what
    assert isinstance(error.__cause__, ijson.JSONError)


def test_the_error_position_does_not_depend_on_the_split() -> None:
    """The same malformed document split anywhere reports the same offset."""
    doc = json.dumps(RECORDS).encode()[:-1] + b", nul]"
    offsets = set()
    for cut in range(0, len(doc) + 1, 3):
        collector = ItemCollector(Record)
        with pytest.raises(JSONParseError) as info:
            feed_all(collector, [doc[:cut], doc[cut:]])
        offsets.add(info.value.offset)
    assert offsets == {len(doc) - 1}  # yajl stops just after the bad token "nul"


@pytest.mark.parametrize(
    ("doc", "what"),
    [
        (b'[{"id": 1}, {"id": 2', "ended inside the JSON document"),
        (b"[1, 2, tru", "ended inside the JSON document"),
        (b"", "the input is empty"),
        (b" \n ", "the input is empty or blank"),
    ],
    ids=["object", "literal", "empty", "blank"],
)
def test_truncated_input_raises_incomplete_json_error(doc: bytes, what: str) -> None:
    """Input that ends inside the document raises IncompleteJSONError at its end."""
    with pytest.raises(IncompleteJSONError, match=what) as info:
        list(collect(doc, Any))
    assert info.value.offset == len(doc)


def test_items_before_truncation_are_delivered() -> None:
    """Every item completed before the input ends is yielded before the error."""
    got: list[int] = []
    with pytest.raises(IncompleteJSONError):
        got.extend(collect(b"[1, 2, 3", int))
    assert got == [1, 2, 3]  # 3 completes at the end of the input


def test_misuse_raises_usage_error_and_bad_options_list_valid_values() -> None:
    """Feeding after close, text instead of bytes and unknown modes are refused clearly."""
    collector = ItemCollector(int)
    collector.feed(b"[]")
    collector.close()
    assert collector.close() == []
    with pytest.raises(UsageError, match="after close"):
        collector.feed(b"[]")
    with pytest.raises(TypeError, match="takes bytes"):
        ItemCollector(int).feed("[1]")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\('raise', 'skip'\)"):
        ItemCollector(int, on_invalid="ignore")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="JSON Lines"):
        collect(b"", int, jsonl=True, item="$.results[*]")
    with pytest.raises(ValueError, match="chunk_size"):
        collect(b"", int, chunk_size=0)
    with pytest.raises(TypeError, match="got int"):
        collect(12, int)  # type: ignore[call-overload]


# --- JSON Lines ----------------------------------------------------------------------------


def test_jsonl_items_skip_blank_lines_and_accept_any_line_ending() -> None:
    """Each non-blank line is one item; LF, CRLF and CR end lines; the last may lack one."""
    lines = [json.dumps(r) for r in RECORDS]
    data = f"{lines[0]}\r\n\n  \t\r\n{lines[1]}\r{lines[2]}\n{lines[3]}".encode()
    assert list(collect(data, Record, jsonl=True)) == EXPECTED


def test_jsonl_skip_mode_gives_line_numbers_and_exact_offsets() -> None:
    """Skipped lines carry their line number and the exact byte offset where they end."""
    lines = ['{"id": 1}', "", "caf\u00e9 not json", '{"id": "x"}', '{"id": 4}']
    data = "\r\n".join(lines).encode()
    items = collect([data[:12], data[12:]], dict[str, int], jsonl=True, on_invalid="skip")
    assert list(items) == [{"id": 1}, {"id": 4}]
    first, second = items.skipped
    assert (first.index, first.path, first.line) == (1, (1,), 3)
    assert first.errors[0]["type"] == "json_invalid"
    assert (second.index, second.path, second.line) == (2, (2,), 4)
    assert second.errors[0]["loc"] == (2, "id")
    for skipped in items.skipped:
        text = lines[skipped.line - 1].encode()  # type: ignore[operator]
        assert data[skipped.offset - len(text) : skipped.offset] == text


def test_jsonl_validation_error_names_the_line() -> None:
    """on_invalid="raise": the message gives the line, the path $[index] and the exact end."""
    data = b'{"id": 1}\n\n{"id": "x"}\n'
    with pytest.raises(
        StreamValidationError, match=r"item 1 \(line 3, \$\[1\], ends at byte 22\)"
    ) as info:
        list(collect(data, dict[str, int], jsonl=True))
    assert info.value.raw_text == '{"id": "x"}'
    assert info.value.path == (1,)


def test_jsonl_malformed_line_raises_json_parse_error_at_its_position() -> None:
    """on_invalid="raise": a line that is not JSON is a JSONParseError with line, column, offset."""
    data = '{"a": 1}\r\n{"\u00e9": tru}\n'.encode()
    with pytest.raises(JSONParseError) as info:
        list(collect([data[:11], data[11:]], Any, jsonl=True))
    error = info.value
    assert (error.line, error.column, error.path) == (2, 10, (1,))
    assert error.offset == data.index(b"tru}") + 3  # just after the bad token, as yajl
    assert "invalid JSON in JSON Lines" in error.what


def test_jsonl_invalid_and_truncated_utf8() -> None:
    """Invalid UTF-8 is a JSONParseError; input ending inside a sequence is incomplete."""
    got: list[Any] = []
    with pytest.raises(JSONParseError, match="invalid UTF-8") as info:
        got.extend(collect([b'{"a": 1}\n{"b":', b' 2}\r\n"\xff"}\n'], Any, jsonl=True))
    assert got == [{"a": 1}, {"b": 2}]  # the lines before the bad byte still count
    assert (info.value.offset, info.value.line, info.value.column) == (20, 3, 2)
    with pytest.raises(IncompleteJSONError, match="inside a UTF-8 sequence") as truncated:
        list(collect(b'{"a": 1}\n"\xc3', Any, jsonl=True))
    assert truncated.value.offset == 10


# --- sources and cleanup ---------------------------------------------------------------------


def test_a_file_path_is_read_and_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A path is opened lazily, read in chunks, and closed when exhausted or closed early."""
    path = tmp_path / "records.json"
    path.write_bytes(DOC)
    opened: list[Any] = []

    def spy_open(*args: Any, **kwargs: Any) -> Any:
        opened.append(builtins.open(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(_collect, "open", spy_open, raising=False)
    assert list(collect(path, Record, chunk_size=7)) == EXPECTED
    with pytest.warns(DeprecationWarning, match=r"pass pathlib\.Path\("):
        assert list(collect(str(path), Record)) == EXPECTED
    with collect(path, Record) as items:
        assert next(items) == EXPECTED[0]
        assert not opened[-1].closed
    assert len(opened) == 3 and all(f.closed for f in opened)


def test_a_str_source_is_json_text_as_for_stream() -> None:
    """A str is JSON text (as `stream` reads it), for documents and JSON Lines alike."""
    assert list(collect(DOC.decode(), Record)) == EXPECTED
    assert list(collect(JSONL.decode(), Record, jsonl=True)) == EXPECTED
    assert list(collect(" 1.5 ", float, item="$")) == [1.5]
    assert list(sd.stream(DOC.decode(), list[Record]))[-1].final == EXPECTED


@pytest.mark.parametrize("text", ["missing.json", "data/records.jsonl", "records", "/no/such"])
def test_a_str_that_looks_like_a_missing_file_says_to_pass_a_path(text: str) -> None:
    """A str that is not JSON text but looks like a file path is refused with what to do."""
    with pytest.raises(
        UsageError, match=rf"names no file.*pass pathlib\.Path\('{re.escape(text)}'\)"
    ):
        list(collect(text, Record))


@pytest.mark.anyio
async def test_async_str_sources_match_sync(tmp_path: Path) -> None:
    """acollect reads a str as JSON text, and a str naming a file as a path, deprecated."""
    assert [r async for r in acollect(DOC.decode(), Record)] == EXPECTED
    path = tmp_path / "records.json"
    path.write_bytes(DOC)
    with pytest.warns(DeprecationWarning, match="names a file"):
        assert [r async for r in acollect(str(path), Record)] == EXPECTED
    with pytest.raises(UsageError, match="names no file"):
        [r async for r in acollect(str(tmp_path / "missing.json"), Record)]


def test_a_file_object_is_read_and_left_open() -> None:
    """A binary file passed in is read to the end and stays open: the caller owns it."""
    file = io.BytesIO(JSONL)
    assert list(collect(file, Record, jsonl=True, chunk_size=10)) == EXPECTED
    assert not file.closed


def test_an_iterator_source_is_closed_when_the_loop_stops_early() -> None:
    """Breaking out and closing the iterator closes a generator source at once."""
    closed = []

    def body() -> Iterator[bytes]:
        try:
            yield from (DOC[i : i + 16] for i in range(0, len(DOC), 16))
        finally:
            closed.append(True)

    items = collect(body(), Record)
    assert next(items) == EXPECTED[0]
    items.close()
    assert closed == [True]


def test_a_big_chunk_is_fed_in_chunk_size_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """No feed gets more than chunk_size bytes, so memory stays bounded by it (an iterable
    source, which the push path reads; bytes and files are read by the pull path)."""
    sizes: list[int] = []
    feed = ItemCollector.feed

    def spy_feed(self: ItemCollector[Any], data: Any) -> list[Any]:
        sizes.append(len(data))
        return feed(self, data)

    monkeypatch.setattr(ItemCollector, "feed", spy_feed)
    assert list(collect([DOC], Record, chunk_size=100)) == EXPECTED
    assert max(sizes) == 100 and sum(sizes) == len(DOC)


def test_the_python_backend_also_works(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the C extension ijson's best backend is used: same items, errors located."""
    monkeypatch.setattr(_collect, "_BACKEND", ijson.get_backend("python"))
    assert list(collect(DOC, Record)) == EXPECTED
    with pytest.raises(JSONParseError, match="in bytes 0 to 9"):
        list(collect(b'[{"a" 1}]', Any))
    with pytest.raises(IncompleteJSONError):
        list(collect(b"[1, 2", Any))


# --- limits --------------------------------------------------------------------------------

# Each limit, tight, in a JSON document and in JSON Lines, with where it is crossed: the byte
# that crossed it (offset, line, column).
LIMIT_CASES = [
    pytest.param(b"[1, [[2]]]", {"max_depth": 2}, "max_depth=2", (5, 1, 6), id="depth"),
    pytest.param(
        '[1,\n "h\u00e9llo!"]'.encode(),
        {"max_string_length": 5},
        "max_string_length=5",
        (12, 2, 8),
        id="string",
    ),
    pytest.param(
        b'[1, "\\u00e9\\ud83d\\ude00x"]',
        {"max_string_length": 2},
        "max_string_length=2",
        (23, 1, 24),
        id="string-escapes",
    ),
    pytest.param(
        b"[1, 123456]", {"max_number_length": 5}, "max_number_length=5", (9, 1, 10), id="number"
    ),
    pytest.param(b"[1, 2345]", {"max_size": 6}, "max_size=6", (6, 1, 7), id="size"),
]


@pytest.mark.parametrize(("doc", "limits", "what", "where"), LIMIT_CASES)
def test_a_document_over_a_limit_raises_limit_exceeded_error(
    doc: bytes, limits: dict[str, int], what: str, where: tuple[int, int, int]
) -> None:
    """Each limit raises LimitExceededError where it is crossed, naming it and how to raise it."""
    got: list[Any] = []
    with pytest.raises(LimitExceededError) as info:
        got.extend(collect(doc, Any, **limits))
    error = info.value
    assert got == [1]  # the items before it are delivered
    assert (error.offset, error.line, error.column) == where
    assert what in error.what
    name = what.split("=")[0]
    assert f"pass a larger {name}" in error.what
    assert "collect()" in error.what


@pytest.mark.parametrize(("doc", "limits", "what", "where"), LIMIT_CASES)
def test_a_limit_error_does_not_depend_on_the_split(
    doc: bytes, limits: dict[str, int], what: str, where: tuple[int, int, int]
) -> None:
    """Split in two anywhere, or byte by byte, a document crosses its limit at the same byte."""
    splits = [[doc[:cut], doc[cut:]] for cut in range(len(doc) + 1)]
    splits.append([doc[k : k + 1] for k in range(len(doc))])
    for chunks in splits:
        collector = ItemCollector(Any, **limits)
        with pytest.raises(LimitExceededError) as info:
            feed_all(collector, chunks)
        assert (info.value.offset, info.value.line, info.value.column) == where


@pytest.mark.parametrize(("doc", "limits", "what", "where"), LIMIT_CASES)
def test_a_larger_limit_lets_the_document_through(
    doc: bytes, limits: dict[str, int], what: str, where: tuple[int, int, int]
) -> None:
    """One more than the tight limit, or None where allowed, accepts the same document."""
    larger = {name: value + 1 for name, value in limits.items()}
    if "max_size" in limits:
        larger = {"max_size": len(doc)}
    assert list(collect(doc, Any, **larger)) == json.loads(doc)
    if "max_size" in limits or "max_string_length" in limits:
        assert list(collect(doc, Any, **dict.fromkeys(limits))) == json.loads(doc)


@pytest.mark.parametrize(
    ("text", "limits", "what", "where"),
    [
        pytest.param(b"[1]\n[[[2]]]\n", {"max_depth": 2}, "max_depth=2", (6, 2, 3), id="depth"),
        pytest.param(
            b'1\n"abcdef"\n',
            {"max_string_length": 5},
            "max_string_length=5",
            (8, 2, 7),
            id="string",
        ),
        pytest.param(
            b"1\r\n123456\n",
            {"max_number_length": 5},
            "max_number_length=5",
            (8, 2, 6),
            id="number",
        ),
        pytest.param(b"1\n234\n", {"max_size": 4}, "max_size=4", (4, 2, 3), id="size"),
    ],
)
def test_json_lines_over_a_limit_raise_limit_exceeded_error(
    text: bytes, limits: dict[str, int], what: str, where: tuple[int, int, int]
) -> None:
    """JSON Lines have the same limits, per line (depth, string, number) or in all (size)."""
    got: list[Any] = []
    with pytest.raises(LimitExceededError) as info:
        got.extend(collect(text, Any, jsonl=True, on_invalid="skip", **limits))
    error = info.value
    assert got == [[1]] if text.startswith(b"[") else got == [1]
    assert (error.offset, error.line, error.column) == where
    assert what in error.what and error.path == (1,)


def test_the_limits_default_to_those_of_json_parser() -> None:
    """Depth 512, strings 64 MiB characters, numbers 4300 characters; no limit on the input."""
    depth, number = 512, 4300
    assert list(collect(b"[" * depth + b"]" * depth, Any, item="")) != []
    with pytest.raises(LimitExceededError, match="max_depth=512"):
        list(collect(b"[" * (depth + 1) + b"]" * (depth + 1), Any, item=""))
    assert list(collect(b"[0." + b"1" * (number - 2) + b"]", float)) == [0.1111111111111111]
    with pytest.raises(LimitExceededError, match="max_number_length=4300"):
        list(collect(b"[0." + b"1" * (number - 1) + b"]", float))
    collector = ItemCollector(Any)
    assert (collector._max_string_length, collector._max_size) == (64 * 1024 * 1024, None)


def test_bad_limits_are_refused_with_what_is_expected() -> None:
    """A limit must be a positive int (or None where no limit is allowed)."""
    for name in ("max_depth", "max_number_length"):
        for bad in (0, -1, None, 1.5, True):
            with pytest.raises(ValueError, match=f"{name} must be a positive int, got"):
                collect(b"[]", Any, **{name: bad})
    for name in ("max_size", "max_string_length"):
        with pytest.raises(ValueError, match=f"{name} must be a positive int, or None"):
            acollect(b"[]", Any, **{name: 0})


def test_forty_kilobytes_of_brackets_fail_fast_in_bounded_memory() -> None:
    """40 KB and 1 MB of '[' raise LimitExceededError in a process limited to 300 MB."""
    script = """
import resource, sys
from typing import Any
resource.setrlimit(resource.RLIMIT_AS, (300 * 2**20, 300 * 2**20))
from streamdantic import LimitExceededError, collect
for size in (40_000, 1_000_000):
    for chunk_size in (1024, 65536, size):
        try:
            list(collect(b"[" * size, Any, chunk_size=chunk_size))
        except LimitExceededError as exc:
            print(exc.offset)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["512"] * 6


class CountingCoro:
    """Stands for ijson's coroutine: forwards every push and counts the work yajl does."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.pushed = 0
        self.open_token = 0  # bytes of the token a push ends inside, lexed again next push

    def send(self, data: Any) -> Any:
        self.pushed += len(data) + self.open_token
        tail = bytes(data[-1:])
        self.open_token = self.open_token + len(data) if tail == b"x" else 0
        return self.inner.send(data)


def string_document_work(length: int, chunk_size: int) -> int:
    """The bytes yajl lexes for ``["xx...x"]``: each push, plus the open token it re-reads."""
    collector = ItemCollector(str)
    counter = CountingCoro(collector._coro)
    collector._coro = counter
    doc = b'["' + b"x" * length + b'"]'
    assert (
        len(feed_all(collector, [doc[k : k + chunk_size] for k in range(0, len(doc), chunk_size)]))
        == 1
    )
    return counter.pushed


@pytest.mark.parametrize("chunk_size", [100, 1024, 65536, 4 * 1024 * 1024])
def test_a_long_string_is_lexed_in_linear_work(chunk_size: int) -> None:
    """Ten times the string, ten times the bytes yajl lexes: no push re-reads an open token."""
    small = string_document_work(200_000, chunk_size)
    large = string_document_work(2_000_000, chunk_size)
    assert small == 200_000 + 4 and large == 2_000_000 + 4


def test_an_encoded_surrogate_is_a_parse_error() -> None:
    """UTF-8 bytes of a surrogate (which yajl lets through) raise JSONParseError at them."""
    got: list[Any] = []
    with pytest.raises(JSONParseError, match="invalid UTF-8") as info:
        got.extend(collect(b'[1, "ab\xed\xa0\x80"]', Any))
    assert got == [1]
    assert (info.value.offset, info.value.column) == (7, 8)
    assert isinstance(info.value.__cause__, UnicodeDecodeError)


# --- async ---------------------------------------------------------------------------------


class AsyncChunks:
    """An async iterable of chunks that records whether it was closed."""

    def __init__(self, data: bytes, size: int = 16) -> None:
        self.chunks = [data[i : i + size] for i in range(0, len(data), size)]
        self.closed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[bytes]:
        try:
            for chunk in self.chunks:
                await anyio.lowlevel.checkpoint()
                yield chunk
        finally:
            self.closed = True


@pytest.mark.anyio
@pytest.mark.parametrize("jsonl", [False, True], ids=["json", "jsonl"])
async def test_async_gives_the_same_items_as_sync(jsonl: bool, tmp_path: Path) -> None:
    """acollect over every kind of source yields exactly what collect yields."""
    data = JSONL if jsonl else DOC
    sync = list(collect(data, Record, jsonl=jsonl))
    path = tmp_path / "data"
    path.write_bytes(data)
    async with await anyio.open_file(path, "rb") as async_file:
        sources: list[Any] = [
            AsyncChunks(data),
            data,
            [data[:20], data[20:]],
            path,
            async_file,
            io.BytesIO(data),
        ]
        for source in sources:
            items = [item async for item in acollect(source, Record, jsonl=jsonl, chunk_size=9)]
            assert items == sync == EXPECTED, source


@pytest.mark.anyio
async def test_async_errors_and_skips_match_sync() -> None:
    """The async twin raises and skips exactly like the sync one."""
    records = [record(0), record(1, id="x"), record(2)]
    doc = json.dumps(records).encode()
    source = AsyncChunks(doc)
    items = acollect(source, Record, on_invalid="skip")
    assert [r.id async for r in items] == [0, 2]
    sync = collect(source.chunks, Record, on_invalid="skip")
    list(sync)
    assert items.skipped == sync.skipped and items.count == 3
    got = []
    with pytest.raises(StreamValidationError, match=r"item 1 \(\$\[1\]"):
        async for r in acollect(AsyncChunks(doc), Record):
            got.append(r.id)  # noqa: PERF401 - kept item by item: the loop ends by raising
    assert got == [0]
    with pytest.raises(IncompleteJSONError):
        async for _ in acollect(AsyncChunks(doc[:-5]), Record, on_invalid="skip"):
            pass


@pytest.mark.anyio
async def test_async_source_is_closed_when_the_loop_stops_early() -> None:
    """Leaving `async with` early acloses the source's iterator."""
    source = AsyncChunks(DOC)
    async with acollect(source, Record) as items:
        assert await items.__anext__() == EXPECTED[0]
        assert not source.closed
    assert source.closed


class _Counted(BaseModel):
    """A record whose validations are counted, with the thread each one ran in."""

    id: int
    name: str

    @model_validator(mode="after")
    def _count(self) -> _Counted:
        _VALIDATED.append(threading.get_ident())
        return self


_VALIDATED: list[int] = []
# 3,000 records of about 30 bytes: many thread hops of `_collect._THREAD_BATCH` items.
_MANY = json.dumps([{"id": i, "name": f"n{i}"} for i in range(3000)]).encode()


@pytest.fixture
def validated() -> Iterator[list[int]]:
    _VALIDATED.clear()
    yield _VALIDATED
    _VALIDATED.clear()


@pytest.fixture
def opened_files(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The files `streamdantic._collect` opens (its module-level `open`)."""
    opened: list[Any] = []

    def spy_open(*args: Any, **kwargs: Any) -> Any:
        opened.append(builtins.open(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(_collect, "open", spy_open, raising=False)
    return opened


@pytest.mark.anyio
async def test_async_path_is_closed_on_cancellation(
    tmp_path: Path, opened_files: list[Any], validated: list[int]
) -> None:
    """Cancelled mid-iteration, acollect waits for the batch being made, then closes the
    file: no thread reads on, and no more than one batch was validated."""
    path = tmp_path / "records.json"
    path.write_bytes(_MANY)
    with anyio.CancelScope() as scope:
        async with acollect(path, _Counted, chunk_size=len(_MANY)) as items:
            async for _ in items:
                scope.cancel()
                await anyio.lowlevel.checkpoint()
    assert scope.cancelled_caught
    assert len(opened_files) == 1 and opened_files[0].closed  # the generator was closed
    assert len(validated) == _collect._THREAD_BATCH < 3000  # the first batch only


@pytest.mark.anyio
async def test_acollect_reads_an_httpx_response_body() -> None:
    """acollect(response.aiter_bytes(), Model) collects a streamed HTTP body."""
    payload = json.dumps({"results": RECORDS}).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=payload)

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client,
        client.stream("GET", "https://example.test/records") as response,
    ):
        items = [r async for r in acollect(response.aiter_bytes(), Record, item="$.results[*]")]
    assert items == EXPECTED


# --- benchmark smoke -----------------------------------------------------------------------


def test_bench_collect_smoke_run(tmp_path: Path) -> None:
    """benchmarks/bench_collect.py runs on a tiny file and prints its table."""
    bench = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_collect.py"
    proc = subprocess.run(
        [
            *(sys.executable, str(bench), "--size-mb", "0.2", "--string-mb", "0.01,0.1"),
            *("--data-dir", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "| streamdantic collect |" in proc.stdout
    assert "| json.load + validate_python |" in proc.stdout
    assert "| contender | 0.01 MB (s) | 0.1 MB (s) | ratio |" in proc.stdout


# --- one class per input format ------------------------------------------------------------------


def test_item_collector_constructs_the_class_of_its_format() -> None:
    """`ItemCollector(jsonl=...)` is the format's own class, still an ItemCollector."""
    document, lines = ItemCollector(Record), ItemCollector(Record, jsonl=True)
    assert type(document) is _DocumentCollector and type(lines) is _LinesCollector
    assert isinstance(document, ItemCollector) and isinstance(lines, ItemCollector)
    assert not hasattr(document, "__dict__") and not hasattr(lines, "__dict__")


def test_document_collector_class_parses_one_document_split_anywhere() -> None:
    """The document class alone: items of the array under the path, across chunk splits."""
    collector: _DocumentCollector[Record] = _DocumentCollector(Record, item="$.results[*]")
    payload = json.dumps({"results": RECORDS}).encode()
    out = [*collector.feed(payload[:50]), *collector.feed(payload[50:]), *collector.close()]
    assert out == EXPECTED
    assert (collector.count, collector.offset) == (len(EXPECTED), len(payload))


def test_lines_collector_class_validates_each_line() -> None:
    """The JSON Lines class alone: one item per non-blank line, CRLF split across chunks."""
    collector: _LinesCollector[int] = _LinesCollector(int, jsonl=True)
    assert collector.feed(b"1\r") == [1]  # CR ends a line; its LF may follow
    assert collector.feed(b"\n\n 2 \r\n3") == [2]
    assert collector.close() == [3]
    assert collector.count == 3


# --- the pull path -------------------------------------------------------------------------

# A path, bytes or a seekable file is read by ijson's pull parser; an iterable of chunks is fed
# to ItemCollector (the push path). Both must give the same items, skipped records and errors.
_BAD = [*RECORDS[:3], {"id": "x", "name": "bad", "score": 1.0}, *RECORDS[3:]]
PULL_CASES = [
    pytest.param(DOC, {}, id="valid"),
    pytest.param(DOC[: len(DOC) // 2], {}, id="truncated"),
    pytest.param(DOC[:40] + b"}" + DOC[40:], {}, id="invalid-json"),
    pytest.param(DOC + b" [1]", {}, id="trailing-value"),
    pytest.param(json.dumps(_BAD).encode(), {"on_invalid": "skip"}, id="invalid-item-skip"),
    pytest.param(json.dumps(_BAD).encode(), {}, id="invalid-item-raise"),
    pytest.param(DOC, {"max_string_length": 4}, id="limit"),
    pytest.param(DOC, {"max_size": len(DOC) // 2}, id="max-size"),
    pytest.param(b"  ", {}, id="blank"),
    pytest.param(b'{"results": [1, 2, "x", 4]}', {"item": "$.results[*]"}, id="under-a-key"),
    pytest.param(b"[1, 2, 3", {}, id="truncated-number"),
    pytest.param(b'[1, "\xff"]', {}, id="bad-utf8"),
    # A chunk whose first byte crosses a limit (no slice before it to parse).
    pytest.param(b"[" + b" " * 99 + b"[1]]", {"max_depth": 1}, id="limit-at-a-chunk-start"),
]


def _outcome(source: Any, model: Any, options: dict[str, Any]) -> tuple[Any, ...]:
    items = collect(source, model, **options)
    got: list[Any] = []
    error: tuple[Any, ...] | None = None
    try:
        got.extend(items)  # keeps the items before an error
    except (JSONParseError, StreamValidationError) as exc:
        error = (type(exc), str(exc), getattr(exc, "offset", None), getattr(exc, "path", None))
        if isinstance(exc, JSONParseError):
            error += (exc.line, exc.column)
    return got, items.skipped, items.count, error


@pytest.mark.parametrize(("doc", "options"), PULL_CASES)
def test_the_pull_path_gives_what_the_push_path_gives(
    doc: bytes, options: dict[str, Any], tmp_path: Path
) -> None:
    model: Any = Record if doc.lstrip().startswith(b"[{") else int
    chunks = [doc[k : k + 100] for k in range(0, len(doc), 100)]
    pushed = _outcome(chunks, model, options)
    path = tmp_path / "doc.json"
    path.write_bytes(doc)
    file = io.BytesIO(b"skipped" + doc)
    file.seek(7)  # a file is read from where it stands, again so after a fallback
    for source in (doc, path, file):
        assert _outcome(source, model, {**options, "chunk_size": 100}) == pushed


def test_a_document_source_is_read_by_the_pull_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bytes, a path or a seekable file never go through ItemCollector.feed (the push path)."""
    fed: list[int] = []
    feed = ItemCollector.feed

    def spy_feed(self: ItemCollector[Any], data: Any) -> list[Any]:
        fed.append(len(data))
        return feed(self, data)

    monkeypatch.setattr(ItemCollector, "feed", spy_feed)
    assert list(collect(DOC, Record)) == EXPECTED
    assert list(collect(io.BytesIO(DOC), Record)) == EXPECTED
    assert fed == []
    assert list(collect(iter([DOC]), Record)) == EXPECTED  # chunks: pushed
    assert sum(fed) == len(DOC)


@pytest.mark.anyio
@pytest.mark.parametrize(("doc", "options"), PULL_CASES)
async def test_acollect_pull_path_gives_what_collect_gives(
    doc: bytes, options: dict[str, Any], tmp_path: Path
) -> None:
    """A path, bytes or a seekable file: acollect yields collect's items, skipped records
    and error (type, message, position), fallback included."""
    model: Any = Record if doc.lstrip().startswith(b"[{") else int
    path = tmp_path / "doc.json"
    path.write_bytes(doc)
    expected = _outcome(path, model, {**options, "chunk_size": 100})
    for source in (doc, path, io.BytesIO(doc)):
        items = acollect(source, model, **{**options, "chunk_size": 100})
        got: list[Any] = []
        error: tuple[Any, ...] | None = None
        try:
            async for item in items:
                got.append(item)  # noqa: PERF401 - kept item by item: the loop may raise
        except (JSONParseError, StreamValidationError) as exc:
            error = (type(exc), str(exc), getattr(exc, "offset", None), getattr(exc, "path", None))
            if isinstance(exc, JSONParseError):
                error += (exc.line, exc.column)
        assert (got, items.skipped, items.count, error) == expected, source


@pytest.mark.anyio
async def test_acollect_validates_in_a_worker_thread_a_bounded_batch_at_a_time(
    validated: list[int],
) -> None:
    """The pull path runs in a worker thread; the loop side never holds more than
    `_THREAD_BATCH` items, nor (with a small chunk_size) more than about two reads' worth."""
    loop_thread = threading.get_ident()
    for chunk_size, bound in ((len(_MANY), _collect._THREAD_BATCH), (1024, 2 * 1024 // 20 + 2)):
        validated.clear()
        ahead = 0
        consumed = 0
        async for _ in acollect(_MANY, _Counted, chunk_size=chunk_size):
            consumed += 1
            ahead = max(ahead, len(validated) - consumed + 1)
        assert consumed == len(validated) == 3000
        assert loop_thread not in validated
        assert 1 < ahead <= bound, chunk_size


def test_the_pull_parser_is_released_before_the_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a JSON error the push path re-reads the input; the pull parser and its reader are
    gone by then (not both alive at once)."""
    readers: list[weakref.ref[Any]] = []
    checked: list[bool] = []

    class SpyReader(_collect._PullReader):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            readers.append(weakref.ref(self))

    push = _collect._collect_push

    def spy_push(*args: Any) -> Iterator[Any]:
        checked.append(all(ref() is None for ref in readers))
        return push(*args)

    monkeypatch.setattr(_collect, "_PullReader", SpyReader)
    monkeypatch.setattr(_collect, "_collect_push", spy_push)
    with pytest.raises(JSONParseError):
        list(collect(DOC[:40] + b"}" + DOC[40:], Record))
    assert len(readers) == 1
    assert checked == [True]


@pytest.mark.parametrize(
    ("doc", "options"),
    [
        pytest.param(b'["' + b"x" * 200_000, {}, id="truncated-string"),
        pytest.param(DOC[:40] + b"}" + DOC[40:], {}, id="invalid-json"),
        pytest.param(json.dumps(_BAD).encode(), {}, id="invalid-item"),
        pytest.param(DOC, {"max_string_length": 4}, id="limit"),
    ],
)
@pytest.mark.parametrize("path", ["pull", "push"])
def test_a_failed_collect_frees_its_source_without_the_cyclic_gc(
    doc: bytes, options: dict[str, Any], path: str
) -> None:
    """Once the caller drops the error, nothing of the loop is left in a reference cycle:
    the source (and with it the held token, the parser) is freed at once, not at the next
    run of the cyclic GC, which large byte strings do not trigger."""
    model: Any = Record if doc.startswith(b"[{") else Any

    def chunks() -> Iterator[bytes]:
        yield from (doc[k : k + 4096] for k in range(0, len(doc), 4096))

    gc.collect()
    gc.disable()
    try:
        source: Any = io.BytesIO(doc) if path == "pull" else chunks()
        alive = weakref.ref(source)
        with pytest.raises((JSONParseError, StreamValidationError)):
            for _ in collect(source, model, chunk_size=4096, **options):
                pass
        del source
        assert alive() is None
    finally:
        gc.enable()


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["pull", "push"])
async def test_a_failed_acollect_frees_its_source_without_the_cyclic_gc(path: str) -> None:
    """The same for acollect, on its worker-thread path (a seekable file) and its push path
    (an async iterable)."""
    doc = b'["' + b"x" * 200_000
    gc.collect()
    gc.disable()
    try:
        source: Any = io.BytesIO(doc) if path == "pull" else AsyncChunks(doc, size=4096)
        alive = weakref.ref(source)
        with pytest.raises(IncompleteJSONError):
            async for _ in acollect(source, Any, chunk_size=4096):
                pass
        del source
        assert alive() is None
    finally:
        gc.enable()
