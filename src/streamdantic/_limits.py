"""The limits of batch collection, enforced on the bytes before ijson sees them.

`ItemCollector` hands JSON documents to ijson's C parser, which has no limits of its own: a
few kilobytes of ``[`` cost gigabytes (ijson builds a prefix string per level, each as long
as the nesting is deep), and a token split across pushes is lexed again from its start at
every push (yajl keeps the open token in a buffer and re-reads it), which is quadratic. This
module is the scanner that runs over every byte first, at C speed (`_speedups.prescan`, the
twin of `prescan` below), and that answers two questions:

- Is a limit crossed (nesting depth, string length, number length), and where? The
  collector then pushes ijson the bytes before that point (so that an earlier syntax error
  still wins) and raises `LimitExceededError`.
- Where may the bytes be cut for ijson? Cuts fall only between tokens: at each multiple of
  `step` (absolute offsets) the scanner proposes that position, or the start of the token
  that spans it. The collector pushes the bytes up to each cut (an item is so located to
  within `step` bytes, as before) and holds back the token still open at the end of a
  chunk until it closes. yajl then lexes every byte once, whatever the chunk size.

Strategy / invariants:
- The scanner is not a validator. It tracks only what the limits and the cuts need: inside
  a string or not (with escapes), the nesting depth, and the length of the open token. Any
  byte sequence is scanned without error; ijson reports what is malformed.
- A "bare" token is a run of bytes other than whitespace, ``[]{},:`` and ``"``: a number
  or a literal in valid JSON, garbage otherwise. Its length is bound by the number limit,
  so garbage without delimiters is never held back without bound either.
- String lengths are counted in characters of the decoded string, as `JSONParser` counts
  them: a UTF-8 sequence, an escape, and a surrogate pair written as two ``\\u`` escapes
  are one character each.
- In JSON Lines mode (``jsonl``) a CR or LF ends a document wherever it is: the scanner
  starts afresh, as the line splitter does; no cuts are made.
- The state is seven ints in a list, so that the C twin and the Python reference share it
  and a test can compare them after every call.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Final, Protocol, TypeAlias

__all__ = ["DEPTH", "NUMBER", "STRING", "new_state", "prescan"]

# Modes.
_BETWEEN: Final = 0
_STRING: Final = 1
_ESCAPE: Final = 2  # after a backslash in a string
_UHEX: Final = 3  # reading the four hex digits of a \u escape
_BARE: Final = 4

# Limit kinds `prescan` reports (0: none).
DEPTH: Final = 1
STRING: Final = 2
NUMBER: Final = 3

# State fields (indices into the state list).
_MODE, _DEPTH, _COUNT, _START, _ULEFT, _UVALUE, _PREVHIGH = range(7)


class _AlwaysMatch(Protocol):
    def __call__(self, string: bytes, pos: int, endpos: int, /) -> re.Match[bytes]: ...


# These patterns end in `*`, so they always match: typed so, bound once.
_between_run: _AlwaysMatch = re.compile(rb"[ \t\n\r,:]*").match  # type: ignore[assignment]
_between_run_lines: _AlwaysMatch = re.compile(rb"[ \t,:]*").match  # type: ignore[assignment]
_string_run: _AlwaysMatch = re.compile(rb'[^"\\]*').match  # type: ignore[assignment]
_string_run_lines: _AlwaysMatch = re.compile(rb'[^"\\\r\n]*').match  # type: ignore[assignment]
_bare_run: _AlwaysMatch = re.compile(rb'[^ \t\n\r,:\[\]{}"]*').match  # type: ignore[assignment]
_CONTINUATION_BYTES: Final = bytes(range(0x80, 0xC0))
_HEX: Final = {c: int(chr(c), 16) for c in b"0123456789abcdefABCDEF"}


PreScan: TypeAlias = Callable[
    [list[int], bytes, int, int, int, int, int, bool], tuple[list[int], int, int, int]
]


def new_state() -> list[int]:
    """The scanner's state before the first byte."""
    return [_BETWEEN, 0, 0, 0, 0, 0, 0]


def _py_prescan(
    state: list[int],
    data: bytes,
    base: int,
    step: int,
    max_depth: int,
    max_string: int,
    max_number: int,
    jsonl: bool,
) -> tuple[list[int], int, int, int]:
    """Scan `data`, the bytes at absolute offset `base`, and update `state`.

    Returns:
        ``(cuts, tail, kind, at)``, positions relative to `data`: the cuts proposed (in
        increasing order, each after the previous one's and at least 0); `tail`, how far
        the bytes may be pushed at the end (``len(data)``, or the start of the token still
        open, negative when it started before `data`); the kind of limit crossed (0 for
        none) and the position of the byte that crossed it (the state is that of the
        scan up to that byte). ``step=0``: no cuts.
    """
    mode, depth, count, start, u_left, u_value, prev_high = state
    n = len(data)
    cuts: list[int] = []
    last_cut = 0
    between_run = _between_run_lines if jsonl else _between_run
    string_run = _string_run_lines if jsonl else _string_run
    boundary = (base // step + 1) * step - base if step else n + 1
    kind = at = 0
    i = 0
    while True:
        end = min(boundary, n)
        # Run the state machine over data[i:end].
        while i < end:
            if mode == _BETWEEN:
                i = between_run(data, i, end).end()
                if i >= end:
                    break
                c = data[i]
                if c == 0x5B or c == 0x7B:  # [ {
                    if depth >= max_depth:
                        kind, at = DEPTH, i
                        break
                    depth += 1
                    i += 1
                elif c == 0x5D or c == 0x7D:  # ] }
                    if depth:
                        depth -= 1
                    i += 1
                elif c == 0x22:  # "
                    mode, start, count, prev_high = _STRING, base + i, 0, 0
                    i += 1
                elif jsonl and (c == 0x0A or c == 0x0D):
                    depth = 0
                    i += 1
                else:
                    mode, start, count = _BARE, base + i, 0
            elif mode == _STRING:
                j = string_run(data, i, end).end()
                if j > i:
                    run = data[i:j]
                    chars = len(run.translate(None, _CONTINUATION_BYTES))
                    if count + chars > max_string:
                        at = i
                        while True:  # find the byte that crossed the limit
                            if not 0x80 <= data[at] < 0xC0:
                                count += 1
                                if count > max_string:
                                    break
                            at += 1
                        kind = STRING
                        break
                    count += chars
                    if chars:
                        prev_high = 0
                    i = j
                    if i >= end:
                        break
                c = data[i]
                i += 1
                if c == 0x22:
                    mode = _BETWEEN
                elif c == 0x5C:
                    mode = _ESCAPE
                else:  # CR or LF in JSON Lines: the line ends here
                    mode, depth = _BETWEEN, 0
            elif mode == _ESCAPE:
                c = data[i]
                if jsonl and (c == 0x0A or c == 0x0D):
                    mode, depth = _BETWEEN, 0
                    i += 1
                elif c == 0x75:  # u
                    mode, u_left, u_value = _UHEX, 4, 0
                    i += 1
                else:
                    if count >= max_string:
                        kind, at = STRING, i
                        break
                    count += 1
                    prev_high = 0
                    mode = _STRING
                    i += 1
            elif mode == _UHEX:
                c = data[i]
                digit = _HEX.get(c)
                if digit is None:
                    # Not an escape yajl accepts: count it as one character and read the
                    # byte again as string content.
                    if count >= max_string:
                        kind, at = STRING, i
                        break
                    count += 1
                    prev_high = 0
                    mode = _STRING
                    continue
                u_value = u_value * 16 + digit
                u_left -= 1
                if u_left == 0:
                    low = 0xDC00 <= u_value < 0xE000
                    if not (low and prev_high):  # the low half of a pair adds nothing
                        if count >= max_string:
                            kind, at = STRING, i
                            break
                        count += 1
                    prev_high = 1 if 0xD800 <= u_value < 0xDC00 else 0
                    mode = _STRING
                i += 1
            else:  # _BARE
                j = _bare_run(data, i, end).end()
                if count + j - i > max_number:
                    kind, at = NUMBER, i + max_number - count
                    count = max_number + 1
                    break
                count += j - i
                i = j
                if i < end:
                    mode = _BETWEEN
        if kind:
            break
        if boundary > n:
            break
        # At a boundary: propose it, or the start of the token that spans it.
        cut = boundary if mode == _BETWEEN else start - base
        if cut > last_cut:
            cuts.append(cut)
            last_cut = cut
        boundary += step
    state[:] = [mode, depth, count, start, u_left, u_value, prev_high]
    tail = n if mode == _BETWEEN else start - base
    return cuts, tail, kind, at


def _compiled() -> PreScan | None:
    if os.environ.get("STREAMDANTIC_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from ._speedups import prescan as compiled
    except ImportError:
        return None
    return compiled


_C_PRESCAN = _compiled()
prescan: PreScan = _py_prescan if _C_PRESCAN is None else _C_PRESCAN
"""`_py_prescan`, compiled when `streamdantic._speedups` is built."""
