"""`streamdantic serve`'s app without a browser: its routes, streams, cancel, and options."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx  # noqa: F401  (imported before the app's thread runs: see below)
import pytest
from starlette.testclient import TestClient

from streamdantic._cli.examples import example
from streamdantic._cli.replay import ReplayServer
from streamdantic._cli.serve import ServeConfig, create_app, run_serve
from streamdantic._cli.util import CommandError
from streamdantic.sse import SSEDecoder, connect

LOCAL = "http://127.0.0.1"  # the app answers only requests for this machine's names

# `streamdantic.sse.connect` imports httpx on first use, while the openai client in the
# app's thread looks it up in sys.modules: a first import racing with that lookup sees a
# half-initialized module. Importing it here, up front, takes the race away.


@pytest.fixture
def http() -> Iterator[TestClient]:
    with (
        ReplayServer(tokens_per_second=0) as replay,
        TestClient(create_app(ServeConfig(speed=0), replay=replay), base_url=LOCAL) as client,
    ):
        yield client


def frames(body: bytes) -> list[Any]:
    decoder = SSEDecoder()
    return [*decoder.feed(body), *decoder.close()]


def test_page_and_client_module_are_served(http: TestClient) -> None:
    """The page, its script, its style and the browser client come from package data."""
    page = http.get("/")
    assert page.status_code == 200 and '<script type="module" src="/app.js">' in page.text
    module = http.get("/streamdantic.js")
    assert module.headers["content-type"].startswith("text/javascript")
    assert "export function connect" in module.text
    assert http.get("/style.css").status_code == 200
    assert http.get("/nope.js").status_code == 404


def test_examples_list_their_schema(http: TestClient) -> None:
    """/api/examples lists the bundled examples with their JSON schema and prompt."""
    info = http.get("/api/examples").json()
    assert not info["live"]
    names = [e["name"] for e in info["examples"]]
    assert names == ["recipe", "numbers", "unicode"]
    recipe = info["examples"][0]
    assert recipe["model"] == "Recipe" and "title" in recipe["schema"]["properties"]
    assert recipe["prompt"] == example("recipe").prompt


@pytest.mark.parametrize("name", ["recipe", "numbers", "unicode"])
def test_a_generation_streams_the_sse_profile(http: TestClient, name: str) -> None:
    """POST starts a generation; its events are delta frames and a final with the object."""
    started = http.post("/api/streams", json={"example": name})
    assert started.status_code == 201
    links = started.json()
    ex = example(name)
    with connect(http, links["events"], ex.model) as updates:
        for _ in updates:
            pass
    assert updates.final == ex.model.model_validate_json(ex.text)
    status = http.get(f"/api/streams/{links['id']}/status").json()
    assert status == {"id": links["id"], "example": name, "state": "done", "cancelled": False}


def test_resuming_after_an_id_sends_only_later_frames(http: TestClient) -> None:
    """Last-Event-ID: n gives frames n+1, n+2, ... of the stored stream."""
    links = http.post("/api/streams", json={"example": "recipe"}).json()
    opening, *whole = frames(http.get(links["events"]).content)
    again, *resumed = frames(http.get(links["events"], headers={"Last-Event-ID": "10"}).content)
    assert opening == again and opening.event == "stream"  # the same generation's token
    assert [f.id for f in resumed] == [f.id for f in whole][10:]
    assert whole[-1].event == "final"


def test_cancel_stops_the_generation_and_records_it() -> None:
    """The cancel route ends a slow generation with a cancelled error frame."""
    with (
        ReplayServer(tokens_per_second=20) as replay,
        TestClient(create_app(ServeConfig(speed=20), replay=replay), base_url=LOCAL) as http,
    ):
        links = http.post("/api/streams", json={"example": "unicode"}).json()
        time.sleep(0.3)
        answer = http.post(links["stop"])
        assert answer.status_code == 202
        generation = http.app.state.serve.generations[links["id"]]  # type: ignore[attr-defined]
        deadline = time.monotonic() + 5
        while generation.state != "cancelled":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert generation.cancelled
        last = frames(http.get(links["events"]).content)[-1]
        assert last.event == "error" and json.loads(last.data)["type"] == "cancelled"
        assert http.post(links["stop"]).status_code == 404  # no longer running


def test_unknown_example_is_404(http: TestClient) -> None:
    """Asking for an example that does not exist is a 404, not a generation."""
    assert http.post("/api/streams", json={"example": "nope"}).status_code == 404


def serve_args(**overrides: Any) -> argparse.Namespace:
    args = {
        "host": "127.0.0.1",
        "port": 0,
        "speed": 75.0,
        "open": False,
        "model": None,
        "base_url": None,
        "api_key": None,
        "schema": None,
        "prompt": None,
        "timeout": 60.0,
    }
    args.update(overrides)
    return argparse.Namespace(**args)


@pytest.mark.parametrize("flag", ["base_url", "api_key", "schema", "prompt"])
def test_serve_endpoint_options_need_a_model(flag: str) -> None:
    """Endpoint options without --model are a usage error."""
    with pytest.raises(CommandError, match="needs a real endpoint") as info:
        run_serve(serve_args(**{flag: "x"}))
    assert info.value.code == 2


def test_serve_reports_a_taken_port() -> None:
    """A port that is in use is one line with a hint, not a traceback."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"cannot listen on 127.0.0.1:{port}") as info:
            run_serve(serve_args(port=port))
    assert info.value.hint is not None and "--port" in info.value.hint


# ------------------------------------------------------------------------------ only this page


def test_a_foreign_host_header_is_refused(http: TestClient) -> None:
    """A request for another name (DNS rebinding: a site's name resolving to 127.0.0.1) gets
    400 and starts nothing; the loopback names are accepted."""
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example"):
        answer = http.post("/api/streams", json={"example": "recipe"}, headers={"Host": host})
        assert answer.status_code == 400, host
        assert http.get("/", headers={"Host": host}).status_code == 400
    assert not http.app.state.serve.generations  # type: ignore[attr-defined]
    for host in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000"):
        assert http.get("/api/examples", headers={"Host": host}).status_code == 200, host


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({"Origin": "http://evil.example"}, 403, id="foreign-origin"),
        pytest.param({"Origin": "http://127.0.0.1:9999"}, 403, id="other-port"),
        pytest.param({"Origin": "null"}, 403, id="opaque-origin"),
        pytest.param({"Sec-Fetch-Site": "cross-site"}, 403, id="cross-site"),
        pytest.param({"Sec-Fetch-Site": "same-site"}, 403, id="same-site"),
        pytest.param({"Content-Type": "text/plain"}, 415, id="text-plain"),
        pytest.param(
            {"Content-Type": "application/x-www-form-urlencoded"}, 415, id="form-urlencoded"
        ),
    ],
)
def test_a_start_from_another_site_is_refused(
    http: TestClient, headers: dict[str, str], status: int
) -> None:
    """Starting a generation needs a same-origin JSON request: what another site's page can
    send (a no-cors fetch, a form post) is refused and starts nothing."""
    body = json.dumps({"example": "recipe"})
    answer = http.post(
        "/api/streams", content=body, headers={"Content-Type": "application/json", **headers}
    )
    assert answer.status_code == status
    assert "detail" in answer.json()
    assert not http.app.state.serve.generations  # type: ignore[attr-defined]


def test_the_page_own_requests_are_accepted(http: TestClient) -> None:
    """The page's own POST (Origin = this server, Sec-Fetch-Site same-origin) starts, and
    only such a request stops; a cross-site stop leaves the generation alone."""
    own = {"Origin": "http://127.0.0.1", "Sec-Fetch-Site": "same-origin"}
    started = http.post("/api/streams", json={"example": "recipe"}, headers=own)
    assert started.status_code == 201
    stop = started.json()["stop"]
    assert http.post(stop, headers={"Origin": "http://evil.example"}).status_code == 403
    assert (
        http.delete(
            stop.removesuffix("/cancel"), headers={"Sec-Fetch-Site": "cross-site"}
        ).status_code
        == 403
    )


def test_listening_on_every_interface_accepts_any_host() -> None:
    """The accepted hosts follow the address the app listens on."""
    from streamdantic._cli.serve import allowed_hosts

    assert allowed_hosts("127.0.0.1") == ["127.0.0.1", "localhost", "[::1]"]
    assert allowed_hosts("::1") == ["127.0.0.1", "localhost", "[::1]"]
    assert allowed_hosts("192.168.1.20") == ["127.0.0.1", "localhost", "[::1]", "192.168.1.20"]
    assert allowed_hosts("0.0.0.0") == ["*"]
