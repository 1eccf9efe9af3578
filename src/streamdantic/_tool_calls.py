"""The tool-call tracker stage: argument deltas in, typed partial arguments out (sans-IO).

Strategy / invariants:
- One `JSONParser` and one `PartialValidator` per call id: the tool's model when `tools`
  names it, else `Any` (a plain-JSON mirror), so each `ToolCallDelta.partial` the tracker
  passes on is a snapshot (or the live object with ``partials="live"``).
- A call finishes once: when its arguments form a complete JSON value, when the provider
  says so (`ToolCallDone`), or at `close` if its arguments are complete by then. Finishing
  validates the arguments with the tool's model and yields `ToolCallDone` with them.
- Invalid completed argument values go to the `on_invalid(errors, prefix)` handler at once,
  before the delta is passed on, with the call's path prefix (``("tool_calls", call_id)``):
  the stream raises or reports them there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._exceptions import IncompleteJSONError, StreamValidationError
from ._parser import JSONParser
from ._parts import Part, ToolCallDelta, ToolCallDone
from ._paths import JSONPath
from ._pipeline import Partials
from ._validation import InvalidValue, PartialValidator

__all__ = ["ToolCallTracker"]


class _ToolCall:
    __slots__ = ("call_id", "done", "name", "parser", "texts", "validator", "view")

    def __init__(self, call_id: str, name: str | None, model: Any, partials: Partials) -> None:
        self.call_id = call_id
        self.name = name
        self.parser = JSONParser()
        self.view = PartialValidator(Any if model is None else model, partials=partials)
        self.validator = self.view if model is not None else None
        self.texts: list[str] = []
        self.done = False


class ToolCallTracker:
    """Typed partial arguments per tool call.

    Args:
        tools: tool name -> model of its arguments (tools not named get plain JSON).
        partials: ``"snapshot"`` or ``"live"`` (see `StreamCore`).
        on_invalid: called with the invalid completed values of a delta and the call's
            path prefix; it raises, or keeps them (the default ignores them).
    """

    __slots__ = ("_calls", "_on_invalid", "_partials", "_tools")

    def __init__(
        self,
        tools: Mapping[str, Any] | None = None,
        *,
        partials: Partials = "snapshot",
        on_invalid: Callable[[Sequence[InvalidValue], JSONPath], None] | None = None,
    ) -> None:
        self._tools = dict(tools or {})
        self._partials: Partials = partials
        self._on_invalid = on_invalid
        self._calls: dict[str, _ToolCall] = {}

    def __bool__(self) -> bool:
        """True once any tool call started."""
        return bool(self._calls)

    def feed(self, delta: ToolCallDelta, /) -> list[Part]:
        """Apply one argument delta; the parts to pass on: the delta with the call's
        partial arguments, then `ToolCallDone` if the arguments just completed.

        Raises:
            JSONParseError: the arguments are not valid JSON.
            StreamValidationError: complete arguments do not fit the tool's model (or
                what `on_invalid` raises).
        """
        call = self._calls.get(delta.call_id)
        if call is None:
            model = self._tools.get(delta.name) if delta.name is not None else None
            call = self._calls[delta.call_id] = _ToolCall(
                delta.call_id, delta.name, model, self._partials
            )
        elif delta.name and not call.name:
            call.name = delta.name
        if delta.arguments:
            call.texts.append(delta.arguments)
            errors = call.view.apply(call.parser.feed(delta.arguments)).errors
            if errors and self._on_invalid is not None:
                self._on_invalid(errors, ("tool_calls", call.call_id))
        parts: list[Part] = [
            ToolCallDelta(
                call.call_id,
                delta.arguments,
                name=delta.name,
                index=delta.index,
                partial=call.view.partial,
            )
        ]
        if call.parser.done and not call.done:
            parts.append(self._finish(call))
        return parts

    def done(self, call_id: str) -> ToolCallDone | None:
        """The provider ended call `call_id`: its `ToolCallDone` (None if it is unknown or
        already finished).

        Raises:
            StreamValidationError: the arguments do not fit the tool's model.
        """
        call = self._calls.get(call_id)
        if call is None or call.done:
            return None
        return self._finish(call)

    def close(self) -> tuple[list[ToolCallDone], IncompleteJSONError | None]:
        """End the stream: `ToolCallDone` for each unfinished call whose arguments are
        complete, and an `IncompleteJSONError` if any call's arguments were cut off.

        Raises:
            StreamValidationError: complete arguments do not fit the tool's model.
        """
        finished: list[ToolCallDone] = []
        cut_off: IncompleteJSONError | None = None
        for call in self._calls.values():
            if call.done:
                continue
            try:
                call.parser.close()
            except IncompleteJSONError:
                cut_off = cut_off or IncompleteJSONError("a tool call was cut off")
            else:
                finished.append(self._finish(call))
        return finished, cut_off

    def _finish(self, call: _ToolCall) -> ToolCallDone:
        call.done = True
        parser = call.parser
        if not parser.done and call.texts:
            # The provider ended the call: flush what the parser holds back (a top-level
            # number may still grow until the end of input). Arguments that are cut off
            # stay as they are; the validation below says what is wrong with them.
            try:
                call.view.apply(parser.close())
            except IncompleteJSONError:
                pass
        text = "".join(call.texts)
        value: Any = call.parser.value
        if call.validator is not None:
            try:
                value = call.validator.validate_final(value, raw_text=text or "{}")
            except StreamValidationError as exc:  # say which call's arguments
                raise StreamValidationError(
                    f"tool call {call.name or '?'} ({call.call_id}): {exc}",
                    errors=exc.errors,
                    path=("tool_calls", call.call_id),
                    raw_text=exc.raw_text,
                    partial=exc.partial,
                ) from exc.__cause__
        return ToolCallDone(call.call_id, call.name, text, value)
