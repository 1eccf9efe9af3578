"""Delta chunks: a JSON wire format for a growing object, its producer and its merger.

A `Chunk` carries a `Delta`: ``text`` appended to string values and ``json`` values set, keyed
by where they go, plus ``done``, the values that completed. Any producer (an agent framework, a
server) can send chunks and any consumer can merge them back with `ChunkMerger`, which reports
the same events as `JSONParser`, so the typed-validation layer consumes either source.
docs/deltas.md is the specification; this module implements it.
"""

# Strategy / invariants
# - Two profiles. "nested": keys are RFC 6901 JSON Pointers and completion is explicit
#   (``done``); it is what `DeltaEncoder` writes. "compatible": keys are top-level field
#   names, ``json`` is a shallow assign, completion is known only at close() (the
#   AgentResponseChunk shape of agent frameworks such as AIGNE).
# - Atomic chunks without copying the merged object: a chunk is first planned against the
#   live object plus an overlay of its own earlier operations (values it sets, array growth),
#   and only applied once every operation has been checked. Values a chunk sets are copied
#   (so a chunk never aliases the merged object) and the copy is the planning overlay, so a
#   failing chunk touches nothing and the cost is proportional to the chunk.
# - Open values (strings, arrays and objects not complete yet) are tracked in `_open`, keyed
#   by path, as a tree: every open container lists its open children in the order they
#   opened (document order, unless a value was replaced), and the ancestors of an open value
#   are open. Completing a container completes its open subtree (post-order), so
#   `ValueCompleted` comes once per value, children first, as the parser emits it.
# - An open string keeps its text as parts, joined into its slot only when `value` is read or
#   the string completes, so appending n characters in small pieces costs O(n), not O(n^2).
# - `DeltaEncoder` is compaction over one batch of parser events: what starts and completes in
#   the batch is sent whole once, everything else as the changes since the last chunk, so the
#   chunks of a document add up to its size (plus one pointer per operation). An operation that
#   would land on a path the chunk already touched (duplicate JSON keys) starts a new chunk.

from __future__ import annotations

import json as _json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Final, Literal, Protocol, Self

import jiter

from ._events import DocumentCompleted, Event, StringAppended, ValueCompleted, ValueStarted
from ._exceptions import DeltaError, UsageError
from ._frozen import Frozen, slot_setter
from ._numbers import write_infinities
from ._parser import JSONParser
from ._paths import JSONPath, parse_pointer, render_path, to_pointer

__all__ = [
    "Chunk",
    "ChunkMerger",
    "Delta",
    "DeltaEncoder",
    "Profile",
    "chunk_from_object",
    "chunks_for_field",
    "chunks_from_text",
]

Profile = Literal["nested", "compatible"]
_PROFILES: Final = ("nested", "compatible")

_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
# One shared encoder: json.dumps with options builds a new JSONEncoder on every call.
_ENCODER: Final = _json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_ENCODER_CONSTANTS: Final = _json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_WORDS = re.compile(r"\s*\S+\s*|\s+")


# ---------------------------------------------------------------------------- data classes


class _Frozen(Frozen):
    """`Frozen`, unhashable (deltas and chunks hold dicts), with a repr of shown fields."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]

    def _shown(self) -> list[str]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(self._shown())})"


class Delta(_Frozen):
    """What one chunk changes: text appended, values set, values completed.

    The mappings are kept as given, not copied: treat them as read-only.

    Args:
        text: text to append to string values, by key (a JSON Pointer in the nested profile,
            a top-level field name in the compatible one).
        json: values to set, by key.
        done: keys of the strings, arrays and objects that completed (nested profile).

    Raises:
        TypeError: `done` is a string rather than a sequence of strings.
    """

    __slots__ = ("text", "json", "done")
    _fields = ("text", "json", "done")
    text: Mapping[str, str]
    json: Mapping[str, Any]
    done: tuple[str, ...]

    def __init__(
        self,
        text: Mapping[str, str] = _EMPTY,
        json: Mapping[str, Any] = _EMPTY,
        done: Iterable[str] = (),
    ) -> None:
        if type(done) is not tuple:
            if isinstance(done, str):
                raise TypeError("done takes a sequence of keys, not one string")
            done = tuple(done)
        _set_text(self, text)
        _set_json(self, json)
        _set_done(self, done)

    def _shown(self) -> list[str]:
        # Defaults (empty) are left out of the repr.
        return [f"{f}={getattr(self, f)!r}" for f in self._fields if getattr(self, f)]

    def __bool__(self) -> bool:
        """True when the delta changes something."""
        return bool(self.text or self.json or self.done)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Delta, (dict(self.text), dict(self.json), self.done))

    def to_dict(self) -> dict[str, Any]:
        """The wire form: ``{"text": {...}, "json": {...}, "done": [...]}``, empty fields left
        out. The values are shared with the delta, not copied.

        Returns:
            A dict of plain dicts and lists.
        """
        out: dict[str, Any] = {}
        if self.text:
            out["text"] = dict(self.text)
        if self.json:
            out["json"] = dict(self.json)
        if self.done:
            out["done"] = list(self.done)
        return out


def json_text(value: Any, /) -> str:
    """`value` as the compact JSON text of the delta wire form (UTF-8 characters written as
    they are, an infinity as ``1e400``): what `Chunk.to_json` writes for each of its parts.

    Raises:
        DeltaError: the value holds something JSON cannot carry (a NaN, a set, ...).
    """
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        try:  # an infinity is written as 1e400 (see _numbers); the rest is refused
            return write_infinities(_ENCODER_CONSTANTS.encode(value), nan=None)
        except (TypeError, ValueError):
            pass
        raise DeltaError(f"chunk is not JSON-serializable ({exc})") from exc


class Chunk(_Frozen):
    """One message of a delta stream: a `Delta` and what the producer says about it.

    Args:
        delta: the change.
        seq: the chunk's number in its stream (`DeltaEncoder` counts from 0).
        finish_reason: why the producer stopped (``"stop"``, ``"length"``, ...), on the last chunk.
        usage: token counts or other accounting, as the producer reports it.
        metadata: anything else (the extension point: unknown fields are refused).
    """

    __slots__ = ("delta", "seq", "finish_reason", "usage", "metadata")
    _fields = ("delta", "seq", "finish_reason", "usage", "metadata")
    delta: Delta
    seq: int | None
    finish_reason: str | None
    usage: Mapping[str, Any] | None
    metadata: Mapping[str, Any] | None

    def __init__(
        self,
        delta: Delta,
        *,
        seq: int | None = None,
        finish_reason: str | None = None,
        usage: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        _set_delta(self, delta)
        _set_seq(self, seq)
        _set_finish_reason(self, finish_reason)
        _set_usage(self, usage)
        _set_metadata(self, metadata)

    def _shown(self) -> list[str]:
        # Defaults (None) are left out of the repr.
        return [
            f"{f}={getattr(self, f)!r}"
            for f in self._fields
            if f == "delta" or getattr(self, f) is not None
        ]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_make_chunk, self._astuple())

    def to_dict(self) -> dict[str, Any]:
        """The wire form, ``None`` fields left out (``delta`` is always there).

        Returns:
            ``{"delta": {...}, "seq": 3, "finish_reason": ..., "usage": ..., "metadata": ...}``;
            values are shared with the chunk, not copied.
        """
        out: dict[str, Any] = {"delta": self.delta.to_dict()}
        if self.seq is not None:
            out["seq"] = self.seq
        if self.finish_reason is not None:
            out["finish_reason"] = self.finish_reason
        if self.usage is not None:
            out["usage"] = dict(self.usage)
        if self.metadata is not None:
            out["metadata"] = dict(self.metadata)
        return out

    def to_json(self) -> str:
        """The wire form as compact JSON text (UTF-8 characters written as they are).

        Returns:
            The JSON text; `from_json` gives back an equal chunk.

        Raises:
            DeltaError: the chunk holds something JSON cannot carry (a NaN, a set, ...).
        """
        return json_text(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], /) -> Chunk:
        """Build a chunk from its wire form, checking its shape (not the values set).

        A missing ``delta`` reads as an empty one. The mappings are used as given, not copied.

        Args:
            data: the decoded wire form.

        Returns:
            The chunk.

        Raises:
            DeltaError: the shape is wrong (unknown field, wrong type); ``.path`` locates the
                fault inside the chunk, e.g. ``$.delta.text["/a"]``.
        """
        if not _is_object(data):
            _malformed(f"a chunk is an object, not {_type_name(data)}", ())
        for key in data:
            if key not in _CHUNK_FIELDS:
                _malformed(f"unknown field {key!r}", (key,))
        raw = data.get("delta")
        if raw is None:
            delta = _EMPTY_DELTA
        else:
            if not _is_object(raw):
                _malformed(f"delta is an object, not {_type_name(raw)}", ("delta",))
            for key in raw:
                if key not in _DELTA_FIELDS:
                    _malformed(f"unknown field {key!r}", ("delta", key))
            text = raw.get("text")
            if text is None:
                text = _EMPTY
            elif not _is_object(text):
                _malformed(f"text is an object, not {_type_name(text)}", ("delta", "text"))
            for key, value in text.items():
                if type(value) is not str:
                    _malformed(
                        f"text values are strings, not {_type_name(value)}", ("delta", "text", key)
                    )
            values = raw.get("json")
            if values is None:
                values = _EMPTY
            elif not _is_object(values):
                _malformed(f"json is an object, not {_type_name(values)}", ("delta", "json"))
            done = raw.get("done")
            if done is None:
                done = ()
            elif type(done) is not list and type(done) is not tuple:
                _malformed(f"done is an array, not {_type_name(done)}", ("delta", "done"))
            for i, key in enumerate(done):
                if type(key) is not str:
                    _malformed(f"done lists strings, not {_type_name(key)}", ("delta", "done", i))
            delta = Delta(text, values, tuple(done))
        seq = data.get("seq")
        if seq is not None and (type(seq) is not int or seq < 0):
            _malformed(f"seq is a non-negative integer, not {seq!r}", ("seq",))
        finish_reason = data.get("finish_reason")
        if finish_reason is not None and type(finish_reason) is not str:
            _malformed(
                f"finish_reason is a string, not {_type_name(finish_reason)}", ("finish_reason",)
            )
        usage = data.get("usage")
        if usage is not None and not _is_object(usage):
            _malformed(f"usage is an object, not {_type_name(usage)}", ("usage",))
        metadata = data.get("metadata")
        if metadata is not None and not _is_object(metadata):
            _malformed(f"metadata is an object, not {_type_name(metadata)}", ("metadata",))
        return cls(delta, seq=seq, finish_reason=finish_reason, usage=usage, metadata=metadata)

    @classmethod
    def from_json(cls, data: str | bytes | bytearray | memoryview, /) -> Chunk:
        """Decode a chunk from JSON text (str, or UTF-8 bytes).

        Args:
            data: the JSON text of one chunk.

        Returns:
            The chunk.

        Raises:
            DeltaError: not valid JSON (NaN and Infinity are refused too), or a wrong shape.
            TypeError: `data` is neither str nor bytes.
        """
        if isinstance(data, str):
            try:
                raw = data.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise DeltaError(f"malformed chunk: not valid JSON ({exc})") from exc
        elif isinstance(data, bytes | bytearray | memoryview):
            raw = bytes(data)
        else:
            raise TypeError(f"from_json() takes str or bytes, not {type(data).__name__}")
        try:
            decoded = jiter.from_json(raw, allow_inf_nan=False)
        except ValueError as exc:
            raise DeltaError(f"malformed chunk: not valid JSON ({exc})") from exc
        return cls.from_dict(decoded)


def _make_chunk(
    delta: Delta,
    seq: int | None,
    finish_reason: str | None,
    usage: Mapping[str, Any] | None,
    metadata: Mapping[str, Any] | None,
) -> Chunk:
    return Chunk(delta, seq=seq, finish_reason=finish_reason, usage=usage, metadata=metadata)


_set_text = slot_setter(Delta, "text")
_set_json = slot_setter(Delta, "json")
_set_done = slot_setter(Delta, "done")
_set_delta = slot_setter(Chunk, "delta")
_set_seq = slot_setter(Chunk, "seq")
_set_finish_reason = slot_setter(Chunk, "finish_reason")
_set_usage = slot_setter(Chunk, "usage")
_set_metadata = slot_setter(Chunk, "metadata")

_EMPTY_DELTA: Final = Delta()
_CHUNK_FIELDS: Final = frozenset(Chunk._fields)
_DELTA_FIELDS: Final = frozenset(Delta._fields)


def _is_object(value: Any) -> bool:
    # The exact-type test first: an ABC isinstance check costs more than the rest of a chunk.
    return type(value) is dict or isinstance(value, Mapping)


def _malformed(what: str, where: JSONPath) -> Any:
    raise DeltaError(f"malformed chunk: {what}", path=where)


# ---------------------------------------------------------------------------- JSON helpers


def _type_name(value: Any) -> str:
    """The JSON type of `value`, as the messages name it."""
    t = type(value)
    if t is str:
        return "a string"
    if t is bool:
        return "a boolean"
    if t is int or t is float:
        return "a number"
    if value is None:
        return "null"
    if t is list:
        return "an array"
    if t is dict:
        return "an object"
    return f"a {t.__name__}"


def _same_type(a: Any, b: Any) -> bool:
    """True when `a` and `b` have the same JSON type (an int and a float are both numbers)."""
    ta, tb = type(a), type(b)
    return ta is tb or (ta is int and tb is float) or (ta is float and tb is int)


def _copy(value: Any, base: JSONPath | Callable[[], JSONPath]) -> Any:
    """A private copy of JSON value `value`, checked to be JSON.

    Copying makes the merged object independent of the chunk (a chunk's dict is never grown
    by later chunks) and lets a chunk be planned on its own copy before anything is applied.
    Tuples become lists; subclasses of the JSON types become the types themselves. `base`
    is the value's path, or makes it: it is only needed for an error message.

    Raises:
        DeltaError: something in `value` is not JSON (a set, a NaN, a non-string key).
    """
    try:
        scalar = _scalar(value)
    except _NotJSON as exc:
        raise DeltaError(str(exc), path=_trail_path(base, None)) from None
    if scalar is not _CONTAINER:
        return scalar
    root: Any = {} if _is_object(value) else []
    # Each container's trail is (parent's trail, key): a path costs nothing unless an
    # error needs it.
    stack: list[tuple[Any, Any, Any]] = [(value, root, None)]
    while stack:
        src, dst, trail = stack.pop()
        if type(dst) is dict:
            for key, item in src.items():
                try:
                    if type(key) is not str:
                        raise _NotJSON(f"object keys are strings, not {_type_name(key)}")
                    copied = _scalar(item)
                except _NotJSON as exc:
                    raise DeltaError(str(exc), path=_trail_path(base, (trail, key))) from None
                if copied is _CONTAINER:
                    copied = {} if _is_object(item) else []
                    stack.append((item, copied, (trail, key)))
                dst[key] = copied
        else:
            for item in src:
                try:
                    copied = _scalar(item)
                except _NotJSON as exc:
                    path = _trail_path(base, (trail, len(dst)))
                    raise DeltaError(str(exc), path=path) from None
                if copied is _CONTAINER:
                    copied = {} if _is_object(item) else []
                    stack.append((item, copied, (trail, len(dst))))
                dst.append(copied)
    return root


def _trail_path(base: JSONPath | Callable[[], JSONPath], trail: Any) -> JSONPath:
    if callable(base):
        base = base()
    keys: list[str | int] = []
    while trail is not None:
        trail, key = trail
        keys.append(key)
    return (*base, *reversed(keys))


_CONTAINER: Final = object()


class _NotJSON(Exception):
    """Internal: a value is not JSON; the caller knows where it is."""


def _scalar(value: Any) -> Any:
    """`value` if it is a JSON scalar, `_CONTAINER` for an array or object; else raise."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return value
    if t is float:
        if value != value:  # NaN; an infinity is what 1e400 reads as (see _numbers)
            raise _NotJSON(f"{value!r} is not a JSON number")
        return value
    if t is dict or t is list or isinstance(value, Mapping | list | tuple):
        return _CONTAINER
    if isinstance(value, str):
        # str.__str__, not str(): a str Enum member's str() is its name, not its value.
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _scalar(float(value))
    raise _NotJSON(f"{_type_name(value)} is not a JSON value")


def _index(token: str) -> int | None:
    """The array index an RFC 6901 reference token denotes (``0`` or no leading zero).

    None also for more than 18 digits: no list is that long, and int() refuses digit
    strings beyond sys.get_int_max_str_digits() with a bare ValueError.
    """
    if (
        token.isascii()
        and token.isdigit()
        and (token[0] != "0" or len(token) == 1)
        and len(token) <= 18
    ):
        return int(token)
    return None


def _guess(reached: JSONPath, tokens: tuple[str, ...]) -> JSONPath:
    """A path for an error message, when the tokens could not all be resolved: digits are
    shown as indices, since that is what they most likely meant."""
    return (*reached, *(int(t) if _index(t) is not None else t for t in tokens))


# ---------------------------------------------------------------------------- merging


class _Open:
    """An open string, array or object of the merged value."""

    __slots__ = ("children", "container", "parts", "slot", "value")

    def __init__(
        self,
        value: Any,
        children: dict[JSONPath, None] | None,
        container: Any,
        slot: Any,
        parts: list[str] | None,
    ) -> None:
        self.value = value  # the array or object (None for a string)
        self.children = children  # its open children, in the order they opened (None: a string)
        self.container = container  # a string's container (None at the root)
        self.slot = slot  # a string's key or index in its container
        self.parts = parts  # a string's text, in parts (None once it completes or is replaced)


class _Missing(Exception):
    """Internal: a pointer does not resolve. `reached` is the deepest existing value's path,
    `rest` the tokens left, `found` the value there when it is not a container."""

    def __init__(self, reached: JSONPath, rest: tuple[str, ...], found: Any = _CONTAINER) -> None:
        self.reached = reached
        self.rest = rest
        self.found = found


# Where `_locate` found a value: in the merged object, as a value this chunk sets there
# (an entry of the plan), or inside such a value (a private copy, not merged yet).
_REAL: Final = 0
_PLANNED: Final = 1
_PRIVATE: Final = 2


class ChunkMerger:
    """Merge delta chunks back into the object they describe; sans-IO.

    `apply` updates the merged object in place and returns the parser's kind of events
    (`ValueStarted`, `StringAppended`, `ValueCompleted`, `DocumentCompleted`), so whatever
    consumes `JSONParser` events can consume a delta stream. docs/deltas.md specifies both
    profiles.

    A chunk is atomic: when it contradicts the merged state, `apply` raises `DeltaError` and
    the merged object is exactly as it was before the chunk; the merger stays usable.

    Args:
        profile: ``"nested"`` (JSON Pointer keys, explicit completion; what `DeltaEncoder`
            writes) or ``"compatible"`` (top-level field names, shallow json assign, the
            object completes at `close`).

    Raises:
        ValueError: `profile` is not one of the two.
    """

    # One class per profile (as h11 has one reader per framing): `ChunkMerger(profile)`
    # constructs the profile's class from `_MERGERS`, so no method branches on the profile.
    __slots__ = ("_closed", "_complete", "_dirty", "_has_root", "_open", "_root")

    _PROFILE: ClassVar[Profile]

    def __new__(cls, profile: Profile = "nested") -> Self:
        if cls is ChunkMerger:
            mode = _MERGERS.get(profile) if isinstance(profile, str) else None
            if mode is None:
                raise ValueError(f"profile must be one of {_PROFILES!r}, not {profile!r}")
            return object.__new__(mode)  # type: ignore[return-value]
        return object.__new__(cls)

    def __init__(self, profile: Profile = "nested") -> None:
        self._root: Any = None
        self._has_root = False
        self._complete = False
        self._closed = False
        self._open: dict[JSONPath, _Open] = {}
        self._dirty: dict[JSONPath, _Open] = {}  # open strings with parts not joined yet

    # ------------------------------------------------------------------ public API

    @property
    def profile(self) -> Profile:
        """The merge profile, ``"nested"`` or ``"compatible"``."""
        return self._PROFILE

    @property
    def value(self) -> Any:
        """The merged object so far (``None`` before anything is set); a live view."""
        if self._dirty:
            for node in self._dirty.values():
                _join(self, node)
            self._dirty.clear()
        return self._root

    @property
    def done(self) -> bool:
        """True once the root value is complete."""
        return self._complete

    def apply(self, chunk: Chunk, /) -> list[Event]:
        """Merge one chunk into the object.

        Args:
            chunk: the chunk; its ``seq``, ``finish_reason``, ``usage`` and ``metadata`` are
                not used.

        Returns:
            The events the chunk caused, as `JSONParser.feed` reports them.

        Raises:
            DeltaError: the chunk contradicts the merged state or is malformed (see
                docs/deltas.md); ``.path`` is the JSON path concerned. Nothing was changed.
            UsageError: the merger was closed.
            TypeError: `chunk` is not a `Chunk`.
        """
        if self._closed:
            raise UsageError("the merger is closed; create a new ChunkMerger for another stream")
        if type(chunk) is not Chunk:
            raise TypeError(f"apply() takes a Chunk, not {type(chunk).__name__}")
        return self._merge(chunk.delta)

    def close(self) -> list[Event]:
        """End the stream.

        Nested profile: completion is explicit, so nothing completes here; returns ``[]``.
        Read `done` to know whether the root completed (an incomplete root is not an error
        here: the caller decides, with `value` as the partial object).

        Compatible profile: completes whatever is open (strings still receiving text, then the
        root object, which is ``{}`` if no chunk came) and returns those events, ending with
        `DocumentCompleted`.

        Returns:
            The events the end caused.

        Raises:
            UsageError: the merger was already closed.
        """
        if self._closed:
            raise UsageError("the merger is already closed")
        self._closed = True
        return self._end()

    def _merge(self, delta: Delta) -> list[Event]:
        raise NotImplementedError  # pragma: no cover - each profile's class merges

    def _end(self) -> list[Event]:
        raise NotImplementedError  # pragma: no cover - each profile's class ends

    # ------------------------------------------------------------------ open values

    def _install(
        self,
        value: Any,
        path: JSONPath,
        container: Any,
        slot: Any,
        parent: _Open | None,
        complete: bool,
        done: set[JSONPath] | None,
        events: list[Event],
    ) -> None:
        """Report a value just placed at `path` (a private copy) as the parser would, and
        register its open parts: pre-order starts, the text of strings, completions of what
        is complete (scalars always; `done` paths and everything below them) in post-order."""
        stack: list[Any] = [(value, path, container, slot, parent, complete)]
        pop = stack.pop
        push = stack.append
        while stack:
            item = pop()
            if type(item) is ValueCompleted:
                events.append(item)
                continue
            v, p, c, s, par, comp = item
            if not comp and done and p in done:
                comp = True
            t = type(v)
            if t is str:
                events.append(ValueStarted(p, "string"))
                if v:
                    events.append(StringAppended(p, v))
                if comp:
                    events.append(ValueCompleted(p, v))
                else:
                    node = _Open(None, None, c, s, [v])
                    self._open[p] = node
                    if par is not None:
                        par.children[p] = None
            elif t is dict or t is list:
                events.append(ValueStarted(p, "object" if t is dict else "array"))
                if comp:
                    push(ValueCompleted(p, v))
                    node = None
                else:
                    node = _Open(v, {}, None, None, None)
                    self._open[p] = node
                    if par is not None:
                        par.children[p] = None
                if v:
                    items = list(v.items() if t is dict else enumerate(v))
                    for k, child in reversed(items):
                        push((child, (*p, k), v, k, node, comp))
            else:
                events.append(ValueCompleted(p, v))

    def _drop(self, path: JSONPath) -> None:
        """Forget the open value at `path` and everything open below it (it is replaced)."""
        node = self._open.pop(path, None)
        if node is None:
            return
        self._dirty.pop(path, None)
        node.parts = None
        if path:
            parent = self._open.get(path[:-1])
            if parent is not None and parent.children is not None:
                parent.children.pop(path, None)
        stack = list(node.children or ())
        while stack:
            p = stack.pop()
            child = self._open.pop(p)
            self._dirty.pop(p, None)
            child.parts = None
            if child.children:
                stack.extend(child.children)

    def _complete_open(self, path: JSONPath, events: list[Event]) -> None:
        """Complete the open value at `path` and its open subtree, children first (siblings in
        the order they opened)."""
        stack: list[tuple[JSONPath, _Open, bool]] = [(path, self._open[path], False)]
        while stack:
            p, node, expanded = stack.pop()
            if node.children and not expanded:
                stack.append((p, node, True))
                open_ = self._open
                stack.extend((c, open_[c], False) for c in reversed(list(node.children)))
                continue
            del self._open[p]
            if node.parts is not None:
                self._dirty.pop(p, None)
                events.append(ValueCompleted(p, _join(self, node)))
                node.parts = None
            else:
                events.append(ValueCompleted(p, node.value))
        if path:
            parent = self._open.get(path[:-1])
            if parent is not None and parent.children is not None:
                parent.children.pop(path, None)
        else:
            self._finish_document(events)

    def _finish_document(self, events: list[Event]) -> None:
        self._complete = True
        events.append(DocumentCompleted(self._root))


class _NestedMerger(ChunkMerger):
    """The nested profile: JSON Pointer keys, explicit completion (``done``)."""

    __slots__ = ("_cache_node", "_cache_path", "_cache_ptr")

    _PROFILE: ClassVar[Profile] = "nested"

    def __init__(self, profile: Profile = "nested") -> None:
        super().__init__(profile)
        # The last text target resolved: long strings get text chunk after chunk.
        self._cache_ptr: str | None = None
        self._cache_path: JSONPath = ()
        self._cache_node: _Open | None = None

    def _end(self) -> list[Event]:
        return []  # completion is explicit: the end completes nothing

    def _merge(self, delta: Delta) -> list[Event]:
        sets, texts, done = delta.json, delta.text, delta.done
        events: list[Event] = []
        if not sets and not done:
            if not texts:
                return events
            if len(texts) == 1:
                # The common chunk of a long stream: text for the string that had the last.
                ((ptr, text),) = texts.items()
                node = self._cache_node
                # A string node's parts become None when it completes or is replaced.
                if ptr == self._cache_ptr and node is not None and node.parts is not None:
                    if type(text) is str:
                        path = self._cache_path
                        node.parts.append(text)
                        self._dirty[path] = node
                        if text:
                            events.append(StringAppended(path, text))
                        return events
        if self._complete:
            ptr = next(iter(sets or texts or done))
            raise DeltaError(
                "the document is already complete; a chunk cannot change it",
                path=self._error_path(ptr),
            )

        # Plan: check every operation against the object plus the chunk's earlier effects.
        # entries: path -> [container, slot, value copy, is_append], the values set in the
        # merged object (not inside another value this chunk sets, which go into its copy).
        entries: dict[JSONPath, list[Any]] = {}
        grown: dict[JSONPath, int] = {}  # arrays of the object: items this chunk appends
        for ptr, value in sets.items():
            self._plan_set(ptr, value, entries, grown)
        real_texts: list[tuple[_Open, JSONPath, str]] = []
        for ptr, text in texts.items():
            tokens = self._tokens(ptr)
            if type(text) is not str:
                raise DeltaError(
                    f"text values are strings, not {_type_name(text)}", path=_guess((), tokens)
                )
            try:
                path, where, current, holder, slot = self._locate(tokens, entries)
            except _Missing as miss:
                path = _guess(miss.reached, miss.rest)
                raise DeltaError("text appended to a missing value", path=path) from None
            if type(current) is not str:
                raise DeltaError(f"text appended to {_type_name(current)}", path=path)
            if where == _REAL:
                node = self._open.get(path)
                if node is None:
                    raise DeltaError("text appended to a complete string", path=path)
                real_texts.append((node, path, text))
                self._cache_ptr, self._cache_path, self._cache_node = ptr, path, node
            elif where == _PLANNED:
                holder[2] = current + text
            else:
                holder[slot] = current + text
        done_planned: set[JSONPath] = set()
        done_real: list[JSONPath] = []
        if done:
            completed: set[JSONPath] = set()
            for ptr in done:
                if type(ptr) is not str:
                    raise DeltaError(f"done lists strings, not {_type_name(ptr)}")
                tokens = self._tokens(ptr)
                try:
                    path, where, current, _, _ = self._locate(tokens, entries)
                except _Missing as miss:
                    path = _guess(miss.reached, miss.rest)
                    raise DeltaError("done names a missing value", path=path) from None
                if type(current) not in (str, list, dict):
                    raise DeltaError(
                        f"done names {_type_name(current)}; numbers, booleans and null are "
                        "complete on arrival",
                        path=path,
                    )
                if any(path[:i] in completed for i in range(len(path) + 1)) or (
                    where == _REAL and path not in self._open
                ):
                    raise DeltaError("done names a value that is already complete", path=path)
                completed.add(path)
                if where == _REAL:
                    done_real.append(path)
                else:
                    done_planned.add(path)

        # Apply: nothing below can fail.
        for path, (container, slot, copy, is_append) in entries.items():
            self._drop(path)
            if not path:
                self._root = copy
                self._has_root = True
                parent = None
            else:
                if is_append:
                    container.append(copy)
                else:
                    container[slot] = copy
                parent = self._open.get(path[:-1])
            complete = path in done_planned
            self._install(copy, path, container, slot, parent, complete, done_planned, events)
            if not path and (complete or type(copy) not in (str, list, dict)):
                self._finish_document(events)
        for node, path, text in real_texts:
            assert node.parts is not None
            node.parts.append(text)
            self._dirty[path] = node
            if text:
                events.append(StringAppended(path, text))
        for path in done_real:
            self._complete_open(path, events)
        return events

    def _tokens(self, ptr: Any) -> tuple[str, ...]:
        if type(ptr) is not str:
            raise DeltaError(f"keys are JSON Pointers (strings), not {_type_name(ptr)}")
        try:
            return parse_pointer(ptr)
        except ValueError:
            raise DeltaError(
                f"invalid JSON Pointer {ptr!r} (it must be empty or start with '/')", path=()
            ) from None

    def _error_path(self, ptr: Any) -> JSONPath:
        if type(ptr) is str and (not ptr or ptr[0] == "/"):
            return _guess((), parse_pointer(ptr))
        return ()

    def _plan_set(
        self, ptr: str, value: Any, entries: dict[JSONPath, list[Any]], grown: dict[JSONPath, int]
    ) -> None:
        tokens = self._tokens(ptr)
        copy = _copy(value, lambda: _guess((), tokens))
        if not tokens:
            current = entries[()][2] if () in entries else self._root
            if (self._has_root or () in entries) and not _same_type(current, copy):
                raise DeltaError(
                    f"type change: cannot replace {_type_name(current)} with {_type_name(copy)}"
                )
            # Everything set before in this chunk was inside the old root.
            entries.clear()
            grown.clear()
            entries[()] = [None, None, copy, False]
            return
        try:
            ppath, where, parent, _, _ = self._locate(tokens[:-1], entries)
        except _Missing as miss:
            path = _guess(miss.reached, (*miss.rest, tokens[-1]))
            if miss.found is _CONTAINER:
                detail = f"nothing at {render_path(_guess(miss.reached, miss.rest[:1]))}"
            else:
                detail = f"{_type_name(miss.found)} at {render_path(miss.reached)}"
            raise DeltaError(f"no parent ({detail}) for the value", path=path) from None
        last = tokens[-1]
        ptype = type(parent)
        if ptype is dict:
            path = (*ppath, last)
            exists = last in parent or (where == _REAL and path in entries)
            slot: Any = last
            is_append = False
        elif ptype is list:
            length = len(parent)
            if where == _REAL:
                length += grown.get(ppath, 0)
            index = length if last == "-" else _index(last)
            if index is None:
                raise DeltaError(f"invalid array index {last!r}", path=(*ppath, last))
            path = (*ppath, index)
            if index > length:
                raise DeltaError(
                    f"index gap: the array's length is {length}, so the next index is {length}",
                    path=path,
                )
            exists = index < length
            slot = index
            is_append = not exists
        else:
            raise DeltaError(
                f"no parent ({_type_name(parent)} at {render_path(ppath)}) for the value",
                path=(*ppath, _guess((), (last,))[0]),
            )
        if where == _REAL and ppath not in self._open:
            raise DeltaError(
                f"the parent ({render_path(ppath)}) is already complete; cannot set the value",
                path=path,
            )
        if exists:
            if where == _REAL and path in entries:
                current = entries[path][2]
            else:
                current = parent[slot]
            if not _same_type(current, copy):
                raise DeltaError(
                    f"type change: cannot replace {_type_name(current)} with {_type_name(copy)}",
                    path=path,
                )
        if where != _REAL:
            # Inside a value this chunk sets: change the private copy directly.
            if is_append:
                parent.append(copy)
            else:
                parent[slot] = copy
            return
        entry = entries.get(path)
        if entry is not None:
            entry[2] = copy
        else:
            if exists:
                # What this chunk set inside the replaced value would be lost with it.
                n = len(path)
                for p in [p for p in entries if len(p) > n and p[:n] == path]:
                    del entries[p]
            entries[path] = [parent, slot, copy, is_append]
            if is_append:
                grown[ppath] = grown.get(ppath, 0) + 1

    def _locate(
        self, tokens: tuple[str, ...], entries: dict[JSONPath, list[Any]]
    ) -> tuple[JSONPath, int, Any, Any, Any]:
        """Resolve pointer tokens against the object plus the chunk's planned values.

        Returns (path, where, value, holder, slot): `holder` is the plan entry (`_PLANNED`)
        or the private container holding the value at `slot` (`_PRIVATE`).

        Raises:
            _Missing: a token does not resolve.
        """
        holder: Any = None
        slot: Any = None
        if entries and () in entries:
            holder = entries[()]
            where = _PLANNED
            current = holder[2]
        elif self._has_root:
            where = _REAL
            current = self._root
        else:
            raise _Missing((), tokens)
        path: JSONPath = ()
        for i, token in enumerate(tokens):
            ctype = type(current)
            key: str | int
            if ctype is dict:
                key = token
                found = key in current
            elif ctype is list:
                index = _index(token)
                if index is None:
                    raise _Missing(path, tokens[i:])
                key = index
                found = index < len(current)
            else:
                raise _Missing(path, tokens[i:], current)
            child: JSONPath = (*path, key)
            if where == _REAL:
                # An item this chunk appends is an entry too, so entries come first.
                entry = entries.get(child) if entries else None
                if entry is not None:
                    holder = entry
                    where = _PLANNED
                    current = entry[2]
                    path = child
                    continue
            if not found:
                raise _Missing(path, tokens[i:])
            if where != _REAL:
                holder = current
                slot = key
                where = _PRIVATE
            current = current[key]
            path = child
        return path, where, current, holder, slot


class _CompatibleMerger(ChunkMerger):
    """The compatible profile: top-level field names, shallow json assign, the object
    completes at `close`."""

    __slots__ = ()

    _PROFILE: ClassVar[Profile] = "compatible"

    def _end(self) -> list[Event]:
        events: list[Event] = []
        if self._complete:
            return events
        if not self._has_root:
            self._start_object_root(events)
        self._complete_open((), events)
        return events

    def _merge(self, delta: Delta) -> list[Event]:
        sets, texts = delta.json, delta.text
        events: list[Event] = []
        if not self._has_root:
            self._start_object_root(events)
        root = self._root
        # Plan: copy and check everything first.
        copies: dict[str, Any] = {}
        for key, value in sets.items():
            if type(key) is not str:
                raise DeltaError(f"keys are field names (strings), not {_type_name(key)}")
            copies[key] = _copy(value, (key,))
        for key, text in texts.items():
            if type(key) is not str:
                raise DeltaError(f"keys are field names (strings), not {_type_name(key)}")
            if type(text) is not str:
                raise DeltaError(f"text values are strings, not {_type_name(text)}", path=(key,))
            current = copies[key] if key in copies else root.get(key, "")
            if type(current) is not str:
                raise DeltaError(f"text appended to {_type_name(current)}", path=(key,))
        # Apply: json first (a shallow assign), then text.
        root_node = self._open[()]
        for key, copy in copies.items():
            path = (key,)
            self._drop(path)
            root[key] = copy
            if key in texts and type(copy) is str:
                # Text follows in this chunk: the string keeps streaming.
                self._open_string(path, root, key, copy, root_node, events)
            else:
                self._install(copy, path, root, key, root_node, True, None, events)
        for key, text in texts.items():
            path = (key,)
            node = self._open.get(path)
            if node is None:
                # A new field, or a string completed by a json assign that grows again: a
                # new streaming value, reported from its start.
                node = self._open_string(path, root, key, root.get(key, ""), root_node, events)
            assert node.parts is not None
            node.parts.append(text)
            self._dirty[path] = node
            if text:
                events.append(StringAppended(path, text))
        return events

    def _start_object_root(self, events: list[Event]) -> None:
        self._root = {}
        self._has_root = True
        self._open[()] = _Open(self._root, {}, None, None, None)
        events.append(ValueStarted((), "object"))

    def _open_string(
        self,
        path: JSONPath,
        container: Any,
        slot: Any,
        text: str,
        parent: _Open,
        events: list[Event],
    ) -> _Open:
        container[slot] = text
        node = _Open(None, None, container, slot, [text])
        self._open[path] = node
        assert parent.children is not None
        parent.children[path] = None
        events.append(ValueStarted(path, "string"))
        if text:
            events.append(StringAppended(path, text))
        return node


_MERGERS: Final[Mapping[str, type[ChunkMerger]]] = MappingProxyType(
    {"nested": _NestedMerger, "compatible": _CompatibleMerger}
)


class _HasRoot(Protocol):
    _root: Any


def _join(merger: _HasRoot, node: _Open) -> str:
    """Join an open string's parts into its slot (the root of `merger` when it has no
    container); return the text. The merger's and `_mirror.Mirror`'s open strings alike."""
    parts = node.parts
    assert parts is not None
    text = parts[0] if len(parts) == 1 else "".join(parts)
    parts[:] = [text]
    if node.container is None:
        merger._root = text
    else:
        node.container[node.slot] = text
    return text


# ---------------------------------------------------------------------------- producing


class DeltaEncoder:
    """Turn `JSONParser` events into nested-profile chunks; sans-IO.

    Feed it the events of each `JSONParser.feed` (and of `close`). The chunks are compact:
    a string, array or object that starts and completes within one batch is sent once, whole;
    a string that starts in a batch carries its first text in its json set; later text goes
    to ``delta.text``; nothing is ever sent twice, so the chunks of a document add up to its
    size plus one JSON Pointer per operation. Chunks are numbered 0, 1, 2, ... in ``seq``.
    """

    __slots__ = ("_closed", "_last_path", "_last_ptr", "_root_started", "_seq")

    def __init__(self) -> None:
        self._seq = 0
        self._closed = False
        self._root_started = False
        self._last_path: JSONPath | None = None
        self._last_ptr = ""

    def encode(self, events: Iterable[Event], /, *, final: bool = False) -> list[Chunk]:
        """Encode the events of one batch (one `feed`) as chunks.

        Usually returns one chunk, or none when the events change nothing (a feed that
        completed no token). It returns more than one only when a value appears again at a
        path this batch already changed (a duplicate key in a JSON object): one chunk cannot
        carry both, because a chunk applies its sets before its texts.

        Args:
            events: the parser's events, in order.
            final: this is the last batch (the events of `JSONParser.close`); afterwards the
                encoder refuses more.

        Returns:
            The chunks, in order.

        Raises:
            UsageError: called after a final batch, or the events start a second document
                (the nested profile carries one document per stream).
        """
        if self._closed:
            raise UsageError("the encoder has had its final batch; create a new DeltaEncoder")
        if final:
            self._closed = True
        if type(events) is list and len(events) < 2:
            # The common batches of a long stream: nothing (a feed inside a token), or more
            # text for a string that started earlier.
            if not events:
                return []
            only: Any = events[0]
            if type(only) is StringAppended:
                seq = self._seq
                self._seq = seq + 1
                return [Chunk(Delta({self._pointer(only.path): only.text}), seq=seq)]
        chunks: list[Chunk] = []
        paths: list[JSONPath] = []  # the json sets: paths and values, in order
        values: list[Any] = []
        index_of: dict[JSONPath, int] = {}  # path -> its set, for values set in this chunk
        done_mark: dict[JSONPath, int] = {}  # path -> len(done) when it started in this chunk
        texts: dict[JSONPath, str] = {}
        done: list[JSONPath] = []
        done_set: set[JSONPath] = set()
        for event in events:
            t = type(event)
            if t is StringAppended:
                path = event.path  # type: ignore[attr-defined]
                i = index_of.get(path)
                if i is not None:
                    values[i] += event.text  # type: ignore[attr-defined]
                else:
                    texts[path] = texts.get(path, "") + event.text  # type: ignore[attr-defined]
            elif t is ValueStarted or t is ValueCompleted:  # (DocumentCompleted: nothing)
                path = event.path  # type: ignore[attr-defined]
                if t is ValueStarted:
                    kind = event.kind  # type: ignore[attr-defined]
                    value: Any = "" if kind == "string" else [] if kind == "array" else {}
                else:
                    value = event.value  # type: ignore[attr-defined]
                    vtype = type(value)
                    if vtype is str or vtype is list or vtype is dict:
                        i = index_of.get(path)
                        if i is not None:
                            # Started and completed in this batch: one set of the final
                            # value replaces the ops of its descendants.
                            values[i] = value
                            del paths[i + 1 :], values[i + 1 :], done[done_mark[path] :]
                        done.append(path)
                        done_set.add(path)
                        continue
                # A value appears at `path` (a container or string opens, or a number or
                # literal completes). A second one at a path this batch already changed (a
                # duplicate key) goes into the next chunk.
                if path in index_of or path in texts or path in done_set:
                    chunks.append(self._chunk(paths, values, texts, done))
                    paths, values, texts, done = [], [], {}, []
                    index_of, done_mark, done_set = {}, {}, set()
                if not path:
                    self._check_root()
                index_of[path] = len(paths)
                done_mark[path] = len(done)
                paths.append(path)
                values.append(value)
        if paths or texts or done:
            chunks.append(self._chunk(paths, values, texts, done))
        return chunks

    def _check_root(self) -> None:
        if self._root_started:
            raise UsageError(
                "a second JSON document: the nested profile carries one document per stream"
            )
        self._root_started = True

    def _pointer(self, path: JSONPath) -> str:
        # Text comes for the same open string batch after batch, and the parser hands out
        # the same path object for it each time: skip re-rendering its pointer.
        if path is self._last_path:
            return self._last_ptr
        ptr = to_pointer(path)
        self._last_path = path
        self._last_ptr = ptr
        return ptr

    def _chunk(
        self,
        paths: list[JSONPath],
        values: list[Any],
        texts: dict[JSONPath, str],
        done: list[JSONPath],
    ) -> Chunk:
        sets: dict[str, Any] = {}
        for i, path in enumerate(paths):
            sets[to_pointer(path)] = values[i]
        delta = Delta(
            {self._pointer(p): t for p, t in texts.items()} if texts else _EMPTY,
            sets or _EMPTY,
            tuple([to_pointer(p) for p in done]) if done else (),
        )
        seq = self._seq
        self._seq = seq + 1
        return Chunk(delta, seq=seq)


def chunks_from_text(chunks: Iterable[str | bytes], /, **parser_options: Any) -> Iterator[Chunk]:
    """Parse streamed JSON text and yield it as nested-profile delta chunks.

    Args:
        chunks: the JSON text in pieces (str, or UTF-8 bytes split anywhere).
        **parser_options: options of `JSONParser` (``lenient``, limits; not ``multiple``,
            and not ``events=False``: the chunks are made from the events).

    Returns:
        An iterator of chunks numbered from 0; merged by ``ChunkMerger("nested")`` they give
        the parsed value.

    Raises:
        JSONParseError: the text is not valid JSON (IncompleteJSONError when it ends early).
        UsageError: the text holds more than one document, or ``events=False`` was given.
    """
    if not parser_options.get("events", True):
        raise UsageError("chunks_from_text() encodes the parser's events: drop events=False")
    parser = JSONParser(**parser_options)
    encoder = DeltaEncoder()
    for data in chunks:
        yield from encoder.encode(parser.feed(data))
    yield from encoder.encode(parser.close(), final=True)


def chunk_from_object(obj: Any, /) -> Chunk:
    """One nested-profile chunk that sets the root to `obj` and completes it.

    Args:
        obj: a JSON value (kept as given, not copied).

    Returns:
        ``Chunk(Delta(json={"": obj}, done=("",)))``; a number, boolean or null root is
        complete on arrival, so ``done`` is empty then.
    """
    done = ("",) if isinstance(obj, str | list | tuple | Mapping) else ()
    return Chunk(Delta(json={"": obj}, done=done))


def chunks_for_field(
    field: str, text: str | Iterable[str], *, profile: Profile = "compatible"
) -> Iterator[Chunk]:
    """Stream plain text into one field of an object, word by word.

    A str is split into word-sized pieces that keep their whitespace (``"a b"`` gives ``"a "``
    and ``"b"``); an iterable of str (a model's text deltas) is sent piece by piece, empty
    pieces skipped. Chunks are numbered from 0.

    Compatible profile: one ``delta.text`` chunk per piece (one ``{field: ""}`` text chunk
    when there is no text at all, so the field exists). Nested profile: the first chunk sets
    the root to ``{field: first_piece}``, later ones append text at ``/field``, and the last
    one completes the root (``done: [""]``).

    Args:
        field: the field's name.
        text: the text, whole or in pieces.
        profile: ``"compatible"`` or ``"nested"``.

    Returns:
        An iterator of chunks.

    Raises:
        ValueError: `profile` is not one of the two.
    """
    if profile not in _PROFILES:
        raise ValueError(f"profile must be one of {_PROFILES!r}, not {profile!r}")
    pieces: Iterable[str] = (
        _WORDS.findall(text) if isinstance(text, str) else (p for p in text if p)
    )
    return _field_chunks(field, pieces, profile == "nested")


def _field_chunks(field: str, pieces: Iterable[str], nested: bool) -> Iterator[Chunk]:
    seq = 0
    if not nested:
        for piece in pieces:
            yield Chunk(Delta(text={field: piece}), seq=seq)
            seq += 1
        if not seq:
            yield Chunk(Delta(text={field: ""}), seq=0)
        return
    ptr = to_pointer((field,))
    previous: str | None = None
    for piece in pieces:
        # Hold each piece back by one, so the last chunk can also complete the root.
        if previous is not None:
            yield _field_chunk(seq, ptr, field, previous, done=False)
            seq += 1
        previous = piece
    yield _field_chunk(seq, ptr, field, previous or "", done=True)


def _field_chunk(seq: int, ptr: str, field: str, piece: str, *, done: bool) -> Chunk:
    if seq == 0:
        delta = Delta(json={"": {field: piece}}, done=("",) if done else ())
    else:
        delta = Delta(text={ptr: piece}, done=("",) if done else ())
    return Chunk(delta, seq=seq)
