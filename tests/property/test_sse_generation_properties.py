"""Property tests for generations in the SSE profile: two answers are never spliced into one.

A generation is one run of a model. A client cut after frame k of generation A that gets the
frames of generation B on its reconnection (a server that ran the model again, numbering
from 1) must end with A's object, B's object, or a declared error: never with a mixture.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings, strategies as st

from streamdantic import StreamdanticError, StreamIntegrityError, stream
from streamdantic.sse import ProfileDecoder, ProfileEncoder, ServerSentEvent, stream_frame

from .strategies import chunkings, json_documents


def generation(data: st.DataObject) -> tuple[Any, list[ServerSentEvent]]:
    """A document and the frames of one generation of it, in random pieces."""
    text = data.draw(json_documents(containers_only=True))
    encoder = ProfileEncoder()
    frames = [
        frame
        for output in stream(data.draw(chunkings(text))).events()
        for frame in encoder.feed(output)
    ]
    return json.loads(text), frames + encoder.close()


def outcome(frames: list[ServerSentEvent], decoder: ProfileDecoder[Any]) -> Any:
    """The decoder's final object, or the declared error that stopped it."""
    try:
        for frame in frames:
            if frame.event == "stream":
                decoder.begin_response()
            decoder.feed(frame)
        decoder.close()  # the body ended: TruncatedStreamError without a terminal frame
    except StreamdanticError as exc:
        return exc
    return decoder.final


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_an_unannounced_new_generation_is_never_spliced(data: st.DataObject) -> None:
    """Without stream tokens (only the final check guards), A's first k frames then all of
    B's end with A's object, B's object or a declared error."""
    a, a_frames = generation(data)
    b, b_frames = generation(data)
    k = data.draw(st.integers(0, len(a_frames)))
    result = outcome(a_frames[:k] + b_frames, ProfileDecoder())
    assert isinstance(result, StreamdanticError) or result in (a, b), result


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_another_token_after_frames_is_always_refused(data: st.DataObject) -> None:
    """With stream tokens, a reconnection to another generation after frame k >= 1 is a
    StreamIntegrityError (unless A had already ended)."""
    a, a_frames = generation(data)
    b, b_frames = generation(data)
    k = data.draw(st.integers(1, len(a_frames)))
    frames = [stream_frame("a"), *a_frames[:k], stream_frame("b"), *b_frames]
    result = outcome(frames, ProfileDecoder())
    if k == len(a_frames):
        assert result == a
    else:
        assert isinstance(result, StreamIntegrityError), result


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_a_declared_restart_always_ends_with_the_new_generation(data: st.DataObject) -> None:
    """A restart after any frame of A yields B's object exactly (or A's, if A had ended)."""
    a, a_frames = generation(data)
    b, b_frames = generation(data)
    k = data.draw(st.integers(0, len(a_frames)))
    frames = [stream_frame("a"), *a_frames[:k], stream_frame("b", restart=True), *b_frames]
    assert outcome(frames, ProfileDecoder()) == (a if k == len(a_frames) else b)
