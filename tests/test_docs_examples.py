"""Every ```python example in README.md and docs/*.md runs.

Each page's blocks run in order, in one namespace (a page reads like one session: a later
block may use what an earlier one defined), in a fresh temporary working directory. A block
may use top-level ``await``; it then runs in an event loop.

A block right after an ``<!-- no-run -->`` line is skipped. Keep those rare; they are for the
examples a test cannot run offline: calls to a real provider (a network and an API key),
a server meant to run until stopped, and signature listings that are not code. Everything
else (streams, servers in tests, recorded provider streams) runs here.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
import textwrap
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)\s*$")
NO_RUN = "<!-- no-run -->"


@dataclass
class Block:
    line: int  # 1-based line of the opening fence
    code: str
    run: bool


def python_blocks(text: str) -> list[Block]:
    """The ```python blocks of a Markdown page, with whether each one runs."""
    blocks = []
    lines = text.splitlines()
    i = 0
    previous = ""
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        indent, lang, start = match["indent"], match["lang"], i
        i += 1
        body = []
        while i < len(lines) and not re.match(rf"^{re.escape(indent)}```\s*$", lines[i]):
            body.append(lines[i])
            i += 1
        i += 1
        if lang == "python":
            code = textwrap.dedent("\n".join(body))
            blocks.append(Block(start + 1, code, previous != NO_RUN))
        previous = ""
    return blocks


def run_page(page: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for block in python_blocks(page.read_text("utf-8")):
        if not block.run:
            continue
        where = f"{page.relative_to(ROOT)}:{block.line}"
        try:
            code = compile(
                block.code, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
            )
            if code.co_flags & inspect.CO_COROUTINE:
                asyncio.run(eval(code, namespace))
            else:
                exec(code, namespace)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            detail = "".join(traceback.format_exception(exc)[-6:])
            pytest.fail(f"the example at {where} failed:\n{detail}", pytrace=False)


def test_no_run_marks_only_the_next_block() -> None:
    """The marker skips exactly the block after it."""
    text = "```python\na = 1\n```\n\n<!-- no-run -->\n```python\nb = 2\n```\n  ```python\n  c = 3\n  ```\n"
    assert [(b.code, b.run) for b in python_blocks(text)] == [
        ("a = 1", True),
        ("b = 2", False),
        ("c = 3", True),
    ]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's python examples run, in order, in one namespace."""
    monkeypatch.chdir(tmp_path)
    run_page(page)
