"""The service through TestClient with the scripted answerer: routes, auth, limits, errors, logs and traces."""

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from loguru import logger

from llm_engineering.domain.exceptions import DataWarehouseUnavailableError, LLMError
from llm_engineering.infrastructure.api.app import create_app
from llm_engineering.infrastructure.api.dependencies import ServiceConfig, get_answerer
from llm_engineering.settings import load_settings
from tests.twin_fakes import SCRIPTED_MODEL_NAME, RecordingTracer, ScriptedAnswerer

KEY = "s3cret-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
USER_Q = {"role": "user", "content": "q"}


def service_config(**settings: Any) -> ServiceConfig:
    return ServiceConfig.from_settings(load_settings(_env_file=None, **settings))


def make_client(
    answerer: ScriptedAnswerer | None = None, tracer: RecordingTracer | None = None, **config: Any
) -> TestClient:
    the_answerer = answerer or ScriptedAnswerer()
    app = create_app(service_config(API_KEY=KEY, **config), lambda: the_answerer, tracer)
    return TestClient(app, headers=AUTH)


@pytest.fixture
def answerer() -> ScriptedAnswerer:
    return ScriptedAnswerer()


@pytest.fixture
def client(answerer: ScriptedAnswerer) -> Iterator[TestClient]:
    with make_client(answerer) as test_client:
        yield test_client


def error_of(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert body["code"] == response.status_code
    return body


def sse_events(text: str) -> list[str]:
    return [block.removeprefix("data: ") for block in text.split("\n\n") if block]


def test_rag_answers_the_books_body_with_sources(client: TestClient) -> None:
    response = client.post("/rag", json={"query": "How do you keep GPU costs down?"})
    assert response.status_code == 200
    body = response.json()
    assert body["answer"] == "Keep GPU costs down with spot instances."
    assert [s["chunk_id"] for s in body["sources"]] == ["chunk-1", "chunk-2"]
    assert body["sources"][0]["link"].endswith("/gpu-costs")
    assert body["sources"][0]["score"] == 0.032
    assert body["model"] == SCRIPTED_MODEL_NAME


def test_retrieve_returns_ranked_chunks_without_generating(client: TestClient, answerer: ScriptedAnswerer) -> None:
    response = client.post("/retrieve", json={"query": "GPU costs", "k": 1, "author_full_name": "Maya Okafor"})
    assert response.status_code == 200
    body = response.json()
    assert [c["chunk_id"] for c in body["chunks"]] == ["chunk-1"]
    assert body["chunks"][0]["content"].startswith("Spot instances")
    assert body["chunks"][0]["scores"]["dense"] == 0.8
    assert body["queries"] == ["GPU costs", "GPU costs (expanded)"]
    assert answerer.streams == []


def test_health_needs_no_key_and_every_other_route_does(client: TestClient) -> None:
    assert client.get("/health", headers={"Authorization": ""}).json() == {"status": "ok"}
    for method, path in [
        ("GET", "/ready"),
        ("GET", "/v1/models"),
        ("POST", "/rag"),
        ("POST", "/retrieve"),
        ("POST", "/v1/chat/completions"),
    ]:
        for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"}):
            response = client.request(method, path, headers=headers, json={"query": "q"})
            assert response.status_code == 401, (method, path, headers)
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert "API key" in error_of(response)["message"]
    assert client.get("/docs", headers={"Authorization": ""}).status_code == 404


def test_without_a_key_the_routes_are_open() -> None:
    app = create_app(service_config(), ScriptedAnswerer)
    with TestClient(app) as open_client:
        assert open_client.post("/rag", json={"query": "q"}).status_code == 200
        assert open_client.get("/docs").status_code == 200


def test_the_chat_page_is_served_without_a_key(client: TestClient) -> None:
    response = client.get("/", headers={"Authorization": ""})
    assert response.status_code == 200
    assert "v1/chat/completions" in response.text and response.headers["content-type"].startswith("text/html")


def test_over_long_input_is_422(client: TestClient) -> None:
    long_query = "x" * 4001
    assert error_of(client.post("/rag", json={"query": long_query}))["type"] == "invalid_request_error"
    assert client.post("/retrieve", json={"query": long_query}).status_code == 422
    response = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": long_query}]})
    assert "API_MAX_INPUT_CHARS" in error_of(response)["message"]
    many = [{"role": "user", "content": "hi"}] * 33
    assert "API_MAX_MESSAGES" in error_of(client.post("/v1/chat/completions", json={"messages": many}))["message"]


def test_malformed_json_and_wrong_fields_are_422_without_echoing_input(client: TestClient) -> None:
    response = client.post("/rag", content=b'{"query": "unterminated', headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["errors"][0]["type"] == "json_invalid"
    assert "unterminated" not in response.text
    assert client.post("/rag", json={"question": "wrong key"}).status_code == 422
    assert client.post("/v1/chat/completions", json={"messages": []}).status_code == 422
    assert client.post("/rag", json={"query": "   "}).status_code == 422


def test_unknown_route_is_a_json_404(client: TestClient) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert "No route GET /nope" in error_of(response)["message"]


def test_a_store_going_down_gives_503_on_ready_and_a_json_error_on_rag(
    client: TestClient, answerer: ScriptedAnswerer
) -> None:
    answers = {"ready": True, "message": "answers"}
    assert client.get("/ready").json() == {
        "ready": True,
        "checks": {"warehouse": answers, "vector_store": answers, "model": answers},
        "serving": {"engine": "stand-in"},
    }
    answerer.checks["vector_store"] = False
    answerer.retrieve_error = DataWarehouseUnavailableError("mongodb://user:hunter2@db:27017 refused the connection")
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "warehouse": answers,
        "vector_store": {"ready": False, "message": "does not answer"},
        "model": answers,
    }
    response = client.post("/rag", json={"query": "GPU costs?"})
    assert response.status_code == 503
    assert "data store is unavailable" in error_of(response)["message"]
    assert "hunter2" not in response.text and "mongodb://" not in response.text


def test_an_llm_failure_is_a_502_without_internals(client: TestClient, answerer: ScriptedAnswerer) -> None:
    answerer.retrieve_error = LLMError("token sk-live-123 rejected by https://internal:8080")
    response = client.post("/rag", json={"query": "q"})
    assert response.status_code == 502
    assert "sk-live" not in response.text and "internal" not in response.text


def test_an_unexpected_error_is_a_generic_500_with_the_request_id(answerer: ScriptedAnswerer) -> None:
    answerer.retrieve_error = RuntimeError("password=hunter2 in a stack frame")
    app = create_app(service_config(API_KEY=KEY), lambda: answerer)
    with TestClient(app, headers=AUTH, raise_server_exceptions=False) as test_client:
        response = test_client.post("/rag", json={"query": "q"})
    assert response.status_code == 500
    assert "hunter2" not in response.text
    assert response.json()["error"]["request_id"]


def test_a_backend_timing_out_gives_504_and_stops_the_generation() -> None:
    slow = ScriptedAnswerer(piece_delay_s=0.3)
    with make_client(slow, API_REQUEST_TIMEOUT_S=0.5) as test_client:
        started = time.monotonic()
        response = test_client.post("/rag", json={"query": "q"})
        assert response.status_code == 504
        assert "API_REQUEST_TIMEOUT_S" in error_of(response)["message"]
        assert time.monotonic() - started < 1.5
        assert slow.streams[0].closed.wait(2)
        assert slow.streams[0].produced < len(slow.pieces)


def test_a_call_abandoned_at_the_timeout_keeps_its_slot_until_its_thread_ends() -> None:
    hung = ScriptedAnswerer(retrieve_delay_s=1.0)
    with make_client(hung, API_REQUEST_TIMEOUT_S=0.2, API_MAX_CONCURRENT_REQUESTS=1) as test_client:
        assert test_client.post("/retrieve", json={"query": "q"}).status_code == 504
        hung.retrieve_delay_s = 0
        assert test_client.post("/retrieve", json={"query": "q"}).status_code == 429
        limiter = test_client.app.state.limiter  # type: ignore[attr-defined]
        deadline = time.monotonic() + 5
        while limiter.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        assert test_client.post("/retrieve", json={"query": "q"}).status_code == 200


def test_a_stream_that_times_out_before_its_first_piece_is_a_504() -> None:
    retrieving = ScriptedAnswerer(retrieve_delay_s=2)
    with make_client(retrieving, API_REQUEST_TIMEOUT_S=0.3) as test_client:
        response = test_client.post("/v1/chat/completions", json={"messages": [USER_Q], "stream": True})
    assert response.status_code == 504
    assert error_of(response)["type"] == "timeout_error"


def test_a_stream_that_times_out_midway_ends_with_an_error_event_and_stops_generating() -> None:
    slow = ScriptedAnswerer(piece_delay_s=0.4)
    with make_client(slow, API_REQUEST_TIMEOUT_S=1.0) as test_client:
        response = test_client.post("/v1/chat/completions", json={"messages": [USER_Q], "stream": True})
    assert response.status_code == 200
    events = sse_events(response.text)
    assert "[DONE]" not in events
    assert json.loads(events[-1])["error"]["type"] == "timeout"
    assert any(json.loads(e).get("choices", [{}])[0].get("delta", {}).get("content") for e in events[:-1])
    assert slow.streams[0].closed.wait(2)
    assert slow.streams[0].produced < len(slow.pieces)


def test_ready_is_false_until_the_answerer_is_loaded(answerer: ScriptedAnswerer) -> None:
    app: FastAPI = create_app(service_config(API_KEY=KEY), lambda: answerer)
    test_client = TestClient(app, headers=AUTH)  # no `with`: the lifespan has not run
    response = test_client.get("/ready")
    assert response.status_code == 503
    assert "still loading" in error_of(response)["message"]
    with test_client:
        assert test_client.get("/ready").status_code == 200


def test_answerer_can_be_overridden_like_any_dependency(answerer: ScriptedAnswerer) -> None:
    other = ScriptedAnswerer(pieces=["other"])
    app = create_app(service_config(API_KEY=KEY), lambda: answerer)
    app.dependency_overrides[get_answerer] = lambda: other
    with TestClient(app, headers=AUTH) as test_client:
        assert test_client.post("/rag", json={"query": "q"}).json()["answer"] == "other"


def test_chat_completions_without_stream_follows_openai(client: TestClient, answerer: ScriptedAnswerer) -> None:
    messages = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": [{"type": "text", "text": "GPU costs?"}]},
    ]
    response = client.post(
        "/v1/chat/completions",
        json={"model": "whatever", "messages": messages, "max_tokens": 10_000, "temperature": 0.5},
    )
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == SCRIPTED_MODEL_NAME
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Keep GPU costs down with spot instances."}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert [s["chunk_id"] for s in body["sources"]] == ["chunk-1", "chunk-2"]
    query, history, params = answerer.calls[-1]
    assert query == "GPU costs?"
    assert [m.role for m in history] == ["system", "user", "assistant"]
    assert params.max_new_tokens == 512 and params.temperature == 0.5


def test_chat_completions_stream_sse_chunks_sources_and_done(client: TestClient) -> None:
    response = client.post(
        "/v1/chat/completions", json={"messages": [{"role": "user", "content": "GPU costs?"}], "stream": True}
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == (
        "Keep GPU costs down with spot instances."
    )
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert [s["chunk_id"] for s in chunks[-1]["sources"]] == ["chunk-1", "chunk-2"]
    assert all("sources" not in c for c in chunks[:-1])


def test_models_names_the_twin(client: TestClient) -> None:
    assert client.get("/v1/models").json()["data"][0]["id"] == SCRIPTED_MODEL_NAME


def test_one_log_line_per_request_without_secrets(client: TestClient) -> None:
    lines: list[dict[str, Any]] = []
    sink = logger.add(lambda message: lines.append(message.record["extra"].get("http", {})), level="INFO")
    try:
        client.post("/rag", json={"query": "GPU costs?"}, headers={"X-Request-ID": "req-42"})
        client.get("/nope?token=abc")
    finally:
        logger.remove(sink)
    requests = [line for line in lines if line]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [("POST", "/rag", 200), ("GET", "/nope", 404)]
    assert requests[0]["request_id"] == "req-42"
    assert KEY not in json.dumps(requests) and "abc" not in json.dumps(requests)


def test_each_request_is_one_trace_with_the_four_spans() -> None:
    tracer = RecordingTracer()
    with make_client(tracer=tracer) as test_client:
        test_client.post("/rag", json={"query": "GPU costs?"}, headers={"X-Request-ID": "req-7"})
        test_client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "q"}], "stream": True})
    assert tracer.closed
    rag, chat = tracer.traces
    assert rag.request_id == "req-7" and rag.name == "rag"
    assert [span.name for span in rag.spans] == ["self-query", "retrieval", "rerank", "generation"]
    assert rag.input["query"] == "GPU costs?"
    assert rag.output["answer"] == "Keep GPU costs down with spot instances."
    assert rag.metadata["model"] == SCRIPTED_MODEL_NAME
    assert rag.metadata["completion_pieces"] == 7 and rag.metadata["latency_ms"] >= 0
    retrieval, generation = rag.spans[1], rag.spans[3]
    assert retrieval.output["chunk_ids"] == ["chunk-1", "chunk-2"]
    assert generation.input["context_chunk_ids"] == ["chunk-1", "chunk-2"]
    assert generation.output["answer"] == rag.output["answer"]
    assert rag.spans[2].metadata["reranked"] is False
    assert all(earlier.end <= later.start for earlier, later in itertools.pairwise(rag.spans))
    assert chat.name == "chat" and chat.error is None and chat.output["answer"].startswith("Keep")


def test_tracing_off_builds_no_trace(answerer: ScriptedAnswerer) -> None:
    with make_client(answerer) as test_client:
        assert test_client.app.state.tracer.enabled is False  # type: ignore[attr-defined]
        assert test_client.post("/rag", json={"query": "q"}).status_code == 200
