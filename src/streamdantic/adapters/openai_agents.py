"""OpenAI Agents SDK (``openai-agents``) run event streams -> stream parts.

Importing this module registers its adapter for the SDK's stream event classes (streams import
it on first sight of one of the ``agents`` SDK's stream events), so a streamed run reads directly::

    result = Runner.run_streamed(agent, "...")  # Agent(..., output_type=Recipe)
    async for update in streamdantic.astream(result, Recipe):  # or result.stream_events()
        print(update.partial)

The ``RunResultStreaming`` itself is a source: the stream reads its ``stream_events()``, and
leaving the stream before the run ends (``break``, ``aclose()``, the ``async with`` block)
cancels the run (``result.cancel()``), as closing an SDK stream closes its response.
``streamdantic.stream(result, ...)`` raises `UsageError`: the events are async only.

- ``RawResponsesStreamEvent``: its ``.data`` is a Responses API stream event, converted by the
  openai adapter (output text, refusals, reasoning summaries, function-call arguments as
  `ToolCallDelta` / `ToolCallDone`, usage, finish reason, ``error`` / ``response.failed``).
- ``RunItemStreamEvent``: ``tool_output`` items become `ToolResult`s; the other items repeat
  what the raw events carried (tool calls, messages) and are skipped.
- ``AgentUpdatedStreamEvent`` (handoffs) carries nothing for the object.

A run makes one model response per turn (tool calls, then the output): the usage is summed
over the responses, as the SDK sums ``result.context_wrapper.usage``; the finish reason is the
last response's.

Errors the SDK raises while the events are iterated:

=============================================  ==========================================
the SDK raises                                 the stream raises (``.partial`` kept)
=============================================  ==========================================
``ModelBehaviorError`` for ``response.         `TruncatedStreamError` (``max_output_tokens``
incomplete``                                   reads as finish reason ``length``)
``ModelBehaviorError`` for ``response.failed``  `ProviderError` with the provider's error
/ ``error``                                    (from the raw event before it)
anything else (``MaxTurnsExceeded``,           propagates as the SDK raised it
guardrail tripwires, your tools' errors)
=============================================  ==========================================

Strategy / invariants:
- The SDK raises its terminal-event ``ModelBehaviorError`` only after the stream has yielded
  the terminal raw event (it marks the error to drain the queued events first), so the raw
  event has already given the stream its finish reason or provider error. The translator
  only ends the stream: for ``response.incomplete`` it repeats the finish reason (read from
  the SDK's message, which names ``incomplete_details``), otherwise it gives ``Finish("error")``,
  which a provider error already recorded outranks.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from typing import Any

from agents import exceptions as _agents_exc
from agents.result import RunResultStreaming
from agents.stream_events import (
    AgentUpdatedStreamEvent,
    RawResponsesStreamEvent,
    RunItemStreamEvent,
)

from .._exceptions import AdapterError
from .._parts import Finish, Part, ToolResult, Usage
from ._registry import ErrorTranslator, register_adapter, register_source
from .openai import _INCOMPLETE_REASONS, _OpenAIEvents

__all__: list[str] = []

_NOTHING: tuple[Part, ...] = ()
_TERMINAL = re.compile(r"^Responses stream ended with terminal event `([\w.]+)`")
_INCOMPLETE_REASON = re.compile(r"reason='(\w+)'")


def _add(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else a + b


class _AgentEvents:
    """The per-stream adapter: one agents-SDK event in, its parts out."""

    __slots__ = ("_responses", "_usage")

    def __init__(self) -> None:
        self._responses = _OpenAIEvents()
        self._usage: Usage | None = None  # summed over the run's model responses

    def __call__(self, event: Any) -> Iterable[Part]:
        kind = type(event)
        if kind is RawResponsesStreamEvent:
            parts = self._responses(event.data)
            return [self._sum(p) if type(p) is Usage else p for p in parts]
        if kind is RunItemStreamEvent:
            if event.name != "tool_output":
                return _NOTHING
            call_id = event.item.call_id
            if call_id is None:
                raise AdapterError(
                    "an openai-agents tool_output item without a call id", event=event
                )
            return (ToolResult(call_id, event.item.output),)
        if kind is AgentUpdatedStreamEvent:
            return _NOTHING
        raise AdapterError(
            f"{kind.__qualname__} is not an openai-agents stream event "
            "(pass result.stream_events() of Runner.run_streamed)",
            event=event,
        )

    def _sum(self, usage: Usage) -> Usage:
        before = self._usage
        if before is not None:
            usage = Usage(
                _add(before.input_tokens, usage.input_tokens),
                _add(before.output_tokens, usage.output_tokens),
                _add(before.total_tokens, usage.total_tokens),
                raw=usage.raw,  # the last response's, as sent
            )
        self._usage = usage
        return usage


def _translate_error(exc: BaseException) -> Part | None:
    if not isinstance(exc, _agents_exc.ModelBehaviorError):
        return None
    terminal = _TERMINAL.match(exc.message)
    if terminal is None:
        return None  # the model's output was unusable: the SDK's own error
    if terminal.group(1) == "response.incomplete":
        found = _INCOMPLETE_REASON.search(exc.message)
        reason = found.group(1) if found else None
        return Finish(_INCOMPLETE_REASONS.get(reason, reason) if reason else "incomplete")
    return Finish("error")


async def _run_events(result: RunResultStreaming) -> AsyncIterator[Any]:
    """A streamed run's events; closed before the run ends, it cancels the run."""
    events = result.stream_events()
    try:
        async for event in events:
            yield event
    finally:
        if not result.is_complete:
            result.cancel()
        aclose = getattr(events, "aclose", None)  # an async generator, typed as an iterator
        if aclose is not None:
            await aclose()


def _register() -> None:
    errors: dict[type[BaseException], ErrorTranslator] = {
        _agents_exc.ModelBehaviorError: _translate_error
    }
    for cls in (RawResponsesStreamEvent, RunItemStreamEvent, AgentUpdatedStreamEvent):
        register_adapter(cls, _AgentEvents, errors=errors)
    register_source(RunResultStreaming, _run_events, asynchronous=True)


_register()
