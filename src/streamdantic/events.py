"""Parser events: the steps of a JSON document as `JSONParser` and `ChunkMerger` report them.

For code that reads a document event by event (``JSONParser.feed`` returns a list of them,
``ChunkMerger.apply`` the same list for the same document): `ValueStarted` when a value
opens, `StringAppended` for each piece of a string, `ValueCompleted` when a value closes and
`DocumentCompleted` at the end, each carrying its JSON path. `ValueState` is the per-path
state ``JSONParser.state_of`` reports. Application code that only reads typed
objects from `streamdantic.stream` does not need this module.
"""

from __future__ import annotations

import inspect

from ._events import DocumentCompleted, Event, StringAppended, ValueCompleted, ValueStarted
from ._parser import ValueState

__all__ = [
    "DocumentCompleted",
    "Event",
    "StringAppended",
    "ValueCompleted",
    "ValueStarted",
    "ValueState",
]

# Exported names present themselves as `streamdantic.events.X` in reprs and tracebacks.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or inspect.isfunction(_obj):
        _obj.__module__ = __name__
del _name, _obj
