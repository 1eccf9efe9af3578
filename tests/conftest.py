"""Shared fixtures: async tests run on both anyio backends (asyncio and trio).

LiteLLM fetches its model cost map from the network when imported unless told to read the copy
it ships; no test may reach the network, so that is set before any test imports it.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
