"""Server-Sent Events: encode events for browsers, decode event streams incrementally.

``SSEDecoder`` turns response-body chunks into `ServerSentEvent` objects exactly as a browser's
EventSource would (WHATWG HTML §9.2.6); `encode` and `encode_comment` write frames such a
decoder reads back. ``LineSplitter`` is the CR/LF/CRLF line splitter they are built on.
"""

from __future__ import annotations

from ._sse import LineSplitter, ServerSentEvent, SSEDecoder, encode, encode_comment

__all__ = [
    "LineSplitter",
    "SSEDecoder",
    "ServerSentEvent",
    "encode",
    "encode_comment",
]

# Exported names present themselves as `streamdantic.sse.X` in reprs and tracebacks.
for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__"):
        _obj.__module__ = __name__
del _name, _obj
