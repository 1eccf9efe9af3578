"""The Vercel AI SDK's stream protocols: the UI message stream and the text stream (sans-IO).

`UIMessageStreamEncoder` writes what ``useChat`` / ``readUIMessageStream`` read: Server-Sent
Events of JSON chunks (``ai``'s ``ui-message-stream/ui-message-chunks.ts``), announced by the
header ``x-vercel-ai-ui-message-stream: v1`` and ended by ``data: [DONE]``.
`TextStreamEncoder` writes the text stream protocol of ``useObject`` (and
``TextStreamChatTransport``): the JSON text itself, as plain text. docs/frontends.md maps
every part of a streamdantic stream to its chunk.
"""

# Strategy / invariants
# - One message per stream: ``start``, ``start-step``, then the stream's parts in order,
#   then ``finish-step``, ``finish`` and ``[DONE]``; an error ends it with ``error`` (a
#   cancelled stream with ``abort``) and ``[DONE]``, so every response is a complete
#   stream for the client's reader, and the error arrives as the protocol's own chunk.
# - The object is one data part, ``data-<name>``, always with the same ``id``: the client
#   replaces its data in place (reconciliation by id). Its data is the mirror's raw JSON
#   (see _common), coalesced; the last one carries the validated final object.
# - Prose, reasoning and tool-input text are deltas of the protocol's own parts; a text or
#   reasoning part is ended when another kind of part starts, and at the end.

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from .._events import Event, StringAppended, ValueCompleted, ValueStarted
from .._exceptions import UsageError
from .._mirror import Mirror
from .._parts import (
    Part,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    ToolResult,
)
from .._paths import JSONPath
from .._stream_core import Update
from ..sse._codec import ServerSentEvent, encode
from ..sse._profile import ClientUpdate
from ._common import (
    DEFAULT_GROWTH,
    DEFAULT_INTERVAL,
    PartState,
    dumps,
    error_text,
    is_cancel,
    to_jsonable,
)

__all__ = ["TextStreamEncoder", "UIMessageStreamEncoder"]

# The AI SDK's FinishReason words, from the providers' own (OpenAI, Anthropic, Gemini).
_FINISH_REASONS: Final[Mapping[str, str]] = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "STOP": "stop",
    "length": "length",
    "max_tokens": "length",
    "MAX_TOKENS": "length",
    "tool_calls": "tool-calls",
    "tool_use": "tool-calls",
    "function_call": "tool-calls",
    "content_filter": "content-filter",
    "refusal": "content-filter",
    "SAFETY": "content-filter",
    "error": "error",
}
_DONE: Final = ServerSentEvent("[DONE]")


def finish_reason(reason: str | None) -> str | None:
    """The AI SDK's word for a provider's finish reason (``"other"`` for unknown ones)."""
    if reason is None:
        return None
    return _FINISH_REASONS.get(reason, "other")


def _check_interval(interval: float, growth: float) -> None:
    if not interval >= 0:
        raise ValueError(f"interval must be a number of seconds >= 0, not {interval!r}")
    if not growth >= 0:
        raise ValueError(f"growth must be >= 0, not {growth!r}")


class UIMessageStreamEncoder(PartState[ServerSentEvent]):
    """Turn a stream's outputs into the AI SDK's UI message stream (SSE frames); sans-IO.

    Feed it what ``astream(...).events()`` yields (`Update`s and `Part`s; plain iteration,
    updates only, works too), or the `ClientUpdate`s a `ProfileDecoder` rebuilds from a
    stored stream; then `close` it, with the error if the stream failed. Each call returns
    the frames to send, in order (`feed_bytes` / `close_bytes`: encoded).

    The object travels as one data part, ``{"type": "data-<name>", "id": <data_id>,
    "data": ...}``, sent again with the same id as it grows (the client replaces it in
    place): the first change at once, then at most one state per `interval` seconds, once
    the object has grown by `growth` of the size last sent (so a document costs at most
    ``1 + 1/growth`` times its size, linear in it), and the validated final object last.

    Args:
        name: the data part's name: its type is ``data-<name>`` (``message.parts`` on the
            client, ``dataPartSchemas`` keys).
        data_id: the data part's id (default: `name`).
        message_id: the ``messageId`` of the ``start`` chunk (default: none; the client
            makes one).
        interval: seconds between two states of the object at least (0: every change).
        growth: how much the object must have grown, as a fraction of the size last sent,
            before it is sent again (0: regardless of size).

    Raises:
        ValueError: an empty name, a negative interval or growth.
    """

    media_type: ClassVar[str] = "text/event-stream"
    headers: ClassVar[Mapping[str, str]] = {"x-vercel-ai-ui-message-stream": "v1"}
    heartbeats: ClassVar[bool] = True  # SSE comments: the client's parser skips them

    def __init__(
        self,
        *,
        name: str = "object",
        data_id: str | None = None,
        message_id: str | None = None,
        interval: float = DEFAULT_INTERVAL,
        growth: float = DEFAULT_GROWTH,
    ) -> None:
        if not name:
            raise ValueError("the data part's name must not be empty")
        _check_interval(interval, growth)
        super().__init__()
        self.name = name
        self.data_id = data_id if data_id is not None else name
        self.message_id = message_id
        self.interval = interval
        self.growth = growth
        self._state = "new"  # "open" once start was sent, "ended" after finish, "closed"
        self._mirror = Mirror()
        self._pending = False  # the mirror changed since its last data part
        self._last_sent: float | None = None
        self._last_size = 0
        self._text: str | None = None  # the open text part's id
        self._reasoning: str | None = None  # the open reasoning part's id

    # ------------------------------------------------------------------ API

    def feed(
        self, output: Update[Any] | ClientUpdate[Any] | Part, /, *, now: float = 0.0
    ) -> list[ServerSentEvent]:
        """Encode one output of the stream.

        Args:
            output: an `Update`, a `ClientUpdate` or a `Part`.
            now: the time in seconds (any monotonic clock; it paces the data parts).

        Returns:
            The frames to send now (possibly none: a coalesced change is sent later).

        Raises:
            UsageError: the stream already ended.
            TypeError: `output` is not an update nor a part.
        """
        if self._state in ("ended", "closed"):
            raise UsageError("the encoder's stream has ended; use a new UIMessageStreamEncoder")
        frames = self._open()
        self._dispatch(output, now, frames)
        return frames

    def close(self, error: BaseException | None = None, /) -> list[ServerSentEvent]:
        """End the stream: the frames that end the message, if it has not ended.

        Args:
            error: why the stream stopped early, if it did.

        Returns:
            ``[]`` after the final update; otherwise, without an error, the message's end
            (a stream of parts only, prose and tool calls, ends normally) or, when an object
            was started and not completed, an ``error`` chunk (truncated); with an error,
            the last state of the object, an ``error`` chunk with its text (``abort`` for a
            cancelled stream) and ``[DONE]``.
        """
        if self._state in ("ended", "closed"):
            self._state = "closed"
            return []
        frames = self._open()
        error = self._end_error(error, self._mirror)
        self._end_prose(frames)
        if self._pending:
            frames.append(self._data(self._mirror.value))
        if error is None:
            frames.extend(self._finish())
        else:
            if is_cancel(error):
                frames.append(self._chunk({"type": "abort", "reason": str(error)}))
            else:
                frames.append(self._chunk({"type": "error", "errorText": error_text(error)}))
            frames.append(_DONE)
        self._state = "closed"
        return frames

    def feed_bytes(
        self, output: Update[Any] | ClientUpdate[Any] | Part, /, *, now: float = 0.0
    ) -> bytes:
        """`feed`, encoded."""
        return b"".join(map(encode, self.feed(output, now=now)))

    def close_bytes(self, error: BaseException | None = None, /) -> bytes:
        """`close`, encoded."""
        return b"".join(map(encode, self.close(error)))

    # ------------------------------------------------------------------ internals

    def _chunk(self, chunk: dict[str, Any]) -> ServerSentEvent:
        return ServerSentEvent(dumps(chunk))

    def _open(self) -> list[ServerSentEvent]:
        if self._state != "new":
            return []
        self._state = "open"
        start: dict[str, Any] = {"type": "start"}
        if self.message_id is not None:
            start["messageId"] = self.message_id
        return [self._chunk(start), self._chunk({"type": "start-step"})]

    def _data(self, data: Any) -> ServerSentEvent:
        self._pending = False
        text = dumps({"type": f"data-{self.name}", "id": self.data_id, "data": data})
        self._last_size = len(text)
        return ServerSentEvent(text)

    def _feed_update(
        self, update: Update[Any] | ClientUpdate[Any], now: float, frames: list[ServerSentEvent]
    ) -> None:
        if isinstance(update, ClientUpdate) and update.kind in ("snapshot", "restart"):
            self._mirror.reset()
            self._mirror.grown = 0
        if self._mirror.apply(update.events):
            self._pending = True
        self._note_update(update, frames)
        if update.done:
            self._end_prose(frames)
            if update.final is not None or self._mirror.started:
                final = to_jsonable(update.final)
                if self._pending or final != self._mirror.value:  # else the client has it
                    frames.append(self._data(final))
            frames.extend(self._finish())
            self._state = "ended"
            return
        if self._pending and self._due(now):
            self._last_sent = now
            self._mirror.grown = 0
            frames.append(self._data(self._mirror.value))

    def _due(self, now: float) -> bool:
        last = self._last_sent
        if last is None:
            return True
        if now - last < self.interval:
            return False
        return self._mirror.grown >= self.growth * self._last_size

    def _feed_part(self, part: Part, frames: list[ServerSentEvent]) -> None:
        kind = type(part)
        if kind is TextDelta or kind is RefusalDelta:
            self._end_reasoning(frames)
            if self._text is None:
                self._text = self._next_id("text")
                frames.append(self._chunk({"type": "text-start", "id": self._text}))
            text: str = part.text  # type: ignore[attr-defined]
            if text:
                frames.append(self._chunk({"type": "text-delta", "id": self._text, "delta": text}))
        elif kind is ReasoningDelta:
            self._end_text(frames)
            if self._reasoning is None:
                self._reasoning = self._next_id("reasoning")
                frames.append(self._chunk({"type": "reasoning-start", "id": self._reasoning}))
            frames.append(
                self._chunk(
                    {"type": "reasoning-delta", "id": self._reasoning, "delta": part.text}  # type: ignore[attr-defined]
                )
            )
        elif kind is ToolCallDelta:
            self._end_prose(frames)
            call: ToolCallDelta = part  # type: ignore[assignment]
            self._tool_start(call.call_id, call.name, frames)
            if call.arguments:
                frames.append(
                    self._chunk(
                        {
                            "type": "tool-input-delta",
                            "toolCallId": call.call_id,
                            "inputTextDelta": call.arguments,
                        }
                    )
                )
        elif kind is ToolCallDone:
            self._end_prose(frames)
            done: ToolCallDone = part  # type: ignore[assignment]
            name = self._tool_start(done.call_id, done.name, frames)
            value = done.value
            if value is None and done.arguments:
                try:
                    value = json.loads(done.arguments)
                except ValueError:
                    value = done.arguments
            frames.append(
                self._chunk(
                    {
                        "type": "tool-input-available",
                        "toolCallId": done.call_id,
                        "toolName": name,
                        "input": to_jsonable(value),
                    }
                )
            )
        elif kind is ToolResult:
            self._end_prose(frames)
            result: ToolResult = part  # type: ignore[assignment]
            if isinstance(result.result, BaseException):
                chunk = {
                    "type": "tool-output-error",
                    "toolCallId": result.call_id,
                    "errorText": str(result.result),
                }
            else:
                chunk = {
                    "type": "tool-output-available",
                    "toolCallId": result.call_id,
                    "output": to_jsonable(result.result),
                }
            frames.append(self._chunk(chunk))
        elif not self._note_part(part):
            raise UsageError(f"the UI message stream has no chunk for {part!r}")

    def _tool_start(self, call_id: str, name: str | None, frames: list[ServerSentEvent]) -> str:
        known = self._tools.get(call_id)
        if known is not None:
            return known
        tool = name or "tool"
        self._tools[call_id] = tool
        frames.append(
            self._chunk({"type": "tool-input-start", "toolCallId": call_id, "toolName": tool})
        )
        return tool

    def _end_text(self, frames: list[ServerSentEvent]) -> None:
        if self._text is not None:
            frames.append(self._chunk({"type": "text-end", "id": self._text}))
            self._text = None

    def _end_reasoning(self, frames: list[ServerSentEvent]) -> None:
        if self._reasoning is not None:
            frames.append(self._chunk({"type": "reasoning-end", "id": self._reasoning}))
            self._reasoning = None

    def _end_prose(self, frames: list[ServerSentEvent]) -> None:
        self._end_text(frames)
        self._end_reasoning(frames)

    def _finish(self) -> list[ServerSentEvent]:
        frames = [self._chunk({"type": "finish-step"})]
        finish: dict[str, Any] = {"type": "finish"}
        reason = finish_reason(self._finish_reason)
        if reason is not None:
            finish["finishReason"] = reason
        if self._usage is not None:
            usage = self._usage
            finish["messageMetadata"] = {
                "usage": {
                    "inputTokens": usage.input_tokens,
                    "outputTokens": usage.output_tokens,
                    "totalTokens": usage.total_tokens,
                }
            }
        frames.append(self._chunk(finish))
        frames.append(_DONE)
        return frames


class TextStreamEncoder:
    """Turn a stream's outputs into the AI SDK's text stream protocol (plain text); sans-IO.

    The simplest protocol: the object's JSON text as it grows (written from the updates'
    events, so a stream of chunks or a stored stream gives the same text), read by
    ``useObject`` (which parses partial JSON and validates the end with its schema), and
    prose (`TextDelta`) as it is. The protocol has no error chunk: a stream that fails
    just stops, and the client's parse of the incomplete JSON reports it.

    Reasoning, tool calls and usage have no place in it and are dropped.
    """

    media_type: ClassVar[str] = "text/plain"
    headers: ClassVar[Mapping[str, str]] = {}
    heartbeats: ClassVar[bool] = False  # any byte sent is text of the object

    def __init__(self) -> None:
        self._stack: list[tuple[JSONPath, str]] = []  # the open values, with their closing text
        self._counts: list[int] = []  # children written in each open container
        self._early: set[JSONPath] = set()  # values closed before their completion event
        self._closed = False

    def feed(
        self, output: Update[Any] | ClientUpdate[Any] | Part, /, *, now: float = 0.0
    ) -> list[str]:
        """Encode one output: the text to send (``[]`` for none).

        Raises:
            UsageError: the stream already ended.
            TypeError: `output` is not an update nor a part.
        """
        if self._closed:
            raise UsageError("the encoder's stream has ended; use a new TextStreamEncoder")
        if isinstance(output, Update | ClientUpdate):
            text = self._write(output.events)
            return [text] if text else []
        if isinstance(output, TextDelta | RefusalDelta):
            return [output.text] if output.text else []
        if isinstance(output, Part):
            return []
        raise TypeError(
            f"TextStreamEncoder.feed() takes an Update, a ClientUpdate or a Part, not "
            f"{type(output).__name__}"
        )

    def close(self, error: BaseException | None = None, /) -> list[str]:
        """End the stream (nothing more is sent: the protocol has no end marker)."""
        self._closed = True
        return []

    def feed_bytes(
        self, output: Update[Any] | ClientUpdate[Any] | Part, /, *, now: float = 0.0
    ) -> bytes:
        """`feed`, encoded as UTF-8."""
        return "".join(self.feed(output, now=now)).encode("utf-8", "replace")

    def close_bytes(self, error: BaseException | None = None, /) -> bytes:
        """`close`, encoded."""
        self.close(error)
        return b""

    def _write(self, events: tuple[Event, ...] | list[Event]) -> str:
        # Events in document order, except that a merger applies a chunk's sets before its
        # completions (a value may start before its preceding sibling completes): a value
        # that starts closes the open values that are not its ancestors, and their own
        # completions, later, are skipped.
        out: list[str] = []
        stack, counts, early = self._stack, self._counts, self._early
        for event in events:
            kind = type(event)
            if kind is StringAppended:
                out.append(json.dumps(event.text, ensure_ascii=False)[1:-1])  # type: ignore[attr-defined]
                continue
            if kind is not ValueStarted and kind is not ValueCompleted:
                continue  # DocumentCompleted
            path: JSONPath = event.path  # type: ignore[attr-defined]
            if kind is ValueCompleted:
                if path in early:
                    early.discard(path)
                    continue
                if stack and any(open_path == path for open_path, _ in stack):
                    while stack:
                        open_path, closing = stack.pop()
                        counts.pop()
                        out.append(closing)
                        if open_path == path:
                            break
                        early.add(open_path)
                    continue
            while stack and stack[-1][0] != path[: len(stack[-1][0])]:
                open_path, closing = stack.pop()
                counts.pop()
                out.append(closing)
                early.add(open_path)
            if path:
                if counts[-1]:
                    out.append(",")
                counts[-1] += 1
                key = path[-1]
                if isinstance(key, str):
                    out.append(json.dumps(key, ensure_ascii=False) + ":")
            if kind is ValueCompleted:
                out.append(dumps(to_jsonable(event.value)))  # type: ignore[attr-defined]
                continue
            value_kind = event.kind  # type: ignore[attr-defined]
            out.append({"object": "{", "array": "[", "string": '"'}[value_kind])
            stack.append((path, {"object": "}", "array": "]", "string": '"'}[value_kind]))
            counts.append(0)
        return "".join(out)
