"""What the front-end encoders share: the client's JSON mirror, coalescing, errors (sans-IO).

Strategy / invariants
- Each encoder keeps a mirror of the object as raw JSON, built from the updates' events
  (`Mirror`, `_mirror.py`, the one the SSE profile's encoder keeps too): numbers appear only
  once complete, strings only grow, so every state a client is shown extends the one before
  (docs/contract.md). The same mirror serves live updates (`Update`) and stored
  streams read back (`ClientUpdate`, whose snapshot frames reset it).
- Coalescing is a `Throttle` over the mirror's growth: the first change goes out at once,
  then at most one state per `interval` seconds of the ``now`` the caller passes, and (for
  protocols that resend the whole object) only once the object has grown by `growth` of
  the size last sent, so the bytes of a document stay linear in its size. The final state
  is always sent.
- `PartState` is the per-stream bookkeeping both encoders keep around their own frames: the
  parts already fed (an update repeats them), the finish reason, usage and provider error
  seen, the tool calls started, and the ids given out.
"""

from __future__ import annotations

import json
from typing import Any, Final, Generic, TypeVar

import pydantic_core

from .._exceptions import ProviderError, StreamCancelledError, TruncatedStreamError
from .._mirror import Mirror
from .._parts import Finish, Part, ProviderErrorPart, Usage
from .._paths import JSONPath
from .._stream_core import Update
from ..sse._profile import ClientUpdate, _utf8_safe, error_type

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


def value_at(root: Any, path: JSONPath) -> Any:
    node = root
    for key in path:
        node = node[key]
    return node


def coalesce_updates(updates: list[ClientUpdate[Any]], /) -> ClientUpdate[Any] | None:
    """One update that does what `updates` do in turn (None for none): their events and
    parts in order, from the last snapshot (or restart) on, which it then is itself.

    A reader of a stored stream applies what the store holds in one go, so a protocol
    encoder sends the state so far once (a snapshot), not every step to it.
    """
    if not updates:
        return None
    if len(updates) == 1:
        return updates[0]
    start = 0
    for index, update in enumerate(updates):
        if update.kind in ("snapshot", "restart"):
            start = index
    taken = updates[start:]
    last = taken[-1]
    finish_reason = next((u.finish_reason for u in reversed(taken) if u.finish_reason), None)
    usage = next((u.usage for u in reversed(taken) if u.usage is not None), None)
    return ClientUpdate(
        last.event_id,
        "snapshot" if updates[start].kind in ("snapshot", "restart") else "delta",
        last.partial,
        events=tuple(event for u in taken for event in u.events),
        parts=tuple(part for u in taken for part in u.parts),
        done=last.done,
        final=last.final,
        finish_reason=finish_reason,
        usage=usage,
    )


_Out = TypeVar("_Out")


class PartState(Generic[_Out]):
    """What an encoder remembers of one stream besides the object: see the module comment.

    A subclass encodes into a list of `_Out` (its events or frames) and implements
    `_feed_update` and `_feed_part`; `_feed_part` hands the parts that end up in no frame
    of their own (`Usage`, `Finish`, `ProviderErrorPart`) to `_note_part`.
    """

    def __init__(self) -> None:
        self._ids = 0
        self._tools: dict[str, str] = {}  # call id -> tool name, started and not ended
        self._seen: dict[int, Part] = {}  # parts fed since the last update (it repeats them)
        self._finish_reason: str | None = None
        self._usage: Usage | None = None
        self._provider_error: ProviderErrorPart | None = None

    def _dispatch(
        self, output: Update[Any] | ClientUpdate[Any] | Part, now: float, out: list[_Out]
    ) -> None:
        """Feed an update or a part to the subclass, each part once."""
        if isinstance(output, Update | ClientUpdate):
            self._feed_update(output, now, out)
            self._seen.clear()
        elif isinstance(output, Part):
            self._seen[id(output)] = output
            self._feed_part(output, out)
        else:
            raise TypeError(
                f"{type(self).__name__}.feed() takes an Update, a ClientUpdate or a Part, not "
                f"{type(output).__name__}"
            )

    def _note_update(self, update: Update[Any] | ClientUpdate[Any], out: list[_Out]) -> None:
        """The update's parts not fed already, then its finish reason and usage."""
        seen = self._seen
        for part in update.parts:
            if id(part) not in seen:
                self._feed_part(part, out)
        if update.finish_reason is not None:
            self._finish_reason = update.finish_reason
        if update.usage is not None:
            self._usage = update.usage

    def _note_part(self, part: Part) -> bool:
        """Remember a usage, finish or provider-error part; False for any other part."""
        kind = type(part)
        if kind is Usage:
            self._usage = part  # type: ignore[assignment]
        elif kind is Finish:
            self._finish_reason = part.reason  # type: ignore[attr-defined]
        elif kind is ProviderErrorPart:
            self._provider_error = part  # type: ignore[assignment]
        else:
            return False
        return True

    def _end_error(self, error: BaseException | None, mirror: Mirror) -> BaseException | None:
        """Why the stream ended, at close: `error`, else a provider error part seen, else a
        truncation when an object was started and not completed."""
        if error is None and self._provider_error is not None:
            part = self._provider_error
            return ProviderError(part.message, code=part.code)
        if error is None and mirror.started and not mirror.done:
            return truncated(self._finish_reason)
        return error

    def _feed_update(
        self, update: Update[Any] | ClientUpdate[Any], now: float, out: list[_Out]
    ) -> None:
        raise NotImplementedError

    def _feed_part(self, part: Part, out: list[_Out]) -> None:
        raise NotImplementedError

    def _next_id(self, kind: str) -> str:
        self._ids += 1
        return f"{self._id_prefix()}{kind}-{self._ids}"

    def _id_prefix(self) -> str:
        return ""
