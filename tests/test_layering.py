"""The package's layers, enforced: every module belongs to one layer, imports only from its own
layer or those below, and the sans-IO core imports no I/O library (STYLE S1, S9).

The imports are read from the source (AST), including those inside functions and
``TYPE_CHECKING`` blocks, so a lazy import cannot hide; nor can an import by name:
``importlib.import_module("x")`` / ``__import__("x")`` with a literal name, and a string
naming a streamdantic module (``"streamdantic.adapters.openai"`` in a lookup table) count too. An import names the module it binds:
``from .sse._codec import X`` depends on ``streamdantic.sse._codec``. Python runs the
``__init__`` of each package above it first, and what a subpackage's ``__init__`` imports
when it runs counts as imported too (``sse/__init__.py`` may load the codec eagerly, the HTTP
client only on first use). The top package's ``__init__`` does not count: every import runs
it, and it re-exports the API.

A new module fails `test_every_module_belongs_to_a_layer` until it is added to `LAYERS`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "streamdantic"

# Bottom to top: a module may import modules of its own layer and of the layers before it.
# Patterns are fnmatch patterns over dotted module names.
LAYERS: dict[str, tuple[str, ...]] = {
    # Pure feed()/close() state machines and the values they hand out: no I/O, no clock loop.
    "sans-io": (
        "streamdantic._version",
        "streamdantic._exceptions",
        "streamdantic._frozen",
        "streamdantic._paths",
        "streamdantic._numbers",
        "streamdantic._limits",
        "streamdantic._speedups",  # the C twin of the parser's scanner
        "streamdantic._events",
        "streamdantic._parts",
        "streamdantic._parser",
        "streamdantic._deltas",
        "streamdantic._mirror",  # the raw JSON a stream's events describe (the encoders')
        "streamdantic._partial",
        "streamdantic._iterators",  # the iterator shells of collect and collect_batch
        "streamdantic._options",  # keyword checks and deprecation warnings of the entry points
        "streamdantic._validation",
        "streamdantic._stream_core",
        "streamdantic._source",  # the stream core's stages (docs/architecture.md)
        "streamdantic._pipeline",
        "streamdantic._tool_calls",
        "streamdantic._emitter",
        "streamdantic._ending",
        "streamdantic._text_step",  # the stream core's per-item text step and its loop
        "streamdantic._update",
        "streamdantic.sse._codec",
        "streamdantic.sse._profile",
        "streamdantic.sse._lazy",  # what sse/__init__ runs: loads the client only on demand
        "streamdantic.adapters",
        "streamdantic.adapters._registry",
        "streamdantic.adapters._chat",
        "streamdantic.adapters._iterate",  # the converter loops the adapters share
        "streamdantic.adapters.anthropic",  # converts events; never talks to Anthropic
        "streamdantic.frontends",  # the front-end protocol encoders (updates in, frames out)
        "streamdantic.frontends._*",
    ),
    # The thin loops over the core: sync/async iteration, files, HTTP, servers, stores.
    "io": (
        "streamdantic._aggregate",
        "streamdantic._batch",  # BatchReader (sans-IO) shares a module with collect_batch()
        "streamdantic._collect",  # ItemCollector (sans-IO) shares a module with collect()
        "streamdantic._threads",  # a sync iterator drained in worker threads (acollect)
        "streamdantic.sse._client",
        "streamdantic.sse._store",
        "streamdantic.starlette",
        "streamdantic.adapters.openai",  # imports the openai SDK (httpx) and makes requests
        "streamdantic.adapters.http",
        "streamdantic.adapters.pydantic_ai",  # imports pydantic-ai (its HTTP clients) to match events
        "streamdantic.adapters.langchain",  # imports langchain-core's message classes
        "streamdantic.adapters.openai_agents",  # imports the openai-agents SDK's event classes
        "streamdantic.adapters.bedrock",  # dicts, plus botocore's exception when installed
        "streamdantic.adapters.gemini",  # registers google-genai's response class
        "streamdantic.adapters.ollama",  # registers the ollama client's chunk class
        "streamdantic.adapters.litellm",  # registers LiteLLM's chunk and exception classes
        "streamdantic.dask",  # collect_batch in Dask workers (dask imported on first call)
    ),
    # The public namespaces: re-exports only.
    "api": (
        "streamdantic",
        "streamdantic.batch",
        "streamdantic.core",
        "streamdantic.deltas",
        "streamdantic.events",
        "streamdantic.parts",
        "streamdantic.sse",
    ),
    # The command-line application, a user of the library like any other.
    "application": (
        "streamdantic.__main__",
        "streamdantic._cli",
        "streamdantic._cli.*",
    ),
    # Loaded by mypy (``plugins = ["streamdantic.mypy"]``), never by the library.
    "plugin": ("streamdantic.mypy",),
}

# Libraries that do I/O (network, processes, threads, event loops, servers) or pull it in.
IO_LIBRARIES = (
    "anthropic",
    "anyio",
    "asyncio",
    "concurrent",
    "fastapi",
    "http.client",
    "http.server",
    "httpcore",
    "httpx",
    "multiprocessing",
    "openai",
    "redis",
    "selectors",
    "socket",
    "socketserver",
    "ssl",
    "starlette",
    "subprocess",
    "threading",
    "trio",
    "urllib.request",
    "uvicorn",
    "webbrowser",
)


# Upward or I/O imports made on purpose, each with its reason: (module, target) -> why.
# Keep this short; test_every_allowance_is_still_needed removes an entry once it is unused.
ALLOWED: dict[tuple[str, str], str] = {
    # Plugin discovery: the registry imports a provider's adapter on first sight of one of
    # its SDK's objects, so the SDK and its I/O stack are already loaded by then. The edge
    # goes away when the openai adapter's converter and request helpers are separate modules.
    ("streamdantic.adapters._registry", "streamdantic.adapters.openai"): "lazy adapter lookup",
    ("streamdantic.adapters._registry", "streamdantic.adapters.pydantic_ai"): "lazy adapter lookup",
    ("streamdantic.adapters._registry", "streamdantic.adapters.langchain"): "lazy adapter lookup",
    ("streamdantic.adapters._registry", "streamdantic.adapters.bedrock"): "lazy adapter lookup",
    ("streamdantic.adapters._registry", "streamdantic.adapters.gemini"): "lazy adapter lookup",
    ("streamdantic.adapters._registry", "streamdantic.adapters.ollama"): "lazy adapter lookup",
    ("streamdantic.adapters._registry", "streamdantic.adapters.litellm"): "lazy adapter lookup",
    ("streamdantic.adapters._registry", "streamdantic.adapters.openai_agents"): (
        "lazy adapter lookup"
    ),
    # `streamdantic.sse` loads the client and the stores when one of their names is first
    # asked for, so that the core, which imports the codec from the package, does not.
    ("streamdantic.sse._lazy", "streamdantic.sse._client"): "names loaded on first use",
    ("streamdantic.sse._lazy", "streamdantic.sse._store"): "names loaded on first use",
}

# Calls that import the module named by their first argument.
IMPORT_CALLS = ("import_module", "__import__")


@dataclass(frozen=True)
class Import:
    module: str  # the module that imports
    target: str  # the module it binds, absolute
    line: int


def layer_of(module: str) -> str | None:
    found = [
        name for name, patterns in LAYERS.items() if any(fnmatchcase(module, p) for p in patterns)
    ]
    assert len(found) <= 1, f"{module} matches the patterns of several layers: {found}"
    return found[0] if found else None


def rank(layer: str) -> int:
    return list(LAYERS).index(layer)


def package_modules(root: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports_of(module: str, path: Path, known: set[str], *, eager: bool = False) -> list[Import]:
    """The modules `module` imports, anywhere in its source (`eager`: only those its import
    runs, outside functions and ``TYPE_CHECKING`` blocks)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text("utf-8"), str(path))
    out = []
    for node in _eager_nodes(tree.body) if eager else ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [Import(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                # `from pkg import name` binds the submodule pkg.name when there is one.
                sub = f"{base}.{alias.name}"
                out.append(Import(module, sub if sub in known else base, node.lineno))
    return out if eager else out + imports_by_name(module, path, known)


def _eager_nodes(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements an import of the module runs: not function bodies, not the body of
    ``if TYPE_CHECKING:`` (its ``else`` does run)."""
    out: list[ast.stmt] = []
    for node in body:
        out.append(node)
        if isinstance(node, ast.If):
            checking = isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
            out += _eager_nodes(node.orelse if checking else [*node.body, *node.orelse])
        elif isinstance(node, ast.Try):
            for block in (node.body, *(h.body for h in node.handlers), node.orelse):
                out += _eager_nodes(block)
            out += _eager_nodes(node.finalbody)
        elif isinstance(node, ast.ClassDef | ast.With):
            out += _eager_nodes(node.body)
    return out


def packages_run_by(module: str, targets: list[str], modules: dict[str, Path]) -> set[str]:
    """The subpackages whose ``__init__`` an import of `module` and of its targets runs (the
    top package aside: it re-exports the API, so every import runs it)."""
    out = set()
    for name in [module, *targets]:
        parts = name.split(".")
        for n in range(2, len(parts)):
            parent = ".".join(parts[:n])
            if parent in modules and modules[parent].name == "__init__.py":
                out.add(parent)
    return out


def imports_by_name(module: str, path: Path, known: set[str]) -> list[Import]:
    """The modules `module` imports by name: a literal argument of an import call, or any
    string (docstrings aside) that names a streamdantic submodule."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            arg = node.args[0]
            if (
                name in IMPORT_CALLS
                and isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
            ):
                out.append(Import(module, arg.value, node.lineno))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and node.value.startswith("streamdantic.")
            and node.value in known
        ):
            out.append(Import(module, node.value, node.lineno))
    return out


def within(target: str, names: tuple[str, ...]) -> bool:
    return any(target == name or target.startswith(name + ".") for name in names)


def violations(root: Path = PACKAGE) -> list[str]:
    """Every import that breaks the layering, as readable lines (empty: all is well)."""
    modules = package_modules(root)
    # Compiled modules have a stub beside them (_speedups.pyi); they can be imported too.
    stubs = {
        ".".join(p.relative_to(root.parent).with_suffix("").parts) for p in root.rglob("*.pyi")
    }
    known = set(modules) | stubs
    found = []
    for module, path in modules.items():
        layer = layer_of(module)
        if layer is None:
            continue  # reported by test_every_module_belongs_to_a_layer
        where = f"{path.relative_to(root.parent)}:{{line}}: {module} ({layer})"
        imports = imports_of(module, path, known)
        for imp in imports:
            problem = _problem(module, layer, imp.target)
            if problem:
                found.append(f"{where.format(line=imp.line)} {problem}")
        # Importing a subpackage's module runs the subpackage's __init__ first: what that
        # runs counts as imported too (``from .sse._codec import X`` runs sse/__init__.py).
        for package in sorted(packages_run_by(module, [i.target for i in imports], modules)):
            for imp in imports_of(package, modules[package], known, eager=True):
                problem = _problem(module, layer, imp.target)
                if problem:
                    found.append(
                        f"{where.format(line='-')} loads {package}, whose __init__ "
                        f"(line {imp.line}) {problem}"
                    )
    return list(dict.fromkeys(found))  # `from m import a, b` is one line, not two


def _problem(module: str, layer: str, target: str) -> str | None:
    """What is wrong with `module` (of `layer`) importing `target`, if anything."""
    if (module, target) in ALLOWED:
        return None
    if within(target, ("streamdantic",)):
        target_layer = layer_of(target)
        if target_layer is None:
            return f"imports {target}, which belongs to no layer"
        if rank(target_layer) > rank(layer):
            return f"imports {target} from the higher layer {target_layer}"
    elif layer == "sans-io" and within(target, IO_LIBRARIES):
        return f"imports the I/O library {target}"
    return None


def test_every_module_belongs_to_a_layer() -> None:
    """Each module of the package is assigned to exactly one layer in LAYERS."""
    orphans = [m for m in package_modules() if layer_of(m) is None]
    assert orphans == [], f"assign these modules a layer in tests/test_layering.py: {orphans}"


def test_every_layer_pattern_matches_a_module() -> None:
    """No pattern in LAYERS is stale (a moved or deleted module is removed from it too)."""
    modules = [*package_modules(), "streamdantic._speedups"]
    stale = [
        pattern
        for patterns in LAYERS.values()
        for pattern in patterns
        if not any(fnmatchcase(m, pattern) for m in modules)
    ]
    assert stale == []


def test_imports_respect_the_layers() -> None:
    """No module imports a higher layer, and the sans-IO core imports no I/O library."""
    found = violations()
    assert not found, "imports that break the layering:\n" + "\n".join(found)


def test_every_allowance_is_still_needed() -> None:
    """Each entry of ALLOWED names an import the package still makes."""
    modules = package_modules()
    known = set(modules) | {"streamdantic._speedups"}
    made = {
        (imp.module, imp.target)
        for module, path in modules.items()
        for imp in imports_of(module, path, known)
    }
    assert sorted(set(ALLOWED) - made) == []


# The checker itself, on a small package written for the purpose: each rule can fire.
BAD_IMPORTS = {
    "io-library-at-module-level": ("_paths.py", "import asyncio\n", "the I/O library asyncio"),
    "io-library-in-a-function": (
        "_parser.py",
        "def f():\n    from httpx import Client\n",
        "the I/O library httpx",
    ),
    "dotted-io-library": ("_events.py", "import urllib.request\n", "urllib.request"),
    "higher-layer-relative": (
        "_validation.py",
        "from ._aggregate import stream\n",
        "streamdantic._aggregate from the higher layer io",
    ),
    "higher-layer-from-subpackage": (
        "sse/_codec.py",
        "from ._client import connect\n",
        "streamdantic.sse._client from the higher layer io",
    ),
    "higher-layer-submodule-via-from-package": (
        "_deltas.py",
        "from . import _cli\n",
        "streamdantic._cli from the higher layer application",
    ),
    "the-public-facade-from-the-core": (
        "_stream_core.py",
        "import streamdantic\n",
        "streamdantic from the higher layer api",
    ),
    "io-importing-the-application": (
        "starlette.py",
        "from ._cli.serve import create_app\n",
        "streamdantic._cli.serve from the higher layer application",
    ),
    "io-library-by-name": (
        "_numbers.py",
        "import importlib\n\ndef f():\n    return importlib.import_module('socket')\n",
        "the I/O library socket",
    ),
    "io-library-by-dunder-import": (
        "_limits.py",
        "ssl = __import__('ssl')\n",
        "the I/O library ssl",
    ),
    "higher-layer-by-name-in-a-table": (
        "_frozen.py",
        "LAZY = ('streamdantic.starlette',)\n",
        "streamdantic.starlette from the higher layer io",
    ),
    "allowance-is-per-module": (
        "_paths.py",
        "import importlib\nimportlib.import_module('anthropic')\n",
        "the I/O library anthropic",
    ),
    "package-init-loading-a-higher-layer": (
        "sse/__init__.py",
        "from ._codec import encode\nfrom ._client import connect\n",
        "loads streamdantic.sse, whose __init__ (line 2) imports streamdantic.sse._client",
    ),
    "unknown-module": ("_parts.py", "from ._nowhere import x\n", "belongs to no layer"),
}


def _fake_package(root: Path) -> Path:
    """A copy of the package's module tree with empty modules."""
    for path in package_modules().values():
        copy = root / path.relative_to(SRC)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.touch()
    return root / "streamdantic"


@pytest.mark.parametrize("case", list(BAD_IMPORTS))
def test_a_bad_import_is_reported(case: str, tmp_path: Path) -> None:
    """Each kind of bad import, added to an otherwise empty copy of the tree, is reported."""
    file, source, expected = BAD_IMPORTS[case]
    root = _fake_package(tmp_path)
    (root / file).write_text(source, "utf-8")
    found = violations(root)
    assert found, "not reported"
    assert all(expected in line for line in found), found


def test_allowed_imports_are_not_reported(tmp_path: Path) -> None:
    """Imports within a layer, downwards, and of non-I/O libraries pass."""
    root = _fake_package(tmp_path)
    (root / "_validation.py").write_text("import json\nfrom ._partial import x\n", "utf-8")
    (root / "starlette.py").write_text("import anyio\nfrom .sse._codec import encode\n", "utf-8")
    (root / "_cli" / "main.py").write_text("from .. import stream\nfrom ..sse import connect\n")
    (root / "_parser.py").write_text('"""streamdantic.starlette"""\nNAME = "streamdantic"\n')
    (root / "adapters" / "_registry.py").write_text("LAZY = ('streamdantic.adapters.openai',)\n")
    assert violations(root) == []


def test_a_new_module_must_be_assigned_a_layer(tmp_path: Path) -> None:
    """A module that matches no pattern is an orphan."""
    root = _fake_package(tmp_path)
    (root / "_newstage.py").touch()
    assert [m for m in package_modules(root) if layer_of(m) is None] == ["streamdantic._newstage"]
