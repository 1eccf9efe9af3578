"""Property tests for the SSE codec: round trips and independence from chunking."""

from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from streamdantic import SSEError
from streamdantic.sse import LineSplitter, ServerSentEvent, SSEDecoder, encode, encode_comment

# --- strategies --------------------------------------------------------------------------------

# Text biased towards the characters the codec treats specially, mixed with arbitrary text.
_SPECIAL = st.sampled_from(
    ["\r", "\n", "\r\n", ":", " ", "\0", "\ufeff", "\u2028", "\x85", "é", "😀"]
)
any_text = st.lists(st.one_of(_SPECIAL, st.text(max_size=8)), max_size=12).map("".join)
one_line_text = any_text.map(lambda text: re.sub(r"[\r\n]", "", text))

# data=None (no data lines) included; alone it is refused (an empty frame), so those carry
# another field.
events = st.builds(
    ServerSentEvent,
    st.none() | any_text,
    event=st.one_of(st.just("message"), one_line_text.filter(bool)),
    id=st.none() | one_line_text.map(lambda text: text.replace("\0", "")),
    retry=st.none() | st.integers(min_value=0, max_value=2**63),
    comment=st.none() | any_text,
).filter(lambda e: e != ServerSentEvent(None))

# Byte streams made of SSE-ish fragments (so that fields, endings, BOMs and split UTF-8 actually
# occur), mixed with arbitrary bytes.
_FRAGMENTS = [
    b"data",
    b"event",
    b"id",
    b"retry",
    b":",
    b": ",
    b" ",
    b"\r",
    b"\n",
    b"\r\n",
    b"\0",
    b"7",
    b"x",
    b"\xef\xbb\xbf",
    b"\xc3",
    b"\xa9",
    b"\xe2\x82",
    b"\xff",
]
byte_streams = st.one_of(
    st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.binary(max_size=4)), max_size=40).map(
        b"".join
    ),
    st.binary(max_size=200),
)


@st.composite
def chunkings(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """Split `data` at arbitrary points (including none, and into empty chunks)."""
    cuts = draw(st.lists(st.integers(min_value=0, max_value=len(data)), max_size=20))
    bounds = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def decode(chunks: list[bytes], **limits: int) -> tuple[list[ServerSentEvent], str, int | None]:
    decoder = SSEDecoder(**limits)
    out = [event for chunk in chunks for event in decoder.feed(chunk)]
    out += decoder.close()
    return out, decoder.last_event_id, decoder.retry


def decode_or_error(chunks: list[bytes], **limits: int) -> object:
    try:
        return decode(chunks, **limits)
    except SSEError:
        return SSEError


def expected_decoding(sent: list[ServerSentEvent]) -> tuple[list[ServerSentEvent], str, int | None]:
    """What a client must see for these events: the model the round trip is checked against."""
    received = []
    last_id, retry = "", None
    for event in sent:
        if event.id is not None:
            last_id = event.id
        if event.retry is not None:
            retry = event.retry
        control_only = (
            not event.data
            and event.event == "message"
            and event.id is None
            and (event.retry is not None or event.comment is not None)
        )
        # data=None: nothing is dispatched, but the id and retry above still count (§9.2.6).
        if event.data is not None and not control_only:
            data = event.data.replace("\r\n", "\n").replace("\r", "\n")
            received.append(ServerSentEvent(data, event=event.event, id=last_id, retry=event.retry))
    return received, last_id, retry


# --- properties --------------------------------------------------------------------------------


@given(st.data(), st.lists(events, max_size=6))
def test_round_trip_under_any_chunking(data: st.DataObject, sent: list[ServerSentEvent]) -> None:
    """Encoded events decode back (data LF-normalised, ids persisting), however split."""
    stream = b"".join(encode(event) for event in sent)
    assert decode(data.draw(chunkings(stream))) == expected_decoding(sent)


@given(st.data(), st.lists(events, max_size=4), any_text)
def test_comment_frames_are_invisible(
    data: st.DataObject, sent: list[ServerSentEvent], comment: str
) -> None:
    """Heartbeat comments between frames never change what the client decodes."""
    heartbeat = encode_comment(comment)
    stream = heartbeat + b"".join(encode(event) + heartbeat for event in sent)
    assert decode(data.draw(chunkings(stream))) == expected_decoding(sent)


@given(st.data(), byte_streams)
def test_decoding_is_independent_of_chunking(data: st.DataObject, stream: bytes) -> None:
    """Any byte stream decodes to the same events and state whether fed whole or split."""
    assert decode(data.draw(chunkings(stream))) == decode([stream])


@given(st.lists(byte_streams, max_size=5))
def test_decoder_never_raises_on_arbitrary_bytes(chunks: list[bytes]) -> None:
    """With the default limits no byte sequence makes the decoder raise."""
    decode(chunks)


@settings(max_examples=300)
@given(st.data(), byte_streams, st.integers(1, 12), st.integers(1, 24))
def test_limit_errors_are_independent_of_chunking(
    data: st.DataObject, stream: bytes, max_line_length: int, max_event_size: int
) -> None:
    """With tight limits the decoder raises only SSEError, and raises for every chunking or none."""
    limits = {"max_line_length": max_line_length, "max_event_size": max_event_size}
    chunks = data.draw(chunkings(stream))
    assert decode_or_error(chunks, **limits) == decode_or_error([stream], **limits)


@given(st.data(), any_text)
def test_line_splitter_matches_whole_text_split(data: st.DataObject, text: str) -> None:
    """Fed in any pieces, LineSplitter gives the lines of the whole text split at CR/LF/CRLF."""
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=10)))
    bounds = [0, *cuts, len(text)]
    splitter = LineSplitter()
    lines = [
        line for a, b in zip(bounds, bounds[1:], strict=False) for line in splitter.feed(text[a:b])
    ]
    lines += splitter.close()
    expected = re.split(r"\r\n|\r|\n", text)
    if expected[-1] == "":
        expected.pop()  # a final line ending does not start another line
    assert lines == expected
