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
#   frame resets the count, so a long stream survives any number of spaced-out drops; the
#   reconnection budget (per rolling minute) and the deadline bound what progress cannot.
# - Time comes from the injected clocks and randomness from Retry.seed: the flow is a pure
#   function of its inputs, and its tests give exact ones.
# - Nothing but StreamdanticError leaves the flow: a foreign exception from a decoder becomes
#   an SSEError. The drivers catch httpx.RequestError (transport, timeouts, protocol and
#   decoding errors) and hand it to the flow; everything else propagates.

from __future__ import annotations

import datetime
import email.utils
import json
import math
import random
import time
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Generator,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, Self, TypeAlias, TypeVar

import anyio

from .._exceptions import (
    ReconnectError,
    SSEError,
    StreamdanticError,
    StreamNotResumableError,
    UsageError,
)
from ._codec import SSEDecoder
from ._profile import ClientUpdate, ProfileDecoder

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

# At most this much is read after the terminal frame, waiting for the end of the body.
_DRAIN_LIMIT: Final = 65536
# At most this much of a 409 answer is read for its explanation.
_DETAIL_LIMIT: Final = 4096


# Peers' defaults, for the choices below:
# - browser EventSource: reconnects after the server's ``retry:`` or its own reconnection time
#   (about 3 s in Chromium, 5 s in Firefox), forever, with no jitter and no deadline; the
#   EventSource polyfill (Yaffle) declares a connection dead after 45 s without a byte.
# - urllib3 ``Retry``: exponential backoff capped by ``backoff_max`` (120 s), optional jitter,
#   honours ``Retry-After`` on 413, 429 and 503 (``respect_retry_after_header``).
# - stamina: exponential backoff with jitter, capped at 5 s per wait, 10 attempts and 45 s in
#   total by default (``attempts``, ``timeout``); tenacity: ``wait_random_exponential`` (full
#   jitter), no stop by default.
# - openai-python: 2 retries on 408, 409, 429 and 5xx, 0.5 s doubling to at most 8 s with up to
#   25 % jitter taken off, ``Retry-After`` honoured when at most 60 s; 600 s timeout.
# Neither stamina nor tenacity fits here: both wrap a callable and sleep themselves (a
# decorator or an iterator around one attempt), while the policy of this client is part of a
# sans-IO flow that must decide between attempts *and* in the middle of a body (idle, deadline,
# progress resets), and let each driver perform the wait. The arithmetic is a few lines.

# The window of Retry.max_reconnects_per_minute.
_BUDGET_WINDOW: Final = 60.0


@dataclass(frozen=True, slots=True)
class Retry:
    """When and how often to reconnect, and when to give up.

    The delay before attempt n (1, 2, ... since the last connection that made progress) is
    ``base * 2 ** (n - 1)`` (``"exponential"``) or ``base * n`` (``"linear"``), capped at
    `max_delay`, where ``base`` is the server's last ``retry:`` value (in seconds) if it sent
    one, else `initial_delay`; `jitter` then draws the actual wait below it. A 429 or 503 with
    ``Retry-After`` waits at least that long. Every give-up raises `ReconnectError`, whose
    ``reason`` says which limit ended it.

    Attributes:
        max_retries: attempts in a row without progress before giving up (0: never
            reconnect). Default 5: about 15 s of exponential backoff from 0.5 s, the order of
            stamina's 10 attempts / 45 s and far above openai-python's 2.
        backoff: ``"exponential"`` or ``"linear"``.
        initial_delay: the base delay in seconds until the server sends ``retry:`` (default
            0.5 s, openai-python's; a browser waits about 3 s).
        max_delay: the longest computed delay, in seconds (default 30 s, between stamina's
            5 s and urllib3's 120 s).
        jitter: ``"equal"`` (default: a wait uniformly drawn in [d/2, d], so clients cut at
            the same moment spread out, yet the server's ``retry:`` is kept at least half), ``"full"``
            (in [0, d], AWS's "full jitter", tenacity's ``wait_random_exponential``) or
            ``"none"`` (exactly d, as a browser does).
        seed: seeds the jitter's random draws (one `random.Random` per stream), for
            reproducible waits; ``None`` seeds from the OS.
        max_retry_after: the longest ``Retry-After`` (seconds) the client honours on a 429 or
            503; a longer one gives up at once instead of hanging (default 60 s, as
            openai-python).
        deadline: seconds for the whole stream, all connections and waits included; ``None``
            for none. Default 600 s (openai-python's timeout): far longer than an LLM
            generation (10-120 s), and it ends a server that sends only heartbeats.
        idle_timeout: seconds without any byte (heartbeats included) after which a connection
            counts as dead; ``None`` waits forever. Default 45 s: three missed heartbeats of
            the server's default 15 s (WHATWG §9.2.7 suggests about that), as the EventSource
            polyfill.
        on_idle: what an idle connection leads to: ``"reconnect"`` (default: a silent
            connection is usually a dead one, and resuming recovers it) or ``"fail"``.
        max_reconnects_per_minute: the most reconnections in any 60 s window before giving
            up; ``None`` for no cap. Progress resets the attempt count, so without this a
            server that ends every connection after one frame would be reconnected to without
            end. Default 20: the pace of a browser EventSource (3 s apart) against such a
            server.
    """

    max_retries: int = 5
    backoff: Literal["exponential", "linear"] = "exponential"
    initial_delay: float = 0.5
    max_delay: float = 30.0
    jitter: Literal["equal", "full", "none"] = "equal"
    seed: int | None = None
    max_retry_after: float = 60.0
    deadline: float | None = 600.0
    idle_timeout: float | None = 45.0
    on_idle: Literal["reconnect", "fail"] = "reconnect"
    max_reconnects_per_minute: int | None = 20

    def __post_init__(self) -> None:
        _check_int("max_retries", self.max_retries, minimum=0)
        if self.max_reconnects_per_minute is not None:
            _check_int("max_reconnects_per_minute", self.max_reconnects_per_minute, minimum=1)
        if self.seed is not None:
            _check_int("seed", self.seed, minimum=None)
        _check_choice("backoff", self.backoff, ("exponential", "linear"))
        _check_choice("jitter", self.jitter, ("equal", "full", "none"))
        _check_choice("on_idle", self.on_idle, ("reconnect", "fail"))
        for name in ("initial_delay", "max_delay", "max_retry_after"):
            _check_seconds(name, getattr(self, name), positive=False)
        for name in ("deadline", "idle_timeout"):
            value = getattr(self, name)
            if value is not None:
                _check_seconds(name, value, positive=True)

    def delay(self, attempt: int, base: float | None = None, draw: float = 1.0) -> float:
        """The wait before reconnection `attempt` (1-based): the backoff delay ``d`` for
        `base` (the server's ``retry:`` in seconds; `initial_delay` if None), placed in its
        jitter range by `draw` (a uniform number in [0, 1]; 1.0 gives ``d`` itself)."""
        base = self.initial_delay if base is None else base
        factor = 2 ** (attempt - 1) if self.backoff == "exponential" else attempt
        # min() before multiplying out: 2 ** 1000 * base is fine for floats but inf * 0 is not.
        ceiling = float(min(self.max_delay, base * min(factor, 2**60)))
        if self.jitter == "full":
            return ceiling * draw
        if self.jitter == "equal":
            return ceiling / 2 + ceiling / 2 * draw
        return ceiling


def _check_int(name: str, value: object, *, minimum: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Retry({name}=...) must be an int, not {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"Retry({name}=...) must be at least {minimum}, not {value!r}")


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        listed = ", ".join(map(repr, choices))
        raise ValueError(f"Retry({name}=...) must be one of {listed}, not {value!r}")


def _check_seconds(name: str, value: object, *, positive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"Retry({name}=...) must be a number of seconds, not {value!r}")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        what = "a positive" if positive else "a non-negative"
        raise ValueError(f"Retry({name}=...) must be {what} finite number, not {value!r}")


# ------------------------------------------------------------------------ actions, results


@dataclass(frozen=True, slots=True)
class Connect:
    """Action: close any current response and send the request with these extra headers;
    answer with `Opened` (status and headers, body not read) or `Failed`. `timeout` bounds
    connecting and each read of this response (``None``: the client's own timeouts): the
    idle timeout, or less when the deadline is nearer."""

    headers: Mapping[str, bytes]
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class Receive:
    """Action: read the next chunk of the body; answer with non-empty bytes, ``b""`` at the
    end of the body, or `Failed` (read timeout, connection lost, undecodable body)."""


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
    """Result of `Connect`: the response's status, its ``Content-Type``, and the
    ``Retry-After`` and ``Date`` headers (raw) when present."""

    status_code: int
    content_type: str | None
    retry_after: str | None = None
    date: str | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """Result of `Connect` or `Receive`: the transport error; `idle` when it is a read
    timeout (no byte for the `Connect`'s timeout)."""

    error: BaseException
    idle: bool = False


Action: TypeAlias = Connect | Receive | Sleep | Deliver[Any]
Result: TypeAlias = Opened | Failed | bytes | None

# Statuses that are retried: 408 and 429 (the client came too early or too fast) and 5xx (the
# server failed), as openai-python and urllib3's status_forcelist habits; Retry-After is read
# on 429 and 503 (RFC 9110 §10.2.3, RFC 6585 §4).
_RETRY_AFTER_STATUSES: Final = frozenset({429, 503})


def _retryable(status: int) -> bool:
    return status in (408, 429) or 500 <= status < 600


def event_flow(
    decoder: ProfileDecoder[T],
    retry: Retry,
    *,
    last_event_id: str = "",
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
) -> Generator[Action, Result, None]:
    """The reconnection flow of the client: yields actions, receives their results.

    Policy (WHATWG HTML §9.2.3, made explicit):

    - 200 with ``text/event-stream``: read the stream; each frame goes through `decoder`.
    - 204: the server says there is nothing more: stop, without an error.
    - 408, 429, 5xx, a failed connection, a read error or timeout, an undecodable body, or a
      body that ends before the terminal frame: reconnect after the backoff delay (at least
      the ``Retry-After`` of a 429 or 503), sending ``Last-Event-ID``.
    - 409 to a request that asked to resume: the endpoint cannot resume this stream (it
      would run the model again): `StreamNotResumableError`, no retry.
    - Any other status: `ReconnectError` (reason ``"status"``); 200 with another content
      type: `SSEError`; no retry.
    - The terminal frame: ``final`` is delivered and the flow ends; ``error`` raises.
    - Limits (`Retry`): attempts in a row without progress, ``Retry-After`` too long, the
      deadline, reconnections per minute, an idle connection with ``on_idle="fail"``: each
      raises `ReconnectError` with its ``reason``.

    Args:
        decoder: the stream's decoder (its state carries over reconnections).
        retry: the reconnection policy.
        last_event_id: resume after this id on the first connection ("" for none).
        clock: monotonic seconds, for the deadline and the reconnection budget.
        wall_clock: POSIX seconds, for a ``Retry-After`` date when the response has no
            ``Date`` header.

    Raises:
        ReconnectError: (an `SSEError`) the client gave up; ``reason`` says why.
        SSEError: a content type that is not an event stream, or a malformed stream.
        StreamNotResumableError: (an `SSEError`) the server refused to resume (409).
        StreamIntegrityError: (an `SSEError`) from the decoder: a reconnection answered by
            another generation, or an object that is not the final frame's.
        ProviderError, StreamValidationError, TruncatedStreamError, StreamCancelledError,
            GenerationLostError, StoreUnavailableError, DeltaError: from the decoder (an
            ``error`` frame, or a bad frame).
    """
    policy = _Policy(retry, decoder, clock)
    server_delay: float | None = None
    resume = last_event_id
    while True:
        headers = {"Accept": b"text/event-stream", "Cache-Control": b"no-store"}
        if resume:
            # §9.2.4: the header carries the last event ID string, UTF-8 encoded.
            headers["Last-Event-ID"] = resume.encode("utf-8")
        result = yield Connect(headers, policy.connecting())
        error: BaseException
        idle = False
        status: int | None = None
        retry_after: float | None = None
        if isinstance(result, Failed):
            error, idle = result.error, result.idle
        elif not isinstance(result, Opened):
            raise UsageError(f"Connect expects Opened or Failed, got {result!r}")
        elif result.status_code == 204:
            return  # §9.2.3: 204 No Content means "stop reconnecting"
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
            status = result.status_code
            if status in _RETRY_AFTER_STATUSES and result.retry_after is not None:
                retry_after = _retry_after_seconds(result.retry_after, result.date, wall_clock)
            policy.check_status(status, retry_after)
            error = SSEError(f"the server answered {status}")
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
                    error, idle = data.error, data.idle
                    break
                if not isinstance(data, bytes):
                    raise UsageError(f"Receive expects bytes or Failed, got {data!r}")
                if not data:
                    error = SSEError("the connection ended before the stream's final frame")
                    break
                updates: list[ClientUpdate[T]] = []
                failure: Exception | None = None
                try:
                    for event in sse.feed(data):
                        updates.extend(decoder.feed(event))
                except StreamdanticError as exc:  # an error frame, or a broken one
                    failure = exc
                except Exception as exc:  # a bug in a decoder: still an error of ours
                    failure = SSEError(f"a malformed frame: {type(exc).__name__}: {exc}")
                    failure.__cause__ = exc
                if sse.retry is not None:
                    # A retry: of thousands of digits is an int but no float: clamp it.
                    server_delay = min(sse.retry, 10**15) / 1000
                if decoder.last_event_id != resume:
                    resume = decoder.last_event_id
                    if resume:
                        policy.progressed()  # (a restart alone is not: it moves back to "")
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
                policy.check_deadline(None)  # heartbeats alone never end a stream
        yield Sleep(
            policy.wait(error, idle=idle, status=status, retry_after=retry_after, base=server_delay)
        )


class _Policy:
    """The state of a `Retry` over one stream, and its decisions: each request's timeout,
    whether to give up (`ReconnectError`, with the decoder's position), how long to wait. The
    flow tells it what happened; it reads time only from `clock`."""

    def __init__(self, retry: Retry, decoder: ProfileDecoder[Any], clock: Callable[[], float]):
        self._retry = retry
        self._decoder = decoder
        self._clock = clock
        self._rng = random.Random(retry.seed)
        start = clock()
        self._deadline = None if retry.deadline is None else start + retry.deadline
        self._reconnects: deque[float] = deque()  # when each reconnection of the window began
        self._requests = 0
        self._attempts = 0  # reconnection attempts since the last progress
        self._deadline_bound = False  # whether the deadline, not idle_timeout, set the timeout

    def connecting(self) -> float | None:
        """A request is about to be sent: its timeout (the idle timeout, or the time left
        when that is less)."""
        timeout = self._retry.idle_timeout
        self._deadline_bound = False
        if self._deadline is not None:
            left = self._deadline - self._clock()
            if left <= 0:
                raise self._past_deadline(None)
            self._deadline_bound = timeout is None or left < timeout
            timeout = left if timeout is None else min(timeout, left)
        if self._requests:
            self._reconnects.append(self._clock())
        self._requests += 1
        return timeout

    def progressed(self) -> None:
        """A frame was applied: the attempts without progress start over."""
        self._attempts = 0

    def check_status(self, status: int, retry_after: float | None) -> None:
        """Give up on a status that is not retried, or a Retry-After too long to wait."""
        if not _retryable(status):
            raise self._give_up(
                f"the server answered {status}, not 200: not retrying (only 408, 429 and "
                "5xx are); check the URL, the method and the credentials",
                "status",
                status_code=status,
            )
        if retry_after is not None and retry_after > self._retry.max_retry_after:
            raise self._give_up(
                f"the server answered {status} with Retry-After: {retry_after:g} s, more "
                f"than Retry(max_retry_after={self._retry.max_retry_after}): not waiting that "
                "long; try again later, or raise max_retry_after",
                "retry_after",
                status_code=status,
                retry_after=retry_after,
            )

    def check_deadline(self, error: BaseException | None) -> None:
        if self._deadline is not None and self._clock() >= self._deadline:
            raise self._past_deadline(error) from error

    def wait(
        self,
        error: BaseException,
        *,
        idle: bool,
        status: int | None,
        retry_after: float | None,
        base: float | None,
    ) -> float:
        """The connection failed with `error`: the seconds to wait before the next one, or
        `ReconnectError` (chained to `error`) when a limit says to stop."""
        retry, now = self._retry, self._clock()
        if self._deadline is not None and (
            now >= self._deadline or (idle and self._deadline_bound)
        ):
            raise self._past_deadline(error) from error
        if idle and retry.on_idle == "fail":
            raise self._give_up(
                f"no byte for Retry(idle_timeout={retry.idle_timeout}) seconds, not even a "
                "heartbeat, and on_idle='fail': giving up; raise idle_timeout if the server "
                "sends heartbeats less often",
                "idle",
            ) from error
        self._attempts += 1
        if self._attempts > retry.max_retries:
            raise self._give_up(
                f"gave up after {retry.max_retries} reconnection attempt(s) without progress: "
                f"{error}; the server is down or unreachable, or raise Retry(max_retries=...)",
                "attempts",
                status_code=status,
                retry_after=retry_after,
            ) from error
        cap, reconnects = retry.max_reconnects_per_minute, self._reconnects
        if cap is not None:
            while reconnects and reconnects[0] <= now - _BUDGET_WINDOW:
                reconnects.popleft()
            if len(reconnects) >= cap:
                raise self._give_up(
                    f"gave up: {len(reconnects)} reconnections within {_BUDGET_WINDOW:g} s "
                    f"(Retry(max_reconnects_per_minute={cap})), the last after frame "
                    f"{self._decoder.last_event_id or 'none'}: the server ends its responses "
                    "before the final frame; fix the server, or raise max_reconnects_per_minute",
                    "budget",
                    status_code=status,
                ) from error
        seconds = retry.delay(self._attempts, base, self._rng.random())
        if retry_after is not None:
            seconds = max(seconds, retry_after)  # at least what the server asked
        if self._deadline is not None and now + seconds >= self._deadline:
            raise self._past_deadline(error) from error  # do not wait for nothing
        return seconds

    def _give_up(self, message: str, reason: str, **details: Any) -> ReconnectError:
        return ReconnectError(
            message,
            reason=reason,
            requests=self._requests,
            partial=self._decoder.partial,
            last_event_id=self._decoder.last_event_id,
            **details,
        )

    def _past_deadline(self, error: BaseException | None) -> ReconnectError:
        why = f" (last failure: {error})" if error is not None else ""
        return self._give_up(
            f"gave up: the stream did not finish within Retry(deadline={self._retry.deadline}) "
            f"seconds, after {self._requests} request(s){why}; raise the deadline (or set it "
            "to None) for longer streams, or resume later with last_event_id="
            f"{self._decoder.last_event_id!r}",
            "deadline",
        )


def _retry_after_seconds(
    value: str, date: str | None, wall_clock: Callable[[], float]
) -> float | None:
    """Retry-After as seconds from now (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date
    measured against the response's Date (so a skewed local clock does not matter), else
    against `wall_clock`. None when unparsable."""
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(min(int(value[:16]), 10**15))  # at most 16 digits: never a huge int
    when = _http_date(value)
    if when is None:
        return None
    now = _http_date(date) if date is not None else None
    return max(0.0, when - (wall_clock() if now is None else now))


def _http_date(value: str) -> float | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # RFC 9110 §5.6.7: HTTP-dates are in GMT
        parsed = parsed.replace(tzinfo=datetime.UTC)
    try:
        return parsed.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def _detail(body: bytes) -> str:
    # The server's explanation: the "detail" of a JSON answer (ours), or the text itself.
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # '[' * 4096 is too deep for json
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
        last_event_id: str,
    ) -> None:
        self._url = url
        self._method = method
        self._headers = dict(headers or {})
        self._params = params
        self._retry = retry if retry is not None else Retry()
        self._last_event_id = last_event_id
        self.decoder: ProfileDecoder[T] = ProfileDecoder(model)
        self._started = False
        self._sleeps: list[Sleep] = []

    def _start(self) -> Generator[Action, Result, None]:
        if self._started:
            raise UsageError("this client stream was already iterated; call connect() again")
        self._started = True
        return event_flow(self.decoder, self._retry, last_event_id=self._last_event_id)

    def _request(self, client: Any, action: Connect) -> httpx.Request:
        base, limit = client.timeout, action.timeout
        timeout = type(base)(  # the client's own library's Timeout (httpx or httpx2)
            connect=_at_most(base.connect, limit),
            read=limit,
            write=base.write,
            pool=_at_most(base.pool, limit),
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
    def sleeps(self) -> tuple[Sleep, ...]:
        """The waits between connections so far, in order (the backoff and ``Retry-After``
        the policy chose), as `Sleep` actions."""
        return tuple(self._sleeps)

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
        self._errors = _library(client)
        self._iterator: Generator[ClientUpdate[T], None, None] | None = None

    def __iter__(self) -> Iterator[ClientUpdate[T]]:
        self._iterator = self._run(self._start())
        return self._iterator

    def _run(self, flow: Generator[Action, Result, None]) -> Generator[ClientUpdate[T], None, None]:

        response: httpx.Response | None = None
        chunks: Generator[bytes, None, None] | None = None
        try:
            action = next(flow)
            while True:
                result: Result = None
                if type(action) is Receive:
                    try:
                        result = next(chunks, b"") if chunks is not None else b""
                    except self._errors.RequestError as exc:
                        result = _failed(exc, self._errors)
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
                    except self._errors.RequestError as exc:
                        response, result = None, _failed(exc, self._errors)
                    else:
                        chunks = response.iter_bytes()  # type: ignore[assignment]
                        result = _opened(response)
                elif type(action) is Sleep:
                    if response is not None:
                        _close(response, chunks)
                        response = chunks = None
                    self._sleeps.append(action)
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

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _at_most(value: float | None, limit: float | None) -> float | None:
    if limit is None:
        return value
    return limit if value is None else min(value, limit)


def _library(client: Any) -> Any:
    """The module whose exceptions `client` raises: httpx, or httpx2 (the fork that the
    openai SDK and starlette's TestClient use when it is installed), by the client's type."""
    import importlib

    name = type(client).__module__.partition(".")[0]
    if name in ("httpx", "httpx2"):
        return importlib.import_module(name)
    for base in type(client).__mro__:  # a subclass defined elsewhere (a test client)
        name = base.__module__.partition(".")[0]
        if name in ("httpx", "httpx2"):
            return importlib.import_module(name)
    import httpx

    return httpx


def _failed(error: httpx.RequestError, library: Any) -> Failed:
    # RequestError: TransportError (connection, timeouts, protocol errors) and DecodingError (a
    # body that does not decode, such as bad gzip), TooManyRedirects: all are the server's or
    # the network's doing, so the flow retries them (and gives up with an error of ours).
    return Failed(error, idle=isinstance(error, library.ReadTimeout))


def _opened(response: httpx.Response) -> Opened:
    headers = response.headers
    return Opened(
        response.status_code,
        headers.get("content-type"),
        retry_after=headers.get("retry-after"),
        date=headers.get("date"),
    )


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
        self._errors = _library(client)
        self._iterator: AsyncGenerator[ClientUpdate[T], None] | None = None

    def __aiter__(self) -> AsyncIterator[ClientUpdate[T]]:
        self._iterator = self._run(self._start())
        return self._iterator

    async def _run(
        self, flow: Generator[Action, Result, None]
    ) -> AsyncGenerator[ClientUpdate[T], None]:

        response: httpx.Response | None = None
        chunks: AsyncGenerator[bytes, None] | None = None
        try:
            action = next(flow)
            while True:
                result: Result = None
                if type(action) is Receive:
                    try:
                        result = await anext(chunks, b"") if chunks is not None else b""
                    except self._errors.RequestError as exc:
                        result = _failed(exc, self._errors)
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
                    except self._errors.RequestError as exc:
                        response, result = None, _failed(exc, self._errors)
                    else:
                        chunks = response.aiter_bytes()  # type: ignore[assignment]
                        result = _opened(response)
                elif type(action) is Sleep:
                    if response is not None:
                        await _aclose(response, chunks)
                        response = chunks = None
                    self._sleeps.append(action)
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

    async def __aenter__(self) -> Self:
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
        client: the httpx client, or an httpx2 one (its base URL, auth, ... apply; the read
            timeout is replaced by the policy's idle timeout, and no timeout outlasts its
            deadline).
        url: the endpoint.
        model: the type of the object, or ``None`` for plain JSON values.
        method: the HTTP method (resuming needs an idempotent one).
        headers: extra request headers.
        params: query parameters.
        retry: the reconnection policy (default `Retry()`): backoff, jitter,
            ``Retry-After``, deadline, idle timeout, reconnection budget.
        last_event_id: resume after this id ("" starts from the beginning).

    Returns:
        A `ClientStream`: iterate it for `ClientUpdate`s; the last has ``done=True`` and
        ``final``.

    Raises (while iterating):
        ReconnectError: (an `SSEError`) the client gave up: a status that is not retried,
            retries exhausted, the deadline, the reconnection budget, a ``Retry-After``
            too long, an idle connection (``on_idle="fail"``); ``reason`` says which.
        SSEError: a content type that is not an event stream, a broken stream. Nothing but
            `StreamdanticError` subclasses comes out of the client (httpx's errors are
            retried, then chained as the ``__cause__``).
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
        last_event_id=last_event_id,
    )
