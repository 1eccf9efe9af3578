"""`streamdantic replay` and `streamdantic check` on recorded streams of every wire format."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from streamdantic import stream
from streamdantic._cli.check import (
    Outcome,
    Violation,
    check_growth,
    check_recording,
    random_pieces,
    verify,
)
from streamdantic._cli.main import main
from streamdantic._cli.recording import detect, load_recording
from streamdantic._cli.util import CommandError
from streamdantic.sse import ProfileEncoder, encode, stream_frame
from streamdantic.sse._profile import WireVersion

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
MANIFEST = {s["file"]: s for s in json.loads((FIXTURES / "manifest.json").read_text())["streams"]}
FORMATS = {
    "openai_chat": "openai-chat",
    "openai_responses": "openai-responses",
    "anthropic": "anthropic",
    "anthropic_messages": "anthropic",
}

SHOUT = """\
from pydantic import BaseModel, field_validator

class Shout(BaseModel):
    title: str
    servings: int

    @field_validator("title")
    @classmethod
    def upper(cls, value: str) -> str:
        return value.upper()
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("file", sorted(MANIFEST), ids=sorted(MANIFEST))
def test_detects_the_wire_format_of_every_fixture(file: str) -> None:
    """Each recorded provider stream is recognized from its content alone."""
    data = (FIXTURES / file).read_bytes()
    assert detect(data) == FORMATS[MANIFEST[file]["format"]]


def test_detects_raw_json_and_the_sse_profile() -> None:
    """JSON text is "json"; delta/final frames are the streamdantic profile."""
    assert detect(b'  {"a": 1}') == "json"
    assert detect(b'event: delta\nid: 1\ndata: {"delta":{}}\n\n') == "streamdantic"


def test_unknown_content_asks_for_format() -> None:
    """Content of no known format is a usage error that names --format."""
    with pytest.raises(CommandError, match="cannot tell the format") as info:
        detect(b"data: hello\n\n")
    assert info.value.hint is not None and "--format" in info.value.hint


@pytest.mark.parametrize(
    "file",
    [
        "openai_chat/small.sse",
        "openai_responses/structured_output.sse",
        "anthropic/text_json.sse",
    ],
)
def test_replay_prints_updates_and_the_final_object(
    file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """replay prints one line per update, then the recording's document."""
    code, out, err = run(capsys, "replay", str(FIXTURES / file))
    assert code == 0, err
    assert out.splitlines()[0].endswith(f"({FORMATS[file.split('/')[0]]})")
    document = json.loads((FIXTURES / MANIFEST[file]["document"]).read_text())
    body = out[out.index("\n{") + 1 : out.rindex("\n}") + 2]
    assert json.loads(body) == document
    assert sum(" #" in line for line in out.splitlines()) > 10


def test_replay_with_a_schema_validates(capsys: pytest.CaptureFixture[str]) -> None:
    """--schema validates the replayed object against the user's model."""
    code, out, err = run(
        capsys,
        "replay",
        str(FIXTURES / "openai_chat/small.sse"),
        "--schema",
        "streamdantic._cli.examples:Recipe",
    )
    assert code == 0, err
    assert '"quantity": 6.0' in out  # the model's float, not the raw 6


@pytest.mark.parametrize(
    ("file", "error"),
    [
        ("openai_chat/truncated_length.sse", "TruncatedStreamError"),
        ("openai_chat/error_midstream.sse", "ProviderError"),
        ("anthropic/error_overloaded.sse", "ProviderError: Overloaded"),
        ("openai_responses/refusal.sse", "RefusalError"),
    ],
)
def test_replay_of_a_failing_stream_exits_1(
    file: str, error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A recording that ends in an error exits 1 with the error, no traceback."""
    code, _, err = run(capsys, "replay", str(FIXTURES / file))
    assert code == 1
    assert error in err and "Traceback" not in err


def test_replay_of_raw_json_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A plain JSON file is streamed in token-sized pieces (or --chunk-size bytes)."""
    path = tmp_path / "doc.json"
    path.write_text('{"name": "Zoë", "tags": ["a", "b"]}', encoding="utf-8")
    code, out, _ = run(capsys, "replay", str(path), "--chunk-size", "1")
    assert code == 0
    assert '{"name":"Zo"}' in out  # the "ë" arrived in two byte pieces and shows whole
    assert '"name": "Zoë"' in out


@pytest.mark.parametrize("version", [2, 3])
def test_replay_of_a_served_profile_stream(
    version: WireVersion, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A recorded response of the streamdantic profile replays to its object, in both wire
    versions (version 3's delta frames are unnamed)."""
    document = {"title": "Shakshuka", "tags": ["eggs", "tomato"], "servings": 2}
    text = json.dumps(document)
    encoder = ProfileEncoder(version=version)
    frames = [stream_frame("t")]
    for output in stream([text[i : i + 3] for i in range(0, len(text), 3)]).events():
        frames += encoder.feed(output)
    frames += encoder.close()
    path = tmp_path / "served.sse"
    path.write_bytes(b"".join(map(encode, frames)))
    code, out, err = run(capsys, "replay", str(path))
    assert code == 0, err
    assert out.splitlines()[0].endswith("(streamdantic)")
    assert json.loads(out[out.index("\n{") + 1 : out.rindex("\n}") + 2]) == document


def test_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A file that does not exist exits 2 with its name."""
    code, _, err = run(capsys, "replay", "no/such/file.sse")
    assert code == 2
    assert "no such file: no/such/file.sse" in err


@pytest.mark.parametrize(
    ("file", "schema"),
    [
        ("openai_chat/small.sse", "streamdantic._cli.examples:Recipe"),
        ("anthropic/text_unicode.sse", "streamdantic._cli.examples:UnicodeSample"),
        ("openai_responses/structured_output.sse", None),
    ],
)
def test_check_passes_on_recordings(
    file: str, schema: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The pipeline keeps the contract at every byte boundary of real recordings."""
    argv = ["check", str(FIXTURES / file), "--random", "5"]
    if schema:
        argv += ["--schema", schema]
    code, out, err = run(capsys, *argv)
    assert code == 0, out + err
    assert "every byte boundary: ok" in out
    assert out.splitlines()[-1].startswith("ok: ")


def test_check_reports_a_validator_that_rewrites_a_streamed_string(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A field validator that changes a string the user already saw is a violation."""
    (tmp_path / "shout.py").write_text(SHOUT)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(
        capsys, "check", str(FIXTURES / "openai_chat/small.sse"), "--schema", "shout:Shout"
    )
    assert code == 1
    assert "contract violated in as recorded" in out
    assert '$.title was rewritten: "WEEKNIGHT SHAKSHUKA" does not continue' in out


def test_check_of_a_truncated_recording_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    """A recording without a final object fails the check, saying why."""
    code, _, err = run(
        capsys, "check", str(FIXTURES / "openai_chat/truncated_length.sse"), "--random", "2"
    )
    assert code == 1
    assert "the stream has no final object: TruncatedStreamError" in err


def test_violation_names_the_split() -> None:
    """A run that differs from the whole output names where its pieces were cut."""
    reference = Outcome([], {"n": 12}, None, None)
    with pytest.raises(Violation) as info:
        verify(Outcome([{}, {"n": 1}], {"n": 12}, None, None), "split at byte 7", reference)
    assert str(info.value) == (
        "split at byte 7: between the last update and the final object: $.n changed from 1 to "
        "12 (a number, boolean or null must appear only complete)"
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ({"a": "xy"}, {"a": "x"}, '$.a was rewritten: "x" does not continue "xy"'),
        ({"a": [1, 2]}, {"a": [1]}, "$.a shrank from 2 to 1 elements"),
        ({"a": 1}, {}, "$.a vanished (it was 1)"),
        ({"a": "1"}, {"a": 1}, '$.a changed type from string "1" to number 1'),
        ({"a": None}, {"a": {}}, "$.a changed type from null null to object {}"),
        ({"a": True}, {"a": False}, "$.a changed from true to false"),
    ],
    ids=["rewrite", "shrink", "vanish", "type", "null", "literal"],
)
def test_growth_violations(old: object, new: object, message: str) -> None:
    """Each way a partial can fail to grow is reported with its path."""
    assert check_growth(old, new) is not None
    assert message in str(check_growth(old, new))


def test_growth_accepts_growth() -> None:
    """Longer strings, more elements, more keys and equal numbers are growth."""
    assert check_growth({"a": "x", "b": [1]}, {"a": "xy", "b": [1, 2], "c": 3}) is None
    assert check_growth(1, 1.0) is None


def test_check_recording_counts_runs() -> None:
    """A small output gets every two-piece split, one bytewise run and the random ones."""
    text = b'{"a": [1, 22, "x\\u00e9"], "b": null}'
    runs, reference = check_recording(lambda: [text], None, random_splits=3)
    assert reference.final == {"a": [1, 22, "xé"], "b": None}
    assert runs == 2 + (len(text) - 1) + 1 + 3


def test_random_pieces_cover_the_data() -> None:
    """Random splits keep every byte, in order, in at least two pieces."""
    import random

    data = bytes(range(200))
    for seed in range(5):
        pieces = random_pieces(data, random.Random(seed))
        assert b"".join(pieces) == data and 2 <= len(pieces) <= 65


def test_load_recording_reads_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """'-' reads the recording from standard input."""
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"a": 1}')))
    assert load_recording("-").format == "json"


def test_replay_times_the_stream_not_the_sdk_import(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timestamps start when the stream starts: making the items (which imports the
    provider's SDK) happens before the clock starts. A fake clock that jumps 5 s whenever
    an item is made shows it."""
    import time

    import streamdantic._cli.recording as recording

    now = [100.0]
    made = recording.items

    def slow_items(*args: Any, **kwargs: Any) -> Any:
        for item in made(*args, **kwargs):
            now[0] += 5.0  # what an import, or any slow making of items, would add
            yield item

    monkeypatch.setattr(recording, "items", slow_items)
    monkeypatch.setattr(time, "perf_counter", lambda: now[0])
    code, out, _ = run(capsys, "replay", str(FIXTURES / "openai_chat" / "small.sse"))
    assert code == 0
    stamps = {m.group(1) for m in re.finditer(r"^ *(\d+\.\d\d)s ", out, re.MULTILINE)}
    assert stamps == {"0.00"}, stamps


def test_check_help_states_the_defaults_it_uses(capsys: pytest.CaptureFixture[str]) -> None:
    """`check --help` gives the numbers of random splits check_recording really uses."""
    from streamdantic._cli.check import DEFAULT_RANDOM_SPLITS, SMALL_RANDOM_SPLITS

    with pytest.raises(SystemExit):
        main(["check", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"default: {SMALL_RANDOM_SPLITS} for outputs up to --max-bytes" in text
    assert f"{DEFAULT_RANDOM_SPLITS} for larger ones" in text
