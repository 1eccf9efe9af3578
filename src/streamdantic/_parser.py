"""The incremental partial-JSON parser: `feed()` text or bytes in any split, events out.

Strategy / invariants:
- One pass over the input. Each `feed` scans only the new text (plus at most one unfinished
  token held back from the previous chunk), so the cost of a chunk is proportional to the
  chunk, never to the document.
- Scanning is done by compiled regular expressions (runs of plain string characters,
  whitespace, number characters), so Python-level work is per token, not per character.
- The partial value is updated in place along the path that changed: containers are real
  dicts and lists, mutated as values arrive. The one open string is kept as a list of parts
  and joined into its slot only when `value` is read or the string closes, so a 2 MB string
  streamed in 4-character chunks costs O(2 MB), not O(2 MB squared). Reading `value` after
  every chunk re-joins the open string each time (quadratic on one huge string): consumers
  of long strings follow the `StringAppended` text deltas instead.
- Numbers and literals are never shown before they are complete: an unfinished token at
  the end of a chunk (``12`` that may become ``123``, ``tr``, half an escape sequence) is held
  back in `_pending` and re-scanned with the next chunk. It is bounded: escapes and literals
  by a dozen characters, numbers by `max_number_length`. A held-back number is always a
  prefix some continuation can complete (`_NUMBER_PREFIX`): one that cannot (``01``, ``--``)
  is refused when its offending character arrives, so the error does not depend on splits.
- An object key is placed into its object only when its value becomes visible (a string,
  array or object when it opens; a number or literal when it completes), so no key ever
  shows a placeholder value.
- After an error the parser is terminal: the partial value stays readable, further input is
  refused.
- Two scanners run this state machine: `_PyParser._scan` here (the reference) and its
  line-by-line C twin in `_speedups.c` (4-8x faster per chunk), which `JSONParser` uses when
  the extension is built. Both keep the same fields under the same names and share the
  Python code off the hot path (construction, `close`, errors, bytes decoding), and the
  differential tests in tests/property/test_parser_compiled.py hold them to the same events,
  values and errors.
"""

from __future__ import annotations

import codecs
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Literal, NoReturn

from ._events import DocumentCompleted, Event, StringAppended, ValueCompleted, ValueStarted
from ._exceptions import IncompleteJSONError, JSONParseError, LimitExceededError, UsageError
from ._paths import JSONPath

__all__ = ["JSONParser", "ValueState", "parse_partial"]

ValueState = Literal["pending", "streaming", "complete"]

# Parser states. Plain ints: they are compared on every token.
_VALUE: Final = 0  # a value must come next (root, after ':' or after ',' in an array)
_ARRAY_FIRST: Final = 1  # just after '[': a value or ']'
_AFTER_VALUE: Final = 2  # after a value inside a container: ',' or the closing bracket
_OBJECT_FIRST: Final = 3  # just after '{': a key or '}'
_KEY: Final = 4  # after ',' in an object: a key
_COLON: Final = 5  # after a key: ':'
_STRING: Final = 6  # inside a string value
_KEY_STRING: Final = 7  # inside an object key
_DONE: Final = 8  # the root value is complete
_SKIP: Final = 9  # lenient mode: skipping text before a '{' or '['
_ERROR: Final = 10
_FINISHED: Final = 11

_WS = re.compile(r"[ \t\n\r]*")
_WS_CHARS: Final = " \t\n\r"
# Characters that may continue a string without special handling (RFC 8259 section 7).
_STRING_RUN = re.compile(r'[^"\\\x00-\x1f]*')
# Characters a number token can contain; the token is validated once it is delimited.
_NUMBER_RUN = re.compile(r"[0-9eE.+\-]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
# The longest prefix of a number token that some continuation can still make a valid number
# (RFC 8259 section 6): the grammar is LL(1), so the greedy match is that prefix. A token
# whose run of number characters goes past it is refused at the first character that cannot
# belong (``--``, ``01``, ``1.2.``, ``1.e``), whether or not the token is complete yet.
_NUMBER_PREFIX = re.compile(
    r"-?(?:(?:0|[1-9][0-9]*)(?:\.(?:[0-9]+(?:[eE][+-]?[0-9]*)?)?|[eE][+-]?[0-9]*)?)?"
)
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_JSON_START = re.compile(r"[\[{]")
_ESCAPES: Final = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_LITERALS: Final = {"t": ("true", True), "f": ("false", False), "n": ("null", None)}
_NUMBER_START: Final = frozenset("-0123456789")
_AlwaysMatch = Callable[[str, int], "re.Match[str]"]


# These patterns end in `*`, so they always match: typed so, bound once.
_ws_match: _AlwaysMatch = _WS.match  # type: ignore[assignment]
_string_run: _AlwaysMatch = _STRING_RUN.match  # type: ignore[assignment]
_number_run: _AlwaysMatch = _NUMBER_RUN.match  # type: ignore[assignment]
_number_prefix: _AlwaysMatch = _NUMBER_PREFIX.match  # type: ignore[assignment]


# Limits. Defaults are generous for model output and still bound memory and work:
# - depth: CPython's json stops near 1000 (its recursion limit), serde_json at 128; model
#   output is rarely deeper than 20, and every level costs validation work later.
# - number length: CPython refuses to convert integers longer than 4300 digits
#   (sys.int_info.default_max_str_digits), so json.loads fails beyond it too. The limit in
#   force (sys.get_int_max_str_digits(), which an app may change) is checked on conversion.
# - size and string length: 64 MiB, thousands of times any structured output a model writes.
DEFAULT_MAX_DEPTH: Final = 512
DEFAULT_MAX_NUMBER_LENGTH: Final = 4300
DEFAULT_MAX_SIZE: Final = 64 * 1024 * 1024
DEFAULT_MAX_STRING_LENGTH: Final = 64 * 1024 * 1024


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _fitting(text: str, room: int) -> int:
    """How many characters of `text` fit whole in `room` UTF-8 bytes."""
    if room <= 0:
        return 0
    if text.isascii():
        return min(len(text), room)
    head = text.encode("utf-8", "surrogatepass")[:room]
    # A character cut at the end is held back by the incremental decoder: it does not fit.
    return len(codecs.getincrementaldecoder("utf-8")("surrogatepass").decode(head))


# The parser's state, shared by name between both scanners (slots here, C fields there).
_FIELDS: Final = (
    "_containers",
    "_decoder",
    "_documents",
    "_error",
    "_events",
    "_key",
    "_key_parts",
    "_lenient",
    "_multiple",
    "_max_depth",
    "_max_number_length",
    "_max_size",
    "_max_size_bytes",
    "_max_string",
    "_max_string_length",
    "_paths",
    "_pending",
    "_root",
    "_root_started",
    "_started",
    "_state",
    "_str_container",
    "_str_emitted",
    "_str_joined",
    "_str_len",
    "_str_parts",
    "_str_path",
    "_str_slot",
    "_pos_bytes",
    "_pos_column",
    "_pos_line",
)


class _ParserLogic:
    """What both scanners share: construction, the end of the stream, queries, errors.

    The state lives in the subclass: slots in `_PyParser`, C fields of the same names in
    `_speedups.ParserCore`. The annotations below declare it for type checkers.
    """

    # The slots are the subclasses' (a C struct or real slots); type checkers see them here.
    if TYPE_CHECKING:
        __slots__ = _FIELDS

        @property
        def value(self) -> Any: ...

        def _consume(self, text: str) -> list[Event]: ...

    else:
        __slots__ = ()

    _containers: list[Any]
    _decoder: codecs.IncrementalDecoder | None
    _documents: list[Any]
    _error: JSONParseError | None
    _events: bool
    _key: str
    _key_parts: list[str]
    _lenient: bool
    _multiple: bool
    _max_depth: int
    _max_number_length: int
    _max_size: int | None
    _max_size_bytes: int
    _max_string: int
    _max_string_length: int | None
    _paths: list[Any]  # paths, or keys and indexes with events off (see __init__)
    _pending: str
    _root: Any
    _root_started: bool
    _started: bool
    _state: int
    _str_container: Any
    _str_emitted: int
    _str_joined: int
    _str_len: int
    _str_parts: list[str]
    _str_path: JSONPath
    _str_slot: Any
    _pos_bytes: int
    _pos_column: int
    _pos_line: int

    def __init__(
        self,
        *,
        lenient: bool = False,
        multiple: bool = False,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_size: int | None = DEFAULT_MAX_SIZE,
        max_string_length: int | None = DEFAULT_MAX_STRING_LENGTH,
        max_number_length: int = DEFAULT_MAX_NUMBER_LENGTH,
        events: bool = True,
    ) -> None:
        if max_depth < 1 or max_number_length < 1:
            raise ValueError("max_depth and max_number_length must be at least 1")
        self._lenient = bool(lenient)
        self._multiple = bool(multiple)
        self._events = bool(events)
        # Limits are kept as given (for messages) and as machine-sized ints (for the
        # compiled core); a limit above sys.maxsize cannot be reached anyway.
        self._max_depth = min(max_depth, sys.maxsize)
        self._max_size = max_size
        self._max_size_bytes = sys.maxsize if max_size is None else min(max_size, sys.maxsize)
        self._max_string_length = max_string_length
        self._max_string = (
            sys.maxsize if max_string_length is None else min(max_string_length, sys.maxsize)
        )
        self._max_number_length = min(max_number_length, sys.maxsize)
        self._state = _SKIP if lenient else _VALUE
        self._containers: list[Any] = []  # open arrays and objects, outermost first
        # The path of each open container; with events off, only its key or index (no event
        # needs the whole path then, and building it costs as much as the rest): the
        # queries rebuild paths from these (_path_to).
        self._paths: list[Any] = []
        self._key: str = ""  # the key whose value comes next, in the innermost object
        self._key_parts: list[str] = []
        self._pending = ""  # an unfinished token held back for the next chunk
        self._root: Any = None
        self._root_started = False
        self._documents: list[Any] = []
        # The open string: its parts, where it lives, and how much of it is already shown.
        self._str_parts: list[str] = []
        self._str_container: Any = None
        self._str_slot: Any = None
        self._str_path: JSONPath = ()  # () with events off: _open_string_path rebuilds it
        self._str_len = 0
        self._str_joined = 0  # parts already joined into the slot (by reading `value`)
        self._str_emitted = 0  # parts already reported by StringAppended events
        self._decoder: codecs.IncrementalDecoder | None = None
        self._error: JSONParseError | None = None
        self._started = False  # a leading byte order mark is dropped once, at the start
        # Position of the first character not yet consumed (for error messages).
        self._pos_bytes = 0
        self._pos_line = 1
        self._pos_column = 1

    # ------------------------------------------------------------------ public API
    def close(self) -> list[Event]:
        """End the stream; return the events the end caused (a number at the very end
        completes now). Read the final value from `value` (or call `finish` instead).

        Raises:
            IncompleteJSONError: the input ended inside a value (``.partial`` holds it).
            LimitExceededError: the number ending the input is an integer with more digits
                than the interpreter converts (``sys.get_int_max_str_digits()``).
            UsageError: the stream was already closed, or the parser failed earlier.
        """
        if self._state >= _ERROR:
            self._refuse()
        if self._decoder is not None:
            self._decode(b"", final=True)
        events: list[Event] = []
        if self._state in (_VALUE, _ARRAY_FIRST) and _NUMBER.fullmatch(self._pending):
            # A number at the very end of the input is complete now: delimit it. The space
            # is not input: it counts against no limit and not in `offset`.
            self._max_size_bytes = sys.maxsize
            events = self._consume(" ")
            self._pos_bytes -= 1
            self._pos_column -= 1
        state = self._state
        nothing_open = not self._pending and not self._containers
        if state == _DONE or (
            self._multiple and (state == _SKIP or (state == _VALUE and nothing_open))
        ):
            self._state = _FINISHED
            return events
        started = self._root_started or self._pending or state == _KEY_STRING
        what = "the input ended inside a value" if started else "no JSON value found"
        self._fail(what, "", 0, IncompleteJSONError)

    def finish(self) -> Any:
        """End the stream and return the final value (`close`, then `value`).

        In `multiple` mode, returns the list of all documents of the stream.

        Raises:
            IncompleteJSONError: the input ended inside a value (``.partial`` holds it).
            LimitExceededError: the number ending the input is an integer with more digits
                than the interpreter converts (``sys.get_int_max_str_digits()``).
            UsageError: the stream was already closed, or the parser failed earlier.
        """
        self.close()
        return list(self._documents) if self._multiple else self._root

    @property
    def done(self) -> bool:
        """True once the (last) root value is complete."""
        return self._state == _DONE or self._state == _FINISHED

    @property
    def current_path(self) -> JSONPath | None:
        """The path of the innermost value being written now (``None`` when none is open)."""
        if self._state == _STRING:
            return self._open_string_path()
        if self._paths:
            return self._path_to(len(self._paths) - 1)
        return None

    @property
    def open_paths(self) -> list[JSONPath]:
        """Paths of every value still open, outermost first (containers, then a string)."""
        paths = [self._path_to(depth) for depth in range(len(self._paths))]
        if self._state == _STRING:
            paths.append(self._open_string_path())
        return paths

    def state_of(self, path: JSONPath) -> ValueState:
        """Whether the value at `path` is ``"pending"`` (not visible yet), ``"streaming"``
        (visible and still growing) or ``"complete"``."""
        if path in self.open_paths:
            return "streaming"
        if not self._root_started:
            return "pending"
        node: Any = self.value
        for segment in path:
            try:
                node = node[segment]
            except (KeyError, IndexError, TypeError):
                return "pending"
        return "complete"

    def is_complete(self, path: JSONPath) -> bool:
        """True when the value at `path` has arrived whole."""
        return self.state_of(path) == "complete"

    @property
    def offset(self) -> int:
        """UTF-8 bytes consumed so far (a held-back unfinished token not included)."""
        return self._pos_bytes

    # ------------------------------------------------------------------ internals
    def _path_to(self, depth: int) -> JSONPath:
        """The path of the open container at `depth` (0: the root container)."""
        if self._events:
            path: JSONPath = self._paths[depth]
            return path
        return tuple(self._paths[1 : depth + 1])  # the root's entry is ()

    def _open_string_path(self) -> JSONPath:
        if self._events:
            return self._str_path
        if self._str_container is None:
            return ()
        return (*self._path_to(len(self._paths) - 1), self._str_slot)

    def _prepare_text(self, data: str | bytes) -> str:
        """The text of `data`: bytes decoded (a character may be split between calls)."""
        if type(data) is str:
            if self._decoder is not None and self._decoder.getstate()[0]:
                self._fail("text fed after bytes that ended inside a UTF-8 character", "", 0)
            return data
        if isinstance(data, bytes | bytearray | memoryview):
            return self._decode(bytes(data), final=False)
        if isinstance(data, str):
            return str(data)
        raise TypeError(f"feed() takes str or bytes, not {type(data).__name__}")

    def _decode(self, data: bytes, *, final: bool) -> str:
        decoder = self._decoder
        if decoder is None:
            decoder = self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            return decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            # exc.start counts from the first byte the decoder still held, which is where
            # the text consumed so far (and the held-back token) ends.
            bad = exc.object[exc.start : exc.end]
            self._fail(
                f"{'truncated' if final else 'invalid'} UTF-8 byte sequence {bad!r}",
                self._pending,
                len(self._pending),
                IncompleteJSONError if final else JSONParseError,
                byte_delta=exc.start,
                cause=exc,
            )

    def _refuse(self) -> None:
        if self._error is not None:
            raise UsageError(
                f"the parser stopped at an earlier error ({self._error.what}); "
                "create a new JSONParser to parse another document"
            ) from self._error
        raise UsageError("the parser is finished; create a new JSONParser for another document")

    def _escape(self, s: str, pos: int) -> tuple[str, int]:
        """Decode the escape at `pos`; ``("", 0)`` when it is not complete in `s` yet."""
        n = len(s)
        if pos + 1 >= n:
            return "", 0
        e = s[pos + 1]
        if e != "u":
            char = _ESCAPES.get(e)
            if char is None:
                self._fail(f"invalid escape '\\{e}'", s, pos)
            return char, 2
        if pos + 6 > n:
            if not _HEX4.match(s[pos + 2 :].ljust(4, "0")):
                self._fail("invalid \\u escape: four hex digits expected", s, pos)
            return "", 0
        if not _HEX4.match(s, pos + 2):
            self._fail("invalid \\u escape: four hex digits expected", s, pos)
        code = int(s[pos + 2 : pos + 6], 16)
        if 0xD800 <= code < 0xDC00:
            # A high surrogate must be followed by the escape of a low surrogate.
            rest = s[pos + 6 : pos + 12]
            if not "\\u".startswith(rest[:2]):
                self._fail("lone surrogate escape (no low surrogate follows)", s, pos)
            if len(rest) < 6:
                if not _HEX4.match(rest[2:].ljust(4, "0")):
                    self._fail("invalid \\u escape: four hex digits expected", s, pos + 6)
                return "", 0
            if not _HEX4.match(rest, 2):
                self._fail("invalid \\u escape: four hex digits expected", s, pos + 6)
            low = int(rest[2:], 16)
            if not 0xDC00 <= low < 0xE000:
                self._fail("lone surrogate escape (no low surrogate follows)", s, pos)
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), 12
        if 0xDC00 <= code < 0xE000:
            self._fail("lone low surrogate escape", s, pos)
        return chr(code), 6

    def _fail(
        self,
        what: str,
        s: str,
        pos: int,
        cls: type[JSONParseError] = JSONParseError,
        *,
        byte_delta: int = 0,
        cause: BaseException | None = None,
    ) -> NoReturn:
        """Raise `cls` for position `pos` of `s`, the text starting at the first character
        not yet consumed (the held-back token, then the new text)."""
        before = s[:pos]
        line = self._pos_line
        column = self._pos_column
        newlines = before.count("\n")
        if newlines:
            line += newlines
            column = len(before) - before.rfind("\n")
        else:
            column += len(before)
        error = cls(
            what,
            offset=self._pos_bytes + _utf8_len(before) + byte_delta,
            line=line,
            column=column,
            path=self.current_path or (),
            partial=self.value,
        )
        self._error = error
        self._state = _ERROR
        if cause is not None:
            raise error from cause
        raise error

    def _fail_long_int(self, s: str, pos: int, end: int, cause: BaseException | None) -> NoReturn:
        """Raise for the integer ``s[pos:end]``: more digits than `int()` converts here."""
        digits = end - pos - (s[pos] == "-")
        self._fail(
            f"integer of {digits} digits, more than this interpreter converts "
            f"(sys.get_int_max_str_digits() is {sys.get_int_max_str_digits()}): raise the "
            "limit with sys.set_int_max_str_digits() or PYTHONINTMAXSTRDIGITS",
            s,
            pos,
            LimitExceededError,
            cause=cause,
        )


class _PyParser(_ParserLogic):
    """The pure-Python scanner: the reference implementation, and the fallback when the
    compiled core (`_speedups.ParserCore`, the same state machine in C) is not built."""

    __slots__ = _FIELDS

    def feed(self, data: str | bytes, /) -> list[Event]:
        """Consume the next piece of the document.

        Args:
            data: text, or UTF-8 bytes (a character may be split between calls).

        Returns:
            The events this piece caused, in document order (possibly none).

        Raises:
            JSONParseError: the input is not valid JSON (offset, line, column, path); a
                number is refused at the first character that no number can continue with.
            LimitExceededError: a configured limit was exceeded, or an integer has more
                digits than the interpreter converts (``sys.get_int_max_str_digits()``).
            UsageError: the parser already finished or failed.
        """
        if self._state >= _ERROR:
            self._refuse()
        text = data if type(data) is str and self._decoder is None else self._prepare_text(data)
        if not self._started:
            if not text:
                return []
            self._started = True
            if text[0] == "\ufeff":  # RFC 8259 section 8.1: a parser may ignore a BOM
                text = text[1:]
                self._pos_bytes += 3
        elif self._state == _STRING and not self._pending:
            # Fast path: most chunks of model output fall inside a string. When the whole
            # chunk is plain string text, skip the state machine: one regex, one event.
            n = len(text)
            if n and _string_run(text, 0).end() == n:
                size = _utf8_len(text)
                # Over a limit: the general path reports it where it is crossed.
                if (
                    self._str_len + n <= self._max_string
                    and self._pos_bytes + size <= self._max_size_bytes
                ):
                    parts = self._str_parts
                    parts.append(text)
                    self._str_len += n
                    self._pos_bytes += size
                    self._pos_column += n  # a plain run holds no newline
                    if not self._events:
                        return []
                    if self._str_emitted == len(parts) - 1:
                        self._str_emitted += 1
                        return [StringAppended(self._str_path, text)]
                    out: list[Event] = []
                    self._emit_string_text(out)
                    return out
        return self._consume(text)

    @property
    def value(self) -> Any:
        """The partial value so far (``None`` before anything is visible).

        A live view: the parser changes it in place as more input arrives (it is the
        parser's state, not an update; `stream()` updates hand out snapshots instead).
        Copy it to keep the state of one moment.
        """
        if self._str_joined != len(self._str_parts) and self._state == _STRING:
            self._join_open_string()
        return self._root

    def _join_open_string(self) -> None:
        parts = self._str_parts
        all_emitted = self._str_emitted == len(parts)
        joined = "".join(parts)
        parts[:] = [joined] if joined else []
        self._str_joined = len(parts)
        self._str_emitted = len(parts) if all_emitted else 0
        if self._str_container is None:
            self._root = joined
        else:
            self._str_container[self._str_slot] = joined

    def _consume(self, text: str) -> list[Event]:
        """Scan `text` (after the held-back token, if any) and apply it to the value."""
        pending = self._pending
        if pending:
            s = pending + text
            self._pending = ""
        else:
            s = text
        # max_size counts the input received, held-back text included: only what fits is
        # scanned, and the first character beyond the limit is refused (in any split).
        # A character is at most 4 bytes: far from the limit, nothing is counted here.
        fits = len(s)
        if 4 * fits > self._max_size_bytes - self._pos_bytes:
            fits = _fitting(s, self._max_size_bytes - self._pos_bytes)
            if fits < len(s):
                s = s[:fits]
                fits = -1
        out: list[Event] = []
        pos = self._scan(s, out)
        if pos < len(s):
            self._pending = s[pos:]
            s = s[:pos]
        # Track where the unconsumed text starts, for error messages: C-level scans only.
        self._pos_bytes += _utf8_len(s)
        newlines = s.count("\n")
        if newlines:
            self._pos_line += newlines
            self._pos_column = len(s) - s.rfind("\n")
        else:
            self._pos_column += len(s)
        if fits < 0:
            self._fail(
                f"document larger than max_size={self._max_size} bytes",
                self._pending,
                len(self._pending),
                LimitExceededError,
            )
        if not self._events:
            return []  # the events built on the way carry keys for paths (see _place)
        if self._str_emitted < len(self._str_parts) and self._state == _STRING:
            self._emit_string_text(out)
        return out

    def _emit_string_text(self, out: list[Event]) -> None:
        parts = self._str_parts
        start = self._str_emitted
        piece = parts[start] if len(parts) - start == 1 else "".join(parts[start:])
        self._str_emitted = len(parts)
        if piece:
            out.append(StringAppended(self._str_path, piece))

    def _scan(self, s: str, out: list[Event]) -> int:
        """Run the state machine over `s`; return how far it got (the rest is held back)."""
        n = len(s)
        pos = 0
        state = self._state
        containers = self._containers
        paths = self._paths
        ws_match = _ws_match
        string_run = _string_run
        max_string = self._max_string
        while pos < n:
            if state == _STRING:
                end = string_run(s, pos).end()
                if end > pos:
                    if end - pos > max_string - self._str_len:
                        self._string_too_long(s, pos, self._str_parts, state)
                    self._str_parts.append(s[pos:end])
                    self._str_len += end - pos
                    pos = end
                    if pos >= n:
                        break
                c = s[pos]
                if c == '"':
                    pos += 1
                    parts = self._str_parts
                    if self._events and self._str_emitted < len(parts):
                        self._emit_string_text(out)  # (with events off, no second join)
                    final = parts[0] if len(parts) == 1 else "".join(parts)
                    parts.clear()
                    self._str_joined = self._str_emitted = 0
                    container = self._str_container
                    if container is None:
                        self._root = final
                    else:
                        container[self._str_slot] = final
                    out.append(ValueCompleted(self._str_path, final))
                    if containers:
                        state = _AFTER_VALUE
                    else:
                        state = self._root_done(out)
                        if state < 0:
                            return n  # lenient: whatever follows the root value is not ours
                    continue
                if c == "\\":
                    self._state = state
                    decoded, used = self._escape(s, pos)
                    if not used:
                        break  # an unfinished escape: hold it back
                    if self._str_len >= max_string:  # an escape is one character
                        self._string_too_long(s, pos, self._str_parts, state)
                    self._str_parts.append(decoded)
                    self._str_len += 1
                    pos += used
                    continue
                self._state = state
                self._fail(f"control character {c!r} in a string", s, pos)

            c = s[pos]
            if c in _WS_CHARS and state != _KEY_STRING:
                pos = ws_match(s, pos).end()
                if pos >= n:
                    break
                c = s[pos]

            if state == _AFTER_VALUE:
                container = containers[-1]
                if c == ",":
                    pos += 1
                    state = _KEY if type(container) is dict else _VALUE
                    continue
                if c == ("}" if type(container) is dict else "]"):
                    pos += 1
                    containers.pop()
                    out.append(ValueCompleted(paths.pop(), container))
                    if not containers:
                        state = self._root_done(out)
                        if state < 0:
                            return n  # lenient: whatever follows the root value is not ours
                    continue
                self._state = state
                expected = "',' or '}'" if type(container) is dict else "',' or ']'"
                self._fail(f"expected {expected}, found {c!r}", s, pos)

            if state == _VALUE or state == _ARRAY_FIRST:
                if c == '"':
                    pos += 1
                    self._open_string(out)
                    state = _STRING
                    continue
                if c == "{" or c == "[":
                    pos += 1
                    if len(containers) >= self._max_depth:
                        self._state = state
                        self._fail(
                            f"nesting deeper than max_depth={self._max_depth}",
                            s,
                            pos - 1,
                            LimitExceededError,
                        )
                    new: Any = {} if c == "{" else []
                    path = self._place(new)
                    containers.append(new)
                    paths.append(path)
                    out.append(ValueStarted(path, "object" if c == "{" else "array"))
                    state = _OBJECT_FIRST if c == "{" else _ARRAY_FIRST
                    continue
                if c in _NUMBER_START:
                    end = _number_run(s, pos).end()
                    if end >= n or end - pos > self._max_number_length:
                        self._number_held_back(s, pos, end, state)
                        break  # the number may go on in the next chunk
                    token = s[pos:end]
                    if _INT.fullmatch(token):
                        try:
                            number: Any = int(token)
                        except ValueError as exc:  # over sys.get_int_max_str_digits()
                            self._state = state
                            self._fail_long_int(s, pos, end, exc)
                    elif _NUMBER.fullmatch(token):
                        number = float(token)
                    else:
                        self._state = state
                        self._invalid_number(s, pos, end)
                    pos = end
                    path = self._place(number)
                    out.append(ValueCompleted(path, number))
                    if containers:
                        state = _AFTER_VALUE
                    else:
                        state = self._root_done(out)
                        if state < 0:
                            return n  # lenient: whatever follows the root value is not ours
                    continue
                literal = _LITERALS.get(c)
                if literal is not None:
                    word, lit_value = literal
                    end = pos + len(word)
                    if s.startswith(word, pos):
                        pos = end
                        path = self._place(lit_value)
                        out.append(ValueCompleted(path, lit_value))
                        if containers:
                            state = _AFTER_VALUE
                        else:
                            state = self._root_done(out)
                            if state < 0:
                                return n  # lenient: whatever follows the root value is not ours
                        continue
                    if end > n and word.startswith(s[pos:]):
                        break  # an unfinished literal: hold it back
                    self._state = state
                    self._fail(f"invalid literal, expected {word!r}", s, pos)
                if c == "]" and state == _ARRAY_FIRST:
                    pos += 1
                    container = containers.pop()
                    out.append(ValueCompleted(paths.pop(), container))
                    if containers:
                        state = _AFTER_VALUE
                    else:
                        state = self._root_done(out)
                        if state < 0:
                            return n  # lenient: whatever follows the root value is not ours
                    continue
                self._state = state
                if c == "]":
                    self._fail("trailing comma before ']'", s, pos)
                self._fail(f"expected a value, found {c!r}", s, pos)

            if state == _OBJECT_FIRST or state == _KEY:
                if c == '"':
                    pos += 1
                    end = string_run(s, pos).end()
                    if end < n and s[end] == '"' and end - pos <= max_string:
                        # The whole key is in this chunk: the common case, no parts list.
                        # (A key over the limit takes the general path, which reports it.)
                        self._key = s[pos:end]
                        pos = end + 1
                        state = _COLON
                    else:
                        self._key_parts = []
                        self._str_len = 0
                        state = _KEY_STRING
                    continue
                if c == "}" and state == _OBJECT_FIRST:
                    pos += 1
                    container = containers.pop()
                    out.append(ValueCompleted(paths.pop(), container))
                    if containers:
                        state = _AFTER_VALUE
                    else:
                        state = self._root_done(out)
                        if state < 0:
                            return n  # lenient: whatever follows the root value is not ours
                    continue
                self._state = state
                if c == "}":
                    self._fail("trailing comma before '}'", s, pos)
                self._fail(f"expected a string key, found {c!r}", s, pos)

            if state == _COLON:
                if c == ":":
                    pos += 1
                    state = _VALUE
                    continue
                self._state = state
                self._fail(f"expected ':' after a key, found {c!r}", s, pos)

            if state == _KEY_STRING:
                end = string_run(s, pos).end()
                if end > pos:
                    if end - pos > max_string - self._str_len:
                        self._string_too_long(s, pos, self._key_parts, state)
                    self._key_parts.append(s[pos:end])
                    self._str_len += end - pos
                    pos = end
                    if pos >= n:
                        break
                    c = s[pos]
                if c == '"':
                    pos += 1
                    self._key = "".join(self._key_parts)
                    self._key_parts = []
                    state = _COLON
                    continue
                if c == "\\":
                    self._state = state
                    decoded, used = self._escape(s, pos)
                    if not used:
                        break
                    if self._str_len >= max_string:  # an escape is one character
                        self._string_too_long(s, pos, self._key_parts, state)
                    self._key_parts.append(decoded)
                    self._str_len += 1
                    pos += used
                    continue
                self._state = state
                self._fail(f"control character {c!r} in a key", s, pos)

            if state == _DONE:
                if self._lenient and not self._multiple:
                    return n  # lenient: whatever follows the root value is not ours
                if self._multiple:
                    state = _SKIP if self._lenient else _VALUE
                    self._root_started = False
                    continue
                self._state = state
                self._fail(f"extra data after the JSON value: {c!r}", s, pos)

            if state == _SKIP:
                match = _JSON_START.search(s, pos)
                if match is None:
                    pos = n
                    break
                pos = match.start()
                state = _VALUE
                continue

            raise AssertionError(f"unreachable parser state {state}")  # pragma: no cover
        self._state = state
        return pos

    def _string_too_long(self, s: str, pos: int, parts: list[str], state: int) -> NoReturn:
        """Raise for the string or key whose next characters start at `pos` of `s` and go
        past `max_string_length`: at the first character beyond it (a plain one or an
        escape), with the string cut there in the partial value, whatever the split."""
        room = max(self._max_string - self._str_len, 0)
        if room:
            parts.append(s[pos : pos + room])
        self._state = state
        what = "key" if state == _KEY_STRING else "string"
        self._fail(
            f"{what} longer than max_string_length={self._max_string_length}",
            s,
            pos + room,
            LimitExceededError,
        )

    def _number_held_back(self, s: str, pos: int, end: int, state: int) -> None:
        """Check the number ``s[pos:end]`` (its run of number characters) before it is held
        back for the next chunk: raise if no continuation can make it a number, or if it
        is over `max_number_length` (whichever a character-by-character feed meets first,
        so that any split gives the same error)."""
        good = _number_prefix(s, pos).end()
        max_length = self._max_number_length
        if good < end and good - pos <= max_length:
            self._state = state
            self._fail(f"invalid number {s[pos : good + 1]!r}", s, pos)
        if end - pos > max_length:
            self._state = state
            self._fail(
                f"number longer than max_number_length={max_length}", s, pos, LimitExceededError
            )

    def _invalid_number(self, s: str, pos: int, end: int) -> NoReturn:
        """Raise for the delimited number run ``s[pos:end]``: name it up to the first
        character that cannot belong, or whole when it was cut short (``1.``, ``-``)."""
        good = _number_prefix(s, pos).end()
        self._fail(f"invalid number {s[pos : min(good + 1, end)]!r}", s, pos)

    def _place(self, value: Any) -> Any:
        """Put a newly visible value into its parent; return its path (with events off,
        only its key or index: see `_paths`)."""
        containers = self._containers
        if not containers:
            self._root = value
            self._root_started = True
            return ()
        parent = containers[-1]
        if type(parent) is dict:
            key = self._key
            parent[key] = value
            return (*self._paths[-1], key) if self._events else key
        parent.append(value)
        return (*self._paths[-1], len(parent) - 1) if self._events else len(parent) - 1

    def _open_string(self, out: list[Event]) -> None:
        containers = self._containers
        if not containers:
            self._str_container = None
            self._str_slot = None
        else:
            parent = containers[-1]
            self._str_container = parent
            self._str_slot = self._key if type(parent) is dict else len(parent)
        path = self._place("")
        if self._events:
            self._str_path = path
        self._str_len = 0
        self._str_parts.clear()
        self._str_joined = self._str_emitted = 0
        self._state = _STRING
        out.append(ValueStarted(path, "string"))

    def _root_done(self, out: list[Event]) -> int:
        """The root value closed: report the document; return the next state, or -1 when
        the rest of the input is to be ignored (lenient mode, one document)."""
        self._state = _DONE
        self._document_done(out)
        if self._lenient and not self._multiple:
            return -1
        return _DONE

    def _document_done(self, out: list[Event]) -> None:
        root = self._root
        index = len(self._documents)
        if self._multiple:
            self._documents.append(root)
        out.append(DocumentCompleted(root, index))


def _compiled_base() -> type[_PyParser] | None:
    """The compiled scanner under the shared logic, or None when it is not available.

    ``STREAMDANTIC_PURE_PYTHON=1`` in the environment selects the pure-Python scanner.
    """
    if os.environ.get("STREAMDANTIC_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from . import _speedups
    except ImportError:
        return None
    _speedups.setup(
        ValueStarted, StringAppended, ValueCompleted, DocumentCompleted, LimitExceededError
    )
    base: type[_PyParser] = type(
        "_CParser", (_speedups.ParserCore, _ParserLogic), {"__slots__": (), "__module__": __name__}
    )
    return base


_CParser = _compiled_base()
COMPILED: Final = _CParser is not None
"""True when `JSONParser` runs on the compiled scanner (`streamdantic._speedups`)."""

if TYPE_CHECKING:
    _Base = _PyParser
else:
    _Base = _PyParser if _CParser is None else _CParser


class JSONParser(_Base):
    """Incremental, sans-IO partial-JSON parser.

    Feed it JSON text in any split (str, or UTF-8 bytes split anywhere, even inside a
    character); after every `feed` the `value` attribute is the partial value so far and the
    returned events say what changed. Nothing shown is ever taken back: strings only grow,
    numbers and literals appear only complete, and nothing changes type or disappears.

    Args:
        lenient: skip any text before the first ``{`` or ``[`` (prose, a ```` ```json ````
            fence) and ignore everything after the root value (a closing fence, a remark).
        multiple: accept several documents in one stream (JSON Lines, or concatenated
            values); each completed document produces a `DocumentCompleted` event.
        max_depth: deepest nesting of arrays and objects allowed.
        max_size: largest input accepted, in UTF-8 bytes, the whole stream (``None``: no
            limit). Counted as the input arrives, an unfinished token held back for the next
            chunk included; the first character beyond it is refused.
        max_string_length: longest string or key, in characters of its value, after
            unescaping: an escape (``\\n``, ``\\u00e9``, a surrogate pair such as
            ``\\ud83d\\ude00``) is the one character it stands for (``None``: no limit).
        max_number_length: longest number token, in characters. Integers are also bound by
            the interpreter's limit on converting digits (``sys.get_int_max_str_digits()``,
            4300 by default): a longer one raises `LimitExceededError` naming it.
        events: build events (the default). With ``events=False``, `feed` and `close`
            return empty lists and build no event objects or JSON paths, for consumers that
            only read `value` (a live view re-rendered per chunk): about half the cost per
            chunk on nested documents. The queries (`current_path`, `open_paths`,
            `state_of`) and the errors are the same either way.

    The partial `value` is a live view, updated in place: copy it if you need to keep a
    snapshot of an earlier state.

    The state machine is compiled (`streamdantic._speedups`, built from C when the package
    is installed) when available, and pure Python otherwise: the same events, values and
    errors either way (`streamdantic._parser.COMPILED` tells which runs).
    """

    __slots__ = ()


class PyJSONParser(_PyParser):
    """`JSONParser` on the pure-Python scanner, whatever is built (for tests and comparison)."""

    __slots__ = ()


def parse_partial(text: str | bytes, /, **options: Any) -> Any:
    """Return the partial value of a JSON prefix (``None`` when nothing is visible yet).

    Follows the parser's contract: a number or literal at the very end of `text` is not
    shown, since more digits may follow. Keyword options are those of `JSONParser`.

    Raises:
        JSONParseError: the prefix cannot start a valid JSON document (a number is refused
            at the first character no number can continue with: ``[01``, ``[1.2.``).
        LimitExceededError: a limit was exceeded (see `JSONParser`).
    """
    options.setdefault("events", False)
    parser = JSONParser(**options)
    parser.feed(text)
    return parser.value
