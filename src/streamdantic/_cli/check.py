"""`streamdantic check`: verify the partial-object contract on a recording, under every split.

A recording fixes one chunking of the output; a live model will chunk it differently every
time. So the check replays the recording as recorded, then re-splits the output text (the
bytes the JSON parser sees) and streams it again:

- at every byte boundary: the text in two pieces, for each position (outputs up to
  ``max_bytes``), and the text one byte per piece (outputs up to ``max_bytes``);
- at random: ``random_splits`` splittings at 1 to 64 random positions, seeded.

Byte-level splits cut inside multi-byte UTF-8 characters, escapes, numbers and literals,
which a provider's string deltas never do but a transport can. In every run the updates must
keep the contract (docs/contract.md):

- partials only grow: a string is a prefix of its later self, a list keeps its elements, an
  object keeps its keys; nothing shrinks, vanishes or changes type;
- numbers, booleans and null appear only complete: once shown, a scalar never changes;
- the final object is identical for every split (or every run fails the same way).

The first violation is reported with the split (where the pieces were cut) and the change.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .._aggregate import stream
from .._exceptions import StreamdanticError
from .._paths import JSONPath, render_path
from .util import EXIT_FAILED, EXIT_OK, CommandError, load_model
from .view import visible

__all__ = ["Outcome", "Violation", "check_growth", "check_recording", "run_check"]

DEFAULT_RANDOM_SPLITS = 100  # for outputs larger than max_bytes
SMALL_RANDOM_SPLITS = 20  # in addition to every boundary, for small outputs
# A random split cuts the output at up to this many positions. The recording already covers
# token-sized chunking; random splits add cuts at arbitrary places, and each piece costs a
# snapshot of the whole partial, so more cuts would make large outputs quadratic.
MAX_RANDOM_CUTS = 64


class Violation(Exception):
    """A run broke the partial-object contract."""

    def __init__(self, split: str, message: str) -> None:
        super().__init__(f"{split}: {message}")
        self.split = split
        self.message = message


@dataclass
class Outcome:
    """What one run produced: the snapshots of its updates and its end."""

    snapshots: list[Any]
    final: Any  # the visible final object, when the run succeeded
    error: str | None  # ``Type: message`` when it failed
    raw_text: str | None

    @property
    def error_type(self) -> str | None:
        """The exception class that ended the run (messages may differ between splits: a
        recording knows its finish reason, the re-split text does not)."""
        return self.error.split(":", 1)[0] if self.error else None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def check_growth(old: Any, new: Any, path: JSONPath = ()) -> str | None:
    """How `new` fails to be `old` grown (None when it is): the first difference found."""
    where = render_path(path)
    told, tnew = _json_type(old), _json_type(new)
    if told != tnew:
        return f"{where} changed type from {told} {_short(old)} to {tnew} {_short(new)}"
    if told == "object":
        for key, value in old.items():
            if key not in new:
                return f"{render_path((*path, key))} vanished (it was {_short(value)})"
            found = check_growth(value, new[key], (*path, key))
            if found:
                return found
        return None
    if told == "array":
        if len(new) < len(old):
            return f"{where} shrank from {len(old)} to {len(new)} elements"
        for i, value in enumerate(old):
            found = check_growth(value, new[i], (*path, i))
            if found:
                return found
        return None
    if told == "string":
        if not new.startswith(old):
            return f"{where} was rewritten: {_short(new)} does not continue {_short(old)}"
        return None
    if old != new:
        return (
            f"{where} changed from {_short(old)} to {_short(new)} "
            "(a number, boolean or null must appear only complete)"
        )
    return None


def run_items(items: Iterable[Any], model: Any, *, lenient: bool = False) -> Outcome:
    """Stream `items` and record a snapshot of every update."""
    snapshots: list[Any] = []
    s = stream(items, model, lenient=lenient)
    error: str | None = None
    try:
        with s:
            snapshots.extend(visible(u.partial) for u in s if not u.done)
    except StreamdanticError as exc:
        error = f"{type(exc).__name__}: {exc}"
    final = visible(s.final) if error is None else None
    return Outcome(snapshots, final, error, s.raw_text)


def verify(outcome: Outcome, split: str, reference: Outcome | None) -> None:
    """Raise `Violation` when a run breaks the contract (or differs from the reference)."""
    snapshots = outcome.snapshots
    for i in range(1, len(snapshots)):
        found = check_growth(snapshots[i - 1], snapshots[i])
        if found:
            raise Violation(split, f"between updates {i - 1} and {i}: {found}")
    if outcome.error is None and snapshots:
        found = check_growth(snapshots[-1], outcome.final)
        if found:
            raise Violation(split, f"between the last update and the final object: {found}")
    if reference is None:
        return
    if outcome.error_type != reference.error_type:
        raise Violation(
            split,
            f"the run ended with {outcome.error or 'a final object'}, but the whole output "
            f"ends with {reference.error or 'a final object'}",
        )
    if outcome.final != reference.final:
        found = check_growth(reference.final, outcome.final) or check_growth(
            outcome.final, reference.final
        )
        raise Violation(split, f"the final object differs from the whole output's: {found}")


def two_piece(data: bytes, at: int) -> list[bytes]:
    return [data[:at], data[at:]]


def random_pieces(data: bytes, rng: random.Random, max_cuts: int = MAX_RANDOM_CUTS) -> list[bytes]:
    """`data` cut at 1 to `max_cuts` random positions (fewer for short data)."""
    if len(data) < 2:
        return [data]
    count = rng.randint(1, min(max_cuts, len(data) - 1))
    cuts = sorted(rng.sample(range(1, len(data)), count))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _cuts(pieces: Sequence[bytes]) -> str:
    positions = []
    total = 0
    for piece in pieces[:-1]:
        total += len(piece)
        positions.append(total)
    shown = ", ".join(map(str, positions[:12])) + (", ..." if len(positions) > 12 else "")
    return f"cut at bytes {shown}"


def check_recording(
    items: Callable[[], Iterable[Any]],
    model: Any,
    *,
    random_splits: int | None = None,
    max_bytes: int = 2048,
    seed: int = 0,
    lenient: bool = False,
    progress: Callable[[str], None] | None = None,
) -> tuple[int, Outcome]:
    """Check the recording as recorded and its output text under every split.

    Args:
        items: makes the recording's stream items (called for the recorded run).
        model: the model (``None``: plain JSON values).
        random_splits: how many random splittings (default: `DEFAULT_RANDOM_SPLITS` for
            outputs larger than `max_bytes`, `SMALL_RANDOM_SPLITS` otherwise).
        max_bytes: outputs up to this size are split at every byte boundary.
        seed: seed of the random splits.
        lenient: skip prose or a code fence around the JSON (as `stream` does).
        progress: called with a line about each stage.

    Returns:
        The number of runs and the outcome of the recording as recorded (every other run
        ended the same way).

    Raises:
        Violation: the first run that broke the contract.
    """
    say = progress or (lambda line: None)
    recorded = run_items(items(), model, lenient=lenient)
    verify(recorded, "as recorded", None)
    text = recorded.raw_text
    runs = 1
    if not text:
        say("as recorded: ok (the recording carries delta chunks, not text: nothing to re-split)")
        return runs, recorded
    data = text.encode("utf-8")
    reference = run_items([data], model, lenient=lenient)
    runs += 1
    verify(reference, "the whole output in one piece", None)
    if reference.final != recorded.final or reference.error_type != recorded.error_type:
        verify(recorded, "as recorded", reference)
    say(f"as recorded and whole: ok ({len(data)} bytes of output)")
    small = len(data) <= max_bytes
    if small:
        for at in range(1, len(data)):
            verify(
                run_items(two_piece(data, at), model, lenient=lenient),
                f"split at byte {at}",
                reference,
            )
        runs += max(0, len(data) - 1)
        pieces = [data[i : i + 1] for i in range(len(data))]
        verify(run_items(pieces, model, lenient=lenient), "one byte per piece", reference)
        runs += 1
        say(f"every byte boundary: ok ({len(data) - 1} two-piece splits and one byte per piece)")
    count = random_splits
    if count is None:
        count = SMALL_RANDOM_SPLITS if small else DEFAULT_RANDOM_SPLITS
    rng = random.Random(seed)
    for k in range(count):
        pieces = random_pieces(data, rng)
        verify(
            run_items(pieces, model, lenient=lenient),
            f"random split #{k + 1} (seed {seed}, {len(pieces)} pieces, {_cuts(pieces)})",
            reference,
        )
    runs += count
    if count:
        say(f"{count} random splits: ok")
    return runs, recorded


def run_check(
    path: str,
    *,
    schema: str | None = None,
    format: str | None = None,
    random_splits: int | None = None,
    max_bytes: int = 2048,
    seed: int = 0,
    lenient: bool = False,
) -> int:
    """`streamdantic check`: exit 0 when the contract holds, 1 with the first violation."""
    from .recording import items, load_recording

    model = load_model(schema) if schema is not None else None
    recording = load_recording(path, format=format)
    started = time.perf_counter()
    print(f"checking {recording.name} ({recording.format})", flush=True)
    try:
        runs, reference = check_recording(
            lambda: items(recording),
            model,
            random_splits=random_splits,
            max_bytes=max_bytes,
            seed=seed,
            lenient=lenient,
            progress=lambda line: print(f"  {line}", flush=True),
        )
    except Violation as exc:
        print(f"streamdantic check: contract violated in {exc.split}: {exc.message}", flush=True)
        return EXIT_FAILED
    elapsed = time.perf_counter() - started
    if reference.error is not None:
        raise CommandError(
            f"the contract holds in {runs} runs, but the stream has no final object: "
            f"{reference.error}",
            code=EXIT_FAILED,
        )
    name = getattr(model, "__name__", "value")
    print(f"ok: {runs} runs in {elapsed:.1f} s; the final {name} is identical in every one")
    return EXIT_OK
