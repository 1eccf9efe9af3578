"""Chat Completions stream chunks -> stream parts, written once for every transport (sans-IO).

Strategy / invariants:
- One converter, written over plain dicts (the JSON of each ``data:`` frame, as jiter parses
  it on the raw-HTTP path), reads every nested object through `_fields`: a dict is itself, an
  openai SDK object (a pydantic model) is its ``__dict__`` plus the extra fields the SDK does
  not model (``reasoning_content`` from vLLM or llama.cpp). Measured on the 3,155 chunks of
  ``orders_20k.sse`` (benchmarks/bench_adapters.py): converting through this accessor costs
  ~1.2 us a chunk, a separate attribute-reading converter ~0.7 us, dumping each SDK object to
  a dict first ~4 us, against ~60 us the SDK spends building each object.
- Tool calls are demultiplexed by ``index``: only the first delta of a call carries its ``id``
  and name, so the converter keeps index -> call id for the stream. A delta with a new id at a
  known index starts a new call (servers that send every call at index 0); a call that never
  gets an id is named ``call_<index>``.
- Only choice 0 is the object. Other choices (``n > 1``) are ignored: streaming several
  candidates into one typed object has no meaning; request ``n=1``.
- Empty strings carry nothing and are dropped, so the first chunk's ``content: ""`` does not
  count as output (a stream that then only refuses still raises `RefusalError`).
- A frame of unknown shape raises `AdapterError` carrying it; ``{"error": ...}`` frames become
  `ProviderErrorPart`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jiter import from_json

from .._exceptions import AdapterError, SSEError
from .._parts import (
    Finish,
    Part,
    ProviderErrorPart,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from ..sse._codec import SSEDecoder, data_of

__all__ = ["ChatConverter", "ChatStreamDecoder", "error_part"]


def error_part(error: Any) -> ProviderErrorPart:
    """The part for an OpenAI-style error object: ``{"message", "type", "code", ...}``, or a
    bare string as some compatible servers send."""
    if isinstance(error, Mapping):
        message = error.get("message")
        code = error.get("code") or error.get("type")
        return ProviderErrorPart(
            message if isinstance(message, str) and message else "the provider reported an error",
            str(code) if code is not None else None,
            raw=error,
        )
    return ProviderErrorPart(str(error), None, raw=error)


def _fields(obj: Any) -> Mapping[str, Any]:
    """The fields of a chunk's object: a dict as is, an SDK object's ``__dict__`` (with the
    extra fields it kept but does not model)."""
    if type(obj) is dict:
        return obj
    fields: dict[str, Any] = obj.__dict__
    extra = getattr(obj, "__pydantic_extra__", None)
    return {**fields, **extra} if extra else fields


def chat_usage(usage: Any) -> Usage:
    """`Usage` from a Chat Completions usage object (prompt/completion tokens); `raw` is the
    usage as sent (an SDK object is dumped without the fields it did not receive)."""
    if type(usage) is not dict:
        usage = usage.model_dump(exclude_unset=True, warnings=False)
    return Usage(
        usage.get("prompt_tokens"),
        usage.get("completion_tokens"),
        usage.get("total_tokens"),
        raw=usage,
    )


class ChatConverter:
    """Per-stream converter: call it with each chunk (a dict or an SDK object) for its parts.

    Raises:
        AdapterError: a chunk of unknown shape (``.event`` is the chunk).
    """

    __slots__ = ("_ids",)

    def __init__(self) -> None:
        self._ids: dict[int, str] = {}

    def __call__(self, chunk: Any) -> list[Part]:
        try:
            return self._convert(_fields(chunk))
        except (AttributeError, KeyError, TypeError) as exc:
            raise AdapterError(
                f"a Chat Completions chunk of unknown shape ({type(exc).__name__}: {exc})",
                event=chunk,
            ) from exc

    def _convert(self, chunk: Mapping[str, Any]) -> list[Part]:
        out: list[Part] = []
        choices = chunk.get("choices")
        if choices is None:
            error = chunk.get("error")
            if error:
                out.append(error_part(error))
                return out
            if not chunk.get("usage"):
                raise KeyError("choices")
            choices = ()
        for choice in choices:
            choice = _fields(choice)
            if choice.get("index", 0) != 0:
                continue  # n > 1: only the first choice is the object
            delta = choice.get("delta")
            if delta:
                delta = _fields(delta)
                text = delta.get("content")
                if text:
                    out.append(TextDelta(text))
                refusal = delta.get("refusal")
                if refusal:
                    out.append(RefusalDelta(refusal))
                # Not OpenAI's own fields: vLLM, llama.cpp and DeepSeek send
                # `reasoning_content`, Ollama and OpenRouter `reasoning`.
                reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                if reasoning and type(reasoning) is str:
                    out.append(ReasoningDelta(reasoning))
                calls = delta.get("tool_calls")
                if calls:
                    out.extend([self._tool_call(call) for call in calls])
            reason = choice.get("finish_reason")
            if reason is not None:
                out.append(Finish(reason))
        usage = chunk.get("usage")
        if usage:
            out.append(chat_usage(usage))
        return out

    def _tool_call(self, call: Any) -> ToolCallDelta:
        call = _fields(call)
        index = call.get("index")
        if index is None:
            index = 0
        function = _fields(call.get("function") or {})
        call_id = call.get("id")
        ids = self._ids
        if call_id:
            ids[index] = call_id
        else:
            call_id = ids.get(index)
            if call_id is None:
                call_id = ids[index] = f"call_{index}"
        return ToolCallDelta(
            call_id, function.get("arguments") or "", name=function.get("name") or None, index=index
        )


class ChatStreamDecoder:
    """Sans-IO: the body of an OpenAI-compatible Chat Completions event stream -> parts.

    Feed the response body's bytes as they arrive (split anywhere, even inside a UTF-8
    character); `done` turns True at ``data: [DONE]``, after which input is ignored.

    Raises:
        SSEError: the event stream is malformed, or a data frame is not JSON.
        AdapterError: a chunk of unknown shape.
    """

    __slots__ = ("_convert", "_sse", "done")

    def __init__(self) -> None:
        self._sse = SSEDecoder()
        self._convert = ChatConverter()
        self.done = False

    def feed(self, data: bytes, /) -> list[Part]:
        """Decode the next bytes of the body; return the parts they completed."""
        parts: list[Part] = []
        if self.done:
            return parts
        convert = self._convert
        for event in self._sse.feed(data):
            payload = data_of(event)
            if payload.startswith("[DONE]"):
                self.done = True
                break
            try:
                # cache_mode="keys": caching every string value costs more than it saves here.
                chunk = from_json(payload.encode(), cache_mode="keys")
            except ValueError as exc:
                raise SSEError(
                    f"a data frame of the event stream is not JSON ({exc}): {payload[:200]!r}"
                ) from exc
            if event.event == "error" and isinstance(chunk, dict) and "error" not in chunk:
                chunk = {"error": chunk}  # `event: error` with the error object as data
            parts.extend(convert(chunk))
        return parts

    def close(self) -> list[Part]:
        """End of the body; returns ``[]`` (an unterminated last frame is dropped, per spec)."""
        self._sse.close()
        return []
