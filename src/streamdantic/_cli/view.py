"""Showing partial objects: as plain JSON, as one line per update, or as a rich tree.

Used by the command line (`demo`, `replay`, `check`) and the web page's server. Only the rich
tree needs rich, and it is imported inside `rich_tree`, so plain output works without it.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from .._partial import PartialModel

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text
    from rich.tree import Tree

__all__ = ["MARKS", "plain_line", "rich_tree", "visible"]

# One mark per field state, in the terminal and on the web page.
MARKS = {"pending": "○", "streaming": "◐", "complete": "✓"}


def visible(value: Any) -> Any:
    """What a partial object shows, as plain JSON data.

    Fields that have not arrived (``pending``) are left out, and so are fields still arriving
    whose value is not shown yet (a `Literal` not yet decided, a `CompleteOnly` string), so a
    present ``None`` is always a real ``null``.
    """
    if isinstance(value, PartialModel):
        out: dict[str, Any] = {}
        for name, info in type(value).model_fields.items():
            state = value.field_state(name)
            if state == "pending":
                continue
            shown = getattr(value, name)
            if shown is None and state != "complete":
                continue
            out[info.alias or name] = visible(shown)
        return out
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list | tuple):
        return [visible(v) for v in value]
    if isinstance(value, dict):
        return {str(k): visible(v) for k, v in value.items()}
    if isinstance(value, enum.Enum):
        return visible(value.value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return to_jsonable_python(value)


def plain_line(
    elapsed: float, index: int, partial: Any, completed: Sequence[Any], *, width: int = 160
) -> str:
    """One line for an update: time, index, the fields it completed, the object so far
    (its end, when it is longer than `width`: that is where it grows)."""
    from .._paths import render_path

    shown = json.dumps(visible(partial), ensure_ascii=False, separators=(",", ":"))
    marks = " ".join(f"{MARKS['complete']} {render_path(p)}" for p in completed if p)
    head = f"{elapsed:7.2f}s #{index:<4}"
    room = max(20, width - len(head) - len(marks) - 3)
    if len(shown) > room:
        shown = "…" + shown[-(room - 1) :]
    return f"{head} {shown}" + (f"  {marks}" if marks else "")


def _state_style(state: str) -> str:
    return {"pending": "dim", "streaming": "yellow", "complete": "green"}[state]


def _scalar(value: Any) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return json.dumps(to_jsonable_python(value), ensure_ascii=False)


def rich_tree(
    partial: Any, *, title: str, done: bool = False, compact: bool = False
) -> RenderableType:
    """The partial object as a rich tree, each field marked pending, streaming or complete.

    List elements before the last are complete (JSON closes an element before the next
    begins); the last one is still arriving until the list completes. With `compact`,
    complete objects and lists take one line each, so the part still growing stays on
    screen.
    """
    from rich.text import Text
    from rich.tree import Tree

    root = Tree(Text(title, style="bold"), guide_style="dim")
    if isinstance(partial, PartialModel):
        _model_branch(root, partial, done, compact)
    else:
        _value_branch(root, "value", partial, "complete" if done else "streaming", compact)
    return root


def _label(name: str, state: str, suffix: str = "") -> Text:
    from rich.text import Text

    text = Text()
    text.append(f"{MARKS[state]} ", style=_state_style(state))
    text.append(name, style="bold" if state != "pending" else "dim")
    if suffix:
        text.append(suffix)
    return text


def _model_branch(tree: Tree, obj: PartialModel, done: bool, compact: bool) -> None:
    for name, info in type(obj).model_fields.items():
        state = "complete" if done else obj.field_state(name)
        _value_branch(tree, info.alias or name, getattr(obj, name), state, compact)


def _value_branch(tree: Tree, name: str, value: Any, state: str, compact: bool) -> None:
    from rich.text import Text

    if state == "pending" or (value is None and state != "complete"):
        tree.add(_label(name, state))
        return
    container = isinstance(value, PartialModel | list | tuple | dict)
    if container and compact and state == "complete":
        label = _label(name, state, " ")
        shown = json.dumps(visible(value), ensure_ascii=False, separators=(", ", ": "))
        label.append(Text(shown, style="dim"))
        label.no_wrap = True
        label.overflow = "ellipsis"
        tree.add(label)
        return
    if isinstance(value, PartialModel):
        _model_branch(tree.add(_label(name, state)), value, state == "complete", compact)
        return
    if isinstance(value, list | tuple):
        branch = tree.add(_label(name, state, f" [{len(value)}]"))
        last = len(value) - 1
        for i, item in enumerate(value):
            item_state = "complete" if state == "complete" or i < last else "streaming"
            _value_branch(branch, f"[{i}]", item, item_state, compact)
        return
    if isinstance(value, dict):
        branch = tree.add(_label(name, state, f" {{{len(value)}}}"))
        keys = list(value)
        for key in keys:
            key_state = "complete" if state == "complete" or key != keys[-1] else "streaming"
            _value_branch(
                branch, json.dumps(key, ensure_ascii=False), value[key], key_state, compact
            )
        return
    label = _label(name, state, ": ")
    shown = _scalar(value)
    if state == "streaming" and isinstance(value, str):
        shown = shown[:-1]  # the closing quote has not arrived
        label.append(Text(shown, style="yellow"))
        label.append("▌", style="blink yellow")
    else:
        label.append(Text(shown, style="cyan" if isinstance(value, str) else "magenta"))
    tree.add(label)
