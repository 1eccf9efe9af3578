"""Unit tests for the SSE codec (`streamdantic.sse._codec`): encoder, decoder, line splitter.

Every decoder test runs three times through the `decode` fixture: the stream fed whole, byte by
byte, and in seeded random splits; all must give the same events and decoder state.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable
from typing import NamedTuple

import pytest

from streamdantic import SSEError, UsageError, sse
from streamdantic.sse import LineSplitter, ServerSentEvent, SSEDecoder, encode, encode_comment

# --- helpers -----------------------------------------------------------------------------------


class Decoded(NamedTuple):
    events: list[ServerSentEvent]
    last_event_id: str
    retry: int | None


def whole(data: bytes) -> list[bytes]:
    return [data]


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def random_splits(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    k = max(0, min(len(data) - 1, rng.randint(1, 8)))
    cuts = sorted(rng.sample(range(1, len(data)), k=k))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def decode_chunks(chunks: list[bytes], **limits: int) -> Decoded:
    decoder = SSEDecoder(**limits)
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    events += decoder.close()
    return Decoded(events, decoder.last_event_id, decoder.retry)


Decode = Callable[..., Decoded]
SPLITTERS: dict[str, Callable[[bytes], list[list[bytes]]]] = {
    "whole": lambda data: [whole(data)],
    "bytewise": lambda data: [bytewise(data)],
    "random-splits": lambda data: [random_splits(data, seed) for seed in range(10)],
}


@pytest.fixture(params=sorted(SPLITTERS))
def decode(request: pytest.FixtureRequest) -> Decode:
    """Decode a stream after chunking it the parametrized way (several seeds for random)."""
    splitter = SPLITTERS[request.param]

    def run(data: bytes, **limits: int) -> Decoded:
        results = [decode_chunks(chunks, **limits) for chunks in splitter(data)]
        assert all(result == results[0] for result in results)
        return results[0]

    return run


def msg(
    data: str, *, event: str = "message", id: str = "", retry: int | None = None
) -> ServerSentEvent:
    """A decoded event: decoders always report an id, "" when none was set."""
    return ServerSentEvent(data, event=event, id=id, retry=retry)


# --- ServerSentEvent ---------------------------------------------------------------------------


def test_event_repr_omits_defaults() -> None:
    """The repr lists only the fields that differ from their defaults."""
    assert repr(ServerSentEvent()) == "ServerSentEvent()"
    assert repr(ServerSentEvent("x", event="tick", retry=5)) == (
        "ServerSentEvent(data='x', event='tick', retry=5)"
    )


def test_event_compares_and_hashes_by_value() -> None:
    """Two events with equal fields are equal and hash alike; any difference breaks equality."""
    assert ServerSentEvent("x", id="1") == ServerSentEvent("x", id="1")
    assert hash(ServerSentEvent("x", id="1")) == hash(ServerSentEvent("x", id="1"))
    assert ServerSentEvent("x", id="1") != ServerSentEvent("x", id="")


def test_event_is_frozen_and_slotted() -> None:
    """Fields cannot be reassigned and instances carry no __dict__."""
    event = ServerSentEvent("x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.data = "y"  # type: ignore[misc]
    assert not hasattr(event, "__dict__")


def test_event_options_are_keyword_only() -> None:
    """Only data may be passed positionally, so `ServerSentEvent("x", "y")` is an error."""
    with pytest.raises(TypeError):
        ServerSentEvent("x", "y")  # type: ignore[call-arg]


def test_event_json_decodes_data() -> None:
    """`.json()` returns the data decoded as JSON."""
    assert ServerSentEvent('{"a": [1, null]}').json() == {"a": [1, None]}


def test_event_json_refuses_no_data() -> None:
    """`.json()` of an event with data=None raises SSEError saying it has no data."""
    with pytest.raises(SSEError, match=r"the 'message' event \(id '9'\) has no data"):
        ServerSentEvent(None, id="9").json()


def test_event_json_raises_on_invalid_json() -> None:
    """`.json()` lets json.JSONDecodeError (a ValueError) through for non-JSON data."""
    with pytest.raises(ValueError, match="Expecting value"):
        ServerSentEvent("[DONE]").json()


# --- encoder -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "frame"),
    [
        pytest.param(ServerSentEvent("hello"), b"data: hello\n\n", id="data"),
        pytest.param(ServerSentEvent(), b"data: \n\n", id="empty-data-still-sent"),
        pytest.param(ServerSentEvent(" x "), b"data:  x \n\n", id="spaces-kept"),
        pytest.param(ServerSentEvent("a:b"), b"data: a:b\n\n", id="colon-in-data"),
        pytest.param(ServerSentEvent("a\nb"), b"data: a\ndata: b\n\n", id="lf"),
        pytest.param(ServerSentEvent("a\rb"), b"data: a\ndata: b\n\n", id="cr"),
        pytest.param(ServerSentEvent("a\r\nb"), b"data: a\ndata: b\n\n", id="crlf"),
        pytest.param(
            ServerSentEvent("a\n\r\nb\n"), b"data: a\ndata: \ndata: b\ndata: \n\n", id="mixed"
        ),
        pytest.param(
            ServerSentEvent("a\u2028b\x85c"), "data: a\u2028b\x85c\n\n".encode(), id="u2028-kept"
        ),
        pytest.param(ServerSentEvent("é€😀"), "data: é€😀\n\n".encode(), id="utf8"),
        pytest.param(ServerSentEvent("x", event="tick"), b"event: tick\ndata: x\n\n", id="event"),
        pytest.param(ServerSentEvent("x", event="message"), b"data: x\n\n", id="message-omitted"),
        pytest.param(ServerSentEvent("x", id="42"), b"id: 42\ndata: x\n\n", id="id"),
        pytest.param(ServerSentEvent("x", id=""), b"id: \ndata: x\n\n", id="empty-id-resets"),
        pytest.param(ServerSentEvent("x", retry=0), b"retry: 0\ndata: x\n\n", id="retry-zero"),
        pytest.param(ServerSentEvent("x", comment="hi"), b": hi\ndata: x\n\n", id="comment"),
        pytest.param(ServerSentEvent("x", comment=""), b":\ndata: x\n\n", id="empty-comment"),
        pytest.param(
            ServerSentEvent("x", comment="a\r\nb"), b": a\n: b\ndata: x\n\n", id="multiline-comment"
        ),
        pytest.param(
            ServerSentEvent("x", event="e", id="1", retry=9, comment="c"),
            b": c\nevent: e\nid: 1\nretry: 9\ndata: x\n\n",
            id="field-order",
        ),
    ],
)
def test_encode_frame(event: ServerSentEvent, frame: bytes) -> None:
    """Each event encodes to exactly the expected UTF-8 frame."""
    assert encode(event) == frame


@pytest.mark.parametrize(
    ("event", "frame"),
    [
        pytest.param(ServerSentEvent(retry=3000), b"retry: 3000\n\n", id="retry-only"),
        pytest.param(ServerSentEvent(comment="ping"), b": ping\n\n", id="comment-only"),
        pytest.param(ServerSentEvent(retry=1, comment="c"), b": c\nretry: 1\n\n", id="both"),
    ],
)
def test_encode_control_frame_has_no_data_line(event: ServerSentEvent, frame: bytes) -> None:
    """An event with only retry and/or comment set is written without a data line."""
    assert encode(event) == frame


@pytest.mark.parametrize(
    ("event", "frame"),
    [
        pytest.param(ServerSentEvent(None, id="9"), b"id: 9\n\n", id="id-only"),
        pytest.param(ServerSentEvent(None, id=""), b"id: \n\n", id="empty-id-resets"),
        pytest.param(ServerSentEvent(None, event="tick"), b"event: tick\n\n", id="event-only"),
        pytest.param(ServerSentEvent(None, retry=5), b"retry: 5\n\n", id="retry-only"),
        pytest.param(ServerSentEvent(None, comment="c"), b": c\n\n", id="comment-only"),
        pytest.param(
            ServerSentEvent(None, event="e", id="1", retry=2, comment="c"),
            b": c\nevent: e\nid: 1\nretry: 2\n\n",
            id="all-but-data",
        ),
    ],
)
def test_encode_no_data_writes_no_data_line(event: ServerSentEvent, frame: bytes) -> None:
    """data=None writes only the other fields' lines: no data line, not even an empty one."""
    assert encode(event) == frame


@pytest.mark.parametrize("split", sorted(SPLITTERS))
def test_encode_id_only_frame_sets_last_event_id_without_an_event(split: str) -> None:
    """An id-only frame dispatches nothing (WHATWG §9.2.6) but sets the last event ID, which
    the next event then carries; its event name is dropped with it."""
    stream = encode(ServerSentEvent("a", id="1"))
    stream += encode(ServerSentEvent(None, event="tick", id="9"))
    stream += encode(ServerSentEvent("b"))
    for chunks in SPLITTERS[split](stream):
        decoder = SSEDecoder()
        events = [event for chunk in chunks for event in decoder.feed(chunk)]
        assert events == [msg("a", id="1"), msg("b", id="9")]
        assert decoder.last_event_id == "9"


def test_encode_id_only_frame_is_not_an_empty_message() -> None:
    """Before data=None existed, `id: 9` alone could only be sent as an empty message."""
    decoder = SSEDecoder()
    assert decoder.feed(encode(ServerSentEvent(None, id="9"))) == []
    assert decoder.last_event_id == "9"
    assert decoder.feed(encode(ServerSentEvent("", id="9"))) == [msg("", id="9")]


def test_encode_control_frame_dispatches_nothing() -> None:
    """A retry-only frame sets the decoder's retry without producing an event."""
    decoder = SSEDecoder()
    assert decoder.feed(encode(ServerSentEvent(retry=3000))) == []
    assert decoder.retry == 3000


def test_encode_method_matches_function() -> None:
    """`ServerSentEvent.encode()` gives the same bytes as `encode(event)`."""
    event = ServerSentEvent("a\nb", event="e", id="1", retry=2, comment="c")
    assert event.encode() == encode(event)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        pytest.param(
            ServerSentEvent("x", event="a\nb"),
            "event name 'a\\nb' contains CR or LF",
            id="event-lf",
        ),
        pytest.param(
            ServerSentEvent("x", event="a\rb"),
            "event name 'a\\rb' contains CR or LF",
            id="event-cr",
        ),
        pytest.param(ServerSentEvent("x", event="ab\r\n"), "contains CR or LF", id="event-crlf"),
        pytest.param(ServerSentEvent("x", event=""), "event name is empty", id="event-empty"),
        pytest.param(ServerSentEvent("x", id="1\n"), "contains CR, LF or NUL", id="id-lf"),
        pytest.param(ServerSentEvent("x", id="\r1"), "contains CR, LF or NUL", id="id-cr"),
        pytest.param(ServerSentEvent("x", id="1\x002"), "contains CR, LF or NUL", id="id-nul"),
        pytest.param(ServerSentEvent("x", retry=-1), "non-negative int", id="retry-negative"),
        pytest.param(ServerSentEvent("x", retry=True), "non-negative int", id="retry-bool"),
        pytest.param(ServerSentEvent("x", retry=1.5), "non-negative int", id="retry-float"),  # type: ignore[arg-type]
        pytest.param(ServerSentEvent("x", retry="10"), "non-negative int", id="retry-str"),  # type: ignore[arg-type]
        pytest.param(ServerSentEvent("\ud800"), "not encodable as UTF-8", id="lone-surrogate"),
        pytest.param(
            ServerSentEvent(None),
            "an event with data=None needs an id, event, retry or comment",
            id="no-data-nothing-else",
        ),
        pytest.param(
            ServerSentEvent(5),  # type: ignore[arg-type]
            "event data must be a str, or None for no data lines, got 5",
            id="data-int",
        ),
        pytest.param(
            ServerSentEvent(b"x", id="1"),  # type: ignore[arg-type]
            "event data must be a str, or None for no data lines, got b'x'",
            id="data-bytes",
        ),
        pytest.param(
            ServerSentEvent("x", event=None),  # type: ignore[arg-type]
            "event name must be a str, got None",
            id="event-none",
        ),
        pytest.param(
            ServerSentEvent(None, event=b"e"),  # type: ignore[arg-type]
            "event name must be a str, got b'e'",
            id="event-bytes",
        ),
        pytest.param(
            ServerSentEvent("x", id=9),  # type: ignore[arg-type]
            "event id must be a str, or None for no id line, got 9",
            id="id-int",
        ),
        pytest.param(ServerSentEvent(None, id="1\n"), "contains CR, LF or NUL", id="no-data-id-lf"),
        pytest.param(
            ServerSentEvent(None, id="\x00"), "contains CR, LF or NUL", id="no-data-id-nul"
        ),
        pytest.param(
            ServerSentEvent(None, event="a\nb"), "contains CR or LF", id="no-data-event-lf"
        ),
        pytest.param(ServerSentEvent(None, retry=-1), "non-negative int", id="no-data-retry"),
        pytest.param(
            ServerSentEvent("x", comment=7),  # type: ignore[arg-type]
            "comment must be a str, got 7",
            id="comment-int",
        ),
    ],
)
def test_encode_rejects_unwritable_event(event: ServerSentEvent, message: str) -> None:
    """A field that cannot be written unchanged raises SSEError instead of being altered."""
    with pytest.raises(SSEError, match=re.escape(message)):
        encode(event)


@pytest.mark.parametrize(
    ("text", "frame"),
    [
        pytest.param("", b":\n\n", id="empty"),
        pytest.param("ping", b": ping\n\n", id="text"),
        pytest.param("a\nb\rc\r\nd", b": a\n: b\n: c\n: d\n\n", id="multiline"),
        pytest.param("data: x", b": data: x\n\n", id="field-like"),
    ],
)
def test_encode_comment(text: str, frame: bytes) -> None:
    """A comment frame prefixes every line with a colon and ends with a blank line."""
    assert encode_comment(text) == frame


def test_encode_comment_is_ignored_by_decoder() -> None:
    """A comment frame, even one that looks like a field, dispatches nothing."""
    decoder = SSEDecoder()
    assert decoder.feed(encode_comment("data: x\nid: 1")) == []
    assert decoder.last_event_id == ""


def test_encode_comment_rejects_non_str() -> None:
    """A comment that is not a str raises SSEError."""
    with pytest.raises(SSEError, match="comment must be a str, got None"):
        encode_comment(None)  # type: ignore[arg-type]


def test_encode_comment_rejects_lone_surrogate() -> None:
    """A comment that is not encodable as UTF-8 raises SSEError."""
    with pytest.raises(SSEError, match="not encodable as UTF-8"):
        encode_comment("\udfff")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("", id="empty"),
        pytest.param("\n", id="lone-lf"),
        pytest.param("line1\nline2\n\nline4", id="multiline"),
        pytest.param(" leading space", id="leading-space"),
        pytest.param(":not a comment", id="leading-colon"),
        pytest.param("\ufeffbom-like", id="bom-in-data"),
    ],
)
def test_encode_decode_round_trip(data: str) -> None:
    """Decoding an encoded event gives the data, type, id and retry back."""
    event = ServerSentEvent(data, event="e", id="7", retry=10)
    assert SSEDecoder().feed(encode(event)) == [event]


def test_encode_cr_in_data_comes_back_as_lf() -> None:
    """CR and CRLF in data cannot round-trip: they are decoded as LF."""
    decoded = SSEDecoder().feed(encode(ServerSentEvent("a\rb\r\nc")))
    assert decoded == [msg("a\nb\nc")]


# --- decoder: the §9.2.6 rules, each in three feed modes ---------------------------------------


def test_decode_simple_event(decode: Decode) -> None:
    """A data line and a blank line make one message event."""
    assert decode(b"data: hello\n\n").events == [msg("hello")]


def test_decode_leading_bom_is_stripped(decode: Decode) -> None:
    """One UTF-8 BOM at the very start of the stream is dropped."""
    assert decode(b"\xef\xbb\xbfdata: x\n\n").events == [msg("x")]


def test_decode_only_one_bom_is_stripped(decode: Decode) -> None:
    """A second BOM becomes part of the first field name, so that field is unknown."""
    assert decode(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: y\n\n").events == [msg("y")]


def test_decode_bom_after_start_is_kept(decode: Decode) -> None:
    """A BOM anywhere but the start of the stream is an ordinary character."""
    assert decode(b"data: \xef\xbb\xbfx\n\n").events == [msg("\ufeffx")]


def test_decode_split_bom_is_stripped() -> None:
    """A BOM split over three chunks is still stripped."""
    decoded = decode_chunks([b"\xef", b"\xbb", b"\xbf", b"data: x\n\n"])
    assert decoded.events == [msg("x")]


@pytest.mark.parametrize(
    "stream",
    [
        pytest.param(b"data: a\ndata: b\n\n", id="lf"),
        pytest.param(b"data: a\rdata: b\r\r", id="cr"),
        pytest.param(b"data: a\r\ndata: b\r\n\r\n", id="crlf"),
        pytest.param(b"data: a\r\ndata: b\r\n\n", id="crlf-then-lf"),
        pytest.param(b"data: a\ndata: b\r\r\n", id="lf-cr-crlf"),
    ],
)
def test_decode_line_endings(decode: Decode, stream: bytes) -> None:
    """CR, LF and CRLF each end a line, in any mix."""
    assert decode(stream).events == [msg("a\nb")]


def test_decode_lf_cr_is_two_line_endings(decode: Decode) -> None:
    """LF followed by CR is two endings (only CR followed by LF is one), so it ends the event."""
    assert decode(b"data: a\n\rdata: b\n\n").events == [msg("a"), msg("b")]


def test_decode_crlf_split_across_chunks_is_one_ending() -> None:
    """A CR ending one chunk and an LF starting the next make one line ending, not two."""
    decoded = decode_chunks([b"data: a\r", b"\n", b"data: b\n\n"])
    assert decoded.events == [msg("a\nb")]


@pytest.mark.parametrize(
    "separator",
    [
        pytest.param("\u2028", id="u2028"),
        pytest.param("\u2029", id="u2029"),
        pytest.param("\x85", id="u0085"),
        pytest.param("\x0b", id="vt"),
        pytest.param("\x0c", id="ff"),
        pytest.param("\x1e", id="record-separator"),
    ],
)
def test_decode_unicode_line_breaks_are_not_line_endings(decode: Decode, separator: str) -> None:
    """Only CR and LF end lines; other Unicode line breaks stay in the data."""
    stream = f"data: a{separator}b\n\n".encode()
    assert decode(stream).events == [msg(f"a{separator}b")]


@pytest.mark.parametrize(
    "comment",
    [
        pytest.param(b":\n", id="bare-colon"),
        pytest.param(b": keep-alive\n", id="text"),
        pytest.param(b":data: x\n", id="field-like"),
    ],
)
def test_decode_comment_lines_are_ignored(decode: Decode, comment: bytes) -> None:
    """A line starting with a colon is ignored, even in the middle of an event."""
    assert decode(b"data: a\n" + comment + b"data: b\n\n").events == [msg("a\nb")]


def test_decode_comment_only_block_dispatches_nothing(decode: Decode) -> None:
    """A block of comments followed by a blank line produces no event."""
    assert decode(b": ping\n\n: ping\n\n").events == []


def test_decode_field_value_split_at_first_colon(decode: Decode) -> None:
    """The field name ends at the first colon; later colons belong to the value."""
    assert decode(b"data: a: b:c\n\n").events == [msg("a: b:c")]


@pytest.mark.parametrize(
    ("line", "data"),
    [
        pytest.param(b"data:x", "x", id="no-space"),
        pytest.param(b"data: x", "x", id="one-space"),
        pytest.param(b"data:  x", " x", id="two-spaces"),
        pytest.param(b"data:\tx", "\tx", id="tab-kept"),
        pytest.param(b"data: x ", "x ", id="trailing-space-kept"),
    ],
)
def test_decode_one_leading_space_removed(decode: Decode, line: bytes, data: str) -> None:
    """Exactly one leading space is removed from a field value, nothing else."""
    assert decode(line + b"\n\n").events == [msg(data)]


def test_decode_line_without_colon_is_field_with_empty_value(decode: Decode) -> None:
    """A line without a colon is a field named by the whole line, with an empty value."""
    assert decode(b"data\n\n").events == [msg("")]


def test_decode_data_lines_joined_with_lf(decode: Decode) -> None:
    """Data lines are joined with LF, and only the one final LF is removed."""
    assert decode(b"data: a\ndata\ndata: b\ndata:\n\n").events == [msg("a\n\nb\n")]


def test_decode_block_without_data_dispatches_nothing(decode: Decode) -> None:
    """A block with an event and id but no data line dispatches no event."""
    assert decode(b"event: tick\nid: 1\n\n").events == []


def test_decode_empty_data_buffer_resets_event_type(decode: Decode) -> None:
    """The event type of a block that dispatched nothing does not leak into the next one."""
    assert decode(b"event: tick\n\ndata: x\n\n").events == [msg("x")]


def test_decode_event_type_reset_after_dispatch(decode: Decode) -> None:
    """Each event's type applies to that event only."""
    assert decode(b"event: tick\ndata: a\n\ndata: b\n\n").events == [
        msg("a", event="tick"),
        msg("b"),
    ]


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(b"event\n", id="no-colon"),
        pytest.param(b"event:\n", id="empty"),
        pytest.param(b"event: \n", id="one-space"),
    ],
)
def test_decode_empty_event_type_is_message(decode: Decode, line: bytes) -> None:
    """An empty event type means the default type, "message"."""
    assert decode(line + b"data: x\n\n").events == [msg("x", event="message")]


def test_decode_last_event_field_wins(decode: Decode) -> None:
    """With several event fields in one block, the last sets the type."""
    assert decode(b"event: a\nevent: b\ndata: x\n\n").events == [msg("x", event="b")]


def test_decode_id_persists_across_events(decode: Decode) -> None:
    """An id is reported on every later event until another id field changes it."""
    assert decode(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n") == Decoded(
        [msg("a", id="1"), msg("b", id="1"), msg("c", id="2")], "2", None
    )


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(b"id\n", id="no-colon"),
        pytest.param(b"id:\n", id="empty"),
        pytest.param(b"id: \n", id="one-space"),
    ],
)
def test_decode_empty_id_resets_last_event_id(decode: Decode, line: bytes) -> None:
    """An id field with an empty value resets the last event ID to ""."""
    assert decode(b"id: 1\ndata: a\n\n" + line + b"data: b\n\n") == Decoded(
        [msg("a", id="1"), msg("b", id="")], "", None
    )


def test_decode_id_with_nul_is_ignored(decode: Decode) -> None:
    """An id containing NUL leaves the last event ID unchanged."""
    assert decode(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n") == Decoded(
        [msg("a", id="1"), msg("b", id="1")], "1", None
    )


def test_decode_id_without_data_still_sets_last_event_id(decode: Decode) -> None:
    """A block with only an id dispatches nothing but still updates the last event ID."""
    assert decode(b"id: 9\n\ndata: x\n\n") == Decoded([msg("x", id="9")], "9", None)


def test_decode_no_id_reports_empty_string(decode: Decode) -> None:
    """Without any id field the reported id and last_event_id are ""."""
    assert decode(b"data: x\n\n") == Decoded([ServerSentEvent("x", id="")], "", None)


def test_decode_last_event_id_updates_at_blank_line() -> None:
    """An id line of an unfinished event does not change last_event_id until its blank line."""
    decoder = SSEDecoder()
    decoder.feed(b"id: 1\ndata: a\n\nid: 2\ndata: b\n")
    assert decoder.last_event_id == "1"
    decoder.feed(b"\n")
    assert decoder.last_event_id == "2"


def test_decode_retry_sets_reconnection_time(decode: Decode) -> None:
    """A retry field of ASCII digits sets `retry`, and the event of its block carries it."""
    assert decode(b"retry: 1500\ndata: x\n\ndata: y\n\n") == Decoded(
        [msg("x", retry=1500), msg("y")], "", 1500
    )


def test_decode_retry_without_data_dispatches_nothing(decode: Decode) -> None:
    """A retry-only block sets `retry` without producing an event."""
    assert decode(b"retry: 0\n\n") == Decoded([], "", 0)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"-1", id="negative"),
        pytest.param(b"+1", id="plus-sign"),
        pytest.param(b"1.5", id="fraction"),
        pytest.param(b"1e3", id="exponent"),
        pytest.param(b"10ms", id="suffix"),
        pytest.param(b" 10", id="second-space"),
        pytest.param(b"10 ", id="trailing-space"),
        pytest.param("١٢".encode(), id="arabic-indic-digits"),
        pytest.param("²".encode(), id="superscript-two"),
        pytest.param(b"1" * 5000, id="too-many-digits"),
    ],
)
def test_decode_retry_not_ascii_digits_is_ignored(decode: Decode, value: bytes) -> None:
    """A retry value that is not only ASCII digits is ignored; the previous value stays."""
    stream = b"retry: 7\n\nretry: " + value + b"\ndata: x\n\n"
    assert decode(stream) == Decoded([msg("x")], "", 7)


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(b"foo: bar", id="unknown"),
        pytest.param(b"Data: x", id="wrong-case"),
        pytest.param(b"data : x", id="space-before-colon"),
        pytest.param(b" data: x", id="leading-space"),
        pytest.param(b"retry2: 5", id="prefix-of-known"),
    ],
)
def test_decode_unknown_fields_are_ignored(decode: Decode, line: bytes) -> None:
    """A field that is not data, event, id or retry (case-sensitive) is ignored."""
    assert decode(b"data: a\n" + line + b"\ndata: b\n\n") == Decoded([msg("a\nb")], "", None)


@pytest.mark.parametrize(
    ("stream", "events"),
    [
        pytest.param(b"data: x", [], id="no-line-ending"),
        pytest.param(b"data: x\n", [], id="no-blank-line"),
        pytest.param(b"data: x\r\n", [], id="crlf-no-blank-line"),
        pytest.param(b"data: a\n\ndata: x\n", [msg("a")], id="after-complete-event"),
    ],
)
def test_decode_unterminated_final_event_is_discarded(
    decode: Decode, stream: bytes, events: list[ServerSentEvent]
) -> None:
    """At close an event not ended by a blank line is dropped, as the spec requires."""
    assert decode(stream).events == events


def test_decode_unterminated_id_line_is_not_processed(decode: Decode) -> None:
    """An id line cut off by the end of the stream never takes effect."""
    assert decode(b"id: 1\ndata: a\n\nid: 2").last_event_id == "1"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        pytest.param(b"\xff", "\ufffd", id="invalid-byte"),
        pytest.param(b"\xc3", "\ufffd", id="truncated-2-byte"),
        pytest.param(b"\xe2\x82x", "\ufffdx", id="truncated-3-byte-then-ascii"),
        pytest.param(b"\xf0\x80\x80", "\ufffd" * 3, id="overlong"),
        pytest.param(b"\xed\xa0\x80", "\ufffd" * 3, id="surrogate"),
        pytest.param(b"\xf4\x90\x80\x80", "\ufffd" * 4, id="above-max"),
        pytest.param("é€😀".encode(), "é€😀", id="valid-multibyte"),
    ],
)
def test_decode_utf8_with_replacement(decode: Decode, raw: bytes, text: str) -> None:
    """Invalid UTF-8 becomes U+FFFD, the same however the bytes are split."""
    assert decode(b"data: " + raw + b"\n\n").events == [msg(text)]


def test_decode_incomplete_utf8_at_close_is_discarded(decode: Decode) -> None:
    """A multi-byte sequence cut off by the end of the stream goes with the unfinished line."""
    assert decode(b"data: a\n\ndata: \xe2\x82").events == [msg("a")]


def test_decode_nul_in_data_and_event_is_kept(decode: Decode) -> None:
    """NUL is only special in ids; in data and event types it is kept."""
    assert decode(b"event: a\x00b\ndata: c\x00d\n\n").events == [msg("c\0d", event="a\0b")]


def test_decode_many_events_in_order(decode: Decode) -> None:
    """Several events in one stream come out in order."""
    stream = b"".join(f"data: {i}\n\n".encode() for i in range(20))
    assert decode(stream).events == [msg(str(i)) for i in range(20)]


# --- decoder: when events come out -------------------------------------------------------------


def test_feed_returns_event_in_same_feed_as_blank_line() -> None:
    """An event is returned by the feed that completes its blank line, not later."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\n") == [msg("a")]


def test_feed_dispatches_on_lone_cr_at_chunk_end() -> None:
    """A blank line made of a CR at the end of a chunk dispatches at once; the LF after it is
    swallowed by the next feed."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\n\r") == [msg("a")]
    assert decoder.feed(b"\ndata: b\r") == []
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"\r") == [msg("b")]


def test_feed_swallowed_lf_does_not_end_next_event_early() -> None:
    """After a CR at a chunk end, the LF opening the next chunk is not an extra blank line."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\ndata: b\n\n") == [msg("a\nb")]


def test_feed_empty_chunk_keeps_pending_crlf_state() -> None:
    """An empty chunk between CR and LF does not break the CRLF pair."""
    decoder = SSEDecoder()
    assert [decoder.feed(chunk) for chunk in (b"data: a\r", b"", b"\ndata: b\n\n")] == [
        [],
        [],
        [msg("a\nb")],
    ]


def test_feed_after_close_raises_usage_error() -> None:
    """Feeding a closed decoder raises UsageError."""
    decoder = SSEDecoder()
    decoder.close()
    with pytest.raises(UsageError, match="after close"):
        decoder.feed(b"data: x\n\n")


def test_close_twice_returns_nothing() -> None:
    """`close()` may be called again and always returns an empty list."""
    decoder = SSEDecoder()
    decoder.feed(b"data: x\n")
    assert decoder.close() == []
    assert decoder.close() == []


# --- decoder: limits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stream",
    [
        pytest.param(b"data: a\n\ndata: 0123456789\n\n", id="complete-line"),
        pytest.param(b"data: a\n\n: 0123456789abc\n\n", id="comment-line"),
        pytest.param(b"data: a\n\ndata: 0123456789", id="unterminated-line"),
    ],
)
def test_limit_line_length(decode: Decode, stream: bytes) -> None:
    """A line longer than max_line_length raises SSEError naming its line number."""
    with pytest.raises(SSEError, match=r"line 3 exceeds max_line_length \(12 characters\)"):
        decode(stream, max_line_length=12)


def test_limit_line_length_allows_exact_length(decode: Decode) -> None:
    """A line of exactly max_line_length characters is accepted."""
    assert decode(b"data: 012345\n\n", max_line_length=12).events == [msg("012345")]


def test_limit_line_length_counts_characters_not_bytes(decode: Decode) -> None:
    """The line limit counts decoded characters, so multi-byte text is not penalised."""
    assert decode("data: éééééé\n\n".encode(), max_line_length=12).events == [msg("éééééé")]


def test_limit_event_size(decode: Decode) -> None:
    """Data over max_event_size in one event raises SSEError naming the line."""
    with pytest.raises(SSEError, match=r"max_event_size \(8 characters\) at line 4"):
        decode(b"data: x\n\ndata: 1234\ndata: 5678\n\n", max_event_size=8)


def test_limit_event_size_allows_exact_size(decode: Decode) -> None:
    """Data of exactly max_event_size characters, line breaks included, is accepted."""
    assert decode(b"data: 1234\ndata: 567\n\n", max_event_size=8).events == [msg("1234\n567")]


def test_limit_event_size_resets_per_event(decode: Decode) -> None:
    """The event size limit applies to each event separately."""
    stream = b"data: 12345678\n\n" * 3
    assert decode(stream, max_event_size=8).events == [msg("12345678")] * 3


def test_limit_error_is_terminal() -> None:
    """After a limit error every later feed raises SSEError too."""
    decoder = SSEDecoder(max_line_length=4)
    with pytest.raises(SSEError, match="line 1 exceeds"):
        decoder.feed(b"data: too long")
    with pytest.raises(SSEError, match="already failed: line 1 exceeds"):
        decoder.feed(b"\n\n")


@pytest.mark.parametrize(
    "limits",
    [
        pytest.param({"max_line_length": 0}, id="zero-line"),
        pytest.param({"max_event_size": -1}, id="negative-event"),
        pytest.param({"max_line_length": True}, id="bool"),
    ],
)
def test_limit_must_be_positive_int(limits: dict[str, int]) -> None:
    """A limit that is not a positive int is rejected when the decoder is made."""
    with pytest.raises(ValueError, match="must be a positive int"):
        SSEDecoder(**limits)


# --- LineSplitter ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chunks", "lines"),
    [
        pytest.param(["a\nb\rc\r\nd"], ["a", "b", "c"], id="all-endings"),
        pytest.param(["a\r", "\nb\n"], ["a", "b"], id="split-crlf"),
        pytest.param(["a\r", "", "\n", "b\n"], ["a", "b"], id="split-crlf-empty-chunk"),
        pytest.param(["a\r", "\r\n"], ["a", ""], id="cr-then-crlf"),
        pytest.param(["\n\r\n\r"], ["", "", ""], id="empty-lines"),
        pytest.param(["ab", "c", "d\ne"], ["abcd"], id="line-across-chunks"),
        pytest.param(["a\u2028b\x85c\n"], ["a\u2028b\x85c"], id="unicode-breaks-kept"),
    ],
)
def test_line_splitter_feed(chunks: list[str], lines: list[str]) -> None:
    """Lines are split at CR, LF and CRLF only, whatever the chunking."""
    splitter = LineSplitter()
    assert [line for chunk in chunks for line in splitter.feed(chunk)] == lines


def test_line_splitter_returns_line_as_soon_as_cr_arrives() -> None:
    """A CR at the end of a chunk completes its line in that same feed."""
    assert LineSplitter().feed("a\r") == ["a"]


def test_line_splitter_close_returns_unterminated_line() -> None:
    """`close()` returns the final line that had no ending, for NDJSON-style readers."""
    splitter = LineSplitter()
    assert splitter.feed("a\nb") == ["a"]
    assert splitter.close() == ["b"]
    assert splitter.close() == []


def test_line_splitter_close_after_line_ending_returns_nothing() -> None:
    """`close()` returns nothing when the input ended with a line ending."""
    splitter = LineSplitter()
    splitter.feed("a\r")
    assert splitter.close() == []


def test_line_splitter_pending_length() -> None:
    """`pending_length` counts the characters of the incomplete line across chunks."""
    splitter = LineSplitter()
    splitter.feed("ab")
    splitter.feed("cd")
    assert splitter.pending_length == 4
    splitter.feed("e\nfg")
    assert splitter.pending_length == 2


def test_line_splitter_feed_after_close_raises() -> None:
    """Feeding a closed splitter raises UsageError."""
    splitter = LineSplitter()
    splitter.close()
    with pytest.raises(UsageError, match="after close"):
        splitter.feed("a")


# --- public module -----------------------------------------------------------------------------


def test_sse_module_all_is_sorted_and_complete() -> None:
    """`streamdantic.sse.__all__` is sorted and lists exactly the public SSE names: the codec,
    plus the profile, the client and the stores."""
    assert sse.__all__ == sorted(sse.__all__)
    assert set(sse.__all__) == {
        "LineSplitter",
        "SSEDecoder",
        "ServerSentEvent",
        "encode",
        "encode_comment",
        # the profile, client and stores (docs/sse.md)
        "AsyncClientStream",
        "ClientStream",
        "ClientUpdate",
        "Frames",
        "MemoryStore",
        "ProfileDecoder",
        "ProfileEncoder",
        "RedisStore",
        "Retry",
        "Store",
        "aconnect",
        "connect",
        "stream_frame",
    }


def test_sse_module_names_present_as_public_module() -> None:
    """Exported names report `streamdantic.sse` as their module."""
    assert {getattr(sse, name).__module__ for name in sse.__all__} == {"streamdantic.sse"}
