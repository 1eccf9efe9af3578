"""The live page in real Chromium: the object it renders, the stop button, reconnects."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import openai
import pytest

from streamdantic import stream_to_object
from streamdantic._cli.examples import example, examples
from streamdantic._cli.replay import ReplayServer
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


ATTACKER_PAGE = """<!doctype html><title>elsewhere</title>
<iframe name="sink"></iframe>
<form id="form" method="POST" enctype="text/plain" target="sink"></form>
<script>
window.attack = async (app) => {
  const body = JSON.stringify({ example: "recipe", prompt: "attacker's prompt" });
  const tries = [
    fetch(app + "api/streams", { method: "POST", mode: "no-cors", body,
      headers: { "Content-Type": "text/plain" } }).then(() => "sent", (e) => String(e)),
    fetch(app + "api/streams", { method: "POST", mode: "cors", body,
      headers: { "Content-Type": "application/json" } }).then(() => "read", (e) => "blocked"),
  ];
  const form = document.getElementById("form");
  form.action = app + "api/streams";
  const input = document.createElement("input");
  input.name = '{"example": "recipe", "x": "';
  input.value = '"}';
  form.append(input);
  const loaded = new Promise((resolve) => { document.querySelector("iframe").onload = resolve; });
  form.submit();
  await loaded;
  return Promise.all(tries);
};
</script>"""


@pytest.fixture
def elsewhere() -> Any:
    """Another origin on this machine (another port): a page that attacks the app."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = ATTACKER_PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_another_site_cannot_start_a_generation(serve: Any, page: Any, elsewhere: str) -> None:
    """From a second origin, a no-cors fetch, a CORS JSON fetch and a text/plain form post to
    the app all fail to start a generation (refused by the app, or blocked by the browser)."""
    server = serve(speed=0)
    statuses: list[tuple[str, int]] = []
    page.on(
        "response",
        lambda r: (
            statuses.append((r.request.method, r.status)) if "/api/streams" in r.url else None
        ),
    )
    page.goto(elsewhere)
    results = page.evaluate("(app) => window.attack(app)", server.url)
    assert results == ["sent", "blocked"]  # the browser sent the no-cors one; CORS stopped one
    assert server.state.generations == {}
    assert server.replay.requests == []  # the model was never asked
    posts = [status for method, status in statuses if method == "POST"]
    assert sorted(posts) == [403, 403], statuses  # the no-cors fetch and the form
    # The page itself still works.
    generate(page, server.url, "numbers")
    assert rendered_final(page) == python_result(server.replay, "numbers")


def test_the_page_locks_the_example_while_streaming_and_forgets_a_stop(
    serve: Any, page: Any
) -> None:
    """While a stream runs, the example selector (and prompt) are locked, so the stream is
    never drawn under another example's schema; a run after Stop shows no stale 'Stopped'."""
    server = serve(speed=40, hold_after=80)
    generate(page, server.url, "recipe")
    wait_until(server.replay.held.is_set, 30)
    assert page.is_disabled("#example") and page.is_disabled("#prompt")
    page.click("#stop")
    page.wait_for_function("window.streamdanticPage.stopped !== undefined")
    assert "Stopped" in page.text_content("#source")
    server.replay.release()
    assert page.is_enabled("#example")
    page.select_option("#example", "numbers")  # the same page, no reload
    page.click("#start")
    assert rendered_final(page) == python_result(server.replay, "numbers")
    assert page.text_content("#status") == "done"
    assert "Stopped" not in page.text_content("#source")
    assert page.is_enabled("#example")
    keys = page.eval_on_selector_all(
        "#tree > ul > li > .key", "nodes => nodes.map(n => n.textContent)"
    )
    assert keys == list(example("numbers").model.model_fields)
