"""The openai-agents adapter: real `Agent`s on `OpenAIResponsesModel` over an `AsyncOpenAI`
client pointed at the local replay server (no network, tracing off), their
``Runner.run_streamed(...).stream_events()`` read by `streamdantic.astream`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import httpx
import openai
import pytest
from agents import (
    Agent,
    AgentOutputSchema,
    MaxTurnsExceeded,
    OpenAIResponsesModel,
    Runner,
    function_tool,
    set_tracing_disabled,
)
from agents.result import RunResultStreaming

import streamdantic as sd
from tests.adapters.replay import ReplayServer
from tests.adapters.support import (
    FIXTURES,
    STREAMS,
    TOOLS,
    Run,
    acollect,
    contradicted_numbers,
    expected_object,
    grows,
    ids_where,
    model_for,
    piece_for,
)

COMPLETE = ids_where("openai_responses", pydantic_model=bool, truncated=False, errored=False)
ERRORED = ids_where("openai_responses", errored=True)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the agents SDK runs on asyncio


@pytest.fixture(scope="module", autouse=True)
def _no_tracing() -> Iterator[None]:
    set_tracing_disabled(True)
    yield
    set_tracing_disabled(False)


def _agent(client: openai.AsyncOpenAI, stream_id: str) -> Agent[Any]:
    model = OpenAIResponsesModel(STREAMS[stream_id]["request"]["model"], openai_client=client)
    # Not strict: some fixture models have optional fields (the replayed stream is the same).
    output_type = AgentOutputSchema(model_for(stream_id), strict_json_schema=False)
    return Agent(name="extractor", model=model, output_type=output_type)


@pytest.fixture(scope="module")
def agent_run(replay_server: ReplayServer) -> Iterator[Callable[[str], Any]]:
    """Each stream through an agent run and `streamdantic.astream` (one run per stream)."""
    runs: dict[str, tuple[Run, Any]] = {}

    async def run(stream_id: str) -> tuple[Run, Any]:
        if stream_id not in runs:
            url = replay_server.base_url(stream_id, piece=piece_for(stream_id), tag="agents")
            async with openai.AsyncOpenAI(base_url=url, api_key="k", max_retries=0) as client:
                result = Runner.run_streamed(_agent(client, stream_id), "Extract it.")
                source = result.stream_events()
                collected = await acollect(sd.astream(source, model_for(stream_id)))
            runs[stream_id] = (collected, result)
        return runs[stream_id]

    yield run


@pytest.mark.anyio
@pytest.mark.parametrize("stream_id", COMPLETE)
async def test_final_object_equals_the_document_and_the_agents_output(
    agent_run: Callable[[str], Any], stream_id: str
) -> None:
    """The final object is the fixture's document validated with its model, and equals the
    final output the agent itself returns."""
    run, result = await agent_run(stream_id)
    assert run.error is None
    output = next(o for o in STREAMS[stream_id]["outputs"] if o["pydantic_model"])
    assert run.final == expected_object(output)
    assert run.final == result.final_output


@pytest.mark.anyio
@pytest.mark.parametrize("stream_id", COMPLETE)
async def test_partials_satisfy_the_contract(
    agent_run: Callable[[str], Any], stream_id: str
) -> None:
    """Partials only grow, and no number shown in a partial is contradicted by the final."""
    run, _ = await agent_run(stream_id)
    assert len(run.dumps) > 3
    assert grows(run.dumps)
    assert contradicted_numbers(run.dumps, run.final) == []


@pytest.mark.anyio
@pytest.mark.parametrize("stream_id", COMPLETE)
async def test_usage_and_finish_reason_are_carried_through(
    agent_run: Callable[[str], Any], stream_id: str
) -> None:
    """The response's usage and the finish reason reach the stream, matching the SDK's count."""
    run, result = await agent_run(stream_id)
    sent = STREAMS[stream_id]["usage"]
    assert run.finish_reason == "stop"
    assert run.usage is not None
    assert (run.usage.input_tokens, run.usage.output_tokens) == (
        sent["input_tokens"],
        sent["output_tokens"],
    )
    assert run.usage.output_tokens == result.context_wrapper.usage.output_tokens


@pytest.mark.anyio
async def test_truncation_raises_truncated_stream_error_with_the_partial(
    agent_run: Callable[[str], Any],
) -> None:
    """``response.incomplete`` (max_output_tokens), which the SDK raises as ModelBehaviorError,
    raises TruncatedStreamError with finish reason "length" and the partial, chained."""
    run, _ = await agent_run("openai_responses/incomplete_max_output_tokens")
    error = run.error
    assert isinstance(error, sd.TruncatedStreamError)
    assert error.finish_reason == "length"
    assert error.partial.sensor_id == "thermo-rig-07"
    assert error.partial.integers[:3] == [0, 1, -1]
    assert type(error.__cause__).__name__ == "ModelBehaviorError"


@pytest.mark.anyio
@pytest.mark.parametrize("stream_id", ERRORED)
async def test_provider_error_raises_provider_error_keeping_the_partial(
    agent_run: Callable[[str], Any], stream_id: str
) -> None:
    """An ``error`` event or ``response.failed`` raises ProviderError with the provider's
    error and the partial."""
    run, _ = await agent_run(stream_id)
    error = run.error
    assert type(error) is sd.ProviderError
    assert error.code == "server_error"
    assert error.partial.title == "Weeknight shakshuka"
    assert error.partial.author.name == "Dana Okafor"


@pytest.mark.anyio
async def test_tool_calls_are_typed_and_their_outputs_are_tool_results(
    replay_server: ReplayServer,
) -> None:
    """A turn calling two function tools gives one typed ToolCallDone per call and the
    SDK's tool outputs as ToolResult parts; the run then stops at max_turns (the replayed
    reply would call the tools again), which propagates as the SDK raises it."""
    stream_id = "openai_responses/function_calls"
    ran: list[str] = []

    @function_tool
    def get_weather(location: str, unit: str, days: int, include_hourly: bool) -> str:
        ran.append(location)
        return f"sunny in {location}"

    @function_tool(strict_mode=False)
    def search_places(query: str, filters: dict[str, Any], limit: int, cursor: str | None) -> str:
        ran.append(query)
        return f"{limit} places"

    url = replay_server.base_url(stream_id, piece=piece_for(stream_id), tag="agents-tools")
    async with openai.AsyncOpenAI(base_url=url, api_key="k", max_retries=0) as client:
        model = OpenAIResponsesModel("gpt-4.1", openai_client=client)
        agent: Agent[Any] = Agent(name="helper", model=model, tools=[get_weather, search_places])
        result = Runner.run_streamed(agent, "Weather and ramen?", max_turns=1)
        parts: list[Any] = []
        with pytest.raises(MaxTurnsExceeded):
            async with sd.astream(result.stream_events(), None, tools=TOOLS) as s:
                async for item in s.events():  # kept as they come: the run ends raising
                    parts.append(item)  # noqa: PERF401
    done = {p.name: p.value for p in parts if type(p) is sd.parts.ToolCallDone}
    expected = {
        o["name"]: TOOLS[o["name"]].model_validate_json(o["text"])
        for o in STREAMS[stream_id]["outputs"]
    }
    assert done == expected
    results = {p.call_id: p.result for p in parts if type(p) is sd.parts.ToolResult}
    ids = {o["name"]: o["id"] for o in STREAMS[stream_id]["outputs"]}
    assert results == {
        ids["get_weather"]: "sunny in Lisbon, Portugal",
        ids["search_places"]: "5 places",
    }
    assert sorted(ran) == sorted(["Lisbon, Portugal", "late-night ramen near Shibuya station"])


class _TurnByTurn(httpx.AsyncBaseTransport):
    """Sends the run's n-th model request to the n-th replayed stream (a real HTTP request to
    the replay server; only the URL changes)."""

    def __init__(self, roots: list[str]) -> None:
        self._roots = iter(roots)
        self._http = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = httpx.URL(next(self._roots) + "/responses")
        return await self._http.handle_async_request(request)

    async def aclose(self) -> None:
        await self._http.aclose()


@pytest.mark.anyio
async def test_a_run_of_two_turns_sums_the_usage_and_streams_the_output(
    replay_server: ReplayServer,
) -> None:
    """Turn 1 calls the tools, turn 2 is the structured output: the object is the second
    response's document, the tool results come between, and the usage is the sum of both
    responses' (as the SDK counts it), the finish reason the last one's."""
    calls, output = "openai_responses/function_calls", "openai_responses/structured_output"
    roots = [
        replay_server.base_url(s, piece=piece_for(s), tag="agents-turns") for s in (calls, output)
    ]

    @function_tool
    def get_weather(location: str, unit: str, days: int, include_hourly: bool) -> str:
        return "sunny"

    @function_tool(strict_mode=False)
    def search_places(query: str, filters: dict[str, Any], limit: int, cursor: str | None) -> str:
        return "5 places"

    http_client = httpx.AsyncClient(transport=_TurnByTurn(roots))
    async with openai.AsyncOpenAI(api_key="k", max_retries=0, http_client=http_client) as client:
        model = OpenAIResponsesModel("gpt-4.1", openai_client=client)
        recipe = AgentOutputSchema(model_for(output), strict_json_schema=False)
        agent: Agent[Any] = Agent(
            name="cook", model=model, tools=[get_weather, search_places], output_type=recipe
        )
        result = Runner.run_streamed(agent, "Weather, ramen, then a recipe.")
        run = await acollect(sd.astream(result.stream_events(), model_for(output), tools=TOOLS))
    assert run.error is None
    assert run.final == expected_object(STREAMS[output]["outputs"][0]) == result.final_output
    assert len(run.of_type(sd.parts.ToolResult)) == 2
    sent = [STREAMS[s]["usage"] for s in (calls, output)]
    assert run.usage is not None
    assert run.usage.input_tokens == sum(u["input_tokens"] for u in sent)
    assert run.usage.output_tokens == sum(u["output_tokens"] for u in sent)
    assert run.usage.output_tokens == result.context_wrapper.usage.output_tokens
    assert run.finish_reason == "stop"


# ------------------------------------------------------- the run result as the source


@pytest.mark.anyio
async def test_the_run_result_itself_is_a_source(replay_server: ReplayServer) -> None:
    """``astream(Runner.run_streamed(agent, input), Model)`` streams the same partials, final
    object, usage and finish reason as passing ``result.stream_events()``."""
    stream_id = "openai_responses/structured_output"
    runs = []
    for tag, whole in (("agents-result", True), ("agents-events", False)):
        url = replay_server.base_url(stream_id, piece=piece_for(stream_id), tag=tag)
        async with openai.AsyncOpenAI(base_url=url, api_key="k", max_retries=0) as client:
            result = Runner.run_streamed(_agent(client, stream_id), "Extract it.")
            source = result if whole else result.stream_events()
            runs.append((await acollect(sd.astream(source, model_for(stream_id))), result))
    (run, result), (events_run, _) = runs
    assert run.error is None
    assert run.final == expected_object(STREAMS[stream_id]["outputs"][0]) == result.final_output
    assert run.dumps == events_run.dumps
    assert (run.usage, run.finish_reason) == (events_run.usage, events_run.finish_reason)
    assert grows(run.dumps)
    assert result.is_complete


@pytest.mark.anyio
async def test_leaving_the_stream_early_cancels_the_run() -> None:
    """Leaving ``async with astream(result, Model)`` before the run ends cancels the run:
    the model's response here never ends (its HTTP body stalls after half the events), so
    only the cancel marks the run complete."""
    data = (FIXTURES / STREAMS["openai_responses/structured_output"]["file"]).read_bytes()
    half = data[: data.index(b"\n\n", len(data) // 2) + 2]

    class Stalled(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield half
            await anyio.Event().wait()  # until the run's task is cancelled

    def api(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=Stalled())

    http_client = httpx.AsyncClient(transport=httpx.MockTransport(api))
    async with openai.AsyncOpenAI(api_key="k", max_retries=0, http_client=http_client) as client:
        stream_id = "openai_responses/structured_output"
        result = Runner.run_streamed(_agent(client, stream_id), "Extract it.")
        async with sd.astream(result, model_for(stream_id)) as s:
            async for update in s:
                if update.partial is not None and update.partial.title:
                    break
        assert s.partial.title
        assert result.is_complete


def test_a_sync_stream_of_the_run_result_raises_usage_error() -> None:
    """``streamdantic.stream(result, ...)`` raises UsageError naming astream (the run's
    events are async only); nothing is started."""
    result = RunResultStreaming.__new__(RunResultStreaming)  # the class run_streamed returns
    with pytest.raises(sd.UsageError, match=r"RunResultStreaming .*use streamdantic.astream"):
        sd.stream(result, model_for("openai_responses/structured_output"))
