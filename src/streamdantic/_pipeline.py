"""The object pipeline stage: text or chunks in, the partial object and its changes out
(sans-IO).

Strategy / invariants:
- `ObjectPipeline` (the content is JSON): text goes through one `JSONParser`, chunks
  through one `ChunkMerger` (the first item decides; mixing them is a `UsageError`); both
  give the same events, which one `PartialValidator` turns into the typed partial and its
  `Changes` (completed values, elements, fields, invalid values). With no model a
  `PartialValidator(Any)` mirrors the plain JSON, so its partials are snapshots too (the
  parser's own value is a live view) and `_plain_changes` says what changed.
- `TextPipeline` (the content is prose: `text=True`, or an agent's stream with tools and no
  model): the text is passed on as `TextDelta` parts and the final value is the text. Text
  mode lives here and only here; `StreamCore` picks one of the two classes.
- Both keep what the end of the stream needs: `raw_text`, whether anything arrived, whether
  the value is complete, `missing_paths()`, and `final()`.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from typing import Any, Generic, Literal, TypeVar

from ._deltas import Chunk, ChunkMerger
from ._events import Event, StringAppended, ValueCompleted, ValueStarted
from ._exceptions import IncompleteJSONError, UsageError
from ._parser import JSONParser
from ._partial import compile_node
from ._parts import TextDelta
from ._paths import JSONPath
from ._validation import Changes, PartialValidator

__all__ = ["ObjectPipeline", "Partials", "TextPipeline"]

T = TypeVar("T")
Partials = Literal["snapshot", "live"]
Batch = tuple[list[Event], Changes]


class ObjectPipeline(Generic[T]):
    """Parser or merger into the validator, for JSON content.

    Args:
        model: the type of the object; ``None`` for plain JSON.
        lenient: let the parser skip prose or a code fence around the JSON.
        profile: merge profile for `Chunk` sources.
        partials: ``"snapshot"`` or ``"live"`` (see `StreamCore`).
    """

    __slots__ = (
        "_cut_paths",
        "_lenient",
        "_merger",
        "_parser",
        "_profile",
        "_raw",
        "_validator",
        "_view",
        "changes_of",
        "model",
    )

    def __init__(
        self,
        model: Any,
        *,
        lenient: bool = False,
        profile: Literal["nested", "compatible"] = "nested",
        partials: Partials = "snapshot",
    ) -> None:
        self.model = model
        self._lenient = lenient
        self._profile: Literal["nested", "compatible"] = profile
        self._validator: PartialValidator[T] | None = (
            PartialValidator(model, partials=partials) if model is not None else None
        )
        self._view: PartialValidator[Any] = (
            self._validator
            if self._validator is not None
            else PartialValidator(Any, partials=partials)
        )
        self._parser: JSONParser | None = None
        self._merger: ChunkMerger | None = None
        self._raw: list[Any] = []
        self._cut_paths: list[JSONPath] | None = None  # the open paths when close() failed
        #: What a batch of events changed, once they are applied to the partial object: the
        #: validator's `apply` itself with a model (no hop per batch), `_plain_apply` without.
        self.changes_of: Callable[[list[Event]], Changes] = (
            self._validator.apply if self._validator is not None else self._plain_apply
        )

    @property
    def partial(self) -> Any:
        """The partial object so far (typed when there is a model)."""
        return self._view.partial

    @property
    def view(self) -> PartialValidator[Any]:
        """The validator whose `partial` is this pipeline's (the emitter reads it there)."""
        return self._view

    @property
    def value(self) -> Any:
        """The raw JSON value so far (a live view)."""
        source = self._parser or self._merger
        return source.value if source is not None else None

    @property
    def raw_text(self) -> str | None:
        """All text received (``None`` for chunk sources)."""
        raw = self._raw
        if not raw:
            return None if self._merger is not None else ""
        kind = type(raw[0])
        if all(type(piece) is kind for piece in raw):  # the usual stream: one kind throughout
            return "".join(raw) if kind is str else b"".join(raw).decode("utf-8", "replace")
        # Text and bytes mixed (the parser takes both): each run of bytes decoded whole, as
        # the parser read it (it refuses text after bytes that end inside a character).
        texts: list[str] = []
        run: list[bytes] = []
        for piece in raw:
            if type(piece) is str:
                if run:
                    texts.append(b"".join(run).decode("utf-8", "replace"))
                    run = []
                texts.append(piece)
            else:
                run.append(piece)
        if run:
            texts.append(b"".join(run).decode("utf-8", "replace"))
        return "".join(texts)

    @property
    def has_output(self) -> bool:
        """True once any text or chunk arrived."""
        return self._parser is not None or self._merger is not None

    @property
    def complete(self) -> bool:
        """False while a value that started is unfinished (True before anything arrived)."""
        source = self._parser or self._merger
        return source is None or source.done

    def feed_text(self, text: str | bytes) -> Batch | None:
        """Parse a piece of text; the events and changes (None when there are no events).

        Raises:
            JSONParseError: the text is not valid JSON.
            UsageError: the stream already took chunks.
        """
        parser = self._parser
        if parser is None:
            if self._merger is not None:
                raise UsageError("a stream takes text or chunks, not both")
            parser = self._parser = JSONParser(lenient=self._lenient)
        self._raw.append(text)
        events = parser.feed(text)
        if not events:
            return None  # most pieces of text end inside a token and make no event
        return events, self.changes_of(events)

    def feed_chunk(self, chunk: Chunk) -> Batch | None:
        """Merge a chunk; the events and changes (None when there are no events).

        Raises:
            DeltaError: the chunk contradicts the object so far.
            UsageError: the stream already took text.
        """
        merger = self._merger
        if merger is None:
            if self._parser is not None:
                raise UsageError("a stream takes text or chunks, not both")
            merger = self._merger = ChunkMerger(profile=self._profile)
        return self._apply(merger.apply(chunk))

    def close(self) -> Batch | None:
        """End the input; the last events and changes.

        Raises:
            IncompleteJSONError: the text stopped in the middle of a value.
        """
        parser = self._parser
        if parser is not None:
            # A close that fails leaves the parser in its error state, which no longer
            # reports the string it was in: keep the open paths for missing_paths().
            open_paths = parser.open_paths
            try:
                return self._apply(parser.close())
            except IncompleteJSONError:
                self._cut_paths = open_paths
                raise
        if self._merger is not None:
            return self._apply(self._merger.close())
        return None

    def final(self, *, strict: bool | None = None) -> Any:
        """The final object: the complete value validated with the model (the value itself
        without one; ``None`` when nothing arrived).

        Raises:
            StreamValidationError: the value does not fit the model.
        """
        source = self._parser or self._merger
        if source is None:
            return None
        value = source.value
        if self._validator is None:
            return value
        text = self.raw_text if self._parser is not None and not self._lenient else None
        return self._validator.validate_final(value, raw_text=text, strict=strict)

    def missing_paths(self) -> list[JSONPath]:
        """Open values and required fields of open objects that never arrived."""
        parser = self._parser
        open_paths = self._cut_paths
        if open_paths is None:
            open_paths = parser.open_paths if parser is not None else []
        missing: list[JSONPath] = [p for p in open_paths if p]
        model = self.model
        fields = getattr(model, "model_fields", None)
        if fields is not None:
            partial = self.partial
            # The JSON keys as the validator reads them (aliases, validation aliases).
            for key, spec in compile_node(model).fields.items():
                info = fields[spec.name]
                if info.is_required() and (partial is None or getattr(partial, spec.name) is None):
                    if (key,) not in missing:
                        missing.append((key,))
        return missing

    def _apply(self, events: list[Event]) -> Batch | None:
        if not events:
            return None
        return events, self.changes_of(events)

    def _plain_apply(self, events: list[Event]) -> Changes:
        self._view.apply(events)
        return _plain_changes(events)


class TextPipeline:
    """Prose content: text in, `TextDelta` parts out; the final value is the text."""

    __slots__ = ("_decoder", "_texts")

    model = None
    value = None
    complete = True

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._texts: list[str] = []

    @property
    def partial(self) -> str:
        """The text so far."""
        return "".join(self._texts)

    @property
    def raw_text(self) -> str:
        """The text so far."""
        return "".join(self._texts)

    @property
    def has_output(self) -> bool:
        """True once any text arrived."""
        return bool(self._texts)

    def feed_text(self, text: str | bytes) -> TextDelta | None:
        """The part that passes this text on (None when it adds nothing yet: an empty
        string, or bytes that end inside a UTF-8 sequence)."""
        if not isinstance(text, str):
            text = self._decoder.decode(text)
        if not text:
            return None
        self._texts.append(text)
        return TextDelta(text)

    def feed_chunk(self, chunk: Chunk) -> Batch | None:
        """A text stream takes no chunks.

        Raises:
            UsageError: always.
        """
        raise UsageError("a text stream takes text (str, bytes or TextDelta parts), not chunks")

    def close(self) -> None:
        """Nothing is pending at the end of prose."""

    def final(self, *, strict: bool | None = None) -> str:
        """The whole text (an incomplete UTF-8 sequence at the end becomes U+FFFD)."""
        return "".join(self._texts) + self._decoder.decode(b"", True)

    def missing_paths(self) -> list[JSONPath]:
        """Prose has no paths."""
        return []


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
