"""A sync iterator read from the event loop in worker threads, a small batch per thread hop.

`acollect` (its pull path) and `acollect_batch` do their parsing and validation in a worker
thread so that the event loop stays free, and hand the items over in batches: one thread hop
per item would cost more than the work on small items, and a batch as large as a read would
keep a read's worth of validated objects alive on the event loop side at once (the cyclic
GC then traverses them again and again, see docs/performance.md).

Invariants:
- Items are delivered in order and none is lost: an exception raised by the iterator in the
  middle of a batch is raised after the items that preceded it were yielded.
- At most one thread runs the iterator, and never past the current batch: a cancelled task
  waits for the batch being made (``anyio.to_thread.run_sync`` is not abandoned), then the
  iterator is closed (``close()``, shielded) before the cancellation goes on.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterator
from typing import TypeVar

import anyio
import anyio.to_thread

__all__ = ["iterate_in_thread"]

T = TypeVar("T")


def _take(
    iterator: Iterator[T],
    max_items: int,
    progress: Callable[[], int] | None,
    max_progress: int,
    errors: list[Exception],
) -> tuple[list[T], bool]:
    """The next batch: ``(items, done)``; runs in the worker thread. An exception goes to
    `errors`, not into the result: the thread library may hold a result for a while after
    delivering it (trio's worker does until it is scheduled again), and an error holds the
    frames of the loop, with its source."""
    out: list[T] = []
    append = out.append
    start: int | None = None  # the progress when the first item was made
    try:
        for item in iterator:
            append(item)
            if len(out) >= max_items:
                return out, False
            if progress is not None:
                if start is None:
                    start = progress()
                elif progress() - start >= max_progress:
                    return out, False
    except Exception as exc:  # raised after the items before it, in the event loop
        errors.append(exc)
        return out, True
    return out, True


async def iterate_in_thread(
    iterator: Iterator[T],
    close: Callable[[], object],
    *,
    max_items: int,
    progress: Callable[[], int] | None = None,
    max_progress: int = 0,
) -> AsyncGenerator[list[T], None]:
    """Yield the items of `iterator` in batches (lists), each made in a worker thread, of at
    most `max_items`. Batches, not items: the caller's loop yields them on, and one async
    generator less per item costs noticeably less on small items.

    Args:
        iterator: a sync iterator (a generator that reads and validates).
        close: called once at the end, in a worker thread, even on cancellation (shielded):
            the generator's ``close``, which closes what it opened.
        max_items: the most items made per thread hop.
        progress: a counter that grows as the iterator reads (bytes read); a batch also
            ends at the first item made after it grew by `max_progress` since the batch's
            first item, so that a batch holds about one read's items, however large.
        max_progress: see `progress`.
    """
    done = False
    errors: list[Exception] = []
    try:
        while not done:
            items, done = await anyio.to_thread.run_sync(
                _take, iterator, max_items, progress, max_progress, errors
            )
            if items:
                yield items
            del items
            if errors:
                error = errors.pop()
                try:
                    raise error
                finally:
                    del error  # not kept by this frame: error -> traceback -> frame -> error
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(close)
