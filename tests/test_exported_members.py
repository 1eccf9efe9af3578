"""The public API: sorted __all__ per namespace, every name importable and presented as its
namespace's member, and the moved top-level names deprecated for one release."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import warnings
from types import ModuleType

import pytest

import streamdantic

# Every public namespace, each with the names it owns. A name lives in exactly one of them.
NAMESPACES = [
    "streamdantic",
    "streamdantic.core",
    "streamdantic.deltas",
    "streamdantic.events",
    "streamdantic.parts",
    "streamdantic.sse",
]

# What moved off the top level (#12): old name -> (new module, new name).
MOVED = {
    **{
        name: ("streamdantic.events", name)
        for name in (
            "DocumentCompleted",
            "Event",
            "StringAppended",
            "ValueCompleted",
            "ValueStarted",
            "ValueState",
        )
    },
    **{
        name: ("streamdantic.parts", name)
        for name in (
            "Finish",
            "Part",
            "ProviderErrorPart",
            "ReasoningDelta",
            "RefusalDelta",
            "TextDelta",
            "ToolCallDelta",
            "ToolCallDone",
            "ToolResult",
            "Usage",
        )
    },
    **{
        name: ("streamdantic.deltas", name)
        for name in (
            "Chunk",
            "ChunkMerger",
            "Delta",
            "DeltaEncoder",
            "chunk_from_object",
            "chunks_for_field",
            "chunks_from_text",
        )
    },
    **{
        name: ("streamdantic.core", name)
        for name in (
            "InvalidValue",
            "ItemCollector",
            "PartialValidator",
            "StreamCore",
            "register_adapter",
            "render_path",
        )
    },
    "Path": ("streamdantic.core", "JSONPath"),
}


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_all_is_sorted_and_importable(namespace: str) -> None:
    """Each namespace's __all__ is sorted and every name in it exists."""
    module = _module(namespace)
    names = module.__all__
    assert names == sorted(names, key=str)
    for name in names:
        assert hasattr(module, name), name


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_exported_members_belong_to_their_namespace(namespace: str) -> None:
    """Exported classes and functions present themselves as members of their namespace."""
    module = _module(namespace)
    for name in module.__all__:
        member = getattr(module, name)
        if inspect.isclass(member) or inspect.isfunction(member):
            assert member.__module__ == namespace, name


def test_each_public_name_lives_in_one_namespace() -> None:
    """No name is exported by two namespaces: each has one import."""
    seen: dict[str, str] = {}
    for namespace in NAMESPACES:
        for name in _module(namespace).__all__:
            assert name not in seen, f"{name} in both {seen[name]} and {namespace}"
            seen[name] = namespace


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_exceptions_share_one_root(namespace: str) -> None:
    """Every exported exception derives from StreamdanticError."""
    module = _module(namespace)
    for name in module.__all__:
        member = getattr(module, name)
        if inspect.isclass(member) and issubclass(member, BaseException):
            assert issubclass(member, streamdantic.StreamdanticError), name


def test_the_namespaces_are_reachable_from_a_plain_import() -> None:
    """``import streamdantic`` is enough to reach ``streamdantic.events.ValueStarted`` etc."""
    for namespace in NAMESPACES[1:]:
        assert getattr(streamdantic, namespace.rpartition(".")[2]) is _module(namespace)


def test_moved_names_are_not_listed_at_the_top_level() -> None:
    """The moved names are in neither ``__all__`` nor ``dir()`` of the top level."""
    listed = set(streamdantic.__all__) | set(dir(streamdantic))
    assert listed.isdisjoint(MOVED)


def test_the_top_level_lists_no_helpers() -> None:
    """Besides ``__all__``, the top level's public attributes are its submodules only (no
    ``inspect``, ``warnings`` or ``TYPE_CHECKING`` left over from the shims)."""
    extra = {
        name
        for name in dir(streamdantic)
        if not name.startswith("_") and name not in streamdantic.__all__
    }
    modules = {name for name in extra if inspect.ismodule(getattr(streamdantic, name))}
    assert extra - modules == {"annotations"}  # from __future__ import annotations


@pytest.mark.parametrize("old", sorted(MOVED))
def test_moved_name_still_works_and_warns_with_its_new_import(old: str) -> None:
    """``streamdantic.X`` is the object of its new namespace, with one DeprecationWarning per
    access naming the new import."""
    module, new = MOVED[old]
    expected = getattr(_module(module), new)
    what = "it" if new == old else new
    message = f"streamdantic.{old} is deprecated; import {what} from {module}"
    for _ in range(2):  # every access warns, not only the first
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = getattr(streamdantic, old)
        assert value is expected
        assert [(w.category, str(w.message)) for w in caught] == [(DeprecationWarning, message)]
        assert caught[0].filename == __file__  # points at the caller's line


@pytest.mark.parametrize("old", ["Chunk", "Path", "ValueStarted"])
def test_from_import_of_a_moved_name_warns_once(old: str) -> None:
    """``from streamdantic import X`` warns exactly once, though importlib probes the name
    before importing it."""
    module, new = MOVED[old]
    scope: dict[str, object] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(f"from streamdantic import {old}", scope)
    assert scope[old] is getattr(_module(module), new)
    assert [w.category for w in caught] == [DeprecationWarning]
    assert f"import {'it' if new == old else new} from {module}" in str(caught[0].message)


def test_unknown_top_level_name_is_an_attribute_error() -> None:
    """A name that never existed raises AttributeError, without a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
            streamdantic.Nope  # noqa: B018


def _fresh(code: str) -> str:
    """What `code` prints in a new interpreter (nothing imported yet)."""
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_streamdantic_loads_neither_the_sse_client_nor_the_stores() -> None:
    """The core imports the codec from `streamdantic.sse`, and that does not load the HTTP
    client or the stores: they load on first use of one of their names."""
    loaded = _fresh(
        "import sys, streamdantic, streamdantic.sse as sse\n"
        "print(sorted(m for m in sys.modules if m.startswith('streamdantic.sse.')))"
    )
    assert (
        loaded
        == "['streamdantic.sse._codec', 'streamdantic.sse._lazy', 'streamdantic.sse._profile']"
    )


def test_sse_names_of_the_client_and_stores_load_on_first_use() -> None:
    """``streamdantic.sse.connect`` and ``RedisStore`` are their modules' objects, listed in
    ``dir()`` before they load and presented as ``streamdantic.sse.X`` once they have."""
    out = _fresh(
        "import streamdantic.sse as sse\n"
        "print(set(sse.__all__) <= set(dir(sse)))\n"
        "from streamdantic.sse import RedisStore, connect\n"
        "from streamdantic.sse._client import connect as c\n"
        "from streamdantic.sse._store import RedisStore as r\n"
        "print(connect is c, RedisStore is r, repr(RedisStore), sse.Retry.__module__)"
    )
    assert out.splitlines() == [
        "True",
        "True True <class 'streamdantic.sse.RedisStore'> streamdantic.sse",
    ]
