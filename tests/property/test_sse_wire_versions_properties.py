"""Property tests for the wire versions of the streamdantic SSE profile (docs/sse.md).

Version 3 writes short pointers and a digest in ``final``; version 2 absolute pointers and
the object. For generated documents, chunkings and flush patterns, both decode to the same
objects, update by update, and the version-3 digest catches a delta frame dropped,
duplicated or altered (even by a byte that leaves its JSON the same).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import pytest
from hypothesis import given, settings, strategies as st

from streamdantic import DeltaError, StreamdanticError, StreamIntegrityError, Throttle, stream
from streamdantic.sse import ProfileDecoder, ProfileEncoder, ServerSentEvent, SSEDecoder, encode
from streamdantic.sse._profile import WireVersion

from .strategies import chunkings, json_documents


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[Any], list[float] | None]:
    """A stream's outputs, and the `now` of each (None: a frame per change), so that
    throttled frames carry a random number of updates each."""
    text = draw(json_documents(containers_only=True))
    outputs = list(stream(draw(chunkings(text))).events())
    if draw(st.booleans()):
        return outputs, None
    ticks = draw(st.lists(st.booleans(), min_size=len(outputs), max_size=len(outputs)))
    now, times = 0.0, []
    for tick in ticks:
        now += 1.0 if tick else 0.0
        times.append(now)
    return outputs, times


def frames_of(outputs: list[Any], times: list[float] | None, version: WireVersion) -> list[Any]:
    emit: Literal["changes"] | Throttle = "changes" if times is None else Throttle(1)
    encoder = ProfileEncoder(emit=emit, version=version)
    frames = []
    for i, output in enumerate(outputs):
        frames.extend(encoder.feed(output, now=0.0 if times is None else times[i]))
    frames.extend(encoder.close())
    # Through the wire: the bytes, decoded again, are what a client reads.
    decoder = SSEDecoder()
    return decoder.feed(b"".join(map(encode, frames))) + decoder.close()


def decoded(frames: list[ServerSentEvent]) -> list[tuple[str, Any]]:
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    return [(u.kind, u.partial) for frame in frames for u in decoder.feed(frame)]


@settings(max_examples=300, deadline=None)
@given(streams())
def test_version_3_frames_decode_to_the_objects_of_version_2(
    case: tuple[list[Any], list[float] | None],
) -> None:
    """Same frames (names, ids; version 3's deltas unnamed), and after each the same partial
    object; the same final."""
    outputs, times = case
    v2, v3 = frames_of(outputs, times, 2), frames_of(outputs, times, 3)
    unnamed = [("message" if f.event == "delta" else f.event, f.id) for f in v2]
    assert unnamed == [(f.event, f.id) for f in v3]
    assert decoded(v3) == decoded(v2)
    assert decoded(v3)[-1][0] == "final"
    assert sum(len(f.data) for f in v3) <= sum(len(f.data) for f in v2) + 100


def renumbered(frames: list[ServerSentEvent]) -> list[ServerSentEvent]:
    """The frames with ids 1, 2, 3, ... again (a splice that ids alone cannot see)."""
    return [dataclasses.replace(f, id=str(i)) for i, f in enumerate(frames, 1)]


@settings(max_examples=300, deadline=None)
@given(streams(), st.sampled_from(["drop", "duplicate", "alter"]), st.data())
def test_the_digest_catches_a_dropped_duplicated_or_altered_delta_frame(
    case: tuple[list[Any], list[float] | None], how: str, data: st.DataObject
) -> None:
    """The stream never delivers its final object: the digest refuses it (a frame changed
    by one byte that leaves its JSON the same merges fine, so only the digest sees it), or
    the changed frames contradict the object first."""
    outputs, times = case
    frames = frames_of(outputs, times, 3)
    deltas = [i for i, f in enumerate(frames) if f.event == "message"]
    i = data.draw(st.sampled_from(deltas))
    if how == "drop":
        frames = frames[:i] + frames[i + 1 :]
    elif how == "duplicate":
        frames = frames[: i + 1] + frames[i:]
    else:  # whitespace after the JSON (an object or a bare string): the same chunk, other bytes
        frames[i] = dataclasses.replace(frames[i], data=frames[i].data + " ")
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    with pytest.raises(StreamdanticError) as caught:
        for frame in renumbered(frames):
            decoder.feed(frame)
    assert decoder.final is None
    if how == "alter":
        assert isinstance(caught.value, StreamIntegrityError)
        assert "digest" in str(caught.value)
    elif how == "duplicate":
        assert isinstance(caught.value, StreamIntegrityError | DeltaError)
