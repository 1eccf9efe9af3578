"""Provider adapters: provider stream events in, streamdantic stream parts out.

- `streamdantic.adapters.openai`: the openai SDK's Chat Completions chunks and Responses API
  events (registered on first sight, so ``streamdantic.stream(sdk_stream, Model)`` just works),
  and `stream` / `stream_response` helpers that also make the request.
- `streamdantic.adapters.anthropic`: Anthropic Messages events, as SDK objects or plain dicts
  (`anthropic_events`), without requiring the anthropic package.
- `streamdantic.adapters.http`: OpenAI-compatible Chat Completions over raw HTTP with httpx
  (vLLM, llama.cpp, Ollama, ...), without the openai SDK in the loop.
- `streamdantic.adapters.pydantic_ai`: pydantic-ai agents' ``run_stream_events()`` and
  ``iter()`` node events (registered on first sight), output-tool and text output alike.
- `streamdantic.adapters.langchain`: LangChain chat models' `AIMessageChunk`s (registered on
  first sight) and `langchain_events` for ``astream_events(version="v2")``.
- `streamdantic.adapters.gemini`: google-genai's ``generate_content_stream`` responses
  (registered on first sight) and `response_config` for JSON-schema output.
- `streamdantic.adapters.ollama`: the ollama client's ``chat(..., stream=True)`` chunks
  (registered on first sight) and `json_format` for schema-constrained output.
- `streamdantic.adapters.litellm`: LiteLLM's ``completion(..., stream=True)`` /
  ``acompletion`` chunks (registered on first sight), from any provider LiteLLM routes to.
- `streamdantic.adapters.bedrock`: AWS Bedrock ``converse_stream`` event dicts, recognised by
  their shape (no boto3 needed to parse them), and `tool_config` for structured output.

Each module imports its third-party packages itself; this package imports none of them.
See docs/providers.md.
"""
