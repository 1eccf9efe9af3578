"""Unit tests of the tool-call tracker (_tool_calls.py): exact argument deltas in, the
parts to pass on (typed partial arguments, `ToolCallDone`) out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from pydantic import BaseModel

from streamdantic import IncompleteJSONError, StreamValidationError
from streamdantic._parts import ToolCallDelta, ToolCallDone
from streamdantic._paths import Path
from streamdantic._tool_calls import ToolCallTracker
from streamdantic._validation import InvalidValue


class Weather(BaseModel):
    city: str
    days: int = 1


def test_a_delta_comes_back_with_the_typed_partial_arguments() -> None:
    """Each delta is passed on with the call's partial, typed by the tool's model."""
    tracker = ToolCallTracker({"weather": Weather})
    [part] = tracker.feed(ToolCallDelta("c1", '{"city": "Pa', name="weather", index=0))
    assert isinstance(part, ToolCallDelta)
    assert (part.call_id, part.name, part.arguments, part.index) == (
        "c1",
        "weather",
        '{"city": "Pa',
        0,
    )
    assert part.partial.city == "Pa"
    assert bool(tracker)


def test_arguments_that_complete_finish_the_call_once() -> None:
    """The delta that completes the JSON is followed by ToolCallDone with validated
    arguments; a later provider ToolCallDone adds nothing."""
    tracker = ToolCallTracker({"weather": Weather})
    tracker.feed(ToolCallDelta("c1", '{"city": ', name="weather"))
    parts = tracker.feed(ToolCallDelta("c1", '"Paris"}'))
    assert [type(p) for p in parts] == [ToolCallDelta, ToolCallDone]
    assert parts[1] == ToolCallDone("c1", "weather", '{"city": "Paris"}', Weather(city="Paris"))
    assert tracker.done("c1") is None
    assert tracker.close() == ([], None)


def test_the_provider_can_finish_a_call() -> None:
    """done(call_id) finishes a known, unfinished call once (here one whose arguments never
    came); unknown ids give None."""
    tracker = ToolCallTracker()
    [announced] = tracker.feed(ToolCallDelta("c1", name="ping"))
    assert announced == ToolCallDelta("c1", "", name="ping")
    assert tracker.done("nope") is None
    assert tracker.done("c1") == ToolCallDone("c1", "ping", "", None)
    assert tracker.done("c1") is None
    assert tracker.close() == ([], None)


def test_calls_are_tracked_by_id_and_the_name_may_come_later() -> None:
    """Interleaved calls keep separate parsers; a name on a later delta is kept."""
    tracker = ToolCallTracker({"weather": Weather})
    tracker.feed(ToolCallDelta("a", '{"city": "X"'))
    tracker.feed(ToolCallDelta("b", '{"q": ', name="search"))
    tracker.feed(ToolCallDelta("a", "", name="weather"))
    a_done = tracker.feed(ToolCallDelta("a", "}"))[-1]
    b_done = tracker.feed(ToolCallDelta("b", "1}"))[-1]
    # Call "a" was created before its name was known: its arguments stay plain JSON.
    assert a_done == ToolCallDone("a", "weather", '{"city": "X"}', {"city": "X"})
    assert b_done == ToolCallDone("b", "search", '{"q": 1}', {"q": 1})


def test_a_tool_without_a_model_gets_plain_json_snapshots() -> None:
    """Unnamed tools get plain JSON partials, each a value later deltas do not change."""
    tracker = ToolCallTracker()
    [first] = tracker.feed(ToolCallDelta("c1", '{"a": [1, ', name="f"))
    tracker.feed(ToolCallDelta("c1", "2"))
    [third] = tracker.feed(ToolCallDelta("c1", ", 3"))
    assert first.partial == {"a": [1]}
    assert third.partial == {"a": [1, 2]}


def test_close_finishes_complete_calls_and_reports_cut_off_ones() -> None:
    """At close, a call with complete arguments is finished; a cut-off one is reported as
    an IncompleteJSONError (one for all)."""
    tracker = ToolCallTracker()
    tracker.feed(ToolCallDelta("a", "7", name="f"))
    tracker.feed(ToolCallDelta("b", '{"x": ', name="g"))
    tracker.feed(ToolCallDelta("c", '{"y": ', name="h"))
    finished, cut_off = tracker.close()
    assert finished == [ToolCallDone("a", "f", "7", 7)]
    assert isinstance(cut_off, IncompleteJSONError)
    assert "tool call was cut off" in str(cut_off)


def test_invalid_completed_values_go_to_on_invalid_with_the_call_prefix() -> None:
    """A completed argument value that fails its model is handed to on_invalid with the
    path prefix ("tool_calls", call_id), before the delta is passed on."""
    seen: list[tuple[list[Path], Path]] = []

    def on_invalid(errors: Sequence[InvalidValue], prefix: Path) -> None:
        seen.append(([e.path for e in errors], prefix))

    tracker = ToolCallTracker({"weather": Weather}, on_invalid=on_invalid)
    tracker.feed(ToolCallDelta("c1", '{"days": "many",', name="weather"))
    assert seen == [([("days",)], ("tool_calls", "c1"))]


def test_finishing_arguments_that_do_not_fit_raises() -> None:
    """Complete arguments that miss a required field raise StreamValidationError, which
    names the call (tool and id) and carries its path and the arguments' text."""
    tracker = ToolCallTracker({"weather": Weather})
    with pytest.raises(StreamValidationError, match=r"^tool call weather \(c1\): ") as info:
        tracker.feed(ToolCallDelta("c1", "{}", name="weather"))
    assert info.value.path == ("tool_calls", "c1")
    assert info.value.raw_text == "{}" and info.value.errors


def test_partials_live_shares_one_object_per_call() -> None:
    """partials="live": each delta of a call carries the same object, changed in place."""
    tracker = ToolCallTracker(partials="live")
    [first] = tracker.feed(ToolCallDelta("c1", "[1, ", name="f"))
    [second] = tracker.feed(ToolCallDelta("c1", "2, "))
    partial: Any = first.partial
    assert partial is second.partial and partial == [1, 2]


def test_a_provider_done_flushes_a_top_level_number() -> None:
    """Arguments "12" are a number the parser holds back until the end: the provider's
    ToolCallDone ends them, so the value is 12 (it was None)."""
    tracker = ToolCallTracker()
    tracker.feed(ToolCallDelta("c1", "12", name="count"))
    assert tracker.done("c1") == ToolCallDone("c1", "count", "12", 12)
    assert tracker.close() == ([], None)
