"""`streamdantic replay` and `check` on the recordings of the other sources (#13): Gemini
(SSE, the JSON array body, JSON lines), Ollama NDJSON, Bedrock event dicts as JSON lines,
LiteLLM chunks as JSON lines; detected from the content or named with ``--format``. The
replays run the real console entry point (``python -m streamdantic``) in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from streamdantic._cli.main import main
from streamdantic._cli.recording import FORMATS, detect
from streamdantic._cli.util import CommandError

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"


def _entries(directory: str) -> dict[str, dict[str, Any]]:
    manifest = json.loads((FIXTURES / directory / "manifest.json").read_text("utf-8"))
    return {s["file"]: s for s in manifest["streams"]}


ENTRIES = {**_entries("gemini"), **_entries("ollama"), **_entries("bedrock")}
LITELLM = sorted(f"litellm/{p.name}" for p in (FIXTURES / "litellm").glob("*.jsonl"))
FORMAT_OF = {"gemini": "gemini", "ollama": "ollama", "bedrock": "bedrock", "litellm": "litellm"}
# The recordings that end with the whole object (their document), by format.
COMPLETE = [
    "gemini/text_json.sse",
    "gemini/text_unicode.sse",
    "ollama/text_json.ndjson",
    "ollama/text_unicode.ndjson",
    "bedrock/text_json.jsonl",
    "bedrock/text_unicode.jsonl",
    "litellm/text_json.jsonl",
]
DOCUMENTS = {
    "gemini/text_json.sse": "small.json",
    "gemini/text_unicode.sse": "unicode.json",
    "ollama/text_json.ndjson": "small.json",
    "ollama/text_unicode.ndjson": "unicode.json",
    "bedrock/text_json.jsonl": "small.json",
    "bedrock/text_unicode.jsonl": "unicode.json",
    "litellm/text_json.jsonl": "small.json",
}


def cli(*argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """The installed command, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "streamdantic", *argv],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def final_json(out: str) -> Any:
    """The final object replay prints (the indented JSON before its last line)."""
    return json.loads(out[out.index("\n{") + 1 : out.rindex("\n}") + 2])


@pytest.mark.parametrize("file", [*sorted(ENTRIES), *LITELLM])
def test_detects_the_format_of_every_fixture(file: str) -> None:
    """Each committed Gemini, Ollama, Bedrock and LiteLLM recording is recognized from its
    content alone."""
    assert detect((FIXTURES / file).read_bytes()) == FORMAT_OF[file.split("/")[0]]


@pytest.mark.parametrize("file", COMPLETE)
def test_replay_streams_the_recorded_document(file: str) -> None:
    """replay prints the updates, then the recording's document, named with its format."""
    result = cli("replay", f"fixtures/{file}")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"replaying fixtures/{file} ({FORMAT_OF[file.split('/')[0]]})"
    assert sum(" #" in line for line in lines) > 10
    document = json.loads((FIXTURES / "documents" / DOCUMENTS[file]).read_text("utf-8"))
    assert final_json(result.stdout) == document


@pytest.mark.parametrize(
    ("file", "error"),
    [
        ("gemini/error_overloaded.sse", "ProviderError: The model is overloaded"),
        ("gemini/max_tokens.sse", "TruncatedStreamError"),
        ("gemini/safety.sse", "ContentFilterError"),
        ("ollama/error.ndjson", "ProviderError: an error was encountered while running"),
        ("ollama/length.ndjson", "TruncatedStreamError"),
        ("bedrock/throttling.jsonl", "ProviderError: Too many tokens"),
        ("bedrock/max_tokens.jsonl", "TruncatedStreamError"),
        ("litellm/truncated_length.jsonl", "TruncatedStreamError"),
    ],
)
def test_replay_of_a_failing_recording_exits_1(file: str, error: str) -> None:
    """A recording that ends in the provider's error, a token limit or a safety stop exits 1
    with the library's error, no traceback."""
    result = cli("replay", f"fixtures/{file}")
    assert result.returncode == 1, result.stdout
    assert error in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("file", "names"),
    [
        ("litellm/tool_calls.jsonl", ["get_weather", "search_places"]),
        ("gemini/function_calls.sse", ["get_weather", "search_places"]),
        ("ollama/tool_calls.ndjson", ["get_weather", "search_places"]),
    ],
)
def test_replay_shows_the_tool_calls(
    file: str, names: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Tool calls come through as tool-call parts naming each call, in order."""
    assert main(["replay", str(FIXTURES / file)]) == 0
    out = capsys.readouterr().out
    shown = []
    for line in out.splitlines():
        if '"type": "tool_call_delta"' in line and '"name": "' in line:
            name = line.split('"name": "', 1)[1].split('"', 1)[0]
            if name not in shown:
                shown.append(name)
    assert shown == names


def _gemini_array(sse: bytes) -> bytes:
    """The body Gemini sends without ``alt=sse``: a JSON array of the same responses."""
    payloads = [line[6:] for line in sse.decode().splitlines() if line.startswith("data: ")]
    return ("[" + ",\r\n".join(payloads) + "]").encode()


@pytest.mark.parametrize("shape", ["array", "lines"])
def test_gemini_array_and_json_lines_replay_like_the_event_stream(
    shape: str, tmp_path: Path
) -> None:
    """The same Gemini responses as a JSON array body or as JSON lines are detected as
    gemini and give the event stream's object."""
    sse = (FIXTURES / "gemini/text_json.sse").read_bytes()
    data = (
        _gemini_array(sse)
        if shape == "array"
        else b"".join(line[6:] + b"\n" for line in sse.splitlines() if line.startswith(b"data: "))
    )
    path = tmp_path / "gemini.txt"
    path.write_bytes(data)
    assert detect(data) == "gemini"
    result = cli("replay", str(path))
    assert result.returncode == 0, result.stderr
    document = json.loads((FIXTURES / "documents/small.json").read_text("utf-8"))
    assert final_json(result.stdout) == document


@pytest.mark.parametrize(
    ("file", "schema"),
    [
        ("gemini/text_json.sse", "streamdantic._cli.examples:Recipe"),
        ("ollama/text_unicode.ndjson", "streamdantic._cli.examples:UnicodeSample"),
        ("bedrock/text_json.jsonl", None),
        ("litellm/text_json.jsonl", "streamdantic._cli.examples:Recipe"),
    ],
)
def test_check_passes_on_each_format(
    file: str, schema: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """check keeps the contract at every byte boundary of each format's recording."""
    argv = ["check", str(FIXTURES / file), "--random", "3"]
    if schema:
        argv += ["--schema", schema]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert f"({FORMAT_OF[file.split('/')[0]]})" in out.splitlines()[0]
    assert "every byte boundary: ok" in out


def test_format_option_names_the_format(tmp_path: Path) -> None:
    """--format reads JSON lines as the named format (here Ollama lines that detection would
    also find), and a mismatched --format is a usage error (exit 2) that says so."""
    result = cli("replay", "fixtures/ollama/text_json.ndjson", "--format", "ollama")
    assert result.returncode == 0, result.stderr
    wrong = cli("replay", "fixtures/gemini/text_json.sse", "--format", "bedrock")
    assert wrong.returncode == 2
    assert "does not hold JSON lines, as a bedrock recording does" in wrong.stderr
    assert "drop --format bedrock" in wrong.stderr


def test_undetectable_content_names_every_format() -> None:
    """Content of no known shape is a usage error whose hint lists every format."""
    with pytest.raises(CommandError, match="cannot tell the format") as info:
        detect(b"data: hello\n\n")
    assert info.value.hint is not None
    for name in ("gemini", "ollama", "bedrock", "litellm", "openai-chat", "anthropic"):
        assert name in FORMATS and name in info.value.hint
    assert detect(b'{"title": "not a recording"}\n') == "json"


def test_a_line_that_is_not_json_is_a_usage_error(tmp_path: Path) -> None:
    """A broken line in a line recording names the line, exit 2."""
    path = tmp_path / "broken.ndjson"
    lines = (FIXTURES / "ollama/text_json.ndjson").read_text("utf-8").splitlines()
    lines.insert(3, '{"model": "qwen3:8b", "mess')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli("replay", str(path))
    assert result.returncode == 2
    assert "line 4: not a JSON value" in result.stderr


TOOL_MODELS = """
from pydantic import BaseModel


class Weather(BaseModel):
    location: str
    unit: str
    days: int
    include_hourly: bool


class Search(BaseModel):
    query: str
    limit: int
"""


def test_tool_options_replay_prose_and_typed_tool_arguments(tmp_path: Path) -> None:
    """A recording with prose before two tool calls is not one JSON value (exit 1); with
    --tool it replays as an agent's stream: the prose as text, each call's arguments as a
    partial of its own (typed by the named model, plain JSON without one)."""
    recording = "fixtures/bedrock/tool_use.jsonl"
    assert cli("replay", recording).returncode == 1
    (tmp_path / "tool_models.py").write_text(TOOL_MODELS, encoding="utf-8")
    models = str(tmp_path / "tool_models.py")
    result = cli(
        "replay", recording, "--tool", f"get_weather={models}:Weather", "--tool", "search_places"
    )
    assert result.returncode == 0, result.stderr
    tool_lines = [
        line.split("s tool  ", 1)[1] for line in result.stdout.splitlines() if "s tool  " in line
    ]
    weather = [
        json.loads(line.split(" ", 1)[1]) for line in tool_lines if line.startswith("get_weather ")
    ]
    search = [line for line in tool_lines if line.startswith("search_places ")]
    assert weather[-1] == {
        "location": "Lisbon, Portugal",
        "unit": "celsius",
        "days": 3,
        "include_hourly": False,
    }
    shown = [w for w in weather if w is not None]  # None until the first member arrives
    for before, after in zip(shown, shown[1:], strict=False):  # the typed partial only grows
        assert set(before) <= set(after)
    assert len(search) > 1 and '"query": "late-night ramen near Shibuya station"' in search[-1]
    assert "I'll check the Lisbon forecast" in result.stdout
    assert "finish reason tool_calls" in result.stdout
    # A model the arguments do not fit: the replay fails like the stream, exit 1.
    wrong = cli("replay", recording, "--tool", f"search_places={models}:Weather")
    assert wrong.returncode == 1
    assert "tool call search_places (tooluse_" in wrong.stderr
    assert "the streamed value does not fit Weather" in wrong.stderr
    bad = cli("replay", recording, "--tool", "=x:Y")
    assert bad.returncode == 2 and "--tool takes NAME" in bad.stderr
