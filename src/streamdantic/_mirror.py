"""The raw JSON value a stream's events describe, rebuilt event by event (sans-IO).

Strategy / invariants:
- `Mirror.apply(events)` takes the events of updates in order (`ValueStarted`,
  `StringAppended`, `ValueCompleted`, from a parser or a merger alike) and keeps the value
  they describe as plain JSON, a private copy: containers are its own, a container that
  arrives complete without having started is deep-copied, strings and scalars are immutable.
  It is what a client holds, which the encoders of the SSE profile and the front-end
  protocols need (digests, snapshots, whole-object resends, the final check).
- Cost per event, not per document: the open containers and strings are found by their
  path in a dict (no walk from the root), a growing string keeps its pieces and is joined
  only when `value` is read, and a string that completes takes the event's whole text. A
  2 MB string costs its pieces, not a copy per piece.
- A merger applies a chunk's sets before its completions, so a value may start before its
  preceding sibling completes: each event names its path, so that order does not matter.
- Events that do not fit what came before (a value under a parent that never started) raise
  `DeltaError` naming the path; nothing the stream's own parser or merger gives does.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, Final

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

    __slots__ = ("_containers", "_dirty", "_done", "_root", "_strings", "grown")

    def __init__(self) -> None:
        self._root: Any = None
        self._done = False
        # Started containers not yet completed, by path (the parents of what comes next).
        self._containers: dict[JSONPath, Any] = {}
        # Open strings: path -> [holder, key, pieces] (holder None: the root).
        self._strings: dict[JSONPath, list[Any]] = {}
        self._dirty: dict[JSONPath, list[Any]] = {}  # open strings with pieces not joined
        self.grown = 0

    @property
    def value(self) -> Any:
        """The value so far (``None`` before anything started); a live view."""
        if self._dirty:
            for node in self._dirty.values():
                self._join(node)
            self._dirty.clear()
        return self._root

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
        self._containers.clear()
        self._strings.clear()
        self._dirty.clear()

    def apply(self, events: Sequence[Event], /) -> list[Event]:
        """Apply one update's events; return those that changed the value (the completion of
        a string or container that started is not a change: its content came before).

        Raises:
            DeltaError: an event names a value under a parent that never started.
        """
        out: list[Event] = []
        grown = 0
        strings, containers = self._strings, self._containers
        for event in events:
            kind = type(event)
            if kind is StringAppended:
                path: JSONPath = event.path  # type: ignore[attr-defined]
                text: str = event.text  # type: ignore[attr-defined]
                node = strings.get(path)
                if node is None:
                    raise DeltaError("text appended to a string that is not open", path=path)
                node[2].append(text)
                self._dirty[path] = node
                grown += len(text)
            elif kind is ValueStarted:
                path = event.path  # type: ignore[attr-defined]
                value_kind: str = event.kind  # type: ignore[attr-defined]
                empty = _EMPTY[value_kind]()
                holder, key = self._place(path, empty)
                if value_kind == "string":
                    strings[path] = [holder, key, []]
                else:
                    containers[path] = empty
                grown += 4 + len(str(path[-1])) if path else 2
            elif kind is ValueCompleted:
                path = event.path  # type: ignore[attr-defined]
                value = event.value  # type: ignore[attr-defined]
                if not path:
                    self._done = True
                vtype = type(value)
                if vtype is str:
                    node = strings.pop(path, None)
                    if node is not None:  # it started: its text came with it
                        self._dirty.pop(path, None)
                        node[2][:] = [value]
                        self._join(node)
                        continue
                elif vtype is dict or vtype is list:
                    if containers.pop(path, None) is not None:
                        continue  # it started: its content came with it
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
        parent = self._containers.get(path[:-1])
        if parent is None:
            raise DeltaError("a value under a parent that is not open", path=path)
        key = path[-1]
        if type(parent) is list and key == len(parent):
            parent.append(value)
        else:
            parent[key] = value
        return parent, key

    def _join(self, node: list[Any]) -> None:
        holder, key, pieces = node
        text = pieces[0] if len(pieces) == 1 else "".join(pieces)
        pieces[:] = [text]
        if holder is None:
            self._root = text
        else:
            holder[key] = text
