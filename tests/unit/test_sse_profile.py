"""The streamdantic SSE profile: ProfileEncoder frames, ProfileDecoder rebuilding the object."""

from __future__ import annotations

import importlib.util
import json
import zlib
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Annotated, Any

import pytest
from pydantic import AfterValidator, BaseModel, Field

from streamdantic import (
    DeltaError,
    GenerationLostError,
    IncompleteJSONError,
    JSONParseError,
    ProviderError,
    SSEError,
    StoreUnavailableError,
    StreamCancelledError,
    StreamIntegrityError,
    StreamValidationError,
    Throttle,
    TruncatedStreamError,
    Update,
    UsageError,
    stream,
)
from streamdantic._deltas import Chunk
from streamdantic.deltas import ChunkMerger
from streamdantic.parts import (
    Finish,
    ProviderErrorPart,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    ToolResult,
    Usage,
)
from streamdantic.sse import (
    ClientUpdate,
    ProfileDecoder,
    ProfileEncoder,
    ServerSentEvent as SSE,
    SSEDecoder,
    encode,
    stream_frame,
)
from streamdantic.sse._profile import _first_difference
from tests.helpers import SPLITTERS, split_random

ROOT = Path(__file__).resolve().parents[2]
ORDERS_TEXT = (ROOT / "fixtures" / "documents" / "orders_20k.json").read_text("utf-8")
SMALL_TEXT = (ROOT / "fixtures" / "documents" / "small.json").read_text("utf-8")
UNICODE_TEXT = (ROOT / "fixtures" / "documents" / "unicode.json").read_text("utf-8")


def fixture_models() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fixture_models", ROOT / "fixtures" / "models.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODELS = fixture_models()


class Book(BaseModel):
    title: str
    year: int


class Item(BaseModel):
    name: str = Field(alias="Name")
    count: int = 0
    tag: Annotated[str, AfterValidator(str.upper)]


def outputs(text: str, model: Any = None, seed: int = 0) -> list[Any]:
    """What stream(...).events() gives for `text` streamed in random pieces."""
    return list(stream(split_random(text, seed=seed, max_size=40), model).events())


def outputs_until_error(source: list[Any]) -> tuple[list[Any], Exception | None]:
    """The outputs of stream(source).events(), and the error that ended them, if any."""
    items: list[Any] = []
    iterator = stream(source).events()
    while True:
        try:
            items.append(next(iterator))
        except StopIteration:
            return items, None
        except Exception as exc:
            return items, exc


def encode_all(items: list[Any], **options: Any) -> list[SSE]:
    encoder = ProfileEncoder(**options)
    frames = [frame for item in items for frame in encoder.feed(item)]
    return frames + encoder.close()


def decode_all(frames: list[SSE], model: Any = None, **options: Any) -> list[ClientUpdate[Any]]:
    decoder: ProfileDecoder[Any] = ProfileDecoder(model, **options)
    updates = [update for frame in frames for update in decoder.feed(frame)]
    return updates + decoder.close()


def decode_bytes(data: bytes, chunks: list[bytes], model: Any = None) -> list[ClientUpdate[Any]]:
    assert b"".join(chunks) == data
    sse, decoder = SSEDecoder(), ProfileDecoder(model)
    return [
        update for chunk in chunks for event in sse.feed(chunk) for update in decoder.feed(event)
    ]


# ------------------------------------------------------------------------------ round trips


@pytest.mark.parametrize(
    ("text", "split"),
    [
        pytest.param(text, split, id=f"{name}-{split}")
        for name, text in [
            ("small", SMALL_TEXT),
            ("unicode", UNICODE_TEXT),
            ("orders", ORDERS_TEXT),
        ]
        for split in SPLITTERS
        if (name, split) != ("orders", "bytewise")  # slow, and adds nothing
    ],
)
def test_any_chunking_of_the_bytes_rebuilds_the_object(text: str, split: str) -> None:
    """Encoded frames, decoded from the bytes split anywhere, rebuild the streamed object."""
    data = b"".join(map(encode, encode_all(outputs(text))))
    updates = decode_bytes(data, SPLITTERS[split](data))
    assert updates[-1].done
    assert updates[-1].final == json.loads(text)


@pytest.mark.parametrize(
    ("text", "model"),
    [(SMALL_TEXT, MODELS.Recipe), (ORDERS_TEXT, MODELS.OrderBatch)],
    ids=["recipe", "orders"],
)
def test_a_typed_client_sees_the_servers_partials_and_final(text: str, model: Any) -> None:
    """With a model on both sides, each client partial equals the server's at that point."""
    encoder = ProfileEncoder()
    decoder: ProfileDecoder[Any] = ProfileDecoder(model)
    server = stream(split_random(text, max_size=40), model)
    compared = 0
    for item in server.events():
        for frame in encoder.feed(item):
            decoder.feed(frame)
        if isinstance(item, Update):
            assert decoder.partial.model_dump() == item.partial.model_dump()
            compared += 1
    assert compared > 3
    assert decoder.done
    assert decoder.final == server.final
    assert isinstance(decoder.final, model)


@pytest.mark.parametrize("model", [None, MODELS.OrderBatch], ids=["plain", "typed"])
def test_kept_client_partials_are_the_states_of_their_frames(model: Any) -> None:
    """Each ClientUpdate.partial, kept by reference, still shows its own frame's state, and
    the client's partials equal the server's update by update."""
    server = list(stream(split_random(ORDERS_TEXT, max_size=40), model).events())
    kept = decode_all(encode_all(server), model)

    def dump(value: Any) -> Any:
        return value.model_dump() if isinstance(value, BaseModel) else value

    theirs = [dump(u.partial) for u in server if isinstance(u, Update)]
    ours = [dump(u.partial) for u in kept if u.kind in ("delta", "final")]
    assert ours == theirs
    assert len({id(u.partial) for u in kept}) > len(kept) // 2


def test_live_client_partials_are_one_object() -> None:
    """ProfileDecoder(partials="live") changes one object in place."""
    server = list(stream(split_random(SMALL_TEXT, max_size=40)).events())
    kept = decode_all(encode_all(server), None, partials="live")
    assert kept[1].partial is kept[-1].partial


def test_frames_are_numbered_from_one_and_end_with_final() -> None:
    """A small stream gives delta frames with ids 1, 2, ... and one final frame (version 3:
    the delta without its chunk wrapper, pointers relative to the one before, a digest in
    final)."""
    frames = encode_all(list(stream(['{"a": "he', 'llo", "b": [1,', " 2]}"]).events()))
    deltas = [
        '{"j":{"":{},"/a":"he"}}',
        '{"t":{"/a":"llo"},"j":{"/b":[],"0/0":1},"d":["0"]}',
        '{"j":{"/b/1":2},"d":["1",""]}',
    ]
    digest = 0
    for data in deltas:
        digest = zlib.crc32(data.encode() + b"\n", digest)
    assert frames == [
        *(SSE(data, id=str(i)) for i, data in enumerate(deltas, 1)),  # unnamed: no event line
        SSE(
            f'{{"digest":"{digest:08x}","finish_reason":null,"usage":null}}', event="final", id="4"
        ),
    ]
    assert decode_all(frames)[-1].final == {"a": "hello", "b": [1, 2]}


def test_version_2_frames_are_still_written_and_read() -> None:
    """ProfileEncoder(version=2) writes the version-2 frames (absolute pointers, the object
    in final), and the decoder reads them."""
    frames = encode_all(list(stream(['{"a": "he', 'llo", "b": [1,', " 2]}"]).events()), version=2)
    assert decode_all(frames)[-1].final == {"a": "hello", "b": [1, 2]}
    assert frames == [
        SSE('{"delta":{"json":{"":{},"/a":"he"}}}', event="delta", id="1"),
        SSE(
            '{"delta":{"text":{"/a":"llo"},"json":{"/b":[],"/b/0":1},"done":["/a"]}}',
            event="delta",
            id="2",
        ),
        SSE('{"delta":{"json":{"/b/1":2},"done":["/b",""]}}', event="delta", id="3"),
        SSE(
            '{"value":{"a":"hello","b":[1,2]},"finish_reason":null,"usage":null}',
            event="final",
            id="4",
        ),
    ]


def test_plain_iteration_of_updates_carries_the_parts_too() -> None:
    """Updates alone (without the parts as outputs) still send each part once."""
    source = [ReasoningDelta("hm"), '{"a": 1}', Usage(3, 4)]
    with_parts = encode_all(list(stream(source).events()))
    updates_only = encode_all(list(stream(source)))
    assert [f.event for f in with_parts] == ["reasoning", "message", "usage", "final"]
    assert sorted(f.event for f in updates_only) == sorted(f.event for f in with_parts)


def test_parts_round_trip() -> None:
    """Part frames decode to the same parts (a tool-call delta without its local partial)."""
    parts = [
        ReasoningDelta("thinking"),
        ToolCallDelta("c1", '{"q": ', name="search", index=0),
        ToolCallDelta("c1", '"x"}'),
        ToolResult("c1", {"hits": 2}),
        Usage(10, 5, raw={"prompt_tokens": 10}),
        RefusalDelta("no"),
        "{}",
        Finish("stop"),
    ]
    frames = encode_all(list(stream(parts, tools={}).events()))
    decoded = decode_all(frames)
    got = [part for update in decoded for part in update.parts]
    assert got == [
        ReasoningDelta("thinking"),
        ToolCallDelta("c1", '{"q": ', name="search", index=0),
        ToolCallDelta("c1", '"x"}'),
        ToolCallDone("c1", "search", '{"q": "x"}', {"q": "x"}),
        ToolResult("c1", {"hits": 2}),
        Usage(10, 5, raw={"prompt_tokens": 10}),
        RefusalDelta("no"),
    ]
    final = decoded[-1]
    assert final.done and final.final == {}
    assert final.finish_reason == "stop"
    assert final.usage == Usage(10, 5, 15, raw={"prompt_tokens": 10})


def test_finish_reason_and_usage_ride_on_the_final_frame() -> None:
    """The final frame carries the finish reason and usage seen during the stream."""
    frames = encode_all(list(stream(['{"a": 1}', Finish("stop"), Usage(1, 2)]).events()))
    final = json.loads(frames[-1].data)
    del final["digest"]
    assert final == {
        "finish_reason": "stop",
        "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
    }


def test_encoded_bytes_match_the_frames() -> None:
    """feed_bytes and close_bytes are the encoded frames of feed and close."""
    items = outputs(SMALL_TEXT)
    frames, data = ProfileEncoder(), ProfileEncoder()
    expected = b"".join(encode(f) for item in items for f in frames.feed(item))
    assert b"".join(data.feed_bytes(item) for item in items) == expected
    assert frames.close() == [] and data.close_bytes() == b""


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("error", "kind", "raised"),
    [
        (ProviderError("overloaded", code="529"), "provider_error", ProviderError),
        (StreamValidationError("bad value"), "validation_error", StreamValidationError),
        (TruncatedStreamError("cut", finish_reason="length"), "truncated", TruncatedStreamError),
        (StreamCancelledError("stopped"), "cancelled", StreamCancelledError),
        (GenerationLostError("lease lapsed"), "generation_lost", GenerationLostError),
        (StoreUnavailableError("no redis"), "store_unavailable", StoreUnavailableError),
        (ValueError("secret internals"), "internal_error", ProviderError),
    ],
    ids=["provider", "validation", "truncated", "cancelled", "lost", "store", "internal"],
)
def test_errors_become_typed_error_frames(error: Exception, kind: str, raised: type) -> None:
    """close(error) sends an error frame of the right type; the decoder raises its twin."""
    encoder = ProfileEncoder()
    items, _ = outputs_until_error(['{"a": "par'])
    frames = [f for item in items for f in encoder.feed(item)]
    frames += encoder.close(error)
    data = json.loads(frames[-1].data)
    assert frames[-1].event == "error" and data["type"] == kind
    assert data["partial"] == {"a": "par"}
    if kind == "internal_error":
        assert "secret" not in data["message"]
    if kind == "provider_error":
        assert data["code"] == "529"
    if kind == "truncated":
        assert data["finish_reason"] == "length"
    with pytest.raises(raised) as info:
        decode_all(frames)
    assert info.value.partial == {"a": "par"}  # type: ignore[attr-defined]


def test_a_stream_that_ends_without_its_final_update_is_truncated() -> None:
    """close() without error before the final update reports a truncated stream."""
    encoder = ProfileEncoder()
    for item in outputs(SMALL_TEXT)[:-1]:
        encoder.feed(item)
    [frame] = encoder.close()
    assert json.loads(frame.data)["type"] == "truncated"


def test_a_provider_error_part_is_reported_at_close() -> None:
    """A ProviderErrorPart in the stream makes the terminal frame a provider error."""
    encoder = ProfileEncoder()
    assert encoder.feed(ProviderErrorPart("rate limited", code="429")) == []
    [frame] = encoder.close()
    assert json.loads(frame.data) == {
        "type": "provider_error",
        "message": "rate limited",
        "partial": None,
        "code": "429",
    }


def test_the_encoder_refuses_misuse() -> None:
    """No frames after the end; text parts once a JSON object streams, and foreign objects,
    are refused with a hint."""
    encoder = ProfileEncoder()
    items, _ = outputs_until_error(['{"a": "x'])
    for item in items:
        encoder.feed(item)
    with pytest.raises(UsageError, match="astream"):
        encoder.feed(TextDelta("y"))
    with pytest.raises(TypeError):
        encoder.feed("{")  # type: ignore[arg-type]
    encoder.close()
    with pytest.raises(UsageError):
        encoder.feed(Usage(1, 1))
    with pytest.raises(ValueError, match="profile"):
        ProfileEncoder(profile="json")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="snapshot_every"):
        ProfileEncoder(snapshot_every=0)


# ------------------------------------------------------------------------------ generations

# Two generations of one prompt, in pieces cut at the same places: frames 1.. of one splice
# onto the other without any DeltaError (the "A Wizaeft Hand of Darkness" of issue #11).
BOOK_A = ['{"title": "A Wiza', 'rd of Earthsea", "year": 1968}']
BOOK_B = ['{"title": "The L', 'eft Hand of Darkness", "year": 1969}']


def generation(chunks: list[str], model: Any = None, **options: Any) -> list[SSE]:
    return encode_all(list(stream(chunks, model).events()), **options)


def feed_all(decoder: ProfileDecoder[Any], frames: list[SSE]) -> list[ClientUpdate[Any]]:
    return [update for frame in frames for update in decoder.feed(frame)]


def test_frames_spliced_from_another_generation_fail_at_the_final_frame() -> None:
    """Frames of a second generation applied after the first's (ids it has seen skipped)
    build an object that is not the final frame's: StreamIntegrityError at its path."""
    a, b = generation(BOOK_A), generation(BOOK_B)
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    feed_all(decoder, a[:1])
    with pytest.raises(StreamIntegrityError, match=r"final frame's digest .*spliced"):
        feed_all(decoder, b)  # a server that restarted, numbering from 1 again
    assert decoder.value == {"title": "A Wizaeft Hand of Darkness", "year": 1969}
    assert decoder.final is None


def test_version_2_frames_spliced_fail_at_the_path_of_the_difference() -> None:
    """Version 2 compares the object: the error names the path of the first difference."""
    a, b = generation(BOOK_A, version=2), generation(BOOK_B, version=2)
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    feed_all(decoder, a[:1])
    with pytest.raises(StreamIntegrityError, match=r"at \$\.title: frames were lost or spliced"):
        feed_all(decoder, b)
    assert decoder.final is None


def test_a_stream_frame_with_another_token_is_refused() -> None:
    """A response naming another generation, after frames were applied, is refused before
    any of its frames is applied."""
    a, b = generation(BOOK_A), generation(BOOK_B)
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    feed_all(decoder, [stream_frame("gen-a"), *a[:1]])
    assert decoder.token == "gen-a"
    decoder.begin_response()
    with pytest.raises(StreamIntegrityError, match="another stream") as caught:
        feed_all(decoder, [stream_frame("gen-b"), *b])
    assert caught.value.partial == {"title": "A Wiza"} == decoder.value
    assert decoder.done and decoder.feed(b[-1]) == []


def test_a_response_without_the_streams_token_is_refused() -> None:
    """Once the stream has a token, a response that does not open with it is refused."""
    a = generation(BOOK_A)
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    feed_all(decoder, [stream_frame("gen-a"), *a[:1]])
    decoder.begin_response()
    with pytest.raises(StreamIntegrityError, match="without its stream frame"):
        decoder.feed(a[1])


def test_the_same_token_continues_the_stream() -> None:
    """A reconnection answered with the same token resumes: replays skipped, final kept."""
    a = generation(BOOK_A)
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    first = feed_all(decoder, [stream_frame("gen-a"), *a[:1]])
    decoder.begin_response()
    rest = feed_all(decoder, [stream_frame("gen-a"), *a])
    assert [u.event_id for u in first + rest] == [f.id for f in a]
    assert decoder.final == json.loads("".join(BOOK_A))


def test_a_declared_restart_resets_the_object() -> None:
    """A stream frame declaring a restart starts the object again, with a visible
    "restart" update, and the new generation's final object is checked and delivered."""
    a, b = generation(BOOK_A, Book), generation(BOOK_B, Book)
    decoder: ProfileDecoder[Any] = ProfileDecoder(Book)
    feed_all(decoder, [stream_frame("gen-a"), *a[:2]])
    decoder.begin_response()
    updates = feed_all(decoder, [stream_frame("gen-b", restart=True), *b])
    assert updates[0] == ClientUpdate("", "restart", None, restarted=True)  # nothing yet
    assert updates[-1].final == Book(title="The Left Hand of Darkness", year=1969)
    assert decoder.token == "gen-b" and decoder.last_event_id == b[-1].id


def test_a_restart_before_any_frame_changes_nothing() -> None:
    """A restart (or a new token) before anything was applied is simply the stream."""
    b = generation(BOOK_B)
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    decoder.begin_response()
    updates = feed_all(decoder, [stream_frame("x"), stream_frame("y", restart=True), *b])
    assert [u.kind for u in updates][0] == "delta"
    assert decoder.final == json.loads("".join(BOOK_B))


def test_unnamed_frames_opening_a_response_are_not_read_as_the_profile() -> None:
    """A response that opens with unnamed frames (the compatible profile) fails at once."""
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    decoder.begin_response()
    with pytest.raises(SSEError, match="compatible profile"):
        decoder.feed(SSE('{"delta":{"json":{"title":"A"}}}'))


@pytest.mark.parametrize(
    "data", ["{}", '{"token": ""}', '{"token": 3}', "[]"], ids=["none", "empty", "int", "list"]
)
def test_malformed_stream_frames_raise_sse_error(data: str) -> None:
    """A stream frame without a token string is malformed."""
    with pytest.raises(SSEError, match="malformed stream frame"):
        ProfileDecoder().feed(SSE(data, event="stream"))


def test_stream_frames_have_no_id_and_need_a_token() -> None:
    """The stream frame is unnumbered; an empty token is refused."""
    assert stream_frame("t", restart=True) == SSE('{"token":"t","restart":true}', event="stream")
    with pytest.raises(ValueError, match="empty"):
        stream_frame("")


def test_validation_that_changes_the_object_is_not_a_mismatch() -> None:
    """Defaults, aliases, ignored keys and transforming validators make the final value
    differ from the merged one: the final frame carries the validated value too (version 2:
    the raw value), and the check passes, typed or not."""
    text = '{"Name": "kettle", "tag": "tea", "extra": [1]}'
    chunks = split_random(text, seed=3, max_size=5)
    for version in (2, 3):
        frames = encode_all(list(stream(chunks, Item).events()), version=version)
        final = json.loads(frames[-1].data)
        assert final["value"] == {"Name": "kettle", "count": 0, "tag": "TEA"}
        assert final.get("raw") == (json.loads(text) if version == 2 else None)
        assert decode_all(frames, Item)[-1].final == Item(Name="kettle", tag="tea")
        assert decode_all(frames)[-1].final == json.loads(text)  # untyped: what frames built


@pytest.mark.parametrize(
    ("a", "b", "path"),
    [
        ({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}, None),  # key order does not count
        ({"a": 1}, {"a": 1.0}, ("a",)),  # JSON kinds, not Python equality
        ({"a": True}, {"a": 1}, ("a",)),
        ({"a": [1]}, {"a": [1, 2]}, ("a", 1)),
        ({"a": 1}, {"b": 1}, ("a",)),
        ({"a": [{"t": "x"}]}, MappingProxyType({"a": ({"t": "y"},)}), ("a", 0, "t")),
    ],
)
def test_the_first_difference_is_found_by_json_kind(a: Any, b: Any, path: Any) -> None:
    """The final check compares JSON values: kinds, members and items, not key order or
    the Python classes of containers."""
    assert _first_difference(a, b) == path


def test_the_raw_value_is_left_out_when_validation_changes_nothing() -> None:
    """Key order aside, a final value equal to the merged one is not sent twice."""
    frames = encode_all(outputs('{"b": 1, "a": [true, 2.5]}'))
    assert "raw" not in json.loads(frames[-1].data)


# ------------------------------------------------------------------------------ ids, replays, snapshots


def test_replayed_frames_are_ignored() -> None:
    """Frames seen before (a replay after reconnecting) change nothing."""
    frames = encode_all(outputs(SMALL_TEXT))
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    once = [u for f in frames[:5] for u in decoder.feed(f)]
    assert [u for f in frames[:5] for u in decoder.feed(f)] == []
    rest = [u for f in frames[2:] for u in decoder.feed(f)]
    assert len(once) + len(rest) == len(frames)
    assert decoder.final == json.loads(SMALL_TEXT)
    assert decoder.last_event_id == frames[-1].id


def test_a_gap_without_a_snapshot_is_an_error() -> None:
    """A frame whose predecessor never arrived raises SSEError."""
    frames = encode_all(outputs(SMALL_TEXT))
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    decoder.feed(frames[0])
    with pytest.raises(SSEError, match="missing"):
        decoder.feed(frames[2])


def test_snapshots_repeat_the_id_of_the_frame_they_follow() -> None:
    """A snapshot is the state after frame k, and carries k as its id."""
    frames = encode_all(outputs(SMALL_TEXT), snapshot_every=3)
    for i, frame in enumerate(frames):
        if frame.event == "snapshot":
            assert frame.id == frames[i - 1].id
    assert sum(f.event == "snapshot" for f in frames) >= 3
    live = [f for f in frames if f.event != "snapshot"]
    assert [f.id for f in live] == [str(n) for n in range(1, len(live) + 1)]


def test_a_client_that_is_current_ignores_snapshots() -> None:
    """Snapshots of states the client already has produce no update."""
    frames = encode_all(outputs(SMALL_TEXT), snapshot_every=2)
    updates = decode_all(frames)
    assert all(u.kind != "snapshot" for u in updates)
    assert updates[-1].final == json.loads(SMALL_TEXT)


@pytest.mark.parametrize(
    ("text", "model"),
    [(SMALL_TEXT, MODELS.Recipe), (UNICODE_TEXT, None)],
    ids=["recipe", "unicode"],
)
def test_every_snapshot_resumes_to_the_same_state(text: str, model: Any) -> None:
    """Resetting from the snapshot after any frame gives the state of a client that saw all
    frames up to it, and the rest of the stream then applies cleanly."""
    items = outputs(text, model, seed=3)
    frames = encode_all(items, snapshot_every=1)
    live = [f for f in frames if f.event != "snapshot"]
    for snapshot in (f for f in frames if f.event == "snapshot"):
        k = int(snapshot.id or 0)
        current: ProfileDecoder[Any] = ProfileDecoder(model)
        for frame in live[:k]:
            current.feed(frame)
        resumed: ProfileDecoder[Any] = ProfileDecoder(model)
        [reset] = resumed.feed(snapshot)
        assert reset.kind == "snapshot"
        assert resumed.value == current.value
        if model is not None:
            assert resumed.partial.model_dump() == current.partial.model_dump()
        for frame in live[k:]:
            resumed.feed(frame)
        assert resumed.done and resumed.final == current_final(live, model)


def current_final(frames: list[SSE], model: Any) -> Any:
    return decode_all(frames, model)[-1].final


def test_a_snapshot_replaces_the_state_after_a_gap() -> None:
    """A client that missed frames resets from a later snapshot and finishes the object."""
    frames = encode_all(outputs(ORDERS_TEXT), snapshot_every=50)
    snapshots = [f for f in frames if f.event == "snapshot"]
    live = [f for f in frames if f.event != "snapshot"]
    target = snapshots[len(snapshots) // 2]
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    for frame in live[:10]:
        decoder.feed(frame)
    assert decoder.feed(target)[0].kind == "snapshot"
    assert decoder.last_event_id == target.id
    for frame in live:
        decoder.feed(frame)
    assert decoder.final == json.loads(ORDERS_TEXT)


def test_a_snapshot_before_anything_started_is_empty() -> None:
    """A snapshot taken before the object started resets to nothing."""
    encoder = ProfileEncoder()
    encoder.feed(ReasoningDelta("hm"))
    snapshot = encoder.snapshot()
    assert snapshot == SSE("{}", event="snapshot", id="1")
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    decoder.feed(SSE('{"delta":{"json":{"":{}}}}', event="delta", id="1"))
    decoder.feed(SSE("{}", event="snapshot", id="3"))
    assert decoder.value is None


# ------------------------------------------------------------------------------ malformed input


@pytest.mark.parametrize(
    "frame",
    [
        SSE('{"delta":{}}', event="delta"),
        SSE('{"delta":{}}', event="delta", id="x1"),
        SSE("{nope", event="final", id="1"),
        SSE("[]", event="snapshot", id="1"),
        SSE("{}", event="reasoning", id="1"),
    ],
    ids=["no-id", "bad-id", "not-json", "bad-snapshot", "part-without-text"],
)
def test_malformed_frames_raise_sse_error(frame: SSE) -> None:
    """A profile frame without a valid id or with a malformed payload raises SSEError."""
    with pytest.raises(SSEError):
        ProfileDecoder().feed(frame)


def test_a_contradicting_delta_raises_delta_error() -> None:
    """A delta that does not fit the object raises DeltaError."""
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    decoder.feed(SSE('{"delta":{"json":{"":{"a":1}},"done":[""]}}', event="delta", id="1"))
    with pytest.raises(DeltaError):
        decoder.feed(SSE('{"delta":{"text":{"/a":"x"}}}', event="delta", id="2"))


def test_unknown_and_unnamed_frames_are_skipped() -> None:
    """Frames of unknown names advance the id; unnamed (message) frames are not the profile's."""
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    assert decoder.feed(SSE("hello")) == []
    assert decoder.feed(SSE("{}", event="future_kind", id="1")) == []
    assert decoder.last_event_id == "1"


def test_a_stream_without_terminal_frame_is_truncated_at_close() -> None:
    """Closing the decoder before the terminal frame raises TruncatedStreamError."""
    frames = encode_all(outputs(SMALL_TEXT))
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    for frame in frames[:-1]:
        decoder.feed(frame)
    with pytest.raises(TruncatedStreamError):
        decoder.close()
    with pytest.raises(UsageError):
        decoder.feed(frames[-1])


def test_a_typed_client_reports_values_that_do_not_fit() -> None:
    """A completed value that does not fit the client's model raises StreamValidationError."""
    frames = encode_all(list(stream(['{"title": 5}']).events()))
    with pytest.raises(StreamValidationError):
        decode_all(frames, MODELS.Recipe)


def test_client_update_repr_leaves_defaults_out() -> None:
    """ClientUpdate's repr shows the id, kind, partial and what is set."""
    update: ClientUpdate[Any] = ClientUpdate("3", "usage", {"a": 1}, usage=Usage(1, 2))
    assert repr(update) == (
        "ClientUpdate(event_id='3', kind='usage', partial={'a': 1}, "
        "usage=Usage(input_tokens=1, output_tokens=2, total_tokens=3))"
    )


# ------------------------------------------------------------------------------ compatible profile


def test_the_compatible_profile_round_trips() -> None:
    """Compatible frames (unnamed, compatible chunks) rebuild the object at close."""
    frames = encode_all(outputs(SMALL_TEXT, seed=5), profile="compatible")
    assert {f.event for f in frames} == {"message"}
    assert all(f.id is None for f in frames)
    updates = decode_all(frames, profile="compatible")
    assert updates[-1].done and updates[-1].final == json.loads(SMALL_TEXT)


def test_compatible_frames_are_agent_framework_chunks() -> None:
    """Top-level strings grow by text; other fields are assigned whole; any compatible
    merger reads them."""
    frames = encode_all(
        list(stream(['{"title": "Sh', 'ak", "tags": ["a"', ', "b"]}', Finish("stop")]).events()),
        profile="compatible",
    )
    chunks = [json.loads(f.data) for f in frames]
    assert chunks == [
        {"delta": {"text": {"title": "Sh"}}},
        {"delta": {"text": {"title": "ak"}, "json": {"tags": ["a"]}}},
        {"delta": {"json": {"tags": ["a", "b"]}}},
        {"delta": {}, "finish_reason": "stop"},
    ]
    merger = ChunkMerger("compatible")
    for data in chunks:
        merger.apply(Chunk.from_dict(data))
    merger.close()
    assert merger.value == {"title": "Shak", "tags": ["a", "b"]}


def test_a_reassigned_compatible_string_is_assigned_not_appended() -> None:
    """A producer setting a top-level string again ("Ro", "Robo", "Robot song") sends the new
    value whole: text would append it to the old one."""
    chunks = [
        Chunk.from_dict({"delta": {"json": {"title": t}}}) for t in ("Ro", "Robo", "Robot song")
    ]
    frames = encode_all(list(stream(chunks, profile="compatible").events()), profile="compatible")
    assert [json.loads(f.data) for f in frames] == [
        {"delta": {"text": {"title": "Ro"}}},
        {"delta": {"json": {"title": "Robo"}}},
        {"delta": {"json": {"title": "Robot song"}}},
    ]
    assert decode_all(frames, profile="compatible")[-1].final == {"title": "Robot song"}


def test_a_compatible_string_streamed_then_reassigned_keeps_one_value() -> None:
    """Text streamed into a field, then the field assigned again, then streamed again: the
    client has exactly the producer's value at the end."""
    chunks = [
        Chunk.from_dict({"delta": {"text": {"a": "He"}}}),
        Chunk.from_dict({"delta": {"text": {"a": "llo"}}}),
        Chunk.from_dict({"delta": {"json": {"a": "Bye", "b": 1}}}),
        Chunk.from_dict({"delta": {"text": {"a": "!"}}}),
        Chunk.from_dict({"delta": {"json": {"a": "x"}, "text": {"a": "yz"}}}),
    ]
    outputs_ = list(stream(chunks, profile="compatible").events())
    assert outputs_[-1].final == {"a": "xyz", "b": 1}
    updates = decode_all(encode_all(outputs_, profile="compatible"), profile="compatible")
    assert updates[-1].final == {"a": "xyz", "b": 1}


def test_a_compatible_stream_cannot_continue_in_another_response() -> None:
    """A compatible decoder that applied frames refuses a second response: nothing in it
    could tell a continuation from a new generation."""
    frames = encode_all(outputs(SMALL_TEXT), profile="compatible")
    decoder: ProfileDecoder[Any] = ProfileDecoder(profile="compatible")
    decoder.begin_response()
    for frame in frames[:2]:
        decoder.feed(frame)
    with pytest.raises(StreamIntegrityError, match="compatible-profile stream cannot continue"):
        decoder.begin_response()
    assert decoder.done and decoder.feed(frames[2]) == []


def test_compatible_errors_are_error_frames() -> None:
    """An error is an `error` frame in the compatible profile too; the decoder raises it."""
    encoder = ProfileEncoder(profile="compatible")
    items, _ = outputs_until_error(['{"a": "x'])
    frames = [f for item in items for f in encoder.feed(item)]
    frames += encoder.close(ProviderError("boom"))
    assert frames[-1].event == "error" and frames[-1].id is None
    with pytest.raises(ProviderError, match="boom"):
        decode_all(frames, profile="compatible")


def test_the_compatible_profile_carries_objects_only() -> None:
    """A root that is not an object cannot be carried by field names."""
    encoder = ProfileEncoder(profile="compatible")
    with pytest.raises(UsageError, match="objects"):
        for item in stream(["[1, 2]"]).events():
            encoder.feed(item)
    with pytest.raises(UsageError):
        encoder.snapshot()


def test_the_sse_module_exports_its_names_sorted() -> None:
    """streamdantic.sse has a sorted __all__ whose classes and functions present themselves
    as members of streamdantic.sse."""
    import inspect

    import streamdantic.sse as sse

    assert sse.__all__ == sorted(sse.__all__)
    for name in sse.__all__:
        member = getattr(sse, name)
        if inspect.isclass(member) or inspect.isfunction(member):
            assert member.__module__ == "streamdantic.sse", name


def test_snapshots_can_also_follow_the_clock() -> None:
    """snapshot_interval adds a snapshot once that many seconds of `now` have passed."""
    encoder = ProfileEncoder(snapshot_interval=10)
    items = outputs(SMALL_TEXT)
    kinds = []
    for i, item in enumerate(items[:-1]):
        kinds.extend(f.event for f in encoder.feed(item, now=float(i * 4)))
    assert kinds.count("snapshot") == (len(items) - 2) * 4 // 12


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (IncompleteJSONError("ended"), "truncated"),
        (JSONParseError("bad token"), "validation_error"),
        (DeltaError("type change"), "validation_error"),
    ],
    ids=["incomplete-json", "bad-json", "bad-delta"],
)
def test_parse_errors_map_to_error_types(error: Exception, kind: str) -> None:
    """Text that ends early is truncated; malformed text or deltas are validation errors."""
    [frame] = ProfileEncoder().close(error)
    assert json.loads(frame.data)["type"] == kind


# ------------------------------------------------------------------------------ any content


LONE = "a\ud800"  # a str UTF-8 cannot carry: one lone surrogate


def sendable(frames: list[SSE]) -> bytes:
    """The frames as bytes (encode() raises on text UTF-8 cannot carry)."""
    return b"".join(map(encode, frames))


@pytest.mark.parametrize("profile", ["nested", "compatible"])
def test_lone_surrogates_are_sent_as_replacement_characters(profile: str) -> None:
    """Text with a lone surrogate still makes sendable frames (U+FFFD in its place, as a
    UTF-8 decoder shows bytes it cannot read), and the client's object is the final one."""
    encoder = ProfileEncoder(profile=profile)  # type: ignore[arg-type]
    frames = [
        f for item in outputs(f'{{"t": "{LONE}", "u": "b{LONE}c"}}') for f in encoder.feed(item)
    ]
    frames += encoder.close()
    decoder: ProfileDecoder[Any] = ProfileDecoder(profile=profile)  # type: ignore[arg-type]
    updates = [u for event in SSEDecoder().feed(sendable(frames)) for u in decoder.feed(event)]
    updates += decoder.close()
    assert updates[-1].final == {"t": "a\ufffd", "u": "ba\ufffdc"}


def test_an_error_frame_is_sent_whatever_the_partial_holds() -> None:
    """The terminal error frame of a stream whose partial, parts and message hold lone
    surrogates is still sendable: every stream ends with a terminal frame."""
    encoder = ProfileEncoder()
    items, _ = outputs_until_error([f'{{"t": "{LONE}'])
    frames = [f for item in items for f in encoder.feed(item)]
    frames += encoder.feed(ToolCallDelta("c1", f'{{"q": "{LONE}', name="search"))
    frames += encoder.close(ProviderError(f"upstream said {LONE}"))
    events = SSEDecoder().feed(sendable(frames))
    assert events[-1].event == "error"
    assert json.loads(events[-1].data)["partial"] == {"t": "a\ufffd"}
    with pytest.raises(ProviderError, match="upstream said a\ufffd"):
        decode_all(events)


# ------------------------------------------------------------------------------ text streams


def test_prose_beside_tool_calls_is_sent_as_a_growing_root_string() -> None:
    """An agent's stream without a model (tools only): its prose travels as delta frames of
    one root string, the tool calls as their frames, and the final value is the text."""
    source = [
        "Let me ",
        ToolCallDelta("c1", '{"q": "wea', name="search"),
        ToolCallDelta("c1", 'ther"}'),
        "check.",
        Finish("stop"),
    ]
    items = list(stream(source, tools={"search": dict}).events())
    frames = encode_all(items, snapshot_every=2)
    assert [json.loads(f.data) for f in frames if f.event == "message"] == [
        {"j": {"": "Let me "}},
        "check.",  # text appended where the frame before ended: a bare string
        {"d": [""]},
    ]
    updates = decode_all([f for f in frames if f.event != "snapshot"])
    assert updates[-1].final == "Let me check." and updates[-1].finish_reason == "stop"
    assert [u.kind for u in updates].count("tool_call") == 3
    # A client that resumes from a snapshot taken mid-text has the same text.
    snapshot = next(f for f in frames if f.event == "snapshot")
    later = [f for f in frames if f.event != "snapshot" and int(f.id or 0) > int(snapshot.id or 0)]
    assert decode_all([snapshot, *later])[-1].final == "Let me check."


def test_plain_text_parts_are_a_text_stream() -> None:
    """A source of TextDelta parts (a token stream) is sendable; it is whole when it ends,
    truncated when its finish reason says the token limit cut it."""
    frames = encode_all([TextDelta("Hel"), TextDelta(""), TextDelta("lo")])
    assert [f.event for f in frames] == ["message", "message", "message", "final"]
    assert decode_all(frames)[-1].final == "Hello"
    frames = encode_all([TextDelta("Hel"), Finish("length")])
    with pytest.raises(TruncatedStreamError, match="token limit") as info:
        decode_all(frames)
    assert info.value.partial == "Hel" and info.value.finish_reason == "length"


def test_the_compatible_profile_refuses_text_streams_with_a_hint() -> None:
    """The compatible profile carries objects only; the error says which profile to use."""
    with pytest.raises(UsageError, match="streamdantic profile"):
        ProfileEncoder(profile="compatible").feed(TextDelta("Hel"))


@pytest.mark.parametrize("name", ["delta", "snapshot", "final", "stream"])
def test_decoder_refuses_profile_frame_without_data(name: str) -> None:
    """A profile frame built with data=None (never decoded: the decoder gives every event
    data) is refused with SSEError naming it, not a bare TypeError."""
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    with pytest.raises(SSEError, match=f"the '{name}' event \\(id '1'\\) has no data"):
        decoder.feed(SSE(None, event=name, id="1"))


# ------------------------------------------------------------------------------ vocabulary


def test_the_sse_profile_words_are_the_delta_profile_words() -> None:
    """``"nested"`` is the default SSE profile; ``"streamdantic"``, its old name, gives the
    same frames with a DeprecationWarning at the caller."""
    items = outputs(SMALL_TEXT, seed=1)
    frames = encode_all(items)
    assert encode_all(items, profile="nested") == frames
    with pytest.warns(DeprecationWarning, match="use profile='nested'") as caught:
        encoder = ProfileEncoder(profile="streamdantic")
    assert caught[0].filename == __file__
    old = [frame for item in items for frame in encoder.feed(item)] + encoder.close()
    assert [(f.event, f.data) for f in old][1:] == [(f.event, f.data) for f in frames][1:]
    with pytest.warns(DeprecationWarning, match="use profile='nested'"):
        decoder: ProfileDecoder[Any] = ProfileDecoder(profile="streamdantic")
    updates = [u for frame in frames for u in decoder.feed(frame)] + decoder.close()
    assert updates[-1].final == decode_all(frames, profile="nested")[-1].final
    with pytest.raises(ValueError, match=r"\('nested', 'compatible'\)"):
        ProfileEncoder(profile="flat")  # type: ignore[arg-type]


# ------------------------------------------------------------------------ throttled encoder


def pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def throttled_roundtrip(
    outputs: list[Any], times: list[float], per_second: float
) -> tuple[list[SSE], ProfileDecoder[Any]]:
    """Feed `outputs` at the given clock readings (polling at each), then close."""
    encoder = ProfileEncoder(emit=Throttle(per_second))
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    decoder.feed(stream_frame("t"))
    frames: list[SSE] = []
    for output, now in zip(outputs, times, strict=True):
        frames += encoder.poll(now)
        frames += encoder.feed(output, now=now)
    frames += encoder.close()
    for frame in frames:
        decoder.feed(frame)
    return frames, decoder


def test_a_throttled_encoder_sends_the_first_change_then_one_frame_per_interval() -> None:
    """Updates within one interval of the last flush are held and sent as one delta frame
    at the first feed after it; the final update goes at once."""
    outputs = list(stream(pieces(ORDERS_TEXT, 40)).events())
    # 10 updates per interval of 0.1 s (the clock is the test's, not the machine's).
    times = [i * 0.01 for i in range(len(outputs))]
    frames, decoder = throttled_roundtrip(outputs, times, per_second=10)
    deltas = [f for f in frames if f.event == "message"]
    assert len(deltas) <= len(outputs) // 10 + 2
    assert [f.id for f in frames] == [str(i) for i in range(1, len(frames) + 1)]
    assert frames[-1].event == "final"
    assert decoder.final == json.loads(ORDERS_TEXT)


def test_a_throttled_encoder_flushes_at_its_deadline_by_poll() -> None:
    """What is held waits for `poll` at `next_deadline`; before it, poll sends nothing."""
    outputs = list(stream(['{"a": "x', "y", "z", '"}']).events())
    encoder = ProfileEncoder(emit=Throttle(4))  # 0.25 s
    assert encoder.next_deadline == float("inf")
    first = encoder.feed(outputs[0], now=10.0)
    assert [f.event for f in first] == ["message"]
    assert encoder.feed(outputs[1], now=10.1) == []
    assert encoder.feed(outputs[2], now=10.2) == []
    assert encoder.next_deadline == 10.25
    assert encoder.poll(10.24) == []
    (held,) = encoder.poll(10.25)
    assert json.loads(held.data or "") == "yz"  # text at /a, where the frame before ended
    assert encoder.next_deadline == float("inf")
    assert encoder.poll(99.0) == []
    assert [f.event for f in encoder.feed(outputs[3], now=10.3)] == ["message", "final"]


def test_close_sends_what_a_throttled_encoder_holds_before_the_error() -> None:
    """A stream that fails while changes are held sends them, then the error frame, whose
    partial is what the client has."""
    outputs = list(stream(['{"a": "x', "y", "z", '"}']).events())
    encoder = ProfileEncoder(emit=Throttle(1))
    frames = [f for o in outputs[:3] for f in encoder.feed(o, now=0.5)]
    frames += encoder.close(StreamCancelledError("stopped"))
    assert [f.event for f in frames] == ["message", "message", "error"]
    decoder: ProfileDecoder[Any] = ProfileDecoder()
    decoder.feed(stream_frame("t"))
    decoder.feed(frames[0])
    decoder.feed(frames[1])
    assert decoder.value == {"a": "xyz"} == json.loads(frames[2].data or "")["partial"]


def test_a_throttled_encoder_joins_consecutive_parts() -> None:
    """Held reasoning, text and tool-call pieces become one frame each; a part of another
    kind (or another call) keeps its own."""
    encoder = ProfileEncoder(emit=Throttle(1))
    assert [f.event for f in encoder.feed(ReasoningDelta("a"), now=0)] == ["reasoning"]
    for part in (
        ReasoningDelta("b"),
        ReasoningDelta("c"),
        ToolCallDelta("c1", '{"q":', name="search", index=0),
        ToolCallDelta("c1", ' "x"}', index=0),
        ToolCallDelta("c2", "{}", name="other", index=1),
        TextDelta("Hel"),
        TextDelta("lo"),
        Usage(1, 2, 3),
    ):
        assert encoder.feed(part, now=0.5) == []
    frames = encoder.poll(1.0)
    assert [(f.event, json.loads(f.data or "")) for f in frames] == [
        ("reasoning", {"type": "reasoning", "text": "bc"}),
        (
            "tool_call",
            {
                "type": "tool_call_delta",
                "call_id": "c1",
                "name": "search",
                "arguments": '{"q": "x"}',
                "index": 0,
            },
        ),
        (
            "tool_call",
            {
                "type": "tool_call_delta",
                "call_id": "c2",
                "name": "other",
                "arguments": "{}",
                "index": 1,
            },
        ),
        ("message", {"j": {"": "Hello"}}),
        ("usage", {"type": "usage", "input_tokens": 1, "output_tokens": 2, "total_tokens": 3}),
    ]
    assert [f.event for f in encoder.close()] == ["message", "final"]


def test_a_held_text_delta_after_json_is_refused_at_once() -> None:
    """The misuse a throttled encoder holds is still reported by the feed that made it."""
    encoder = ProfileEncoder(emit=Throttle(1))
    encoder.feed(list(stream(['{"a": 1', "}"]).events())[0], now=0)
    with pytest.raises(UsageError, match="TextDelta is the object's own text"):
        encoder.feed(TextDelta("x"), now=0.1)


@pytest.mark.parametrize("emit", ["every", 20, None], ids=["word", "number", "none"])
def test_a_bad_emit_is_refused(emit: Any) -> None:
    """The error names the valid choices."""
    with pytest.raises(ValueError, match=r"'changes' or Throttle\(per_second\)"):
        ProfileEncoder(emit=emit)


# ------------------------------------------------------------------------------ version 3


def orders_frames(step: float, version: int = 3) -> list[SSE]:
    """The 20 KB orders fixture in token-sized pieces, throttled at 20 frames a second with a
    piece every `step` seconds of `now` (no clock: the frames depend only on these numbers)."""
    encoder = ProfileEncoder(emit=Throttle(20), version=version)  # type: ignore[arg-type]
    pieces = split_random(ORDERS_TEXT, seed=1, max_size=8)
    frames = []
    for i, output in enumerate(stream(pieces).events()):
        frames.extend(encoder.feed(output, now=i * step))
    return frames + encoder.close()


@pytest.mark.parametrize(
    ("step", "frame_count", "at_most"),
    [(0.001, 30, 0.85), (0.005, 134, 1.15), (0.02, 468, 1.6), (0.05, 908, 2.0)],
    ids=["30-frames", "134-frames", "468-frames", "908-frames"],
)
def test_version_3_wire_bytes_per_document(step: float, frame_count: int, at_most: float) -> None:
    """Counted, not timed: the 21,479-byte orders document costs at most 1.6x its size on
    the wire with the default policy at 468 frames and 2x at 908 (version 2: 1.8x-5.1x;
    2.0x and 2.8x with ``event: delta`` lines and long member names), and its final frame
    is a digest of under 100 bytes instead of the whole object."""
    frames = orders_frames(step)
    size = sum(len(encode(f)) for f in frames)
    assert len(frames) == frame_count
    assert size <= at_most * len(ORDERS_TEXT.encode())
    assert len(encode(frames[-1])) < 100
    assert size < 0.5 * sum(len(encode(f)) for f in orders_frames(step, version=2))
    assert b"event: delta" not in b"".join(map(encode, frames))  # unnamed: no event line
    assert decode_all(frames)[-1].final == json.loads(ORDERS_TEXT)


def paced_wire(emit: Throttle, per_second: float = 100.0) -> tuple[int, int]:
    """Frames and bytes of the orders fixture arriving at `per_second` token-sized pieces,
    encoded as `EventStreamResponse` does: the held frame polled when its deadline passes
    (the watchdog) and each flush one send, its bytes counted with HTTP/1.1's chunked
    framing (hex length, CRLF, data, CRLF) as they go on the wire."""
    encoder = ProfileEncoder(emit=emit)
    pieces = split_random(ORDERS_TEXT, seed=1, max_size=8)
    sends: list[bytes] = []
    now = 0.0

    def source() -> Any:
        nonlocal now
        for i, piece in enumerate(pieces):
            now = i / per_second
            if encoder.next_deadline <= now:
                sends.append(b"".join(map(encode, encoder.poll(now))))
            yield piece

    for output in stream(source()).events():
        frames = encoder.feed(output, now=now)
        if frames:
            sends.append(b"".join(map(encode, frames)))
    sends.append(b"".join(map(encode, encoder.close())))
    count = sum(body.count(b"\n\n") for body in sends)
    return count, sum(len(f"{len(body):x}\r\n\r\n") + len(body) for body in sends if body)


def test_the_default_frame_rate_keeps_the_wire_under_twice_the_document() -> None:
    """At 100 token-sized pieces a second (a 52 s generation) the default policy's frames,
    with their chunked framing, cost under twice the document: each frame's framing is ~22
    bytes whatever it carries, so the rate sets the size (20 a second would be over 2x)."""
    from streamdantic.starlette import DEFAULT_EMIT

    frames, size = paced_wire(DEFAULT_EMIT)
    duration = len(split_random(ORDERS_TEXT, seed=1, max_size=8)) / 100
    assert frames <= DEFAULT_EMIT.per_second * duration + 2  # bounded by the rate, not the pieces
    assert size <= 2.0 * len(ORDERS_TEXT.encode())
    faster_frames, faster_size = paced_wire(Throttle(20))
    assert faster_frames > frames and faster_size > size


def test_a_client_resuming_from_a_snapshot_verifies_the_digest() -> None:
    """A snapshot carries the digest after its frame and the pointer the next frame is
    relative to: a client that starts from it (frames before it dropped) verifies the final
    frame and has the object; without them it could do neither."""
    encoder = ProfileEncoder(emit=Throttle(20), snapshot_every=40)
    pieces = split_random(ORDERS_TEXT, seed=1, max_size=8)
    outputs = list(stream(pieces).events())
    frames = [f for i, o in enumerate(outputs) for f in encoder.feed(o, now=i * 0.005)]
    frames += encoder.close()
    snapshot = [f for f in frames if f.event == "snapshot"][1]
    data = json.loads(snapshot.data or "")
    assert set(data) == {"value", "open", "digest", "at"}
    later = [f for f in frames if f.event != "snapshot" and int(f.id or 0) > int(snapshot.id or 0)]
    assert decode_all([snapshot, *later])[-1].final == json.loads(ORDERS_TEXT)
    del data["digest"]  # a version-2 snapshot in a version-3 stream: nothing to verify with
    bare = SSE(json.dumps(data), event="snapshot", id=snapshot.id)
    with pytest.raises(StreamIntegrityError, match="carried none"):
        decode_all([bare, *later])


@pytest.mark.parametrize(
    ("chunks", "message"),
    [
        (['{"json":{"1/a":1}}'], "no pointer before it"),
        (['{"json":{"":{}}}', '{"json":{"2/a":1}}'], "climbs 2 levels"),
        (['{"json":{"":{},"/a":{}}}', '{"json":{"/a/b":1,"1":2}}'], "invalid pointer '1'"),
        (['{"json":{"":{},"/a":{}}}', '{"json":{"/a/b":1,"x/c":2}}'], "invalid pointer 'x/c'"),
        (['{"json":{"":{},"/a":{}}}', '{"json":{"/b":1,"1/c":2,"1/b":3}}'], "same value"),
    ],
    ids=["first", "above-root", "digits-in-a-map", "no-count", "duplicate"],
)
def test_malformed_relative_pointers_are_delta_errors(chunks: list[str], message: str) -> None:
    """A relative pointer that cannot be resolved is refused, naming what is wrong."""
    frames = [SSE(c, event="delta", id=str(i)) for i, c in enumerate(chunks, 1)]
    with pytest.raises(DeltaError, match=message):
        decode_all(frames)


def test_a_delta_is_written_in_its_shortest_form_and_read_in_every_form() -> None:
    """One-letter member names, text at the previous pointer as a bare JSON string; the
    long names (version 3 before they were shortened) and version 2's chunks read alike."""
    frames = encode_all(list(stream(['{"a": "he', "ll", 'o", "b": 1}']).events()))
    assert [f.data for f in frames[:-1]] == [
        '{"j":{"":{},"/a":"he"}}',
        '"ll"',
        '{"t":{"/a":"o"},"j":{"/b":1},"d":["0",""]}',
    ]
    spelled = ['{"json":{"":{},"/a":"he"}}', '{"text":{"/a":"ll"}}', '{"text":{"/a":"o"}}']
    chunks = ['{"delta":{"json":{"":{},"/a":"he"}}}', '{"delta":{"text":{"/a":"ll"}}}']
    for datas, partial in ((spelled, {"a": "hello"}), (chunks, {"a": "hell"})):
        decoder: ProfileDecoder[Any] = ProfileDecoder()
        for i, data in enumerate(datas, 1):
            decoder.feed(SSE(data, id=str(i)))
        assert decoder.partial == partial


@pytest.mark.parametrize(
    ("data", "message"),
    [('"text"', "no pointer before it"), ('{"j":{"":1},"json":{"":2}}', "named twice")],
    ids=["text-first", "named-twice"],
)
def test_malformed_short_deltas_are_delta_errors(data: str, message: str) -> None:
    """A bare string needs a pointer before it; a member may not be named both ways."""
    with pytest.raises(DeltaError, match=message):
        decode_all([SSE(data, id="1")])


@pytest.mark.parametrize("digest", ['"12345"', '"ABCDEF01"', "null", "7"])
def test_a_malformed_digest_is_an_sse_error(digest: str) -> None:
    """A final frame's digest is 8 lowercase hex digits."""
    frames = [SSE('{"json":{"":1}}', event="delta", id="1")]
    frames.append(SSE(f'{{"digest":{digest}}}', event="final", id="2"))
    with pytest.raises(SSEError, match="malformed final frame 2"):
        decode_all(frames)


def test_an_unknown_version_is_refused() -> None:
    """ProfileEncoder writes versions 2 and 3 only."""
    with pytest.raises(ValueError, match=r"version must be one of \(2, 3\)"):
        ProfileEncoder(version=4)  # type: ignore[arg-type]
