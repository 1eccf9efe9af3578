#!/usr/bin/env python
"""Benchmark the client side of streaming the ~20 KB orders document from Chat Completions.

The recorded stream `fixtures/openai_chat/orders_20k.sse` (3,155 chunks, 0.9 MB of SSE) is
replayed by the tests' replay server, in its own process on 127.0.0.1, and consumed four ways
in the same run: each warmed up, then timed --repeats times round-robin (a, b, c, d, a, b, ...)
so that a change in machine load affects every variant alike; the best run counts. One client
is reused across runs, and the server writes in large pieces so that the transport costs as
little as possible: the times are the client's processing.

  a  sdk-plain        client.chat.completions.create(stream=True), iterated, nothing parsed
  b  sdk-helper       client.chat.completions.stream(response_format=OrderBatch), iterated to
                      the end (the SDK's own helper: accumulates, re-parses the partial JSON
                      with jiter after every chunk, validates at the end)
  c  streamdantic-sdk streamdantic.stream(<the stream of a>, OrderBatch): the typed partial
                      after every change (update.partial read), validated final
  d  streamdantic-http streamdantic.adapters.http.stream_chat(url, OrderBatch): raw httpx +
                      streamdantic's SSE decoder + jiter, same output as c

Targets: c within 20 % of a (so streaming typed partials costs little more than receiving the
SDK's objects); d at least 5x faster than b.

A second table times the per-chunk conversion alone (no I/O, chunks prepared in memory), which
is how the SDK adapter's design was chosen: the shared converter reading the SDK object's fields
through its accessor (as shipped) vs dumping each object to a dict first vs a converter reading
attributes directly, next to what the SDK itself spends building each object and what the
raw-HTTP path spends parsing each frame with jiter.

A third table times agent frameworks' event streams (#13), in process (no I/O): the same
orders document streamed by a pydantic-ai agent on pydantic-ai's `FunctionModel`, as its output
tool's arguments in the fixture's 3,153 content deltas, iterated plainly (``async for`` over
``run_stream_events()``, nothing parsed) vs through ``streamdantic.astream(events, OrderBatch)``
(the typed partial after every change read); likewise a langchain_core chat model streaming
the deltas as `AIMessageChunk`s, iterated and validated once at the end vs through
``streamdantic.stream``. Process CPU time per delta, best of the repeats, and the adapter's
conversion alone over the recorded events; target: within 1.3x of plain iteration.
A fourth table does the same for the other providers' sources on their ~20 KB orders stream,
client CPU per delta next to the SDK's own plain iteration of the same stream (target: within
1.3x), and for an OpenAI Agents SDK run:

  Bedrock  botocore's EventStream decoding the recorded events from event-stream bytes (what
           ``converse_stream(...)["stream"]`` does with the HTTP body), iterated plainly vs
           passed to streamdantic.stream(..., OrderBatch) with every partial read; plus the
           adapter alone over the already-decoded dicts.
  Gemini   the real google-genai client against the replay server (``alt=sse`` body of
           ``fixtures/gemini/orders_20k.sse``, 16 KiB writes), ``generate_content_stream``
           iterated plainly vs passed to streamdantic.stream(..., OrderBatch).
  Ollama   the real ollama client against the replay server (NDJSON body of
           ``fixtures/ollama/orders_20k.ndjson``, 16 KiB writes), ``chat(stream=True)``
           iterated plainly vs passed to streamdantic.stream(..., OrderBatch).
  LiteLLM  the real litellm (``model="openai/..."``, ``api_base`` = the replay server, the
           orders_20k chat stream in 16 KiB writes), ``completion(stream=True)`` iterated
           plainly vs passed to streamdantic.stream(..., OrderBatch).
  Agents   openai-agents' ``Runner.run_streamed`` on its Chat Completions model against the
           replay server (the orders_20k chat stream), ``stream_events()`` iterated plainly vs
           passed to streamdantic.astream(..., OrderBatch); process CPU time.

    .venv/bin/python benchmarks/bench_adapters.py            # the full run (about a minute)
    .venv/bin/python benchmarks/bench_adapters.py --fast     # smoke run: one repeat each
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import jiter  # noqa: E402
import openai  # noqa: E402
from openai._models import construct_type  # noqa: E402
from openai.types.chat import ChatCompletionChunk  # noqa: E402
from tests.adapters.bedrock_wire import event_stream, wire_bytes  # noqa: E402
from tests.adapters.replay import ReplayServer  # noqa: E402
from tests.adapters.support import MODELS, STREAMS, expected_object  # noqa: E402

import streamdantic  # noqa: E402
from streamdantic.adapters import http as sd_http, openai as sd_openai  # noqa: E402
from streamdantic.adapters._chat import ChatConverter  # noqa: E402

STREAM_ID = "openai_chat/orders_20k"
TARGET_C_OVER_A = 1.20
TARGET_B_OVER_D = 5.0
TARGET_AGENT_OVER_PLAIN = 1.30
TARGET_SOURCE_OVER_PLAIN = 1.30
BEDROCK_FILE = ROOT / "fixtures" / "bedrock" / "orders_20k.jsonl"


# ------------------------------------------------------------------ end-to-end variants


def _request() -> dict[str, Any]:
    request = {k: v for k, v in STREAMS[STREAM_ID]["request"].items() if k != "stream"}
    return request


def variant_a(client: openai.OpenAI, url: str, http_client: httpx.Client) -> Any:
    last = None
    for chunk in client.chat.completions.create(**_request(), stream=True):
        last = chunk
    return last


def variant_b(client: openai.OpenAI, url: str, http_client: httpx.Client) -> Any:
    request = _request()
    request.pop("response_format")
    request.pop("stream_options", None)
    with client.chat.completions.stream(**request, response_format=MODELS.OrderBatch) as s:
        for _ in s:
            pass
        return s.get_final_completion().choices[0].message.parsed


def variant_c(client: openai.OpenAI, url: str, http_client: httpx.Client) -> Any:
    source = client.chat.completions.create(**_request(), stream=True)
    with streamdantic.stream(source, MODELS.OrderBatch) as s:
        for update in s:
            _ = update.partial
    return s.final


def variant_d(client: openai.OpenAI, url: str, http_client: httpx.Client) -> Any:
    body = STREAMS[STREAM_ID]["request"]
    with sd_http.stream_chat(url, MODELS.OrderBatch, json=body, http_client=http_client) as s:
        for update in s:
            _ = update.partial
    return s.final


VARIANTS: list[tuple[str, str, Callable[..., Any]]] = [
    ("a", "sdk-plain: create(stream=True), iterated", variant_a),
    ("b", "sdk-helper: chat.completions.stream(response_format=...)", variant_b),
    ("c", "streamdantic over the SDK stream (typed partials)", variant_c),
    ("d", "streamdantic raw HTTP (adapters.http.stream_chat)", variant_d),
]


def time_runs(run: Callable[[], Any], warmup: int, repeats: int) -> tuple[list[float], Any]:
    result = None
    for _ in range(warmup):
        result = run()
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return times, result


def time_round_robin(
    runs: dict[str, Callable[[], Any]],
    warmup: int,
    repeats: int,
    timer: Callable[[], float] = time.perf_counter,
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Time each run `repeats` times, interleaved, after `warmup` untimed rounds (wall time
    by default; `time.process_time` for this process's CPU alone)."""
    times: dict[str, list[float]] = {key: [] for key in runs}
    results: dict[str, Any] = {}
    for round_ in range(warmup + repeats):
        for key, run in runs.items():
            gc.collect()
            start = timer()
            results[key] = run()
            elapsed = timer() - start
            if round_ >= warmup:
                times[key].append(elapsed)
    return times, results


# -------------------------------------------------------------------- conversion only


def _frames() -> list[str]:
    data = (ROOT / "fixtures" / STREAMS[STREAM_ID]["file"]).read_text(encoding="utf-8")
    return [
        line[6:]
        for line in data.split("\n")
        if line.startswith("data: ") and line != "data: [DONE]"
    ]


def _attribute_converter(chunk: Any) -> list[Any]:
    # The alternative design measured for comparison: read the SDK object's attributes
    # directly (the adapter instead dumps the chunk and reuses the dict converter).
    out: list[Any] = []
    for choice in chunk.choices:
        if choice.index:
            continue
        delta = choice.delta
        if delta.content:
            out.append(streamdantic.parts.TextDelta(delta.content))
        if delta.refusal:
            out.append(streamdantic.parts.RefusalDelta(delta.refusal))
        if delta.tool_calls:
            out.extend(delta.tool_calls)
        if choice.finish_reason is not None:
            out.append(streamdantic.parts.Finish(choice.finish_reason))
    return out


def conversion_table(repeats: int) -> list[tuple[str, float]]:
    frames = _frames()
    dicts = [json.loads(f) for f in frames]
    objects = [construct_type(type_=ChatCompletionChunk, value=d) for d in dicts]
    encoded = [f.encode() for f in frames]

    def sdk_build() -> None:
        for frame in frames:
            construct_type(type_=ChatCompletionChunk, value=json.loads(frame))

    def adapter() -> None:
        convert = sd_openai._OpenAIEvents()
        for obj in objects:
            convert(obj)

    def dump_then_dicts() -> None:
        convert = ChatConverter()
        for obj in objects:
            convert(obj.model_dump(exclude_unset=True, warnings=False))

    def attributes() -> None:
        for obj in objects:
            _attribute_converter(obj)

    def jiter_dicts() -> None:
        convert = ChatConverter()
        for frame in encoded:
            convert(jiter.from_json(frame, cache_mode="keys"))

    rows = [
        ("openai SDK: json.loads + build the ChatCompletionChunk (its cost per chunk)", sdk_build),
        ("SDK adapter as shipped: shared converter, SDK fields via its accessor", adapter),
        ("alternative: model_dump each SDK object, then the shared converter", dump_then_dicts),
        ("alternative: a separate converter reading attributes directly", attributes),
        ("raw-HTTP path: jiter.from_json + shared dict converter", jiter_dicts),
    ]
    out = []
    for name, fn in rows:
        times, _ = time_runs(fn, 1, repeats)
        out.append((name, min(times) / len(frames) * 1e6))
    return out


# ------------------------------------------------------------------- agent frameworks


def _content_deltas() -> list[str]:
    out = []
    for frame in _frames():
        for choice in json.loads(frame).get("choices", ()):
            content = choice.get("delta", {}).get("content")
            if content:
                out.append(content)
    return out


def agent_table(repeats: int) -> list[dict[str, Any]]:
    """pydantic-ai's event stream, plain vs through streamdantic: CPU µs per delta."""
    import anyio
    from pydantic_ai import Agent
    from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

    deltas = _content_deltas()
    model_type = getattr(MODELS, STREAMS[STREAM_ID]["pydantic_model"])
    expected = expected_object(STREAMS[STREAM_ID]["outputs"][0])

    async def stream_function(messages: list[Any], info: AgentInfo) -> Any:
        yield {0: DeltaToolCall(name=info.output_tools[0].name, tool_call_id="out")}
        for delta in deltas:
            yield {0: DeltaToolCall(json_args=delta)}

    agent: Any = Agent(FunctionModel(stream_function=stream_function), output_type=model_type)

    async def plain() -> Any:
        async with agent.run_stream_events("orders") as events:
            async for event in events:
                last = event
        return last.result.output

    async def through_streamdantic() -> Any:
        async with agent.run_stream_events("orders") as events:
            async with streamdantic.astream(events, model_type) as s:
                async for update in s:
                    update.partial  # noqa: B018 - read it, as a consumer does
        return s.final

    def cpu(run: Callable[[], Any]) -> tuple[float, Any]:
        gc.collect()
        start = time.process_time()
        result = anyio.run(run)
        return time.process_time() - start, result

    times: dict[str, list[float]] = {"plain": [], "streamdantic": []}
    for round_ in range(repeats + 1):  # the first round warms up
        for key, run in (("plain", plain), ("streamdantic", through_streamdantic)):
            elapsed, result = cpu(run)
            if result != expected:
                raise SystemExit(f"pydantic-ai {key} produced a wrong object")
            if round_:
                times[key].append(elapsed)
    plain_us = min(times["plain"]) / len(deltas) * 1e6
    sd_us = min(times["streamdantic"]) / len(deltas) * 1e6

    # The adapter's conversion alone, over the run's events recorded in memory.
    async def record() -> list[Any]:
        async with agent.run_stream_events("orders") as events:
            return [event async for event in events]

    from streamdantic.adapters import pydantic_ai as sd_pydantic_ai

    recorded = anyio.run(record)

    def convert() -> None:
        adapter = sd_pydantic_ai._PydanticAIEvents()
        for event in recorded:
            adapter(event)

    conversion, _ = time_runs(convert, 1, repeats)
    return [
        _langchain_row(deltas, model_type, expected, repeats),
        {
            "adapter_us_per_delta": min(conversion) / len(deltas) * 1e6,
            "source": "pydantic-ai run_stream_events (output tool)",
            "deltas": len(deltas),
            "plain_us_per_delta": plain_us,
            "streamdantic_us_per_delta": sd_us,
            "ratio": sd_us / plain_us,
        },
    ]


def _langchain_row(
    deltas: list[str], model_type: Any, expected: Any, repeats: int
) -> dict[str, Any]:
    """A langchain_core chat model streaming the deltas as AIMessageChunks, plain vs
    through streamdantic."""
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

    from streamdantic.adapters import langchain as sd_langchain

    class DeltaModel(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "bench-deltas"

        def _generate(self, messages: Any, stop: Any = None, **kw: Any) -> ChatResult:
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=""))])

        def _stream(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> Any:
            for delta in deltas:
                yield ChatGenerationChunk(message=AIMessageChunk(content=delta))

    chat_model = DeltaModel()

    def plain() -> Any:
        text = [chunk.content for chunk in chat_model.stream("orders")]
        return model_type.model_validate_json("".join(text))  # the plain way to get the object

    def through_streamdantic() -> Any:
        with streamdantic.stream(chat_model.stream("orders"), model_type) as s:
            for update in s:
                update.partial  # noqa: B018 - read it, as a consumer does
        return s.final

    times: dict[str, list[float]] = {"plain": [], "streamdantic": []}
    for round_ in range(repeats + 1):
        for key, run in (("plain", plain), ("streamdantic", through_streamdantic)):
            gc.collect()
            start = time.process_time()
            result = run()
            elapsed = time.process_time() - start
            if result != expected:
                raise SystemExit(f"langchain {key} produced a wrong object")
            if round_:
                times[key].append(elapsed)
    recorded = list(chat_model.stream("orders"))

    def convert() -> None:
        adapter = sd_langchain._LangChainChunks()
        for chunk in recorded:
            adapter(chunk)

    conversion, _ = time_runs(convert, 1, repeats)
    plain_us = min(times["plain"]) / len(deltas) * 1e6
    sd_us = min(times["streamdantic"]) / len(deltas) * 1e6
    return {
        "adapter_us_per_delta": min(conversion) / len(deltas) * 1e6,
        "source": "LangChain BaseChatModel.stream (AIMessageChunk)",
        "deltas": len(deltas),
        "plain_us_per_delta": plain_us,
        "streamdantic_us_per_delta": sd_us,
        "ratio": sd_us / plain_us,
    }


# ------------------------------------------------------------------ other providers


def _per_delta_row(
    source: str, times: dict[str, list[float]], deltas: int, adapter_base: str | None
) -> dict[str, Any]:
    """A row of the other providers' table: each contender's best time per delta (us), the
    ratio of streamdantic to the plain iteration, and the adapter's own cost per delta
    (``adapter-only`` less the `adapter_base` contender's plain walk; None without one)."""
    best = {k: min(v) / deltas * 1e6 for k, v in times.items()}
    return {
        "source": source,
        "deltas": deltas,
        "plain_us": best["plain"],
        "streamdantic_us": best["streamdantic"],
        "ratio": best["streamdantic"] / best["plain"],
        "adapter_only_us": (
            None if adapter_base is None else best["adapter-only"] - best[adapter_base]
        ),
    }


def _consume(source: Any) -> Any:
    with streamdantic.stream(source, MODELS.OrderBatch) as s:
        for update in s:
            update.partial  # noqa: B018 (read it, as a UI would)
    return s.final


def sources_table(warmup: int, repeats: int) -> list[dict[str, Any]]:
    """Per source: plain iteration of the SDK's stream vs streamdantic over it (µs per delta)."""
    return [
        _bedrock_row(warmup, repeats),
        _gemini_row(warmup, repeats),
        _ollama_row(warmup, repeats),
        _litellm_row(warmup, repeats),
        _openai_agents_row(warmup, repeats),
    ]


def _bedrock_row(warmup: int, repeats: int) -> dict[str, Any]:
    """botocore's EventStream over the recorded events' wire bytes, plain vs streamdantic."""
    recorded = [json.loads(line) for line in BEDROCK_FILE.read_text(encoding="utf-8").splitlines()]
    deltas = sum(1 for e in recorded if "contentBlockDelta" in e)
    data = wire_bytes(recorded)
    piece = 16384

    def plain() -> Any:
        last = None
        for event in event_stream(data, piece):
            last = event
        return last

    runs = {
        "plain": plain,
        "streamdantic": lambda: _consume(event_stream(data, piece)),
        "adapter-only": lambda: _consume(iter(recorded)),
        "dicts-plain": lambda: list(iter(recorded)),
    }
    # Client CPU (the replay server is another process): wall time on a shared machine
    # counts the time other processes hold the core.
    times, outputs = time_round_robin(runs, warmup, repeats, time.process_time)
    expected = MODELS.OrderBatch.model_validate_json(
        "".join(
            e["contentBlockDelta"]["delta"]["text"] for e in recorded if "contentBlockDelta" in e
        )
    )
    if outputs["streamdantic"] != expected or outputs["adapter-only"] != expected:
        raise SystemExit("bedrock: streamdantic produced a wrong object")
    return _per_delta_row(
        "Bedrock converse_stream (botocore EventStream)", times, deltas, "dicts-plain"
    )


def _client_row(source: str, sdk: Callable[[], Any], warmup: int, repeats: int) -> dict[str, Any]:
    """Plain iteration of an SDK's stream vs streamdantic over it, and streamdantic alone
    over the same chunks already received."""

    def plain() -> Any:
        last = None
        for chunk in sdk():
            last = chunk
        return last

    chunks = list(sdk())
    runs = {
        "plain": plain,
        "streamdantic": lambda: _consume(sdk()),
        "adapter-only": lambda: _consume(iter(chunks)),
        "objects-plain": lambda: list(iter(chunks)),
    }
    # Client CPU (the replay server is another process): wall time on a shared machine
    # counts the time other processes hold the core.
    times, outputs = time_round_robin(runs, warmup, repeats, time.process_time)
    if outputs["streamdantic"] != MODELS.OrderBatch.model_validate_json(
        (ROOT / "fixtures" / "documents" / "orders_20k.json").read_bytes()
    ):
        raise SystemExit(f"{source}: streamdantic produced a wrong object")
    deltas = len(chunks)  # one text piece per chunk
    return _per_delta_row(source, times, deltas, "objects-plain")


def _ollama_row(warmup: int, repeats: int) -> dict[str, Any]:
    import ollama

    server = ReplayServer().start()
    try:
        with ollama.Client(host=f"{server.origin}/replay/16384/ollama/orders_20k/bench") as c:

            def sdk() -> Any:
                return c.chat(model="qwen3:8b", messages=[], stream=True)

            return _client_row("Ollama chat(stream=True) (ollama client)", sdk, warmup, repeats)
    finally:
        server.stop()


def _litellm_row(warmup: int, repeats: int) -> dict[str, Any]:
    """The real LiteLLM (``model="openai/..."``, ``api_base`` = the replay server, the
    orders_20k chat stream in 16 KiB writes): ``completion(stream=True)`` iterated plainly vs
    passed to streamdantic.stream(..., OrderBatch)."""
    import os

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network for its costs
    import litellm

    litellm.suppress_debug_info = True
    request = _request()
    request["model"] = "openai/" + request["model"]
    server = ReplayServer().start()
    try:
        base = server.base_url(STREAM_ID, piece=16384, tag="bench-litellm")

        def sdk() -> Any:
            return litellm.completion(**request, api_base=base, api_key="k", stream=True)

        return _client_row("LiteLLM completion(stream=True) (openai/ route)", sdk, warmup, repeats)
    finally:
        server.stop()


def _openai_agents_row(warmup: int, repeats: int) -> dict[str, Any]:
    """An openai-agents run on the SDK's Chat Completions model against the replay server
    (the orders_20k chat stream, 16 KiB writes): ``Runner.run_streamed(...).stream_events()``
    iterated plainly vs through ``streamdantic.astream``; process CPU time (the server is
    another process), best of the repeats after the warm-up rounds."""
    import anyio
    from agents import (
        Agent,
        AgentOutputSchema,
        OpenAIChatCompletionsModel,
        Runner,
        set_tracing_disabled,
    )

    set_tracing_disabled(True)
    model_type = MODELS.OrderBatch
    expected = expected_object(STREAMS[STREAM_ID]["outputs"][0])
    server = ReplayServer().start()
    try:
        base = server.base_url(STREAM_ID, piece=16384, tag="bench-agents")

        def agent(client: openai.AsyncOpenAI) -> Any:
            model = OpenAIChatCompletionsModel(STREAMS[STREAM_ID]["request"]["model"], client)
            schema = AgentOutputSchema(model_type, strict_json_schema=False)
            return Agent(name="orders", model=model, output_type=schema)

        async def plain() -> Any:
            async with openai.AsyncOpenAI(base_url=base, api_key="k", max_retries=0) as client:
                result = Runner.run_streamed(agent(client), "orders")
                events = 0
                async for _event in result.stream_events():
                    events += 1
                return result.final_output

        async def through_streamdantic() -> Any:
            async with openai.AsyncOpenAI(base_url=base, api_key="k", max_retries=0) as client:
                result = Runner.run_streamed(agent(client), "orders")
                async with streamdantic.astream(result.stream_events(), model_type) as s:
                    async for update in s:
                        update.partial  # noqa: B018 - read it, as a consumer does
                return s.final

        times: dict[str, list[float]] = {"plain": [], "streamdantic": []}
        for round_ in range(warmup + repeats):
            for key, run in (("plain", plain), ("streamdantic", through_streamdantic)):
                gc.collect()
                start = time.process_time()
                result = anyio.run(run)
                elapsed = time.process_time() - start
                if result != expected:
                    raise SystemExit(f"openai-agents {key} produced a wrong object")
                if round_ >= warmup:
                    times[key].append(elapsed)
    finally:
        server.stop()
        set_tracing_disabled(False)
    deltas = len(_content_deltas())
    # adapter_only: None, the run's events cannot be replayed without the run.
    return _per_delta_row(
        "OpenAI Agents SDK Runner.run_streamed (Chat Completions model)", times, deltas, None
    )


def _gemini_row(warmup: int, repeats: int) -> dict[str, Any]:
    from google import genai
    from google.genai import types as genai_types

    server = ReplayServer().start()
    try:
        client = genai.Client(
            api_key="bench",
            http_options=genai_types.HttpOptions(
                base_url=f"{server.origin}/replay/16384/gemini/orders_20k/bench/"
            ),
        )

        def sdk() -> Any:
            return client.models.generate_content_stream(model="gemini-2.5-flash", contents="x")

        source = "Gemini generate_content_stream (google-genai client)"
        return _client_row(source, sdk, warmup, repeats)
    finally:
        server.stop()


# ------------------------------------------------------------------------------ main


def _us_or_dash(us: float | None) -> str:
    return "-" if us is None else f"{us:.2f}"  # None: not measured for this source


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeats", type=int, default=9, help="timed runs per variant; best counts")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs per variant first")
    ap.add_argument(
        "--piece", type=int, default=16384, help="bytes per server write (default 16384)"
    )
    ap.add_argument("--fast", action="store_true", help="smoke run: no warm-up, one repeat")
    ap.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = ap.parse_args(argv)
    if args.fast:
        args.repeats, args.warmup = 1, 0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    expected = expected_object(STREAMS[STREAM_ID]["outputs"][0])
    server = ReplayServer().start()
    results: dict[str, dict[str, Any]] = {}
    try:
        base = server.base_url(STREAM_ID, piece=args.piece)
        url = base + "/chat/completions"
        with (
            openai.OpenAI(base_url=base, api_key="bench", max_retries=0) as client,
            httpx.Client(timeout=60) as http_client,
        ):
            runs = {key: (lambda fn=fn: fn(client, url, http_client)) for key, _, fn in VARIANTS}
            times, outputs = time_round_robin(runs, args.warmup, args.repeats)
            for key, description, _ in VARIANTS:
                if key in "bcd" and outputs[key] != expected:
                    print(f"variant {key} produced a wrong object", file=sys.stderr)
                    return 1
                results[key] = {
                    "description": description,
                    "best_ms": min(times[key]) * 1e3,
                    "median_ms": statistics.median(times[key]) * 1e3,
                    "runs": len(times[key]),
                }
    finally:
        server.stop()
    conversion = conversion_table(max(1, args.repeats // 3))
    agents = agent_table(max(1, args.repeats // 3))
    sources = sources_table(args.warmup, args.repeats)

    best = {k: v["best_ms"] for k, v in results.items()}
    c_over_a = best["c"] / best["a"]
    b_over_c = best["b"] / best["c"]
    b_over_d = best["b"] / best["d"]
    chunks = STREAMS[STREAM_ID]["frame_count"]
    lines = [
        f"Stream: `fixtures/{STREAMS[STREAM_ID]['file']}` ({chunks} chunks, "
        f"{STREAMS[STREAM_ID]['bytes'] / 1e6:.2f} MB), server writes of {args.piece} bytes, "
        f"best of {args.repeats} round-robin runs after {args.warmup} warm-up rounds.",
        "",
        "| variant | ms per stream (best) | median | µs per chunk |",
        "| --- | ---: | ---: | ---: |",
    ]
    for key, description, _ in VARIANTS:
        r = results[key]
        lines.append(
            f"| ({key}) {description} | {r['best_ms']:.1f} | {r['median_ms']:.1f} | "
            f"{r['best_ms'] * 1e3 / chunks:.1f} |"
        )
    lines += [
        "",
        "| ratio | value | target | met |",
        "| --- | ---: | ---: | --- |",
        f"| (c) / (a): streamdantic's cost over plain SDK iteration | {c_over_a:.2f} | "
        f"<= {TARGET_C_OVER_A:.2f} | {'yes' if c_over_a <= TARGET_C_OVER_A else 'NO'} |",
        f"| (b) / (c): SDK helper vs streamdantic over the SDK | {b_over_c:.2f} | about 2 | "
        "(informational) |",
        f"| (b) / (d): SDK helper vs streamdantic raw HTTP | {b_over_d:.2f} | >= "
        f"{TARGET_B_OVER_D:.0f} | {'yes' if b_over_d >= TARGET_B_OVER_D else 'NO'} |",
        "",
        "Per-chunk conversion alone (in memory, no I/O):",
        "",
        "| step | µs per chunk |",
        "| --- | ---: |",
        *(f"| {name} | {us:.2f} |" for name, us in conversion),
        "",
        "Agent frameworks' event streams (in process, CPU µs per delta, target "
        f"<= {TARGET_AGENT_OVER_PLAIN:.2f}x plain iteration):",
        "",
        "| source | deltas | plain iteration | through streamdantic | adapter alone | ratio | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        *(
            f"| {row['source']} | {row['deltas']} | {row['plain_us_per_delta']:.1f} | "
            f"{row['streamdantic_us_per_delta']:.1f} | {row['adapter_us_per_delta']:.2f} | "
            f"{row['ratio']:.2f} | "
            f"{'yes' if row['ratio'] <= TARGET_AGENT_OVER_PLAIN else 'NO'} |"
            for row in agents
        ),
        "",
        "Other providers' sources, ~20 KB orders stream, client CPU per delta (best of "
        f"{args.repeats}):",
        "",
        "| source | deltas | SDK plain iteration µs | streamdantic.stream µs | ratio | target "
        "| met | adapter + parse + partials alone µs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
        *(
            f"| {r['source']} | {r['deltas']} | {r['plain_us']:.2f} | "
            f"{r['streamdantic_us']:.2f} | {r['ratio']:.2f} | <= {TARGET_SOURCE_OVER_PLAIN:.2f} "
            f"| {'yes' if r['ratio'] <= TARGET_SOURCE_OVER_PLAIN else 'NO'} | "
            f"{_us_or_dash(r['adapter_only_us'])} |"
            for r in sources
        ),
    ]
    report = "\n".join(lines)
    print(report)
    meta = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "openai": openai.__version__,
        "httpx": httpx.__version__,
        "botocore": importlib.metadata.version("botocore"),
        "google-genai": importlib.metadata.version("google-genai"),
        "litellm": importlib.metadata.version("litellm"),
        "streamdantic": streamdantic.__version__,
    }
    print(f"\n{meta}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "meta": meta,
                    "variants": results,
                    "ratios": {"c/a": c_over_a, "b/c": b_over_c, "b/d": b_over_d},
                    "conversion_us_per_chunk": dict(conversion),
                    "agents": agents,
                    "sources": sources,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
