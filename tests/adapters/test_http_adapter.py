"""The raw-HTTP adapter (`streamdantic.adapters.http`): httpx + streamdantic's SSE decoder +
jiter, against the same replay server as the SDK tests, sync and async on both backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

import streamdantic as sd
from streamdantic.adapters import http as sd_http
from streamdantic.adapters._chat import ChatStreamDecoder
from tests.adapters.replay import FIXTURES, ReplayServer
from tests.adapters.support import (
    MODELS,
    STREAMS,
    TOOLS,
    Run,
    acollect,
    collect,
    contradicted_numbers,
    expected_object,
    grows,
    ids_where,
    model_for,
    outcome,
    piece_for,
)

CHAT = ids_where("openai_chat")
COMPLETE = ids_where("openai_chat", pydantic_model=bool, truncated=False, errored=False)
WITH_MODEL = ids_where("openai_chat", pydantic_model=bool)
WITH_USAGE = ids_where("openai_chat", usage=bool)
TOOL_CALLS = [i for i in CHAT if STREAMS[i]["outputs"][0]["kind"] == "tool_call"]


def _url(server: ReplayServer, stream_id: str, *, fine: bool = True, tag: str = "t") -> str:
    piece = piece_for(stream_id, fine=fine)
    return server.base_url(stream_id, piece=piece, tag=tag) + "/chat/completions"


def _body(stream_id: str) -> dict[str, Any]:
    return dict(STREAMS[stream_id]["request"])


# ------------------------------------------------------------- same as the SDK path


@pytest.mark.parametrize("stream_id", COMPLETE)
def test_final_object_equals_the_document(http_run: Callable[[str], Run], stream_id: str) -> None:
    """The final object is the fixture's document validated with its model."""
    run = http_run(stream_id)
    assert run.error is None
    assert run.final == expected_object(STREAMS[stream_id]["outputs"][0])


@pytest.mark.parametrize("stream_id", WITH_MODEL)
def test_partials_only_grow(http_run: Callable[[str], Run], stream_id: str) -> None:
    """Every typed partial extends the one before it (None meaning not yet)."""
    run = http_run(stream_id)
    assert len(run.dumps) > 3
    assert grows(run.dumps)


@pytest.mark.parametrize("stream_id", COMPLETE)
def test_no_partial_number_is_contradicted_by_the_final(
    http_run: Callable[[str], Run], stream_id: str
) -> None:
    """A number shown in any partial is the number the final object has at that path."""
    run = http_run(stream_id)
    assert contradicted_numbers(run.dumps, run.final) == []


def test_length_raises_truncated_stream_error_with_the_partial(
    http_run: Callable[[str], Run],
) -> None:
    """finish_reason "length" with the JSON cut mid-number raises TruncatedStreamError."""
    error = http_run("openai_chat/truncated_length").error
    assert isinstance(error, sd.TruncatedStreamError)
    assert error.finish_reason == "length"
    assert error.partial.sensor_id == "thermo-rig-07"


def test_content_filter_raises_content_filter_error(http_run: Callable[[str], Run]) -> None:
    """finish_reason "content_filter" raises ContentFilterError with the partial."""
    error = http_run("openai_chat/content_filter").error
    assert isinstance(error, sd.ContentFilterError)
    assert error.partial.title == "Weeknight shakshuka"


def test_refusal_raises_refusal_error_with_the_text(http_run: Callable[[str], Run]) -> None:
    """Refusal deltas make the stream raise RefusalError carrying the refusal text."""
    error = http_run("openai_chat/refusal").error
    assert isinstance(error, sd.RefusalError)
    assert error.refusal == STREAMS["openai_chat/refusal"]["outputs"][0]["text"]


def test_error_frame_raises_provider_error_keeping_the_partial(
    http_run: Callable[[str], Run],
) -> None:
    """A ``data: {"error": ...}`` frame raises ProviderError with the error and the partial."""
    error = http_run("openai_chat/error_midstream").error
    assert type(error) is sd.ProviderError
    assert error.code == "server_error"
    assert error.raw == STREAMS["openai_chat/error_midstream"]["error"]["error"]
    assert error.partial.author.name == "Dana Okafor"


@pytest.mark.parametrize("stream_id", WITH_USAGE)
def test_usage_is_reported(http_run: Callable[[str], Run], stream_id: str) -> None:
    """The final usage chunk arrives as a Usage part with its raw fields."""
    usage = http_run(stream_id).usage
    sent = STREAMS[stream_id]["usage"]
    assert usage is not None and usage.raw == sent
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (
        sent["prompt_tokens"],
        sent["completion_tokens"],
        sent["total_tokens"],
    )


@pytest.mark.parametrize("stream_id", TOOL_CALLS)
def test_tool_calls_give_validated_values(http_run: Callable[[str], Run], stream_id: str) -> None:
    """Each parallel call (sequential or interleaved) ends in ToolCallDone with typed arguments."""
    done = http_run(stream_id).of_type(sd.parts.ToolCallDone)
    expected = [(o["id"], o["name"], expected_object(o)) for o in STREAMS[stream_id]["outputs"]]
    assert [(d.call_id, d.name, d.value) for d in done] == expected


@pytest.mark.parametrize("stream_id", CHAT)
def test_http_path_gives_the_sdk_paths_outcome(
    http_run: Callable[[str], Run], sdk_run: Callable[[str], Run], stream_id: str
) -> None:
    """Parts, partials, final object and errors equal what the openai SDK adapter gives."""
    http, sdk = http_run(stream_id), sdk_run(stream_id)
    assert outcome(http) == outcome(sdk)
    assert http.dumps == sdk.dumps


@pytest.mark.parametrize("stream_id", CHAT)
@pytest.mark.anyio
async def test_async_gives_the_sync_outcome(
    http_run: Callable[[str], Run], replay_server: ReplayServer, stream_id: str
) -> None:
    """`astream_chat` gives what `stream_chat` gives."""
    s = sd_http.astream_chat(
        _url(replay_server, stream_id, fine=False),
        model_for(stream_id),
        json=_body(stream_id),
        tools=TOOLS,
    )
    run = await acollect(s, snapshots=stream_id != "openai_chat/orders_20k")
    assert outcome(run) == outcome(http_run(stream_id))
    assert grows(run.dumps)


def test_chat_events_feed_stream_to_object(replay_server: ReplayServer) -> None:
    """`chat_events` is a plain source of parts for `stream_to_object`."""
    parts = sd_http.chat_events(
        _url(replay_server, "openai_chat/small"), json=_body("openai_chat/small")
    )
    result = sd.stream_to_object(parts, MODELS.Recipe)
    assert result == expected_object(STREAMS["openai_chat/small"]["outputs"][0])


# --------------------------------------------------------------------------- request


def _last_body(server: ReplayServer, tag: str) -> Any:
    return next(body for path, body in reversed(server.requests) if f"/{tag}/" in path)


def test_request_asks_to_stream_with_a_strict_schema(replay_server: ReplayServer) -> None:
    """The body is sent with ``stream: true`` and the model's strict JSON-schema format."""
    url = _url(replay_server, "openai_chat/small", tag="schema")
    s = sd_http.stream_chat(url, MODELS.Recipe, json={"model": "m", "messages": []})
    assert collect(s).error is None
    body = _last_body(replay_server, "schema")
    assert body["stream"] is True
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["response_format"]["json_schema"]["name"] == "Recipe"


def test_request_keeps_its_own_response_format(replay_server: ReplayServer) -> None:
    """A ``response_format`` in the body (JSON mode for a server without schemas) is kept."""
    url = _url(replay_server, "openai_chat/small", tag="own-format")
    body = {"model": "m", "messages": [], "response_format": {"type": "json_object"}}
    collect(sd_http.stream_chat(url, MODELS.Recipe, json=body))
    assert _last_body(replay_server, "own-format")["response_format"] == {"type": "json_object"}


def test_client_target_posts_under_its_base_url(replay_server: ReplayServer) -> None:
    """An `httpx.Client` target with a ``.../v1`` base URL is sent to ``chat/completions``."""
    base = replay_server.base_url("openai_chat/small", piece=61, tag="client-target")
    with httpx.Client(base_url=base) as client:
        run = collect(sd_http.stream_chat(client, MODELS.Recipe, json=_body("openai_chat/small")))
        assert not client.is_closed  # the caller's client is left open
    assert run.final == expected_object(STREAMS["openai_chat/small"]["outputs"][0])
    path = next(p for p, _ in replay_server.requests if "/client-target/" in p)
    assert path.endswith("/v1/chat/completions")


def test_client_given_twice_is_a_type_error(replay_server: ReplayServer) -> None:
    """A client as the target and another as http_client is refused."""
    with httpx.Client() as one, httpx.Client() as two:
        parts = sd_http.chat_events(one, json={}, http_client=two)
        with pytest.raises(TypeError, match="not both"):
            next(parts)


# ---------------------------------------------------------------------------- errors


def test_non_2xx_raises_provider_error_with_the_message(replay_server: ReplayServer) -> None:
    """A 429 raises ProviderError with the status, the server's message and its code."""
    url = f"{replay_server.origin}/status/429/v1/chat/completions"
    with pytest.raises(sd.ProviderError) as info:
        list(sd_http.stream_chat(url, MODELS.Recipe, json={"model": "m", "messages": []}))
    message = str(info.value)
    assert "429 Too Many Requests" in message
    assert "Rate limit reached for requests" in message
    assert info.value.code == "rate_limit_exceeded"
    assert info.value.raw["error"]["type"] == "requests"


def test_wrong_content_type_raises_sse_error_with_an_excerpt(replay_server: ReplayServer) -> None:
    """A 200 that is not text/event-stream raises SSEError naming it and quoting the body."""
    url = f"{replay_server.origin}/html/v1/chat/completions"
    with pytest.raises(sd.SSEError) as info:
        list(sd_http.stream_chat(url, json={"model": "m", "messages": []}))
    assert "text/html" in str(info.value)
    assert "Welcome" in str(info.value)


@pytest.mark.anyio
async def test_async_non_2xx_raises_provider_error(replay_server: ReplayServer) -> None:
    """`astream_chat` raises ProviderError for a 500 as well."""
    url = f"{replay_server.origin}/status/500/v1/chat/completions"
    with pytest.raises(sd.ProviderError, match="500 Internal Server Error"):
        async for _ in sd_http.astream_chat(url, json={"model": "m", "messages": []}):
            pass


@pytest.mark.anyio
async def test_async_wrong_content_type_raises_sse_error(replay_server: ReplayServer) -> None:
    """`astream_chat` raises SSEError for a response that is not an event stream."""
    url = f"{replay_server.origin}/html/v1/chat/completions"
    with pytest.raises(sd.SSEError, match="text/html"):
        async for _ in sd_http.astream_chat(url, json={"model": "m", "messages": []}):
            pass


# ------------------------------------------------------------------------ early close


def test_early_close_releases_the_response(replay_server: ReplayServer) -> None:
    """Leaving the stream after one update closes the response (the server sees it go)."""
    responses: list[httpx.Response] = []
    # 7-byte writes of the 0.9 MB stream: the server is still writing when the client leaves.
    url = replay_server.base_url("openai_chat/orders_20k", piece=7, tag="close-sync")
    url += "/chat/completions"
    with httpx.Client(event_hooks={"response": [responses.append]}) as client:
        with sd_http.stream_chat(
            url, MODELS.OrderBatch, json={"model": "m", "messages": []}, http_client=client
        ) as s:
            next(iter(s))
        assert responses[0].is_closed
    assert replay_server.wait_for_disconnect("close-sync")


# On trio, httpx 0.28 leaves the async generators nested inside `Response.aiter_bytes` to the
# garbage collector when a body is left early, and trio warns about each (encode/httpx#3686).
@pytest.mark.filterwarnings("ignore:Async generator 'httpx.:ResourceWarning")
@pytest.mark.filterwarnings("ignore:Async generator 'httpcore.:ResourceWarning")
@pytest.mark.anyio
async def test_async_early_close_releases_the_response(replay_server: ReplayServer) -> None:
    """Leaving an async stream early closes the response, on asyncio and trio."""
    responses: list[httpx.Response] = []

    async def keep(response: httpx.Response) -> None:
        responses.append(response)

    tag = f"close-async-{len(replay_server.requests)}"
    url = replay_server.base_url("openai_chat/orders_20k", piece=7, tag=tag) + "/chat/completions"
    async with httpx.AsyncClient(event_hooks={"response": [keep]}) as client:
        async with sd_http.astream_chat(
            url, MODELS.OrderBatch, json={"model": "m", "messages": []}, http_client=client
        ) as s:
            async for _ in s:
                break
        assert responses[0].is_closed
    assert replay_server.wait_for_disconnect(tag)


# -------------------------------------------------------------------- sans-IO decoder


def _decode(data: bytes, piece: int) -> list[sd.parts.Part]:
    decoder = ChatStreamDecoder()
    parts: list[sd.parts.Part] = []
    for start in range(0, len(data), piece):
        parts += decoder.feed(data[start : start + piece])
    return parts + decoder.close()


@pytest.mark.parametrize("stream_id", ["openai_chat/unicode", "openai_chat/tool_calls_interleaved"])
def test_decoder_gives_the_same_parts_fed_byte_by_byte(stream_id: str) -> None:
    """Feeding one byte at a time (splitting every UTF-8 character) changes no part."""
    data = (FIXTURES / STREAMS[stream_id]["file"]).read_bytes()
    assert _decode(data, 1) == _decode(data, len(data))


def test_decoder_stops_at_done() -> None:
    """Frames after ``data: [DONE]`` are ignored."""
    decoder = ChatStreamDecoder()
    frame = b'data: {"choices": [{"index": 0, "delta": {"content": "x"}}]}\n\n'
    assert decoder.feed(frame + b"data: [DONE]\n\n" + frame) == [sd.parts.TextDelta("x")]
    assert decoder.done
    assert decoder.feed(frame) == []


@pytest.mark.parametrize(
    ("frame", "part"),
    [
        (
            b'data: {"error": {"message": "boom", "type": "server_error"}}\n\n',
            sd.parts.ProviderErrorPart(
                "boom", "server_error", {"message": "boom", "type": "server_error"}
            ),
        ),
        (
            b'data: {"error": "model not found"}\n\n',
            sd.parts.ProviderErrorPart("model not found", None, "model not found"),
        ),
        (
            b'event: error\ndata: {"message": "overloaded", "code": 503}\n\n',
            sd.parts.ProviderErrorPart("overloaded", "503", {"message": "overloaded", "code": 503}),
        ),
    ],
    ids=["openai", "bare-string", "event-error"],
)
def test_decoder_turns_error_frames_into_error_parts(frame: bytes, part: sd.parts.Part) -> None:
    """The error shapes OpenAI-compatible servers send become ProviderErrorPart."""
    assert ChatStreamDecoder().feed(frame) == [part]


def test_decoder_reads_compatible_servers_extras() -> None:
    """Reasoning fields of vLLM/Ollama and a tool call without an id are understood."""
    frames = (
        b'data: {"choices": [{"index": 0, "delta": {"reasoning_content": "hm"}}]}\n\n'
        b'data: {"choices": [{"index": 0, "delta": {"reasoning": "ok"}}]}\n\n'
        b'data: {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 2, '
        b'"function": {"name": "f", "arguments": "{}"}}]}}]}\n\n'
    )
    assert ChatStreamDecoder().feed(frames) == [
        sd.parts.ReasoningDelta("hm"),
        sd.parts.ReasoningDelta("ok"),
        sd.parts.ToolCallDelta("call_2", "{}", name="f", index=2),
    ]


def test_decoder_rejects_a_frame_that_is_not_json() -> None:
    """A data frame that is not JSON raises SSEError quoting it."""
    with pytest.raises(sd.SSEError, match="not JSON"):
        ChatStreamDecoder().feed(b"data: {nope\n\n")


def test_decoder_rejects_a_chunk_of_unknown_shape() -> None:
    """A JSON frame without choices, usage or error raises AdapterError carrying it."""
    with pytest.raises(sd.AdapterError) as info:
        ChatStreamDecoder().feed(b'data: {"object": "something.else"}\n\n')
    assert info.value.event == {"object": "something.else"}


def test_tool_models_type_the_http_tool_calls(http_run: Callable[[str], Run]) -> None:
    """With `tools`, tool-call deltas carry typed partial arguments."""
    deltas = http_run("openai_chat/tool_calls_sequential").of_type(sd.parts.ToolCallDelta)
    weather = [d for d in deltas if d.name == "get_weather" or d.index == 0]
    assert any(isinstance(d.partial, sd.Partial[TOOLS["get_weather"]]) for d in weather)


@pytest.mark.parametrize("as_target", [False, True], ids=["http_client", "target"])
def test_an_httpx2_client_streams_like_an_httpx_client(
    replay_server: ReplayServer, as_target: bool
) -> None:
    """httpx2 (the fork the openai SDK 3.63+ depends on, so the client many apps already
    hold): taken as `http_client` and as the target, left open, the same object streamed
    (it was a TypeError before)."""
    httpx2 = pytest.importorskip("httpx2")
    tag = f"httpx2-{as_target}"
    base = replay_server.base_url("openai_chat/small", piece=61, tag=tag)
    body = _body("openai_chat/small")
    with httpx2.Client(base_url=base if as_target else "") as client:
        if as_target:
            run = collect(sd_http.stream_chat(client, MODELS.Recipe, json=body))
        else:
            url = base + "/chat/completions"
            run = collect(sd_http.stream_chat(url, MODELS.Recipe, json=body, http_client=client))
        assert not client.is_closed
    assert run.final == expected_object(STREAMS["openai_chat/small"]["outputs"][0])


@pytest.mark.anyio
async def test_an_httpx2_async_client_streams_like_an_httpx_one(
    replay_server: ReplayServer,
) -> None:
    """`astream_chat` takes an `httpx2.AsyncClient`; a sync client where an async one is
    needed is still refused, naming both libraries' classes."""
    httpx2 = pytest.importorskip("httpx2")
    url = replay_server.base_url("openai_chat/small", piece=61, tag="httpx2-async")
    url += "/chat/completions"
    async with httpx2.AsyncClient() as client:
        async with sd_http.astream_chat(
            url, MODELS.Recipe, json=_body("openai_chat/small"), http_client=client
        ) as s:
            async for _ in s:
                pass
        final = s.final
    assert final == expected_object(STREAMS["openai_chat/small"]["outputs"][0])
    with httpx2.Client() as sync_client:
        with pytest.raises(TypeError, match=r"httpx\.AsyncClient or httpx2\.AsyncClient"):
            async for _ in sd_http.astream_chat(url, json={}, http_client=sync_client):  # type: ignore[arg-type]
                pass
