"""What the command line's commands share: exit codes, errors, `module:Model` loading, and
turning the failures a newcomer can hit into one clear line instead of a traceback."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import typing
from pathlib import Path
from typing import Any, NoReturn

from pydantic import BaseModel, TypeAdapter

__all__ = [
    "check_base_url",
    "EXIT_ENDPOINT",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CommandError",
    "endpoint_error",
    "load_model",
]

# Exit codes (documented in docs/cli.md).
EXIT_OK = 0
EXIT_FAILED = (
    1  # the stream failed (truncated, invalid, provider error) or `check` found a violation
)
EXIT_USAGE = 2  # bad arguments, unknown schema, unreadable file, a missing optional dependency
EXIT_ENDPOINT = 3  # the endpoint is unreachable, timed out or refused the request (401, 404, ...)
EXIT_INTERRUPTED = 130  # Ctrl-C


class CommandError(Exception):
    """A failure the command reports as one line (plus an optional hint) and an exit code."""

    def __init__(self, message: str, *, code: int = EXIT_USAGE, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint


def missing_extra(package: str, extra: str, what: str) -> NoReturn:
    """Raise the error for an optional dependency that is not installed."""
    raise CommandError(
        f"{what} needs {package}, which is not installed",
        hint=f"pip install 'streamdantic[{extra}]'",
    )


def load_model(spec: str) -> Any:
    """Import the model named by ``module:Model`` (or ``path/to/file.py:Model``).

    The current directory is searched first, as ``python -m`` does, so a model defined next
    to where the command runs is found. ``Model`` may be dotted (``module:Outer.Inner``).

    Raises:
        CommandError: the spec is malformed, the module or attribute does not exist, or the
            object is not a type pydantic can validate.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise CommandError(
            f"--schema takes module:Model (for example myapp.models:Recipe), not {spec!r}"
        )
    if module_name.endswith(".py") or os.sep in module_name or "/" in module_name:
        path = Path(module_name)
        if not path.is_file():
            raise CommandError(f"--schema: no file {module_name!r}")
        unique = f"_streamdantic_schema_{abs(hash(path.resolve()))}"
        loader_spec = importlib.util.spec_from_file_location(unique, path)
        if loader_spec is None or loader_spec.loader is None:  # pragma: no cover - a .py file
            raise CommandError(f"--schema: cannot load {module_name!r}")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[unique] = module
        try:
            loader_spec.loader.exec_module(module)
        except Exception as exc:
            raise CommandError(
                f"--schema: importing {module_name} failed: {type(exc).__name__}: {exc}"
            ) from exc
    else:
        if os.getcwd() not in sys.path and "" not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                raise CommandError(
                    f"--schema: no module named {module_name!r}",
                    hint="run the command from the directory that holds it, or set PYTHONPATH",
                ) from exc
            raise CommandError(f"--schema: importing {module_name} failed: {exc}") from exc
        except Exception as exc:
            raise CommandError(
                f"--schema: importing {module_name} failed: {type(exc).__name__}: {exc}"
            ) from exc
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            names = sorted(
                n
                for n, v in vars(module).items()
                if isinstance(v, type) and issubclass(v, BaseModel) and v is not BaseModel
            )
            known = f"; models there: {', '.join(names)}" if names else ""
            raise CommandError(f"--schema: {module_name} has no {attr!r}{known}") from None
    if isinstance(obj, type) and issubclass(obj, BaseModel):
        return obj
    not_a_type = f"--schema: {spec} is not a pydantic model or a type pydantic can validate"
    if not isinstance(obj, type) and typing.get_origin(obj) is None:
        raise CommandError(not_a_type)  # a function, a module, an instance...
    try:
        TypeAdapter(obj)
    except Exception:
        raise CommandError(not_a_type) from None
    return obj


def check_base_url(url: str | None) -> str | None:
    """`url` when it can be an API base URL (http or https, with a host), else a usage error:
    what is not a URL must not be reported later as a server that is down."""
    if url is None:
        return None
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise CommandError(
            f"--base-url {url!r} is not an http(s) URL",
            hint="e.g. --base-url http://localhost:11434/v1 (or set OPENAI_BASE_URL)",
        )
    return url


def endpoint_error(exc: BaseException, base_url: str) -> CommandError | None:
    """The one-line error for an openai client failure, or None when `exc` is not one."""
    try:
        import openai
    except ImportError:  # pragma: no cover - openai is a dependency
        return None
    if isinstance(exc, openai.APITimeoutError):
        return CommandError(
            f"{base_url} did not answer in time",
            code=EXIT_ENDPOINT,
            hint="is the server overloaded? raise --timeout",
        )
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        detail = f" ({type(cause).__name__}: {cause})" if cause else ""
        return CommandError(
            f"cannot reach {base_url}{detail}",
            code=EXIT_ENDPOINT,
            hint="is the server running? check --base-url (or OPENAI_BASE_URL)",
        )
    if isinstance(exc, openai.AuthenticationError):
        return CommandError(
            f"{base_url} rejected the API key (401): {_api_message(exc)}",
            code=EXIT_ENDPOINT,
            hint="check --api-key (or OPENAI_API_KEY)",
        )
    if isinstance(exc, openai.NotFoundError):
        return CommandError(
            f"{base_url} answered 404: {_api_message(exc)}",
            code=EXIT_ENDPOINT,
            hint="check --model and that --base-url ends where the API's /chat/completions lives "
            "(often .../v1)",
        )
    if isinstance(exc, openai.APIStatusError):
        return CommandError(
            f"{base_url} answered {exc.status_code}: {_api_message(exc)}", code=EXIT_ENDPOINT
        )
    if isinstance(exc, openai.APIError):
        return CommandError(
            f"the provider reported an error mid-stream: {_api_message(exc)}", code=EXIT_FAILED
        )
    return None


def _api_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
        if isinstance(body.get("message"), str):
            return str(body["message"])
    return str(getattr(exc, "message", None) or exc)
