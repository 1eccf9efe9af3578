"""Delta chunks over generated documents and chunkings: encode, serialize, merge == parse."""

from __future__ import annotations

import copy
import json
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from streamdantic import JSONParser
from streamdantic._deltas import Chunk, ChunkMerger, DeltaEncoder, chunks_from_text
from streamdantic.events import StringAppended, ValueCompleted
from tests.property.contract import extends
from tests.property.strategies import chunkings, json_documents

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def source(text: str, as_bytes: bool) -> str | bytes:
    return text.encode() if as_bytes else text


def wire(chunks: list[Chunk]) -> list[Chunk]:
    """The chunks after a trip through their JSON text."""
    return [Chunk.from_json(chunk.to_json()) for chunk in chunks]


def parser_events(pieces: list[Any]) -> list[Any]:
    parser = JSONParser()
    events = [event for piece in pieces for event in parser.feed(piece)]
    return events + parser.close()


@SETTINGS
@given(st.data(), json_documents(), st.booleans())
def test_merging_the_chunks_gives_json_loads_value(
    data: st.DataObject, text: str, as_bytes: bool
) -> None:
    """Parser -> encoder -> JSON text -> merger gives json.loads's value for any chunking."""
    chunks = wire(list(chunks_from_text(data.draw(chunkings(source(text, as_bytes))))))
    merger = ChunkMerger()
    for chunk in chunks:
        merger.apply(chunk)
    assert merger.close() == []
    assert merger.done
    assert merger.value == json.loads(text)
    assert [chunk.seq for chunk in chunks] == list(range(len(chunks)))


@SETTINGS
@given(st.data(), json_documents(), st.booleans())
def test_merger_completes_the_parsers_values_once_each(
    data: st.DataObject, text: str, as_bytes: bool
) -> None:
    """The merger's ValueCompleted paths are the parser's, each exactly once, with the same
    values, and the appended text per path concatenates to the same strings."""
    pieces = data.draw(chunkings(source(text, as_bytes)))
    merger = ChunkMerger()
    events = [e for chunk in wire(list(chunks_from_text(pieces))) for e in merger.apply(chunk)]
    expected = parser_events(pieces)

    def completed(evs: list[Any]) -> Counter[Any]:
        return Counter(e.path for e in evs if type(e) is ValueCompleted)

    def texts(evs: list[Any]) -> dict[Any, str]:
        out: dict[Any, str] = {}
        for e in evs:
            if type(e) is StringAppended:
                out[e.path] = out.get(e.path, "") + e.text
        return out

    assert completed(events) == completed(expected)
    assert set(completed(events).values()) <= {1}
    assert {(e.path, json.dumps(e.value)) for e in events if type(e) is ValueCompleted} == {
        (e.path, json.dumps(e.value)) for e in expected if type(e) is ValueCompleted
    }
    assert texts(events) == texts(expected)


@SETTINGS
@given(st.data(), json_documents(), st.booleans())
def test_chunks_add_up_to_the_document_size(data: st.DataObject, text: str, as_bytes: bool) -> None:
    """Nothing is ever re-sent: without their JSON Pointers, the serialized chunks total at
    most three times the document plus 64 characters per chunk."""
    chunks = list(chunks_from_text(data.draw(chunkings(source(text, as_bytes)))))
    total = sum(len(chunk.to_json()) for chunk in chunks)
    # Each operation names its path; that part of the cost is per operation (O(depth)), not
    # per character of the document, so it is measured apart.
    pointers = sum(
        len(json.dumps(ptr, ensure_ascii=False))
        for chunk in chunks
        for ptr in (*chunk.delta.text, *chunk.delta.json, *chunk.delta.done)
    )
    assert total - pointers <= 3 * len(text) + 64 * len(chunks)


@SETTINGS
@given(st.data(), json_documents(), st.booleans())
def test_merged_partials_only_grow(data: st.DataObject, text: str, as_bytes: bool) -> None:
    """The merged value after each chunk extends the value after the previous chunk."""
    merger = ChunkMerger()
    previous: Any = None
    for chunk in chunks_from_text(data.draw(chunkings(source(text, as_bytes)))):
        merger.apply(chunk)
        current = copy.deepcopy(merger.value)
        if previous is not None:
            assert extends(current, previous), (previous, current)
        previous = current


@SETTINGS
@given(st.data(), json_documents(), st.booleans())
def test_merged_partials_equal_the_parsers(data: st.DataObject, text: str, as_bytes: bool) -> None:
    """After each chunk, the merged value equals the parser's partial value after the feed
    that produced it."""
    parser = JSONParser()
    encoder = DeltaEncoder()
    merger = ChunkMerger()
    for piece in data.draw(chunkings(source(text, as_bytes))):
        for chunk in encoder.encode(parser.feed(piece)):
            merger.apply(Chunk.from_json(chunk.to_json()))
        assert json.dumps(merger.value) == json.dumps(parser.value)


@SETTINGS
@given(st.data(), json_documents())
def test_chunk_json_round_trip_is_exact(data: st.DataObject, text: str) -> None:
    """from_json(to_json(chunk)) gives the chunk back, its values of the same types."""
    for chunk in chunks_from_text(data.draw(chunkings(text))):
        again = Chunk.from_json(chunk.to_json())
        assert again == chunk
        assert again.to_json() == chunk.to_json()
