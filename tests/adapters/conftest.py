"""The replay server the adapter tests point real clients at, and the runs they share (each
recorded stream is streamed once per session through each path; the tests check one thing
each on the shared result)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import openai
import pytest

import streamdantic as sd
from streamdantic.adapters import http as sd_http
from tests.adapters.replay import ReplayServer
from tests.adapters.support import (
    STREAMS,
    TOOLS,
    Run,
    collect,
    model_for,
    piece_for,
    request_kwargs,
)


@pytest.fixture(scope="session")
def replay_server() -> Iterator[ReplayServer]:
    server = ReplayServer().start()
    yield server
    server.stop()


def sdk_stream(client: Any, stream_id: str) -> Any:
    """The SDK's stream for a recorded request (chat or Responses, by the stream's format)."""
    create = (
        client.chat.completions.create
        if STREAMS[stream_id]["format"] == "openai_chat"
        else client.responses.create
    )
    return create(**request_kwargs(stream_id), stream=True)


@pytest.fixture(scope="session")
def sdk_run(replay_server: ReplayServer) -> Iterator[Callable[[str], Run]]:
    """Each stream through the sync `openai.OpenAI` client and `streamdantic.stream`."""

    @cache
    def run(stream_id: str) -> Run:
        url = replay_server.base_url(stream_id, piece=piece_for(stream_id))
        with openai.OpenAI(base_url=url, api_key="test-key", max_retries=0) as client:
            source = sdk_stream(client, stream_id)
            return collect(sd.stream(source, model_for(stream_id), tools=TOOLS))

    yield run
    run.cache_clear()


@pytest.fixture(scope="session")
def http_run(replay_server: ReplayServer) -> Iterator[Callable[[str], Run]]:
    """Each chat stream through `streamdantic.adapters.http.stream_chat`."""

    @cache
    def run(stream_id: str) -> Run:
        url = replay_server.base_url(stream_id, piece=piece_for(stream_id)) + "/chat/completions"
        body = dict(STREAMS[stream_id]["request"])
        return collect(sd_http.stream_chat(url, model_for(stream_id), json=body, tools=TOOLS))

    yield run
    run.cache_clear()
