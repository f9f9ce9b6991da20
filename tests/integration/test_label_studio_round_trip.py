"""Reviews through a real Label Studio server: `llm-twin reviews export-tasks` writes the tasks and configs, a project
is made with each config, the tasks are imported and annotated through Label Studio's own client (label-studio-sdk),
and the project's JSON export is read back by `llm-twin reviews import` into the warehouse's reviews, twice, with the
same result."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llm_engineering.application.dataset.reviews import dataset_samples
from llm_engineering.domain.datasets import InstructSample, PreferenceSample
from llm_engineering.domain.reviews import Review, Verdict, sample_key
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.db.mongo_reviews import REVIEWS, MongoReviewStore
from llm_engineering.infrastructure.local.loopback import free_port
from tests.conftest import REPO_ROOT, run_tool
from tests.label_studio_support import USER_EMAIL, LabelStudioServer
from tests.training_support import instruct_dataset, preference_dataset

pytestmark = pytest.mark.slow

EDITED_ANSWER = "I measure first, then I write down what the numbers say, and only then do I tune."
BETTER_ANSWER = "I'd put a number on it before I argue about it."


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelStudioServer]:
    """One server for the module, coming up (about 10 s) while the first test sets up its stores and tasks."""
    server = LabelStudioServer(tmp_path_factory.mktemp("label-studio"), free_port())
    server.start()
    yield server
    server.stop()


def choice(name: str, value: str, to_name: str) -> dict[str, Any]:
    return {"from_name": name, "to_name": to_name, "type": "choices", "value": {"choices": [value]}}


def text(name: str, value: str, to_name: str) -> dict[str, Any]:
    return {"from_name": name, "to_name": to_name, "type": "textarea", "value": {"text": [value]}}


def import_reviews(*files: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tools", "reviews", "import", *map(str, files)]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)


def test_annotations_made_in_label_studio_come_back_as_reviews_once(
    warehouse: MongoDataWarehouse, cli_env: dict[str, str], label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    from zenml import save_artifact

    instruct, preference = instruct_dataset(train=3, test=1), preference_dataset(train=3, test=0)
    save_artifact(instruct, name="instruct_datasets")
    save_artifact(preference, name="preference_datasets")
    run_tool("reviews", "export-tasks", "--dir", str(tmp_path), env=cli_env)
    tasks = {kind: json.loads((tmp_path / f"{kind}_tasks.json").read_text()) for kind in ("instruction", "preference")}
    assert (len(tasks["instruction"]), len(tasks["preference"])) == (4, 3)
    studio = label_studio.client()

    project = studio.create_project("Instruction review", (tmp_path / "instruction_config.xml").read_text())
    accept, reject, edit, _left_pending = studio.import_tasks(project, tasks["instruction"])
    accepted = studio.annotate(accept, [choice("verdict", "accept", "answer")])
    studio.annotate(reject, [choice("verdict", "reject", "answer")])
    studio.annotate(edit, [choice("verdict", "edit", "answer"), text("edited_answer", EDITED_ANSWER, "answer")])
    instruction_export = tmp_path / "instruction_export.json"
    instruction_export.write_text(json.dumps(studio.export(project)))

    pairs = studio.create_project("Preference review", (tmp_path / "preference_config.xml").read_text())
    swap, better, _pending_pair = studio.import_tasks(pairs, tasks["preference"])
    pair = next(row for split in preference.splits.values() for row in split.train)
    generic_side = "left" if studio.task(swap)["data"]["answer_a"] == pair.rejected else "right"
    studio.annotate(
        swap, [{"from_name": "better", "to_name": "better", "type": "pairwise", "value": {"selected": generic_side}}]
    )
    studio.annotate(better, [text("better_answer", BETTER_ANSWER, "prompt")])
    preference_export = tmp_path / "preference_export.json"
    preference_export.write_text(json.dumps(studio.export(pairs)))

    first = import_reviews(instruction_export, preference_export, env=cli_env)
    assert first.returncode == 0, first.stderr
    assert "3 created, 0 updated, 0 unchanged" in first.stderr and "2 created, 0 updated, 0 unchanged" in first.stderr

    store = MongoReviewStore(warehouse.database)
    rows: list[InstructSample | PreferenceSample] = list(dataset_samples(instruct)) + list(dataset_samples(preference))
    found = [store.find_review(sample_key(row)) for row in rows]
    assert [(review.verdict, review.answer, review.reviewer) if review else None for review in found] == [
        (Verdict.ACCEPT, None, USER_EMAIL),
        (Verdict.REJECT, None, USER_EMAIL),
        (Verdict.EDIT, EDITED_ANSWER, USER_EMAIL),
        None,
        (Verdict.SWAP, None, USER_EMAIL),
        (Verdict.EDIT, BETTER_ANSWER, USER_EMAIL),
        None,
    ]
    accept_review = found[0]
    assert isinstance(accept_review, Review) and accept_review.version == 1
    assert accept_review.reviewed_at.isoformat(timespec="milliseconds") == accepted["updated_at"][:23] + "+00:00"

    stored = list(warehouse.database[REVIEWS].find({}, sort=[("_id", 1)]))
    again = import_reviews(instruction_export, preference_export, env=cli_env)
    assert again.returncode == 0, again.stderr
    assert "0 created, 0 updated, 3 unchanged" in again.stderr and "0 created, 0 updated, 2 unchanged" in again.stderr
    assert list(warehouse.database[REVIEWS].find({}, sort=[("_id", 1)])) == stored


def test_an_export_of_a_project_with_another_config_is_refused_in_one_line_and_nothing_is_saved(
    warehouse: MongoDataWarehouse, cli_env: dict[str, str], label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    studio = label_studio.client()
    config = (
        '<View><Text name="text" value="$text"/>'
        '<Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>'
    )
    project = studio.create_project("Sentiment", config)
    [task] = studio.import_tasks(project, [{"data": {"text": "I measure first."}}])
    studio.annotate(task, [choice("sentiment", "Positive", "text")])
    export = tmp_path / "sentiment.json"
    export.write_text(json.dumps(studio.export(project)))

    result = import_reviews(export, env=cli_env)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {export} is not an export of our review tasks: task {task}'s data has no ")
    assert warehouse.database[REVIEWS].count_documents({}) == 0
