"""Recorded streams: detect their wire format and turn them into stream items again.

`streamdantic replay` and `streamdantic check` read a file that holds a provider's response
body as it came over the wire, the events an SDK yielded written one JSON object a line, a
streamdantic SSE profile stream, or plain JSON text. The format is detected from the first
events or lines, never from the file name (or named with ``--format``):

=================  =========================================================================
format             what the recording is, and how it is told apart
=================  =========================================================================
openai-chat        Chat Completions SSE: ``chat.completion.chunk`` payloads (or ``[DONE]``);
                   also the LiteLLM proxy's stream
openai-responses   Responses API SSE: ``response.*`` event names or payload types
anthropic          Anthropic Messages SSE: ``message_start`` / ``content_block_*`` events
gemini             Gemini ``streamGenerateContent``: SSE (``alt=sse``) or the JSON array
                   body, or JSON lines, of ``GenerateContentResponse`` objects
                   (``candidates`` / ``usageMetadata`` / ``promptFeedback`` keys)
ollama             Ollama ``/api/chat`` NDJSON: objects with ``message`` and ``done``
bedrock            Bedrock ``converse_stream`` events as JSON lines, one event a line as
                   botocore yields them (``{"contentBlockDelta": {...}}``: one key naming it)
litellm            LiteLLM's ``ModelResponseStream`` chunks as JSON lines (``chunk.
                   model_dump_json()`` per chunk): the Chat Completions chunk shape
streamdantic       the streamdantic SSE profile: ``delta`` / ``snapshot`` / ``final`` events
json               anything else whose first character starts a JSON value: the JSON text
=================  =========================================================================

OpenAI payloads become the openai SDK's own event objects, Gemini and Ollama payloads the
google-genai and ollama clients' objects, and go through the adapter registered for them,
exactly as a live stream does (the client package is needed; a missing one is a usage error
naming the extra). Anthropic payloads go through
`streamdantic.adapters.anthropic.anthropic_events` as plain dicts, Bedrock events are the
plain dicts botocore yields, and LiteLLM chunks are read as dicts by the Chat Completions
converter `streamdantic.adapters.litellm` registers: no package needed for those.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..sse._codec import ServerSentEvent, SSEDecoder
from .util import EXIT_OK, CommandError

__all__ = ["FORMATS", "Recording", "detect", "load_recording", "run_replay"]

FORMATS = (
    "openai-chat",
    "openai-responses",
    "anthropic",
    "gemini",
    "ollama",
    "bedrock",
    "litellm",
    "streamdantic",
    "json",
)
# Formats whose recordings are JSON values (lines, or Gemini's array), not SSE.
_LINE_FORMATS = frozenset({"gemini", "ollama", "bedrock", "litellm", "json"})
_GEMINI_KEYS = frozenset({"candidates", "usageMetadata", "promptFeedback"})
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
    """A recorded stream: its raw bytes, detected format and decoded SSE events (or, for
    the JSON formats, `payloads`: its JSON objects in order)."""

    name: str
    data: bytes
    format: str
    events: list[ServerSentEvent]
    payloads: list[Any] = field(default_factory=list)

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


def _first_line(data: bytes) -> Any:
    """The first non-blank line of `data` as JSON (None when it is not a whole JSON value)."""
    for line in data.lstrip(b"\xef\xbb\xbf").splitlines():
        if line.strip():
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def _shape(payload: Any) -> str | None:
    """The format one JSON object of a line or array recording has, if any."""
    if not isinstance(payload, dict):
        return None
    from ..adapters._registry import DICT_KEYS

    if len(payload) == 1 and next(iter(payload)) in DICT_KEYS:
        return "bedrock"
    if "message" in payload and "done" in payload:
        return "ollama"
    if payload.get("object") == "chat.completion.chunk":
        return "litellm"
    if payload.keys() & _GEMINI_KEYS:
        return "gemini"
    return None


def detect_json(data: bytes) -> str:
    """The format of a recording that starts with a JSON value: one of the line formats,
    Gemini's JSON array body, else plain JSON text."""
    first = _first_line(data)
    found = _shape(first)
    if found is not None:
        return found
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] == b"[":
        try:
            whole = json.loads(data.decode("utf-8-sig"))
        except ValueError:
            return "json"
        if isinstance(whole, list) and whole and _shape(whole[0]) == "gemini":
            return "gemini"
    return "json"


def detect(data: bytes, events: list[ServerSentEvent] | None = None) -> str:
    """The format of a recording (one of `FORMATS`).

    Raises:
        CommandError: the content matches none of them.
    """
    if _looks_like_json(data):
        return detect_json(data)
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
        if payload.keys() & _GEMINI_KEYS:
            return "gemini"
    shown = ", ".join(sorted(names)) or "none"
    raise CommandError(
        "cannot tell the format of this recording (SSE event names: "
        f"{shown}; no JSON lines or JSON text of a known shape)",
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
        format = detect_json(data)
    if format == "json":
        return Recording(path, data, "json", [])
    if format in _LINE_FORMATS:
        if _looks_like_json(data):
            return Recording(path, data, format, [], json_payloads(data, path))
        if format != "gemini":  # Gemini also streams Server-Sent Events (alt=sse)
            raise CommandError(
                f"{path} does not hold JSON lines, as a {format} recording does",
                hint=f"drop --format {format} to detect the format",
            )
    events = decode_events(data)
    found = format or detect(data, events)
    if found == "gemini":  # Server-Sent Events (alt=sse): one response per data field
        return Recording(path, data, found, events, [_payload(e) for e in events])
    return Recording(path, data, found, events)


def json_payloads(data: bytes, name: str) -> list[Any]:
    """The JSON objects of a line recording (one a line, blank lines skipped), or the
    elements of a JSON array body (Gemini without ``alt=sse``).

    Raises:
        CommandError: a line (or the array) is not JSON.
    """
    text = data.decode("utf-8-sig")
    if text.lstrip()[:1] == "[":
        try:
            whole = json.loads(text)
        except ValueError as exc:
            raise CommandError(f"{name}: the JSON array body is not JSON ({exc})") from None
        if isinstance(whole, list):
            return whole
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError:
            raise CommandError(
                f"{name}, line {number}: not a JSON value: {line[:80]!r}",
                hint="a line recording holds one JSON object a line",
            ) from None
    return out


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
    if kind in _LINE_FORMATS:
        return payload_items(kind, recording.payloads)
    return provider_items(kind, recording.events)


def _client(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise CommandError(
            f"replaying this recording needs the {module} package",
            hint=f'pip install "streamdantic[{extra}]"',
        ) from None


def payload_items(kind: str, payloads: list[Any]) -> Iterator[Any]:
    """The JSON objects of a Gemini, Ollama, Bedrock or LiteLLM recording as the items a
    live stream of that source yields (the client's objects, or the SDK's plain dicts)."""
    if kind == "bedrock":
        return iter(payloads)  # botocore yields these dicts; the registry knows their keys
    if kind == "litellm":
        # The converter streamdantic.adapters.litellm registers for LiteLLM's chunks, over
        # their dicts (importing that module would import litellm, which is not needed).
        from ..adapters._chat import ChatConverter
        from ..adapters._iterate import convert_all

        return convert_all(ChatConverter(), payloads)
    if kind == "gemini":
        return _gemini_items(payloads)
    if kind == "ollama":
        return _ollama_items(payloads)
    raise CommandError(f"unknown format {kind!r}; one of: {', '.join(FORMATS)}")


def _gemini_items(payloads: list[Any]) -> Iterator[Any]:
    types = _client("google.genai.types", "gemini")
    for payload in payloads:
        if not isinstance(payload, dict):
            raise CommandError(f"a Gemini response is not a JSON object: {str(payload)[:80]!r}")
        error = payload.get("error")
        if error:  # the client raises for this frame; the stream reports it the same way
            status = error.get("status") if isinstance(error, dict) else None
            yield _provider_error({**error, "code": status} if status else error)
            return
        yield types.GenerateContentResponse.model_validate(payload)


def _ollama_items(payloads: list[Any]) -> Iterator[Any]:
    ollama = _client("ollama", "ollama")
    for payload in payloads:
        if not isinstance(payload, dict):
            raise CommandError(f"an Ollama line is not a JSON object: {str(payload)[:80]!r}")
        if "error" in payload:  # the client raises ResponseError for this line
            yield _provider_error({"message": str(payload["error"])})
            return
        yield ollama.ChatResponse(**payload)


def _profile_items(events: list[ServerSentEvent]) -> Iterator[Any]:
    from ..sse._profile import delta_chunk, frame_name

    previous = None  # version 3: pointers relative to the previous frame's last
    for event in events:
        name = frame_name(event)
        if name == "delta":
            chunk, previous = delta_chunk(_data(event), previous)
            yield chunk
        elif name == "snapshot":
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


def parse_tools(specs: Sequence[str]) -> dict[str, Any]:
    """``--tool`` values (``NAME`` or ``NAME=MODULE:MODEL``) as a `tools` mapping.

    Raises:
        CommandError: a value without a name, or a model that cannot be loaded.
    """
    from .util import load_model

    tools: dict[str, Any] = {}
    for spec in specs:
        name, _, model = spec.partition("=")
        if not name.strip():
            raise CommandError(f"--tool takes NAME or NAME=module:Model, not {spec!r}")
        tools[name.strip()] = load_model(model) if model else None
    return tools


def run_replay(
    path: str,
    *,
    schema: str | None = None,
    format: str | None = None,
    chunk_size: int = 0,
    lenient: bool = False,
    tools: Sequence[str] = (),
) -> int:
    """`streamdantic replay`: print one line per update, then the final object.

    `tools` are ``NAME`` or ``NAME=MODULE:MODEL``: with them (and no `schema`) the stream is
    an agent's, its text prose and each tool call's arguments a partial of its own.

    Raises:
        CommandError: unreadable file, unknown format or schema.
        StreamdanticError: the stream fails (truncated, invalid, provider error).
    """
    import time

    from .._aggregate import stream
    from .._parts import Part, ToolCallDelta
    from .util import load_model
    from .view import plain_line, visible

    model = load_model(schema) if schema is not None else None
    tool_models = parse_tools(tools)
    recording = load_recording(path, format=format)
    # The items are made before the clock starts: making the first one imports the
    # provider's SDK, which is not part of the stream's timing.
    source = list(items(recording, chunk_size=chunk_size))
    print(f"replaying {recording.name} ({recording.format})", flush=True)
    started = time.perf_counter()
    s = stream(source, model, lenient=lenient, tools=tool_models or None)
    names: dict[str, str] = {}  # call id -> tool name (only the first delta carries it)
    with s:
        for out in s.events():
            if isinstance(out, ToolCallDelta) and tool_models:  # the call's typed partial
                name = names.setdefault(out.call_id, out.name or "?")
                shown = json.dumps(visible(out.partial), ensure_ascii=False, default=repr)
                if len(shown) > 140:
                    shown = shown[:139] + "…"
                print(f"{time.perf_counter() - started:7.2f}s tool  {name} {shown}", flush=True)
                continue
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
    if s.final is not None or not tool_models:
        print(json.dumps(visible(s.final), ensure_ascii=False, indent=2))
    reason = f", finish reason {s.finish_reason}" if s.finish_reason else ""
    print(f"final object{reason}", flush=True)
    return EXIT_OK
