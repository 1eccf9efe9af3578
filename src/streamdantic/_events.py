"""Parser events: what a chunk of JSON text changed, each carrying the JSON path it concerns.

Strategy / invariants:
- Every value produces exactly one `ValueCompleted`, whatever the chunking.
- Strings, arrays and objects also produce one `ValueStarted` when they become visible
  (with ``""``, ``[]`` or ``{}``); numbers, ``true``, ``false`` and ``null`` are visible only
  when complete, so they produce `ValueCompleted` alone.
- A growing string produces `StringAppended` events whose texts, concatenated, are the
  string's final value (at most one per string per `feed`, so splits do not fragment them).
- Events are frozen and slotted. They are built on the per-chunk hot path, so construction
  bypasses ``__setattr__`` (which is what makes them frozen) through the slot descriptors:
  half the cost of a frozen dataclass, the same behaviour.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from ._paths import Path

__all__ = ["DocumentCompleted", "Event", "StringAppended", "ValueCompleted", "ValueStarted"]

ValueKind = Literal["object", "array", "string"]


class Event:
    """Base class of parser events: frozen, slotted, compared by type and value."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def _astuple(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self._fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event) or type(other) is not type(self):
            return NotImplemented
        return self._astuple() == other._astuple()

    def __hash__(self) -> int:
        return hash((type(self), self._astuple()))

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({args})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._astuple())


class ValueStarted(Event):
    """A string, array or object appeared at `path` (empty, and about to grow)."""

    __slots__ = ("path", "kind")
    _fields = ("path", "kind")
    path: Path
    kind: ValueKind

    def __init__(self, path: Path, kind: ValueKind) -> None:
        _set_started_path(self, path)
        _set_started_kind(self, kind)


class StringAppended(Event):
    """The string at `path` grew by `text` (decoded; never half an escape or character)."""

    __slots__ = ("path", "text")
    _fields = ("path", "text")
    path: Path
    text: str

    def __init__(self, path: Path, text: str) -> None:
        _set_appended_path(self, path)
        _set_appended_text(self, text)


class ValueCompleted(Event):
    """The value at `path` is complete; `value` is final (containers are the live objects)."""

    __slots__ = ("path", "value")
    _fields = ("path", "value")
    path: Path
    value: Any

    def __init__(self, path: Path, value: Any) -> None:
        _set_completed_path(self, path)
        _set_completed_value(self, value)


class DocumentCompleted(Event):
    """A whole JSON document (the `index`-th of the stream, from 0) is complete."""

    __slots__ = ("value", "index")
    _fields = ("value", "index")
    value: Any
    index: int

    def __init__(self, value: Any, index: int = 0) -> None:
        _set_document_value(self, value)
        _set_document_index(self, index)

    def __repr__(self) -> str:
        # The index is 0 for single-document streams: omit the default.
        extra = f", index={self.index}" if self.index else ""
        return f"DocumentCompleted(value={self.value!r}{extra})"


def _setter(cls: type, name: str) -> Any:
    return cls.__dict__[name].__set__


_set_started_path = _setter(ValueStarted, "path")
_set_started_kind = _setter(ValueStarted, "kind")
_set_appended_path = _setter(StringAppended, "path")
_set_appended_text = _setter(StringAppended, "text")
_set_completed_path = _setter(ValueCompleted, "path")
_set_completed_value = _setter(ValueCompleted, "value")
_set_document_value = _setter(DocumentCompleted, "value")
_set_document_index = _setter(DocumentCompleted, "index")
