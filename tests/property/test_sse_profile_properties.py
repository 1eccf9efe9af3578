"""Property tests for the SSE profiles: what a producer's chunks build, a client rebuilds."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings, strategies as st

from streamdantic import stream
from streamdantic._deltas import Chunk, Delta
from streamdantic.sse import ProfileDecoder, ProfileEncoder, SSEDecoder, encode

from .strategies import json_text, json_values

FIELDS = ("a", "b", "c")


_MISSING: Any = object()


def _same_type(value: Any) -> st.SearchStrategy[Any]:
    if value is None:
        return st.none()
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int | float):
        return st.integers(-(10**6), 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    if isinstance(value, str):
        return json_text
    if isinstance(value, list):
        return st.lists(json_values, max_size=4)
    return st.dictionaries(json_text, json_values, max_size=4)


@st.composite
def compatible_chunks(draw: st.DrawFn) -> tuple[list[Chunk], dict[str, Any]]:
    """Compatible-profile chunks (shallow assigns and text appends to top-level fields, strings
    often reassigned to a longer or shorter text) and the object they build."""
    state: dict[str, Any] = {}
    chunks = []
    for _ in range(draw(st.integers(1, 8))):
        sets: dict[str, Any] = {}
        for key in draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=2)):
            old = state.get(key, _MISSING)
            if isinstance(old, str) and draw(st.booleans()):
                # The cumulative shape: the same text again, longer (or cut shorter).
                value: Any = old + draw(json_text) if draw(st.booleans()) else old[: len(old) // 2]
            elif old is _MISSING:
                value = draw(json_values)
            else:  # values keep their JSON type (the streamdantic profile has no type changes)
                value = draw(_same_type(old))
            sets[key] = state[key] = value
        texts: dict[str, str] = {}
        for key in draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=2)):
            if isinstance(state.get(key, ""), str):
                texts[key] = draw(json_text)
                state[key] = state.get(key, "") + texts[key]
        chunks.append(Chunk(Delta(json=sets, text=texts)))
    return chunks, state


def wire(frames: list[Any]) -> list[Any]:
    """The frames after a trip through bytes and the SSE decoder."""
    return SSEDecoder().feed(b"".join(map(encode, frames)))


@settings(max_examples=300, deadline=None)
@given(compatible_chunks())
def test_both_profiles_rebuild_what_compatible_chunks_build(
    case: tuple[list[Chunk], dict[str, Any]],
) -> None:
    """For any compatible chunks, the stream's final object is the producer's, and a client of
    either SSE profile rebuilds exactly it (no reassigned text appended to the old text)."""
    chunks, expected = case
    outputs = list(stream(chunks, profile="compatible").events())
    assert outputs[-1].final == expected
    for profile in ("compatible", "nested"):
        encoder = ProfileEncoder(profile=profile)
        frames = [frame for output in outputs for frame in encoder.feed(output)]
        frames += encoder.close()
        decoder: ProfileDecoder[Any] = ProfileDecoder(profile=profile)
        updates = [update for frame in wire(frames) for update in decoder.feed(frame)]
        updates += decoder.close()
        assert updates[-1].done and updates[-1].final == expected, profile
