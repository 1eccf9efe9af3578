"""Google Gemini (google-genai) ``generate_content_stream`` responses -> stream parts.

``client.models.generate_content_stream(...)`` yields one ``types.GenerateContentResponse`` per
chunk; streams import this module on first sight of a ``google.genai`` object, so the SDK's
stream is a source as it is::

    config = response_config(Recipe)   # JSON output with the model's JSON schema
    stream = client.models.generate_content_stream(model=..., contents=..., config=config)
    recipe = streamdantic.stream_to_object(stream, Recipe)

Finish reasons (``candidates[0].finish_reason`` -> `Finish.reason`):

- ``STOP`` -> ``stop``: the stream ends normally.
- ``MAX_TOKENS`` -> ``length``: `TruncatedStreamError` if the object is incomplete.
- ``SAFETY``, ``RECITATION``, ``BLOCKLIST``, ``PROHIBITED_CONTENT``, ``SPII``, ``IMAGE_SAFETY``,
  ``IMAGE_PROHIBITED_CONTENT``, ``IMAGE_RECITATION`` -> ``content_filter``: `ContentFilterError`.
- anything else (``MALFORMED_FUNCTION_CALL``, ``OTHER``, ...) -> lower-cased: the stream ends
  normally if the object is complete.

A blocked prompt (``prompt_feedback.block_reason`` set, no candidates) is ``content_filter``
too. The client raises ``google.genai.errors.APIError`` (``ServerError``, ``ClientError``) for
a ``data: {"error": ...}`` frame mid-stream; this module registers a translator for it, so the
stream ends with `ProviderError` (``code`` = the error's status, e.g. ``UNAVAILABLE``) with the
partial kept, chained to the SDK's exception.

Strategy / invariants:
- Only the first candidate is read (``candidate_count`` defaults to 1).
- A text part -> `TextDelta`, a thought part (``thought=True``) -> `ReasoningDelta`, a
  ``function_call`` part -> `ToolCallDelta` with its whole ``args`` as JSON text, then
  `ToolCallDone` (Gemini sends each call's arguments whole, in one part). A call without an
  ``id`` gets ``call_<n>``, n counting the stream's calls.
- ``usage_metadata`` is cumulative in every chunk; one `Usage` is emitted with the finish
  reason, from the last chunk's counts.
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

__all__ = ["FINISH_REASONS", "agemini_events", "gemini_events", "response_config"]

FINISH_REASONS: Mapping[str, str] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    **dict.fromkeys(
        (
            "SAFETY",
            "RECITATION",
            "BLOCKLIST",
            "PROHIBITED_CONTENT",
            "SPII",
            "IMAGE_SAFETY",
            "IMAGE_PROHIBITED_CONTENT",
            "IMAGE_RECITATION",
        ),
        "content_filter",
    ),
}
"""Gemini ``finish_reason`` -> streamdantic finish reason; others pass lower-cased."""

_NOTHING: tuple[Part, ...] = ()


def _name(value: Any) -> str | None:
    """An SDK enum member or a plain string as its name (``FinishReason.STOP`` -> "STOP")."""
    if value is None:
        return None
    name = getattr(value, "value", value)
    return name if isinstance(name, str) else str(name)


class _GeminiEvents:
    """The per-stream converter: one GenerateContentResponse in, its parts out."""

    __slots__ = ("_calls", "_usage")

    def __init__(self) -> None:
        self._calls = 0
        self._usage: Any = None

    def __call__(self, response: Any) -> tuple[Part, ...]:
        try:
            return self._convert(response)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise AdapterError(
                f"a Gemini {type(response).__qualname__} of unknown shape "
                f"({type(exc).__name__}: {exc})",
                event=response,
            ) from exc

    def _convert(self, response: Any) -> tuple[Part, ...]:
        usage = getattr(response, "usage_metadata", None)
        if usage is not None:
            self._usage = usage
        candidates = response.candidates
        if not candidates:
            feedback = getattr(response, "prompt_feedback", None)
            blocked = _name(getattr(feedback, "block_reason", None))
            if blocked is None:
                return _NOTHING
            return (*self._usage_parts(), Finish("content_filter"))
        candidate = candidates[0]
        parts: list[Part] = []
        content = candidate.content
        for part in (content.parts if content is not None else None) or ():
            text = part.text
            if text:
                parts.append(ReasoningDelta(text) if part.thought else TextDelta(text))
                continue
            call = part.function_call
            if call is not None:
                self._calls += 1
                call_id = call.id or f"call_{self._calls}"
                arguments = json.dumps(call.args or {}, ensure_ascii=False)
                parts.append(ToolCallDelta(call_id, arguments, name=call.name))
                parts.append(ToolCallDone(call_id, call.name, "", None))
        reason = _name(candidate.finish_reason)
        if reason is not None:
            parts.extend(self._usage_parts())
            parts.append(Finish(FINISH_REASONS.get(reason, reason.lower())))
        return tuple(parts)

    def _usage_parts(self) -> tuple[Part, ...]:
        usage = self._usage
        if usage is None:
            return _NOTHING
        raw = usage.model_dump(exclude_none=True) if hasattr(usage, "model_dump") else None
        return (
            Usage(
                usage.prompt_token_count,
                usage.candidates_token_count,
                usage.total_token_count,
                raw=raw,
            ),
        )


def gemini_events(responses: Iterable[Any], /) -> Iterator[Part]:
    """Convert google-genai ``GenerateContentResponse`` chunks into stream parts.

    Streams do this themselves for the SDK's objects; use it to filter or inspect the parts.

    Args:
        responses: the chunks in order, as ``generate_content_stream`` yields them.

    Returns:
        An iterator of parts, to pass to `streamdantic.stream` and friends.

    Raises (while iterating):
        AdapterError: a chunk of unknown shape (``.event`` is the chunk).
    """
    return convert_all(_GeminiEvents(), responses)


def agemini_events(responses: AsyncIterable[Any] | Iterable[Any], /) -> AsyncIterator[Part]:
    """The async twin of `gemini_events` (``client.aio.models.generate_content_stream``)."""
    return aconvert_all(_GeminiEvents(), responses)


def response_config(model: type[Any], /, **config: Any) -> dict[str, Any]:
    """The ``generate_content`` config that asks for JSON output of `model`.

    Args:
        model: a pydantic model class.
        **config: other ``GenerateContentConfig`` fields, passed through.

    Returns:
        ``{"response_mime_type": "application/json", "response_json_schema": <the model's JSON
        schema>, **config}``, to pass as ``config=`` (google-genai accepts the dict).
    """
    return {
        "response_mime_type": "application/json",
        "response_json_schema": model.model_json_schema(),
        **config,
    }


def _translate_error(exc: BaseException) -> ProviderErrorPart | None:
    # google.genai.errors.APIError: .code (HTTP status), .status ("UNAVAILABLE"), .message,
    # .details (the error JSON as sent).
    message = getattr(exc, "message", None)
    status = getattr(exc, "status", None)
    return ProviderErrorPart(
        message if isinstance(message, str) and message else str(exc),
        status if isinstance(status, str) else None,
        raw=getattr(exc, "details", None),
    )


def _register() -> None:
    """Register the adapter for google-genai's objects, when the package is installed."""
    register_sdk_adapter(
        "google.genai.types:GenerateContentResponse",
        _GeminiEvents,
        error="google.genai.errors:APIError",
        translate=_translate_error,
    )


_register()
