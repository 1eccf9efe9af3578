"""Fixtures of the front-end tests: the fixture streams served by a real uvicorn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.frontends.fixtures import Hang, make_app
from tests.integration.servers import serve_in_thread


@pytest.fixture
def served() -> Iterator[Callable[[Callable[[Any], Any]], tuple[str, Hang]]]:
    """Serve the fixtures in a protocol: ``url, hang = served(lambda body: "ai-sdk")``."""
    stack: list[Any] = []

    def start(protocol: Callable[[Any], Any]) -> tuple[str, Hang]:
        hang = Hang()
        manager = serve_in_thread(make_app(protocol, hang))
        url = manager.__enter__()
        stack.append(manager)
        return url, hang

    yield start
    for manager in reversed(stack):
        manager.__exit__(None, None, None)
