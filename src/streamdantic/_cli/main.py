"""The `streamdantic` command line: `demo`, `replay`, `check`, `serve` and `collect`.

Exit codes: 0 success; 1 the stream failed (or `check` found a violation); 2 usage error
(bad arguments, unknown schema, unreadable file, missing optional dependency); 3 the
endpoint was unreachable, timed out or refused the request; 130 interrupted. Every failure a
newcomer can hit is one line on stderr (with a hint), never a traceback; ``--traceback``
shows one for unexpected errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from .._exceptions import StreamdanticError
from .replay import DEFAULT_TOKENS_PER_SECOND
from .util import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CommandError

__all__ = ["build_parser", "main"]

EPILOG = """\
exit codes: 0 success; 1 the stream failed or check found a violation; 2 usage error;
3 endpoint unreachable or refused the request; 130 interrupted.
docs: docs/cli.md in the source tree (built with mkdocs)"""


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be 0 (no pause) or more tokens per second")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (0 to 65535; 0: any free port)")
    return value


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other error of the command
    (argparse prints the whole usage block first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"streamdantic: error: {message}\n  hint: {self.prog} --help\n")


def _add_endpoint_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "real endpoint",
        "ask any OpenAI-compatible endpoint instead of replaying a recording (needs --model)",
    )
    group.add_argument("--model", help="model name; switches from the replay to a real endpoint")
    group.add_argument("--base-url", help="API base URL (default: $OPENAI_BASE_URL, else OpenAI)")
    group.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY)")
    group.add_argument("--schema", metavar="MODULE:MODEL", help="your pydantic model to ask for")
    group.add_argument("--prompt", help="the user message (default: the example's prompt)")
    group.add_argument(
        "--timeout", type=_positive, default=60.0, help="seconds to wait for the endpoint"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `streamdantic` command."""
    from .check import DEFAULT_RANDOM_SPLITS, SMALL_RANDOM_SPLITS
    from .examples import DEFAULT_EXAMPLE, examples

    names = list(examples())
    parser = _Parser(
        prog="streamdantic",
        description="Stream LLM structured output as typed, progressively validated "
        "Pydantic objects.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--traceback", action="store_true", help="show a traceback for unexpected errors"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="watch a typed object stream in (no API key, no network)",
        description="Replay a recorded model stream through a local OpenAI-compatible server\n"
        "and the real openai client, and show the typed partial object as it fills in.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--example", choices=names, default=DEFAULT_EXAMPLE, help="which bundled recording"
    )
    demo.add_argument(
        "--speed",
        type=_rate,
        default=DEFAULT_TOKENS_PER_SECOND,
        metavar="TOKENS_PER_S",
        help=f"replay pace (default {DEFAULT_TOKENS_PER_SECOND:g}; 0 = no pauses)",
    )
    demo.add_argument(
        "--plain", action="store_true", help="one line per update (the default without a TTY)"
    )
    _add_endpoint_options(demo)

    replay = commands.add_parser(
        "replay",
        help="replay a recorded stream through the pipeline and print the updates",
        description="Replay a recorded stream: an SSE body of the OpenAI Chat Completions or "
        "Responses API, the Anthropic Messages API or the streamdantic SSE profile (detected "
        "from the content), or raw JSON text; print one line per update and the final object.",
    )
    replay.add_argument("file", help="the recording ('-' reads stdin)")
    replay.add_argument("--schema", metavar="MODULE:MODEL", help="validate as this model")
    replay.add_argument("--format", choices=_formats(), help="skip detection")
    replay.add_argument(
        "--lenient", action="store_true", help="skip prose or a code fence around the JSON"
    )
    replay.add_argument(
        "--tool",
        action="append",
        default=[],
        metavar="NAME[=MODULE:MODEL]",
        help="a tool the recording calls (repeatable): its arguments stream as a typed "
        "partial of MODEL (plain JSON without one), and the text beside the calls is prose",
    )
    replay.add_argument(
        "--chunk-size",
        type=_count,
        default=0,
        metavar="N",
        help="raw JSON text: feed N bytes at a time (default: as tokens, ~4 characters)",
    )

    check = commands.add_parser(
        "check",
        help="verify the partial-object contract under every split of a recording",
        description="Re-split a recorded stream's output at every byte boundary (outputs up "
        "to --max-bytes) and at random places, and verify the partial-object contract: partials only "
        "grow (nothing shrinks, vanishes or changes type), numbers and literals appear only "
        "complete, and the final object is identical for every split. Exits 1 with the first "
        "violation.",
    )
    check.add_argument("file", help="the recording ('-' reads stdin)")
    check.add_argument("--schema", metavar="MODULE:MODEL", help="check the typed partials")
    check.add_argument("--format", choices=_formats(), help="skip detection")
    check.add_argument(
        "--random",
        type=_count,
        default=None,
        metavar="N",
        help=f"check N random splittings (default: {SMALL_RANDOM_SPLITS} for outputs up to "
        f"--max-bytes, which are also split at every byte boundary; {DEFAULT_RANDOM_SPLITS} "
        "for larger ones)",
    )
    check.add_argument(
        "--max-bytes",
        type=_count,
        default=2048,
        metavar="N",
        help="outputs up to N bytes are split at every boundary (default 2048)",
    )
    check.add_argument("--seed", type=int, default=0, help="seed of the random splits")
    check.add_argument(
        "--lenient", action="store_true", help="skip prose or a code fence around the JSON"
    )

    serve = commands.add_parser(
        "serve",
        help="a local web page that renders the stream live (needs the starlette extra)",
        description="Serve a page where you pick a bundled example (or type a prompt, with a "
        "real endpoint) and watch the partial object render from the SSE endpoint.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0: any)")
    serve.add_argument(
        "--speed",
        type=_rate,
        default=DEFAULT_TOKENS_PER_SECOND,
        metavar="TOKENS_PER_S",
        help=f"replay pace (default {DEFAULT_TOKENS_PER_SECOND:g})",
    )
    serve.add_argument("--open", action="store_true", help="open the page in a browser")
    _add_endpoint_options(serve)
    from .batch import add_parser as add_collect  # `collect` (#16): its own module

    add_collect(commands)
    return parser


def _formats() -> list[str]:
    from .recording import FORMATS

    return list(FORMATS)


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from .demo import DemoOptions, run_demo

        return run_demo(
            DemoOptions(
                example=args.example,
                speed=args.speed,
                plain=args.plain,
                base_url=args.base_url,
                api_key=args.api_key,
                model=args.model,
                schema=args.schema,
                prompt=args.prompt,
                timeout=args.timeout,
            )
        )
    if args.command == "replay":
        from .recording import run_replay

        return run_replay(
            args.file,
            schema=args.schema,
            format=args.format,
            chunk_size=args.chunk_size,
            lenient=args.lenient,
            tools=args.tool,
        )
    if args.command == "check":
        from .check import run_check

        return run_check(
            args.file,
            schema=args.schema,
            format=args.format,
            random_splits=args.random,
            max_bytes=args.max_bytes,
            seed=args.seed,
            lenient=args.lenient,
        )
    if args.command == "serve":
        from .serve import run_serve

        return run_serve(args)
    if args.command == "collect":
        from .batch import run_args as run_collect

        return run_collect(args)
    raise AssertionError(args.command)  # pragma: no cover


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `streamdantic` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if callable(reconfigure):
            reconfigure(errors="backslashreplace")  # a non-UTF-8 terminal gets escapes
    try:
        return _run(args)
    except CommandError as exc:
        print(f"streamdantic: error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return exc.code
    except StreamdanticError as exc:
        print(f"streamdantic: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("streamdantic: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`streamdantic demo --plain | head`): stop quietly, and point
        # stdout at devnull so the interpreter's final flush does not complain again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    except Exception as exc:
        if args.traceback:
            raise
        print(f"streamdantic: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("  hint: run again with --traceback and report it", file=sys.stderr)
        return EXIT_FAILED
