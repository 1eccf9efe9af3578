"""The stream core: source items in, updates and parts out (sans-IO).

Strategy / invariants:
- `StreamCore.feed(item, now)` takes one item of any supported source (text, bytes, a
  `Chunk`, a stream `Part`, or a provider event that an adapter turns into parts) and
  returns what the consumer should see: stream parts as they arrive and `Update`s when the
  typed partial changes visibly (as the emission policy allows). `close(now)` ends the
  stream: it returns the final update or raises the error that says why there is none.
- `StreamCore` only composes four stages, each a sans-IO class with its own unit tests
  (docs/architecture.md has the diagram):

      item -> SourceRouter --text/chunk--> ObjectPipeline | TextPipeline --changes--+
                  |                                                                 v
                  +--part--> ToolCallTracker (ToolCallDelta/Done) --parts-------> Emitter -> Update
                  +--part--> the stream's state (finish reason, usage, refusal) -> Emitter

  `_source.py` routes items (adapters included); `_pipeline.py` turns text or chunks into
  the partial object (the text mode is its `TextPipeline`); `_tool_calls.py` keeps a typed
  partial per tool call; `_emitter.py` applies the emission policy, runs the callbacks and
  builds every `Update`; `_ending.py` holds the end-of-stream error table `close()` reads.
- The hot path: with JSON content and the default policy, `feed` is the text step
  (`_text_step.py`, compiled where built), which takes a text item through the pipeline and
  the emitter in one call and hands anything else back to `_feed` (the general path),
  `_feed_event` or `_take`; `step` is what an untimed I/O loop calls per item.
- Time is an argument (`now`), never read here, so throttle and debounce are testable and
  the sync and async layers share this core; `poll(now)` flushes a held update when a
  timer the I/O layer keeps fires.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar

from ._deltas import Chunk
from ._emitter import Debounce, EmitPolicy, Emitter, Throttle, check_policy
from ._ending import Ending, ending_error
from ._exceptions import IncompleteJSONError, StreamValidationError, UsageError
from ._parts import (
    Finish,
    Part,
    ProviderErrorPart,
    ReasoningDelta,
    RefusalDelta,
    ToolCallDelta,
    ToolCallDone,
    Usage,
)
from ._paths import JSONPath, match_path, parse_path, render_path
from ._pipeline import ObjectPipeline, Partials, TextPipeline
from ._source import SourceRouter
from ._text_step import TextStep
from ._tool_calls import ToolCallTracker
from ._update import Update
from ._validation import Changes, InvalidValue
from .adapters._registry import adapter_factory, error_part, register_adapter

__all__ = [
    "Debounce",
    "EmitPolicy",
    "Partials",
    "StreamCore",
    "Throttle",
    "Update",
    "match_path",
    "parse_path",
    "register_adapter",
]

T = TypeVar("T")
_PARTIALS_WORDS = ("snapshot", "live")
# The registry lives next to the adapters (adapters/_registry.py); these names stay here
# for the code that imports them from the core.
_adapter_factory = adapter_factory
_error_part = error_part


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

    # Slots: the text step (`_text_step.py`) reads `_closed`, `finish_reason` and `usage`
    # per item, at their offsets when compiled.
    __slots__ = (
        "_closed",
        "_emitter",
        "_feed_text",
        "_on_invalid",
        "_out",
        "_pipeline",
        "_router",
        "_step",
        "_strict",
        "_text_mode",
        "_tools",
        "error",
        "final",
        "finish_reason",
        "model",
        "reasoning",
        "refusal",
        "step",
        "usage",
    )

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
        check_policy(emit)
        if on_invalid not in ("raise", "report"):
            raise ValueError(f"on_invalid must be 'raise' or 'report', got {on_invalid!r}")
        self.model = model
        self._on_invalid = on_invalid
        self._strict = strict
        # With tools and no model the text beside the tool calls is prose (an agent's
        # answer): it is passed on as TextDelta parts and the final value is the text.
        self._text_mode = text or (model is None and bool(tools))
        self._pipeline: ObjectPipeline[T] | TextPipeline = (
            TextPipeline()
            if self._text_mode
            else ObjectPipeline(model, lenient=lenient, profile=profile, partials=partials)
        )
        self._tools = ToolCallTracker(tools, partials=partials, on_invalid=self._raise_or_keep)
        pipeline = self._pipeline
        self._emitter: Emitter[T] = Emitter(
            emit, self, pipeline.view if isinstance(pipeline, ObjectPipeline) else pipeline
        )
        self._router = SourceRouter(
            self._on_prose if self._text_mode else self._on_text, self._on_chunk, self._on_part
        )
        # `_feed`'s shortcut for text into the object pipeline, past the router and
        # `_on_text`, which would only hand it on.
        self._feed_text = pipeline.feed_text if isinstance(pipeline, ObjectPipeline) else None
        #: ``feed(item)`` for the untimed policies (what `Stream._outputs` calls per item):
        #: with JSON content and the default policy, the text step (`_text_step.py`, compiled
        #: where built), which takes a text item through the pipeline and the emitter in one
        #: call and hands anything else back to `_feed`; else `feed` itself.
        self.step: Callable[[Any], list[Any]] = self.feed
        self._step: Callable[[Any], list[Any]] | None = None
        if isinstance(pipeline, ObjectPipeline) and emit == "changes":
            self.step = self._step = TextStep(self, pipeline, self._emitter, self._router)
        self._out: list[Any] = []  # what the current feed() returns
        self._closed = False
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.refusal: str = ""
        self.error: ProviderErrorPart | None = None
        self.final: T | None = None
        self.reasoning: list[str] = []

    # ------------------------------------------------------------------ public

    @property
    def partial(self) -> Any:
        """The partial object so far (typed when there is a model; the text in text mode)."""
        return self._pipeline.partial

    @property
    def value(self) -> Any:
        """The raw JSON value so far."""
        return self._pipeline.value

    @property
    def raw_text(self) -> str | None:
        """All text received for the object (``None`` for chunk sources)."""
        return self._pipeline.raw_text

    @property
    def next_deadline(self) -> float:
        """When `poll` should next be called (``inf`` when no update is held)."""
        return self._emitter.next_deadline

    @property
    def timed(self) -> bool:
        """True when the emission policy keeps time (`Throttle`, `Debounce`): only then do
        `feed`'s `now` and `poll` matter, and an I/O layer needs to read a clock."""
        return self._emitter.timed

    def on_field(self, path: str | Sequence[str | int], callback: Callable[[Any], Any]) -> None:
        """Call `callback(value)` once when the field at `path` completes ("*" wildcards);
        model fields get the validated sub-model instance."""
        self._emitter.on_field(path, callback)

    def on_element(self, path: str | Sequence[str | int], callback: Callable[[Any], Any]) -> None:
        """Call `callback(element)` once for each element of the list at `path` as it
        closes, validated (model elements as model instances)."""
        self._emitter.on_element(path, callback)

    def on_final(self, callback: Callable[[Any], Any]) -> None:
        """Call `callback(final)` once with the final validated object."""
        self._emitter.on_final(callback)

    def feed(self, item: Any, now: float = 0.0) -> list[Any]:
        """Consume one source item; return the parts and updates it produced, in order.

        Raises:
            JSONParseError: the text is not valid JSON.
            DeltaError: a chunk contradicts the object so far.
            StreamValidationError: a completed value failed validation (``on_invalid="raise"``).
            AdapterError: an item of a type no adapter knows.
            UsageError: the stream is already closed.
        """
        step = self._step
        if step is not None:  # an untimed policy: `now` changes nothing
            return step(item)
        return self._feed(item, now)

    def _feed(self, item: Any, now: float = 0.0) -> list[Any]:
        # The general path: any item, any policy (the text step hands back what it does
        # not take itself).
        if self._closed:
            raise UsageError("the stream is closed; start a new stream for more input")
        out = self._out = []
        kind = type(item)
        feed_text = self._feed_text
        emitter = self._emitter
        if (kind is str or kind is bytes) and feed_text is not None:
            # `_on_text` and `_ingest`, inlined: most items are text.
            batch = feed_text(item)
            if batch is not None:
                self._take(*batch, now, out)
                return out
        else:
            self._router.feed(item)
        if emitter.held:
            emitter.maybe_emit(now, out)
        return out

    def _feed_event(self, event: Any) -> list[Any]:
        # A provider event of the adapter's type whose `text_of` gave None (the text step
        # asked it, and checked the stream is open): its parts, routed.
        out = self._out = []
        self._router.feed_event(event)
        emitter = self._emitter
        if emitter.held:
            emitter.maybe_emit(0.0, out)
        return out

    def _take(self, events: list[Any], changes: Changes, now: float, out: list[Any]) -> None:
        # One batch of a text item's events, to the emitter (invalid values raised first).
        if changes.errors:
            self._raise_or_keep(changes.errors, ())
        self._emitter.take(events, changes, now, out)

    def poll(self, now: float) -> list[Any]:
        """Emit a held update if its throttle interval or debounce delay has passed."""
        return self._emitter.poll(now)

    def close(self, now: float = 0.0) -> list[Any]:
        """End the stream; return the final parts and the final update.

        The error, when there is one, is the first row of `_ending.ENDING_ERRORS` that holds
        (provider error, content filter, refusal, truncation in its forms); then the final
        value is validated.

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
        out = self._out = []
        pipeline = self._pipeline
        cut_off: IncompleteJSONError | None = None
        try:
            self._ingest(pipeline.close())
        except IncompleteJSONError as exc:
            cut_off = exc
        finished, tool_cut_off = self._tools.close()
        for part in finished:
            self._pass_on(part)
        text = pipeline.final() if isinstance(pipeline, TextPipeline) else None
        error = ending_error(
            Ending(
                error=self.error,
                finish_reason=self.finish_reason,
                refusal=self.refusal,
                has_output=pipeline.has_output,
                cut_off=cut_off or tool_cut_off,
                has_model=self.model is not None,
                has_tool_calls=bool(self._tools),
                complete=pipeline.complete,
                text_mode=text is not None,
                partial=self.partial if text is None else text,
                raw_text=self.raw_text if text is None else text,
                missing_paths=self.missing_paths,
            )
        )
        if error is not None:
            raise error
        final: Any = text if text is not None else pipeline.final(strict=self._strict)
        self.final = final
        out.append(self._emitter.finish(final))
        return out

    def missing_paths(self) -> list[JSONPath]:
        """Open values and required fields of open objects that never arrived."""
        return self._pipeline.missing_paths()

    # ------------------------------------------------------------------ stage wiring

    def _on_text(self, text: str | bytes) -> None:
        pipeline: ObjectPipeline[T] = self._pipeline  # type: ignore[assignment]  # JSON mode
        batch = pipeline.feed_text(text)
        if batch is not None:  # `_ingest`, inlined: once per text part of a provider event
            events, changes = batch
            if changes.errors:
                self._raise_or_keep(changes.errors, ())
            self._emitter.ingest(events, changes)

    def _on_prose(self, text: str | bytes) -> None:
        part = self._pipeline.feed_text(text)
        if part is not None:
            self._pass_on(part)  # type: ignore[arg-type]

    def _on_chunk(self, chunk: Chunk) -> None:
        self._ingest(self._pipeline.feed_chunk(chunk))
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

    def _on_part(self, part: Part) -> None:
        kind = type(part)
        if kind is ToolCallDelta:
            for out in self._tools.feed(part):  # type: ignore[arg-type]
                self._pass_on(out)
            return
        if kind is ToolCallDone:
            done = self._tools.done(part.call_id)  # type: ignore[attr-defined]
            if done is not None:
                self._pass_on(done)
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
        self._pass_on(part)  # ToolResult and the above pass on as they are

    def _pass_on(self, part: Part) -> None:
        self._emitter.add_part(part)
        self._out.append(part)

    def _ingest(self, batch: Any) -> None:
        if batch is None:
            return
        events, changes = batch
        if changes.errors:
            self._raise_or_keep(changes.errors, ())
        self._emitter.ingest(events, changes)

    def _raise_or_keep(self, errors: Sequence[InvalidValue], prefix: JSONPath) -> None:
        if self._on_invalid == "report":
            self._emitter.add_errors(errors)
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
