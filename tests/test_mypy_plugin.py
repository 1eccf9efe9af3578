"""The mypy plugin (``streamdantic.mypy``) on the example modules in tests/typing.

mypy runs in-process, once per configuration (each run analyses pydantic from scratch, a
few seconds): with the plugin, with pydantic's plugin listed first, and without plugins.
"""

from __future__ import annotations

import ast
import gc
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from mypy import api

from streamdantic._partial import Partial

TYPING = Path(__file__).parent / "typing"
OK = TYPING / "partial_plugin_ok.py"
ERRORS = TYPING / "partial_plugin_errors.py"
LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): error: (?P<message>.*?)  \[(?P<code>[\w-]+)\]$")
EXPECTED = re.compile(r"^\s*# E: \[(?P<code>[\w-]+)\] (?P<message>.*)$")


@dataclass(frozen=True)
class Result:
    errors: dict[str, list[tuple[int, str, str]]]  # file name -> (line, code, message)
    output: str


def _mypy(tmp: Path, plugins: str | None, *files: Path) -> Result:
    config = tmp / "mypy.ini"
    lines = ["[mypy]", "strict = True", "python_version = 3.11", f"mypy_path = {TYPING}"]
    if plugins:
        lines.append(f"plugins = {plugins}")
    config.write_text("\n".join(lines) + "\n")
    args = ["--config-file", str(config), "--cache-dir", str(tmp / "cache"), "--no-pretty"]
    threshold = gc.get_threshold()
    try:
        stdout, stderr, status = api.run([*args, *map(str, files)])
    finally:
        gc.set_threshold(*threshold)  # mypy tunes the collector for its own process
    assert status in (0, 1) and not stderr, stdout + stderr
    errors: dict[str, list[tuple[int, str, str]]] = {}
    for line in stdout.splitlines():
        match = LINE.match(line)
        if match:
            name = Path(match["path"]).name
            errors.setdefault(name, []).append(
                (int(match["line"]), match["code"], match["message"])
            )
    reported = sum(": error: " in line for line in stdout.splitlines())
    assert reported == sum(map(len, errors.values())), stdout  # every error line was parsed
    return Result(errors, stdout)


@pytest.fixture(scope="module")
def with_plugin(tmp_path_factory: pytest.TempPathFactory) -> Result:
    return _mypy(tmp_path_factory.mktemp("plugin"), "streamdantic.mypy", OK, ERRORS)


@pytest.fixture(scope="module")
def with_pydantic_plugin(tmp_path_factory: pytest.TempPathFactory) -> Result:
    tmp = tmp_path_factory.mktemp("pydantic")
    return _mypy(tmp, "pydantic.mypy, streamdantic.mypy", OK, ERRORS)


@pytest.fixture(scope="module")
def without_plugin(tmp_path_factory: pytest.TempPathFactory) -> Result:
    return _mypy(tmp_path_factory.mktemp("none"), None, OK)


def _expected_errors() -> list[tuple[int, str, str]]:
    expected = []
    for number, line in enumerate(ERRORS.read_text().splitlines(), start=1):
        match = EXPECTED.match(line)
        if match:  # announces an error on the next line
            expected.append((number + 1, match["code"], match["message"]))
    return expected


def test_ok_module_passes_with_the_plugin(with_plugin: Result) -> None:
    """Every assert_type in the ok module holds; the models and examples raise nothing."""
    assert set(with_plugin.errors) <= {ERRORS.name}, with_plugin.output


def test_error_module_reports_exactly_the_expected_errors(with_plugin: Result) -> None:
    """Unknown attributes, aliases, model properties and None-unsafe uses are errors."""
    expected = _expected_errors()
    assert len(expected) >= 2
    assert with_plugin.errors.get(ERRORS.name) == expected, with_plugin.output


def test_pydantic_plugin_changes_nothing(with_plugin: Result, with_pydantic_plugin: Result) -> None:
    """With pydantic's plugin listed first, the results are the same."""
    assert with_pydantic_plugin.errors == with_plugin.errors, with_pydantic_plugin.output


def test_ok_module_type_checks_without_the_plugin(without_plugin: Result) -> None:
    """The plugin is optional: without it attributes are Any, so only assert_type fails."""
    errors = without_plugin.errors
    assert set(errors) == {OK.name}, without_plugin.output
    codes = {code for _, code, _ in errors[OK.name]}
    assert codes == {"assert-type"}, without_plugin.output
    assert all('is of type "Any"' in message for _, _, message in errors[OK.name])


def _load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, TYPING / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def test_asserted_types_are_the_runtime_annotations(monkeypatch: pytest.MonkeyPatch) -> None:
    """The field types asserted in `field_types` are those of the runtime partial class."""
    _load("partial_models", monkeypatch)
    module = _load("partial_plugin_ok", monkeypatch)
    fields = Partial[module.Order].model_fields

    function = next(
        node
        for node in ast.parse(OK.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name == "field_types"
    )
    checked = set()
    for statement in function.body:
        assert isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
        attribute, expected = statement.value.args
        assert isinstance(attribute, ast.Attribute)
        wanted = eval(compile(ast.Expression(expected), str(OK), "eval"), vars(module))
        assert fields[attribute.attr].annotation == wanted, attribute.attr
        checked.add(attribute.attr)
    assert checked == set(fields)
