"""Public-API examples that mypy (strict) accepts, with the types it must infer.

Checked by tests/test_typing_api.py; never imported by the test run.
"""

from __future__ import annotations

import pathlib
from typing import Any, assert_type

from agents.result import RunResultStreaming
from pydantic import BaseModel

import streamdantic as sd
from streamdantic._aggregate import AsyncStream, Stream, StreamOptions
from streamdantic._collect import AsyncCollectIterator, CollectIterator, CollectOptions


class Order(BaseModel):
    title: str


class MyStream(Stream[Order]):
    pass


def options(text: list[str]) -> None:
    s = sd.stream(text, Order, emit=sd.Throttle(10), on_invalid="report", partials="live")
    assert_type(s, Stream[Order])
    assert_type(sd.stream(text), Stream[Any])
    assert_type(sd.stream_to_object(text, Order, lenient=True, timeout=1.0), Order)
    shared: StreamOptions = {"emit": "completions", "strict": True}
    assert_type(sd.stream(text, Order, **shared), Stream[Order])
    assert_type(sd.stream(pathlib.Path("order.json"), Order), Stream[Order])
    items = sd.collect(b"[]", Order, item="$.results[*]", on_invalid="skip", chunk_size=1024)
    assert_type(items, CollectIterator[Order])
    limits: CollectOptions = {"max_depth": 64, "max_size": None}
    assert_type(sd.acollect(b"[]", Order, **limits), AsyncCollectIterator[Order])
    assert_type(sd.core.ItemCollector(Order, jsonl=True).feed(b""), list[Order])


def self_types(text: list[str]) -> None:
    # Fluent setters and context managers return the same type, subclasses included.
    s = sd.stream(text, Order).on_field("$.title", print).on_final(print)
    assert_type(s, Stream[Order])
    with MyStream(text, Order) as mine:
        assert_type(mine, MyStream)
    assert_type(MyStream(text, Order).on_element("items", print), MyStream)
    with sd.collect(b"[]", Order) as items:
        assert_type(items, CollectIterator[Order])
        assert_type(iter(items), CollectIterator[Order])


async def async_self_types(text: list[str]) -> None:
    async with sd.astream(text, Order) as s:
        assert_type(s, AsyncStream[Order])
    async with sd.acollect(b"[]", Order) as items:
        assert_type(items, AsyncCollectIterator[Order])
        assert_type(aiter(items), AsyncCollectIterator[Order])


async def a_streamed_agent_run_is_a_source(result: RunResultStreaming) -> None:
    # The OpenAI Agents SDK's RunResultStreaming is a source of astream as it is.
    async with sd.astream(result, Order) as s:
        assert_type(s, AsyncStream[Order])
    assert_type(await sd.astream_to_object(result, Order), Order)
