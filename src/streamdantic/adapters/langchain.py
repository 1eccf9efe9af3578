"""LangChain chat-model streams -> stream parts: `AIMessageChunk`s and ``astream_events``.

Importing this module registers its adapter for ``langchain_core``'s `AIMessageChunk` (streams
import it on first sight of a ``langchain_core.`` object), so a chat model's stream reads
directly::

    for update in streamdantic.stream(chat_model.stream(messages), Recipe):
        print(update.partial)

The events of ``astream_events(version="v2")`` are dicts; `langchain_events` /
`alangchain_events` keep their ``on_chat_model_stream`` chunks::

    events = chain.astream_events(inputs, version="v2")
    recipe = await streamdantic.astream_to_object(alangchain_events(events), Recipe)

Strategy / invariants:
- ``content`` is a string or a list of content blocks: text blocks -> `TextDelta`, thinking /
  reasoning blocks -> `ReasoningDelta`; other blocks (tool-use blocks, which
  ``tool_call_chunks`` repeat, images) are skipped.
- ``tool_call_chunks`` name a call by ``index``; the id and name come on its first chunk, so
  one dict per stream keeps index -> call id (``call_<index>`` when the provider sends none).
- ``usage_metadata`` on chunks is additive (LangChain sums it when chunks are added: input
  tokens on the first chunk, output tokens on the last), so the adapter keeps the running sum.
- The finish reason is read from ``response_metadata`` in the words the integrations use
  (``finish_reason``, ``stop_reason``, ``done_reason``) and mapped as in `FINISH_REASONS`.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

from langchain_core.messages import AIMessageChunk

from .._exceptions import AdapterError
from .._parts import Finish, Part, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from ._registry import register_adapter

__all__ = ["FINISH_REASONS", "alangchain_events", "langchain_events"]

FINISH_REASONS: Mapping[str, str] = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "STOP": "stop",
    "tool_calls": "tool_calls",
    "tool_use": "tool_calls",
    "length": "length",
    "max_tokens": "length",
    "MAX_TOKENS": "length",
    "content_filter": "content_filter",
    "refusal": "content_filter",
    "SAFETY": "content_filter",
}
"""Integration finish reasons -> streamdantic's; others pass unchanged."""

_REASON_KEYS = ("finish_reason", "stop_reason", "done_reason")
_USAGE_KEYS = ("input_tokens", "output_tokens", "total_tokens")


class _LangChainChunks:
    """The per-stream converter: one `AIMessageChunk` in, its parts out."""

    __slots__ = ("_calls", "_usage")

    def __init__(self) -> None:
        self._calls: dict[Any, str] = {}  # tool-call chunk index -> call id
        self._usage: dict[str, int] | None = None

    @staticmethod
    def text_of(chunk: Any) -> str | None:
        """The chunk's text when it carries only text (the stream router's fast path: no
        `TextDelta` per token), else None."""
        try:
            content = chunk.content
            if (
                type(content) is str
                and content
                and not (chunk.tool_call_chunks or chunk.usage_metadata or chunk.response_metadata)
            ):
                return content
        except AttributeError:
            pass  # reported by __call__
        return None

    def __call__(self, chunk: Any) -> list[Part]:
        try:
            content = chunk.content
            if type(content) is str and not (
                chunk.tool_call_chunks or chunk.usage_metadata or chunk.response_metadata
            ):
                # The common chunk, one piece of text and nothing else: converted here,
                # without `_convert`'s call and loops (this runs once per token).
                return [TextDelta(content)] if content else []
            return self._convert(chunk)
        except (AttributeError, KeyError, TypeError) as exc:
            raise AdapterError(
                f"an AIMessageChunk of unknown shape ({type(exc).__name__}: {exc})", event=chunk
            ) from exc

    def _convert(self, chunk: Any) -> list[Part]:
        out: list[Part] = []
        content = chunk.content
        if isinstance(content, str):
            if content:
                out.append(TextDelta(content))
        else:
            for block in content:
                out.extend(_block(block))
        for call in chunk.tool_call_chunks:
            index = call.get("index")
            call_id = call.get("id") or self._calls.get(index) or f"call_{index}"
            if index is not None:
                self._calls.setdefault(index, call_id)
            out.append(
                ToolCallDelta(
                    call_id,
                    call.get("args") or "",
                    name=call.get("name") or None,
                    index=index if isinstance(index, int) else None,
                )
            )
        usage = chunk.usage_metadata
        if usage:
            total = self._usage = dict(self._usage or dict.fromkeys(_USAGE_KEYS, 0))
            for key in _USAGE_KEYS:
                total[key] += usage.get(key) or 0
            out.append(
                Usage(total["input_tokens"], total["output_tokens"], total["total_tokens"], total)
            )
        metadata = chunk.response_metadata
        if metadata:
            for key in _REASON_KEYS:
                reason = metadata.get(key)
                if isinstance(reason, str) and reason:
                    out.append(Finish(FINISH_REASONS.get(reason, reason)))
                    break
        return out


def _block(block: Any) -> tuple[Part, ...]:
    if isinstance(block, str):
        return (TextDelta(block),) if block else ()
    kind = block.get("type")
    if kind == "text":
        text = block.get("text")
        return (TextDelta(text),) if text else ()
    if kind in ("thinking", "reasoning"):
        text = block.get(kind) or block.get("text")
        return (ReasoningDelta(text),) if isinstance(text, str) and text else ()
    return ()


def _chunk_of(event: Any) -> Any:
    if isinstance(event, Mapping):
        if event.get("event") != "on_chat_model_stream":
            return None
        return event["data"]["chunk"]
    return event


def langchain_events(events: Iterable[Any], /) -> Iterator[Any]:
    """The chat-model chunks of a LangChain event stream, as a stream source.

    Args:
        events: the dicts of ``astream_events(version="v2")`` (collected, or a sync
            iterable of them), or `AIMessageChunk`s (passed through).

    Returns:
        An iterator of the ``on_chat_model_stream`` events' `AIMessageChunk`s; other
        events are skipped.
    """
    for event in events:
        chunk = _chunk_of(event)
        if chunk is not None:
            yield chunk


async def alangchain_events(events: AsyncIterable[Any], /) -> AsyncIterator[Any]:
    """The async twin of `langchain_events`, for ``astream_events(version="v2")`` itself."""
    async for event in events:
        chunk = _chunk_of(event)
        if chunk is not None:
            yield chunk


register_adapter(AIMessageChunk, _LangChainChunks)
