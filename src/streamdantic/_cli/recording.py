"""Recorded streams: detect their wire format and turn them into stream items again.

`streamdantic replay` and `streamdantic check` read a file that holds either a provider's
response body as it came over the wire (Server-Sent Events of the OpenAI Chat Completions or
Responses API, or of the Anthropic Messages API), a streamdantic SSE profile stream, or plain
JSON text. The format is detected from the content, never from the file name:

- SSE event names ``response.*`` mean Responses; ``message_start``/``content_block_*`` mean
  Anthropic; ``delta``/``snapshot``/``final`` mean the streamdantic profile; otherwise data
  payloads of ``chat.completion.chunk`` objects (or a ``[DONE]``) mean Chat Completions.
- A file whose first non-blank character starts a JSON value is raw JSON text.

OpenAI payloads become the openai SDK's own event objects and go through the adapter
registered for them, exactly as a live stream does; Anthropic payloads go through
`streamdantic.adapters.anthropic.anthropic_events` as plain dicts (no anthropic package needed).
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..sse._codec import ServerSentEvent, SSEDecoder
from .util import EXIT_OK, CommandError

__all__ = ["FORMATS", "Recording", "detect", "load_recording", "run_replay"]

FORMATS = ("openai-chat", "openai-responses", "anthropic", "streamdantic", "json")
_ANTHROPIC_EVENTS = frozenset(
    {
        "message_start",
        "message_delta",
        "message_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "ping",
    }
)
_PROFILE_EVENTS = frozenset({"delta", "snapshot", "final"})


@dataclass
class Recording:
    """A recorded stream: its raw bytes, detected format and decoded SSE events."""

    name: str
    data: bytes
    format: str
    events: list[ServerSentEvent]

    @property
    def text(self) -> str:
        """Raw JSON recordings: the text."""
        return self.data.decode("utf-8-sig")


def read_file(path: str) -> bytes:
    """The bytes of `path` (``-``: standard input).

    Raises:
        CommandError: the file cannot be read.
    """
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise CommandError(f"no such file: {path}") from None
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None


def decode_events(data: bytes) -> list[ServerSentEvent]:
    """All events of an SSE body."""
    decoder = SSEDecoder()
    events = decoder.feed(data)
    events.extend(decoder.close())
    return events


def _looks_like_json(data: bytes) -> bool:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return head in (b"{", b"[", b'"', b"-", b"t", b"f", b"n") or head.isdigit()


def detect(data: bytes, events: list[ServerSentEvent] | None = None) -> str:
    """The format of a recording (one of `FORMATS`).

    Raises:
        CommandError: the content matches none of them.
    """
    if _looks_like_json(data):
        return "json"
    if events is None:
        events = decode_events(data)
    names = {e.event for e in events}
    if any(n.startswith("response.") for n in names):
        return "openai-responses"
    if names & _ANTHROPIC_EVENTS:
        return "anthropic"
    if names & _PROFILE_EVENTS:
        return "streamdantic"
    for event in events:
        if event.data is None:
            continue  # (a decoded event always has data)
        if event.data.startswith("[DONE]"):
            return "openai-chat"
        try:
            payload = json.loads(event.data)
        except ValueError:
            continue
        if not isinstance(payload, dict):
            continue
        kind = payload.get("type")
        if isinstance(kind, str) and kind.startswith("response."):
            return "openai-responses"
        if kind in _ANTHROPIC_EVENTS:
            return "anthropic"
        if payload.get("object") == "chat.completion.chunk" or "choices" in payload:
            return "openai-chat"
    shown = ", ".join(sorted(names)) or "none"
    raise CommandError(
        f"cannot tell the format of this recording (SSE event names: {shown}; no JSON text)",
        hint=f"pass --format, one of: {', '.join(FORMATS)}",
    )


def load_recording(path: str, *, format: str | None = None) -> Recording:
    """Read and decode a recording, detecting its format unless given.

    Raises:
        CommandError: unreadable, empty or of no known format.
    """
    data = read_file(path)
    if not data.strip():
        raise CommandError(f"{path} is empty")
    if format is None and _looks_like_json(data):
        return Recording(path, data, "json", [])
    events = decode_events(data) if format != "json" else []
    found = format or detect(data, events)
    return Recording(path, data, found, events)


# ----------------------------------------------------------------------------- items


def token_pieces(text: str, *, seed: int = 0, mean: float = 4.0) -> Iterator[str]:
    """Split text like a model's token stream: 1 to 12 characters, about `mean` on average."""
    rng = random.Random(seed)
    i = 0
    while i < len(text):
        size = max(1, min(12, round(rng.expovariate(1 / mean))))
        yield text[i : i + size]
        i += size


def items(recording: Recording, *, chunk_size: int = 0) -> Iterator[Any]:
    """The recording as items for `stream`: text pieces, `Chunk`s or provider events.

    Raises:
        CommandError: an optional dependency the format needs is missing, or a payload is
            not what its format says.
    """
    kind = recording.format
    if kind == "json":
        if chunk_size:
            data = recording.data
            return (data[i : i + chunk_size] for i in range(0, len(data), chunk_size))
        return token_pieces(recording.text)
    if kind == "streamdantic":
        return _profile_items(recording.events)
    return provider_items(kind, recording.events)


def _profile_items(events: list[ServerSentEvent]) -> Iterator[Any]:
    from ..sse._profile import delta_chunk

    previous = None  # version 3: pointers relative to the previous frame's last
    for event in events:
        if event.event == "delta" or (event.event == "message" and event.id):  # v3: unnamed
            chunk, previous = delta_chunk(_data(event), previous)
            yield chunk
        elif event.event == "snapshot":
            raise CommandError(
                "this recording resumes from a snapshot; replay a recording of a whole stream"
            )


def provider_items(kind: str, events: list[ServerSentEvent]) -> Iterator[Any]:
    """Provider SSE events as the SDK's event objects (what a live stream yields)."""
    if kind == "openai-chat":
        from openai.types.chat import ChatCompletionChunk

        for event in events:
            if _data(event).startswith("[DONE]"):
                return
            payload = _payload(event)
            if "error" in payload and payload["error"]:
                yield _provider_error(payload["error"])
                return
            yield ChatCompletionChunk.model_validate(payload)
        return
    if kind == "openai-responses":
        from openai.types.responses import ResponseStreamEvent
        from pydantic import TypeAdapter

        adapter: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
        for event in events:
            yield adapter.validate_python(_payload(event))
        return
    if kind == "anthropic":
        from ..adapters.anthropic import anthropic_events

        # Plain dicts, converted without the anthropic package.
        yield from anthropic_events(_payload(event) for event in events)
        return
    raise CommandError(f"unknown format {kind!r}; one of: {', '.join(FORMATS)}")


def _data(event: ServerSentEvent) -> str:
    if event.data is None:  # only in events built by hand: a decoded event always has data
        raise CommandError(f"the SSE event {event.event!r} (id {event.id!r}) has no data")
    return event.data


def _payload(event: ServerSentEvent) -> dict[str, Any]:
    data = _data(event)
    try:
        payload = json.loads(data)
    except ValueError:
        raise CommandError(f"an SSE event's data is not JSON: {data[:80]!r}") from None
    if not isinstance(payload, dict):
        raise CommandError(f"an SSE event's data is not a JSON object: {data[:80]!r}")
    return payload


def _provider_error(error: Any) -> Any:
    from .._parts import ProviderErrorPart

    message = error.get("message", "error") if isinstance(error, dict) else str(error)
    code = error.get("code") or error.get("type") if isinstance(error, dict) else None
    return ProviderErrorPart(str(message), code=code, raw=error)


# ----------------------------------------------------------------------------- replay


def run_replay(
    path: str,
    *,
    schema: str | None = None,
    format: str | None = None,
    chunk_size: int = 0,
    lenient: bool = False,
) -> int:
    """`streamdantic replay`: print one line per update, then the final object.

    Raises:
        CommandError: unreadable file, unknown format or schema.
        StreamdanticError: the stream fails (truncated, invalid, provider error).
    """
    import time

    from .._aggregate import stream
    from .._parts import Part
    from .util import load_model
    from .view import plain_line, visible

    model = load_model(schema) if schema is not None else None
    recording = load_recording(path, format=format)
    # The items are made before the clock starts: making the first one imports the
    # provider's SDK, which is not part of the stream's timing.
    source = list(items(recording, chunk_size=chunk_size))
    print(f"replaying {recording.name} ({recording.format})", flush=True)
    started = time.perf_counter()
    s = stream(source, model, lenient=lenient)
    with s:
        for out in s.events():
            if isinstance(out, Part):
                shown = json.dumps(out.to_dict(), ensure_ascii=False, default=repr)
                if len(shown) > 140:
                    shown = shown[:139] + "…"
                print(f"{time.perf_counter() - started:7.2f}s part  {shown}", flush=True)
                continue
            if out.done:
                continue
            line = plain_line(time.perf_counter() - started, out.index, out.partial, out.completed)
            print(line, flush=True)
    print(json.dumps(visible(s.final), ensure_ascii=False, indent=2))
    reason = f", finish reason {s.finish_reason}" if s.finish_reason else ""
    print(f"final object{reason}", flush=True)
    return EXIT_OK
