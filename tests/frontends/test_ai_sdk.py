"""The Vercel AI SDK's own client code reads streamdantic's UI message and text streams.

A real uvicorn serves each fixture with ``EventStreamResponse(..., protocol="ai-sdk")``;
js/ui_message_stream.mjs reads it with ``DefaultChatTransport`` (what ``useChat`` uses)
and ``readUIMessageStream``, printing every message state the client shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from streamdantic.frontends import UIMessageStreamEncoder
from tests.frontends.fixtures import final_json, run_node
from tests.property.contract import extends

pytestmark = pytest.mark.integration

Served = Callable[[Callable[[Any], Any]], tuple[str, Any]]


def _read(url: str, *args: str) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    lines = run_node("ui_message_stream.mjs", url, *args)
    assert lines[-1] == {"kind": "end"}
    messages = [line["message"] for line in lines if line["kind"] == "message"]
    chunks = [line["type"] for line in lines if line["kind"] == "chunk"]
    errors = [line["error"] for line in lines if line["kind"] in ("error", "thrown")]
    return messages, chunks, errors


def _data(message: dict[str, Any]) -> list[Any]:
    return [part["data"] for part in message["parts"] if part["type"] == "data-object"]


@pytest.mark.parametrize("coalesce", ["default", "every-change"])
@pytest.mark.parametrize("name", ["records", "nested", "unicode"])
def test_object_rebuilt_by_read_ui_message_stream(served: Served, name: str, coalesce: str) -> None:
    """The client's data part ends as the Python final object, one part (by id) throughout,
    and every state it shows extends the one before (nothing taken back)."""
    if coalesce == "default":
        url, _ = served(lambda body: "ai-sdk")
    else:
        url, _ = served(lambda body: UIMessageStreamEncoder(interval=0, growth=0))
    messages, chunks, errors = _read(f"{url}/stream/{name}")
    assert errors == []
    assert chunks[:2] == ["start", "start-step"] and chunks[-2:] == ["finish-step", "finish"]
    shown = [_data(message) for message in messages]
    assert all(len(parts) <= 1 for parts in shown)  # one data part, replaced in place
    states = [parts[0] for parts in shown if parts]
    assert states[-1] == final_json(name)
    for old, new in zip(states, states[1:], strict=False):
        assert extends(new, old), (old, new)
    if coalesce == "every-change":
        assert len(states) > 20  # the client saw the object grow, not just its end


def test_prose_reasoning_and_tool_calls(served: Served) -> None:
    """Reasoning, text and tool calls arrive as the client's own parts, a failed tool as
    output-error, and usage in the message metadata."""
    url, _ = served(lambda body: "ai-sdk")
    messages, chunks, errors = _read(f"{url}/stream/agent")
    assert errors == []
    final = messages[-1]
    parts = [p for p in final["parts"] if p["type"] != "step-start"]
    assert [p["type"] for p in parts] == [
        "reasoning",
        "text",
        "tool-weather",
        "tool-weather",
        "text",
    ]
    assert parts[0]["text"] == "The user wants the weather; call the tool."
    assert parts[1]["text"] == "Let me look that up — ☀️."
    assert parts[2] | {"callProviderMetadata": None} == {
        "type": "tool-weather",
        "toolCallId": "call-1",
        "state": "output-available",
        "input": {"city": "Paris"},
        "output": {"temperature": 21, "sky": "clear"},
        "callProviderMetadata": None,
    } | ({"preliminary": parts[2]["preliminary"]} if "preliminary" in parts[2] else {})
    assert parts[3]["state"] == "output-error"
    assert parts[3]["errorText"] == "no such city: Atlantis"
    assert parts[4]["text"] == "It is 21 °C and clear in Paris."
    assert final["metadata"] == {
        "usage": {"inputTokens": 12, "outputTokens": 34, "totalTokens": 46}
    }
    assert "tool-input-delta" in chunks and "tool-output-error" in chunks


def test_error_mid_stream_is_an_error_chunk(served: Served) -> None:
    """A provider error mid-stream reaches the client as the protocol's error chunk, with
    the error's text, after the last partial object."""
    url, _ = served(lambda body: UIMessageStreamEncoder(interval=0, growth=0))
    messages, chunks, errors = _read(f"{url}/stream/error")
    assert errors == ["the provider is overloaded (529), retry later"]
    assert chunks[-1] == "error" and "finish" not in chunks
    states = [d[0] for d in map(_data, messages) if d]
    assert states and "note" not in states[-1]
    for old, new in zip(states, states[1:], strict=False):
        assert extends(new, old)


def test_cancelled_stream_is_an_abort_chunk(served: Served) -> None:
    """A stream cancelled on the server ends with the protocol's abort chunk."""
    url, _ = served(lambda body: "ai-sdk")
    _, chunks, errors = _read(f"{url}/stream/cancelled")
    assert errors == []
    assert chunks[-1] == "abort" and "finish" not in chunks


def test_client_abort_cancels_the_generation(served: Served) -> None:
    """When the client aborts (useChat's stop), the server closes the generation."""
    url, hang = served(lambda body: UIMessageStreamEncoder(interval=0, growth=0))
    lines = run_node("ui_message_stream.mjs", f"{url}/stream/hang", "3")
    assert {"kind": "aborting"} in lines
    assert hang.cancelled.wait(30), "the generation was not cancelled"


def test_text_stream_for_use_object(served: Served) -> None:
    """The text stream protocol is the JSON text: the AI SDK's partial-JSON parser (what
    useObject runs) shows growing objects and ends with the final object."""
    url, _ = served(lambda body: "ai-sdk-text")
    lines = run_node("text_stream.mjs", f"{url}/stream/unicode")
    assert lines[0] == {"kind": "headers", "contentType": "text/plain; charset=utf-8"}
    partials = [line["value"] for line in lines if line["kind"] == "partial"]
    import json

    assert json.loads(lines[-1]["text"]) == final_json("unicode")
    assert partials[-1] == final_json("unicode")
