"""Compiled path copying (`_speedups.own_path`) against the pure-Python one (`_py_own_path`).

Both must be indistinguishable: for generated models, documents and chunkings, and any way
of keeping partials, every update shows the same value (field values, field states, fields
set), consecutive updates share the same subtrees (``is``), and every kept partial still
shows, at the end, what it showed when it was emitted. The pure-Python twin is the
reference; `test_snapshot_properties.py` checks it against the snapshot contract.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, strategies as st
from pydantic import BaseModel

from streamdantic import JSONParser, _validation
from streamdantic._validation import PartialValidator
from tests.helpers import printed_with_and_without_pure_python
from tests.property.strategies import chunkings, json_documents
from tests.property.test_validation_properties import SETTINGS, Case, cases

pytestmark = pytest.mark.skipif(
    _validation._C_OWN_PATH is None, reason="the C extension is not built"
)


def shown(value: Any) -> Any:
    """Everything a partial shows: field values, field states and the fields set."""
    if isinstance(value, BaseModel):
        fields = {k: shown(v) for k, v in value.__dict__.items()}
        states = {name: value.field_state(name) for name in type(value).model_fields}
        return (type(value).__name__, fields, states, sorted(value.model_fields_set))
    if isinstance(value, list):
        return [shown(v) for v in value]
    if isinstance(value, dict):
        return {k: shown(v) for k, v in value.items()}
    return value


def shared(a: Any, b: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The paths of the containers two consecutive partials share (the same object)."""
    out = []
    stack = [(path, a, b)]
    while stack:
        where, x, y = stack.pop()
        if not isinstance(x, BaseModel | list | dict):
            continue
        if x is y:
            out.append(where)
            continue
        if isinstance(x, BaseModel) and type(x) is type(y):
            stack.extend((where + (k,), v, y.__dict__[k]) for k, v in x.__dict__.items())
        elif type(x) is list and type(y) is list:
            stack.extend((where + (i,), v, w) for i, (v, w) in enumerate(zip(x, y, strict=False)))
        elif type(x) is dict and type(y) is dict:
            stack.extend((where + (k,), v, y[k]) for k, v in x.items() if k in y)
    return sorted(out, key=repr)


def trace(
    own_path: Any, model: Any, chunks: list[Any], keep: list[bool], monkeypatch: Any
) -> list[Any]:
    """Everything observable in one stream, keeping the partials `keep` selects."""
    monkeypatch.setattr(_validation, "_own_path", own_path)
    parser, validator = JSONParser(), PartialValidator(model)
    seen: list[Any] = []
    kept: list[tuple[Any, Any]] = []
    previous: Any = None
    for i, chunk in enumerate([*chunks, None]):
        validator.apply(parser.feed(chunk) if chunk is not None else parser.close())
        partial = validator.partial
        seen.append(shown(partial))
        seen.append(shared(previous, partial))
        if keep[i % len(keep)]:
            kept.append((partial, seen[-2]))
        previous = partial
    del partial, previous
    seen.append([shown(p) == then for p, then in kept])
    return seen


KEEP = st.lists(st.booleans(), min_size=1, max_size=5)


@SETTINGS
@given(cases(), KEEP)
def test_compiled_path_copying_is_the_pure_python_one(case: Case, keep: list[bool]) -> None:
    """Typed partials: the same values, the same sharing, and kept partials unchanged."""
    with pytest.MonkeyPatch.context() as mp:
        compiled = trace(_validation._C_OWN_PATH, case.model, case.chunks, keep, mp)
    with pytest.MonkeyPatch.context() as mp:
        python = trace(_validation._py_own_path, case.model, case.chunks, keep, mp)
    assert compiled == python
    assert all(compiled[-1])


@st.composite
def plain_cases(draw: st.DrawFn) -> list[Any]:
    text = draw(json_documents(containers_only=True))
    return draw(chunkings(text))


@SETTINGS
@given(plain_cases(), KEEP)
def test_compiled_path_copying_of_plain_json_is_the_pure_python_one(
    chunks: list[Any], keep: list[bool]
) -> None:
    """Plain JSON (no model): the same values, sharing and kept snapshots."""
    with pytest.MonkeyPatch.context() as mp:
        compiled = trace(_validation._C_OWN_PATH, Any, chunks, keep, mp)
    with pytest.MonkeyPatch.context() as mp:
        python = trace(_validation._py_own_path, Any, chunks, keep, mp)
    assert compiled == python
    assert all(compiled[-1])


def test_the_pure_python_switch_selects_the_python_twin() -> None:
    """``STREAMDANTIC_PURE_PYTHON=1`` runs snapshots on `_py_own_path`, as it runs the parser
    on its pure-Python scanner; by default the compiled one runs."""
    code = "from streamdantic import _validation as v; print(v._own_path is v._py_own_path)"
    runs = printed_with_and_without_pure_python(code)
    assert runs == ["False", "True"]
