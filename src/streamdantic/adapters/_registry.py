"""The adapter registry: which adapter turns a provider's event type into stream items.

Strategy / invariants (sans-IO, no provider package imported here):
- `register_adapter(cls, factory, errors=...)` records a factory per event class and, for
  SDKs that raise rather than yield an error the provider sent, a translator per exception
  class. Lookups follow the MRO, so subclasses match.
- An adapter module for an optional SDK registers through `register_sdk_adapter`, which
  names the SDK's classes as ``"module:Class"`` and registers nothing the SDK lacks.
- A type from a known provider package (``openai.``, ``anthropic.``) whose adapter is not
  registered yet imports that adapter module once, on first sight (the module registers its
  types when imported), so ``stream(sdk_stream, Model)`` needs no setup. That import comes
  before a match on a base class from another package (LiteLLM's chunks subclass
  ``openai.BaseModel``).
- Plain dicts have no class to look up; those a provider's SDK yields with a distinctive
  shape (one key naming the event, as botocore's Bedrock ``converse_stream`` events have) are
  told apart by that key (`DICT_KEYS`), importing the adapter module that knows them.
- The stream core asks `adapter_factory(item)` for an item it does not know and
  `error_part(exc)` for an exception its source raised; the streams ask `open_source(obj)`
  for a source that is not iterable (an agent run's result object, registered with
  `register_source`, whose events a method gives). Nothing else reads the tables.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias

from .._exceptions import UsageError
from .._parts import Part, ProviderErrorPart

__all__ = [
    "AdapterFactory",
    "ErrorTranslator",
    "adapter_factory",
    "error_part",
    "open_source",
    "register_adapter",
    "register_dict_adapter",
    "register_sdk_adapter",
    "register_source",
]

AdapterFactory: TypeAlias = Callable[[], Callable[[Any], Iterable[Any]]]
# Turns an exception a provider's SDK raised while the source was iterated (an error the
# provider sent mid-stream) into the part that reports it, or None to let it propagate. The
# part is usually a `ProviderErrorPart`; a framework that raises for a finish reason (token
# limit, content filter) gives the `Finish` part, so the stream raises the matching error.
ErrorTranslator: TypeAlias = Callable[[BaseException], ProviderErrorPart | Part | None]
ADAPTERS: dict[type, AdapterFactory] = {}
ERROR_TRANSLATORS: dict[type, ErrorTranslator] = {}
# Provider packages whose event types an adapter module knows, imported on first sight.
LAZY_ADAPTERS: tuple[tuple[str, str], ...] = (
    ("openai.", "streamdantic.adapters.openai"),
    ("anthropic.", "streamdantic.adapters.anthropic"),
    ("pydantic_ai.", "streamdantic.adapters.pydantic_ai"),
    ("langchain_core.", "streamdantic.adapters.langchain"),
    ("botocore.", "streamdantic.adapters.bedrock"),  # botocore's EventStreamError
    ("google.genai.", "streamdantic.adapters.gemini"),
    ("ollama.", "streamdantic.adapters.ollama"),
    # LiteLLM's chunk classes subclass openai.BaseModel: matched by their own package first.
    ("litellm.", "streamdantic.adapters.litellm"),
    # The openai-agents SDK's top package is plain ``agents``: match only its event and
    # exception modules, not every module of a package (or a user's module) of that name.
    ("agents.stream_events", "streamdantic.adapters.openai_agents"),
    ("agents.exceptions", "streamdantic.adapters.openai_agents"),
    ("agents.result", "streamdantic.adapters.openai_agents"),  # RunResultStreaming
)
# Plain-dict events recognised by their single key: key -> adapter module. Bedrock
# ConverseStream (`ConverseStreamOutput` members, as botocore yields them).
DICT_KEYS: Mapping[str, str] = dict.fromkeys(
    (
        "messageStart",
        "contentBlockStart",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
        "internalServerException",
        "modelStreamErrorException",
        "validationException",
        "throttlingException",
        "serviceUnavailableException",
    ),
    "streamdantic.adapters.bedrock",
)
DICT_ADAPTERS: dict[str, AdapterFactory] = {}
# Source objects that are not iterable themselves: class -> (their events, async only).
SourceEvents: TypeAlias = Callable[[Any], Any]
SOURCES: dict[type, tuple[SourceEvents, bool]] = {}


def register_adapter(
    cls: type,
    factory: AdapterFactory,
    *,
    errors: Mapping[type[BaseException], ErrorTranslator] | None = None,
) -> None:
    """Teach streams a provider event type.

    Args:
        cls: the event class (subclasses match too).
        factory: called once per stream; returns a function that turns one event into
            stream items (text, `Chunk`s or `Part`s). It may keep state across events.
        errors: exception class -> translator, for SDKs that raise (rather than yield) an
            error the provider sent mid-stream. When iterating the source raises such an
            exception (subclasses match too), the translator's `ProviderErrorPart` ends the
            stream, which then raises `ProviderError` with the partial kept, chained to the
            SDK's exception. A translator returns None to let the exception propagate.
    """
    ADAPTERS[cls] = factory
    if errors:
        ERROR_TRANSLATORS.update(errors)


def register_sdk_adapter(
    event: str | None,
    factory: AdapterFactory | None,
    *,
    error: str,
    translate: ErrorTranslator,
) -> None:
    """Register an optional SDK's event class and error class, named ``"module:Class"``.

    The SDK is imported by name (it is optional, so there may be nothing for mypy to see);
    when one of its modules is missing, nothing is registered. When `event` names no class
    (an SDK too old or too new), nothing is registered either. The error translator is
    registered only when `error` names an exception class.

    Args:
        event: ``"module:Class"`` of the event type, or None for an SDK whose events are
            plain dicts (see `register_dict_adapter`): then only the error is registered.
        factory: the adapter factory for `event` (see `register_adapter`).
        error: ``"module:Class"`` of the exception the SDK raises for an error the
            provider sent mid-stream.
        translate: turns that exception into the part that reports it.
    """
    try:
        event_cls = _sdk_attribute(event) if event is not None else None
        error_cls = _sdk_attribute(error)
    except ImportError:
        return
    if event is not None and not isinstance(event_cls, type):
        return
    translators = (
        {error_cls: translate}
        if isinstance(error_cls, type) and issubclass(error_cls, BaseException)
        else None
    )
    if isinstance(event_cls, type) and factory is not None:
        register_adapter(event_cls, factory, errors=translators)
    elif translators:
        ERROR_TRANSLATORS.update(translators)


def _sdk_attribute(spec: str) -> object:
    """The attribute named by ``"module:name"`` (None when the module lacks it); raises
    ImportError when the module is missing."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name, None)


def register_dict_adapter(keys: Iterable[str], factory: AdapterFactory) -> None:
    """Teach streams plain-dict events told apart by their single key (``{"messageStart":
    {...}}``): `factory` is used for a stream whose first unknown item is such a dict."""
    for key in keys:
        DICT_ADAPTERS[key] = factory


def register_source(cls: type, events: SourceEvents, *, asynchronous: bool) -> None:
    """Teach streams a source object that is not iterable itself (``RunResultStreaming``).

    Args:
        cls: the object's class (subclasses match too).
        events: called once per stream with the object; returns the iterable (or async
            iterable) of its events, which the stream reads as if it had been passed.
        asynchronous: the events are an async iterable only (then `streamdantic.stream`
            raises `UsageError` naming `astream`).
    """
    SOURCES[cls] = (events, asynchronous)


def open_source(source: Any, *, asynchronous: bool) -> Any:
    """The events of a registered non-iterable source object, else `source` unchanged.

    Raises:
        UsageError: `source` streams asynchronously and a sync stream was asked for.
    """
    found: tuple[SourceEvents, bool] | None = lookup(type(source), SOURCES)
    if found is None:
        return source
    events, async_only = found
    if async_only and not asynchronous:
        kind = type(source)
        raise UsageError(
            f"{kind.__module__}.{kind.__qualname__} streams its events asynchronously: use "
            "streamdantic.astream (or astream_to_object) and async for"
        )
    return events(source)


def lookup(cls: type, registry: Mapping[type, Any]) -> Any:
    """The registered value for `cls` or its nearest base, importing the adapter module of
    a known provider package on first sight of one of its types.

    The adapter module of `cls`'s own package is imported even when a base already matches:
    LiteLLM's chunks subclass ``openai.BaseModel``, which the openai adapter registers."""
    found: Any = None
    for attempt in range(2):
        for base in cls.__mro__:
            found = registry.get(base)
            if found is not None:
                if base is cls:
                    return found
                break
        if attempt == 0:
            module = cls.__module__ or ""
            for prefix, adapter_module in LAZY_ADAPTERS:
                if module.startswith(prefix):
                    if found is not None and adapter_module in sys.modules:
                        return found  # a base's registration, the package's own adapter loaded
                    importlib.import_module(adapter_module)
                    break
            else:
                return found
    return found


def adapter_factory(item: Any) -> AdapterFactory | None:
    """The factory registered for `item`'s type (or a base), or for a dict's single key,
    else None."""
    found: AdapterFactory | None = lookup(type(item), ADAPTERS)
    if found is None and isinstance(item, Mapping) and len(item) == 1:
        key = next(iter(item))
        found = DICT_ADAPTERS.get(key)
        if found is None and key in DICT_KEYS:
            importlib.import_module(DICT_KEYS[key])
            found = DICT_ADAPTERS.get(key)
    return found


def error_part(exc: BaseException) -> ProviderErrorPart | Part | None:
    """The part reporting `exc` when an adapter translates it, else None (re-raise it)."""
    translate: ErrorTranslator | None = lookup(type(exc), ERROR_TRANSLATORS)
    return translate(exc) if translate is not None else None
