"""The command line starts from both entry points, and the wheel ships the CLI's data files."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from fnmatch import fnmatchcase
from importlib.metadata import entry_points
from pathlib import Path

import streamdantic
from streamdantic._cli.main import main

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(streamdantic.__file__).parent


def test_console_script_is_the_cli_main() -> None:
    """The installed ``streamdantic`` script runs ``streamdantic._cli.main.main``."""
    (script,) = entry_points(group="console_scripts", name="streamdantic")
    assert script.load() is main


def test_python_dash_m_runs_the_cli() -> None:
    """``python -m streamdantic --help`` prints the usage and exits 0."""
    done = subprocess.run(
        [sys.executable, "-m", "streamdantic", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: streamdantic")


def test_package_data_covers_every_data_file() -> None:
    """Every non-Python file the package reads at run time matches a package-data pattern."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    package_data: dict[str, list[str]] = config["tool"]["setuptools"]["package-data"]
    patterns = [
        f"{package.replace('.', '/')}/{pattern}"
        for package, globs in package_data.items()
        for pattern in globs
    ]
    data = [
        path.relative_to(PACKAGE.parent).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file()
        and path.suffix not in {".py", ".c", ".so", ".pyc"}
        and "__pycache__" not in path.parts
    ]
    assert data, "no data files found"
    unshipped = [f for f in data if not any(fnmatchcase(f, p) for p in patterns)]
    assert unshipped == []
