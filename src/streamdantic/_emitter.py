"""The emitter stage: when an update goes out, what it carries, and the callbacks (sans-IO).

Strategy / invariants:
- The stages before it hand over what happened: `ingest(events, changes)` for the object,
  `add_part` for stream parts, `add_errors` for reported invalid values. The emitter keeps
  them pending until the next `Update`, which it builds, in `_build`, the one place updates
  are made; the pending lists become that update's tuples.
- The emission policy decides when: ``"changes"`` emits on every visible change,
  ``"completions"`` only when a value completed, `Throttle` at most once per interval (the
  first change at once), `Debounce` after a quiet period. A held update goes out at the next
  `maybe_emit` that allows it or at `poll(now)` once `next_deadline` has passed; the final
  update always goes out (`finish`).
- Time is an argument (`now`), never read here.
- Callbacks fire from the completion events in `ingest`, exactly once per completed value
  whatever the chunking or the policy; `on_final` fires once, after the final update is built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeAlias, TypeVar, cast

from ._events import Event
from ._parts import Part, Usage
from ._paths import JSONPath, match_path, parse_path
from ._update import Update, new_update
from ._validation import Changes, InvalidValue

__all__ = [
    "Callback",
    "Debounce",
    "EmitPolicy",
    "Emitter",
    "PartialView",
    "Throttle",
    "UpdateSource",
]

T = TypeVar("T")
Callback: TypeAlias = Callable[[Any], Any]


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


def check_policy(emit: Any) -> EmitPolicy:
    """Return `emit` if it is an emission policy; the ValueError lists the valid ones."""
    if not isinstance(emit, Throttle | Debounce) and emit not in _POLICY_WORDS:
        raise ValueError(
            f"emit must be one of {', '.join(map(repr, _POLICY_WORDS))}, "
            f"Throttle(n) or Debounce(s); got {emit!r}"
        )
    return emit  # type: ignore[no-any-return]


class PartialView(Protocol):
    """What has the partial object an update shows."""

    @property
    def partial(self) -> Any: ...


class UpdateSource(Protocol):
    """What an update shows besides the pending changes: read when it is built."""

    @property
    def partial(self) -> Any: ...
    @property
    def finish_reason(self) -> str | None: ...
    @property
    def usage(self) -> Usage | None: ...


_INF = float("inf")


class Emitter(Generic[T]):
    """Pending changes in, `Update`s out, as the emission policy allows.

    Args:
        emit: the emission policy (see `StreamCore`).
        source: where an update reads its partial, finish reason and usage.
        view: where it reads the partial instead, when that is nearer than `source` (the
            validator itself, saving the property hops through the stages per update).
    """

    __slots__ = (
        "_completed",
        "_count",
        "_deadline",
        "_debounce",
        "_element_callbacks",
        "_elements",
        "_emit",
        "_errors",
        "_every",
        "_events",
        "_field_callbacks",
        "_final_callbacks",
        "_interval",
        "_last_emit",
        "_parts",
        "_source",
        "_view",
        "held",
        "next_deadline",
        "timed",
    )

    def __init__(
        self, emit: EmitPolicy, source: UpdateSource, view: PartialView | None = None
    ) -> None:
        self._emit = check_policy(emit)
        self._interval = 1 / emit.per_second if isinstance(emit, Throttle) else 0.0
        self._every = emit == "changes"  # the default: every change, at once
        self._debounce = isinstance(emit, Debounce)
        #: True for the policies that keep time (`Throttle`, `Debounce`): for the others the
        #: `now` of `maybe_emit` and `poll` changes nothing, so an I/O layer reads no clock.
        self.timed = isinstance(emit, Throttle | Debounce)
        self._source = source
        self._view: PartialView = source if view is None else view
        # What the next update will carry.
        self._events: list[Event] = []
        self._completed: list[JSONPath] = []
        self._elements: list[tuple[JSONPath, Any]] = []
        self._errors: list[InvalidValue] = []
        self._parts: list[Part] = []
        self.held = False  # a visible change not yet emitted
        self._last_emit = -_INF
        self._deadline = _INF  # Debounce: when the held update goes out
        #: When `poll` should next be called (``inf`` when no update is held): a plain
        #: attribute, kept up to date where `held` changes, because the I/O layer reads it
        #: once per item.
        self.next_deadline = _INF
        self._count = 0
        self._field_callbacks: list[tuple[JSONPath, Callback]] = []
        self._element_callbacks: list[tuple[JSONPath, Callback]] = []
        self._final_callbacks: list[Callback] = []

    # ------------------------------------------------------------------ callbacks

    def on_field(self, path: str | Sequence[str | int], callback: Callback) -> None:
        """Call `callback(value)` once when the field at `path` completes."""
        self._field_callbacks.append((parse_path(path), callback))

    def on_element(self, path: str | Sequence[str | int], callback: Callback) -> None:
        """Call `callback(element)` once for each element of the list at `path`."""
        self._element_callbacks.append((parse_path(path), callback))

    def on_final(self, callback: Callback) -> None:
        """Call `callback(final)` once with the final object."""
        self._final_callbacks.append(callback)

    # ------------------------------------------------------------------ input

    def ingest(self, events: list[Event], changes: Changes) -> None:
        """Take one batch of object events and what they changed."""
        self._events.extend(events)
        if changes.completed:
            self._completed.extend(changes.completed)
        if changes.elements:
            self._elements.extend(changes.elements)
        if self._field_callbacks or self._element_callbacks:
            self._run_callbacks(changes)
        if changes.changed:
            self.held = True
            if self._debounce:
                self._deadline = self.next_deadline = _INF  # re-armed in maybe_emit
            elif self._interval:
                self.next_deadline = self._last_emit + self._interval
        elif changes.completed and self._emit == "completions":
            self.held = True

    def take(self, events: list[Event], changes: Changes, now: float, out: list[Any]) -> None:
        """`ingest` then `maybe_emit` in one call (the stream core's per-batch step)."""
        if self._every and not self.held and not (self._field_callbacks or self._element_callbacks):
            # The default policy, inline: ingest and build at once, as `ingest` and
            # `maybe_emit` would. (With nothing pending, a stream's text step builds the
            # update itself, without this call: `_text_step.py`.)
            completed, elements = changes.completed, changes.elements
            self._events.extend(events)
            if completed:
                self._completed.extend(completed)
            if elements:
                self._elements.extend(elements)
            if changes.changed:
                out.append(self._build(False, None))
            return
        self.ingest(events, changes)
        if self.held:
            self.maybe_emit(now, out)

    def add_part(self, part: Part) -> None:
        """A stream part for the next update's `parts` (it makes no update on its own)."""
        self._parts.append(part)

    def add_errors(self, errors: Sequence[InvalidValue]) -> None:
        """Invalid completed values for the next update's `errors`."""
        self._errors.extend(errors)

    # ------------------------------------------------------------------ output

    def maybe_emit(self, now: float, out: list[Any]) -> None:
        """Append an update to `out` if one is held and the policy allows it now."""
        if not self.held:
            return
        if self._every:  # the default policy, inline: it runs once per update (untimed)
            out.append(self._build(False, None))
            self.held = False
            return
        emit = self._emit
        if emit == "completions":
            if self._completed:
                self._emit_update(now, out)
            else:
                self.held = False
        elif isinstance(emit, Throttle):
            if now - self._last_emit >= self._interval:
                self._emit_update(now, out)
        else:
            seconds = cast(Debounce, emit).seconds  # "changes" returned above
            self._deadline = self.next_deadline = now + seconds
            if seconds == 0:
                self._emit_update(now, out)

    def poll(self, now: float) -> list[Any]:
        """The held update, if its throttle interval or debounce delay has passed."""
        out: list[Any] = []
        if self.held and now >= self.next_deadline:
            self._emit_update(now, out)
        return out

    def finish(self, final: Any) -> Update[T]:
        """The final update (``done=True``), then the `on_final` callbacks."""
        update = self._build(True, final)
        for callback in self._final_callbacks:
            callback(final)
        return update

    # ------------------------------------------------------------------ internals

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

    def _emit_update(self, now: float, out: list[Any]) -> None:
        out.append(self._build(False, None))
        self._last_emit = now
        self.held = False
        self._deadline = self.next_deadline = _INF

    def _build(self, done: bool, final: Any) -> Update[T]:
        # The one place an Update is made: the pending lists become its tuples and are
        # emptied for the next one (inline rather than a helper per list: this runs once
        # per update, usually per chunk, and most of the lists are empty).
        source = self._source
        events = self._events
        completed = self._completed
        elements = self._elements
        errors = self._errors
        parts = self._parts
        update: Update[T] = new_update(
            Update,
            self._count,
            self._view.partial,
            tuple(events) if events else (),
            tuple(completed) if completed else (),
            tuple(elements) if elements else (),
            tuple(errors) if errors else (),
            tuple(parts) if parts else (),
            done,
            final,
            source.finish_reason,
            source.usage,
        )
        if events:
            events.clear()
        if completed:
            completed.clear()
        if elements:
            elements.clear()
        if errors:
            errors.clear()
        if parts:
            parts.clear()
        self._count += 1
        return update
