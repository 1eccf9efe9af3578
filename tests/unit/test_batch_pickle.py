"""Every batch outcome (and the `Usage` it carries) pickles and round-trips equal, so the
outcomes can cross process boundaries (Dask workers, multiprocessing) unchanged."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from streamdantic import BatchFailureError, collect_batch
from streamdantic.batch import (
    BatchOutcome,
    BatchResult,
    HTTPFailure,
    InvalidJSONFailure,
    MalformedLineFailure,
    ProviderFailure,
    RefusalFailure,
    TruncatedFailure,
    ValidationFailure,
)
from streamdantic.parts import Usage

from .test_batch import Person, anthropic, lines, openai_chat, openai_error

cloudpickle = pytest.importorskip("cloudpickle")


def every_outcome() -> list[BatchOutcome]:
    data = lines(
        openai_chat("ok"),
        openai_chat("http", status=429),
        openai_error("provider"),
        openai_chat("refusal", None, refusal="I can't"),
        openai_chat("invalid", '{"name": "Ada", "age": "old"}'),
        openai_chat("truncated", '{"name": "Ad', finish="length"),
        openai_chat("not-json", "plain words"),
        "{oops",
        anthropic("canceled", kind="canceled"),
    )
    return list(collect_batch(data, Person))


def test_every_outcome_kind_is_generated() -> None:
    """The generated file covers each outcome type (so the round-trip below covers them)."""
    kinds = {type(outcome) for outcome in every_outcome()}
    assert kinds == {
        BatchResult,
        HTTPFailure,
        ProviderFailure,
        RefusalFailure,
        ValidationFailure,
        TruncatedFailure,
        InvalidJSONFailure,
        MalformedLineFailure,
    }


@pytest.mark.parametrize(
    "dumps, loads", [(pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads)]
)
def test_outcomes_round_trip_through_pickle(dumps: Any, loads: Any) -> None:
    """Each outcome comes back equal, of the same type, with its usage and value."""
    for outcome in every_outcome():
        back = loads(dumps(outcome))
        assert type(back) is type(outcome)
        assert back == outcome
        assert repr(back) == repr(outcome)


@pytest.mark.parametrize(
    "dumps, loads", [(pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads)]
)
def test_usage_round_trips_through_pickle(dumps: Any, loads: Any) -> None:
    """Usage (custom __init__, __slots__) keeps every field, including an explicit total."""
    for usage in (Usage(3, 4, raw={"prompt_tokens": 3}), Usage(1, 2, 10), Usage()):
        back = loads(dumps(usage))
        assert back == usage
        assert (back.input_tokens, back.output_tokens, back.total_tokens, back.raw) == (
            usage.input_tokens,
            usage.output_tokens,
            usage.total_tokens,
            usage.raw,
        )


@pytest.mark.parametrize(
    "dumps, loads", [(pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads)]
)
def test_batch_failure_error_round_trips_with_its_outcome(dumps: Any, loads: Any) -> None:
    """The on_invalid="raise" error unpickles (as a worker's error does) with its outcome."""
    with pytest.raises(BatchFailureError) as caught:
        list(collect_batch(lines(openai_chat("1", status=500)), Person, on_invalid="raise"))
    back = loads(dumps(caught.value))
    assert type(back) is BatchFailureError
    assert back.outcome == caught.value.outcome
    assert str(back) == str(caught.value)
