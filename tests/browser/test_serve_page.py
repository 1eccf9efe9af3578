"""The live page in real Chromium: the object it renders, the stop button, reconnects."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import openai
import pytest

from streamdantic import stream_to_object
from streamdantic._examples import example, examples
from streamdantic._replay import ReplayServer
from tests.browser.conftest import wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "img" / "serve-midstream.png"


def python_result(replay: ReplayServer, name: str) -> Any:
    """The final object as streamdantic builds it in Python from the same replayed stream."""
    ex = example(name)
    with openai.OpenAI(base_url=replay.base_url, api_key="k", max_retries=0) as client:
        sdk_stream = client.chat.completions.create(
            model="gpt-4.1", messages=ex.messages, response_format=ex.response_format, stream=True
        )
        final = stream_to_object(sdk_stream, ex.model)
    return json.loads(final.model_dump_json())


def generate(page: Any, url: str, name: str, transport: str | None = None) -> None:
    page.goto(url + (f"?transport={transport}" if transport else ""))
    page.wait_for_function("window.streamdanticPage && window.streamdanticPage.ready")
    page.select_option("#example", name)
    page.click("#start")


def rendered_final(page: Any) -> Any:
    page.wait_for_function("window.streamdanticPage.final !== undefined", timeout=15_000)
    page.wait_for_function("document.getElementById('final').textContent.startsWith('{')")
    return json.loads(page.text_content("#final"))


@pytest.mark.parametrize("name", list(examples()))
def test_page_renders_the_final_object_python_builds(serve: Any, page: Any, name: str) -> None:
    """The final object on the page equals streamdantic's in Python, and every field shown
    ends complete."""
    server = serve(speed=0)
    generate(page, server.url, name)
    assert rendered_final(page) == python_result(server.replay, name)
    merged = page.evaluate("JSON.stringify(window.streamdanticPage.stream.value)")
    assert json.loads(merged) == json.loads(example(name).text)  # the deltas merged exactly
    states = page.eval_on_selector_all("#tree li", "items => items.map(i => i.dataset.state)")
    assert states and set(states) == {"complete"}
    assert page.text_content("#status") == "done"


def test_stop_cancels_the_generation_on_the_server(serve: Any, page: Any, tmp_path: Path) -> None:
    """The stop button cancels the server-side generator (which records it) and the model
    request; the page keeps the partial object and gets no final one."""
    # The model's reply holds before frame 80 (of 108) until released: the stream is still
    # running after the screenshot (slow on a busy machine) when Stop is clicked, however
    # slow the machine is.
    server = serve(speed=40, hold_after=80)
    generate(page, server.url, "recipe")
    wait_until(server.replay.held.is_set, 30)
    page.wait_for_function(
        "window.streamdanticPage.stream && window.streamdanticPage.stream.updates >= 30"
    )
    shot = SCREENSHOT if os.environ.get("STREAMDANTIC_UPDATE_SCREENSHOT") else tmp_path / "mid.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))
    assert page.eval_on_selector_all("#tree li[data-state='streaming']", "items => items.length")
    assert page.text_content("#status") == "open"  # still streaming
    page.click("#stop")
    page.wait_for_function("window.streamdanticPage.stopped !== undefined")
    assert page.evaluate("window.streamdanticPage.stopped") == {"cancelled": True}
    stream_id = page.evaluate("window.streamdanticPage.id")
    generation = server.state.generations[stream_id]
    wait_until(lambda: generation.state == "cancelled")
    assert generation.cancelled  # recorded by the generator itself
    server.replay.release()  # the held reply writes on, into the closed connection
    wait_until(lambda: server.replay.disconnects == 1)  # the model's response was closed
    assert page.text_content("#status") == "stopped"
    assert page.evaluate("window.streamdanticPage.final") is None
    assert "cancelled the generation" in page.text_content("#source")


@pytest.mark.parametrize("transport", ["eventsource", "fetch"])
def test_forced_reconnect_mid_stream_ends_with_the_same_object(
    serve: Any, page: Any, transport: str
) -> None:
    """A connection dropped mid-stream resumes from Last-Event-ID and the page ends with
    the object Python builds."""
    server = serve(speed=400, drop_after=12)
    generate(page, server.url, "recipe", transport)
    assert rendered_final(page) == python_result(server.replay, "recipe")
    assert page.evaluate("window.streamdanticPage.stream.reconnects") >= 1
    log = server.middleware.log
    assert len(log) >= 2 and log[0][1] is None
    resumed = [int(position) for _, position in log[1:] if position]
    assert resumed and resumed[0] >= 11  # the browser resumed after what it had received
