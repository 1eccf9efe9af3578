"""The general hook for SDKs that raise a provider's mid-stream error: translators registered
with `register_adapter(..., errors=...)`, applied by every stream entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import streamdantic as sd
from streamdantic.adapters import _registry


class Event:
    """A provider event: one piece of the JSON text."""

    def __init__(self, text: str) -> None:
        self.text = text


class SDKError(Exception):
    """What the SDK raises for an error frame; `body` is the error as sent."""

    def __init__(self, body: Any) -> None:
        super().__init__(str(body))
        self.body = body


class SDKStreamError(SDKError):
    """A subclass: translators match subclasses too."""


def translate(exc: BaseException) -> sd.parts.ProviderErrorPart | None:
    body = getattr(exc, "body", None)
    if not isinstance(body, dict):
        return None  # not the provider's report: let it propagate
    return sd.parts.ProviderErrorPart(body["message"], body["code"], raw=body)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_registry, "ADAPTERS", dict(_registry.ADAPTERS))
    monkeypatch.setattr(_registry, "ERROR_TRANSLATORS", dict(_registry.ERROR_TRANSLATORS))
    sd.core.register_adapter(Event, lambda: lambda e: [e.text], errors={SDKError: translate})


BODY = {"message": "overloaded", "code": "overloaded_error"}


def source(error: BaseException) -> Iterator[Event]:
    yield Event('{"title": "Shaksh')
    yield Event('uka", "servings": 4, "tags": ["eg')
    raise error


async def asource(error: BaseException) -> AsyncIterator[Event]:
    for event in source(error):
        yield event


def test_translated_error_raises_provider_error_with_the_partial() -> None:
    """The translator's part ends the stream: ProviderError, partial kept, cause chained."""
    error = SDKStreamError(BODY)
    with pytest.raises(sd.ProviderError) as info:
        sd.stream_to_object(source(error), dict)
    assert (str(info.value), info.value.code, info.value.raw) == (
        "overloaded",
        "overloaded_error",
        BODY,
    )
    assert info.value.partial == {"title": "Shakshuka", "servings": 4, "tags": ["eg"]}
    assert info.value.__cause__ is error


def test_events_show_the_error_part_before_the_error() -> None:
    """`events()` yields the translated ProviderErrorPart, then raises."""
    seen: list[Any] = []
    with pytest.raises(sd.ProviderError):
        seen.extend(sd.stream(source(SDKError(BODY))).events())
    assert seen[-1] == sd.parts.ProviderErrorPart("overloaded", "overloaded_error", BODY)


def test_translator_returning_none_lets_the_exception_through() -> None:
    """An exception the translator declines propagates unchanged."""
    error = SDKError("connection reset")
    with pytest.raises(SDKError) as info:
        list(sd.stream(source(error)))
    assert info.value is error


def test_unregistered_exceptions_propagate() -> None:
    """An exception with no translator propagates unchanged."""
    with pytest.raises(KeyError):
        list(sd.stream(source(KeyError("x"))))


def test_stream_to_text_keeps_the_text() -> None:
    """`stream_to_text` also turns the translated error into ProviderError with the text."""
    with pytest.raises(sd.ProviderError) as info:
        sd.stream_to_text(source(SDKError(BODY)))
    assert info.value.partial == '{"title": "Shakshuka", "servings": 4, "tags": ["eg'


@pytest.mark.anyio
async def test_async_streams_translate_too() -> None:
    """`astream_to_object` and `astream_to_text` translate the same way, on both backends."""
    with pytest.raises(sd.ProviderError) as info:
        await sd.astream_to_object(asource(SDKError(BODY)), dict)
    assert info.value.partial == {"title": "Shakshuka", "servings": 4, "tags": ["eg"]}
    with pytest.raises(sd.ProviderError) as text_info:
        await sd.astream_to_text(asource(SDKError(BODY)))
    assert text_info.value.partial.startswith('{"title": "Shakshuka"')


class TokenLimitError(Exception):
    """What a framework raises when the output hit the token limit (pydantic-ai does)."""


def finish_length(exc: BaseException) -> sd.parts.Finish:
    return sd.parts.Finish("length")


def test_translator_may_return_a_finish_part() -> None:
    """A translated Finish("length") ends the stream as a truncation: TruncatedStreamError
    with the partial, chained to the framework's exception."""
    sd.core.register_adapter(
        Event, lambda: lambda e: [e.text], errors={TokenLimitError: finish_length}
    )
    error = TokenLimitError("max_tokens")
    with pytest.raises(sd.TruncatedStreamError) as info:
        sd.stream_to_object(source(error), dict)
    assert info.value.partial == {"title": "Shakshuka", "servings": 4, "tags": ["eg"]}
    assert info.value.__cause__ is error


@pytest.mark.anyio
async def test_async_translator_may_return_a_finish_part() -> None:
    """The async twin: TruncatedStreamError with the partial, chained."""
    sd.core.register_adapter(
        Event, lambda: lambda e: [e.text], errors={TokenLimitError: finish_length}
    )
    error = TokenLimitError("max_tokens")
    with pytest.raises(sd.TruncatedStreamError) as info:
        await sd.astream_to_object(asource(error), dict)
    assert info.value.partial == {"title": "Shakshuka", "servings": 4, "tags": ["eg"]}
    assert info.value.__cause__ is error
