"""Server-Sent Events codec: a spec encoder and an incremental decoder, both sans-IO.

Follows the WHATWG HTML Standard, section 9.2 "Server-sent events"
(https://html.spec.whatwg.org/multipage/server-sent-events.html): the decoder implements
9.2.6 "Interpreting an event stream" step by step; the encoder writes streams matching the
9.2.5 grammar. `LineSplitter` is the code base's only CR/LF/CRLF line splitter; other line
protocols (NDJSON / JSON Lines) reuse it.
"""

# Strategy / invariants
# - Bytes become text through one incremental UTF-8 decoder with replacement characters, so a
#   chunk boundary inside a multi-byte sequence never changes the decoded text.
# - Text becomes lines through LineSplitter. The incomplete last line is kept as a list of parts
#   and joined once, when its ending arrives, so every character is scanned a constant number of
#   times whatever the chunking: time is linear in the input, memory bounded by the limits.
# - A CR ends its line at once; the splitter then remembers to drop one LF at the start of the
#   next chunk. So an event is returned by the very feed() that delivered its blank line.
# - Lines become events one line at a time; the decoder holds only the current event's fields.
# - The encoder never alters what it cannot write: a name or id it cannot put on one line raises
#   SSEError. Only data and comments are split into lines, because the protocol joins them back.

from __future__ import annotations

import codecs
import json
import re
from dataclasses import KW_ONLY, dataclass, fields
from typing import Any, Final, NoReturn

from .._exceptions import SSEError, UsageError

__all__ = [
    "LineSplitter",
    "SSEDecoder",
    "ServerSentEvent",
    "encode",
    "encode_comment",
]

# Limits, in characters. Browsers and httpx-sse set none, and LLM APIs do send multi-megabyte
# single events (base64 images, long tool-call arguments), so a small cap such as Go's 64 KiB
# bufio.Scanner default would break real streams. 16 Mi is far above such events, yet stops an
# endless line or event from exhausting memory.
DEFAULT_MAX_LINE_LENGTH: Final = 16 * 1024 * 1024
DEFAULT_MAX_EVENT_SIZE: Final = 16 * 1024 * 1024

# §9.2.6: a line ends at CRLF, at an LF, or at a CR not followed by LF. Nothing else ends a
# line (not U+2028, U+2029 or U+0085, which str.splitlines would split on).
_LINE_ENDING = re.compile(r"\r\n?|\n")


@dataclass(frozen=True, slots=True, repr=False)
class ServerSentEvent:
    """One server-sent event, as decoded or as to be encoded.

    Decoded events always have ``event`` set ("message" when the block had no ``event`` field or
    an empty one), ``id`` set to the stream's last event ID at dispatch ("" when none was ever
    given or it was reset), ``retry`` set when the event's own block carried a valid ``retry``
    field, and ``comment`` None (the spec discards comments).

    For encoding, ``id=None`` writes no ``id`` line (the client keeps its last event ID) while
    ``id=""`` writes an empty one (the client resets it). ``comment`` adds comment lines before
    the fields. ``data=None`` writes no ``data`` line: the frame only carries its ``id``,
    ``event``, ``retry`` and comment lines, so the client dispatches nothing (§9.2.6: a block
    without data is not an event) but still takes the id as its last event ID and the retry
    as its reconnection time; `SSEDecoder` likewise returns no event for it and updates
    `SSEDecoder.last_event_id` and `SSEDecoder.retry`. An event whose only non-default
    fields are ``retry`` and/or ``comment`` is such a control frame too, even with
    ``data=""``. Any other event with ``data`` a str is written with at least one ``data``
    line, so even ``data=""`` arrives as an event.

    Attributes:
        data: the payload (a str in every decoded event), or None for no data lines (see
            above). CR and CRLF in it are sent as line breaks and decoded as LF.
        event: the event type; "message" is the default and is not written out.
        id: the event ID, see above.
        retry: the reconnection time in milliseconds, a non-negative int.
        comment: comment text, for encoding only (heartbeats, debugging).
    """

    data: str | None = ""
    _: KW_ONLY
    event: str = "message"
    id: str | None = None
    retry: int | None = None
    comment: str | None = None

    def __repr__(self) -> str:
        args = ", ".join(
            f"{field.name}={getattr(self, field.name)!r}"
            for field in fields(self)
            if getattr(self, field.name) != field.default
        )
        return f"{type(self).__name__}({args})"

    def json(self) -> Any:
        """Decode ``data`` as JSON.

        Returns:
            The decoded value, as ``json.loads`` gives it.

        Raises:
            json.JSONDecodeError: ``data`` is not valid JSON.
            SSEError: ``data`` is None (a frame without data lines).
        """
        return json.loads(data_of(self))

    def encode(self) -> bytes:
        """Encode this event as one UTF-8 frame; the same as ``encode(event)``.

        Returns:
            The frame's bytes, ending with a blank line.

        Raises:
            SSEError: a field cannot be written without changing it (see `encode`).
        """
        return encode(self)


def encode(event: ServerSentEvent, /) -> bytes:
    """Encode one event as a UTF-8 frame that ends with a blank line.

    ``data`` is written as one ``data:`` line per line of text: LF, CR and CRLF all end a line,
    so the decoder gives the data back with every line break as LF (a CR or CRLF in data cannot
    survive the trip). Lines are written with LF endings and a space after each colon.

    Args:
        event: the event; see `ServerSentEvent` for which lines each field produces.

    Returns:
        The frame's bytes.

    Raises:
        SSEError: a field has the wrong type (data, id and comment: str or None; event: str;
            retry: int or None); the event name is empty or contains CR or LF; the id contains
            CR, LF or NUL; retry is negative; ``data=None`` with no other field to write; or
            the text is not encodable as UTF-8 (a lone surrogate). The event is never altered
            to make it fit.
    """
    data = event.data
    name, id_, retry, comment = event.event, event.id, event.retry, event.comment
    if type(data) is str and name == "message" and id_ is None and retry is None:
        if comment is None:  # the common frame: data lines only
            if "\r" in data:
                data = data.replace("\r\n", "\n").replace("\r", "\n")
            return _utf8("data: " + data.replace("\n", "\ndata: ") + "\n\n")
    frame = "" if comment is None else _comment_lines(_checked_comment(comment))
    if name != "message":
        frame += "event: " + _checked_name(name) + "\n"
    if id_ is not None:
        frame += "id: " + _checked_id(id_) + "\n"
    if retry is not None:
        frame += "retry: " + _checked_retry(retry) + "\n"
    if data is None:
        if not frame:
            raise SSEError(
                "an event with data=None needs an id, event, retry or comment to write: "
                "alone it would be an empty frame"
            )
    elif not isinstance(data, str):
        raise SSEError(f"event data must be a str, or None for no data lines, got {data!r}")
    elif data or name != "message" or id_ is not None:
        if "\r" in data:
            data = data.replace("\r\n", "\n").replace("\r", "\n")
        frame += "data: " + data.replace("\n", "\ndata: ") + "\n"
    # else: a control frame (retry and/or comment only), see ServerSentEvent.
    return _utf8(frame + "\n")


def data_of(event: ServerSentEvent, /) -> str:
    """The data of an event that must have some (every decoded event has: see `SSEDecoder`).

    Raises:
        SSEError: the event's ``data`` is None (a frame without data lines).
    """
    data = event.data
    if data is None:
        raise SSEError(
            f"the {event.event!r} event (id {event.id!r}) has no data (data=None); only a "
            "decoded event, or one built with its data, can be read as a payload"
        )
    return data


def encode_comment(text: str = "", /) -> bytes:
    """Encode a comment frame: clients ignore it, but it keeps idle connections open.

    §9.2.7 suggests a comment every 15 seconds or so against proxies that drop quiet
    connections.

    Args:
        text: the comment; each of its lines (split at LF, CR or CRLF) gets its own ``:`` line.

    Returns:
        The frame's bytes (``b":\\n\\n"`` for an empty comment).

    Raises:
        SSEError: the text is not a str, or not encodable as UTF-8 (a lone surrogate).
    """
    return _utf8(_comment_lines(_checked_comment(text)) + "\n")


def _comment_lines(text: str) -> str:
    if not text:
        return ":\n"
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return ": " + text.replace("\n", "\n: ") + "\n"


def _checked_comment(text: str) -> str:
    if not isinstance(text, str):
        raise SSEError(f"comment must be a str, got {text!r}")
    return text


def _checked_name(name: str) -> str:
    # §9.2.5: a field value cannot hold CR or LF. An empty name would be dispatched as "message".
    if not isinstance(name, str):
        raise SSEError(f"event name must be a str, got {name!r}")
    if not name:
        raise SSEError("event name is empty; use the default 'message' for unnamed events")
    if "\r" in name or "\n" in name:
        raise SSEError(f"event name {name!r} contains CR or LF, which would end the field")
    return name


def _checked_id(id_: str) -> str:
    # §9.2.6: clients ignore an id containing NUL, so it could never arrive.
    if not isinstance(id_, str):
        raise SSEError(f"event id must be a str, or None for no id line, got {id_!r}")
    if "\r" in id_ or "\n" in id_ or "\0" in id_:
        raise SSEError(f"event id {id_!r} contains CR, LF or NUL, which clients cannot receive")
    return id_


def _checked_retry(retry: int) -> str:
    # §9.2.6: clients accept only ASCII digits, so no sign, fraction or exponent.
    if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
        raise SSEError(f"retry must be a non-negative int (milliseconds), got {retry!r}")
    return str(int(retry))


def _utf8(frame: str) -> bytes:
    try:
        return frame.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SSEError(f"event text is not encodable as UTF-8: {exc.reason}") from exc


class LineSplitter:
    """Split text into lines at CR, LF and CRLF, incrementally.

    Each line is returned without its ending as soon as the ending arrives; a CRLF split across
    two chunks counts as one ending. Other Unicode line breaks (U+2028, U+0085, ...) are kept
    as ordinary characters. Time is linear in the total input, however it is chunked.
    """

    __slots__ = ("_closed", "_pending", "_pending_length", "_skip_lf")

    def __init__(self) -> None:
        self._pending: list[str] = []  # parts of the line whose ending has not arrived
        self._pending_length = 0
        self._skip_lf = False  # the last chunk ended with CR: an LF next completes that CRLF
        self._closed = False

    @property
    def pending_length(self) -> int:
        """The number of characters of the incomplete last line held so far."""
        return self._pending_length

    def feed(self, text: str, /) -> list[str]:
        """Add text; return the lines it completes.

        Args:
            text: the next chunk of text.

        Returns:
            The completed lines, in order, without their line endings.

        Raises:
            UsageError: the splitter was already closed.
        """
        if self._closed:
            raise UsageError("LineSplitter.feed() called after close(); use a new LineSplitter")
        if not text:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
                if not text:
                    return []
        if "\r" in text:
            lines = _LINE_ENDING.split(text)
            self._skip_lf = text[-1] == "\r"
        elif "\n" in text:
            lines = text.split("\n")
        else:
            self._pending.append(text)
            self._pending_length += len(text)
            return []
        pending = self._pending
        if pending:
            pending.append(lines[0])
            lines[0] = "".join(pending)
            pending.clear()
        tail = lines.pop()
        if tail:
            pending.append(tail)
        self._pending_length = len(tail)
        return lines

    def close(self) -> list[str]:
        """End the input; return the last line if it had no line ending.

        Returns:
            ``[line]`` when unterminated text remains, otherwise ``[]``. Calling it again
            returns ``[]``.
        """
        self._closed = True
        lines = ["".join(self._pending)] if self._pending else []
        self._pending.clear()
        self._pending_length = 0
        return lines


class SSEDecoder:
    """Decode an event stream incrementally, following WHATWG HTML §9.2.6 to the letter.

    Feed the response body's chunks in order; each `feed` returns the events whose closing
    blank line it contained. At the end of the body call `close`: as the spec requires, an
    event that was not ended by a blank line is discarded, not dispatched.

    Args:
        max_line_length: the longest line accepted, in characters (not counting its ending).
        max_event_size: the most data one event may hold, in characters (its data lines plus
            the line breaks between them).

    Raises:
        ValueError: a limit is not a positive int.
    """

    __slots__ = (
        "_closed",
        "_data",
        "_data_size",
        "_error",
        "_event_type",
        "_id_buffer",
        "_last_event_id",
        "_line_number",
        "_lines",
        "_max_event_size",
        "_max_line_length",
        "_retry",
        "_retry_in_block",
        "_started",
        "_utf8",
    )

    def __init__(
        self,
        *,
        max_line_length: int = DEFAULT_MAX_LINE_LENGTH,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        for name, limit in (
            ("max_line_length", max_line_length),
            ("max_event_size", max_event_size),
        ):
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ValueError(f"{name} must be a positive int, got {limit!r}")
        self._max_line_length = max_line_length
        self._max_event_size = max_event_size
        # §9.2.6: decode with the UTF-8 decode algorithm: invalid bytes become U+FFFD.
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
        self._lines = LineSplitter()
        self._started = False  # some text was decoded, so a BOM can no longer come
        self._line_number = 0  # lines completed so far
        # §9.2.6: the data, event type and last event ID buffers start as empty strings.
        self._data: list[str] = []  # the data buffer, one item per data line: LFs are implied
        self._data_size = 0
        self._event_type = ""
        self._id_buffer = ""
        self._retry_in_block: int | None = None
        self._last_event_id = ""
        self._retry: int | None = None
        self._closed = False
        self._error: SSEError | None = None

    @property
    def last_event_id(self) -> str:
        """The ID to resume from (the ``Last-Event-ID`` header): "" when there is none.

        This is the spec's "last event ID string": it takes the ID buffer's value at each blank
        line (§9.2.6 dispatch, step 1), so an ``id`` line of an event still in progress does
        not count yet. It persists across events until the server sends another ``id``.
        """
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The last valid reconnection time (milliseconds) the stream sent, or None."""
        return self._retry

    def feed(self, data: bytes, /) -> list[ServerSentEvent]:
        """Decode the next chunk of the stream.

        Args:
            data: the next bytes of the body; any size, split anywhere.

        Returns:
            The events completed by this chunk, in order.

        Raises:
            SSEError: a line or an event exceeds its limit (the message names the line). The
                decoder is then unusable and every later `feed` raises SSEError again; events
                completed earlier in the same chunk are not returned.
            UsageError: the decoder was already closed.
        """
        if self._error is not None:
            raise SSEError(f"the event stream already failed: {self._error}") from self._error
        if self._closed:
            raise UsageError("SSEDecoder.feed() called after close(); use a new SSEDecoder")
        text = self._utf8.decode(data)
        if not self._started:
            if not text:
                return []
            self._started = True
            # §9.2.6: the UTF-8 decode algorithm strips one leading BOM, at the stream start only.
            if text[0] == "\ufeff":
                text = text[1:]
        try:
            lines = self._lines.feed(text)
            events = self._process(lines) if lines else []
            if self._lines.pending_length > self._max_line_length:
                self._fail_line_length(self._line_number + 1)
        except SSEError as exc:
            self._error = exc
            raise
        return events

    def close(self) -> list[ServerSentEvent]:
        """End the stream.

        §9.2.6: at the end of the stream pending data is discarded, so an event without its
        closing blank line (and an unfinished last line) is dropped, never dispatched.

        Returns:
            Always ``[]``; the list is there so that every decoder in streamdantic ends the
            same way. Calling `close` again, or after an error, also returns ``[]``.
        """
        if not self._closed:
            self._closed = True
            self._utf8.decode(b"", True)
            self._lines.close()
            self._data.clear()
        return []

    def _process(self, lines: list[str]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        line_number = self._line_number
        for line in lines:
            line_number += 1
            if not line:
                # §9.2.6: an empty line dispatches the event.
                event = self._dispatch()
                if event is not None:
                    events.append(event)
                continue
            if len(line) > self._max_line_length:
                self._fail_line_length(line_number)
            if line[0] == ":":
                continue  # §9.2.6: a line starting with a colon is a comment.
            # §9.2.6: the field name is everything before the first colon (the whole line when
            # there is none, with an empty value), and one leading space of the value is dropped.
            # One slice for the value, not partition() then [1:]: a huge line is copied once.
            colon = line.find(":")
            if colon < 0:
                name, value = line, ""
            else:
                name = line[:colon]
                value = line[colon + 2 if line.startswith(" ", colon + 1) else colon + 1 :]
            if name == "data":
                self._data_size += len(value) + 1
                if self._data_size - 1 > self._max_event_size:
                    raise SSEError(
                        f"event data exceeds max_event_size ({self._max_event_size} characters)"
                        f" at line {line_number}"
                    )
                self._data.append(value)
            elif name == "event":
                self._event_type = value
            elif name == "id":
                if "\0" not in value:  # §9.2.6: an id containing NUL is ignored.
                    self._id_buffer = value
            elif name == "retry":
                # §9.2.6: only ASCII digits count (isdigit alone would take "²" or "٣").
                if value.isascii() and value.isdigit():
                    try:
                        retry = int(value)
                    except ValueError:
                        # More digits than Python converts (sys.get_int_max_str_digits): a
                        # value no client could honour, so ignore it like any invalid one.
                        continue
                    self._retry = self._retry_in_block = retry
            # §9.2.6: any other field is ignored.
        self._line_number = line_number
        return events

    def _dispatch(self) -> ServerSentEvent | None:
        # §9.2.6 dispatch, step 1: the last event ID buffer is not reset, so it persists.
        self._last_event_id = self._id_buffer
        data = self._data
        if not data:
            # Step 2: an empty data buffer dispatches nothing but still resets the event type.
            self._event_type = ""
            self._retry_in_block = None
            return None
        # Steps 3-6: the data buffer's final LF is dropped (here it is never added) and the
        # type defaults to "message".
        event = ServerSentEvent(
            "\n".join(data),
            event=self._event_type or "message",
            id=self._id_buffer,
            retry=self._retry_in_block,
        )
        data.clear()
        self._data_size = 0
        self._event_type = ""
        self._retry_in_block = None
        return event

    def _fail_line_length(self, line_number: int) -> NoReturn:
        raise SSEError(
            f"line {line_number} exceeds max_line_length ({self._max_line_length} characters)"
        )
