"""`Update` and `new_update`, the emitter's constructor: the compiled one
(`_speedups.new_update`) against its pure-Python twin (`_update._py_new_update`)."""

from __future__ import annotations

from typing import Any

import pytest

from streamdantic import _update
from streamdantic._events import StringAppended
from streamdantic._update import Update, _py_new_update
from streamdantic.parts import Finish, Usage

CONSTRUCTORS = [
    pytest.param(_py_new_update, id="python"),
    pytest.param(
        _update._C_NEW_UPDATE,
        id="compiled",
        marks=pytest.mark.skipif(
            _update._C_NEW_UPDATE is None, reason="the C extension is not built"
        ),
    ),
]

FIELDS: list[tuple[Any, ...]] = [
    (0, None, (), (), (), (), (), False, None, None, None),
    (
        7,
        {"a": "xy"},
        (StringAppended(("a",), "y"),),
        (("a",),),
        ((("items", 0), {"n": 1}),),
        (),
        (Finish("stop"),),
        True,
        {"a": "xy"},
        "stop",
        Usage(1, 2, 3),
    ),
]
NAMES = (
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


@pytest.mark.parametrize("make", CONSTRUCTORS)
@pytest.mark.parametrize("fields", FIELDS, ids=["defaults", "everything"])
def test_new_update_builds_the_same_update_as_the_class(make: Any, fields: tuple[Any, ...]) -> None:
    """Both constructors give an Update equal to Update(*fields), every field the object passed."""
    update = make(Update, *fields)
    assert type(update) is Update
    assert update == Update(*fields)
    for name, value in zip(NAMES, fields, strict=True):
        assert getattr(update, name) is value, name
    assert update._deltas is None  # the cache starts empty, as __init__ leaves it
    assert update.deltas == Update(*fields).deltas


@pytest.mark.parametrize("make", CONSTRUCTORS)
def test_an_update_built_by_new_update_is_frozen(make: Any) -> None:
    """Assigning to a field of an Update from either constructor raises AttributeError."""
    update = make(Update, *FIELDS[0])
    with pytest.raises(AttributeError):
        update.index = 1


@pytest.mark.skipif(_update._C_NEW_UPDATE is None, reason="the C extension is not built")
def test_compiled_new_update_checks_its_arguments() -> None:
    """The compiled constructor builds only the registered Update class, from all its fields."""
    make = _update._C_NEW_UPDATE
    assert make is not None

    class Other(Update[Any]):
        __slots__ = ()

    with pytest.raises(TypeError, match="Update class"):
        make(Other, *FIELDS[0])
    with pytest.raises(TypeError, match="takes 12 arguments"):
        make(Update, *FIELDS[0][:-1])


def test_the_emitter_builds_updates_with_new_update() -> None:
    """The module's `new_update` is the compiled one where it is built, else the twin."""
    expected = _update._C_NEW_UPDATE or _py_new_update
    assert _update.new_update is expected
