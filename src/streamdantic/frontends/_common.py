"""What the front-end encoders share: the client's JSON mirror, coalescing, errors (sans-IO).

Strategy / invariants
- Each encoder keeps a mirror of the object as raw JSON (a `ChunkMerger` fed with the
  `DeltaEncoder` chunks of the updates' events, as `ProfileEncoder` does): numbers appear
  only once complete, strings only grow, so every state a client is shown extends the one
  before (docs/contract.md). The same mirror serves live updates (`Update`) and stored
  streams read back (`ClientUpdate`, whose snapshot frames reset it).
- Coalescing is a `Throttle` over the mirror's growth: the first change goes out at once,
  then at most one state per `interval` seconds of the ``now`` the caller passes, and (for
  protocols that resend the whole object) only once the object has grown by `growth` of
  the size last sent, so the bytes of a document stay linear in its size. The final state
  is always sent.
"""

from __future__ import annotations

import json
from typing import Any, Final

import pydantic_core

from .._deltas import ChunkMerger, DeltaEncoder
from .._events import Event, StringAppended, ValueCompleted, ValueStarted
from .._exceptions import StreamCancelledError, TruncatedStreamError
from .._paths import Path
from .._sse_profile import _utf8_safe, error_type

# A UI repaints at most 60 times a second and a person reads far slower: ten states a
# second look continuous (the AI SDK's own `experimental_throttle` examples use 50-100 ms).
DEFAULT_INTERVAL: Final = 0.1
# Re-send a whole object only once it has grown by 1/16 of the size last sent: the copies of
# a document then add up to at most 17x its size (a geometric series), whatever the rate of
# the model; small objects (under ~2 KB) are still re-sent at every interval.
DEFAULT_GROWTH: Final = 1 / 16


def to_jsonable(value: Any) -> Any:
    """`value` as plain JSON data: models by alias, dates as strings, ..."""
    return pydantic_core.to_jsonable_python(
        value, by_alias=True, inf_nan_mode="null", serialize_unknown=True
    )


def dumps(value: Any) -> str:
    """Compact JSON text of plain JSON data (lone surrogates replaced: frames are UTF-8)."""
    return _utf8_safe(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def error_text(error: BaseException) -> str:
    """The text a front end shows for `error`: its message, except for internal errors
    (a bug of the server), whose message could leak internals."""
    if error_type(error) == "internal_error":
        return "the server failed while streaming"
    return str(error)


def is_cancel(error: BaseException) -> bool:
    return isinstance(error, StreamCancelledError)


def truncated(finish_reason: str | None) -> TruncatedStreamError:
    return TruncatedStreamError(
        "the stream ended before the object was complete", finish_reason=finish_reason
    )


def value_at(root: Any, path: Path) -> Any:
    node = root
    for key in path:
        node = node[key]
    return node


class Mirror:
    """The raw JSON a client holds, rebuilt from the updates' events."""

    __slots__ = ("_deltas", "_merger", "grown")

    def __init__(self) -> None:
        self._deltas = DeltaEncoder()
        self._merger = ChunkMerger("nested")
        self.grown = 0  # characters of JSON added since `grown` was last reset (an estimate)

    @property
    def value(self) -> Any:
        return self._merger.value

    @property
    def started(self) -> bool:
        return self._merger.value is not None or self._merger.done

    @property
    def done(self) -> bool:
        return self._merger.done

    def reset(self) -> None:
        """Start again from nothing (a snapshot of a stored stream follows)."""
        self._deltas = DeltaEncoder()
        self._merger = ChunkMerger("nested")

    def apply(self, events: tuple[Event, ...] | list[Event]) -> list[Event]:
        """Apply one update's events; returns the mirror's own events (what changed)."""
        out: list[Event] = []
        grown = 0
        for chunk in self._deltas.encode(events):
            for event in self._merger.apply(chunk):
                out.append(event)
                kind = type(event)
                if kind is StringAppended:
                    grown += len(event.text)  # type: ignore[attr-defined]
                elif kind is ValueStarted:
                    grown += 4 + len(str(event.path[-1])) if event.path else 2  # type: ignore[attr-defined]
                elif kind is ValueCompleted and not isinstance(
                    event.value,  # type: ignore[attr-defined]
                    str | list | dict,
                ):
                    grown += 8
        self.grown += grown
        return out
