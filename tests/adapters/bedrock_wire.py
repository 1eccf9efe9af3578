"""AWS event-stream framing for the Bedrock tests and benchmark: the recorded event dicts
encoded as the bytes Bedrock sends (``application/vnd.amazon.eventstream``), read back by
botocore's own `EventStream` with the real ``bedrock-runtime`` service model, the way
``client.converse_stream(...)["stream"]`` reads the HTTP body."""

from __future__ import annotations

import functools
import json
import struct
from binascii import crc32
from collections.abc import Iterator
from typing import Any


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        bytes([len(raw_name)]) + raw_name + b"\x07" + struct.pack(">H", len(raw_value)) + raw_value
    )


def wire_message(event: dict[str, Any]) -> bytes:
    """One event as an AWS event-stream message (vnd.amazon.eventstream), as Bedrock sends it:
    an ``event`` message named by its key, or an ``exception`` message."""
    ((kind, body),) = event.items()
    if kind.endswith("Exception"):
        headers = _header(":message-type", "exception") + _header(":exception-type", kind)
    else:
        headers = _header(":message-type", "event") + _header(":event-type", kind)
    headers += _header(":content-type", "application/json")
    payload = json.dumps(body).encode()
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    message = prelude + struct.pack(">I", crc32(prelude)) + headers + payload
    return message + struct.pack(">I", crc32(message))


class _Body:
    """The HTTP body botocore reads the event stream from, in pieces of `size` bytes."""

    def __init__(self, data: bytes, size: int) -> None:
        self._data, self._size = data, size
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def stream(self) -> Iterator[bytes]:
        for start in range(0, len(self._data), self._size):
            yield self._data[start : start + self._size]


def wire_bytes(recorded: list[dict[str, Any]]) -> bytes:
    """The whole HTTP body of a recorded stream."""
    return b"".join(wire_message(e) for e in recorded)


@functools.cache
def _stream_shape() -> Any:
    import botocore.session

    service = botocore.session.get_session().get_service_model("bedrock-runtime")
    return service.operation_model("ConverseStream").output_shape.members["stream"]


def event_stream(data: bytes, size: int) -> Any:
    """botocore's own EventStream over `data` read in pieces of `size` bytes, with the real
    bedrock-runtime service model and parser: what ``response["stream"]`` is."""
    from botocore.eventstream import EventStream
    from botocore.parsers import EventStreamJSONParser

    return EventStream(
        _Body(data, size), _stream_shape(), EventStreamJSONParser(), "ConverseStream"
    )


def botocore_stream(recorded: list[dict[str, Any]], size: int = 7) -> Any:
    """`event_stream` over the recorded events encoded as the bytes Bedrock sends."""
    return event_stream(wire_bytes(recorded), size)
