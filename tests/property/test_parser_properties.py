"""The parser's contract over generated documents and arbitrary chunkings (str and bytes)."""

from __future__ import annotations

import copy
import json
from typing import Any

import jiter
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from streamdantic import IncompleteJSONError, JSONParseError, JSONParser, LimitExceededError
from streamdantic._parser import PyJSONParser
from streamdantic.events import StringAppended, ValueCompleted, ValueStarted
from tests.property.contract import extends
from tests.property.strategies import chunkings, json_documents, json_string_pieces

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(chunks: list[Any]) -> tuple[Any, list[Any], list[Any]]:
    parser = JSONParser()
    partials = []
    events = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
        partials.append(copy.deepcopy(parser.value))
    return parser.finish(), partials, events


@SETTINGS
@given(st.data(), json_documents(), st.booleans())
def test_any_chunking_gives_json_loads_value(
    data: st.DataObject, text: str, as_bytes: bool
) -> None:
    """The final value equals json.loads (and jiter) whatever the chunking, str or bytes."""
    source: str | bytes = text.encode() if as_bytes else text
    final, _, _ = run(data.draw(chunkings(source)))
    assert final == json.loads(text)
    assert extends(final, jiter.from_json(text.encode())) and extends(
        jiter.from_json(text.encode()), final
    )


@SETTINGS
@given(st.data(), json_documents(), st.booleans())
def test_partials_only_grow_and_are_sub_values(
    data: st.DataObject, text: str, as_bytes: bool
) -> None:
    """Every partial extends the previous one and is a sub-value of the final document."""
    source: str | bytes = text.encode() if as_bytes else text
    final, partials, _ = run(data.draw(chunkings(source)))
    previous = None
    for partial in partials:
        if previous is not None:
            assert extends(partial, previous), (previous, partial)
        if partial is not None:
            assert extends(final, partial), (partial, final)
        previous = partial


@SETTINGS
@given(st.data(), json_documents())
def test_events_do_not_depend_on_chunking(data: st.DataObject, text: str) -> None:
    """Started and completed events are identical for any chunking; appended text adds up."""
    _, _, whole_events = run([text])
    _, _, split_events = run(data.draw(chunkings(text)))

    def structural(events: list[Any]) -> list[Any]:
        return [e for e in events if not isinstance(e, StringAppended)]

    assert structural(split_events) == structural(whole_events)
    texts: dict[Any, str] = {}
    for event in split_events:
        if isinstance(event, StringAppended):
            assert event.text, "an append event is never empty"
            texts[event.path] = texts.get(event.path, "") + event.text
    for event in split_events:
        if isinstance(event, ValueCompleted) and isinstance(event.value, str):
            assert texts.get(event.path, "") == event.value
    completed = [e.path for e in split_events if isinstance(e, ValueCompleted)]
    assert len(completed) == len(set(completed)), "each value completes exactly once"
    started = [e.path for e in split_events if isinstance(e, ValueStarted)]
    assert set(started) <= set(completed)


@SETTINGS
@given(json_documents(containers_only=True), st.data())
def test_every_truncation_is_incomplete(text: str, data: st.DataObject) -> None:
    """Cutting a container document anywhere raises IncompleteJSONError carrying the partial."""
    raw = text.encode()
    cut = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    parser = JSONParser()
    parser.feed(raw[:cut])
    partial = copy.deepcopy(parser.value)
    try:
        parser.finish()
    except IncompleteJSONError as exc:
        # finish() completes a number at the very end, so the error's partial may hold it.
        assert partial is None or extends(exc.partial, partial)
    else:
        raise AssertionError(f"{raw[:cut]!r} was accepted as complete")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.integers(min_value=1, max_value=8))
def test_random_bytes_raise_only_parse_errors(raw: bytes, step: int) -> None:
    """Arbitrary bytes either parse or raise JSONParseError; nothing else escapes."""
    parser = JSONParser()
    try:
        for i in range(0, len(raw), step):
            parser.feed(raw[i : i + step])
        parser.finish()
    except JSONParseError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='{}[]":,0123456789.eE+-truefalsn \\u', max_size=40))
def test_json_shaped_noise_raises_only_parse_errors(text: str) -> None:
    """JSON-shaped noise parses exactly when json.loads accepts it, else JSONParseError."""
    try:
        expected: Any = json.loads(text)
        ok = True
    except ValueError:
        ok = False
    parser = JSONParser()
    try:
        for ch in text:
            parser.feed(ch)
        value = parser.finish()
    except JSONParseError:
        assert not ok, text
    else:
        assert ok and value == expected, text


def observed(chunks: list[Any], *, events: bool) -> tuple[list[Any], list[Any]]:
    """What feeding `chunks` shows apart from the events, and the events."""
    parser = JSONParser(events=events)
    seen: list[Any] = []
    emitted: list[Any] = []
    try:
        for chunk in chunks:
            emitted.extend(parser.feed(chunk))
            paths = parser.open_paths
            seen.append((copy.deepcopy(parser.value), paths, parser.current_path, parser.offset))
            seen.append([parser.state_of(path) for path in paths])
        emitted.extend(parser.close())
        seen.append(parser.value)
    except JSONParseError as exc:
        seen.append((type(exc), str(exc), exc.offset, exc.path, exc.partial))
    return seen, emitted


@SETTINGS
@given(st.data(), json_documents(), st.integers(0, 10_000), st.sampled_from(["", "]", ",", "x"]))
def test_events_off_changes_nothing_but_the_events(
    data: st.DataObject, text: str, where: int, junk: str
) -> None:
    """With events=False, feed and close return no events; the value after every chunk, the
    paths, the states, the offset and any error (message and path) are the same."""
    where %= len(text) + 1
    chunks = data.draw(chunkings(text[:where] + junk + text[where:]))
    quiet, none = observed(chunks, events=False)
    loud, _ = observed(chunks, events=True)
    assert none == []
    assert quiet == loud


# Characters of numbers and the structure around them (no strings or literals): for such
# text, whether some JSON document still starts with it is decided by json.loads on the few
# completions below.
NUMBER_NOISE = "[]{},:0123456789.eE+- "
_CLOSERS = {"[": "]", "{": "}"}


def can_still_become_json(prefix: str) -> bool:
    """True when some JSON document starts with `prefix` (text over NUMBER_NOISE).

    Without strings, the open brackets are known exactly; a viable prefix then becomes a
    document by appending nothing or one digit (ending a number such as ``-``, ``1.`` or
    ``1e+``, or filling the value a ``,`` or an empty input waits for), then the closers.
    """
    stack: list[str] = []
    for c in prefix:
        if c in _CLOSERS:
            stack.append(c)
        elif c in "]}" and stack:
            stack.pop()
    closers = "".join(_CLOSERS[c] for c in reversed(stack))
    for tail in ("", "0"):
        try:
            json.loads(prefix + tail + closers)
        except ValueError:
            continue
        return True
    return False


@settings(max_examples=400, deadline=None)
@given(st.data(), st.text(alphabet=NUMBER_NOISE, max_size=30), st.booleans())
def test_parser_refuses_at_the_first_character_no_document_continues(
    data: st.DataObject, text: str, as_bytes: bool
) -> None:
    """The feed holding the first byte after which no JSON document can start with the
    input raises JSONParseError, and no earlier feed does, in any split, str or bytes."""
    dead = next((i for i in range(len(text)) if not can_still_become_json(text[: i + 1])), None)
    chunks = data.draw(chunkings(text.encode() if as_bytes else text))
    parser = JSONParser()
    fed = 0
    for chunk in chunks:
        fed += len(chunk)
        if dead is not None and fed > dead:
            try:
                parser.feed(chunk)
            except JSONParseError:
                return
            raise AssertionError(f"{text[: dead + 1]!r} cannot become JSON, yet it was accepted")
        parser.feed(chunk)
    assert dead is None
    try:
        expected: Any = json.loads(text)
    except ValueError:
        with pytest.raises(IncompleteJSONError):
            parser.finish()
    else:
        assert parser.finish() == expected


# Both scanners (the same class twice when the compiled one is not built).
SCANNERS = (JSONParser, PyJSONParser)


def outcome(cls: type[JSONParser] | type[PyJSONParser], chunks: list[Any], **options: Any) -> Any:
    """The final value, or the error raised: class, message, position, path, partial."""
    parser = cls(**options)
    try:
        for chunk in chunks:
            parser.feed(chunk)
        return parser.finish()
    except JSONParseError as exc:
        where = (exc.offset, exc.line, exc.column, exc.path)
        return (type(exc), exc.what, where, repr(exc.partial), repr(parser.value))


@SETTINGS
@given(st.data(), json_string_pieces(), st.integers(0, 24), st.booleans(), st.booleans())
def test_max_string_length_counts_the_characters_of_the_value(
    data: st.DataObject, string: tuple[str, list[str]], limit: int, in_key: bool, as_bytes: bool
) -> None:
    """A string or key, its characters written plain or escaped (short, ``\\u``, surrogate
    pairs), raises LimitExceededError exactly when its value is longer than
    max_string_length, at the first character beyond the limit, in any split, identically
    on both scanners."""
    value, pieces = string
    before = "{" if in_key else "["
    text = before + '"' + "".join(pieces) + ('": 0}' if in_key else '"]')
    chunks = data.draw(chunkings(text.encode() if as_bytes else text))
    results = [outcome(cls, chunks, max_string_length=limit) for cls in SCANNERS]
    assert results[0] == results[1]
    if len(value) <= limit:
        assert results[0] == ({value: 0} if in_key else [value])
        return
    error_class, what, (offset, line, column, path), partial, _ = results[0]
    head = before + '"' + "".join(pieces[:limit])  # the literal up to the first refused one
    assert error_class is LimitExceededError
    assert what == f"{'key' if in_key else 'string'} longer than max_string_length={limit}"
    assert (offset, line, column, path) == (
        len(head.encode()),
        1,
        len(head) + 1,
        () if in_key else (0,),
    )
    assert partial == repr({} if in_key else [value[:limit]])


@SETTINGS
@given(st.data(), json_documents(), st.integers(0, 400), st.booleans())
def test_max_size_counts_the_bytes_received(
    data: st.DataObject, text: str, max_size: int, as_bytes: bool
) -> None:
    """A document raises LimitExceededError exactly when it has more UTF-8 bytes than
    max_size, at the first character not wholly within it, in any split, identically on
    both scanners."""
    chunks = data.draw(chunkings(text.encode() if as_bytes else text))
    results = [outcome(cls, chunks, max_size=max_size) for cls in SCANNERS]
    assert results[0] == results[1]
    if len(text.encode()) <= max_size:
        assert results[0] == json.loads(text)
        return
    error_class, what, (offset, _, _, _), _, _ = results[0]
    fits = len(text.encode()[:max_size].decode("utf-8", "ignore"))
    assert error_class is LimitExceededError
    assert what == f"document larger than max_size={max_size} bytes"
    assert offset == len(text[:fits].encode())
