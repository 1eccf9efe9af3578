"""Stream parts: everything an agent's stream carries besides the object being built.

Provider adapters turn provider events into these parts; the stream core consumes them
(text feeds the parser, tool-call text feeds one parser per call) and hands them on to
consumers, enriched (a tool call's typed partial arguments), so an agent's whole stream can
be carried: to a UI, over Server-Sent Events, or into logs.

All parts are frozen, slotted and compare by value; they are made per provider event, so
construction is kept cheap (see `_events.py` for the technique).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ._events import Event

__all__ = [
    "Finish",
    "Part",
    "ProviderErrorPart",
    "ReasoningDelta",
    "RefusalDelta",
    "TextDelta",
    "ToolCallDelta",
    "ToolCallDone",
    "ToolResult",
    "Usage",
]


class Part(Event):
    """Base class of stream parts (frozen, slotted, compared by type and value)."""

    __slots__ = ()
    kind: ClassVar[str] = "part"

    def __repr__(self) -> str:
        # Omit fields left at their default (None), as h11 and httpx-sse reprs do.
        args = ", ".join(
            f"{f}={getattr(self, f)!r}" for f in self._fields if getattr(self, f) is not None
        )
        return f"{type(self).__name__}({args})"

    def to_dict(self) -> dict[str, Any]:
        """The part as a JSON-ready dict with its `type` (the wire form of the SSE profile)."""
        out: dict[str, Any] = {"type": self.kind}
        for name in self._fields:
            value = getattr(self, name)
            if value is not None and name != "partial":
                out[name] = value
        return out


def _init(self: Part, *values: Any) -> None:
    for name, value in zip(self._fields, values, strict=True):
        object.__setattr__(self, name, value)


class TextDelta(Part):
    """Output text from the model (for structured output: the JSON text)."""

    __slots__ = ("text",)
    _fields = ("text",)
    kind = "text"
    text: str

    def __init__(self, text: str) -> None:
        object.__setattr__(self, "text", text)


class ReasoningDelta(Part):
    """Reasoning ("thinking") text, or a reasoning summary, from the model."""

    __slots__ = ("text",)
    _fields = ("text",)
    kind = "reasoning"
    text: str

    def __init__(self, text: str) -> None:
        object.__setattr__(self, "text", text)


class RefusalDelta(Part):
    """Refusal text: the model declined to produce the requested output."""

    __slots__ = ("text",)
    _fields = ("text",)
    kind = "refusal"
    text: str

    def __init__(self, text: str) -> None:
        object.__setattr__(self, "text", text)


class ToolCallDelta(Part):
    """A piece of a tool call's arguments (JSON text), by call.

    Attributes:
        call_id: the call's id (adapters make one from the index when the provider sends
            none), stable for the whole call.
        name: the tool's name, on the first delta of a call (``None`` later).
        arguments: the new text of the arguments' JSON.
        index: the provider's position of the call, when it has one.
        partial: the typed partial arguments after this delta (filled in by the stream,
            against the tool's model when one was given, else the raw partial JSON).
    """

    __slots__ = ("call_id", "name", "arguments", "index", "partial")
    _fields = ("call_id", "name", "arguments", "index", "partial")
    kind = "tool_call_delta"
    call_id: str
    name: str | None
    arguments: str
    index: int | None
    partial: Any

    def __init__(
        self,
        call_id: str,
        arguments: str = "",
        *,
        name: str | None = None,
        index: int | None = None,
        partial: Any = None,
    ) -> None:
        _init(self, call_id, name, arguments, index, partial)


class ToolCallDone(Part):
    """A tool call whose arguments are complete: `value` is validated (or raw JSON)."""

    __slots__ = ("call_id", "name", "arguments", "value")
    _fields = ("call_id", "name", "arguments", "value")
    kind = "tool_call"
    call_id: str
    name: str | None
    arguments: str
    value: Any

    def __init__(self, call_id: str, name: str | None, arguments: str, value: Any) -> None:
        _init(self, call_id, name, arguments, value)


class ToolResult(Part):
    """The result of running a tool call, when the stream carries it."""

    __slots__ = ("call_id", "result")
    _fields = ("call_id", "result")
    kind = "tool_result"
    call_id: str
    result: Any

    def __init__(self, call_id: str, result: Any) -> None:
        _init(self, call_id, result)


class Usage(Part):
    """Token usage reported by the provider (`raw` keeps its own fields)."""

    __slots__ = ("input_tokens", "output_tokens", "total_tokens", "raw")
    _fields = ("input_tokens", "output_tokens", "total_tokens", "raw")
    kind = "usage"
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    raw: Mapping[str, Any] | None

    def __init__(
        self,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        total_tokens: int | None = None,
        raw: Mapping[str, Any] | None = None,
    ) -> None:
        if total_tokens is None and input_tokens is not None and output_tokens is not None:
            total_tokens = input_tokens + output_tokens
        _init(self, input_tokens, output_tokens, total_tokens, raw)


class Finish(Part):
    """The provider's reason for ending the output (``stop``, ``length``, ...)."""

    __slots__ = ("reason",)
    _fields = ("reason",)
    kind = "finish"
    reason: str | None

    def __init__(self, reason: str | None) -> None:
        object.__setattr__(self, "reason", reason)


class ProviderErrorPart(Part):
    """The provider reported an error in the middle of the stream."""

    __slots__ = ("message", "code", "raw")
    _fields = ("message", "code", "raw")
    kind = "error"
    message: str
    code: str | None
    raw: Any

    def __init__(self, message: str, code: str | None = None, raw: Any = None) -> None:
        _init(self, message, code, raw)
