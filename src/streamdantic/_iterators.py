"""The iterator shells `collect` and `collect_batch` return, around a generator they own.

`GeneratorIterator` and its async twin `AsyncGeneratorIterator` iterate the generator, close
it (so a loop left early closes the file or iterator it reads at once) and are context
managers that close it on exit. A subclass sets ``self._generator`` and adds what it
reports (skipped items, a summary).
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

__all__ = ["AsyncGeneratorIterator", "GeneratorIterator"]

T = TypeVar("T")


class _PyShell:
    """`_speedups.GeneratorShell` in Python, when the extension is not built."""

    __slots__ = ("_generator",)
    _generator: Iterator[Any]

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Any:
        return next(self._generator)


def _shell() -> type[_PyShell]:
    if os.environ.get("STREAMDANTIC_PURE_PYTHON", "") not in ("", "0"):
        return _PyShell
    try:
        from ._speedups import GeneratorShell
    except ImportError:  # pragma: no cover - the extension is built here
        return _PyShell
    return GeneratorShell  # type: ignore[return-value]


# The compiled base hands each item on in C: a loop over `collect(...)` then costs what a
# loop over its bare generator costs (a Python __next__ was about 5% of collect's time on
# small records). It has the `_generator` slot; subclasses must not declare it again.
_Shell = _shell()


class GeneratorIterator(_Shell, Iterator[T], Generic[T]):  # type: ignore[valid-type,misc]
    """An iterator over the generator it owns; a context manager that closes it."""

    __slots__ = ()
    _generator: Generator[T, None, None]

    if TYPE_CHECKING:

        def __iter__(self) -> Self: ...

        def __next__(self) -> T: ...

    def close(self) -> None:
        """Stop early: close what is being read (a file opened for you, an iterator source)."""
        self._generator.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncGeneratorIterator(AsyncIterator[T], Generic[T]):
    """The async twin of `GeneratorIterator`."""

    __slots__ = ()
    _generator: AsyncGenerator[T, None]

    def __aiter__(self) -> Self:
        return self

    def __anext__(self) -> Awaitable[T]:
        # The generator's own awaitable, not a coroutine around it: one object less per item.
        return self._generator.__anext__()

    async def aclose(self) -> None:
        """Stop early: close what is being read (a file opened for you, an iterator source)."""
        await self._generator.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
