"""PartialValidator's contract over generated models, documents and chunkings.

Models are made with `pydantic.create_model` from a small random spec (str, int, float,
bool, Optional, a Literal whose members are prefixes of one another, nested models and lists
of nested models, at most three levels deep), documents are drawn to fit them, and every
field of every model has a counting field validator.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal, Optional

from hypothesis import HealthCheck, given, settings, strategies as st
from pydantic import BaseModel, Field, create_model, field_validator

from streamdantic import JSONParser
from streamdantic._validation import Changes, PartialValidator
from tests.property.contract import extends
from tests.property.strategies import chunkings, json_text

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Members that are prefixes of one another, so prefixes are often ambiguous.
LITERAL_MEMBERS = ("a", "ab", "abc", "b")
MAX_DEPTH = 2

# ------------------------------------------------------------------------------ model specs
#
# A spec is a hashable tuple, so each distinct spec becomes one model class (cached):
#   ("str",) ("int",) ("float",) ("bool",) ("literal",) ("optional", spec)
#   ("model", ((field name, spec), ...)) ("list", model spec)

Spec = tuple[Any, ...]


@st.composite
def model_specs(draw: st.DrawFn, depth: int = 0) -> Spec:
    names = draw(st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=4, unique=True))
    return ("model", tuple((f"f_{name}", draw(field_specs(depth))) for name in names))


@st.composite
def field_specs(draw: st.DrawFn, depth: int) -> Spec:
    kinds = ["str", "int", "float", "bool", "literal"]
    if depth < MAX_DEPTH:
        kinds += ["model", "list"]
    kind = draw(st.sampled_from(kinds))
    spec: Spec
    if kind == "model":
        spec = draw(model_specs(depth + 1))
    elif kind == "list":
        spec = ("list", draw(model_specs(depth + 1)))
    else:
        spec = (kind,)
    return ("optional", spec) if draw(st.integers(0, 3)) == 0 else spec


# Every (model name, field name, value) a generated field validator was called with.
CALLS: list[tuple[str, str, str]] = []


def _count(cls: type[BaseModel], value: Any, info: Any) -> Any:
    CALLS.append((cls.__name__, info.field_name, repr(value)))
    return value


_names = itertools.count()


@functools.cache
def annotation(spec: Spec) -> Any:
    kind = spec[0]
    if kind == "model":
        fields: dict[str, Any] = {}
        for name, field_spec in spec[1]:
            if field_spec[0] == "optional":
                fields[name] = (annotation(field_spec), Field(default=None))
            else:
                fields[name] = (annotation(field_spec), ...)
        return create_model(  # type: ignore[call-overload]
            f"Generated{next(_names)}",
            __validators__={"count": field_validator("*")(_count)},
            **fields,
        )
    if kind == "list":
        return list[annotation(spec[1])]  # type: ignore[misc]
    if kind == "optional":
        return Optional[annotation(spec[1])]  # noqa: UP045
    if kind == "literal":
        return Literal[LITERAL_MEMBERS]
    return {"str": str, "int": int, "float": float, "bool": bool}[kind]


@st.composite
def values(draw: st.DrawFn, spec: Spec) -> Any:
    """A JSON value that fits `spec` (optional fields are sometimes left out)."""
    kind = spec[0]
    if kind == "model":
        out = {}
        for name, field_spec in spec[1]:
            if field_spec[0] == "optional" and draw(st.integers(0, 4)) == 0:
                continue
            out[name] = draw(values(field_spec))
        keys = draw(st.permutations(list(out)))
        return {k: out[k] for k in keys}
    if kind == "list":
        return draw(st.lists(values(spec[1]), max_size=3))
    if kind == "optional":
        return None if draw(st.integers(0, 2)) == 0 else draw(values(spec[1]))
    if kind == "literal":
        return draw(st.sampled_from(LITERAL_MEMBERS))
    if kind == "str":
        return draw(json_text)
    if kind == "int":
        return draw(st.integers(-(10**12), 10**12))
    if kind == "float":
        return draw(st.floats(allow_nan=False, allow_infinity=False))
    return draw(st.booleans())


@dataclass
class Case:
    model: type[BaseModel]
    text: str
    chunks: list[Any]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    spec = draw(model_specs())
    value = draw(values(spec))
    text = json.dumps(
        value, indent=draw(st.sampled_from([None, 2])), ensure_ascii=draw(st.booleans())
    )
    source: str | bytes = text.encode() if draw(st.booleans()) else text
    return Case(annotation(spec), text, draw(chunkings(source)))


# ------------------------------------------------------------------------------- running


@dataclass
class Streamed:
    validator: PartialValidator[Any]
    parser: JSONParser
    changes: list[Changes]
    partials: list[Any]  # model_dump() after each chunk (None before anything is visible)
    classes: list[Any]  # type(partial) after each chunk
    calls: list[tuple[str, str, str]]  # validator calls while streaming


def stream(case: Case) -> Streamed:
    CALLS.clear()
    parser = JSONParser()
    validator: PartialValidator[Any] = PartialValidator(case.model)
    changes, partials, classes = [], [], []
    for chunk in [*case.chunks, None]:
        events = parser.feed(chunk) if chunk is not None else parser.close()
        changes.append(validator.apply(events))
        partial = validator.partial
        partials.append(partial.model_dump() if partial is not None else None)
        classes.append(type(partial))
    return Streamed(validator, parser, changes, partials, classes, list(CALLS))


def grows(new: Any, old: Any) -> bool:
    """`new` is `old` grown, where None means "not shown yet" and may become anything."""
    if old is None:
        return True
    if isinstance(old, dict):
        return (
            type(new) is dict
            and list(new)[: len(old)] == list(old)
            and all(grows(new[k], v) for k, v in old.items())
        )
    if isinstance(old, list):
        return (
            type(new) is list
            and len(new) >= len(old)
            and all(grows(n, o) for n, o in zip(new, old, strict=False))
        )
    return extends(new, old)  # strings extended; numbers, booleans and Literals unchanged


def lookup(value: Any, path: tuple[Any, ...]) -> Any:
    for segment in path:
        value = getattr(value, segment) if isinstance(segment, str) else value[segment]
    return value


def model_elements(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every model object that is an element of a list, in document order."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            found += model_elements(getattr(value, name), (*path, name))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += model_elements(item, (*path, i))
            if isinstance(item, BaseModel):
                found.append((*path, i))
    return found


# ---------------------------------------------------------------------------- properties


@SETTINGS
@given(cases())
def test_every_partial_validates_against_its_partial_class(case: Case) -> None:
    """After every chunk, the partial's model_dump() validates against the partial class."""
    run = stream(case)
    for cls, dumped in zip(run.classes, run.partials, strict=True):
        if dumped is not None:
            assert cls.model_validate(dumped).model_dump() == dumped


@SETTINGS
@given(cases())
def test_partials_only_grow_and_never_contradict_the_final(case: Case) -> None:
    """Each partial extends the previous one and the final: no number or Literal ever differs."""
    run = stream(case)
    final = case.model.model_validate_json(case.text).model_dump()
    previous = None
    for dumped in run.partials:
        assert grows(dumped, previous), (previous, dumped)
        assert grows(final, dumped), (dumped, final)
        previous = dumped
    assert run.partials[-1] == final


@SETTINGS
@given(cases())
def test_changed_is_reported_exactly_when_the_partial_changes(case: Case) -> None:
    """``changes.changed`` is True exactly for the chunks after which the partial differs."""
    run = stream(case)
    previous = None
    for changes, dumped in zip(run.changes, run.partials, strict=True):
        assert changes.changed == (dumped != previous), (previous, dumped)
        previous = dumped


@SETTINGS
@given(cases())
def test_final_equals_model_validate_json(case: Case) -> None:
    """validate_final gives exactly what model_validate_json gives for the whole text."""
    run = stream(case)
    final = run.validator.validate_final(run.parser.value, raw_text=case.text)
    assert type(final) is case.model
    assert final == case.model.model_validate_json(case.text)


@SETTINGS
@given(cases())
def test_validators_see_only_final_values_each_once(case: Case) -> None:
    """While streaming, field validators get exactly the calls the final validation makes."""
    run = stream(case)
    CALLS.clear()
    case.model.model_validate_json(case.text)
    assert Counter(run.calls) == Counter(CALLS)
    assert not [e for c in run.changes for e in c.errors]


@SETTINGS
@given(cases())
def test_list_elements_are_reported_once_each_as_their_final_value(case: Case) -> None:
    """Every model element of a list is reported once, as the final object's element."""
    run = stream(case)
    final = case.model.model_validate_json(case.text)
    reported = [element for c in run.changes for element in c.elements]
    model_paths = set(model_elements(final))
    reported_models = [(path, value) for path, value in reported if path in model_paths]
    assert sorted(path for path, _ in reported_models) == sorted(model_paths)
    for path, value in reported_models:
        assert value == lookup(final, path)
