"""The WHATWG HTML Standard's own event stream examples, decoded as the spec says they must be.

Source: https://html.spec.whatwg.org/multipage/server-sent-events.html, §9.2.1 (Introduction)
and §9.2.6 (Interpreting an event stream). Each example runs with LF, CR and CRLF line endings
and is fed whole, byte by byte and in seeded random splits.
"""

from __future__ import annotations

import random
from typing import NamedTuple

import pytest

from streamdantic.sse import ServerSentEvent, SSEDecoder


class Example(NamedTuple):
    stream: list[str]  # the example's lines; each gets the line ending under test
    events: list[ServerSentEvent]  # what the spec says is dispatched
    last_event_id: str = ""


def ev(data: str, *, event: str = "message", id: str = "") -> ServerSentEvent:
    return ServerSentEvent(data, event=event, id=id)


EXAMPLES = {
    # §9.2.1: three messages, the second spanning two data lines.
    "intro-three-messages": Example(
        [
            "data: This is the first message.",
            "",
            "data: This is the second message, it",
            "data: has two lines.",
            "",
            "data: This is the third message.",
            "",
        ],
        [
            ev("This is the first message."),
            ev("This is the second message, it\nhas two lines."),
            ev("This is the third message."),
        ],
    ),
    # §9.2.1: two event types, "add" and "remove".
    "intro-event-types": Example(
        [
            "event: add",
            "data: 73857293",
            "",
            "event: remove",
            "data: 2153",
            "",
            "event: add",
            "data: 113411",
            "",
        ],
        [
            ev("73857293", event="add"),
            ev("2153", event="remove"),
            ev("113411", event="add"),
        ],
    ),
    # §9.2.6: the stock ticker; one message whose data is "YHOO\n+2\n10".
    "stock-ticker": Example(
        ["data: YHOO", "data: +2", "data: 10", ""],
        [ev("YHOO\n+2\n10")],
    ),
    # §9.2.6: four blocks. A comment block fires nothing; "id: 1" sets the last event ID; a
    # bare "id" resets it to ""; "data:  third event" keeps one of its two leading spaces.
    "four-blocks": Example(
        [
            ": test stream",
            "",
            "data: first event",
            "id: 1",
            "",
            "data:second event",
            "id",
            "",
            "data:  third event",
            "",
        ],
        [ev("first event", id="1"), ev("second event"), ev(" third event")],
    ),
    # §9.2.6: the same, but the end of the stream is not enough to dispatch the last event.
    "four-blocks-last-unterminated": Example(
        [
            ": test stream",
            "",
            "data: first event",
            "id: 1",
            "",
            "data:second event",
            "id",
            "",
            "data:  third event",
        ],
        [ev("first event", id="1"), ev("second event")],
    ),
    # §9.2.6: "data" alone gives an empty string, two of them a single newline, and the final
    # "data:" block is discarded because no blank line follows it.
    "data-without-colon": Example(
        ["data", "", "data", "data", "", "data:"],
        [ev(""), ev("\n")],
    ),
    # §9.2.6: two identical events, as the space after the colon is ignored if present.
    "space-after-colon": Example(
        ["data:test", "", "data: test", ""],
        [ev("test"), ev("test")],
    ),
}

LINE_ENDINGS = {"lf": "\n", "cr": "\r", "crlf": "\r\n"}


def build(example: Example, ending: str) -> bytes:
    lines = example.stream
    # A stream whose last line is not blank ends without a line ending, as in the spec's text.
    text = ending.join(lines) + (ending if lines[-1] == "" else "")
    return text.encode()


def chunkings(data: bytes) -> dict[str, list[bytes]]:
    modes = {
        "whole": [data],
        "bytewise": [data[i : i + 1] for i in range(len(data))],
    }
    for seed in range(5):
        rng = random.Random(seed)
        cuts = sorted(rng.sample(range(1, len(data)), k=min(len(data) - 1, 6)))
        bounds = [0, *cuts, len(data)]
        modes[f"random-{seed}"] = [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    return modes


@pytest.mark.parametrize("ending", sorted(LINE_ENDINGS))
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_spec_example(name: str, ending: str) -> None:
    """The spec's example dispatches exactly the events it describes, however it is chunked."""
    example = EXAMPLES[name]
    stream = build(example, LINE_ENDINGS[ending])
    for mode, chunks in chunkings(stream).items():
        decoder = SSEDecoder()
        events = [event for chunk in chunks for event in decoder.feed(chunk)]
        events += decoder.close()
        assert (events, decoder.last_event_id) == (example.events, example.last_event_id), mode


def test_four_blocks_last_event_id_after_first_event() -> None:
    """After the first event of the four-block example, a reconnect would send ID "1"."""
    decoder = SSEDecoder()
    decoder.feed(b": test stream\n\ndata: first event\nid: 1\n\n")
    assert decoder.last_event_id == "1"
