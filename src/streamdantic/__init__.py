"""streamdantic: stream LLM structured output as typed, progressively validated Pydantic objects."""

from __future__ import annotations

import inspect

from ._aggregate import (
    AsyncStream,
    ObjectOptions,
    Stream,
    StreamOptions,
    astream,
    astream_to_object,
    astream_to_text,
    stream,
    stream_to_object,
    stream_to_text,
)
from ._collect import (
    AsyncCollectIterator,
    CollectIterator,
    CollectOptions,
    CollectorOptions,
    ItemCollector,
    SkippedItem,
    acollect,
    collect,
)
from ._deltas import (
    Chunk,
    ChunkMerger,
    Delta,
    DeltaEncoder,
    chunk_from_object,
    chunks_for_field,
    chunks_from_text,
)
from ._events import DocumentCompleted, Event, StringAppended, ValueCompleted, ValueStarted
from ._exceptions import (
    AdapterError,
    ContentFilterError,
    DeltaError,
    GenerationLostError,
    IncompleteJSONError,
    JSONParseError,
    LimitExceededError,
    ProviderError,
    ReconnectError,
    RefusalError,
    SSEError,
    StoreFullError,
    StoreUnavailableError,
    StreamCancelledError,
    StreamdanticError,
    StreamIntegrityError,
    StreamNotResumableError,
    StreamValidationError,
    TooManyGenerationsError,
    TruncatedStreamError,
    UsageError,
)
from ._parser import JSONParser, ValueState, parse_partial
from ._partial import CompleteOnly, HoldsParent, Partial, PartialModel
from ._parts import (
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
from ._paths import JSONPath, Path, render_path
from ._stream_core import Debounce, StreamCore, Throttle, Update, register_adapter
from ._validation import InvalidValue, PartialValidator
from ._version import __version__

__all__ = [
    "AdapterError",
    "AsyncCollectIterator",
    "AsyncStream",
    "Chunk",
    "ChunkMerger",
    "CollectIterator",
    "CollectOptions",
    "CollectorOptions",
    "CompleteOnly",
    "ContentFilterError",
    "Debounce",
    "Delta",
    "DeltaEncoder",
    "DeltaError",
    "DocumentCompleted",
    "Event",
    "Finish",
    "GenerationLostError",
    "HoldsParent",
    "IncompleteJSONError",
    "InvalidValue",
    "ItemCollector",
    "JSONParseError",
    "JSONParser",
    "JSONPath",
    "LimitExceededError",
    "ObjectOptions",
    "Part",
    "Partial",
    "PartialModel",
    "PartialValidator",
    "Path",
    "ProviderError",
    "ProviderErrorPart",
    "ReasoningDelta",
    "ReconnectError",
    "RefusalDelta",
    "RefusalError",
    "SSEError",
    "SkippedItem",
    "StoreFullError",
    "StoreUnavailableError",
    "Stream",
    "StreamCancelledError",
    "StreamCore",
    "StreamIntegrityError",
    "StreamNotResumableError",
    "StreamOptions",
    "StreamValidationError",
    "StreamdanticError",
    "StringAppended",
    "TextDelta",
    "Throttle",
    "TooManyGenerationsError",
    "ToolCallDelta",
    "ToolCallDone",
    "ToolResult",
    "TruncatedStreamError",
    "Update",
    "Usage",
    "UsageError",
    "ValueCompleted",
    "ValueStarted",
    "ValueState",
    "__version__",
    "acollect",
    "astream",
    "astream_to_object",
    "astream_to_text",
    "chunk_from_object",
    "chunks_for_field",
    "chunks_from_text",
    "collect",
    "parse_partial",
    "register_adapter",
    "render_path",
    "stream",
    "stream_to_object",
    "stream_to_text",
]

# Exported names present themselves as `streamdantic.X` in reprs and tracebacks.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or inspect.isfunction(_obj):
        _obj.__module__ = __name__
del _name, _obj
