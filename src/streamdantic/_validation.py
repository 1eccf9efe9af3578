"""Progressive validation: parser (or merger) events in, a typed partial object out.

Strategy / invariants:
- Sans-IO: `PartialValidator.apply(events)` updates the partial object along the paths the
  events touch, and says what changed. Cost per event is O(depth); nothing is rebuilt from
  the root.
- Snapshots by path copying (``partials="snapshot"``, the default): reading `partial`
  publishes it (the epoch moves on). The first change of a published container (a partial
  model, list or dict) in the new epoch copies it shallowly, and its ancestors up to the
  root, once per epoch; everything else stays shared. So a published partial never changes,
  and ``a.items[3] is b.items[3]`` between two published partials means "unchanged". Each
  open frame records the epoch its view was made or copied in (`_Frame.epoch`); `_own` is
  the one place that copies (its copying branch, `_py_own_path`, is compiled as
  `_speedups.own_path`). A container's previous version (`_Frame.spare`) is recycled
  instead of copied when nothing outside the validator references it or any part of it
  (exact reference counts, CPython with the GIL only; `_copy_list`, `_copy_model`).
  ``partials="live"`` never moves the epoch: one object, changed in place.
- Validators see only complete values. A model object is validated with the real model
  when it closes (its nested model objects, already validated, are passed as instances, so
  pydantic does not validate them again); a field of the root model is validated with its
  own constraints and field validators when it closes. Model validators of the root run in
  the final, strict validation of the whole document (`validate_final`).
- Strings grow in place; numbers, booleans and null come complete from the parser; a
  `Literal` or string `Enum` shows the one member its prefix allows, else nothing; values
  of other types (dates, UUIDs, `CompleteOnly` fields) appear when complete.
- Unions are decided from what has arrived (the discriminator when there is one). Until the
  union's value closes, its partial view is rebuilt from a raw mirror after each batch, so
  its cost is proportional to the union's own subtree.
- An update that changes nothing visible reports ``changed=False``: dedup happens here.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar
from weakref import getweakrefcount

import pydantic_core
from pydantic import BaseModel, TypeAdapter, ValidationError

from ._events import DocumentCompleted, Event, StringAppended, ValueCompleted, ValueStarted
from ._exceptions import StreamValidationError
from ._options import rename_options
from ._partial import (
    ANY,
    CHOICE,
    DICT,
    LIST,
    MODEL,
    STR,
    UNION,
    WHOLE,
    FieldSpec,
    Node,
    PartialModel,
    build_partial,
    choose_option,
    compile_node,
    match_choice,
    new_partial,
)
from ._paths import JSONPath, render_path

__all__ = ["Changes", "PartialValidator", "InvalidValue"]

T = TypeVar("T")
_NOTHING: Any = object()  # "no validated value" (None is a valid validated value)


@dataclass(frozen=True, slots=True)
class InvalidValue:
    """A complete value that failed validation: where, and pydantic's errors."""

    path: JSONPath
    errors: list[Any]
    message: str


class Changes:
    """What one batch of events did to the typed partial object.

    Made once per chunk, so it is cheap: the lists start as one shared empty tuple and become
    lists on the first `add`. Read them; add to them with `add`.
    """

    changed: bool = False  # something visible changed
    completed: Sequence[JSONPath] = ()  # values completed, in order
    elements: Sequence[tuple[JSONPath, Any]] = ()  # validated list items
    fields: Sequence[tuple[JSONPath, Any]] = ()  # completed model fields
    errors: Sequence[InvalidValue] = ()

    def add(self, name: str, item: Any) -> None:
        """Append `item` to the list `name` (``"completed"``, ``"elements"``, ...)."""
        items = getattr(self, name)
        if items:
            items.append(item)
        else:
            setattr(self, name, [item])

    def __repr__(self) -> str:
        return (
            f"Changes(changed={self.changed}, completed={list(self.completed)}, "
            f"elements={list(self.elements)}, fields={list(self.fields)}, "
            f"errors={list(self.errors)})"
        )


class _Frame:
    """An open string, array or object and where its partial view lives."""

    __slots__ = (
        "node",
        "obj",
        "parent",
        "slot",
        "spec",
        "text",
        "attached",
        "validated",
        "union",
        "raw",
        "failed",
        "sink",
        "sink_epoch",
        "epoch",
        "spare",
    )

    def __init__(
        self,
        node: Node | None,
        obj: Any,
        parent: _Frame | None,
        slot: Any,
        spec: FieldSpec | None,
        epoch: int = 0,
    ) -> None:
        self.node = node  # None: an ignored subtree (unknown key, type mismatch)
        self.obj = obj  # the partial view (model instance, list, dict, str) or None
        self.parent = parent
        self.slot = slot  # field name, list index or dict key in the parent's view
        self.spec = spec
        self.text = ""  # strings: the text so far
        self.attached = False  # whether obj is visible in the parent's view
        self.validated: dict[Any, Any] | None = None  # validated model children by key
        self.union: _Frame | None = None  # the undecided union this frame lies inside
        self.raw: Any = None  # unions: the raw mirror of the value
        self.failed = False  # this value, or one inside it, failed validation (reported)
        # A plain string already shown: the mapping or list its text is stored in at `slot`
        # (a model's __dict__, a dict, a list), so growing it is one store (see `apply`).
        self.sink: Any = None
        self.sink_epoch = -1  # the epoch `sink` was taken in (it is stale after a copy)
        self.epoch = epoch  # the epoch `obj` was made or copied in: changeable in place then
        # Lists and partial models: the version before `obj`, recycled when nothing outside
        # the validator holds it any more (`_copy_list`, `_copy_model`).
        self.spare: Any = None


# The slots of a pydantic model instance, set directly: a copy is made per update.
_new = object.__new__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


# Recycling a list that nothing outside the validator references is safe only where
# reference counts are exact and the interpreter holds no uncounted ones: CPython with the
# GIL. Elsewhere every copy is a fresh list.
_RECYCLE = sys.implementation.name == "cpython" and getattr(sys, "_is_gil_enabled", bool)(1)


def _unreferenced_count() -> int:
    """What `sys.getrefcount(spare)` reads in `_copy_list` when only its local holds it."""
    spare: list[Any] = []
    return sys.getrefcount(spare)


_UNREFERENCED = _unreferenced_count()


def _copy_list(frame: _Frame, obj: list[Any]) -> list[Any]:
    """A list equal to the published `obj`, to change in place.

    A view list only ever changes at its end (elements are appended, and only the last one,
    the open element, is replaced), and consecutive updates usually hold two versions of
    it. So the version before `obj` (`frame.spare`), when nothing outside the validator
    references it any more (no update or partial you kept holds it), is brought up to date
    by rewriting its tail: O(change) instead of O(length). Otherwise, a copy.
    """
    spare: list[Any] | None = frame.spare
    frame.spare = obj
    if (
        type(spare) is list
        and _RECYCLE
        and sys.getrefcount(spare) == _UNREFERENCED
        and len(spare) <= len(obj)
    ):
        start = len(spare) - 1 if spare else 0
        spare[start:] = obj[start:]
        return spare
    return obj.copy()


def _held_once_count() -> int:
    """What `sys.getrefcount(part)` reads in `_copy_model` when only one object holds
    `part` (besides the local that reads it)."""
    box: list[list[Any]] = [[]]
    part = box[0]
    return sys.getrefcount(part)


_HELD_ONCE = _held_once_count()


def _sync_dict(dst: dict[Any, Any], src: dict[Any, Any]) -> None:
    """Make `dst` equal to `src`, keys in the same order: in place when the keys of `dst`
    are those of `src` in the same order, or a prefix of them; otherwise rebuilt."""
    keys = list(dst)
    if keys != list(src)[: len(keys)] or len(keys) > len(src):
        dst.clear()
    dst.update(src)


def _copy_model(frame: _Frame, obj: Any) -> Any:
    """A partial model equal to the published `obj`, to change in place.

    As for lists (`_copy_list`), the version before `obj` (`frame.spare`) is recycled when
    nothing outside the validator references it or any part of it (its instance dict,
    fields set, private dict and field states each held once, by it; no weak reference to
    it): its field values, fields set and field states are brought up to date with `obj`'s.
    Otherwise, a shallow copy (its field values shared) made without pydantic's __copy__.
    """
    spare = frame.spare
    frame.spare = obj
    if (
        spare is not None
        and _RECYCLE
        and type(spare) is type(obj)
        and sys.getrefcount(spare) == _UNREFERENCED
        and not getweakrefcount(spare)
    ):
        fields_set = spare.__pydantic_fields_set__
        private = spare.__pydantic_private__
        new_set = obj.__pydantic_fields_set__
        new_private = obj.__pydantic_private__
        states = new_states = None
        if (
            type(fields_set) is set
            and type(new_set) is set
            and type(private) is dict
            and type(new_private) is dict
            and sys.getrefcount(fields_set) == _HELD_ONCE
            and sys.getrefcount(private) == _HELD_ONCE
            and len(private) == 1
            and spare.__pydantic_extra__ is None
        ):
            states = private.get("_states")
            new_states = new_private.get("_states")
        if (
            type(states) is dict
            and type(new_states) is dict
            and sys.getrefcount(states) == _HELD_ONCE
        ):
            values = spare.__dict__
            new_values = obj.__dict__
            if (
                sys.getrefcount(values) == _HELD_ONCE
                and type(values) is dict
                and type(new_values) is dict
                and len(values) == len(new_values)
            ):
                # The same keys in the same order (every field, from the node's defaults).
                _sync_dict(values, new_values)
                if len(fields_set) != len(new_set):  # it only grows: same size, same members
                    fields_set.clear()
                    fields_set.update(new_set)
                _sync_dict(states, new_states)  # keys only added, in the same order
                return spare
    new = _new(type(obj))
    new.__dict__.update(obj.__dict__)
    _set_fields_set(new, obj.__pydantic_fields_set__.copy())
    _set_extra(new, None)
    _set_private(new, {"_states": obj.__pydantic_private__["_states"].copy()})
    return new


def _py_own_path(frame: _Frame, epoch: int, validator: PartialValidator[Any]) -> Any:
    """The copying branch of `PartialValidator._own` (compiled: `_speedups.own_path`).

    Walks up from `frame` to the first frame already changeable in `epoch`, then, top-down
    (each parent is changeable when its child lands), marks each frame changeable and, when
    the chain is in the root's view, replaces its published container with a copy.
    """
    chain: list[_Frame] = []
    visible = True
    f: _Frame | None = frame
    while f is not None and f.epoch != epoch:
        chain.append(f)
        if f.obj is None or not f.attached or f.union is not None:
            visible = False  # not in the root's view (held, or a union's raw mirror)
            break
        f = f.parent
    for f in reversed(chain):
        f.epoch = epoch
        if not visible:
            continue
        # The containers of views: lists and dicts, and partial models (strings and
        # values shown whole are never changed in place, so never copied).
        obj = f.obj
        kind = type(obj)
        if kind is list:
            copy = f.obj = _copy_list(f, obj)
        else:
            copy = f.obj = obj.copy() if kind is dict else _copy_model(f, obj)
        parent = f.parent
        if parent is None:
            validator._partial = copy
        else:
            target = parent.obj
            kind = type(target)
            if kind is list or kind is dict:
                target[f.slot] = copy
            else:
                target.__dict__[f.slot] = copy
    return frame.obj


def _compiled_own_path() -> Any:
    """`_speedups.own_path` set up for `_Frame` and pydantic models, or None when the C
    extension is not built or ``STREAMDANTIC_PURE_PYTHON=1`` is in the environment."""
    if os.environ.get("STREAMDANTIC_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from . import _speedups
    except ImportError:
        return None
    _speedups.setup_snapshots(_Frame, BaseModel)
    return _speedups.own_path


_C_OWN_PATH = _compiled_own_path()
_own_path: Callable[[_Frame, int, PartialValidator[Any]], Any] = (
    _py_own_path if _C_OWN_PATH is None else _C_OWN_PATH
)


_PARTIALS = ("snapshot", "live")
_MAX_SETTLED_SHAPES = 256
_NO_MODEL: Any = object()
_RENAMED = {"annotation": "model"}


class PartialValidator(Generic[T]):
    """Turn parser or merger events into a typed partial object, validating complete values.

    Args:
        model: the user's model (or any type pydantic can validate; ``Any`` mirrors plain
            JSON). ``annotation=``, its old name, still works, deprecated.
        partials: ``"snapshot"`` (default): each read of `partial` returns a value that
            never changes afterwards, sharing unchanged subtrees with the previous one
            (path copying). ``"live"``: one object, changed in place by later events (the
            hottest loops, when nothing keeps a partial past the next `apply`).

    Raises:
        ValueError: an unknown `partials` word.
        TypeError: no model, or both ``model`` and ``annotation``.
    """

    def __init__(
        self,
        model: type[T] | Any = _NO_MODEL,
        *,
        partials: Literal["snapshot", "live"] = "snapshot",
        annotation: type[T] | Any = _NO_MODEL,
    ) -> None:
        if annotation is not _NO_MODEL:
            if model is not _NO_MODEL:
                raise TypeError("PartialValidator() got both model and annotation=; pass model")
            model = rename_options({"annotation": annotation}, _RENAMED, "PartialValidator")[
                "model"
            ]
        elif model is _NO_MODEL:
            raise TypeError("PartialValidator() needs the model (the type to validate)")
        if partials not in _PARTIALS:
            raise ValueError(
                f"partials must be one of {', '.join(map(repr, _PARTIALS))}, got {partials!r}"
            )
        self.model = model
        self._snapshots = partials == "snapshot"
        self._epoch = 0
        self._root = compile_node(model)
        self._open: dict[JSONPath, _Frame] = {}
        self._partial: Any = None
        self._adapter: TypeAdapter[Any] | None = None
        self.errors: list[InvalidValue] = []
        self._dirty_unions: list[_Frame] = []
        # Closed partial models' shared bookkeeping, by shape (`_settle`).
        self._settled: dict[tuple[Any, ...], tuple[set[str], dict[str, Any]]] = {}

    @property
    def annotation(self) -> Any:
        """The old name of `model`."""
        return self.model

    @property
    def partial(self) -> Any:
        """The typed partial object so far (``None`` before anything is visible).

        In snapshot mode the object returned never changes: later events change copies of
        the containers on their paths (see the module docstring).
        """
        if self._snapshots:
            self._epoch += 1  # published: the next change of any view copies its path
        return self._partial

    def _own(self, frame: _Frame) -> Any:
        """`frame.obj`, safe to change in place: copied (with its ancestors up to the root,
        each at most once per epoch) if it may have been published."""
        epoch = self._epoch
        if frame.epoch == epoch:
            return frame.obj
        return _own_path(frame, epoch, self)

    def state_of(self, path: JSONPath) -> str:
        """``"pending"``, ``"streaming"`` or ``"complete"`` for a JSON path."""
        if path in self._open:
            return "streaming"
        return "pending" if self._lookup(path) is None else "complete"

    def _lookup(self, path: JSONPath) -> Any:
        node: Any = self._partial
        for segment in path:
            if node is None:
                return None
            if isinstance(node, BaseModel):
                spec = self._spec_at(node, segment)
                node = node.__dict__.get(spec.name) if spec is not None else None
            else:
                try:
                    node = node[segment]
                except (KeyError, IndexError, TypeError):
                    return None
        return node

    @staticmethod
    def _spec_at(obj: BaseModel, key: Any) -> FieldSpec | None:
        node = compile_node(type(obj).__streamdantic_model__)  # type: ignore[attr-defined]
        return node.fields.get(key) if isinstance(key, str) else None

    # ------------------------------------------------------------------ events

    def apply(self, events: Iterable[Event]) -> Changes:
        """Apply a batch of events (one `feed` or one chunk); return what they changed."""
        changes = Changes()
        open_frames = self._open
        event: Any  # dispatched on its exact type below, the cheapest test
        for event in events:
            kind = type(event)
            if kind is StringAppended:
                frame = open_frames.get(event.path)
                if frame is not None:
                    sink = frame.sink
                    if sink is not None:  # the common case: a shown string grows
                        if frame.sink_epoch != self._epoch:  # its container was published
                            sink = self._sink(frame)
                        text = frame.text = frame.obj = frame.text + event.text
                        sink[frame.slot] = text
                        changes.changed = True
                    else:
                        self._grow(frame, event.text, changes)
            elif kind is ValueCompleted:
                self._complete(event.path, event.value, changes)
            elif kind is ValueStarted:
                self._start(event.path, event.kind, changes)
            elif kind is DocumentCompleted:
                pass  # the root's ValueCompleted did the work
        if self._dirty_unions:
            self._rebuild_unions(changes)
        return changes

    def _sink(self, frame: _Frame) -> Any:
        """Where a shown string's text is stored: its container's storage, made changeable."""
        parent: _Frame = frame.parent  # type: ignore[assignment]
        epoch = self._epoch  # `_own`, inlined: this runs once per update of a growing string
        target = parent.obj if parent.epoch == epoch else _own_path(parent, epoch, self)
        kind = type(target)
        sink = frame.sink = target if kind is dict or kind is list else target.__dict__
        frame.sink_epoch = epoch
        return sink

    def _start(self, path: JSONPath, kind: str, changes: Changes) -> None:
        if not path:
            frame = _Frame(self._root, None, None, None, None, self._epoch)
            self._open[()] = frame
            self._show_new(frame, kind, changes)
            return
        parent = self._open.get(path[:-1])
        if parent is None or parent.node is None:
            return  # inside an ignored subtree
        if parent.union is not None:
            self._start_in_union(parent, path, kind)
            return
        key = path[-1]
        node, spec = parent.node.child(key)
        frame = _Frame(
            node, None, parent, spec.name if spec is not None else key, spec, self._epoch
        )
        self._open[path] = frame
        if node is not None:
            self._show_new(frame, kind, changes)

    def _show_new(self, frame: _Frame, kind: str, changes: Changes) -> None:
        """Create the view of a string/array/object that just opened, and show it."""
        node = frame.node
        assert node is not None
        nk = node.kind
        if nk == UNION:
            frame.raw = {} if kind == "object" else [] if kind == "array" else ""
            frame.union = frame
            self._dirty_unions.append(frame)
            return
        if kind == "object":
            if nk == MODEL:
                frame.obj = new_partial(node)
                frame.validated = {}
                if node.holds:
                    return  # held back until its HoldsParent fields are complete
            elif nk == DICT or nk == ANY:
                frame.obj = {}
                frame.validated = {} if nk == DICT else None
            elif nk == WHOLE:
                return  # shown when complete (a TypedDict, a dataclass, ...)
            else:
                frame.node = None  # the JSON does not fit the type: validation will say
                return
        elif kind == "array":
            if nk == LIST or nk == ANY:
                frame.obj = []
                frame.validated = {} if nk == LIST else None
            elif nk == WHOLE:
                return  # shown when complete (a set, a fixed-length tuple, ...)
            else:
                frame.node = None
                return
        else:  # string
            if nk == STR or nk == ANY:
                frame.obj = ""
            elif nk == CHOICE or nk == WHOLE:
                return  # shown when unambiguous or complete
            else:
                frame.node = None
                return
        self._attach(frame, frame.obj, changes)

    def _attach(self, frame: _Frame, value: Any, changes: Changes) -> None:
        """Make `value` visible in the parent's view (or as the root)."""
        parent = frame.parent
        changes.changed = True
        if parent is None:
            self._partial = value
            frame.attached = True
            return
        if parent.obj is None:
            return
        epoch = self._epoch  # `_own`, inlined (the hot path)
        target = parent.obj if parent.epoch == epoch else _own_path(parent, epoch, self)
        if isinstance(target, BaseModel):
            target.__dict__[frame.slot] = value
            target.__pydantic_fields_set__.add(frame.slot)
            states = target.__pydantic_private__["_states"]  # type: ignore[index]
            if frame.slot not in states:
                states[frame.slot] = "streaming"
        elif type(target) is list:
            if frame.attached:
                target[frame.slot] = value
            else:
                frame.slot = len(target)
                target.append(value)
        else:
            target[frame.slot] = value
        frame.attached = True

    def _grow(self, frame: _Frame, text: str, changes: Changes) -> None:
        if frame.union is not None:
            self._grow_in_union(frame, text)
            return
        node = frame.node
        if node is None:
            return
        frame.text += text
        kind = node.kind
        if kind == STR or kind == ANY:
            frame.obj = frame.text
            self._attach(frame, frame.text, changes)
            if frame.attached and frame.parent is not None and frame.parent.obj is not None:
                # Shown now: later growth stores into the same slot (`apply`'s fast path).
                self._sink(frame)
        elif kind == CHOICE:
            member = match_choice(node, frame.text)
            if member is not None and member is not frame.obj:
                frame.obj = member
                self._attach(frame, member, changes)

    def _complete(self, path: JSONPath, value: Any, changes: Changes) -> None:
        frame = self._open.pop(path, None)
        if frame is None:  # a scalar, or a value whose start was not seen
            if not path:
                frame = _Frame(self._root, None, None, None, None, self._epoch)
            else:
                parent = self._open.get(path[:-1])
                if parent is None or (parent.node is None and parent.union is None):
                    return
                if parent.union is not None:
                    self._scalar_in_union(parent, path, value)
                    return
                node, spec = parent.node.child(path[-1])  # type: ignore[union-attr]
                slot = spec.name if spec is not None else path[-1]
                frame = _Frame(node, None, parent, slot, spec, self._epoch)
        elif frame.union is not None and frame.union is not frame:
            self._complete_in_union(frame, path, value)
            return
        changes.add("completed", path)
        frame.sink = None
        node = frame.node
        parent = frame.parent
        validated: Any = _NOTHING
        shown: Any = None
        if node is not None:
            kind = node.kind
            shown = frame.obj
            if kind == MODEL:
                if isinstance(value, dict):
                    validated = self._validate_model(frame, node, value, path, changes)
            elif kind == UNION:
                shown, validated = self._complete_union(frame, node, value, path, changes)
                if shown is not None and frame.attached:
                    self._replace(frame, shown, changes)
                shown = frame.obj if frame.attached else shown
            elif kind == LIST or kind == DICT:
                children = frame.validated
                if children:  # the raw value with its validated model items in place
                    if type(value) is list:
                        validated = [children.get(i, v) for i, v in enumerate(value)]
                    else:
                        validated = {k: children.get(k, v) for k, v in value.items()}
            elif kind == CHOICE:
                shown = node.choices.get(value) if isinstance(value, str) else None
            elif kind == WHOLE:
                try:
                    shown = node.adapt(value)
                except ValidationError:
                    shown = None
            else:  # STR, ANY: the view already holds the value unless it was never shown
                same = frame.attached and (type(value) is not str or value == frame.obj)
                shown = frame.obj if same else value
            # Equal, not identical, for strings: the parser's joined copy of the same text.
            if shown is not None and (
                not frame.attached or (shown is not frame.obj and shown != frame.obj)
            ):
                frame.obj = shown
                self._attach(frame, shown, changes)
            elif value is None and parent is not None and parent.obj is not None:
                target = parent.obj
                if isinstance(target, BaseModel) and target.__dict__.get(frame.slot) is None:
                    # A field set to null: set (model_dump(exclude_unset=True) keeps it), and
                    # already shown as None, so nothing visible changes.
                    self._own(parent).__pydantic_fields_set__.add(frame.slot)
                else:
                    self._attach(frame, None, changes)  # a null element or value is shown
            self._mark_complete(frame, value)
            if kind == MODEL:
                self._settle(frame.obj)
        if parent is None or parent.node is None:
            return
        if frame.failed:
            parent.failed = True
        key = frame.spec.key if frame.spec is not None else path[-1]
        if validated is not _NOTHING and parent.validated is not None:
            parent.validated[key] = validated
        parent_kind = parent.node.kind
        if parent_kind == MODEL and frame.spec is not None:
            if node is not None:
                changes.add("fields", (path, shown if validated is _NOTHING else validated))
            if parent.parent is None and not frame.failed:  # a root field: check it now
                own = parent.validated.get(key, value) if parent.validated else value
                if not self._validate_root_field(frame.spec, own, path, changes):
                    parent.failed = True
            if frame.spec.holds_parent and not parent.attached:
                self._release_held(parent, changes)
        elif parent_kind == LIST and node is not None:
            if validated is not _NOTHING:
                changes.add("elements", (path, validated))
            elif node.kind != MODEL and node.kind != UNION:  # a model that failed is not shown
                changes.add("elements", (path, shown))

    def _mark_complete(self, frame: _Frame, value: Any) -> None:
        parent = frame.parent
        shown = frame.attached or value is None  # null arrived: complete, shown as None
        if parent is not None and isinstance(parent.obj, BaseModel) and shown:
            states = parent.obj.__pydantic_private__["_states"]  # type: ignore[index]
            if states.get(frame.slot) != "complete":
                self._own(parent).__pydantic_private__["_states"][frame.slot] = "complete"

    def _settle(self, obj: Any) -> None:
        """Share the bookkeeping of a closed partial model with the closed ones like it.

        A closed model never changes again, and most closed models of a type have the same
        fields set and field states (every field complete): they hold one shared fields set
        and one shared private dict instead of three small containers each, equal to the
        ones replaced (nothing visible changes). A document of N records then holds about
        2 fewer tracked containers per model, which the cyclic garbage collector would
        otherwise walk on every full pass over a long stream's growing heap. A change after
        this (there is none) would copy: the recycling in `_copy_model` and
        `_speedups.own_path` requires each of these to be held once.
        """
        if not isinstance(obj, PartialModel):
            return
        fields_set = obj.__pydantic_fields_set__
        private = obj.__pydantic_private__
        if type(fields_set) is not set or type(private) is not dict or len(private) != 1:
            return
        states = private.get("_states")
        if type(states) is not dict:
            return
        key = (type(obj), tuple(states.items()), frozenset(fields_set))
        shared = self._settled.get(key)
        if shared is None:
            if len(self._settled) >= _MAX_SETTLED_SHAPES:
                return  # many shapes (optional fields): keep each model's own
            shared = self._settled[key] = (fields_set, private)
            return  # the first of its shape is the one shared from now on
        _set_fields_set(obj, shared[0])
        _set_private(obj, shared[1])

    def _release_held(self, frame: _Frame, changes: Changes) -> None:
        node = frame.node
        assert node is not None
        states = frame.obj.__pydantic_private__["_states"]
        if all(states.get(name) == "complete" for name in node.holds):
            self._attach(frame, frame.obj, changes)

    def _validate_model(
        self, frame: _Frame, node: Node, value: dict[str, Any], path: JSONPath, changes: Changes
    ) -> Any:
        """Validate a closed model object with the real model, reusing validated children.

        Returns the model instance, or `_NOTHING` for the root (validated by
        `validate_final`) and for an object that failed (reported in `changes`).
        """
        if not frame.attached:
            self._attach(frame, frame.obj, changes)  # a held object shows when it closes
        if frame.parent is None or frame.failed:
            return _NOTHING  # a value inside failed: already reported, not reported again
        children = frame.validated
        data = {**value, **children} if children else value
        try:
            return node.model.__pydantic_validator__.validate_python(data)  # type: ignore[union-attr]
        except ValidationError as exc:
            frame.failed = True
            self._report(path, exc, changes, keyed=False)
            return _NOTHING

    def _validate_root_field(
        self, spec: FieldSpec, value: Any, path: JSONPath, changes: Changes
    ) -> bool:
        """Check a complete field of the root model; False if it failed (and was reported)."""
        try:
            spec.validate(value)
        except ValidationError as exc:
            self._report(path, exc, changes, keyed=True)
            return False
        except Exception:
            # Validators that need the whole object (info.data) are left to validate_final.
            pass
        return True

    def _report(
        self, path: JSONPath, exc: ValidationError, changes: Changes, *, keyed: bool
    ) -> None:
        """Record pydantic's errors for the value at `path`, their locations made absolute.

        `keyed`: the value was validated as ``{key: value}``, so each location starts with
        the key, which `path` already ends with.
        """
        errors = exc.errors(include_url=False)
        skip = 1 if keyed else 0
        for error in errors:
            error["loc"] = (*path, *error["loc"][skip:])
        first = errors[0]
        message = f"{render_path(path)}: {first['msg']}"
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more)"
        report = InvalidValue(path, errors, message)
        self.errors.append(report)
        changes.add("errors", report)

    # ------------------------------------------------------------------ unions

    def _start_in_union(self, parent: _Frame, path: JSONPath, kind: str) -> None:
        union = parent.union or parent
        container = self._raw_at(union, parent, path)
        value: Any = {} if kind == "object" else [] if kind == "array" else ""
        if isinstance(container, dict):
            container[path[-1]] = value
        elif isinstance(container, list):
            container.append(value)
        frame = _Frame(None, value, parent, path[-1], None, self._epoch)
        frame.union = union
        self._open[path] = frame
        self._mark_dirty(union)

    def _grow_in_union(self, frame: _Frame, text: str) -> None:
        union = frame.union
        assert union is not None
        frame.text += text
        if frame is union:
            union.raw = frame.text
        else:
            container = self._raw_at(union, frame.parent, ())  # type: ignore[arg-type]
            self._set_raw(container, frame, frame.text)
        self._mark_dirty(union)

    def _scalar_in_union(self, parent: _Frame, path: JSONPath, value: Any) -> None:
        union = parent.union or parent
        container = self._raw_at(union, parent, path)
        if isinstance(container, dict):
            container[path[-1]] = value
        elif isinstance(container, list):
            container.append(value)
        self._mark_dirty(union)

    def _complete_in_union(self, frame: _Frame, path: JSONPath, value: Any) -> None:
        union = frame.union
        assert union is not None
        container = self._raw_at(union, frame.parent, ())  # type: ignore[arg-type]
        self._set_raw(container, frame, value)
        self._mark_dirty(union)

    def _raw_at(self, union: _Frame, parent: _Frame, path: JSONPath) -> Any:
        """The raw mirror container that `parent` stands for."""
        return union.raw if parent is union else parent.obj

    @staticmethod
    def _set_raw(container: Any, frame: _Frame, value: Any) -> None:
        if isinstance(container, dict):
            container[frame.slot] = value
        elif isinstance(container, list):
            index = frame.slot
            if isinstance(index, int) and index < len(container):
                container[index] = value
        frame.obj = value

    def _mark_dirty(self, union: _Frame) -> None:
        if not self._dirty_unions or self._dirty_unions[-1] is not union:
            self._dirty_unions.append(union)

    def _rebuild_unions(self, changes: Changes) -> None:
        seen: set[int] = set()
        for union in self._dirty_unions:
            if id(union) in seen or union.node is None:
                continue
            seen.add(id(union))
            shown = build_partial(union.node, union.raw)
            if shown is not None:  # None: undecided, or nothing fits: keep what is shown
                self._replace(union, shown, changes)
        self._dirty_unions.clear()

    def _replace(self, frame: _Frame, shown: Any, changes: Changes) -> None:
        """Show a rebuilt union view; it is a change only if its values differ."""
        changed = changes.changed
        same = frame.attached and _values(shown) == _values(frame.obj)
        frame.obj = shown
        self._attach(frame, shown, changes)
        if same:
            changes.changed = changed

    def _complete_union(
        self, frame: _Frame, node: Node, value: Any, path: JSONPath, changes: Changes
    ) -> tuple[Any, Any]:
        if self._dirty_unions:
            self._dirty_unions = [u for u in self._dirty_unions if u is not frame]
        option = choose_option(node, value, complete=True)
        if option is None and type(value) is dict:
            # Several models fit the keys: pydantic's union decides, as the final validation
            # will, and its result is the validated value.
            try:
                validated = node.adapt(value)
            except ValidationError as exc:
                frame.failed = True
                self._report(path, exc, changes, keyed=False)
                return None, _NOTHING
            option = next((o for o in node.options if o.model is type(validated)), None)
            if option is None:
                return None, _NOTHING
            shown = build_partial(option, value, complete=True)
            return shown, validated if frame.parent is not None else _NOTHING
        if option is None:
            return None, _NOTHING
        shown = build_partial(node, value, complete=True)
        if option.kind != MODEL or frame.parent is None:
            return shown, _NOTHING
        try:
            return shown, option.model.__pydantic_validator__.validate_python(value)  # type: ignore[union-attr]
        except ValidationError as exc:
            frame.failed = True
            self._report(path, exc, changes, keyed=False)
            return shown, _NOTHING

    # ------------------------------------------------------------------ final

    def validate_final(
        self, value: Any, *, raw_text: str | None = None, strict: bool | None = None
    ) -> T:
        """Validate the whole document strictly with the real model.

        Args:
            value: the complete JSON value.
            raw_text: the exact JSON text, when there is one (validated as pydantic would).
            strict: pydantic's strict mode for the final validation.

        Raises:
            StreamValidationError: the document does not fit the model.
        """
        text = raw_text if raw_text is not None else _json_text(value)
        annotation = self.model
        try:
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                return annotation.model_validate_json(text, strict=strict)  # type: ignore[return-value]
            adapter = self._adapter
            if adapter is None:
                adapter = self._adapter = TypeAdapter(annotation)
            return adapter.validate_json(text, strict=strict)  # type: ignore[no-any-return]
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            raise StreamValidationError(
                f"the streamed value does not fit {getattr(annotation, '__name__', annotation)}: "
                f"{exc.error_count()} error(s); first at "
                f"{render_path(tuple(errors[0]['loc']))}: {errors[0]['msg']}",
                errors=errors,
                raw_text=raw_text,
                partial=self.partial,
            ) from exc


def _json_text(value: Any) -> str | bytes:
    """The JSON text of a complete value, for the final validation."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except ValueError:
        # An integer with more digits than str() converts (sys.get_int_max_str_digits(): a
        # value built in Python, or the limit lowered since): pydantic_core writes any int.
        return pydantic_core.to_json(value)


def _values(view: Any) -> Any:
    """What a view shows, for comparison (partial models without their field states)."""
    return view.model_dump() if isinstance(view, BaseModel) else view


def partial_from_value(annotation: Any, value: Any) -> Any:
    """The typed partial view of a (possibly incomplete) raw JSON value, in one go."""
    node = compile_node(annotation)
    return build_partial(node, value)


def is_partial(obj: Any) -> bool:
    """True for instances of generated partial models."""
    return isinstance(obj, PartialModel)
