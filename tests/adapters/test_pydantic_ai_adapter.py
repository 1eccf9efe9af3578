"""The pydantic-ai adapter: real agents on pydantic-ai's own `FunctionModel` (no network),
their `run_stream_events()` and `iter()` node streams read by `streamdantic.astream`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from pydantic import BaseModel
from pydantic_ai import Agent, NativeOutput, exceptions as pai_exc
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models.function import (
    AgentInfo,
    DeltaThinkingPart,
    DeltaToolCall,
    FunctionModel,
)

import streamdantic as sd
from tests.adapters.support import Run, acollect, grows

pytestmark = pytest.mark.parametrize("anyio_backend", ["asyncio"])  # pydantic-ai runs on asyncio


class City(BaseModel):
    name: str
    population: int
    districts: list[str]


class WeatherArgs(BaseModel):
    city: str
    unit: str


DOC = '{"name": "Paris \u00e9t\u00e9", "population": 2100000, "districts": ["Marais", "Bastille"]}'
StreamFunction = Callable[[list[ModelMessage], AgentInfo], AsyncIterator[Any]]


def pieces(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def tool_output_model(
    doc: str = DOC, *, splits: list[str] | None = None, then: BaseException | None = None
) -> FunctionModel:
    """A model that first calls get_weather (args in pieces), then the output tool with `doc`
    in pieces (or `splits`), optionally raising `then` after the output pieces."""

    async def fn(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
        if len(messages) == 1:
            yield "Let me check the weather first."
            args = '{"city": "Paris", "unit": "C"}'
            yield {1: DeltaToolCall(name="get_weather", tool_call_id="call_w")}
            for piece in pieces(args, 5):
                yield {1: DeltaToolCall(json_args=piece)}
            return
        yield {0: DeltaToolCall(name=info.output_tools[0].name, tool_call_id="call_out")}
        for piece in splits if splits is not None else pieces(doc):
            yield {0: DeltaToolCall(json_args=piece)}
        if then is not None:
            raise then

    return FunctionModel(stream_function=fn)


def city_agent(model: FunctionModel, output: Any = City) -> Agent[None, Any]:
    agent: Agent[None, Any] = Agent(model, output_type=output)

    @agent.tool_plain
    def get_weather(city: str, unit: str) -> str:
        return f"sunny in {city}"

    return agent


async def run_events(agent: Agent[None, Any], **options: Any) -> Run:
    async with agent.run_stream_events("Describe Paris") as events:
        return await acollect(sd.astream(events, City, **options))


@pytest.mark.anyio
async def test_tool_output_streams_the_typed_object() -> None:
    """pydantic-ai's output tool arguments stream as the typed partial and the final object."""
    run = await run_events(city_agent(tool_output_model()), tools={"get_weather": WeatherArgs})
    assert run.error is None
    assert run.final == City.model_validate_json(DOC)
    assert len(run.dumps) > 3
    assert grows(run.dumps)
    assert run.finish_reason == "stop"
    assert run.usage is not None and run.usage.input_tokens and run.usage.output_tokens


@pytest.mark.anyio
async def test_function_tool_call_is_typed_and_its_result_carried() -> None:
    """A function tool call gives typed partial arguments, a done value and the tool's result;
    the prose beside tool-mode output stays out of the object."""
    run = await run_events(city_agent(tool_output_model()), tools={"get_weather": WeatherArgs})
    deltas = run.of_type(sd.parts.ToolCallDelta)
    assert {d.call_id for d in deltas} == {"call_w"}
    assert deltas[0].name == "get_weather"
    assert "".join(d.arguments for d in deltas) == '{"city": "Paris", "unit": "C"}'
    assert grows(partial for call_id, partial in run.tool_dumps)
    assert run.tool_dumps[-1] == ("call_w", {"city": "Paris", "unit": "C"})
    done = run.of_type(sd.parts.ToolCallDone)
    assert [(d.call_id, d.name, d.value) for d in done] == [
        ("call_w", "get_weather", WeatherArgs(city="Paris", unit="C"))
    ]
    assert run.of_type(sd.parts.ToolResult) == [sd.parts.ToolResult("call_w", "sunny in Paris")]


@pytest.mark.anyio
async def test_native_output_text_and_thinking() -> None:
    """NativeOutput text streams as the object; thinking parts arrive as reasoning."""

    async def fn(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
        yield {0: DeltaThinkingPart(content="Paris is ")}
        yield {0: DeltaThinkingPart(content="big.")}
        for piece in pieces(DOC, 9):
            yield piece

    run = await run_events(city_agent(FunctionModel(stream_function=fn), NativeOutput(City)))
    assert run.error is None
    assert run.final == City.model_validate_json(DOC)
    assert grows(run.dumps)
    assert "".join(p.text for p in run.of_type(sd.parts.ReasoningDelta)) == "Paris is big."


@pytest.mark.anyio
async def test_interleaved_tool_calls_give_one_partial_per_call() -> None:
    """Two tool calls whose argument deltas interleave by part index stay apart, each typed."""
    first, second = '{"city": "Paris", "unit": "C"}', '{"city": "Lyon", "unit": "F"}'

    async def fn(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
        if len(messages) == 1:
            yield {0: DeltaToolCall(name="get_weather", tool_call_id="a")}
            yield {1: DeltaToolCall(name="get_weather", tool_call_id="b")}
            for p1, p2 in zip(pieces(first, 4), pieces(second, 4), strict=False):
                yield {0: DeltaToolCall(json_args=p1), 1: DeltaToolCall(json_args=p2)}
            return
        yield {0: DeltaToolCall(name=info.output_tools[0].name, tool_call_id="out")}
        yield {0: DeltaToolCall(json_args=DOC)}

    run = await run_events(
        city_agent(FunctionModel(stream_function=fn)), tools={"get_weather": WeatherArgs}
    )
    assert run.error is None
    by_call: dict[str, list[Any]] = {}
    for call_id, partial in run.tool_dumps:
        by_call.setdefault(call_id, []).append(partial)
    assert sorted(by_call) == ["a", "b"]
    assert by_call["a"][-1] == {"city": "Paris", "unit": "C"}
    assert by_call["b"][-1] == {"city": "Lyon", "unit": "F"}
    assert all(grows(dumps) for dumps in by_call.values())
    assert {d.call_id: d.value for d in run.of_type(sd.parts.ToolCallDone)} == {
        "a": WeatherArgs(city="Paris", unit="C"),
        "b": WeatherArgs(city="Lyon", unit="F"),
    }


@pytest.mark.anyio
async def test_iter_node_streams_read_the_same() -> None:
    """The model-request node streams of `agent.iter()` give the same object."""
    agent = city_agent(tool_output_model())
    finals: list[Any] = []
    async with agent.iter("Describe Paris") as agent_run:
        async for node in agent_run:
            if Agent.is_model_request_node(node):
                async with node.stream(agent_run.ctx) as request_stream:
                    stream = sd.astream(request_stream, City, tools={"get_weather": WeatherArgs})
                    finals.extend([update.final async for update in stream if update.done])
    # The first request only calls the tool; the second is the output.
    assert finals == [None, City.model_validate_json(DOC)]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("raised", "error"),
    [
        (pai_exc.OutputTokenLimitExceeded("cut at max_tokens"), sd.TruncatedStreamError),
        (pai_exc.ContentFilterError("blocked"), sd.ContentFilterError),
        (pai_exc.ModelHTTPError(503, "test-model", {"error": "overloaded"}), sd.ProviderError),
    ],
    ids=["token-limit", "content-filter", "http-error"],
)
async def test_errors_raise_the_matching_error_with_the_partial(
    raised: BaseException, error: type[sd.StreamdanticError]
) -> None:
    """pydantic-ai's truncation, content-filter and provider errors mid-output raise the
    matching streamdantic error, with the partial object so far, chained to pydantic-ai's."""
    cut = DOC[: DOC.index('"districts"')]
    run = await run_events(city_agent(tool_output_model(splits=pieces(cut), then=raised)))
    assert type(run.error) is error
    partial = getattr(run.error, "partial", None)
    assert partial is not None and partial.name == "Paris \u00e9t\u00e9"
    assert partial.population == 2100000
    assert run.error.__cause__ is raised


@pytest.mark.anyio
async def test_unrelated_errors_propagate() -> None:
    """An exception pydantic-ai does not attribute to the model propagates as raised."""
    run_error = pai_exc.UsageLimitExceeded("too many requests")
    agent = city_agent(tool_output_model(then=run_error))
    with pytest.raises(pai_exc.UsageLimitExceeded):
        await run_events(agent)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(DOC) - 1), unique=True, max_size=12))
@pytest.mark.anyio
async def test_any_rechunking_gives_growing_partials_and_the_object(cuts: list[int]) -> None:
    """However the model splits the output tool's arguments, partials only grow and the final
    object is the document's."""
    bounds = [0, *sorted(cuts), len(DOC)]
    splits = [DOC[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    run = await run_events(city_agent(tool_output_model(splits=splits)))
    assert run.error is None
    assert run.final == City.model_validate_json(DOC)
    assert grows(run.dumps)
