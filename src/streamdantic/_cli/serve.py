"""`streamdantic serve`: a local page that renders a typed object live from an SSE endpoint.

The page (``_cli/web/index.html`` + ``app.js``) and the browser client (``_web/streamdantic.js``,
the library's, see docs/browser.md) are package data. The server is a small Starlette app on `ResumableStreams`:

```
 browser                               app (this module)                        model
 POST /api/streams {example, prompt} ─▶ spawn: a background generation
                                          openai.AsyncOpenAI ─────────────────▶ replay server
                                          astream(sdk_stream, Model).events()    or endpoint
                                          frames ──▶ MemoryStore (ids 1, 2, 3, ...)
 GET  /api/streams/{id}  ◀───────────── the stored frames after Last-Event-ID, then live
 POST /api/streams/{id}/cancel ───────▶ cancels the generation: the SDK stream closes
```

A generation runs on its own, not inside a response, so a dropped connection loses nothing:
the browser reconnects with ``Last-Event-ID`` and gets the frames it missed. Only the stop
button (the cancel route) or the end of the stream ends a generation. The frames are the
streamdantic SSE profile (docs/sse.md).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import webbrowser
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

import anyio

from .._aggregate import astream
from .._exceptions import ProviderError
from .examples import Example, examples
from .replay import DEFAULT_TOKENS_PER_SECOND, ReplayServer
from .util import (
    EXIT_OK,
    CommandError,
    check_base_url,
    endpoint_error,
    load_model,
    missing_extra,
)

try:
    from starlette.applications import Starlette
    from starlette.datastructures import Headers
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route
    from starlette.types import ASGIApp, Receive, Scope, Send

    from ..starlette import ResumableStreams
except ImportError:  # pragma: no cover - reported by create_app / run_serve
    Starlette = None  # type: ignore[assignment, misc]

__all__ = ["Generation", "ServeConfig", "create_app", "run_serve"]

# The names this machine's browser uses for a loopback address. Any other Host header is a
# page from elsewhere reaching the port, e.g. through DNS rebinding (a name of the attacker's
# that resolves to 127.0.0.1): refused, so such a page can neither start nor read anything.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
_WILDCARDS = ("0.0.0.0", "::", "")

RETRY_MS = 300  # how soon a browser reconnects after a drop
KEEP_GENERATIONS = 50  # status records kept (the frames live in the store, with its TTL)
DEMO_API_KEY = "sk-streamdantic-local-replay"

_STATIC = {
    "streamdantic.js": "text/javascript; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}


@dataclass
class ServeConfig:
    """What the app serves and where generations come from."""

    speed: float = DEFAULT_TOKENS_PER_SECOND
    model: str | None = None  # a real endpoint's model name; None: replay the recordings
    base_url: str | None = None
    api_key: str | None = None
    schema: Any = None  # the user's model (with a real endpoint)
    timeout: float = 60.0

    @property
    def live(self) -> bool:
        return self.model is not None


@dataclass
class Generation:
    """What the app knows about one generation besides its frames (kept in the store)."""

    id: str
    example: Example
    prompt: str | None
    state: str = "starting"  # starting, running, done, failed, cancelled, closed
    cancelled: bool = False  # set by the generator itself when it is cancelled

    def status(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "example": self.example.name,
            "state": self.state,
            "cancelled": self.cancelled,
        }


class _App:
    def __init__(self, config: ServeConfig, replay: ReplayServer | None) -> None:
        self.config = config
        self.replay = replay
        self.generations: dict[str, Generation] = {}
        # A frame per change: the demo shows the typed partial grow change by change.
        self.streams = ResumableStreams(prefix="/api/streams", retry=RETRY_MS, emit="changes")
        self.client: Any = None
        self.base_url = ""

    # ----------------------------------------------------------------- generations

    def examples(self) -> dict[str, Example]:
        found = dict(examples())
        schema = self.config.schema
        if schema is None:
            return found
        from .demo import response_format_for

        name = getattr(schema, "__name__", "Output")
        mine = Example(
            name="schema",
            title=f"Your model: {name}",
            description=f"{getattr(schema, '__module__', '')}.{name}",
            model=schema,
            file="",
            messages=[
                {"role": "system", "content": "Reply with JSON that matches the schema."},
                {"role": "user", "content": f"Invent a realistic example of a {name}."},
            ],
            response_format=response_format_for(schema),
            text="",
            deltas=0,
        )
        return {"schema": mine, **found}

    async def outputs(self, gen: Generation) -> AsyncIterator[Any]:
        """The generation's stream outputs; records how it ended, cancellation included."""
        example = gen.example
        messages = [dict(m) for m in example.messages]
        if gen.prompt:
            messages[-1] = {"role": "user", "content": gen.prompt}
        gen.state = "running"
        try:
            try:
                sdk_stream = await self.client.chat.completions.create(
                    model=self.config.model or "gpt-4.1",
                    messages=messages,
                    response_format=example.response_format,
                    stream=True,
                )
                async with astream(sdk_stream, example.model) as s:
                    async for output in s.events():
                        yield output
            except anyio.get_cancelled_exc_class():
                raise
            except Exception as exc:
                mapped = endpoint_error(exc, self.base_url)
                if mapped is None:
                    raise
                raise ProviderError(mapped.message) from exc  # the page shows the message
            gen.state = "done"
        except (anyio.get_cancelled_exc_class(), GeneratorExit):
            # The generator saw its own cancellation: thrown in while it waited for the model,
            # or, when the cancel came while it was handing on an output, as being closed
            # before its end (which only a cancel or the app's shutdown does).
            gen.cancelled = True
            gen.state = "cancelled"
            raise
        except BaseException:
            gen.state = "failed"
            raise

    # ----------------------------------------------------------------- endpoints

    async def index(self, request: Request) -> Response:
        return Response(_web("index.html"), media_type="text/html; charset=utf-8")

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _STATIC:
            return JSONResponse({"detail": "not found"}, status_code=404)
        return Response(_web(name), media_type=_STATIC[name], headers={"Cache-Control": "no-cache"})

    async def list_examples(self, request: Request) -> Response:
        config = self.config
        return JSONResponse(
            {
                "examples": [_describe(e) for e in self.examples().values()],
                "live": config.live,
                "model": config.model or "a recorded gpt-4.1 stream",
                "speed": config.speed,
            }
        )

    async def start(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        found = self.examples().get(str(body.get("example") or "recipe"))
        if found is None:
            return JSONResponse({"detail": "unknown example"}, status_code=404)
        prompt = body.get("prompt") if self.config.live else None
        gen = Generation("", found, str(prompt) if prompt else None)
        gen.id = await self.streams.spawn(self.outputs(gen))
        self.generations[gen.id] = gen
        while len(self.generations) > KEEP_GENERATIONS:
            self.generations.pop(next(iter(self.generations)))
        base = f"/api/streams/{gen.id}"
        return JSONResponse(
            {"id": gen.id, "events": base, "stop": f"{base}/cancel"}, status_code=201
        )

    async def status(self, request: Request) -> Response:
        gen = self.generations.get(request.path_params["stream_id"])
        if gen is None:
            return JSONResponse({"detail": "no such stream"}, status_code=404)
        return JSONResponse(gen.status())

    @asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        import openai

        config = self.config
        async with AsyncExitStack() as stack:
            if config.live:
                self.base_url = config.base_url or "https://api.openai.com/v1"
                api_key = config.api_key or "none"
            else:
                replay = self.replay
                if replay is None:
                    replay = self.replay = ReplayServer(tokens_per_second=config.speed)
                    stack.enter_context(replay)
                self.base_url = replay.base_url
                api_key = DEMO_API_KEY
            self.client = openai.AsyncOpenAI(
                base_url=self.base_url, api_key=api_key, max_retries=0, timeout=config.timeout
            )
            stack.push_async_callback(self.client.close)
            async with self.streams:
                yield


def _describe(example: Example) -> dict[str, Any]:
    from pydantic import TypeAdapter

    return {
        "name": example.name,
        "title": example.title,
        "description": example.description,
        "prompt": example.prompt,
        "model": getattr(example.model, "__name__", "Output"),
        "schema": TypeAdapter(example.model).json_schema(),
    }


class _SameOrigin:
    """ASGI middleware: requests that change something (POST, DELETE, ...) must come from the
    page itself. A browser marks every request with where it comes from: ``Origin`` (sent
    with every POST, ``no-cors`` fetches and form posts included) and ``Sec-Fetch-Site``; a
    request another site makes carries that site's origin, or ``cross-site``, and is refused
    (403). Starting a generation also needs a JSON body: a cross-origin page can send JSON
    only after a CORS preflight, which this app never grants (415 otherwise). Clients that
    are not browsers (curl, httpx) send neither header and are let through: they are not a
    page the user happens to visit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            headers = Headers(scope=scope)
            problem = _cross_origin(headers, scope)
            if problem is None and scope["path"].rstrip("/") == "/api/streams":
                media_type = headers.get("content-type", "").split(";")[0].strip().lower()
                if media_type != "application/json":
                    response = JSONResponse(
                        {"detail": "start a generation with a JSON body (application/json)"},
                        status_code=415,
                    )
                    await response(scope, receive, send)
                    return
            if problem is not None:
                await JSONResponse({"detail": problem}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _cross_origin(headers: Headers, scope: Scope) -> str | None:
    """Why the request comes from another site, or None when it does not."""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return f"refused a {site} request: only this page may start or stop generations"
    origin = headers.get("origin")
    if origin is not None:
        own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"
        if origin.lower() != own.lower():
            return f"refused a request from {origin}: only this page may start or stop generations"
    return None


def allowed_hosts(host: str) -> list[str]:
    """The Host headers the app accepts when it listens on `host`: the loopback names, and
    `host` itself; any name when it listens on every interface (with a warning)."""
    if host in _WILDCARDS:
        return ["*"]
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return list(dict.fromkeys([*LOOPBACK_HOSTS, shown.lower()]))


def _web(name: str) -> bytes:
    folder = ("_web",) if name == "streamdantic.js" else ("_cli", "web")
    return resources.files("streamdantic").joinpath(*folder, name).read_bytes()


def create_app(
    config: ServeConfig | None = None,
    *,
    replay: ReplayServer | None = None,
    hosts: list[str] | None = None,
) -> Any:
    """The page's Starlette app.

    Only this machine's page can use it: a request whose ``Host`` is not in `hosts` gets 400
    (DNS rebinding), and one that changes something from another origin gets 403 (see
    `_SameOrigin`).

    Args:
        config: what to serve (default: replay the bundled recordings at 75 tokens/s).
        replay: a running `ReplayServer` to use instead of starting one.
        hosts: the accepted Host names (default: the loopback names; see `allowed_hosts`).

    Raises:
        CommandError: starlette is not installed.
    """
    if Starlette is None:
        missing_extra("starlette", "starlette", "streamdantic serve")
    state = _App(config or ServeConfig(), replay)
    app = Starlette(
        routes=[
            Route("/", state.index),
            Route("/api/examples", state.list_examples),
            Route("/api/streams", state.start, methods=["POST"]),
            Route("/api/streams/{stream_id}/status", state.status),
            *state.streams.routes,
            Route("/{name}", state.static),
        ],
        middleware=[
            Middleware(
                TrustedHostMiddleware,
                allowed_hosts=list(LOOPBACK_HOSTS) if hosts is None else hosts,
                www_redirect=False,
            ),
            Middleware(_SameOrigin),
        ],
        lifespan=state.lifespan,
    )
    app.state.serve = state
    return app


def run_serve(args: Any, *, ready: Callable[[str], None] | None = None) -> int:
    """`streamdantic serve`: run the app with uvicorn until interrupted.

    Raises:
        CommandError: a missing extra, contradictory options, or a port that is taken.
    """
    try:
        import uvicorn
    except ImportError:
        missing_extra("uvicorn", "starlette", "streamdantic serve")
    if Starlette is None:
        missing_extra("starlette", "starlette", "streamdantic serve")
    live = args.model is not None
    for flag, value in (
        ("--base-url", args.base_url),
        ("--api-key", args.api_key),
        ("--schema", args.schema),
        ("--prompt", args.prompt),
    ):
        if value is not None and not live:
            raise CommandError(
                f"{flag} needs a real endpoint: add --model NAME "
                "(without it the page replays recorded streams)"
            )
    schema = load_model(args.schema) if args.schema else None  # before the key: see demo
    api_key = args.api_key or (os.environ.get("OPENAI_API_KEY") if live else None)
    base_url = check_base_url(
        args.base_url or (os.environ.get("OPENAI_BASE_URL") if live else None)
    )
    if live and not api_key and not base_url:
        raise CommandError(
            "no API key for the OpenAI API", hint="pass --api-key or set OPENAI_API_KEY"
        )
    config = ServeConfig(
        speed=args.speed,
        model=args.model,
        base_url=base_url,
        api_key=api_key,
        schema=schema,
        timeout=args.timeout,
    )
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        sock.close()
        raise CommandError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            hint="pick another --port (0: any free port)",
        ) from None
    host, port = sock.getsockname()[:2]
    app = create_app(config, hosts=allowed_hosts(host))
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    print(f"streamdantic: serving the live page on {url}  (Ctrl-C to stop)", flush=True)
    if host not in ("127.0.0.1", "::1"):
        print(
            "streamdantic: warning: listening beyond this machine; anyone who can reach it can "
            "start generations" + (" on your API key" if live else ""),
            file=sys.stderr,
        )
    if ready is not None:
        ready(url)
    if args.open:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    server.run(sockets=[sock])
    return EXIT_OK
