"""docs/reference.md documents every public name of every namespace, and nothing else."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "reference.md"

# Every public module with an __all__: the namespaces users import from.
NAMESPACES = [
    "streamdantic",
    "streamdantic.events",
    "streamdantic.parts",
    "streamdantic.deltas",
    "streamdantic.core",
    "streamdantic.batch",
    "streamdantic.dask",
    "streamdantic.frontends",
    "streamdantic.sse",
    "streamdantic.starlette",
    "streamdantic.adapters.openai",
    "streamdantic.adapters.anthropic",
    "streamdantic.adapters.http",
]


def documented() -> dict[str, list[str]]:
    """The names the page renders (``::: module.name`` directives), by module."""
    out: dict[str, list[str]] = {}
    for target in re.findall(r"^::: (\S+)$", PAGE.read_text("utf-8"), re.M):
        module, _, name = target.rpartition(".")
        out.setdefault(module, []).append(name)
    return out


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_every_public_name_is_on_the_reference_page(namespace: str) -> None:
    """Each name in the namespace's __all__ has its entry on the page, once."""
    names = documented().get(namespace, [])
    exported = importlib.import_module(namespace).__all__
    assert sorted(set(exported) - set(names)) == []
    assert len(names) == len(set(names))


def test_the_page_documents_only_public_names() -> None:
    """Every entry on the page is a name some namespace exports (no stale or private ones)."""
    for module, names in documented().items():
        assert module in NAMESPACES, module
        stale = set(names) - set(importlib.import_module(module).__all__)
        assert stale == set(), (module, stale)


def test_the_page_is_in_the_site() -> None:
    """mkdocs.yml lists the page and renders it with mkdocstrings."""
    config = (ROOT / "mkdocs.yml").read_text("utf-8")
    assert "reference.md" in config
    assert "- mkdocstrings:" in config
