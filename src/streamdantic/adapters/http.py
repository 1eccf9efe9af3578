"""Raw OpenAI-compatible Chat Completions streams over httpx, without the openai SDK in the loop.

For vLLM, llama.cpp's server, Ollama, LM Studio, OpenRouter or OpenAI itself: POST the request,
check the response, decode the event stream with streamdantic's `SSEDecoder`, parse each frame
with jiter into plain dicts (no pydantic objects per chunk: the speed win over the SDK), and
convert them with the conversion the openai SDK adapter shares (`_chat.py`)::

    with stream_chat("http://localhost:8000/v1/chat/completions", Recipe,
                     json={"model": "qwen3", "messages": [...]}) as s:
        for update in s:
            print(update.partial)

Strategy / invariants:
- `ChatStreamDecoder` (sans-IO, in `_chat.py`) does all the work on bytes; the sync and async
  generators here only send the request, check it, and feed the body to it.
- The request is sent when iteration starts. Leaving early (``close()``, ``with``, ``break``,
  an exception) closes the response at once, and a client made here is closed with it.
- Parts end at ``data: [DONE]``; the rest of the body (normally nothing) is read and dropped.
  A body that ends without it simply ends (the stream then raises TruncatedStreamError if the
  object is incomplete).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, TypeVar

import httpx

from .._aggregate import AsyncStream, Stream, astream, stream
from .._exceptions import ProviderError, SSEError, StreamdanticError
from .._parts import Part
from .._stream_core import EmitPolicy
from ._chat import ChatStreamDecoder

__all__ = ["DEFAULT_TIMEOUT", "achat_events", "astream_chat", "chat_events", "stream_chat"]

if TYPE_CHECKING:
    import httpx2

    # The clients a call takes: httpx's, or httpx2's (the fork that the openai SDK 3.63+
    # depends on), sync or async; a client of another library is a TypeError.
    SyncClient: TypeAlias = httpx.Client | httpx2.Client
    AsyncClient: TypeAlias = httpx.AsyncClient | httpx2.AsyncClient


T = TypeVar("T")

# The openai SDK's defaults: models can think for minutes before the first token, so the read
# timeout must be long; a server that does not accept the connection fails fast.
DEFAULT_TIMEOUT: Final = httpx.Timeout(600.0, connect=5.0)
# How much of a failed response's body goes into the error message.
_EXCERPT_BYTES = 2000
# The body after `data: [DONE]` (normally just its end) and an error body are read to the end,
# up to this much: a fully read response keeps its connection reusable, and on trio httpx's
# nested async iterators (httpx 0.28) only finish cleanly when the body is exhausted
# (encode/httpx#3686). Past the limit the response is simply closed.
_READ_LIMIT = 1 << 20
_RELATIVE_PATH = "chat/completions"


def _request_body(
    body: Mapping[str, Any], output_type: Any, tools: Mapping[str, Any] | None
) -> dict[str, Any]:
    request = dict(body)
    request["stream"] = True
    # Schemas come from the openai SDK's own strict-schema helpers, imported only when needed.
    if output_type is not None and "response_format" not in request:
        from .openai import response_format

        request["response_format"] = response_format(output_type)
    if tools and "tools" not in request:
        from .openai import function_tools

        request["tools"] = function_tools(tools)
    return request


def _ok(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "")
    return (
        response.is_success
        and content_type.partition(";")[0].strip().lower() == "text/event-stream"
    )


def _failure(response: httpx.Response, excerpt: bytes) -> StreamdanticError:
    """The error for a response that is not a successful event stream."""
    target = f"POST {response.request.url}"
    text = excerpt.decode("utf-8", "replace")
    if not response.is_success:
        message, code, raw = _error_details(text)
        return ProviderError(
            f"{target} answered {response.status_code} {response.reason_phrase}: "
            f"{message or text or '(empty body)'}",
            code=code or str(response.status_code),
            raw=raw,
        )
    content_type = response.headers.get("content-type") or "no content type"
    return SSEError(
        f"{target} answered {content_type!r}, not an event stream (text/event-stream); "
        f"does the server stream this request? Body: {text[:200]!r}"
    )


def _error_details(text: str) -> tuple[str | None, str | None, Any]:
    """Message, code and parsed body of an error response, in the shapes servers use:
    ``{"error": {"message", "code"|"type"}}`` (OpenAI, vLLM), ``{"error": "..."}`` (Ollama),
    ``{"detail": ...}`` (FastAPI-based servers), ``{"message": ...}``."""
    from jiter import from_json

    try:
        body = from_json(text.encode(), partial_mode="trailing-strings")
    except ValueError:
        return None, None, text
    if not isinstance(body, dict):
        return None, None, body
    error = body.get("error", body)
    if isinstance(error, dict):
        message = error.get("message") or error.get("detail") or body.get("detail")
        code = error.get("code") or error.get("type")
        return (
            str(message) if message else None,
            str(code) if code is not None else None,
            body,
        )
    return str(error), None, body


def _client_kinds(asynchronous: bool) -> tuple[type[Any], ...]:
    """The client classes a call takes: httpx's, and httpx2's (the fork the openai SDK 3.63+
    installs and uses) when it is installed, sync or async."""
    name = "AsyncClient" if asynchronous else "Client"
    kinds: list[type[Any]] = [getattr(httpx, name)]
    httpx2 = sys.modules.get("httpx2")  # a client of it exists only if it was imported
    if httpx2 is not None:
        kinds.append(getattr(httpx2, name))
    return tuple(kinds)


def _client_and_url(
    target: Any, http_client: Any, asynchronous: bool, timeout: Any
) -> tuple[Any, Any, bool]:
    """(client, url, whether the client is ours to close)."""
    clients = _client_kinds(False) + _client_kinds(True)
    if isinstance(target, clients):
        if http_client is not None:
            raise TypeError("pass the client once: as the target or as http_client, not both")
        client = target
        url: Any = _RELATIVE_PATH
    else:
        client, url = http_client, target
    kinds = _client_kinds(asynchronous)
    if client is None:
        return kinds[0](timeout=timeout), url, True
    if not isinstance(client, kinds):
        expected = " or ".join(f"{kind.__module__}.{kind.__qualname__}" for kind in kinds)
        raise TypeError(f"expected an {expected}, got {type(client).__qualname__}")
    return client, url, False


def chat_events(
    target: str | httpx.URL | SyncClient,
    /,
    *,
    json: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    http_client: SyncClient | None = None,
    timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
) -> Iterator[Part]:
    """POST a streaming Chat Completions request; yield the stream parts of its response.

    The body is sent as given, with ``"stream": true``. Pass the result to
    `streamdantic.stream` or `streamdantic.stream_to_object`, or use `stream_chat`.

    Args:
        target: the endpoint URL (``http://localhost:8000/v1/chat/completions``), or an
            `httpx.Client` or `httpx2.Client` whose ``base_url`` is the API root
            (``.../v1``): the request then goes to ``chat/completions`` under it.
        json: the request body (``model``, ``messages``, ...).
        headers: extra headers (``{"Authorization": "Bearer ..."}``).
        http_client: the client to send with (pooling, auth, proxies); by default one is
            made for this stream and closed with it.
        timeout: for a client made here (default: 600 s, 5 s to connect).

    Returns:
        A generator of parts; the request is sent when iteration starts, and closing the
        generator closes the response.

    Raises (while iterating):
        ProviderError: the server answered a non-2xx status (the message has the body's
            error message or an excerpt; ``.code`` its error code or the status).
        SSEError: the response is not an event stream, or a frame is not JSON.
        AdapterError: a chunk of unknown shape.
        httpx.HTTPError: the connection failed or timed out (`httpx2.HTTPError` with an
            httpx2 client).
    """
    return _chat_events(target, dict(json), headers, http_client, timeout)


def _chat_events(
    target: Any, body: dict[str, Any], headers: Any, http_client: Any, timeout: Any
) -> Iterator[Part]:
    body["stream"] = True
    client, url, owned = _client_and_url(target, http_client, False, timeout)
    try:
        with client.stream("POST", url, json=body, headers=headers) as response:
            if not _ok(response):
                excerpt = bytearray()
                for data in response.iter_bytes():
                    excerpt += data
                    if len(excerpt) > _READ_LIMIT:
                        break
                raise _failure(response, bytes(excerpt[:_EXCERPT_BYTES]))
            decoder = ChatStreamDecoder()
            after_done = 0
            for data in response.iter_bytes():
                if decoder.done:
                    after_done += len(data)
                    if after_done > _READ_LIMIT:
                        break
                    continue
                yield from decoder.feed(data)
            yield from decoder.close()
    finally:
        if owned:
            client.close()


def achat_events(
    target: str | httpx.URL | AsyncClient,
    /,
    *,
    json: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    http_client: AsyncClient | None = None,
    timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
) -> AsyncIterator[Part]:
    """The async twin of `chat_events`, with an `httpx.AsyncClient`."""
    return _achat_events(target, dict(json), headers, http_client, timeout)


async def _achat_events(
    target: Any, body: dict[str, Any], headers: Any, http_client: Any, client_timeout: Any
) -> AsyncIterator[Part]:
    body["stream"] = True
    client, url, owned = _client_and_url(target, http_client, True, client_timeout)
    try:
        async with client.stream("POST", url, json=body, headers=headers) as response:
            # aclosing: a body iterator left early is closed now, not by the collector.
            async with aclosing(response.aiter_bytes()) as body_chunks:
                if not _ok(response):
                    excerpt = bytearray()
                    async for data in body_chunks:
                        excerpt += data
                        if len(excerpt) > _READ_LIMIT:
                            break
                    raise _failure(response, bytes(excerpt[:_EXCERPT_BYTES]))
                decoder = ChatStreamDecoder()
                after_done = 0
                async for data in body_chunks:
                    if decoder.done:
                        after_done += len(data)
                        if after_done > _READ_LIMIT:
                            break
                        continue
                    for part in decoder.feed(data):
                        yield part
                for part in decoder.close():
                    yield part
    finally:
        if owned:
            await client.aclose()


def stream_chat(
    target: str | httpx.URL | SyncClient,
    output_type: type[T] | None = None,
    /,
    *,
    json: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    http_client: SyncClient | None = None,
    timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
    tools: Mapping[str, type[Any]] | None = None,
    emit: EmitPolicy = "changes",
    on_invalid: Literal["raise", "report"] = "raise",
) -> Stream[T]:
    """Stream typed partials of `output_type` from an OpenAI-compatible server.

    Unless the body has its own, a strict JSON-schema ``response_format`` for `output_type`
    (and strict function tools for `tools`) is added, built by the openai SDK's helper; put
    your own ``response_format`` in the body for servers that want another (for example
    ``{"type": "json_object"}``).

    Args:
        target, json, headers, http_client, timeout: as for `chat_events`.
        output_type: the pydantic model of the output, or None (tool calls only, plain JSON).
        tools: tool name -> pydantic model of its arguments, for typed partial arguments.
        emit, on_invalid: as for `streamdantic.stream`.

    Returns:
        A `streamdantic.Stream` (a context manager: leaving it closes the response).

    Raises (while iterating):
        ProviderError: a non-2xx status, or an error frame mid-stream (``.partial`` kept);
            ContentFilterError and RefusalError are its subclasses.
        SSEError: not an event stream, or a frame that is not JSON.
        TruncatedStreamError, StreamValidationError, AdapterError: as for `streamdantic.stream`.
        httpx.HTTPError: the connection failed or timed out (`httpx2.HTTPError` with an
            httpx2 client).
    """
    body = _request_body(json, output_type, tools)
    source = _chat_events(target, body, headers, http_client, timeout)
    return stream(source, output_type, tools=tools, emit=emit, on_invalid=on_invalid)


def astream_chat(
    target: str | httpx.URL | AsyncClient,
    output_type: type[T] | None = None,
    /,
    *,
    json: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    http_client: AsyncClient | None = None,
    timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
    tools: Mapping[str, type[Any]] | None = None,
    emit: EmitPolicy = "changes",
    on_invalid: Literal["raise", "report"] = "raise",
) -> AsyncStream[T]:
    """The async twin of `stream_chat`, with an `httpx.AsyncClient`."""
    body = _request_body(json, output_type, tools)
    source = _achat_events(target, body, headers, http_client, timeout)
    return astream(source, output_type, tools=tools, emit=emit, on_invalid=on_invalid)
