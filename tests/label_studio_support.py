"""A real Label Studio server on 127.0.0.1 for the review round trip, and its official client (label-studio-sdk).

Label Studio lives in its own environment (.venv-labelstudio, made by `make setup-test`: it pins Django, numpy and pyjwt
of its own). It starts on a copy of the database `make setup-test` migrated (a start on an empty one spends a minute on
its migrations), with a known user and API token, SQLite under a temporary folder, and nothing that phones home: no
version check against PyPI, no analytics, no Sentry.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
LABEL_STUDIO = REPO_ROOT / ".venv-labelstudio" / "bin" / "label-studio"
LABEL_STUDIO_PYTHON = REPO_ROOT / ".venv-labelstudio" / "bin" / "python"
SDK_DRIVER = Path(__file__).resolve().parent / "label_studio_sdk_driver.py"
TEMPLATE_DATABASE = REPO_ROOT / ".venv-labelstudio" / "template" / "label_studio.sqlite3"
USER_EMAIL = "reviewer@example.com"
# Label Studio keeps a token of more than 5 characters as the user's legacy API token ("Authorization: Token ...").
API_TOKEN = "llm-twin-review-test-token"


class LabelStudioServer:
    """`label-studio start` on a port, its data under `data_dir`.

    start() returns at once, so that the ~10 s the server takes to come up overlap the test's own set-up; client()
    waits until it answers /health. stop() ends it.
    """

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._client: LabelStudioClient | None = None
        self._log = data_dir / "label-studio.log"

    def environment(self) -> dict[str, str]:
        """A clean environment: Label Studio reads DATABASE_NAME, PORT, HOST, DEBUG ... that the tests may set."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.data_dir),
            "LANG": "C.UTF-8",
            "DJANGO_DB": "sqlite",
            "LABEL_STUDIO_BASE_DATA_DIR": str(self.data_dir),
            "LABEL_STUDIO_DATABASE_NAME": str(self.data_dir / "label_studio.sqlite3"),
            "LABEL_STUDIO_USERNAME": USER_EMAIL,
            "LABEL_STUDIO_PASSWORD": "review-test-password",
            "LABEL_STUDIO_USER_TOKEN": API_TOKEN,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LATEST_VERSION_CHECK": "false",
            "COLLECT_ANALYTICS": "false",
            "SENTRY_DSN": "",
            "FRONTEND_SENTRY_DSN": "",
            "LOG_LEVEL": "WARNING",
        }

    def start(self) -> None:
        """Start the server on a copy of the migrated database, without waiting for it."""
        if not LABEL_STUDIO.exists() or not TEMPLATE_DATABASE.exists():
            raise RuntimeError(
                f"{LABEL_STUDIO} or its migrated database {TEMPLATE_DATABASE} is missing: run `make setup-test` "
                "(Label Studio has its own environment, .venv-labelstudio)."
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(TEMPLATE_DATABASE, self.data_dir / "label_studio.sqlite3")
        command = [str(LABEL_STUDIO), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(self.port)]
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                command, env=self.environment(), stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir
            )

    def wait_until_up(self, timeout_s: float = 120) -> None:
        """Return once the server answers /health; RuntimeError with its log if it exits or is not up in time."""
        process = self._process
        if process is None:
            raise RuntimeError("Label Studio was not started")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"Label Studio exited with {process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"Label Studio was not up after {timeout_s:.0f} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        return self._log.read_text(errors="replace")[-chars:] if self._log.exists() else ""

    def client(self) -> "LabelStudioClient":
        """The API client of the user the server was started with, once the server is up."""
        if self._client is None:
            self.wait_until_up()
            self._client = LabelStudioClient(self.base_url, API_TOKEN)
        return self._client

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


class LabelStudioClient:
    """Label Studio's official client (`label-studio-sdk`), driven through tests/label_studio_sdk_driver.py.

    The SDK pins numpy and pyjwt below the project's, so it runs in Label Studio's environment: one driver process per
    client, one JSON line per call each way. A call the server refuses fails the test with the SDK's error.
    """

    def __init__(self, base_url: str, token: str) -> None:
        command = [str(LABEL_STUDIO_PYTHON), str(SDK_DRIVER), base_url, token]
        # Its warnings go to a file: a pipe nobody reads would block the driver once full.
        self._errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in close())
        self._driver = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors, text=True, cwd=REPO_ROOT
        )
        assert self._reply() == "ready"

    def _reply(self) -> Any:
        assert self._driver.stdout is not None
        line = self._driver.stdout.readline()
        if not line:
            self._driver.wait(timeout=15)
            self._errors.seek(0)
            errors = self._errors.read()
            raise RuntimeError(f"the Label Studio SDK driver exited with {self._driver.returncode}:\n{errors[-4000:]}")
        reply: dict[str, Any] = json.loads(line)
        assert "error" not in reply, reply["error"]
        return reply["result"]

    def _call(self, name: str, **args: Any) -> Any:
        assert self._driver.stdin is not None
        self._driver.stdin.write(json.dumps({"call": name, "args": args}) + "\n")
        self._driver.stdin.flush()
        return self._reply()

    def close(self) -> None:
        if self._driver.stdin is not None:
            self._driver.stdin.close()
        try:
            self._driver.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._driver.kill()
            self._driver.wait()
        self._errors.close()

    def create_project(self, title: str, label_config: str) -> int:
        return int(self._call("create_project", title=title, label_config=label_config))

    def import_tasks(self, project: int, tasks: list[dict[str, Any]]) -> list[int]:
        return [int(task_id) for task_id in self._call("import_tasks", project=project, tasks=tasks)]

    def task(self, task_id: int) -> dict[str, Any]:
        task: dict[str, Any] = self._call("task", task_id=task_id)
        return task

    def annotate(self, task_id: int, result: list[dict[str, Any]]) -> dict[str, Any]:
        annotation: dict[str, Any] = self._call("annotate", task_id=task_id, result=result)
        return annotation

    def export(self, project: int) -> list[dict[str, Any]]:
        """The project's JSON export, as an export snapshot naming the annotators."""
        tasks: list[dict[str, Any]] = self._call("export", project=project)
        return tasks
