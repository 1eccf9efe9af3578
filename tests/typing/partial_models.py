"""Models for the mypy plugin examples (checked by tests/test_mypy_plugin.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Annotated, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

T = TypeVar("T")


class Color(Enum):
    RED = "red"
    BLUE = "blue"


class Customer(BaseModel):
    name: str
    email: str | None = None


class Item(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    sku: str = Field(alias="SKU")
    quantity: Annotated[int, Field(gt=0)] = 1
    color: Color | None = None


class Box(BaseModel, Generic[T]):
    content: T
    label: str = ""


class Record(BaseModel):
    id: int
    kind: Literal["order", "quote"] = "order"


class Order(Record):
    VERSION: ClassVar[int] = 1
    _secret: str = PrivateAttr(default="")

    note: str | None = None
    customer: Customer
    items: list[Item]
    by_sku: dict[str, Item] = {}
    by_number: dict[int, Item] = {}
    either: Customer | Item
    maybe: Item | None = None
    related: Sequence[Item] = ()
    history: tuple[Item, ...] = ()
    pair: tuple[Item, Item] | None = None
    lookup: Mapping[str, Item] = {}
    tags: set[str] = set()
    boxed: Box[Item] | None = None
    nested: list[dict[str, list[Item]]] = []
    scores: list[float] = []

    @property
    def size(self) -> int:
        return len(self.items)
