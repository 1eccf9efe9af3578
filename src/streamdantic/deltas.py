"""The delta wire model: a document sent as small path-addressed chunks (docs/deltas.md).

For code that produces or consumes deltas itself rather than through `streamdantic.sse`: a
`Chunk` holds `Delta` edits at JSON paths; `ChunkMerger` applies chunks to rebuild the
document (reporting the same `streamdantic.events` a parser would), and `DeltaEncoder` turns
a parser's events into chunks. `chunk_from_object`, `chunks_for_field` and
`chunks_from_text` build chunks by hand, mostly for tests and custom sources.
"""

from __future__ import annotations

import inspect

from ._deltas import (
    Chunk,
    ChunkMerger,
    Delta,
    DeltaEncoder,
    chunk_from_object,
    chunks_for_field,
    chunks_from_text,
)

__all__ = [
    "Chunk",
    "ChunkMerger",
    "Delta",
    "DeltaEncoder",
    "chunk_from_object",
    "chunks_for_field",
    "chunks_from_text",
]

# Exported names present themselves as `streamdantic.deltas.X` in reprs and tracebacks.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or inspect.isfunction(_obj):
        _obj.__module__ = __name__
del _name, _obj
