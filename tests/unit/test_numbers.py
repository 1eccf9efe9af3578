"""Numbers beyond a double (``1e400``): the same infinity through every entry point.

docs/contract.md ("Numbers") states the behaviour: a number too large for a double is an
infinite float, as json.loads, jiter and pydantic read the whole text, and the wire writes
an infinity back as ``1e400`` (``-1e400``), which they and JavaScript's JSON.parse read as
infinity again.
"""

from __future__ import annotations

import json
import math
from typing import Any

import jiter
import pytest
from pydantic import BaseModel

import streamdantic
from streamdantic import DeltaError, LimitExceededError, collect, parse_partial
from streamdantic._numbers import jsonable, write_infinities
from streamdantic.deltas import Chunk, ChunkMerger, Delta, chunks_from_text
from streamdantic.sse import ProfileDecoder, ProfileEncoder, ServerSentEvent

TEXT = '{"x": 1e400, "y": [-1e400, 2.5, 1e-400], "z": {"w": 1E+999, "s": "Infinity"}, "n": -0.0}'
PIECES = [TEXT[i : i + 7] for i in range(0, len(TEXT), 7)]


class Reading(BaseModel):
    x: float
    y: list[float]
    z: Any
    n: float


RAW = json.loads(TEXT)
EXPECTED = Reading.model_validate_json(TEXT)


def test_the_oracles_read_infinities() -> None:
    """json.loads, jiter and pydantic all read the text's big numbers as infinities."""
    assert RAW["x"] == math.inf and RAW["y"][0] == -math.inf and RAW["z"]["w"] == math.inf
    assert jiter.from_json(TEXT.encode()) == RAW
    assert EXPECTED.model_dump() == RAW


def test_stream_and_parse_partial_give_infinities() -> None:
    """stream() ends with pydantic's object for the whole text; parse_partial shows inf."""
    updates = list(streamdantic.stream(PIECES, Reading))
    assert updates[-1].final == EXPECTED
    assert updates[-1].partial.model_dump() == RAW
    assert parse_partial(TEXT) == RAW
    assert streamdantic.stream_to_object(PIECES, Reading) == EXPECTED


def test_delta_chunks_carry_infinities_as_1e400() -> None:
    """Chunks made from the text hold inf, write it as 1e400 and merge back to the value."""
    merger = ChunkMerger()
    wire = []
    for chunk in chunks_from_text(PIECES):
        text = chunk.to_json()
        wire.append(text)
        again = Chunk.from_json(text)
        assert again == chunk
        merger.apply(again)
    assert merger.value == RAW
    joined = "".join(wire)
    assert "1e400" in joined and "-1e400" in joined
    assert "Infinity" not in joined.replace('"Infinity"', "")


def test_a_chunk_with_a_nan_is_still_refused() -> None:
    """NaN has no JSON form: a chunk holding one is refused, in to_json and by the merger."""
    with pytest.raises(DeltaError, match="not JSON-serializable"):
        Chunk(Delta(json={"/a": [math.inf, math.nan]})).to_json()
    with pytest.raises(DeltaError, match="nan is not a JSON number"):
        ChunkMerger().apply(Chunk(Delta(json={"": [math.nan]})))


def sse_frames(pieces: list[str]) -> list[ServerSentEvent]:
    encoder = ProfileEncoder(snapshot_every=2)
    frames: list[ServerSentEvent] = []
    for output in streamdantic.stream(pieces, Reading).events():
        frames.extend(encoder.feed(output))
    frames.extend(encoder.close())
    return frames


def test_the_sse_profile_writes_infinities_as_1e400_and_decodes_them() -> None:
    """Delta, snapshot and final frames write 1e400 (not null, not an error); the decoder
    rebuilds pydantic's object, and every frame's JSON reads back as infinity."""
    frames = sse_frames(PIECES)
    assert [f.event for f in frames].count("snapshot") > 0
    assert frames[-1].event == "final"
    final_data = json.loads(frames[-1].data)
    assert "value" not in final_data  # version 3: the digest checks the object
    assert "null," in frames[-1].data  # finish_reason
    assert any("1e400" in f.data for f in frames if f.event == "snapshot")
    assert all("Infinity" not in f.data.replace('"Infinity"', "") for f in frames)
    decoder = ProfileDecoder(Reading)
    for frame in frames:
        decoder.feed(frame)
    assert decoder.final == EXPECTED
    assert decoder.value == RAW


def test_collect_reads_infinities_in_json_lines_and_refuses_them_in_documents() -> None:
    """JSON Lines (validated by pydantic) gives inf; a JSON document, read by ijson's C
    parser, refuses numbers beyond a double with LimitExceededError, as documented."""
    assert list(collect(TEXT.encode() + b"\n", Reading, jsonl=True)) == [EXPECTED]
    with pytest.raises(LimitExceededError, match="number out of range") as info:
        list(collect(("[" + TEXT + "]").encode(), Reading))
    assert info.value.offset == TEXT.index("1e400") + 1


@pytest.mark.parametrize(
    ("text", "nan", "expected"),
    [
        ('[Infinity,-Infinity,"Infinity",NaN]', "null", '[1e400,-1e400,"Infinity",null]'),
        ('{"a\\"Infinity":-Infinity}', "null", '{"a\\"Infinity":-1e400}'),
        ('["\\\\",Infinity]', None, '["\\\\",1e400]'),
        ("[1.5]", None, "[1.5]"),
    ],
)
def test_write_infinities_rewrites_constants_outside_strings(
    text: str, nan: str | None, expected: str
) -> None:
    """Only the constants are rewritten; string literals (with escapes) are left as they are."""
    assert write_infinities(text, nan=nan) == expected
    assert json.loads(expected) == json.loads(text.replace("NaN", "null"))


def test_write_infinities_refuses_a_nan_when_asked() -> None:
    """With nan=None a NaN is an error, not a silent null."""
    with pytest.raises(ValueError, match="NaN"):
        write_infinities("[NaN]", nan=None)


def test_jsonable_keeps_the_infinities_of_models() -> None:
    """A model's own JSON writes inf as null; jsonable keeps it, in every field type."""
    assert json.loads(EXPECTED.model_dump_json())["x"] is None
    assert jsonable({"value": [EXPECTED], "n": None}) == {"value": [RAW], "n": None}


class Labelled(BaseModel):
    t: str
    x: float


def test_a_frame_with_a_lone_surrogate_still_writes_infinities_as_1e400() -> None:
    """The fallback serializer for text pydantic refuses (a lone surrogate) keeps 1e400:
    the error frame's partial (pydantic cannot validate the text) holds inf."""
    encoder = ProfileEncoder()
    frames: list[ServerSentEvent] = []
    with pytest.raises(streamdantic.StreamValidationError) as info:
        for output in streamdantic.stream(['{"t": "a\ud800", "x": 1e4', "00}"], Labelled).events():
            frames.extend(encoder.feed(output))
    frames.extend(encoder.close(info.value))
    assert frames[-1].event == "error"
    assert "1e400" in frames[-1].data
    assert json.loads(frames[-1].data)["partial"] == {"t": "a\ufffd", "x": math.inf}
