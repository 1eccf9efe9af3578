"""pydantic-ai agent event streams -> stream parts.

Importing this module registers its adapter for pydantic-ai's event types (streams import it on
first sight of a ``pydantic_ai.`` object), so an agent's event stream reads directly::

    async with agent.run_stream_events("...") as events:
        async for update in streamdantic.astream(events, Recipe):
            print(update.partial)

The events of ``agent.iter()`` node streams (``async with node.stream(run.ctx) as s``) are the
same model-response events and read the same way.

The agent's output streams as the typed partial whichever output mode pydantic-ai uses: the
arguments of its output tool (tool output, the default for a model output type) or the text of
``NativeOutput`` / ``PromptedOutput``. Function tool calls are `ToolCallDelta`s with typed
partial arguments (pass ``tools={name: Model}``), their results `ToolResult`s, thinking parts
`ReasoningDelta`s, and the run's usage and last finish reason come with ``AgentRunResultEvent``.

Errors pydantic-ai raises while the events are iterated:

==============================  =====================================================
pydantic-ai raises              the stream raises (``.partial`` kept)
==============================  =====================================================
``OutputTokenLimitExceeded``    `TruncatedStreamError` (finish reason ``length``)
``ContentFilterError``          `ContentFilterError`
``ModelAPIError`` (HTTP, ...)   `ProviderError` (``code`` is the HTTP status if any)
anything else                   propagates as pydantic-ai raised it
==============================  =====================================================

Strategy / invariants:
- pydantic-ai tells which part is the output only by the ``FinalResultEvent`` that follows the
  output part's ``PartStartEvent``. So a text or tool-call part's start is held for one event:
  followed by a matching ``FinalResultEvent`` it is the output (its text feeds the object),
  otherwise a tool call (`ToolCallDelta`) or prose. Prose text beside tool-mode output is not
  the object's JSON and is left out of the stream.
- Part indexes restart with each model response; a ``PartStartEvent`` replaces whatever had
  that index, so one dict from index to role is all the state besides the held start.
- A second output after the first has fed the object (pydantic-ai retrying an output it
  rejected) raises `AdapterError`: the object stream has one document.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from typing import Any

from pydantic_ai import exceptions as _pai_exc, messages as _pai
from pydantic_ai.run import AgentRunResultEvent

from .._exceptions import AdapterError
from .._parts import (
    Finish,
    Part,
    ProviderErrorPart,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    ToolResult,
    Usage,
)
from ._registry import register_adapter

__all__: list[str] = []

_NOTHING: tuple[Part, ...] = ()
_OUTPUT, _TOOL, _PROSE, _THINKING = "output", "tool", "prose", "thinking"
_Handler = Callable[["_PydanticAIEvents", Any], Iterable[Part]]


def _args_text(args: Any) -> str:
    """Tool-call arguments as JSON text (models send a string, or a dict all at once)."""
    if args is None:
        return ""
    if isinstance(args, str):
        return args
    return json.dumps(args, ensure_ascii=False)


class _PydanticAIEvents:
    """The per-stream adapter: one pydantic-ai event in, its parts out."""

    __slots__ = ("_held", "_output_fed", "_roles")

    def __init__(self) -> None:
        # part index -> (role, tool call id, tool name), for the current model response
        self._roles: dict[int, tuple[str, str, str | None]] = {}
        self._held: Any = None  # a PartStartEvent waiting to learn whether it is the output
        self._output_fed = False

    def __call__(self, event: Any) -> Iterable[Part]:
        handler = _BY_CLASS.get(type(event))
        if handler is None:
            handler = _lookup(type(event))
        try:
            held = self._held
            if held is None:
                return handler(self, event)
            self._held = None
            if type(event) is _pai.FinalResultEvent and _matches(held.part, event):
                return self._start(held, _OUTPUT)
            role = _TOOL if isinstance(held.part, _pai.ToolCallPart) else _PROSE
            return (*self._start(held, role), *handler(self, event))
        except (AttributeError, KeyError, TypeError) as exc:
            raise AdapterError(
                f"a pydantic-ai {type(event).__qualname__} of unknown shape "
                f"({type(exc).__name__}: {exc})",
                event=event,
            ) from exc

    def _part_start(self, event: Any) -> tuple[Part, ...]:
        part = event.part
        if isinstance(part, _pai.TextPart | _pai.ToolCallPart):
            self._held = event  # decided by the next event
            return _NOTHING
        if isinstance(part, _pai.ThinkingPart):
            self._roles[event.index] = (_THINKING, "", None)
            return (ReasoningDelta(part.content),) if part.content else _NOTHING
        self._roles.pop(event.index, None)  # files, built-in tools: nothing for us
        return _NOTHING

    def _start(self, event: Any, role: str) -> tuple[Part, ...]:
        part = event.part
        is_call = isinstance(part, _pai.ToolCallPart)
        text = _args_text(part.args) if is_call else part.content
        if role == _OUTPUT:
            if self._output_fed:
                raise AdapterError(
                    "pydantic-ai started a second output in one run (a retry of an output it "
                    "rejected); a stream builds one object, so validate with the same model "
                    "streamdantic uses or lower the agent's output retries",
                    event=event,
                )
            self._output_fed = True
            self._roles[event.index] = (_OUTPUT, "", None)
            return (TextDelta(text),) if text else _NOTHING
        if role == _TOOL:
            call_id, name = part.tool_call_id, part.tool_name
            self._roles[event.index] = (_TOOL, call_id, name)
            return (ToolCallDelta(call_id, text, name=name, index=event.index),)
        self._roles[event.index] = (_PROSE, "", None)
        return _NOTHING

    def _part_delta(self, event: Any) -> tuple[Part, ...]:
        role, call_id, _ = self._roles.get(event.index, (_PROSE, "", None))
        delta = event.delta
        if role == _OUTPUT:
            text = delta.content_delta if type(delta) is _pai.TextPartDelta else None
            if text is None:
                text = _args_text(getattr(delta, "args_delta", None))
            return (TextDelta(text),) if text else _NOTHING
        if role == _TOOL:
            text = _args_text(delta.args_delta)
            return (ToolCallDelta(call_id, text, index=event.index),) if text else _NOTHING
        if role == _THINKING:
            text = delta.content_delta
            return (ReasoningDelta(text),) if text else _NOTHING
        return _NOTHING

    def _tool_call(self, event: Any) -> tuple[Part, ...]:
        # Sent once the response is complete, with the whole arguments. (`PartEndEvent` is
        # not the end of a tool call: deltas of an interleaved call may follow it.)
        part = event.part
        return (ToolCallDone(part.tool_call_id, part.tool_name, _args_text(part.args), None),)

    def _tool_result(self, event: Any) -> tuple[Part, ...]:
        return (ToolResult(event.part.tool_call_id, event.part.content),)

    def _run_result(self, event: Any) -> tuple[Part, ...]:
        result = event.result
        usage = result.usage
        if not hasattr(usage, "input_tokens"):  # a method before pydantic-ai 2.x's property
            usage = usage()
        parts: list[Part] = []
        if usage is not None:
            fields = dataclasses.fields(usage) if dataclasses.is_dataclass(usage) else ()
            raw = {f.name: getattr(usage, f.name) for f in fields}
            parts.append(Usage(usage.input_tokens, usage.output_tokens, raw=raw))
        reason = getattr(result.response, "finish_reason", None)
        parts.append(Finish(_FINISH_REASONS.get(reason, reason) if reason else "stop"))
        return tuple(parts)


def _skip(adapter: _PydanticAIEvents, event: Any) -> tuple[Part, ...]:
    return _NOTHING


def _matches(part: Any, final: Any) -> bool:
    """Whether a FinalResultEvent names this part as the output."""
    if isinstance(part, _pai.ToolCallPart):
        return bool(final.tool_name) and final.tool_call_id == part.tool_call_id
    return final.tool_name is None


def _lookup(cls: type) -> _Handler:
    for base in cls.__mro__:
        found = _BY_CLASS.get(base)
        if found is not None:
            _BY_CLASS[cls] = found
            return found
    return _skip


# pydantic-ai's finish reasons -> the ones streams know (`tool_call` is OpenAI's `tool_calls`).
_FINISH_REASONS = {"tool_call": "tool_calls"}

_BY_CLASS: dict[type, _Handler] = {
    _pai.PartStartEvent: _PydanticAIEvents._part_start,
    _pai.PartDeltaEvent: _PydanticAIEvents._part_delta,
    _pai.FunctionToolCallEvent: _PydanticAIEvents._tool_call,
    _pai.FinalResultEvent: _skip,
    _pai.FunctionToolResultEvent: _PydanticAIEvents._tool_result,
    AgentRunResultEvent: _PydanticAIEvents._run_result,
}


def _translate_error(exc: BaseException) -> Part | None:
    if isinstance(exc, _pai_exc.OutputTokenLimitExceeded):
        return Finish("length")
    if isinstance(exc, _pai_exc.ContentFilterError):
        return Finish("content_filter")
    if isinstance(exc, _pai_exc.ModelAPIError):
        status = getattr(exc, "status_code", None)
        code = exc.provider_error_code or (str(status) if status is not None else None)
        return ProviderErrorPart(exc.message, code, raw=exc.body)
    return None


def _register() -> None:
    errors = {
        _pai_exc.OutputTokenLimitExceeded: _translate_error,
        _pai_exc.ContentFilterError: _translate_error,
        _pai_exc.ModelAPIError: _translate_error,
    }
    # Every event class pydantic-ai exports is known: those without a handler carry nothing
    # for the object (tool-call announcements, deferred tools, capability events, ...).
    event_classes = [
        value
        for name, value in vars(_pai).items()
        if isinstance(value, type) and name.endswith("Event") and value.__module__ == _pai.__name__
    ]
    for cls in (*event_classes, AgentRunResultEvent):
        register_adapter(cls, _PydanticAIEvents, errors=errors)


_register()
