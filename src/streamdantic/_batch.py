"""Provider batch result files: one outcome per request, from OpenAI, Anthropic and Gemini.

`BatchReader` is the sans-IO core (bytes of one file in, outcomes out); `collect_batch` and
`acollect_batch` are its sync and async loops over files, directories and compressed files.

Why a sibling of `collect` and not ``collect(..., format="openai-batch")``: `collect` yields
the user's objects and raises on bad input; a batch file yields one *outcome* per request
(the object with its ``custom_id``, usage and finish reason, or a typed failure), and a
failure is data to act on (re-submit those requests), not an exception. A different item
type and a different error contract make a different function; the options that mean the
same thing keep their names (``on_invalid``, ``chunk_size``).

Strategy / invariants:
- Each file is read as a stream of lines: `feed` splits on ``\\n`` and holds only the
  unfinished last line, so memory is bounded by the longest line, never by the file. A line
  is parsed with `json.loads`; the model's output (the text, or a tool call's arguments) is
  validated with ``validate_json`` of that text, as a user's hand-written loop would do.
- The format is detected once per file, from its first line that is a JSON object of a known
  shape (the keys each provider writes); a named format skips detection. One small reader
  function per format (`_FORMATS`) turns a line into the output to validate, or a failure.
- Nothing in a line stops the batch: a line that is not JSON, a truncated last line, an
  unknown format, a provider error, a refusal, output that is not JSON or does not fit the
  model: each is a `BatchFailure` subclass with the file, the line number and the raw text.
  ``on_invalid="raise"`` turns the first failure into `BatchFailureError`.
- Outcomes are frozen values; none is changed after it is returned.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import time
import zlib
from collections import Counter
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, ClassVar, Final, Generic, Literal, TypeAlias, TypeVar

import anyio
import anyio.to_thread
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from ._collect import _validates_differently_from_json
from ._exceptions import BatchFailureError, UsageError
from ._iterators import AsyncGeneratorIterator, GeneratorIterator
from ._parts import Usage
from ._paths import render_path
from ._threads import iterate_in_thread

__all__ = [
    "AsyncBatchIterator",
    "AsyncBatchSource",
    "BatchFailure",
    "BatchFormat",
    "BatchIterator",
    "BatchOutcome",
    "BatchReader",
    "BatchResult",
    "BatchSource",
    "BatchSummary",
    "HTTPFailure",
    "InvalidJSONFailure",
    "MalformedLineFailure",
    "ProviderFailure",
    "RefusalFailure",
    "TruncatedFailure",
    "ValidationFailure",
    "acollect_batch",
    "collect_batch",
]

T = TypeVar("T")

BatchFormat: TypeAlias = Literal["auto", "openai", "anthropic", "gemini"]
_FORMAT_NAMES: Final = ("auto", "openai", "anthropic", "gemini")
BatchOnInvalid: TypeAlias = Literal["report", "skip", "raise"]
_ON_INVALID: Final = ("report", "skip", "raise")

# 1 MiB reads: a few dozen 10 KB lines per read, so the per-read cost is negligible, and a
# read of compressed input inflates to a few MiB at most.
DEFAULT_BATCH_CHUNK_SIZE: Final = 1024 * 1024
# `acollect_batch` hands over at most this many outcomes per worker-thread hop: a hop costs
# tens of microseconds against ~170 us of work per 10 KB line, and the event loop side then
# holds a few validated objects, not a read's worth (about a hundred, which the cyclic GC
# traverses again and again).
_THREAD_BATCH: Final = 8

# Finish reasons that mean the output was cut at the token limit, per provider.
_TRUNCATED: Final = frozenset(("length", "max_tokens", "max_output_tokens", "MAX_TOKENS"))
# Gemini finish reasons that withhold the answer (safety and policy blocks).
_GEMINI_BLOCKED: Final = frozenset(
    ("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY")
)
_GZIP_MAGIC: Final = b"\x1f\x8b"
_ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"


# --- Outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class BatchOutcome:
    """One request's outcome in a batch result file (the base of every outcome).

    Attributes:
        custom_id: the id the request was submitted with (Gemini: its ``key``); None when
            the line has none or is not readable.
        file: the file the line came from (its path, or ``"<input>"``).
        line: the 1-based line number in that file (of the decompressed text).
        text: the model's output that was validated (its text, or a tool call's arguments
            as JSON text), kept for re-asking; None when the line has no output.
        usage: the tokens the provider reports for the request, as a `Usage`.
        finish_reason: the provider's own stop reason (``stop``, ``end_turn``, ``STOP``,
            ``length``, ...), unchanged.
        format: the format of the file: ``"openai"``, ``"anthropic"`` or ``"gemini"``
            (None when it could not be told).
    """

    kind: ClassVar[str] = "outcome"
    ok: ClassVar[bool] = False
    custom_id: str | None
    file: str
    line: int
    text: str | None = None
    usage: Usage | None = None
    finish_reason: str | None = None
    format: str | None = None

    def __repr__(self) -> str:
        # Fields left at None are omitted, and so is `raw` (the whole line), as h11's reprs do.
        args = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if f.name != "raw" and getattr(self, f.name) is not None
        )
        return f"{type(self).__name__}({args})"


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class BatchResult(BatchOutcome, Generic[T]):
    """A request whose output validated: `value` is the model instance.

    Attributes:
        value: the validated object.
        tool: the name of the tool call whose arguments were validated; None for text output.
    """

    kind: ClassVar[str] = "ok"
    ok: ClassVar[bool] = True
    value: T
    tool: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class BatchFailure(BatchOutcome):
    """A request without a valid object (the base of every failure).

    Attributes:
        message: what went wrong, where, and what to do about it.
        raw: the line's text as read (decoded as UTF-8, bad bytes replaced), for re-asking
            or re-submitting.
    """

    kind: ClassVar[str] = "failure"
    message: str
    raw: str


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class HTTPFailure(BatchFailure):
    """The request got an HTTP error response (OpenAI: ``response.status_code`` not 200)."""

    kind: ClassVar[str] = "http_error"
    status_code: int


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ProviderFailure(BatchFailure):
    """The provider did not run the request or reported an error for it.

    Attributes:
        reason: the provider's word for it: Anthropic's ``errored``, ``canceled`` or
            ``expired``; OpenAI's or Gemini's error code.
        error: the provider's error object, as written in the file.
    """

    kind: ClassVar[str] = "provider_error"
    reason: str
    error: Any = None


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class RefusalFailure(BatchFailure):
    """The model refused (OpenAI ``refusal``, Anthropic ``stop_reason: "refusal"``, a Gemini
    safety block); `refusal` holds its words, or the reason when there are none."""

    kind: ClassVar[str] = "refusal"
    refusal: str


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ValidationFailure(BatchFailure):
    """The output is JSON that does not fit the model.

    Attributes:
        errors: pydantic's errors (without URLs); each ``loc`` is a JSON path in the output.
    """

    kind: ClassVar[str] = "validation_error"
    errors: tuple[ErrorDetails, ...]

    @property
    def path(self) -> str:
        """The JSON path of the first error, as ``$.items[3].name``."""
        return render_path(tuple(self.errors[0]["loc"]) if self.errors else ())


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class TruncatedFailure(ValidationFailure):
    """The output stopped at the token limit (`finish_reason` says so) and does not
    validate: re-ask with a higher limit. Truncated output that still validates is a
    `BatchResult` with that finish reason."""

    kind: ClassVar[str] = "truncated"


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class InvalidJSONFailure(BatchFailure):
    """The model's output is not JSON (or the response has no output at all)."""

    kind: ClassVar[str] = "invalid_json"


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class MalformedLineFailure(BatchFailure):
    """The line itself is unreadable: not JSON, truncated (the file's last line without a
    line ending), not an object of a known batch format, or a compressed stream cut short."""

    kind: ClassVar[str] = "malformed_line"


_FAILURE_KINDS: Final = (
    HTTPFailure,
    ProviderFailure,
    RefusalFailure,
    ValidationFailure,
    TruncatedFailure,
    InvalidJSONFailure,
    MalformedLineFailure,
)


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """Counts and throughput of a batch collection so far.

    Attributes:
        files: files read (started).
        lines: non-blank lines read.
        counts: outcomes per kind (``"ok"`` and each failure's ``kind``).
        input_tokens: input tokens over all requests that report usage.
        output_tokens: output tokens likewise.
        bytes: bytes of (decompressed) text read.
        seconds: wall-clock time spent inside the iteration.
    """

    files: int
    lines: int
    counts: Mapping[str, int]
    input_tokens: int
    output_tokens: int
    bytes: int
    seconds: float

    @property
    def ok(self) -> int:
        """How many requests gave a validated object."""
        return self.counts.get("ok", 0)

    @property
    def failed(self) -> int:
        """How many requests failed, of every kind."""
        return self.lines - self.ok

    @property
    def lines_per_second(self) -> float:
        """Lines per second of iteration (0 before any time was spent)."""
        return self.lines / self.seconds if self.seconds > 0 else 0.0

    @property
    def megabytes_per_second(self) -> float:
        """MB (10^6 bytes) of text per second of iteration."""
        return self.bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.counts.items()))
        return (
            f"{self.lines} requests in {self.files} file(s): {kinds or 'none'};"
            f" tokens in {self.input_tokens}, out {self.output_tokens};"
            f" {self.lines_per_second:,.0f} lines/s, {self.megabytes_per_second:,.1f} MB/s"
        )


# --- Per-format readers ----------------------------------------------------------------------


@dataclass(slots=True)
class _Output:
    """What a format reader found in a line: the output to validate, or a failure."""

    custom_id: str | None
    text: str | None = None
    args: Any = None  # tool-call arguments already parsed (Anthropic, Gemini)
    tool: str | None = None
    usage: Usage | None = None
    finish_reason: str | None = None
    failure: type[BatchFailure] | None = None
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _usage(raw: Any, input_key: str, output_key: str, total_key: str) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    return Usage(_int(raw.get(input_key)), _int(raw.get(output_key)), _int(raw.get(total_key)))


def _error_text(error: Any) -> str:
    error = _dict(error)
    inner = error.get("error")  # Anthropic nests {"type": "error", "error": {...}}
    if isinstance(inner, dict):
        error = inner
    message = error.get("message")
    return message if isinstance(message, str) else json.dumps(error)


def _pick_tool(calls: list[tuple[str | None, Any]], tool: str | None) -> tuple[str | None, Any]:
    for name, args in calls:
        if tool is None or name == tool:
            return name, args
    return None, None


def _read_openai(obj: dict[str, Any], tool: str | None) -> _Output:
    out = _Output(_str_or_none(obj.get("custom_id")))
    error = obj.get("error")
    response = obj.get("response")
    if not error and not isinstance(response, dict):
        raise KeyError("response")
    if error:
        out.failure, out.message = ProviderFailure, _error_text(error)
        out.extra = {"reason": str(_dict(error).get("code") or "error"), "error": error}
        return out
    response = _dict(response)
    status = _int(response.get("status_code"))
    body = _dict(response.get("body"))
    if status != 200:
        out.failure = HTTPFailure
        out.message = f"HTTP {status}: {_error_text(body.get('error'))}"
        out.extra = {"status_code": status if status is not None else 0}
        return out
    if "choices" in body:  # a chat completion
        out.usage = _usage(body.get("usage"), "prompt_tokens", "completion_tokens", "total_tokens")
        choices = body.get("choices")
        choice = _dict(choices[0]) if isinstance(choices, list) and choices else {}
        message = _dict(choice.get("message"))
        out.finish_reason = _str_or_none(choice.get("finish_reason"))
        refusal = message.get("refusal")
        if isinstance(refusal, str) and refusal:
            out.failure, out.message = RefusalFailure, f"the model refused: {refusal}"
            out.extra = {"refusal": refusal}
            return out
        calls = [
            (
                _str_or_none(_dict(c.get("function")).get("name")),
                _dict(c.get("function")).get("arguments"),
            )
            for c in message.get("tool_calls") or ()
            if isinstance(c, dict)
        ]
        out.tool, arguments = _pick_tool(calls, tool)
        out.text = arguments if out.tool is not None else _str_or_none(message.get("content"))
        return out
    # A Responses API object: output items of type message (output_text / refusal parts)
    # and function_call.
    out.usage = _usage(body.get("usage"), "input_tokens", "output_tokens", "total_tokens")
    incomplete = _dict(body.get("incomplete_details")).get("reason")
    out.finish_reason = _str_or_none(incomplete) or _str_or_none(body.get("status"))
    texts: list[str] = []
    calls = []
    for item in body.get("output") or ():
        item = _dict(item)
        if item.get("type") == "function_call":
            calls.append((_str_or_none(item.get("name")), item.get("arguments")))
        for part in item.get("content") or ():
            part = _dict(part)
            if part.get("type") == "refusal":
                refusal = str(part.get("refusal") or "")
                out.failure, out.message = RefusalFailure, f"the model refused: {refusal}"
                out.extra = {"refusal": refusal}
                return out
            if part.get("type") == "output_text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
    out.tool, arguments = _pick_tool(calls, tool)
    out.text = arguments if out.tool is not None else ("".join(texts) if texts else None)
    return out


def _read_anthropic(obj: dict[str, Any], tool: str | None) -> _Output:
    out = _Output(_str_or_none(obj.get("custom_id")))
    if not isinstance(obj.get("result"), dict):
        raise KeyError("result")
    result = _dict(obj.get("result"))
    kind = result.get("type")
    if kind != "succeeded":
        out.failure = ProviderFailure
        error = result.get("error")
        detail = f": {_error_text(error)}" if error else ""
        out.message = f"the request {kind}{detail}" if kind else "the result has no type"
        out.extra = {"reason": str(kind), "error": error}
        return out
    message = _dict(result.get("message"))
    out.usage = _usage(message.get("usage"), "input_tokens", "output_tokens", "total_tokens")
    out.finish_reason = _str_or_none(message.get("stop_reason"))
    texts: list[str] = []
    calls: list[tuple[str | None, Any]] = []
    for block in message.get("content") or ():
        block = _dict(block)
        if block.get("type") == "tool_use":
            calls.append((_str_or_none(block.get("name")), block.get("input")))
        elif block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
    if out.finish_reason == "refusal":
        refusal = "".join(texts) or "stop_reason: refusal"
        out.failure, out.message = RefusalFailure, f"the model refused: {refusal}"
        out.extra = {"refusal": refusal}
        return out
    out.tool, out.args = _pick_tool(calls, tool)
    if out.tool is None:
        out.text = "".join(texts) if texts else None
    return out


def _read_gemini(obj: dict[str, Any], tool: str | None) -> _Output:
    out = _Output(_str_or_none(obj.get("key")) or _str_or_none(obj.get("custom_id")))
    error = obj.get("error")
    status = obj.get("status")  # Vertex AI batch prediction: "" when the request succeeded
    if not error and not status and not isinstance(obj.get("response"), dict):
        raise KeyError("response")
    if error or (isinstance(status, str) and status):
        out.failure = ProviderFailure
        out.message = _error_text(error) if error else str(status)
        code = _dict(error).get("status") or _dict(error).get("code") or "error"
        out.extra = {"reason": str(code), "error": error or status}
        return out
    response = _dict(obj.get("response"))
    out.usage = _usage(
        response.get("usageMetadata") or response.get("usage_metadata"),
        "promptTokenCount",
        "candidatesTokenCount",
        "totalTokenCount",
    )
    candidates = response.get("candidates")
    candidate = _dict(candidates[0]) if isinstance(candidates, list) and candidates else {}
    out.finish_reason = _str_or_none(
        candidate.get("finishReason") or candidate.get("finish_reason")
    )
    blocked = _dict(response.get("promptFeedback")).get("blockReason")
    if out.finish_reason in _GEMINI_BLOCKED or (not candidate and blocked):
        reason = str(out.finish_reason if out.finish_reason in _GEMINI_BLOCKED else blocked)
        out.failure, out.message = RefusalFailure, f"the response was blocked: {reason}"
        out.extra = {"refusal": reason}
        return out
    texts: list[str] = []
    calls: list[tuple[str | None, Any]] = []
    for part in _dict(candidate.get("content")).get("parts") or ():
        part = _dict(part)
        call = part.get("functionCall") or part.get("function_call")
        if isinstance(call, dict):
            calls.append((_str_or_none(call.get("name")), call.get("args")))
        elif isinstance(part.get("text"), str) and not part.get("thought"):
            texts.append(part["text"])
    out.tool, out.args = _pick_tool(calls, tool)
    if out.tool is None:
        out.text = "".join(texts) if texts else None
    return out


_Reader: TypeAlias = Callable[[dict[str, Any], "str | None"], _Output]
_FORMATS: Final[Mapping[str, _Reader]] = MappingProxyType(
    {"openai": _read_openai, "anthropic": _read_anthropic, "gemini": _read_gemini}
)


def _detect(obj: dict[str, Any]) -> str | None:
    """The format of a batch line, from the keys each provider writes; None if unknown."""
    if "custom_id" in obj:
        if "result" in obj:
            return "anthropic"
        if "response" in obj or "error" in obj:
            return "openai"
    response = obj.get("response")
    if ("key" in obj and ("response" in obj or "error" in obj)) or (
        isinstance(response, dict) and ("candidates" in response or "promptFeedback" in response)
    ):
        return "gemini"
    return None


# --- The sans-IO core ------------------------------------------------------------------------


class BatchReader(Generic[T]):
    """Turn the bytes of one batch result file into outcomes (sans-IO).

    Feed the file's (decompressed) bytes in order, split anywhere; each `feed` returns the
    outcomes of the lines it completed. Call `close` at the end of the file: a last line
    without a line ending is read then (a truncated one becomes a `MalformedLineFailure`).

    Args:
        model: a pydantic model, or any type `pydantic.TypeAdapter` accepts.
        format: ``"auto"`` (default: detected from the first line of a known shape),
            ``"openai"`` (Batch API output and error files, chat completions or Responses),
            ``"anthropic"`` (Message Batches results) or ``"gemini"`` (Gemini API or
            Vertex AI batch output).
        tool: validate the arguments of the tool call with this name; by default the first
            tool call's arguments are validated when there is one, else the text.
        file: the name outcomes report as their `file`.

    Raises:
        ValueError: an unknown ``format``.
        pydantic.PydanticSchemaGenerationError: ``model`` is not a type pydantic can validate.
    """

    __slots__ = (
        "_adapter",
        "_closed",
        "_dump_args",
        "_file",
        "_format",
        "_line",
        "_pending",
        "_reader",
        "_tool",
    )

    def __init__(
        self,
        model: Any,
        /,
        *,
        format: BatchFormat = "auto",
        tool: str | None = None,
        file: str = "<input>",
    ) -> None:
        if format not in _FORMAT_NAMES:
            raise ValueError(f"format must be one of {_FORMAT_NAMES!r}, got {format!r}")
        self._adapter: TypeAdapter[T] = TypeAdapter(model)
        # Tool arguments that arrive parsed (Anthropic, Gemini) validate as Python objects,
        # unless the schema validates JSON differently (strict mode): then as their JSON.
        self._dump_args = _validates_differently_from_json(self._adapter.core_schema)
        self._format: str | None = None if format == "auto" else format
        self._reader: _Reader | None = _FORMATS.get(format)
        self._tool = tool
        self._file = file
        self._line = 0
        self._pending: list[bytes] = []
        self._closed = False

    @property
    def format(self) -> str | None:
        """The file's format: named, or detected so far (None before any known line)."""
        return self._format

    @property
    def line(self) -> int:
        """Lines completed so far."""
        return self._line

    def feed(self, data: bytes | bytearray | memoryview, /) -> list[BatchOutcome]:
        """Feed the next bytes of the file; return the outcomes of the lines they complete.

        Raises:
            UsageError: called after `close`.
        """
        return list(self._outcomes(data))

    def _outcomes(self, data: bytes | bytearray | memoryview) -> Iterator[BatchOutcome]:
        # One outcome at a time: the loops hand each one out before validating the next
        # line, so a consumer that drops its outcomes keeps one validated object alive, not
        # a read's worth (with dozens alive, the cyclic GC re-traverses them on every young
        # collection: measured 2x slower on 10 KB lines). Consume it fully before the next.
        if self._closed:
            raise UsageError("BatchReader.feed() after close(); use a new BatchReader per file")
        data = bytes(data)
        first = data.find(b"\n")
        if first < 0:
            if data:
                self._pending.append(data)
            return
        if self._pending:
            self._pending.append(data[:first])
            head = b"".join(self._pending)
            self._pending.clear()
            lines = data[first + 1 :].split(b"\n")
        else:
            head = None
            lines = data.split(b"\n")
        tail = lines.pop()
        if tail:
            self._pending.append(tail)
        if head is not None:
            lines.insert(0, head)
        for raw in lines:
            self._line += 1
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if raw and not raw.isspace():  # (isspace does not copy a 10 KB line; strip would)
                yield self._outcome(raw, True)

    def close(self) -> list[BatchOutcome]:
        """End the file: return the outcome of a last line without a line ending, if any.

        Calling it again returns nothing.
        """
        if self._closed:
            return []
        self._closed = True
        out: list[BatchOutcome] = []
        if self._pending:
            raw = b"".join(self._pending)
            self._pending.clear()
            out.extend(self._emit(raw, ended=False))
        return out

    def _emit(self, raw: bytes, *, ended: bool) -> tuple[BatchOutcome, ...]:
        self._line += 1
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if not raw or raw.isspace():  # (isspace does not copy a 10 KB line, strip would)
            return ()
        return (self._outcome(raw, ended),)

    def _malformed(self, raw: bytes, message: str, custom_id: str | None = None) -> BatchFailure:
        return MalformedLineFailure(
            custom_id=custom_id,
            file=self._file,
            line=self._line,
            format=self._format,
            message=f"{self._file}, line {self._line}: {message}",
            raw=raw.decode("utf-8", "replace"),
        )

    def _outcome(self, raw: bytes, ended: bool) -> BatchOutcome:
        try:
            obj = json.loads(raw)
        except ValueError as exc:
            if not ended:
                return self._malformed(
                    raw,
                    "the last line is truncated (no line ending, and not JSON): the file was"
                    f" cut short; download it again ({exc})",
                )
            return self._malformed(raw, f"the line is not JSON: {exc}")
        if not isinstance(obj, dict):
            return self._malformed(raw, f"the line is a JSON {type(obj).__name__}, not an object")
        reader = self._reader
        if reader is None:
            self._format = _detect(obj)
            reader = self._reader = _FORMATS.get(self._format or "")
            if reader is None:
                keys = ", ".join(list(obj)[:6])
                return self._malformed(
                    raw,
                    f"unknown batch format (keys: {keys}); expected OpenAI (custom_id,"
                    " response), Anthropic (custom_id, result) or Gemini (key, response)"
                    " lines, or pass format=",
                )
        try:
            found = reader(obj, self._tool)
        except (TypeError, AttributeError, IndexError, KeyError) as exc:  # odd shapes
            custom_id = obj.get("custom_id", obj.get("key"))
            return self._malformed(
                raw,
                f"not a line of this file's {self._format} batch format (missing or odd"
                f" {exc}); lines of different providers cannot share a file",
                custom_id if isinstance(custom_id, str) else None,
            )
        return self._validate(found, raw)

    def _where(self, custom_id: str | None) -> str:
        named = f" (custom_id {custom_id!r})" if custom_id is not None else ""
        return f"{self._file}, line {self._line}{named}"

    def _validate(self, found: _Output, raw: bytes) -> BatchOutcome:
        common: dict[str, Any] = {
            "custom_id": found.custom_id,
            "file": self._file,
            "line": self._line,
            "usage": found.usage,
            "finish_reason": found.finish_reason,
            "format": self._format,
        }
        if found.failure is not None:
            return found.failure(
                **common,
                **found.extra,
                text=found.text,
                message=f"{self._where(found.custom_id)}: {found.message}",
                raw=raw.decode("utf-8", "replace"),
            )
        text = found.text
        try:
            if found.args is not None:
                text = json.dumps(found.args, ensure_ascii=False)
                if self._dump_args:
                    value = self._adapter.validate_json(text)
                else:
                    value = self._adapter.validate_python(found.args)
            elif text is None:
                return InvalidJSONFailure(
                    **common,
                    message=f"{self._where(found.custom_id)}: the response has no output text and no tool call",
                    raw=raw.decode("utf-8", "replace"),
                )
            else:
                value = self._adapter.validate_json(text)
        except ValidationError as exc:
            errors = tuple(exc.errors(include_url=False))
            if errors and errors[0]["type"] == "json_invalid":
                cls: type[BatchFailure] = InvalidJSONFailure
                what = f"the output is not JSON: {errors[0]['msg']}"
                extra: dict[str, Any] = {}
            else:
                cls = ValidationFailure
                first = errors[0] if errors else None
                path = render_path(tuple(first["loc"])) if first else "$"
                what = f"{len(errors)} validation error(s), first at {path}: " + (
                    first["msg"] if first else ""
                )
                extra = {"errors": errors}
            if found.finish_reason in _TRUNCATED:  # cut at the token limit: re-ask longer
                cls = TruncatedFailure
                extra = {"errors": errors}
                what = (
                    f"the output stopped at the token limit (finish_reason"
                    f" {found.finish_reason!r}) and does not validate ({what}); re-ask with a"
                    " higher limit"
                )
            return cls(
                **common,
                **extra,
                text=text,
                message=f"{self._where(found.custom_id)}: {what}",
                raw=raw.decode("utf-8", "replace"),
            )
        return BatchResult(**common, text=text, value=value, tool=found.tool)


# --- Sources and the sync/async loops ------------------------------------------------------

BatchSource: TypeAlias = (
    "os.PathLike[str] | IO[bytes] | bytes | Iterable[os.PathLike[str] | IO[bytes] | bytes]"
)
AsyncBatchSource: TypeAlias = "BatchSource | AsyncIterable[bytes]"


class _Tally:
    """The running counts behind `BatchSummary`."""

    __slots__ = (
        "bytes",
        "counts",
        "ended",
        "files",
        "input_tokens",
        "lines",
        "output_tokens",
        "started",
    )

    def __init__(self) -> None:
        self.files = self.lines = self.input_tokens = self.output_tokens = self.bytes = 0
        self.started: float | None = None  # set when the first outcome is asked for
        self.ended: float | None = None
        self.counts: Counter[str] = Counter()

    def start(self) -> None:
        if self.started is None:
            self.started = time.perf_counter()

    def stop(self) -> None:
        self.ended = time.perf_counter()

    @property
    def seconds(self) -> float:
        if self.started is None:
            return 0.0
        return (self.ended if self.ended is not None else time.perf_counter()) - self.started

    def add(self, outcome: BatchOutcome) -> None:
        self.lines += 1
        self.counts[outcome.kind] += 1
        usage = outcome.usage
        if usage is not None:
            self.input_tokens += usage.input_tokens or 0
            self.output_tokens += usage.output_tokens or 0

    def summary(self) -> BatchSummary:
        return BatchSummary(
            self.files,
            self.lines,
            MappingProxyType(dict(self.counts)),
            self.input_tokens,
            self.output_tokens,
            self.bytes,
            self.seconds,
        )


def _open_zstd(file: IO[bytes]) -> IO[bytes]:
    for module, opener in (("compression.zstd", "ZstdFile"), ("zstandard", None)):
        try:
            zstd: Any = importlib.import_module(module)
        except ImportError:
            continue
        if opener is not None:
            return getattr(zstd, opener)(file)  # type: ignore[no-any-return]
        return zstd.ZstdDecompressor().stream_reader(file)  # type: ignore[no-any-return]
    raise UsageError(
        "this batch file is zstd-compressed, and no zstd decoder is installed: install"
        " `zstandard` (pip install zstandard) or decompress it first (zstd -d FILE)"
    )


class _Prefixed:
    """A binary reader with bytes already read from it put back in front."""

    __slots__ = ("_file", "_head")

    def __init__(self, head: bytes, file: IO[bytes]) -> None:
        self._head = head
        self._file = file

    def read(self, size: int) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            return head + self._file.read(max(size - len(head), 0))
        return self._file.read(size)


class _GzipStream:
    """A gzip file's text, read in bounded pieces with `zlib` (members concatenated, as
    `gzip` reads them). Unlike `gzip.GzipFile`, a stream cut short first returns all the
    text before the cut, and only then raises EOFError, so every complete line is kept."""

    __slots__ = ("_decompressor", "_done", "_file")

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self._decompressor = zlib.decompressobj(wbits=31)
        self._done = False

    def read(self, size: int) -> bytes:
        decompressor = self._decompressor
        while True:
            if decompressor.unconsumed_tail:
                data = decompressor.decompress(decompressor.unconsumed_tail, size)
            elif decompressor.eof:
                rest = decompressor.unused_data or self._file.read(size)
                if not rest.strip(b"\0"):  # the end (gzip allows trailing zero padding)
                    return b""
                decompressor = self._decompressor = zlib.decompressobj(wbits=31)
                data = decompressor.decompress(rest, size)
            else:
                compressed = self._file.read(size)
                if not compressed:
                    raise EOFError("the gzip stream ends before its end-of-stream marker")
                data = decompressor.decompress(compressed, size)
            if data:
                return data


def _decompressed(file: IO[bytes]) -> IO[bytes]:
    """The file's text stream: gzip and zstd (when a decoder is installed) by magic bytes."""
    peek = getattr(file, "peek", None)
    if callable(peek):
        head = peek(4)[:4]
    else:  # io.BytesIO and other readers without peek: read the magic, then put it back
        head = file.read(4)
        file = _Prefixed(head, file)  # type: ignore[assignment]
    if head.startswith(_GZIP_MAGIC):
        return _GzipStream(file)  # type: ignore[return-value]
    if head.startswith(_ZSTD_MAGIC):
        return _open_zstd(file)
    return file


def _expand(source: Any) -> Iterator[Any]:
    """The files of a source, in order: paths, directories (their files, sorted), file
    objects, bytes; iterables of those."""
    if isinstance(source, str):
        raise TypeError(
            f"collect_batch() got the str {source!r}: pass pathlib.Path({source!r}) for a file"
            " or a directory, or Path(folder).glob(pattern) for a glob"
        )
    if isinstance(source, os.PathLike):
        path = Path(source)
        if path.is_dir():
            yield from sorted(
                p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
            )
        else:
            yield path
    elif isinstance(source, bytes | bytearray | memoryview) or hasattr(source, "read"):
        yield source
    elif isinstance(source, Iterable):
        for item in source:
            if (
                isinstance(item, Iterable)
                and not isinstance(item, bytes | os.PathLike)
                and not hasattr(item, "read")
            ):
                raise TypeError(
                    f"collect_batch() takes an iterable of paths or files, got an item {item!r}"
                )
            yield from _expand(item)
    else:
        raise TypeError(
            "collect_batch() takes a path, a directory, a binary file, bytes, or an iterable"
            f" of paths and files, got {type(source).__name__}"
        )


def _name(item: Any) -> str:
    if isinstance(item, os.PathLike):
        return str(os.fspath(item))
    name = getattr(item, "name", None)
    return name if isinstance(name, str) else "<input>"


@contextlib.contextmanager
def _opened(item: Any) -> Generator[IO[bytes], None, None]:
    if isinstance(item, bytes | bytearray | memoryview):
        yield _decompressed(io.BytesIO(bytes(item)))
    elif isinstance(item, os.PathLike):
        with open(item, "rb") as file:
            yield _decompressed(file)
    else:
        yield _decompressed(item)


def _file_outcomes(
    reader: BatchReader[Any], stream: IO[bytes], chunk_size: int, tally: _Tally
) -> Generator[BatchOutcome, None, None]:
    while True:
        try:
            chunk = stream.read(chunk_size)
        except (EOFError, zlib.error) as exc:
            yield from reader.close()
            reader._line += 1
            yield reader._malformed(b"", f"the compressed stream is truncated or corrupt: {exc}")
            return
        if not chunk:
            break
        tally.bytes += len(chunk)
        yield from reader._outcomes(chunk)
    yield from reader.close()


class _Options:
    __slots__ = ("chunk_size", "format", "model", "on_invalid", "tool")

    def __init__(
        self,
        model: Any,
        format: str,
        tool: str | None,
        on_invalid: str,
        chunk_size: int,
    ) -> None:
        if format not in _FORMAT_NAMES:
            raise ValueError(f"format must be one of {_FORMAT_NAMES!r}, got {format!r}")
        if on_invalid not in _ON_INVALID:
            raise ValueError(f"on_invalid must be one of {_ON_INVALID!r}, got {on_invalid!r}")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
        TypeAdapter(model)  # a model pydantic cannot validate fails here, not mid-iteration
        self.model, self.format, self.tool = model, format, tool
        self.on_invalid, self.chunk_size = on_invalid, chunk_size


class _BatchIteratorBase:
    # No slots of its own: BatchIterator's other base is compiled (a layout of its own); the
    # subclasses declare ``_failures`` and ``_tally``.
    __slots__ = ()
    _failures: list[BatchFailure]
    _tally: _Tally

    @property
    def summary(self) -> BatchSummary:
        """Counts per outcome kind, tokens and throughput so far (final once exhausted)."""
        return self._tally.summary()

    @property
    def failures(self) -> list[BatchFailure]:
        """The failures left out with ``on_invalid="skip"``, in order (empty otherwise)."""
        return list(self._failures)

    def _keep_failure(self, outcome: BatchOutcome, on_invalid: str) -> bool:
        assert isinstance(outcome, BatchFailure)
        if on_invalid == "raise":
            self._tally.add(outcome)
            raise BatchFailureError(outcome)
        if on_invalid == "skip":
            self._tally.add(outcome)
            self._failures.append(outcome)
            return False
        return True


class BatchIterator(_BatchIteratorBase, GeneratorIterator[BatchOutcome]):
    """The outcomes of `collect_batch`, with `summary` (and `failures` in skip mode).

    A context manager: leaving it closes the file being read.
    """

    __slots__ = ("_failures", "_tally")  # _generator is the base's

    def __init__(self, source: Any, options: _Options) -> None:
        self._tally = _Tally()
        self._failures = []
        self._generator = self._run(source, options)

    def _run(self, source: Any, options: _Options) -> Generator[BatchOutcome, None, None]:
        tally = self._tally
        tally.start()
        for item in _expand(source):
            reader: BatchReader[Any] = BatchReader(
                options.model,
                format=options.format,  # type: ignore[arg-type]
                tool=options.tool,
                file=_name(item),
            )
            tally.files += 1
            with _opened(item) as stream:
                for outcome in _file_outcomes(reader, stream, options.chunk_size, tally):
                    if outcome.ok or self._keep_failure(outcome, options.on_invalid):
                        tally.add(outcome)
                        yield outcome
        tally.stop()


def collect_batch(
    source: BatchSource,
    model: Any,
    /,
    *,
    format: BatchFormat = "auto",
    tool: str | None = None,
    on_invalid: BatchOnInvalid = "report",
    chunk_size: int = DEFAULT_BATCH_CHUNK_SIZE,
) -> BatchIterator:
    """Iterate over the outcomes of provider batch result files, one per request.

    Files are read as streams, one line at a time (memory is bounded by the longest line);
    gzip files, and zstd files when `zstandard` (or Python 3.14's ``compression.zstd``) is
    installed, are decompressed on the fly, recognised by their first bytes.

    Args:
        source: a batch file (`pathlib.Path`), a directory (its files, sorted by name,
            hidden ones left out), a binary file object (left open), bytes, or an iterable of
            paths and files, such as ``Path("out").glob("*.jsonl.gz")``. A str is refused,
            as for `collect` a str is JSON text.
        model: the type of each request's output: a pydantic model, or any type
            `pydantic.TypeAdapter` accepts.
        format: ``"auto"`` (detected per file), ``"openai"``, ``"anthropic"`` or
            ``"gemini"``; see `BatchReader`.
        tool: the name of the tool call whose arguments to validate (default: the first
            tool call, else the text).
        on_invalid: ``"report"`` (default) yields failures as outcomes, in order;
            ``"skip"`` yields only `BatchResult` and keeps the failures in ``.failures``;
            ``"raise"`` raises `BatchFailureError` at the first failure.
        chunk_size: bytes read at a time (1 MiB).

    Returns:
        A `BatchIterator` of `BatchOutcome` (`BatchResult` or a `BatchFailure` subclass),
        with ``.summary``.

    Raises:
        ValueError: an unknown ``format`` or ``on_invalid``, or a bad ``chunk_size``.
        TypeError: a source of none of the kinds above.
        pydantic.PydanticSchemaGenerationError: ``model`` is not a type pydantic can validate.

        While iterating: `BatchFailureError` (only with ``on_invalid="raise"``),
        `UsageError` for a zstd file without a zstd decoder, and OSError from reading.
    """
    return BatchIterator(source, _Options(model, format, tool, on_invalid, chunk_size))


class AsyncBatchIterator(_BatchIteratorBase, AsyncGeneratorIterator[BatchOutcome]):
    """The outcomes of `acollect_batch`, with `summary` (and `failures` in skip mode).

    An async context manager: leaving it closes the file being read.
    """

    __slots__ = ("_failures", "_generator", "_tally")

    def __init__(self, source: Any, options: _Options) -> None:
        self._tally = _Tally()
        self._failures = []
        self._generator = self._run(source, options)

    async def _run(self, source: Any, options: _Options) -> AsyncGenerator[BatchOutcome, None]:
        tally = self._tally
        tally.start()
        if hasattr(source, "__aiter__"):
            sources: Any = [source]
        else:
            sources = await anyio.to_thread.run_sync(lambda: list(_expand(source)))
        for item in sources:
            reader: BatchReader[Any] = BatchReader(
                options.model,
                format=options.format,  # type: ignore[arg-type]
                tool=options.tool,
                file=_name(item),
            )
            tally.files += 1
            outcomes = self._outcomes(reader, item, options.chunk_size)
            async with contextlib.aclosing(outcomes):  # closes the file, even on cancellation
                async for outcome in outcomes:
                    if outcome.ok or self._keep_failure(outcome, options.on_invalid):
                        tally.add(outcome)
                        yield outcome
        tally.stop()

    async def _outcomes(
        self, reader: BatchReader[Any], item: Any, chunk_size: int
    ) -> AsyncGenerator[BatchOutcome, None]:
        tally = self._tally
        if hasattr(item, "__aiter__"):  # an async iterable of bytes chunks, uncompressed
            async for chunk in item:
                tally.bytes += len(chunk)
                for outcome in reader.feed(chunk):
                    yield outcome
            for outcome in reader.close():
                yield outcome
            return
        stack = contextlib.ExitStack()
        stream = await anyio.to_thread.run_sync(lambda: stack.enter_context(_opened(item)))
        try:
            outcomes_of = _file_outcomes(reader, stream, chunk_size, tally)
            batches = iterate_in_thread(outcomes_of, outcomes_of.close, max_items=_THREAD_BATCH)
            async with contextlib.aclosing(batches):  # closed here, even on cancellation
                async for batch in batches:
                    for outcome in batch:
                        yield outcome
                    del batch
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(stack.close)


def acollect_batch(
    source: AsyncBatchSource,
    model: Any,
    /,
    *,
    format: BatchFormat = "auto",
    tool: str | None = None,
    on_invalid: BatchOnInvalid = "report",
    chunk_size: int = DEFAULT_BATCH_CHUNK_SIZE,
) -> AsyncBatchIterator:
    """The async twin of `collect_batch`: ``async for outcome in acollect_batch(...)``.

    Files are opened, read, decompressed, parsed and validated in worker threads, which hand
    the outcomes over at most 8 per thread call (the event loop side never holds many
    validated objects at once), so the event loop stays free; an async iterable of bytes
    chunks (one uncompressed file, such as ``response.aiter_bytes()``) is parsed in the
    loop. A cancelled task waits for the batch in progress, then the file is closed.

    Args:
        source: what `collect_batch` takes, or an async iterable of bytes.
        model: as for `collect_batch`.
        format: as for `collect_batch`.
        tool: as for `collect_batch`.
        on_invalid: as for `collect_batch`.
        chunk_size: as for `collect_batch`.

    Returns:
        An `AsyncBatchIterator` of outcomes, with ``.summary``.

    Raises:
        ValueError: as for `collect_batch`.
        TypeError: as for `collect_batch` (while iterating, for the kinds of source).
        pydantic.PydanticSchemaGenerationError: as for `collect_batch`.

        While iterating: the errors `collect_batch` raises.
    """
    options = _Options(model, format, tool, on_invalid, chunk_size)
    return AsyncBatchIterator(source, options)
