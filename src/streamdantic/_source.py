"""The source router stage: one fed item in, uniform stream items out (sans-IO).

Strategy / invariants:
- A stream's source yields text (`str`, `bytes`), `Chunk`s, stream `Part`s, or provider
  events. `SourceRouter.feed(item)` hands each on to one of three handlers given at
  construction: `on_text` (text, and the text of a `TextDelta`), `on_chunk` or `on_part`.
  Nothing is buffered: the handlers run before `feed` returns, in the order of the items.
- A provider event goes through an adapter from the registry next to the adapters
  (`adapters/_registry.py`, which imports a known provider's adapter module on first sight):
  the factory is called once per stream, on the first provider event, and the adapter it
  returns converts every later event (it may keep state across them; an event of another
  type must still have a registered adapter). What it yields is routed like any fed item.
- A `Part` of a type the stages below do not know, or an item no adapter knows, is an
  `AdapterError` carrying the item.
- Hot path: an event of the stream's adapter type is recognised first (one identity test).
  An adapter may offer ``text_of(event)``: the event's text when it carries nothing else
  (the common token delta), else None; the router then hands that text to `on_text`
  without a `TextDelta` and a tuple per event. ``text_of`` never raises (it returns None
  for an event of unknown shape, which the adapter itself then reports).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ._deltas import Chunk
from ._exceptions import AdapterError
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
from .adapters._registry import adapter_factory

__all__ = ["SourceRouter"]

#: The part types the stages below handle (`TextDelta` is routed as text).
PART_TYPES: frozenset[type] = frozenset(
    {
        Finish,
        ProviderErrorPart,
        ReasoningDelta,
        RefusalDelta,
        ToolCallDelta,
        ToolCallDone,
        ToolResult,
        Usage,
    }
)


class SourceRouter:
    """Route fed items to the text, chunk and part handlers.

    Args:
        on_text: called with each piece of text (`str` or `bytes`, as fed).
        on_chunk: called with each `Chunk`.
        on_part: called with each stream `Part` other than `TextDelta`.
    """

    __slots__ = ("_adapter", "_adapter_type", "_on_chunk", "_on_part", "_on_text", "_text_of")

    def __init__(
        self,
        on_text: Callable[[str | bytes], None],
        on_chunk: Callable[[Chunk], None],
        on_part: Callable[[Part], None],
    ) -> None:
        self._on_text = on_text
        self._on_chunk = on_chunk
        self._on_part = on_part
        self._adapter: Callable[[Any], Iterable[Any]] | None = None
        self._adapter_type: type | None = None
        self._text_of: Callable[[Any], str | None] | None = None

    def feed(self, item: Any, /) -> None:
        """Route one item (and whatever an adapter turns it into).

        Raises:
            AdapterError: an item of a type no adapter knows, or an unknown `Part`.
        """
        kind = type(item)
        if kind is self._adapter_type:
            # A provider event of the type seen first (every event but the first): its
            # text alone when the adapter can tell, else its parts.
            text_of = self._text_of
            if text_of is not None:
                text = text_of(item)
                if text is not None:
                    self._on_text(text)
                    return
            parts = self._adapter(item)  # type: ignore[misc]
        elif kind is str or kind is bytes or kind is bytearray:
            self._on_text(item)
            return
        elif kind is TextDelta:
            self._on_text(item.text)
            return
        elif kind is Chunk:
            self._on_chunk(item)
            return
        elif isinstance(item, Part):
            if kind not in PART_TYPES:
                raise AdapterError(f"unknown stream part {item!r}", event=item)
            self._on_part(item)
            return
        else:
            parts = self._adapt(item)  # the first provider event, or one of another type
        # The adapter's text parts straight to `on_text`, the others routed as fed (the
        # loop written out here and in `feed_event`: a helper would be a call per event).
        on_text = self._on_text
        for converted in parts:
            if type(converted) is TextDelta:
                on_text(converted.text)
            else:
                self.feed(converted)

    def feed_event(self, event: Any, /) -> None:
        """Route the parts of a provider event of the adapter's type whose ``text_of`` gave
        None: `feed` without asking ``text_of`` again (the stream's text step asked it,
        `_text_step.py`)."""
        on_text = self._on_text
        for converted in self._adapter(event):  # type: ignore[misc]
            if type(converted) is TextDelta:
                on_text(converted.text)
            else:
                self.feed(converted)

    def _adapt(self, item: Any) -> Iterable[Any]:
        adapter = self._adapter
        kind = type(item)
        if adapter is None or kind is not self._adapter_type:
            factory = adapter_factory(item)
            if factory is None:
                raise AdapterError(
                    f"no adapter for {kind.__module__}.{kind.__qualname__}: streams "
                    "take str, bytes, Chunk, stream parts or provider events "
                    "(see streamdantic.adapters)",
                    event=item,
                )
            if adapter is None:
                adapter = self._adapter = factory()
                self._adapter_type = kind
                self._text_of = getattr(adapter, "text_of", None)
        return adapter(item)
