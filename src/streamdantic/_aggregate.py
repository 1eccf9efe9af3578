"""The entry points users call: `stream`/`astream` and `stream_to_object`/`astream_to_object`.

Thin sync and async twins over the sans-IO `StreamCore`: each only waits for the next
source item, feeds it, and hands on what the core produced. Both close the source when the
consumer stops early (break, `close()`/`aclose()`, an exception, or task cancellation), so
an HTTP response is released at once rather than by the garbage collector.

Timers (throttle, debounce) are checked whenever an item arrives and at the end: a held
update is delivered no later than the next item or the end of the stream.

Some SDKs raise, rather than yield, an error the provider sent mid-stream. When iterating the
source raises an exception an adapter registered a translator for
(``register_adapter(..., errors=...)``), the translated `ProviderErrorPart` ends the stream
through the core like an error event: `ProviderError` with the partial, chained to the SDK's.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from types import TracebackType
from typing import (
    Any,
    Final,
    Generic,
    Literal,
    Protocol,
    Self,
    TypedDict,
    TypeVar,
    Unpack,
    overload,
)

import anyio

from ._deltas import Profile
from ._exceptions import (
    StreamCancelledError,
    StreamdanticError,
    UsageError,
)
from ._options import check_options
from ._parts import Part
from ._paths import PathLike, parse_path
from ._stream_core import EmitPolicy, Partials, StreamCore, Update, _error_part
from ._text_step import outputs
from .adapters._registry import open_source

__all__ = [
    "AsyncStream",
    "ObjectOptions",
    "Stream",
    "StreamOptions",
    "astream",
    "astream_to_object",
    "astream_to_text",
    "stream",
    "stream_to_object",
    "stream_to_text",
]

T = TypeVar("T")
_S = TypeVar("_S", bound="_StreamBase[Any]")
Clock = Callable[[], float]
_FILE_CHUNK = 64 * 1024  # bytes read at a time from a path source, as `collect` does


class ObjectOptions(TypedDict, total=False):
    """The options of `stream_to_object` / `astream_to_object`: those of `StreamOptions`
    except ``emit`` (only the final object is returned)."""

    tools: Mapping[str, Any] | None
    on_invalid: Literal["raise", "report"]
    lenient: bool
    profile: Profile
    strict: bool | None
    clock: Clock
    partials: Partials


class StreamOptions(ObjectOptions, total=False):
    """The options every stream entry point takes as keywords (`stream`, `astream`, `Stream`,
    `AsyncStream`; `stream_to_object` and `astream_to_object` all but ``emit``), written once.

    Attributes:
        emit: the emission policy: ``"changes"`` (default: every visible change,
            deduplicated), ``"completions"`` (only when a field or element completes),
            `Throttle(n)` or `Debounce(s)`. The final update is always delivered.
        on_invalid: ``"raise"`` (default) a completed value that fails validation at once as
            `StreamValidationError`, or ``"report"`` it in `Update.errors` and go on.
        partials: ``"snapshot"`` (default): each `Update.partial` is a value that never
            changes afterwards, sharing unchanged subtrees with the previous update's;
            ``"live"``: one object changed in place by later updates (the hottest loops,
            when no partial is kept past the next update).
        tools: tool name -> model of its arguments, for typed partial tool-call arguments.
            With tools and no model, the text beside the tool calls is prose.
        lenient: skip prose or a code fence around the JSON text (default False).
        profile: the delta profile of `Chunk` sources: ``"nested"`` (default) or
            ``"compatible"`` (docs/deltas.md).
        strict: pydantic strict mode for the final validation (default: the model's own).
        clock: monotonic clock in seconds, for throttle and debounce (default
            `time.monotonic`; replaceable in tests).
    """

    emit: EmitPolicy


_OBJECT_OPTIONS: Final = ObjectOptions.__optional_keys__
_STREAM_OPTIONS: Final = StreamOptions.__optional_keys__


class _StreamBase(Generic[T]):
    """What the sync and async streams share: the core, options and read-only state."""

    _asynchronous: bool = False  # whether this twin reads async iterables

    def __init__(
        self,
        source: Any,
        /,
        model: type[T] | Any = None,
        *,
        text: bool = False,
        **options: Unpack[StreamOptions],
    ) -> None:
        check_options(options, _STREAM_OPTIONS, type(self).__name__)
        core_options: dict[str, Any] = dict(options)
        clock = core_options.pop("clock", time.monotonic)
        # A str or bytes source is the whole JSON text (as for `collect`), a path a file of it.
        if isinstance(source, str | bytes | bytearray):
            source = (source,)
        elif isinstance(source, os.PathLike):
            source = self._read_file(source)
        elif not hasattr(source, "__iter__") and not hasattr(source, "__aiter__"):
            # An object that gives its events by a method (an agent run's result).
            source = open_source(source, asynchronous=self._asynchronous)
        self._source = source
        self._core: StreamCore[T] = StreamCore(model, text=text, **core_options)
        self._clock = clock
        self._started = False
        self._closed = False
        self._generators: list[Any] = []  # closed by close()/aclose(), innermost last

    def _read_file(self, path: os.PathLike[str]) -> Any:
        raise NotImplementedError  # pragma: no cover - each twin reads files its own way

    def _track(self, generator: Any) -> Any:
        self._generators.append(generator)
        return generator

    def _start(self) -> None:
        if self._started:
            raise UsageError(
                "this stream was already consumed; a stream can be iterated once "
                "(start a new one to read the source again)"
            )
        self._started = True

    @property
    def partial(self) -> Any:
        """The last partial object (typed when there is a model); kept after errors. A
        snapshot, like `Update.partial` (unless ``partials="live"``)."""
        return self._core.partial

    @property
    def final(self) -> T | None:
        """The validated final object, once the stream has ended successfully."""
        return self._core.final

    @property
    def finish_reason(self) -> str | None:
        """The provider's finish reason, when it sent one."""
        return self._core.finish_reason

    @property
    def usage(self) -> Any:
        """The provider's token usage (a `Usage` part), when it sent one."""
        return self._core.usage

    @property
    def raw_text(self) -> str | None:
        """All text received for the object (``None`` for chunk sources)."""
        return self._core.raw_text

    def on_field(self, path: PathLike, callback: Callable[[Any], Any]) -> Self:
        """Call `callback(value)` once when the field at `path` completes; returns self."""
        self._core.on_field(path, callback)
        return self

    def on_element(self, path: PathLike, callback: Callable[[Any], Any]) -> Self:
        """Call `callback(element)` once per element of the list at `path`; returns self."""
        self._core.on_element(path, callback)
        return self

    def on_final(self, callback: Callable[[Any], Any]) -> Self:
        """Call `callback(final)` once with the final validated object; returns self."""
        self._core.on_final(callback)
        return self


class Stream(_StreamBase[T]):
    """A synchronous stream of typed partial updates. Iterate it, or use `events()` or
    `elements(path)`; one iteration per stream. Use it as a context manager (or call
    `close()`) to release the source early."""

    def _read_file(self, path: os.PathLike[str]) -> Generator[bytes, None, None]:
        with open(path, "rb") as file:
            while chunk := file.read(_FILE_CHUNK):
                yield chunk

    def __iter__(self) -> Iterator[Update[T]]:
        return self._track(self._outputs(updates_only=True))  # type: ignore[no-any-return]

    def events(self) -> Iterator[Update[T] | Part]:
        """Everything, in order: stream parts (reasoning, tool calls, usage, ...) as they
        arrive, and updates of the object."""
        return self._track(self._outputs())  # type: ignore[no-any-return]

    def elements(self, path: PathLike) -> Iterator[Any]:
        """Each element of the list at `path` (``"*"`` wildcards allowed), validated,
        exactly once, as soon as it closes.

        Raises:
            ValueError: `path` is not a path (at once, not when iterating).
        """
        return self._track(self._elements(parse_path(path)))  # type: ignore[no-any-return]

    def _elements(self, path: PathLike) -> Generator[Any, None, None]:
        found: deque[Any] = deque()
        self._core.on_element(path, found.append)
        for _ in self._track(self._outputs()):
            while found:
                yield found.popleft()
        while found:
            yield found.popleft()

    def _outputs(self, updates_only: bool = False) -> Generator[Any, None, None]:
        # One generator between the core and the user's loop, and the clock read per item
        # only for the policies that keep time: both are paid once per update or per chunk.
        # Untimed, the loop over the items is `_text_step.outputs` (compiled where built)
        # around the core's step: a text item that makes an update, or nothing, runs no
        # Python code of the stream layer but this generator's resumption.
        self._start()
        core = self._core
        feed = core.feed
        clock = self._clock if core.timed else None
        every = not updates_only
        iterator = iter(self._source)
        try:
            try:
                if clock is None:
                    yield from outputs(core.step, iterator, every)
                else:
                    for item in iterator:
                        now = clock()  # one read per item: the poll and the feed share it
                        if core.next_deadline <= now:
                            yield from _kept(core.poll(now), every)
                        for out in feed(item, now):
                            if every or type(out) is Update:
                                yield out
            except Exception as exc:
                part = _error_part(exc)
                if part is None:
                    raise
                # An SDK raised for an error the provider sent mid-stream: end the stream
                # through the core, so the ProviderError keeps the partial.
                yield from _kept(feed(part, clock() if clock else 0.0), every)
                try:
                    yield from _kept(core.close(clock() if clock else 0.0), every)
                except StreamdanticError as error:
                    raise error from exc
                return
            yield from _kept(core.close(clock() if clock else 0.0), every)
        finally:
            self._close_source(iterator)

    def _close_source(self, iterator: Any) -> None:
        self._closed = True
        for obj in (iterator, self._source):
            close = getattr(obj, "close", None)
            if callable(close):
                close()

    def close(self) -> None:
        """Stop reading and close the source; `partial` stays readable."""
        for generator in self._generators:
            generator.close()
        if not self._closed:
            self._close_source(self._source)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncStream(_StreamBase[T]):
    """The async twin of `Stream`: ``async for update in astream(...)``, `events()`,
    `elements(path)`; an async context manager that closes the source on exit."""

    _asynchronous = True

    async def _read_file(self, path: os.PathLike[str]) -> AsyncGenerator[bytes, None]:
        file = await anyio.open_file(path, "rb")
        try:
            while chunk := await file.read(_FILE_CHUNK):
                yield chunk
        finally:
            with anyio.CancelScope(shield=True):
                await file.aclose()

    def __aiter__(self) -> AsyncIterator[Update[T]]:
        return self._track(self._outputs(updates_only=True))  # type: ignore[no-any-return]

    def events(self) -> AsyncIterator[Update[T] | Part]:
        """Everything, in order: stream parts and updates of the object."""
        return self._track(self._outputs())  # type: ignore[no-any-return]

    def elements(self, path: PathLike) -> AsyncIterator[Any]:
        """Each element of the list at `path`, validated, exactly once, as it closes.

        Raises:
            ValueError: `path` is not a path (at once, not when iterating).
        """
        return self._track(self._elements(parse_path(path)))  # type: ignore[no-any-return]

    async def _elements(self, path: PathLike) -> AsyncGenerator[Any, None]:
        found: deque[Any] = deque()
        self._core.on_element(path, found.append)
        async for _ in self._track(self._outputs()):
            while found:
                yield found.popleft()
        while found:
            yield found.popleft()

    async def _outputs(self, updates_only: bool = False) -> AsyncGenerator[Any, None]:
        # As in Stream._outputs: one generator, the clock read only for timed policies, and
        # the core's step per item when untimed.
        self._start()
        core = self._core
        feed = core.feed
        step = core.step
        clock = self._clock if core.timed else None
        every = not updates_only
        source = self._source
        iterator: Any = source.__aiter__() if hasattr(source, "__aiter__") else iter(source)
        is_async = hasattr(iterator, "__anext__")
        now = 0.0
        try:
            try:
                while True:
                    if is_async:
                        try:
                            item = await iterator.__anext__()
                        except StopAsyncIteration:
                            break
                    else:
                        try:
                            item = next(iterator)
                        except StopIteration:
                            break
                        await anyio.lowlevel.checkpoint()  # stay cancellable on sync sources
                    if clock is not None:
                        now = clock()  # one read per item: the poll and the feed share it
                        if core.next_deadline <= now:
                            for out in _kept(core.poll(now), every):
                                yield out
                    for out in feed(item, now) if clock is not None else step(item):
                        if every or type(out) is Update:
                            yield out
            except Exception as exc:
                part = _error_part(exc)
                if part is None:
                    raise
                # As in Stream._outputs: the provider's error ends the stream, partial kept.
                for out in _kept(feed(part, clock() if clock else 0.0), every):
                    yield out
                try:
                    for out in _kept(core.close(clock() if clock else 0.0), every):
                        yield out
                except StreamdanticError as error:
                    raise error from exc
                return
            for out in _kept(core.close(clock() if clock else 0.0), every):
                yield out
        finally:
            # Shielded: cleanup must run even when the task is being cancelled.
            with anyio.CancelScope(shield=True):
                await self._aclose_source(iterator)

    async def _aclose_source(self, iterator: Any) -> None:
        self._closed = True
        for obj in (iterator, self._source):
            aclose = getattr(obj, "aclose", None)
            if callable(aclose):
                await aclose()
                continue
            close = getattr(obj, "close", None)
            if callable(close):
                result = close()
                if hasattr(result, "__await__"):
                    await result

    async def aclose(self) -> None:
        """Stop reading and close the source; `partial` stays readable."""
        with anyio.CancelScope(shield=True):
            for generator in self._generators:
                await generator.aclose()
            if not self._closed:
                await self._aclose_source(self._source)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _kept(outputs: list[Any], every: bool) -> list[Any]:
    """All of a feed's, poll's or close's outputs, or only its updates."""
    return outputs if every else [out for out in outputs if type(out) is Update]


@overload
def stream(
    source: Iterable[Any] | os.PathLike[str], /, model: type[T], **options: Unpack[StreamOptions]
) -> Stream[T]: ...
@overload
def stream(
    source: Iterable[Any] | os.PathLike[str],
    /,
    model: None = None,
    **options: Unpack[StreamOptions],
) -> Stream[Any]: ...
def stream(
    source: Iterable[Any] | os.PathLike[str], /, model: Any = None, **options: Unpack[StreamOptions]
) -> Stream[Any]:
    """Stream typed partial objects from `source`.

    Args:
        source: an iterable of `str`, `bytes`, `Chunk`s, stream parts, or provider stream
            events (an openai `Stream`, Anthropic events, ...); a `str` or `bytes` is the
            whole JSON text, and a `pathlib.Path` a file of it (as for `collect`).
        model: the type of the object (a pydantic model, or any type pydantic validates);
            ``None`` for plain JSON values.
        options: the stream options, each documented once in `StreamOptions` (``emit``,
            ``on_invalid``, ``partials``, ``tools``, ``lenient``, ``profile``, ``strict``,
            ``clock``).

    Returns:
        A `Stream`: iterate it for `Update`s; see also `Stream.events`, `Stream.elements`.

    Raises:
        TypeError: an option this function does not take (mypy reports it too).
        ValueError: an option value that is not one of its words (the message lists them).

    Raises (while iterating):
        JSONParseError, DeltaError, StreamValidationError, TruncatedStreamError,
        ProviderError (ContentFilterError, RefusalError), AdapterError, UsageError.
    """
    check_options(options, _STREAM_OPTIONS, "stream")
    return Stream(source, model, **options)


class _StreamedRun(Protocol):
    """A source that gives its events by a method: the OpenAI Agents SDK's
    ``RunResultStreaming`` (`streamdantic.adapters.openai_agents`)."""

    def stream_events(self) -> AsyncIterator[Any]: ...


# Typed like `stream`: with a model, the final object is that model.
@overload
def astream(
    source: AsyncIterable[Any] | Iterable[Any] | os.PathLike[str] | _StreamedRun,
    /,
    model: type[T],
    **options: Unpack[StreamOptions],
) -> AsyncStream[T]: ...
@overload
def astream(
    source: AsyncIterable[Any] | Iterable[Any] | os.PathLike[str] | _StreamedRun,
    /,
    model: None = None,
    **options: Unpack[StreamOptions],
) -> AsyncStream[Any]: ...
def astream(
    source: AsyncIterable[Any] | Iterable[Any] | os.PathLike[str] | _StreamedRun,
    /,
    model: Any = None,
    **options: Unpack[StreamOptions],
) -> AsyncStream[Any]:
    """The async twin of `stream`: `source` may be an async or a sync iterable, or the OpenAI
    Agents SDK's ``RunResultStreaming`` (its ``stream_events()``; leaving the stream early
    cancels the run); the same options (`StreamOptions`)."""
    check_options(options, _STREAM_OPTIONS, "astream")
    return AsyncStream(source, model, **options)


def stream_to_object(
    source: Iterable[Any] | os.PathLike[str],
    /,
    model: type[T],
    *,
    timeout: float | None = None,
    **options: Unpack[ObjectOptions],
) -> T:
    """Consume a stream and return the final, validated object.

    Args:
        source, model: as for `stream`.
        timeout: seconds after which the stream is cancelled (checked as items arrive).
        options: as for `stream` (`ObjectOptions`: all of `StreamOptions` but ``emit``,
            since only the final object is returned).

    Raises:
        TruncatedStreamError: the stream ended before the object was complete.
        StreamValidationError: the output does not fit the model.
        StreamCancelledError: the timeout passed (``.partial`` holds what arrived).
        ProviderError: the provider reported an error (``.partial`` kept).
        TypeError: an option this function does not take.
    """
    check_options(options, _OBJECT_OPTIONS, "stream_to_object")
    # Nothing sees the partials but an error's `.partial`, taken at the end: live is enough.
    options.setdefault("partials", "live")
    s = stream(source, model, emit="completions", **options)
    clock = options.get("clock", time.monotonic)
    deadline = clock() + timeout if timeout is not None else None
    outputs = s._outputs()
    try:
        for _ in outputs:
            if deadline is not None and clock() > deadline:
                raise StreamCancelledError(
                    f"cancelled after the {timeout} s timeout", partial=s.partial
                )
    finally:
        outputs.close()
    return s.final  # type: ignore[return-value]


async def astream_to_object(
    source: AsyncIterable[Any] | Iterable[Any] | os.PathLike[str] | _StreamedRun,
    /,
    model: type[T],
    *,
    # A caller's fail_after would lose the partial: this timeout raises it with the error.
    timeout: float | None = None,  # noqa: ASYNC109
    **options: Unpack[ObjectOptions],
) -> T:
    """The async twin of `stream_to_object` (the timeout also interrupts a stalled source)."""
    check_options(options, _OBJECT_OPTIONS, "astream_to_object")
    options.setdefault("partials", "live")
    s = astream(source, model, emit="completions", **options)
    outputs = s._outputs()
    try:
        with anyio.move_on_after(timeout if timeout is not None else float("inf")) as scope:
            async for _ in outputs:
                pass
    finally:
        await outputs.aclose()
    if scope.cancelled_caught:
        raise StreamCancelledError(f"cancelled after the {timeout} s timeout", partial=s.partial)
    return s.final  # type: ignore[return-value]


def _text_stream(cls: type[_S], source: Any) -> _S:
    return cls(source, None, text=True, emit="completions")


def stream_to_text(source: Iterable[Any]) -> str:
    """Concatenate the text of a plain text stream (str, bytes, text parts, provider events).

    Raises:
        TruncatedStreamError: the provider cut the text at its token limit.
        ContentFilterError: the provider's content filter stopped the text.
        ProviderError: the provider reported an error (``.partial`` holds the text so far).
        RefusalError: the model refused and wrote no text (``.refusal`` holds why).
    """
    s = _text_stream(Stream, source)
    outputs = s._outputs()
    try:
        for _ in outputs:
            pass
    finally:
        outputs.close()
    return s.final  # type: ignore[return-value]


async def astream_to_text(source: AsyncIterable[Any] | Iterable[Any]) -> str:
    """The async twin of `stream_to_text`."""
    s = _text_stream(AsyncStream, source)
    outputs = s._outputs()
    try:
        async for _ in outputs:
            pass
    finally:
        await outputs.aclose()
    return s.final  # type: ignore[return-value]
