"""Unit tests of SourceRouter (_source.py): exact items in, exact handler calls out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from streamdantic import AdapterError
from streamdantic._deltas import Chunk, Delta
from streamdantic._parts import (
    Finish,
    Part,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    ToolResult,
    Usage,
)
from streamdantic._source import SourceRouter
from streamdantic.adapters import _registry


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(_registry, "ADAPTERS", {})
    monkeypatch.setattr(_registry, "ERROR_TRANSLATORS", {})
    yield


class Recorder:
    """A router whose three handlers record ("text" | "chunk" | "part", item) in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.router = SourceRouter(
            lambda t: self.calls.append(("text", t)),
            lambda c: self.calls.append(("chunk", c)),
            lambda p: self.calls.append(("part", p)),
        )

    def feed(self, *items: Any) -> list[tuple[str, Any]]:
        for item in items:
            self.router.feed(item)
        return self.calls


class ProviderEvent:
    def __init__(self, *items: Any) -> None:
        self.items = items


class UnknownEvent:
    pass


def test_text_bytes_and_text_deltas_go_to_on_text_as_fed() -> None:
    """str, bytes and bytearray go to on_text unchanged; a TextDelta goes as its text."""
    calls = Recorder().feed("ab", b"c\xc3", bytearray(b"\xa9"), TextDelta("d"))
    assert calls == [
        ("text", "ab"),
        ("text", b"c\xc3"),
        ("text", bytearray(b"\xa9")),
        ("text", "d"),
    ]


def test_chunks_go_to_on_chunk() -> None:
    """A Chunk goes to on_chunk, the same object."""
    chunk = Chunk(Delta(json={"a": 1}))
    assert Recorder().feed(chunk) == [("chunk", chunk)]


@pytest.mark.parametrize(
    "part",
    [
        Finish("stop"),
        ReasoningDelta("hm"),
        ToolCallDelta("c1", '{"a"', name="f"),
        ToolResult("c1", 3),
        Usage(1, 2, 3),
    ],
    ids=lambda p: type(p).__name__,
)
def test_known_parts_go_to_on_part(part: Part) -> None:
    """Every part type the stages handle (TextDelta aside) goes to on_part."""
    assert Recorder().feed(part) == [("part", part)]


def test_an_unknown_part_type_is_an_adapter_error_carrying_it() -> None:
    """A Part subclass no stage knows raises AdapterError with the part as `event`."""

    class Custom(Part):
        __slots__ = ()

    part = Custom()
    recorder = Recorder()
    with pytest.raises(AdapterError, match="unknown stream part") as info:
        recorder.feed(part)
    assert info.value.event is part
    assert recorder.calls == []


def test_an_item_no_adapter_knows_is_an_adapter_error_that_says_what_streams_take() -> None:
    """An unregistered item type raises AdapterError naming the type and the valid inputs."""
    item = UnknownEvent()
    with pytest.raises(
        AdapterError, match=r"no adapter for .*UnknownEvent: streams take str"
    ) as info:
        Recorder().feed(item)
    assert info.value.event is item


def test_provider_events_go_through_one_adapter_whose_output_is_routed() -> None:
    """The factory is called once per stream, on the first event; what the adapter yields
    (text, parts, chunks, even another provider event) is routed in order."""
    made: list[int] = []
    seen: list[ProviderEvent] = []

    def factory() -> Any:
        made.append(1)

        def adapt(event: ProviderEvent) -> Iterable[Any]:
            seen.append(event)
            return event.items

        return adapt

    _registry.register_adapter(ProviderEvent, factory)
    first, second = ProviderEvent("{", Finish(None)), ProviderEvent(ProviderEvent("}"), b"x")
    calls = Recorder().feed(first, second)
    assert calls == [("text", "{"), ("part", Finish(None)), ("text", "}"), ("text", b"x")]
    assert made == [1]
    assert seen == [first, second, second.items[0]]


def test_an_event_of_another_registered_type_reuses_the_streams_adapter() -> None:
    """The adapter made on the first event converts later events of another registered
    type too (it keeps the stream's state across them); an unregistered type still raises."""
    made: list[str] = []

    def factory(name: str) -> Any:
        def make() -> Any:
            made.append(name)
            return lambda event: [f"{name}:{type(event).__name__}"]

        return make

    class Second:
        pass

    _registry.register_adapter(ProviderEvent, factory("first"))
    _registry.register_adapter(Second, factory("second"))
    recorder = Recorder()
    assert recorder.feed(ProviderEvent(), Second()) == [
        ("text", "first:ProviderEvent"),
        ("text", "first:Second"),
    ]
    assert made == ["first"]
    with pytest.raises(AdapterError, match="no adapter for"):
        recorder.feed(UnknownEvent())


def test_nothing_is_buffered() -> None:
    """Each handler runs before feed returns."""
    recorder = Recorder()
    recorder.feed("a")
    assert recorder.calls == [("text", "a")]
    recorder.feed(Finish("stop"))
    assert recorder.calls == [("text", "a"), ("part", Finish("stop"))]


def test_an_adapters_text_of_routes_plain_text_events_without_parts() -> None:
    """An adapter with ``text_of`` has each later event of the stream's type asked for its
    text first: text goes to on_text as it is (no TextDelta, no call of the adapter); an
    event it declines (None) goes through the adapter."""
    converted: list[ProviderEvent] = []

    class Adapter:
        @staticmethod
        def text_of(event: ProviderEvent) -> str | None:
            first = event.items[0] if event.items else None
            return first if type(first) is str and len(event.items) == 1 else None

        def __call__(self, event: ProviderEvent) -> Iterable[Any]:
            converted.append(event)
            return event.items

    _registry.register_adapter(ProviderEvent, Adapter)
    first, plain, mixed = ProviderEvent("{"), ProviderEvent('"a'), ProviderEvent('"', Finish(None))
    calls = Recorder().feed(first, plain, mixed)
    assert calls == [("text", "{"), ("text", '"a'), ("text", '"'), ("part", Finish(None))]
    assert converted == [first, mixed]  # the first event made the adapter; `plain` skipped it
