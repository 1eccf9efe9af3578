"""With ``plugins = ["streamdantic.mypy"]``: every `assert_type` here holds and nothing errs.

Without the plugin the module still type-checks (attributes are ``Any``); only the
`assert_type` checks fail. tests/test_mypy_plugin.py also checks that the types asserted in
`field_types` are the annotations of the runtime partial class.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar, assert_type

from partial_models import Box, Color, Customer, Item, Order, Record
from pydantic import BaseModel

from streamdantic import astream, stream
from streamdantic._partial import Partial, ValueState

M = TypeVar("M", bound=BaseModel)
P = TypeVar("P", bound=Partial[Order])


def field_types(p: Partial[Order]) -> None:
    assert_type(p.id, int | None)  # inherited field
    assert_type(p.kind, Literal["order", "quote"] | None)
    assert_type(p.note, str | None)
    assert_type(p.customer, Partial[Customer] | None)
    assert_type(p.items, list[Partial[Item]] | None)
    assert_type(p.by_sku, dict[str, Partial[Item]] | None)
    assert_type(p.by_number, dict[int, Item] | None)  # non-str keys: shown when complete
    assert_type(p.either, Partial[Customer] | Partial[Item] | None)
    assert_type(p.maybe, Partial[Item] | None)
    assert_type(p.related, list[Partial[Item]] | None)
    assert_type(p.history, list[Partial[Item]] | None)
    assert_type(p.pair, tuple[Item, Item] | None)  # fixed tuples: shown when complete
    assert_type(p.lookup, dict[str, Partial[Item]] | None)
    assert_type(p.tags, set[str] | None)
    assert_type(p.boxed, Partial[Box[Item]] | None)
    assert_type(p.nested, list[dict[str, list[Partial[Item]]]] | None)
    assert_type(p.scores, list[float] | None)


def nested_partials(p: Partial[Order]) -> None:
    if p.customer is not None:
        assert_type(p.customer.name, str | None)
    for item in p.items or []:
        assert_type(item.sku, str | None)  # the field name, not the alias
        assert_type(item.quantity, int | None)  # Annotated metadata stripped
        assert_type(item.color, Color | None)
    if p.boxed is not None:
        assert_type(p.boxed.content, Partial[Item] | None)  # Box[Item]: T is Item
        assert_type(p.boxed.label, str | None)


def declared_members(p: Partial[Order]) -> None:
    assert_type(p.field_state("id"), ValueState)
    assert_type(p.complete_fields, list[str])
    assert_type(p.model_dump(), dict[str, Any])
    assert_type(p.model_dump_json(), str)
    assert_type(p.model_fields_set, set[str])  # a PartialModel member at runtime


def unions_and_bounds(
    either: Partial[Record] | Partial[Order], bound: P, any_model: Partial[M]
) -> None:
    assert_type(either.id, int | None)
    assert_type(bound.id, int | None)
    assert_type(any_model.whatever, Any)  # the model is unknown: Any


def usage(p: Partial[Order]) -> list[str]:
    """Ordinary code: read a field once it has arrived."""
    lines: list[str] = []
    if p.id is not None:
        number: int = p.id
        lines.append(f"order #{number}")
    if p.customer is not None and p.customer.name is not None:
        lines.append(p.customer.name)
    quantity = 0
    for item in p.items or []:
        if item.quantity is not None:
            quantity += item.quantity
    lines.append(f"{quantity} items so far")
    if p.field_state("note") == "complete" and p.note:
        lines.append(p.note)
    return lines


def typed_streams(source: list[str]) -> None:
    # stream and astream are typed alike: with a model, the final object is that model.
    assert_type(stream(source, Order).final, Order | None)
    assert_type(astream(source, Order).final, Order | None)
    assert_type(astream(source).final, Any | None)
