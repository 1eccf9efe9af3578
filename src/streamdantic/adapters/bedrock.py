"""AWS Bedrock Converse stream events -> stream parts, without boto3.

``client.converse_stream(...)["stream"]`` (boto3's ``bedrock-runtime`` client) yields one dict
per event, each with a single key naming the event (the members of the service model's
``ConverseStreamOutput`` union)::

    {"messageStart": {"role": "assistant"}}
    {"contentBlockStart": {"start": {"toolUse": {"toolUseId": "tooluse_...", "name": "..."}},
                           "contentBlockIndex": 1}}
    {"contentBlockDelta": {"delta": {"text": "..."}, "contentBlockIndex": 0}}
    {"contentBlockDelta": {"delta": {"toolUse": {"input": "..."}}, "contentBlockIndex": 1}}
    {"contentBlockStop": {"contentBlockIndex": 1}}
    {"messageStop": {"stopReason": "tool_use"}}
    {"metadata": {"usage": {"inputTokens": 9, "outputTokens": 41, "totalTokens": 50}, ...}}

Streams recognise these dicts by their key (see `_registry.DICT_KEYS`), so the event stream is
a source as it is: ``streamdantic.stream(response["stream"], Recipe)``. `bedrock_events` /
`abedrock_events` convert explicitly (e.g. events recorded as JSON lines, or from aioboto3).

Finish reasons (``messageStop.stopReason`` -> `Finish.reason`):

================================================  ==================  =========================
stopReason                                        Finish.reason       the stream then
================================================  ==================  =========================
``end_turn``, ``stop_sequence``                   ``stop``            ends normally
``tool_use``                                      ``tool_calls``      ends normally
``max_tokens``, ``model_context_window_exceeded`` ``length``          raises TruncatedStreamError
                                                                      if the object is incomplete
``guardrail_intervened``, ``content_filtered``    ``content_filter``  raises ContentFilterError
================================================  ==================  =========================

Errors: an exception event (``internalServerException``, ``modelStreamErrorException``,
``throttlingException``, ``validationException``, ``serviceUnavailableException``) ends the
stream with `ProviderError` (``code`` = the event's key). botocore itself raises
``botocore.exceptions.EventStreamError`` for such an event instead of yielding it; when botocore
is installed, this module registers a translator for it, so that also ends in `ProviderError`
with the partial kept, chained to botocore's exception.

Strategy / invariants:
- One converter per stream keeps content block index -> (toolUseId, name) from
  ``contentBlockStart``, since ``toolUse.input`` deltas name only the block index.
- ``delta.text`` -> `TextDelta`, ``delta.reasoningContent.text`` -> `ReasoningDelta`,
  ``delta.toolUse.input`` -> `ToolCallDelta`, a tool block's ``contentBlockStop`` ->
  `ToolCallDone`, ``messageStop`` -> `Finish`, ``metadata.usage`` -> `Usage`. ``messageStart``,
  reasoning signatures and redacted reasoning, citations and metrics are skipped.
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
from ._registry import DICT_KEYS, register_dict_adapter, register_sdk_adapter

__all__ = ["EXCEPTION_EVENTS", "STOP_REASONS", "abedrock_events", "bedrock_events", "tool_config"]

STOP_REASONS: Mapping[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}
"""Bedrock ``stopReason`` -> streamdantic finish reason; others pass unchanged."""

EXCEPTION_EVENTS = frozenset(
    {
        "internalServerException",
        "modelStreamErrorException",
        "validationException",
        "throttlingException",
        "serviceUnavailableException",
    }
)
"""The exception members of ``ConverseStreamOutput``: each ends the stream with an error."""

_NOTHING: tuple[Part, ...] = ()
_Handler = Callable[["_BedrockEvents", Any], tuple[Part, ...]]


class _BedrockEvents:
    """The per-stream converter: one ConverseStream event dict in, its parts out."""

    __slots__ = ("_tools",)

    def __init__(self) -> None:
        self._tools: dict[int, tuple[str, str | None]] = {}  # block index -> (id, name)

    @staticmethod
    def text_of(event: Any) -> str | None:
        """A ``contentBlockDelta`` event's text when it carries only text (the stream
        router's fast path: no `TextDelta` per token), else None."""
        if type(event) is dict and len(event) == 1:
            body = event.get("contentBlockDelta")
            if type(body) is dict:
                delta = body.get("delta")
                if type(delta) is dict:
                    text = delta.get("text")
                    if type(text) is str and text:
                        return text
        return None

    def __call__(self, event: Any) -> tuple[Part, ...]:
        # `type() is dict` first: botocore yields dicts, and an ABC isinstance costs more.
        if (type(event) is not dict and not isinstance(event, Mapping)) or len(event) != 1:
            raise AdapterError(
                "not a Bedrock ConverseStream event (a dict with one key naming the event): "
                f"{type(event).__qualname__}",
                event=event,
            )
        ((kind, body),) = event.items()
        if kind == "contentBlockDelta":
            # The common event, a piece of text: `_block_delta`'s first case, without the call.
            delta = body.get("delta") if type(body) is dict else None
            text = delta.get("text") if type(delta) is dict else None
            if type(text) is str and text:
                return (TextDelta(text),)
        handler = _BY_KEY.get(kind)
        if handler is None:
            if kind in EXCEPTION_EVENTS:
                return (_error_part(kind, body, event),)
            return _NOTHING  # an event member added after this adapter was written
        try:
            return handler(self, body)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise AdapterError(
                f"a Bedrock {kind} event of unknown shape ({type(exc).__name__}: {exc})",
                event=event,
            ) from exc

    def _block_start(self, body: Any) -> tuple[Part, ...]:
        tool = body["start"].get("toolUse")
        if tool is None:
            return _NOTHING
        index = body["contentBlockIndex"]
        call_id, name = tool["toolUseId"], tool["name"]
        self._tools[index] = (call_id, name)
        return (ToolCallDelta(call_id, "", name=name, index=index),)

    def _block_delta(self, body: Any) -> tuple[Part, ...]:
        delta = body["delta"]
        text = delta.get("text")
        if text is not None:
            return (TextDelta(text),) if text else _NOTHING
        tool = delta.get("toolUse")
        if tool is not None:
            piece = tool["input"]
            if not piece:
                return _NOTHING
            index = body["contentBlockIndex"]
            call_id = self._tools.get(index, (f"block_{index}", None))[0]
            return (ToolCallDelta(call_id, piece, index=index),)
        reasoning = delta.get("reasoningContent")
        if reasoning is not None:
            thought = reasoning.get("text")
            return (ReasoningDelta(thought),) if thought else _NOTHING
        return _NOTHING  # citation, image, toolResult deltas: nothing for the object

    def _block_stop(self, body: Any) -> tuple[Part, ...]:
        tool = self._tools.get(body["contentBlockIndex"])
        if tool is None:
            return _NOTHING
        return (ToolCallDone(tool[0], tool[1], "", None),)

    def _message_stop(self, body: Any) -> tuple[Part, ...]:
        reason = body["stopReason"]
        return (Finish(STOP_REASONS.get(reason, reason)),)

    def _metadata(self, body: Any) -> tuple[Part, ...]:
        usage = body.get("usage")
        if usage is None:
            return _NOTHING
        return (
            Usage(
                _int(usage.get("inputTokens")),
                _int(usage.get("outputTokens")),
                _int(usage.get("totalTokens")),
                raw=usage,
            ),
        )

    def _skip(self, body: Any) -> tuple[Part, ...]:
        return _NOTHING


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _error_part(kind: str, body: Any, raw: Any) -> ProviderErrorPart:
    message = body.get("message") if isinstance(body, Mapping) else None
    if isinstance(body, Mapping) and not message:
        message = body.get("originalMessage")  # modelStreamErrorException
    return ProviderErrorPart(
        message if isinstance(message, str) and message else f"Bedrock sent {kind}",
        kind,
        raw=raw,
    )


_BY_KEY: dict[str, _Handler] = {
    "messageStart": _BedrockEvents._skip,
    "contentBlockStart": _BedrockEvents._block_start,
    "contentBlockDelta": _BedrockEvents._block_delta,
    "contentBlockStop": _BedrockEvents._block_stop,
    "messageStop": _BedrockEvents._message_stop,
    "metadata": _BedrockEvents._metadata,
}


def bedrock_events(events: Iterable[Any], /) -> Iterator[Part]:
    """Convert Bedrock ConverseStream event dicts into stream parts.

    Args:
        events: the events in order, as botocore yields them (``response["stream"]``) or as
            recorded (one dict per event).

    Returns:
        An iterator of parts, to pass to `streamdantic.stream` and friends.

    Raises (while iterating):
        AdapterError: an event of unknown shape (``.event`` is the event).
    """
    return convert_all(_BedrockEvents(), events)


def abedrock_events(events: AsyncIterable[Any] | Iterable[Any], /) -> AsyncIterator[Part]:
    """The async twin of `bedrock_events`: `events` may be an async or a sync iterable."""
    return aconvert_all(_BedrockEvents(), events)


def tool_config(
    model: type[Any], /, *, name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """The Converse ``toolConfig`` that makes the model answer with one `model` object.

    Bedrock has no JSON-schema output mode for every model; the portable way is a single tool
    whose ``inputSchema`` is the model's JSON schema, with ``toolChoice`` forcing it. Stream the
    call's arguments with ``streamdantic.stream(events, tools={name: model})``.

    Args:
        model: a pydantic model class.
        name: the tool's name (default: the model's class name).
        description: the tool's description (default: the model's own docstring, else a
            sentence naming the tool).

    Returns:
        ``{"tools": [{"toolSpec": {"name", "description", "inputSchema": {"json": ...}}}],
        "toolChoice": {"tool": {"name": ...}}}``, to pass as ``toolConfig=``.
    """
    tool_name = name or model.__name__
    text = (
        description
        or (model.__doc__ or "").strip()
        or f"Reply with one {tool_name} object as this tool's input."
    )
    schema = model.model_json_schema()
    return {
        "tools": [
            {"toolSpec": {"name": tool_name, "description": text, "inputSchema": {"json": schema}}}
        ],
        "toolChoice": {"tool": {"name": tool_name}},
    }


def _translate_error(exc: BaseException) -> ProviderErrorPart | None:
    # botocore raises EventStreamError (a ClientError) for an exception event mid-stream:
    # .response == {"Error": {"Code": "throttlingException", "Message": "..."}}.
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, Mapping) else None
    if not isinstance(error, Mapping) or not isinstance(error.get("Code"), str):
        return None
    body = {"message": error.get("Message")}
    return _error_part(error["Code"], body, dict(response))  # type: ignore[arg-type]


def _register() -> None:
    register_dict_adapter((k for k, v in DICT_KEYS.items() if v == __name__), _BedrockEvents)
    # Events are plain dicts (no class for register_adapter); only the error has one.
    register_sdk_adapter(
        None, None, error="botocore.exceptions:EventStreamError", translate=_translate_error
    )


_register()
