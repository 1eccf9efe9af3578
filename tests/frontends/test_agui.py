"""AG-UI's own client (@ag-ui/client's HttpAgent) runs streamdantic's AG-UI event stream.

A real uvicorn serves each fixture with ``EventStreamResponse(..., protocol=AGUIEncoder(...))``;
js/agui_run.mjs runs it with ``HttpAgent``, which verifies the event sequence and applies
STATE_DELTA patches with fast-json-patch, printing the agent's state after every change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("ag_ui", reason="the agui extra (ag-ui-protocol) is not installed")

from streamdantic.frontends import AGUIEncoder
from tests.frontends.fixtures import final_json, run_node
from tests.property.contract import extends

pytestmark = pytest.mark.integration

Served = Callable[[Callable[[Any], Any]], tuple[str, Any]]


def _encoder(body: Any, **options: Any) -> AGUIEncoder:
    # The client's own thread and run ids, from its RunAgentInput.
    return AGUIEncoder(thread_id=body["threadId"], run_id=body["runId"], **options)


def _run(url: str, *args: str) -> tuple[list[dict[str, Any]], list[str]]:
    lines = run_node("agui_run.mjs", url, *args)
    assert lines[-1]["kind"] == "end"
    return lines, [line["type"] for line in lines if line["kind"] == "event"]


@pytest.mark.parametrize("interval", [None, 0.0], ids=["default", "every-change"])
@pytest.mark.parametrize("name", ["records", "nested", "unicode"])
def test_state_rebuilt_by_http_agent(served: Served, name: str, interval: float | None) -> None:
    """HttpAgent's state, built from one STATE_SNAPSHOT and JSON Patch deltas, ends as the
    Python final object, and every state it held extends the one before."""
    options = {} if interval is None else {"interval": interval}
    url, _ = served(lambda body: _encoder(body, **options))
    lines, events = _run(f"{url}/stream/{name}")
    assert [line for line in lines if line["kind"] == "thrown"] == []
    assert events[0] == "RUN_STARTED" and events[1] == "STATE_SNAPSHOT"
    assert events[-1] == "RUN_FINISHED"
    assert set(events) <= {"RUN_STARTED", "STATE_SNAPSHOT", "STATE_DELTA", "RUN_FINISHED"}
    states = [line["state"] for line in lines if line["kind"] == "state"]
    assert lines[-1]["state"] == final_json(name)
    for old, new in zip(states, states[1:], strict=False):
        assert extends(new, old), (old, new)
    if interval == 0.0:
        assert events.count("STATE_DELTA") > 20


def test_messages_reasoning_and_tool_calls(served: Served) -> None:
    """Prose, reasoning and tool calls become the agent's messages; usage ends the run."""
    url, _ = served(lambda body: _encoder(body))
    lines, events = _run(f"{url}/stream/agent")
    assert [line for line in lines if line["kind"] == "thrown"] == []
    messages = next(line["messages"] for line in lines if line["kind"] == "messages")
    new = [m for m in messages if m["role"] != "user"]
    assert [m["role"] for m in new] == ["reasoning", "assistant", "tool", "tool", "assistant"]
    reasoning = next(m for m in new if m["role"] == "reasoning")
    assert reasoning["content"] == "The user wants the weather; call the tool."
    texts = [m["content"] for m in new if m["role"] == "assistant" and m.get("content")]
    assert texts == ["Let me look that up — ☀️.", "It is 21 °C and clear in Paris."]
    calls = [c for m in new if m["role"] == "assistant" for c in m.get("toolCalls", [])]
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in calls] == [
        ("call-1", "weather", '{"city": "Paris"}'),
        ("call-2", "weather", '{"city": "Atlantis"}'),
    ]
    results = {m["toolCallId"]: m["content"] for m in new if m["role"] == "tool"}
    assert results == {
        "call-1": '{"temperature": 21, "sky": "clear"}',
        "call-2": "error: no such city: Atlantis",
    }
    finished = next(line for line in lines if line["kind"] == "run-finished")
    assert finished["usage"] == [{"inputTokens": 12, "outputTokens": 34, "totalTokens": 46}]
    assert "REASONING_START" in events and "TOOL_CALL_ARGS" in events


def test_error_mid_stream_is_run_error(served: Served) -> None:
    """A provider error mid-stream reaches the agent as RUN_ERROR with its text and type,
    after the last state."""
    url, _ = served(lambda body: _encoder(body, interval=0))
    lines, events = _run(f"{url}/stream/error")
    errors = [line for line in lines if line["kind"] == "run-error"]
    assert errors == [
        {
            "kind": "run-error",
            "message": "the provider is overloaded (529), retry later",
            "code": "provider_error",
        }
    ]
    assert events[-1] == "RUN_ERROR"
    states = [line["state"] for line in lines if line["kind"] == "state"]
    assert states and "note" not in states[-1]


def test_cancelled_stream_finishes_with_cancelled_outcome(served: Served) -> None:
    """A stream cancelled on the server ends the run with the "cancelled" outcome."""
    url, _ = served(lambda body: _encoder(body))
    lines, events = _run(f"{url}/stream/cancelled")
    finished = [line for line in lines if line["kind"] == "run-finished"]
    assert finished and finished[0]["outcome"] == {"type": "cancelled"}
    assert events[-1] == "RUN_FINISHED"


def test_client_abort_cancels_the_generation(served: Served) -> None:
    """When the agent aborts its run, the server closes the generation."""
    url, hang = served(lambda body: _encoder(body, interval=0))
    lines = run_node("agui_run.mjs", f"{url}/stream/hang", "3")
    assert {"kind": "aborting"} in lines
    assert hang.cancelled.wait(30), "the generation was not cancelled"
