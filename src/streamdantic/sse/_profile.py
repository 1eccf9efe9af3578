"""The streamdantic SSE profile: a stream's outputs as Server-Sent Events, and back (sans-IO).

`ProfileEncoder` turns what `stream`/`astream` produce (`Update`s and stream `Part`s) into
`ServerSentEvent` frames; `ProfileDecoder` turns frames back into `ClientUpdate`s holding the
same object, typed when a model is given. docs/sse.md specifies the wire format (frame names,
ids, snapshots, terminal and error frames, resume rules); this module implements it, plus the
"compatible" profile of agent frameworks (``data: <compatible chunk>`` frames).
"""

# Strategy / invariants
# - The encoder keeps one DeltaEncoder for the whole stream (one batch per update) and a mirror
#   ChunkMerger fed with exactly the chunks it sends: the mirror *is* the client's state, so a
#   snapshot or an error frame's partial is what a client rebuilds, by construction.
# - Open values (strings, arrays, objects still growing) are tracked from the mirror's events.
#   A snapshot lists them; a client resetting from it completes every other value at once, so
#   its merger, and its typed partial, are the same as if it had seen every delta.
# - Every frame of the streamdantic profile gets the next integer id, from 1. The decoder
#   applies frame n only right after n - 1; ids it has seen are replays (ignored); a jump is
#   legal only onto a snapshot, which replaces the state.
# - A snapshot is not in that sequence: it carries the id of the last frame it includes
#   ("the state after frame k"). Stores keep the latest one aside and send it only to a
#   client whose next frames were dropped, so live clients never pay for snapshots.
# - Parts travel as their `to_dict()`; `Finish` and `ProviderErrorPart` are folded into the
#   terminal frame, which ends every stream: `final`, or `error` with a type.
# - Generations are told apart by the unnumbered `stream` frame that opens every response
#   (`stream_frame`): the decoder keeps the first token; a response with another one (or
#   none) after frames were applied is another generation, refused unless it declares a
#   restart, which resets the decoder. The `final` frame carries the object the frames built
#   (`value`, or `raw` where validation changed it): the decoder compares its own with it, so
#   a frame lost or spliced anyway fails loudly instead of producing a wrong object.
# - Version 3 (the default): the `final` frame carries a digest instead of the object, a
#   CRC-32 running over the exact data text of every `delta` frame (each followed by LF),
#   which both clients compute from the bytes they received, with no JSON canonical form to
#   agree on. A delta frame is the delta alone (no chunk wrapper), and each pointer may be
#   written relative to the one before it (`_shorten`/`_expand`: "2/name" is two levels up
#   from the previous pointer, then /name), in the order json, text, done, the first one
#   relative to the previous delta frame's last. A snapshot carries the digest after its
#   frame and that last pointer (`at`), so a client that resumes from it continues both.
#   A delta frame is unnamed (SSE's default `message`: no `event:` line), its members are
#   named j, t, d, and a delta that only appends text at the previous pointer is the bare
#   JSON string (`_delta_json`, `delta_chunk`): what is left per frame is its id and data.
#   The decoder reads version-2 frames too: a chunk-shaped delta and absolute pointers are
#   valid, and a `final` frame without `digest` is checked the version-2 way (its object).

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Final, Generic, Literal, TypeVar

import jiter
import pydantic_core

from .._deltas import Chunk, ChunkMerger, Delta, DeltaEncoder, json_text
from .._events import Event, StringAppended, ValueCompleted, ValueStarted
from .._exceptions import (
    DeltaError,
    GenerationLostError,
    IncompleteJSONError,
    JSONParseError,
    ProviderError,
    SSEError,
    StoreUnavailableError,
    StreamCancelledError,
    StreamIntegrityError,
    StreamValidationError,
    TruncatedStreamError,
    UsageError,
)
from .._mirror import Mirror
from .._numbers import jsonable, write_infinities
from .._options import warn_deprecated
from .._parts import (
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
from .._paths import JSONPath, render_path, to_pointer
from .._stream_core import Throttle, Update
from .._validation import PartialValidator
from ._codec import ServerSentEvent, data_of, encode

__all__ = [
    "ClientUpdate",
    "ErrorType",
    "ProfileDecoder",
    "ProfileEncoder",
    "SSEProfile",
    "TERMINAL_EVENTS",
    "stream_frame",
]

#: The wire versions `ProfileEncoder` writes: 3 (the default: digest in ``final``, short
#: pointers) or 2 (the object in ``final``, absolute pointers; for clients of 0.1.0dev
#: releases that read only version 2). Decoders read both.
WireVersion = Literal[2, 3]
_VERSIONS: Final = (2, 3)

T = TypeVar("T")

# The SSE profiles carry the delta profiles of the same name: "nested" (streamdantic's own
# frames: ids, parts, snapshots, nested-profile deltas) or "compatible" (bare compatible-profile
# chunks). "streamdantic" is the old name of "nested" (deprecated).
SSEProfile = Literal["nested", "compatible", "streamdantic"]
_PROFILES: Final = ("nested", "compatible")
#: How often an encoder sends what changed: ``"changes"`` (a frame for every update and
#: part) or `Throttle` (at most ``per_second`` flushes a second; see `ProfileEncoder`).
FrameRate = Literal["changes"] | Throttle
ErrorType = Literal[
    "provider_error",
    "validation_error",
    "truncated",
    "cancelled",
    "internal_error",
    "generation_lost",
    "store_unavailable",
]

#: Event names that end a stream of the streamdantic profile.
TERMINAL_EVENTS: Final = frozenset({"final", "error"})

# Frame names of the parts that travel as frames (Finish and ProviderErrorPart are folded into
# the terminal frame; TextDelta is the object's own text, which travels as deltas).
_PART_EVENTS: Final[Mapping[type, str]] = {
    ReasoningDelta: "reasoning",
    RefusalDelta: "refusal",
    ToolCallDelta: "tool_call",
    ToolCallDone: "tool_call",
    ToolResult: "tool_result",
    Usage: "usage",
}
_CONTAINERS: Final = (str, list, dict)
# The most digits a frame id may have: far more than any stream's frame count, and below the
# 4300 that int() converts by default.
_MAX_ID_DIGITS: Final = 100


# Code points UTF-8 cannot carry: in a Python str every surrogate is a lone one.
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _utf8_safe(text: str) -> str:
    """`text`, with each lone surrogate replaced by U+FFFD (what a UTF-8 decoder shows for
    bytes it cannot read): a frame must always be sendable, whatever the upstream text."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def _dumps(value: Any) -> str:
    # pydantic_core serializes models (by alias, so the client's model reads them back),
    # dataclasses, dates, ... in one pass. An infinity (what 1e400 in the text parses to) is
    # written as 1e400, which every JSON reader reads back as infinity; NaN becomes null.
    # A model writes its infinities as null (its ser_json_inf_nan): when the text has a
    # null, the value is written again from `jsonable`, which keeps them (see _numbers).
    try:
        text = pydantic_core.to_json(
            value, by_alias=True, inf_nan_mode="constants", serialize_unknown=True
        ).decode("utf-8")
        if "null" in text:
            text = pydantic_core.to_json(
                jsonable(value), by_alias=True, inf_nan_mode="constants", serialize_unknown=True
            ).decode("utf-8")
    except pydantic_core.PydanticSerializationError:
        # pydantic_core refuses lone surrogates: serialize the same plain value with json,
        # which writes them as they are, and let _utf8_safe replace them.
        plain = pydantic_core.to_jsonable_python(
            jsonable(value), by_alias=True, inf_nan_mode="constants", serialize_unknown=True
        )
        text = json.dumps(plain, ensure_ascii=False, separators=(",", ":"))
    return write_infinities(text, nan="null")


def _check_profile(profile: str) -> Literal["nested", "compatible"]:
    """The profile's canonical word.

    Raises:
        ValueError: an unknown profile (the message lists the valid ones).
    """
    if profile == "streamdantic":
        warn_deprecated(
            "profile='streamdantic' is deprecated; use profile='nested' (the same profile:"
            " its deltas are nested-profile chunks, as for ChunkMerger and stream)"
        )
        return "nested"
    if profile not in _PROFILES:
        raise ValueError(f"profile must be one of {_PROFILES!r}, not {profile!r}")
    return profile  # type: ignore[return-value]


def error_type(error: BaseException) -> ErrorType:
    """The ``type`` of the error frame that reports `error` (see docs/sse.md)."""
    if isinstance(error, StreamCancelledError):
        return "cancelled"
    if isinstance(error, GenerationLostError):
        return "generation_lost"
    if isinstance(error, StoreUnavailableError):
        return "store_unavailable"
    if isinstance(error, TruncatedStreamError):
        return "truncated"
    if isinstance(error, IncompleteJSONError):  # the text ended inside a value
        return "truncated"
    if isinstance(error, StreamValidationError | JSONParseError | DeltaError):
        return "validation_error"
    if isinstance(error, ProviderError):
        return "provider_error"
    return "internal_error"


def stream_frame(token: str, /, *, restart: bool = False) -> ServerSentEvent:
    """The ``stream`` frame that opens every response of the streamdantic profile.

    It has no id (it is not part of the numbered sequence) and names the generation the
    response carries, so a client that reconnects can tell a continuation from another
    generation (docs/sse.md, "Stream tokens").

    Args:
        token: the generation's token: a new random one for each run of a model
            (``secrets.token_urlsafe``), the same one for every response of a stored stream.
        restart: the response is a new generation replacing the one the client asked to
            resume (a client resets its object instead of refusing it).

    Returns:
        The frame: ``event: stream``, data ``{"token": ..., "restart": ...}``.

    Raises:
        ValueError: an empty token.
    """
    if not token:
        raise ValueError("a stream token must not be empty")
    return ServerSentEvent(_dumps({"token": token, "restart": restart}), event="stream")


def _json_kind(value: Any) -> str:
    # By JSON kind, not by Python type: a mapping or sequence of any class (a frozen value,
    # say) is an object or an array; 1, 1.0 and True are three kinds.
    if value is None or isinstance(value, bool | int | float | str):
        return type(value).__name__
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, Sequence):
        return "array"
    return type(value).__name__


def _first_difference(a: Any, b: Any, path: JSONPath = ()) -> JSONPath | None:
    """The path of the first place where two JSON values differ (kinds included: 1 is not
    1.0 nor True), or None when they are the same; object key order does not count."""
    kind = _json_kind(a)
    if kind != _json_kind(b):
        return path
    if kind == "object":
        if a.keys() != b.keys():
            missing = [key for key in a if key not in b] or [key for key in b if key not in a]
            return (*path, missing[0])
        for key, value in a.items():
            found = _first_difference(value, b[key], (*path, key))
            if found is not None:
                return found
        return None
    if kind == "array":
        for index, (x, y) in enumerate(zip(a, b, strict=False)):
            found = _first_difference(x, y, (*path, index))
            if found is not None:
                return found
        return None if len(a) == len(b) else (*path, min(len(a), len(b)))
    return None if a == b else path


def _add_raw(data: dict[str, Any], raw: Any) -> None:
    # A final frame carries the raw value the frames built as "raw" when the validated
    # "value" differs from it (defaults, aliases, coerced or transformed values), so that a
    # client can compare the object it merged with the server's (docs/sse.md).
    if raw is None:
        return
    try:
        raw_json, value_json = _dumps(raw), _dumps(data["value"])
    except ValueError:  # the final frame's own serialization reports it
        return
    if raw_json != value_json and (
        _first_difference(json.loads(raw_json), json.loads(value_json)) is not None
    ):
        data["raw"] = raw


def _add_value(data: dict[str, Any], value: Any, raw: Any) -> None:
    # Version 3: the final frame carries the validated object only where it differs from the
    # raw value the frames built (defaults, aliases, coerced or transformed values), so a
    # client that wants the validated form (a browser) has it; otherwise the client's own
    # merged value is the object, and the digest proves it.
    try:
        raw_json, value_json = _dumps(raw), _dumps(value)
    except ValueError:  # the final frame's own serialization reports it
        data["value"] = value
        return
    if raw_json != value_json and (
        _first_difference(json.loads(raw_json), json.loads(value_json)) is not None
    ):
        data["value"] = value


# ------------------------------------------------------------------ version 3: the wire form
# A relative pointer is an up-count (decimal digits) and a JSON Pointer to append: "2/name"
# from "/orders/3/customer/id" is "/orders/3/name", "0/street" a child of the previous value,
# "1" (in `done` only) its parent. It relates escaped tokens, so no token is unescaped.
_MAX_UP_DIGITS: Final = 6


def digest_step(digest: int, data: str, /) -> int:
    """The version-3 digest after one more ``delta`` frame whose data text is `data`: the
    CRC-32 (zlib's, ISO-HDLC) of the UTF-8 bytes of every delta frame's data, each followed
    by a line feed, running from 0."""
    return zlib.crc32(data.encode("utf-8") + b"\n", digest)


def _tokens(pointer: str) -> list[str]:
    return pointer.split("/")[1:] if pointer else []


def _relative(previous: list[str], tokens: list[str]) -> str:
    n, top = 0, min(len(previous), len(tokens))
    while n < top and previous[n] == tokens[n]:
        n += 1
    rest = tokens[n:]
    return f"{len(previous) - n}/{'/'.join(rest)}" if rest else str(len(previous) - n)


def _shorten(delta: Delta, previous: list[str] | None) -> tuple[dict[str, Any], list[str] | None]:
    """The wire form of a version-3 delta, each pointer written relative to the one before
    it (json, then text, then done; the first one to the previous delta frame's last,
    `previous`) where that is shorter, and the tokens of its last pointer.

    A relative key of a map is never one the map already has, nor digits alone unless it is
    the map's only key (a JavaScript object moves integer-like keys first, which would change
    the order the keys are resolved in); a ``done`` entry may be anything."""
    out: dict[str, Any] = {}

    def short(pointer: str, used: set[str] | None, single: bool) -> str:
        nonlocal previous
        tokens = _tokens(pointer)
        key = pointer
        if previous is not None:
            rel = _relative(previous, tokens)
            if len(rel) < len(pointer) and (
                used is None or ((single or "/" in rel) and rel not in used)
            ):
                key = rel
        previous = tokens
        if used is not None:
            used.add(key)
        return key

    if delta.json:
        used: set[str] = set()
        one = len(delta.json) == 1
        out["json"] = {short(ptr, used, one): value for ptr, value in delta.json.items()}
    if delta.text:
        used = set()
        one = len(delta.text) == 1
        out["text"] = {short(ptr, used, one): text for ptr, text in delta.text.items()}
    if delta.done:
        out["done"] = [short(ptr, None, False) for ptr in delta.done]
    return out, previous


def _expand(delta: Delta, previous: list[str] | None) -> tuple[Delta, list[str] | None]:
    """The delta with every relative pointer made absolute (see `_shorten`), and the tokens
    of its last pointer (`previous` for the next delta frame).

    Raises:
        DeltaError: a relative pointer with no pointer before it, one that climbs above the
            root, a key of digits alone in a map of several, two keys naming one value.
    """

    def full(key: str, many: bool) -> str:
        nonlocal previous
        if not key or key[0] == "/":
            previous = _tokens(key)
            return key
        slash = key.find("/")
        up = key if slash < 0 else key[:slash]
        if not (up.isascii() and up.isdigit()) or len(up) > _MAX_UP_DIGITS or (many and slash < 0):
            raise DeltaError(
                f"invalid pointer {key!r}: a JSON Pointer, or (version 3) an up-count and a "
                "pointer relative to the previous one"
            )
        if previous is None:
            raise DeltaError(f"relative pointer {key!r} has no pointer before it")
        keep = len(previous) - int(up)
        if keep < 0:
            raise DeltaError(
                f"relative pointer {key!r} climbs {up} levels from a pointer of {len(previous)}"
            )
        tokens = previous[:keep]
        if slash >= 0:
            tokens += key[slash + 1 :].split("/")
        previous = tokens
        return "/" + "/".join(tokens) if tokens else ""

    many = len(delta.json) > 1
    sets = {full(key, many): value for key, value in delta.json.items()}
    many = len(delta.text) > 1
    texts = {full(key, many): text for key, text in delta.text.items()}
    done = tuple(full(key, False) for key in delta.done)
    if len(sets) != len(delta.json) or len(texts) != len(delta.text):
        raise DeltaError("two keys of one map name the same value")
    return Delta(texts, sets, done), previous


# Version 3's one-letter member names of a delta (docs/sse.md, "Delta frames"), and back.
_SHORT_NAMES: Final = (("text", "t"), ("json", "j"), ("done", "d"))  # Chunk.to_json's order
_LONG_NAMES: Final = {"j": "json", "t": "text", "d": "done"}


def _delta_json(delta: Delta, previous: list[str] | None) -> tuple[str, list[str] | None]:
    if previous is not None and len(delta.text) == 1 and not delta.json and not delta.done:
        ((pointer, text),) = delta.text.items()
        if _tokens(pointer) == previous:
            # The most frequent delta of a growing string, text appended at the previous
            # delta's last pointer: the bare JSON string.
            return json_text(text), previous
    short, previous = _shorten(delta, previous)
    members = [
        f'"{letter}":{json_text(short[name])}' for name, letter in _SHORT_NAMES if name in short
    ]
    return "{" + ",".join(members) + "}", previous


def frame_name(event: ServerSentEvent, /) -> str:
    """The profile's name of a frame: ``"delta"`` for version 3's unnamed delta frames (SSE's
    default ``message`` type, with an id) as for version 2's named ones, else its event."""
    name = event.event
    return "delta" if name == "message" and event.id else name


def delta_chunk(data: str, previous: list[str] | None, /) -> tuple[Chunk, list[str] | None]:
    """The chunk of a ``delta`` frame's data, version 2 or 3 (relative pointers resolved
    from `previous`, the escaped tokens of the previous delta frame's last pointer), and the
    tokens of its own last pointer.

    Raises:
        DeltaError: not a chunk (nor a version-3 short delta, docs/sse.md "Delta frames"), a
            bare string with no pointer before it, or a malformed relative pointer.
    """
    try:
        decoded = jiter.from_json(data.encode("utf-8"), allow_inf_nan=False)
    except (ValueError, UnicodeEncodeError) as exc:
        raise DeltaError(f"malformed chunk: not valid JSON ({exc})") from exc
    kind = type(decoded)
    if kind is str:  # version 3: text appended at the previous pointer
        if previous is None:
            raise DeltaError("a delta of text alone (a JSON string) has no pointer before it")
        return Chunk(Delta({"/" + "/".join(previous) if previous else "": decoded})), previous
    if kind is dict and "delta" not in decoded:  # version 3: the delta alone
        members = {_LONG_NAMES.get(name, name): value for name, value in decoded.items()}
        if len(members) != len(decoded):
            raise DeltaError(f"malformed delta: a member named twice ({data[:80]!r})")
        decoded = {"delta": members}
    chunk = Chunk.from_dict(decoded)
    delta, previous = _expand(chunk.delta, previous)
    return Chunk(delta), previous


# --------------------------------------------------------------------------------- encoder


class ProfileEncoder:
    """Turn a stream's outputs into SSE frames of a profile; sans-IO.

    Feed it every output of ``stream(...).events()`` / ``astream(...).events()`` in order
    (`Update`s and `Part`s; plain iteration, which yields updates only, works too: their
    parts are sent from ``Update.parts``), then `close` it, with the error if the stream
    failed. Each call returns the frames to send, in order.

    Streamdantic profile: ``delta`` frames (nested-profile deltas, short pointers), part frames
    (``reasoning``, ``refusal``, ``tool_call``, ``tool_result``, ``usage``) and one terminal
    frame, ``final`` or ``error``, with ids 1, 2, 3, ...; and, when enabled, periodic
    ``snapshot`` frames for a store. A snapshot carries the id of the last frame it includes
    (it repeats that id): a store keeps the latest one aside, to resume clients whose frames
    it has dropped, and does not send it to anyone else (docs/sse.md). A response to a single
    live client needs no snapshots. Compatible profile: unnamed ``data:`` frames of
    compatible-profile chunks and ``error`` frames, no ids, no parts, no snapshots.

    Args:
        profile: ``"nested"`` (default: the streamdantic frames, whose deltas are
            nested-profile chunks) or ``"compatible"`` (``"streamdantic"``, the old name of
            ``"nested"``, still works, deprecated).
        snapshot_every: add a snapshot after this many frames since the last one (``None``,
            the default: never by count).
        snapshot_interval: add one when this many seconds (of the ``now`` passed to `feed`)
            have passed since the last one and frames were produced meanwhile.
        emit: ``"changes"`` (default): the frames of each output at once. ``Throttle(n)``:
            coalesce, for network streams: the first output is sent at once, then what
            arrives within ``1/n`` s of the last flush is held and sent together (one
            ``delta`` frame for all the updates, consecutive reasoning, refusal and text
            pieces and tool-call arguments joined), when a later `feed` or `poll` comes
            after the interval (`next_deadline`); the final update, and `close`, flush at
            once. Frames then depend on timing, not on the token count; the object they
            build is the same.
        version: the wire version of the streamdantic profile: ``3`` (default: ``final``
            carries a digest of the delta frames, pointers are short) or ``2`` (``final``
            carries the object; for clients that read only version 2). docs/sse.md,
            "Versions".

    Raises:
        ValueError: an unknown profile, `emit` or `version`, or a non-positive period.
    """

    __slots__ = (
        "_compatible",
        "_deltas",
        "_digest",
        "_finish_reason",
        "_held",
        "_id",
        "_interval",
        "_json_seen",
        "_last_flush",
        "_last_snapshot",
        "_mirror",
        "_previous",
        "_provider_error",
        "_seen",
        "_sent_fields",
        "_since_snapshot",
        "_snapshot_every",
        "_snapshot_interval",
        "_state",
        "_text",
        "_usage",
        "_version",
    )

    def __init__(
        self,
        *,
        profile: SSEProfile = "nested",
        snapshot_every: int | None = None,
        snapshot_interval: float | None = None,
        emit: FrameRate = "changes",
        version: WireVersion = 3,
    ) -> None:
        profile = _check_profile(profile)
        if version not in _VERSIONS or isinstance(version, bool):
            raise ValueError(f"version must be one of {_VERSIONS!r}, not {version!r}")
        if not isinstance(emit, Throttle) and emit != "changes":
            raise ValueError(f"emit must be 'changes' or Throttle(per_second), not {emit!r}")
        if snapshot_every is not None and (
            isinstance(snapshot_every, bool)
            or not isinstance(snapshot_every, int)
            or snapshot_every < 1
        ):
            raise ValueError(
                f"snapshot_every must be a positive int or None, not {snapshot_every!r}"
            )
        if snapshot_interval is not None and not snapshot_interval > 0:
            raise ValueError(
                f"snapshot_interval must be positive or None, not {snapshot_interval!r}"
            )
        self._compatible = profile == "compatible"
        self._version = version
        self._digest = 0  # version 3: the running digest of the delta frames (digest_step)
        self._previous: list[str] | None = None  # version 3: the last pointer sent, as tokens
        self._snapshot_every = snapshot_every
        self._snapshot_interval = snapshot_interval
        self._deltas = DeltaEncoder()
        self._mirror = Mirror()  # the raw JSON the frames describe (what a client holds)
        self._sent_fields: set[str] = set()  # top-level fields a compatible client has
        self._id = 0
        self._since_snapshot = 0
        self._last_snapshot: float | None = None
        self._seen: dict[int, Part] = {}  # parts fed directly since the last update, by id()
        self._finish_reason: str | None = None
        self._usage: Usage | None = None
        self._provider_error: ProviderErrorPart | None = None
        self._state = "open"  # "open" -> "ended" (terminal frame sent) -> "closed"
        self._text = False  # a text stream: the object is a root string fed by TextDelta parts
        # Throttled: the outputs held since the last flush, as what their frames will carry:
        # lists of events (consecutive updates' events joined) and parts (consecutive text
        # pieces joined); the flush encodes them once.
        self._interval = 1 / emit.per_second if isinstance(emit, Throttle) else None
        self._held: list[Any] = []
        self._last_flush = float("-inf")
        self._json_seen = False  # an update with events was fed (a TextDelta is refused after)

    @property
    def last_id(self) -> int:
        """The id of the last frame produced (0 before the first; always 0 when compatible)."""
        return self._id

    @property
    def value(self) -> Any:
        """The raw JSON value the frames so far describe (``None`` before it starts)."""
        return self._mirror.value

    @property
    def ended(self) -> bool:
        """True once the terminal frame (``final`` or ``error``) was produced."""
        return self._state != "open"

    def feed(self, output: Update[Any] | Part, /, *, now: float = 0.0) -> list[ServerSentEvent]:
        """Encode one output of a stream.

        Args:
            output: an `Update` or a stream `Part`.
            now: the current time in seconds (any monotonic clock), for `snapshot_interval`.

        Returns:
            The frames to send, possibly none.

        Raises:
            UsageError: the stream already ended, or `output` is a `TextDelta` (the object's
                text travels as deltas: pass ``astream(source)``, not the raw parts).
            TypeError: `output` is neither an `Update` nor a `Part`.
            DeltaError: the update's events contradict the earlier ones.
        """
        if self._state != "open":
            raise UsageError("the encoder's stream has ended; use a new ProfileEncoder")
        frames: list[ServerSentEvent] = []
        if self._interval is not None:
            if self._hold(output) or now - self._last_flush >= self._interval:
                self._flush(frames, now)
                if isinstance(output, Update) and output.done:
                    self._final(output.final, frames)
        elif isinstance(output, Update):
            self._feed_update(output, frames)
            self._seen.clear()
        elif isinstance(output, Part):
            self._seen[id(output)] = output
            self._feed_part(output, frames)
        else:
            raise TypeError(
                f"ProfileEncoder.feed() takes an Update or a Part, not {type(output).__name__}"
            )
        self._after(frames, now)
        return frames

    @property
    def next_deadline(self) -> float:
        """When `poll` should be called to send what is held (in the clock of ``now``);
        ``inf`` when nothing is held (always, with ``emit="changes"``)."""
        if not self._held or self._interval is None:
            return float("inf")
        return self._last_flush + self._interval

    def poll(self, now: float, /) -> list[ServerSentEvent]:
        """The frames of what is held, once `next_deadline` has passed (else ``[]``).

        Args:
            now: the current time, in the clock of `feed`'s ``now``.

        Returns:
            The frames to send, possibly none.
        """
        frames: list[ServerSentEvent] = []
        if self._state == "open" and now >= self.next_deadline:
            self._flush(frames, now)
            self._after(frames, now)
        return frames

    def _after(self, frames: list[ServerSentEvent], now: float) -> None:
        if self._state == "open" and not self._compatible:
            self._since_snapshot += len(frames)
            if self._snapshot_every is not None or self._snapshot_interval is not None:
                self._maybe_snapshot(now, frames)

    def close(self, error: BaseException | None = None, /) -> list[ServerSentEvent]:
        """End the stream: return its terminal frame if it has not been sent.

        Args:
            error: why the stream stopped early, if it did (`ProviderError`,
                `StreamValidationError`, `TruncatedStreamError`, `StreamCancelledError`; any
                other exception is reported as an ``internal_error`` without its message).

        Returns:
            ``[]`` when the ``final`` frame was already sent; otherwise one ``error`` frame:
            for `error`, or, without one, ``provider_error`` when the stream carried a
            `ProviderErrorPart`, else ``truncated`` (the stream ended without its final
            update). A text stream (`TextDelta` parts) that ends without an error is whole:
            its closing delta and ``final`` frame, unless its finish reason was
            ``"length"`` (``truncated``). Calling `close` again returns ``[]``.
        """
        if self._state != "open":
            self._state = "closed"
            return []
        # Throttled: what is held goes first, so the client has what the terminal frame's
        # partial (the mirror's value) reports.
        held: list[ServerSentEvent] = []
        try:
            self._flush(held, self._last_flush)
        except DeltaError as exc:  # held events that contradict the stream
            error = error or exc
        self._state = "closed"
        if error is None:
            part = self._provider_error
            if part is not None:
                error = ProviderError(part.message, code=part.code)
            elif self._text and self._finish_reason != "length":
                # A source of text parts that ended without an error: the text is whole.
                self._final(self._mirror.value or "", held)
                self._state = "closed"
                return held
            elif self._text:
                error = TruncatedStreamError(
                    "the text was cut at the token limit (finish reason 'length')",
                    finish_reason="length",
                )
            else:
                error = TruncatedStreamError(
                    "the stream ended before its final update", finish_reason=self._finish_reason
                )
        held.append(self._error_frame(error))
        return held

    def feed_bytes(self, output: Update[Any] | Part, /, *, now: float = 0.0) -> bytes:
        """`feed`, encoded: the frames' bytes (see `feed` for arguments and errors)."""
        frames = self.feed(output, now=now)
        return b"".join(map(encode, frames)) if frames else b""  # held: most outputs

    def close_bytes(self, error: BaseException | None = None, /) -> bytes:
        """`close`, encoded: the terminal frame's bytes, or ``b""``."""
        return b"".join(map(encode, self.close(error)))

    def snapshot(self) -> ServerSentEvent:
        """A ``snapshot`` frame of the current state, now; its id is `last_id`.

        Raises:
            UsageError: the compatible profile has no snapshots, or the stream has ended.
        """
        if self._compatible or self._state != "open":
            raise UsageError("snapshots belong to an open stream of the streamdantic profile")
        return self._snapshot_frame()

    # ------------------------------------------------------------------ internals

    def _frame(self, event: str, data: str) -> ServerSentEvent:
        data = _utf8_safe(data)
        if self._compatible:
            return ServerSentEvent(data, event=event)
        self._id += 1
        return ServerSentEvent(data, event=event, id=str(self._id))

    def _delta_frame(self, delta: Delta) -> ServerSentEvent:
        if self._version == 2:
            data = _utf8_safe(Chunk(delta).to_json())
            self._digest = digest_step(self._digest, data)
            return self._frame("delta", data)
        data, self._previous = _delta_json(delta, self._previous)
        data = _utf8_safe(data)
        self._digest = digest_step(self._digest, data)
        self._id += 1
        # Version 3: the most frequent frame is unnamed (no ``event:`` line on the wire).
        return ServerSentEvent(data, id=str(self._id))

    def _merge(self, events: Sequence[Event]) -> list[Chunk]:
        # The chunks of the events, and the events applied to the mirror (the raw JSON the
        # client builds from the chunks: the same events, not the chunks parsed back).
        chunks = self._deltas.encode(events)
        self._mirror.apply(events)
        return chunks

    def _feed_events(self, events: Sequence[Event], frames: list[ServerSentEvent]) -> None:
        chunks = self._merge(events)
        if self._compatible:
            self._compatible_delta(events, frames)
        else:
            # The seq numbers of DeltaEncoder are left out: the frame id orders the chunks.
            frames.extend(self._delta_frame(chunk.delta) for chunk in chunks)

    def _feed_update(self, update: Update[Any], frames: list[ServerSentEvent]) -> None:
        self._feed_events(update.events, frames)
        seen = self._seen
        for part in update.parts:
            if id(part) not in seen:
                self._feed_part(part, frames)
        if update.finish_reason is not None:
            self._finish_reason = update.finish_reason
        if update.usage is not None:
            self._usage = update.usage
        if update.done:
            self._final(update.final, frames)

    def _hold(self, output: Update[Any] | Part) -> bool:
        """Hold one output (throttled); True when it is the final update (flush now)."""
        held = self._held
        if isinstance(output, Update):
            events = output.events
            if events:
                self._json_seen = True
                last = held[-1] if held else None
                if type(last) is list:
                    last.extend(events)
                else:
                    held.append(list(events))
            seen = self._seen
            for part in output.parts:
                if id(part) not in seen:
                    self._hold_part(part)
            seen.clear()
            if output.finish_reason is not None:
                self._finish_reason = output.finish_reason
            if output.usage is not None:
                self._usage = output.usage
            return output.done
        if isinstance(output, Part):
            self._seen[id(output)] = output
            self._hold_part(output)
            return False
        raise TypeError(
            f"ProfileEncoder.feed() takes an Update or a Part, not {type(output).__name__}"
        )

    def _hold_part(self, part: Part) -> None:
        kind = type(part)
        if kind is Finish:
            self._finish_reason = part.reason  # type: ignore[attr-defined]
            return
        if kind is ProviderErrorPart:
            self._provider_error = part  # type: ignore[assignment]
            return
        if kind is TextDelta:
            self._check_text()
        elif kind not in _PART_EVENTS:
            raise UsageError(f"the SSE profile has no frame for {part!r}")
        elif kind is Usage:
            self._usage = part  # type: ignore[assignment]
        held = self._held
        last = held[-1] if held else None
        if type(last) is kind:
            joined = _join(last, part)
            if joined is not None:
                held[-1] = joined
                return
        held.append(part)

    def _flush(self, frames: list[ServerSentEvent], now: float) -> None:
        """Encode what is held: one frame (or a few) for everything since the last flush."""
        self._last_flush = now
        held, self._held = self._held, []
        for item in held:
            if type(item) is list:
                self._feed_events(item, frames)
            else:
                self._feed_part(item, frames)

    def _check_text(self) -> None:
        if not self._text:
            if self._json_seen or self._mirror.value is not None or self._mirror.done:
                raise UsageError(
                    "a TextDelta is the object's own text: stream the source through "
                    "astream(source, Model) and pass that stream (or its events()) instead"
                )
            if self._compatible:
                raise UsageError(
                    "the compatible profile carries JSON objects only: send a text stream in "
                    "the streamdantic profile"
                )
            self._text = True

    def _feed_part(self, part: Part, frames: list[ServerSentEvent]) -> None:
        kind = type(part)
        if kind is Finish:
            self._finish_reason = part.reason  # type: ignore[attr-defined]
            return
        if kind is ProviderErrorPart:
            self._provider_error = part  # type: ignore[assignment]
            return
        if kind is TextDelta:
            self._feed_text(part.text, frames)  # type: ignore[attr-defined]
            return
        if kind is Usage:
            self._usage = part  # type: ignore[assignment]
        name = _PART_EVENTS.get(kind)
        if name is None:
            raise UsageError(f"the SSE profile has no frame for {part!r}")
        if not self._compatible:
            frames.append(self._frame(name, _dumps(part.to_dict())))

    def _feed_text(self, text: str, frames: list[ServerSentEvent]) -> None:
        # A text stream (prose beside an agent's tool calls, or plain text parts): the
        # object is one string at the root, growing by delta frames like any string.
        self._check_text()
        if not text:
            return
        if self._mirror.value is None:
            chunk = Chunk(Delta(json={"": text}))
            self._mirror.apply((ValueStarted((), "string"), StringAppended((), text)))
        else:
            chunk = Chunk(Delta(text={"": text}))
            self._mirror.apply((StringAppended((), text),))
        frames.append(self._delta_frame(chunk.delta))

    def _end_text(self, frames: list[ServerSentEvent]) -> None:
        # The text is complete: close its string (the final frame follows).
        if self._text and self._mirror.value is not None and not self._mirror.done:
            chunk = Chunk(Delta(done=("",)))
            self._mirror.apply((ValueCompleted((), self._mirror.value),))
            frames.append(self._delta_frame(chunk.delta))

    def _usage_dict(self) -> dict[str, Any] | None:
        if self._usage is None:
            return None
        usage = self._usage.to_dict()
        del usage["type"]
        return usage

    def _final(self, final: Any, frames: list[ServerSentEvent]) -> None:
        self._end_text(frames)
        self._state = "ended"
        if self._compatible:
            usage = self._usage_dict()
            if self._finish_reason is not None or usage is not None:
                chunk = Chunk(Delta(), finish_reason=self._finish_reason, usage=usage)
                frames.append(ServerSentEvent(_utf8_safe(_dumps(chunk.to_dict()))))
            return
        if self._version == 2:
            data = {
                "value": final,
                "finish_reason": self._finish_reason,
                "usage": self._usage_dict(),
            }
            _add_raw(data, self._mirror.value)
        else:
            data = {
                "digest": f"{self._digest:08x}",
                "finish_reason": self._finish_reason,
                "usage": self._usage_dict(),
            }
            _add_value(data, final, self._mirror.value)
        frames.append(self._frame("final", _dumps(data)))

    def _error_frame(self, error: BaseException) -> ServerSentEvent:
        kind = error_type(error)
        message = str(error) if kind != "internal_error" else "the server failed while streaming"
        data: dict[str, Any] = {"type": kind, "message": message, "partial": self._mirror.value}
        code = getattr(error, "code", None)
        if kind == "provider_error" and isinstance(code, str):
            data["code"] = code
        if kind == "truncated":
            data["finish_reason"] = getattr(error, "finish_reason", None) or self._finish_reason
        return self._frame("error", _dumps(data))

    def _maybe_snapshot(self, now: float, frames: list[ServerSentEvent]) -> None:
        interval = self._snapshot_interval
        if interval is not None and self._last_snapshot is None:
            self._last_snapshot = now
        if not self._since_snapshot:
            return
        every = self._snapshot_every
        if (every is not None and self._since_snapshot >= every) or (
            interval is not None
            and self._last_snapshot is not None
            and now - self._last_snapshot >= interval
        ):
            frames.append(self._snapshot_frame())
            self._last_snapshot = now

    def _snapshot_frame(self) -> ServerSentEvent:
        self._since_snapshot = 0
        # Not _frame(): a snapshot is the state after the last frame, and repeats its id.
        value = self._mirror.value
        open_paths = self._mirror.open_paths
        if value is None and not self._mirror.done and not open_paths:
            data = "{}"  # nothing started yet (so no delta frame either: the digest is 0)
        else:
            open_ = [to_pointer(path) for path in open_paths]
            snapshot: dict[str, Any] = {"value": value, "open": open_}
            if self._version == 3:
                snapshot["digest"] = f"{self._digest:08x}"
                if self._previous is not None:  # what the next frame's first pointer is from
                    snapshot["at"] = "".join("/" + token for token in self._previous)
            data = _dumps(snapshot)
        return ServerSentEvent(_utf8_safe(data), event="snapshot", id=str(self._id))

    def _compatible_delta(self, events: Sequence[Event], frames: list[ServerSentEvent]) -> None:
        # The compatible profile knows top-level fields only: text appended to a top-level
        # string stays text; any other change sends its top-level field whole (a shallow
        # assign), so nested values cost their size per update (docs/sse.md).
        # Text is only right for a string the client already streams (or a field it does not
        # have yet): a string that starts again at a field the client has was reassigned
        # ("Ro", then "Robo"), and text would append the new value to the old one.
        texts: dict[str, str] = {}
        assigned: dict[str, None] = {}
        sent = self._sent_fields
        for event in events:
            path: JSONPath | None = getattr(event, "path", None)
            if path is None:
                continue  # DocumentCompleted
            kind = type(event)
            if not path:
                if (kind is ValueStarted and event.kind != "object") or (  # type: ignore[attr-defined]
                    kind is ValueCompleted and type(event.value) is not dict  # type: ignore[attr-defined]
                ):
                    raise UsageError("the compatible profile carries JSON objects only")
                continue
            key = str(path[0])
            if key in assigned:
                continue
            if len(path) == 1 and kind is ValueStarted and event.kind == "string":  # type: ignore[attr-defined]
                if key in sent or key in texts:
                    assigned[key] = None
                    texts.pop(key, None)
                else:
                    texts[key] = ""
            elif len(path) == 1 and kind is StringAppended:
                texts[key] = texts.get(key, "") + event.text  # type: ignore[attr-defined]
            elif len(path) == 1 and kind is ValueCompleted and type(event.value) is str:  # type: ignore[attr-defined]
                pass  # completion is implicit in the compatible profile
            else:
                assigned[key] = None
                texts.pop(key, None)
        if not texts and not assigned:
            return
        root = self._mirror.value
        sent.update(texts)
        sent.update(assigned)
        chunk = Chunk(Delta(text=texts, json={key: root[key] for key in assigned}))
        frames.append(ServerSentEvent(_utf8_safe(chunk.to_json())))


def _join(first: Any, second: Any) -> Part | None:
    """One part for two consecutive held parts of the same type, or None when they stay
    two frames (a tool call's deltas join while they belong to one call)."""
    kind = type(first)
    if kind is TextDelta or kind is ReasoningDelta or kind is RefusalDelta:
        return kind(first.text + second.text)  # type: ignore[no-any-return]
    if (
        kind is ToolCallDelta
        and first.call_id == second.call_id
        and first.index == second.index
        and (second.name is None or second.name == first.name)
    ):
        return ToolCallDelta(
            first.call_id,
            first.arguments + second.arguments,
            name=first.name,
            index=first.index,
            partial=second.partial,
        )
    return None


# --------------------------------------------------------------------------------- decoder


@dataclass(frozen=True, slots=True, repr=False)
class ClientUpdate(Generic[T]):
    """One applied frame, as a client sees it.

    Attributes:
        event_id: the frame's id ("" in the compatible profile).
        kind: the frame's name: ``"delta"``, ``"snapshot"`` (the state was replaced),
            ``"reasoning"``, ``"refusal"``, ``"tool_call"``, ``"tool_result"``, ``"usage"``,
            ``"final"``, or ``"restart"`` (a new generation replaced the stream: the object
            starts again from nothing).
        partial: the partial object after this frame (typed when there is a model): a value
            that never changes afterwards, sharing unchanged subtrees with the previous
            update's, as `Update.partial` (``ProfileDecoder(partials="live")``: one object
            changed in place).
        events: the merger's events for this frame (what changed).
        parts: the stream parts the frame carried.
        done: True on the final update.
        final: the validated final object (final update only).
        finish_reason: the provider's finish reason (final update only).
        usage: token usage (usage frames and the final update).
        restarted: True on the ``"restart"`` update: the server started a new generation
            instead of resuming (``on_resume="restart"``), so clear what was shown of the
            old one; `partial` is the new, empty object.

    `ClientUpdate` and `Update` share one shape, `UpdateLike` (`partial`, `events`,
    `deltas`, `parts`, `done`, `final`, `finish_reason`, `usage`), so one function renders a
    local `stream()` and a remote `connect()` alike.
    """

    event_id: str
    kind: str
    partial: Any
    events: tuple[Event, ...] = ()
    parts: tuple[Part, ...] = ()
    done: bool = False
    final: T | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    restarted: bool = False

    @property
    def deltas(self) -> tuple[Chunk, ...]:
        """The nested-profile chunks that carry this frame's change, as `Update.deltas`
        (built from `events` on each read; ``(Chunk(Delta()),)`` when nothing changed)."""
        return tuple(DeltaEncoder().encode(self.events) or [Chunk(Delta())])

    def __repr__(self) -> str:
        args = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if f.name in ("event_id", "kind", "partial") or getattr(self, f.name) != f.default
        )
        return f"{type(self).__name__}({args})"


def _error_from_frame(data: Any, partial: Any) -> Exception:
    if not isinstance(data, dict):
        return SSEError(f"malformed error frame: {data!r}")
    kind = data.get("type")
    message = str(data.get("message", kind))
    if kind == "validation_error":
        return StreamValidationError(message, partial=partial)
    if kind == "truncated":
        reason = data.get("finish_reason")
        return TruncatedStreamError(
            message, finish_reason=reason if isinstance(reason, str) else None, partial=partial
        )
    if kind == "cancelled":
        return StreamCancelledError(message, partial=partial)
    if kind == "generation_lost":
        return GenerationLostError(message, partial=partial)
    if kind == "store_unavailable":
        return StoreUnavailableError(message, partial=partial)
    code = data.get("code") if kind == "provider_error" else kind
    return ProviderError(message, code=code if isinstance(code, str) else None, partial=partial)


def _usage_from(data: Any) -> Usage | None:
    if not isinstance(data, Mapping):
        return None
    return Usage(
        data.get("input_tokens"),
        data.get("output_tokens"),
        data.get("total_tokens"),
        raw=data.get("raw"),
    )


def _snapshot_done(value: Any, open_: set[str]) -> tuple[str, ...]:
    """The pointers to complete so that exactly `open_` stays open: the complete children
    of open containers (each completes its subtree), or the root when it is not open."""
    if "" not in open_:
        return ("",) if isinstance(value, _CONTAINERS) else ()
    done: list[str] = []
    for ptr in open_:
        node: Any = value
        for token in ptr.split("/")[1:]:
            key = token.replace("~1", "/").replace("~0", "~")
            node = node[int(key)] if type(node) is list else node[key]
        if type(node) is dict:
            children: Any = node.items()
        elif type(node) is list:
            children = enumerate(node)
        else:
            continue
        for key, child in children:
            if isinstance(child, _CONTAINERS):
                child_ptr = f"{ptr}/{str(key).replace('~', '~0').replace('/', '~1')}"
                if child_ptr not in open_:
                    done.append(child_ptr)
    return tuple(done)


class _Generations:
    """The stage of `ProfileDecoder` that tells generations apart (docs/sse.md, "Stream
    tokens"): it keeps the first token and judges what opens each response, given the
    decoder's position (the last id applied, 0 for none)."""

    __slots__ = ("opening", "token")

    def __init__(self) -> None:
        self.token: str | None = None
        self.opening = False  # a response started and no frame of it was seen yet

    def stream(self, data: Any, raw: str, *, position: int, partial: Any) -> bool:
        """A ``stream`` frame's data: True when the decoder must start again (a declared
        restart after frames were applied); raises for another generation."""
        self.opening = False
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise SSEError(f"malformed stream frame: {raw!r}")
        known, self.token = self.token, token
        if not position:
            return False  # nothing applied yet: this is the stream, whatever came before
        if data.get("restart") is True:
            return True
        if token != known:
            raise StreamIntegrityError(
                "the server answered with another stream (its stream token changed, without "
                f"a restart) after frame {position}: a new generation, not a continuation "
                "of this one; it is not applied",
                partial=partial,
            )
        return False

    def untokened(self, name: str, *, position: int, partial: Any) -> None:
        """The first frame of a response opened without a ``stream`` frame: refused when
        the stream has a token (or looks like the compatible profile)."""
        self.opening = False
        if self.token is not None and position:
            raise StreamIntegrityError(
                f"a response of this stream began without its stream frame (with a {name!r} "
                f"frame) after frame {position}: it cannot be the same generation; it is "
                "not applied",
                partial=partial,
            )
        if name == "message" and self.token is None:
            raise SSEError(
                "the response opens with unnamed frames and no stream frame: it looks like the "
                "compatible profile, which this client does not read (use "
                "ProfileDecoder(profile='compatible') on one response, or the streamdantic "
                "profile)"
            )


class ProfileDecoder(Generic[T]):
    """Rebuild a stream's object from the frames of a profile; sans-IO.

    Feed it the events an `SSEDecoder` returns, in order, across reconnections (one decoder
    per stream); it returns a `ClientUpdate` for each frame that changed something. In the
    streamdantic profile it ignores frames it has already applied (replays after a
    reconnection), replaces its state with a snapshot of a later state, and ends at the
    terminal frame: ``final`` gives the final update (after checking that the object it
    built is the server's), ``error`` raises.

    Generations: it keeps the token of the first ``stream`` frame. A ``stream`` frame with
    another token, after frames were applied, raises `StreamIntegrityError`, unless it
    declares a restart: then the decoder starts again from nothing and returns a
    ``"restart"`` update. Call `begin_response` when a new response starts (the client
    does): a response that does not open with a ``stream`` frame, on a stream that has a
    token, is refused the same way.

    Args:
        model: the type of the object (typed partials and a validated final object), or
            ``None`` for plain JSON values.
        profile: ``"nested"`` (default) or ``"compatible"``, as for `ProfileEncoder`.
        partials: ``"snapshot"`` (default): each `ClientUpdate.partial` is a value that
            never changes afterwards (unchanged subtrees shared with the previous update's);
            ``"live"``: one object changed in place by later frames.

    Raises:
        ValueError: an unknown profile or `partials` word.
    """

    def __init__(
        self,
        model: type[T] | Any = None,
        *,
        profile: SSEProfile = "nested",
        partials: Literal["snapshot", "live"] = "snapshot",
    ) -> None:
        profile = _check_profile(profile)
        self.model = model
        self._compatible = profile == "compatible"
        self._merger = ChunkMerger("compatible" if self._compatible else "nested")
        if partials not in ("snapshot", "live"):
            raise ValueError(f"partials must be 'snapshot' or 'live', got {partials!r}")
        self._partials: Literal["snapshot", "live"] = partials
        # The typed view (a plain-JSON mirror without a model): its partials are snapshots.
        self._validator: PartialValidator[T] = self._new_view()
        self._last = 0
        # Version 3: the digest of the delta frames applied (digest_step); None after a
        # snapshot that carried none (a version-2 server's).
        self._digest: int | None = 0
        self._previous: list[str] | None = None  # the last delta pointer applied, as tokens
        self._done = False
        self._closed = False
        self._generations = _Generations()
        self.final: T | None = None
        self.finish_reason: str | None = None
        self.usage: Usage | None = None

    @property
    def token(self) -> str | None:
        """The stream's token (from its first ``stream`` frame), or None before one."""
        return self._generations.token

    def begin_response(self) -> None:
        """A new response of the stream starts (a connection or reconnection answered 200):
        its first frame must be a ``stream`` frame when the stream has a token (`feed`
        raises `StreamIntegrityError` otherwise).

        Raises:
            StreamIntegrityError: compatible profile, frames were applied already: its
                frames carry no ids and no token, so a second response is another
                generation that cannot be told apart (use a new decoder for it).
        """
        if self._compatible and self._merger.value is not None and not self._done:
            self._done = True
            raise StreamIntegrityError(
                "a compatible-profile stream cannot continue in another response: its frames "
                "have no ids and no stream token, so the new response is another generation; "
                "start a new ProfileDecoder for it",
                partial=self.partial,
            )
        self._generations.opening = True

    @property
    def last_event_id(self) -> str:
        """The id of the last frame applied ("" before the first): send it as
        ``Last-Event-ID`` to resume."""
        return str(self._last) if self._last else ""

    @property
    def partial(self) -> Any:
        """The partial object (typed when there is a model)."""
        return self._validator.partial

    @property
    def value(self) -> Any:
        """The raw JSON value so far."""
        return self._merger.value

    @property
    def done(self) -> bool:
        """True once the terminal frame arrived (or `close` ended a compatible stream)."""
        return self._done

    def feed(self, event: ServerSentEvent, /) -> list[ClientUpdate[T]]:
        """Apply one frame.

        Args:
            event: a decoded event.

        Returns:
            The resulting update (one, or none for replays, snapshots of states already
            reached, frames of no interest and anything after the terminal frame).

        Raises:
            SSEError: a frame of the profile without a valid id, a gap in the ids that is
                not followed by a snapshot, or a malformed frame.
            StreamIntegrityError: (an `SSEError`) the frame belongs to another generation
                (another stream token, or a response without one, after frames were
                applied), or the object the frames built is not the one the ``final``
                frame reports (frames were lost or spliced).
            DeltaError: a delta contradicts the object so far.
            StreamValidationError: a completed value does not fit the model (also: the
                server reported a ``validation_error``).
            ProviderError, TruncatedStreamError, StreamCancelledError, GenerationLostError, StoreUnavailableError: the server's ``error``
                frame, by its type (an unknown type raises `ProviderError` with
                ``code=type``); ``.partial`` is the client's partial object.
            UsageError: the decoder was closed.
        """
        if self._closed:
            raise UsageError("ProfileDecoder.feed() called after close(); use a new decoder")
        if self._done:
            return []
        if self._compatible:
            return self._feed_compatible(event)
        name = frame_name(event)
        if name == "stream":
            return self._stream(event)
        if self._generations.opening:
            try:
                self._generations.untokened(name, position=self._last, partial=self.partial)
            except StreamIntegrityError:
                self._done = True
                raise
        if name == "message":
            return []  # without an id: not a frame of the profile (docs/sse.md)
        raw_id = event.id or ""
        if not (raw_id.isascii() and raw_id.isdigit()):
            raise SSEError(f"a {name!r} frame without a valid id ({raw_id!r})")
        if len(raw_id) > _MAX_ID_DIGITS:
            # int() refuses more than 4300 digits (sys.get_int_max_str_digits): no stream
            # numbers that many frames, so it is a broken server, not a position.
            raise SSEError(
                f"a {name!r} frame with an id of {len(raw_id)} digits (at most "
                f"{_MAX_ID_DIGITS}): the server's frame ids are broken"
            )
        n = int(raw_id)
        last = self._last
        if n <= last:
            return []  # a replay, or a snapshot of a state we are past
        if n != last + 1 and name != "snapshot":
            raise SSEError(
                f"frame {n} follows frame {last}: frames {last + 1}..{n - 1} are missing and "
                "no snapshot replaces them"
            )
        if name == "delta":
            data = data_of(event)
            chunk, previous = delta_chunk(data, self._previous)
            events = self._merger.apply(chunk)
            self._previous = previous
            if self._digest is not None:
                self._digest = digest_step(self._digest, data)
            self._validate(events)
            self._last = n
            return [ClientUpdate(raw_id, "delta", self.partial, events=tuple(events))]
        if name == "snapshot":
            update = self._reset(raw_id, _load(event))
            self._last = n
            return [update]
        data = _load(event)
        self._last = n
        if name == "final":
            return [self._finish(raw_id, data)]
        if name == "error":
            self._done = True
            raise _error_from_frame(data, self._partial_or(data))
        part = _part_from(name, data)
        if part is None:
            return []  # a frame this decoder does not know: skipped, as docs/sse.md says
        if type(part) is Usage:
            self.usage = part
        return [ClientUpdate(raw_id, name, self.partial, parts=(part,), usage=self.usage)]

    def close(self) -> list[ClientUpdate[T]]:
        """End the stream (the connection closed for good).

        Returns:
            Compatible profile: the final update (its object completes here). Streamdantic
            profile: ``[]`` after the terminal frame.

        Raises:
            TruncatedStreamError: streamdantic profile, no terminal frame arrived.
            StreamValidationError: compatible profile, the object does not fit the model.
        """
        if self._closed:
            return []
        self._closed = True
        if self._done:
            return []
        if not self._compatible:
            raise TruncatedStreamError(
                "the event stream ended before its final frame", partial=self.partial
            )
        events = self._merger.close()
        self._validate(events)
        self._done = True
        final = self._validated(self._merger.value)
        self.final = final
        return [
            ClientUpdate(
                "",
                "final",
                self.partial,
                events=tuple(events),
                done=True,
                final=final,
                finish_reason=self.finish_reason,
                usage=self.usage,
            )
        ]

    # ------------------------------------------------------------------ internals

    def _stream(self, event: ServerSentEvent) -> list[ClientUpdate[T]]:
        try:
            restart = self._generations.stream(
                _load(event), data_of(event), position=self._last, partial=self.partial
            )
        except StreamIntegrityError:
            self._done = True  # nothing more is applied: the object cannot be trusted
            raise
        if not restart:
            return []
        self._restart()
        return [ClientUpdate("", "restart", self.partial, restarted=True)]

    def _restart(self) -> None:
        self._merger = ChunkMerger("nested")
        self._validator = self._new_view()
        self._last = 0
        self._digest = 0
        self._previous = None
        self.finish_reason = None
        self.usage = None

    def _new_view(self) -> PartialValidator[T]:
        model = self.model if self.model is not None else Any
        return PartialValidator(model, partials=self._partials)

    def _partial_or(self, data: Any) -> Any:
        if self._merger.value is None and isinstance(data, dict):
            return data.get("partial")
        return self.partial

    def _validate(self, events: list[Event]) -> None:
        validator = self._validator
        if not events:
            return
        changes = validator.apply(events)
        if changes.errors:
            first = changes.errors[0]
            raise StreamValidationError(
                f"a completed value failed validation at {render_path(first.path)}: "
                f"{first.errors[0]['msg']}",
                errors=first.errors,
                path=first.path,
                partial=self.partial,
            )

    def _validated(self, value: Any) -> Any:
        if self.model is None:
            return value
        return self._validator.validate_final(value)

    def _reset(self, event_id: str, data: Any) -> ClientUpdate[T]:
        if not isinstance(data, dict):
            raise SSEError(f"malformed snapshot frame {event_id}: {data!r}")
        self._merger = ChunkMerger("nested")
        self._validator = self._new_view()
        events: list[Event] = []
        self._digest = 0 if "value" not in data else _digest_of(data, "snapshot", event_id)
        at = data.get("at")
        if at is not None and (type(at) is not str or (at and at[0] != "/")):
            raise SSEError(f"malformed snapshot frame {event_id}: at is not a JSON Pointer")
        self._previous = None if at is None else _tokens(at)
        if "value" in data:
            value, open_ = data["value"], data.get("open", [])
            if not isinstance(open_, list) or not all(type(p) is str for p in open_):
                raise SSEError(
                    f"malformed snapshot frame {event_id}: open is not a list of pointers"
                )
            try:
                done = _snapshot_done(value, set(open_))
            except (KeyError, IndexError, ValueError, TypeError) as exc:
                raise SSEError(f"malformed snapshot frame {event_id}: {exc!r}") from exc
            events = self._merger.apply(Chunk(Delta(json={"": value}, done=done)))
            self._validate(events)
        return ClientUpdate(event_id, "snapshot", self.partial, events=tuple(events))

    def _finish(self, event_id: str, data: Any) -> ClientUpdate[T]:
        if not isinstance(data, dict):
            raise SSEError(f"malformed final frame {event_id}: {data!r}")
        merger = self._merger
        if "digest" in data:  # version 3
            self._check_digest(event_id, data)
            if merger.done:
                value = merger.value
            elif merger.value is None:
                value = data.get("value")  # a stream without an object (tool calls only, ...)
            else:
                raise SSEError(f"final frame {event_id} arrived before the object was complete")
        elif merger.done:
            value = merger.value
            expected = data["raw"] if "raw" in data else data.get("value")
            path = _first_difference(value, expected)
            if path is not None:
                self._done = True
                raise StreamIntegrityError(
                    f"the object the frames built differs from the final frame's at "
                    f"{render_path(path)}: frames were lost or spliced from another "
                    "generation; the object is not delivered",
                    path=path,
                    partial=self.partial,
                )
        elif merger.value is None:
            value = data.get("value")  # a stream without an object (tool calls only, ...)
        else:
            raise SSEError(f"final frame {event_id} arrived before the object was complete")
        reason = data.get("finish_reason")
        self.finish_reason = reason if isinstance(reason, str) else None
        usage = _usage_from(data.get("usage"))
        if usage is not None:
            self.usage = usage
        self.final = final = self._validated(value)
        self._done = True
        return ClientUpdate(
            event_id,
            "final",
            self.partial,
            done=True,
            final=final,
            finish_reason=self.finish_reason,
            usage=self.usage,
        )

    def _check_digest(self, event_id: str, data: dict[str, Any]) -> None:
        expected = _digest_of(data, "final", event_id)
        if expected is None:
            raise SSEError(f"malformed final frame {event_id}: its digest is null")
        if self._digest is None:
            self._done = True
            raise StreamIntegrityError(
                f"final frame {event_id} carries a digest, but the snapshot this client "
                "resumed from carried none (a version-2 snapshot in a version-3 stream): the "
                "object cannot be checked; it is not delivered",
                partial=self.partial,
            )
        if self._digest != expected:
            self._done = True
            raise StreamIntegrityError(
                f"the delta frames applied do not match the final frame's digest "
                f"({self._digest:08x}, expected {expected:08x}): frames were lost, duplicated, "
                "altered or spliced from another generation; the object is not delivered",
                partial=self.partial,
            )

    def _feed_compatible(self, event: ServerSentEvent) -> list[ClientUpdate[T]]:
        if event.event == "error":
            self._done = True
            data = _load(event)
            raise _error_from_frame(data, self._partial_or(data))
        if event.event != "message":
            return []
        chunk = Chunk.from_json(data_of(event))
        events = self._merger.apply(chunk)
        self._validate(events)
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason
        if chunk.usage is not None:
            self.usage = _usage_from(chunk.usage)
        return [ClientUpdate(event.id or "", "delta", self.partial, events=tuple(events))]


def _digest_of(data: Mapping[str, Any], name: str, event_id: str) -> int | None:
    """A frame's ``digest`` (8 hex digits), None when it has none.

    Raises:
        SSEError: a digest that is not 8 hex digits.
    """
    digest = data.get("digest")
    if digest is None:
        return None
    if type(digest) is not str or len(digest) != 8 or not all(c in _HEX for c in digest):
        raise SSEError(f"malformed {name} frame {event_id}: digest {digest!r} is not 8 hex digits")
    return int(digest, 16)


_HEX: Final = frozenset("0123456789abcdef")


def _load(event: ServerSentEvent) -> Any:
    try:
        return json.loads(data_of(event))
    except ValueError as exc:
        raise SSEError(f"malformed {event.event!r} frame {event.id}: not JSON ({exc})") from exc


def _part_from(name: str, data: Any) -> Part | None:
    if not isinstance(data, dict):
        raise SSEError(f"malformed {name!r} frame: {data!r}")
    try:
        if name == "reasoning":
            return ReasoningDelta(data["text"])
        if name == "refusal":
            return RefusalDelta(data["text"])
        if name == "tool_call":
            if data.get("type") == "tool_call_delta":
                return ToolCallDelta(
                    data["call_id"],
                    data.get("arguments", ""),
                    name=data.get("name"),
                    index=data.get("index"),
                )
            return ToolCallDone(
                data["call_id"], data.get("name"), data.get("arguments", ""), data.get("value")
            )
        if name == "tool_result":
            return ToolResult(data["call_id"], data.get("result"))
        if name == "usage":
            return _usage_from(data)
    except KeyError as exc:
        raise SSEError(f"malformed {name!r} frame: no {exc.args[0]!r}") from None
    return None
