"""Hypothesis strategies: JSON values, their texts in several layouts, and chunkings of them."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

# Text that exercises escapes, multi-byte UTF-8 and astral characters (surrogate pairs).
json_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]) | st.sampled_from('"\\/\n\t\x00\x1fé€😀'),
    max_size=20,
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | json_text
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(json_text, children, max_size=6)
    ),
    max_leaves=30,
)
json_containers = st.one_of(
    st.lists(json_values, max_size=6), st.dictionaries(json_text, json_values, max_size=6)
)


@st.composite
def json_documents(draw: st.DrawFn, containers_only: bool = False) -> str:
    """The text of a JSON value, compact or indented, with or without ASCII escapes."""
    value = draw(json_containers if containers_only else json_values)
    indent = draw(st.sampled_from([None, 0, 2]))
    ensure_ascii = draw(st.booleans())
    separators = draw(st.sampled_from([None, (",", ":"), (" , ", " : ")]))
    return json.dumps(value, indent=indent, ensure_ascii=ensure_ascii, separators=separators)


@st.composite
def chunkings(draw: st.DrawFn, data: str | bytes) -> list[Any]:
    """Split `data` at arbitrary points (inside escapes, numbers, UTF-8 characters)."""
    if len(data) < 2:
        return [data]
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=len(data) - 1), max_size=40)))
    if draw(st.booleans()):
        cuts = sorted(set(cuts) | set(range(1, len(data), draw(st.integers(1, 5)))))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f"}
_SHORT_ESCAPES.update({"\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _u_escape(char: str) -> str:
    """``\\uXXXX``, or a surrogate pair of them for a character beyond the BMP."""
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04X}"


@st.composite
def json_string_pieces(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A string value and the pieces of its JSON literal between the quotes, one per
    character: the character itself where JSON allows it, else (or when drawn so) its short
    escape or its ``\\u`` escape (a surrogate pair beyond the BMP)."""
    value = draw(json_text)
    pieces = []
    for char in value:
        needs_escape = char in '"\\' or char < " "
        ways = [] if needs_escape else [char]
        if char in _SHORT_ESCAPES:
            ways.append(_SHORT_ESCAPES[char])
        ways.append(_u_escape(char))
        pieces.append(draw(st.sampled_from(ways)))
    return value, pieces
