"""Snapshots: every kept `Update.partial` is a value that never changes afterwards.

For generated models, documents and chunkings (and plain JSON documents), the partials of
one `stream()` are kept by reference; a second, fresh `stream()` of the same chunks dumps
each partial at emission time. The kept ones must equal those dumps (so no kept snapshot
changed after later updates), each must grow into the next one (the partial contract), and
what did not change between two consecutive updates must be shared (``is``).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, strategies as st
from pydantic import BaseModel

import streamdantic as sd
from tests.property.contract import extends
from tests.property.strategies import chunkings, json_documents
from tests.property.test_validation_properties import SETTINGS, Case, cases, grows


def dump(value: Any) -> Any:
    """The value of a partial with the field states, which are part of what it shows."""
    if isinstance(value, BaseModel):
        states = {name: value.field_state(name) for name in type(value).model_fields}
        fields = {name: dump(v) for name, v in value.__dict__.items()}
        return ("model", type(value).__name__, fields, states, sorted(value.model_fields_set))
    if isinstance(value, list):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    return value


def plain(value: Any) -> Any:
    return value.model_dump() if isinstance(value, BaseModel) else value


def children(a: Any, b: Any) -> list[tuple[Any, Any]]:
    """Pairs of children present in both views (fields, common indices, common keys)."""
    if isinstance(a, BaseModel) and type(a) is type(b):
        return [(a.__dict__[k], b.__dict__[k]) for k in a.__dict__]
    if type(a) is list and type(b) is list:
        return list(zip(a, b, strict=False))
    if type(a) is dict and type(b) is dict:
        return [(a[k], b[k]) for k in a if k in b]
    return []


def assert_unchanged_is_shared(a: Any, b: Any) -> None:
    """Walk two consecutive snapshots: a container whose view did not change is the same
    object in both; one that changed is a different object."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if not isinstance(x, BaseModel | list | dict):
            continue
        if dump(x) == dump(y):
            assert x is y, f"unchanged but copied: {x!r}"
        else:
            assert x is not y, f"changed in place: {x!r}"
            stack.extend(children(x, y))


def check(chunks: list[Any], model: Any) -> None:
    kept = list(sd.stream(chunks, model))  # kept by reference, read after the stream ended
    shown = []  # a fresh stream, each partial dumped at emission
    some = []  # every third update kept (the others dropped, so lists can be recycled)
    for i, update in enumerate(sd.stream(chunks, model)):
        shown.append(dump(update.partial))
        if i % 3 == 0:
            some.append((i, update))
    assert [dump(u.partial) for u in kept] == shown
    assert [dump(u.partial) for _, u in some] == [shown[i] for i, _ in some]
    assert kept[-1].done and plain(kept[-1].partial) == plain(kept[-1].final)
    for old, new in zip(kept, kept[1:], strict=False):
        if model is None:
            assert old.partial is None or extends(new.partial, old.partial)
        else:
            assert grows(plain(new.partial), plain(old.partial))
        assert_unchanged_is_shared(old.partial, new.partial)


@SETTINGS
@given(cases())
def test_kept_typed_partials_are_the_values_shown_at_their_updates(case: Case) -> None:
    """Typed partials kept by reference equal a fresh stream's at each update, grow into
    the next one, and share what did not change."""
    check(case.chunks, case.model)


@st.composite
def plain_cases(draw: st.DrawFn) -> list[Any]:
    text = draw(json_documents(containers_only=True))
    source: str | bytes = text.encode() if draw(st.booleans()) else text
    return draw(chunkings(source))


@SETTINGS
@given(plain_cases())
def test_kept_plain_json_partials_are_the_values_shown_at_their_updates(
    chunks: list[Any],
) -> None:
    """Without a model, the kept partials are snapshots too."""
    check(chunks, None)
