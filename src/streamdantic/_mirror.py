"""The raw JSON value a stream's events describe, rebuilt event by event (sans-IO).

Strategy / invariants:
- `Mirror.apply(events)` takes the events of updates in order (`ValueStarted`,
  `StringAppended`, `ValueCompleted`, from a parser or a merger alike) and keeps the value
  they describe as plain JSON, a private copy: containers are its own, a container that
  arrives complete without having started is deep-copied, strings and scalars are immutable.
  It is what a client holds, which the encoders of the SSE profile and the front-end
  protocols need (digests, snapshots, whole-object resends, the final check).
- Cost per event, not per document: the open values are found by their path in one dict
  (no walk from the root), which also gives the open paths in the order they started (a
  snapshot's ``open``); a growing string keeps its pieces and is joined only when `value`
  is read, and a string that completes takes the event's whole text. A 2 MB string costs
  its pieces, not a copy per piece.
- A merger applies a chunk's sets before its completions, so a value may start before its
  preceding sibling completes: each event names its path, so that order does not matter.
- Events that do not fit what came before (a value under a parent that never started) raise
  `DeltaError` naming the path; nothing the stream's own parser or merger gives does.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, Final

from ._deltas import _join, _Open
from ._events import Event, StringAppended, ValueCompleted, ValueStarted
from ._exceptions import DeltaError
from ._paths import JSONPath

__all__ = ["Mirror"]

_EMPTY: Final[dict[str, Any]] = {"object": dict, "array": list, "string": str}


class Mirror:
    """The raw JSON value of a stream's events; see the module docstring.

    Attributes:
        grown: an estimate of the characters of JSON added since it was last reset to 0 by
            its reader (the front ends resend a whole object once it has grown enough).
    """

    __slots__ = ("_dirty", "_done", "_open", "_root", "grown")

    def __init__(self) -> None:
        self._root: Any = None
        self._done = False
        # The values started and not yet completed, by path, in the order they started:
        # a container itself (the parent of what comes next), or, for a string, the merger's
        # record of an open string (`_deltas._Open`: its container, key and pieces).
        self._open: dict[JSONPath, Any] = {}
        self._dirty: dict[JSONPath, _Open] = {}  # open strings with pieces not joined
        self.grown = 0

    @property
    def value(self) -> Any:
        """The value so far (``None`` before anything started); a live view."""
        if self._dirty:
            for node in self._dirty.values():
                _join(self, node)
            self._dirty.clear()
        return self._root

    @property
    def open_paths(self) -> list[JSONPath]:
        """The paths of the values started and not yet completed, in the order they started
        (a snapshot's ``open``)."""
        return list(self._open)

    @property
    def started(self) -> bool:
        """True once a value started (or completed) at the root."""
        return self._root is not None or self._done

    @property
    def done(self) -> bool:
        """True once the root value completed."""
        return self._done

    def reset(self) -> None:
        """Start again from nothing (a snapshot of a stored stream follows)."""
        self._root = None
        self._done = False
        self._open.clear()
        self._dirty.clear()

    def apply(self, events: Sequence[Event], /) -> list[Event]:
        """Apply one update's events; return those that changed the value (the completion of
        a string or container that started is not a change: its content came before).

        Raises:
            DeltaError: an event names a value under a parent that never started.
        """
        out: list[Event] = []
        grown = 0
        open_ = self._open
        for event in events:
            kind = type(event)
            if kind is StringAppended:
                path: JSONPath = event.path  # type: ignore[attr-defined]
                text: str = event.text  # type: ignore[attr-defined]
                node = open_.get(path)
                if type(node) is not _Open:
                    raise DeltaError("text appended to a string that is not open", path=path)
                node.parts.append(text)  # type: ignore[union-attr]  # a string's: a list
                self._dirty[path] = node
                grown += len(text)
            elif kind is ValueStarted:
                path = event.path  # type: ignore[attr-defined]
                value_kind: str = event.kind  # type: ignore[attr-defined]
                empty = _EMPTY[value_kind]()
                holder, key = self._place(path, empty)
                open_[path] = (
                    _Open(None, None, holder, key, []) if value_kind == "string" else empty
                )
                grown += 4 + len(str(path[-1])) if path else 2
            elif kind is ValueCompleted:
                path = event.path  # type: ignore[attr-defined]
                value = event.value  # type: ignore[attr-defined]
                if not path:
                    self._done = True
                vtype = type(value)
                if vtype is str or vtype is dict or vtype is list:
                    node = open_.pop(path, None)
                    if node is not None:  # it started: its content came with it
                        if type(node) is _Open:
                            self._dirty.pop(path, None)
                            node.parts = [value]  # the whole text: nothing to join
                            _join(self, node)
                        continue
                    if vtype is not str:
                        value = copy.deepcopy(value)  # never alias the producer's object
                else:
                    grown += 8
                self._place(path, value)
            else:
                continue  # DocumentCompleted
            out.append(event)
        self.grown += grown
        return out

    def _place(self, path: JSONPath, value: Any) -> tuple[Any, Any]:
        """Put `value` at `path` (appended to a list at its end); its holder and key."""
        if not path:
            self._root = value
            return None, None
        parent = self._open.get(path[:-1])
        if parent is None or type(parent) is _Open:
            raise DeltaError("a value under a parent that is not open", path=path)
        key = path[-1]
        if type(parent) is list and key == len(parent):
            parent.append(value)
        else:
            parent[key] = value
        return parent, key
