"""The iterator shells `collect` and `collect_batch` return, around a generator they own.

`GeneratorIterator` and its async twin `AsyncGeneratorIterator` iterate the generator, close
it (so a loop left early closes the file or iterator it reads at once) and are context
managers that close it on exit. A subclass sets ``self._generator`` and adds what it
reports (skipped items, a summary).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from types import TracebackType
from typing import Generic, Self, TypeVar

__all__ = ["AsyncGeneratorIterator", "GeneratorIterator"]

T = TypeVar("T")


class GeneratorIterator(Iterator[T], Generic[T]):
    """An iterator over the generator it owns; a context manager that closes it."""

    __slots__ = ()
    _generator: Generator[T, None, None]

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> T:
        return next(self._generator)

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

    async def __anext__(self) -> T:
        return await self._generator.__anext__()

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
