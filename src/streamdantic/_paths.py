"""JSON paths: a tuple of object keys (str) and array indices (int), plus two renderings.

`render_path` gives the human form used in error messages (``$.items[3].name``);
`to_pointer` / `parse_pointer` give RFC 6901 JSON Pointers, the form used on the wire.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TypeAlias

__all__ = ["Path", "match_path", "parse_path", "parse_pointer", "render_path", "to_pointer"]

Path: TypeAlias = tuple[str | int, ...]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def render_path(path: Path) -> str:
    """Render a path as ``$.items[3].name``; keys that are not identifiers use ``["..."]``."""
    parts = ["$"]
    for segment in path:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif _IDENTIFIER.match(segment):
            parts.append(f".{segment}")
        else:
            parts.append(f"[{json.dumps(segment, ensure_ascii=False)}]")
    return "".join(parts)


def to_pointer(path: Path) -> str:
    """Render a path as an RFC 6901 JSON Pointer (``/items/3/name``; ``""`` is the root)."""
    return "".join(
        "/" + (str(s) if isinstance(s, int) else s.replace("~", "~0").replace("/", "~1"))
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
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/"))


# Path patterns for callbacks and element streams (``"*"`` matches any key or index).
_PATH_TOKEN = re.compile(r"\[(\*|-?\d+|\"(?:[^\"\\]|\\.)*\")\]|\.?([^.\[\]]+)")


def parse_path(path: str | Sequence[str | int]) -> Path:
    """Parse ``"orders[*].items"``, ``"$.orders.*"`` or a tuple into a path pattern
    (``"*"`` matches any key or index)."""
    if not isinstance(path, str):
        return tuple(path)
    text = path.removeprefix("$")
    out: list[str | int] = []
    for bracket, name in _PATH_TOKEN.findall(text):
        token = bracket or name
        if token.startswith('"'):
            out.append(json.loads(token))
        elif token.lstrip("-").isdigit():
            out.append(int(token))
        else:
            out.append(token)
    return tuple(out)


def match_path(pattern: Path, path: Path) -> bool:
    """True when `path` matches `pattern` segment by segment (``"*"`` matches anything)."""
    return len(pattern) == len(path) and all(
        p == "*" or p == s for p, s in zip(pattern, path, strict=True)
    )
