"""streamdantic: stream LLM structured output as typed, progressively validated Pydantic objects."""

from __future__ import annotations

import inspect

from ._events import DocumentCompleted, Event, StringAppended, ValueCompleted, ValueStarted
from ._exceptions import (
    AdapterError,
    ContentFilterError,
    DeltaError,
    IncompleteJSONError,
    JSONParseError,
    LimitExceededError,
    ProviderError,
    SSEError,
    StreamCancelledError,
    StreamdanticError,
    StreamValidationError,
    TruncatedStreamError,
    UsageError,
)
from ._parser import JSONParser, ValueState, parse_partial
from ._paths import Path, render_path
from ._version import __version__

__all__ = [
    "AdapterError",
    "ContentFilterError",
    "DeltaError",
    "DocumentCompleted",
    "Event",
    "IncompleteJSONError",
    "JSONParseError",
    "JSONParser",
    "LimitExceededError",
    "Path",
    "ProviderError",
    "SSEError",
    "StreamCancelledError",
    "StreamValidationError",
    "StreamdanticError",
    "StringAppended",
    "TruncatedStreamError",
    "UsageError",
    "ValueCompleted",
    "ValueStarted",
    "ValueState",
    "__version__",
    "parse_partial",
    "render_path",
]

# Exported names present themselves as `streamdantic.X` in reprs and tracebacks.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or inspect.isfunction(_obj):
        _obj.__module__ = __name__
del _name, _obj
