"""The streaming API: updates, parts, policies, callbacks, element streams, cancellation, errors."""

from __future__ import annotations

import copy
import json
import pathlib
import random
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

import anyio
import pytest
from pydantic import BaseModel, Field, field_validator

import streamdantic as sd
from streamdantic import Debounce, Throttle, Update, _text_step, _update
from streamdantic.parts import (
    Finish,
    ProviderErrorPart,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    Usage,
)
from tests.helpers import split_random


class Item(BaseModel):
    name: str
    qty: int = Field(gt=0)


class Order(BaseModel):
    title: str
    status: Literal["open", "closed"]
    items: list[Item]
    note: str | None = None


ORDER = {
    "title": "Groceries {with [brackets]}",
    "status": "open",
    "items": [{"name": "milk ]}", "qty": 2}, {"name": "eggs", "qty": 12}],
    "note": None,
}
TEXT = json.dumps(ORDER)


def chunkings() -> list[list[str]]:
    return [[TEXT], list(TEXT), split_random(TEXT, seed=1), split_random(TEXT, seed=2, max_size=3)]


def snapshot(update: Update[Any]) -> Any:
    partial = update.partial
    dumped = partial.model_dump() if isinstance(partial, BaseModel) else partial
    return (update.index, dumped, update.completed, update.done)


class RecordingSource:
    """A source that records whether it was closed, like an HTTP response."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.closed = False
        self.served = 0

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            self.served += 1
            yield item

    def close(self) -> None:
        self.closed = True


class AsyncRecordingSource:
    """The async twin of RecordingSource."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.closed = False

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[Any]:
        for item in self.items:
            await anyio.lowlevel.checkpoint()
            yield item

    async def aclose(self) -> None:
        self.closed = True


async def collect_async(source: Any, model: Any = Order, **options: Any) -> list[Any]:
    async with sd.astream(source, model, **options) as s:
        return [snapshot(update) async for update in s]


def test_updates_end_with_the_validated_final() -> None:
    """The last update is done and carries the final object equal to pydantic's."""
    updates = list(sd.stream(split_random(TEXT, seed=3), Order))
    assert [u.done for u in updates].count(True) == 1 and updates[-1].done
    assert updates[-1].final == Order.model_validate_json(TEXT)
    assert all(u.final is None for u in updates[:-1])


@pytest.mark.parametrize("chunks", chunkings(), ids=["whole", "chars", "random", "random3"])
def test_no_update_repeats_the_previous_state(chunks: list[str]) -> None:
    """Every update shows a visible change: no two consecutive snapshots are equal."""
    dumps = [u.partial.model_dump() for u in sd.stream(chunks, Order)]
    assert all(a != b for a, b in zip(dumps, dumps[1:-1], strict=False))


@pytest.mark.anyio
@pytest.mark.parametrize("chunks", chunkings(), ids=["whole", "chars", "random", "random3"])
async def test_sync_and_async_give_identical_updates(chunks: list[str]) -> None:
    """astream over an async source yields exactly the updates stream gives."""
    sync = [snapshot(u) for u in sd.stream(chunks, Order)]
    assert await collect_async(AsyncRecordingSource(chunks)) == sync
    assert await collect_async(chunks) == sync  # a sync source in async code


@pytest.mark.parametrize("stop_after", [0, 1, 5, 17])
def test_breaking_out_closes_the_source(stop_after: int) -> None:
    """Leaving the loop early closes the source and keeps the last partial."""
    source = RecordingSource(list(TEXT))
    s = sd.stream(source, Order)
    with s:
        for update in s:
            if update.index >= stop_after:
                break
    assert source.closed
    assert s.partial is not None


def test_cancellation_at_random_points_closes_the_source() -> None:
    """Closing at random points always closes the source (sync)."""
    rng = random.Random(7)
    for _ in range(20):
        source = RecordingSource(split_random(TEXT, seed=rng.randint(0, 99)))
        s = sd.stream(source, Order)
        limit = rng.randint(0, 30)
        for update in s:
            if update.index >= limit:
                s.close()
                break
        assert source.closed


@pytest.mark.anyio
async def test_async_cancellation_at_random_points_closes_the_source() -> None:
    """Task cancellation and aclose at random points always close the source (async)."""
    rng = random.Random(11)
    for attempt in range(12):
        source = AsyncRecordingSource(split_random(TEXT, seed=attempt))
        limit = rng.randint(0, 25)
        with anyio.CancelScope() as scope:
            async with sd.astream(source, Order) as s:
                async for update in s:
                    if update.index >= limit:
                        if attempt % 2:
                            scope.cancel()
                            await anyio.lowlevel.checkpoint()
                        break
        assert source.closed
        assert s.partial is not None or limit == 0


def test_stream_is_consumed_once() -> None:
    """Iterating a stream twice is a usage error naming the fix."""
    s = sd.stream([TEXT], Order)
    list(s)
    with pytest.raises(sd.UsageError, match="already consumed"):
        list(s)


@pytest.mark.parametrize("chunks", chunkings(), ids=["whole", "chars", "random", "random3"])
def test_callbacks_fire_exactly_once(chunks: list[str]) -> None:
    """Field, element and final callbacks fire once each, whatever the chunking."""
    seen: dict[str, list[Any]] = {"title": [], "items": [], "names": [], "final": []}
    s = sd.stream(chunks, Order)
    s.on_field("title", seen["title"].append)
    s.on_element("items", seen["items"].append)
    s.on_field("items[*].name", seen["names"].append)
    s.on_final(seen["final"].append)
    list(s)
    assert seen["title"] == [ORDER["title"]]
    assert seen["items"] == [Item(name="milk ]}", qty=2), Item(name="eggs", qty=12)]
    assert seen["names"] == ["milk ]}", "eggs"]
    assert seen["final"] == [Order.model_validate(ORDER)]


def test_a_str_bytes_or_path_source_is_the_whole_json_text(tmp_path: pathlib.Path) -> None:
    """A str or bytes is the JSON text in one piece, a pathlib.Path a file of it (as collect)."""
    expected = Order.model_validate(ORDER)
    path = tmp_path / "order.json"
    path.write_text(TEXT)
    for source in (TEXT, TEXT.encode(), bytearray(TEXT.encode()), path):
        updates = list(sd.stream(source, Order))
        assert updates[-1].final == expected, type(source)
        assert len(updates[-1].partial.items) == 2
    assert len(list(sd.stream(TEXT, Order))) == 2  # one chunk: one update and the final


@pytest.mark.anyio
async def test_async_path_source_reads_the_file(tmp_path: pathlib.Path) -> None:
    """astream reads a pathlib.Path source without blocking, and a str as the JSON text."""
    path = tmp_path / "order.json"
    path.write_text(TEXT)
    for source in (path, TEXT):
        assert await sd.astream_to_object(source, Order) == Order.model_validate(ORDER)


def test_an_unknown_stream_option_is_refused_with_a_suggestion() -> None:
    """Every entry point refuses a misspelled option at the call, naming the closest one."""
    calls = {
        "stream": lambda: sd.stream([TEXT], Order, emitt="changes"),
        "Stream": lambda: sd.Stream([TEXT], Order, emitt="changes"),
        "astream": lambda: sd.astream([TEXT], Order, emitt="changes"),
    }
    for name, call in calls.items():
        with pytest.raises(
            TypeError,
            match=rf"{name}\(\) got an unexpected keyword argument 'emitt'; did you mean 'emit'\?",
        ):
            call()
    with pytest.raises(
        TypeError, match=r"stream_to_object\(\) got .* 'partial'; did you mean 'partials'\?"
    ):
        sd.stream_to_object([TEXT], Order, partial="live")  # type: ignore[call-arg]
    # stream_to_object emits completions itself: emit is not one of its options.
    with pytest.raises(
        TypeError, match=r"stream_to_object\(\) got an unexpected keyword argument 'emit'"
    ):
        sd.stream_to_object([TEXT], Order, emit="changes")  # type: ignore[call-arg]


def test_option_values_are_still_checked() -> None:
    """The typed options keep their runtime checks: a bad word lists the valid ones."""
    with pytest.raises(ValueError, match="on_invalid must be 'raise' or 'report'"):
        sd.stream([TEXT], Order, on_invalid="skip")  # type: ignore[typeddict-item]
    with pytest.raises(ValueError, match="partials must be one of 'snapshot', 'live'"):
        sd.stream([TEXT], Order, partials="copy")  # type: ignore[typeddict-item]


def test_callbacks_take_the_paths_that_messages_print() -> None:
    """``$.items[*].name`` (the notation of error messages), ``.*`` and tuples all match."""
    seen: dict[str, list[Any]] = {"dollar": [], "star": [], "tuple": [], "index": []}
    s = sd.stream([TEXT], Order)
    s.on_field("$.items[*].name", seen["dollar"].append)
    s.on_field("items.*.name", seen["star"].append)
    s.on_field(("items", "*", "name"), seen["tuple"].append)
    s.on_field("$.items[1].qty", seen["index"].append)
    list(s)
    assert seen == {
        "dollar": ["milk ]}", "eggs"],
        "star": ["milk ]}", "eggs"],
        "tuple": ["milk ]}", "eggs"],
        "index": [12],
    }


def test_a_bracketed_star_key_is_not_a_wildcard() -> None:
    """``["*"]`` is the key named ``*``: it does not match the other keys."""
    seen: list[Any] = []
    s = sd.stream(['{"*": 1, "a": 2}'])
    s.on_field('$["*"]', seen.append)
    list(s)
    assert seen == [1]


def test_a_malformed_path_is_refused_at_once() -> None:
    """A path outside the notation raises ValueError when given, instead of matching nothing."""
    s = sd.stream([TEXT], Order)
    with pytest.raises(ValueError, match=r"invalid path 'items\[x\]' at offset 5"):
        s.on_field("items[x]", print)
    with pytest.raises(ValueError, match="invalid path"):
        s.elements("items[-1]")


@pytest.mark.parametrize("chunks", chunkings(), ids=["whole", "chars", "random", "random3"])
def test_element_stream_yields_each_element_once(chunks: list[str]) -> None:
    """elements() yields every validated element once, robust to brackets in strings."""
    assert list(sd.stream(chunks, Order).elements("items")) == [
        Item(name="milk ]}", qty=2),
        Item(name="eggs", qty=12),
    ]


def test_element_stream_yields_before_the_list_closes() -> None:
    """An element arrives while later elements are still streaming."""
    cut = TEXT.index('{"name": "eggs"')
    source = RecordingSource([TEXT[:cut], TEXT[cut:]])
    elements = sd.stream(source, Order).elements("items")
    assert next(elements) == Item(name="milk ]}", qty=2)
    assert source.served == 1


@pytest.mark.parametrize("chunks", chunkings(), ids=["whole", "chars", "random", "random3"])
def test_completions_policy_emits_on_completion_only(chunks: list[str]) -> None:
    """emit="completions" emits once per batch that completes a value, plus the final."""
    updates = list(sd.stream(chunks, Order, emit="completions"))
    assert all(u.completed for u in updates[:-1])  # the final update is always delivered
    completed = [p for u in updates for p in u.completed]
    assert len(completed) == len(set(completed))  # every completion reported exactly once
    assert ("items", 1) in completed and () in completed


class FakeClock:
    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.mark.parametrize("chunks", chunkings()[1:], ids=["chars", "random", "random3"])
def test_throttle_limits_the_rate(chunks: list[str]) -> None:
    """Throttle(n) emits at most n updates per second of the (fake) clock, plus the final."""
    clock = FakeClock(step=0.01)  # clock() is read twice per item
    updates = list(sd.stream(chunks, Order, emit=Throttle(10), clock=clock))
    assert updates[-1].done and updates[-1].final == Order.model_validate(ORDER)
    elapsed = clock.now
    assert len(updates) - 1 <= elapsed * 10 + 1
    assert len(updates) >= 2


def test_debounce_waits_for_a_pause() -> None:
    """Debounce(s) emits only after a pause in changes, and always the final."""
    times = iter([0, 0.01, 0.02, 5.0, 5.0, 5.01, 5.02, 10.0, 10.0] + [20.0] * 100)

    def clock() -> float:
        return float(next(times))

    updates = list(
        sd.stream(
            ['{"title": "a', "b", 'c", "status": "open"', ', "items": []}'],
            Order,
            emit=Debounce(1.0),
            clock=clock,
        )
    )
    assert updates[-1].done
    assert len(updates) <= 3


def test_bad_policy_lists_the_valid_ones() -> None:
    """An unknown emission policy is refused with the valid choices."""
    with pytest.raises(ValueError, match="'changes', 'completions'"):
        sd.stream([TEXT], Order, emit="sometimes")  # type: ignore[arg-type]


def test_truncated_stream_raises_with_partial() -> None:
    """A stream that ends early raises TruncatedStreamError with what arrived."""
    cut = TEXT.index('"items"') + 12
    with pytest.raises(sd.TruncatedStreamError) as info:
        sd.stream_to_object([TEXT[:cut], Finish("length")], Order)
    error = info.value
    assert error.finish_reason == "length"
    assert error.partial.title == ORDER["title"]
    assert ("items",) in error.missing_paths
    assert error.raw_text == TEXT[:cut]


def test_empty_stream_is_truncated() -> None:
    """No output at all is a truncation, never an empty object."""
    with pytest.raises(sd.TruncatedStreamError):
        sd.stream_to_object([], Order)


def test_invalid_completed_value_raises_at_once() -> None:
    """A completed value that fails validation stops the stream at once, keeping the partial."""
    bad = json.dumps(
        {
            "title": "x",
            "status": "open",
            "items": [{"name": "a", "qty": 0}, {"name": "b", "qty": 1}],
        }
    )
    source = RecordingSource(list(bad))
    with pytest.raises(sd.StreamValidationError) as info:
        sd.stream_to_object(source, Order)
    assert info.value.path == ("items", 0)
    assert info.value.partial.title == "x"
    assert source.closed and source.served < len(bad)


def test_invalid_values_can_be_reported_instead() -> None:
    """on_invalid="report" puts errors on updates and raises only for the final object."""
    bad = json.dumps({"title": "x", "status": "open", "items": [{"name": "a", "qty": 0}]})
    s = sd.stream(list(bad), Order, on_invalid="report")
    errors = []
    with pytest.raises(sd.StreamValidationError):
        for update in s:
            errors.extend(update.errors)
    assert [e.path for e in errors] == [("items", 0)]


def test_provider_error_keeps_the_partial() -> None:
    """A provider error part raises ProviderError with the partial at the end."""
    with pytest.raises(sd.ProviderError) as info:
        sd.stream_to_object([TEXT[:20], ProviderErrorPart("overloaded", code="529")], Order)
    assert info.value.code == "529" and info.value.partial.title is not None


def test_content_filter_and_refusal() -> None:
    """content_filter raises ContentFilterError; a refusal without output raises RefusalError."""
    with pytest.raises(sd.ContentFilterError):
        sd.stream_to_object([TEXT, Finish("content_filter")], Order)
    with pytest.raises(sd.RefusalError) as info:
        sd.stream_to_object([RefusalDelta("I can't "), RefusalDelta("help.")], Order)
    assert info.value.refusal == "I can't help."


def test_timeout_raises_cancelled_with_partial() -> None:
    """stream_to_object(timeout=...) cancels with StreamCancelledError and the partial."""
    # Read at start and after each completion (an untimed policy reads no clock per item).
    clock = FakeClock(step=10.0)
    source = RecordingSource(list(TEXT))
    with pytest.raises(sd.StreamCancelledError) as info:
        sd.stream_to_object(source, Order, timeout=30, clock=clock)
    assert source.closed
    assert info.value.partial is not None


@pytest.mark.anyio
async def test_async_timeout_interrupts_a_stalled_source() -> None:
    """astream_to_object's timeout interrupts a source that stalls, keeping the partial."""

    async def stalled() -> AsyncIterator[str]:
        yield TEXT[:30]
        await anyio.sleep(60)
        yield TEXT[30:]

    with pytest.raises(sd.StreamCancelledError) as info:
        await sd.astream_to_object(stalled(), Order, timeout=0.2)
    assert info.value.partial.title is not None


def test_parts_pass_through_in_order() -> None:
    """events() yields reasoning, usage and finish parts in order among the updates."""
    items = [ReasoningDelta("thinking"), TEXT[:10], TEXT[10:], Usage(5, 7), Finish("stop")]
    s = sd.stream(items, Order)
    kinds = [type(e).__name__ for e in s.events()]
    assert kinds[0] == "ReasoningDelta"
    assert kinds[-3:] == ["Usage", "Finish", "Update"]
    assert s.usage == Usage(5, 7) and s.usage.total_tokens == 12
    assert s.finish_reason == "stop"


class Weather(BaseModel):
    city: str
    days: int

    @field_validator("city")
    @classmethod
    def _title(cls, v: str) -> str:
        return v.title()


def test_tool_calls_get_typed_partials_per_call() -> None:
    """Interleaved tool calls each get their own typed partial and one ToolCallDone."""
    items = [
        ToolCallDelta("a", '{"city": "pa', name="weather", index=0),
        ToolCallDelta("b", '{"q": ', name="search", index=1),
        ToolCallDelta("a", 'ris", "days": 3}'),
        ToolCallDelta("b", '"news"}'),
    ]
    events = []
    cities = []
    for event in sd.stream(items, None, tools={"weather": Weather}).events():
        events.append(event)
        if isinstance(event, ToolCallDelta) and event.call_id == "a":
            cities.append(event.partial.city)  # the partial is live: read it now
    assert cities == ["pa", "paris"]
    done = [e for e in events if isinstance(e, ToolCallDone)]
    assert [(d.call_id, d.value) for d in done] == [
        ("a", Weather(city="Paris", days=3)),
        ("b", {"q": "news"}),
    ]


def test_stream_to_text() -> None:
    """stream_to_text joins text, bytes split inside a character, and text parts."""
    assert sd.stream_to_text(["Hel", b"lo \xc3", b"\xa9", TextDelta("!")]) == "Hello é!"
    with pytest.raises(sd.TruncatedStreamError) as info:
        sd.stream_to_text(["cut", Finish("length")])
    assert info.value.partial == "cut"


@pytest.mark.anyio
async def test_astream_to_text() -> None:
    """astream_to_text is the async twin."""

    async def gen() -> AsyncIterator[str]:
        yield "a"
        yield "b"

    assert await sd.astream_to_text(gen()) == "ab"


def test_plain_json_without_model() -> None:
    """Without a model, updates carry plain JSON values, growing update by update."""
    seen = [copy.deepcopy(u.partial) for u in sd.stream(list('{"a": [1, "x"]}'))]
    assert seen == [{}, {"a": []}, {"a": [1]}, {"a": [1, ""]}, {"a": [1, "x"]}, {"a": [1, "x"]}]


def test_a_kept_partial_does_not_change_afterwards() -> None:
    """A partial kept by reference still shows the state of its own update."""
    updates = list(sd.stream(list('{"a": [1, "x"]}')))
    assert [u.partial for u in updates] == [
        {},
        {"a": []},
        {"a": [1]},
        {"a": [1, ""]},
        {"a": [1, "x"]},
        {"a": [1, "x"]},
    ]


class Card(BaseModel):
    title: str
    tags: list[str]


class Board(BaseModel):
    name: str
    cards: list[Card]


BOARD = '{"name": "b", "cards": [{"title": "one", "tags": ["x"]}, {"title": "tw'
REST = '", "tags": []}]}'


def test_kept_typed_partials_are_the_states_of_their_updates() -> None:
    """Typed partials kept by reference equal what each update showed when it was emitted."""
    chunks = [*BOARD, "o", REST]
    kept = list(sd.stream(chunks, Board))
    shown = [u.partial and u.partial.model_dump() for u in sd.stream(chunks, Board)]
    assert [u.partial and u.partial.model_dump() for u in kept] == shown
    assert shown[-4]["cards"][-1] == {"title": "tw", "tags": None}


def test_unchanged_subtrees_are_shared_between_consecutive_updates() -> None:
    """Consecutive updates share what did not change (``is``) and copy the changed path."""
    a, b = list(sd.stream([BOARD, "o", REST], Board))[:2]
    assert a.partial.cards[-1].title == "tw" and b.partial.cards[-1].title == "two"
    assert b.partial.cards[0] is a.partial.cards[0]  # a complete card: shared
    assert b.partial.cards[0].tags is a.partial.cards[0].tags
    assert b.partial is not a.partial  # the changed path: root, list, last card copied
    assert b.partial.cards is not a.partial.cards
    assert b.partial.cards[-1] is not a.partial.cards[-1]


def test_live_partials_are_one_object_changed_in_place() -> None:
    """partials="live" keeps one object, changed in place by later updates."""
    updates = list(sd.stream([BOARD, "o", REST], Board, partials="live"))
    assert updates[0].partial is updates[-1].partial
    assert updates[0].partial.cards[-1].title == "two"


def test_unknown_partials_word_lists_the_valid_ones() -> None:
    """A bad partials value is refused with the valid words."""
    with pytest.raises(ValueError, match="'snapshot', 'live'"):
        sd.stream(["{}"], partials="copy")  # type: ignore[call-overload]


def test_a_partial_model_refuses_attribute_assignment() -> None:
    """Assigning to a snapshot raises UsageError saying what to do instead."""
    update = list(sd.stream([BOARD, REST], Board))[-1]
    with pytest.raises(sd.UsageError, match="snapshot of the stream and never changes"):
        update.partial.name = "other"
    with pytest.raises(sd.UsageError):
        del update.partial.name
    assert update.partial.model_copy(update={"name": "other"}).name == "other"


def test_stream_partial_is_a_snapshot_too() -> None:
    """Stream.partial read mid-stream does not change as the stream goes on."""
    s = sd.stream(['{"name": "a', 'b", "cards": []}'], Board)
    it = iter(s)
    next(it)
    seen = s.partial
    list(it)
    assert seen.name == "a" and s.partial.name == "ab"


def test_tool_call_partials_are_snapshots() -> None:
    """Each ToolCallDelta.partial keeps the arguments as they were at that delta."""
    items = [
        ToolCallDelta("a", '{"city": "Pa', name="weather", index=0),
        ToolCallDelta("a", 'ris", "days": 2}'),
        ToolCallDelta("b", '{"q": "x', name="search", index=1),
        ToolCallDelta("b", 'y"}'),
    ]
    parts = list(sd.stream(items, None, tools={"weather": Weather}).events())
    deltas = [p.partial for p in parts if isinstance(p, ToolCallDelta)]
    assert [d if isinstance(d, dict) else d.model_dump() for d in deltas] == [
        {"city": "Pa", "days": None},
        {"city": "Paris", "days": 2},
        {"q": "x"},
        {"q": "xy"},
    ]


def test_unknown_source_item_is_an_adapter_error() -> None:
    """An item of an unknown type raises AdapterError carrying it."""
    with pytest.raises(sd.AdapterError) as info:
        list(sd.stream([object()], Order))
    assert info.value.event is not None


def test_agent_prose_beside_tool_calls_is_text() -> None:
    """With tools and no model, text is prose: passed on as parts, the final is the text."""
    items = [
        TextDelta("Let me check "),
        b"the weather \xc3",
        b"\xa9t\xc3\xa9.",
        ToolCallDelta("a", '{"city": "Paris", "days": 2}', name="weather", index=0),
        Finish("tool_calls"),
    ]
    s = sd.stream(items, None, tools={"weather": Weather})
    events = list(s.events())
    texts = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(texts) == "Let me check the weather été."
    assert [e.value for e in events if isinstance(e, ToolCallDone)] == [
        Weather(city="Paris", days=2)
    ]
    assert s.final == "Let me check the weather été."


class Aliased(BaseModel):
    name: str = Field(validation_alias="fullName")
    age: int


def test_missing_paths_use_the_json_keys() -> None:
    """A truncation names missing fields by the keys the JSON uses (validation aliases too)."""
    with pytest.raises(sd.TruncatedStreamError) as info:
        sd.stream_to_object(['{"age": 3'], Aliased)
    assert ("fullName",) in info.value.missing_paths


class Tagged(BaseModel):
    kind: str
    x: int


class Boxed(BaseModel):
    v: Tagged | list[Any]


def test_a_union_being_decided_shows_copies_of_its_raw_json() -> None:
    """An undecided union's `Any` view is a copy of its raw mirror, so kept partials hold."""
    chunks = list('{"v": [[1, 2], {"a": [3]}]}')
    kept = [u.partial for u in sd.stream(chunks, Boxed)]
    shown = [u.partial and u.partial.model_dump() for u in sd.stream(chunks, Boxed)]
    assert [p and p.model_dump() for p in kept] == shown
    assert {"v": [[1]]} in shown


class Series(BaseModel):
    values: list[int]


def test_a_long_list_is_reused_only_when_nothing_holds_it() -> None:
    """A list no kept update holds is updated at its end instead of copied; one you hold
    (here only the list, not its update) never changes."""
    chunks = ['{"values": [', *(f"{i}, " for i in range(200)), "200]}"]
    held: Any = None
    lists = []
    for update in sd.stream(chunks, Series):
        if update.index == 50:
            held, copied = update.partial.values, list(update.partial.values)
        if update.partial is not None and update.partial.values is not None:
            lists.append(id(update.partial.values))
    assert held == copied == list(range(50))
    assert len(set(lists)) < len(lists) // 2  # recycled: a few list objects in turn


UPDATE_FIELDS = (
    "index",
    "partial",
    "events",
    "completed",
    "elements",
    "errors",
    "parts",
    "done",
    "final",
    "finish_reason",
    "usage",
)


@pytest.mark.parametrize("name", [*UPDATE_FIELDS, "new_attribute"])
def test_an_update_is_a_frozen_value(name: str) -> None:
    """Assigning to any attribute of an Update (or adding one) raises AttributeError."""
    update = list(sd.stream(['{"a": [1]}']))[-1]
    with pytest.raises(AttributeError):
        setattr(update, name, None)


def test_an_updates_sequences_are_tuples_and_it_compares_by_value() -> None:
    """events, completed, elements, errors, parts and deltas are tuples; two updates with
    the same fields are equal."""
    updates = list(sd.stream(['{"a": [1', "]}"]))
    last = updates[-1]
    for name in ("events", "completed", "elements", "errors", "parts", "deltas"):
        assert type(getattr(last, name)) is tuple, name
    again = list(sd.stream(['{"a": [1', "]}"]))[-1]
    assert again == last
    assert updates[0] != last


class CountingClock:
    def __init__(self) -> None:
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return float(self.reads)


@pytest.mark.parametrize("emit", ["changes", "completions"])
def test_an_untimed_policy_reads_no_clock(emit: Literal["changes", "completions"]) -> None:
    """With "changes" or "completions" the stream never reads its clock (nothing is timed)."""
    clock = CountingClock()
    updates = list(sd.stream(list(TEXT), Order, emit=emit, clock=clock))
    assert updates[-1].final == Order.model_validate(ORDER)
    assert clock.reads == 0


@pytest.mark.anyio
@pytest.mark.parametrize("emit", ["changes", "completions"])
async def test_an_untimed_policy_reads_no_clock_async(
    emit: Literal["changes", "completions"],
) -> None:
    """The async twin reads no clock either with an untimed policy."""
    clock = CountingClock()
    updates = [u async for u in sd.astream(list(TEXT), Order, emit=emit, clock=clock)]
    assert updates[-1].final == Order.model_validate(ORDER)
    assert clock.reads == 0


def test_a_timed_policy_reads_the_clock_once_per_item() -> None:
    """Throttle reads the clock once per item (the poll and the feed share it), and at the end."""
    clock = CountingClock()
    list(sd.stream(list(TEXT), Order, emit=Throttle(1000), clock=clock))
    assert clock.reads == len(TEXT) + 1


# The stream layer's own modules: what runs above the parser and the validator.
_LAYER_FILES = tuple(
    str(pathlib.Path(sd.__file__).with_name(name))
    for name in (
        "_aggregate.py",
        "_stream_core.py",
        "_source.py",
        "_pipeline.py",
        "_emitter.py",
        "_update.py",
        "_text_step.py",
    )
)


# Without the compiled constructor (STREAMDANTIC_PURE_PYTHON=1), an update also runs its twin
# `_py_new_update` and `Update.__init__`.
_BUILD_CALLS = 0 if _update._C_NEW_UPDATE is not None else 2
# Without the compiled text step, an item also runs its twin's loop (a generator resumption
# per update, not per item), `PyTextStep.__call__`, `_ready` and `_text`.
_TWIN_LOOP = 0 if _text_step.COMPILED else 1
_TWIN_STEP = 0 if _text_step.COMPILED else 3


def _layer_calls(step: Any, extra: tuple[str, ...] = ()) -> int:
    """Python-level calls (generator resumptions included) into the stream layer's modules
    (and the files in `extra`) while `step()` runs. The garbage collector is off meanwhile:
    a collected, unfinished stream of an earlier test would close its source in the count."""
    import gc
    import sys

    files = (*_LAYER_FILES, *extra)
    calls = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "call" and frame.f_code.co_filename in files:
            calls += 1

    gc.collect()
    gc.disable()
    sys.setprofile(profile)
    try:
        step()
    finally:
        sys.setprofile(None)
        gc.enable()
    return calls


def test_a_text_chunk_costs_few_stream_layer_calls() -> None:
    """A token of text that makes an update runs one Python function of the stream layer,
    the one generator's resumption (the compiled text step feeds the parser, applies the
    events and builds the Update in C: no core feed, pipeline or emitter call), and a token
    that makes no event none."""

    class Note(BaseModel):
        text: str

    chunks = ['{"text": "', "a", "b", "c", "d", "e", "f", "g", "h", '"}']
    updates = iter(sd.stream(chunks, Note))
    next(updates)  # the first update: the model and the string appear
    per_update = [_layer_calls(lambda: next(updates)) for _ in range(4)]
    assert max(per_update) <= 1 + _TWIN_LOOP + _TWIN_STEP + _BUILD_CALLS, per_update

    quiet = iter(sd.stream(['{"text": "ab", "n', "u", "m", '": 1}'], dict[str, Any]))
    next(quiet)
    # "u" and "m" end inside a key: no event, no update; the update comes with '": 1}', all
    # in one resumption of the one generator.
    assert _layer_calls(lambda: next(quiet)) <= 1 + _TWIN_LOOP + 3 * _TWIN_STEP + _BUILD_CALLS


def _adapter_events(kind: str) -> list[Any]:
    pieces = ['{"text": "', "a", "b", "c", "d", '"}']
    if kind == "bedrock":
        return [
            {"contentBlockDelta": {"delta": {"text": p}, "contentBlockIndex": 0}} for p in pieces
        ]
    from langchain_core.messages import AIMessageChunk

    return [AIMessageChunk(content=p) for p in pieces]


@pytest.mark.parametrize("kind", ["bedrock", "langchain"])
def test_a_provider_text_event_costs_few_stream_layer_calls(kind: str) -> None:
    """A provider event carrying one piece of text that makes an update runs two Python
    functions of the stream layer and its adapter: the generator's resumption and the
    adapter's ``text_of`` (the compiled text step asks it for the event's text, then goes
    on as for text: no core feed, router, pipeline or emitter call)."""
    from streamdantic.adapters import bedrock, langchain

    adapter_files = (bedrock.__file__, langchain.__file__)

    class Note(BaseModel):
        text: str

    updates = iter(sd.stream(_adapter_events(kind), Note))
    next(updates)
    calls = [_layer_calls(lambda: next(updates), adapter_files) for _ in range(3)]
    assert max(calls) <= 2 + _TWIN_LOOP + _TWIN_STEP + _BUILD_CALLS, calls
