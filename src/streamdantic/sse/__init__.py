"""Server-Sent Events: the codec, the streamdantic SSE profile, a reconnecting client, stores.

``SSEDecoder`` turns response-body chunks into `ServerSentEvent` objects exactly as a browser's
EventSource would (WHATWG HTML §9.2.6); `encode` and `encode_comment` write frames such a
decoder reads back. ``LineSplitter`` is the CR/LF/CRLF line splitter they are built on.

`ProfileEncoder` and `ProfileDecoder` carry a stream's updates and parts as frames of the
streamdantic SSE profile (docs/sse.md) and rebuild its object on the other side;
`stream_frame` is the frame that opens each response and names its generation. `connect`
and `aconnect` (httpx, the ``client`` extra) follow such a stream over reconnections,
resuming with ``Last-Event-ID``. `MemoryStore` and `RedisStore` keep the frames of resumable
streams (served by `streamdantic.starlette.ResumableStreams`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._codec import LineSplitter, ServerSentEvent, SSEDecoder, encode, encode_comment
from ._profile import ClientUpdate, ProfileDecoder, ProfileEncoder, stream_frame

if TYPE_CHECKING:  # loaded on first use (sse/_lazy.py)
    from ._client import AsyncClientStream, ClientStream, Retry, aconnect, connect
    from ._store import Frames, MemoryStore, RedisStore, Store

__all__ = [
    "AsyncClientStream",
    "ClientStream",
    "ClientUpdate",
    "Frames",
    "LineSplitter",
    "MemoryStore",
    "ProfileDecoder",
    "ProfileEncoder",
    "RedisStore",
    "Retry",
    "SSEDecoder",
    "ServerSentEvent",
    "Store",
    "aconnect",
    "connect",
    "encode",
    "encode_comment",
    "stream_frame",
]

# Exported names present themselves as `streamdantic.sse.X` in reprs and tracebacks.
for _name in __all__:
    _obj = globals().get(_name)  # None: not loaded yet, see below
    if hasattr(_obj, "__module__"):
        _obj.__module__ = __name__
del _name, _obj

if not TYPE_CHECKING:
    from ._lazy import __dir__ as __dir__, __getattr__ as __getattr__  # load on first use
