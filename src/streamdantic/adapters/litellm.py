"""LiteLLM ``completion(..., stream=True)`` / ``acompletion`` chunks -> stream parts.

LiteLLM yields its own OpenAI-shaped ``litellm.ModelResponseStream`` objects (``choices[0].
delta.content``, ``delta.tool_calls`` with index / id / function name / arguments,
``finish_reason``, and ``usage`` on the last chunk with ``stream_options={"include_usage":
True}``), from every provider it routes to. Streams import this module on first sight of a
``litellm`` object, so LiteLLM's stream (a ``CustomStreamWrapper``) is a source as it is::

    chunks = litellm.completion(model="openai/gpt-4.1", messages=messages, stream=True,
                                response_format=Recipe, stream_options={"include_usage": True})
    recipe = streamdantic.stream_to_object(chunks, Recipe)

``await litellm.acompletion(..., stream=True)`` is read by `streamdantic.astream` the same way.

Mid-stream errors: LiteLLM raises ``litellm.MidStreamFallbackError`` when the provider sends an
error after the first chunk (an OpenAI ``data: {"error": ...}`` frame, which the openai SDK
under LiteLLM raised as ``openai.APIError``). This module registers a translator for it: the
stream ends with `ProviderError` carrying the provider's error object (message, code) and the
partial, chained to LiteLLM's exception. A fallback error with no provider report in its
chain (the connection dropped) propagates as LiteLLM raised it, as the openai adapter lets the
SDK's connection errors propagate.

Strategy / invariants:
- The chunks are converted by the Chat Completions converter the openai SDK and raw-HTTP
  adapters share (`_chat.py`): LiteLLM's classes keep their fields in ``__dict__`` as the
  openai SDK's do (they are ``openai.BaseModel`` subclasses), so nothing is dumped per chunk.
  The registry prefers this module's registration over the openai adapter's for
  ``openai.BaseModel``, since the chunks' own package is matched first.
- Only choice 0 is the object; empty strings carry nothing (as for the openai chunks).
- LiteLLM's ``Usage`` has the OpenAI field names (prompt / completion / total tokens); the
  `Usage` part's ``raw`` is its dump, with LiteLLM's own additions (``cost``) kept.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

import openai

from .._parts import ProviderErrorPart
from ._chat import ChatConverter, error_part
from ._iterate import aconvert_all, convert_all
from ._registry import register_sdk_adapter

__all__ = ["alitellm_events", "litellm_events"]


def litellm_events(chunks: Iterable[Any], /) -> Iterator[Any]:
    """Convert LiteLLM ``ModelResponseStream`` chunks into stream parts.

    Streams do this themselves for LiteLLM's objects; use it to filter or inspect parts.

    Args:
        chunks: the chunks in order, as ``litellm.completion(..., stream=True)`` yields them.

    Returns:
        An iterator of parts, to pass to `streamdantic.stream` and friends.

    Raises (while iterating):
        AdapterError: a chunk of unknown shape (``.event`` is the chunk).
    """
    return convert_all(ChatConverter(), chunks)


def alitellm_events(chunks: AsyncIterable[Any] | Iterable[Any], /) -> AsyncIterator[Any]:
    """The async twin of `litellm_events` (``await litellm.acompletion(..., stream=True)``)."""
    return aconvert_all(ChatConverter(), chunks)


def _provider_report(exc: BaseException) -> BaseException | None:
    """The openai SDK's plain ``APIError`` in `exc`'s chain (LiteLLM keeps the exception it
    wrapped as ``original_exception``, the SDK's as the implicit context), else None."""
    transport = (
        openai.APIStatusError,
        openai.APIConnectionError,
        openai.APIResponseValidationError,
    )
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, openai.APIError) and not isinstance(current, transport):
            return current
        original = getattr(current, "original_exception", None)
        current = (
            original
            if isinstance(original, BaseException)
            else current.__cause__ or current.__context__
        )
    return None


def _translate_error(exc: BaseException) -> ProviderErrorPart | None:
    report = _provider_report(exc)
    if report is None:
        return None
    body = getattr(report, "body", None)
    if isinstance(body, Mapping):
        return error_part(body)
    return ProviderErrorPart(
        str(getattr(report, "message", report)), getattr(report, "code", None), raw=body
    )


def _register() -> None:
    """Register the adapter for LiteLLM's chunks, when the package is installed."""
    register_sdk_adapter(
        "litellm.types.utils:ModelResponseStream",
        ChatConverter,
        error="litellm.exceptions:MidStreamFallbackError",
        translate=_translate_error,
    )


_register()
