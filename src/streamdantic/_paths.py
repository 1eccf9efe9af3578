"""JSON paths: a tuple of object keys (str) and array indices (int), plus two renderings.

`render_path` gives the human form used in error messages (``$.items[3].name``);
`to_pointer` / `parse_pointer` give RFC 6901 JSON Pointers, the form used on the wire.
"""

from __future__ import annotations

import json
import re
from typing import TypeAlias

__all__ = ["Path", "parse_pointer", "render_path", "to_pointer"]

Path: TypeAlias = tuple[str | int, ...]
JSONPath: TypeAlias = Path  # the public name (streamdantic.core.JSONPath)

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
