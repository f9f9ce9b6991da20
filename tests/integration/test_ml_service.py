"""The service on a real uvicorn (127.0.0.1): the official openai client, the book's /rag call, disconnects and
back-pressure, with the scripted answerer."""

import asyncio
import subprocess
import sys
import time

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from llm_engineering.settings import get_settings
from tests.cli_support import llm_twin
from tests.service_support import LiveService, live_service
from tests.twin_fakes import SCRIPTED_MODEL_NAME, ScriptedAnswerer

KEY = "integration-key-123"
ANSWER = "Keep GPU costs down with spot instances."


def test_the_official_openai_client_chats_streaming_and_not() -> None:
    with live_service(ScriptedAnswerer(), API_KEY=KEY) as service:
        client = openai.OpenAI(base_url=f"{service.url}/v1", api_key=KEY, max_retries=0)
        [model] = client.models.list().data
        assert model.id == SCRIPTED_MODEL_NAME
        completion = client.chat.completions.create(
            model=model.id, messages=[{"role": "user", "content": "How do you keep GPU costs down?"}]
        )
        assert completion.choices[0].message.content == ANSWER
        assert (completion.model_extra or {})["sources"][0]["chunk_id"] == "chunk-1"
        stream = client.chat.completions.create(
            model=model.id, messages=[{"role": "user", "content": "How do you keep GPU costs down?"}], stream=True
        )
        chunks = list(stream)
        assert "".join(c.choices[0].delta.content or "" for c in chunks) == ANSWER
        assert chunks[-1].choices[0].finish_reason == "stop"
        assert [s["chunk_id"] for s in (chunks[-1].model_extra or {})["sources"]] == ["chunk-1", "chunk-2"]
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=f"{service.url}/v1", api_key="wrong", max_retries=0).models.list()


def test_the_openai_client_reads_why_an_answer_ended_and_its_token_usage() -> None:
    question: list[ChatCompletionMessageParam] = [{"role": "user", "content": "How do you keep GPU costs down?"}]
    with live_service(ScriptedAnswerer(), API_KEY=KEY) as service:
        client = openai.OpenAI(base_url=f"{service.url}/v1", api_key=KEY, max_retries=0)
        whole = client.chat.completions.create(model="twin", messages=question)  # 7 words: 7 prompt tokens here
        assert whole.choices[0].finish_reason == "stop"
        assert whole.usage is not None
        assert (whole.usage.prompt_tokens, whole.usage.completion_tokens, whole.usage.total_tokens) == (7, 7, 14)

        cut = client.chat.completions.create(model="twin", messages=question, max_tokens=3)
        assert cut.choices[0].message.content == "Keep GPU costs "
        assert cut.choices[0].finish_reason == "length"
        assert cut.usage is not None and cut.usage.completion_tokens == 3 and cut.usage.total_tokens == 10

        chunks = list(
            client.chat.completions.create(
                model="twin",
                messages=question,
                max_tokens=3,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        *answer, last = chunks
        assert answer[-1].choices[0].finish_reason == "length"
        assert last.choices == [] and last.usage is not None
        assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (7, 3, 10)
        plain = list(client.chat.completions.create(model="twin", messages=question, stream=True))
        assert all(chunk.usage is None for chunk in plain) and plain[-1].choices[0].finish_reason == "stop"


def test_call_inference_ml_service_does_the_books_curl(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with live_service(ScriptedAnswerer(), API_KEY=KEY) as service:
        monkeypatch.setenv("API_KEY", KEY)
        get_settings.cache_clear()
        try:
            assert llm_twin(["call", "How do you keep GPU costs down?", "--url", service.url]) == 0
            monkeypatch.setenv("API_KEY", "wrong-key-456")
            get_settings.cache_clear()
            assert llm_twin(["call", "q", "--url", service.url]) == 1
        finally:
            get_settings.cache_clear()
    out = capsys.readouterr()
    assert ANSWER in out.out and "http://127.0.0.1:8765/medium/maya/gpu-costs" in out.out
    assert "HTTP 401" in out.err


def test_a_client_disconnecting_mid_stream_stops_the_generation() -> None:
    answerer = ScriptedAnswerer(pieces=[f"word{i} " for i in range(400)], piece_delay_s=0.02)
    with live_service(answerer, API_KEY=KEY) as service:
        body = {"messages": [{"role": "user", "content": "talk a lot"}], "stream": True}
        with (
            httpx.Client(timeout=10) as client,
            client.stream("POST", f"{service.url}/v1/chat/completions", json=body, headers=service.headers) as response,
        ):
            lines = response.iter_lines()
            received = [line for _, line in zip(range(10), lines, strict=False)]
        assert any("word" in line for line in received)
        [stream] = answerer.streams
        assert stream.closed.wait(5), "the answerer's iterator was not closed after the client left"
        produced = stream.produced
        time.sleep(0.3)
        assert stream.produced == produced < 400


def test_requests_beyond_the_concurrency_limit_get_429_or_a_correct_answer() -> None:
    answerer = ScriptedAnswerer(piece_delay_s=0.01)
    with live_service(answerer, API_KEY=KEY, API_MAX_CONCURRENT_REQUESTS=4) as service:

        async def one(client: httpx.AsyncClient) -> tuple[int, dict[str, object]]:
            response = await client.post(f"{service.url}/rag", json={"query": "GPU costs?"}, headers=service.headers)
            return response.status_code, response.json()

        async def burst() -> list[tuple[int, dict[str, object]]]:
            limits = httpx.Limits(max_connections=104)
            async with httpx.AsyncClient(timeout=30, limits=limits) as client:
                return await asyncio.gather(*(one(client) for _ in range(104)))

        results = asyncio.run(burst())
    statuses = [status for status, _ in results]
    assert set(statuses) <= {200, 429}, statuses
    assert statuses.count(429) > 0 and statuses.count(200) >= 4
    for status, body in results:
        if status == 200:
            assert body["answer"] == ANSWER
        else:
            assert body["error"]["type"] == "rate_limit_error"  # type: ignore[index]


def test_ml_service_help_and_the_no_key_bind_guard() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools", "serve", "--help"], capture_output=True, text=True, check=True
    )
    assert "--host" in result.stdout and "API_KEY" in result.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "tools", "serve", "--host", "0.0.0.0"],  # noqa: S104 - the guard under test
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ".", "API_KEY": "", "API_ALLOW_NO_KEY": "false"},
    )
    assert refused.returncode == 2 and "API_ALLOW_NO_KEY" in refused.stderr


def test_without_a_key_the_loopback_service_is_open() -> None:
    with live_service(ScriptedAnswerer()) as service:
        assert isinstance(service, LiveService) and service.api_key is None
        assert httpx.post(f"{service.url}/rag", json={"query": "q"}).json()["answer"] == ANSWER
