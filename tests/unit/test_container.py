"""The image runs the service and its healthcheck gets an answer from it; compose's `api` waits for healthy stores
and is valid."""

import importlib
import json
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi.testclient import TestClient

from llm_engineering.infrastructure.api.app import create_app
from llm_engineering.infrastructure.api.dependencies import ServiceConfig
from llm_engineering.settings import load_settings
from tests.twin_fakes import ScriptedAnswerer

ROOT = Path(__file__).resolve().parents[2]


def dockerfile_instruction(name: str) -> str:
    """The last `name` instruction of the Dockerfile, its continuation lines joined."""
    joined = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    [*_, last] = [line.strip() for line in joined.splitlines() if line.strip().startswith(f"{name} ")]
    return last.removeprefix(f"{name} ")


def test_the_images_command_is_the_service_entry_point_and_its_healthcheck_gets_200_from_the_app() -> None:
    command = json.loads(dockerfile_instruction("CMD"))
    assert command[:2] == ["python", "-m"]
    entry = importlib.import_module(command[2])
    assert callable(entry.main) and callable(entry.build_service)

    # The healthcheck asks the container's loopback on the port that the image's ENV gives the service (which listens
    # on API_HOST=0.0.0.0), and the service's app answers that path without a key.
    url = urlsplit(shlex.split(dockerfile_instruction("HEALTHCHECK").split(" CMD ", 1)[1])[2])
    environment = dict(shlex.split(setting)[0].split("=", 1) for setting in dockerfile_instruction("ENV").split())
    assert url.hostname == "127.0.0.1" and environment["API_HOST"] == "0.0.0.0"  # noqa: S104 - the image's bind
    assert url.port == int(environment["API_PORT"])
    settings = load_settings(_env_file=None, API_KEY="image-key")
    app = create_app(ServiceConfig.from_settings(settings), ScriptedAnswerer, None)
    with TestClient(app) as client:
        assert client.get(url.path).status_code == 200


def test_compose_api_depends_on_healthy_mongo_and_qdrant() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    api = services["api"]
    assert api["depends_on"] == {
        "mongo": {"condition": "service_healthy"},
        "qdrant": {"condition": "service_healthy"},
    }
    assert "healthcheck" in services["mongo"] and "healthcheck" in services["qdrant"]
    assert "/health" in " ".join(api["healthcheck"]["test"])
    assert api["environment"]["DATABASE_HOST"].endswith("@mongo:27017")
    assert all(port.startswith("127.0.0.1:") for port in api["ports"])


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed")
def test_docker_compose_config_accepts_the_file() -> None:
    result = subprocess.run(
        ["docker-compose", "--profile", "api", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "API_KEY": "compose-check"},
    )
    assert result.returncode == 0, result.stderr
