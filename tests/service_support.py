"""A real uvicorn on 127.0.0.1 serving the app built by tools.ml_service with a scripted answerer, for tests."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from llm_engineering.infrastructure.local.loopback import free_port, serving
from llm_engineering.settings import Settings, load_settings
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
def live_service(answerer: ScriptedAnswerer, **settings_overrides: object) -> Iterator[LiveService]:
    """Serve `answerer` through uvicorn in a thread until the block ends."""
    port = free_port()
    settings = load_settings(_env_file=None, API_PORT=port, **settings_overrides)
    key = settings.API_KEY.get_secret_value() if settings.API_KEY else None
    with serving(build_service(settings, lambda _settings: answerer), port) as url:
        assert httpx.get(f"{url}/health").status_code == 200
        yield LiveService(url=url, api_key=key, answerer=answerer, settings=settings)
