"""Feeding helpers shared by the tests: the same input whole, byte by byte, in random splits."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

from streamdantic import JSONParser
from streamdantic.events import Event

Splitter = Callable[[bytes | str], list[Any]]


def split_whole(data: bytes | str) -> list[Any]:
    """The input as one chunk."""
    return [data]


def split_bytewise(data: bytes | str) -> list[Any]:
    """One byte (or character) per chunk."""
    if isinstance(data, bytes):
        return [data[i : i + 1] for i in range(len(data))]
    return list(data)


def split_random(data: bytes | str, seed: int = 0, max_size: int = 9) -> list[Any]:
    """Random chunk sizes from 1 to `max_size`, seeded so failures reproduce."""
    rng = random.Random(seed)
    chunks = []
    i = 0
    while i < len(data):
        k = rng.randint(1, max_size)
        chunks.append(data[i : i + k])
        i += k
    return chunks


SPLITTERS: dict[str, Splitter] = {
    "whole": split_whole,
    "bytewise": split_bytewise,
    "random": split_random,
}


def parse_chunks(chunks: list[Any], **options: Any) -> tuple[Any, list[Event]]:
    """Feed `chunks` to a new parser; return the final value and every event."""
    parser = JSONParser(**options)
    events: list[Event] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    return parser.finish(), events


def iter_partials(chunks: list[Any], **options: Any) -> Iterator[Any]:
    """Yield a deep copy of the partial value after every chunk."""
    import copy

    parser = JSONParser(**options)
    for chunk in chunks:
        parser.feed(chunk)
        yield copy.deepcopy(parser.value)


def printed_with_and_without_pure_python(code: str) -> list[str]:
    """What `code` prints in a fresh interpreter by default, then with
    ``STREAMDANTIC_PURE_PYTHON=1`` (the switch to every compiled piece's Python twin)."""
    env = {k: v for k, v in os.environ.items() if k != "STREAMDANTIC_PURE_PYTHON"}
    return [
        subprocess.run(
            [sys.executable, "-c", code], env=e, capture_output=True, text=True, check=True
        ).stdout.strip()
        for e in (env, {**env, "STREAMDANTIC_PURE_PYTHON": "1"})
    ]
