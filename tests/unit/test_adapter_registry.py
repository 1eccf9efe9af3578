"""The adapter registry (adapters/_registry.py): exact types in, factories and parts out."""

from __future__ import annotations

import types
from collections.abc import Iterator

import pytest

import streamdantic as sd
from streamdantic.adapters import _registry


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(_registry, "ADAPTERS", {})
    monkeypatch.setattr(_registry, "ERROR_TRANSLATORS", {})
    yield


class Event:
    pass


class SubEvent(Event):
    pass


def factory() -> object:
    return lambda event: ["{}"]


def test_a_registered_type_and_its_subclasses_find_the_factory() -> None:
    """Lookups follow the MRO: a subclass finds its base's factory; others find nothing."""
    _registry.register_adapter(Event, factory)
    assert _registry.adapter_factory(Event()) is factory
    assert _registry.adapter_factory(SubEvent()) is factory
    assert _registry.adapter_factory(object()) is None


def test_an_error_translator_gives_the_part_or_none() -> None:
    """error_part uses the translator registered for the exception's class (or a base)."""
    part = sd.parts.ProviderErrorPart("overloaded", "overloaded_error")
    _registry.register_adapter(Event, factory, errors={LookupError: lambda exc: part})
    assert _registry.error_part(KeyError("k")) is part
    assert _registry.error_part(ValueError("v")) is None


def test_a_provider_type_imports_its_adapter_module_on_first_sight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A type from a known provider package imports that adapter module once, which
    registers it."""
    imported: list[str] = []

    def fake_import(name: str) -> types.ModuleType:
        imported.append(name)
        _registry.register_adapter(cls, factory)
        return types.ModuleType(name)

    cls = type("ChatCompletionChunk", (), {"__module__": "openai.types.chat"})
    monkeypatch.setattr(_registry.importlib, "import_module", fake_import)
    assert _registry.adapter_factory(cls()) is factory
    assert imported == ["streamdantic.adapters.openai"]
    assert _registry.adapter_factory(cls()) is factory
    assert imported == ["streamdantic.adapters.openai"]  # once


def test_register_adapter_is_the_public_name() -> None:
    """streamdantic.core.register_adapter is the registry's function."""
    assert sd.core.register_adapter is _registry.register_adapter
