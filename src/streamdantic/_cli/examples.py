"""The bundled examples the demo and the web page replay: recorded streams and their models.

The `.sse` files in ``_cli/data/examples/`` are byte-for-byte copies of Chat Completions
recordings in the repository's ``fixtures/`` (``scripts/bundle_examples.py`` copies them and
writes ``examples.json``); the models below mirror ``fixtures/models.py``, and a test keeps
both in step. Every model forbids extra keys, so a stream that reassembles into the wrong
document fails validation loudly.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "DEFAULT_EXAMPLE",
    "Example",
    "NumberSample",
    "Recipe",
    "UnicodeSample",
    "example",
    "examples",
]

DEFAULT_EXAMPLE = "recipe"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- recipe ---------------------------------------------------------------------------


class Author(_Strict):
    name: str
    verified: bool


class Ingredient(_Strict):
    item: str
    quantity: float
    unit: str | None


class Recipe(_Strict):
    """A recipe card, as a model extracts it."""

    title: str
    servings: int
    total_minutes: int
    vegetarian: bool
    rating: float
    source_url: str | None
    author: Author
    ingredients: list[Ingredient]
    tags: list[str]


# --- numbers --------------------------------------------------------------------------


class Reading(_Strict):
    t: int
    celsius: float
    drift: float
    calibrated: bool
    note: str | None


class Stats(_Strict):
    count: int
    mean: float
    variance: float
    min: float
    max: float
    sum: float


class NumberSample(_Strict):
    """A sensor export: numbers of every JSON shape."""

    sensor_id: str
    integers: list[int]
    floats: list[float]
    exponents: list[float]
    readings: list[Reading]
    stats: Stats


# --- unicode --------------------------------------------------------------------------


class Greeting(_Strict):
    lang: str
    text: str
    direction: Literal["ltr", "rtl"]


class EmojiSamples(_Strict):
    literal: str
    escaped: str
    mixed: str


class EscapeSamples(_Strict):
    quote: str
    backslash: str
    newline: str
    tab: str
    solidus: str
    control: str
    latin: str


class UnicodeSample(_Strict):
    """A multilingual announcement: scripts, emoji and escapes."""

    message_id: str
    headline: str
    greetings: list[Greeting]
    emoji: EmojiSamples
    combining: str
    escapes: EscapeSamples
    labels: dict[str, str]
    invisible: str
    rtl_mixed: str


_MODELS: dict[str, type[BaseModel]] = {
    "Recipe": Recipe,
    "NumberSample": NumberSample,
    "UnicodeSample": UnicodeSample,
}


@dataclass(frozen=True, slots=True)
class Example:
    """One bundled example: a recorded Chat Completions stream and what it should produce."""

    name: str
    title: str
    description: str
    model: type[BaseModel]
    file: str
    messages: list[dict[str, Any]]
    response_format: dict[str, Any]
    text: str  # the JSON text the recording's content deltas add up to
    deltas: int

    @property
    def prompt(self) -> str:
        """The user message of the recorded request."""
        return str(self.messages[-1]["content"])

    @property
    def schema_name(self) -> str:
        """The ``json_schema.name`` of the recorded request."""
        return str(self.response_format["json_schema"]["name"])

    def read(self) -> bytes:
        """The recorded stream: the exact bytes of the provider's response body."""
        data: bytes = _files().joinpath(self.file).read_bytes()
        return data


def _files() -> Any:
    return resources.files("streamdantic").joinpath("_cli", "data", "examples")


@functools.cache
def examples() -> dict[str, Example]:
    """The bundled examples by name, the default first."""
    index = json.loads(_files().joinpath("examples.json").read_text("utf-8"))
    out: dict[str, Example] = {}
    for entry in index["examples"]:
        out[entry["name"]] = Example(
            name=entry["name"],
            title=entry["title"],
            description=entry["description"],
            model=_MODELS[entry["model"]],
            file=entry["file"],
            messages=entry["messages"],
            response_format=entry["response_format"],
            text=entry["text"],
            deltas=entry["deltas"],
        )
    return out


def example(name: str) -> Example:
    """The bundled example called `name`.

    Raises:
        KeyError: there is none; the message lists the names there are.
    """
    found = examples().get(name)
    if found is None:
        raise KeyError(f"no bundled example {name!r}; choose one of: {', '.join(examples())}")
    return found
