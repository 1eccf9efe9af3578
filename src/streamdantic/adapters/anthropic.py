"""Anthropic Messages stream events -> stream parts, with or without the anthropic package.

Events may be the SDK's objects or plain dicts (the JSON of each SSE ``data:`` frame, e.g. from
`streamdantic.sse.SSEDecoder`); both are read by duck typing on their ``type``, so the anthropic
package is never required. Dicts cannot be told apart from other input by their class, so they
go through `anthropic_events` / `aanthropic_events`::

    parts = anthropic_events(json.loads(event.data) for event in sse_events)
    recipe = streamdantic.stream_to_object(parts, Recipe)

When the anthropic SDK is installed, its objects also work directly
(``streamdantic.stream(client.messages.create(..., stream=True), Recipe)``): streams import this
module on first sight of an ``anthropic.`` object, and it registers the adapter then, with a
translator for the ``APIStatusError`` the SDK raises for an ``event: error`` frame.

Finish reasons (``message_delta.delta.stop_reason`` -> `Finish.reason`):

=================================  ==================  =====================================
stop_reason                        Finish.reason       the stream then
=================================  ==================  =====================================
``end_turn``, ``stop_sequence``    ``stop``            ends normally
``tool_use``                       ``tool_calls``      ends normally
``max_tokens``,                    ``length``          raises TruncatedStreamError if the
``model_context_window_exceeded``                      object is incomplete
``refusal``                        ``content_filter``  raises ContentFilterError
anything else (``pause_turn``)     unchanged           ends normally if the object is complete
=================================  ==================  =====================================

Strategy / invariants:
- One converter per stream keeps content block index -> (tool_use id, name) from
  ``content_block_start``, since ``input_json_delta`` events name only the block index.
- ``text_delta`` -> `TextDelta`, ``thinking_delta`` -> `ReasoningDelta`, ``input_json_delta`` ->
  `ToolCallDelta`, the end of a tool block -> `ToolCallDone`, ``message_delta`` -> `Finish` and
  `Usage` (input tokens from ``message_start`` when ``message_delta`` lacks them), ``error`` ->
  `ProviderErrorPart`. ``ping``, ``message_start``, ``message_stop``, signature and citation
  deltas, and the SDK helper's own events (``text``, ``input_json``, ... which repeat the raw
  events) carry nothing for us and are skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any

from .._exceptions import AdapterError
from .._parts import (
    Finish,
    Part,
    ProviderErrorPart,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    Usage,
)
from ._iterate import aconvert_all, convert_all
from ._registry import register_sdk_adapter

__all__ = ["STOP_REASONS", "aanthropic_events", "anthropic_events"]

STOP_REASONS: Mapping[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}
"""Anthropic ``stop_reason`` -> streamdantic finish reason; others pass unchanged."""

# Content blocks whose input streams as `input_json_delta`: client tools and server tools.
_TOOL_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
_NOTHING: tuple[Part, ...] = ()
_Handler = Callable[["_AnthropicEvents", Any], tuple[Part, ...]]


def _get(obj: Any, name: str) -> Any:
    """A field of a dict or an attribute of an SDK object (None when absent)."""
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _as_dict(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return obj
    to_dict = getattr(obj, "to_dict", None)
    return to_dict() if callable(to_dict) else obj


def _usage_value(usage: Any, name: str) -> int | None:
    value = _get(usage, name)
    return value if isinstance(value, int) else None


class _AnthropicEvents:
    """The per-stream converter: one Messages stream event in, its parts out."""

    __slots__ = ("_input_tokens", "_tools")

    def __init__(self) -> None:
        self._tools: dict[int, tuple[str, str | None]] = {}  # block index -> (id, name)
        self._input_tokens: int | None = None

    def __call__(self, event: Any) -> tuple[Part, ...]:
        kind = _get(event, "type")
        if type(kind) is not str:
            raise AdapterError(
                f"not an Anthropic stream event (no string `type`): {type(event).__qualname__}",
                event=event,
            )
        handler = _BY_TYPE.get(kind)
        if handler is None:
            return _NOTHING
        try:
            return handler(self, event)
        except (AttributeError, KeyError, TypeError) as exc:
            raise AdapterError(
                f"an Anthropic {kind} event of unknown shape ({type(exc).__name__}: {exc})",
                event=event,
            ) from exc

    def _message_start(self, event: Any) -> tuple[Part, ...]:
        usage = _get(_get(event, "message"), "usage")
        if usage is not None:
            self._input_tokens = _usage_value(usage, "input_tokens")
        return _NOTHING

    def _block_start(self, event: Any) -> tuple[Part, ...]:
        index = _get(event, "index")
        block = _get(event, "content_block")
        kind = _get(block, "type")
        if kind == "text":
            text = _get(block, "text")
            return (TextDelta(text),) if text else _NOTHING
        if kind == "thinking":
            thinking = _get(block, "thinking")
            return (ReasoningDelta(thinking),) if thinking else _NOTHING
        if kind in _TOOL_BLOCKS:
            call_id, name = _get(block, "id"), _get(block, "name")
            self._tools[index] = (call_id, name)
            return (ToolCallDelta(call_id, "", name=name, index=index),)
        return _NOTHING

    def _block_delta(self, event: Any) -> tuple[Part, ...]:
        delta = _get(event, "delta")
        kind = _get(delta, "type")
        if kind == "text_delta":
            text = _get(delta, "text")
            return (TextDelta(text),) if text else _NOTHING
        if kind == "input_json_delta":
            partial_json = _get(delta, "partial_json")
            if not partial_json:
                return _NOTHING  # the first input_json_delta of a block is ""
            index = _get(event, "index")
            call_id = self._tools.get(index, (f"block_{index}", None))[0]
            return (ToolCallDelta(call_id, partial_json, index=index),)
        if kind == "thinking_delta":
            thinking = _get(delta, "thinking")
            return (ReasoningDelta(thinking),) if thinking else _NOTHING
        if kind is None:
            raise KeyError("delta.type")
        return _NOTHING  # signature_delta, citations_delta: nothing for the object

    def _block_stop(self, event: Any) -> tuple[Part, ...]:
        tool = self._tools.get(_get(event, "index"))
        if tool is None:
            return _NOTHING
        return (ToolCallDone(tool[0], tool[1], "", None),)

    def _message_delta(self, event: Any) -> tuple[Part, ...]:
        parts: list[Part] = []
        usage = _get(event, "usage")
        if usage is not None:
            input_tokens = _usage_value(usage, "input_tokens")
            if input_tokens is None:
                input_tokens = self._input_tokens
            parts.append(
                Usage(input_tokens, _usage_value(usage, "output_tokens"), raw=_as_dict(usage))
            )
        reason = _get(_get(event, "delta"), "stop_reason")
        if reason is not None:
            parts.append(Finish(STOP_REASONS.get(reason, reason)))
        return tuple(parts)

    def _error(self, event: Any) -> tuple[Part, ...]:
        return (_error_part(event),)


def _error_part(event: Any) -> ProviderErrorPart:
    error = _get(event, "error")
    message = _get(error, "message")
    return ProviderErrorPart(
        message if isinstance(message, str) and message else "the provider reported an error",
        _get(error, "type"),
        raw=_as_dict(event),
    )


_BY_TYPE: dict[str, _Handler] = {
    "message_start": _AnthropicEvents._message_start,
    "content_block_start": _AnthropicEvents._block_start,
    "content_block_delta": _AnthropicEvents._block_delta,
    "content_block_stop": _AnthropicEvents._block_stop,
    "message_delta": _AnthropicEvents._message_delta,
    "error": _AnthropicEvents._error,
}


def anthropic_events(events: Iterable[Any], /) -> Iterator[Part]:
    """Convert Anthropic Messages stream events (dicts or SDK objects) into stream parts.

    Args:
        events: the events in order: dicts as decoded from each SSE frame's data, or SDK
            objects; ``ping`` and other events that carry nothing are skipped.

    Returns:
        An iterator of parts, to pass to `streamdantic.stream` and friends.

    Raises (while iterating):
        AdapterError: an event of unknown shape (``.event`` is the event).
    """
    return convert_all(_AnthropicEvents(), events)


def aanthropic_events(events: AsyncIterable[Any] | Iterable[Any], /) -> AsyncIterator[Part]:
    """The async twin of `anthropic_events`: `events` may be an async or a sync iterable."""
    return aconvert_all(_AnthropicEvents(), events)


def _translate_error(exc: BaseException) -> ProviderErrorPart | None:
    # The SDK raises APIStatusError (status 200) for an `event: error` frame mid-stream.
    body = getattr(exc, "body", None)
    if not isinstance(body, Mapping) or not isinstance(body.get("error"), Mapping):
        return None
    return _error_part(body)


def _register_sdk() -> None:
    """Register the adapter for the anthropic SDK's objects, when the package is installed."""
    # Every SDK object goes to the duck-typed converter: raw stream events by `type`, the
    # helper's own events skipped, objects without a `type` rejected.
    register_sdk_adapter(
        "anthropic:BaseModel",
        _AnthropicEvents,
        error="anthropic:APIStatusError",
        translate=_translate_error,
    )


_register_sdk()
