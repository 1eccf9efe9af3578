"""The exception hierarchy of streamdantic: every error the library raises on purpose.

```
StreamdanticError
├── JSONParseError(ValueError)      malformed JSON: .offset .line .column .path .partial
│   ├── IncompleteJSONError         the input ended inside a value (finish() / close())
│   └── LimitExceededError          depth, size, string or number length over its limit
├── DeltaError(ValueError)          a chunk contradicts the merged state: .path
├── StreamValidationError           the value does not fit the model: .errors .partial
├── TruncatedStreamError            the stream ended before the object: .finish_reason .partial
├── StreamCancelledError            the consumer or a task cancelled the stream: .partial
├── GenerationLostError             a resumable stream's generation stopped without ending it
├── StoreUnavailableError           the store of resumable streams could not be reached
│   └── StoreFullError              the store is at its caps with running streams only
├── TooManyGenerationsError         ResumableStreams runs max_generations already
├── ProviderError                   the provider reported an error mid-stream: .partial
│   ├── ContentFilterError          finish_reason == "content_filter"
│   └── RefusalError                the model refused instead of answering: .refusal
├── SSEError                        malformed event stream, bad status/content type, retries spent
│   ├── StreamIntegrityError        frames of another generation, or lost: .path .partial
│   ├── StreamNotResumableError     the server refused to resume the stream (409): .detail
│   └── ReconnectError              the client gave up: .reason (status, attempts, deadline, ...)
├── AdapterError                    a provider event of a shape we do not know: .event
├── BatchFailureError               collect_batch(on_invalid="raise"): a request failed: .outcome
└── UsageError(RuntimeError)        misuse: feeding after the end, consuming a stream twice
```

Parse errors also subclass ValueError, as the errors of `json` and jiter do, so code that
already catches ValueError around `json.loads` keeps working. Every message says what went
wrong, where (byte offset, line, column, JSON path) and, for misuse, what to do instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._paths import JSONPath, render_path

__all__ = [
    "AdapterError",
    "BatchFailureError",
    "ContentFilterError",
    "DeltaError",
    "GenerationLostError",
    "IncompleteJSONError",
    "JSONParseError",
    "LimitExceededError",
    "ProviderError",
    "ReconnectError",
    "RefusalError",
    "SSEError",
    "StoreFullError",
    "StoreUnavailableError",
    "StreamCancelledError",
    "StreamIntegrityError",
    "StreamNotResumableError",
    "StreamValidationError",
    "StreamdanticError",
    "TooManyGenerationsError",
    "TruncatedStreamError",
    "UsageError",
]


class StreamdanticError(Exception):
    """Base class of every error streamdantic raises on purpose."""


class JSONParseError(StreamdanticError, ValueError):
    """The input is not valid JSON (or not valid for the parser's mode).

    Attributes:
        offset: byte offset of the offending input (UTF-8 bytes from the start of the stream).
        line: 1-based line number.
        column: 1-based column, in characters.
        path: JSON path of the value being parsed, as a tuple of keys and indices.
        partial: the partial value parsed so far (never lost on error).
    """

    def __init__(
        self,
        what: str,
        *,
        offset: int = 0,
        line: int = 1,
        column: int = 1,
        path: JSONPath = (),
        partial: Any = None,
    ) -> None:
        self.what = what
        self.offset = offset
        self.line = line
        self.column = column
        self.path = path
        self.partial = partial
        super().__init__(
            f"{what} at line {line} column {column} (byte {offset}), in {render_path(path)}"
        )


class IncompleteJSONError(JSONParseError):
    """The input ended before the JSON value was complete; `.partial` holds what arrived."""


class LimitExceededError(JSONParseError):
    """A configured limit (depth, document size, string or number length) was exceeded."""


class DeltaError(StreamdanticError, ValueError):
    """A chunk contradicts the state it is applied to (type change, shrink, missing parent).

    The merged object is left exactly as it was before the offending chunk.
    """

    def __init__(self, what: str, *, path: JSONPath = ()) -> None:
        self.what = what
        self.path = path
        super().__init__(f"{what} at {render_path(path)}")


class StreamValidationError(StreamdanticError):
    """The streamed value does not validate against the model.

    Attributes:
        errors: pydantic's error list (``ValidationError.errors()``), locations are JSON paths.
        path: JSON path of the value that failed (``()`` for the final object).
        raw_text: the raw text received, when the source was text.
        partial: the last good partial object.
        index: batch collection: the failing item's position among the items found.
        offset: batch collection: the byte offset at which the failing item ended.
    """

    def __init__(
        self,
        message: str,
        *,
        errors: Sequence[Any] = (),
        path: JSONPath = (),
        raw_text: str | None = None,
        partial: Any = None,
        index: int | None = None,
        offset: int | None = None,
    ) -> None:
        self.errors = list(errors)
        self.path = path
        self.raw_text = raw_text
        self.partial = partial
        self.index = index
        self.offset = offset
        super().__init__(message)


class TruncatedStreamError(StreamdanticError):
    """The stream ended before the object was complete.

    Attributes:
        finish_reason: the provider's finish reason (``"length"``, ...), if it sent one.
        missing_paths: JSON paths of required values that never arrived or never closed.
        raw_text: the raw text received, when the source was text.
        partial: the last partial object (never handed back as if it were final).
    """

    def __init__(
        self,
        message: str,
        *,
        finish_reason: str | None = None,
        missing_paths: Sequence[JSONPath] = (),
        raw_text: str | None = None,
        partial: Any = None,
    ) -> None:
        self.finish_reason = finish_reason
        self.missing_paths = list(missing_paths)
        self.raw_text = raw_text
        self.partial = partial
        super().__init__(message)


class StreamCancelledError(StreamdanticError):
    """The stream was cancelled before it finished; `.partial` holds the last partial."""

    def __init__(self, message: str, *, partial: Any = None) -> None:
        self.partial = partial
        super().__init__(message)


class GenerationLostError(StreamdanticError):
    """The generation of a resumable stream stopped before the stream's terminal frame.

    Its server process died, or lost the store, and stopped renewing its lease; or the
    stream is no longer in the store. Nothing more will arrive: start a new stream.
    `.partial` holds the last partial object.
    """

    def __init__(self, message: str, *, partial: Any = None) -> None:
        self.partial = partial
        super().__init__(message)


class StoreUnavailableError(StreamdanticError):
    """The store of resumable streams (Redis, ...) could not be read or written.

    On a server, a store operation failed (the original error is chained as
    ``__cause__``); on a client, the server reading the stream could not reach its store
    (reconnect later or start a new stream). `.partial` holds the last partial object.
    """

    def __init__(self, message: str, *, partial: Any = None) -> None:
        self.partial = partial
        super().__init__(message)


class StoreFullError(StoreUnavailableError):
    """The store of resumable streams cannot take a new stream now.

    It holds as many streams (or bytes) as its caps allow and none of them can be evicted:
    they are all running (``MemoryStore(max_streams=..., max_bytes=...)``), or Redis is out
    of memory (``maxmemory``). Retry once a generation has ended, or raise the caps. A
    subclass of `StoreUnavailableError`, so code that retries an unavailable store later
    handles it too (``POST /streams`` answers 503 with ``Retry-After``).
    """


class TooManyGenerationsError(StreamdanticError):
    """`ResumableStreams` already runs its ``max_generations`` generations.

    Nothing was started (the source was closed unread): retry once one has ended
    (``POST /streams`` answers 429 with ``Retry-After``), or raise ``max_generations``.
    """


class ProviderError(StreamdanticError):
    """The provider reported an error in the middle of the stream; `.partial` is kept."""

    def __init__(
        self, message: str, *, code: str | None = None, partial: Any = None, raw: Any = None
    ) -> None:
        self.code = code
        self.partial = partial
        self.raw = raw
        super().__init__(message)


class ContentFilterError(ProviderError):
    """The provider stopped the output with finish reason ``content_filter``."""


class RefusalError(ProviderError):
    """The model refused to produce the output; `.refusal` holds its explanation."""

    def __init__(self, message: str, *, refusal: str = "", partial: Any = None) -> None:
        self.refusal = refusal
        super().__init__(message, code="refusal", partial=partial)


class SSEError(StreamdanticError):
    """A malformed event stream, a response that is not an event stream, or retries spent."""


class StreamIntegrityError(SSEError):
    """The frames a client applied do not make one stream: a response of another generation
    (its stream token differs, see docs/sse.md), or an object that differs from the one the
    ``final`` frame reports (frames were lost or spliced). Nothing is retried: the object
    cannot be trusted.

    Attributes:
        path: the JSON path of the first difference from the final object, when known.
        partial: the client's partial object when the error was found.
    """

    def __init__(self, message: str, *, path: JSONPath | None = None, partial: Any = None) -> None:
        self.path = path
        self.partial = partial
        super().__init__(message)


class StreamNotResumableError(SSEError):
    """The server refused to resume the stream after a dropped connection (HTTP 409): the
    endpoint would run the model again instead (a source-backed ``EventStreamResponse``).
    Serve resumable streams with ``streamdantic.starlette.ResumableStreams``, or let the
    endpoint restart (``on_resume="restart"``).

    Attributes:
        detail: the server's explanation (the ``detail`` of its JSON answer), or ``""``.
        partial: the client's partial object when the connection was lost.
    """

    def __init__(self, message: str, *, detail: str = "", partial: Any = None) -> None:
        self.detail = detail
        self.partial = partial
        super().__init__(message)


class ReconnectError(SSEError):
    """The client stopped (re)connecting: the message says why and what to do.

    Attributes:
        reason: why, one of ``"status"`` (an answer that is not retried, such as 404),
            ``"attempts"`` (``Retry.max_retries`` attempts in a row without progress),
            ``"retry_after"`` (the server asked to wait longer than
            ``Retry.max_retry_after``), ``"deadline"`` (``Retry.deadline`` passed),
            ``"budget"`` (more than ``Retry.max_reconnects_per_minute`` reconnections in
            60 s) or ``"idle"`` (no byte for ``Retry.idle_timeout`` with
            ``on_idle="fail"``).
        status_code: the status of the last answer, when there was one.
        retry_after: the server's ``Retry-After`` in seconds, when it sent one.
        requests: how many requests the client sent.
        partial: the client's partial object when it gave up.
        last_event_id: the id of the last frame applied: where a new `connect` can resume
            (pass it as ``last_event_id``).
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        status_code: int | None = None,
        retry_after: float | None = None,
        requests: int = 0,
        partial: Any = None,
        last_event_id: str = "",
    ) -> None:
        self.reason = reason
        self.status_code = status_code
        self.retry_after = retry_after
        self.requests = requests
        self.partial = partial
        self.last_event_id = last_event_id
        super().__init__(message)


class AdapterError(StreamdanticError):
    """A provider event of a shape the adapter does not know; `.event` is the raw event."""

    def __init__(self, message: str, *, event: Any = None) -> None:
        self.event = event
        super().__init__(message)


class BatchFailureError(StreamdanticError):
    """A request in a batch result file failed, with ``on_invalid="raise"``.

    Attributes:
        outcome: the `BatchFailure` (its file, line, custom_id, raw text and kind).
    """

    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        super().__init__(f'{outcome.message} (on_invalid="report" collects failures instead)')

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from the outcome, not the message, so it crosses processes (Dask workers).
        return (type(self), (self.outcome,))


class UsageError(StreamdanticError, RuntimeError):
    """The API was used in a way it does not allow; the message says what to do instead."""
