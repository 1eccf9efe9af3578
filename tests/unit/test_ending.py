"""Unit tests of the end-of-stream error table (_ending.py) and of `StreamCore.close()`
reading it: one test per row, the order between rows, the validation that comes after."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from pydantic import BaseModel

from streamdantic import (
    ContentFilterError,
    IncompleteJSONError,
    ProviderError,
    RefusalError,
    StreamValidationError,
    TruncatedStreamError,
)
from streamdantic._deltas import Chunk, Delta
from streamdantic._ending import ENDING_ERRORS, Ending, ending_error, ending_row
from streamdantic._parts import Finish, ProviderErrorPart, RefusalDelta, ToolCallDelta
from streamdantic._stream_core import StreamCore


class Item(BaseModel):
    a: int
    b: str = ""


CUT = IncompleteJSONError("the text ended inside a value")

#: For each row, the facts that make its condition hold (and the error it builds).
HOLDS: dict[str, tuple[dict[str, Any], type[Exception]]] = {
    "provider_error": ({"error": ProviderErrorPart("overloaded", "529")}, ProviderError),
    "content_filter": ({"finish_reason": "content_filter"}, ContentFilterError),
    "refusal": ({"refusal": "I can't", "has_output": False}, RefusalError),
    "cut_off": ({"cut_off": CUT}, TruncatedStreamError),
    "nothing_arrived": ({"has_model": True, "has_output": False}, TruncatedStreamError),
    "incomplete": ({"complete": False}, TruncatedStreamError),
    "text_length": ({"text_mode": True, "finish_reason": "length"}, TruncatedStreamError),
}
ORDER = [name for name, _, _ in ENDING_ERRORS]


def test_the_table_lists_every_row_once_in_the_documented_order() -> None:
    """The rows are the seven documented ones, in the order the module docstring states."""
    assert ORDER == [
        "provider_error",
        "content_filter",
        "refusal",
        "cut_off",
        "nothing_arrived",
        "incomplete",
        "text_length",
    ]
    assert set(HOLDS) == set(ORDER)


def test_a_clean_ending_has_no_error() -> None:
    """With output that completed and no provider signal, no row holds."""
    ending = Ending(has_output=True, has_model=True, finish_reason="stop")
    assert ending_row(ending) is None
    assert ending_error(ending) is None


@pytest.mark.parametrize("name", ORDER)
def test_each_row_alone_builds_its_error(name: str) -> None:
    """The facts of one row alone select that row and build its error type."""
    facts, error_type = HOLDS[name]
    ending = Ending(**{"has_output": True, **facts})
    row = ending_row(ending)
    assert row is not None and row[0] == name
    assert type(ending_error(ending)) is error_type


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        pair
        for pair in itertools.combinations(ORDER, 2)
        # content_filter and text_length need different finish reasons: never both.
        if pair != ("content_filter", "text_length")
    ],
    ids="-over-".join,
)
def test_when_two_rows_hold_the_earlier_wins(earlier: str, later: str) -> None:
    """For every pair of rows that can hold together, the earlier row decides."""
    facts = {"has_output": True, **HOLDS[later][0], **HOLDS[earlier][0]}
    ending = Ending(**facts)
    conditions = {name: condition for name, condition, _ in ENDING_ERRORS}
    assert conditions[earlier](ending) and conditions[later](ending)
    row = ending_row(ending)
    assert row is not None and row[0] == earlier


def test_the_provider_error_keeps_code_raw_and_partial() -> None:
    """ProviderError carries the part's message, code and raw payload, and the partial."""
    part = ProviderErrorPart("overloaded", "529", raw={"type": "error"})
    error = ending_error(Ending(error=part, partial={"a": 1}))
    assert isinstance(error, ProviderError)
    assert (str(error), error.code, error.raw, error.partial) == (
        "overloaded",
        "529",
        {"type": "error"},
        {"a": 1},
    )


def test_truncation_says_what_is_missing_and_chains_the_parse_error() -> None:
    """TruncatedStreamError names the finish reason and the missing paths, keeps the raw
    text and partial, and has the parser's IncompleteJSONError as its cause."""
    error = ending_error(
        Ending(
            cut_off=CUT,
            finish_reason="length",
            raw_text='{"a": 1, "b": "x',
            partial={"a": 1},
            missing_paths=lambda: [("b",)],
        )
    )
    assert isinstance(error, TruncatedStreamError)
    assert str(error) == (
        "the stream ended before the object was complete (finish reason 'length'); missing: $.b"
    )
    assert error.missing_paths == [("b",)]
    assert error.__cause__ is CUT
    assert (error.raw_text, error.partial) == ('{"a": 1, "b": "x', {"a": 1})


# ------------------------------------------------------------------ through StreamCore


def close(core: StreamCore[Any], *items: Any) -> Any:
    for item in items:
        core.feed(item)
    return core.close()[-1]


@pytest.mark.parametrize(
    ("core", "items", "error_type", "match"),
    [
        (
            StreamCore(Item),
            ['{"a": 1', ProviderErrorPart("overloaded")],
            ProviderError,
            "overloaded",
        ),
        (
            StreamCore(Item),
            ['{"a": 1', Finish("content_filter")],
            ContentFilterError,
            "content filter",
        ),
        (StreamCore(Item), [RefusalDelta("I can't help")], RefusalError, "I can't help"),
        (
            StreamCore(Item),
            ['{"a": 1, "b": "x'],
            TruncatedStreamError,
            "before the object was complete",
        ),
        (
            StreamCore(Item),
            [ToolCallDelta("c1", '{"x": ', name="f")],
            TruncatedStreamError,
            "before the object was complete",
        ),
        (StreamCore(Item), [Finish("stop")], TruncatedStreamError, "missing: \\$\\.a"),
        (StreamCore(text=True), ["Once upon", Finish("length")], TruncatedStreamError, "token"),
    ],
    ids=[
        "provider_error",
        "content_filter",
        "refusal",
        "cut_off",
        "cut_off-tool-call",
        "nothing_arrived",
        "text_length",
    ],
)
def test_close_raises_each_rows_error(
    core: StreamCore[Any], items: list[Any], error_type: type[Exception], match: str
) -> None:
    """close() raises the error of the row the stream's ending meets."""
    with pytest.raises(error_type, match=match):
        close(core, *items)


def test_close_on_incomplete_chunks_is_truncation() -> None:
    """Chunks that leave the object open end in TruncatedStreamError (row "incomplete")."""
    core: StreamCore[Item] = StreamCore(Item)
    core.feed(Chunk(Delta(json={"": {"a": 1, "b": ""}}, text={"/b": "x"})))
    with pytest.raises(TruncatedStreamError):
        core.close()


def test_a_provider_error_beats_a_cut_off_object_and_a_content_filter() -> None:
    """With a provider error, a content-filter finish and cut-off JSON, the provider error
    is raised: it is the cause of the rest."""
    with pytest.raises(ProviderError):
        close(StreamCore(Item), '{"a": 1', Finish("content_filter"), ProviderErrorPart("boom"))


def test_a_refusal_beside_a_complete_object_lets_the_object_decide() -> None:
    """Refusal text next to a complete object is no error: the object is the result."""
    final = close(StreamCore(Item), RefusalDelta("partly"), '{"a": 1}')
    assert final.final == Item(a=1)


def test_a_json_object_complete_despite_finish_reason_length_is_kept() -> None:
    """Finish reason "length" only fails prose; a complete JSON object is kept."""
    assert close(StreamCore(Item), '{"a": 1}', Finish("length")).final == Item(a=1)


def test_validation_comes_after_every_row() -> None:
    """A complete object that does not fit the model raises StreamValidationError only when
    no row holds; with a content filter the filter is raised instead."""
    with pytest.raises(StreamValidationError):
        close(StreamCore(Item, on_invalid="report"), '{"a": "x"}')
    with pytest.raises(ContentFilterError):
        close(StreamCore(Item, on_invalid="report"), '{"a": "x"}', Finish("content_filter"))


def test_a_cut_inside_a_string_names_it_in_the_truncation_message() -> None:
    """JSON cut inside the string at $.b: TruncatedStreamError lists $.b as missing."""
    with pytest.raises(TruncatedStreamError, match=r"missing: \$\.b$") as info:
        close(StreamCore(Item), '{"a": 1, "b": "x')
    assert info.value.missing_paths == [("b",)]
