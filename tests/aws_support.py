"""A local AWS for tests: moto in server mode on 127.0.0.1, reached through AWS_ENDPOINT_URL as boto3 reads it."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from moto.server import ThreadedMotoServer

from llm_engineering.infrastructure.local.loopback import free_port

REGION = "eu-central-1"


@dataclass(frozen=True)
class LocalAWS:
    """The emulator's address and the environment that points boto3 (and every AWS command) at it."""

    endpoint_url: str

    @property
    def env(self) -> dict[str, str]:
        """Variables boto3 reads natively: the endpoint, a region and test credentials."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }


@contextmanager
def local_aws() -> Iterator[LocalAWS]:
    """A fresh moto server on a free loopback port for the block's duration."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    aws = LocalAWS(f"http://127.0.0.1:{port}")
    # moto keeps its state per process, whichever port serves it: every block starts and ends with an empty AWS.
    reset = f"{aws.endpoint_url}/moto-api/reset"
    httpx.post(reset, timeout=30).raise_for_status()
    try:
        yield aws
    finally:
        httpx.post(reset, timeout=30)
        server.stop()


@pytest.fixture
def aws_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAWS]:
    """moto in server mode for one test, with this process's environment pointed at it."""
    with local_aws() as aws:
        for name, value in aws.env.items():
            monkeypatch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        yield aws


@pytest.fixture
def aws_cli(aws_emulator: LocalAWS, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[LocalAWS]:
    """The emulator, and fresh settings for the CLI (it reads get_settings()): the emulator's environment, no
    developer's .env (the working directory is the test's folder) and no configured AWS keys."""
    from llm_engineering.settings import get_settings

    monkeypatch.chdir(tmp_path)
    for name in ("AWS_ACCESS_KEY", "AWS_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield aws_emulator
    get_settings.cache_clear()
