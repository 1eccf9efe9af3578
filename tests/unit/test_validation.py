"""Unit tests of PartialValidator: parser events in, a typed partial object out.

Every test feeds an exact list of chunks and asserts on what the partial showed after each
chunk (as ``model_dump()`` snapshots) and on the `Changes` each chunk reported.
"""

from __future__ import annotations

import enum
import json
import sys
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Optional

import pytest
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    Json,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from typing_extensions import TypedDict

from streamdantic import JSONParser, StreamValidationError, _validation
from streamdantic._partial import CompleteOnly, HoldsParent, Partial, PartialModel
from streamdantic._validation import Changes, PartialValidator
from tests.helpers import SPLITTERS

# ------------------------------------------------------------------------------- helpers


@dataclass
class Run:
    """One stream through a parser and a validator, with what each chunk did."""

    validator: PartialValidator[Any]
    parser: JSONParser
    text: str
    changes: list[Changes]  # one per chunk, then one for close()
    snapshots: list[Any]  # the partial's model_dump() after each chunk, then after close()

    @property
    def partial(self) -> Any:
        return self.validator.partial

    @property
    def elements(self) -> list[list[tuple[Any, Any]]]:
        return [list(c.elements) for c in self.changes]

    @property
    def changed(self) -> list[bool]:
        return [c.changed for c in self.changes]

    @property
    def errors(self) -> list[tuple[Any, ...]]:
        """Every reported error as (path, locations, message), in order."""
        return [
            (e.path, [err["loc"] for err in e.errors], e.message)
            for c in self.changes
            for e in c.errors
        ]

    def final(self) -> Any:
        return self.validator.validate_final(self.parser.value, raw_text=self.text)


def snapshot(partial: Any) -> Any:
    if isinstance(partial, BaseModel):
        return partial.model_dump()
    return partial


def stream(model: Any, chunks: list[str], *, close: bool = True) -> Run:
    """Feed `chunks` to a parser, its events to a validator; keep what each chunk did.

    With ``close=True`` (a complete document) the parser's `close()` events are applied too,
    adding one last entry to `changes` and `snapshots`.
    """
    parser = JSONParser()
    validator: PartialValidator[Any] = PartialValidator(model)
    changes, snapshots = [], []
    for chunk in chunks:
        changes.append(validator.apply(parser.feed(chunk)))
        snapshots.append(snapshot(validator.partial))
    if close:
        changes.append(validator.apply(parser.close()))
        snapshots.append(snapshot(validator.partial))
    return Run(validator, parser, "".join(chunks), changes, snapshots)


# --------------------------------------------------------------------------------- models


class Address(BaseModel):
    city: str
    zip: str


class Person(BaseModel):
    name: str
    age: int
    address: Address


class Item(BaseModel):
    name: str
    qty: int = Field(gt=0)


class Order(BaseModel):
    items: list[Item]


class Catalog(BaseModel):
    by_sku: dict[str, Item]


class Cat(BaseModel):
    type: Literal["cat"]
    meow: str


class Dog(BaseModel):
    type: Literal["dog"]
    bark: int


class Doggo(BaseModel):
    type: Literal["doggo"]
    wag: int


Pet = Annotated[Cat | Dog, Field(discriminator="type")]


class Shelter(BaseModel):
    pets: list[Pet]


class Color(enum.Enum):
    RED = "red"
    REDDISH = "reddish"
    BLUE = "blue"


class Paint(BaseModel):
    color: Color
    finish: Literal["matte", "gloss", "glossy"]


# --------------------------------------------------------------------------- nested models


def test_nested_model_fills_in_as_text_arrives() -> None:
    """A nested model appears empty when its object opens and fills in field by field."""
    run = stream(
        Person,
        ['{"name": "Al', 'ice", "age": 3', '0, "address": {', '"city": "Par', 'is"}', "}"],
    )
    assert run.snapshots == [
        {"name": "Al", "age": None, "address": None},
        {"name": "Alice", "age": None, "address": None},
        {"name": "Alice", "age": 30, "address": {"city": None, "zip": None}},
        {"name": "Alice", "age": 30, "address": {"city": "Par", "zip": None}},
        {"name": "Alice", "age": 30, "address": {"city": "Paris", "zip": None}},
        {"name": "Alice", "age": 30, "address": {"city": "Paris", "zip": None}},
        {"name": "Alice", "age": 30, "address": {"city": "Paris", "zip": None}},
    ]


def test_partial_classes_are_generated_partial_models() -> None:
    """The partial of a model and of its nested model are the generated `Partial[...]` classes."""
    run = stream(Person, ['{"address": {"city": "Paris"}}'])
    assert type(run.partial) is Partial[Person]
    assert type(run.partial.address) is Partial[Address]
    assert isinstance(run.partial, PartialModel)


def test_nested_model_reports_its_completed_fields() -> None:
    """`changes.fields` lists each completed field in order, a closed model as its instance."""
    run = stream(Person, ['{"name": "A", "address": {"city": "P"', ', "zip": "75"}}'])
    assert [list(c.fields) for c in run.changes] == [
        [(("name",), "A"), (("address", "city"), "P")],
        [
            (("address", "zip"), "75"),
            (("address",), Address(city="P", zip="75")),
        ],
        [],
    ]


# ---------------------------------------------------------------------------- list[Model]


def test_list_elements_reported_once_as_soon_as_they_close() -> None:
    """Each element is reported in `changes.elements` exactly once, in the chunk that closes it."""
    run = stream(
        Order, ['{"items": [{"name": "a", "qty": 1}', ', {"name": "b",', ' "qty": 2}', "]}"]
    )
    assert run.elements == [
        [(("items", 0), Item(name="a", qty=1))],
        [],
        [(("items", 1), Item(name="b", qty=2))],
        [],
        [],
    ]


def test_list_elements_are_validated_real_model_instances() -> None:
    """Reported elements are instances of the real model, not of its partial class."""
    run = stream(Order, ['{"items": [{"name": "a", "qty": 1}]}'])
    [[(_, element)], _] = run.elements
    assert type(element) is Item


@pytest.mark.parametrize("split", list(SPLITTERS))
def test_list_elements_reported_once_whatever_the_chunking(split: str) -> None:
    """Whole, byte-by-byte and random splits report the same elements once each."""
    text = '{"items": [{"name": "a", "qty": 1}, {"name": "b", "qty": 2}, {"name": "c", "qty": 3}]}'
    run = stream(Order, SPLITTERS[split](text))
    reported = [element for elements in run.elements for element in elements]
    assert reported == [
        (("items", 0), Item(name="a", qty=1)),
        (("items", 1), Item(name="b", qty=2)),
        (("items", 2), Item(name="c", qty=3)),
    ]


@pytest.mark.parametrize("split", list(SPLITTERS))
def test_brackets_and_braces_inside_strings_do_not_close_elements(split: str) -> None:
    """``[]{}`` and escaped quotes inside strings neither close nor open an element."""
    text = r'{"items": [{"name": "a]}, {\"x\": [", "qty": 1}, {"name": "}{][", "qty": 2}]}'
    run = stream(Order, SPLITTERS[split](text))
    reported = [element for elements in run.elements for element in elements]
    assert reported == [
        (("items", 0), Item(name='a]}, {"x": [', qty=1)),
        (("items", 1), Item(name="}{][", qty=2)),
    ]


def test_list_element_appears_when_its_object_opens() -> None:
    """A new element shows as an empty partial as soon as its ``{`` arrives."""
    run = stream(Order, ['{"items": [', "{", '"name": "x"', "}]}"])
    assert run.snapshots[:3] == [
        {"items": []},
        {"items": [{"name": None, "qty": None}]},
        {"items": [{"name": "x", "qty": None}]},
    ]


# ------------------------------------------------------------------------ dict[str, Model]


def test_dict_of_models_fills_in_per_key() -> None:
    """A ``dict[str, Model]`` shows each key when its object opens, filling in its fields."""
    run = stream(Catalog, ['{"by_sku": {"a1": {"name": "x"', ', "qty": 2}, "b2": {', "}}}"])
    assert run.snapshots == [
        {"by_sku": {"a1": {"name": "x", "qty": None}}},
        {"by_sku": {"a1": {"name": "x", "qty": 2}, "b2": {"name": None, "qty": None}}},
        {"by_sku": {"a1": {"name": "x", "qty": 2}, "b2": {"name": None, "qty": None}}},
        {"by_sku": {"a1": {"name": "x", "qty": 2}, "b2": {"name": None, "qty": None}}},
    ]


def test_dict_value_failing_validation_reported_with_its_key() -> None:
    """A value of a ``dict[str, Model]`` that fails is reported at its key's path."""
    run = stream(Catalog, ['{"by_sku": {"a1": {"name": "x", "qty": 0}', "}}"])
    assert run.errors == [
        (
            ("by_sku", "a1"),
            [("by_sku", "a1", "qty")],
            "$.by_sku.a1: Input should be greater than 0",
        )
    ]


# ------------------------------------------------------------------------------- Optional


class Profile(BaseModel):
    nickname: Optional[str] = None  # noqa: UP045 - the Optional spelling is the point
    address: Address | None = None


def test_optional_null_is_complete_and_none() -> None:
    """A ``null`` for an Optional field shows None and makes the field complete."""
    run = stream(Profile, ['{"nickname": null, "address": nul', "l}"])
    assert run.snapshots[-1] == {"nickname": None, "address": None}
    assert run.partial.field_state("nickname") == "complete"
    assert run.partial.field_state("address") == "complete"


def test_optional_model_streams_like_the_model() -> None:
    """An Optional model that is present streams as its partial class."""
    run = stream(Profile, ['{"address": {"city": "Ro', 'me"}}'])
    assert run.snapshots[:2] == [
        {"nickname": None, "address": {"city": "Ro", "zip": None}},
        {"nickname": None, "address": {"city": "Rome", "zip": None}},
    ]
    assert type(run.partial.address) is Partial[Address]


# --------------------------------------------------------------------------------- unions


def test_discriminated_union_shows_the_option_once_the_tag_prefix_is_unique() -> None:
    """With ``Field(discriminator=...)``, the element appears as its option once its tag does."""
    run = stream(Shelter, ['{"pets": [{"type": "', "d", 'og", "bark": 3}, {"ty', 'pe": "cat"}]}'])
    assert run.snapshots[:4] == [
        {"pets": []},
        {"pets": [{"type": "dog", "bark": None}]},
        {"pets": [{"type": "dog", "bark": 3}]},
        {"pets": [{"type": "dog", "bark": 3}, {"type": "cat", "meow": None}]},
    ]
    assert [type(p) for p in run.partial.pets] == [Partial[Dog], Partial[Cat]]


def test_discriminated_union_elements_are_validated_options() -> None:
    """Closed elements of a discriminated union are reported as instances of their option."""
    run = stream(
        Shelter, ['{"pets": [{"type": "dog", "bark": 3}', ', {"type": "cat", "meow": "hi"}]}']
    )
    assert run.elements == [
        [(("pets", 0), Dog(type="dog", bark=3))],
        [(("pets", 1), Cat(type="cat", meow="hi"))],
        [],
    ]


class Kennel(BaseModel):
    pet: Annotated[Dog | Doggo, Field(discriminator="type")]


def test_discriminated_union_waits_while_the_tag_prefix_fits_two_tags() -> None:
    """A tag that is a prefix of another tag (``dog``/``doggo``) decides only at the close."""
    run = stream(Kennel, ['{"pet": {"type": "dog', '"', ', "bark": 1', "}}"])
    assert run.snapshots == [
        {"pet": None},
        {"pet": None},
        {"pet": None},
        {"pet": {"type": "dog", "bark": 1}},
        {"pet": {"type": "dog", "bark": 1}},
    ]


class Either(BaseModel):
    best: Cat | Dog


def test_plain_union_of_models_waits_until_one_model_fits() -> None:
    """Without a discriminator the option is shown once only one model has all the keys."""
    run = stream(Either, ['{"best": {"type": "dog"', ', "bark": 5', "}}"])
    assert run.snapshots[:3] == [
        {"best": None},
        {"best": None},
        {"best": {"type": "dog", "bark": 5}},
    ]
    assert type(run.partial.best) is Partial[Dog]


def test_plain_union_never_changes_the_type_shown() -> None:
    """Once a plain union shows a model, a key of another model does not switch or hide it."""
    parser, validator = JSONParser(), PartialValidator(Either)
    shown = []
    for chunk in ['{"best": {', '"bark": 5', ', "type": "d', 'og", "meow": "x"', "}}"]:
        validator.apply(parser.feed(chunk))
        shown.append(type(validator.partial.best))
    assert shown == [type(None), type(None), Partial[Dog], Partial[Dog], Partial[Dog]]
    assert validator.partial.best.model_dump() == {"type": "dog", "bark": 5}


class Shapes(BaseModel):
    a: int


class Wide(BaseModel):
    a: int
    b: int = 0


class AnyShape(BaseModel):
    shape: Shapes | Wide


def test_plain_union_fitting_several_models_is_decided_by_pydantic_at_close() -> None:
    """An object whose keys fit several models shows nothing until it closes, then pydantic's choice."""
    run = stream(AnyShape, ['{"shape": {"a": 1', "}}"])
    assert run.snapshots == [{"shape": None}, {"shape": {"a": 1}}, {"shape": {"a": 1}}]
    assert type(run.partial.shape) is Partial[Shapes]
    assert run.final() == AnyShape.model_validate_json(run.text)


class Numbers(BaseModel):
    values: list[int | float]
    first: float | int


def test_number_unions_keep_the_type_pydantic_gives() -> None:
    """``int | float`` keeps 2 an int and 2.5 a float, and ``float | int`` keeps 5 an int."""
    run = stream(Numbers, ['{"values": [1, 2.5', ", 3]", ', "first": 5}'])
    assert run.snapshots[-1] == {"values": [1, 2.5, 3], "first": 5}
    assert [type(v) for v in run.partial.values] == [int, float, int]
    assert type(run.partial.first) is int
    assert run.final() == Numbers.model_validate_json(run.text)


def test_union_chunk_that_shows_nothing_new_is_not_a_change() -> None:
    """Rebuilding an undecided or unchanged union view reports ``changed=False``."""
    run = stream(Either, ['{"best": {"bark": 5', ', "type": "d', "o", "g", '"', "  ", "}}"])
    assert run.changed == [True, True, False, False, False, False, False, False]


# ------------------------------------------------------------------------- Literal and Enum


def test_literal_is_none_until_its_prefix_names_one_member() -> None:
    """A Literal shows its member as soon as the prefix fits that member alone."""
    run = stream(Paint, ['{"finish": "', "m", "att", 'e", "color": "b', 'lue"}'])
    assert [s["finish"] for s in run.snapshots] == [
        None,
        "matte",
        "matte",
        "matte",
        "matte",
        "matte",
    ]


def test_ambiguous_literal_prefix_stays_none_until_the_string_closes() -> None:
    """``gloss`` is a prefix of ``glossy``: it is shown only once its closing quote arrives."""
    run = stream(Paint, ['{"finish": "g', "los", "s", '"', "}"])
    assert [s["finish"] for s in run.snapshots] == [None, None, None, "gloss", "gloss", "gloss"]


def test_enum_resolves_to_its_member() -> None:
    """A string Enum shows the member (not its value) once the prefix is unambiguous."""
    run = stream(Paint, ['{"color": "r', "e", "d", '"}'])
    assert [s["color"] for s in run.snapshots] == [None, None, None, Color.RED, Color.RED]
    assert run.partial.color is Color.RED


class Palette(BaseModel):
    rows: list[list[Paint]]
    moods: dict[str, Literal["calm", "loud"]]


def test_literal_and_enum_resolve_at_depth() -> None:
    """Prefix resolution works inside nested lists and as dict values."""
    run = stream(
        Palette,
        ['{"rows": [[{"color": "bl', '", "finish": "gl', 'ossy"}]], "moods": {"a": "l', 'oud"}}'],
    )
    assert run.snapshots[:4] == [
        {"rows": [[{"color": Color.BLUE, "finish": None}]], "moods": None},
        {"rows": [[{"color": Color.BLUE, "finish": None}]], "moods": None},
        {"rows": [[{"color": Color.BLUE, "finish": "glossy"}]], "moods": {"a": "loud"}},
        {"rows": [[{"color": Color.BLUE, "finish": "glossy"}]], "moods": {"a": "loud"}},
    ]


def test_value_outside_the_literal_stays_none_and_is_reported() -> None:
    """A Literal value no member starts with is never shown, and is reported when complete."""
    run = stream(Paint, ['{"finish": "sat', 'in"}'])
    assert [s["finish"] for s in run.snapshots] == [None, None, None]
    assert [(path, msg) for path, _, msg in run.errors] == [
        (("finish",), "$.finish: Input should be 'matte', 'gloss' or 'glossy'")
    ]


# ------------------------------------------------------------------------- constrained types


class Limited(BaseModel):
    code: str = Field(max_length=3)
    count: int = Field(gt=0)
    note: str = ""


def test_constraints_are_not_checked_on_prefixes() -> None:
    """A string longer than ``max_length`` streams without errors until it completes."""
    run = stream(Limited, ['{"code": "ab', "cd", "ef"], close=False)
    assert run.snapshots[:3] == [
        {"code": "ab", "count": None, "note": None},
        {"code": "abcd", "count": None, "note": None},
        {"code": "abcdef", "count": None, "note": None},
    ]
    assert [list(c.errors) for c in run.changes[:3]] == [[], [], []]


def test_completed_violating_value_is_reported_at_once_and_kept() -> None:
    """The chunk that completes a violating value reports it with its path; the partial keeps it."""
    run = stream(Limited, ['{"code": "abcd', '", "count": 0', ', "note": "x"}'])
    assert [[e.path for e in c.errors] for c in run.changes] == [[], [("code",)], [("count",)], []]
    assert run.errors == [
        (("code",), [("code",)], "$.code: String should have at most 3 characters"),
        (("count",), [("count",)], "$.count: Input should be greater than 0"),
    ]
    assert run.snapshots[-1] == {"code": "abcd", "count": 0, "note": "x"}
    assert run.validator.errors == [e for c in run.changes for e in c.errors]


def test_nested_violation_reported_once_with_its_full_path() -> None:
    """An invalid element is reported once, at its own path, not again by the list or the root."""
    run = stream(Order, ['{"items": [{"name": "a", "qty": 0}', ', {"name": "b", "qty": 1}]', "}"])
    assert run.errors == [
        (("items", 0), [("items", 0, "qty")], "$.items[0]: Input should be greater than 0")
    ]
    assert run.elements == [[], [(("items", 1), Item(name="b", qty=1))], [], []]
    assert run.snapshots[-1] == {"items": [{"name": "a", "qty": 0}, {"name": "b", "qty": 1}]}


# --------------------------------------------------------------------------------- defaults


class WithDefaults(BaseModel):
    title: str
    tags: list[str] = Field(default_factory=list)
    level: int = 3


def test_missing_fields_are_none_while_streaming_and_defaults_in_the_final() -> None:
    """Fields not sent stay None (and pending) in the partial; the final has their defaults."""
    run = stream(WithDefaults, ['{"title": "t"', "}"])
    assert run.snapshots[-1] == {"title": "t", "tags": None, "level": None}
    assert run.partial.field_state("level") == "pending"
    assert run.final() == WithDefaults(title="t", tags=[], level=3)


# ---------------------------------------------------------------------------------- aliases


class ByAlias(BaseModel):
    user_name: str = Field(alias="userName")


class ByValidationAlias(BaseModel):
    user_name: str = Field(validation_alias="login")


class ByAliasChoices(BaseModel):
    user_name: str = Field(validation_alias=AliasChoices("handle", "login"))


class ByGenerator(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel)
    user_name: str


@pytest.mark.parametrize(
    "model,key",
    [
        pytest.param(ByAlias, "userName", id="alias"),
        pytest.param(ByValidationAlias, "login", id="validation_alias"),
        pytest.param(ByAliasChoices, "handle", id="alias_choices_first"),
        pytest.param(ByGenerator, "userName", id="alias_generator"),
    ],
)
def test_fields_stream_from_the_key_pydantic_reads(model: type[BaseModel], key: str) -> None:
    """The JSON key pydantic validates from fills the field, shown under its Python name."""
    run = stream(model, ['{"' + key + '": "ad', 'a"}'])
    assert run.snapshots == [{"user_name": "ad"}, {"user_name": "ada"}, {"user_name": "ada"}]
    assert run.final() == model.model_validate_json(run.text)


def test_field_name_is_not_read_when_an_alias_is_set() -> None:
    """With an alias, the Python name as a JSON key is ignored, as pydantic ignores it."""
    run = stream(ByAlias, ['{"user_name": "x"}'])
    assert run.snapshots == [{"user_name": None}, {"user_name": None}]


# ---------------------------------------------------------------------------------- markers


class Account(BaseModel):
    id: Annotated[str, CompleteOnly]
    name: str


def test_complete_only_field_appears_at_its_closing_quote() -> None:
    """A ``CompleteOnly`` string stays None while it streams and appears whole."""
    run = stream(Account, ['{"id": "ac', "ct_1", '", "name": "N', '"}'])
    assert [s["id"] for s in run.snapshots] == [None, None, "acct_1", "acct_1", "acct_1"]
    assert [s["name"] for s in run.snapshots] == [None, None, "N", "N", "N"]


class Card(BaseModel):
    text: str
    kind: Annotated[Literal["note", "todo"], HoldsParent]


class Board(BaseModel):
    cards: list[Card]


def test_holds_parent_keeps_the_object_out_until_the_field_is_complete() -> None:
    """An element with a ``HoldsParent`` field joins the list only once that field is complete."""
    run = stream(
        Board, ['{"cards": [{"text": "buy milk", "kind": "to', 'do"', "}, {", '"kind": "note"}]}']
    )
    assert run.snapshots[:4] == [
        {"cards": []},
        {"cards": [{"text": "buy milk", "kind": "todo"}]},
        {"cards": [{"text": "buy milk", "kind": "todo"}]},
        {"cards": [{"text": "buy milk", "kind": "todo"}, {"text": None, "kind": "note"}]},
    ]


def test_held_object_is_shown_when_it_closes_without_the_field() -> None:
    """An element that closes without its ``HoldsParent`` field still appears (and fails)."""
    run = stream(Board, ['{"cards": [{"text": "x"', "}]}"])
    assert run.snapshots[:2] == [{"cards": []}, {"cards": [{"text": "x", "kind": None}]}]
    assert [path for path, _, _ in run.errors] == [("cards", 0)]


# ------------------------------------------------------------------------------ field_state


def test_field_state_goes_pending_streaming_complete() -> None:
    """`field_state` is pending before a field arrives, streaming while it grows, then complete."""
    parser, validator = JSONParser(), PartialValidator(Person)
    states = []
    for chunk in ['{"name": "Al', 'ice", "age": 3', "0,", ' "address": {"city": "P"', "}}"]:
        validator.apply(parser.feed(chunk))
        partial = validator.partial
        states.append([partial.field_state(f) for f in ("name", "age", "address")])
    assert states == [
        ["streaming", "pending", "pending"],
        ["complete", "pending", "pending"],
        ["complete", "complete", "pending"],
        ["complete", "complete", "streaming"],
        ["complete", "complete", "complete"],
    ]
    assert validator.partial.address.complete_fields == ["city"]


def test_field_state_of_an_unknown_name_raises() -> None:
    """Asking for the state of a field the model does not have raises AttributeError."""
    run = stream(Person, ["{}"])
    with pytest.raises(AttributeError, match="has no field 'nmae'"):
        run.partial.field_state("nmae")


def test_field_states_inside_a_union_option() -> None:
    """Fields of a union's option report streaming while the last one may grow, then complete."""
    run = stream(Either, ['{"best": {"type": "cat", "meow": "pu', 'rr"', "}}"])
    assert [run.partial.best.field_state(f) for f in ("type", "meow")] == ["complete", "complete"]
    partial = PartialValidator(Either)
    parser = JSONParser()
    partial.apply(parser.feed('{"best": {"type": "cat", "meow": "pu'))
    assert [partial.partial.best.field_state(f) for f in ("type", "meow")] == [
        "complete",
        "streaming",
    ]


# ------------------------------------------------------------------------------------ dedup


class Mixed(BaseModel):
    name: str = ""
    count: int = 0
    finish: Literal["gloss", "glossy"] | None = None


@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param(['{"name": "x"', "   \n\t "], id="whitespace"),
        pytest.param(['{"name": "x", "co', "un", 't"'], id="key-text"),
        pytest.param(['{"name": "x", "count": 1', "2", "3"], id="number-digits"),
        pytest.param(['{"finish": "g', "l", "oss"], id="ambiguous-literal-prefix"),
        pytest.param(['{"name": "x', '"'], id="string-closing-quote"),
    ],
)
def test_chunk_that_changes_nothing_visible_is_not_a_change(chunks: list[str]) -> None:
    """After the first chunk, chunks that show nothing new report ``changed=False``."""
    run = stream(Mixed, chunks, close=False)
    assert run.changed == [True] + [False] * (len(chunks) - 1)


def test_every_visible_change_is_reported() -> None:
    """A chunk that grows a string, completes a number or resolves a Literal is a change."""
    run = stream(Mixed, ['{"name": "x', "y", '", "count": 7', ",", ' "finish": "glossy', '"}'])
    assert run.changed == [True, True, False, True, True, False, False]


# ---------------------------------------------------------------------------------- recursion


class TreeNode(BaseModel):
    label: str
    children: list[TreeNode] = []


def test_recursive_model_streams_at_any_depth() -> None:
    """A self-referencing model streams its nested levels as partial nodes of the same class."""
    run = stream(
        TreeNode,
        ['{"label": "a", "children": [{"label": "b", "children": [{"label": "c', '"}]}]}'],
    )
    assert run.snapshots[0] == {
        "label": "a",
        "children": [{"label": "b", "children": [{"label": "c", "children": None}]}],
    }
    assert type(run.partial.children[0].children[0]) is Partial[TreeNode]
    assert [e for c in run.changes for e in c.elements] == [
        (("children", 0, "children", 0), TreeNode(label="c")),
        (("children", 0), TreeNode(label="b", children=[TreeNode(label="c")])),
    ]
    assert run.final() == TreeNode.model_validate_json(run.text)


class Sparse(BaseModel):
    values: list[int | None]
    labels: dict[str, str | None]


def test_null_elements_and_values_keep_their_place() -> None:
    """A null element keeps its index and a null dict value its key, as in the final object."""
    run = stream(Sparse, ['{"values": [1, null', ', 2], "labels": {"a": nu', 'll, "b": "x"}}'])
    assert run.snapshots == [
        {"values": [1, None], "labels": None},
        {"values": [1, None, 2], "labels": {}},
        {"values": [1, None, 2], "labels": {"a": None, "b": "x"}},
        {"values": [1, None, 2], "labels": {"a": None, "b": "x"}},
    ]
    assert run.final().model_dump() == run.snapshots[-1]


# ---------------------------------------------------------------------------------- untyped


class Loose(BaseModel):
    meta: Any = None
    extra: dict = {}


def test_any_field_mirrors_the_raw_json() -> None:
    """An ``Any`` field shows the raw JSON as it streams, strings growing, numbers complete."""
    run = stream(Loose, ['{"meta": [1, {"k": "ab', 'c"}, tr', "ue]}"])
    assert [s["meta"] for s in run.snapshots] == [
        [1, {"k": "ab"}],
        [1, {"k": "abc"}],
        [1, {"k": "abc"}, True],
        [1, {"k": "abc"}, True],
    ]


def test_dict_field_mirrors_the_raw_json() -> None:
    """A bare ``dict`` field shows its keys and raw values as they arrive."""
    run = stream(Loose, ['{"extra": {"a": [nu', 'll], "b": "x', '"}}'])
    assert [s["extra"] for s in run.snapshots] == [
        {"a": []},
        {"a": [None], "b": "x"},
        {"a": [None], "b": "x"},
        {"a": [None], "b": "x"},
    ]
    assert run.changed == [True, True, False, False]


class Point(TypedDict):
    x: int
    y: int


class Shown(BaseModel):
    tags: set[str]
    pair: tuple[int, str]
    point: Point


def test_values_shown_only_when_complete_include_objects_and_arrays() -> None:
    """Sets, fixed tuples and TypedDicts stay None while they stream and appear validated."""
    run = stream(
        Shown, ['{"tags": ["a", "b"', '], "pair": [1, "x"', '], "point": {"x": 1', ', "y": 2}}']
    )
    assert run.snapshots == [
        {"tags": None, "pair": None, "point": None},
        {"tags": {"a", "b"}, "pair": None, "point": None},
        {"tags": {"a", "b"}, "pair": (1, "x"), "point": None},
        {"tags": {"a", "b"}, "pair": (1, "x"), "point": {"x": 1, "y": 2}},
        {"tags": {"a", "b"}, "pair": (1, "x"), "point": {"x": 1, "y": 2}},
    ]


# ---------------------------------------------------------------------------- type mismatch


class Holder(BaseModel):
    address: Address
    after: int = 0


def test_string_where_a_model_is_expected_stays_none_and_is_reported_on_completion() -> None:
    """A string in a model's place is never shown; its error comes when the string closes."""
    run = stream(Holder, ['{"address": "12 Ma', 'in St"', ', "after": 1}'])
    assert run.snapshots == [
        {"address": None, "after": None},
        {"address": None, "after": None},
        {"address": None, "after": 1},
        {"address": None, "after": 1},
    ]
    assert [[e.path for e in c.errors] for c in run.changes] == [[], [("address",)], [], []]
    assert (
        run.errors[0][2] == "$.address: Input should be a valid dictionary or instance of Address"
    )


# ---------------------------------------------------------------------------- validate_final


def test_validate_final_equals_model_validate_json() -> None:
    """The final object is exactly what ``model_validate_json`` makes of the whole text."""
    run = stream(Person, ['{"name": "A", "age": 1, ', '"address": {"city": "c", "zip": "z"}}'])
    final = run.final()
    assert type(final) is Person
    assert final == Person.model_validate_json(run.text)


def test_validate_final_raises_with_errors_raw_text_and_partial() -> None:
    """A document that does not fit raises StreamValidationError carrying everything known."""
    run = stream(Person, ['{"name": "A", "age": "old"}'])
    with pytest.raises(StreamValidationError) as info:
        run.final()
    err = info.value
    assert [(e["type"], e["loc"]) for e in err.errors] == [
        ("int_parsing", ("age",)),
        ("missing", ("address",)),
    ]
    assert err.raw_text == run.text
    assert err.partial is run.partial
    assert err.partial.model_dump() == {"name": "A", "age": None, "address": None}
    assert str(err) == (
        "the streamed value does not fit Person: 2 error(s); first at $.age: "
        "Input should be a valid integer, unable to parse string as an integer"
    )
    assert isinstance(err.__cause__, ValidationError)


def test_validate_final_strict_refuses_what_lax_mode_coerces() -> None:
    """``strict=True`` is passed to pydantic: a numeric string no longer fits an int."""
    run = stream(Quote, ['{"price": "1.5", "side": "buy"}'])
    assert run.final() == Quote(price=1.5, side="buy")
    with pytest.raises(
        StreamValidationError, match="first at \\$.price: Input should be a valid number"
    ):
        run.validator.validate_final(run.parser.value, raw_text=run.text, strict=True)


# ---------------------------------------------------------------------------------- validators

calls: list[tuple[str, Any]] = []


class Line(BaseModel):
    sku: str
    qty: int

    @field_validator("sku", "qty")
    @classmethod
    def _seen(cls, value: Any, info: Any) -> Any:
        calls.append((f"line.{info.field_name}", value))
        return value


class Invoice(BaseModel):
    title: str
    status: Literal["draft", "sent"]
    total: float
    lines: list[Line]

    @field_validator("title", "status", "total")
    @classmethod
    def _seen(cls, value: Any, info: Any) -> Any:
        calls.append((info.field_name, value))
        return value


INVOICE = (
    '{"title": "March", "status": "sent", "total": 125.5, '
    '"lines": [{"sku": "A-1", "qty": 12}, {"sku": "B-2", "qty": 3}]}'
)
INVOICE_CALLS = [
    ("title", "March"),
    ("status", "sent"),
    ("total", 125.5),
    ("line.sku", "A-1"),
    ("line.qty", 12),
    ("line.sku", "B-2"),
    ("line.qty", 3),
]


@pytest.fixture
def seen() -> list[tuple[str, Any]]:
    calls.clear()
    return calls


@pytest.mark.parametrize("split", list(SPLITTERS))
def test_field_validators_run_once_on_complete_values_then_once_in_the_final(
    split: str, seen: list[tuple[str, Any]]
) -> None:
    """Each field validator runs once when its value completes, and once more at the end."""
    run = stream(Invoice, SPLITTERS[split](INVOICE))
    assert seen == INVOICE_CALLS
    seen.clear()
    run.final()
    assert seen == INVOICE_CALLS


class Checked(BaseModel):
    sku: str

    @model_validator(mode="after")
    def _whole(self) -> Checked:
        calls.append(("checked", self.sku))
        return self


class Batch(BaseModel):
    rows: list[Checked]


@pytest.mark.xfail(
    strict=True,
    reason="pydantic runs after/wrap model validators again on an instance passed to an "
    "enclosing model (pydantic#12085), so the root field `rows` re-runs them",
)
def test_model_validator_of_a_nested_model_runs_once_while_streaming(
    seen: list[tuple[str, Any]],
) -> None:
    """A nested model's ``after`` validator runs once, when its object closes."""
    stream(Batch, ['{"rows": [{"sku": "a"}, {"sku": "b"}]}'])
    assert seen == [("checked", "a"), ("checked", "b")]


# --------------------------------------------------------------- regressions of peer failures


class Quote(BaseModel):
    price: float
    side: Literal["buy", "sell"]


def test_regression_125_never_shown_before_125_5() -> None:
    """A number split as ``125`` + ``.5`` is never shown as 125: it appears once, as 125.5."""
    run = stream(Quote, ['{"price": 12', "5", ".", "5", ', "side": "buy"}'])
    assert [s["price"] for s in run.snapshots] == [None, None, None, None, 125.5, 125.5]


def test_regression_empty_string_never_put_in_a_literal_field() -> None:
    """An opening quote leaves a Literal field None, never ``''``; the member comes with its text."""
    run = stream(Quote, ['{"side": "', "s", 'ell"}'])
    assert [s["side"] for s in run.snapshots] == [None, "sell", "sell", "sell"]


def test_regression_partials_yielded_before_every_required_field_exists() -> None:
    """A partial exists from the first chunk although every field of the model is required."""
    run = stream(Person, ['{"na', 'me": "B'], close=False)
    assert run.snapshots[:2] == [
        {"name": None, "age": None, "address": None},
        {"name": "B", "age": None, "address": None},
    ]
    assert [list(c.errors) for c in run.changes[:2]] == [[], []]


def test_regression_validators_never_run_on_half_written_values(
    seen: list[tuple[str, Any]],
) -> None:
    """Byte by byte, field validators are called only with complete values, each once."""
    stream(Invoice, list(INVOICE))
    assert Counter(seen) == Counter(INVOICE_CALLS)
    assert set(Counter(seen).values()) == {1}


def test_regression_same_object_not_reported_again_and_again() -> None:
    """Byte by byte, only chunks that change the partial are changes, and elements come once."""
    text = '{"items": [{"name": "ab", "qty": 12}, {"name": "c", "qty": 3}]}'
    run = stream(Order, list(text))
    changed_at = [text[i] for i, c in enumerate(run.changed[:-1]) if c]
    assert changed_at == ["{", "[", "{", '"', "a", "b", "}", "{", '"', "c", "}"]
    assert [e for c in run.changes for e in c.elements] == [
        (("items", 0), Item(name="ab", qty=12)),
        (("items", 1), Item(name="c", qty=3)),
    ]


# --------------------------------------------------------------------------- nulls and Json


class NullInner(BaseModel):
    note: str | None = "x"
    count: int | None = 1


class NullOuter(BaseModel):
    title: str | None = "untitled"
    inner: NullInner | None = None
    rows: list[NullInner] = []
    tail: Annotated[str, CompleteOnly] | None = None


@pytest.mark.parametrize("split", list(SPLITTERS))
def test_a_completed_null_is_a_set_field(split: str) -> None:
    """A field that arrived as null is in model_fields_set, at any depth, so
    model_dump(exclude_unset=True) keeps it, as it keeps every other complete field."""
    text = (
        '{"title": null, "inner": {"note": null, "count": 2}, "rows": [{"count": null}], '
        '"tail": null}'
    )
    run = stream(NullOuter, SPLITTERS[split](text))
    partial = run.partial
    assert partial.model_fields_set == {"title", "inner", "rows", "tail"}
    assert partial.inner.model_fields_set == {"note", "count"}
    assert partial.rows[0].model_fields_set == {"count"}
    assert [partial.field_state(f) for f in ("title", "tail")] == ["complete", "complete"]
    assert partial.model_dump(exclude_unset=True) == {
        "title": None,
        "inner": {"note": None, "count": 2},
        "rows": [{"count": None}],
        "tail": None,
    }
    final = run.final()
    assert partial.model_dump(exclude_unset=True) == final.model_dump(exclude_unset=True)


def test_a_null_field_is_set_as_soon_as_it_completes() -> None:
    """While the object is still open, a null that completed is already a set field; one
    still arriving (``nul``) is not."""
    run = stream(NullOuter, ['{"inner": {"note": null, "count": nul'], close=False)
    assert run.partial.inner.model_fields_set == {"note"}
    assert run.partial.inner.model_dump(exclude_unset=True) == {"note": None}


class JsonItem(BaseModel):
    mapping: Json[dict[str, int]] | None = None


class JsonFields(BaseModel):
    mapping: Json[dict[str, int]] | None = None
    numbers: Json[list[int]] | None = None
    number: Json[int] | None = None
    anything: Json[Any] | None = None
    bare: Json | None = None  # type: ignore[type-arg]
    nested: JsonItem | None = None
    items: list[JsonItem] = []
    texts: list[Json[list[int]]] = []


JSON_FIELDS = {
    "mapping": {"a": 1, "b": 2},
    "numbers": [1, 2, 3],
    "number": 7,
    "anything": {"q": [1, "x"]},
    "bare": [True, None],
    "nested": {"mapping": {"z": 26}},
    "items": [{"mapping": {"y": 25}}, {"mapping": {}}],
    "texts": [[4], []],
}


def json_fields_text() -> str:
    """JSON_FIELDS with every Json value written as a JSON string holding its JSON text."""

    def encode(value: Any) -> Any:
        if isinstance(value, dict) and "mapping" in value:
            return {"mapping": json.dumps(value["mapping"])}
        return json.dumps(value)

    doc = {
        key: (
            [encode(v) for v in value]
            if key in ("items", "texts")
            else encode(value)
            if key == "nested"
            else json.dumps(value)
        )
        for key, value in JSON_FIELDS.items()
    }
    return json.dumps(doc)


def _shown_types_fit(partial: Any) -> None:
    """Every Json field shows None or a value of its parsed type, never the raw text."""
    expected = {
        "mapping": dict,
        "numbers": list,
        "number": int,
        "anything": dict,
        "bare": list,
    }
    for name, kind in expected.items():
        value = getattr(partial, name)
        assert value is None or type(value) is kind, (name, value)
    for item in [partial.nested, *(partial.items or [])]:
        if item is not None:
            assert item.mapping is None or type(item.mapping) is dict, item
    for element in partial.texts or []:
        assert type(element) is list, element


@pytest.mark.parametrize("split", list(SPLITTERS))
def test_json_fields_show_only_their_parsed_value(split: str) -> None:
    """A Json[...] field shows nothing while its JSON string is open, then the parsed value
    validated as the field would be, never the raw text (top level, nested, in lists)."""
    text = json_fields_text()
    run = stream(JsonFields, SPLITTERS[split](text))
    parser = JSONParser()
    validator: PartialValidator[Any] = PartialValidator(JsonFields)
    for chunk in SPLITTERS[split](text):
        validator.apply(parser.feed(chunk))
        if validator.partial is not None:
            _shown_types_fit(validator.partial)
    final = run.final()
    assert final.model_dump() == JSON_FIELDS
    assert run.snapshots[-1] == final.model_dump()
    assert JsonFields.model_validate_json(text) == final


def test_json_field_is_none_while_its_string_is_open() -> None:
    """The raw JSON text of a Json field never shows, even when it is already valid JSON."""
    run = stream(JsonFields, ['{"numbers": "[1, 2]', '", "number": "12', '3"}'])
    assert [s["numbers"] for s in run.snapshots] == [None, [1, 2], [1, 2], [1, 2]]
    assert [s["number"] for s in run.snapshots] == [None, None, 123, 123]
    assert run.partial.field_state("numbers") == "complete"


def test_json_field_holding_invalid_json_shows_nothing_and_is_reported() -> None:
    """A Json field whose string is not JSON (or not its type) stays None and is reported."""
    run = stream(JsonFields, ['{"mapping": "{\\"a\\": \\"x\\"}", "numbers": "[1,"}'])
    assert run.snapshots[-1]["mapping"] is None and run.snapshots[-1]["numbers"] is None
    assert [path for path, _, _ in run.errors] == [("mapping",), ("numbers",)]


class NullableCat(BaseModel):
    type: Literal["cat"]
    meow: str | None


class NullableDog(BaseModel):
    type: Literal["dog"]
    bark: int | None


class NullableEither(BaseModel):
    best: NullableCat | NullableDog


def test_a_null_inside_a_union_option_is_a_set_field() -> None:
    """A null field of a union's option, rebuilt while the union is open, is set too."""
    run = stream(NullableEither, ['{"best": {"meow": null', ', "type": "cat"', "}}"], close=False)
    assert run.partial.best.model_fields_set == {"meow", "type"}
    assert run.partial.best.model_dump(exclude_unset=True) == {"meow": None, "type": "cat"}


class Count(BaseModel):
    n: int


def test_final_validation_of_an_integer_over_the_interpreter_limit() -> None:
    """A complete value holding an int with more digits than str() converts (built in
    Python, as a delta source may) validates as pydantic validates it, no bare ValueError."""
    big = 10**1000
    validator: PartialValidator[Count] = PartialValidator(Count)
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        assert validator.validate_final({"n": big}) == Count(n=big)
    finally:
        sys.set_int_max_str_digits(before)


def test_partial_validator_takes_model_and_the_old_annotation_keyword() -> None:
    """The type is ``model`` as everywhere else; ``annotation=`` still works, deprecated."""
    validator: PartialValidator[dict[str, int]] = PartialValidator(dict[str, int])
    assert validator.model == dict[str, int] and validator.annotation == dict[str, int]
    assert PartialValidator(model=int).model is int
    with pytest.warns(
        DeprecationWarning, match=r"annotation=\.\.\.\) is deprecated; use model="
    ) as w:
        old: PartialValidator[int] = PartialValidator(annotation=int)
    assert w[0].filename == __file__
    assert old.model is int and old.validate_final(3) == 3
    with pytest.raises(TypeError, match="both model and annotation="):
        PartialValidator(int, annotation=int)
    with pytest.raises(TypeError, match="needs the model"):
        PartialValidator()


# ---------------------------------------------------------------- snapshot recycling
#
# In snapshot mode, the version of a partial model or list from two updates back is brought
# up to date instead of copied when nothing outside the validator holds it or any part of
# it (`_copy_model`, `_copy_list`; compiled: `_speedups.own_path`). These tests hold
# snapshots in every way a user can and check that nothing they hold ever changes, on both
# implementations.

OWN_PATHS = [
    pytest.param(_validation._py_own_path, id="python"),
    pytest.param(
        _validation._C_OWN_PATH,
        id="compiled",
        marks=pytest.mark.skipif(
            _validation._C_OWN_PATH is None, reason="the C extension is not built"
        ),
    ),
]


@pytest.fixture(params=OWN_PATHS)
def own_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run the validator on one implementation of path copying (pure Python or compiled)."""
    monkeypatch.setattr(_validation, "_own_path", request.param)
    return request.param


class BasketLine(BaseModel):
    sku: str
    qty: int
    tags: list[str]


class Basket(BaseModel):
    id: str
    lines: list[BasketLine]
    note: str


BASKET = json.dumps(
    {
        "id": "basket-0001",
        "lines": [
            {"sku": f"sku-{i}-abcdef", "qty": i, "tags": ["red", "green", "blue"]} for i in range(4)
        ],
        "note": "leave it at the door, please",
    }
)
BASKET_CHUNKS = [BASKET[i : i + 3] for i in range(0, len(BASKET), 3)]


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
    if isinstance(value, set):
        return sorted(value)
    return value


@dataclass
class Box:
    value: Any


# How a user may hold on to a snapshot, or to a part of it, after dropping the update:
# (name, hold(partial) -> what is kept, look(kept) -> what it shows now).
HOLDS: list[tuple[str, Any, Any]] = [
    ("the partial", lambda p: p, shown),
    ("in a list", lambda p: [p], lambda k: shown(k[0])),
    ("as a field of another object", Box, lambda k: shown(k.value)),
    ("in a closure", lambda p: lambda: p, lambda k: shown(k())),
    ("its last line only", lambda p: p.lines and p.lines[-1], shown),
    ("its list of lines only", lambda p: p.lines, shown),
    ("its __dict__", vars, lambda k: {f: shown(v) for f, v in k.items()}),
    ("its fields set", lambda p: p.model_fields_set, sorted),
    ("its private dict", lambda p: p.__pydantic_private__, lambda k: shown(k)),
    ("its field states", lambda p: p.__pydantic_private__["_states"], dict),
    ("the last line's field states", lambda p: p.lines and p.lines[-1]._states, shown),
    ("a model_copy (sharing its field states)", lambda p: p.model_copy(), shown),
    ("a model_dump", lambda p: p.model_dump(), lambda k: k),
]


def basket_partials() -> Any:
    """The partial after each chunk of BASKET (snapshot mode), read once per chunk."""
    parser, validator = JSONParser(), PartialValidator(Basket)
    for chunk in BASKET_CHUNKS:
        validator.apply(parser.feed(chunk))
        if validator.partial is not None:
            yield validator.partial
    validator.apply(parser.close())
    yield validator.partial


@pytest.mark.parametrize("every", [1, 2, 3, 7])
@pytest.mark.parametrize(("name", "hold", "look"), HOLDS, ids=[h[0] for h in HOLDS])
def test_what_a_user_holds_of_a_snapshot_never_changes(
    own_path: Any, name: str, hold: Any, look: Any, every: int
) -> None:
    """Whatever part of a snapshot is kept, in whatever way (while the rest of the stream
    is dropped, so the versions around it are recycled), shows what it showed when kept."""
    kept = []
    for i, partial in enumerate(basket_partials()):
        if i % every == 0:
            held = hold(partial)
            kept.append((held, look(held)))
        del partial
    assert len(kept) > 10
    assert [look(held) for held, _ in kept] == [at_the_time for _, at_the_time in kept]


def test_a_snapshot_only_weakly_referenced_is_never_recycled(own_path: Any) -> None:
    """A weak reference is not counted in the reference count: a snapshot (or a nested
    model of one) held only through one, while alive, still shows what it showed."""
    refs: list[tuple[Any, Any]] = []
    for partial in basket_partials():
        for obj in (partial, *(partial.lines or ())):
            refs.append((weakref.ref(obj), shown(obj)))
        del partial, obj
        alive = [(ref(), then) for ref, then in refs if ref() is not None]
        assert [shown(obj) for obj, _ in alive] == [then for _, then in alive]
        del alive


def test_versions_nothing_holds_are_recycled(own_path: Any) -> None:
    """The model copy of an update is the version of two updates back when nothing holds
    that one any more: its field values, fields set and field states brought up to date."""
    parser, validator = JSONParser(), PartialValidator(Basket)
    validator.apply(parser.feed('{"id": "b'))
    first = id(validator.partial)  # published; the next change copies it
    validator.apply(parser.feed("as"))
    second = validator.partial  # a copy; the first is now only the validator's spare
    validator.apply(parser.feed("ket"))
    third = validator.partial  # the first, recycled
    assert id(third) == first and third is not second
    assert shown(third) == (
        "PartialBasket",
        {"id": "basket", "lines": None, "note": None},
        {"id": "streaming", "lines": "pending", "note": "pending"},
        ["id"],
    )
    validator.apply(parser.feed('", "lines": ['))
    assert shown(second) == (
        "PartialBasket",
        {"id": "bas", "lines": None, "note": None},
        {"id": "streaming", "lines": "pending", "note": "pending"},
        ["id"],
    )  # held: not recycled
    assert validator.partial is not second


def test_a_held_spare_is_copied_not_recycled(own_path: Any) -> None:
    """The version of two updates back, still held, is left alone: the update gets a copy."""
    parser, validator = JSONParser(), PartialValidator(Basket)
    validator.apply(parser.feed('{"id": "b'))
    first = validator.partial
    validator.apply(parser.feed("as"))
    second = validator.partial
    validator.apply(parser.feed("ket"))
    third = validator.partial
    assert third is not first and third is not second and first.id == "b" and third.id == "basket"


@pytest.mark.parametrize("partials", ["snapshot", "live"])
def test_recycling_shows_the_same_values_as_a_fresh_validator(
    own_path: Any, partials: Literal["snapshot", "live"]
) -> None:
    """Recycled or copied, every update shows what a validator fed the same prefix in one
    piece shows."""
    parser, validator = JSONParser(), PartialValidator(Basket, partials=partials)
    for n, chunk in enumerate(BASKET_CHUNKS, 1):
        validator.apply(parser.feed(chunk))
        fresh_parser, fresh = JSONParser(), PartialValidator(Basket)
        fresh.apply(fresh_parser.feed("".join(BASKET_CHUNKS[:n])))
        assert shown(validator.partial) == shown(fresh.partial)


@pytest.mark.parametrize("partials", ["snapshot", "live"])
def test_closed_models_of_one_shape_share_their_bookkeeping(
    own_path: Any, partials: Literal["snapshot", "live"]
) -> None:
    """A closed partial model holds the fields set and field states of the first closed
    model of its type and shape (one of each instead of three containers per model: fewer
    objects for the garbage collector to walk on a long stream), equal to its own; open
    ones, and models of another shape, keep their own; what every snapshot shows is
    unchanged."""
    lines = [{"sku": f"s{i}", "qty": i, "tags": ["a"]} for i in range(4)]
    lines.append({"sku": "odd", "qty": 9, "tags": [], "extra": 1})  # same shape: extra ignored
    doc = json.dumps({"id": "b", "lines": lines, "note": "n"})
    parser, validator = JSONParser(), PartialValidator(Basket, partials=partials)
    kept = []
    open_seen = 0
    for i in range(0, len(doc), 5):
        validator.apply(parser.feed(doc[i : i + 5]))
        partial = validator.partial
        kept.append((partial, shown(partial)))
        if partial is not None and partial.lines and len(partial.lines) == 3:
            open_line = partial.lines[-1]
            if open_line.field_state("tags") != "complete":
                # the open element keeps its own (it still changes)
                assert open_line.model_fields_set is not partial.lines[0].model_fields_set
                open_seen += 1
    assert open_seen
    validator.apply(parser.close())
    final = validator.partial
    first, *others = final.lines
    for line in others:
        assert line.model_fields_set is first.model_fields_set
        assert line.__pydantic_private__ is first.__pydantic_private__
        assert line.model_fields_set == {"sku", "qty", "tags"}
    assert final.model_fields_set is not first.model_fields_set
    if partials == "snapshot":
        assert [shown(p) for p, _ in kept] == [then for _, then in kept]
    fresh_parser, fresh = JSONParser(), PartialValidator(Basket)
    fresh.apply(fresh_parser.feed(doc))
    fresh.apply(fresh_parser.close())
    assert shown(final) == shown(fresh.partial)
