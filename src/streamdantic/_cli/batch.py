"""`streamdantic collect`: provider batch result files to JSON Lines of validated objects.

The command's whole logic and its argparse parser live here, so the `_cli` module only
registers it (`add_parser`) and dispatches to it (`run_args`); `run(argv)` runs it alone.

Each validated object is written to ``--out`` as ``{"custom_id": ..., "value": {...}}``
(``model_dump(mode="json")``), and each failure to ``--failures`` (default: next to ``--out``,
``NAME.failures.jsonl``) with its ``custom_id``, kind, message, file, line and the model's
output text, so exactly the failed requests can be re-submitted.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import sys
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import IO, Any

from pydantic import TypeAdapter

from .._batch import BatchFailure, BatchResult, collect_batch
from .util import EXIT_FAILED, EXIT_OK, CommandError, load_model

__all__ = ["add_parser", "build_parser", "run", "run_args"]

DESCRIPTION = (
    "Read provider batch result files (OpenAI, Anthropic, Gemini; gzip too), validate each\n"
    "request's output against your model, write the objects as JSON Lines and the failures,\n"
    "with their custom_id, to a separate file."
)
HELP = "validate provider batch result files into JSON Lines (objects and failures)"


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="batch result files, directories (their files) or glob patterns",
    )
    parser.add_argument(
        "--schema", required=True, metavar="MODULE:MODEL", help="the model of each output"
    )
    parser.add_argument("--out", required=True, type=Path, help="JSON Lines of the objects")
    parser.add_argument(
        "--failures",
        type=Path,
        default=None,
        help="JSON Lines of the failures (default: OUT's name + .failures.jsonl)",
    )
    parser.add_argument(
        "--format",
        choices=("auto", "openai", "anthropic", "gemini"),
        default="auto",
        help="the files' format (default: detected per file)",
    )
    parser.add_argument("--tool", default=None, help="validate the arguments of this tool call")
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="show a progress bar (the default on a terminal)",
    )
    progress.add_argument("--no-progress", dest="progress", action="store_false")


def add_parser(commands: Any) -> None:
    """Register `collect` on the `streamdantic` command's subparsers."""
    parser = commands.add_parser(
        "collect",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)


def build_parser() -> argparse.ArgumentParser:
    """The parser of `collect` on its own (``streamdantic collect`` without the prefix)."""
    parser = argparse.ArgumentParser(
        prog="streamdantic collect",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)
    return parser


def run(argv: Sequence[str]) -> int:
    """Run `collect` with the arguments after ``collect``; returns the exit status."""
    return run_args(build_parser().parse_args(argv))


def _expand(patterns: Sequence[str]) -> list[Path]:
    """The files named by the arguments: files, directories' files, glob patterns."""
    files: list[Path] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise CommandError(f"no file matches {pattern!r}")
            candidates = [Path(m) for m in matches]
        else:
            candidates = [Path(pattern)]
        for path in candidates:
            if path.is_dir():
                files.extend(
                    sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
                )
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"no file or directory {os.fspath(path)!r}")
    return files


class _Files:
    """Opens the files one at a time, and knows how far into them the reading is."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self.total = sum(p.stat().st_size for p in paths)
        self.done = 0
        self.current: IO[bytes] | None = None

    def __iter__(self) -> Generator[Path | IO[bytes], None, None]:
        for path in self.paths:
            with open(path, "rb") as file:
                self.current = file
                yield file
                self.done += path.stat().st_size
                self.current = None

    def position(self) -> int:
        current = self.current
        try:
            return self.done + (current.tell() if current is not None else 0)
        except (OSError, ValueError):
            return self.done


def _progress(enabled: bool | None) -> Any:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    try:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
    except ImportError:  # the cli extra is not installed: no bar, the rest works
        return None
    from rich.console import Console

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
    )


def run_args(args: argparse.Namespace) -> int:
    """Run `collect` with parsed arguments; returns the exit status.

    Raises:
        CommandError: an unknown schema, a path that names nothing, an unwritable output.
    """
    model = load_model(args.schema)
    adapter: TypeAdapter[Any] = TypeAdapter(model)
    paths = _expand(args.paths)
    failures_path: Path = args.failures or args.out.with_name(
        args.out.name.removesuffix(".jsonl") + ".failures.jsonl"
    )
    files = _Files(paths)
    progress = _progress(args.progress)
    batch = collect_batch(files, model, format=args.format, tool=args.tool)
    with contextlib.ExitStack() as stack:
        try:
            out = stack.enter_context(open(args.out, "w", encoding="utf-8"))
            failed = stack.enter_context(open(failures_path, "w", encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"cannot write the output: {exc}") from exc
        stack.enter_context(batch)
        task = None
        if progress is not None:
            progress.start()
            task = progress.add_task("collect", total=files.total)
        try:
            for n, outcome in enumerate(batch, 1):
                if isinstance(outcome, BatchResult):
                    value = adapter.dump_python(outcome.value, mode="json")
                    row: dict[str, Any] = {"custom_id": outcome.custom_id, "value": value}
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                else:
                    assert isinstance(outcome, BatchFailure)
                    row = {
                        "custom_id": outcome.custom_id,
                        "kind": outcome.kind,
                        "message": outcome.message,
                        "file": outcome.file,
                        "line": outcome.line,
                        "text": outcome.text,
                    }
                    failed.write(json.dumps(row, ensure_ascii=False) + "\n")
                if task is not None and n % 256 == 0:
                    progress.update(task, completed=files.position())
            if task is not None:
                progress.update(task, completed=files.total)
        finally:
            if progress is not None:
                progress.stop()
    summary = batch.summary
    print(f"streamdantic collect: {summary}", file=sys.stderr)
    print(
        f"  {summary.ok} object(s) -> {os.fspath(args.out)};"
        f" {summary.failed} failure(s) -> {os.fspath(failures_path)}",
        file=sys.stderr,
    )
    return EXIT_FAILED if summary.failed else EXIT_OK
