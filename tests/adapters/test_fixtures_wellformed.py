"""The recorded provider streams in `fixtures/` are well formed and match `fixtures/manifest.json`.

Each stream is checked three ways: frame by frame against the installed `openai` SDK's pydantic
types (strict, and with no field the SDK does not know), as a whole (delta concatenation equals
the manifest text, complete outputs equal their source document), and end to end through the
real `openai` client reading the bytes from a mock transport.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import openai
import pydantic
import pytest
from openai._streaming import SSEDecoder
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.lib.streaming.responses import ResponseStreamState
from openai.types.chat import ChatCompletionChunk
from openai.types.responses import ResponseStreamEvent

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
MANIFEST: dict[str, Any] = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))
STREAMS: list[dict[str, Any]] = MANIFEST["streams"]
CHAT = [s for s in STREAMS if s["format"] == "openai_chat"]
CHAT_OK = [s for s in CHAT if not s["errored"]]
RESPONSES = [s for s in STREAMS if s["format"] == "openai_responses"]
ANTHROPIC = [s for s in STREAMS if s["format"] == "anthropic_messages"]
OUTPUTS = [(s, o) for s in STREAMS for o in s["outputs"]]
COMPLETE_DOCS = [(s, o) for s, o in OUTPUTS if o["document"] and o["complete"]]
TRUNCATED_DOCS = [(s, o) for s, o in OUTPUTS if o["document"] and not o["complete"]]

RESPONSE_EVENTS: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ResponseStreamEvent)
Key = tuple[Any, ...]


def ids(streams: list[dict[str, Any]]) -> list[str]:
    return [s["id"] for s in streams]


def output_ids(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[str]:
    return [
        f"{s['id']}#{o['kind']}{o['index']}"
        + (f"-{o['summary_index']}" if "summary_index" in o else "")
        for s, o in pairs
    ]


# --- reading fixtures (independently of the generator) ---------------------------------------


@cache
def frames(stream_id: str) -> tuple[tuple[str | None, str], ...]:
    """(event name or None, data) for every SSE frame of a stream."""
    entry = next(s for s in STREAMS if s["id"] == stream_id)
    text = (FIXTURES / entry["file"]).read_bytes().decode("utf-8")
    out = []
    for block in text.removesuffix("\n\n").split("\n\n"):
        event = None
        data = []
        for line in block.split("\n"):
            name, _, value = line.partition(": ")
            if name == "event":
                event = value
            else:
                data.append(value)
        out.append((event, "\n".join(data)))
    return tuple(out)


def payloads(stream: dict[str, Any]) -> list[Any]:
    """Decoded JSON of every frame except `[DONE]` (a fresh copy: callers may mutate it)."""
    return [json.loads(data) for _, data in frames(stream["id"]) if data != "[DONE]"]


def chunks(stream: dict[str, Any]) -> list[dict[str, Any]]:
    """Chat frames that are chunks (not `[DONE]`, not an error payload)."""
    return [p for p in payloads(stream) if "error" not in p]


def collect_deltas(stream: dict[str, Any]) -> dict[Key, list[str]]:
    """Every delta of every output, keyed like `manifest_key`, in stream order."""
    found: dict[Key, list[str]] = {}

    def add(key: Key, piece: str | None) -> None:
        if piece is not None:
            found.setdefault(key, []).append(piece)

    for p in payloads(stream):
        if stream["format"] == "openai_chat":
            for choice in p.get("choices", []):
                delta = choice["delta"]
                add(("content", 0), delta.get("content"))
                add(("refusal", 0), delta.get("refusal"))
                for call in delta.get("tool_calls") or []:
                    add(("tool_call", call["index"]), call["function"].get("arguments"))
        elif stream["format"] == "openai_responses":
            kind = {
                "response.output_text.delta": "output_text",
                "response.refusal.delta": "refusal",
                "response.function_call_arguments.delta": "function_call",
                "response.reasoning_summary_text.delta": "reasoning_summary",
            }.get(p["type"])
            if kind == "reasoning_summary":
                add((kind, p["output_index"], p["summary_index"]), p["delta"])
            elif kind:
                add((kind, p["output_index"]), p["delta"])
        elif p["type"] == "content_block_delta":
            kind, field = {
                "text_delta": ("text", "text"),
                "input_json_delta": ("tool_use", "partial_json"),
                "thinking_delta": ("thinking", "thinking"),
                "signature_delta": ("signature", "signature"),
            }[p["delta"]["type"]]
            add((kind, p["index"]), p["delta"][field])
    # chat sends `content: ""` / `refusal: ""` / `arguments: ""` as placeholders; an output that
    # only ever received placeholders does not exist.
    return {k: v for k, v in found.items() if "".join(v) or k[0] in ("tool_call", "tool_use")}


def manifest_key(output: dict[str, Any]) -> Key:
    if output["kind"] == "reasoning_summary":
        return (output["kind"], output["index"], output["summary_index"])
    return (output["kind"], output["index"])


def strip_ws(text: str) -> str:
    """JSON text without whitespace outside strings (escapes kept verbatim)."""
    out = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in " \t\r\n":
            continue
        out.append(ch)
    return "".join(out)


def escape_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every backslash escape inside a JSON string."""
    spans = []
    in_string = False
    i = 0
    while i < len(text):
        if in_string and text[i] == "\\":
            end = i + (6 if text[i + 1] == "u" else 2)
            spans.append((i, end))
            i = end
            continue
        if text[i] == '"':
            in_string = not in_string
        i += 1
    return spans


def no_unknown_fields(obj: Any, path: str = "$") -> Iterator[str]:
    """Paths of fields the SDK models accepted only as extras (their config is extra='allow')."""
    if isinstance(obj, pydantic.BaseModel):
        for name in obj.__pydantic_extra__ or {}:
            yield f"{path}.{name}"
        for name in type(obj).model_fields:
            yield from no_unknown_fields(getattr(obj, name), f"{path}.{name}")
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from no_unknown_fields(item, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from no_unknown_fields(item, f"{path}.{key}")


@cache
def fixture_models() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fixture_models", FIXTURES / "models.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def document(output: dict[str, Any]) -> str:
    return (FIXTURES / output["document"]).read_text(encoding="utf-8")


def mock_client(entry: dict[str, Any], chunk_size: int = 61) -> openai.OpenAI:
    """A real OpenAI client whose transport replays the fixture bytes in `chunk_size` pieces."""
    httpx2 = pytest.importorskip("httpx2", reason="openai>=3 uses httpx2 as its transport")
    body = (FIXTURES / entry["file"]).read_bytes()

    def handler(request: Any) -> Any:
        pieces = [body[i : i + chunk_size] for i in range(0, len(body), chunk_size)]
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, content=iter(pieces)
        )

    transport = httpx2.Client(transport=httpx2.MockTransport(handler))
    return openai.OpenAI(
        api_key="sk-test", base_url="http://127.0.0.1:9/v1", http_client=transport, max_retries=0
    )


# --- manifest and files ------------------------------------------------------------------------


def test_manifest_lists_every_sse_file() -> None:
    """Every .sse file under fixtures/ has exactly one manifest entry and vice versa
    (directories with their own manifest, such as gemini/, are checked by their generator)."""
    on_disk = sorted(
        p.relative_to(FIXTURES).as_posix()
        for p in FIXTURES.glob("*/*.sse")
        if not (p.parent / "manifest.json").exists()
    )
    assert sorted(s["file"] for s in STREAMS) == on_disk


def test_manifest_references_resolve() -> None:
    """Every referenced document exists and every named pydantic model is defined in models.py."""
    for stream, output in OUTPUTS:
        if output["document"]:
            assert (FIXTURES / output["document"]).is_file(), stream["id"]
        if output["pydantic_model"]:
            assert hasattr(fixture_models(), output["pydantic_model"]), stream["id"]


def test_make_fixtures_check_passes() -> None:
    """Regenerating the fixtures reproduces the committed files byte for byte."""
    result = subprocess.run(
        [sys.executable, str(FIXTURES / "make_fixtures.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("stream", STREAMS, ids=ids(STREAMS))
def test_sse_framing(stream: dict[str, Any]) -> None:
    """Frames are UTF-8 `event:`/`data:` lines separated by blank lines, named like their payload."""
    raw = (FIXTURES / stream["file"]).read_bytes()
    text = raw.decode("utf-8")
    assert "\r" not in text and text.endswith("\n\n") and "\n\n\n" not in text
    for block in text.removesuffix("\n\n").split("\n\n"):
        lines = block.split("\n")
        if stream["format"] == "openai_chat":
            assert len(lines) == 1 and lines[0].startswith("data: ")
        else:
            assert (
                len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: ")
            )
            assert json.loads(lines[1][6:])["type"] == lines[0][7:]


@pytest.mark.parametrize("stream", STREAMS, ids=ids(STREAMS))
def test_manifest_byte_metadata(stream: dict[str, Any]) -> None:
    """The manifest's size, sha256 and multi-byte flag describe the file on disk."""
    raw = (FIXTURES / stream["file"]).read_bytes()
    assert stream["bytes"] == len(raw)
    assert stream["sha256"] == hashlib.sha256(raw).hexdigest()
    assert stream["has_multibyte_utf8"] == (not raw.isascii())
    assert stream["frame_count"] == len(frames(stream["id"]))


def headers(stream: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """What each output announces when it opens, keyed by its index."""
    found: dict[int, dict[str, Any]] = {}
    for p in payloads(stream):
        if stream["format"] == "openai_chat":
            for choice in p.get("choices", []):
                for call in choice["delta"].get("tool_calls") or []:
                    if "id" in call:
                        found[call["index"]] = {"id": call["id"], "name": call["function"]["name"]}
        elif p["type"] == "response.output_item.added":
            item = p["item"]
            found[p["output_index"]] = {
                "item_id": item["id"],
                "id": item.get("call_id", item["id"]),
                "name": item.get("name"),
            }
        elif p["type"] == "content_block_start" and p["content_block"]["type"] == "tool_use":
            block = p["content_block"]
            found[p["index"]] = {"id": block["id"], "name": block["name"]}
    return found


@pytest.mark.parametrize("stream", STREAMS, ids=ids(STREAMS))
def test_output_identifiers_match_stream(stream: dict[str, Any]) -> None:
    """Each output's id / item_id / name is the one its opening frame announces."""
    announced = headers(stream)
    for output in stream["outputs"]:
        if output["id"] is None:
            continue
        header = announced[output["index"]]
        assert header["id"] == output["id"] and header["name"] == output["name"]
        assert header.get("item_id") == output.get("item_id")


# --- OpenAI Chat Completions ------------------------------------------------------------------


@pytest.mark.parametrize("stream", CHAT, ids=ids(CHAT))
def test_chat_frames_validate_as_chunks(stream: dict[str, Any]) -> None:
    """Every chat frame is a strict `ChatCompletionChunk` with no field unknown to the SDK."""
    for raw in chunks(stream):
        assert {"id", "object", "created", "model", "choices"} <= raw.keys()
        for choice in raw["choices"]:
            assert {"index", "delta", "finish_reason"} <= choice.keys()
            for call in choice["delta"].get("tool_calls") or []:
                assert "index" in call
        chunk = ChatCompletionChunk.model_validate(raw, strict=True)
        assert list(no_unknown_fields(chunk)) == []


@pytest.mark.parametrize("stream", CHAT, ids=ids(CHAT))
def test_chat_stream_terminator(stream: dict[str, Any]) -> None:
    """A chat stream ends with one `[DONE]`, or, if it errored, with an error payload and no `[DONE]`."""
    data = [d for _, d in frames(stream["id"])]
    if stream["errored"]:
        assert "[DONE]" not in data
        assert json.loads(data[-1]) == stream["error"]
    else:
        assert data.count("[DONE]") == 1 and data[-1] == "[DONE]"


@pytest.mark.parametrize("stream", CHAT, ids=ids(CHAT))
def test_chat_chunks_share_identity(stream: dict[str, Any]) -> None:
    """All chunks share id/created/model/fingerprint and the first delta carries role=assistant."""
    raw = chunks(stream)
    identity = {(c["id"], c["created"], c["model"], c["system_fingerprint"]) for c in raw}
    assert len(identity) == 1
    assert raw[0]["id"].startswith("chatcmpl-") and raw[0]["model"] == stream["model"]
    assert raw[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all("role" not in c["delta"] for r in raw[1:] for c in r["choices"])


@pytest.mark.parametrize("stream", CHAT, ids=ids(CHAT))
def test_chat_tool_call_headers(stream: dict[str, Any]) -> None:
    """Only the first delta of a tool call carries id/type/name; later ones carry index + arguments."""
    seen: set[int] = set()
    for raw in chunks(stream):
        for choice in raw["choices"]:
            for call in choice["delta"].get("tool_calls") or []:
                if call["index"] in seen:
                    assert call.keys() == {"index", "function"}
                    assert call["function"].keys() == {"arguments"}
                else:
                    assert call["id"].startswith("call_") and call["type"] == "function"
                    assert call["function"]["name"] and call["function"]["arguments"] == ""
                    seen.add(call["index"])
    assert seen == {o["index"] for o in stream["outputs"] if o["kind"] == "tool_call"}


@pytest.mark.parametrize("stream", CHAT, ids=ids(CHAT))
def test_chat_stream_readable_by_openai_client(stream: dict[str, Any]) -> None:
    """The real openai client reads every chunk (bytes split mid UTF-8) or raises APIError on error."""
    received = []
    with mock_client(stream) as client:
        if stream["errored"]:
            with pytest.raises(openai.APIError) as excinfo:
                received.extend(client.chat.completions.create(**stream["request"]))
            assert excinfo.value.body == stream["error"]["error"]
        else:
            received.extend(client.chat.completions.create(**stream["request"]))
    assert [c.to_dict() for c in received] == chunks(stream)


@pytest.mark.parametrize("stream", CHAT_OK, ids=ids(CHAT_OK))
def test_chat_snapshot_matches_manifest(stream: dict[str, Any]) -> None:
    """The SDK's ChatCompletionStreamState accumulates the chunks into the manifest's outputs."""
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    for raw in chunks(stream):
        state.handle_chunk(ChatCompletionChunk.model_validate(raw))
    choice = state.current_completion_snapshot.choices[0]
    assert choice.finish_reason == stream["finish_reason"]
    by_kind = {o["kind"]: o for o in stream["outputs"]}
    assert choice.message.content == (by_kind["content"]["text"] if "content" in by_kind else None)
    assert choice.message.refusal == (by_kind["refusal"]["text"] if "refusal" in by_kind else None)
    calls = [(c.id, c.function.name, c.function.arguments) for c in choice.message.tool_calls or []]
    expected = [
        (o["id"], o["name"], o["text"]) for o in stream["outputs"] if o["kind"] == "tool_call"
    ]
    assert calls == expected


TOOL_STREAMS = [s for s in CHAT if s["id"].startswith("openai_chat/tool_calls_")]


@pytest.mark.parametrize("stream", TOOL_STREAMS, ids=ids(TOOL_STREAMS))
def test_sdk_stream_helper_assumes_sequential_tool_calls(stream: dict[str, Any]) -> None:
    """With the request's strict tool, the SDK helper parses sequential calls but fails on interleaved ones."""
    # ChatCompletionStreamState treats a delta for a new tool index as "the previous call is
    # done" and json-parses a strict tool's arguments then; interleaved deltas (which OpenAI does
    # not send, but OpenAI-compatible servers do) make it parse a partial argument string.
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState(
        input_tools=stream["request"]["tools"]
    )

    def feed() -> None:
        for raw in chunks(stream):
            state.handle_chunk(ChatCompletionChunk.model_validate(raw))

    if stream["id"].endswith("_interleaved"):
        with pytest.raises(json.JSONDecodeError):
            feed()
    else:
        feed()
        calls = state.get_final_completion().choices[0].message.tool_calls or []
        assert [c.function.parsed_arguments for c in calls] == [
            json.loads(o["text"]) if o["name"] == "get_weather" else None for o in stream["outputs"]
        ]


# --- OpenAI Responses API ---------------------------------------------------------------------


@pytest.mark.parametrize("stream", RESPONSES, ids=ids(RESPONSES))
def test_responses_frames_validate_as_stream_events(stream: dict[str, Any]) -> None:
    """Every Responses frame is a strict `ResponseStreamEvent` with no field unknown to the SDK."""
    for raw in payloads(stream):
        assert {"type", "sequence_number"} <= raw.keys()
        if raw["type"].startswith("response.output_text."):
            assert {"item_id", "output_index", "content_index", "logprobs"} <= raw.keys()
        if "response" in raw:
            assert {"id", "object", "created_at", "status", "model", "output", "tools"} <= raw[
                "response"
            ].keys()
        event = RESPONSE_EVENTS.validate_python(raw, strict=True)
        assert event.type == raw["type"]
        assert list(no_unknown_fields(event)) == []


@pytest.mark.parametrize("stream", RESPONSES, ids=ids(RESPONSES))
def test_responses_sequence_numbers_are_contiguous(stream: dict[str, Any]) -> None:
    """`sequence_number` counts 0, 1, 2, ... across the whole stream."""
    numbers = [p["sequence_number"] for p in payloads(stream)]
    assert numbers == list(range(len(numbers)))


@pytest.mark.parametrize("stream", RESPONSES, ids=ids(RESPONSES))
def test_responses_lifecycle(stream: dict[str, Any]) -> None:
    """A stream opens with created/in_progress and closes with the manifest's terminal event."""
    raw = payloads(stream)
    assert [p["type"] for p in raw[:2]] == ["response.created", "response.in_progress"]
    assert len({p["response"]["id"] for p in raw if "response" in p}) == 1
    last = raw[-1]
    if last["type"] == "error":
        assert stream["errored"] and last == stream["error"] | {"sequence_number": len(raw) - 1}
    else:
        assert last["type"] == f"response.{stream['finish_reason']}"
        assert last["response"]["status"] == stream["finish_reason"]
        details = last["response"]["incomplete_details"]
        assert (details or {}).get("reason") == stream.get("incomplete_reason")


@pytest.mark.parametrize("stream", RESPONSES, ids=ids(RESPONSES))
def test_responses_state_accepts_every_event(stream: dict[str, Any]) -> None:
    """The SDK's ResponseStreamState consumes the events and its final output matches the manifest."""
    state: ResponseStreamState[Any] = ResponseStreamState(
        input_tools=openai.omit, text_format=openai.omit
    )
    emitted = [
        e
        for raw in payloads(stream)
        for e in state.handle_event(RESPONSE_EVENTS.validate_python(raw))
    ]
    completed = [e.response for e in emitted if e.type == "response.completed"]
    if stream["finish_reason"] != "completed":
        assert completed == []
        return
    [final] = completed
    texts = {o["index"]: o["text"] for o in stream["outputs"] if o["kind"] == "output_text"}
    assert final.output_text == "".join(texts.values())
    for output in stream["outputs"]:
        item = final.output[output["index"]]
        if output["kind"] == "function_call":
            assert (item.call_id, item.name, item.arguments) == (
                output["id"],
                output["name"],
                output["text"],
            )


@pytest.mark.parametrize("stream", RESPONSES, ids=ids(RESPONSES))
def test_responses_stream_readable_by_openai_client(stream: dict[str, Any]) -> None:
    """The real openai client yields one typed event per frame, including `error` events."""
    with mock_client(stream) as client:
        events = list(client.responses.create(**stream["request"]))
    assert [e.to_dict() for e in events] == payloads(stream)


# --- Anthropic Messages -----------------------------------------------------------------------

ANTHROPIC_REQUIRED = {
    "message_start": {"message"},
    "content_block_start": {"index", "content_block"},
    "content_block_delta": {"index", "delta"},
    "content_block_stop": {"index"},
    "message_delta": {"delta", "usage"},
    "message_stop": set(),
    "ping": set(),
    "error": {"error"},
}
ANTHROPIC_BLOCKS = {
    "text": {"text"},
    "tool_use": {"id", "name", "input"},
    "thinking": {"thinking", "signature"},
}
ANTHROPIC_DELTAS = {
    "text_delta": {"text"},
    "input_json_delta": {"partial_json"},
    "thinking_delta": {"thinking"},
    "signature_delta": {"signature"},
}


@pytest.mark.parametrize("stream", ANTHROPIC, ids=ids(ANTHROPIC))
def test_anthropic_frames_have_required_fields(stream: dict[str, Any]) -> None:
    """Every Anthropic event carries the fields the Messages API documents for its type."""
    for raw in payloads(stream):
        assert ANTHROPIC_REQUIRED[raw["type"]] | {"type"} == raw.keys()
        if raw["type"] == "message_start":
            message = raw["message"]
            assert {
                "id",
                "type",
                "role",
                "content",
                "model",
                "stop_reason",
                "usage",
            } <= message.keys()
            assert {"input_tokens", "output_tokens"} <= message["usage"].keys()
        elif raw["type"] == "content_block_start":
            block = raw["content_block"]
            assert ANTHROPIC_BLOCKS[block["type"]] | {"type"} == block.keys()
        elif raw["type"] == "content_block_delta":
            delta = raw["delta"]
            assert ANTHROPIC_DELTAS[delta["type"]] | {"type"} == delta.keys()
        elif raw["type"] == "message_delta":
            assert {"stop_reason", "stop_sequence"} <= raw["delta"].keys()
            assert "output_tokens" in raw["usage"]
        elif raw["type"] == "error":
            assert {"type", "message"} <= raw["error"].keys()


def test_anthropic_frames_validate_with_sdk() -> None:
    """With the anthropic SDK installed, every event is a strict `RawMessageStreamEvent` (else skip)."""
    types = pytest.importorskip("anthropic.types", reason="anthropic is not a dependency")
    errors = pytest.importorskip("anthropic.types.shared.error_response")
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(types.RawMessageStreamEvent)
    for stream in ANTHROPIC:
        for raw in payloads(stream):
            if raw["type"] == "error":
                errors.ErrorResponse.model_validate(raw, strict=True)
            elif raw["type"] != "ping":
                event = adapter.validate_python(raw, strict=True)
                assert list(no_unknown_fields(event)) == [], stream["id"]


@pytest.mark.parametrize("stream", ANTHROPIC, ids=ids(ANTHROPIC))
def test_anthropic_lifecycle(stream: dict[str, Any]) -> None:
    """message_start comes first, blocks open and close in order, and message_stop (or error) ends it."""
    raw = payloads(stream)
    kinds = [p["type"] for p in raw]
    assert kinds[0] == "message_start" and "ping" in kinds
    opened = [p["index"] for p in raw if p["type"] == "content_block_start"]
    closed = [p["index"] for p in raw if p["type"] == "content_block_stop"]
    assert opened == list(range(len(opened)))
    if stream["errored"]:
        assert kinds[-1] == "error" and raw[-1] == stream["error"]
        assert closed == opened[:-1] and "message_stop" not in kinds
    else:
        assert closed == opened and kinds[-2:] == ["message_delta", "message_stop"]
        assert raw[-2]["delta"]["stop_reason"] == stream["finish_reason"]


# --- content: deltas, documents, models ---------------------------------------------------------


@pytest.mark.parametrize("stream", STREAMS, ids=ids(STREAMS))
def test_deltas_reproduce_manifest_text(stream: dict[str, Any]) -> None:
    """Concatenating each output's deltas gives exactly the manifest's text, and nothing else streams."""
    collected = {k: "".join(v) for k, v in collect_deltas(stream).items() if k[0] != "signature"}
    expected = {manifest_key(o): o["text"] for o in stream["outputs"]}
    assert collected == expected


@pytest.mark.parametrize(("stream", "output"), COMPLETE_DOCS, ids=output_ids(COMPLETE_DOCS))
def test_complete_outputs_equal_source_document(
    stream: dict[str, Any], output: dict[str, Any]
) -> None:
    """A complete output parses to exactly its source document."""
    assert json.loads(output["text"]) == json.loads(document(output))


@pytest.mark.parametrize(("stream", "output"), COMPLETE_DOCS, ids=output_ids(COMPLETE_DOCS))
def test_complete_outputs_validate_with_pydantic_model(
    stream: dict[str, Any], output: dict[str, Any]
) -> None:
    """A complete output validates with the model the manifest names for it."""
    model = getattr(fixture_models(), output["pydantic_model"])
    assert model.model_validate_json(output["text"]) == model.model_validate_json(document(output))


@pytest.mark.parametrize(("stream", "output"), TRUNCATED_DOCS, ids=output_ids(TRUNCATED_DOCS))
def test_truncated_outputs_are_strict_prefixes(
    stream: dict[str, Any], output: dict[str, Any]
) -> None:
    """A truncated output is a proper prefix of its document's JSON and does not parse."""
    assert stream["truncated"]
    text = strip_ws(output["text"])
    assert (
        text and strip_ws(document(output)).startswith(text) and text != strip_ws(document(output))
    )
    with pytest.raises(json.JSONDecodeError):
        json.loads(output["text"])


TRUNCATED_INSIDE = [(s, o) for s, o in TRUNCATED_DOCS if "truncated_inside" in s]


@pytest.mark.parametrize(("stream", "output"), TRUNCATED_INSIDE, ids=output_ids(TRUNCATED_INSIDE))
def test_truncation_point_matches_manifest(stream: dict[str, Any], output: dict[str, Any]) -> None:
    """A stream marked `truncated_inside` stops in the middle of a number or of a string."""
    text = strip_ws(output["text"])
    following = strip_ws(document(output))[len(text)]
    numeric = "0123456789.eE+-"
    if stream["truncated_inside"] == "number":
        assert text[-1] in numeric and following in numeric
    else:
        assert _inside_string(text) and text[-1] != '"' and following != '"'


def _inside_string(text: str) -> bool:
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
    return in_string


@pytest.mark.parametrize("stream", STREAMS, ids=ids(STREAMS))
def test_delta_lengths(stream: dict[str, Any]) -> None:
    """Deltas are 1-12 characters, apart from the empty placeholder some APIs send first."""
    for key, deltas in collect_deltas(stream).items():
        if key[0] == "signature":
            continue
        body = deltas[1:] if deltas[0] == "" else deltas
        assert all(1 <= len(d) <= 12 for d in body), key


def test_mean_delta_length_is_about_four() -> None:
    """Across all fixtures the average delta is about 4 characters, like real tokens."""
    lengths = [
        len(d)
        for s in STREAMS
        for k, deltas in collect_deltas(s).items()
        if k[0] != "signature"
        for d in deltas
        if d
    ]
    assert 3.5 <= sum(lengths) / len(lengths) <= 4.5


def _boundary_kinds(text: str, deltas: list[str]) -> set[str]:
    """Which awkward places of `text` the delta boundaries fall on."""
    cuts = set()
    pos = 0
    for d in deltas[:-1]:
        pos += len(d)
        cuts.add(pos)
    kinds = set()
    spans = escape_spans(text)
    for (start, end), nxt in zip(spans, [*spans[1:], None], strict=True):
        if text[start + 1] == "u":
            if any(start < c < end for c in cuts):
                kinds.add("unicode_escape")
            high = 0xD800 <= int(text[start + 2 : end], 16) <= 0xDBFF
            if high and nxt and nxt[0] == end and end in cuts:
                kinds.add("surrogate_pair")
        elif start + 1 in cuts:
            kinds.add("short_escape")
    inside = {i for s, e in spans for i in range(s, e)}
    for c in cuts - inside:
        ch = text[c]
        if unicodedata.combining(ch):
            kinds.add("combining_mark")
        elif ch == "\u200d" or 0x1F3FB <= ord(ch) <= 0x1F3FF or 0xFE00 <= ord(ch) <= 0xFE0F:
            kinds.add("grapheme_cluster")
        elif 0x1F1E6 <= ord(ch) <= 0x1F1FF and 0x1F1E6 <= ord(text[c - 1]) <= 0x1F1FF:
            kinds.add("grapheme_cluster")
    return kinds


FORCED = [s for s in STREAMS if s["forced_splits"]]


@pytest.mark.parametrize("stream", FORCED, ids=ids(FORCED))
def test_forced_splits_land_inside_escapes(stream: dict[str, Any]) -> None:
    """Declared forced splits really cut inside \\uXXXX escapes, surrogate pairs and grapheme clusters."""
    assert {"unicode_escape", "surrogate_pair", "short_escape", "combining_mark"} <= set(
        stream["forced_splits"]
    )
    deltas = next(
        v for k, v in collect_deltas(stream).items() if k[0] in ("content", "output_text", "text")
    )
    assert set(stream["forced_splits"]) <= _boundary_kinds("".join(deltas), deltas)


@pytest.mark.parametrize("stream", FORCED, ids=ids(FORCED))
def test_sdk_decoder_handles_bytewise_transport(stream: dict[str, Any]) -> None:
    """openai's SSEDecoder reassembles the frames when the bytes arrive one at a time."""
    body = (FIXTURES / stream["file"]).read_bytes()
    events = list(SSEDecoder().iter_bytes(iter([body[i : i + 1] for i in range(len(body))])))
    assert [(e.event, e.data) for e in events] == list(frames(stream["id"]))


# --- finish reasons and usage -----------------------------------------------------------------


@pytest.mark.parametrize("stream", STREAMS, ids=ids(STREAMS))
def test_usage_matches_manifest(stream: dict[str, Any]) -> None:
    """The stream's final usage object is the one recorded in the manifest."""
    raw = payloads(stream)
    if stream["format"] == "openai_chat":
        usage = [p["usage"] for p in raw if p.get("usage")]
        assert usage == ([stream["usage"]] if stream["usage"] else [])
        if usage:
            assert raw[-1]["choices"] == [] and raw[-1]["usage"] == stream["usage"]
    elif stream["format"] == "openai_responses":
        final = raw[-1].get("response", {}).get("usage")
        assert final == stream["usage"]
    else:
        deltas = [p["usage"] for p in raw if p["type"] == "message_delta"]
        assert deltas == ([stream["usage"]] if stream["usage"] else [])
    if stream["usage"] and "total_tokens" in stream["usage"]:
        prompt = stream["usage"].get("prompt_tokens", stream["usage"].get("input_tokens"))
        completion = stream["usage"].get("completion_tokens", stream["usage"].get("output_tokens"))
        assert stream["usage"]["total_tokens"] == prompt + completion


@pytest.mark.parametrize("stream", CHAT, ids=ids(CHAT))
def test_chat_finish_reason_matches_manifest(stream: dict[str, Any]) -> None:
    """Exactly one chunk carries a finish_reason, the manifest's (none for an errored stream)."""
    reasons = [
        c["finish_reason"] for r in chunks(stream) for c in r["choices"] if c["finish_reason"]
    ]
    assert reasons == ([stream["finish_reason"]] if stream["finish_reason"] else [])
