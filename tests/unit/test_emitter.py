"""Unit tests of the emitter stage (_emitter.py): exact batches and times in, exact
`Update`s and callback calls out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from streamdantic import Debounce, Throttle
from streamdantic._emitter import Emitter
from streamdantic._events import Event, ValueCompleted, ValueStarted
from streamdantic._parts import Finish, ReasoningDelta, Usage
from streamdantic._update import Update
from streamdantic._validation import Changes, InvalidValue


@dataclass
class Source:
    partial: Any = None
    finish_reason: str | None = None
    usage: Usage | None = None


def changes(*, changed: bool = True, completed: Sequence[Any] = (), **lists: Any) -> Changes:
    result = Changes()
    result.changed = changed
    for path in completed:
        result.add("completed", path)
    for name, items in lists.items():
        for item in items:
            result.add(name, item)
    return result


START: list[Event] = [ValueStarted((), "object")]
DONE_A: list[Event] = [ValueCompleted(("a",), 1)]


def emitted(emitter: Emitter[Any], now: float = 0.0) -> list[Any]:
    out: list[Any] = []
    emitter.maybe_emit(now, out)
    return out


def test_every_change_makes_one_update_with_what_it_folds_in() -> None:
    """emit="changes": a visible change is one update carrying the batch's events, completed
    paths and elements as tuples, numbered from 0; the pending lists start afresh."""
    source = Source(partial={"a": 1})
    emitter: Emitter[Any] = Emitter("changes", source)
    emitter.ingest(START, changes())
    emitter.ingest(DONE_A, changes(completed=[("a",)], elements=[(("a",), 1)]))
    [update] = emitted(emitter)
    assert update == Update(0, {"a": 1}, (*START, *DONE_A), ((("a",)),), ((("a",), 1),), (), ())
    assert emitted(emitter) == []
    emitter.ingest(START, changes())
    [second] = emitted(emitter)
    assert (second.index, second.events, second.completed) == (1, tuple(START), ())


def test_a_batch_without_a_visible_change_makes_no_update() -> None:
    """Events that change nothing visible are kept for the next update, not emitted."""
    emitter: Emitter[Any] = Emitter("changes", Source())
    emitter.ingest(START, changes(changed=False))
    assert not emitter.held and emitted(emitter) == []
    emitter.ingest(DONE_A, changes())
    [update] = emitted(emitter)
    assert update.events == (*START, *DONE_A)


def test_parts_and_errors_ride_on_the_next_update() -> None:
    """add_part and add_errors make no update on their own; the next update carries them."""
    emitter: Emitter[Any] = Emitter("changes", Source())
    invalid = InvalidValue(("a",), [{"msg": "bad"}], "bad")
    emitter.add_part(ReasoningDelta("hm"))
    emitter.add_errors([invalid])
    assert emitted(emitter) == []
    emitter.ingest(START, changes())
    [update] = emitted(emitter)
    assert (update.parts, update.errors) == ((ReasoningDelta("hm"),), (invalid,))


def test_completions_emits_only_when_a_value_completed() -> None:
    """emit="completions": a change without a completion is dropped; a completion emits."""
    emitter: Emitter[Any] = Emitter("completions", Source())
    emitter.ingest(START, changes())
    assert emitted(emitter) == [] and not emitter.held
    emitter.ingest(DONE_A, changes(changed=False, completed=[("a",)]))
    [update] = emitted(emitter)
    assert update.completed == (("a",),)


def test_throttle_emits_the_first_change_then_at_most_once_per_interval() -> None:
    """Throttle(10): the first change goes out at once; one 0.05 s later is held until
    next_deadline (0.1 s after the last update), where poll emits it."""
    emitter: Emitter[Any] = Emitter(Throttle(10), Source())
    assert emitter.next_deadline == float("inf")
    emitter.ingest(START, changes())
    assert len(emitted(emitter, 0.0)) == 1
    emitter.ingest(DONE_A, changes())
    assert emitted(emitter, 0.05) == []
    assert emitter.next_deadline == pytest.approx(0.1)
    assert emitter.poll(0.09) == []
    [update] = emitter.poll(0.1)
    assert update.events == tuple(DONE_A)
    assert emitter.next_deadline == float("inf")


def test_debounce_waits_for_a_quiet_period() -> None:
    """Debounce(0.5): each change moves the deadline to 0.5 s after it; poll emits there."""
    emitter: Emitter[Any] = Emitter(Debounce(0.5), Source())
    emitter.ingest(START, changes())
    assert emitted(emitter, 0.0) == []
    assert emitter.next_deadline == 0.5
    emitter.ingest(DONE_A, changes())
    assert emitted(emitter, 0.3) == []
    assert emitter.next_deadline == 0.8
    assert emitter.poll(0.6) == []
    [update] = emitter.poll(0.8)
    assert update.events == (*START, *DONE_A)


def test_debounce_zero_emits_at_once() -> None:
    """Debounce(0) is no delay."""
    emitter: Emitter[Any] = Emitter(Debounce(0), Source())
    emitter.ingest(START, changes())
    assert len(emitted(emitter, 1.0)) == 1


@pytest.mark.parametrize("emit", ["changes", Throttle(1), Debounce(10)], ids=str)
def test_callbacks_fire_once_per_completed_value_whatever_the_policy(emit: Any) -> None:
    """on_field and on_element fire from ingest, once per completed value, even while the
    policy holds the update back; patterns take "*" wildcards."""
    emitter: Emitter[Any] = Emitter(emit, Source())
    fields: list[Any] = []
    elements: list[Any] = []
    emitter.on_field("items[*].name", fields.append)
    emitter.on_element("$.items", elements.append)
    emitter.on_field(("other",), fields.append)
    batch = changes(
        fields=[(("items", 0, "name"), "x"), (("items", 1, "name"), "y"), (("top",), 1)],
        elements=[(("items", 0), {"name": "x"}), (("nested", "items", 0), 0)],
    )
    emitter.ingest(START, batch)
    emitted(emitter, 0.5)
    emitter.ingest(DONE_A, changes())
    emitted(emitter, 0.6)
    assert fields == ["x", "y"]
    assert elements == [{"name": "x"}]


def test_finish_builds_the_final_update_then_runs_on_final() -> None:
    """finish() always makes the done update (with whatever is pending, finish reason and
    usage read from the source), then calls each on_final callback once."""
    usage = Usage(1, 2, 3)
    source = Source(partial={"a": 1}, finish_reason="stop", usage=usage)
    emitter: Emitter[Any] = Emitter(Debounce(10), source)
    seen: list[tuple[Any, int]] = []
    emitter.on_final(lambda final: seen.append((final, len(seen))))
    emitter.ingest(START, changes())
    emitted(emitter, 0.0)
    emitter.add_part(Finish("stop"))
    final = emitter.finish({"a": 1})
    assert final == Update(
        0,
        {"a": 1},
        tuple(START),
        parts=(Finish("stop"),),
        done=True,
        final={"a": 1},
        finish_reason="stop",
        usage=usage,
    )
    assert seen == [({"a": 1}, 0)]


POLICIES = [
    pytest.param("changes", id="changes"),
    pytest.param("completions", id="completions"),
    pytest.param(Throttle(10), id="throttle"),
    pytest.param(Debounce(0.0), id="debounce0"),
]
BATCHES: list[tuple[list[Event], Changes, float]] = [
    (START, changes(), 0.0),
    ([], changes(changed=False), 0.01),
    (DONE_A, changes(completed=[("a",)], fields=[(("a",), 1)]), 0.02),
    (START, changes(), 0.5),
    (DONE_A, changes(changed=False, completed=[("a",)], elements=[(("a",), 1)]), 0.6),
]


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("callbacks", [False, True], ids=["plain", "callbacks"])
def test_take_is_ingest_then_maybe_emit(policy: Any, callbacks: bool) -> None:
    """`take` (the core's one call per batch) gives the updates and callbacks that `ingest`
    followed by `maybe_emit` give, batch by batch, under every policy."""
    results = []
    for use_take in (False, True):
        seen: list[Any] = []
        emitter: Emitter[Any] = Emitter(policy, Source(partial={"a": 1}))
        if callbacks:
            emitter.on_field("a", seen.append)
        per_batch = []
        for events, batch, now in BATCHES:
            out: list[Any] = []
            if use_take:
                emitter.take(events, batch, now, out)
            else:
                emitter.ingest(events, batch)
                emitter.maybe_emit(now, out)
            per_batch.append(out)
        results.append((per_batch, seen, emitter.held))
    assert results[0] == results[1]
    assert any(results[0][0])


@pytest.mark.parametrize(
    ("policy", "timed"),
    [("changes", False), ("completions", False), (Throttle(5), True), (Debounce(1.0), True)],
)
def test_timed_says_whether_the_policy_keeps_time(policy: Any, timed: bool) -> None:
    """Only Throttle and Debounce keep time (the I/O layers read a clock only for them)."""
    assert Emitter(policy, Source()).timed is timed
