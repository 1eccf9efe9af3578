"""What ResumableStreams refuses, on real uvicorn: bad Last-Event-IDs (400, on both stores
and on a source-backed response), requests its `authorize` hook denies (403), and two
instances in one app keeping their own routes."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from streamdantic import astream
from streamdantic.sse import MemoryStore, RedisStore, ServerSentEvent, Store, connect
from streamdantic.starlette import Action, EventStreamResponse, ResumableStreams

from .apps import BOOK_TEXTS, gated_app, health, pieces, slow_text
from .servers import serve_in_thread, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


BOOK = json.loads(BOOK_TEXTS[0])


def book() -> Any:
    return astream(slow_text(pieces(BOOK_TEXTS[0], longest=12), 0))


# ------------------------------------------------------------------------- Last-Event-ID

BAD_IDS = [
    pytest.param("1" * 4301, id="4301-digits"),  # int() refuses it (sys.get_int_max_str_digits)
    pytest.param("9" * 10_000, id="10000-digits"),
    pytest.param(str(2**64), id="2**64"),  # past a Redis stream entry id
    pytest.param(str(2**63), id="2**63"),
    pytest.param("-1", id="negative"),
    pytest.param("1.5", id="fraction"),
    pytest.param("1e3", id="exponent"),
    pytest.param("\u0661\u0662", id="arabic-digits"),
    pytest.param("12 x", id="trailing-text"),
]


@pytest.fixture(params=["memory", "redis"])
def store_app(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """A ResumableStreams app on either store, with one finished stream: (base URL, id)."""
    store: Store
    if request.param == "memory":
        store = MemoryStore()
    else:
        store = RedisStore.from_url(
            request.getfixturevalue("redis_url"), prefix=f"test-{uuid.uuid4().hex}"
        )
    streams = ResumableStreams(lambda request: book(), store=store)

    async def source(request: Request) -> Response:
        return EventStreamResponse(book())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with streams:
            yield
        if isinstance(store, RedisStore):
            await store.aclose()

    routes = [Route("/health", health), Route("/source", source), *streams.routes]
    with serve_in_thread(Starlette(routes=routes, lifespan=lifespan)) as url:
        stream_id = httpx.post(url + "/streams").json()["stream_id"]
        with httpx.Client(base_url=url, timeout=10) as client:
            with connect(client, f"/streams/{stream_id}") as updates:
                for _ in updates:
                    pass
        yield url, stream_id


@pytest.mark.parametrize("value", BAD_IDS)
@pytest.mark.parametrize("where", ["header", "query"])
def test_a_bad_last_event_id_gets_400_on_either_store(
    store_app: tuple[str, str], value: str, where: str
) -> None:
    """A Last-Event-ID (header or last_event_id parameter) that is not a frame id from 0 to
    2**63 - 1 gets 400 with a JSON detail, never a 500."""
    url, stream_id = store_app
    with httpx.Client(base_url=url, timeout=10) as client:
        if where == "header":
            answer = client.get(f"/streams/{stream_id}", headers={"Last-Event-ID": value.encode()})
        else:
            answer = client.get(f"/streams/{stream_id}", params={"last_event_id": value})
    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert detail.startswith("malformed Last-Event-ID") and str(2**63 - 1) in detail
    assert len(detail) < 400  # a huge value is not echoed back whole


def test_the_largest_frame_id_is_a_valid_position(store_app: tuple[str, str]) -> None:
    """2**63 - 1 (and leading zeros) are positions: past the end of a finished stream, 204."""
    url, stream_id = store_app
    for value in (str(2**63 - 1), "0" * 5000 + "7000"):
        answer = httpx.get(f"{url}/streams/{stream_id}", headers={"Last-Event-ID": value.encode()})
        assert answer.status_code == 204


@pytest.mark.parametrize("value", BAD_IDS[:4])
def test_a_source_backed_response_refuses_a_bad_last_event_id_with_400(
    store_app: tuple[str, str], value: str
) -> None:
    """A source-backed EventStreamResponse answers a malformed Last-Event-ID with 400 (not
    the 409 of a well-formed resume)."""
    url, _ = store_app
    answer = httpx.get(f"{url}/source", headers={"Last-Event-ID": value.encode()})
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("malformed Last-Event-ID")
    assert httpx.get(f"{url}/source", headers={"Last-Event-ID": "3"}).status_code == 409


# ----------------------------------------------------------------------------- route names


def test_two_instances_in_one_app_keep_their_own_routes() -> None:
    """ResumableStreams at /a and /b in one app: each POST answers a URL under its own
    prefix, each stream is read under it, and url_for finds each by its name."""
    a = ResumableStreams(lambda request: book(), prefix="/a")
    b = ResumableStreams(lambda request: book(), prefix="/b")

    async def names(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                name: str(request.url_for(name, stream_id="X"))
                for name in ("a", "a_cancel", "b", "b_delete")
            }
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with a, b:
            yield

    app = Starlette(
        routes=[Route("/health", health), Route("/names", names), *a.routes, *b.routes],
        lifespan=lifespan,
    )
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        for prefix in ("/a", "/b"):
            answer = client.post(prefix)
            stream_id = answer.json()["stream_id"]
            assert (
                answer.json()["url"] == answer.headers["location"] == f"{url}{prefix}/{stream_id}"
            )
            with connect(client, answer.json()["url"]) as updates:
                for _ in updates:
                    pass
            assert updates.final == BOOK
            other = "/b" if prefix == "/a" else "/a"
            assert client.get(f"{other}/{stream_id}").status_code == 404
        assert client.get("/names").json() == {
            "a": f"{url}/a/X",
            "a_cancel": f"{url}/a/X/cancel",
            "b": f"{url}/b/X",
            "b_delete": f"{url}/b/X",
        }


def test_the_location_is_right_under_a_named_mount() -> None:
    """Under Mount("/api", name="api") the POST's URL is that of the stream (no route name
    lookup that the mount's namespace would break)."""
    streams = ResumableStreams(lambda request: book(), name="chats")
    app = Starlette(
        routes=[Route("/health", health), Mount("/api", routes=streams.routes, name="api")],
        lifespan=streams.lifespan,
    )
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        answer = client.post("/api/streams?x=1")
        assert answer.status_code == 201
        stream_url = answer.json()["url"]
        assert stream_url == f"{url}/api/streams/{answer.json()['stream_id']}"
        assert client.get(stream_url).status_code == 200


# ------------------------------------------------------------------------------ authorize


class CountingStore(MemoryStore):
    """A MemoryStore that counts the calls a request could make on a stream's behalf."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    async def create(self, stream_id: str, /) -> None:
        self.calls.append("create")
        await super().create(stream_id)

    async def read(self, stream_id: str, /, after: int = 0, *, wait: float = 0.0) -> Any:
        self.calls.append("read")
        return await super().read(stream_id, after, wait=wait)

    async def cancel(self, stream_id: str, /) -> bool:
        self.calls.append("cancel")
        return await super().cancel(stream_id)

    async def append(self, stream_id: str, frame: ServerSentEvent, /) -> None:
        await super().append(stream_id, frame)


@pytest.fixture
def owned() -> Iterator[tuple[str, CountingStore, list[tuple[str | None, str]]]]:
    """An app whose streams belong to the user of the X-User header: alice may start
    streams (POST /streams, held until POST /release) and read and cancel hers; bob may
    do nothing; no X-User gets 401. Yields (URL, store, the hook's calls)."""
    store = CountingStore()
    calls: list[tuple[str | None, str]] = []
    owners: dict[str, str] = {}

    async def authorize(request: Request, stream_id: str | None, action: Action) -> bool:
        calls.append((stream_id, action))
        user = request.headers.get("x-user")
        if user is None:
            raise HTTPException(401, headers={"WWW-Authenticate": "X-User"})
        if action == "start":
            return user == "alice"
        return stream_id is not None and owners.get(stream_id) == user

    app = gated_app(store, authorize=authorize)

    async def record(request: Request) -> Response:  # the app ties a stream to its user
        owners[request.path_params["stream_id"]] = request.headers["x-user"]
        return Response(status_code=204)

    app.router.routes.append(Route("/own/{stream_id}", record, methods=["POST"]))
    with serve_in_thread(app) as url:
        yield url, store, calls


def test_authorize_guards_start(
    owned: tuple[str, CountingStore, list[tuple[str | None, str]]],
) -> None:
    """POST /streams asks authorize(request, None, "start") before calling `start` or the
    store: bob gets 403, no user 401 (an HTTPException), alice 201."""
    url, store, calls = owned
    with httpx.Client(base_url=url, timeout=10) as client:
        bob = client.post("/streams", headers={"X-User": "bob"})
        nobody = client.post("/streams")
        assert (bob.status_code, nobody.status_code) == (403, 401)
        assert bob.json() == {"detail": "not allowed to start a stream"}
        assert nobody.headers["www-authenticate"] == "X-User"
        assert client.get("/stats").json()["started"] == 0 and store.calls == []
        assert client.post("/streams", headers={"X-User": "alice"}).status_code == 201
        assert client.get("/stats").json()["started"] == 1
    assert calls == [(None, "start")] * 3


def test_authorize_guards_read_and_cancel(
    owned: tuple[str, CountingStore, list[tuple[str | None, str]]],
) -> None:
    """GET and both cancel routes ask authorize(request, id, "read" / "cancel") before the
    store: bob gets 403 for alice's stream (and for one that does not exist, so a 403 says
    nothing about existence), and the generation goes on; alice reads and cancels it."""
    url, store, calls = owned
    alice, bob = {"X-User": "alice"}, {"X-User": "bob"}
    with httpx.Client(base_url=url, timeout=10) as client:
        stream_id = client.post("/streams", headers=alice).json()["stream_id"]
        client.post(f"/own/{stream_id}", headers=alice)
        calls.clear()
        store.calls.clear()
        denied = [
            client.get(f"/streams/{stream_id}", headers=bob),
            client.get("/streams/nope", headers=bob),
            client.delete(f"/streams/{stream_id}", headers=bob),
            client.post(f"/streams/{stream_id}/cancel", headers=bob),
        ]
        assert [answer.status_code for answer in denied] == [403] * 4
        assert denied[0].json() == {"detail": "not allowed to read this stream"}
        assert denied[2].json() == {"detail": "not allowed to cancel this stream"}
        assert store.calls == []
        assert calls == [
            (stream_id, "read"),
            ("nope", "read"),
            (stream_id, "cancel"),
            (stream_id, "cancel"),
        ]
        assert client.get("/stats").json()["running"] == 1
        assert client.delete(f"/streams/{stream_id}", headers=alice).status_code == 202
        wait_until(lambda: client.get("/stats").json()["running"] == 0, 10, "the cancel")
        read = client.get(f"/streams/{stream_id}", headers=alice)
        assert read.status_code == 200 and '"type":"cancelled"' in read.text
        assert store.calls == ["cancel", "read"]


def test_authorize_may_be_sync_and_allow_everything_it_is_asked() -> None:
    """A sync hook that returns True lets every route through, unchanged."""
    seen: list[str] = []

    def authorize(request: Request, stream_id: str | None, action: Action) -> bool:
        seen.append(action)
        return True

    streams = ResumableStreams(lambda request: book(), authorize=authorize)
    app = Starlette(routes=[Route("/health", health), *streams.routes], lifespan=streams.lifespan)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        stream_url = client.post("/streams").json()["url"]
        with connect(client, stream_url) as updates:
            for _ in updates:
                pass
        assert client.delete(stream_url).status_code == 404  # it ended: nothing to cancel
    assert seen[0] == "start" and seen[-1] == "cancel" and set(seen[1:-1]) == {"read"}
    assert updates.final == BOOK
