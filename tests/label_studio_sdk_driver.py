"""Drives a Label Studio server with its official client, `label-studio-sdk`, for the review round trip's test.

The SDK pins numpy and pyjwt below the project's, so it lives in Label Studio's own environment (.venv-labelstudio)
and this script runs there, as one long-lived process: the test writes one JSON request per line on its stdin,
`{"call": NAME, "args": {...}}`, and reads one JSON line back, `{"result": ...}` or `{"error": "..."}`.
It imports nothing of the project's.
"""

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from label_studio_sdk import LabelStudio, SerializationOptionRequest, SerializationOptionsRequest


class Driver:
    """The calls a person's clicks make: a project with a config, tasks imported, annotations, an export."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.studio = LabelStudio(base_url=base_url, api_key=api_key, timeout=60)

    def create_project(self, title: str, label_config: str) -> int:
        return int(self.studio.projects.create(title=title, label_config=label_config).id)

    def import_tasks(self, project: int, tasks: list[dict[str, Any]]) -> list[int]:
        imported = self.studio.projects.import_tasks(id=project, request=tasks, return_task_ids=True)
        return [int(task_id) for task_id in imported.task_ids or []]

    def task(self, task_id: int) -> dict[str, Any]:
        task: dict[str, Any] = self.studio.tasks.get(id=str(task_id)).model_dump(mode="json")
        return task

    def annotate(self, task_id: int, result: list[dict[str, Any]]) -> dict[str, Any]:
        annotation: dict[str, Any] = self.studio.annotations.create(id=task_id, result=result).model_dump(mode="json")
        return annotation

    def export(self, project: int) -> Any:
        """The project's JSON export, through an export snapshot that names the annotators (by email, not by id).

        The SDK's `exports.as_json` takes the Community edition's one-shot export, which names them by id only.
        """
        exports = self.studio.projects.exports
        options = SerializationOptionsRequest(annotations__completed_by=SerializationOptionRequest(only_id=False))
        snapshot = exports.create(project, serialization_options=options)
        deadline = time.monotonic() + 60
        while snapshot.status != "completed":
            if snapshot.status == "failed" or time.monotonic() > deadline:
                raise RuntimeError(f"export {snapshot.id} of project {project}: {snapshot.status}")
            time.sleep(0.2)
            snapshot = exports.get(project, snapshot.id)
        return json.loads(b"".join(exports.download(project, snapshot.id, export_type="JSON")))


def main() -> int:
    base_url, api_key = sys.argv[1], sys.argv[2]
    driver = Driver(base_url, api_key)
    calls: dict[str, Callable[..., Any]] = {
        name: getattr(driver, name) for name in ("create_project", "import_tasks", "task", "annotate", "export")
    }
    print(json.dumps({"result": "ready"}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = {"result": calls[request["call"]](**request["args"])}
        except Exception as error:  # reported to the test, which fails with it
            reply = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(reply, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
