"""What the adapter tests share: the manifest, the fixture models, collecting a stream's
outputs, and the partial-growth checks."""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel

import streamdantic as sd
from tests.property.contract import extends

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
MANIFEST: dict[str, Any] = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))
STREAMS: dict[str, dict[str, Any]] = {s["id"]: s for s in MANIFEST["streams"]}


def _load_models() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fixture_models", FIXTURES / "models.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODELS = _load_models()
TOOLS: dict[str, type[BaseModel]] = {
    "get_weather": MODELS.WeatherArgs,
    "search_places": MODELS.SearchArgs,
}


def ids_where(fmt: str | tuple[str, ...], **conditions: Any) -> list[str]:
    """Stream ids of the given format(s) whose manifest entry matches every condition (a
    value, or a predicate called with the entry's value)."""
    formats = (fmt,) if isinstance(fmt, str) else fmt
    out = []
    for stream_id, entry in STREAMS.items():
        if entry["format"] not in formats:
            continue
        if all(
            want(entry.get(key)) if callable(want) else entry.get(key) == want
            for key, want in conditions.items()
        ):
            out.append(stream_id)
    return out


def model_for(stream_id: str) -> type[BaseModel] | None:
    name = STREAMS[stream_id]["pydantic_model"]
    return getattr(MODELS, name) if name else None


def expected_object(output: dict[str, Any]) -> Any:
    """The document an output stands for, validated with its model."""
    model = getattr(MODELS, output["pydantic_model"])
    return model.model_validate_json((FIXTURES / output["document"]).read_bytes())


def piece_for(stream_id: str, *, fine: bool = True) -> int:
    """Write size for replaying a stream: 7 bytes (splitting UTF-8 characters) for streams
    with multi-byte text when `fine`, else 61 (still splitting every SSE line); ~1 KB for the
    0.9 MB orders stream, whose cost is the client's per-chunk work, not the transport."""
    entry = STREAMS[stream_id]
    if entry["bytes"] > 200_000:
        return 1021
    return 7 if fine and entry["has_multibyte_utf8"] else 61


def request_kwargs(stream_id: str) -> dict[str, Any]:
    """The recorded request, as keyword arguments for the SDK (without ``stream``)."""
    return {k: v for k, v in STREAMS[stream_id]["request"].items() if k != "stream"}


@dataclass
class Run:
    """Everything a stream produced, snapshotted as it arrived."""

    dumps: list[Any] = field(default_factory=list)  # each update's partial, dumped
    parts: list[sd.parts.Part] = field(default_factory=list)
    tool_dumps: list[tuple[str, Any]] = field(default_factory=list)  # (call id, partial dump)
    final: Any = None
    error: sd.StreamdanticError | None = None
    usage: sd.parts.Usage | None = None
    finish_reason: str | None = None

    def of_type(self, kind: type[Any]) -> list[Any]:
        return [p for p in self.parts if type(p) is kind]


def dump(value: Any) -> Any:
    return value.model_dump() if isinstance(value, BaseModel) else copy.deepcopy(value)


def _record(run: Run, out: Any, snapshots: bool) -> None:
    if type(out) is sd.Update:
        if snapshots:
            run.dumps.append(dump(out.partial))
        if out.done:
            run.final = out.final
        return
    run.parts.append(out)
    if snapshots and type(out) is sd.parts.ToolCallDelta:
        run.tool_dumps.append((out.call_id, dump(out.partial)))


def collect(stream: sd.Stream[Any], *, snapshots: bool = True) -> Run:
    """Consume `stream`, recording its parts, final object or error, and (with `snapshots`) a
    dump of every partial as it was when it arrived (partials are live objects)."""
    run = Run()
    try:
        with stream:
            for out in stream.events():
                _record(run, out, snapshots)
    except sd.StreamdanticError as exc:
        run.error = exc
    run.usage, run.finish_reason = stream.usage, stream.finish_reason
    return run


async def acollect(stream: sd.AsyncStream[Any], *, snapshots: bool = True) -> Run:
    """The async twin of `collect`."""
    run = Run()
    try:
        async with stream:
            async for out in stream.events():
                _record(run, out, snapshots)
    except sd.StreamdanticError as exc:
        run.error = exc
    run.usage, run.finish_reason = stream.usage, stream.finish_reason
    return run


def outcome(run: Run) -> tuple[Any, ...]:
    """What two runs of one stream must agree on, whatever the transport."""
    error = run.error
    return (
        dump(run.final),
        type(error),
        str(error) if error else None,
        dump(getattr(error, "partial", None)),
        [
            (type(p).__name__, p.to_dict())
            for p in run.parts
            if type(p) is not sd.parts.ToolCallDelta
        ],
        run.finish_reason,
    )


# ------------------------------------------------------------------ partial contract


def prune(value: Any) -> Any:
    """Drop None-valued keys: in a partial, None means "not yet"."""
    if isinstance(value, dict):
        return {k: prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def grows(dumps: Iterable[Any]) -> bool:
    """Each dump extends the one before (contract.extends, None meaning not yet)."""
    previous: Any = None
    for current in map(prune, dumps):
        if previous is not None and not extends(current, previous):
            return False
        previous = current
    return True


def numbers(value: Any) -> dict[tuple[Any, ...], Any]:
    """Every number in a JSON-like value, by path (bools are not numbers)."""
    found: dict[tuple[Any, ...], Any] = {}
    stack: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(((*path, k), v) for k, v in item.items())
        elif kind is list:
            stack.extend(((*path, i), v) for i, v in enumerate(item))
        elif kind is int or kind is float:
            found[path] = item
    return found


def contradicted_numbers(dumps: Iterable[Any], final: Any) -> list[tuple[Any, ...]]:
    """Paths where a partial showed a number the final does not have."""
    final_numbers = numbers(dump(final))
    missing = object()
    return [
        path
        for partial in dumps
        for path, number in numbers(partial).items()
        if final_numbers.get(path, missing) != number
    ]


async def aiter_list(items: Iterable[Any]) -> AsyncIterable[Any]:
    for item in items:
        yield item
