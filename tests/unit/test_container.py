"""The image runs the service and checks /health; compose's `api` waits for healthy stores and is valid."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_the_image_runs_the_service_and_its_healthcheck_calls_health() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["python", "-m", "tools.ml_service"]' in dockerfile
    healthcheck = dockerfile[dockerfile.index("HEALTHCHECK") :].split("\n\n")[0]
    assert "http://127.0.0.1:8000/health" in healthcheck


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
