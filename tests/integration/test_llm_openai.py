"""The OpenAI-compatible adapter through the official client against a real HTTP server on 127.0.0.1."""

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from transformers import PreTrainedTokenizerFast

from llm_engineering.bootstrap.llm import build_llm_client
from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.infrastructure.llm.openai_compatible import OpenAICompatibleClient
from llm_engineering.infrastructure.llm.prompt import ChatPromptFormatter
from llm_engineering.infrastructure.retrying import RetryPolicy
from tests.conftest import ChatCompletionsServer, make_settings

FAST_RETRY = RetryPolicy(max_retries=2, backoff_s=0.01)
PARAMS = GenerationParams(max_new_tokens=16)


def client_for(
    server: ChatCompletionsServer,
    *,
    timeout_s: float = 5.0,
    retry: RetryPolicy = FAST_RETRY,
    concurrency: int = 1,
    formatter: Callable[[], ChatPromptFormatter] | None = None,
) -> OpenAICompatibleClient:
    return OpenAICompatibleClient(
        "twin", base_url=server.base_url, timeout_s=timeout_s, retry=retry, concurrency=concurrency, formatter=formatter
    )


def ask(question: str) -> list[ChatMessage]:
    return [ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content=question)]


def test_completions_come_back_in_order_with_the_request_as_sent(chat_server: ChatCompletionsServer) -> None:
    client = client_for(chat_server, concurrency=4)
    params = GenerationParams(max_new_tokens=16, temperature=0.5, top_p=0.9, seed=7)
    answers = client.generate([ask("one"), ask("two"), ask("three")], params)
    assert answers == ["echo: one", "echo: two", "echo: three"]
    request = next(body for body in chat_server.requests if body["messages"][-1]["content"] == "two")
    assert request["model"] == "twin"
    assert request["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "two"}]
    assert (request["max_tokens"], request["temperature"], request["top_p"], request["seed"]) == (16, 0.5, 0.9, 7)


def test_greedy_requests_send_temperature_zero_and_no_top_p(chat_server: ChatCompletionsServer) -> None:
    client_for(chat_server).generate([ask("x")], PARAMS)
    assert chat_server.requests[0]["temperature"] == 0.0
    assert "top_p" not in chat_server.requests[0]


def test_a_server_error_is_retried(chat_server: ChatCompletionsServer) -> None:
    chat_server.script.extend([500])
    assert client_for(chat_server).generate([ask("again")], PARAMS) == ["echo: again"]
    assert len(chat_server.requests) == 2


@pytest.mark.parametrize("status", [500, 429])
def test_persistent_failure_names_the_status_after_the_retries(chat_server: ChatCompletionsServer, status: int) -> None:
    chat_server.script.extend([status] * 5)
    with pytest.raises(LLMError, match=rf"after 3 attempt\(s\): HTTP {status}.*OPENAI_BASE_URL"):
        client_for(chat_server).generate([ask("x")], PARAMS)
    assert len(chat_server.requests) == 3


def test_a_client_error_is_not_retried(chat_server: ChatCompletionsServer) -> None:
    chat_server.script.extend([400])
    with pytest.raises(LLMError, match=r"after 1 attempt\(s\): HTTP 400"):
        client_for(chat_server).generate([ask("x")], PARAMS)
    assert len(chat_server.requests) == 1


def test_a_slow_server_times_out(chat_server: ChatCompletionsServer) -> None:
    chat_server.script.extend([3.0, 3.0])
    client = client_for(chat_server, timeout_s=0.5, retry=RetryPolicy(max_retries=1, backoff_s=0.01))
    started = time.monotonic()
    with pytest.raises(LLMError, match=r"after 2 attempt\(s\): timed out after 0.5 s \(LLM_TIMEOUT_S\)"):
        client.generate([ask("x")], PARAMS)
    assert time.monotonic() - started < 2.5
    assert len(chat_server.requests) == 2


def test_an_unreachable_endpoint_is_an_llm_error() -> None:
    client = OpenAICompatibleClient(
        "twin",
        base_url="http://127.0.0.1:9/v1",
        timeout_s=5.0,
        retry=RetryPolicy(max_retries=0, backoff_s=0.0),
        concurrency=1,
    )
    with pytest.raises(LLMError, match="cannot connect"):
        client.generate([ask("x")], PARAMS)


def test_prompts_are_cut_with_the_served_models_tokenizer(
    chat_server: ChatCompletionsServer, word_chat_tokenizer: PreTrainedTokenizerFast
) -> None:
    formatter = ChatPromptFormatter(word_chat_tokenizer, name="word-model", context_tokens=40)
    client = client_for(chat_server, formatter=lambda: formatter)
    long_question = " ".join(["the cat sat on the mat"] * 20)
    (answer,) = client.generate(
        [[ChatMessage(role="user", content=long_question)]], GenerationParams(max_new_tokens=10)
    )
    sent = chat_server.requests[0]["messages"][0]["content"]
    assert long_question.startswith(sent)
    assert formatter.count_tokens(formatter.render([ChatMessage(role="user", content=sent)])) == 30
    assert answer == f"echo: {sent}"


def test_the_factory_wires_the_settings_and_the_cache(chat_server: ChatCompletionsServer, tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, LLM_BACKEND="openai", OPENAI_BASE_URL=chat_server.base_url, OPENAI_MODEL_ID="twin-v2"
    )
    client = build_llm_client(settings)
    assert client.generate([ask("cached")], PARAMS) == ["echo: cached"]
    assert build_llm_client(settings).generate([ask("cached")], PARAMS) == ["echo: cached"]
    assert len(chat_server.requests) == 1
    assert chat_server.requests[0]["model"] == "twin-v2"
