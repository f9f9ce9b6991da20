"""Prompt monitoring: off costs nothing (no opik import, no client); on, the real Opik client sends one trace per
request with its spans, here to a local stand-in of the Opik REST API that records what it receives."""

import gzip
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from llm_engineering.infrastructure.monitoring.tracing import NullTracer, OpikTracer, build_tracer
from llm_engineering.settings import load_settings
from tests.twin_fakes import SCRIPTED_MODEL_NAME, ScriptedAnswerer
from tools.ml_service import build_service


class _OpikApi(BaseHTTPRequestHandler):
    received: list[tuple[str, Any]]

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        self.received.append((self.path, json.loads(raw) if raw else None))
        self.send_response(204 if self.command == "POST" else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PATCH = _reply  # noqa: N815 - http.server dispatches on these names

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def opik_api() -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    received: list[tuple[str, Any]] = []
    handler = type("Handler", (_OpikApi,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/api", received
    server.shutdown()


def test_tracing_off_builds_no_client_and_imports_no_opik() -> None:
    assert isinstance(build_tracer(load_settings(_env_file=None)), NullTracer)
    probe = (
        "import sys; from llm_engineering.settings import load_settings; "
        "from tools.ml_service import build_service; "
        "app = build_service(load_settings(_env_file=None)); "
        "print(type(app.state.tracer).__name__, 'opik' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": "."},
    )
    assert result.stdout.split() == ["NullTracer", "False"]


def test_opik_on_sends_one_trace_per_request_with_its_spans(opik_api: tuple[str, list[tuple[str, Any]]]) -> None:
    url, received = opik_api
    settings = load_settings(_env_file=None, OPIK_URL_OVERRIDE=url, OPIK_PROJECT="twin-test")
    app = build_service(settings, lambda _settings: ScriptedAnswerer())
    tracer = app.state.tracer
    assert isinstance(tracer, OpikTracer)
    with TestClient(app) as client:  # leaving the block runs the lifespan's end: the tracer flushes
        assert (
            client.post("/rag", json={"query": "GPU costs?"}, headers={"X-Request-ID": "req-opik"}).status_code == 200
        )
    traces = [item for path, body in received if path.endswith("/traces/batch") for item in body["traces"]]
    spans = [item for path, body in received if path.endswith("/spans/batch") for item in body["spans"]]
    [trace] = traces
    assert trace["name"] == "rag" and trace["project_name"] == "twin-test"
    assert trace["input"]["query"] == "GPU costs?"
    assert trace["output"]["answer"] == "Keep GPU costs down with spot instances."
    assert trace["metadata"]["request_id"] == "req-opik" and trace["metadata"]["model"] == SCRIPTED_MODEL_NAME
    assert trace["metadata"]["latency_ms"] >= 0 and trace["metadata"]["completion_pieces"] == 7
    by_name = {span["name"]: span for span in spans}
    assert set(by_name) == {"self-query", "retrieval", "rerank", "generation"}
    assert all(span["trace_id"] == trace["id"] for span in spans)
    assert by_name["retrieval"]["output"]["chunk_ids"] == ["chunk-1", "chunk-2"]
    assert by_name["generation"]["type"] == "llm" and by_name["generation"]["model"] == SCRIPTED_MODEL_NAME
    assert by_name["generation"]["output"]["answer"] == trace["output"]["answer"]
