"""The demo's bundled recordings stay byte-identical to fixtures/, and their models to the
fixtures' models."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from streamdantic._cli.examples import DEFAULT_EXAMPLE, example, examples
from streamdantic._cli.replay import frames

ROOT = Path(__file__).resolve().parents[1]


def fixture_models() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fixture_models", ROOT / "fixtures" / "models.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundled_copies_are_current() -> None:
    """scripts/bundle_examples.py --check finds nothing stale, missing or extra."""
    script = ROOT / "scripts" / "bundle_examples.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", list(examples()))
def test_models_match_the_fixture_models(name: str) -> None:
    """Each bundled model has the JSON schema of its namesake in fixtures/models.py."""
    ex = example(name)
    ours = ex.model.model_json_schema()
    ours.pop("description", None)
    assert ours == getattr(fixture_models(), ex.model.__name__).model_json_schema()


@pytest.mark.parametrize("name", list(examples()))
def test_recorded_text_validates(name: str) -> None:
    """The text a recording adds up to is a valid instance of its model."""
    ex = example(name)
    ex.model.model_validate_json(ex.text)
    assert ex.read().endswith(b"data: [DONE]\n\n")
    assert len(frames(ex.read())) >= ex.deltas


def test_unknown_example_lists_the_known_ones() -> None:
    """Asking for a missing example names the ones there are."""
    with pytest.raises(KeyError, match=DEFAULT_EXAMPLE):
        example("nope")
