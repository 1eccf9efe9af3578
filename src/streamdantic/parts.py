"""Stream parts: everything a model stream carries besides the object's JSON.

``Stream.events()`` yields these between its updates (the provider adapters in
`streamdantic.adapters` produce them): text
(`TextDelta`), reasoning (`ReasoningDelta`), refusals (`RefusalDelta`), tool calls
(`ToolCallDelta`, `ToolCallDone`, `ToolResult`), token `Usage`, the `Finish` reason and a
provider's in-stream error (`ProviderErrorPart`). Every one is a `Part`, frozen and compared
by value; match on them with ``isinstance`` or ``match``.
"""

from __future__ import annotations

import inspect

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

__all__ = [
    "Finish",
    "Part",
    "ProviderErrorPart",
    "ReasoningDelta",
    "RefusalDelta",
    "TextDelta",
    "ToolCallDelta",
    "ToolCallDone",
    "ToolResult",
    "Usage",
]

# Exported names present themselves as `streamdantic.parts.X` in reprs and tracebacks.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or inspect.isfunction(_obj):
        _obj.__module__ = __name__
del _name, _obj
