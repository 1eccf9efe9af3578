"""The browser client's merger builds what Python's ChunkMerger builds (run under Node).

Every case is made in Python (chunk streams from the profile encoder, the examples of
docs/deltas.md, chunks the merger must refuse, snapshots), run through
``_web/streamdantic.js`` by ``js/merge_cases.mjs``, and compared with `ChunkMerger`: the value
after each chunk, which values are still open, completion, refusals and their atomicity.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from streamdantic import stream
from streamdantic._cli.examples import examples
from streamdantic._deltas import Chunk, ChunkMerger
from streamdantic._exceptions import DeltaError
from streamdantic._paths import to_pointer
from streamdantic.events import ValueCompleted, ValueStarted
from streamdantic.sse._profile import ProfileEncoder, delta_chunk
from tests.helpers import split_random

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "src" / "streamdantic" / "_web" / "streamdantic.js"
RUNNER = Path(__file__).with_name("js") / "merge_cases.mjs"


@cache
def node() -> list[str]:
    exe = shutil.which("node")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("node is not installed (CI is set)")
        pytest.skip("node is not installed")
    # JSON.rawJSON (exact big integers) is behind a flag in Node 20 and on by default later.
    flag = "--harmony-json-parse-with-source"
    accepted = subprocess.run([exe, flag, "-e", ""], capture_output=True).returncode == 0
    return [exe, flag] if accepted else [exe]


def run_js(cases: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run(
        [*node(), str(RUNNER), str(CLIENT)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


class Mirror:
    """ChunkMerger plus the pointers of its open values (tracked from its events)."""

    def __init__(self) -> None:
        self.merger = ChunkMerger("nested")
        self.open: set[str] = set()

    def apply(self, chunk: Chunk) -> dict[str, Any]:
        for event in self.merger.apply(chunk):
            if isinstance(event, ValueStarted):
                ptr = to_pointer(event.path)
                # A value set again replaces what was open inside the old one.
                self.open = {p for p in self.open if p != ptr and not p.startswith(ptr + "/")}
                self.open.add(ptr)
            elif isinstance(event, ValueCompleted):
                self.open.discard(to_pointer(event.path))
        return self.step()

    def step(self) -> dict[str, Any]:
        value = copy.deepcopy(self.merger.value)  # the merger's value is live
        return {"value": value, "open": sorted(self.open), "complete": self.merger.done}


def profile_chunks(text: str, seed: int) -> list[str]:
    """The delta frames' data the page's server sends for `text` streamed in pieces."""
    encoder = ProfileEncoder()
    out = []
    for output in stream(split_random(text, seed=seed, max_size=7)).events():
        out.extend(f.data for f in encoder.feed(output) if f.event == "message")
    return out


HAND_WRITTEN: dict[str, list[dict[str, Any]]] = {
    "docs example": [
        {"delta": {"json": {"": {}, "/a": "He"}}},
        {"delta": {"text": {"/a": "llo"}, "done": ["/a"]}},
        {"delta": {"json": {"/n": [1]}, "done": ["/n", ""]}},
    ],
    "one chunk sets, appends and completes": [
        {"delta": {"json": {"": {}, "/a": "He"}, "text": {"/a": "llo"}, "done": ["/a"]}},
    ],
    "dash appends": [
        {"delta": {"json": {"": {"l": []}, "/l/-": {"k": ""}}}},
        {"delta": {"json": {"/l/-": 2}, "text": {"/l/0/k": "v"}}},
        {"delta": {"json": {"/l/-": "x"}, "done": ["/l/0/k", "/l/0"]}},
        {"delta": {"done": ["/l/2", "/l", ""]}},
    ],
    "replace keeps the type": [
        {"delta": {"json": {"": {"o": {"p": "open"}}}}},
        {"delta": {"json": {"/o": {"q": 1}}}},
        {"delta": {"done": ["/o", ""]}},
    ],
    "escaped keys": [
        {"delta": {"json": {"": {"a/b": {}, "m~n": ""}}}},
        {"delta": {"json": {"/a~1b/c": True}, "text": {"/m~0n": "ok"}}},
        {"delta": {"done": ["/a~1b", "/m~0n", ""]}},
    ],
    "string root": [
        {"delta": {"json": {"": "par"}}},
        {"delta": {"text": {"": "tial"}, "done": [""]}},
    ],
    "number root": [{"delta": {"json": {"": 42}}}],
    "big integers stay exact": [
        {"delta": {"json": {"": {"id": 12345678901234567890123, "n": [9007199254740993]}}}},
        {"delta": {"json": {"/id": 12345678901234567890124}, "done": ["/n", ""]}},
    ],
}

START = {"delta": {"json": {"": {"s": "x", "n": 1, "l": [1], "c": {}}}, "done": ["/c"]}}
REFUSED: dict[str, dict[str, Any]] = {
    "parent missing": {"delta": {"json": {"/a/b": 1}}},
    "parent not a container": {"delta": {"json": {"/s/x": 1}}},
    "parent complete": {"delta": {"json": {"/c/k": 1}}},
    "index gap": {"delta": {"json": {"/l/5": 1}}},
    "bad index": {"delta": {"json": {"/l/01": 1}}},
    "type change": {"delta": {"json": {"/n": "one"}}},
    "text to a non-string": {"delta": {"text": {"/n": "1"}}},
    "text to nothing": {"delta": {"text": {"/q": "1"}}},
    "done on a scalar": {"delta": {"done": ["/n"]}},
    "done twice": {"delta": {"done": ["/c"]}},
    "done on nothing": {"delta": {"done": ["/q"]}},
    "atomic: a good set before a bad one": {"delta": {"json": {"/z": "new", "/q/r": 1}}},
    "atomic: text and done before a bad done": {
        "delta": {"text": {"/s": "yz"}, "done": ["/s", "/n"]}
    },
}


def test_profile_streams_merge_like_python() -> None:
    """For every bundled example, chunk by chunk, the same value and the same open values."""
    cases: dict[str, Any] = {}
    expected: dict[str, list[dict[str, Any]]] = {}
    for ex in examples().values():
        for seed in (1, 2):
            name = f"{ex.name}/{seed}"
            chunks = profile_chunks(ex.text, seed)
            mirror = Mirror()
            previous = None
            expected[name] = []
            for c in chunks:  # version 3: pointers relative to the previous frame's last
                chunk, previous = delta_chunk(c, previous)
                expected[name].append(mirror.apply(chunk))
            assert mirror.merger.done
            cases[name] = {"chunks": chunks}
    for name, chunks in HAND_WRITTEN.items():
        mirror = Mirror()
        texts = [json.dumps(c) for c in chunks]
        expected[name] = [mirror.apply(Chunk.from_json(t)) for t in texts]
        cases[name] = {"chunks": texts}
    results = run_js(cases)
    for name, steps in expected.items():
        got = results[name]
        assert got["error"] is None, (name, got)
        assert len(got["steps"]) == len(steps), name
        for i, (js, py) in enumerate(zip(got["steps"], steps, strict=True)):
            assert json.loads(js["value"]) == py["value"], (name, i)
            assert js["open"] == py["open"], (name, i)
            assert js["complete"] == py["complete"], (name, i)


def test_refused_chunks_are_refused_and_change_nothing() -> None:
    """Every chunk Python's merger refuses, the client refuses too, leaving its state as it was."""
    cases = {}
    for name, bad in REFUSED.items():
        merger = ChunkMerger("nested")
        merger.apply(Chunk.from_dict(START))
        with pytest.raises(DeltaError):
            merger.apply(Chunk.from_dict(bad))
        cases[name] = {"chunks": [json.dumps(START)], "bad": json.dumps(bad)}
    for name, got in run_js(cases).items():
        assert got["error"] == "DeltaError", (name, got)
        assert got["unchanged"], name


@pytest.mark.parametrize(
    ("chunks", "bad", "message"),
    [
        ([], '"text"', "no pointer before it"),
        (['{"j":{"":{"a":""}}}'], '{"t":{"/a":"x"},"text":{"/a":"y"}}', "named twice"),
    ],
    ids=["text-first", "named-twice"],
)
def test_malformed_short_deltas_are_refused_like_python(
    chunks: list[str], bad: str, message: str
) -> None:
    """Version 3's short forms: a bare string needs a pointer before it, a member may not be
    named both ways; the client refuses them as Python's `delta_chunk` does."""
    previous = None
    for data in chunks:
        previous = delta_chunk(data, previous)[1]
    with pytest.raises(DeltaError, match=message):
        delta_chunk(bad, previous)
    got = run_js({"case": {"chunks": chunks, "bad": bad}})["case"]
    assert got["error"] == "DeltaError" and message in got["message"], got
    assert got["unchanged"]


def test_snapshot_reset_continues_like_python() -> None:
    """A client that resets from a snapshot mid-stream has the snapshot's open values and
    ends with the same object."""
    ex = examples()["recipe"]
    encoder = ProfileEncoder()
    frames = []
    snapshot = None
    for output in stream(split_random(ex.text, seed=5, max_size=5)).events():
        frames.extend(f for f in encoder.feed(output) if f.event == "message")
        if snapshot is None and len(frames) >= 30:
            snapshot = encoder.snapshot()
            cut = len(frames)
    assert snapshot is not None
    rest = [f.data for f in frames[cut:]]
    got = run_js({"reset": {"snapshot": snapshot.data, "chunks": rest}})["reset"]
    assert got["error"] is None, got
    assert got["steps"][0]["open"] == sorted(json.loads(snapshot.data)["open"])
    assert json.loads(got["steps"][-1]["value"]) == json.loads(ex.text)
    assert got["steps"][-1]["complete"]


INFINITIES_JS = """
const { DeltaMerger, parseJSON } = await import(process.argv[1]);
let input = "";
for await (const chunk of process.stdin) input += chunk;
const { chunks, final } = JSON.parse(input);
const merger = new DeltaMerger();
for (const text of chunks) merger.apply(text);
const show = (v) => JSON.stringify(v, (_, x) => (typeof x === "number" && !Number.isFinite(x) ? String(x) : x));
process.stdout.write(JSON.stringify({ merged: show(merger.value), final: show(parseJSON(final).value) }));
"""


@pytest.mark.parametrize("version", [2, 3])
def test_the_client_reads_infinities_written_as_1e400(version: int) -> None:
    """Frames that carry 1e400 (an infinite float) rebuild infinities in the browser client,
    in the merged object and (version 2, which sends it) in the final frame's value."""
    from pydantic import BaseModel

    class Reading(BaseModel):
        x: float
        y: list[float]

    encoder = ProfileEncoder(version=version)  # type: ignore[arg-type]
    frames = []
    for output in stream(['{"x": 1e400, "y": [-1e', "400, 2.5]}"], Reading).events():
        frames.extend(encoder.feed(output))
    frames.extend(encoder.close())
    chunks = [f.data for f in frames if f.event in ("delta", "message")]
    final = next(f.data for f in frames if f.event == "final")
    result = subprocess.run(
        [*node(), "--input-type=module", "-e", INFINITIES_JS, CLIENT.as_uri()],
        input=json.dumps({"chunks": chunks, "final": final}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    expected = {"x": "Infinity", "y": ["-Infinity", 2.5]}
    assert json.loads(got["merged"]) == expected
    if version == 2:
        assert json.loads(got["final"]) == expected
    else:
        assert "final" not in got  # version 3: the digest, not the object
