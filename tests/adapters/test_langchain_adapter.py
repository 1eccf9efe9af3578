"""The LangChain adapter: `AIMessageChunk`s from real langchain_core chat models (its own
`GenericFakeChatModel`, and a fake `BaseChatModel` streaming tool-call chunks), no network."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import BaseModel

import streamdantic as sd
from streamdantic.adapters.langchain import alangchain_events, langchain_events
from tests.adapters.support import acollect, collect, grows


class City(BaseModel):
    name: str
    population: int
    districts: list[str]


class WeatherArgs(BaseModel):
    city: str
    unit: str


DOC = '{"name": "Paris \u00e9t\u00e9", "population": 2100000, "districts": ["Marais", "Bastille"]}'


def pieces(text: str, size: int = 6) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


class ChunkModel(BaseChatModel):
    """A chat model streaming the given chunks, as an integration's `_stream` yields them."""

    chunks: list[AIMessageChunk]

    @property
    def _llm_type(self) -> str:
        return "chunk-model"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, **kw: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=""))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self.chunks:
            yield ChatGenerationChunk(message=chunk)


def text_chunks(doc: str, *, finish: str = "stop", blocks: bool = False) -> list[AIMessageChunk]:
    out = [
        AIMessageChunk(content=[{"type": "text", "text": p, "index": 0}] if blocks else p)
        for p in pieces(doc)
    ]
    out[0] = AIMessageChunk(
        content=out[0].content,
        usage_metadata={"input_tokens": 12, "output_tokens": 0, "total_tokens": 12},
    )
    out.append(
        AIMessageChunk(
            content="",
            response_metadata={"finish_reason": finish},
            usage_metadata={"input_tokens": 0, "output_tokens": 30, "total_tokens": 30},
        )
    )
    return out


def test_generic_fake_chat_model_streams_the_object() -> None:
    """langchain_core's own GenericFakeChatModel stream gives growing partials and the object."""
    model = GenericFakeChatModel(messages=iter([AIMessage(content=DOC)]))
    run = collect(sd.stream(model.stream("Describe Paris"), City))
    assert run.error is None
    assert run.final == City.model_validate_json(DOC)
    assert len(run.dumps) > 3 and grows(run.dumps)


@pytest.mark.parametrize("blocks", [False, True], ids=["string-content", "content-blocks"])
def test_chunks_give_object_usage_and_finish(blocks: bool) -> None:
    """String or content-block content streams the object; usage sums, finish is read."""
    model = ChunkModel(chunks=text_chunks(DOC, blocks=blocks))
    run = collect(sd.stream(model.stream("Describe Paris"), City))
    assert run.error is None
    assert run.final == City.model_validate_json(DOC)
    assert grows(run.dumps)
    assert run.finish_reason == "stop"
    assert run.usage is not None
    assert (run.usage.input_tokens, run.usage.output_tokens, run.usage.total_tokens) == (12, 30, 42)


def test_interleaved_tool_call_chunks_give_one_partial_per_call() -> None:
    """tool_call_chunks of two calls interleaved by index stay apart, each typed, ids kept."""
    first, second = '{"city": "Paris", "unit": "C"}', '{"city": "Lyon", "unit": "F"}'
    chunks = [
        AIMessageChunk(
            content="",
            tool_call_chunks=[{"index": 0, "id": "a", "name": "get_weather", "args": ""}],
        ),
        AIMessageChunk(
            content="",
            tool_call_chunks=[{"index": 1, "id": "b", "name": "get_weather", "args": ""}],
        ),
    ]
    for p1, p2 in zip(pieces(first, 4), pieces(second, 4), strict=False):
        chunks.append(
            AIMessageChunk(
                content="",
                tool_call_chunks=[
                    {"index": 0, "id": None, "name": None, "args": p1},
                    {"index": 1, "id": None, "name": None, "args": p2},
                ],
            )
        )
    chunks.append(AIMessageChunk(content="", response_metadata={"finish_reason": "tool_calls"}))
    run = collect(
        sd.stream(ChunkModel(chunks=chunks).stream("hi"), tools={"get_weather": WeatherArgs})
    )
    assert run.error is None
    by_call: dict[str, list[Any]] = {}
    for call_id, partial in run.tool_dumps:
        by_call.setdefault(call_id, []).append(partial)
    assert sorted(by_call) == ["a", "b"]
    assert all(grows(dumps) for dumps in by_call.values())
    assert {d.call_id: (d.name, d.value) for d in run.of_type(sd.parts.ToolCallDone)} == {
        "a": ("get_weather", WeatherArgs(city="Paris", unit="C")),
        "b": ("get_weather", WeatherArgs(city="Lyon", unit="F")),
    }
    assert run.finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("finish", "error"),
    [("length", sd.TruncatedStreamError), ("content_filter", sd.ContentFilterError)],
)
def test_cut_output_raises_with_the_partial(finish: str, error: type[sd.StreamdanticError]) -> None:
    """A token-limit or content-filter finish mid-object raises the matching error with the partial."""
    cut = DOC[: DOC.index('"districts"')]
    run = collect(sd.stream(ChunkModel(chunks=text_chunks(cut, finish=finish)).stream("hi"), City))
    assert type(run.error) is error
    partial = getattr(run.error, "partial", None)
    assert partial is not None and partial.population == 2100000


def test_anthropic_style_finish_and_thinking_blocks() -> None:
    """Anthropic-style stop_reason reads as the finish; thinking blocks become reasoning."""
    chunks = [
        AIMessageChunk(content=[{"type": "thinking", "thinking": "Paris is big.", "index": 0}]),
        *text_chunks(DOC, blocks=True)[:-1],
        AIMessageChunk(content="", response_metadata={"stop_reason": "max_tokens"}),
    ]
    run = collect(sd.stream(ChunkModel(chunks=chunks).stream("hi"), City))
    assert run.error is None and run.final == City.model_validate_json(DOC)
    assert run.finish_reason == "length"
    assert [p.text for p in run.of_type(sd.parts.ReasoningDelta)] == ["Paris is big."]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # langchain_core runs on asyncio
async def test_astream_events_v2_chat_model_stream_events() -> None:
    """astream_events(version="v2") read through alangchain_events gives the object."""
    model = GenericFakeChatModel(messages=iter([AIMessage(content=DOC)]))
    events = model.astream_events("Describe Paris", version="v2")
    run = await acollect(sd.astream(alangchain_events(events), City))
    assert run.error is None and run.final == City.model_validate_json(DOC)
    assert grows(run.dumps)


def test_langchain_events_skips_other_events() -> None:
    """The sync helper keeps on_chat_model_stream chunks and passes chunks through."""
    chunk = AIMessageChunk(content="{}")
    events = [
        {"event": "on_chat_model_start", "data": {}},
        {"event": "on_chat_model_stream", "data": {"chunk": chunk}},
        chunk,
    ]
    assert list(langchain_events(events)) == [chunk, chunk]


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(DOC) - 1), unique=True, max_size=15))
def test_any_rechunking_gives_growing_partials_and_the_object(cuts: list[int]) -> None:
    """However the chunks split the text, partials only grow and the final is the document's."""
    bounds = [0, *sorted(cuts), len(DOC)]
    chunks = [AIMessageChunk(content=DOC[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    run = collect(sd.stream(ChunkModel(chunks=chunks).stream("hi"), City))
    assert run.error is None
    assert run.final == City.model_validate_json(DOC)
    assert grows(run.dumps)
