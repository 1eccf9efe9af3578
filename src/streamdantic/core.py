"""The sans-IO machinery under `streamdantic.stream`, for building your own loop or source.

Every class here takes its input as calls (``feed``, ``apply``) and does no I/O of its own
(tests/test_layering.py keeps their modules free of I/O imports, except `ItemCollector`'s,
which it shares with ``collect``). `StreamCore` is what `Stream` and `AsyncStream` drive;
`PartialValidator` turns parser events into a typed partial object and reports values that
fail validation as `InvalidValue`; `ItemCollector` splits documents or JSON Lines into
items for `collect`; `register_adapter` teaches `stream` a new provider's event type.
`JSONPath` is the path type events and errors carry, and `render_path` its
``$.items[3].name`` form (`parse_path` reads it, `match_path` matches a pattern).
`CollectorOptions` types the options `ItemCollector` takes.
"""

from __future__ import annotations

import inspect

from ._collect import CollectorOptions, ItemCollector
from ._paths import JSONPath, match_path, parse_path, render_path
from ._stream_core import StreamCore
from ._validation import InvalidValue, PartialValidator
from .adapters._registry import register_adapter

__all__ = [
    "CollectorOptions",
    "InvalidValue",
    "ItemCollector",
    "JSONPath",
    "PartialValidator",
    "StreamCore",
    "match_path",
    "parse_path",
    "register_adapter",
    "render_path",
]

# Exported names present themselves as `streamdantic.core.X` in reprs and tracebacks.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or inspect.isfunction(_obj):
        _obj.__module__ = __name__
del _name, _obj
