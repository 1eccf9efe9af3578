"""`streamdantic demo`: the offline replay, a real endpoint, and every failure a newcomer hits."""

from __future__ import annotations

import io
import json
import re
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamdantic._cli.demo import DemoOptions, resolve_target, run_demo
from streamdantic._cli.examples import example
from streamdantic._cli.main import main
from streamdantic._cli.replay import ReplayServer

RECIPE = example("recipe")


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer(tokens_per_second=0, api_key="sk-right") as server:
        yield server


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def final_json(out: str) -> object:
    """The final object the plain output prints (the JSON block before the summary)."""
    start = out.index("\n{") + 1
    end = out.rindex("\n}") + 2
    return json.loads(out[start:end])


def test_offline_demo_prints_one_line_per_update_and_the_final_object(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without a TTY the demo prints plain update lines, the final object and a summary."""
    code, out, err = run(capsys, "demo", "--speed", "0")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("streaming Recipe (Recipe card): replaying a recorded gpt-4.1")
    assert "no API key, no network" in lines[0]
    assert sum(1 for line in lines if "s #" in line) > 20
    assert final_json(out) == json.loads(
        RECIPE.model.model_validate_json(RECIPE.text).model_dump_json()
    )
    assert lines[-1].startswith("Recipe complete: 108 chunks, first field after ")


def test_offline_demo_ignores_credentials_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """OPENAI_API_KEY / OPENAI_BASE_URL alone never send the demo to the network."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    code, out, err = run(capsys, "demo", "--speed", "0", "--example", "numbers")
    assert code == 0, err
    assert "NumberSample complete" in out


def test_rich_view_draws_marks_and_the_final_object(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal the demo draws the tree with a mark per field, then the validated object."""
    out = io.StringIO()
    monkeypatch.setattr(out, "isatty", lambda: True, raising=False)
    code = run_demo(DemoOptions(speed=0), out=out, err=io.StringIO())
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert code == 0
    assert "✓ title" in text and "final object (validated):" in text
    assert "Recipe(" in text and "Recipe complete: 108 chunks" in text


def test_missing_rich_falls_back_to_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without rich, a terminal gets plain lines and a one-line install hint."""
    monkeypatch.setitem(sys.modules, "rich", None)
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(out, "isatty", lambda: True, raising=False)
    assert run_demo(DemoOptions(speed=0), out=out, err=err) == 0
    assert "pip install 'streamdantic[cli]'" in err.getvalue()
    assert "Recipe complete" in out.getvalue()


def test_real_endpoint_with_model_base_url_and_key(
    replay: ReplayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """--model with --base-url/--api-key asks that endpoint with the example's request."""
    code, out, err = run(
        capsys,
        "demo",
        "--model",
        "my-model",
        "--base-url",
        replay.base_url,
        "--api-key",
        "sk-right",
    )
    assert code == 0, err
    assert f"my-model at {replay.base_url}" in out.splitlines()[0]
    assert replay.requests[-1]["model"] == "my-model"
    assert replay.requests[-1]["response_format"] == RECIPE.response_format


def test_environment_configures_a_real_endpoint(
    replay: ReplayServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --model, OPENAI_BASE_URL and OPENAI_API_KEY fill in the endpoint."""
    monkeypatch.setenv("OPENAI_BASE_URL", replay.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-right")
    code, _, err = run(capsys, "demo", "--model", "m", "--prompt", "Shakshuka, please.")
    assert code == 0, err
    assert replay.requests[-1]["messages"][-1] == {"role": "user", "content": "Shakshuka, please."}


def test_user_schema_and_prompt(
    replay: ReplayServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--schema module:Model asks for the user's model (here one the recording fits)."""
    (tmp_path / "my_models.py").write_text(
        "from pydantic import BaseModel\n\n"
        "class Author(BaseModel):\n    name: str\n    verified: bool\n\n"
        "class Recipe(BaseModel):\n    title: str\n    servings: int\n    author: Author\n"
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys,
        "demo",
        "--model",
        "m",
        "--base-url",
        replay.base_url,
        "--api-key",
        "sk-right",
        "--schema",
        "my_models:Recipe",
        "--prompt",
        "A recipe card.",
    )
    assert code == 0, err
    sent = replay.requests[-1]
    assert sent["response_format"]["json_schema"]["name"] == "Recipe"
    assert sent["messages"][-1]["content"] == "A recipe card."
    assert final_json(out) == {
        "title": "Weeknight shakshuka",
        "servings": 4,
        "author": {"name": "Dana Okafor", "verified": False},
    }


def test_bad_key_is_one_line_with_exit_code_3(
    replay: ReplayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 401 is reported as a rejected key, with a hint, no traceback."""
    code, _, err = run(
        capsys, "demo", "--model", "m", "--base-url", replay.base_url, "--api-key", "sk-wrong"
    )
    assert code == 3
    assert f"streamdantic: error: {replay.base_url} rejected the API key (401)" in err
    assert "hint: check --api-key" in err
    assert "Traceback" not in err


def test_unreachable_endpoint_is_one_line_with_exit_code_3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A closed port is reported as unreachable, with a hint."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    code, _, err = run(capsys, "demo", "--model", "m", "--base-url", url, "--api-key", "k")
    assert code == 3
    assert f"streamdantic: error: cannot reach {url}" in err
    assert "is the server running?" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module_xyz:Model", "no module named 'no_such_module_xyz'"),
        ("streamdantic._cli.examples:Nope", "has no 'Nope'; models there: "),
        ("streamdantic._cli.examples", "--schema takes module:Model"),
        ("json:dumps", "is not a pydantic model"),
    ],
    ids=["module", "attribute", "malformed", "not-a-model"],
)
def test_unknown_schema_path_is_a_usage_error(
    spec: str, message: str, replay: ReplayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --schema that does not name a model exits 2 with what was wrong."""
    code, _, err = run(
        capsys, "demo", "--model", "m", "--base-url", replay.base_url, "--schema", spec
    )
    assert code == 2
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("flag", ["--base-url", "--api-key", "--schema", "--prompt"])
def test_endpoint_options_need_a_model(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Endpoint options without --model are a usage error (the offline demo cannot use them)."""
    code, _, err = run(capsys, "demo", flag, "x")
    assert code == 2
    assert f"{flag} needs a real endpoint: add --model NAME" in err


def test_openai_without_a_key_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """--model for the OpenAI API without any key says where to put one."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(Exception, match="no API key") as info:
        resolve_target(DemoOptions(model="gpt-4.1-mini", env={}))
    assert getattr(info.value, "code", None) == 2


def test_bad_speed_is_rejected_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    """A negative --speed is an argparse usage error (exit 2)."""
    with pytest.raises(SystemExit) as info:
        main(["demo", "--speed", "-1"])
    assert info.value.code == 2
    assert "--speed" in capsys.readouterr().err


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`streamdantic` alone prints the commands and the exit codes."""
    code, out, _ = run(capsys)
    assert code == 0
    assert "demo" in out and "exit codes" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--speed", "-1"],
        ["demo", "--example", "nope"],
        ["serve", "--port", "99999"],
        ["serve", "--port", "http"],
        ["check"],
        ["frobnicate"],
    ],
    ids=["bad-speed", "bad-choice", "port-too-big", "port-not-a-number", "missing-file", "unknown"],
)
def test_argument_errors_are_one_line_and_a_hint(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad argument is one error line and one hint, like every other usage error (exit 2),
    not argparse's usage block or a traceback."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("streamdantic: error: ") and lines[1].startswith("  hint: ")


@pytest.mark.parametrize(
    "url", ["notaurl", "localhost:11434", "ftp://host/v1", "http://", "http://h:port/"]
)
def test_a_base_url_that_is_no_url_is_a_usage_error(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--base-url must be an http(s) URL: anything else is a usage error (exit 2) that says
    so, not 'is the server running?' after a connection attempt."""
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    for command in ("demo", "serve"):
        code, _, err = run(capsys, command, "--model", "m", "--base-url", url)
        assert code == 2, command
        assert "is not an http(s) URL" in err and "server running" not in err


def test_a_bad_schema_is_reported_before_a_missing_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line is checked before the environment: a wrong --schema is the error
    shown even when no API key is set."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    for command in ("demo", "serve"):
        code, _, err = run(capsys, command, "--model", "m", "--schema", "no_such_module:Model")
        assert code == 2, command
        assert "no module named 'no_such_module'" in err and "API key" not in err
