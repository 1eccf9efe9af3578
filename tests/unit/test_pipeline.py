"""Unit tests of the object pipeline stage (_pipeline.py): exact text and chunks in, the
events, changes, partials and end-of-input facts out."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, strategies as st
from pydantic import BaseModel, Field

from streamdantic import IncompleteJSONError, StreamValidationError, UsageError
from streamdantic._deltas import Chunk, Delta
from streamdantic._events import ValueCompleted, ValueStarted
from streamdantic._parts import TextDelta
from streamdantic._pipeline import ObjectPipeline, TextPipeline
from tests.property.strategies import chunkings


class Item(BaseModel):
    name: str
    qty: int = 0


class Person(BaseModel):
    full_name: str = Field(alias="fullName")
    age: int


def test_text_gives_the_parser_events_and_the_validator_changes() -> None:
    """feed_text returns the parser's events and what they changed in the typed partial."""
    pipeline: ObjectPipeline[Item] = ObjectPipeline(Item)
    batch = pipeline.feed_text('{"qty": 3,')
    assert batch is not None
    events, changes = batch
    assert events == [ValueStarted((), "object"), ValueCompleted(("qty",), 3)]
    assert changes.changed and list(changes.completed) == [("qty",)]
    assert pipeline.partial.qty == 3 and pipeline.partial.name is None


def test_text_that_makes_no_event_gives_none() -> None:
    """A piece of text that completes nothing visible yet (a number still growing) is None."""
    pipeline: ObjectPipeline[Item] = ObjectPipeline(Item)
    pipeline.feed_text('{"qty": ')
    assert pipeline.feed_text("1") is None


def test_chunks_give_the_same_events_as_text() -> None:
    """A chunk source gives the merger's events into the same validator."""
    pipeline: ObjectPipeline[Item] = ObjectPipeline(Item)
    batch = pipeline.feed_chunk(Chunk(Delta(json={"": {"qty": 2}})))
    assert batch is not None
    assert pipeline.partial.qty == 2
    assert pipeline.raw_text is None


@pytest.mark.parametrize("first", ["text", "chunk"])
def test_text_and_chunks_do_not_mix(first: str) -> None:
    """After the first text a chunk is a UsageError, and the other way round."""
    pipeline: ObjectPipeline[Item] = ObjectPipeline(Item)
    chunk = Chunk(Delta(json={"": {}}))
    if first == "text":
        pipeline.feed_text("{")
        with pytest.raises(UsageError, match="text or chunks, not both"):
            pipeline.feed_chunk(chunk)
    else:
        pipeline.feed_chunk(chunk)
        with pytest.raises(UsageError, match="text or chunks, not both"):
            pipeline.feed_text("{")


def test_end_of_input_facts_before_and_after_input() -> None:
    """Before anything arrives: no output, complete, raw text ""; then open until the end."""
    pipeline: ObjectPipeline[Item] = ObjectPipeline(Item)
    assert (pipeline.has_output, pipeline.complete, pipeline.raw_text) == (False, True, "")
    assert pipeline.final() is None
    pipeline.feed_text(b'{"name": "\xc3')
    assert (pipeline.has_output, pipeline.complete) == (True, False)
    pipeline.feed_text(b'\xa9"}')
    assert pipeline.complete
    assert pipeline.raw_text == '{"name": "é"}'
    assert pipeline.close() is None
    assert pipeline.final() == Item(name="é")


def test_close_mid_value_raises_incomplete_json() -> None:
    """Text that stops inside a value makes close() raise IncompleteJSONError."""
    pipeline: ObjectPipeline[Item] = ObjectPipeline(Item)
    pipeline.feed_text('{"name": "ab')
    with pytest.raises(IncompleteJSONError):
        pipeline.close()


def test_final_validates_with_the_model() -> None:
    """final() validates the complete value; a value that does not fit raises."""
    pipeline: ObjectPipeline[Item] = ObjectPipeline(Item)
    pipeline.feed_text('{"qty": 1}')
    pipeline.close()
    with pytest.raises(StreamValidationError):
        pipeline.final()


def test_missing_paths_list_open_values_and_required_fields_by_json_key() -> None:
    """missing_paths gives the parser's open paths and required fields not yet seen, by
    the key the JSON uses (the alias)."""
    pipeline: ObjectPipeline[Person] = ObjectPipeline(Person)
    pipeline.feed_text('{"age": 3')
    assert pipeline.missing_paths() == [("fullName",), ("age",)]


def test_plain_json_partials_are_snapshots() -> None:
    """With no model the partial mirrors the JSON; a partial handed out never changes."""
    pipeline: ObjectPipeline[Any] = ObjectPipeline(None)
    pipeline.feed_text('{"a": [1, ')
    first = pipeline.partial
    assert first == {"a": [1]}
    pipeline.feed_text("2], ")
    assert first == {"a": [1]}
    assert pipeline.partial == {"a": [1, 2]}
    pipeline.feed_text('"b": 1}')
    pipeline.close()
    assert pipeline.final() == {"a": [1, 2], "b": 1}


def test_plain_json_changes_say_what_completed() -> None:
    """Plain JSON: completed values, elements (by index) and fields (by key) are reported."""
    pipeline: ObjectPipeline[Any] = ObjectPipeline(None)
    batch = pipeline.feed_text('{"a": [7], "b": "x"}')
    assert batch is not None
    _, changes = batch
    assert list(changes.completed) == [("a", 0), ("a",), ("b",), ()]
    assert list(changes.elements) == [(("a", 0), 7)]
    assert list(changes.fields) == [(("a",), [7]), (("b",), "x")]
    assert changes.changed


def test_live_partials_are_one_object() -> None:
    """partials="live" hands out the same object, changed in place."""
    pipeline: ObjectPipeline[Any] = ObjectPipeline(None, partials="live")
    pipeline.feed_text("[1, ")
    first = pipeline.partial
    pipeline.feed_text("2]")
    assert first is pipeline.partial and first == [1, 2]


# ------------------------------------------------------------------ text mode


def test_text_pipeline_passes_text_on_as_text_deltas() -> None:
    """Prose: each piece of text is one TextDelta; bytes split inside UTF-8 wait."""
    pipeline = TextPipeline()
    assert pipeline.feed_text("Hé") == TextDelta("Hé")
    assert pipeline.feed_text(b"\xe2\x82") is None
    assert pipeline.feed_text(b"\xac!") == TextDelta("€!")
    assert pipeline.feed_text("") is None
    assert (pipeline.partial, pipeline.raw_text, pipeline.has_output) == ("Hé€!", "Hé€!", True)
    assert pipeline.final() == "Hé€!"


def test_text_pipeline_final_replaces_a_cut_utf8_sequence() -> None:
    """An incomplete UTF-8 sequence at the end becomes U+FFFD in the final text."""
    pipeline = TextPipeline()
    pipeline.feed_text(b"a\xe2\x82")
    assert pipeline.final() == "a\ufffd"
    assert pipeline.missing_paths() == []


def test_text_pipeline_takes_no_chunks() -> None:
    """A chunk in text mode is a UsageError saying what a text stream takes."""
    with pytest.raises(UsageError, match="a text stream takes text"):
        TextPipeline().feed_chunk(Chunk(Delta(json={"": "x"})))


def test_missing_paths_after_a_failed_close_keep_the_value_that_was_cut() -> None:
    """When close() fails inside a string, missing_paths still names that string (the
    parser's own open paths lose it once it is in its error state)."""
    pipeline: ObjectPipeline[Item] = ObjectPipeline(Item)
    pipeline.feed_text('{"qty": 1, "name": "ab')
    assert pipeline.missing_paths() == [("name",)]
    with pytest.raises(IncompleteJSONError):
        pipeline.close()
    assert pipeline.missing_paths() == [("name",)]


class _Note(BaseModel):
    title: str
    count: int


_NOTE_TEXT = '{"title": "h\u00e9llo w\u00f6rld \u2603 \U0001f600", "count": 7}'


@given(st.data())
def test_text_and_bytes_mixed_keep_the_raw_text_and_the_object(data: st.DataObject) -> None:
    """Pieces of text and of UTF-8 bytes in one stream (bytes split anywhere, text after
    bytes only at a character boundary, as the parser requires): the final object and the
    raw text are those of the whole text (`raw_text` was a TypeError at `close()`)."""
    pieces: list[str | bytes] = []
    for segment in data.draw(chunkings(_NOTE_TEXT)):
        if data.draw(st.booleans()):
            pieces.append(segment)
        else:
            pieces.extend(data.draw(chunkings(segment.encode())))
    pipeline: ObjectPipeline[_Note] = ObjectPipeline(_Note)
    for piece in pieces:
        pipeline.feed_text(piece)
    pipeline.close()
    assert pipeline.raw_text == _NOTE_TEXT
    assert pipeline.final() == _Note.model_validate_json(_NOTE_TEXT)


def test_a_mixed_stream_that_fails_validation_reports_its_raw_text() -> None:
    """The error at the end of a stream of text and bytes carries the whole raw text."""
    from streamdantic import stream_to_object

    with pytest.raises(StreamValidationError) as info:
        stream_to_object(['{"title": "h', b"\xc3", b'\xa9", ', '"count": "x"}'], _Note)
    assert info.value.raw_text == '{"title": "h\u00e9", "count": "x"}'
