"""`Frozen`: the base of the small immutable classes made on the per-chunk path.

Events, parts, deltas and chunks are frozen and slotted and compare by value. They are built
for every chunk, so construction sets slots through the slot descriptors (`slot_setter`),
which bypasses the raising ``__setattr__`` at half the cost of a frozen dataclass's
``object.__setattr__``.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["Frozen", "slot_setter"]


class Frozen:
    """Frozen, slotted, compared by type and value; subclasses list their `_fields`."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def _astuple(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self._fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frozen) or type(other) is not type(self):
            return NotImplemented
        return self._astuple() == other._astuple()

    def __hash__(self) -> int:
        return hash((type(self), self._astuple()))

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({args})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._astuple())


def slot_setter(cls: type, name: str) -> Any:
    """The raw setter of slot `name` of `cls` (for constructors of frozen classes)."""
    return cls.__dict__[name].__set__
