"""The stream core's per-item step for text, and the untimed loop that drives it (sans-IO).

Strategy / invariants:
- `TextStep(core, pipeline, emitter, router)` is `StreamCore.feed(item)` for the
  configuration nearly every stream has (JSON content, the default policy ``"changes"``):
  called with one item, it returns the same list of outputs `feed` would. A piece of text
  (`str`/`bytes`, or the text an adapter's ``text_of`` gives for an event of the type the
  source router knows) with nothing pending in the emitter and no callback registered goes
  straight through: appended to the pipeline's raw text, fed to its parser, the events given
  to the pipeline's `changes_of` (the validator's `apply`), and a visible change built into
  an `Update` as `Emitter.take` would, the emitter's count incremented. Everything else is
  handed back to the stages, where the state lives:
    - before the item is consumed (the stream is closed, the emitter holds an update or a
      pending list, a callback is registered, the parser does not exist yet, any other
      item): ``core._feed(item)``, the general path;
    - an adapter's event whose ``text_of`` is None: ``core._feed_event(item)``, which routes
      its parts without asking ``text_of`` again;
    - a batch with invalid values (raised or reported) or no visible change:
      ``core._take(events, changes, 0.0, out)``.
  The step keeps no state of its own: the update count is the emitter's ``_count``, the
  parser the pipeline's, ``closed`` the core's; it reads them where they are, per item.
- `outputs(step, iterator, every)` is `Stream._outputs`'s untimed loop: each output of
  ``step(item)`` for each item (only the `Update`s unless `every`).
- Both are compiled (`_speedups.TextStep`, `_speedups.Outputs`): then a text item that makes
  an update, or nothing, crosses no Python frame of the stream layer (the prose workload
  makes an update for nearly every chunk, so the glue between the stages was paid per
  chunk: docs/performance.md). `PyTextStep` and `py_outputs` are their pure-Python twins,
  used when the extension is not built or ``STREAMDANTIC_PURE_PYTHON=1`` is set; a
  differential test (tests/property/test_text_step_compiled.py) runs both.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ._emitter import Emitter
from ._pipeline import ObjectPipeline
from ._source import SourceRouter
from ._update import Update, new_update

if TYPE_CHECKING:
    from ._stream_core import StreamCore

__all__ = ["COMPILED", "PyTextStep", "TextStep", "outputs", "py_outputs"]

Step = Callable[[Any], list[Any]]


class PyTextStep:
    """The pure-Python twin of `_speedups.TextStep` (see the module docstring)."""

    __slots__ = (
        "_changes_of",
        "_core",
        "_emitter",
        "_feed",
        "_feed_event",
        "_pipeline",
        "_router",
        "_take",
    )

    def __init__(
        self,
        core: StreamCore[Any],
        pipeline: ObjectPipeline[Any],
        emitter: Emitter[Any],
        router: SourceRouter,
    ) -> None:
        self._core = core
        self._pipeline = pipeline
        self._emitter = emitter
        self._router = router
        self._feed = core._feed
        self._take = core._take
        self._feed_event = core._feed_event
        self._changes_of = pipeline.changes_of

    def __call__(self, item: Any) -> list[Any]:
        kind = type(item)
        if kind is str or kind is bytes:
            return self._text(item) if self._ready() else self._feed(item)
        router = self._router
        text_of = router._text_of
        if kind is not router._adapter_type or text_of is None or not self._ready():
            return self._feed(item)
        text = text_of(item)
        if text is None:
            return self._feed_event(item)
        return self._text(text)

    def _ready(self) -> bool:
        emitter = self._emitter
        return not (
            self._core._closed
            or emitter.held
            or emitter._events
            or emitter._completed
            or emitter._elements
            or emitter._errors
            or emitter._parts
            or emitter._field_callbacks
            or emitter._element_callbacks
            or self._pipeline._parser is None
        )

    def _text(self, text: Any) -> list[Any]:
        pipeline = self._pipeline
        pipeline._raw.append(text)
        events = pipeline._parser.feed(text)  # type: ignore[union-attr]  # checked by _ready
        if not events:
            return []
        changes = self._changes_of(events)
        if changes.errors or not changes.changed:
            out: list[Any] = []
            self._take(events, changes, 0.0, out)
            return out
        emitter = self._emitter
        completed, elements = changes.completed, changes.elements
        source = emitter._source
        count = emitter._count
        update = new_update(
            Update,
            count,
            emitter._view.partial,
            tuple(events),
            tuple(completed) if completed else (),
            tuple(elements) if elements else (),
            (),
            (),
            False,
            None,
            source.finish_reason,
            source.usage,
        )
        emitter._count = count + 1
        return [update]


def py_outputs(step: Step, iterator: Iterable[Any], every: bool) -> Iterator[Any]:
    """The pure-Python twin of `_speedups.Outputs`: each of ``step(item)``'s outputs for
    each item of `iterator` (only the `Update`s unless `every`)."""
    for item in iterator:
        for out in step(item):
            if every or type(out) is Update:
                yield out


def _compiled() -> Any:
    """`_speedups` set up for the step, or None when the C extension is not built or
    ``STREAMDANTIC_PURE_PYTHON=1`` is in the environment."""
    if os.environ.get("STREAMDANTIC_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from . import _speedups
    except ImportError:  # pragma: no cover - the extension is built here
        return None
    _speedups.setup_text_step(Emitter, ObjectPipeline, SourceRouter)
    return _speedups


_SPEEDUPS = _compiled()
COMPILED = _SPEEDUPS is not None
"""True when `TextStep` and `outputs` are the compiled ones."""

#: ``TextStep(core, pipeline, emitter, router)``: the step `StreamCore` builds.
TextStep: Callable[[StreamCore[Any], ObjectPipeline[Any], Emitter[Any], SourceRouter], Step] = (
    PyTextStep if _SPEEDUPS is None else _SPEEDUPS.TextStep
)
#: ``outputs(step, iterator, every)``: the loop `Stream._outputs` runs when untimed.
outputs: Callable[[Step, Iterable[Any], bool], Iterator[Any]] = (
    py_outputs if _SPEEDUPS is None else _SPEEDUPS.Outputs
)
