"""The loopback server helper that the tests and benchmarks share: it serves, and it says when it cannot."""

import socket

import httpx
import pytest
from fastapi import FastAPI

from llm_engineering.infrastructure.local.loopback import free_port, serving


def hello_app() -> FastAPI:
    app = FastAPI()

    @app.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app


def test_an_app_is_served_for_the_block_and_stopped_after_it() -> None:
    port = free_port()
    with serving(hello_app(), port) as url:
        assert url == f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/hello").json() == {"hello": "world"}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/hello", timeout=2)


def test_a_port_that_is_taken_is_a_clear_error_not_a_hang() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with (
            pytest.raises(RuntimeError, match=rf"127\.0\.0\.1:{port} did not start within 5 s"),
            serving(hello_app(), port, start_timeout_s=5),
        ):
            pass
