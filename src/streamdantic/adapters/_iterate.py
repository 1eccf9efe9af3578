"""The loops the provider adapters share: a converter over a sync or an async stream (sans-IO).

Each adapter's converter is a callable from one provider event to the stream parts it
means; these two loops run it over a whole stream, so each ``*_events`` function and its
async twin are one line over the same converter instead of two copies of the loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from .._parts import Part

__all__ = ["aconvert_all", "convert_all"]

Converter = Callable[[Any], Iterable[Part]]


def convert_all(convert: Converter, events: Iterable[Any], /) -> Iterator[Part]:
    """The parts of every event of `events`, in order."""
    for event in events:
        yield from convert(event)


async def aconvert_all(
    convert: Converter, events: AsyncIterable[Any] | Iterable[Any], /
) -> AsyncIterator[Part]:
    """`convert_all` over an async or a sync iterable."""
    if isinstance(events, AsyncIterable):
        async for event in events:
            for part in convert(event):
                yield part
    else:
        for event in events:
            for part in convert(event):
                yield part
