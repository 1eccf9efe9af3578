"""Unit tests of delta chunks: wire format, both merge profiles, the encoder, the producers."""

from __future__ import annotations

import copy
import enum
import json
import pickle
from typing import Any

import pytest

from streamdantic import DeltaError, JSONParser, UsageError
from streamdantic._deltas import (
    _MERGERS,
    Chunk,
    ChunkMerger,
    Delta,
    DeltaEncoder,
    _CompatibleMerger,
    _NestedMerger,
    chunk_from_object,
    chunks_for_field,
    chunks_from_text,
)
from streamdantic.events import DocumentCompleted, StringAppended, ValueCompleted, ValueStarted
from tests.helpers import SPLITTERS


def chunk(**delta: Any) -> Chunk:
    return Chunk(Delta(**delta))


def merged(chunks: list[Chunk], profile: Any = "nested") -> tuple[ChunkMerger, list[Any]]:
    merger = ChunkMerger(profile)
    events = [event for c in chunks for event in merger.apply(c)]
    return merger, events


def wire(chunks: list[Chunk]) -> list[dict[str, Any]]:
    return [c.to_dict() for c in chunks]


# ---------------------------------------------------------------------------- wire format

FULL = Chunk(
    Delta(text={"/a": "lo"}, json={"/b": [1, 2.5, None, True, {"é": "😀"}]}, done=("/a", "")),
    seq=3,
    finish_reason="stop",
    usage={"output_tokens": 7},
    metadata={"model": "m"},
)


def test_to_dict_omits_empty_fields() -> None:
    """The wire form leaves out empty delta fields and None chunk fields, keeping delta."""
    assert chunk(text={"/a": "x"}).to_dict() == {"delta": {"text": {"/a": "x"}}}
    assert Chunk(Delta(), seq=0).to_dict() == {"delta": {}, "seq": 0}


def test_to_dict_of_a_full_chunk() -> None:
    """Every field appears in the wire form under its documented name."""
    assert FULL.to_dict() == {
        "delta": {
            "text": {"/a": "lo"},
            "json": {"/b": [1, 2.5, None, True, {"é": "😀"}]},
            "done": ["/a", ""],
        },
        "seq": 3,
        "finish_reason": "stop",
        "usage": {"output_tokens": 7},
        "metadata": {"model": "m"},
    }


@pytest.mark.parametrize(
    "original",
    [FULL, Chunk(Delta()), chunk(json={"": 1.0}), chunk(done=["/x"]), Chunk(Delta(), seq=0)],
    ids=["full", "empty", "float-root", "done-only", "seq-zero"],
)
def test_json_round_trip_is_exact(original: Chunk) -> None:
    """from_json(to_json()) and from_dict(to_dict()) give an equal chunk and the same text."""
    text = original.to_json()
    assert Chunk.from_json(text) == original
    assert Chunk.from_json(text).to_json() == text
    assert Chunk.from_json(text.encode()) == original
    assert Chunk.from_dict(original.to_dict()) == original


def test_to_json_is_compact_utf8_text() -> None:
    """to_json writes no spaces and keeps non-ASCII characters as they are."""
    assert chunk(text={"/é": "😀"}).to_json() == '{"delta":{"text":{"/é":"😀"}}}'


def test_from_dict_reads_a_missing_delta_as_empty() -> None:
    """A chunk with no delta (a usage-only message) has an empty delta."""
    assert Chunk.from_dict({"finish_reason": "stop"}) == Chunk(Delta(), finish_reason="stop")


@pytest.mark.parametrize(
    ("text", "message", "path"),
    [
        ("[", "not valid JSON", ()),
        ("NaN", "not valid JSON", ()),
        ("[]", "a chunk is an object, not an array", ()),
        ('{"delta": {}, "extra": 1}', "unknown field 'extra'", ("extra",)),
        ('{"delta": []}', "delta is an object, not an array", ("delta",)),
        ('{"delta": {"patch": {}}}', "unknown field 'patch'", ("delta", "patch")),
        ('{"delta": {"text": "x"}}', "text is an object", ("delta", "text")),
        ('{"delta": {"text": {"/a": 1}}}', "text values are strings", ("delta", "text", "/a")),
        ('{"delta": {"json": [1]}}', "json is an object", ("delta", "json")),
        ('{"delta": {"done": "/a"}}', "done is an array", ("delta", "done")),
        ('{"delta": {"done": ["", 1]}}', "done lists strings", ("delta", "done", 1)),
        ('{"seq": -1}', "seq is a non-negative integer", ("seq",)),
        ('{"seq": true}', "seq is a non-negative integer", ("seq",)),
        ('{"seq": "1"}', "seq is a non-negative integer", ("seq",)),
        ('{"finish_reason": 1}', "finish_reason is a string", ("finish_reason",)),
        ('{"usage": []}', "usage is an object", ("usage",)),
        ('{"metadata": "m"}', "metadata is an object", ("metadata",)),
    ],
    ids=[
        "truncated",
        "nan",
        "array",
        "unknown-field",
        "delta-array",
        "unknown-delta-field",
        "text-string",
        "text-value-number",
        "json-array",
        "done-string",
        "done-item-number",
        "seq-negative",
        "seq-bool",
        "seq-string",
        "finish-reason-number",
        "usage-array",
        "metadata-string",
    ],
)
def test_malformed_chunks_raise_delta_error(text: str, message: str, path: tuple[Any]) -> None:
    """A malformed chunk raises DeltaError saying what is wrong and where in the chunk."""
    with pytest.raises(DeltaError, match=f"^malformed chunk: {message}") as info:
        Chunk.from_json(text)
    assert info.value.path == path


def test_from_json_refuses_text_with_a_lone_surrogate() -> None:
    """Text that cannot be UTF-8 is not valid JSON."""
    with pytest.raises(DeltaError, match="not valid JSON"):
        Chunk.from_json('{"delta": {"text": {"/a": "\ud800"}}}')


def test_from_json_refuses_other_types() -> None:
    """from_json takes str or bytes only."""
    with pytest.raises(TypeError, match="str or bytes"):
        Chunk.from_json(1)  # type: ignore[arg-type]


def test_to_json_refuses_values_that_are_not_json() -> None:
    """A chunk holding a NaN cannot be serialized, and says so with DeltaError."""
    with pytest.raises(DeltaError, match="not JSON-serializable"):
        chunk(json={"/a": float("nan")}).to_json()


def test_repr_omits_defaults() -> None:
    """Reprs show only the fields that differ from their defaults."""
    assert repr(Chunk(Delta(text={"/a": "x"}), seq=2)) == (
        "Chunk(delta=Delta(text={'/a': 'x'}), seq=2)"
    )
    assert repr(Chunk(Delta())) == "Chunk(delta=Delta())"


def test_chunks_and_deltas_are_frozen() -> None:
    """Assigning or deleting an attribute raises AttributeError."""
    with pytest.raises(AttributeError, match="frozen"):
        FULL.seq = 4
    with pytest.raises(AttributeError, match="frozen"):
        del FULL.delta.done


def test_chunks_compare_by_value_and_pickle() -> None:
    """Equal fields make equal chunks; pickling and copying keep them equal."""
    assert Chunk(Delta(json={"/a": [1]}), seq=1) == Chunk(Delta(json={"/a": [1]}), seq=1)
    assert Chunk(Delta(), seq=1) != Chunk(Delta(), seq=2)
    assert Chunk(Delta()) != Delta()
    assert pickle.loads(pickle.dumps(FULL)) == FULL
    assert copy.deepcopy(FULL) == FULL


def test_delta_is_true_when_it_changes_something() -> None:
    """bool(delta) tells whether the delta has any operation."""
    assert not Delta()
    assert Delta(done=[""])


def test_delta_refuses_a_string_as_done() -> None:
    """done takes a sequence of pointers; one string is refused rather than split up."""
    with pytest.raises(TypeError, match="sequence"):
        Delta(done="/a")


# ---------------------------------------------------------------------------- nested profile


def test_nested_events_for_a_streamed_object() -> None:
    """Sets, text and done produce the parser's events, in the order of the chunk's phases."""
    _, events = merged(
        [
            chunk(json={"": {}, "/a": "He"}),
            chunk(text={"/a": "llo"}, json={"/n": 1}),
            chunk(done=["/a", ""]),
        ]
    )
    doc = {"a": "Hello", "n": 1}
    assert events == [
        ValueStarted((), "object"),
        ValueStarted(("a",), "string"),
        StringAppended(("a",), "He"),
        ValueCompleted(("n",), 1),
        StringAppended(("a",), "llo"),
        ValueCompleted(("a",), "Hello"),
        ValueCompleted((), doc),
        DocumentCompleted(doc),
    ]


def test_sets_then_text_then_done_within_a_chunk() -> None:
    """A chunk applies its sets, then its text, then its done list, whatever the key order."""
    merger, _ = merged([chunk(done=["/a"], text={"/a": "b"}, json={"": {}, "/a": "a"})])
    assert merger.value == {"a": "ab"}
    assert merger.apply(chunk(done=[""])) == [
        ValueCompleted((), {"a": "ab"}),
        DocumentCompleted({"a": "ab"}),
    ]


def test_set_inside_a_value_set_earlier_in_the_chunk() -> None:
    """A later set may go inside a value an earlier set of the same chunk created."""
    merger, events = merged([chunk(json={"": {"a": []}, "/a/-": 1, "/a/1": "x", "/b": {}})])
    assert merger.value == {"a": [1, "x"], "b": {}}
    assert events == [
        ValueStarted((), "object"),
        ValueStarted(("a",), "array"),
        ValueCompleted(("a", 0), 1),
        ValueStarted(("a", 1), "string"),
        StringAppended(("a", 1), "x"),
        ValueStarted(("b",), "object"),
    ]


@pytest.mark.parametrize("pointer", ["/items/-", "/items/2"], ids=["dash", "index-equal-length"])
def test_set_at_the_end_of_an_array_appends(pointer: str) -> None:
    """`-` and an index equal to the length both append to the array."""
    merger, _ = merged([chunk(json={"": {"items": [1, 2]}}), chunk(json={pointer: 3})])
    assert merger.value == {"items": [1, 2, 3]}


def test_dash_appends_again_within_one_chunk() -> None:
    """Each `-` set of a chunk appends one more item."""
    merger, events = merged([chunk(json={"": []}), chunk(json={"/-": "a"})])
    assert merger.apply(Chunk(Delta(json={"/-": 2}))) == [ValueCompleted((1,), 2)]
    assert merger.value == ["a", 2]
    assert events[-2:] == [ValueStarted((0,), "string"), StringAppended((0,), "a")]


def test_set_below_the_length_replaces_an_item() -> None:
    """An index below the length replaces the item, reported as a new value."""
    merger, _ = merged([chunk(json={"": [1, "a"]})])
    assert merger.apply(chunk(json={"/0": 5, "/1": "b"})) == [
        ValueCompleted((0,), 5),
        ValueStarted((1,), "string"),
        StringAppended((1,), "b"),
    ]
    assert merger.value == [5, "b"]


def test_a_number_may_replace_a_number_of_the_other_kind() -> None:
    """Integers and floats are both JSON numbers, so replacing one by the other is allowed."""
    merger, _ = merged([chunk(json={"": [1]}), chunk(json={"/0": 1.5})])
    assert merger.value == [1.5]


def test_pointer_escapes_are_decoded() -> None:
    """`~1` is a slash and `~0` a tilde in a key, as RFC 6901 says."""
    merger, _ = merged([chunk(json={"": {}, "/a~1b": 1, "/c~0d": 2})])
    assert merger.value == {"a/b": 1, "c~d": 2}


def test_a_root_string_streams_and_completes() -> None:
    """The root may be a string: set, text-appended, then done."""
    merger, events = merged([chunk(json={"": "He"}), chunk(text={"": "llo"}), chunk(done=[""])])
    assert merger.value == "Hello"
    assert merger.done
    assert events[-2:] == [ValueCompleted((), "Hello"), DocumentCompleted("Hello")]


def test_a_scalar_root_is_complete_on_arrival() -> None:
    """A number at the root completes the document at once."""
    merger, events = merged([chunk(json={"": 42})])
    assert events == [ValueCompleted((), 42), DocumentCompleted(42)]
    assert merger.done


def test_done_completes_the_open_subtree_children_first() -> None:
    """Completing a container completes its open descendants first, in document order."""
    merger, _ = merged([chunk(json={"": {"a": {"b": "x", "c": []}, "d": "y"}})])
    value = merger.value
    assert merger.apply(chunk(done=[""])) == [
        ValueCompleted(("a", "b"), "x"),
        ValueCompleted(("a", "c"), []),
        ValueCompleted(("a",), value["a"]),
        ValueCompleted(("d",), "y"),
        ValueCompleted((), value),
        DocumentCompleted(value),
    ]


@pytest.mark.parametrize("splitter", list(SPLITTERS), ids=list(SPLITTERS))
def test_a_value_set_whole_and_done_reports_the_parsers_events(splitter: str) -> None:
    """A document set whole and done gives exactly the events the parser gives for it."""
    doc: dict[str, Any] = {"a": "xy", "b": [1, True, None, {"c": ""}], "e": {}, "f": [[]]}
    parser = JSONParser()
    expected = [e for piece in SPLITTERS[splitter](json.dumps(doc)) for e in parser.feed(piece)]
    _, events = merged([chunk_from_object(doc)])
    assert [e for e in events if type(e) is not StringAppended] == [
        e for e in expected if type(e) is not StringAppended
    ]
    assert "".join(e.text for e in events if type(e) is StringAppended) == "xy"


def test_merged_value_does_not_alias_the_chunks() -> None:
    """Values are copied in: growing the merged object never changes a chunk."""
    first = chunk(json={"": {"a": []}})
    merger, _ = merged([first, chunk(json={"/a/-": 1})])
    assert first.delta.json == {"": {"a": []}}
    assert merger.value == {"a": [1]}


def test_value_is_live_and_joins_streamed_text() -> None:
    """Reading value between chunks shows the text so far, then keeps growing."""
    merger, _ = merged([chunk(json={"": {"a": "x"}})])
    for piece in "yz":
        merger.apply(chunk(text={"/a": piece}))
        snapshot = merger.value["a"]
    assert snapshot == "xyz"


def test_empty_text_changes_nothing_and_reports_nothing() -> None:
    """Appending "" to an open string is valid and produces no event."""
    merger, _ = merged([chunk(json={"": "a"})])
    assert merger.apply(chunk(text={"": ""})) == []
    assert merger.value == "a"


@pytest.mark.parametrize(
    ("ops", "message", "path"),
    [
        ({"json": {"/a": "x"}}, "type change: cannot replace a number with a string", ("a",)),
        ({"json": {"/o": []}}, "type change: cannot replace an object with an array", ("o",)),
        ({"json": {"/z": None, "/z/q": 1}}, r"no parent \(null at \$.z\)", ("z", "q")),
        ({"json": {"": []}}, "type change: cannot replace an object with an array", ()),
        ({"json": {"/l/3": 1}}, "index gap: the array's length is 2", ("l", 3)),
        ({"json": {"/l/01": 1}}, "invalid array index '01'", ("l", "01")),
        ({"json": {"/l/x": 1}}, "invalid array index 'x'", ("l", "x")),
        ({"json": {"/q/r": 1}}, r"no parent \(nothing at \$.q\)", ("q", "r")),
        ({"json": {"/s/r": 1}}, r"no parent \(a string at \$.s\)", ("s", "r")),
        ({"json": {"/a/0": 1}}, r"no parent \(a number at \$.a\)", ("a", 0)),
        ({"json": {"/c/k": 1}}, r"the parent \(\$.c\) is already complete", ("c", "k")),
        ({"json": {"/b": {1}}}, "a set is not a JSON value", ("b",)),
        ({"json": {"/b": [{"k": float("nan")}]}}, "nan is not a JSON number", ("b", 0, "k")),
        ({"json": {"/b": [1, {2}]}}, "a set is not a JSON value", ("b", 1)),
        ({"json": {"/b": {"k": {1: 2}}}}, "object keys are strings, not a number", ("b", "k", 1)),
        ({"json": {"/t": "yes"}}, "type change: cannot replace a boolean with a string", ("t",)),
        ({"json": {"/a/0/x": 1}}, r"no parent \(a number at \$.a\)", ("a", 0, "x")),
        ({"json": {"/l/x/y": 1}}, r"no parent \(nothing at \$.l.x\)", ("l", "x", "y")),
        ({"json": {"a": 1}}, "invalid JSON Pointer 'a'", ()),
        ({"text": {"/a": "1"}}, "text appended to a number", ("a",)),
        ({"text": {"/q": "x"}}, "text appended to a missing value", ("q",)),
        ({"text": {"/q/1/r": "x"}}, "text appended to a missing value", ("q", 1, "r")),
        ({"text": {"/c/k": "x"}}, "text appended to a complete string", ("c", "k")),
        ({"text": {"/s": 1}}, "text values are strings", ("s",)),
        ({"text": {"/a/x": "y"}}, "text appended to a missing value", ("a", "x")),
        ({"text": {1: "y"}}, "keys are JSON Pointers", ()),
        ({"done": [1]}, "done lists strings", ()),
        ({"done": ["/a"]}, "done names a number; numbers, booleans and null", ("a",)),
        ({"done": ["/c"]}, "done names a value that is already complete", ("c",)),
        ({"done": ["/o", "/o/i"]}, "done names a value that is already complete", ("o", "i")),
        ({"done": ["/s", "/s"]}, "done names a value that is already complete", ("s",)),
        ({"done": ["/q"]}, "done names a missing value", ("q",)),
        # More digits than int() converts (sys.get_int_max_str_digits()): declared, not a
        # bare ValueError; beyond 18 digits no list is long enough.
        ({"json": {"/l/" + "9" * 5000: 1}}, "invalid array index '9999", ("l", "9" * 5000)),
        ({"json": {"/l/" + "1" * 19 + "/k": 1}}, r"no parent \(nothing at", ("l", "1" * 19, "k")),
    ],
    ids=[
        "number-to-string",
        "object-to-array",
        "null-has-no-children",
        "root-type-change",
        "index-gap",
        "leading-zero-index",
        "key-on-array",
        "missing-parent",
        "parent-is-string",
        "parent-is-number",
        "parent-complete",
        "not-json",
        "nan",
        "not-json-in-array",
        "non-string-key",
        "boolean-to-string",
        "under-a-number",
        "key-through-array",
        "pointer-without-slash",
        "text-to-number",
        "text-to-missing",
        "text-under-missing",
        "text-to-complete-string",
        "text-not-string",
        "text-through-number",
        "text-key-not-string",
        "done-scalar",
        "done-twice-across-chunks",
        "done-child-after-parent",
        "done-twice-in-chunk",
        "done-missing",
        "done-item-not-string",
        "index-over-int-digits",
        "index-over-18-digits",
    ],
)
def test_contradicting_chunk_raises_and_changes_nothing(
    ops: dict[str, Any], message: str, path: tuple[Any, ...]
) -> None:
    """A chunk that contradicts the state raises DeltaError naming the path, even when its
    failing operation comes after valid ones, and leaves the object exactly as it was."""
    setup = chunk(
        json={"": {"a": 1, "s": "x", "l": [0], "o": {"i": []}, "c": {"k": "v"}, "t": True}},
        done=["/c"],
    )
    # Valid operations of every kind come first, so only atomicity can keep them out.
    valid: dict[str, Any] = {
        "json": {"/new": [], "/l/-": 1, "/o/i/-": "y"},
        "text": {"/s": "more"},
        "done": ["/o/i/0"],
    }
    for key, value in ops.items():
        valid[key] = valid[key] | value if key != "done" else [*valid[key], *value]
    merger, _ = merged([setup])
    before = copy.deepcopy(merger.value)
    with pytest.raises(DeltaError, match=message) as info:
        merger.apply(chunk(**valid))
    assert info.value.path == path
    assert merger.value == before
    # The merger goes on as if the failing chunk never came.
    reference, _ = merged([setup])
    follow_up = chunk(text={"/s": "!"}, json={"/l/1": 2}, done=["/o", ""])
    assert merger.apply(follow_up) == reference.apply(follow_up)
    assert merger.value == reference.value


def test_text_to_a_string_set_in_the_same_chunk() -> None:
    """Text may go to a string the same chunk sets; it is reported as one string."""
    merger, _ = merged([chunk(json={"": {}})])
    assert merger.apply(chunk(json={"/b": "x"}, text={"/b": "y"})) == [
        ValueStarted(("b",), "string"),
        StringAppended(("b",), "xy"),
    ]


def test_dash_then_index_in_one_chunk_replaces_the_new_item() -> None:
    """An index set may replace the item a `-` set of the same chunk appended."""
    merger, _ = merged([chunk(json={"": [0]})])
    assert merger.apply(chunk(json={"/-": 1, "/1": 2})) == [ValueCompleted((1,), 2)]
    assert merger.value == [0, 2]


def test_replacing_a_value_drops_what_the_chunk_set_inside_it() -> None:
    """Sets inside a value that a later set of the same chunk replaces have no effect."""
    merger, _ = merged([chunk(json={"": {"o": {"i": []}}})])
    assert merger.apply(chunk(json={"/o/i/-": 1, "/o": {"j": "x"}})) == [
        ValueStarted(("o",), "object"),
        ValueStarted(("o", "j"), "string"),
        StringAppended(("o", "j"), "x"),
    ]
    assert merger.value == {"o": {"j": "x"}}


def test_replacing_an_open_container_forgets_its_open_values() -> None:
    """A replaced open container's open strings and containers never complete: only the
    new value's do."""
    merger, _ = merged([chunk(json={"": {"a": {"b": {"q": "x"}, "c": []}, "d": "y"}})])
    merger.apply(chunk(json={"/a": {"z": "w"}}))
    value = merger.value
    assert merger.apply(chunk(done=[""])) == [
        ValueCompleted(("d",), "y"),
        ValueCompleted(("a", "z"), "w"),
        ValueCompleted(("a",), {"z": "w"}),
        ValueCompleted((), value),
        DocumentCompleted(value),
    ]


def test_replacing_the_root_in_a_chunk_discards_its_earlier_sets() -> None:
    """A root set replaces everything, including what the chunk set before it."""
    merger, _ = merged([chunk(json={"": {"a": "x"}})])
    merger.apply(chunk(json={"/b": 1, "": {"c": 2}}, done=[""]))
    assert merger.value == {"c": 2}
    assert merger.done


def test_text_before_any_value_is_missing() -> None:
    """Text for a merger that has no root yet names a missing value."""
    with pytest.raises(DeltaError, match="text appended to a missing value"):
        ChunkMerger().apply(chunk(text={"": "x"}))


def test_tuples_and_subclasses_are_merged_as_plain_json() -> None:
    """Tuples become lists and subclasses of str, int, float and bool their base types."""

    # A str-mixin Enum, not StrEnum: its str() is "Color.RED", which is what must not leak.
    class Color(str, enum.Enum):  # noqa: UP042
        RED = "red"

    class Size(enum.IntEnum):
        BIG = 3

    class Ratio(float):
        pass

    class Flag(int):
        pass

    merger, _ = merged([chunk_from_object({"t": (Color.RED, Size.BIG, Ratio(0.5), Flag(1))})])
    value = merger.value
    assert value == {"t": ["red", 3, 0.5, 1]}
    assert [type(v) for v in value["t"]] == [str, int, float, int]


def test_atomic_when_replacing_a_streamed_string_fails_later() -> None:
    """A failing chunk that first replaced a streaming string leaves its text intact."""
    merger, _ = merged([chunk(json={"": {"s": "ab"}}), chunk(text={"/s": "c"})])
    with pytest.raises(DeltaError, match="text appended to a missing value"):
        merger.apply(chunk(json={"/s": "new"}, text={"/nope": "x"}))
    merger.apply(chunk(text={"/s": "d"}, done=[""]))
    assert merger.value == {"s": "abcd"}


def test_chunk_after_the_document_completed_raises() -> None:
    """Once the root is complete a chunk may not change anything; an empty one is fine."""
    merger, _ = merged([chunk_from_object({"a": 1})])
    assert merger.apply(Chunk(Delta(), finish_reason="stop")) == []
    with pytest.raises(DeltaError, match="already complete") as info:
        merger.apply(chunk(json={"/b": 1}))
    assert info.value.path == ("b",)


def test_nested_close_reports_nothing_and_done_tells() -> None:
    """close() completes nothing in the nested profile: `done` says if the root completed."""
    merger, _ = merged([chunk(json={"": {"a": "x"}})])
    assert merger.close() == []
    assert not merger.done
    assert merger.value == {"a": "x"}


def test_apply_after_close_raises_usage_error() -> None:
    """A closed merger refuses chunks and a second close."""
    merger = ChunkMerger()
    merger.close()
    with pytest.raises(UsageError, match="closed"):
        merger.apply(chunk())
    with pytest.raises(UsageError, match="already closed"):
        merger.close()


def test_bad_profile_lists_the_valid_ones() -> None:
    """An unknown profile raises ValueError naming both profiles."""
    with pytest.raises(ValueError, match="'nested', 'compatible'"):
        ChunkMerger("flat")  # type: ignore[arg-type]


def test_apply_takes_a_chunk() -> None:
    """apply refuses anything but a Chunk (a wire dict must go through Chunk.from_dict)."""
    with pytest.raises(TypeError, match="takes a Chunk"):
        ChunkMerger().apply({"delta": {}})  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- compatible


def test_compatible_text_starts_missing_fields_and_appends() -> None:
    """Text for a missing field starts it as a string; later text appends."""
    merger, events = merged(
        [chunk(text={"answer": "Hel"}), chunk(text={"answer": "lo"})], "compatible"
    )
    assert merger.value == {"answer": "Hello"}
    assert events == [
        ValueStarted((), "object"),
        ValueStarted(("answer",), "string"),
        StringAppended(("answer",), "Hel"),
        StringAppended(("answer",), "lo"),
    ]


def test_compatible_json_is_a_shallow_assign_complete_on_arrival() -> None:
    """Each json key is assigned whole and reported complete at once, as the parser would."""
    merger, events = merged([chunk(json={"n": 1, "o": {"s": "x", "l": []}})], "compatible")
    assert events == [
        ValueStarted((), "object"),
        ValueCompleted(("n",), 1),
        ValueStarted(("o",), "object"),
        ValueStarted(("o", "s"), "string"),
        StringAppended(("o", "s"), "x"),
        ValueCompleted(("o", "s"), "x"),
        ValueStarted(("o", "l"), "array"),
        ValueCompleted(("o", "l"), []),
        ValueCompleted(("o",), {"s": "x", "l": []}),
    ]
    assert merger.value == {"n": 1, "o": {"s": "x", "l": []}}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"a": {"x": 1}}, {"a": {"y": 2}}),
        ({"a": "text"}, {"a": None}),
        ({"a": [1, 2]}, {"a": "now a string"}),
        ({"a": None}, {"a": 3}),
    ],
    ids=["nested-replaced-whole", "null-overwrites", "any-type-replaces", "null-replaced"],
)
def test_compatible_json_replaces_the_whole_value(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    """A later json value replaces the earlier one whole, whatever the types."""
    merger, events = merged([chunk(json=first), chunk(json=second)], "compatible")
    assert merger.value == second
    assert events[-1] == ValueCompleted(("a",), second["a"])


def test_compatible_json_then_text_for_the_same_key() -> None:
    """json is assigned before text is appended, so "He" then "llo" gives "Hello"."""
    merger, events = merged([chunk(text={"a": "llo"}, json={"a": "He"})], "compatible")
    assert merger.value == {"a": "Hello"}
    assert events == [
        ValueStarted((), "object"),
        ValueStarted(("a",), "string"),
        StringAppended(("a",), "He"),
        StringAppended(("a",), "llo"),
    ]


def test_compatible_text_after_a_json_string_streams_it_again() -> None:
    """Text for a field completed by json starts a new streaming value from its text."""
    merger, _ = merged([chunk(json={"a": "He"})], "compatible")
    assert merger.apply(chunk(text={"a": "llo"})) == [
        ValueStarted(("a",), "string"),
        StringAppended(("a",), "He"),
        StringAppended(("a",), "llo"),
    ]


def test_compatible_json_replaces_a_streaming_string() -> None:
    """json for a field that text was streaming replaces it, complete."""
    merger, _ = merged([chunk(text={"a": "draft"}), chunk(json={"a": "final"})], "compatible")
    assert merger.close() == [
        ValueCompleted((), {"a": "final"}),
        DocumentCompleted({"a": "final"}),
    ]


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ({"json": {"a": 1}, "text": {"a": "x"}}, "text appended to a number"),
        ({"json": {"b": 1}, "text": {"n": "x"}}, "text appended to null"),
        ({"json": {"b": 1, "c": {1}}}, "a set is not a JSON value"),
        ({"text": {"s": 5}}, "text values are strings"),
    ],
    ids=["text-to-number-same-chunk", "text-to-null", "not-json", "text-not-string"],
)
def test_compatible_contradiction_raises_and_changes_nothing(
    ops: dict[str, Any], message: str
) -> None:
    """A failing compatible chunk raises DeltaError and leaves the object as it was."""
    merger, _ = merged([chunk(json={"n": None}, text={"s": "ab"})], "compatible")
    with pytest.raises(DeltaError, match=message):
        merger.apply(chunk(**ops))
    assert merger.value == {"n": None, "s": "ab"}


def test_compatible_refuses_keys_that_are_not_strings() -> None:
    """Field names are strings, in json and in text."""
    merger = ChunkMerger("compatible")
    assert merger.profile == "compatible"
    for ops in ({"json": {1: "x"}}, {"text": {1: "x"}}):
        with pytest.raises(DeltaError, match="keys are field names"):
            merger.apply(chunk(**ops))


def test_compatible_ignores_done() -> None:
    """done has no meaning in the compatible profile: nothing completes before close()."""
    merger, events = merged([chunk(text={"a": "x"}, done=["a", ""])], "compatible")
    assert not merger.done
    assert all(type(e) is not ValueCompleted for e in events)


def test_compatible_close_completes_open_strings_then_the_root() -> None:
    """close() completes streaming strings in the order they started, then the root."""
    merger, _ = merged(
        [chunk(text={"b": "x"}), chunk(json={"n": 1}, text={"a": "y"})], "compatible"
    )
    doc = {"b": "x", "n": 1, "a": "y"}
    assert merger.close() == [
        ValueCompleted(("b",), "x"),
        ValueCompleted(("a",), "y"),
        ValueCompleted((), doc),
        DocumentCompleted(doc),
    ]
    assert merger.done


def test_compatible_close_without_chunks_gives_an_empty_object() -> None:
    """A compatible stream with no chunks is the empty object."""
    merger = ChunkMerger("compatible")
    assert merger.close() == [
        ValueStarted((), "object"),
        ValueCompleted((), {}),
        DocumentCompleted({}),
    ]


# ---------------------------------------------------------------------------- encoder


def encode_pieces(pieces: list[Any], **options: Any) -> list[dict[str, Any]]:
    return wire(list(chunks_from_text(pieces, **options)))


def test_a_document_fed_whole_is_one_chunk() -> None:
    """A document that arrives in one piece is one json set of the root, listed in done."""
    doc = {"a": "xy", "b": [1, {"c": None}], "d": 2.5}
    assert encode_pieces([json.dumps(doc)]) == [
        {"delta": {"json": {"": doc}, "done": [""]}, "seq": 0}
    ]


def test_a_string_split_across_feeds() -> None:
    """A split string is set with its first text, then text-appended, then listed in done."""
    assert encode_pieces(['{"a": "He', "ll", 'o", "b": 1', "}"]) == [
        {"delta": {"json": {"": {}, "/a": "He"}}, "seq": 0},
        {"delta": {"text": {"/a": "ll"}}, "seq": 1},
        {"delta": {"text": {"/a": "o"}, "done": ["/a"]}, "seq": 2},
        # The number is held back until a delimiter shows it is complete.
        {"delta": {"json": {"/b": 1}, "done": [""]}, "seq": 3},
    ]


def test_values_completed_inside_an_open_container_are_sent_whole() -> None:
    """Items that start and end within one feed are each one set, descendants dropped."""
    assert encode_pieces(['[{"a": [1, 2]}, "s", ', '[3], {"b": {}}]']) == [
        {
            "delta": {"json": {"": [], "/0": {"a": [1, 2]}, "/1": "s"}, "done": ["/0", "/1"]},
            "seq": 0,
        },
        {"delta": {"json": {"/2": [3], "/3": {"b": {}}}, "done": ["/2", "/3", ""]}, "seq": 1},
    ]


def test_a_feed_that_completes_no_token_gives_no_chunk() -> None:
    """Events that change nothing (none at all) encode to no chunk."""
    parser = JSONParser()
    encoder = DeltaEncoder()
    assert encoder.encode(parser.feed('{"a": 12')) == [Chunk(Delta(json={"": {}}), seq=0)]
    assert encoder.encode(parser.feed("3")) == []
    assert encoder.encode(parser.feed("}")) == [Chunk(Delta(json={"/a": 123}, done=("",)), seq=1)]


def test_duplicate_keys_split_the_chunk() -> None:
    """A value at a path the chunk already changed starts a new chunk, so nothing is lost."""
    text = '{"a": "x", "a": "y", "b": [1], "b": [2], "c": 1, "c": 2}'
    chunks = list(chunks_from_text([text]))
    assert wire(chunks) == [
        {"delta": {"json": {"": {}, "/a": "x"}, "done": ["/a"]}, "seq": 0},
        {"delta": {"json": {"/a": "y", "/b": [1]}, "done": ["/a", "/b"]}, "seq": 1},
        {"delta": {"json": {"/b": [2], "/c": 1}, "done": ["/b"]}, "seq": 2},
        {"delta": {"json": {"/c": 2}, "done": [""]}, "seq": 3},
    ]
    merger, _ = merged(chunks)
    assert merger.value == json.loads(text)
    assert merger.done


def test_duplicate_keys_of_another_type_cannot_be_merged() -> None:
    """The nested profile has no type change, so a duplicate key of a new type fails to merge."""
    with pytest.raises(DeltaError, match="type change"):
        merged(list(chunks_from_text(['{"a": 1, "a": "x"}'])))


def test_encoder_refuses_events_after_the_final_batch() -> None:
    """After encode(..., final=True) the encoder raises UsageError."""
    encoder = DeltaEncoder()
    encoder.encode([], final=True)
    with pytest.raises(UsageError, match="final batch"):
        encoder.encode([])


def test_encoder_refuses_a_second_document() -> None:
    """A stream of several documents cannot be one nested delta stream."""
    with pytest.raises(UsageError, match="second JSON document"):
        list(chunks_from_text(["[1] [2]"], multiple=True))


def test_chunks_from_text_refuses_a_parser_without_events() -> None:
    """The chunks are made from the parser's events: events=False would silently lose them."""
    with pytest.raises(UsageError, match="events=False"):
        list(chunks_from_text(['{"a": 1}'], events=False))


@pytest.mark.parametrize("splitter", list(SPLITTERS), ids=list(SPLITTERS))
def test_merger_events_match_the_parsers(splitter: str) -> None:
    """Merging the encoder's chunks completes the same values as parsing, with the same text."""
    doc = {
        "title": "Pancakes — fluffy 😀",
        "steps": [{"n": 1, "text": 'Mix "flour"\n'}, {"n": 2, "text": ""}],
        "tags": [],
        "meta": {"ok": True, "ratio": -1.5e-3, "none": None},
    }
    pieces = SPLITTERS[splitter](json.dumps(doc, ensure_ascii=False).encode())
    parser = JSONParser()
    expected = [e for piece in pieces for e in parser.feed(piece)] + parser.close()
    chunks = [Chunk.from_json(c.to_json()) for c in chunks_from_text(pieces)]
    _, events = merged(chunks)

    def completions(evs: list[Any]) -> dict[Any, Any]:
        return {e.path: e.value for e in evs if type(e) is ValueCompleted}

    def texts(evs: list[Any]) -> dict[Any, str]:
        out: dict[Any, str] = {}
        for e in evs:
            if type(e) is StringAppended:
                out[e.path] = out.get(e.path, "") + e.text
        return out

    assert completions(events) == completions(expected)
    assert texts(events) == texts(expected)
    assert events[-1] == DocumentCompleted(doc)


# ---------------------------------------------------------------------------- producers


@pytest.mark.parametrize(
    ("obj", "done"),
    [({"a": [1]}, ("",)), ("text", ("",)), (7, ()), (None, ())],
    ids=["object", "string", "number", "null"],
)
def test_chunk_from_object(obj: Any, done: tuple[str, ...]) -> None:
    """One chunk sets the root and completes it (scalars are complete on arrival)."""
    c = chunk_from_object(obj)
    assert c == Chunk(Delta(json={"": obj}, done=done))
    merger, _ = merged([c])
    assert merger.done
    assert merger.value == obj


def test_chunks_for_field_compatible_splits_on_words() -> None:
    """Text is sent word by word, each piece keeping its whitespace."""
    assert wire(list(chunks_for_field("answer", "Hello  big\nworld "))) == [
        {"delta": {"text": {"answer": "Hello  "}}, "seq": 0},
        {"delta": {"text": {"answer": "big\n"}}, "seq": 1},
        {"delta": {"text": {"answer": "world "}}, "seq": 2},
    ]


def test_chunks_for_field_nested_sets_then_appends_then_completes() -> None:
    """The nested form sets the root object, appends at /field, and completes the root."""
    chunks = list(chunks_for_field("a/b", "one two three", profile="nested"))
    assert wire(chunks) == [
        {"delta": {"json": {"": {"a/b": "one "}}}, "seq": 0},
        {"delta": {"text": {"/a~1b": "two "}}, "seq": 1},
        {"delta": {"text": {"/a~1b": "three"}, "done": [""]}, "seq": 2},
    ]
    merger, _ = merged(chunks)
    assert merger.done
    assert merger.value == {"a/b": "one two three"}


def test_chunks_for_field_sends_given_pieces_as_they_are() -> None:
    """An iterable of text pieces is sent piece by piece, empty pieces skipped."""
    chunks = list(chunks_for_field("a", iter(["He", "", "llo wor", "ld"])))
    assert [c.delta.text["a"] for c in chunks] == ["He", "llo wor", "ld"]


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("compatible", [{"delta": {"text": {"a": ""}}, "seq": 0}]),
        ("nested", [{"delta": {"json": {"": {"a": ""}}, "done": [""]}, "seq": 0}]),
    ],
    ids=["compatible", "nested"],
)
def test_chunks_for_field_without_text(profile: Any, expected: list[dict[str, Any]]) -> None:
    """No text still produces the field, as an empty string."""
    chunks = list(chunks_for_field("a", "", profile=profile))
    assert wire(chunks) == expected
    merger, _ = merged(chunks, profile)
    merger.close()
    assert merger.value == {"a": ""}


def test_chunks_for_field_bad_profile() -> None:
    """An unknown profile raises ValueError naming both profiles."""
    with pytest.raises(ValueError, match="'nested', 'compatible'"):
        chunks_for_field("a", "x", profile="flat")  # type: ignore[arg-type]


# --- one class per profile ---------------------------------------------------------------------


def test_chunk_merger_constructs_the_class_of_its_profile() -> None:
    """`ChunkMerger(profile)` is an instance of the profile's own class, still a ChunkMerger."""
    nested, compatible = ChunkMerger("nested"), ChunkMerger(profile="compatible")
    assert type(nested) is _NestedMerger and type(compatible) is _CompatibleMerger
    assert isinstance(nested, ChunkMerger) and isinstance(compatible, ChunkMerger)
    assert (nested.profile, compatible.profile) == ("nested", "compatible")
    assert type(ChunkMerger()) is _NestedMerger
    assert _MERGERS == {"nested": _NestedMerger, "compatible": _CompatibleMerger}
    with pytest.raises(ValueError, match="'nested', 'compatible'"):
        ChunkMerger(["nested"])  # type: ignore[arg-type]


def test_nested_merger_class_merges_pointers_and_completes_nothing_at_close() -> None:
    """The nested class alone: pointer keys, explicit ``done``; `close` adds no event."""
    merger = _NestedMerger()
    events = merger.apply(Chunk(Delta(json={"": {"a": ""}}, text={"/a": "hi"})))
    assert events == [
        ValueStarted((), "object"),
        ValueStarted(("a",), "string"),
        StringAppended(("a",), "hi"),
    ]
    assert merger.apply(Chunk(Delta(done=("",)))) == [
        ValueCompleted(("a",), "hi"),
        ValueCompleted((), {"a": "hi"}),
        DocumentCompleted({"a": "hi"}),
    ]
    assert merger.close() == []
    assert not hasattr(merger, "__dict__")  # slotted, like the base


def test_compatible_merger_class_assigns_fields_and_completes_at_close() -> None:
    """The compatible class alone: field-name keys, text appends; `close` completes the root."""
    merger = _CompatibleMerger()
    assert merger.apply(Chunk(Delta(text={"a": "h"}))) == [
        ValueStarted((), "object"),
        ValueStarted(("a",), "string"),
        StringAppended(("a",), "h"),
    ]
    assert merger.apply(Chunk(Delta(text={"a": "i"}, json={"n": 1}))) == [
        ValueCompleted(("n",), 1),
        StringAppended(("a",), "i"),
    ]
    assert merger.close() == [
        ValueCompleted(("a",), "hi"),
        ValueCompleted((), {"a": "hi", "n": 1}),
        DocumentCompleted({"a": "hi", "n": 1}),
    ]
    assert not hasattr(merger, "__dict__")
