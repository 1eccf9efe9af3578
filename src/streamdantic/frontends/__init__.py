"""Front ends' own stream protocols: the Vercel AI SDK's and AG-UI's (docs/frontends.md).

Each encoder is sans-IO, like `streamdantic.ProfileEncoder`: a stream's updates and parts
in, frames out (`feed` / `close`, or `feed_bytes` / `close_bytes`). Serve one with
``EventStreamResponse(source, protocol="ai-sdk")`` (or ``"ai-sdk-text"``, ``"ag-ui"``, or an
encoder instance for its options), or iterate the frames in any ASGI/WSGI framework.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, Protocol, TypeAlias

from .._exceptions import UsageError
from ._vercel import TextStreamEncoder, UIMessageStreamEncoder

if TYPE_CHECKING:
    from ._agui import AGUIEncoder

__all__ = [
    "AGUIEncoder",
    "FrontendEncoder",
    "FrontendProtocol",
    "PROTOCOLS",
    "TextStreamEncoder",
    "UIMessageStreamEncoder",
    "frontend_encoder",
]

#: The names of the protocols `frontend_encoder` (and ``EventStreamResponse(protocol=)``)
#: knows: the AI SDK's UI message stream, its text stream, and AG-UI's event stream.
FrontendProtocol: TypeAlias = Literal["ai-sdk", "ai-sdk-text", "ag-ui"]
PROTOCOLS: Final = ("ai-sdk", "ai-sdk-text", "ag-ui")


class FrontendEncoder(Protocol):
    """What a response needs of a protocol's encoder."""

    media_type: ClassVar[str]
    headers: ClassVar[Mapping[str, str]]
    heartbeats: ClassVar[bool]

    def feed_bytes(self, output: Any, /, *, now: float = 0.0) -> bytes: ...

    def close_bytes(self, error: BaseException | None = None, /) -> bytes: ...


def __getattr__(name: str) -> Any:
    if name == "AGUIEncoder":  # its module imports the optional ag-ui-protocol package
        from ._agui import AGUIEncoder

        return AGUIEncoder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def frontend_encoder(protocol: str | FrontendEncoder, /) -> FrontendEncoder:
    """A new encoder for `protocol`, with its default options.

    Args:
        protocol: ``"ai-sdk"`` (`UIMessageStreamEncoder`), ``"ai-sdk-text"``
            (`TextStreamEncoder`) or ``"ag-ui"`` (`AGUIEncoder`); an encoder instance is
            returned as it is (to choose its options).

    Raises:
        UsageError: an unknown protocol name.
        ImportError: ``"ag-ui"`` without the ``agui`` extra.
    """
    if not isinstance(protocol, str):
        if not (hasattr(protocol, "feed_bytes") and hasattr(protocol, "close_bytes")):
            raise UsageError(
                f"protocol must be one of {PROTOCOLS!r} or a front-end encoder, not "
                f"{type(protocol).__name__}"
            )
        return protocol
    if protocol == "ai-sdk":
        return UIMessageStreamEncoder()
    if protocol == "ai-sdk-text":
        return TextStreamEncoder()
    if protocol == "ag-ui":
        from ._agui import AGUIEncoder

        return AGUIEncoder()
    raise UsageError(
        f"unknown protocol {protocol!r}: the front-end protocols are {', '.join(map(repr, PROTOCOLS))} "
        "(or pass an encoder instance; profile= chooses streamdantic's own SSE profiles)"
    )


# Exported names present themselves as `streamdantic.frontends.X` (AGUIEncoder does so in
# its own module, which is imported only when it is used).
for _obj in (FrontendEncoder, TextStreamEncoder, UIMessageStreamEncoder, frontend_encoder):
    _obj.__module__ = __name__
del _obj
