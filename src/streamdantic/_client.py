"""A reconnecting client for streamdantic SSE endpoints: `connect` / `aconnect` over httpx.

The reconnection logic (status and content-type checks, backoff, the server's ``retry:``,
``Last-Event-ID``) is one sans-IO generator, `event_flow`: it yields actions (`Connect`,
`Receive`, `Sleep`, `Deliver`) and receives their results (`Opened`, bytes, `Failed`). The
sync and async drivers only perform the actions with httpx, the way httpx runs an
``Auth.auth_flow``. docs/sse.md documents the policy.
"""

# Strategy / invariants
# - One ProfileDecoder per stream, across connections: it drops replayed frames by id, so a
#   resumed connection never delivers a delta twice, and it raises on a gap, so none is lost.
# - Last-Event-ID is the decoder's last applied id (not the SSE decoder's: a replayed frame
#   would move that one backwards).
# - Each 200 response is announced to the decoder (begin_response), which checks its stream
#   frame: a reconnection answered by another generation fails instead of being spliced in.
#   A 409 to a request that asked to resume is the server saying it cannot resume: final.
# - Failures are counted per run of attempts without progress: a connection that applied a
#   frame resets the count, so a long stream survives any number of spaced-out drops.
# - The drivers catch only httpx.TransportError (connection, read timeout, protocol errors)
#   and hand it to the flow; everything else propagates.

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, TypeAlias, TypeVar

import anyio

from ._exceptions import SSEError, StreamNotResumableError, UsageError
from ._sse import SSEDecoder
from ._sse_profile import ClientUpdate, ProfileDecoder

if TYPE_CHECKING:
    import httpx

__all__ = [
    "AsyncClientStream",
    "ClientStream",
    "Connect",
    "Deliver",
    "Failed",
    "Opened",
    "Receive",
    "Retry",
    "Sleep",
    "aconnect",
    "connect",
    "event_flow",
]

T = TypeVar("T")

# The server sends a heartbeat comment every 15 s by default (WHATWG §9.2.7 suggests about
# that); three missed heartbeats mean the connection is dead.
DEFAULT_READ_TIMEOUT: Final = 45.0
# At most this much is read after the terminal frame, waiting for the end of the body.
_DRAIN_LIMIT: Final = 65536
# At most this much of a 409 answer is read for its explanation.
_DETAIL_LIMIT: Final = 4096


@dataclass(frozen=True, slots=True)
class Retry:
    """When and how often to reconnect.

    The delay before attempt n (1, 2, ... since the last connection that made progress) is
    ``base * 2 ** (n - 1)`` (``"exponential"``) or ``base * n`` (``"linear"``), capped at
    `max_delay`, where ``base`` is the server's last ``retry:`` value (in seconds) if it sent
    one, else `initial_delay`.

    Attributes:
        max_retries: attempts in a row without progress before giving up with `SSEError`
            (0: never reconnect).
        backoff: ``"exponential"`` or ``"linear"``.
        initial_delay: the base delay in seconds until the server sends ``retry:``.
        max_delay: the longest delay, in seconds.
    """

    max_retries: int = 5
    backoff: Literal["exponential", "linear"] = "exponential"
    initial_delay: float = 0.5
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise ValueError(f"max_retries must be an int, not {self.max_retries!r}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must not be negative, not {self.max_retries!r}")
        if self.backoff not in ("exponential", "linear"):
            raise ValueError(f"backoff must be 'exponential' or 'linear', not {self.backoff!r}")
        if not self.initial_delay >= 0 or not self.max_delay >= 0:
            raise ValueError("initial_delay and max_delay must not be negative")

    def delay(self, attempt: int, base: float | None = None) -> float:
        """The delay before reconnection `attempt` (1-based); `base` overrides
        `initial_delay` (the server's ``retry:`` in seconds)."""
        base = self.initial_delay if base is None else base
        factor = 2 ** (attempt - 1) if self.backoff == "exponential" else attempt
        return float(min(self.max_delay, base * factor))


# ------------------------------------------------------------------------ actions, results


@dataclass(frozen=True, slots=True)
class Connect:
    """Action: close any current response and send the request with these extra headers;
    answer with `Opened` (status and content type, body not read) or `Failed`."""

    headers: Mapping[str, bytes]


@dataclass(frozen=True, slots=True)
class Receive:
    """Action: read the next chunk of the body; answer with non-empty bytes, ``b""`` at the
    end of the body, or `Failed` (read timeout, connection lost)."""


@dataclass(frozen=True, slots=True)
class Sleep:
    """Action: close any current response and wait `seconds`; answer with None."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Deliver(Generic[T]):
    """Action: hand these updates to the consumer; answer with None."""

    updates: tuple[ClientUpdate[T], ...]


@dataclass(frozen=True, slots=True)
class Opened:
    """Result of `Connect`: the response's status and ``Content-Type`` header."""

    status_code: int
    content_type: str | None


@dataclass(frozen=True, slots=True)
class Failed:
    """Result of `Connect` or `Receive`: the transport error."""

    error: BaseException


Action: TypeAlias = Connect | Receive | Sleep | Deliver[Any]
Result: TypeAlias = Opened | Failed | bytes | None


def event_flow(
    decoder: ProfileDecoder[T], retry: Retry, *, last_event_id: str = ""
) -> Generator[Action, Result, None]:
    """The reconnection flow of the client: yields actions, receives their results.

    Policy (WHATWG HTML §9.2.3, made explicit):

    - 200 with ``text/event-stream``: read the stream; each frame goes through `decoder`.
    - 204: the server says there is nothing more: stop, without an error.
    - 5xx, a failed connection, a read error or timeout, or a body that ends before the
      terminal frame: reconnect after the backoff delay, sending ``Last-Event-ID``.
    - 409 to a request that asked to resume: the endpoint cannot resume this stream (it
      would run the model again): `StreamNotResumableError`, no retry.
    - Any other status, or 200 with another content type: `SSEError`, no retry.
    - The terminal frame: ``final`` is delivered and the flow ends; ``error`` raises.

    Args:
        decoder: the stream's decoder (its state carries over reconnections).
        retry: the reconnection policy.
        last_event_id: resume after this id on the first connection ("" for none).

    Raises:
        SSEError: a non-retryable status or content type, a malformed stream, or
            ``retry.max_retries`` attempts in a row without progress.
        StreamNotResumableError: (an `SSEError`) the server refused to resume (409).
        StreamIntegrityError: (an `SSEError`) from the decoder: a reconnection answered by
            another generation, or an object that is not the final frame's.
        ProviderError, StreamValidationError, TruncatedStreamError, StreamCancelledError,
            GenerationLostError, StoreUnavailableError, DeltaError: from the decoder (an
            ``error`` frame, or a bad frame).
    """
    attempts = 0  # reconnection attempts since the last progress
    server_delay: float | None = None
    resume = last_event_id
    while True:
        headers = {"Accept": b"text/event-stream", "Cache-Control": b"no-store"}
        if resume:
            # §9.2.4: the header carries the last event ID string, UTF-8 encoded.
            headers["Last-Event-ID"] = resume.encode("utf-8")
        result = yield Connect(headers)
        error: BaseException
        if isinstance(result, Failed):
            error = result.error
        elif not isinstance(result, Opened):
            raise UsageError(f"Connect expects Opened or Failed, got {result!r}")
        elif result.status_code == 204:
            return  # §9.2.3: 204 No Content means "stop reconnecting"
        elif 500 <= result.status_code < 600:
            error = SSEError(f"the server answered {result.status_code}")
        elif result.status_code == 409 and resume:
            body = b""
            while len(body) < _DETAIL_LIMIT:
                data = yield Receive()
                if not isinstance(data, bytes) or not data:
                    break
                body += data
            detail = _detail(body[:_DETAIL_LIMIT])
            raise StreamNotResumableError(
                f"the connection was lost after frame {resume} and the server refused to resume "
                "the stream (409): "
                + (detail or "the endpoint cannot resume it; serve it with ResumableStreams"),
                detail=detail,
                partial=decoder.partial,
            )
        elif result.status_code != 200:
            raise SSEError(f"the server answered {result.status_code}, not 200: not retrying")
        elif not _is_event_stream(result.content_type):
            raise SSEError(
                f"the response is {result.content_type or 'untyped'}, not text/event-stream: "
                "not retrying"
            )
        else:
            sse = SSEDecoder()
            decoder.begin_response()
            while True:
                data = yield Receive()
                if isinstance(data, Failed):
                    error = data.error
                    break
                if not isinstance(data, bytes):
                    raise UsageError(f"Receive expects bytes or Failed, got {data!r}")
                if not data:
                    error = SSEError("the connection ended before the stream's final frame")
                    break
                updates: list[ClientUpdate[T]] = []
                failure: Exception | None = None
                for event in sse.feed(data):
                    try:
                        updates.extend(decoder.feed(event))
                    except Exception as exc:  # an error frame, or a broken one
                        failure = exc
                        break
                if sse.retry is not None:
                    server_delay = sse.retry / 1000
                if decoder.last_event_id != resume:
                    resume = decoder.last_event_id
                    if resume:
                        attempts = 0  # progress (a restart alone is not: it moves back to "")
                if updates:
                    yield Deliver(tuple(updates))  # what came before the failure, first
                if failure is not None:
                    raise failure
                if decoder.done:
                    # The server ends the body after the terminal frame: read to its end (a
                    # little at most), so that the connection can be reused.
                    drained = 0
                    while drained < _DRAIN_LIMIT:
                        data = yield Receive()
                        if not isinstance(data, bytes) or not data:
                            break
                        drained += len(data)
                    return
        attempts += 1
        if attempts > retry.max_retries:
            raise SSEError(
                f"gave up after {retry.max_retries} reconnection attempt(s) without progress: "
                f"{error}"
            ) from error
        yield Sleep(retry.delay(attempts, server_delay))


def _detail(body: bytes) -> str:
    # The server's explanation: the "detail" of a JSON answer (ours), or the text itself.
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:500]
    if isinstance(data, dict) and isinstance(data.get("detail"), str):
        return str(data["detail"])
    return text[:500]


def _is_event_stream(content_type: str | None) -> bool:
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "text/event-stream"


# ---------------------------------------------------------------------------------- drivers


class _ClientStreamBase(Generic[T]):
    def __init__(
        self,
        url: Any,
        model: Any,
        *,
        method: str,
        headers: Mapping[str, str] | None,
        params: Any,
        retry: Retry | None,
        read_timeout: float | None,
        last_event_id: str,
    ) -> None:
        self._url = url
        self._method = method
        self._headers = dict(headers or {})
        self._params = params
        self._retry = retry if retry is not None else Retry()
        self._read_timeout = read_timeout
        self._last_event_id = last_event_id
        self.decoder: ProfileDecoder[T] = ProfileDecoder(model)
        self._started = False

    def _start(self) -> Generator[Action, Result, None]:
        if self._started:
            raise UsageError("this client stream was already iterated; call connect() again")
        self._started = True
        return event_flow(self.decoder, self._retry, last_event_id=self._last_event_id)

    def _request(self, client: Any, action: Connect) -> httpx.Request:
        import httpx

        base = client.timeout
        timeout = httpx.Timeout(
            connect=base.connect, read=self._read_timeout, write=base.write, pool=base.pool
        )
        request: httpx.Request = client.build_request(
            self._method,
            self._url,
            headers={**self._headers, **action.headers},
            params=self._params,
            timeout=timeout,
        )
        return request

    @property
    def partial(self) -> Any:
        """The partial object so far (typed when there is a model)."""
        return self.decoder.partial

    @property
    def final(self) -> T | None:
        """The validated final object, once the final frame arrived."""
        return self.decoder.final

    @property
    def last_event_id(self) -> str:
        """The id of the last frame applied: where a new connection would resume."""
        return self.decoder.last_event_id


class ClientStream(_ClientStreamBase[T]):
    """Updates from a streamdantic SSE endpoint, over reconnections. Iterate it once; use it
    as a context manager (or call `close`) to drop the connection early."""

    def __init__(self, client: httpx.Client, url: Any, model: Any, **options: Any) -> None:
        super().__init__(url, model, **options)
        self._client = client
        self._iterator: Generator[ClientUpdate[T], None, None] | None = None

    def __iter__(self) -> Iterator[ClientUpdate[T]]:
        self._iterator = self._run(self._start())
        return self._iterator

    def _run(self, flow: Generator[Action, Result, None]) -> Generator[ClientUpdate[T], None, None]:
        import httpx

        response: httpx.Response | None = None
        chunks: Generator[bytes, None, None] | None = None
        try:
            action = next(flow)
            while True:
                result: Result = None
                if type(action) is Receive:
                    try:
                        result = next(chunks, b"") if chunks is not None else b""
                    except httpx.TransportError as exc:
                        result = Failed(exc)
                elif type(action) is Deliver:
                    yield from action.updates
                elif type(action) is Connect:
                    if response is not None:
                        _close(response, chunks)
                        response = chunks = None
                    try:
                        response = self._client.send(
                            self._request(self._client, action), stream=True
                        )
                    except httpx.TransportError as exc:
                        response, result = None, Failed(exc)
                    else:
                        chunks = response.iter_bytes()  # type: ignore[assignment]
                        result = Opened(response.status_code, response.headers.get("content-type"))
                elif type(action) is Sleep:
                    if response is not None:
                        _close(response, chunks)
                        response = chunks = None
                    time.sleep(action.seconds)
                try:
                    action = flow.send(result)
                except StopIteration:
                    return
        finally:
            flow.close()
            if response is not None:
                _close(response, chunks)

    def close(self) -> None:
        """Close the connection and stop; `partial` stays readable."""
        if self._iterator is not None:
            self._iterator.close()

    def __enter__(self) -> ClientStream[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _close(response: httpx.Response, chunks: Generator[bytes, None, None] | None) -> None:
    if chunks is not None:
        chunks.close()
    response.close()


class AsyncClientStream(_ClientStreamBase[T]):
    """The async twin of `ClientStream`: ``async for update in aconnect(...)``; an async
    context manager that closes the connection on exit."""

    def __init__(self, client: httpx.AsyncClient, url: Any, model: Any, **options: Any) -> None:
        super().__init__(url, model, **options)
        self._client = client
        self._iterator: AsyncGenerator[ClientUpdate[T], None] | None = None

    def __aiter__(self) -> AsyncIterator[ClientUpdate[T]]:
        self._iterator = self._run(self._start())
        return self._iterator

    async def _run(
        self, flow: Generator[Action, Result, None]
    ) -> AsyncGenerator[ClientUpdate[T], None]:
        import httpx

        response: httpx.Response | None = None
        chunks: AsyncGenerator[bytes, None] | None = None
        try:
            action = next(flow)
            while True:
                result: Result = None
                if type(action) is Receive:
                    try:
                        result = await anext(chunks, b"") if chunks is not None else b""
                    except httpx.TransportError as exc:
                        result = Failed(exc)
                elif type(action) is Deliver:
                    for update in action.updates:
                        yield update
                elif type(action) is Connect:
                    if response is not None:
                        await _aclose(response, chunks)
                        response = chunks = None
                    try:
                        response = await self._client.send(
                            self._request(self._client, action), stream=True
                        )
                    except httpx.TransportError as exc:
                        response, result = None, Failed(exc)
                    else:
                        chunks = response.aiter_bytes()  # type: ignore[assignment]
                        result = Opened(response.status_code, response.headers.get("content-type"))
                elif type(action) is Sleep:
                    if response is not None:
                        await _aclose(response, chunks)
                        response = chunks = None
                    await anyio.sleep(action.seconds)
                try:
                    action = flow.send(result)
                except StopIteration:
                    return
        finally:
            flow.close()
            if response is not None:
                await _aclose(response, chunks)

    async def aclose(self) -> None:
        """Close the connection and stop; `partial` stays readable."""
        if self._iterator is not None:
            with anyio.CancelScope(shield=True):
                await self._iterator.aclose()

    async def __aenter__(self) -> AsyncClientStream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def _aclose(response: httpx.Response, chunks: AsyncGenerator[bytes, None] | None) -> None:
    # Shielded: the connection must be released even while the task is being cancelled. The
    # body iterator is closed first, or trio warns when the garbage collector finds it.
    with anyio.CancelScope(shield=True):
        if chunks is not None:
            await chunks.aclose()
        await response.aclose()


def connect(
    client: httpx.Client,
    url: httpx.URL | str,
    /,
    model: type[T] | Any = None,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    params: Any = None,
    retry: Retry | None = None,
    read_timeout: float | None = DEFAULT_READ_TIMEOUT,
    last_event_id: str = "",
) -> ClientStream[T]:
    """Stream typed partial objects from a streamdantic SSE endpoint, reconnecting as needed.

    Each reconnection repeats the request with ``Last-Event-ID``, so only a resumable
    endpoint (``GET /streams/{id}`` of `ResumableStreams`) survives a dropped connection; the
    client drops replayed frames and never skips one. A source-backed `EventStreamResponse`
    refuses to resume (`StreamNotResumableError`), or, with ``on_resume="restart"``, answers
    with a new generation: the client then starts the object again (a ``"restart"`` update,
    ``restarted=True``). Every response's stream token is checked, so frames of another
    generation are never applied. See `event_flow` for the exact status and retry policy.

    Args:
        client: the httpx client (its base URL, auth, ... apply; the read timeout is replaced).
        url: the endpoint.
        model: the type of the object, or ``None`` for plain JSON values.
        method: the HTTP method (resuming needs an idempotent one).
        headers: extra request headers.
        params: query parameters.
        retry: the reconnection policy (default `Retry()`).
        read_timeout: seconds without any byte (heartbeats included) after which the
            connection counts as dead and is replaced; ``None`` waits forever.
        last_event_id: resume after this id ("" starts from the beginning).

    Returns:
        A `ClientStream`: iterate it for `ClientUpdate`s; the last has ``done=True`` and
        ``final``.

    Raises (while iterating):
        SSEError: a non-retryable status or content type, retries exhausted, a broken stream.
        StreamNotResumableError: (an `SSEError`) the connection was lost and the server
            refused to resume the stream (409).
        StreamIntegrityError: (an `SSEError`) a reconnection answered by another generation,
            or an object that is not the one the ``final`` frame reports.
        ProviderError, StreamValidationError, TruncatedStreamError, StreamCancelledError,
            GenerationLostError, StoreUnavailableError: the server's error frame, by type.
        DeltaError: a frame contradicts the object.
    """
    return ClientStream(
        client,
        url,
        model,
        method=method,
        headers=headers,
        params=params,
        retry=retry,
        read_timeout=read_timeout,
        last_event_id=last_event_id,
    )


def aconnect(
    client: httpx.AsyncClient,
    url: httpx.URL | str,
    /,
    model: type[T] | Any = None,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    params: Any = None,
    retry: Retry | None = None,
    read_timeout: float | None = DEFAULT_READ_TIMEOUT,
    last_event_id: str = "",
) -> AsyncClientStream[T]:
    """The async twin of `connect`: ``async with aconnect(client, url, Model) as updates:``."""
    return AsyncClientStream(
        client,
        url,
        model,
        method=method,
        headers=headers,
        params=params,
        retry=retry,
        read_timeout=read_timeout,
        last_event_id=last_event_id,
    )
