"""With ``plugins = ["streamdantic.mypy"]``, mypy reports exactly the errors announced here.

A comment ``# E: [code] message`` announces an error on the line below it.
"""

from __future__ import annotations

from partial_models import Item, Order

from streamdantic._partial import Partial


def errors(p: Partial[Order], item: Partial[Item]) -> None:
    # E: [attr-defined] "Partial[Order]" has no attribute "nope"
    _ = p.nope
    # E: [assignment] Incompatible types in assignment (expression has type "int | None", variable has type "int")
    number: int = p.id
    # E: [assignment] Incompatible types in assignment (expression has type "list[Partial[Item]]", variable has type "list[Item]")
    items: list[Item] = p.items or []
    # E: [union-attr] Item "None" of "Partial[Customer] | None" has no attribute "name"
    _ = p.customer.name
    # E: [attr-defined] "Partial[Item]" has no attribute "SKU"
    _ = item.SKU  # aliases are not attributes
    # E: [attr-defined] "Partial[Order]" has no attribute "size"
    _ = p.size  # a property of Order, not a field
    if p.customer is not None:
        # E: [attr-defined] "Partial[Customer]" has no attribute "nope"
        _ = p.customer.nope
    print(number, items)
