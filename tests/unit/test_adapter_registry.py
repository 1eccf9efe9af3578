"""The adapter registry (adapters/_registry.py): exact types in, factories and parts out."""

from __future__ import annotations

import sys
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


class SDKError(Exception):
    pass


def translate(exc: BaseException) -> sd.parts.ProviderErrorPart:
    return sd.parts.ProviderErrorPart(str(exc))


@pytest.fixture
def fake_sdk(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """An importable SDK module with an event class and an exception class."""
    module = types.ModuleType("fake_sdk")
    module.Event = Event  # type: ignore[attr-defined]
    module.SDKError = SDKError  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_sdk", module)
    return module


def test_sdk_adapter_registers_the_event_and_the_error(fake_sdk: types.ModuleType) -> None:
    """The event class named gets the factory and the exception class the translator."""
    _registry.register_sdk_adapter(
        "fake_sdk:Event", factory, error="fake_sdk:SDKError", translate=translate
    )
    assert _registry.ADAPTERS == {Event: factory}
    assert _registry.ERROR_TRANSLATORS == {SDKError: translate}


def test_sdk_adapter_registers_nothing_when_the_sdk_lacks_the_event_class(
    fake_sdk: types.ModuleType,
) -> None:
    """An SDK without the event class (too old or too new) registers neither table."""
    del fake_sdk.Event
    _registry.register_sdk_adapter(
        "fake_sdk:Event", factory, error="fake_sdk:SDKError", translate=translate
    )
    assert (_registry.ADAPTERS, _registry.ERROR_TRANSLATORS) == ({}, {})


@pytest.mark.parametrize(
    "error", [pytest.param(Event, id="class"), pytest.param("APIError", id="string")]
)
def test_sdk_adapter_skips_an_error_that_is_not_an_exception_type(
    fake_sdk: types.ModuleType, error: object
) -> None:
    """An error name bound to a non-exception keeps the adapter and registers no translator."""
    fake_sdk.SDKError = error  # type: ignore[attr-defined]
    _registry.register_sdk_adapter(
        "fake_sdk:Event", factory, error="fake_sdk:SDKError", translate=translate
    )
    assert _registry.ADAPTERS == {Event: factory}
    assert _registry.ERROR_TRANSLATORS == {}


@pytest.mark.parametrize(
    "event, error",
    [
        pytest.param("streamdantic_no_such_sdk:Event", "fake_sdk:SDKError", id="event-module"),
        pytest.param("fake_sdk:Event", "streamdantic_no_such_sdk:SDKError", id="error-module"),
    ],
)
def test_sdk_adapter_registers_nothing_when_the_sdk_is_not_installed(
    fake_sdk: types.ModuleType, event: str, error: str
) -> None:
    """A module that does not import leaves both tables untouched."""
    _registry.register_sdk_adapter(event, factory, error=error, translate=translate)
    assert (_registry.ADAPTERS, _registry.ERROR_TRANSLATORS) == ({}, {})


def test_sdk_adapter_without_an_event_class_registers_only_the_error(
    fake_sdk: types.ModuleType,
) -> None:
    """For an SDK whose events are plain dicts, only the exception class is registered."""
    _registry.register_sdk_adapter(None, None, error="fake_sdk:SDKError", translate=translate)
    assert _registry.ADAPTERS == {}
    assert _registry.ERROR_TRANSLATORS == {SDKError: translate}
