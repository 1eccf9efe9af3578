"""The one path notation: `parse_path` reads what `render_path` prints; JSON Pointers on the wire."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from streamdantic._paths import (
    WILDCARD,
    JSONPath,
    Path,
    match_path,
    parse_path,
    parse_pointer,
    render_path,
    to_pointer,
)


def test_path_is_an_alias_of_jsonpath() -> None:
    """The old name `Path` is the same type as `JSONPath`."""
    assert Path is JSONPath


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("$", ()),
        ("", ()),
        ("$.items[3].name", ("items", 3, "name")),
        ("items[3].name", ("items", 3, "name")),
        ("$[0][1]", (0, 1)),
        ('$["first name"]', ("first name",)),
        ('$.a["b.c"][2]', ("a", "b.c", 2)),
        ('$["\\"quoted\\""]', ('"quoted"',)),
    ],
    ids=["root", "empty", "dollar", "no-dollar", "indices", "quoted", "dotted-key", "escapes"],
)
def test_parse_path_reads_the_notation(text: str, path: JSONPath) -> None:
    """Keys, indices and bracketed JSON-string keys parse to the tuple."""
    assert parse_path(text) == path


@pytest.mark.parametrize(
    "path",
    [(), ("items", 3, "name"), (0, 1), ("first name",), ("*",), ("item",), ("a.b", 2), ("é",)],
    ids=["root", "fields", "indices", "space", "star-key", "item-key", "dot-key", "unicode"],
)
def test_render_then_parse_is_the_identity(path: JSONPath) -> None:
    """Every rendered path parses back to itself, so messages can be pasted into the API."""
    assert parse_path(render_path(path)) == path
    # A rendered data path never contains the wildcard, even for a key named "*".
    assert all(segment is not WILDCARD for segment in parse_path(render_path(path)))


@pytest.mark.parametrize("text", ["$.items[*].name", "items.*.name", "$.items.*"])
def test_wildcards_in_text(text: str) -> None:
    """``[*]`` and ``.*`` are the wildcard, rendered back as ``[*]``."""
    pattern = parse_path(text)
    assert pattern[1] is WILDCARD
    assert render_path(pattern).startswith("$.items[*]")


def test_a_bracketed_star_is_a_key_not_a_wildcard() -> None:
    """``["*"]`` names a key called ``*``: it matches only that key."""
    pattern = parse_path('$["*"]')
    assert pattern[0] is not WILDCARD
    assert match_path(pattern, ("*",))
    assert not match_path(pattern, ("other",))
    assert match_path(parse_path("$[*]"), ("other",))


def test_a_star_in_a_tuple_is_the_wildcard() -> None:
    """Tuples written by hand keep ``"*"`` as the wildcard."""
    pattern = parse_path(("items", "*", "name"))
    assert pattern[1] is WILDCARD
    assert match_path(pattern, ("items", 4, "name"))
    assert not match_path(pattern, ("items", 4, "id"))
    assert not match_path(pattern, ("items", 4))


@pytest.mark.parametrize(
    ("text", "offset"),
    [("a[0]b", 4), ("a[-1]", 1), ("a..b", 1), ("a[x]", 1), ('$["open', 1), ("a[", 1)],
    ids=["name-after-bracket", "negative", "empty-key", "bad-index", "open-quote", "open-bracket"],
)
def test_malformed_paths_say_where(text: str, offset: int) -> None:
    """A path that is not in the notation raises ValueError naming the offset and the syntax."""
    with pytest.raises(ValueError, match=rf"at offset {offset}: write keys as \.name"):
        parse_path(text)


def test_tuple_segments_must_be_keys_or_indices() -> None:
    """A tuple segment of another type is a TypeError."""
    with pytest.raises(TypeError, match="str keys or int indices"):
        parse_path(("a", 1.5))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="str keys or int indices"):
        parse_path(("a", True))


def test_json_pointer_is_the_wire_form() -> None:
    """`to_pointer` and `parse_pointer` escape ``~`` and ``/`` as RFC 6901 says."""
    assert to_pointer(("a/b", "c~d", 3)) == "/a~1b/c~0d/3"
    assert parse_pointer("/a~1b/c~0d/3") == ("a/b", "c~d", "3")
    with pytest.raises(ValueError, match="starts with '/'"):
        parse_pointer("a")


@given(
    st.lists(
        st.one_of(
            st.integers(min_value=0, max_value=10**6),
            st.text(alphabet=st.sampled_from("ab~/01 \u00e9"), max_size=6),
        ),
        max_size=6,
    )
)
def test_json_pointers_round_trip(path: list[str | int]) -> None:
    """Every path survives `to_pointer` then `parse_pointer` (indices as their digits),
    escaped or not: the unescaped fast paths of both give what the RFC 6901 rules give."""
    pointer = to_pointer(tuple(path))
    assert parse_pointer(pointer) == tuple(str(s) for s in path)
    escaped = "".join(
        "/" + (s.replace("~", "~0").replace("/", "~1") if isinstance(s, str) else str(s))
        for s in path
    )
    assert pointer == escaped
