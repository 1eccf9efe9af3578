"""Provider batch results: the outcomes `collect_batch` and `acollect_batch` yield.

Each line of a provider's batch output file (OpenAI Batch API output and error files,
Anthropic Message Batches results, Gemini and Vertex AI batch output) is one request's
outcome: a `BatchResult` with the validated object, or one of the `BatchFailure` kinds
(`HTTPFailure`, `ProviderFailure`, `RefusalFailure`, `TruncatedFailure`,
`InvalidJSONFailure`, `ValidationFailure`, `MalformedLineFailure`), each with its
``custom_id``, file, line and raw text, so the failed requests can be sent again.
`BatchSummary` counts them; `BatchReader` is the sans-IO reader under the loops. The entry
points themselves, `streamdantic.collect_batch` and `streamdantic.acollect_batch`, and the
error `streamdantic.BatchFailureError` stay at the top level.
"""

from __future__ import annotations

import inspect

from ._batch import (
    AsyncBatchIterator,
    BatchFailure,
    BatchIterator,
    BatchOutcome,
    BatchReader,
    BatchResult,
    BatchSummary,
    HTTPFailure,
    InvalidJSONFailure,
    MalformedLineFailure,
    ProviderFailure,
    RefusalFailure,
    TruncatedFailure,
    ValidationFailure,
)

__all__ = [
    "AsyncBatchIterator",
    "BatchFailure",
    "BatchIterator",
    "BatchOutcome",
    "BatchReader",
    "BatchResult",
    "BatchSummary",
    "HTTPFailure",
    "InvalidJSONFailure",
    "MalformedLineFailure",
    "ProviderFailure",
    "RefusalFailure",
    "TruncatedFailure",
    "ValidationFailure",
]

# Exported names present themselves as `streamdantic.batch.X` in reprs and tracebacks.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or inspect.isfunction(_obj):
        _obj.__module__ = __name__
del _name, _obj
