"""The `streamdantic` command line: a demo on an embedded default, no API key, no network."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterator, Sequence
from importlib import resources

from ._exceptions import StreamdanticError
from ._parser import JSONParser


def bundled_document(name: str = "recipe.json") -> str:
    """The text of a document shipped with the package (the demo's embedded default)."""
    return resources.files("streamdantic").joinpath("_data", name).read_text("utf-8")


def token_chunks(text: str, *, seed: int = 0, mean: float = 4.0) -> Iterator[str]:
    """Split text like a model's token stream: 1 to 12 characters, about `mean` on average."""
    rng = random.Random(seed)
    i = 0
    while i < len(text):
        size = max(1, min(12, round(rng.expovariate(1 / mean))))
        yield text[i : i + size]
        i += size


def _demo(args: argparse.Namespace) -> int:
    text = bundled_document()
    parser = JSONParser()
    width = 160
    start = time.perf_counter()
    chunks = 0
    for chunk in token_chunks(text):
        chunks += 1
        events = parser.feed(chunk)
        if events:
            line = json.dumps(parser.value, ensure_ascii=False)
            print(line if len(line) <= width else "…" + line[-(width - 1) :], flush=True)
        if args.delay:
            time.sleep(args.delay)
    final = parser.finish()
    elapsed = time.perf_counter() - start
    print(json.dumps(final, ensure_ascii=False, indent=2))
    print(f"{chunks} chunks, {len(text.encode())} bytes in {elapsed * 1000:.0f} ms")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `streamdantic` command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="streamdantic", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="stream a bundled document and show it grow")
    demo.add_argument("--delay", type=float, default=0.005, help="seconds between chunks")
    args = parser.parse_args(argv)
    try:
        if args.command in (None, "demo"):
            if args.command is None:
                args.delay = 0.005
            return _demo(args)
    except StreamdanticError as exc:
        print(f"streamdantic: {exc}", file=sys.stderr)
        return 1
    parser.print_help()
    return 2
