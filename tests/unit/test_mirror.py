"""`Mirror`: the raw JSON a stream's events describe, what the SSE profile's encoder and the
front-end encoders keep of what a client holds."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from streamdantic import DeltaError, JSONParser
from streamdantic._deltas import Chunk, ChunkMerger, Delta, DeltaEncoder
from streamdantic._events import StringAppended, ValueCompleted, ValueStarted
from streamdantic._mirror import Mirror
from tests.property.strategies import chunkings, json_documents


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_the_mirror_holds_what_the_parser_holds_after_every_feed(data: st.DataObject) -> None:
    """Fed a parser's events feed by feed, the mirror's value equals the parser's own value
    after each (strings with their text so far, numbers only once complete), and the whole
    document at the end."""
    text = data.draw(json_documents())
    parser = JSONParser()
    mirror = Mirror()
    for piece in data.draw(chunkings(text)):
        mirror.apply(parser.feed(piece))
        assert mirror.value == parser.value
    mirror.apply(parser.close())
    assert mirror.value == json.loads(text)
    assert mirror.done


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_the_mirror_of_a_merger_s_events_is_the_merged_value(data: st.DataObject) -> None:
    """The events of a `ChunkMerger` (sets before completions within a chunk) rebuild the
    same value: what a client merging the delta frames holds."""
    text = data.draw(json_documents())
    parser, encoder, merger, mirror = JSONParser(), DeltaEncoder(), ChunkMerger("nested"), Mirror()
    for piece in data.draw(chunkings(text)):
        for chunk in encoder.encode(parser.feed(piece)):
            mirror.apply(merger.apply(chunk))
            assert mirror.value == merger.value
    for chunk in encoder.encode(parser.close(), final=True):
        mirror.apply(merger.apply(chunk))
    assert mirror.value == json.loads(text)


def test_a_long_string_is_kept_in_pieces_until_it_is_read() -> None:
    """A growing string costs its pieces, not a copy per piece: it is joined when `value` is
    read, and once complete it is the event's whole text."""
    mirror = Mirror()
    mirror.apply([ValueStarted((), "object"), ValueStarted(("text",), "string")])
    for _ in range(1000):
        mirror.apply([StringAppended(("text",), "ab")])
    assert mirror.value == {"text": "ab" * 1000}
    mirror.apply([StringAppended(("text",), "c")])
    assert mirror.value == {"text": "ab" * 1000 + "c"}
    whole = "ab" * 1000 + "c"
    changed = mirror.apply([ValueCompleted(("text",), whole), ValueCompleted((), {"text": whole})])
    assert changed == []  # their content came before
    assert mirror.value == {"text": whole} and mirror.done


def test_a_value_that_arrives_complete_is_a_private_copy() -> None:
    """A container completed without having started is deep-copied: changing the producer's
    object afterwards does not change the mirror."""
    mirror = Mirror()
    mirror.apply([ValueStarted((), "array")])
    item: dict[str, Any] = {"tags": ["a"]}
    assert mirror.apply([ValueCompleted((0,), item)]) == [ValueCompleted((0,), item)]
    item["tags"].append("b")
    assert mirror.value == [{"tags": ["a"]}]
    assert mirror.grown == 2  # the array's start; a complete container adds no estimate


@pytest.mark.parametrize(
    ("events", "message", "path"),
    [
        ([StringAppended(("a",), "x")], "not open", ("a",)),
        ([ValueStarted((), "object"), ValueStarted(("a", "b"), "string")], "parent", ("a", "b")),
        ([ValueStarted((), "array"), ValueCompleted((0, 1), 5)], "parent", (0, 1)),
    ],
    ids=["text-to-nothing", "no-parent", "under-a-scalar"],
)
def test_events_that_do_not_fit_raise_delta_error(
    events: list[Any], message: str, path: tuple[Any, ...]
) -> None:
    """Events no parser or merger gives (text for a string that never started, a value
    under a parent that never started) raise DeltaError naming the path."""
    with pytest.raises(DeltaError, match=message) as info:
        Mirror().apply(events)
    assert info.value.path == path


def test_reset_starts_again_from_nothing() -> None:
    """After `reset` (a stored stream's snapshot follows) nothing of before is kept."""
    mirror = Mirror()
    mirror.apply([ValueStarted((), "string"), StringAppended((), "old")])
    mirror.reset()
    assert mirror.value is None and not mirror.started and not mirror.done
    mirror.apply(ChunkMerger("nested").apply(Chunk(Delta(json={"": "new"}))))
    assert mirror.value == "new"


def test_open_paths_are_the_values_started_and_not_completed_in_start_order() -> None:
    """`open_paths` (a snapshot's ``open``) lists what started and has not completed, in the
    order it started, from one record with the values themselves."""
    parser, mirror = JSONParser(), Mirror()
    mirror.apply(parser.feed('{"a": {"b": [1, "x'))
    assert mirror.open_paths == [(), ("a",), ("a", "b"), ("a", "b", 1)]
    mirror.apply(parser.feed('y"], "c": "z'))
    assert mirror.open_paths == [(), ("a",), ("a", "c")]
    mirror.apply(parser.feed('"}}'))
    assert mirror.open_paths == [] and mirror.value == {"a": {"b": [1, "xy"], "c": "z"}}
