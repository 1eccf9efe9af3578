"""mypy (strict) reports exactly the errors announced here: misspelled or misplaced options.

Comments ``# E: [code] message`` announce the errors of the first line below them.
"""

from __future__ import annotations

from pydantic import BaseModel

import streamdantic as sd


class Order(BaseModel):
    title: str


def errors(text: list[str]) -> None:
    # E: [call-overload] Unexpected keyword argument "emitt" for overloaded function "stream"; did you mean "emit"?
    # E: [call-overload] No overload variant of "stream" matches argument types "list[str]", "type[Order]", "str"
    sd.stream(text, Order, emitt="changes")
    # E: [call-arg] Unexpected keyword argument "emit" for "stream_to_object"
    sd.stream_to_object(text, Order, emit="changes")
    # E: [call-overload] Unexpected keyword argument "on_invalide" for overloaded function "collect"; did you mean "on_invalid"?
    # E: [call-overload] No overload variant of "collect" matches argument types "bytes", "type[Order]", "str"
    sd.collect(b"[]", Order, on_invalide="skip")
    # E: [call-overload] Unexpected keyword argument "chunk_size" for overloaded function "ItemCollector"
    # E: [call-overload] No overload variant of "ItemCollector" matches argument types "type[Order]", "int"
    sd.core.ItemCollector(Order, chunk_size=4)
    # E: [call-overload] No overload variant of "stream" matches argument types "list[str]", "type[Order]", "str"
    sd.stream(text, Order, on_invalid="skip")  # a word of collect's, not of stream's
