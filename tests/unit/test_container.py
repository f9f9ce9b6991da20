"""The image runs the service and its healthcheck gets an answer from it; compose's `api` waits for healthy stores
(docker-compose's own check of the file is in tests/integration/test_docker_compose.py)."""

import importlib
import inspect
import json
import shlex
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import typer.main
import yaml
from fastapi.testclient import TestClient

from llm_engineering.infrastructure.api.app import create_app
from llm_engineering.infrastructure.api.dependencies import ServiceConfig
from llm_engineering.settings import load_settings
from tests.twin_fakes import ScriptedAnswerer
from tools import ml_service

ROOT = Path(__file__).resolve().parents[2]


def dockerfile_instruction(name: str) -> str:
    """The last `name` instruction of the Dockerfile, its continuation lines joined."""
    joined = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    [*_, last] = [line.strip() for line in joined.splitlines() if line.strip().startswith(f"{name} ")]
    return last.removeprefix(f"{name} ")


def test_the_images_command_is_the_service_entry_point_and_its_healthcheck_gets_200_from_the_app() -> None:
    # SageMaker runs `docker run IMAGE serve`, which replaces CMD: the entry point plus "serve" must be the service.
    command = json.loads(dockerfile_instruction("ENTRYPOINT")) + json.loads(dockerfile_instruction("CMD"))
    assert command[1:] == ["serve"]
    # The console script the image runs is the project's CLI, and its subcommand is the one that serves.
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, attribute = scripts[command[0]].partition(":")
    cli = importlib.import_module(module)
    assert callable(getattr(cli, attribute))
    served = typer.main.get_command(cli.app).commands[command[1]].callback  # type: ignore[attr-defined]
    assert served is not None and inspect.unwrap(served) is ml_service.serve

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
