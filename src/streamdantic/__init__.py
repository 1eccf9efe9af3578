"""streamdantic: stream LLM structured output as typed, progressively validated Pydantic objects.

The top level is what application code uses: the entry points, `Stream`/`AsyncStream` and
their `Update`, the `Partial` types and markers, the emission policies, `JSONParser`, and
the exceptions. The rest is grouped by audience (docs/reference.md):

- `streamdantic.events`: parser events, for reading a document event by event.
- `streamdantic.parts`: stream parts (text, tool calls, usage, ...) from `Stream.events()`.
- `streamdantic.deltas`: the delta wire model (`Chunk`, `ChunkMerger`, `DeltaEncoder`).
- `streamdantic.core`: the sans-IO machinery (`StreamCore`, `PartialValidator`, ...).
- `streamdantic.sse`, `streamdantic.starlette`, `streamdantic.adapters`: the wire, the
  server, the providers.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

# The audience namespaces are imported too, so ``import streamdantic`` reaches them.
from . import batch, core, deltas, events, parts  # noqa: F401 (batch: reached, not re-exported)
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
from ._batch import acollect_batch, collect_batch
from ._collect import (
    AsyncCollectIterator,
    CollectIterator,
    CollectOptions,
    SkippedItem,
    acollect,
    collect,
)
from ._exceptions import (
    AdapterError,
    BatchFailureError,
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
from ._parser import JSONParser, parse_partial
from ._partial import CompleteOnly, HoldsParent, Partial, PartialModel
from ._stream_core import Debounce, Throttle, Update
from ._update import UpdateLike
from ._version import __version__

__all__ = [
    "AdapterError",
    "AsyncCollectIterator",
    "AsyncStream",
    "BatchFailureError",
    "CollectIterator",
    "CollectOptions",
    "CompleteOnly",
    "ContentFilterError",
    "Debounce",
    "DeltaError",
    "GenerationLostError",
    "HoldsParent",
    "IncompleteJSONError",
    "JSONParseError",
    "JSONParser",
    "LimitExceededError",
    "ObjectOptions",
    "Partial",
    "PartialModel",
    "ProviderError",
    "ReconnectError",
    "RefusalError",
    "SSEError",
    "SkippedItem",
    "StoreFullError",
    "StoreUnavailableError",
    "Stream",
    "StreamCancelledError",
    "StreamIntegrityError",
    "StreamNotResumableError",
    "StreamOptions",
    "StreamValidationError",
    "StreamdanticError",
    "Throttle",
    "TooManyGenerationsError",
    "TruncatedStreamError",
    "Update",
    "UpdateLike",
    "UsageError",
    "__version__",
    "acollect",
    "acollect_batch",
    "astream",
    "astream_to_object",
    "astream_to_text",
    "collect",
    "collect_batch",
    "parse_partial",
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

# Names that moved from the top level to a namespace: they keep working for one release,
# each access warning with the new import. name -> (module, name there).
_MOVED: dict[str, tuple[str, str]] = {
    **{name: ("streamdantic.events", name) for name in events.__all__},
    **{name: ("streamdantic.parts", name) for name in parts.__all__},
    **{name: ("streamdantic.deltas", name) for name in deltas.__all__},
    **{name: ("streamdantic.core", name) for name in core.__all__ if name != "JSONPath"},
    "Path": ("streamdantic.core", "JSONPath"),
}

if TYPE_CHECKING:
    # Type checkers keep accepting the old imports for the release the shim lasts.
    from ._deltas import (
        Chunk as Chunk,
        ChunkMerger as ChunkMerger,
        Delta as Delta,
        DeltaEncoder as DeltaEncoder,
        chunk_from_object as chunk_from_object,
        chunks_for_field as chunks_for_field,
        chunks_from_text as chunks_from_text,
    )
    from ._events import (
        DocumentCompleted as DocumentCompleted,
        Event as Event,
        StringAppended as StringAppended,
        ValueCompleted as ValueCompleted,
        ValueStarted as ValueStarted,
    )
    from ._parser import ValueState as ValueState
    from ._parts import (
        Finish as Finish,
        Part as Part,
        ProviderErrorPart as ProviderErrorPart,
        ReasoningDelta as ReasoningDelta,
        RefusalDelta as RefusalDelta,
        TextDelta as TextDelta,
        ToolCallDelta as ToolCallDelta,
        ToolCallDone as ToolCallDone,
        ToolResult as ToolResult,
        Usage as Usage,
    )
    from ._paths import Path as Path
    from .core import (
        InvalidValue as InvalidValue,
        ItemCollector as ItemCollector,
        PartialValidator as PartialValidator,
        StreamCore as StreamCore,
        register_adapter as register_adapter,
        render_path as render_path,
    )
else:

    def __getattr__(name: str) -> object:
        """A moved name, with a `DeprecationWarning` naming its new import (PEP 562)."""
        import importlib
        import sys
        import warnings

        try:
            module, new_name = _MOVED[name]
        except KeyError:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), new_name)
        # ``from streamdantic import X`` asks twice: importlib's fromlist probe (a hasattr)
        # and then the import itself. Warn on the second only: one access, one warning.
        if sys._getframe(1).f_code.co_name != "_handle_fromlist":
            what = "it" if new_name == name else new_name
            warnings.warn(
                f"streamdantic.{name} is deprecated; import {what} from {module}",
                DeprecationWarning,
                stacklevel=2,
            )
        return value


# The helpers above are not part of the API (dir(streamdantic) lists the API only).
del inspect, TYPE_CHECKING
