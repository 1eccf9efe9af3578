"""Batch collection: validated items, one at a time, from a large JSON document or JSON Lines.

`ItemCollector` is the sans-IO core (bytes in, validated items out); `collect` and `acollect`
are its sync and async loops over a path, a file, bytes or an iterable of chunks.

Strategy / invariants:
- JSON documents are parsed by ijson's push interface, on its C backend (yajl2_c) when it is
  installed: the C parser builds each item under the prefix as plain dicts and lists, and
  pydantic validates it. Memory is one chunk plus the items that chunk completes, whatever
  the size of the document.
- `collect` reads a document from a path, bytes or a seekable file with ijson's pull parser
  instead (`_collect_pull`): its C pipeline makes no Python call per parse event, and is
  about 2.4 times faster than the push coroutines. It reads, through `_PullReader`, the
  slices that `feed` would push (the same pre-scan and cuts), so items, offsets and limits
  match. The first JSON error sends it back to the start of the source, through the push
  path, which locates the error and delivers the items not yet delivered; the pull parser
  is released first. `acollect` runs the same pull path in a worker thread
  (`_threads.iterate_in_thread`), a batch of at most `_THREAD_BATCH` items (and one read's
  worth) per thread hop.
- An error leaving a loop leaves no reference cycle (`_release`): the collector drops it
  and the frames of its causes drop their locals, so the source, the held token and the
  parser are freed when the caller drops the error, not at the next run of the cyclic GC.
- Numbers are parsed with ``use_float=True``: integers stay ints and other numbers become
  floats, correctly rounded as `json.loads` does, so items validate as they would from JSON
  text (no Decimal). The C parser refuses integers outside the signed 64-bit range and
  floats beyond a double; that is reported as `LimitExceededError`.
- Validation is ``validate_python`` of the parsed item, which equals validating its JSON text
  in lax mode. Strict mode (and ``val_json_bytes``) accept other inputs from JSON than from
  Python objects, so when the schema uses them each item is re-serialized with `json.dumps`
  and validated as JSON: exact, and about 1.4 times the total time on typical records.
- ijson's C parser has no limits, and lexes a token split across pushes again from its
  start at every push. So every byte goes first through the pre-scan (`_limits.prescan`,
  compiled in `_speedups`): it enforces `max_depth`, `max_string_length` and
  `max_number_length` (and `max_size` is counted here), and proposes where the bytes may be
  cut: only between tokens. The token still open at the end of a chunk is held back
  (`_held`) until it closes, so yajl lexes every byte once: linear time in any chunk size,
  and memory bound by the limits. A limit crossed raises `LimitExceededError` at the byte
  that crossed it, after the bytes before it were pushed (an earlier syntax error wins).
- ijson reports no byte positions. The bytes are pushed up to a cut at each multiple of
  `_OFFSET_STEP` (that offset, or the start of the token spanning it), so an item is
  located to the slice in which it completed: its reported offset is the end of that slice,
  and the item ends at most `_OFFSET_STEP` bytes before it. A parse error is located
  exactly, from the context that yajl prints in its message.
- JSON Lines are decoded by one incremental UTF-8 decoder and split by the code base's one
  line splitter (`_sse.LineSplitter`); each line is validated with ``validate_json``. Line
  numbers and byte offsets are exact; offsets are computed only when a line fails. The
  pre-scan runs there too (for the limits only), starting afresh at every line ending.
- The `item` path (``$.results[*]``, the notation of `_paths`) becomes the ijson prefix
  (``results.item``: keys joined with dots, each ``[*]`` an ``item``). A path with one array
  level (``$[*]``, ``$.results[*]``) is the prefix's keys plus the item's index. With several
  array levels (``groups.item.members.item``) the enclosing indices are tracked from ijson's
  parse events in Python, which is slower.
- Errors never lose items: `feed` returns the items that precede an error and raises it at
  the next call. After an error the collector is terminal and every call raises it again.
"""

from __future__ import annotations

import codecs
import contextlib
import inspect
import json
import os
import re
import sys
import traceback
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Callable,
    Generator,
    Iterable,
    Iterator,
)
from dataclasses import KW_ONLY, dataclass, fields
from typing import (
    Any,
    ClassVar,
    Final,
    Generic,
    Literal,
    NoReturn,
    Protocol,
    Self,
    TypeAlias,
    TypedDict,
    TypeVar,
    Unpack,
    overload,
)

import anyio
import anyio.lowlevel
import anyio.to_thread
import ijson  # type: ignore[import-untyped]
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from ._exceptions import (
    IncompleteJSONError,
    JSONParseError,
    LimitExceededError,
    StreamValidationError,
    UsageError,
)
from ._iterators import AsyncGeneratorIterator, GeneratorIterator
from ._limits import DEPTH, NUMBER, STRING, new_state, prescan
from ._options import check_options, rename_options, warn_deprecated
from ._parser import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_NUMBER_LENGTH,
    DEFAULT_MAX_STRING_LENGTH,
    _utf8_len,
)
from ._paths import WILDCARD, JSONPath, PathLike, parse_path, render_path
from ._threads import iterate_in_thread
from .sse._codec import _LINE_ENDING, LineSplitter

__all__ = [
    "AsyncCollectIterator",
    "CollectIterator",
    "CollectOptions",
    "CollectorOptions",
    "ItemCollector",
    "SkippedItem",
    "acollect",
    "collect",
]

T = TypeVar("T")

ErrorMode: TypeAlias = Literal["raise", "skip"]
_ERROR_MODES: Final = ("raise", "skip")


def _load_backend() -> Any:
    # yajl2_c is the fastest backend by far. Without it (PyPy, a build without the C
    # extension) ijson's own default is the best one available; no warning is issued, the
    # backend in use is `ItemCollector.backend`.
    try:
        return ijson.get_backend("yajl2_c")
    except ImportError:  # pragma: no cover - the C backend is installed here
        return ijson.get_backend(ijson.backend_name)


_BACKEND: Any = _load_backend()

# Items are located to within this many bytes (see the module comment). Each slice is a
# push (or, on the pull path, a Python read() call): 1 KiB slices cost `collect` about 5%
# against 4 KiB ones on records (50 MB, in-process, medians of five: 1.025 CPU s vs 0.976;
# 16 KiB: 0.965), which put it behind a hand-written ijson.items loop (1.007).
_OFFSET_STEP: Final = 4096
DEFAULT_CHUNK_SIZE: Final = 64 * 1024
# `acollect`'s pull path hands over at most this many items per worker-thread hop (and at
# most one read's worth): enough that the hop costs little per item, few enough that the
# event loop side never holds many validated items at once.
_THREAD_BATCH: Final = 256

# Limits: the defaults of `JSONParser` (see the comment on them in _parser), which bound the
# memory and work of one item, except the size of the whole input. Collection streams, so its
# memory does not grow with the input (the benchmark collects 200 MB in a few MB): no limit by
# default, as for ijson and for pydantic reading a file; a service collecting uploads sets one.
DEFAULT_MAX_SIZE: Final = None
_SIZE: Final = 4  # the limit kind of max_size (the pre-scan reports the other three)

# ijson's parse events that start a value (and so a new element when inside an array).
_VALUE_STARTS: Final = frozenset(
    ("start_map", "start_array", "string", "number", "boolean", "null")
)
# Messages of ijson backends for numbers out of their range (yajl and the python backend).
_OVERFLOW = re.compile(r"integer overflow|numeric \(floating point\) overflow|float overflow")
# pydantic's json_invalid error ends with the position in the line, a 1-based byte column.
_JSON_POSITION = re.compile(r" at line (\d+) column (\d+)\Z")
# UTF-8 continuation bytes: deleting them from a byte string leaves one byte per character.
_CONTINUATION_BYTES: Final = bytes(range(0x80, 0xC0))
_MAX_REPORTED_ERRORS: Final = 10
# An ijson prefix (the deprecated form of `item`): dot-separated keys, no brackets or $.
_LEGACY_PREFIX = re.compile(r"[^$\[\]\"]*\Z")


@dataclass(frozen=True, slots=True, repr=False)
class SkippedItem:
    """An item that failed validation and was skipped (``on_invalid="skip"``).

    Attributes:
        index: the item's position among all items found so far, skipped ones included
            (0-based).
        path: its JSON path, as a tuple; ``("results", 41)`` renders as ``$.results[41]``.
            In JSON Lines mode the lines form the array: ``(41,)``.
        offset: a byte offset from the start of the input. JSON Lines: exactly where the
            line's text ends. JSON documents: the end of the slice of input that completed
            the item; the item ends at most 4 KiB before it.
        errors: pydantic's errors (``ValidationError.errors()`` without URLs); each ``loc``
            starts with `path`. A JSON Lines line that is not JSON has one ``json_invalid``
            error.
        line: the 1-based line number in JSON Lines mode; None for JSON documents.
    """

    index: int
    path: JSONPath
    offset: int
    errors: tuple[ErrorDetails, ...]
    _: KW_ONLY
    line: int | None = None

    def __repr__(self) -> str:
        args = ", ".join(
            f"{field.name}={getattr(self, field.name)!r}"
            for field in fields(self)
            if field.name != "_" and not (field.name == "line" and self.line is None)
        )
        return f"{type(self).__name__}({args})"


class CollectorOptions(TypedDict, total=False):
    """The options of `ItemCollector` (and of `collect`/`acollect`, see `CollectOptions`),
    written once.

    Attributes:
        item: the path of the items in a JSON document, in the notation of every path in
            streamdantic: ``"$[*]"`` (the default) for the elements of a top-level array,
            ``"$.results[*]"`` for those of the array under ``"results"``,
            ``"$.groups[*].members[*]"`` for every member of every group, ``"$"`` for the
            whole document (one item). A tuple of keys with ``"*"`` works too. ijson
            addresses values by keys joined with dots and ``item`` for an array level, so
            a key containing a dot or named ``item`` is ambiguous, as in ijson. An ijson
            prefix (``"results.item"``) is still accepted, with a `DeprecationWarning`.
        on_invalid: ``"raise"`` (default) stops at the first item that fails validation
            with `StreamValidationError`; ``"skip"`` leaves it out and records it in
            `skipped`. (``errors``, its old name, still works, deprecated.)
        jsonl: JSON Lines: every non-blank line is one item (``item`` must stay ``"$[*]"``).
            In skip mode a line that is not JSON is skipped like an invalid item.
        max_depth: deepest nesting of arrays and objects allowed (512, as `JSONParser`).
        max_size: largest input accepted, in bytes (``None``, the default: no limit, since
            memory does not grow with the input).
        max_string_length: longest string or key, in characters (64 Mi, as `JSONParser`;
            ``None``: no limit).
        max_number_length: longest number token, in characters (4300, as `JSONParser`).
            A longer run of bytes without a delimiter is refused as well.

    Each limit crossed raises `LimitExceededError` (in skip mode too) at the byte that
    crossed it, with its offset, line and column; the message names the limit and how
    to raise it. They bound the memory and time of one token and of the nesting; see
    docs/collect.md for what they do not bound.
    """

    item: PathLike
    on_invalid: ErrorMode
    errors: ErrorMode  # the old name of on_invalid (deprecated)
    jsonl: bool
    max_depth: int
    max_size: int | None
    max_string_length: int | None
    max_number_length: int


class CollectOptions(CollectorOptions, total=False):
    """The options of `collect` and `acollect`: those of `CollectorOptions`, plus

    Attributes:
        chunk_size: how many bytes to read at a time from a path or a file, and the largest
            piece a bytes source or chunk is fed in (64 KiB).
    """

    chunk_size: int


_COLLECTOR_OPTIONS: Final = CollectorOptions.__optional_keys__
_COLLECT_OPTIONS: Final = CollectOptions.__optional_keys__
_RENAMED: Final = {"errors": "on_invalid"}


class ItemCollector(Generic[T]):
    """Collect validated items from a JSON document or JSON Lines fed in chunks (sans-IO).

    Feed the input's bytes in order, split anywhere; each `feed` returns the items the chunk
    completed, validated. Call `close` at the end of the input.

    Args:
        model: a pydantic model, or any type `pydantic.TypeAdapter` accepts.
        options: the collection options, each documented once in `CollectorOptions`
            (``item``, ``on_invalid``, ``jsonl`` and the limits).

    Raises:
        ValueError: an unknown ``on_invalid`` mode, an ``item`` path that is malformed or
            names an array index, ``item`` given with ``jsonl=True``, or a limit that is not
            a positive int (or None where allowed).
        TypeError: an unknown option, or ``item`` is neither a string nor a tuple.
        pydantic.PydanticSchemaGenerationError: ``model`` is not a type pydantic can validate.
    """

    backend: ClassVar[str] = _BACKEND.backend_name
    """The ijson backend in use: ``"yajl2_c"`` unless ijson's C extension is missing."""

    # One class per input format (as h11 has one reader per framing): `ItemCollector(...)`
    # constructs `_DocumentCollector` or `_LinesCollector`, so no method branches on `jsonl`.
    __slots__ = (
        "_closed",
        "_count",
        "_error",
        "_max_depth",
        "_max_number_length",
        "_max_size",
        "_max_size_bytes",
        "_max_string",
        "_max_string_length",
        "_model_name",
        "_offset",
        "_scan_state",
        "_skip",
        "_skipped",
        "_validate",
        "_validate_text",
    )

    def __new__(cls, model: Any, /, **options: Any) -> Self:
        if cls is ItemCollector:
            mode = _LinesCollector if options.get("jsonl") else _DocumentCollector
            return object.__new__(mode)  # type: ignore[return-value]
        return object.__new__(cls)

    @overload
    def __init__(
        self: ItemCollector[T], model: type[T], /, **options: Unpack[CollectorOptions]
    ) -> None: ...

    @overload
    def __init__(
        self: ItemCollector[Any], model: Any, /, **options: Unpack[CollectorOptions]
    ) -> None: ...

    def __init__(self, model: Any, /, **options: Unpack[CollectorOptions]) -> None:
        check_options(options, _COLLECTOR_OPTIONS, "ItemCollector")
        given: dict[str, Any] = rename_options(dict(options), _RENAMED, "ItemCollector")
        item = given.get("item", "$[*]")
        on_invalid = given.get("on_invalid", "raise")
        jsonl = given.get("jsonl", False)
        max_depth = given.get("max_depth", DEFAULT_MAX_DEPTH)
        max_size = given.get("max_size", DEFAULT_MAX_SIZE)
        max_string_length = given.get("max_string_length", DEFAULT_MAX_STRING_LENGTH)
        max_number_length = given.get("max_number_length", DEFAULT_MAX_NUMBER_LENGTH)
        if on_invalid not in _ERROR_MODES:
            raise ValueError(f"on_invalid must be one of {_ERROR_MODES!r}, got {on_invalid!r}")
        prefix = _ijson_prefix(item)
        if jsonl and prefix != "item":
            raise ValueError(
                f"item={item!r} applies to JSON documents; in JSON Lines mode each line is an item"
            )
        _check_limits(max_depth, max_size, max_string_length, max_number_length)
        self._max_depth = max_depth
        self._max_size = max_size
        self._max_size_bytes = sys.maxsize if max_size is None else min(max_size, sys.maxsize)
        self._max_string_length = max_string_length
        self._max_string = (
            sys.maxsize if max_string_length is None else min(max_string_length, sys.maxsize)
        )
        self._max_number_length = max_number_length
        self._scan_state = new_state()
        adapter: TypeAdapter[Any] = TypeAdapter(model)
        validator = adapter.validator
        self._validate_text: Callable[[str], Any] = validator.validate_json
        if _validates_differently_from_json(adapter.core_schema):
            dumps, validate_json = json.dumps, validator.validate_json
            self._validate: Callable[[Any], Any] = lambda value: validate_json(dumps(value))
        else:
            self._validate = validator.validate_python
        self._model_name = model.__name__ if isinstance(model, type) else repr(model)
        self._skip = on_invalid == "skip"
        self._skipped: list[SkippedItem] = []
        self._count = 0  # items found: validated or skipped
        self._offset = 0  # bytes fed
        self._closed = False
        self._error: Exception | None = None
        self._start(prefix)

    @property
    def skipped(self) -> list[SkippedItem]:
        """The items skipped so far, in order (always empty with ``on_invalid="raise"``)."""
        return self._skipped

    @property
    def count(self) -> int:
        """The number of items found so far: validated and skipped."""
        return self._count

    @property
    def offset(self) -> int:
        """The number of bytes fed so far."""
        return self._offset

    def feed(self, data: bytes | bytearray | memoryview, /) -> list[T]:
        """Parse the next chunk of input.

        Args:
            data: the next bytes of the input; any size, split anywhere (even inside a
                UTF-8 sequence).

        Returns:
            The items this chunk completed, validated, in order. When the chunk holds an
            error after some items, those items are returned and the error is raised by the
            next call to `feed` or `close`.

        Raises:
            JSONParseError: the input is not valid JSON (or not valid UTF-8), with its exact
                offset, line and column. `LimitExceededError` (a subclass) for a limit
                crossed (see the constructor) or a number outside the parser's range.
            StreamValidationError: with ``on_invalid="raise"``, an item failed validation. The
                message names the item's index, JSON path and offset; ``.path`` is its path,
                ``.errors`` pydantic's errors with full JSON paths, ``.partial`` the item as
                parsed (``.raw_text`` the line in JSON Lines mode).
            UsageError: the collector was already closed.
            TypeError: ``data`` is text, not bytes.
        """
        if self._error is not None:
            raise self._error
        if self._closed:
            raise UsageError("ItemCollector.feed() called after close(); use a new ItemCollector")
        if isinstance(data, str):
            raise TypeError(
                "ItemCollector.feed() takes bytes: encode text as UTF-8, open files with 'rb'"
            )
        if not data:
            return []
        if type(data) is not bytes:
            data = bytes(data)
        out = self._feed(data)
        if self._error is not None and not out:
            raise self._error
        return out

    def close(self) -> list[T]:
        """End the input.

        Returns:
            The items completed by the end of the input (a number ending a truncated array,
            or the last line of JSON Lines without a line ending). If the end also reveals
            an error, these items are returned and the next call raises it; otherwise
            calling `close` again returns ``[]``. So a caller that wants every item and then
            the error calls `close` twice.

        Raises:
            IncompleteJSONError: the input ended inside the document (or inside a UTF-8
                sequence), or was empty.
            JSONParseError: the input is not valid JSON.
            StreamValidationError: with ``on_invalid="raise"``, an item failed validation.
        """
        if self._error is not None:
            raise self._error
        if self._closed:
            return []
        self._closed = True
        out: list[T] = []
        self._end(out)
        if self._error is not None and not out:
            raise self._error
        return out

    def _start(self, prefix: str) -> None:
        raise NotImplementedError  # pragma: no cover - each format's class starts

    def _feed(self, data: bytes) -> list[T]:
        raise NotImplementedError  # pragma: no cover - each format's class feeds

    def _end(self, out: list[T]) -> None:
        raise NotImplementedError  # pragma: no cover - each format's class ends

    def _limit_what(self, kind: int) -> str:
        if kind == DEPTH:
            what, name, none = f"nesting deeper than max_depth={self._max_depth}", "max_depth", ""
        elif kind == STRING:
            what = f"string longer than max_string_length={self._max_string_length} characters"
            name, none = "max_string_length", ", or None for no limit,"
        elif kind == NUMBER:
            what = f"number longer than max_number_length={self._max_number_length} characters"
            name, none = "max_number_length", ""
        else:
            what, name = f"input larger than max_size={self._max_size} bytes", "max_size"
            none = ", or None for no limit,"
        return f"{what}: pass a larger {name}{none} to collect(), acollect() or ItemCollector"

    def _reject(
        self,
        record: SkippedItem,
        exc: ValidationError,
        *,
        partial: Any = None,
        raw_text: str | None = None,
    ) -> bool:
        if self._skip:
            self._skipped.append(record)
            return True
        error = StreamValidationError(
            _describe(record, self._model_name),
            errors=record.errors,
            path=record.path,
            raw_text=raw_text,
            partial=partial,
            index=record.index,
            offset=record.offset,
        )
        error.__cause__ = exc
        self._error = error
        return False


def _ijson_prefix(item: object) -> str:
    """The ijson prefix of the items that the `item` path selects (``$.results[*]`` ->
    ``results.item``). An ijson prefix (``results.item``) is still accepted, deprecated.

    Raises:
        ValueError: the path is malformed or names one array index (collect takes all).
        TypeError: `item` is neither a string nor a tuple of keys.
    """
    if isinstance(item, str) and _LEGACY_PREFIX.match(item) and "item" in item.split("."):
        spelled = "$" + "".join("[*]" if s == "item" else f".{s}" for s in item.split("."))
        warn_deprecated(
            f"item={item!r} is an ijson prefix; write the path as item={spelled!r}"
            " (the ijson form is deprecated)"
        )
        return item
    if not isinstance(item, str | tuple):
        raise TypeError(f'item must be a path such as "$.results[*]", got {item!r}')
    path = parse_path(item)
    if any(isinstance(s, int) for s in path):
        every = render_path(tuple(WILDCARD if isinstance(s, int) else s for s in path))
        raise ValueError(
            f"item={item!r} names an array index; collect takes every element of an array:"
            f" write [*] ({every!r})"
        )
    return ".".join("item" if s is WILDCARD else str(s) for s in path)


class _DocumentCollector(ItemCollector[T]):
    """Items of a JSON document, parsed by ijson under the prefix."""

    __slots__ = (
        "_coro",
        "_counters",
        "_events",
        "_held",
        "_items_coro",
        "_keys",
        "_levels",
        "_line_chars",
        "_newlines",
        "_paths",
        "_prefix",
        "_raw",
        "_started",
    )

    def _start(self, prefix: str) -> None:
        self._prefix = prefix
        self._started = False  # a byte other than whitespace was fed
        self._held = bytearray()  # the token open at the end of the last chunk, not pushed
        self._raw: list[Any] = ijson.sendable_list()  # parsed items not yet validated
        # The prefix, and the array levels whose indices are tracked.
        segments = prefix.split(".") if prefix else []
        self._keys: JSONPath = tuple(segments)
        self._levels: list[tuple[str, str, int]] = []  # (array prefix, element prefix, k)
        self._counters: list[int] = [0] * len(segments)
        self._paths: list[JSONPath] = []  # with tracked levels: the path of each item in _raw
        self._events: list[Any] | None = None
        self._items_coro: Any = None
        # Line and characters since the last newline, over the bytes fed before this chunk.
        self._newlines = 0
        self._line_chars = 0
        if "item" in segments[:-1]:
            for k, segment in enumerate(segments):
                if segment == "item":
                    self._levels.append((".".join(segments[:k]), ".".join(segments[: k + 1]), k))
            self._events = ijson.sendable_list()
            self._coro: Any = _BACKEND.parse_coro(self._events, use_float=True)
            self._items_coro = _BACKEND.items_basecoro(self._raw, prefix)
        else:
            self._coro = _BACKEND.items_coro(self._raw, prefix, use_float=True)

    def _feed(self, data: bytes) -> list[T]:
        # The pre-scan (see _limits) proposes cuts between tokens and finds a limit crossed;
        # the bytes up to each cut are pushed, and the token still open at the end of the
        # chunk is held back until it closes, so that yajl lexes every byte once.
        out: list[T] = []
        cut = self._cut(data)
        if cut is None:
            return out
        buf, buf_base, ends, kind, at, final = cut
        if self._push_segments(buf, buf_base, ends, out) and kind:
            self._error = self._limit_error(kind, buf, buf_base, at)
        self._advance_lines(buf[:final])
        return out

    def _cut(self, data: bytes) -> tuple[bytes, int, list[int], int, int, int] | None:
        """Pre-scan `data` and cut it: ``(buf, buf_base, ends, kind, at, final)``.

        ``buf`` (the held token plus `data`, from absolute offset ``buf_base``) is to be
        parsed in the segments ``buf[:ends[0]]``, ``buf[ends[0]:ends[1]]``...; ``kind`` is the
        limit crossed at ``buf[at]`` (0 for none); ``buf[final:]`` is held back. None: all
        of `data` is held (the open token goes on). Shared by the push and the pull paths,
        so that both parse the same slices and report the same offsets.
        """
        base = self._offset
        size = len(data)
        if not self._started:
            self._started = bool(data.strip())
        self._offset = base + size
        allowed = max(0, min(size, self._max_size_bytes - base))
        cuts, tail, kind, at = prescan(
            self._scan_state,
            data if allowed == size else data[:allowed],
            base,
            _OFFSET_STEP,
            min(self._max_depth, sys.maxsize),
            self._max_string,
            min(self._max_number_length, sys.maxsize),
            False,
        )
        if not kind and allowed < size:
            kind, at = _SIZE, allowed
        held = self._held
        shift = len(held)
        ends = [cut + shift for cut in cuts]
        final = (at if kind else tail) + shift
        if final > (ends[-1] if ends else 0):
            ends.append(final)
        if not ends and not kind:  # the open token goes on
            held += data
            return None
        buf = data if not shift else bytes(held) + data
        self._held = bytearray(buf[final:]) if final < len(buf) else bytearray()
        return buf, base - shift, ends, kind, shift + at, final

    def _restart(self) -> None:
        # Back to the start of the input (the pull path's fallback, see _collect_pull).
        self._scan_state = new_state()
        self._offset = 0
        self._count = 0
        self._closed = False
        self._error = None
        self._skipped.clear()
        self._start(self._prefix)

    def _push_segments(self, buf: bytes, buf_base: int, ends: list[int], out: list[T]) -> bool:
        """Push ``buf[:end]`` in the segments that `ends` delimits; False after an error."""
        view = memoryview(buf)
        raw = self._raw
        start = 0
        for end in ends:
            try:
                self._push(view[start:end])
            except ijson.JSONError as exc:
                error = self._parse_error(exc, buf, buf_base, start, end)
            except UnicodeDecodeError as exc:  # an encoded surrogate, which yajl lets pass
                error = self._decode_error(exc, buf, buf_base, start, end)
            else:
                if raw:
                    self._validate_items(buf_base + end, out)
                    if self._error is not None:
                        return False
                start = end
                continue
            if raw:  # items the slice completed before the error come first
                self._validate_items(error.offset, out)
            self._error = self._error or error
            return False
        return True

    def _advance_lines(self, pushed: bytes) -> None:
        newlines = pushed.count(b"\n")
        if newlines:
            self._newlines += newlines
            self._line_chars = _char_count(pushed[pushed.rfind(b"\n") + 1 :])
        else:
            self._line_chars += _char_count(pushed)

    def _limit_error(self, kind: int, buf: bytes, buf_base: int, upto: int) -> LimitExceededError:
        line, column = self._line_column(buf, upto)
        return LimitExceededError(
            self._limit_what(kind), offset=buf_base + upto, line=line, column=column
        )

    def _push(self, data: Any) -> None:
        if self._events is None:
            self._coro.send(data)
            return
        try:
            self._coro.send(data)
        finally:
            self._track_events()

    def _track_events(self) -> None:
        # Several array levels: count the elements of each enclosing array, and hand the
        # events on to ijson's item builder.
        events = self._events
        assert events is not None
        send = self._items_coro.send
        sink, paths, counters, levels = self._raw, self._paths, self._counters, self._levels
        for event in events:
            prefix, kind, _ = event
            for array_prefix, element_prefix, k in levels:
                if prefix == element_prefix and kind in _VALUE_STARTS:
                    counters[k] += 1
                elif prefix == array_prefix and kind == "start_array":
                    counters[k] = -1
            found = len(sink)
            send(event)
            if len(sink) > found:
                paths.append(self._tracked_path())
        events.clear()

    def _tracked_path(self) -> JSONPath:
        counters = self._counters
        return tuple(
            counters[k] if segment == "item" else segment for k, segment in enumerate(self._keys)
        )

    def _path_of(self, index: int) -> JSONPath:
        if self._events is not None:
            raise AssertionError("tracked paths are recorded per item")  # pragma: no cover
        keys = self._keys
        if keys and keys[-1] == "item":
            return (*keys[:-1], index)
        return keys

    def _validate_items(self, offset: int, out: list[T]) -> None:
        raw, paths, validate = self._raw, self._paths, self._validate
        for position, value in enumerate(raw):
            index = self._count
            self._count = index + 1
            try:
                out.append(validate(value))
            except ValidationError as exc:
                path = paths[position] if self._events is not None else self._path_of(index)
                record = SkippedItem(index, path, offset, _with_path(exc, path))
                if not self._reject(record, exc, partial=value):
                    break
        raw.clear()
        paths.clear()

    def _end(self, out: list[T]) -> None:
        held = self._held
        if held:  # the token open at the end of the input (a number, or truncated)
            self._held = bytearray()
            buf = bytes(held)
            if not self._push_segments(buf, self._offset - len(buf), [len(buf)], out):
                return
            self._advance_lines(buf)
        error: JSONParseError | None = None
        try:
            self._push(b"")  # ijson: empty bytes is the end of the input
        except StopIteration:
            pass  # the document was complete
        except ijson.JSONError as exc:
            error = self._eof_error(exc)
        if self._raw:  # a top-level scalar completes only at the end
            self._validate_items(self._offset, out)
        self._error = self._error or error

    def _parse_error(
        self, exc: Exception, data: bytes, base: int, start: int, end: int
    ) -> JSONParseError:
        # `data` holds the bytes from absolute offset `base`; `data[start:end]` was pushed.
        what, context = _ijson_message(exc)
        position = _yajl_error_position(context, data[start:end])
        if position is None:  # another backend's message: locate the error to the slice
            what = f"{what} (in bytes {base + start} to {base + end})"
            position = end - start
        upto = start + position
        line, column = self._line_column(data, upto)
        cls = LimitExceededError if _OVERFLOW.search(what) else JSONParseError
        if cls is LimitExceededError:
            what = _overflow_what(what)
        error = cls(what, offset=base + upto, line=line, column=column)
        error.__cause__ = exc
        return error

    def _decode_error(
        self, exc: UnicodeDecodeError, data: bytes, base: int, start: int, end: int
    ) -> JSONParseError:
        # ijson decodes each string itself; find the string in what was pushed.
        found = data.find(exc.object, start, end) if isinstance(exc.object, bytes) else -1
        upto = found + exc.start if found >= 0 else end
        line, column = self._line_column(data, upto)
        error = JSONParseError(
            f"invalid UTF-8 in a string: {exc.reason}", offset=base + upto, line=line, column=column
        )
        error.__cause__ = exc
        return error

    def _eof_error(self, exc: Exception) -> JSONParseError:
        what, _ = _ijson_message(exc)
        line, column = self._newlines + 1, self._line_chars + 1
        cls: type[JSONParseError]
        if _OVERFLOW.search(what):
            cls, what = LimitExceededError, _overflow_what(what)
        elif not isinstance(exc, ijson.IncompleteJSONError):
            cls = JSONParseError
        elif not self._started:
            cls, what = IncompleteJSONError, "no JSON document: the input is empty or blank"
        else:
            cls, what = IncompleteJSONError, f"the input ended inside the JSON document ({what})"
        error = cls(what, offset=self._offset, line=line, column=column)
        error.__cause__ = exc
        return error

    def _line_column(self, data: bytes, upto: int) -> tuple[int, int]:
        head = data[:upto]
        newline = head.rfind(b"\n")
        if newline < 0:
            return self._newlines + 1, self._line_chars + _char_count(head) + 1
        return self._newlines + head.count(b"\n") + 1, _char_count(head[newline + 1 :]) + 1


class _LinesCollector(ItemCollector[T]):
    """Items of JSON Lines: each non-blank line, validated as JSON text."""

    __slots__ = (
        "_after_cr",
        "_decoder",
        "_line",
        "_lines",
    )

    def _start(self, prefix: str) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._lines = LineSplitter()
        self._line = 0  # lines completed
        self._after_cr = False  # the text so far ends with CR (its LF may come next)

    def _feed(self, data: bytes) -> list[T]:
        base = self._offset
        size = len(data)
        allowed = max(0, min(size, self._max_size_bytes - base))
        _, _, kind, at = prescan(
            self._scan_state,
            data if allowed == size else data[:allowed],
            base,
            0,
            min(self._max_depth, sys.maxsize),
            self._max_string,
            min(self._max_number_length, sys.maxsize),
            True,
        )
        if not kind and allowed < size:
            kind, at = _SIZE, allowed
        if not kind:
            return self._decode_lines(data)
        out = self._decode_lines(data[:at]) if at else []
        if self._error is None:
            self._error = LimitExceededError(
                self._limit_what(kind),
                offset=base + at,
                line=self._line + 1,
                column=self._lines.pending_length + 1,
                path=(self._count,),
            )
        self._offset = base + size
        return out

    def _decode_lines(self, data: bytes | bytearray | memoryview) -> list[T]:
        held = self._decoder.getstate()[0]
        text_start = self._offset - len(held)  # the byte offset where the decoded text starts
        error: JSONParseError | None = None
        try:
            text = self._decoder.decode(data)
        except UnicodeDecodeError as exc:
            # The lines before the bad byte are still items: decode up to it, fail after.
            valid = (held + bytes(data))[: exc.start].decode("utf-8")
            error = self._utf8_error(exc, valid, text_start)
            text = valid
        self._offset += len(data)
        out: list[T] = []
        if text:
            skip_lf = self._after_cr and text[0] == "\n"  # the LF of a CRLF split by chunks
            self._after_cr = text[-1] == "\r"
            lines = self._lines.feed(text)
            if lines:
                self._validate_lines(lines, out, lambda k: _line_end(text, text_start, skip_lf, k))
        if error is not None:
            self._error = self._error or error
        return out

    def _end(self, out: list[T]) -> None:
        held = self._decoder.getstate()[0]
        try:
            self._decoder.decode(b"", True)
        except UnicodeDecodeError as exc:
            error = IncompleteJSONError(
                "the input ended inside a UTF-8 sequence",
                offset=self._offset - len(held) + exc.start,
                line=self._line + 1,
                column=self._lines.pending_length + 1,
            )
            error.__cause__ = exc
            self._error = error
            return
        self._validate_lines(self._lines.close(), out, lambda k: self._offset)

    def _validate_lines(self, lines: list[str], out: list[T], end: Callable[[int], int]) -> None:
        # `end(k)` is the byte offset where the k-th line ends, computed only for a failure.
        validate = self._validate_text
        for position, line in enumerate(lines):
            self._line += 1
            if not line or (line.isspace() and not line.strip(" \t")):
                continue  # a blank line
            index = self._count
            self._count = index + 1
            try:
                out.append(validate(line))
            except ValidationError as exc:
                if not self._reject_line(exc, line, index, end(position)):
                    break

    def _reject_line(self, exc: ValidationError, line: str, index: int, line_end: int) -> bool:
        details = exc.errors(include_url=False)
        if details and details[0]["type"] == "json_invalid" and not self._skip:
            error = self._line_parse_error(details[0], line, line_end, index)
            error.__cause__ = exc
            self._error = error
            return False
        path: JSONPath = (index,)
        record = SkippedItem(index, path, line_end, _with_path(exc, path), line=self._line)
        return self._reject(record, exc, raw_text=line)

    def _line_parse_error(
        self, detail: ErrorDetails, line: str, line_end: int, index: int
    ) -> JSONParseError:
        message = str(detail.get("ctx", {}).get("error", detail["msg"]))
        match = _JSON_POSITION.search(message)
        encoded = line.encode("utf-8")
        byte_column = int(match.group(2)) if match else 1
        head = encoded[: byte_column - 1]
        what = message[: match.start()] if match else message
        return JSONParseError(
            f"invalid JSON in JSON Lines: {what}",
            offset=line_end - len(encoded) + len(head),
            line=self._line,
            column=_char_count(head) + 1,
            path=(index,),
        )

    def _utf8_error(self, exc: UnicodeDecodeError, valid: str, text_start: int) -> JSONParseError:
        # `valid` is the text decoded before the bad byte, not yet fed to the line splitter.
        if self._after_cr and valid[:1] == "\n":
            valid = valid[1:]
        endings = list(_LINE_ENDING.finditer(valid))
        if endings:
            line = self._line + len(endings) + 1
            column = len(valid) - endings[-1].end() + 1
        else:
            line, column = self._line + 1, self._lines.pending_length + len(valid) + 1
        error = JSONParseError(
            f"invalid UTF-8: {exc.reason}", offset=text_start + exc.start, line=line, column=column
        )
        error.__cause__ = exc
        return error


# --- helpers (pure) ---------------------------------------------------------------------------


def _validates_differently_from_json(schema: Any) -> bool:
    """True if validating parsed Python values can differ from validating the JSON text.

    In lax mode pydantic accepts the same inputs from JSON text and from the objects
    `json.loads` makes of it. Strict mode does not (a str is a datetime, UUID or enum only in
    JSON), nor does ``val_json_bytes``. Any ``strict`` flag in the core schema (a model's
    config, a field, `Strict`) counts; a false positive only costs speed.
    """
    stack, seen = [schema], set()
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if id(node) in seen:
                continue
            seen.add(id(node))
            if node.get("strict") is True or node.get("val_json_bytes", "utf8") != "utf8":
                return True
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return False


def _char_count(data: bytes) -> int:
    if data.isascii():
        return len(data)
    return len(data.translate(None, _CONTINUATION_BYTES))


def _line_end(text: str, text_start: int, skip_lf: bool, position: int) -> int:
    # The byte offset where the `position`-th line completed by `text` ends (its text, not
    # its line ending). Only called when a line fails, so the scan costs nothing otherwise.
    for k, match in enumerate(_LINE_ENDING.finditer(text, 1 if skip_lf else 0)):
        if k == position:
            return text_start + _utf8_len(text[: match.start()])
    raise AssertionError("the line splitter returned more lines than the text has")


def _ijson_message(exc: Exception) -> tuple[str, bytes]:
    """The first line of an ijson error, and yajl's context line (b"" if there is none)."""
    message = exc.args[0] if exc.args else str(exc)
    if isinstance(message, str):
        message = message.encode("utf-8", "surrogateescape")
    elif not isinstance(message, bytes):
        message = str(message).encode("utf-8", "surrogateescape")
    lines = message.split(b"\n")
    what = lines[0].decode("utf-8", "replace").strip() or type(exc).__name__
    return what, lines[1] if len(lines) > 2 else b""


def _yajl_error_position(context: bytes, data: bytes) -> int | None:
    """Where yajl stopped in `data`, found from the context line of its error message.

    yajl renders the bytes from 30 before to 30 after its position (CR and LF as spaces),
    padded so that the position falls at column 41. The position is recovered by rendering
    each candidate the same way; the first match is the answer.
    """
    if not context:
        return None
    flat = data.replace(b"\n", b" ").replace(b"\r", b" ")
    for position in range(min(30, len(data) + 1)):
        if context == b" " * (40 - position) + flat[: position + 30]:
            return position
    # From position 30 on, the context is 10 spaces and flat[position - 30 : position + 30]:
    # found with `find`, so that a long segment (a long token) is searched in linear time.
    if not context.startswith(b" " * 10):
        return None
    shown = context[10:]
    found = flat.find(shown)
    while found >= 0:
        position = found + 30
        if position <= len(data) and flat[found : position + 30] == shown:
            return position
        found = flat.find(shown, found + 1)
    return None


def _overflow_what(what: str) -> str:
    return (
        f"number out of range ({what}): the ijson parser reads integers as signed 64-bit"
        " and other numbers as doubles"
    )


def _with_path(exc: ValidationError, path: JSONPath) -> tuple[ErrorDetails, ...]:
    details = exc.errors(include_url=False)
    for detail in details:
        detail["loc"] = (*path, *detail["loc"])
    return tuple(details)


def _describe(record: SkippedItem, model_name: str) -> str:
    where = f"line {record.line}, " if record.line is not None else ""
    ends = "ends at" if record.line is not None else "ends at or before"
    count = len(record.errors)
    lines = [
        f"item {record.index} ({where}{render_path(record.path)}, {ends} byte {record.offset})"
        f" failed validation as {model_name}: {count} error{'s' if count != 1 else ''}"
    ]
    for detail in record.errors[:_MAX_REPORTED_ERRORS]:
        shown = repr(detail.get("input"))
        if len(shown) > 60:
            shown = shown[:57] + "..."
        lines.append(
            f"  {render_path(tuple(detail['loc']))}: {detail['msg']}"
            f" [type={detail['type']}, input={shown}]"
        )
    if count > _MAX_REPORTED_ERRORS:
        lines.append(f"  ... and {count - _MAX_REPORTED_ERRORS} more")
    return "\n".join(lines)


# --- I/O: sync and async loops ----------------------------------------------------------------


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class _AsyncReadable(Protocol):
    async def read(self, size: int = ..., /) -> bytes: ...


Source: TypeAlias = (
    str | os.PathLike[str] | bytes | bytearray | memoryview | _Readable | Iterable[bytes]
)
AsyncSource: TypeAlias = Source | _AsyncReadable | AsyncIterable[bytes]


class CollectIterator(GeneratorIterator[T]):
    """The iterator `collect` returns: validated items, one at a time.

    Also a context manager: leaving the ``with`` block closes it, and with it the file that
    `collect` opened (exhausting the iterator does too).
    """

    __slots__ = ("_collector",)  # _generator is the base's

    def __init__(self, collector: ItemCollector[T], generator: Generator[T, None, None]) -> None:
        self._collector = collector
        self._generator = generator

    @property
    def skipped(self) -> list[SkippedItem]:
        """The items skipped so far with ``on_invalid="skip"``, in order; see `SkippedItem`."""
        return self._collector.skipped

    @property
    def count(self) -> int:
        """The number of items found so far: validated and skipped."""
        return self._collector.count


class AsyncCollectIterator(AsyncGeneratorIterator[T]):
    """The async iterator `acollect` returns; the async twin of `CollectIterator`.

    Use it as an async context manager (``async with acollect(...) as items:``), or call
    `aclose`, so that a loop left early closes the source at once.
    """

    __slots__ = ("_collector", "_generator")

    def __init__(self, collector: ItemCollector[T], generator: AsyncGenerator[T, None]) -> None:
        self._collector = collector
        self._generator = generator

    @property
    def skipped(self) -> list[SkippedItem]:
        """The items skipped so far with ``on_invalid="skip"``, in order; see `SkippedItem`."""
        return self._collector.skipped

    @property
    def count(self) -> int:
        """The number of items found so far: validated and skipped."""
        return self._collector.count


@overload
def collect(
    source: Source, model: type[T], /, **options: Unpack[CollectOptions]
) -> CollectIterator[T]: ...


@overload
def collect(
    source: Source, model: Any, /, **options: Unpack[CollectOptions]
) -> CollectIterator[Any]: ...


def collect(
    source: Source, model: Any, /, **options: Unpack[CollectOptions]
) -> CollectIterator[Any]:
    """Iterate over the validated items of a large JSON document or JSON Lines input.

    Only one chunk and the items it completes are in memory at a time. Nothing is read until
    the first item is asked for.

    Args:
        source: a file path (`pathlib.Path` or another `os.PathLike`), opened and closed
            by the iterator; a binary file object (left open); bytes, or a str of JSON text
            (as for `stream`); or an iterable of bytes chunks, such as an HTTP body (an
            iterator source is closed when the iteration ends). A str that names an
            existing file is read as that file, deprecated.
        model: a pydantic model, or any type `pydantic.TypeAdapter` accepts.
        options: `CollectOptions`: ``chunk_size`` and the options of `ItemCollector`
            (``item``, ``on_invalid``, ``jsonl``, the limits), each documented once in
            `CollectorOptions`.

    Returns:
        A `CollectIterator` of validated items, with ``.skipped`` and ``.count``.

    Raises:
        ValueError: an unknown ``on_invalid`` mode, a bad ``chunk_size``, limit or ``item``,
            or ``item`` with ``jsonl=True``.
        TypeError: the source is of none of the kinds above, or an unknown option.
        JSONParseError: while iterating (its subclasses `IncompleteJSONError` for
            truncated input and `LimitExceededError` for a limit crossed or a number out of
            the parser's range). See `ItemCollector.feed`.
        StreamValidationError: while iterating, with ``on_invalid="raise"``.
        OSError: while iterating, from reading the source.
    """
    check_options(options, _COLLECT_OPTIONS, "collect")
    given: dict[str, Any] = rename_options(dict(options), _RENAMED, "collect")
    chunk_size = given.pop("chunk_size", DEFAULT_CHUNK_SIZE)
    collector: ItemCollector[Any] = ItemCollector(model, **given)
    _check_chunk_size(chunk_size)
    if not (
        isinstance(source, str | os.PathLike | bytes | bytearray | memoryview | Iterable)
        or hasattr(source, "read")
    ):
        raise TypeError(
            "collect() takes a path, a binary file, bytes or an iterable of bytes chunks,"
            f" got {type(source).__name__}"
        )
    return CollectIterator(collector, _collect(collector, source, chunk_size))


def _collect(
    collector: ItemCollector[T], source: Source, chunk_size: int
) -> Generator[T, None, None]:
    # A plain function, not a generator: one generator frame less per item.
    if _pullable(collector, source):
        return _collect_pull(collector, source, chunk_size)  # type: ignore[arg-type]
    return _collect_push(collector, source, chunk_size)


def _collect_push(
    collector: ItemCollector[T], source: Source, chunk_size: int
) -> Generator[T, None, None]:
    try:
        with contextlib.closing(_read(source, chunk_size)) as chunks:
            for chunk in chunks:
                for piece in _pieces(chunk, chunk_size):
                    yield from collector.feed(piece)
            yield from collector.close()
            collector.close()  # raises an error that the end revealed after completing items
    except (JSONParseError, StreamValidationError) as exc:
        _release(collector, exc)
        raise


def _release(collector: ItemCollector[Any], error: BaseException) -> None:
    """Break the reference cycles an error leaving a loop makes, so that the source, the
    held token and the parser are freed as soon as the caller drops the error, not at the
    next run of the cyclic GC (a truncated 30 MB string kept ~90 MB alive until then).

    The loop's collector, which nothing uses after the loop ended, no longer holds the error
    (error -> traceback -> loop frame -> collector -> error), and the finished frames in the
    tracebacks of its causes drop their locals (a cause's traceback holds the frame that
    caught it, whose locals hold the error made from it). Tracebacks still print in full.
    """
    collector._error = None
    cause = error.__cause__ or error.__context__
    seen = 0
    while cause is not None and seen < 8:
        traceback.clear_frames(cause.__traceback__)
        cause = cause.__cause__ or cause.__context__
        seen += 1


def _pullable(collector: ItemCollector[Any], source: Source) -> bool:
    # The pull path: a JSON document with at most one array level in `item`, from a source
    # that can be read again from its start (for the fallback below), on the C backend
    # (the others gain nothing from it).
    if not isinstance(collector, _DocumentCollector) or collector._events is not None:
        return False
    if _BACKEND.backend_name != "yajl2_c":
        return False
    if isinstance(source, str | os.PathLike | bytes | bytearray | memoryview):
        return True
    try:
        return bool(getattr(source, "seekable", lambda: False)()) and hasattr(source, "tell")
    except (OSError, ValueError):
        return False


class _PullStopped(Exception):
    """Raised by `_PullReader.read` after the bytes before a limit crossed."""


class _PullReader:
    """The file that ijson's pull parser reads: the source's chunks, pre-scanned and cut by
    the collector exactly as `feed` cuts them, one segment per read. Stops at a limit."""

    __slots__ = ("_chunks", "_collector", "_segments", "_stopped", "offset")

    def __init__(
        self, collector: _DocumentCollector[Any], chunks: Iterator[bytes | memoryview]
    ) -> None:
        self._collector = collector
        self._chunks = chunks
        self._segments: list[tuple[bytes, int]] = []  # reversed: pop() is next
        self.offset = 0  # the end of the last segment read, from the start of the input
        self._stopped = False  # a limit was crossed

    def read(self, size: int = -1, /) -> bytes:
        if size == 0:
            return b""
        segments = self._segments
        while not segments:
            if not self._fill():
                if self._stopped:  # not EOF, which would complete a number cut short
                    raise _PullStopped
                return b""
        segment, self.offset = segments.pop()
        return segment

    def _fill(self) -> bool:
        collector = self._collector
        chunk = next(self._chunks, None)
        if chunk is None:
            held = collector._held
            if not held:
                return False
            collector._held = bytearray()
            self._segments.append((bytes(held), collector._offset))
            return True
        cut = collector._cut(bytes(chunk) if type(chunk) is not bytes else chunk)
        if cut is None:
            return True
        buf, buf_base, ends, kind, _, _ = cut
        starts = [0, *ends[:-1]] if ends else []  # no slice: a limit at the first byte
        pieces = [(buf[a:b], buf_base + b) for a, b in zip(starts, ends, strict=True)]
        pieces.reverse()
        self._segments.extend(pieces)
        if kind:  # a limit is crossed: the parse stops here, the push path reports it
            self._chunks = iter(())
            self._stopped = True
            collector._held = bytearray()
        return True


def _collect_pull(
    collector: _DocumentCollector[T], source: Source, chunk_size: int
) -> Generator[T, None, None]:
    # ijson's pull parser (`items` over a file) runs its C pipeline without a Python call per
    # event, about 2.4 times faster than the push coroutines `feed` drives (benchmarks/
    # bench_collect.py). It reads the same segments as `feed` would push, so items and
    # offsets are the same. Errors in the JSON (including a limit crossed or a truncated
    # input) are not located by the pull parser: on the first one, the input is read again
    # from its start by the push path, which yields the items after those already yielded
    # and raises the error exactly as `feed` does. That costs a second pass, once.
    is_file = not isinstance(source, str | os.PathLike | bytes | bytearray | memoryview)
    start = source.tell() if is_file else 0  # type: ignore[union-attr]
    raw = collector._raw
    out: list[T] = []  # stays empty: an item that fails validation is not delivered
    with contextlib.closing(_read(source, chunk_size)) as chunks:
        pieces = (piece for chunk in chunks for piece in _pieces(chunk, chunk_size))
        reader = _PullReader(collector, pieces)
        items = _BACKEND.items(reader, collector._prefix, use_float=True)
        value: Any = None
        try:
            validate = collector._validate
            for value in items:
                try:
                    item = validate(value)
                except ValidationError:  # recorded (or raised) as `feed` does
                    raw.append(value)
                    collector._validate_items(reader.offset, out)
                    if collector._error is not None:
                        _raise_released(collector)
                    continue
                collector._count += 1
                yield item
        except (ijson.JSONError, UnicodeDecodeError, _PullStopped):
            pass
        else:
            collector._closed = True
            return
        # Release the pull parser (its buffer, the segments not yet read, the last parsed
        # value) before the second pass, so that both are never alive at once.
        del items, reader, pieces
        value = None
    yielded = collector._count - len(collector._skipped)  # what the pull parser delivered
    collector._restart()
    if is_file:
        source.seek(start)  # type: ignore[union-attr]
    for item in _collect_push(collector, source, chunk_size):
        if yielded:
            yielded -= 1
            continue
        yield item


def _raise_released(collector: ItemCollector[Any]) -> NoReturn:
    # No local holds the error in the loop's frame (that would be one more cycle).
    error = collector._error
    assert error is not None
    try:
        raise error from error.__cause__
    finally:
        _release(collector, error)
        del error


def _read(source: Source, chunk_size: int) -> Generator[bytes | memoryview, None, None]:
    if isinstance(source, str):
        is_file = os.path.isfile(source) if _may_be_a_path(source) else False
        if not _str_names_a_file(source, is_file):
            yield source.encode("utf-8")
            return
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as file:
            while chunk := file.read(chunk_size):
                yield chunk
    elif isinstance(source, bytes | bytearray | memoryview):
        yield source if isinstance(source, bytes) else bytes(source)
    elif hasattr(source, "read"):
        while chunk := source.read(chunk_size):
            yield chunk
    else:
        iterator = iter(source)
        try:
            yield from iterator
        finally:
            close = getattr(iterator, "close", None)
            if callable(close):
                close()


@overload
def acollect(
    source: AsyncSource, model: type[T], /, **options: Unpack[CollectOptions]
) -> AsyncCollectIterator[T]: ...


@overload
def acollect(
    source: AsyncSource, model: Any, /, **options: Unpack[CollectOptions]
) -> AsyncCollectIterator[Any]: ...


def acollect(
    source: AsyncSource, model: Any, /, **options: Unpack[CollectOptions]
) -> AsyncCollectIterator[Any]:
    """The async twin of `collect`: ``async for item in acollect(...)``, on asyncio or trio.

    Args:
        source: everything `collect` takes, plus async iterables of bytes (httpx's
            ``response.aiter_bytes()``) and async binary files (``anyio.open_file``). A JSON
            document from a path, bytes or a seekable sync binary file is read as `collect`
            reads it (the pull parser), in a worker thread that hands the items over at
            most 256 (and one read's worth) per thread hop; otherwise a path is read with
            ``anyio.open_file`` and a sync binary file in a worker thread. A sync iterable
            is iterated in the event loop (keep it to in-memory chunks).
            Files that `acollect` opens are closed, as are iterator sources (``aclose``),
            even when the task is cancelled; file objects passed in are left open.
        model: a pydantic model, or any type `pydantic.TypeAdapter` accepts.
        options: as for `collect` (`CollectOptions`).

    Returns:
        An `AsyncCollectIterator` of validated items, with ``.skipped`` and ``.count``.

    Raises:
        ValueError: an unknown ``on_invalid`` mode, a bad ``chunk_size``, limit or ``item``,
            or ``item`` with ``jsonl=True``.
        TypeError: the source is of none of the kinds above, or an unknown option.

        While iterating: the errors `collect` raises; see `ItemCollector.feed`.
    """
    check_options(options, _COLLECT_OPTIONS, "acollect")
    given: dict[str, Any] = rename_options(dict(options), _RENAMED, "acollect")
    chunk_size = given.pop("chunk_size", DEFAULT_CHUNK_SIZE)
    collector: ItemCollector[Any] = ItemCollector(model, **given)
    _check_chunk_size(chunk_size)
    if not (
        isinstance(source, str | os.PathLike | bytes | bytearray | memoryview | Iterable)
        or hasattr(source, "read")
        or hasattr(source, "__aiter__")
    ):
        raise TypeError(
            "acollect() takes a path, a binary file (sync or async), bytes, or an iterable"
            f" or async iterable of bytes chunks, got {type(source).__name__}"
        )
    return AsyncCollectIterator(collector, _acollect(collector, source, chunk_size))


async def _acollect(
    collector: ItemCollector[T], source: AsyncSource, chunk_size: int
) -> AsyncGenerator[T, None]:
    if (
        not isinstance(source, str)
        and not inspect.iscoroutinefunction(getattr(source, "read", None))
        and _pullable(collector, source)  # type: ignore[arg-type]
    ):
        # A path, bytes or a seekable sync file: `collect`'s pull path, in a worker thread,
        # handing over at most one read's items (and `_THREAD_BATCH`) per thread hop. A str
        # (JSON text, or a deprecated path) and async files stay on the push path below.
        assert isinstance(collector, _DocumentCollector)
        items = _collect_pull(collector, source, chunk_size)  # type: ignore[arg-type]
        batches = iterate_in_thread(
            items,
            items.close,
            max_items=_THREAD_BATCH,
            progress=lambda: collector._offset,
            max_progress=chunk_size,
        )
        async with contextlib.aclosing(batches):  # closed here, even on cancellation
            async for batch in batches:
                for item in batch:
                    yield item
                del batch
        return
    chunks = _aread(source, chunk_size)
    try:
        async for chunk in chunks:
            for piece in _pieces(chunk, chunk_size):
                for item in collector.feed(piece):
                    yield item
        for item in collector.close():
            yield item
        collector.close()  # raises an error that the end revealed after completing items
    except (JSONParseError, StreamValidationError) as exc:
        _release(collector, exc)
        raise
    finally:
        # Shielded: the source must be closed even when the task is being cancelled.
        with anyio.CancelScope(shield=True):
            await chunks.aclose()


async def _aread(source: AsyncSource, chunk_size: int) -> AsyncGenerator[bytes | memoryview, None]:
    if isinstance(source, str):
        is_file = False
        if _may_be_a_path(source):
            is_file = await anyio.to_thread.run_sync(os.path.isfile, source)
        if not _str_names_a_file(source, is_file):
            yield source.encode("utf-8")
            return
    if isinstance(source, str | os.PathLike):
        file = await anyio.open_file(source, "rb")
        try:
            while chunk := await file.read(chunk_size):
                yield chunk
        finally:
            with anyio.CancelScope(shield=True):
                await file.aclose()
    elif isinstance(source, bytes | bytearray | memoryview):
        yield source if isinstance(source, bytes) else bytes(source)
    elif hasattr(source, "read"):
        read: Any = source.read
        if inspect.iscoroutinefunction(read):
            while chunk := await read(chunk_size):
                yield chunk
        else:
            while chunk := await anyio.to_thread.run_sync(read, chunk_size):
                yield chunk
    elif hasattr(source, "__aiter__"):
        iterator = source.__aiter__()
        try:
            async for chunk in iterator:
                yield chunk
        finally:
            aclose = getattr(iterator, "aclose", None)
            if callable(aclose):
                with anyio.CancelScope(shield=True):
                    await aclose()
    else:
        iterator_ = iter(source)
        try:
            for chunk in iterator_:
                await anyio.lowlevel.checkpoint()  # stay cancellable on in-memory chunks
                yield chunk
        finally:
            close = getattr(iterator_, "close", None)
            if callable(close):
                close()


# A str source is JSON text, as for `stream`; a file path is a `pathlib.Path`. For one release
# a str that names an existing file is still read as a path, with a DeprecationWarning.
_JSON_START = re.compile(r"\s*(?:[\[{\"\-0-9]|true\b|false\b|null\b|\Z)")
_PATH_LIKE = re.compile(r"[^\n]*(?:[/\\][^\n]*|\.[A-Za-z][A-Za-z0-9]{0,7})\Z")


def _may_be_a_path(text: str) -> bool:
    # JSON objects and arrays, text with a line break and long text are never taken for paths.
    return (
        len(text) < 4096
        and "\n" not in text
        and "\0" not in text
        and text.lstrip()[:1] not in ("[", "{")
    )


def _str_names_a_file(text: str, is_file: bool) -> bool:
    """True when the str source names an existing file (deprecated: read it, with a warning);
    False when it is JSON text.

    Raises:
        UsageError: the str is not JSON text and looks like the path of a missing file.
    """
    if is_file:
        warn_deprecated(
            f"collect() got the str {text!r}, which names a file: a str source is JSON text"
            f" (as for stream()), so pass pathlib.Path({text!r}) to read a file (reading a"
            " file from a str is deprecated)"
        )
        return True
    if _may_be_a_path(text) and (
        not _JSON_START.match(text)
        or (text.lstrip()[:1] not in ("[", "{", '"') and _PATH_LIKE.match(text))
    ):
        raise UsageError(
            f"collect() got the str {text!r}, which is not JSON text and names no file:"
            " a str source is JSON text (as for stream()); to read a file pass"
            f" pathlib.Path({text!r}) or an open binary file"
        )
    return False


def _pieces(chunk: bytes | memoryview, size: int) -> Iterable[bytes | memoryview]:
    # A bytes source, or a huge chunk, is fed in pieces so that the items of one feed (and
    # so the memory they take) stay bounded by the chunk size.
    if len(chunk) <= size:
        return (chunk,)
    view = memoryview(chunk)
    return (view[start : start + size] for start in range(0, len(view), size))


def _check_limits(
    max_depth: int, max_size: int | None, max_string_length: int | None, max_number_length: int
) -> None:
    for name, value, optional in (
        ("max_depth", max_depth, False),
        ("max_size", max_size, True),
        ("max_string_length", max_string_length, True),
        ("max_number_length", max_number_length, False),
    ):
        if value is None and optional:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            kind = "a positive int, or None for no limit" if optional else "a positive int"
            raise ValueError(f"{name} must be {kind}, got {value!r}")


def _check_chunk_size(chunk_size: int) -> None:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
