"""`Update`, the frozen value a local stream yields, and `UpdateLike`, the shape it shares
with the SSE client's `ClientUpdate` (sans-IO).

Strategy / invariants:
- An `Update` never changes once built: its fields are read-only properties over private
  slots (assignment raises `AttributeError`), its sequences are tuples, and its partial is a
  snapshot (unless ``partials="live"``). Only the emitter (`_emitter.py`) builds them.
- Read-only properties rather than a frozen dataclass: a frozen dataclass's ``__init__``
  goes through ``object.__setattr__`` once per field, about 5x the cost of plain slot writes,
  and one update is built per visible change (per chunk with the default policy).
- The emitter builds them with `new_update`, not the class: the compiled
  `_speedups.new_update` stores the slots without running ``__init__`` (0.1 us instead of
  0.5 us an update); `_py_new_update`, its pure-Python twin, calls the class, and a
  differential test keeps the two alike.
- `UpdateLike` is what a UI needs from an update, whether it came from `stream()` in
  process or from `connect()` over SSE: the partial, what changed (events, deltas, parts),
  whether it is the last, the final object, the finish reason and the usage.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

from ._deltas import Chunk, Delta, DeltaEncoder
from ._events import Event
from ._exceptions import UsageError
from ._parts import Part, Usage
from ._paths import JSONPath
from ._validation import InvalidValue

__all__ = ["Update", "UpdateLike", "new_update"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@runtime_checkable
class UpdateLike(Protocol[T_co]):
    """The shape `Update` (from `stream`/`astream`) and `ClientUpdate` (from
    `connect`/`aconnect`) share, so one function renders a local and a remote stream.

    Attributes:
        partial: the partial object after this update (typed when there is a model), a
            value that never changes afterwards (unless ``partials="live"``).
        events: the parser/merger events this update folds in (what changed).
        deltas: the nested-profile chunks that carry this update's change.
        parts: stream parts (reasoning, tool calls, usage, ...) that came with it.
        done: True for the final update.
        final: the validated final object (final update only).
        finish_reason: the provider's finish reason, when known.
        usage: token usage, when known.
    """

    @property
    def partial(self) -> Any: ...
    @property
    def events(self) -> Sequence[Event]: ...
    @property
    def deltas(self) -> Sequence[Chunk]: ...
    @property
    def parts(self) -> Sequence[Part]: ...
    @property
    def done(self) -> bool: ...
    @property
    def final(self) -> T_co | None: ...
    @property
    def finish_reason(self) -> str | None: ...
    @property
    def usage(self) -> Usage | None: ...


_FIELDS = (
    "index",
    "partial",
    "events",
    "completed",
    "elements",
    "errors",
    "parts",
    "done",
    "final",
    "finish_reason",
    "usage",
)


class Update(Generic[T]):
    """One visible change of the object being streamed (or the final state); a frozen
    value: assigning to an attribute raises `AttributeError`.

    Attributes:
        index: 0, 1, 2, ... in emission order.
        partial: the typed partial object (plain JSON when there is no model): a value that
            never changes afterwards, sharing unchanged subtrees with the previous update's
            (``a.items[3] is b.items[3]`` means "unchanged"); with ``partials="live"``, one
            object changed in place by later updates.
        events: the parser/merger events folded into this update.
        completed: JSON paths of the values completed since the previous update.
        elements: ``(path, validated)`` for list elements of models completed since then.
        errors: completed values that failed validation (when errors are reported, not raised).
        parts: stream parts (reasoning, tool calls, usage, ...) that arrived since then.
        done: True for the final update.
        final: the validated final object (final update only).
        finish_reason, usage: as reported by the provider so far.
    """

    __slots__ = (
        "_index",
        "_partial",
        "_events",
        "_completed",
        "_elements",
        "_errors",
        "_parts",
        "_done",
        "_final",
        "_finish_reason",
        "_usage",
        "_deltas",
    )

    # Read-only views of the private slots: C-level getters, about a slot read's cost.
    if TYPE_CHECKING:

        @property
        def index(self) -> int: ...
        @property
        def partial(self) -> Any: ...
        @property
        def events(self) -> tuple[Event, ...]: ...
        @property
        def completed(self) -> tuple[JSONPath, ...]: ...
        @property
        def elements(self) -> tuple[tuple[JSONPath, Any], ...]: ...
        @property
        def errors(self) -> tuple[InvalidValue, ...]: ...
        @property
        def parts(self) -> tuple[Part, ...]: ...
        @property
        def done(self) -> bool: ...
        @property
        def final(self) -> T | None: ...
        @property
        def finish_reason(self) -> str | None: ...
        @property
        def usage(self) -> Usage | None: ...

    else:
        index = property(attrgetter("_index"))
        partial = property(attrgetter("_partial"))
        events = property(attrgetter("_events"))
        completed = property(attrgetter("_completed"))
        elements = property(attrgetter("_elements"))
        errors = property(attrgetter("_errors"))
        parts = property(attrgetter("_parts"))
        done = property(attrgetter("_done"))
        final = property(attrgetter("_final"))
        finish_reason = property(attrgetter("_finish_reason"))
        usage = property(attrgetter("_usage"))

    def __init__(
        self,
        index: int,
        partial: Any,
        events: tuple[Event, ...] = (),
        completed: tuple[JSONPath, ...] = (),
        elements: tuple[tuple[JSONPath, Any], ...] = (),
        errors: tuple[InvalidValue, ...] = (),
        parts: tuple[Part, ...] = (),
        # Positional too, in field order (as a dataclass's): the emitter passes all of them
        # positionally, which halves the cost of building one update per chunk.
        done: bool = False,
        final: T | None = None,
        finish_reason: str | None = None,
        usage: Usage | None = None,
    ) -> None:
        self._index = index
        self._partial = partial
        self._events = events
        self._completed = completed
        self._elements = elements
        self._errors = errors
        self._parts = parts
        self._done = done
        self._final = final
        self._finish_reason = finish_reason
        self._usage = usage
        self._deltas: tuple[Chunk, ...] | None = None  # a cache: built on first read

    @property
    def delta(self) -> Chunk:
        """The nested-profile `Chunk` that carries this update's change (built on demand).

        A batch with a duplicated JSON key needs more than one chunk: see `deltas`.
        """
        chunks = self.deltas
        if len(chunks) != 1:
            raise UsageError(
                "this update takes several chunks (a JSON key appeared twice): read .deltas"
            )
        return chunks[0]

    @property
    def deltas(self) -> tuple[Chunk, ...]:
        """The nested-profile chunks that carry this update's change (usually one)."""
        if self._deltas is None:
            self._deltas = tuple(DeltaEncoder().encode(self._events) or [Chunk(Delta())])
        return self._deltas

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        extra = f", done=True, final={self.final!r}" if self.done else ""
        return f"Update(index={self.index}, partial={self.partial!r}{extra})"


def _py_new_update(
    cls: type[Update[Any]],
    index: int,
    partial: Any,
    events: tuple[Event, ...],
    completed: tuple[JSONPath, ...],
    elements: tuple[tuple[JSONPath, Any], ...],
    errors: tuple[InvalidValue, ...],
    parts: tuple[Part, ...],
    done: bool,
    final: Any,
    finish_reason: str | None,
    usage: Usage | None,
) -> Update[Any]:
    """`Update` built from all its fields, in order (the twin of `_speedups.new_update`)."""
    return cls(
        index,
        partial,
        events,
        completed,
        elements,
        errors,
        parts,
        done,
        final,
        finish_reason,
        usage,
    )


def _compiled_new_update() -> Callable[..., Update[Any]] | None:
    """`_speedups.new_update` set up for `Update`, or None when the C extension is not built
    or ``STREAMDANTIC_PURE_PYTHON=1`` is in the environment."""
    if os.environ.get("STREAMDANTIC_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from . import _speedups
    except ImportError:
        return None
    _speedups.setup_updates(Update)
    return _speedups.new_update


_C_NEW_UPDATE = _compiled_new_update()
#: Build an `Update` from the class and its eleven fields, positionally (what the emitter
#: calls once per update).
new_update: Callable[..., Update[Any]] = _py_new_update if _C_NEW_UPDATE is None else _C_NEW_UPDATE
