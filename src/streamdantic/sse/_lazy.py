"""The names of `streamdantic.sse` that load on first use: the client's and the stores'.

The sans-IO core imports the codec from the package (``from .sse._codec import ...`` runs
``sse/__init__.py`` first), so an eager import of the client and the stores there would
load them with every ``import streamdantic`` (tests/test_layering.py). The package imports
`__getattr__` and `__dir__` from here (PEP 562); each loads a whole module on first access,
then its names are ordinary attributes of the package.
"""

from __future__ import annotations

import importlib
import sys

PACKAGE = __name__.rpartition(".")[0]

# name -> the module that defines it (full names: tests/test_layering.py reads them)
LAZY: dict[str, str] = {
    **dict.fromkeys(
        ["AsyncClientStream", "ClientStream", "Retry", "aconnect", "connect"],
        "streamdantic.sse._client",
    ),
    **dict.fromkeys(["Frames", "MemoryStore", "RedisStore", "Store"], "streamdantic.sse._store"),
}


def __getattr__(name: str) -> object:
    """A name of the client or the stores, imported on first access."""
    if name not in LAZY:
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")
    module = importlib.import_module(LAZY[name])
    package = sys.modules[PACKAGE]
    for other in [n for n, m in LAZY.items() if m == LAZY[name]]:
        obj = getattr(module, other)
        obj.__module__ = PACKAGE  # presented as `streamdantic.sse.X`, as the others are
        setattr(package, other, obj)
    return getattr(package, name)


def __dir__() -> list[str]:
    return sorted({*vars(sys.modules[PACKAGE]), *LAZY})
