"""The README keeps its promises: two set-up commands, the test one run by CI, examples work."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def setup_commands() -> list[str]:
    section = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, re.S)


def test_readme_has_exactly_two_setup_commands() -> None:
    """The set-up section holds exactly two one-line commands: the demo and the tests."""
    commands = setup_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert commands[0].endswith("streamdantic demo")
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    """.ci/run runs exactly the README's test command."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert setup_commands()[1] in ci


def test_python_examples_run() -> None:
    """Every python code block in the README runs without error."""
    blocks = re.findall(r"```python\n(.*?)\n```", README, re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec", dont_inherit=True), {})
