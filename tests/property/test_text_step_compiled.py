"""The compiled text step (`_speedups.TextStep`, `_speedups.Outputs`) against its pure-Python
twin (`_text_step.PyTextStep`, `_text_step.py_outputs`).

Both must be indistinguishable through `stream()`: for a few documents (typed and plain,
valid, invalid, malformed, cut off), re-chunked by hypothesis, fed as text, as bytes or as
Bedrock events, with stream parts (finish reason, usage) in between, with and without
callbacks, invalid values raised or reported: the same outputs in the same order (every
update's index, partial, events, completed paths, elements, errors, parts, finish reason and
usage; every part), the same error, the same end state, and every kept partial still shows,
at the end, what it showed when it was emitted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from pydantic import BaseModel, Field

import streamdantic as sd
from streamdantic import _aggregate, _stream_core, _text_step
from streamdantic._parts import Finish, Usage
from streamdantic._stream_core import StreamCore
from streamdantic._update import Update
from tests.helpers import printed_with_and_without_pure_python
from tests.property.strategies import chunkings
from tests.property.test_snapshot_compiled import shown

pytestmark = pytest.mark.skipif(not _text_step.COMPILED, reason="the C extension is not built")

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Item(BaseModel):
    name: str
    qty: int = Field(gt=0)


class Order(BaseModel):
    note: str
    items: list[Item]
    total: float | None = None


_VALID = (
    '{"note": "h\\u00e9llo \\"w\\" \u2713", "skip": {"deep": ["x", 1]}, '
    '"items": [{"name": "a", "qty": 1}, {"name": "bb", "qty": 22}], "total": 3.5}'
)
# (model, text): valid, an invalid completed value, malformed JSON, cut off; plain JSON.
DOCUMENTS: list[tuple[Any, str]] = [
    (Order, _VALID),
    (Order, '{"note": "n", "items": [{"name": "a", "qty": 0}, {"name": "b", "qty": 2}]}'),
    (Order, '{"note": "n", "items": [{"name": "a", "qty": 1}, }'),
    (Order, '{"note": "cut off", "items": [{"name": "a", "q'),
    (None, '{"a": [1, "x", {"b": null, "c": true}], "d": "\u00e9e", "e": -1.5e3}'),
]

TWINS: dict[str, tuple[Any, Any]] = {
    "compiled": (_text_step.TextStep, _text_step.outputs),
    "python": (_text_step.PyTextStep, _text_step.py_outputs),
}


@dataclass(frozen=True)
class Case:
    model: Any
    items: list[Any]
    on_invalid: Literal["raise", "report"]
    callbacks: bool
    every: bool


def _bedrock(pieces: list[str]) -> Iterator[Any]:
    for piece in pieces:
        yield {"contentBlockDelta": {"delta": {"text": piece}, "contentBlockIndex": 0}}
    yield {"contentBlockDelta": {"delta": {"text": ""}, "contentBlockIndex": 0}}  # no text
    yield {"messageStop": {"stopReason": "end_turn"}}
    yield {"metadata": {"usage": {"inputTokens": 3, "outputTokens": 5, "totalTokens": 8}}}


@st.composite
def cases(draw: st.DrawFn) -> Case:
    model, text = draw(st.sampled_from(DOCUMENTS))
    form = draw(st.sampled_from(["str", "bytes", "bedrock"]))
    if form == "bytes":
        items: list[Any] = draw(chunkings(text.encode()))
    else:
        items = draw(chunkings(text))
    if form == "bedrock":
        items = list(_bedrock(items))
    else:
        # Stream parts between the pieces of text: the step hands them (and the next
        # piece, with a part pending) to the general path.
        for _ in range(draw(st.integers(0, 2))):
            part = draw(st.sampled_from([Finish("stop"), Usage(1, 2, 3)]))
            items.insert(draw(st.integers(0, len(items))), part)
    return Case(
        model,
        items,
        draw(st.sampled_from(["raise", "report"])),
        draw(st.booleans()),
        draw(st.booleans()),
    )


def rendered(value: Any) -> Any:
    """A partial as `shown` renders it (field values, states, fields set); a validated
    model (an element, the final object) as its type and dump."""
    if isinstance(value, BaseModel) and not hasattr(value, "field_state"):
        return (type(value).__name__, value.model_dump())
    return shown(value)


def shown_update(update: Update[Any]) -> tuple[Any, ...]:
    return (
        update.index,
        rendered(update.partial),
        update.events,
        update.completed,
        [(path, rendered(value)) for path, value in update.elements],
        [repr(error) for error in update.errors],
        update.parts,
        update.done,
        rendered(update.final),
        update.finish_reason,
        update.usage,
    )


def trace(twin: str, case: Case) -> list[Any]:
    """Everything observable in one stream run on `twin`."""
    step, outputs = TWINS[twin]
    seen: list[Any] = []
    kept: list[tuple[Any, Any]] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_stream_core, "TextStep", step)
        mp.setattr(_aggregate, "outputs", outputs)
        s = sd.stream(case.items, case.model, on_invalid=case.on_invalid)
        assert type(s._core.step) is step
        if case.callbacks:
            s.on_field("note", lambda value: seen.append(("field", value)))
            s.on_element("items", lambda value: seen.append(("element", rendered(value))))
        outputs_of = iter(s.events() if case.every else s)
        while True:
            try:
                out = next(outputs_of)
            except StopIteration:
                break
            except Exception as exc:  # the stream's error (not one of this function's)
                seen.append(("error", type(exc), str(exc), rendered(getattr(exc, "partial", None))))
                break
            if type(out) is Update:
                seen.append(shown_update(out))
                kept.append((out.partial, seen[-1][1]))
            else:
                seen.append(("part", out))
        seen.append(("end", rendered(s.partial), s.raw_text, s.finish_reason, s.usage))
    seen.append([rendered(partial) == then for partial, then in kept])
    return seen


@SETTINGS
@given(cases())
def test_the_compiled_step_is_the_pure_python_one(case: Case) -> None:
    """The same outputs, errors, end state and kept snapshots on both twins."""
    compiled, python = trace("compiled", case), trace("python", case)
    assert compiled == python
    assert all(compiled[-1])
    errors = [entry[1] for entry in compiled if type(entry) is tuple and entry[0] == "error"]
    assert all(issubclass(error, sd.StreamdanticError) for error in errors), errors


@pytest.mark.parametrize("twin", list(TWINS))
def test_a_valid_document_streams_to_its_final_object(twin: str) -> None:
    """The trace of a valid document, one character an item, ends with the final update
    (the comparison above covers whole streams, not only their first error)."""
    seen = trace(twin, Case(Order, list(_VALID), "raise", True, True))
    updates = [entry for entry in seen if type(entry) is tuple and type(entry[0]) is int]
    assert updates[-1][7] and updates[-1][8] == (
        "Order",
        Order.model_validate_json(_VALID).model_dump(),
    )
    assert sum(1 for entry in seen if entry[0] == "element") == 2


def _step_calls(twin: str, items: list[Any]) -> tuple[list[str], type[Exception] | None]:
    """Which of the core's Python paths the step of `twin` hands each item to, and the
    error the stream ends with."""
    step, outputs = TWINS[twin]
    calls: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_stream_core, "TextStep", step)
        mp.setattr(_aggregate, "outputs", outputs)
        for name in ("_feed", "_take", "_feed_event"):
            original: Callable[..., Any] = getattr(StreamCore, name)

            def spy(*args: Any, _name: str = name, _f: Callable[..., Any] = original) -> Any:
                calls.append(_name)
                return _f(*args)

            mp.setattr(StreamCore, name, spy)  # before the step binds the core's methods
        try:
            list(sd.stream(items, Order).events())
        except Exception as exc:
            return calls, type(exc)
    return calls, None


@pytest.mark.parametrize("twin", list(TWINS))
def test_the_step_hands_back_only_what_it_does_not_take(twin: str) -> None:
    """Text that makes an update or nothing stays in the step; the first text (no parser
    yet), a part, the text after a part, an invalid value and a batch with no visible
    change go to the core's Python paths, each to the one that takes it."""
    items = [
        '{"note": "a',  # the parser does not exist yet: _feed (which takes its batch)
        "b",  # the step
        "c",  # the step
        '", "sk',  # the key's events, nothing visible: _take
        'ip": 1, ',  # a batch pending: _feed (and _take)
        Finish("stop"),  # not text: _feed
        '"items": [',  # a part pending: _feed (and _take)
        '{"name": "x", ',  # the step
        '"qty": 0}',  # an invalid value: _take, which raises
    ]
    assert _step_calls(twin, items) == (
        ["_feed", "_take", "_take", "_feed", "_take", "_feed", "_feed", "_take", "_take"],
        sd.StreamValidationError,
    )
    # Bedrock events: the first goes to the router (which meets the adapter); text events
    # after that stay in the step; an event whose text_of is None goes to _feed_event (an
    # empty delta, the stop), until a part is pending (the usage: _feed).
    events = list(_bedrock(['{"note": "a', "b", "c"]))
    assert _step_calls(twin, events) == (
        ["_feed", "_feed_event", "_feed_event", "_feed"],
        sd.TruncatedStreamError,
    )


def test_the_pure_python_switch_selects_the_python_twins() -> None:
    """``STREAMDANTIC_PURE_PYTHON=1`` makes streams run `PyTextStep` and `py_outputs`; by
    default the compiled ones run."""
    code = (
        "import streamdantic as sd; from streamdantic import _text_step as t; "
        "s = sd.stream(['{}']); print(type(s._core.step).__name__, t.outputs.__name__)"
    )
    runs = printed_with_and_without_pure_python(code)
    assert runs == ["TextStep Outputs", "PyTextStep py_outputs"]


@pytest.mark.parametrize("twin", list(TWINS))
def test_the_loop_refuses_to_be_reentered_as_a_generator_does(twin: str) -> None:
    """An item source that asks the loop for its next output while the loop waits for that
    item gets the generator's ValueError, from either twin (never a crash)."""
    step, outputs = TWINS[twin]
    loop: Iterator[Any] | None = None

    def source() -> Iterator[Any]:
        yield '{"note": "a'
        assert loop is not None
        next(loop)
        yield "b"  # pragma: no cover - never reached

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_stream_core, "TextStep", step)
        core: StreamCore[Order] = StreamCore(Order)
    loop = outputs(core.step, source(), True)
    assert type(next(loop)) is Update
    with pytest.raises(ValueError, match="already executing"):
        next(loop)


@pytest.mark.anyio
@pytest.mark.parametrize("form", ["str", "bytes"])
@pytest.mark.parametrize("twin", list(TWINS))
async def test_astream_runs_the_step_as_stream_does(twin: str, form: str) -> None:
    """`astream` calls the same step per item (no loop object): on either twin, its
    outputs are those of `stream` over the same items."""
    step, outputs = TWINS[twin]
    data: Any = _VALID if form == "str" else _VALID.encode()
    items: list[Any] = [*(data[i : i + 3] for i in range(0, 60, 3)), Finish("stop"), data[60:]]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_stream_core, "TextStep", step)
        mp.setattr(_aggregate, "outputs", outputs)
        synchronous = [shown_update(u) for u in sd.stream(items, Order)]
        s = sd.astream(items, Order)
        assert type(s._core.step) is step
        asynchronous = [shown_update(u) async for u in s]
    assert asynchronous == synchronous
    assert synchronous[-1][7]  # done
