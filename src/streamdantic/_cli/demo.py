"""`streamdantic demo`: watch a typed partial object fill in, live, from a real client.

By default nothing leaves the machine: a `ReplayServer` on 127.0.0.1 replays a recorded Chat
Completions stream at a model's pace, and the real openai client reads it through
``base_url``, so what runs is exactly what runs against a provider::

    sdk_stream = client.chat.completions.create(..., stream=True)
    for update in streamdantic.stream(sdk_stream, Recipe): ...

With ``--model`` (and ``--base-url``/``--api-key`` or ``OPENAI_BASE_URL``/``OPENAI_API_KEY``)
the same loop runs against any OpenAI-compatible endpoint; ``--schema module:Model`` and
``--prompt`` ask it for the user's own model.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, TextIO

from .._aggregate import stream
from .._stream_core import Update
from .examples import DEFAULT_EXAMPLE, example
from .replay import DEFAULT_TOKENS_PER_SECOND, ReplayServer
from .util import EXIT_OK, CommandError, check_base_url, endpoint_error, load_model
from .view import plain_line, rich_tree, visible

__all__ = ["DemoOptions", "Meter", "Target", "resolve_target", "run_demo"]

DEMO_API_KEY = "sk-streamdantic-local-replay"  # the replay server accepts any key


@dataclass
class DemoOptions:
    """The demo's settings, as the command line gives them."""

    example: str = DEFAULT_EXAMPLE
    speed: float = DEFAULT_TOKENS_PER_SECOND
    plain: bool = False
    base_url: str | None = None
    api_key: str | None = None
    model: str | None = None
    schema: str | None = None
    prompt: str | None = None
    timeout: float = 60.0
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass
class Target:
    """Where the demo's request goes and what it asks for."""

    offline: bool
    base_url: str | None  # None: start the replay server (offline) / the SDK default (online)
    api_key: str
    model_name: str
    model: Any
    messages: list[dict[str, Any]]
    response_format: dict[str, Any]
    title: str

    def describe(self, base_url: str, speed: float) -> str:
        if self.offline:
            pace = "as fast as it can" if speed in (0, float("inf")) else f"at {speed:g} tokens/s"
            return (
                f"replaying a recorded {self.model_name} stream {pace} from {base_url} "
                "(local, no API key, no network)"
            )
        return f"{self.model_name} at {base_url}"


def resolve_target(opts: DemoOptions) -> Target:
    """Decide between the offline replay and a real endpoint, and build the request.

    Raises:
        CommandError: contradictory or missing options (exit code 2).
    """
    env = opts.env
    try:
        ex = example(opts.example)
    except KeyError as exc:
        raise CommandError(str(exc.args[0])) from None
    if opts.model is None:
        # Offline. Environment variables never switch the demo to the network by themselves:
        # the README's first command must work without a key even when one is set.
        for flag, value in (
            ("--base-url", opts.base_url),
            ("--api-key", opts.api_key),
            ("--schema", opts.schema),
            ("--prompt", opts.prompt),
        ):
            if value is not None:
                raise CommandError(
                    f"{flag} needs a real endpoint: add --model NAME "
                    "(the offline demo replays a recorded stream)",
                    hint="streamdantic demo --model gpt-4.1-mini --schema myapp.models:Recipe "
                    "--prompt '...'",
                )
        return Target(
            offline=True,
            base_url=None,
            api_key=DEMO_API_KEY,
            model_name="gpt-4.1",
            model=ex.model,
            messages=ex.messages,
            response_format=ex.response_format,
            title=ex.title,
        )
    # What the command line says is checked before what the environment holds: a wrong
    # --schema or --base-url is the error to report, not a missing key.
    model = load_model(opts.schema) if opts.schema is not None else None
    base_url = check_base_url(opts.base_url or env.get("OPENAI_BASE_URL") or None)
    api_key = opts.api_key or env.get("OPENAI_API_KEY")
    if not api_key:
        if base_url is None:
            raise CommandError(
                "no API key for the OpenAI API",
                hint="pass --api-key or set OPENAI_API_KEY; or --base-url for another endpoint",
            )
        api_key = "none"  # local servers (Ollama, vLLM, llama.cpp) ignore it
    if model is not None:
        name = getattr(model, "__name__", "Output")
        prompt = opts.prompt or f"Invent a realistic example of a {name}."
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": "Reply with JSON that matches the schema."},
            {"role": "user", "content": prompt},
        ]
        return Target(
            offline=False,
            base_url=base_url,
            api_key=api_key,
            model_name=opts.model,
            model=model,
            messages=messages,
            response_format=response_format_for(model),
            title=name,
        )
    messages = [dict(m) for m in ex.messages]
    if opts.prompt is not None:
        messages[-1] = {"role": "user", "content": opts.prompt}
    return Target(
        offline=False,
        base_url=base_url,
        api_key=api_key,
        model_name=opts.model,
        model=ex.model,
        messages=messages,
        response_format=ex.response_format,
        title=ex.title,
    )


def response_format_for(model: Any) -> dict[str, Any]:
    """A Chat Completions ``response_format`` asking for `model` (strict when it can be)."""
    try:
        from ..adapters.openai import response_format

        return response_format(model)
    except Exception:
        # Not expressible as a strict schema (or the helper moved): ask without strict mode.
        from pydantic import TypeAdapter

        schema = TypeAdapter(model).json_schema()
        name = getattr(model, "__name__", "output")
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}


class Meter:
    """Wrap a provider stream to count its chunks and content pieces (about one token each)
    and time them; closing it closes the provider stream."""

    def __init__(self, source: Any, clock: Callable[[], float] = time.perf_counter) -> None:
        self.source = source
        self.clock = clock
        self.started = clock()
        self.chunks = 0
        self.tokens = 0
        self.first_token: float | None = None
        self.first_field: float | None = None

    def __iter__(self) -> Iterator[Any]:
        for item in self.source:
            self.count(item)
            yield item

    def count(self, item: Any) -> None:
        self.chunks += 1
        if _has_content(item):
            self.tokens += 1
            if self.first_token is None:
                self.first_token = self.clock()

    def close(self) -> None:
        close = getattr(self.source, "close", None)
        if callable(close):
            close()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def rate(self) -> float:
        """Content pieces per second since the first one."""
        if self.first_token is None or self.tokens < 2:
            return 0.0
        span = self.clock() - self.first_token
        return (self.tokens - 1) / span if span > 0 else 0.0

    def saw_update(self, update: Update[Any]) -> None:
        if self.first_field is None and getattr(update.partial, "complete_fields", None):
            self.first_field = self.clock()

    def summary(self, name: str) -> str:
        total = self.elapsed()
        first = (
            f"first field after {self.first_field - self.started:.2f} s, "
            if self.first_field is not None
            else ""
        )
        rate = f" ({self.rate():.0f} tokens/s)" if self.rate() else ""
        return f"{name} complete: {self.chunks} chunks, {first}total {total:.2f} s{rate}"


def _has_content(item: Any) -> bool:
    try:
        choice = item.choices[0]
    except (AttributeError, IndexError, TypeError):
        return False
    delta = getattr(choice, "delta", None)
    return bool(getattr(delta, "content", None) or getattr(delta, "refusal", None))


def open_stream(target: Target, base_url: str | None, timeout: float) -> Any:
    """Send the request with the real openai client; returns the SDK's stream."""
    import openai

    client = openai.OpenAI(
        base_url=base_url, api_key=target.api_key, max_retries=0, timeout=timeout
    )
    # The request is built from plain dicts (a recorded request, or a user's model), which
    # the SDK's TypedDict overloads cannot check: call through Any.
    create: Any = client.chat.completions.create
    return create(
        model=target.model_name,
        messages=target.messages,
        response_format=target.response_format,
        stream=True,
    )


def run_demo(opts: DemoOptions, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the demo; returns the exit code.

    Raises:
        CommandError: a failure to report (bad options, unreachable endpoint, ...).
        StreamdanticError: the stream failed (truncated, invalid, refused, ...).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    target = resolve_target(opts)
    view = _make_view(opts, out, err)
    with ExitStack() as stack:
        if target.offline:
            server = stack.enter_context(ReplayServer(tokens_per_second=opts.speed))
            base_url = server.base_url
        else:
            base_url = target.base_url or "https://api.openai.com/v1"
        view.start(target, target.describe(base_url, opts.speed))
        meter: Meter | None = None
        s: Any = None
        try:
            meter = Meter(open_stream(target, base_url, opts.timeout))
            s = stream(meter, target.model)
            with s:
                for update in s:
                    meter.saw_update(update)
                    view.update(update, meter)
        except BaseException as exc:
            # Stop the live view first (Ctrl-C included), so the terminal is left clean.
            view.abort(s.partial if s is not None else None, meter)
            mapped = endpoint_error(exc, base_url) if isinstance(exc, Exception) else None
            if mapped is None:
                raise
            raise mapped from exc
        name = getattr(target.model, "__name__", "Output")
        view.finish(s.final, meter, meter.summary(name))
    return EXIT_OK


# ------------------------------------------------------------------------------- views


class _PlainView:
    """One line per update; then the final object as JSON and a summary."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def start(self, target: Target, where: str) -> None:
        name = getattr(target.model, "__name__", "Output")
        print(f"streaming {name} ({target.title}): {where}", file=self.out, flush=True)

    def update(self, update: Update[Any], meter: Meter) -> None:
        if update.done:
            return
        line = plain_line(meter.elapsed(), update.index, update.partial, update.completed)
        print(line, file=self.out, flush=True)

    def abort(self, partial: Any, meter: Meter | None) -> None:
        pass

    def finish(self, final: Any, meter: Meter, summary: str) -> None:
        text = json.dumps(visible(final), ensure_ascii=False, indent=2)
        print(text, file=self.out)
        print(summary, file=self.out, flush=True)


class _RichView:
    """The object as a live tree, a mark per field; then the final object and a summary."""

    def __init__(self, out: TextIO) -> None:
        from rich.console import Console

        self.console = Console(file=out, highlight=False)
        self.live: Any = None
        self.title = ""
        self.where = ""

    def start(self, target: Target, where: str) -> None:
        from rich.live import Live

        self.title = f"{getattr(target.model, '__name__', 'Output')} · {target.title}"
        self.where = where
        self.console.print(f"[bold]streamdantic demo[/] [dim]{where}[/]")
        self.live = Live(
            self._render(None, None, "waiting for the first chunk…"),
            console=self.console,
            refresh_per_second=20,
            transient=False,
        )
        self.live.start()

    def _render(self, partial: Any, meter: Meter | None, status: str, done: bool = False) -> Any:
        from rich.console import Group
        from rich.text import Text

        parts: list[Any] = []
        if partial is not None:
            parts.append(rich_tree(partial, title=self.title, done=done, compact=not done))
        else:
            parts.append(Text(self.title, style="bold"))
        parts.append(Text(status, style="green" if done else "yellow"))
        return Group(*parts)

    def update(self, update: Update[Any], meter: Meter) -> None:
        if update.done:
            return
        status = (
            f"◐ streaming · {meter.chunks} chunks · {meter.rate():.0f} tokens/s · "
            f"{meter.elapsed():.2f} s"
        )
        self.live.update(self._render(update.partial, meter, status))

    def abort(self, partial: Any, meter: Meter | None) -> None:
        if self.live is not None:
            self.live.update(self._render(partial, meter, "✗ stopped", done=False))
            self.live.stop()
            self.live = None

    def finish(self, final: Any, meter: Meter, summary: str) -> None:
        from rich.pretty import Pretty
        from rich.text import Text

        self.live.update(self._render(final_partial(final), meter, f"✓ {summary}", done=True))
        self.live.stop()
        self.live = None
        self.console.print(Text("final object (validated):", style="bold"))
        self.console.print(Pretty(final, expand_all=False))


def final_partial(final: Any) -> Any:
    """The final object in the shape the tree draws (a partial instance, all complete)."""
    from pydantic import BaseModel

    if isinstance(final, BaseModel):
        from .._partial import build_partial, compile_node

        return build_partial(
            compile_node(type(final)), final.model_dump(mode="json", by_alias=True), complete=True
        )
    return final


def _make_view(opts: DemoOptions, out: TextIO, err: TextIO) -> Any:
    if opts.plain or not out.isatty():
        return _PlainView(out)
    try:
        import rich  # noqa: F401
    except ImportError:
        print(
            "streamdantic: rich is not installed, so the demo prints plain lines "
            "(pip install 'streamdantic[cli]' for the live view)",
            file=err,
        )
        return _PlainView(out)
    return _RichView(out)
