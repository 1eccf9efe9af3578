"""Batch collection on hostile input: only declared errors, in bounded memory.

`test_adversarial_documents_raise_only_declared_errors_in_bounded_memory` runs a Hypothesis
search in a subprocess whose address space is limited (``RLIMIT_AS``), so that a regression
that eats memory fails with MemoryError there instead of taking the machine down, and its
peak must stay under half that limit. It feeds
`collect` deep nesting, huge strings, numbers and runs of whitespace, truncated documents,
invalid UTF-8 and random bytes, in any chunk size, in both modes, and requires every error
to be a `StreamdanticError`. It runs once on the compiled pre-scan and once on the
pure-Python one.

`test_the_compiled_prescan_matches_the_python_reference` holds the two implementations of
`streamdantic._limits.prescan` to the same results and states after every call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from streamdantic import _limits
from streamdantic._limits import new_state

from .strategies import chunkings

# The child: a Hypothesis search under a 400 MB address-space limit (the interpreter with
# pydantic, ijson and hypothesis imported takes about 60 MB of it).
CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from typing import Any

    LIMIT = 400 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))

    from hypothesis import HealthCheck, given, settings, strategies as st
    from pydantic import BaseModel

    from streamdantic import StreamdanticError, collect
    from streamdantic._limits import _C_PRESCAN, prescan

    class Item(BaseModel):
        a: int = 0

    MB = 2**20
    # Pieces of hostile documents, each repeated up to `count` times.
    pieces = st.sampled_from(
        [b"[", b"{", b'{"a":', b"]", b"}", b",", b":", b'"', b"\\\\", b"\\\\u", b"d83d",
         b"x", b"1", b"-", b"e", b"0.", b" ", b"\\n", b"\\r", b"\\t", b"true", b"nul",
         b"\\xff", b"\\xc3", b"\\xa9", b"\\xed\\xa0\\x80", b"\\x00", b'"\\\\ud800"',
         b'{"a": 1}', b'[1, 2.5, "s"]']
    ) | st.binary(min_size=1, max_size=40)
    # A document is drawn as a recipe, (piece, times) pairs, and built in the test: Hypothesis
    # keeps every bytes value it draws (its span records, in results it caches), so drawing
    # the documents themselves, up to 32 MB each, would grow the child by their total size
    # over the run (MemoryError while generating, at about 375 examples under this limit).
    runs = st.tuples(pieces, st.integers(1, 4 * MB)).map(
        lambda t: (t[0], max(1, t[1] // len(t[0])))
    )
    recipes = st.lists(runs | pieces.map(lambda piece: (piece, 1)), min_size=1, max_size=8)

    def build(recipe, wrap, cut):
        doc = b"".join(piece * times for piece, times in recipe)
        if wrap:
            doc = b"[" + doc + b"]"
        return doc if cut is None else doc[:cut]  # truncated

    @st.composite
    def cases(draw):
        recipe = tuple(draw(recipes))
        wrap = draw(st.booleans())
        size = sum(len(piece) * times for piece, times in recipe) + 2 * wrap
        cut = draw(st.integers(0, size)) if draw(st.booleans()) else None
        chunk_size = draw(st.sampled_from([1, 7, 1024, 65536, 8 * MB]))
        if (size if cut is None else cut) > 64 * 1024 and chunk_size < 1024:
            chunk_size = 1024  # keep the run short; small chunks are searched on small docs
        options = {
            "jsonl": draw(st.booleans()),
            "on_invalid": draw(st.sampled_from(["raise", "skip"])),
            "chunk_size": chunk_size,
        }
        if not options["jsonl"]:
            options["item"] = draw(st.sampled_from(["$[*]", "$", "$.a[*]", "$[*][*]"]))
        if draw(st.booleans()):
            options["max_depth"] = draw(st.integers(1, 600))
            options["max_string_length"] = draw(st.none() | st.integers(1, 2 * MB))
            options["max_number_length"] = draw(st.integers(1, 5000))
            options["max_size"] = draw(st.none() | st.integers(1, 16 * MB))
        model = draw(st.sampled_from([Any, Item, int]))
        return (recipe, wrap, cut), options, model

    @settings(max_examples=int(sys.argv[1]), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(cases())
    def run(case):
        global EXAMPLES
        EXAMPLES += 1
        recipe, options, model = case
        doc = build(*recipe)
        try:
            for _ in collect(doc, model, **options):
                pass
        except StreamdanticError:
            pass
        del doc

    assert (prescan is _C_PRESCAN) == (sys.argv[2] == "compiled"), "wrong pre-scan"
    EXAMPLES = 0
    run()
    # The child's own peak (VmHWM belongs to this process's memory map, new at exec);
    # ru_maxrss would carry over the parent's peak (Linux keeps it across execve), which is
    # pytest's after the tests before this one.
    with open("/proc/self/status") as status:
        hwm = next(line for line in status if line.startswith("VmHWM:"))
    peak = int(hwm.split()[1]) * 1024
    print(json.dumps({"peak_rss": peak, "limit": LIMIT, "examples": EXAMPLES}))
    """
)


@pytest.mark.parametrize(
    ("scanner", "examples"),
    [
        pytest.param("compiled", 300, id="compiled"),
        pytest.param("python", 60, id="python"),
    ],
)
def test_adversarial_documents_raise_only_declared_errors_in_bounded_memory(
    scanner: str, examples: int
) -> None:
    """Under a 400 MB address-space limit, hostile documents raise only StreamdanticErrors."""
    if scanner == "compiled" and _limits._C_PRESCAN is None:
        pytest.fail("the compiled pre-scan is not built")  # it is on every supported setup
    env = dict(os.environ, STREAMDANTIC_PURE_PYTHON="1" if scanner == "python" else "0")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(examples), scanner],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["examples"] >= examples
    # Headroom: the peak was 88-101 MiB at 600 examples and 128 MiB at 2,000 (the largest
    # document is 32 MB); half the limit leaves room for an unlucky draw and shows a leak
    # growing with the examples before it becomes a MemoryError.
    assert report["peak_rss"] < report["limit"] // 2, report


# Bytes that move the pre-scan between its states.
ALPHABET = [b"[", b"]", b"{", b"}", b'"', b"\\", b"u", b"d", b"8", b"D", b"c", b"0", b" "]
ALPHABET += [b"\n", b"\r", b",", b":", b"1", b"e", b"\xc3\xa9", b"\xf0\x9f\x98\x80", b"\xff"]
ALPHABET += [b"\\ud83d\\ude00", b"\\udc00", b"a", b"\t"]
hostile = st.lists(st.sampled_from(ALPHABET), max_size=80).map(b"".join)


@pytest.mark.skipif(_limits._C_PRESCAN is None, reason="the compiled pre-scan is not built")
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    doc=hostile,
    step=st.sampled_from([0, 1, 2, 3, 5, 1024]),
    limits=st.tuples(st.integers(1, 6), st.integers(0, 8), st.integers(1, 6)),
    jsonl=st.booleans(),
)
def test_the_compiled_prescan_matches_the_python_reference(
    data: st.DataObject, doc: bytes, step: int, limits: tuple[int, int, int], jsonl: bool
) -> None:
    """Both pre-scans give the same cuts, tail, limit and state after every chunk."""
    compiled = _limits._C_PRESCAN
    assert callable(compiled)
    python_state, compiled_state = new_state(), new_state()
    base = 0
    for chunk in data.draw(chunkings(doc)):
        expected = _limits._py_prescan(python_state, chunk, base, step, *limits, jsonl)
        assert compiled(compiled_state, chunk, base, step, *limits, jsonl) == expected
        assert compiled_state == python_state
        if expected[2]:
            break
        base += len(chunk)
