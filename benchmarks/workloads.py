"""Deterministic JSON documents and chunkers for the parser benchmarks.

Every document is a pure function of (workload, target size, seed): items come from a
`random.Random(seed)` stream in a fixed order, and the document holds the longest prefix of
that item stream whose serialization is closest to the target size in UTF-8 bytes.
Chunkers split the text by characters (never inside a code point), also seeded.

Workloads (formatting in brackets):

- ``prose``    an essay: title, summary, sections with long multi-paragraph bodies
               (``\\n\\n`` escapes, a few ``\\"`` quotes)            [compact]
- ``records``  orders with a nested customer/address and 1-6 line items of mixed types
               (str, int, float, bool, null, short arrays)         [json.dumps indent=2]
- ``numbers``  one array of ints, floats and exponents (``1.5e-07``, ``-6.02e+23``) [compact]
- ``deep``     many trees nested 50-196 containers deep (objects and arrays alternating);
               the document's total depth stays <= 198, under jiter's recursion limit [compact]
- ``unicode``  messages in CJK, kana, Cyrillic, accented Latin and emoji, with ``\\n``,
               ``\\t``, ``\\"`` and ``\\\\``; every other message is written with
               ensure_ascii=True (so ``\\u00e9`` and surrogate pairs ``\\ud83d\\ude00``
               appear), the rest as raw UTF-8                       [compact]
- ``string``   ``{"text": "<one string filling the whole size>"}``: prose with ``\\n``
               escapes; at 2M this is the single-2-MB-string case    [compact]

"Compact" means ``json.dumps(..., separators=(",", ":"), ensure_ascii=False)``.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CHUNKINGS",
    "SIZES",
    "WORKLOADS",
    "Workload",
    "chunk",
    "document",
]

#: Size names and their target in UTF-8 bytes (decimal units).
SIZES: dict[str, int] = {"2K": 2_000, "20K": 20_000, "200K": 200_000, "2M": 2_000_000}

_COMPACT: dict[str, Any] = {"separators": (",", ":"), "ensure_ascii": False}


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    formatting: str
    make: Callable[[int, int], str]


# -- shared text generators ------------------------------------------------------------------

# A small hand-made vocabulary; the text only needs the rhythm of prose (word lengths,
# punctuation, sentence and paragraph lengths), not meaning.
_WORDS = (
    "the of and to in a is that for it as with was on be by this are from or at an which "
    "have not but they has more can their one all will also these about been were its other "
    "when than into only some would could there such most time first two between through "
    "model data system stream parser value token output result answer question reason "
    "structure language process example response context object field number string "
    "because however therefore although while whereas meanwhile moreover instead "
    "careful simple complete partial careful steady rapid gradual visible useful common "
    "history economy climate energy market city river mountain garden library theory "
    "measure compare describe explain consider suggest observe follow improve reduce "
    "early later often rarely usually clearly quickly slowly finally initially largely"
).split()


def _sentence(rng: random.Random) -> str:
    n = rng.randint(6, 24)
    words = [rng.choice(_WORDS) for _ in range(n)]
    if n > 10 and rng.random() < 0.4:
        words[rng.randrange(3, n - 3)] += ","
    if rng.random() < 0.08:
        i = rng.randrange(0, n - 2)
        words[i] = '"' + words[i]
        words[i + 1] += '"'
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice("....?!")


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(3, 8)))


def _title(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 7))).title()


# -- fitting a stream of items into a byte budget -------------------------------------------


def _fit(items: Iterator[Any], render: Callable[[list[Any]], str], target: int) -> str:
    """The prefix of `items` (at least one) whose rendering is closest to `target` bytes."""
    taken: list[Any] = [next(items)]
    # Grow geometrically past the target, then binary-search the item count.
    while len(render(taken).encode()) <= target:
        taken.extend(itertools.islice(items, len(taken)))
    lo, hi = 1, len(taken)  # render(taken[:lo]) fits (or lo == 1); render(taken[:hi]) doesn't
    if len(render(taken[:1]).encode()) > target:
        return render(taken[:1])
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if len(render(taken[:mid]).encode()) <= target:
            lo = mid
        else:
            hi = mid
    below, above = render(taken[:lo]), render(taken[:hi])
    return below if target - len(below.encode()) <= len(above.encode()) - target else above


# -- workloads ---------------------------------------------------------------------------------


def _prose(target: int, seed: int) -> str:
    rng = random.Random(f"prose-{seed}")
    head = {"title": _title(rng), "summary": " ".join(_sentence(rng) for _ in range(3))}
    conclusion = _paragraph(rng)

    def sections() -> Iterator[dict[str, Any]]:
        for i in itertools.count(1):
            body = "\n\n".join(_paragraph(rng) for _ in range(rng.randint(1, 3)))
            yield {"heading": f"{i}. {_title(rng)}", "body": body, "words": len(body.split())}

    def render(secs: list[Any]) -> str:
        return json.dumps({**head, "sections": secs, "conclusion": conclusion}, **_COMPACT)

    return _fit(sections(), render, target)


_CITIES = ["Lisbon", "Osaka", "Toronto", "Nairobi", "Lyon", "Austin", "Krakow", "Recife"]
_COUNTRIES = ["PT", "JP", "CA", "KE", "FR", "US", "PL", "BR"]
_PRODUCTS = ["cable", "adapter", "notebook", "lamp", "mug", "charger", "backpack", "kettle"]


def _records(target: int, seed: int) -> str:
    rng = random.Random(f"records-{seed}")

    def orders() -> Iterator[dict[str, Any]]:
        for i in itertools.count(1):
            city = rng.randrange(len(_CITIES))
            items: list[dict[str, Any]] = [
                {
                    "sku": f"SKU-{rng.randrange(10_000, 99_999)}",
                    "name": f"{rng.choice(_WORDS)} {rng.choice(_PRODUCTS)}",
                    "qty": rng.randint(1, 12),
                    "unit_price": round(rng.uniform(0.5, 400.0), 2),
                    "discount": rng.choice([None, None, 0.05, 0.1, 0.25]),
                    "tags": rng.sample(_WORDS[:40], rng.randint(0, 3)),
                    "in_stock": rng.random() < 0.8,
                }
                for _ in range(rng.randint(1, 6))
            ]
            yield {
                "id": f"ord_{i:07d}",
                "created": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
                "customer": {
                    "id": rng.randrange(1, 10**6),
                    "name": f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()}",
                    "vip": rng.random() < 0.1,
                    "address": {
                        "street": f"{rng.randint(1, 999)} {rng.choice(_WORDS).title()} St",
                        "city": _CITIES[city],
                        "zip": f"{rng.randrange(10_000, 99_999)}",
                        "country": _COUNTRIES[city],
                    },
                },
                "items": items,
                "total": round(sum(it["qty"] * it["unit_price"] for it in items), 2),
                "paid": rng.random() < 0.7,
                "note": _sentence(rng) if rng.random() < 0.3 else None,
            }

    def render(rows: list[Any]) -> str:
        return json.dumps({"orders": rows, "count": len(rows)}, indent=2, ensure_ascii=False)

    return _fit(orders(), render, target)


def _numbers(target: int, seed: int) -> str:
    rng = random.Random(f"numbers-{seed}")

    def values() -> Iterator[int | float]:
        while True:
            kind = rng.random()
            if kind < 0.35:
                yield rng.randint(-1000, 100_000)
            elif kind < 0.45:
                yield rng.randint(-(2**62), 2**62)
            elif kind < 0.8:
                yield round(rng.uniform(-1000.0, 1000.0), rng.randint(1, 6))
            else:  # spans magnitudes, so repr() uses exponents: 1.5e-07, -6.02e+23
                yield rng.uniform(1.0, 10.0) * 10.0 ** rng.randint(-30, 30) * rng.choice((1, -1))

    def render(vals: list[Any]) -> str:
        return json.dumps({"values": vals}, **_COMPACT)

    return _fit(values(), render, target)


_DEEP_MAX_TREE_DEPTH = 196  # + the root object and the "trees" array = 198 <= jiter's ~200


def _deep(target: int, seed: int) -> str:
    rng = random.Random(f"deep-{seed}")

    def tree(depth: int) -> Any:
        node: Any = rng.choice([None, True, rng.randint(0, 99), "leaf"])
        for level in range(depth, 0, -1):
            if level % 2:
                node = {"d": level, "k": rng.choice(_WORDS), "c": node}
            else:
                node = [level, node] if rng.random() < 0.5 else [node]
        return node

    def trees() -> Iterator[Any]:
        while True:
            yield tree(rng.randint(50, _DEEP_MAX_TREE_DEPTH))

    def render(ts: list[Any]) -> str:
        return json.dumps({"trees": ts}, **_COMPACT)

    return _fit(trees(), render, target)


def _pick(rng: random.Random, lo: int, hi: int, n: int) -> str:
    return "".join(chr(rng.randint(lo, hi)) for _ in range(n))


def _unicode_text(rng: random.Random) -> str:
    parts: list[str] = []
    for _ in range(rng.randint(3, 10)):
        kind = rng.random()
        if kind < 0.3:
            parts.append(_pick(rng, 0x4E00, 0x9FFF, rng.randint(2, 12)))  # CJK ideographs
        elif kind < 0.4:
            parts.append(_pick(rng, 0x3041, 0x3096, rng.randint(2, 8)))  # hiragana
        elif kind < 0.5:
            parts.append(_pick(rng, 0x0430, 0x044F, rng.randint(3, 9)))  # Cyrillic
        elif kind < 0.65:
            parts.append(_pick(rng, 0x1F600, 0x1F64F, rng.randint(1, 3)))  # emoji (astral)
        elif kind < 0.8:
            parts.append(rng.choice(["café", "naïve", "Zürich", "São Paulo", "año", "Øresund"]))
        else:
            parts.append(rng.choice(['"quoted"', "line\nbreak", "tab\there", "back\\slash"]))
    return " ".join(parts)


def _unicode(target: int, seed: int) -> str:
    rng = random.Random(f"unicode-{seed}")
    langs = ["zh", "ja", "ru", "fr", "pt", "mixed"]

    def messages() -> Iterator[str]:
        for i in itertools.count():
            msg = {"id": i, "lang": rng.choice(langs), "text": _unicode_text(rng)}
            if rng.random() < 0.3:
                msg["reaction"] = _pick(rng, 0x1F300, 0x1F5FF, 1)
            yield json.dumps(msg, separators=(",", ":"), ensure_ascii=i % 2 == 0)

    def render(msgs: list[Any]) -> str:
        return '{"messages":[' + ",".join(msgs) + "]}"

    return _fit(messages(), render, target)


def _string(target: int, seed: int) -> str:
    rng = random.Random(f"string-{seed}")
    paragraphs: list[str] = []
    size = len('{"text":""}')
    while size < target:
        p = _paragraph(rng)
        paragraphs.append(p)
        size += len(json.dumps(p, ensure_ascii=False)) - 2 + 2  # + the "\n" escape
    text = "\n".join(paragraphs)
    doc = json.dumps({"text": text}, **_COMPACT)
    while len(doc.encode()) > target:  # trim the overshoot (escapes make it approximate)
        text = text[: len(text) - (len(doc.encode()) - target)].rstrip("\\")
        doc = json.dumps({"text": text}, **_COMPACT)
    return doc


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("prose", "essay with long multi-paragraph string fields", "compact", _prose),
        Workload("records", "orders with nested customer and line items", "indent=2", _records),
        Workload("numbers", "array of ints, floats and exponents", "compact", _numbers),
        Workload("deep", "trees nested 50-196 levels, repeated", "compact", _deep),
        Workload("unicode", "CJK/emoji/accents, escapes, half \\u-escaped", "compact", _unicode),
        Workload("string", 'one huge string value: {"text": "..."}', "compact", _string),
    )
}


def document(workload: str, size: int, seed: int = 0) -> str:
    """The JSON text of `workload` at about `size` UTF-8 bytes, reproducible for a seed."""
    return WORKLOADS[workload].make(size, seed)


# -- chunkers ----------------------------------------------------------------------------------

# Token-like chunk lengths 1..12 characters; weights tuned for a mean of about 4.1, close to
# what LLM APIs stream (a token is ~4 characters of English).
_TOKEN_LENGTHS = range(1, 13)
_TOKEN_WEIGHTS = (14, 17, 18, 15, 11, 8, 5, 4, 3, 2, 2, 1)


def _by_char(text: str, seed: int) -> list[str]:
    return list(text)


def _by_token(text: str, seed: int) -> list[str]:
    rng = random.Random(f"token-{seed}")
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        lengths = rng.choices(_TOKEN_LENGTHS, weights=_TOKEN_WEIGHTS, k=4096)
        for k in lengths:
            out.append(text[i : i + k])
            i += k
            if i >= n:
                break
    return out


def _by_64(text: str, seed: int) -> list[str]:
    return [text[i : i + 64] for i in range(0, len(text), 64)]


#: Chunking name -> function(text, seed) -> list of str chunks that join back to `text`.
CHUNKINGS: dict[str, Callable[[str, int], list[str]]] = {
    "char": _by_char,
    "token": _by_token,
    "64": _by_64,
}


def chunk(text: str, chunking: str, seed: int = 0) -> list[str]:
    """Split `text` into chunks for `chunking` ("char", "token" or "64")."""
    return CHUNKINGS[chunking](text, seed)
