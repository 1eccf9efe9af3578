"""Ollama (``ollama`` client) ``chat(..., stream=True)`` chunks -> stream parts.

``ollama.Client().chat(model=..., messages=..., stream=True, format=json_format(Recipe))``
yields one ``ollama.ChatResponse`` per NDJSON line of ``/api/chat``; streams import this module
on first sight of an ``ollama`` object, so the client's stream is a source as it is::

    chunks = client.chat(model="qwen3", messages=messages, stream=True, format=json_format(Recipe))
    recipe = streamdantic.stream_to_object(chunks, Recipe)

Finish reasons (``done_reason`` of the last chunk, ``done=True``): ``stop`` -> ``stop``,
``length`` (``num_predict`` reached) -> ``length`` (`TruncatedStreamError` if the object is
incomplete); others (``load``, ``unload``) pass unchanged.

The client raises ``ollama.ResponseError`` for an ``{"error": ...}`` line mid-stream; this
module registers a translator for it, so the stream ends with `ProviderError` with the partial
kept, chained to the client's exception.

Strategy / invariants:
- ``message.content`` -> `TextDelta`, ``message.thinking`` (``think=True``) ->
  `ReasoningDelta`, each of ``message.tool_calls`` -> `ToolCallDelta` with its whole
  ``arguments`` as JSON text, then `ToolCallDone` (Ollama sends a call whole). Calls have no id
  on the wire; they get ``call_<n>``, n counting the stream's calls.
- The last chunk's ``prompt_eval_count`` / ``eval_count`` -> `Usage`, then `Finish`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
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

__all__ = ["DONE_REASONS", "aollama_events", "json_format", "ollama_events"]

DONE_REASONS: Mapping[str, str] = {"stop": "stop", "length": "length"}
"""Ollama ``done_reason`` -> streamdantic finish reason; others pass unchanged."""

_NOTHING: tuple[Part, ...] = ()


class _OllamaEvents:
    """The per-stream converter: one ChatResponse in, its parts out."""

    __slots__ = ("_calls",)

    def __init__(self) -> None:
        self._calls = 0

    @staticmethod
    def text_of(chunk: Any) -> str | None:
        """The chunk's text when it carries only text (the stream router's fast path: no
        `TextDelta` per token), else None."""
        try:
            message = chunk.message
            content = message.content
            if content and not chunk.done and not message.thinking and not message.tool_calls:
                return content  # type: ignore[no-any-return]
        except AttributeError:
            pass  # reported by __call__
        return None

    def __call__(self, chunk: Any) -> tuple[Part, ...]:
        try:
            message = chunk.message
            content = message.content
            if content and not chunk.done and not message.thinking and not message.tool_calls:
                return (TextDelta(content),)  # the common chunk, here without `_convert`'s call
            return self._convert(chunk)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise AdapterError(
                f"an Ollama {type(chunk).__qualname__} of unknown shape "
                f"({type(exc).__name__}: {exc})",
                event=chunk,
            ) from exc

    def _convert(self, chunk: Any) -> tuple[Part, ...]:
        message = chunk.message
        content = message.content
        if content and not chunk.done:
            # the common case, one content piece: no list
            if not message.thinking and not message.tool_calls:
                return (TextDelta(content),)
        parts: list[Part] = []
        thinking = message.thinking
        if thinking:
            parts.append(ReasoningDelta(thinking))
        if content:
            parts.append(TextDelta(content))
        for call in message.tool_calls or ():
            self._calls += 1
            call_id = f"call_{self._calls}"
            function = call.function
            arguments = json.dumps(dict(function.arguments or {}), ensure_ascii=False)
            parts.append(ToolCallDelta(call_id, arguments, name=function.name))
            parts.append(ToolCallDone(call_id, function.name, "", None))
        if chunk.done:
            prompt, output = chunk.prompt_eval_count, chunk.eval_count
            if prompt is not None or output is not None:
                raw = {"prompt_eval_count": prompt, "eval_count": output}
                parts.append(Usage(prompt, output, raw=raw))
            reason = chunk.done_reason
            parts.append(Finish(DONE_REASONS.get(reason, reason) if reason else None))
        return tuple(parts)


def ollama_events(chunks: Iterable[Any], /) -> Iterator[Part]:
    """Convert ollama ``ChatResponse`` chunks into stream parts.

    Streams do this themselves for the client's objects; use it to filter or inspect parts.

    Args:
        chunks: the chunks in order, as ``chat(..., stream=True)`` yields them.

    Returns:
        An iterator of parts, to pass to `streamdantic.stream` and friends.

    Raises (while iterating):
        AdapterError: a chunk of unknown shape (``.event`` is the chunk).
    """
    return convert_all(_OllamaEvents(), chunks)


def aollama_events(chunks: AsyncIterable[Any] | Iterable[Any], /) -> AsyncIterator[Part]:
    """The async twin of `ollama_events` (``await ollama.AsyncClient().chat(..., stream=True)``)."""
    return aconvert_all(_OllamaEvents(), chunks)


def json_format(model: type[Any], /) -> dict[str, Any]:
    """The ``format`` argument of ``chat`` that constrains the output to `model`'s JSON schema.

    Args:
        model: a pydantic model class.

    Returns:
        The model's JSON schema (Ollama takes a JSON schema as ``format``).
    """
    schema: dict[str, Any] = model.model_json_schema()
    return schema


def _translate_error(exc: BaseException) -> ProviderErrorPart | None:
    # ollama.ResponseError: .error (the message as sent), .status_code (-1 mid-stream).
    error = getattr(exc, "error", None)
    status = getattr(exc, "status_code", -1)
    return ProviderErrorPart(
        error if isinstance(error, str) and error else str(exc),
        str(status) if isinstance(status, int) and status > 0 else None,
        raw={"error": error},
    )


def _register() -> None:
    """Register the adapter for the ollama client's objects, when the package is installed."""
    register_sdk_adapter(
        "ollama:ChatResponse",
        _OllamaEvents,
        error="ollama:ResponseError",
        translate=_translate_error,
    )


_register()
