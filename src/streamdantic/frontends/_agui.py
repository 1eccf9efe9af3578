"""AG-UI's event stream (CopilotKit, ``@ag-ui/client``): a run, its state, messages, tools.

`AGUIEncoder` builds the protocol's own event models (``ag_ui.core``) and writes them with
its own ``EventEncoder`` (Server-Sent Events of JSON), so the wire format is the
package's. Requires the ``agui`` extra (``pip install 'streamdantic[agui]'``).
"""

# Strategy / invariants
# - A run: RUN_STARTED first; the object is the run's *state*: its first state goes out as
#   STATE_SNAPSHOT, every later change as STATE_DELTA (RFC 6902 JSON Patch); the run ends
#   with RUN_FINISHED (usage attached; a cancelled run has the "cancelled" outcome) or
#   RUN_ERROR. Nothing follows the end.
# - The patches come from the mirror's events, never from diffing two objects: a value that
#   appeared is an ``add`` of its current value (which covers everything under it in the
#   same batch), a string that grew is one ``replace`` of that path with its current text,
#   a number or literal is an ``add`` once complete. A batch is what one coalescing
#   interval collected, so a string growing by many tokens costs one replace per interval.
# - Prose is a TEXT_MESSAGE_START/CONTENT/END message, reasoning a REASONING_* message,
#   tool calls TOOL_CALL_START/ARGS/END and TOOL_CALL_RESULT; an open message is ended
#   when another kind of output starts, and before the run ends.

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any, ClassVar

from .._events import Event, StringAppended, ValueCompleted
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
from .._paths import JSONPath, to_pointer
from .._stream_core import Update
from ..sse._profile import ClientUpdate, error_type
from ._common import (
    DEFAULT_INTERVAL,
    PartState,
    error_text,
    is_cancel,
    to_jsonable,
    value_at,
)

try:
    from ag_ui import core as agui
    from ag_ui.encoder import EventEncoder
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "the AG-UI protocol needs the ag-ui-protocol package: pip install 'streamdantic[agui]'"
    ) from exc

__all__ = ["AGUIEncoder"]


class AGUIEncoder(PartState[agui.BaseEvent]):
    """Turn a stream's outputs into AG-UI events (SSE frames as text); sans-IO.

    Feed it what ``astream(...).events()`` yields (`Update`s and `Part`s), or the
    `ClientUpdate`s a `ProfileDecoder` rebuilds from a stored stream; then `close` it, with
    the error if the stream failed. Each call returns the encoded events to send, in order.

    Args:
        thread_id: the run's ``threadId`` (default: a new random one; pass the client's,
            from its ``RunAgentInput``).
        run_id: the run's ``runId`` (default: a new random one).
        interval: seconds between two STATE_DELTA events at least (0: one per update);
            the changes meanwhile are coalesced into one patch.

    Raises:
        ValueError: a negative interval.
    """

    media_type: ClassVar[str] = "text/event-stream"
    headers: ClassVar[Mapping[str, str]] = {}
    heartbeats: ClassVar[bool] = True

    def __init__(
        self,
        *,
        thread_id: str | None = None,
        run_id: str | None = None,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        if not interval >= 0:
            raise ValueError(f"interval must be a number of seconds >= 0, not {interval!r}")
        self.thread_id = thread_id or f"thread-{secrets.token_urlsafe(8)}"
        self.run_id = run_id or f"run-{secrets.token_urlsafe(8)}"
        super().__init__()
        self.interval = interval
        self._encoder = EventEncoder()
        self._state = "new"  # "open" once RUN_STARTED went, "ended", "closed"
        self._mirror = Mirror()
        self._pending: list[Event] = []  # mirror events not sent yet
        self._state_sent = False  # a STATE_SNAPSHOT went out (later changes are deltas)
        self._last_sent: float | None = None
        self._text: str | None = None
        self._message: str | None = None  # the last text message (tool calls attach to it)
        self._reasoning: str | None = None

    # ------------------------------------------------------------------ API

    def feed(
        self, output: Update[Any] | ClientUpdate[Any] | Part, /, *, now: float = 0.0
    ) -> list[str]:
        """Encode one output of the stream.

        Args:
            output: an `Update`, a `ClientUpdate` or a `Part`.
            now: the time in seconds (any monotonic clock; it paces the state deltas).

        Returns:
            The encoded events to send now (``data: {...}`` frames).

        Raises:
            UsageError: the run already ended.
            TypeError: `output` is not an update nor a part.
        """
        if self._state in ("ended", "closed"):
            raise UsageError("the encoder's run has ended; use a new AGUIEncoder")
        events: list[agui.BaseEvent] = []
        self._open(events)
        self._dispatch(output, now, events)
        return [self._encoder.encode(event) for event in events]

    def close(self, error: BaseException | None = None, /) -> list[str]:
        """End the run: the events that end it, unless the final update did.

        Args:
            error: why the stream stopped early, if it did.

        Returns:
            ``[]`` after the final update; otherwise the last state change and RUN_FINISHED
            (a stream of parts only ends normally; a cancelled one with the ``cancelled``
            outcome) or RUN_ERROR with the error's text and type as its ``code`` (an
            object started and never completed is ``truncated``).
        """
        if self._state in ("ended", "closed"):
            self._state = "closed"
            return []
        events: list[agui.BaseEvent] = []
        self._open(events)
        error = self._end_error(error, self._mirror)
        self._end_messages(events)
        self._flush_state(events)
        if error is None:
            events.append(self._run_finished())
        elif is_cancel(error):
            events.append(self._run_finished(cancelled=True))
        else:
            events.append(agui.RunErrorEvent(message=error_text(error), code=error_type(error)))
        self._state = "closed"
        return [self._encoder.encode(event) for event in events]

    def feed_bytes(
        self, output: Update[Any] | ClientUpdate[Any] | Part, /, *, now: float = 0.0
    ) -> bytes:
        """`feed`, encoded as UTF-8."""
        return "".join(self.feed(output, now=now)).encode("utf-8", "replace")

    def close_bytes(self, error: BaseException | None = None, /) -> bytes:
        """`close`, encoded as UTF-8."""
        return "".join(self.close(error)).encode("utf-8", "replace")

    # ------------------------------------------------------------------ internals

    def _open(self, events: list[agui.BaseEvent]) -> None:
        if self._state == "new":
            self._state = "open"
            events.append(agui.RunStartedEvent(thread_id=self.thread_id, run_id=self.run_id))

    def _id_prefix(self) -> str:
        return f"{self.run_id}-"

    def _feed_update(
        self, update: Update[Any] | ClientUpdate[Any], now: float, events: list[agui.BaseEvent]
    ) -> None:
        if isinstance(update, ClientUpdate) and update.kind in ("snapshot", "restart"):
            self._mirror.reset()
            self._pending.clear()
            self._state_sent = False  # the next state is a snapshot
        self._pending.extend(self._mirror.apply(update.events))
        self._note_update(update, events)
        if update.done:
            self._end_messages(events)
            final = to_jsonable(update.final)
            if update.final is not None and final != self._mirror.value:
                # Validation changed the object (defaults, coercion): the client gets it whole.
                self._pending.clear()
                events.append(agui.StateSnapshotEvent(snapshot=final))
            else:
                self._flush_state(events)
            events.append(self._run_finished())
            self._state = "ended"
            return
        if self._pending and (self._last_sent is None or now - self._last_sent >= self.interval):
            self._last_sent = now
            self._flush_state(events)

    def _flush_state(self, events: list[agui.BaseEvent]) -> None:
        if not self._pending:
            return
        if not self._state_sent:
            self._pending.clear()
            self._state_sent = True
            value = self._mirror.value
            events.append(agui.StateSnapshotEvent(snapshot={} if value is None else value))
            return
        ops = self._patch(self._pending)
        self._pending.clear()
        if ops:
            events.append(agui.StateDeltaEvent(delta=ops))

    def _patch(self, pending: list[Event]) -> list[Any]:
        root = self._mirror.value
        ops: list[dict[str, Any]] = []
        covered: set[JSONPath] = set()  # values sent whole (with their current content)
        for event in pending:
            path: JSONPath | None = getattr(event, "path", None)
            if path is None:
                continue  # DocumentCompleted
            if any(path[:n] in covered for n in range(len(path) + 1)):
                continue
            kind = type(event)
            if kind is ValueCompleted and isinstance(event.value, str | list | dict):  # type: ignore[attr-defined]
                continue  # it started earlier: the client has it, and its content
            op = "replace" if kind is StringAppended or not path else "add"
            ops.append({"op": op, "path": to_pointer(path), "value": value_at(root, path)})
            if kind is not ValueCompleted:
                covered.add(path)
        # Validated by the package's own models (ag_ui.core.AddOperation, ...), serialized
        # by its encoder.
        return ops

    def _feed_part(self, part: Part, events: list[agui.BaseEvent]) -> None:
        kind = type(part)
        if kind is TextDelta or kind is RefusalDelta:
            self._end_reasoning(events)
            self._end_tools(events)
            if self._text is None:
                self._text = self._message = self._next_id("message")
                events.append(agui.TextMessageStartEvent(message_id=self._text, role="assistant"))
            text: str = part.text  # type: ignore[attr-defined]
            if text:
                events.append(agui.TextMessageContentEvent(message_id=self._text, delta=text))
        elif kind is ReasoningDelta:
            self._end_text(events)
            self._end_tools(events)
            if self._reasoning is None:
                self._reasoning = self._next_id("reasoning")
                events.append(agui.ReasoningStartEvent(message_id=self._reasoning))
                events.append(
                    agui.ReasoningMessageStartEvent(message_id=self._reasoning, role="reasoning")
                )
            text = part.text  # type: ignore[attr-defined]
            if text:
                events.append(
                    agui.ReasoningMessageContentEvent(message_id=self._reasoning, delta=text)
                )
        elif kind is ToolCallDelta:
            self._end_text(events)
            self._end_reasoning(events)
            call: ToolCallDelta = part  # type: ignore[assignment]
            self._tool_start(call.call_id, call.name, events)
            if call.arguments:
                events.append(
                    agui.ToolCallArgsEvent(tool_call_id=call.call_id, delta=call.arguments)
                )
        elif kind is ToolCallDone:
            self._end_text(events)
            self._end_reasoning(events)
            done: ToolCallDone = part  # type: ignore[assignment]
            if done.call_id not in self._tools:
                self._tool_start(done.call_id, done.name, events)
                if done.arguments:
                    events.append(
                        agui.ToolCallArgsEvent(tool_call_id=done.call_id, delta=done.arguments)
                    )
            del self._tools[done.call_id]
            events.append(agui.ToolCallEndEvent(tool_call_id=done.call_id))
        elif kind is ToolResult:
            self._end_messages(events)
            result: ToolResult = part  # type: ignore[assignment]
            value = result.result
            if isinstance(value, BaseException):
                content = f"error: {value}"
            elif isinstance(value, str):
                content = value
            else:
                content = json.dumps(to_jsonable(value), ensure_ascii=False)
            events.append(
                agui.ToolCallResultEvent(
                    message_id=self._next_id("tool-result"),
                    tool_call_id=result.call_id,
                    content=content,
                    role="tool",
                )
            )
        elif not self._note_part(part):
            raise UsageError(f"AG-UI has no event for {part!r}")

    def _tool_start(self, call_id: str, name: str | None, events: list[agui.BaseEvent]) -> None:
        if call_id in self._tools:
            return
        self._tools[call_id] = name or "tool"
        events.append(
            agui.ToolCallStartEvent(
                tool_call_id=call_id,
                tool_call_name=name or "tool",
                parent_message_id=self._message,  # the assistant message that made the call
            )
        )

    def _end_text(self, events: list[agui.BaseEvent]) -> None:
        if self._text is not None:
            events.append(agui.TextMessageEndEvent(message_id=self._text))
            self._text = None

    def _end_reasoning(self, events: list[agui.BaseEvent]) -> None:
        if self._reasoning is not None:
            events.append(agui.ReasoningMessageEndEvent(message_id=self._reasoning))
            events.append(agui.ReasoningEndEvent(message_id=self._reasoning))
            self._reasoning = None

    def _end_tools(self, events: list[agui.BaseEvent]) -> None:
        # A tool call whose arguments never completed (the stream moved on): end it.
        for call_id in list(self._tools):
            del self._tools[call_id]
            events.append(agui.ToolCallEndEvent(tool_call_id=call_id))

    def _end_messages(self, events: list[agui.BaseEvent]) -> None:
        self._end_text(events)
        self._end_reasoning(events)
        self._end_tools(events)

    def _run_finished(self, *, cancelled: bool = False) -> agui.RunFinishedEvent:
        usage = None
        if self._usage is not None:
            u = self._usage
            usage = [
                agui.TokenUsage(
                    input_tokens=u.input_tokens,
                    output_tokens=u.output_tokens,
                    total_tokens=u.total_tokens,
                )
            ]
        return agui.RunFinishedEvent(
            thread_id=self.thread_id,
            run_id=self.run_id,
            outcome=agui.RunFinishedCancelledOutcome() if cancelled else None,
            usage=usage,
        )


AGUIEncoder.__module__ = "streamdantic.frontends"
