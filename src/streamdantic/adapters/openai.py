"""openai SDK streams -> stream parts: Chat Completions chunks and Responses API events.

Importing this module registers its adapter for the SDK's stream event types (streams import
it on first sight of an ``openai.`` object, so this happens by itself), which lets
``streamdantic.stream(sdk_stream, Model)`` read an SDK stream directly::

    sdk_stream = client.chat.completions.create(model=..., messages=..., stream=True,
                                                response_format=response_format(Recipe))
    for update in streamdantic.stream(sdk_stream, Recipe):
        print(update.partial)

`stream` / `astream` (Chat Completions) and `stream_response` / `astream_response` (Responses
API) do the request as well: strict JSON-schema output from the model, usage included.

Strategy / invariants:
- One adapter object per stream, for both APIs: a dict from the event's class to its handler
  (the hot path is one dict lookup per event), then from the event's ``type`` string for
  classes not seen at import (subclasses from the SDK's helpers, event types added later).
  Event types that carry nothing for us are skipped; an object of unknown shape raises
  `AdapterError` carrying it.
- Chat chunks go through the conversion shared with the raw-HTTP adapter (`_chat.py`), which
  reads the SDK objects' fields directly (no dump per chunk).
- Responses: ``output_text`` and ``refusal`` deltas, reasoning summary (and reasoning text)
  deltas, function-call argument deltas by item (the call id and name come from the
  ``output_item.added`` event), usage and finish from ``completed`` / ``incomplete``, and the
  ``error`` / ``response.failed`` events as `ProviderErrorPart`.
- The SDK raises `openai.APIError` itself when a chat stream carries ``data: {"error": ...}``;
  the translator registered with the adapter turns it into the part, so the stream raises
  `ProviderError` with the partial kept. Connection, timeout and status errors propagate as the
  SDK raised them (the stream's ``partial`` stays readable).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any, Literal, TypeVar, get_args

import openai
from openai.lib import type_to_response_format_param
from openai.types.chat import ChatCompletionChunk
from openai.types.responses import ResponseStreamEvent

from .._aggregate import AsyncStream, Stream, astream as _astream, stream as _stream
from .._exceptions import AdapterError
from .._parts import (
    Finish,
    Part,
    ProviderErrorPart,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    Usage,
)
from .._stream_core import EmitPolicy
from ._chat import ChatConverter, error_part
from ._registry import register_adapter

__all__ = [
    "astream",
    "astream_response",
    "function_tools",
    "response_format",
    "stream",
    "stream_response",
    "text_format",
]

T = TypeVar("T")
_Handler = Callable[["_OpenAIEvents", Any], Iterable[Part]]

# `response.incomplete` reasons, as the finish reasons the streams know.
_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}
_NOTHING: tuple[Part, ...] = ()


def _dump(obj: Any) -> Any:
    """An SDK object as the dict that was sent (unset fields left out)."""
    dump = getattr(obj, "model_dump", None)
    return dump(exclude_unset=True, warnings=False) if dump is not None else obj


def _responses_usage(response: Any) -> tuple[Part, ...]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return _NOTHING
    return (Usage(usage.input_tokens, usage.output_tokens, usage.total_tokens, raw=_dump(usage)),)


class _OpenAIEvents:
    """The per-stream adapter: one SDK event in, its parts out."""

    __slots__ = ("_calls", "_chat", "_streamed")

    def __init__(self) -> None:
        self._chat = ChatConverter()
        self._calls: dict[str, tuple[str, str | None]] = {}  # item id -> (call id, name)
        self._streamed: set[str] = set()  # call ids whose arguments arrived as deltas

    def __call__(self, event: Any) -> Iterable[Part]:
        handler = _BY_CLASS.get(type(event))
        if handler is None:
            kind = getattr(event, "type", None)
            if type(kind) is not str:
                raise AdapterError(
                    f"{type(event).__qualname__} is not an openai stream event "
                    "(pass a stream: create(..., stream=True))",
                    event=event,
                )
            handler = _BY_TYPE.get(kind, _skip)
        try:
            return handler(self, event)
        except (AttributeError, KeyError, TypeError) as exc:
            raise AdapterError(
                f"an openai {getattr(event, 'type', type(event).__qualname__)!s} event of "
                f"unknown shape ({type(exc).__name__}: {exc})",
                event=event,
            ) from exc

    # ------------------------------------------------------------ chat completions

    def _chat_chunk(self, chunk: Any) -> list[Part]:
        return self._chat(chunk)

    def _helper_chunk(self, event: Any) -> list[Part]:
        # `client.chat.completions.stream()` wraps each raw chunk in a "chunk" event; the
        # other helper events repeat what the chunk carries, so they are skipped.
        return self._chat_chunk(event.chunk)

    # ------------------------------------------------------------------ responses

    def _text_delta(self, event: Any) -> tuple[Part, ...]:
        return (TextDelta(event.delta),) if event.delta else _NOTHING

    def _refusal_delta(self, event: Any) -> tuple[Part, ...]:
        return (RefusalDelta(event.delta),) if event.delta else _NOTHING

    def _reasoning_delta(self, event: Any) -> tuple[Part, ...]:
        return (ReasoningDelta(event.delta),) if event.delta else _NOTHING

    def _item_added(self, event: Any) -> tuple[Part, ...]:
        item = event.item
        if item.type != "function_call":
            return _NOTHING
        call_id = item.call_id or item.id
        self._calls[item.id or call_id] = (call_id, item.name)
        if item.arguments:
            self._streamed.add(call_id)
        return (ToolCallDelta(call_id, item.arguments, name=item.name, index=event.output_index),)

    def _arguments_delta(self, event: Any) -> tuple[Part, ...]:
        call_id = self._calls.get(event.item_id, (event.item_id, None))[0]
        self._streamed.add(call_id)
        return (ToolCallDelta(call_id, event.delta, index=event.output_index),)

    def _arguments_done(self, event: Any) -> tuple[Part, ...]:
        call_id, name = self._calls.get(event.item_id, (event.item_id, None))
        done = ToolCallDone(call_id, name, event.arguments, None)
        if call_id not in self._streamed and event.arguments:
            # The arguments came whole, without deltas: stream them as one.
            delta = ToolCallDelta(call_id, event.arguments, index=event.output_index)
            return (delta, done)
        return (done,)

    def _completed(self, event: Any) -> tuple[Part, ...]:
        return (*_responses_usage(event.response), Finish("stop"))

    def _incomplete(self, event: Any) -> tuple[Part, ...]:
        details = event.response.incomplete_details
        reason = getattr(details, "reason", None)
        finish = _INCOMPLETE_REASONS.get(reason, reason) if reason else "incomplete"
        return (*_responses_usage(event.response), Finish(finish))

    def _error(self, event: Any) -> tuple[Part, ...]:
        return (ProviderErrorPart(event.message, event.code, raw=_dump(event)),)

    def _failed(self, event: Any) -> tuple[Part, ...]:
        response = event.response
        error = response.error
        part = (
            error_part(_dump(error))
            if error is not None
            else ProviderErrorPart("the response failed", None, raw=None)
        )
        return (*_responses_usage(response), part)


def _skip(adapter: _OpenAIEvents, event: Any) -> tuple[Part, ...]:
    return _NOTHING


# Responses event `type` -> handler; every other type carries nothing for us (lifecycle,
# `.done` repeats of the deltas, content parts, hosted tools' progress, audio).
_BY_TYPE: dict[str, _Handler] = {
    "chunk": _OpenAIEvents._helper_chunk,
    "response.output_text.delta": _OpenAIEvents._text_delta,
    "response.refusal.delta": _OpenAIEvents._refusal_delta,
    "response.reasoning_summary_text.delta": _OpenAIEvents._reasoning_delta,
    "response.reasoning_text.delta": _OpenAIEvents._reasoning_delta,
    "response.output_item.added": _OpenAIEvents._item_added,
    "response.function_call_arguments.delta": _OpenAIEvents._arguments_delta,
    "response.function_call_arguments.done": _OpenAIEvents._arguments_done,
    "response.completed": _OpenAIEvents._completed,
    "response.incomplete": _OpenAIEvents._incomplete,
    "response.failed": _OpenAIEvents._failed,
    "error": _OpenAIEvents._error,
}
_BY_CLASS: dict[type, _Handler] = {ChatCompletionChunk: _OpenAIEvents._chat_chunk}


def _event_type(cls: type) -> str | None:
    field = getattr(cls, "model_fields", {}).get("type")
    values = get_args(field.annotation) if field is not None else ()
    return values[0] if len(values) == 1 and isinstance(values[0], str) else None


def _translate_error(exc: BaseException) -> ProviderErrorPart | None:
    # The SDK raises a plain APIError for a `data: {"error": ...}` frame; its subclasses are
    # transport, status and validation errors, which are not the provider's report.
    excluded = (openai.APIStatusError, openai.APIConnectionError, openai.APIResponseValidationError)
    if not isinstance(exc, openai.APIError) or isinstance(exc, excluded):
        return None
    body = exc.body
    if isinstance(body, Mapping):
        return error_part(body)
    return ProviderErrorPart(exc.message, exc.code, raw=body)


def _register() -> None:
    register_adapter(ChatCompletionChunk, _OpenAIEvents, errors={openai.APIError: _translate_error})
    for cls in get_args(get_args(ResponseStreamEvent)[0]):
        kind = _event_type(cls)
        _BY_CLASS[cls] = _BY_TYPE.get(kind, _skip) if kind is not None else _skip
        register_adapter(cls, _OpenAIEvents)
    # Any other SDK object (helper events, event types newer than this module) is looked up
    # by its `type`; objects without one raise AdapterError.
    register_adapter(openai.BaseModel, _OpenAIEvents)


_register()


# ------------------------------------------------------------------------ requests


def response_format(model: type[Any], /) -> dict[str, Any]:
    """The strict JSON-schema ``response_format`` of Chat Completions for `model`.

    Built by the openai SDK's own helper (the schema its ``parse()`` sends).

    Args:
        model: a pydantic model (or pydantic dataclass).

    Returns:
        ``{"type": "json_schema", "json_schema": {"name", "schema", "strict": True}}``.

    Raises:
        TypeError: `model` is not a pydantic model or dataclass.
    """
    return dict(type_to_response_format_param(model))  # type: ignore[arg-type]


def text_format(model: type[Any], /) -> dict[str, Any]:
    """The strict JSON-schema ``text.format`` of the Responses API for `model`.

    Returns:
        ``{"type": "json_schema", "name", "schema", "strict": True}``.

    Raises:
        TypeError: `model` is not a pydantic model or dataclass.
    """
    spec = response_format(model)["json_schema"]
    return {"type": "json_schema", "name": spec["name"], "schema": spec["schema"], "strict": True}


def function_tools(tools: Mapping[str, type[Any]], /) -> list[dict[str, Any]]:
    """Strict Chat Completions function tools, one per ``name -> pydantic model`` of `tools`."""
    return [dict(openai.pydantic_function_tool(m, name=n)) for n, m in tools.items()]


def _chat_request(output_type: Any, tools: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    request = dict(kwargs)
    request["stream"] = True
    request["stream_options"] = {"include_usage": True, **(request.get("stream_options") or {})}
    if output_type is not None and "response_format" not in request:
        request["response_format"] = response_format(output_type)
    if isinstance(tools, Mapping):
        request["tools"] = function_tools(tools)
    elif tools is not None:
        request["tools"] = tools
    return request


def _responses_request(output_type: Any, tools: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    request = dict(kwargs)
    request["stream"] = True
    if output_type is not None:
        text = dict(request.get("text") or {})
        text.setdefault("format", text_format(output_type))
        request["text"] = text
    if isinstance(tools, Mapping):
        request["tools"] = [
            openai.pydantic_responses_function_tool(m, name=n) for n, m in tools.items()
        ]
    elif tools is not None:
        request["tools"] = tools
    return request


def _tool_models(tools: Any) -> Mapping[str, Any] | None:
    return tools if isinstance(tools, Mapping) else None


def _sdk_events(create: Callable[..., Any], request: dict[str, Any]) -> Iterator[Any]:
    # The request is sent when iteration starts; closing the stream closes the response.
    with create(**request) as sdk_stream:
        yield from sdk_stream


async def _asdk_events(create: Callable[..., Any], request: dict[str, Any]) -> AsyncIterator[Any]:
    sdk_stream = await create(**request)
    async with sdk_stream:
        async for event in sdk_stream:
            yield event


def stream(
    client: openai.OpenAI,
    output_type: type[T] | None,
    /,
    *,
    tools: Mapping[str, type[Any]] | Iterable[Any] | None = None,
    emit: EmitPolicy = "changes",
    on_invalid: Literal["raise", "report"] = "raise",
    **create_kwargs: Any,
) -> Stream[T]:
    """Stream typed partials of `output_type` from ``client.chat.completions.create``.

    The request asks for strict JSON-schema output of `output_type` (unless `create_kwargs`
    has a ``response_format``), ``stream=True`` and usage in the last chunk. It is sent when
    iteration starts; leaving the stream (``close()``, ``with``, ``break``) closes the response.

    Args:
        client: an `openai.OpenAI` client.
        output_type: the pydantic model of the output, or None (tool calls only, or JSON
            without a schema).
        tools: tool name -> pydantic model of its arguments: sent as strict function tools,
            and tool-call parts carry typed partial arguments. A list is sent as is.
        emit, on_invalid: as for `streamdantic.stream`.
        create_kwargs: the other arguments of ``chat.completions.create`` (``model``,
            ``messages``, ...).

    Returns:
        A `streamdantic.Stream` of typed partial updates.

    Raises (while iterating):
        ProviderError: the provider reported an error mid-stream (``.partial`` kept);
            ContentFilterError and RefusalError are its subclasses.
        TruncatedStreamError: the output stopped early (finish reason ``length``).
        StreamValidationError, AdapterError: as for `streamdantic.stream`.
        openai.APIError: the request failed (status, connection, timeout), as the SDK raises it.
    """
    request = _chat_request(output_type, tools, create_kwargs)
    source = _sdk_events(client.chat.completions.create, request)
    return _stream(source, output_type, tools=_tool_models(tools), emit=emit, on_invalid=on_invalid)


def astream(
    client: openai.AsyncOpenAI,
    output_type: type[T] | None,
    /,
    *,
    tools: Mapping[str, type[Any]] | Iterable[Any] | None = None,
    emit: EmitPolicy = "changes",
    on_invalid: Literal["raise", "report"] = "raise",
    **create_kwargs: Any,
) -> AsyncStream[T]:
    """The async twin of `stream`, for an `openai.AsyncOpenAI` client.

    Returns:
        A `streamdantic.AsyncStream` (``async for``, ``async with``); the request is sent
        when iteration starts.
    """
    request = _chat_request(output_type, tools, create_kwargs)
    source = _asdk_events(client.chat.completions.create, request)
    return _astream(
        source, output_type, tools=_tool_models(tools), emit=emit, on_invalid=on_invalid
    )


def stream_response(
    client: openai.OpenAI,
    output_type: type[T] | None,
    /,
    *,
    tools: Mapping[str, type[Any]] | Iterable[Any] | None = None,
    emit: EmitPolicy = "changes",
    on_invalid: Literal["raise", "report"] = "raise",
    **create_kwargs: Any,
) -> Stream[T]:
    """Stream typed partials of `output_type` from ``client.responses.create`` (Responses API).

    The request asks for strict JSON-schema output (``text.format``, unless `create_kwargs`
    sets one) and ``stream=True``; it is sent when iteration starts.

    Args:
        client: an `openai.OpenAI` client.
        output_type: the pydantic model of the output, or None.
        tools: tool name -> pydantic model of its arguments (sent as strict function tools;
            typed partial arguments), or a list sent as is.
        emit, on_invalid: as for `streamdantic.stream`.
        create_kwargs: the other arguments of ``responses.create`` (``model``, ``input``, ...).

    Returns:
        A `streamdantic.Stream` of typed partial updates.

    Raises (while iterating):
        ProviderError: an ``error`` or ``response.failed`` event (``.partial`` kept).
        TruncatedStreamError: ``response.incomplete`` cut the output (``max_output_tokens``
            reads as finish reason ``length``).
        RefusalError, ContentFilterError, StreamValidationError, AdapterError,
        openai.APIError: as for `stream`.
    """
    request = _responses_request(output_type, tools, create_kwargs)
    source = _sdk_events(client.responses.create, request)
    return _stream(source, output_type, tools=_tool_models(tools), emit=emit, on_invalid=on_invalid)


def astream_response(
    client: openai.AsyncOpenAI,
    output_type: type[T] | None,
    /,
    *,
    tools: Mapping[str, type[Any]] | Iterable[Any] | None = None,
    emit: EmitPolicy = "changes",
    on_invalid: Literal["raise", "report"] = "raise",
    **create_kwargs: Any,
) -> AsyncStream[T]:
    """The async twin of `stream_response`, for an `openai.AsyncOpenAI` client."""
    request = _responses_request(output_type, tools, create_kwargs)
    source = _asdk_events(client.responses.create, request)
    return _astream(
        source, output_type, tools=_tool_models(tools), emit=emit, on_invalid=on_invalid
    )
