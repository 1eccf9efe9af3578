"""mypy plugin: the attributes of ``Partial[Model]``, field by field.

Enable it in the mypy configuration::

    [tool.mypy]
    plugins = ["streamdantic.mypy"]

Without it, every attribute of a ``Partial[Model]`` is ``Any`` (`Partial` declares
``__getattr__(self, name) -> Any`` for type checkers). With it, ``p.<field>`` has the type
the generated partial class has at runtime (see `streamdantic._partial`):

- every field is optional: ``id: int`` gives ``int | None``; ``note: str | None`` stays so;
- a model becomes its partial: ``customer: Customer`` gives ``Partial[Customer] | None``;
- ``list[X]``, ``Sequence[X]`` and ``tuple[X, ...]`` give ``list[<X>]``; ``dict[str, X]`` and
  ``Mapping[str, X]`` give ``dict[str, <X>]``; unions map member by member; anything else
  (sets, fixed tuples, ``dict[int, X]``, ...) is shown only when complete, so it is kept;
- an attribute that is neither a field nor a member of `PartialModel` (the runtime base class)
  is an error: ``"Partial[Order]" has no attribute "nope"``. What `Partial` itself declares
  (``field_state``, ``complete_fields``, ``model_dump``, ``model_dump_json``) keeps its type.

How it works: mypy resolves an attribute a class does not define through the class's
``__getattr__``, then calls the *attribute hook* named ``<class defining __getattr__>.<name>``
(`Plugin.get_attribute_hook`; in mypy's ``checkmember.analyze_member_var_access`` the hook
fires for every such name, existing or not, but never for methods). So a single hook on
``streamdantic._partial.Partial.*`` sees every attribute read on a partial, replaces the
``Any`` from ``__getattr__`` with the field's partial type, or reports the missing attribute.
Members `Partial` declares are found before ``__getattr__`` and never reach the hook.

Fields are read at type-checking time from the model's ``TypeInfo`` (annotated, non-ClassVar,
non-underscore class attributes of the model and its bases, with a generic model's type
arguments substituted). Nothing is added during semantic analysis, so the plugin works from
mypy's cache and with or without pydantic's own plugin, in any order. Field names are used,
never aliases.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.checker_shared import TypeCheckerSharedApi
from mypy.checkmember import analyze_member_access
from mypy.expandtype import expand_type_by_instance
from mypy.maptype import map_instance_to_supertype
from mypy.nodes import TypeInfo, Var
from mypy.plugin import AttributeContext, CheckerPluginInterface, Plugin
from mypy.types import (
    AnyType,
    Instance,
    NoneType,
    Type,
    TypeAliasType,
    TypeOfAny,
    TypeVarType,
    UnionType,
    get_proper_type,
)

__all__ = ["StreamdanticPlugin", "plugin"]

PARTIAL = "streamdantic._partial.Partial"
PARTIAL_MODEL = "streamdantic._partial.PartialModel"
BASE_MODEL = "pydantic.main.BaseModel"
# Containers whose partial is a list / a dict (as in `_partial._compile`); others are kept.
_LISTS = frozenset({"builtins.list", "typing.Sequence", "collections.abc.Sequence"})
_DICTS = frozenset({"builtins.dict", "typing.Mapping", "collections.abc.Mapping"})


class StreamdanticPlugin(Plugin):
    """Types the attributes of ``Partial[Model]`` from the fields of ``Model``."""

    def get_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        owner, _, name = fullname.rpartition(".")
        if owner != PARTIAL:
            return None

        def hook(ctx: AttributeContext) -> Type:
            return _partial_attribute(name, ctx, self._partial_model)

        return hook

    def _partial_model(self) -> TypeInfo | None:
        symbol = self.lookup_fully_qualified(PARTIAL_MODEL)
        return symbol.node if symbol is not None and isinstance(symbol.node, TypeInfo) else None


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point."""
    return StreamdanticPlugin


def _partial_attribute(
    name: str, ctx: AttributeContext, partial_model: Callable[[], TypeInfo | None]
) -> Type:
    """The type of ``<partial>.<name>``.

    ``ctx.type`` is the whole expression's type: for ``x.a`` with ``x: Partial[A] | B`` it is
    the union, and the hook runs once per item that resolves ``a`` through ``__getattr__``.
    Every call answers for all the partials in the union: mypy joins the answers and drops
    repeated error messages.
    """
    partials = _partials_in(ctx.type)
    if not partials:
        return ctx.default_attr_type
    if partials[0].type.get(name) is not None:  # declared on Partial: keep its type
        return ctx.default_attr_type
    found: list[Type] = []
    for instance in partials:
        model = get_proper_type(instance.args[0]) if instance.args else None
        if not isinstance(model, Instance):  # Partial[Any], Partial[M] in a generic function
            found.append(ctx.default_attr_type)
            continue
        field = _model_fields(model).get(name)
        if field is not None:
            found.append(_optional(_partial_of(field, ctx.api, instance.type, frozenset())))
            continue
        member = _partial_model_member(name, ctx, partial_model())
        if member is not None:
            found.append(member)
            continue
        ctx.api.msg.has_no_attr(ctx.type, instance, name, ctx.context)
    if not found:
        return AnyType(TypeOfAny.from_error)
    return UnionType.make_union(found)


def _partials_in(typ: Type) -> list[Instance]:
    """The ``Partial[...]`` instances in a type (union items, type variable bounds)."""
    proper = get_proper_type(typ)
    if isinstance(proper, UnionType):
        return [p for item in proper.items for p in _partials_in(item)]
    if isinstance(proper, TypeVarType):
        return _partials_in(proper.upper_bound)
    if isinstance(proper, Instance):
        info = next((base for base in proper.type.mro if base.fullname == PARTIAL), None)
        if info is not None:
            return [map_instance_to_supertype(proper, info)]
    return []


def _model_fields(model: Instance) -> dict[str, Type]:
    """The fields of a model (subclass definitions win) with their declared types."""
    fields: dict[str, Type] = {}
    for base in reversed(model.type.mro):
        if base.fullname in (BASE_MODEL, "builtins.object"):
            continue
        mapped: Instance | None = None
        for name, symbol in base.names.items():
            var = symbol.node
            if (
                not isinstance(var, Var)
                or name.startswith("_")
                or var.is_classvar
                or var.is_inferred  # no annotation: not a field
                or symbol.implicit  # declared in a method (self.x = ...)
            ):
                continue
            if var.type is None:  # pragma: no cover - annotated Vars have a type
                fields[name] = AnyType(TypeOfAny.special_form)
                continue
            if mapped is None:
                mapped = map_instance_to_supertype(model, base)
            fields[name] = expand_type_by_instance(var.type, mapped)
    return fields


def _partial_model_member(name: str, ctx: AttributeContext, info: TypeInfo | None) -> Type | None:
    """The type of a member of `PartialModel` (a partial is one at runtime), else None."""
    api = ctx.api
    if info is None or info.get(name) is None or not isinstance(api, TypeCheckerSharedApi):
        return None
    instance = Instance(info, [])
    return analyze_member_access(
        name,
        instance,
        ctx.context,
        is_lvalue=False,
        is_super=False,
        is_operator=False,
        original_type=instance,
        chk=api,
    )


def _optional(typ: Type) -> Type:
    """``typ | None`` (unchanged when it already admits None)."""
    proper = get_proper_type(typ)
    items = proper.items if isinstance(proper, UnionType) else [typ]
    if any(isinstance(get_proper_type(item), NoneType) for item in items):
        return typ
    return UnionType.make_union([*items, NoneType()])


def _partial_of(
    typ: Type, api: CheckerPluginInterface, partial: TypeInfo, expanding: frozenset[str]
) -> Type:
    """The partial type of a field's type, as `_partial` builds it at runtime.

    Returns `typ` itself when nothing changes, so that aliases keep their names.
    """
    if isinstance(typ, TypeAliasType):
        alias = typ.alias
        key = alias.fullname if alias is not None else ""
        if key in expanding:  # a recursive alias: keep the reference
            return typ
        expanded = get_proper_type(typ)
        result = _partial_of(expanded, api, partial, expanding | {key})
        return typ if result is expanded else result
    if isinstance(typ, UnionType):
        items = [_partial_of(item, api, partial, expanding) for item in typ.items]
        if all(new is old for new, old in zip(items, typ.items, strict=True)):
            return typ
        return UnionType.make_union(items, typ.line, typ.column)
    if not isinstance(typ, Instance):
        return typ
    info = typ.type
    if info.has_base(BASE_MODEL):
        return Instance(partial, [typ])
    fullname = info.fullname
    if (fullname in _LISTS or fullname == "builtins.tuple") and len(typ.args) == 1:
        item = _partial_of(typ.args[0], api, partial, expanding)
        if item is typ.args[0] and fullname == "builtins.list":
            return typ
        return api.named_generic_type("builtins.list", [item])
    if fullname in _DICTS and len(typ.args) == 2 and _is_str(typ.args[0]):
        value = _partial_of(typ.args[1], api, partial, expanding)
        if value is typ.args[1] and fullname == "builtins.dict":
            return typ
        return api.named_generic_type("builtins.dict", [typ.args[0], value])
    return typ


def _is_str(typ: Type) -> bool:
    proper = get_proper_type(typ)
    return isinstance(proper, Instance) and proper.type.fullname == "builtins.str"
