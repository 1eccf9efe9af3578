"""The stream core: source items in, updates and parts out (sans-IO).

Strategy / invariants:
- `StreamCore.feed(item, now)` takes one item of any supported source (text, bytes, a
  `Chunk`, a stream `Part`, or a provider event that an adapter turns into parts) and
  returns what the consumer should see: stream parts as they arrive and `Update`s when the
  typed partial changes visibly (as the emission policy allows). `close(now)` ends the
  stream: it returns the final update or raises the error that says why there is none.
- Time is an argument (`now`), never read here, so throttle and debounce are testable and
  the sync and async layers share this core; `poll(now)` flushes a held update when a
  timer the I/O layer keeps fires.
- Text goes through one `JSONParser`, chunks through one `ChunkMerger`; both give the same
  events, which one `PartialValidator` (when there is a model) turns into the typed
  partial. Tool-call arguments get a parser (and validator) per call id.
- Callbacks fire exactly once per completed value, from the validator's completion events,
  so their count does not depend on the chunking or on the emission policy.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeAlias, TypeVar

from ._deltas import Chunk, ChunkMerger, Delta, DeltaEncoder
from ._events import Event, StringAppended, ValueCompleted, ValueStarted
from ._exceptions import (
    AdapterError,
    ContentFilterError,
    IncompleteJSONError,
    ProviderError,
    RefusalError,
    StreamValidationError,
    TruncatedStreamError,
    UsageError,
)
from ._parser import JSONParser
from ._partial import compile_node
from ._parts import (
    Finish,
    Part,
    ProviderErrorPart,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    ToolResult,
    Usage,
)
from ._paths import Path, match_path, parse_path, render_path
from ._validation import Changes, InvalidValue, PartialValidator
from .adapters._registry import adapter_factory, error_part, register_adapter

__all__ = [
    "Debounce",
    "EmitPolicy",
    "StreamCore",
    "Throttle",
    "Update",
    "match_path",
    "parse_path",
    "register_adapter",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Throttle:
    """Emit at most `per_second` updates a second (the first change at once, then the
    latest state at most once per interval; nothing is lost, only coalesced)."""

    per_second: float

    def __post_init__(self) -> None:
        if not self.per_second > 0:
            raise ValueError(f"Throttle(per_second) must be positive, got {self.per_second!r}")


@dataclass(frozen=True, slots=True)
class Debounce:
    """Emit an update only after `seconds` without a change (and always at the end)."""

    seconds: float

    def __post_init__(self) -> None:
        if not self.seconds >= 0:
            raise ValueError(f"Debounce(seconds) must not be negative, got {self.seconds!r}")


EmitPolicy: TypeAlias = Literal["changes", "completions"] | Throttle | Debounce
_POLICY_WORDS = ("changes", "completions")
Partials: TypeAlias = Literal["snapshot", "live"]
_PARTIALS_WORDS = ("snapshot", "live")


class Update(Generic[T]):
    """One visible change of the object being streamed (or the final state).

    Attributes:
        index: 0, 1, 2, ... in emission order.
        partial: the typed partial object (plain JSON when there is no model): a value that
            never changes afterwards, sharing unchanged subtrees with the previous update's
            (``a.items[3] is b.items[3]`` means "unchanged"); with ``partials="live"``, one
            object changed in place by later updates.
        events: the parser/merger events folded into this update.
        completed: JSON paths of the values completed since the previous update.
        elements: ``(path, validated)`` for list elements of models completed since then.
        errors: completed values that failed validation (when errors are reported, not raised).
        parts: stream parts (reasoning, tool calls, usage, ...) that arrived since then.
        done: True for the final update.
        final: the validated final object (final update only).
        finish_reason, usage: as reported by the provider so far.
    """

    __slots__ = (
        "index",
        "partial",
        "events",
        "completed",
        "elements",
        "errors",
        "parts",
        "done",
        "final",
        "finish_reason",
        "usage",
        "_delta",
    )

    def __init__(
        self,
        index: int,
        partial: Any,
        events: list[Event],
        completed: list[Path],
        elements: list[tuple[Path, Any]],
        errors: list[InvalidValue],
        parts: list[Part],
        *,
        done: bool = False,
        final: T | None = None,
        finish_reason: str | None = None,
        usage: Usage | None = None,
    ) -> None:
        self.index = index
        self.partial = partial
        self.events = events
        self.completed = completed
        self.elements = elements
        self.errors = errors
        self.parts = parts
        self.done = done
        self.final = final
        self.finish_reason = finish_reason
        self.usage = usage
        self._delta: Any = None

    @property
    def delta(self) -> Chunk:
        """The nested-profile `Chunk` that carries this update's change (built on demand).

        A batch with a duplicated JSON key needs more than one chunk: see `deltas`.
        """
        chunks = self.deltas
        if len(chunks) != 1:
            raise UsageError(
                "this update takes several chunks (a JSON key appeared twice): read .deltas"
            )
        return chunks[0]

    @property
    def deltas(self) -> list[Chunk]:
        """The nested-profile chunks that carry this update's change (usually one)."""
        if self._delta is None:
            self._delta = DeltaEncoder().encode(self.events) or [Chunk(Delta())]
        return self._delta  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        extra = f", done=True, final={self.final!r}" if self.done else ""
        return f"Update(index={self.index}, partial={self.partial!r}{extra})"


# ------------------------------------------------------------------------- adapters
# The registry lives next to the adapters (adapters/_registry.py); these names stay here
# for the code that imports them from the core.
_adapter_factory = adapter_factory
_error_part = error_part


# ----------------------------------------------------------------------------- core


class _ToolCall:
    __slots__ = ("call_id", "name", "parser", "validator", "view", "texts", "done", "index")

    def __init__(
        self, call_id: str, name: str | None, model: Any, index: int | None, partials: Partials
    ) -> None:
        self.call_id = call_id
        self.name = name
        self.index = index
        self.parser = JSONParser()
        # The typed view when the tool has a model, else a plain-JSON mirror: either way
        # each ToolCallDelta.partial is a snapshot (or the live object, partials="live").
        self.view = PartialValidator(Any if model is None else model, partials=partials)
        self.validator = self.view if model is not None else None
        self.texts: list[str] = []
        self.done = False


Callback: TypeAlias = Callable[[Any], Any]


class StreamCore(Generic[T]):
    """Sans-IO heart of `stream`/`astream`: feed items, get parts and updates.

    Args:
        model: the type of the object (a pydantic model or any type pydantic validates);
            ``None`` streams plain JSON values.
        tools: tool name -> model of its arguments, for typed partial tool arguments. With
            tools and no `model`, the stream is an agent's: its text is prose, passed on as
            `TextDelta` parts, and the final value is that text.
        emit: the emission policy: ``"changes"`` (every visible change, deduplicated),
            ``"completions"`` (only when a field or element completes), `Throttle` or
            `Debounce`. The final update is always delivered.
        on_invalid: ``"raise"`` a completed value that fails validation at once as
            `StreamValidationError`, or ``"report"`` it in `Update.errors` and go on.
        lenient: let the parser skip prose or a code fence around the JSON.
        profile: merge profile for `Chunk` sources: ``"nested"`` or ``"compatible"``.
        strict: pydantic strict mode for the final validation.
        text: the content is prose, not JSON: it is passed on as `TextDelta` parts and the
            final value is the text (what `stream_to_text` uses).
        partials: ``"snapshot"`` (default): every `Update.partial` (and `partial`) is a
            value that never changes afterwards, unchanged subtrees shared between
            consecutive updates; ``"live"``: one object changed in place (the hottest loops,
            when nothing keeps a partial past the next update).
    """

    def __init__(
        self,
        model: type[T] | Any = None,
        *,
        tools: Mapping[str, Any] | None = None,
        emit: EmitPolicy = "changes",
        on_invalid: Literal["raise", "report"] = "raise",
        lenient: bool = False,
        profile: Literal["nested", "compatible"] = "nested",
        strict: bool | None = None,
        text: bool = False,
        partials: Partials = "snapshot",
    ) -> None:
        if partials not in _PARTIALS_WORDS:
            raise ValueError(
                f"partials must be one of {', '.join(map(repr, _PARTIALS_WORDS))}, got {partials!r}"
            )
        if text and model is not None:
            raise ValueError("a text stream has no model: pass model=None with text=True")
        if not isinstance(emit, Throttle | Debounce) and emit not in _POLICY_WORDS:
            raise ValueError(
                f"emit must be one of {', '.join(map(repr, _POLICY_WORDS))}, "
                f"Throttle(n) or Debounce(s); got {emit!r}"
            )
        if on_invalid not in ("raise", "report"):
            raise ValueError(f"on_invalid must be 'raise' or 'report', got {on_invalid!r}")
        self.model = model
        self._tools = dict(tools or {})
        # With tools and no model the text beside the tool calls is prose (an agent's
        # answer): it is passed on as TextDelta parts and the final value is the text.
        self._text_mode = text or (model is None and bool(tools))
        self._text_decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._emit = emit
        self._on_invalid = on_invalid
        self._lenient = lenient
        self._profile = profile
        self._strict = strict
        self._partials: Partials = partials
        self._validator: PartialValidator[T] | None = (
            PartialValidator(model, partials=partials) if model is not None else None
        )
        # Plain JSON: a mirror of the parser's (or merger's) value, so that updates get
        # snapshots too; the parser's own value is a live view.
        self._view: PartialValidator[Any] = (
            self._validator
            if self._validator is not None
            else PartialValidator(Any, partials=partials)
        )
        self._parser: JSONParser | None = None
        self._merger: Any = None
        self._raw: list[Any] = []
        self._tool_calls: dict[str, _ToolCall] = {}
        self._adapter: Callable[[Any], Iterable[Any]] | None = None
        self._adapter_type: type | None = None
        # What the next update will carry.
        self._events: list[Event] = []
        self._completed: list[Path] = []
        self._elements: list[tuple[Path, Any]] = []
        self._errors: list[InvalidValue] = []
        self._parts: list[Part] = []
        self._held = False  # a visible change not yet emitted (throttle/debounce)
        self._last_emit = float("-inf")
        self._deadline = float("inf")
        self._updates = 0
        self._closed = False
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.refusal: str = ""
        self.error: ProviderErrorPart | None = None
        self.final: T | None = None
        self.reasoning: list[str] = []
        self._field_callbacks: list[tuple[Path, Callback]] = []
        self._element_callbacks: list[tuple[Path, Callback]] = []
        self._final_callbacks: list[Callback] = []

    # ------------------------------------------------------------------ public

    @property
    def partial(self) -> Any:
        """The partial object so far (typed when there is a model; the text in text mode)."""
        if self._text_mode:
            return "".join(self._raw)
        return self._view.partial

    @property
    def value(self) -> Any:
        """The raw JSON value so far."""
        source = self._parser or self._merger
        return source.value if source is not None else None

    @property
    def raw_text(self) -> str | None:
        """All text received for the object (``None`` for chunk sources)."""
        if not self._raw:
            return None if self._merger is not None else ""
        if isinstance(self._raw[0], str):
            return "".join(self._raw)
        return b"".join(self._raw).decode("utf-8", "replace")

    @property
    def next_deadline(self) -> float:
        """When `poll` should next be called (``inf`` when no update is held)."""
        if not self._held:
            return float("inf")
        if isinstance(self._emit, Throttle):
            return self._last_emit + 1 / self._emit.per_second
        return self._deadline

    def on_field(self, path: str | Sequence[str | int], callback: Callback) -> None:
        """Call `callback(value)` once when the field at `path` completes ("*" wildcards);
        model fields get the validated sub-model instance."""
        self._field_callbacks.append((parse_path(path), callback))

    def on_element(self, path: str | Sequence[str | int], callback: Callback) -> None:
        """Call `callback(element)` once for each element of the list at `path` as it
        closes, validated (model elements as model instances)."""
        self._element_callbacks.append((parse_path(path), callback))

    def on_final(self, callback: Callback) -> None:
        """Call `callback(final)` once with the final validated object."""
        self._final_callbacks.append(callback)

    def feed(self, item: Any, now: float = 0.0) -> list[Any]:
        """Consume one source item; return the parts and updates it produced, in order.

        Raises:
            JSONParseError: the text is not valid JSON.
            DeltaError: a chunk contradicts the object so far.
            StreamValidationError: a completed value failed validation (``on_invalid="raise"``).
            AdapterError: an item of a type no adapter knows.
            UsageError: the stream is already closed.
        """
        if self._closed:
            raise UsageError("the stream is closed; start a new stream for more input")
        out: list[Any] = []
        self._dispatch(item, out)
        self._maybe_emit(now, out)
        return out

    def poll(self, now: float) -> list[Any]:
        """Emit a held update if its throttle interval or debounce delay has passed."""
        out: list[Any] = []
        if self._held and now >= self.next_deadline:
            self._emit_update(now, out)
        return out

    def close(self, now: float = 0.0) -> list[Any]:
        """End the stream; return the final parts and the final update.

        Raises:
            ProviderError: the provider reported an error (``.partial`` kept).
            ContentFilterError: the output was stopped by the provider's content filter.
            RefusalError: the model refused (``.refusal`` holds its text).
            TruncatedStreamError: the stream ended before the object was complete.
            StreamValidationError: the complete object does not fit the model.
        """
        if self._closed:
            raise UsageError("the stream is already closed")
        self._closed = True
        out: list[Any] = []
        truncated: IncompleteJSONError | None = None
        if self._parser is not None:
            try:
                self._ingest(self._parser.close(), out)
            except IncompleteJSONError as exc:
                truncated = exc
        elif self._merger is not None:
            self._ingest(self._merger.close(), out)
        for call in self._tool_calls.values():
            if not call.done:
                try:
                    call.parser.close()
                except IncompleteJSONError:
                    truncated = truncated or IncompleteJSONError("a tool call was cut off")
                else:
                    self._finish_tool_call(call, out)
        if self.error is not None:
            raise ProviderError(
                self.error.message, code=self.error.code, partial=self.partial, raw=self.error.raw
            )
        if self.finish_reason == "content_filter":
            raise ContentFilterError(
                "the provider's content filter stopped the output", partial=self.partial
            )
        has_output = self._parser is not None or self._merger is not None or bool(self._raw)
        if self.refusal and not has_output:
            raise RefusalError(f"the model refused: {self.refusal}", refusal=self.refusal)
        if truncated is not None or (
            self.model is not None and not has_output and not self._tool_calls
        ):
            raise self._truncated(truncated)
        source = self._parser or self._merger
        if source is not None and not source.done:
            raise self._truncated(None)
        final: Any = None
        if self._text_mode:
            final = "".join(self._raw) + self._text_decoder.decode(b"", True)
            if self.finish_reason == "length":
                raise TruncatedStreamError(
                    "the text was cut at the token limit (finish reason 'length')",
                    finish_reason="length",
                    raw_text=final,
                    partial=final,
                )
        elif source is not None:
            value = source.value
            if self._validator is not None:
                text = self.raw_text if self._parser is not None and not self._lenient else None
                final = self._validator.validate_final(value, raw_text=text, strict=self._strict)
            else:
                final = value
        self.final = final
        update = self._make_update(done=True)
        update.final = final
        out.append(update)
        for callback in self._final_callbacks:
            callback(final)
        return out

    def missing_paths(self) -> list[Path]:
        """Open values and required fields of open objects that never arrived."""
        source = self._parser
        missing: list[Path] = [p for p in source.open_paths if p] if source is not None else []
        model = self.model
        partial = self.partial
        fields = getattr(model, "model_fields", None)
        if fields is not None:
            # The JSON keys as the validator reads them (aliases, validation aliases).
            for key, spec in compile_node(model).fields.items():
                info = fields[spec.name]
                if info.is_required() and (partial is None or getattr(partial, spec.name) is None):
                    if (key,) not in missing:
                        missing.append((key,))
        return missing

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, item: Any, out: list[Any]) -> None:
        kind = type(item)
        if kind is str or kind is bytes or kind is bytearray:
            self._feed_text(item, out)
        elif kind is TextDelta:
            self._feed_text(item.text, out)
        elif isinstance(item, Part):
            self._feed_part(item, out)
        elif kind is Chunk:
            self._feed_chunk(item, out)
        else:
            adapter = self._adapter
            if adapter is None or self._adapter_type is not kind:
                factory = _adapter_factory(item)
                if factory is None:
                    raise AdapterError(
                        f"no adapter for {kind.__module__}.{kind.__qualname__}: streams "
                        "take str, bytes, Chunk, stream parts or provider events "
                        "(see streamdantic.adapters)",
                        event=item,
                    )
                if self._adapter is None:
                    self._adapter = adapter = factory()
                    self._adapter_type = kind
                else:
                    adapter = self._adapter
            for converted in adapter(item):
                self._dispatch(converted, out)

    def _feed_text(self, text: str | bytes, out: list[Any]) -> None:
        if self._text_mode:
            # An agent's stream without an output model: its text is prose, not JSON.
            if not isinstance(text, str):
                text = self._text_decoder.decode(text)
            if text:
                self._raw.append(text)
                part = TextDelta(text)
                self._parts.append(part)
                out.append(part)
            return
        parser = self._parser
        if parser is None:
            if self._merger is not None:
                raise UsageError("a stream takes text or chunks, not both")
            parser = self._parser = JSONParser(lenient=self._lenient)
        self._raw.append(text)
        self._ingest(parser.feed(text), out)

    def _feed_chunk(self, chunk: Any, out: list[Any]) -> None:
        merger = self._merger
        if merger is None:
            if self._parser is not None:
                raise UsageError("a stream takes text or chunks, not both")
            merger = self._merger = ChunkMerger(profile=self._profile)
        self._ingest(merger.apply(chunk), out)
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason
        if chunk.usage is not None:
            usage = chunk.usage
            self.usage = Usage(
                usage.get("input_tokens", usage.get("prompt_tokens")),
                usage.get("output_tokens", usage.get("completion_tokens")),
                usage.get("total_tokens"),
                raw=usage,
            )

    def _feed_part(self, part: Part, out: list[Any]) -> None:
        kind = type(part)
        if kind is ToolCallDelta:
            self._feed_tool_call(part, out)  # type: ignore[arg-type]
            return
        if kind is ReasoningDelta:
            self.reasoning.append(part.text)  # type: ignore[attr-defined]
        elif kind is RefusalDelta:
            self.refusal += part.text  # type: ignore[attr-defined]
        elif kind is Usage:
            self.usage = part  # type: ignore[assignment]
        elif kind is Finish:
            self.finish_reason = part.reason  # type: ignore[attr-defined]
        elif kind is ProviderErrorPart:
            self.error = part  # type: ignore[assignment]
        elif kind is ToolCallDone:
            call = self._tool_calls.get(part.call_id)  # type: ignore[attr-defined]
            if call is not None and not call.done:
                self._finish_tool_call(call, out)
            return
        elif kind is not ToolResult:
            raise AdapterError(f"unknown stream part {part!r}", event=part)
        self._parts.append(part)
        out.append(part)

    def _feed_tool_call(self, delta: ToolCallDelta, out: list[Any]) -> None:
        call = self._tool_calls.get(delta.call_id)
        if call is None:
            model = self._tools.get(delta.name) if delta.name is not None else None
            call = self._tool_calls[delta.call_id] = _ToolCall(
                delta.call_id, delta.name, model, delta.index, self._partials
            )
        elif delta.name and not call.name:
            call.name = delta.name
        partial: Any = None
        if delta.arguments:
            call.texts.append(delta.arguments)
            events = call.parser.feed(delta.arguments)
            changes = call.view.apply(events)
            if changes.errors:
                self._raise_or_keep(changes.errors, ("tool_calls", call.call_id))
        partial = call.view.partial
        part = ToolCallDelta(
            call.call_id, delta.arguments, name=delta.name, index=delta.index, partial=partial
        )
        self._parts.append(part)
        out.append(part)
        if call.parser.done and not call.done:
            self._finish_tool_call(call, out)

    def _finish_tool_call(self, call: _ToolCall, out: list[Any]) -> None:
        call.done = True
        text = "".join(call.texts)
        value: Any = call.parser.value
        if call.validator is not None:
            value = call.validator.validate_final(value, raw_text=text or "{}")
        part = ToolCallDone(call.call_id, call.name, text, value)
        self._parts.append(part)
        out.append(part)

    # ------------------------------------------------------------------ updates

    def _ingest(self, events: list[Event], out: list[Any]) -> None:
        if not events:
            return
        validator = self._validator
        if validator is not None:
            changes = validator.apply(events)
            changed = changes.changed
        else:
            self._view.apply(events)
            changes = _plain_changes(events)
            changed = changes.changed
        self._events.extend(events)
        if changes.completed:
            self._completed.extend(changes.completed)
        if changes.elements:
            self._elements.extend(changes.elements)
        if changes.errors:
            self._raise_or_keep(changes.errors, ())
        if self._field_callbacks or self._element_callbacks:
            self._run_callbacks(changes)
        if changed:
            self._held = True
            if isinstance(self._emit, Debounce):
                self._deadline = float("inf")  # re-armed in _maybe_emit with `now`
        elif self._emit == "completions" and changes.completed:
            self._held = True

    def _raise_or_keep(self, errors: Sequence[InvalidValue], prefix: Path) -> None:
        if self._on_invalid == "report":
            self._errors.extend(errors)
            return
        first = errors[0]
        raise StreamValidationError(
            f"a completed value failed validation at {render_path((*prefix, *first.path))}: "
            f"{first.errors[0]['msg']}",
            errors=first.errors,
            path=(*prefix, *first.path),
            raw_text=self.raw_text,
            partial=self.partial,
        )

    def _run_callbacks(self, changes: Changes) -> None:
        for path, value in changes.fields:
            for pattern, callback in self._field_callbacks:
                if match_path(pattern, path):
                    callback(value)
        for path, value in changes.elements:
            parent = path[:-1]
            for pattern, callback in self._element_callbacks:
                if match_path(pattern, parent):
                    callback(value)

    def _maybe_emit(self, now: float, out: list[Any]) -> None:
        if not self._held:
            return
        emit = self._emit
        if emit == "changes":
            self._emit_update(now, out)
        elif emit == "completions":
            if self._completed:
                self._emit_update(now, out)
            else:
                self._held = False
        elif isinstance(emit, Throttle):
            if now - self._last_emit >= 1 / emit.per_second:
                self._emit_update(now, out)
        else:
            self._deadline = now + emit.seconds
            if emit.seconds == 0:
                self._emit_update(now, out)

    def _emit_update(self, now: float, out: list[Any]) -> None:
        out.append(self._make_update(done=False))
        self._last_emit = now
        self._held = False
        self._deadline = float("inf")

    def _make_update(self, *, done: bool) -> Update[T]:
        update: Update[T] = Update(
            self._updates,
            self.partial,
            self._events,
            self._completed,
            self._elements,
            self._errors,
            self._parts,
            done=done,
            finish_reason=self.finish_reason,
            usage=self.usage,
        )
        self._updates += 1
        self._events = []
        self._completed = []
        self._elements = []
        self._errors = []
        self._parts = []
        return update

    def _truncated(self, cause: IncompleteJSONError | None) -> TruncatedStreamError:
        reason = self.finish_reason
        why = f" (finish reason {reason!r})" if reason else ""
        missing = self.missing_paths()
        shown = ", ".join(render_path(p) for p in missing[:5]) or "the whole value"
        error = TruncatedStreamError(
            f"the stream ended before the object was complete{why}; missing: {shown}",
            finish_reason=reason,
            missing_paths=missing,
            raw_text=self.raw_text,
            partial=self.partial,
        )
        error.__cause__ = cause
        return error


def _plain_changes(events: list[Event]) -> Changes:
    """Changes for plain JSON (no model): everything the parser shows is visible."""
    changes = Changes()
    for event in events:
        kind = type(event)
        if kind is ValueCompleted:
            changes.add("completed", event.path)  # type: ignore[attr-defined]
            value = event.value  # type: ignore[attr-defined]
            if not isinstance(value, dict | list | str):
                changes.changed = True
            path = event.path  # type: ignore[attr-defined]
            if path and isinstance(path[-1], int):
                changes.add("elements", (path, value))
            elif path:
                changes.add("fields", (path, value))
        elif kind is ValueStarted or kind is StringAppended:
            changes.changed = True
    return changes
