"""The RAG core's adapters on real components: the cross-encoder guard, OpenAI-compatible streaming over real
HTTP, and the remote backend wiring."""

import json
import socket
import time
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from llm_engineering.bootstrap.llm import build_remote_streaming_llm
from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.infrastructure.embeddings import resolve_embedding_model
from llm_engineering.infrastructure.llm.openai_compatible import OpenAICompatibleClient
from llm_engineering.infrastructure.llm.prompt import CharacterTokenEstimate
from llm_engineering.infrastructure.local.loopback import free_port, serving
from llm_engineering.infrastructure.reranking import hub_reachable, load_cross_encoder
from llm_engineering.infrastructure.retrying import RetryPolicy
from llm_engineering.settings import load_settings

PIECES = ["Spot ", "instances ", "and ", "checkpoints."]


def streaming_chat_app(requests: list[dict[str, object]]) -> FastAPI:
    """A real OpenAI-compatible server whose /v1/chat/completions streams PIECES as SSE chunks."""
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> StreamingResponse:
        body = await request.json()
        requests.append(body)

        async def events() -> AsyncIterator[str]:
            for index, piece in enumerate(PIECES):
                chunk = {
                    "id": "chatcmpl-1",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "delta": {"role": "assistant", "content": piece} if index == 0 else {"content": piece},
                            "finish_reason": None,
                        }
                    ],
                }
                yield f"data: {json.dumps(chunk)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def test_openai_compatible_streaming_yields_the_servers_pieces() -> None:
    requests: list[dict[str, object]] = []
    port = free_port()
    with serving(streaming_chat_app(requests), port) as url:
        client = OpenAICompatibleClient(
            "twin-remote",
            base_url=f"{url}/v1",
            timeout_s=10,
            retry=RetryPolicy(max_retries=0, backoff_s=0),
            concurrency=1,
        )
        pieces = list(
            client.stream([ChatMessage(role="user", content="GPU costs?")], GenerationParams(max_new_tokens=8))
        )
    assert pieces == PIECES
    assert requests[0]["stream"] is True and requests[0]["max_tokens"] == 8


def test_the_remote_backend_streams_and_estimates_tokens_without_a_tokenizer() -> None:
    settings = load_settings(_env_file=None, LLM_BACKEND="openai", OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    llm, counter = build_remote_streaming_llm(settings)
    assert isinstance(llm, OpenAICompatibleClient) and isinstance(counter, CharacterTokenEstimate)
    assert counter.count_tokens("x" * 30) == 10 and counter.context_tokens is None
    with pytest.raises(ValueError, match="not a remote backend"):
        build_remote_streaming_llm(load_settings(_env_file=None))


def test_a_cross_encoder_without_a_trained_head_or_out_of_reach_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    from loguru import logger

    handler = logger.add(caplog.handler, level="WARNING", format="{message}")
    try:
        # A plain sentence encoder: as a cross-encoder its classification head would start random.
        assert load_cross_encoder(resolve_embedding_model("sentence-transformers/all-MiniLM-L6-v2"), "cpu") is None
        assert load_cross_encoder("cross-encoder/not-on-this-machine", "cpu") is None
    finally:
        logger.remove(handler)
    assert "no trained classification head" in caplog.text and "does not load here" in caplog.text


def test_an_unreachable_hub_is_found_out_at_once_and_the_reranker_skipped_without_retries(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from loguru import logger

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{listening.getsockname()[1]}")
        assert hub_reachable() is True
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    assert hub_reachable() is False
    handler = logger.add(caplog.handler, level="WARNING", format="{message}")
    started = time.monotonic()
    try:
        assert load_cross_encoder("cross-encoder/not-cached-anywhere", "cpu") is None
    finally:
        logger.remove(handler)
    assert time.monotonic() - started < 10  # the Hub client's own retries would take about 25 s per file
    assert "the Hub is not reachable from here" in caplog.text
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_reachable() is False
