"""Why a stream ends without a final object: the end-of-stream error table (sans-IO).

`StreamCore.close()` gathers the facts of the ending into an `Ending` and asks
`ending_error(ending)` for the error to raise; rows are tried in order and the first whose
condition holds builds the error. When no row holds, the final value is validated (a
failure is `StreamValidationError`: last, because only a complete value can be validated).

The order, and why:

1. ``provider_error`` -> `ProviderError`: the provider said what went wrong; anything else
   (a cut-off object, a finish reason) is a consequence of it.
2. ``content_filter`` -> `ContentFilterError`: the provider stopped the output on purpose;
   the object is cut off because of it, so truncation would hide the cause.
3. ``refusal`` -> `RefusalError`: the model refused and sent no object; with an object
   beside the refusal text, the object decides.
4. ``cut_off`` -> `TruncatedStreamError`: the JSON text (or a tool call's arguments) stopped
   in the middle of a value (the parser's `IncompleteJSONError` is the cause).
5. ``nothing_arrived`` -> `TruncatedStreamError`: a model was given but no object and no tool
   call arrived.
6. ``incomplete`` -> `TruncatedStreamError`: chunks left the object open.
7. ``text_length`` -> `TruncatedStreamError`: prose cut at the token limit (finish reason
   ``"length"``); a JSON object that completed despite that finish reason is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from ._exceptions import (
    ContentFilterError,
    IncompleteJSONError,
    ProviderError,
    RefusalError,
    StreamdanticError,
    TruncatedStreamError,
)
from ._parts import ProviderErrorPart
from ._paths import JSONPath, render_path

__all__ = ["ENDING_ERRORS", "Ending", "EndingRow", "ending_error", "ending_row"]


@dataclass(frozen=True, slots=True)
class Ending:
    """The facts of a stream's end that decide its error."""

    error: ProviderErrorPart | None = None  # the provider's error part
    finish_reason: str | None = None
    refusal: str = ""  # the refusal text so far
    has_output: bool = False  # any text or chunk of the object arrived
    cut_off: IncompleteJSONError | None = None  # the JSON (or a tool call) stopped mid-value
    has_model: bool = False
    has_tool_calls: bool = False
    complete: bool = True  # the object's source is not left open
    text_mode: bool = False
    partial: Any = None
    raw_text: str | None = None
    missing_paths: Callable[[], list[JSONPath]] = field(default=list)


def _provider_error(e: Ending) -> StreamdanticError:
    assert e.error is not None
    return ProviderError(e.error.message, code=e.error.code, partial=e.partial, raw=e.error.raw)


def _content_filter(e: Ending) -> StreamdanticError:
    return ContentFilterError("the provider's content filter stopped the output", partial=e.partial)


def _refusal(e: Ending) -> StreamdanticError:
    return RefusalError(f"the model refused: {e.refusal}", refusal=e.refusal)


def _truncated(e: Ending) -> StreamdanticError:
    reason = e.finish_reason
    why = f" (finish reason {reason!r})" if reason else ""
    missing = e.missing_paths()
    shown = ", ".join(render_path(p) for p in missing[:5]) or "the whole value"
    error = TruncatedStreamError(
        f"the stream ended before the object was complete{why}; missing: {shown}",
        finish_reason=reason,
        missing_paths=missing,
        raw_text=e.raw_text,
        partial=e.partial,
    )
    error.__cause__ = e.cut_off
    return error


def _text_length(e: Ending) -> StreamdanticError:
    return TruncatedStreamError(
        "the text was cut at the token limit (finish reason 'length')",
        finish_reason="length",
        raw_text=e.raw_text,
        partial=e.partial,
    )


EndingRow: TypeAlias = tuple[str, Callable[[Ending], bool], Callable[[Ending], StreamdanticError]]

#: (name, condition, error builder), in precedence order: see the module docstring.
ENDING_ERRORS: tuple[EndingRow, ...] = (
    ("provider_error", lambda e: e.error is not None, _provider_error),
    ("content_filter", lambda e: e.finish_reason == "content_filter", _content_filter),
    ("refusal", lambda e: bool(e.refusal) and not e.has_output, _refusal),
    ("cut_off", lambda e: e.cut_off is not None, _truncated),
    (
        "nothing_arrived",
        lambda e: e.has_model and not e.has_output and not e.has_tool_calls,
        _truncated,
    ),
    ("incomplete", lambda e: not e.complete, _truncated),
    ("text_length", lambda e: e.text_mode and e.finish_reason == "length", _text_length),
)


def ending_row(ending: Ending) -> EndingRow | None:
    """The first row of `ENDING_ERRORS` whose condition holds, else None."""
    for row in ENDING_ERRORS:
        if row[1](ending):
            return row
    return None


def ending_error(ending: Ending) -> StreamdanticError | None:
    """The error of the first row of `ENDING_ERRORS` whose condition holds, else None."""
    row = ending_row(ending)
    return None if row is None else row[2](ending)
