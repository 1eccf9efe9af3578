"""Partial types: what a user's model looks like while its JSON is still arriving.

Strategy / invariants:
- A user annotation is compiled once (cached) into a tree of `Node`s that says, for every
  position in the JSON, how a partial value is shown: a partial model, a growing string, a
  value shown only when complete, a `Literal`/`Enum` resolved from an unambiguous prefix, a
  list or dict of such, a union decided as its content arrives, or raw JSON (`Any`).
- For every model, a partial model class is generated (`Partial[Model]` at runtime): same
  field names and aliases, every field optional with default ``None``, nested models
  replaced by their partial classes, and every constraint dropped (a prefix need not meet
  them; the value's real validators run once it is complete).
- Partial instances are built without validation (they are made on the per-chunk path);
  the property tests check that every snapshot still validates against its partial class.
"""

from __future__ import annotations

import enum
import itertools
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, ForwardRef, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Json,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    create_model,
)
from pydantic.fields import FieldInfo
from pydantic_core import SchemaValidator

from ._exceptions import UsageError

__all__ = [
    "CompleteOnly",
    "HoldsParent",
    "Node",
    "Partial",
    "PartialModel",
    "compile_node",
    "partial_model",
]

M = TypeVar("M", bound=BaseModel)
ValueState = Literal["pending", "streaming", "complete"]


class _Marker:
    """Base of the streaming markers, usable as ``Annotated[T, Marker]`` or ``Marker()``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return type(self).__name__


class CompleteOnly(_Marker):
    """Show this field only once its value is complete (an ID, a URL, a ticker symbol).

    ``id: Annotated[str, CompleteOnly]`` keeps ``id`` at ``None`` until its closing quote.
    """

    __slots__ = ()


class HoldsParent(_Marker):
    """Hold back the object that holds this field until the field is complete.

    ``kind: Annotated[Literal["a", "b"], HoldsParent]`` keeps each element of a list out of
    the partial list until its ``kind`` is known, so a UI never renders an untyped card.
    """

    __slots__ = ()


def _has_marker(metadata: Sequence[Any], marker: type[_Marker]) -> bool:
    return any(m is marker or isinstance(m, marker) for m in metadata)


class PartialModel(BaseModel):
    """Base class of generated partial models: every field optional, nothing validated
    before it is complete. Use `field_state` to tell a missing field from a growing one."""

    model_config = ConfigDict(
        arbitrary_types_allowed=True, populate_by_name=True, protected_namespaces=()
    )
    __streamdantic_model__: ClassVar[type[BaseModel]]
    _states: dict[str, ValueState] = PrivateAttr(default_factory=dict)

    def __setattr__(self, name: str, value: Any) -> None:
        raise _frozen_error(self, name)

    def __delattr__(self, name: str) -> None:
        raise _frozen_error(self, name)

    def field_state(self, name: str) -> ValueState:
        """``"pending"`` (not arrived), ``"streaming"`` (arriving) or ``"complete"``."""
        if name not in type(self).model_fields:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}")
        return self._states.get(name, "pending")

    @property
    def complete_fields(self) -> list[str]:
        """Names of the fields whose values are complete."""
        return [name for name, state in self._states.items() if state == "complete"]


def _frozen_error(obj: PartialModel, name: str) -> UsageError:
    return UsageError(
        f"cannot set {name!r}: a {type(obj).__qualname__} is a snapshot of the stream and "
        "never changes; copy what you need (model_dump(), or model_copy(update=...)) or "
        "build the real model from the final update"
    )


# Node kinds. Plain ints: they are compared on every event.
MODEL = 0  # a BaseModel: a partial instance whose fields fill in
LIST = 1  # a JSON array: elements appended as they become visible
DICT = 2  # a JSON object with arbitrary keys: values set as they become visible
STR = 3  # a string shown as it grows
CHOICE = 4  # Literal/Enum of strings: None until one member matches the prefix
WHOLE = 5  # shown only when complete: numbers, booleans, dates, CompleteOnly strings...
ANY = 6  # untyped: a mirror of the raw JSON
UNION = 7  # decided from what has arrived; rebuilt from raw JSON while undecided


@dataclass(eq=False, slots=True)
class FieldSpec:
    """A model field as the stream sees it."""

    name: str
    key: str
    node: Node
    holds_parent: bool
    owner: type[BaseModel]
    _validator: SchemaValidator | None = None

    def validate(self, value: Any) -> Any:
        """Run this field's real constraints and field validators on a complete value."""
        validator = self._validator
        if validator is None:
            validator = self._validator = _field_validator(self.owner, self.name)
        return validator.validate_python({self.key: value})[0][self.name]


@dataclass(eq=False, slots=True)
class Node:
    """How the value at one position of the JSON is shown while it streams."""

    kind: int
    annotation: Any  # the user's annotation at this position (metadata stripped)
    model: type[BaseModel] | None = None
    partial_cls: type[PartialModel] | None = None
    fields: dict[str, FieldSpec] = field(default_factory=dict)  # MODEL: by JSON key
    defaults: dict[str, Any] = field(default_factory=dict)  # MODEL: None per field name
    holds: tuple[str, ...] = ()  # MODEL: names of HoldsParent fields
    item: Node | None = None  # LIST / DICT: the element node
    choices: dict[str, Any] = field(default_factory=dict)  # CHOICE: JSON text -> member
    options: list[Node] = field(default_factory=list)  # UNION
    discriminator: str | None = None  # UNION: JSON key deciding the option
    by_tag: dict[Any, Node] = field(default_factory=dict)  # UNION: tag -> option
    _adapter: TypeAdapter[Any] | None = None

    def child(self, key: str | int) -> tuple[Node | None, FieldSpec | None]:
        """The node of a child (a field's node for models), or None when untyped/unknown."""
        kind = self.kind
        if kind == MODEL:
            spec = self.fields.get(key) if isinstance(key, str) else None
            return (spec.node, spec) if spec is not None else (None, None)
        if kind == LIST or kind == DICT:
            return self.item, None
        if kind == ANY:
            return self, None
        return None, None

    def adapt(self, value: Any) -> Any:
        """Validate a complete value against this position's full type."""
        adapter = self._adapter
        if adapter is None:
            adapter = self._adapter = TypeAdapter(self.annotation)
        return adapter.validate_python(value)


def _field_validator(model: type[BaseModel], name: str) -> SchemaValidator:
    """A validator for one field of `model`, with its constraints and field validators,
    taken from the model's own core schema so that nothing is re-declared."""
    schema: Any = model.__pydantic_core_schema__
    definitions: list[Any] = []
    while True:
        kind = schema["type"]
        if kind == "definitions":
            definitions.extend(schema["definitions"])
            schema = schema["schema"]
        elif kind in ("function-after", "function-before", "function-wrap", "function-plain"):
            schema = schema["schema"]  # a model validator: it runs on the whole object only
        elif kind == "definition-ref":
            ref = schema["schema_ref"]
            schema = next(d for d in definitions if d.get("ref") == ref)
        elif kind == "model":
            config = schema.get("config")
            schema = schema["schema"]
            break
        else:  # pragma: no cover - pydantic always wraps a model this way
            raise TypeError(f"unexpected core schema {kind!r} for {model.__name__}")
    field_schema = schema["fields"][name]
    single: Any = {"type": "model-fields", "fields": {name: field_schema}}
    if definitions:
        single = {"type": "definitions", "schema": single, "definitions": definitions}
    return SchemaValidator(single, config)


# ---------------------------------------------------------------------------- compiling

_NODE_CACHE: dict[Any, Node] = {}
# pydantic's `Json` marker class (``Json[T]`` is ``Annotated[T, Json()]``; bare `Json` is
# ``Json[Any]``); typed Any because type checkers see a generic alias there.
_JSON: Any = Json
_PARTIAL_NAMES = itertools.count()


def _strip(annotation: Any) -> tuple[Any, list[Any]]:
    """Remove Annotated layers, returning the bare type and the collected metadata."""
    metadata: list[Any] = []
    while typing.get_origin(annotation) is Annotated:
        args = typing.get_args(annotation)
        annotation = args[0]
        metadata.extend(args[1:])
    return annotation, metadata


def _is_union(origin: Any) -> bool:
    return origin is typing.Union or origin is types.UnionType


def _key_of(name: str, info: FieldInfo) -> str:
    alias = info.validation_alias
    if isinstance(alias, str):
        return alias
    choices = getattr(alias, "choices", None)
    if choices and isinstance(choices[0], str):
        return str(choices[0])
    return info.alias or name


def compile_node(annotation: Any) -> Node:
    """Compile (once, cached) the node tree of a user annotation."""
    try:
        return _NODE_CACHE[annotation]
    except (KeyError, TypeError):
        pass
    models: dict[type, Node] = {}
    node = _compile(annotation, [], models)
    # Partial classes are generated once every model reached is compiled, so recursive
    # and mutually recursive models see complete field lists.
    _build_partial_classes(node)
    _NODE_CACHE.update(models)
    try:
        _NODE_CACHE[annotation] = node
    except TypeError:  # pragma: no cover - unhashable annotations are rare
        pass
    return node


def _compile(annotation: Any, metadata: list[Any], models: dict[type, Node]) -> Node:
    bare, more = _strip(annotation)
    metadata = [*metadata, *more]
    if bare is _JSON or any(isinstance(m, _JSON) for m in metadata):
        # A JSON document inside a JSON string: its raw text is a str, the field's value is
        # the parsed document, so nothing is shown until the string completes and parses.
        inner = Any if bare is _JSON else bare
        return Node(WHOLE, Annotated[inner, _JSON()])
    if _has_marker(metadata, CompleteOnly):
        return Node(WHOLE, bare)
    discriminator = next(
        (m.discriminator for m in metadata if isinstance(m, FieldInfo) and m.discriminator),
        None,
    )
    origin = typing.get_origin(bare)
    args = typing.get_args(bare)

    if isinstance(bare, type) and issubclass(bare, BaseModel):
        return _compile_model(bare, models)
    if _is_union(origin):
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return _compile(options[0], metadata, models)
        return _compile_union(bare, options, discriminator, models)
    if bare is str:
        return Node(STR, bare)
    if origin is Literal:
        if args and all(isinstance(a, str) for a in args):
            return Node(CHOICE, bare, choices={a: a for a in args})
        return Node(WHOLE, bare)
    if isinstance(bare, type) and issubclass(bare, enum.Enum):
        members = list(bare)
        if members and all(isinstance(m.value, str) for m in members):
            return Node(CHOICE, bare, choices={m.value: m for m in members})
        return Node(WHOLE, bare)
    if bare is Any or bare is object:
        return Node(ANY, Any)
    if origin in (list, Sequence, typing.Sequence) or (origin is tuple and args[1:] == (...,)):
        return Node(LIST, bare, item=_compile(args[0] if args else Any, [], models))
    if origin in (set, frozenset):
        return Node(WHOLE, bare)  # sets may reorder and deduplicate: shown when complete
    if bare is list:
        return Node(LIST, bare, item=Node(ANY, Any))
    if origin in (dict, Mapping, typing.Mapping) and (not args or args[0] is str):
        return Node(DICT, bare, item=_compile(args[1] if args else Any, [], models))
    if bare is dict:
        return Node(DICT, bare, item=Node(ANY, Any))
    return Node(WHOLE, bare)  # int, float, bool, None, datetime, UUID, fixed tuples, ...


def _compile_model(model: type[BaseModel], models: dict[type, Node]) -> Node:
    cached = _NODE_CACHE.get(model)
    if cached is not None:
        return cached
    if model in models:
        return models[model]  # a recursive reference: the node is being built
    if not model.__pydantic_complete__:
        model.model_rebuild()  # resolve forward references (raises if they cannot be)
    node = Node(MODEL, model, model=model)
    models[model] = node
    holds = []
    for name, info in model.model_fields.items():
        metadata = list(info.metadata)
        if info.discriminator:
            metadata.append(FieldInfo(discriminator=info.discriminator))
        child = _compile(info.annotation, metadata, models)
        holds_parent = _has_marker(metadata, HoldsParent)
        if holds_parent:
            holds.append(name)
        key = _key_of(name, info)
        node.fields[key] = FieldSpec(name, key, child, holds_parent, model)
        node.defaults[name] = None
    node.holds = tuple(holds)
    return node


def _compile_union(
    annotation: Any, options: list[Any], discriminator: Any, models: dict[type, Node]
) -> Node:
    nodes = [_compile(o, [], models) for o in options]
    node = Node(UNION, annotation, options=nodes)
    tag_key = discriminator if isinstance(discriminator, str) else None
    if tag_key is not None:
        node.discriminator = tag_key
        for option in nodes:
            if option.kind != MODEL:
                continue
            spec = next((s for s in option.fields.values() if s.name == tag_key), None)
            if spec is None:
                continue
            node.discriminator = spec.key
            tag_type, _ = _strip(option.model.model_fields[spec.name].annotation)  # type: ignore[union-attr]
            for tag in typing.get_args(tag_type) or ():
                node.by_tag[tag.value if isinstance(tag, enum.Enum) else tag] = option
    return node


# ----------------------------------------------------------------------- partial classes


def _partial_annotation(node: Node) -> Any:
    kind = node.kind
    if kind == MODEL:
        if node.partial_cls is not None:
            return node.partial_cls
        return ForwardRef(f"_streamdantic_partial_{id(node)}")
    if kind == LIST:
        return list[_partial_annotation(node.item)]  # type: ignore[arg-type, misc]
    if kind == DICT:
        return dict[str, _partial_annotation(node.item)]  # type: ignore[arg-type, misc]
    if kind == STR:
        return str
    if kind == ANY:
        return Any
    if kind == UNION:
        parts = tuple(_partial_annotation(o) for o in node.options)
        return typing.Union[parts]  # noqa: UP007
    return _loosen(node.annotation)


def _loosen(annotation: Any) -> Any:
    """The type without constraints (they apply to complete values only)."""
    bare, _ = _strip(annotation)
    return bare


def _build_partial_classes(root: Node) -> None:
    """Generate the partial class of `root` (and of models it reaches that lack one)."""
    pending: list[Node] = []
    stack = [root]
    seen: set[int] = set()
    while stack:  # every model node reachable from root without a partial class
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.kind == MODEL and node.partial_cls is None:
            pending.append(node)
            stack.extend(spec.node for spec in node.fields.values())
        elif node.kind != MODEL:
            if node.item is not None:
                stack.append(node.item)
            stack.extend(node.options)
    namespace: dict[str, Any] = {}
    for node in pending:
        namespace[f"_streamdantic_partial_{id(node)}"] = None
    for node in reversed(pending):  # leaves first, so most references are direct
        model = node.model
        assert model is not None
        definitions: dict[str, Any] = {}
        for spec in node.fields.values():
            info = model.model_fields[spec.name]
            annotation = _partial_annotation(spec.node)
            definitions[spec.name] = (
                annotation | None,
                FieldInfo(default=None, alias=info.alias, validation_alias=info.validation_alias),
            )
        cls = create_model(
            f"Partial{model.__name__}",
            __base__=PartialModel,
            __module__=model.__module__,
            **definitions,
        )
        cls.__streamdantic_model__ = model
        cls.__qualname__ = f"Partial[{model.__qualname__}]"
        node.partial_cls = cls
        namespace[f"_streamdantic_partial_{id(node)}"] = cls
    for node in pending:
        assert node.partial_cls is not None
        node.partial_cls.model_rebuild(_types_namespace=namespace)


def partial_model(model: type[M]) -> type[PartialModel]:
    """The generated partial class of `model` (cached): every field optional."""
    cls = compile_node(model).partial_cls
    assert cls is not None
    return cls


class Partial(Generic[M]):
    """``Partial[Model]``: the partial view of `Model` while its JSON streams.

    At runtime ``Partial[Model]`` is the generated `PartialModel` subclass (every field
    optional, nested models partial). For type checkers it is a generic class whose
    attributes are the model's, each possibly ``None``; the streamdantic mypy plugin
    (``plugins = ["streamdantic.mypy"]``) makes that precise per field.
    """

    def __class_getitem__(cls, item: Any) -> Any:
        if isinstance(item, type) and issubclass(item, BaseModel):
            return partial_model(item)
        return super().__class_getitem__(item)  # type: ignore[misc]

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...

        def field_state(self, name: str) -> ValueState: ...

        @property
        def complete_fields(self) -> list[str]: ...

        def model_dump(self, **kwargs: Any) -> dict[str, Any]: ...

        def model_dump_json(self, **kwargs: Any) -> str: ...


def new_partial(node: Node) -> PartialModel:
    """A fresh partial instance of a MODEL node (all fields None), without validation."""
    cls = node.partial_cls
    assert cls is not None
    obj = cls.__new__(cls)
    _set(obj, "__dict__", dict(node.defaults))
    _set(obj, "__pydantic_fields_set__", set())
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", {"_states": {}})
    return obj


_set = object.__setattr__


def build_partial(node: Node, raw: Any, *, complete: bool = False) -> Any:
    """Build the partial view of a raw JSON value in one go.

    With ``complete=False`` the value may be a prefix: its numbers, booleans and nulls are
    complete (the parser shows no others) but strings may still grow, so values shown only
    when complete are shown only when they are not strings. Used for unions still being
    decided and as a one-shot helper; the streaming path updates partial objects in place.
    """
    kind = node.kind
    if raw is None:
        return None
    if kind == MODEL:
        if not isinstance(raw, dict):
            return None
        obj = new_partial(node)
        values = obj.__dict__
        states = obj.__pydantic_private__["_states"]  # type: ignore[index]
        last = next(reversed(raw), None)  # only the last value of a prefix may still grow
        for key, value in raw.items():
            spec = node.fields.get(key)
            if spec is None:
                continue
            shown = build_partial(spec.node, value, complete=complete)
            if shown is not None:
                values[spec.name] = shown
            if shown is not None or value is None:  # a null is a value set (to None)
                obj.__pydantic_fields_set__.add(spec.name)
            growing = not complete and key == last and type(value) in (str, list, dict)
            if shown is not None or value is None:
                states[spec.name] = "streaming" if growing else "complete"
        return obj
    if kind == LIST:
        if not isinstance(raw, list):
            return None
        # A null element is shown; a value not shown yet (a growing date, say) is left out.
        items = ((v, build_partial(node.item, v, complete=complete)) for v in raw)  # type: ignore[arg-type]
        return [s for v, s in items if s is not None or v is None]
    if kind == DICT:
        if not isinstance(raw, dict):
            return None
        shown_items = (
            (k, v, build_partial(node.item, v, complete=complete))  # type: ignore[arg-type]
            for k, v in raw.items()
        )
        return {k: s for k, v, s in shown_items if s is not None or v is None}
    if kind == STR:
        return raw if isinstance(raw, str) else None
    if kind == CHOICE:
        if not isinstance(raw, str):
            return None
        return node.choices.get(raw) if complete else match_choice(node, raw)
    if kind == ANY:
        # A prefix is a union's raw mirror, which changes in place: shown as a copy.
        return raw if complete else _json_copy(raw)
    if kind == UNION:
        option = choose_option(node, raw, complete=complete)
        if option is None:
            return None
        if option.kind == WHOLE and type(raw) not in (str, list, dict):
            # A number or boolean (always complete): pydantic's union picks its type, as the
            # final validation will (``int | float`` keeps 2 an int and 2.5 a float).
            try:
                return node.adapt(raw)
            except ValidationError:
                return None
        return build_partial(option, raw, complete=complete)
    if not complete and (isinstance(raw, str) or type(raw) in (list, dict)):
        return None  # WHOLE: a string or container may still be growing
    try:
        return node.adapt(raw)
    except ValidationError:
        return None


def _json_copy(value: Any) -> Any:
    """A copy of a raw JSON value's containers (iterative: documents may be deep)."""
    if type(value) is not dict and type(value) is not list:
        return value
    root = value.copy()
    stack = [root]
    while stack:
        container = stack.pop()
        items = container.items() if type(container) is dict else enumerate(container)
        for key, item in items:
            if type(item) is dict or type(item) is list:
                container[key] = copied = item.copy()
                stack.append(copied)
    return root


def match_choice(node: Node, prefix: str) -> Any:
    """The unique member whose text starts with `prefix`, else None."""
    choices = node.choices
    if prefix in choices and not any(c != prefix and c.startswith(prefix) for c in choices):
        return choices[prefix]
    found = None
    for text, member in choices.items():
        if text.startswith(prefix):
            if found is not None:
                return None
            found = member
    return found


def choose_option(node: Node, raw: Any, *, complete: bool = False) -> Node | None:
    """The union option that fits what has arrived so far, or None while undecided.

    The choice only narrows as content arrives, so a shown value never changes type: a tag
    decides once its prefix matches a single option; an object without a discriminator
    picks the one model whose fields include every key some option knows, and stays
    undecided while several models fit (the validator lets pydantic decide at its close).
    """
    if node.discriminator is not None and isinstance(raw, dict):
        tag = raw.get(node.discriminator)
        if complete or not isinstance(tag, str):
            return node.by_tag.get(tag)
        found = {
            id(o): o for t, o in node.by_tag.items() if isinstance(t, str) and t.startswith(tag)
        }
        return next(iter(found.values())) if len(found) == 1 else None
    if isinstance(raw, dict):
        models = [o for o in node.options if o.kind == MODEL]
        known = [k for k in raw if any(k in o.fields for o in models)]
        fitting = [o for o in models if all(k in o.fields for k in known)]
        if len(fitting) == 1:
            return fitting[0]
        if fitting:
            return None
        return next((o for o in node.options if o.kind in (DICT, ANY)), None)
    wanted = (
        (LIST,) if isinstance(raw, list) else (STR, CHOICE) if isinstance(raw, str) else (WHOLE,)
    )
    return next((o for o in node.options if o.kind in wanted or o.kind == ANY), None)
