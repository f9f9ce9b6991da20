"""A real uvicorn on 127.0.0.1 serving the app built by tools.ml_service with a scripted answerer, for tests."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI

from llm_engineering.settings import Settings, load_settings
from tests.conftest import free_port
from tests.twin_fakes import ScriptedAnswerer
from tools.ml_service import build_service


@dataclass
class LiveService:
    """A running service: its base URL, key and the answerer behind it."""

    url: str
    api_key: str | None
    answerer: ScriptedAnswerer
    settings: Settings

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}


@contextmanager
def serving(app: FastAPI, port: int, *, start_timeout_s: float = 20) -> Iterator[str]:
    """Serve `app` through uvicorn on 127.0.0.1:port in a thread until the block ends; yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test service did not start")
        time.sleep(0.05)
    try:
        assert httpx.get(f"{url}/health").status_code == 200
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def live_service(answerer: ScriptedAnswerer, **settings_overrides: object) -> Iterator[LiveService]:
    """Serve `answerer` through uvicorn in a thread until the block ends."""
    port = free_port()
    settings = load_settings(_env_file=None, API_PORT=port, **settings_overrides)
    key = settings.API_KEY.get_secret_value() if settings.API_KEY else None
    with serving(build_service(settings, lambda _settings: answerer), port) as url:
        yield LiveService(url=url, api_key=key, answerer=answerer, settings=settings)
