"""Provider batch result files: `BatchReader`, `collect_batch` and `acollect_batch`."""

from __future__ import annotations

import builtins
import gzip
import hashlib
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from pydantic import BaseModel, model_validator

import streamdantic as sd
from streamdantic import BatchFailureError, _batch, acollect_batch, collect_batch
from streamdantic.batch import (
    BatchReader,
    BatchResult,
    HTTPFailure,
    InvalidJSONFailure,
    MalformedLineFailure,
    ProviderFailure,
    RefusalFailure,
    TruncatedFailure,
    ValidationFailure,
)


class Person(BaseModel):
    name: str
    age: int


GOOD = '{"name": "Ada", "age": 36}'


# --- Line builders, in each provider's documented shape ------------------------------------


def openai_chat(
    custom_id: str,
    content: str | None = GOOD,
    *,
    finish: str = "stop",
    status: int = 200,
    refusal: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
) -> str:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }
    if status != 200:
        body = {"error": {"message": "Rate limit reached", "type": "requests"}}
    return json.dumps(
        {
            "id": "batch_req_1",
            "custom_id": custom_id,
            "response": {"status_code": status, "request_id": "req_1", "body": body},
            "error": None,
        }
    )


def openai_responses(custom_id: str, text: str = GOOD, *, refusal: str | None = None) -> str:
    part = (
        {"type": "refusal", "refusal": refusal}
        if refusal
        else {"type": "output_text", "text": text, "annotations": []}
    )
    body = {
        "id": "resp_1",
        "object": "response",
        "status": "completed",
        "output": [{"type": "message", "role": "assistant", "content": [part]}],
        "usage": {"input_tokens": 20, "output_tokens": 8, "total_tokens": 28},
    }
    return json.dumps(
        {
            "id": "batch_req_2",
            "custom_id": custom_id,
            "response": {"status_code": 200, "body": body},
            "error": None,
        }
    )


def openai_error(custom_id: str) -> str:
    return json.dumps(
        {
            "id": "batch_req_3",
            "custom_id": custom_id,
            "response": None,
            "error": {"code": "batch_expired", "message": "This request could not be executed"},
        }
    )


def anthropic(
    custom_id: str,
    blocks: list[dict[str, Any]] | None = None,
    *,
    stop: str = "end_turn",
    kind: str = "succeeded",
) -> str:
    if kind != "succeeded":
        result: dict[str, Any] = {"type": kind}
        if kind == "errored":
            result["error"] = {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": "max_tokens: too large"},
            }
        return json.dumps({"custom_id": custom_id, "result": result})
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": blocks if blocks is not None else [{"type": "text", "text": GOOD}],
        "stop_reason": stop,
        "usage": {"input_tokens": 30, "output_tokens": 12},
    }
    return json.dumps({"custom_id": custom_id, "result": {"type": "succeeded", "message": message}})


def gemini(
    key: str,
    parts: list[dict[str, Any]] | None = None,
    *,
    finish: str = "STOP",
    error: dict[str, Any] | None = None,
) -> str:
    if error is not None:
        return json.dumps({"key": key, "error": error})
    response = {
        "candidates": [
            {
                "content": {"role": "model", "parts": parts or [{"text": GOOD}]},
                "finishReason": finish,
            }
        ],
        "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 4, "totalTokenCount": 11},
    }
    return json.dumps({"key": key, "response": response})


def lines(*rows: str) -> bytes:
    return "".join(row + "\n" for row in rows).encode()


def outcomes(data: bytes, **options: Any) -> list[sd.batch.BatchOutcome]:
    return list(collect_batch(data, Person, **options))


# --- OpenAI ----------------------------------------------------------------------------------


def test_openai_chat_completion_line_validates_with_id_usage_and_finish_reason() -> None:
    """A chat completion line gives the object, its custom_id, usage and finish reason."""
    [outcome] = outcomes(lines(openai_chat("req-1")))
    assert outcome == BatchResult(
        custom_id="req-1",
        file="<input>",
        line=1,
        text=GOOD,
        usage=sd.parts.Usage(10, 5, 15),
        finish_reason="stop",
        format="openai",
        value=Person(name="Ada", age=36),
    )


def test_openai_responses_object_line_validates() -> None:
    """A Responses API body's output_text is validated; its usage is read."""
    [outcome] = outcomes(lines(openai_responses("r")))
    assert isinstance(outcome, BatchResult)
    assert outcome.value == Person(name="Ada", age=36)
    assert outcome.usage == sd.parts.Usage(20, 8, 28)
    assert outcome.finish_reason == "completed"


def test_openai_tool_call_arguments_are_validated() -> None:
    """The arguments of a chat tool call are validated instead of the (empty) text."""
    call = {"id": "c1", "type": "function", "function": {"name": "save", "arguments": GOOD}}
    [outcome] = outcomes(lines(openai_chat("t", None, tool_calls=[call])))
    assert isinstance(outcome, BatchResult)
    assert (outcome.tool, outcome.value) == ("save", Person(name="Ada", age=36))


def test_tool_option_selects_the_named_call() -> None:
    """tool= picks the call with that name among several."""
    calls = [
        {"id": "1", "type": "function", "function": {"name": "log", "arguments": "{}"}},
        {"id": "2", "type": "function", "function": {"name": "save", "arguments": GOOD}},
    ]
    [outcome] = outcomes(lines(openai_chat("t", None, tool_calls=calls)), tool="save")
    assert isinstance(outcome, BatchResult)
    assert outcome.tool == "save"


def test_openai_http_error_is_an_http_failure() -> None:
    """A non-200 status_code becomes HTTPFailure with the status and the error message."""
    [outcome] = outcomes(lines(openai_chat("h", status=429)))
    assert isinstance(outcome, HTTPFailure)
    assert (outcome.custom_id, outcome.status_code, outcome.line) == ("h", 429, 1)
    assert "HTTP 429: Rate limit reached" in outcome.message


def test_openai_error_file_line_is_a_provider_failure() -> None:
    """A line of the error file (response null, error set) becomes ProviderFailure."""
    [outcome] = outcomes(lines(openai_error("e")))
    assert isinstance(outcome, ProviderFailure)
    assert (outcome.custom_id, outcome.reason) == ("e", "batch_expired")
    assert outcome.raw == openai_error("e")


@pytest.mark.parametrize(
    "row",
    [openai_chat("x", None, refusal="I can't help"), openai_responses("x", refusal="I can't help")],
    ids=["chat", "responses"],
)
def test_openai_refusal_is_a_refusal_failure(row: str) -> None:
    """A refusal (chat message.refusal or a Responses refusal part) is RefusalFailure."""
    [outcome] = outcomes(lines(row))
    assert isinstance(outcome, RefusalFailure)
    assert outcome.refusal == "I can't help"


def test_output_not_json_is_invalid_json_failure() -> None:
    """Model text that is not JSON becomes InvalidJSONFailure, keeping the text."""
    [outcome] = outcomes(lines(openai_chat("n", "Sure! Here is the JSON")))
    assert isinstance(outcome, InvalidJSONFailure)
    assert outcome.text == "Sure! Here is the JSON"
    assert outcome.usage == sd.parts.Usage(10, 5, 15)


def test_validation_failure_carries_the_json_path() -> None:
    """Output that does not fit the model becomes ValidationFailure with the error's path."""
    [outcome] = outcomes(lines(openai_chat("v", '{"name": "Ada", "age": "old"}')))
    assert isinstance(outcome, ValidationFailure)
    assert not isinstance(outcome, TruncatedFailure)
    assert outcome.path == "$.age"
    assert [e["type"] for e in outcome.errors] == ["int_parsing"]
    assert "$.age" in outcome.message


def test_output_cut_at_the_token_limit_is_truncated() -> None:
    """finish_reason "length" with output that does not validate is TruncatedFailure."""
    [outcome] = outcomes(lines(openai_chat("l", '{"name": "Ad', finish="length")))
    assert isinstance(outcome, TruncatedFailure)
    assert outcome.finish_reason == "length"
    assert "token limit" in outcome.message


def test_truncated_output_that_validates_is_a_result() -> None:
    """Output that stopped at the limit but still validates is a result with that reason."""
    [outcome] = outcomes(lines(openai_chat("l", GOOD, finish="length")))
    assert isinstance(outcome, BatchResult)
    assert outcome.finish_reason == "length"


# --- Anthropic -------------------------------------------------------------------------------


def test_anthropic_text_result_validates() -> None:
    """A succeeded Message Batches result's text is validated, with usage and stop reason."""
    [outcome] = outcomes(lines(anthropic("a")))
    assert isinstance(outcome, BatchResult)
    assert outcome.format == "anthropic"
    assert (outcome.value, outcome.finish_reason) == (Person(name="Ada", age=36), "end_turn")
    assert outcome.usage == sd.parts.Usage(30, 12, 42)


def test_anthropic_tool_use_input_is_validated() -> None:
    """A tool_use block's input is the object; a text preamble is not."""
    blocks = [
        {"type": "text", "text": "I'll record that."},
        {"type": "tool_use", "id": "tu", "name": "record", "input": {"name": "Ada", "age": 36}},
    ]
    [outcome] = outcomes(lines(anthropic("a", blocks, stop="tool_use")))
    assert isinstance(outcome, BatchResult)
    assert (outcome.tool, outcome.value) == ("record", Person(name="Ada", age=36))
    assert outcome.text == GOOD


@pytest.mark.parametrize("kind", ["errored", "canceled", "expired"])
def test_anthropic_unsuccessful_results_are_provider_failures(kind: str) -> None:
    """errored, canceled and expired results become ProviderFailure with that reason."""
    [outcome] = outcomes(lines(anthropic("a", kind=kind)))
    assert isinstance(outcome, ProviderFailure)
    assert (outcome.custom_id, outcome.reason) == ("a", kind)


def test_anthropic_errored_message_is_in_the_failure() -> None:
    """The nested error message of an errored result is reported."""
    [outcome] = outcomes(lines(anthropic("a", kind="errored")))
    assert "max_tokens: too large" in outcome.message  # type: ignore[attr-defined]


def test_anthropic_refusal_and_max_tokens() -> None:
    """stop_reason refusal is RefusalFailure; max_tokens with cut JSON is TruncatedFailure."""
    refused, cut = outcomes(
        lines(
            anthropic("r", [{"type": "text", "text": "No."}], stop="refusal"),
            anthropic("m", [{"type": "text", "text": '{"name": '}], stop="max_tokens"),
        )
    )
    assert isinstance(refused, RefusalFailure)
    assert refused.refusal == "No."
    assert isinstance(cut, TruncatedFailure)
    assert cut.custom_id == "m"


# --- Gemini ----------------------------------------------------------------------------------


def test_gemini_output_line_validates_with_its_key() -> None:
    """A Gemini batch line gives the object under its key, with usageMetadata."""
    [outcome] = outcomes(lines(gemini("g1")))
    assert isinstance(outcome, BatchResult)
    assert (outcome.custom_id, outcome.format) == ("g1", "gemini")
    assert outcome.usage == sd.parts.Usage(7, 4, 11)


def test_gemini_function_call_args_and_failures() -> None:
    """functionCall args validate; an error line and a SAFETY finish are failures."""
    call = {"functionCall": {"name": "save", "args": {"name": "Ada", "age": 36}}}
    ok, error, blocked = outcomes(
        lines(
            gemini("c", [call]),
            gemini("e", error={"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}),
            gemini("s", [{"text": ""}], finish="SAFETY"),
        )
    )
    assert isinstance(ok, BatchResult)
    assert ok.tool == "save"
    assert isinstance(error, ProviderFailure)
    assert error.reason == "INVALID_ARGUMENT"
    assert isinstance(blocked, RefusalFailure)
    assert blocked.refusal == "SAFETY"


# --- Bad input -------------------------------------------------------------------------------


def test_a_line_that_is_not_json_is_reported_and_the_batch_goes_on() -> None:
    """A garbage line becomes MalformedLineFailure with its line; later lines still count."""
    first, bad, last = outcomes(lines(openai_chat("1"), "{oops", openai_chat("3")))
    assert isinstance(bad, MalformedLineFailure)
    assert (bad.line, bad.raw) == (2, "{oops")
    assert "<input>, line 2: the line is not JSON" in bad.message
    assert isinstance(first, BatchResult)
    assert isinstance(last, BatchResult)
    assert last.line == 3


def test_a_truncated_last_line_is_reported_as_truncated() -> None:
    """A last line cut short (no line ending, not JSON) is a truncated-line failure."""
    data = lines(openai_chat("1")) + openai_chat("2")[:40].encode()
    first, cut = outcomes(data)
    assert isinstance(first, BatchResult)
    assert isinstance(cut, MalformedLineFailure)
    assert cut.line == 2
    assert "last line is truncated" in cut.message


def test_a_last_line_without_line_ending_is_read() -> None:
    """A complete last line without a trailing newline is an ordinary outcome."""
    [outcome] = outcomes(openai_chat("1").encode())
    assert isinstance(outcome, BatchResult)


def test_unknown_format_is_an_outcome_per_line() -> None:
    """Lines of no known batch format become failures that name the expected formats."""
    data = lines(json.dumps({"name": "Ada"}), json.dumps({"id": 2}))
    first, second = outcomes(data)
    assert isinstance(first, MalformedLineFailure)
    assert isinstance(second, MalformedLineFailure)
    assert second.line == 2
    assert "unknown batch format (keys: name)" in first.message


def test_named_format_skips_detection() -> None:
    """format="anthropic" reads a line without custom_id (detection would not know it)."""
    row = json.dumps({"result": json.loads(anthropic("x"))["result"]})
    [outcome] = outcomes(lines(row), format="anthropic")
    assert isinstance(outcome, BatchResult)
    assert outcome.custom_id is None


def test_blank_lines_and_crlf_keep_line_numbers() -> None:
    """Blank lines yield nothing but count; CRLF endings are accepted."""
    data = (openai_chat("1") + "\r\n\r\n" + openai_chat("3") + "\r\n").encode()
    assert [o.line for o in outcomes(data)] == [1, 3]


def test_any_split_gives_the_same_outcomes() -> None:
    """Feeding the bytes one at a time gives the outcomes of feeding them whole."""
    data = lines(openai_chat("1"), "{bad", openai_chat("3", '{"age": 1}')) + b'{"cut'
    whole = BatchReader(Person)
    expected = whole.feed(data) + whole.close()
    reader = BatchReader(Person)
    got = [o for i in range(len(data)) for o in reader.feed(data[i : i + 1])] + reader.close()
    assert got == expected
    assert [o.kind for o in got] == ["ok", "malformed_line", "validation_error", "malformed_line"]


def test_reader_memory_holds_only_the_unfinished_line() -> None:
    """After complete lines the reader holds nothing but the pending part of the next."""
    reader = BatchReader(Person)
    reader.feed(lines(openai_chat("1"), openai_chat("2")) + b'{"custom')
    assert reader._pending == [b'{"custom']


def test_feed_after_close_is_a_usage_error() -> None:
    """feed() after close() raises UsageError saying to use a new reader."""
    reader = BatchReader(Person)
    reader.close()
    with pytest.raises(sd.UsageError, match="new BatchReader"):
        reader.feed(b"{}")


# --- on_invalid, options, sources ------------------------------------------------------------


def test_on_invalid_skip_yields_results_and_keeps_failures() -> None:
    """on_invalid="skip" yields only results; the failures are in .failures."""
    it = collect_batch(
        lines(openai_chat("1"), "nope", openai_error("3")), Person, on_invalid="skip"
    )
    assert [o.custom_id for o in it] == ["1"]
    assert [f.kind for f in it.failures] == ["malformed_line", "provider_error"]


def test_on_invalid_raise_raises_at_the_first_failure() -> None:
    """on_invalid="raise" raises BatchFailureError with the failure as .outcome."""
    it = collect_batch(lines(openai_chat("1"), openai_error("2")), Person, on_invalid="raise")
    assert next(it).custom_id == "1"
    with pytest.raises(BatchFailureError) as info:
        next(it)
    assert isinstance(info.value.outcome, ProviderFailure)
    assert "line 2 (custom_id '2')" in str(info.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"format": "openai-batch"}, "format must be one of"),
        ({"on_invalid": "ignore"}, "on_invalid must be one of"),
        ({"chunk_size": 0}, "chunk_size must be a positive int"),
    ],
    ids=["format", "on_invalid", "chunk_size"],
)
def test_bad_options_list_the_valid_values(options: dict[str, Any], message: str) -> None:
    """A bad option value raises ValueError naming the valid ones."""
    with pytest.raises(ValueError, match=message):
        collect_batch(b"", Person, **options)


def test_a_str_source_is_refused_with_a_hint() -> None:
    """A str is not taken for a path: the error says to pass a Path or a glob."""
    with pytest.raises(TypeError, match=r"pathlib.Path\('out.jsonl'\)"):
        list(collect_batch("out.jsonl", Person))  # type: ignore[arg-type]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_directory_glob_and_gzip_sources(tmp_path: Path) -> None:
    """A directory's files are read in name order, gzip decompressed on the fly."""
    write(tmp_path / "a.jsonl", lines(openai_chat("a1"), openai_chat("a2")))
    write(tmp_path / "b.jsonl.gz", gzip.compress(lines(anthropic("b1"))))
    write(tmp_path / ".hidden", b"ignored")
    it = collect_batch(tmp_path, Person)
    got = [(Path(o.file).name, o.line, o.custom_id, o.kind) for o in it]
    assert got == [
        ("a.jsonl", 1, "a1", "ok"),
        ("a.jsonl", 2, "a2", "ok"),
        ("b.jsonl.gz", 1, "b1", "ok"),
    ]
    globbed = collect_batch(sorted(tmp_path.glob("*.gz")), Person)
    assert [o.custom_id for o in globbed] == ["b1"]


def test_a_truncated_gzip_file_is_reported_not_raised(tmp_path: Path) -> None:
    """A gzip stream cut short yields the complete lines and then failures, no exception."""
    ids = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(50)]  # incompressible
    packed = gzip.compress(lines(*map(openai_chat, ids)))
    path = write(tmp_path / "cut.jsonl.gz", packed[: len(packed) // 2])
    got = list(collect_batch(path, Person))
    assert got
    assert got[0].kind == "ok"
    assert isinstance(got[-1], MalformedLineFailure)
    assert "compressed stream is truncated" in got[-1].message


def test_summary_counts_kinds_and_tokens(tmp_path: Path) -> None:
    """The summary counts outcomes per kind, files, lines and tokens."""
    path = write(tmp_path / "x.jsonl", lines(openai_chat("1"), openai_chat("2", "no"), "bad"))
    it = collect_batch([path, lines(anthropic("a"))], Person)
    list(it)
    summary = it.summary
    assert dict(summary.counts) == {"ok": 2, "invalid_json": 1, "malformed_line": 1}
    assert (summary.files, summary.lines, summary.ok, summary.failed) == (2, 4, 2, 2)
    assert (summary.input_tokens, summary.output_tokens) == (10 + 10 + 30, 5 + 5 + 12)
    assert summary.bytes == path.stat().st_size + len(lines(anthropic("a")))
    assert "4 requests in 2 file(s)" in str(summary)


def test_memory_is_bounded_by_the_longest_line(tmp_path: Path) -> None:
    """Reading a file never feeds the reader more than one chunk at a time."""
    path = write(tmp_path / "x.jsonl", lines(*(openai_chat(str(i)) for i in range(200))))
    sizes: list[int] = []
    original = BatchReader._outcomes

    def spy(self: BatchReader[Any], data: bytes, /) -> Iterator[sd.batch.BatchOutcome]:
        sizes.append(len(data))
        return original(self, data)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BatchReader, "_outcomes", spy)
        assert len(list(collect_batch(path, Person, chunk_size=4096))) == 200
    assert max(sizes) <= 4096


def test_outcomes_are_frozen() -> None:
    """An outcome is a value: its fields cannot be assigned."""
    [outcome] = outcomes(lines(openai_chat("1")))
    with pytest.raises(AttributeError):
        outcome.custom_id = "2"  # type: ignore[misc]


@pytest.mark.anyio
async def test_acollect_batch_matches_collect_batch(tmp_path: Path) -> None:
    """The async twin yields the same outcomes and summary counts as collect_batch."""
    write(tmp_path / "a.jsonl", lines(openai_chat("1"), "bad", openai_error("3")))
    write(tmp_path / "b.jsonl.gz", gzip.compress(lines(gemini("g"))))
    expected = list(collect_batch(tmp_path, Person, chunk_size=64))
    it = acollect_batch(tmp_path, Person, chunk_size=64)
    async with it:
        got = [outcome async for outcome in it]
    assert got == expected
    assert dict(it.summary.counts) == {"ok": 2, "malformed_line": 1, "provider_error": 1}


class _CountedPerson(Person):
    """A Person whose validations are counted, with the thread each ran in."""

    @model_validator(mode="after")
    def _count(self) -> _CountedPerson:
        _VALIDATED.append(threading.get_ident())
        return self


_VALIDATED: list[int] = []


@pytest.fixture
def validated() -> Iterator[list[int]]:
    _VALIDATED.clear()
    yield _VALIDATED
    _VALIDATED.clear()


@pytest.mark.anyio
async def test_acollect_batch_hands_over_a_few_objects_per_thread_hop(
    tmp_path: Path, validated: list[int]
) -> None:
    """Validation runs in worker threads, and the event loop side is never more than
    `_THREAD_BATCH` outcomes behind, even when one read holds the whole file."""
    write(tmp_path / "a.jsonl", lines(*(openai_chat(str(i)) for i in range(100))))
    loop_thread = threading.get_ident()
    ahead = consumed = 0
    async for outcome in acollect_batch(tmp_path, _CountedPerson):
        assert outcome.ok
        consumed += 1
        ahead = max(ahead, len(validated) - consumed + 1)
    assert consumed == len(validated) == 100
    assert loop_thread not in validated
    assert ahead == _batch._THREAD_BATCH


@pytest.mark.anyio
async def test_acollect_batch_cancelled_stops_after_the_batch_and_closes_the_file(
    tmp_path: Path, validated: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled after its first outcome, acollect_batch waits for the batch being made,
    then closes the file: no thread validates on past that batch."""
    write(tmp_path / "a.jsonl", lines(*(openai_chat(str(i)) for i in range(100))))
    opened: list[Any] = []

    def spy_open(*args: Any, **kwargs: Any) -> Any:
        opened.append(builtins.open(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(_batch, "open", spy_open, raising=False)
    with anyio.CancelScope() as scope:
        async with acollect_batch(tmp_path, _CountedPerson) as outcomes:
            async for _ in outcomes:
                scope.cancel()
                await anyio.lowlevel.checkpoint()
    assert scope.cancelled_caught
    assert len(opened) == 1 and opened[0].closed
    assert len(validated) == _batch._THREAD_BATCH


@pytest.mark.anyio
async def test_acollect_batch_errors_match_collect_batch(tmp_path: Path) -> None:
    """on_invalid="raise" raises at the same outcome, after the same outcomes, in both."""
    data = lines(*(openai_chat(str(i)) for i in range(11)), "{oops", openai_chat("12"))
    write(tmp_path / "a.jsonl", data)
    sync: list[str | None] = []
    with pytest.raises(BatchFailureError) as caught_sync:
        for outcome in collect_batch(tmp_path, Person, on_invalid="raise"):
            sync.append(outcome.custom_id)  # noqa: PERF401 - the loop ends by raising
    got: list[str | None] = []
    with pytest.raises(BatchFailureError) as caught:
        async for outcome in acollect_batch(tmp_path, Person, on_invalid="raise"):
            got.append(outcome.custom_id)  # noqa: PERF401 - the loop ends by raising
    assert got == sync == [str(i) for i in range(11)]
    assert caught.value.outcome == caught_sync.value.outcome


@pytest.mark.anyio
async def test_acollect_batch_reads_an_async_iterable_of_chunks() -> None:
    """An async iterable of bytes chunks (an HTTP body) is one uncompressed file."""
    data = lines(anthropic("a"), anthropic("b", kind="expired"))

    async def body() -> Any:
        for i in range(0, len(data), 7):
            yield data[i : i + 7]

    got = [o.kind async for o in acollect_batch(body(), Person)]
    assert got == ["ok", "provider_error"]


def test_gzip_members_and_file_objects_without_peek() -> None:
    """Concatenated gzip members are one text; a BytesIO (no peek) is sniffed too."""
    data = gzip.compress(lines(openai_chat("1"))) + gzip.compress(lines(openai_chat("2")))
    got = [o.custom_id for o in collect_batch(io.BytesIO(data), Person, chunk_size=16)]
    assert got == ["1", "2"]


def test_zstd_without_a_decoder_says_what_to_install() -> None:
    """A zstd file with no zstd decoder installed raises UsageError naming zstandard."""
    try:
        import zstandard  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover - not installed here
        pytest.skip("zstandard is installed: zstd files are read")
    with pytest.raises(sd.UsageError, match="pip install zstandard"):
        list(collect_batch(b"\x28\xb5\x2f\xfd" + b"\0" * 8, Person))


def test_a_line_of_another_format_in_a_detected_file_is_malformed() -> None:
    """Once a file is Anthropic, an OpenAI line in it is a malformed line, with its id."""
    first, other = outcomes(lines(anthropic("a"), openai_error("o")))
    assert first.kind == "ok"
    assert isinstance(other, MalformedLineFailure)
    assert other.custom_id == "o"
    assert "anthropic batch format (missing or odd 'result')" in other.message


def test_the_loop_hands_out_each_outcome_before_validating_the_next_line() -> None:
    """collect_batch validates lazily: one outcome is alive at a time, not a read's worth."""
    validated: list[int] = []

    class Counted(Person):
        def model_post_init(self, context: Any, /) -> None:
            validated.append(1)

    data = lines(*(openai_chat(str(i)) for i in range(5)))
    it = collect_batch(data, Counted)
    next(it)
    assert len(validated) == 1


def test_openai_responses_function_call_and_incomplete_output() -> None:
    """A Responses function_call's arguments validate; an incomplete cut output is truncated."""
    call = {"type": "function_call", "name": "save", "call_id": "c", "arguments": GOOD}
    body = {"status": "completed", "output": [call], "usage": {"input_tokens": 1}}
    cut = {
        "status": "incomplete",
        "incomplete_details": {"reason": "max_output_tokens"},
        "output": [{"type": "message", "content": [{"type": "output_text", "text": '{"na'}]}],
    }
    rows = [
        json.dumps({"custom_id": cid, "response": {"status_code": 200, "body": b}, "error": None})
        for cid, b in (("f", body), ("i", cut))
    ]
    called, truncated = outcomes(lines(*rows))
    assert isinstance(called, BatchResult)
    assert (called.tool, called.usage) == ("save", sd.parts.Usage(1, None, None))
    assert isinstance(truncated, TruncatedFailure)
    assert truncated.finish_reason == "max_output_tokens"


def test_vertex_batch_prediction_status_is_a_provider_failure() -> None:
    """A Vertex AI line with a non-empty status (and a request echo) is ProviderFailure."""
    row = json.dumps({"request": {"contents": []}, "response": {"candidates": []}, "status": "Bad"})
    ok_row = json.dumps(
        {"request": {}, "status": "", "response": json.loads(gemini("k"))["response"]}
    )
    failed, ok = outcomes(lines(row, ok_row))
    assert isinstance(failed, ProviderFailure)
    assert failed.message.endswith(": Bad")
    assert isinstance(ok, BatchResult)
