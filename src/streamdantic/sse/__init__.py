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

if TYPE_CHECKING:
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

# The client and the stores load on first use. The sans-IO core imports the codec from this
# package (``from .sse._codec import ...`` runs this file first), so importing them here would
# load the HTTP client and the stores with every ``import streamdantic`` (tests/test_layering.py).
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        ["AsyncClientStream", "ClientStream", "Retry", "aconnect", "connect"], "_client"
    ),
    **dict.fromkeys(["Frames", "MemoryStore", "RedisStore", "Store"], "_store"),
}


def _present(obj: object) -> None:
    # Exported names present themselves as `streamdantic.sse.X` in reprs and tracebacks.
    if hasattr(obj, "__module__"):
        obj.__module__ = __name__


for _name in __all__:
    if _name not in _LAZY:
        _present(globals()[_name])
del _name

if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        """A name of the client or the stores, imported on first access (PEP 562)."""
        import importlib

        if name not in _LAZY:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        for other, where in _LAZY.items():  # the whole module at once, then it is cached
            if where == _LAZY[name]:
                globals()[other] = getattr(module, other)
                _present(globals()[other])
        return globals()[name]


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
