"""The partial-value contract as a predicate, shared by the property tests."""

from __future__ import annotations

from typing import Any


def extends(new: Any, old: Any) -> bool:
    """True when `new` is `old` grown: same types, strings extended, containers grown,
    numbers, literals and keys unchanged (1 is not 1.0 is not True)."""
    stack = [(new, old)]
    while stack:
        a, b = stack.pop()
        if type(a) is not type(b):
            return False
        if isinstance(a, str):
            if not a.startswith(b):
                return False
        elif isinstance(a, dict):
            keys_a = list(a)
            if keys_a[: len(b)] != list(b):
                return False  # keys keep their order and never vanish
            stack.extend((a[k], b[k]) for k in b)
        elif isinstance(a, list):
            if len(a) < len(b):
                return False
            stack.extend(zip(a, b, strict=False))
        elif a != b:
            return False
    return True
