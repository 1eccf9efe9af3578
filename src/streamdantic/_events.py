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

from typing import Any, Literal

from ._frozen import Frozen, slot_setter
from ._paths import JSONPath

__all__ = ["DocumentCompleted", "Event", "StringAppended", "ValueCompleted", "ValueStarted"]

ValueKind = Literal["object", "array", "string"]


class Event(Frozen):
    """Base class of parser events: frozen, slotted, compared by type and value."""

    __slots__ = ()


class ValueStarted(Event):
    """A string, array or object appeared at `path` (empty, and about to grow)."""

    __slots__ = ("path", "kind")
    _fields = ("path", "kind")
    path: JSONPath
    kind: ValueKind

    def __init__(self, path: JSONPath, kind: ValueKind) -> None:
        _set_started_path(self, path)
        _set_started_kind(self, kind)


class StringAppended(Event):
    """The string at `path` grew by `text` (decoded; never half an escape or character)."""

    __slots__ = ("path", "text")
    _fields = ("path", "text")
    path: JSONPath
    text: str

    def __init__(self, path: JSONPath, text: str) -> None:
        _set_appended_path(self, path)
        _set_appended_text(self, text)


class ValueCompleted(Event):
    """The value at `path` is complete; `value` is final (containers are the live objects)."""

    __slots__ = ("path", "value")
    _fields = ("path", "value")
    path: JSONPath
    value: Any

    def __init__(self, path: JSONPath, value: Any) -> None:
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


_set_started_path = slot_setter(ValueStarted, "path")
_set_started_kind = slot_setter(ValueStarted, "kind")
_set_appended_path = slot_setter(StringAppended, "path")
_set_appended_text = slot_setter(StringAppended, "text")
_set_completed_path = slot_setter(ValueCompleted, "path")
_set_completed_value = slot_setter(ValueCompleted, "value")
_set_document_value = slot_setter(DocumentCompleted, "value")
_set_document_index = slot_setter(DocumentCompleted, "index")
