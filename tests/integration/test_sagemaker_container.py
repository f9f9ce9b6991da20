"""SageMaker's container contract, checked by running the image's own entry command (no Docker engine here):
`ENTRYPOINT` + `serve`, as SageMaker starts it, answers GET /ping and POST /invocations on the SageMaker port, and
the rest of the API stays on its own port behind the key."""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.local.loopback import free_port
from llm_engineering.settings import Settings
from tests.conftest import REPO_ROOT
from tests.rag_support import prepare_sample_twin
from tests.unit.test_container import dockerfile_instruction

KEY = "container-key"


def image_environment() -> dict[str, str]:
    """The image's ENV, as the Dockerfile's last ENV sets it."""
    return dict(shlex.split(setting)[0].split("=", 1) for setting in dockerfile_instruction("ENV").split())


def wait_for(url: str, process: subprocess.Popen[str], timeout_s: float = 240) -> httpx.Response:
    """GET `url` until it answers 200 (the twin is loaded), failing early if the process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"the service exited with {process.returncode}: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            response = httpx.get(url, timeout=10)
            if response.status_code == 200:
                return response
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"{url} was not ready within {timeout_s} s")


@pytest.mark.slow
def test_the_images_entry_command_serves_sagemakers_contract(
    settings: Settings, warehouse: MongoDataWarehouse, llm_models_dir: Path, cli_env: dict[str, str]
) -> None:
    image_env = image_environment()
    assert image_env["API_SAGEMAKER_PORT"] == "8080" and image_env["API_PORT"] == "8000"
    command = [*json.loads(dockerfile_instruction("ENTRYPOINT")), "serve"]
    executable = Path(sys.executable).parent / command[0]  # the console script, as the image's venv has it
    assert executable.is_file(), f"{command[0]} is not installed in {executable.parent} (make setup)"
    prepare_sample_twin(settings, warehouse, llm_models_dir)
    api_port, sagemaker_port = free_port(), free_port()
    env = {
        **cli_env,
        **{name: image_env[name] for name in ("HF_HUB_OFFLINE", "OPIK_TRACK_DISABLE", "API_HOST")},
        # Free ports stand in for the image's 8000 and 8080; the image binds 0.0.0.0, which needs a key.
        "API_PORT": str(api_port),
        "API_SAGEMAKER_PORT": str(sagemaker_port),
        "API_KEY": KEY,
        "API_MAX_NEW_TOKENS": "16",
    }
    process = subprocess.Popen(
        [str(executable), *command[1:]],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        sagemaker = f"http://127.0.0.1:{sagemaker_port}"
        api = f"http://127.0.0.1:{api_port}"
        assert wait_for(f"{sagemaker}/ping", process).json()["ready"] is True
        # SageMaker authenticates InvokeEndpoint itself, so /invocations takes no key; the body is /rag's.
        answered = httpx.post(
            f"{sagemaker}/invocations", json={"query": "Theo, is Spark worth it for small data?"}, timeout=180
        )
        assert answered.status_code == 200, answered.text
        body = answered.json()
        assert body["answer"].strip() and body["model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
        assert {source["author_full_name"] for source in body["sources"]} == {"Theo Brandt"}
        bad = httpx.post(f"{sagemaker}/invocations", json={"question": "wrong field"}, timeout=30)
        assert bad.status_code == 422
        # The contract lives on the SageMaker port only; the API's other routes keep their key on both ports.
        assert httpx.get(f"{api}/ping", timeout=30).status_code == 404
        assert httpx.post(f"{api}/invocations", json={"query": "q"}, timeout=30).status_code == 404
        assert httpx.get(f"{api}/health", timeout=30).status_code == 200
        assert httpx.post(f"{api}/rag", json={"query": "q"}, timeout=30).status_code == 401
        assert httpx.post(f"{sagemaker}/rag", json={"query": "q"}, timeout=30).status_code == 401
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # Ctrl-C (what `docker stop` amounts to) shuts the app down cleanly; uvicorn then exits as interrupted.
    output = process.stdout.read() if process.stdout else ""
    assert process.returncode in (0, 130), output
    assert "Application shutdown complete" in output and "SageMaker's /ping and /invocations" in output
