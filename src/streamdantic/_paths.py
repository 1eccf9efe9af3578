"""JSON paths: one notation for every API that takes a path and every message that prints one.

A path is a tuple of object keys (str) and array indices (int). Its text form, which
`render_path` prints and `parse_path` reads, is ``$.items[3].name``:

- ``$`` is the root (optional on input: ``items[3].name`` is the same path);
- ``.name`` is an object key that is an identifier; any other key is written as a JSON
  string in brackets: ``["first name"]``, ``["*"]``, ``["item"]``;
- ``[3]`` is an array index;
- ``[*]`` (or ``.*``) matches every key or index, in patterns (`on_field`, `on_element`,
  `Stream.elements`, `collect(item=...)`).

RFC 6901 JSON Pointers (``/items/3/name``, `to_pointer` / `parse_pointer`) are the form used
on the wire (delta chunks, SSE profile frames), never in the API or in messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Final, TypeAlias

__all__ = [
    "WILDCARD",
    "JSONPath",
    "Path",
    "PathLike",
    "match_path",
    "parse_path",
    "parse_pointer",
    "render_path",
    "to_pointer",
]

JSONPath: TypeAlias = tuple[str | int, ...]
"""A JSON path: object keys (str) and array indices (int), outermost first."""

Path: TypeAlias = JSONPath  # the old name, kept as an alias

PathLike: TypeAlias = str | Sequence[str | int]
"""What path arguments take: the text form (``"$.items[*].name"``) or a tuple of segments
(``("items", "*", "name")``, where ``"*"`` is the wildcard)."""


class _Wildcard(str):
    """The wildcard segment of a parsed pattern: equal to ``"*"`` (so tuples written by hand
    with ``"*"`` keep working) but told apart from a key named ``"*"`` by identity."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "WILDCARD"


WILDCARD: Final = _Wildcard("*")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# One segment of the text form: [index], [*], ["json string"], .name or .* (or a leading name).
_SEGMENT = re.compile(
    r"""\[(?:(?P<index>\d+)|(?P<star>\*)|(?P<quoted>"(?:[^"\\]|\\.)*"))\]"""
    r"""|(?P<dot>\.)?(?P<name>[^.\[\]"]+)"""
)


def render_path(path: Sequence[str | int]) -> str:
    """Render a path (or a pattern) as ``$.items[3].name``.

    Keys that are not identifiers are written as JSON strings in brackets (``["a b"]``);
    the wildcard of a parsed pattern is ``[*]``.
    """
    parts = ["$"]
    for segment in path:
        if segment is WILDCARD:
            parts.append("[*]")
        elif isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif _IDENTIFIER.match(segment):
            parts.append(f".{segment}")
        else:
            parts.append(f"[{json.dumps(segment, ensure_ascii=False)}]")
    return "".join(parts)


def parse_path(path: PathLike) -> JSONPath:
    """Parse a path or a pattern: ``"$.orders[*].items"``, ``"orders[0].id"``, or a tuple.

    In the text form ``[*]`` and ``.*`` are the wildcard (`WILDCARD`, which matches any key
    or index) and ``["*"]`` is a key named ``*``; in a tuple ``"*"`` is the wildcard.

    Raises:
        ValueError: the text is not a path in this notation (the message says where).
        TypeError: a tuple segment is neither a str nor an int.
    """
    if not isinstance(path, str):
        out: list[str | int] = []
        for segment in path:
            if isinstance(segment, bool) or not isinstance(segment, str | int):
                raise TypeError(
                    f"path segments are str keys or int indices, got {segment!r} in {path!r}"
                )
            out.append(WILDCARD if segment == "*" else segment)
        return tuple(out)
    text = path[1:] if path.startswith("$") else path
    segments: list[str | int] = []
    position = 0
    while position < len(text):
        match = _SEGMENT.match(text, position)
        if match is None or (match["name"] and not match["dot"] and position > 0):
            raise ValueError(
                f"invalid path {path!r} at offset {position + len(path) - len(text)}: "
                'write keys as .name or ["any key"], indices as [3] and every element as [*] '
                '(for example "$.items[*].name")'
            )
        if match["index"] is not None:
            segments.append(int(match["index"]))
        elif match["star"] is not None:
            segments.append(WILDCARD)
        elif match["quoted"] is not None:
            segments.append(json.loads(match["quoted"]))
        else:
            name = match["name"]
            segments.append(WILDCARD if name == "*" else name)
        position = match.end()
    return tuple(segments)


def match_path(pattern: Sequence[str | int], path: JSONPath) -> bool:
    """True when `path` matches `pattern` segment by segment (`WILDCARD` matches anything)."""
    return len(pattern) == len(path) and all(
        p is WILDCARD or p == s for p, s in zip(pattern, path, strict=True)
    )


def to_pointer(path: JSONPath) -> str:
    """Render a path as an RFC 6901 JSON Pointer (``/items/3/name``; ``""`` is the root)."""
    if not path:
        return ""
    # One join, and the two replaces only for the rare key that needs them (this runs for
    # every value a delta sets or extends).
    return "/" + "/".join(
        s
        if type(s) is str and "~" not in s and "/" not in s
        else (s.replace("~", "~0").replace("/", "~1") if isinstance(s, str) else str(s))
        for s in path
    )


def parse_pointer(pointer: str) -> tuple[str, ...]:
    """Split an RFC 6901 JSON Pointer into its unescaped reference tokens.

    Tokens stay strings: whether ``"3"`` is an array index or an object key depends on the
    value it is applied to, which only the caller knows.

    Raises:
        ValueError: the pointer is neither empty nor starts with ``/``.
    """
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON Pointer is empty or starts with '/', got {pointer!r}")
    tokens = pointer[1:].split("/")
    if "~" not in pointer:  # the usual pointer: nothing escaped
        return tuple(tokens)
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in tokens)
