"""Infinite floats on the wire: written as the JSON numbers ``1e400`` and ``-1e400``.

Strategy / invariants:
- JSON has no literal for an infinite float, but a number beyond the range of a double reads
  back as one in every common reader (Python's json, jiter, pydantic, JavaScript's
  JSON.parse), and that is how the parser reads ``1e400`` too. So an infinity is written as
  ``1e400`` (``-1e400``): text -> value -> text keeps it, and a client rebuilds the same
  object. NaN has no JSON form: chunks refuse it, frames write null (pydantic's JSON mode).
- Serializers first write the constants ``Infinity``/``-Infinity``/``NaN`` (json's
  ``allow_nan``, pydantic's ``inf_nan_mode="constants"``); `write_infinities` then replaces
  them outside string literals. It runs only on text that contains one of those words.
- A pydantic model writes its infinities as ``null`` in JSON (``ser_json_inf_nan``, whose
  default is ``"null"``): `jsonable` turns models into JSON-ready Python first (pydantic's
  JSON mode, by alias), with a serializer of their schema that keeps infinities as floats
  (the fields typed ``Any`` included), so frames write 1e400 whatever the model's
  ``ser_json_inf_nan`` says: the wire format is the profile's, not the model's.
"""

from __future__ import annotations

import re
import weakref
from typing import Any, Final

from pydantic import BaseModel
from pydantic_core import SchemaSerializer

__all__ = ["jsonable", "write_infinities"]

# A string literal (skipped) or a constant (group 1), in JSON written by json or pydantic.
_CONSTANTS: Final = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)', re.DOTALL)
_INFINITIES: Final = {"Infinity": "1e400", "-Infinity": "-1e400"}
_KEEP_INFINITIES: Final[Any] = {"ser_json_inf_nan": "constants"}
_SERIALIZERS: weakref.WeakKeyDictionary[type[BaseModel], SchemaSerializer] = (
    weakref.WeakKeyDictionary()
)


def write_infinities(text: str, *, nan: str | None) -> str:
    """`text`, JSON written with the constants ``Infinity``, ``-Infinity`` and ``NaN``, with
    the infinities as the numbers ``1e400`` and ``-1e400`` and each NaN as `nan`.

    Raises:
        ValueError: a NaN, when `nan` is None.
    """
    if "Infinity" not in text and "NaN" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        constant = match.group(1)
        if constant is None:
            return match.group()  # a string literal, kept as it is
        if constant == "NaN":
            if nan is None:
                raise ValueError("NaN is not a JSON number")
            return nan
        return _INFINITIES[constant]

    return _CONSTANTS.sub(replace, text)


def jsonable(value: Any) -> Any:
    """`value` with each pydantic model in it (inside dicts, lists and tuples) replaced by
    its JSON-ready Python (pydantic's JSON mode, by alias) in which infinities stay floats,
    for a serializer that writes them as constants."""
    kind = type(value)
    if kind is dict:
        return {key: jsonable(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [jsonable(item) for item in value]
    if isinstance(value, BaseModel):
        return _serializer(type(value)).to_python(value, mode="json", by_alias=True)
    return value


def _serializer(cls: type[BaseModel]) -> SchemaSerializer:
    # The model's own schema, with the config its inferred values (an `Any` field) use.
    serializer = _SERIALIZERS.get(cls)
    if serializer is None:
        serializer = SchemaSerializer(cls.__pydantic_core_schema__, _KEEP_INFINITIES)
        _SERIALIZERS[cls] = serializer
    return serializer
