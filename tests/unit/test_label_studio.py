"""Label Studio's formats: tasks and configs out, its JSON export back in as reviews (on in-memory ports)."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import pytest

from llm_engineering.application.dataset.label_studio import (
    CONTROLS,
    LABEL_CONFIGS,
    AnnotatedTask,
    ExportedAnnotation,
    annotator_name,
    export_review_tasks,
    import_annotations,
    parse_export,
    review_tasks,
)
from llm_engineering.domain.datasets import InstructDataset, InstructSample, PreferenceDataset, PreferenceSample
from llm_engineering.domain.exceptions import LabelStudioExportError
from llm_engineering.domain.reviews import Review, Verdict, sample_key
from llm_engineering.domain.types import DataCategory
from tests.fakes import MemoryDatasetArtifacts, MemoryReviewStore
from tests.training_support import instruct_dataset, preference_dataset

ANNOTATED_AT = "2030-01-02T03:04:05.678901Z"
ANNOTATED = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
MAYA = {"id": 7, "email": "maya@example.com", "first_name": "Maya", "last_name": "Okafor"}


def rows(dataset: InstructDataset | PreferenceDataset) -> list[Any]:
    return [row for split in dataset.splits.values() for row in [*split.train, *split.test]]


def choice(name: str, value: str) -> dict[str, Any]:
    return {"from_name": name, "to_name": "x", "type": "choices", "value": {"choices": [value]}}


def text(name: str, value: str) -> dict[str, Any]:
    return {"from_name": name, "to_name": "x", "type": "textarea", "value": {"text": [value]}}


def picked(side: str) -> dict[str, Any]:
    return {"from_name": "better", "to_name": "better", "type": "pairwise", "value": {"selected": side}}


def annotated(task: dict[str, Any], *result: dict[str, Any], **annotation: Any) -> dict[str, Any]:
    """The task as Label Studio exports it, with one annotation of these results."""
    submission = {"id": 1, "completed_by": MAYA, "result": list(result), "created_at": ANNOTATED_AT} | annotation
    return {"id": 11, "data": task["data"], "annotations": [submission]}


class Project:
    """Both datasets saved in the registry fake and the reviews in the store fake, exported as tasks."""

    def __init__(self) -> None:
        self.instruct = instruct_dataset(train=3, test=1)
        self.preference = preference_dataset(train=2, test=0)
        self.artifacts = MemoryDatasetArtifacts()
        self.artifacts.save("instruction", self.instruct)
        self.artifacts.save("preference", self.preference)
        self.store = MemoryReviewStore()

    def tasks(self, kind: str, **options: bool) -> list[dict[str, Any]]:
        exports = export_review_tasks(self.artifacts, self.store, **options)
        return next(export.tasks for export in exports if export.kind == kind)

    def import_(self, payload: object, **options: Any) -> Any:
        return import_annotations(parse_export(payload, "export.json"), self.artifacts, self.store, **options)

    def review_of(self, row: InstructSample | PreferenceSample) -> Review | None:
        return self.store.find_review(sample_key(row))


def test_each_config_is_xml_with_our_controls_and_shows_the_fields_its_tasks_carry() -> None:
    project = Project()
    for kind, config in LABEL_CONFIGS.items():
        root = ElementTree.fromstring(config)  # noqa: S314 (our own constant)
        controls = {e.get("name") for e in root.iter() if e.tag in {"Choices", "TextArea", "Pairwise"}}
        assert controls == CONTROLS[kind]
        shown = {e.get("value", "")[1:] for e in root.iter("Text")}
        assert shown <= set(project.tasks(kind)[0]["data"])
        objects = {e.get("name") for e in root.iter("Text")}
        targets = {t for e in root.iter() for t in re.split(",", e.get("toName", "")) if t}
        assert targets <= objects | {"better"}


def test_tasks_carry_the_rows_key_and_review_version_and_only_pending_rows_by_default() -> None:
    project = Project()
    first, second = rows(project.instruct)[:2]
    saved = project.store.save_review(
        Review(key=sample_key(first), verdict=Verdict.ACCEPT, reviewer="Maya", reviewed_at=ANNOTATED)
    )
    pending = project.tasks("instruction")
    assert [task["data"]["output"] for task in pending] == [row.output for row in rows(project.instruct)[1:]]
    data = pending[0]["data"]
    key = sample_key(second)
    assert (data["document_id"], data["kind"], data["content_hash"]) == (
        str(key.document_id),
        "instruction",
        key.content_hash,
    )
    assert (data["sample_id"], data["review_version"], data["status"]) == (key.id, 0, "pending")
    assert (data["instruction"], data["category"]) == (second.instruction, "articles")

    everything = project.tasks("instruction", include_reviewed=True)
    assert len(everything) == 4
    assert (everything[0]["data"]["review_version"], everything[0]["data"]["status"]) == (saved.version, "accepted")


def test_a_row_generated_twice_is_one_task() -> None:
    dataset = instruct_dataset(train=2, test=0)
    split = dataset.splits[DataCategory.ARTICLES]
    doubled = dataset.model_copy(
        update={"splits": {DataCategory.ARTICLES: split.model_copy(update={"train": split.train * 2})}}
    )
    assert len(review_tasks(doubled, {}, include_reviewed=False)) == 2


def test_pairs_show_both_answers_the_authors_first_for_some_rows_and_second_for_others() -> None:
    pairs = rows(preference_dataset(train=12, test=0))
    tasks = review_tasks(preference_dataset(train=12, test=0), {}, include_reviewed=False)
    firsts = [task["data"]["answer_a"] == pair.chosen for task, pair in zip(tasks, pairs, strict=True)]
    assert any(firsts) and not all(firsts)
    for task, pair in zip(tasks, pairs, strict=True):
        assert {task["data"]["answer_a"], task["data"]["answer_b"]} == {pair.chosen, pair.rejected}
        assert task["data"]["prompt"] == pair.prompt


def test_accept_reject_and_edit_become_reviews_by_the_annotator_at_the_annotations_time() -> None:
    project = Project()
    accept, reject, edit, pending = project.tasks("instruction")
    report = project.import_(
        [
            annotated(accept, choice("verdict", "accept")),
            annotated(reject, choice("verdict", "reject"), completed_by=3),
            annotated(
                edit,
                choice("verdict", "edit"),
                text("edited_answer", "  I measure first.\n"),
                text("edited_instruction", ""),
            ),
            {"id": 14, "data": pending["data"], "annotations": []},
        ],
        default_reviewer="Theo Brandt",
    )
    assert (report.counts["created"], report.counts["not annotated"], report.problems) == (3, 1, [])
    first, second, third, fourth = rows(project.instruct)
    accepted = project.review_of(first)
    assert accepted is not None
    assert (accepted.verdict, accepted.reviewer, accepted.reviewed_at, accepted.version) == (
        Verdict.ACCEPT,
        "Maya Okafor",
        ANNOTATED,
        1,
    )
    rejected = project.review_of(second)
    assert rejected is not None and (rejected.verdict, rejected.reviewer) == (Verdict.REJECT, "Theo Brandt")
    edited = project.review_of(third)
    assert edited is not None and (edited.verdict, edited.instruction, edited.answer) == (
        Verdict.EDIT,
        None,
        "I measure first.",
    )
    assert project.review_of(fourth) is None


def test_importing_the_same_export_twice_changes_nothing() -> None:
    project = Project()
    payload = [annotated(task, choice("verdict", "accept")) for task in project.tasks("instruction")]
    assert project.import_(payload).counts["created"] == 4
    before = dict(project.store.reviews)
    again = project.import_(payload)
    assert (again.counts["unchanged"], again.counts["created"], again.problems) == (4, 0, [])
    assert project.store.reviews == before


def test_pairwise_picks_become_accept_or_swap_and_a_written_answer_an_edit() -> None:
    project = Project()
    pairs = rows(project.preference)
    swap_task, edit_task = project.tasks("preference")
    generic_side = "left" if swap_task["data"]["answer_a"] == pairs[0].rejected else "right"
    report = project.import_(
        [
            annotated(swap_task, picked(generic_side)),
            annotated(edit_task, picked("left"), text("better_answer", "I would measure it.")),
        ]
    )
    assert report.problems == []
    swapped, edited = project.review_of(pairs[0]), project.review_of(pairs[1])
    assert swapped is not None and swapped.verdict is Verdict.SWAP
    assert edited is not None and (edited.verdict, edited.answer) == (Verdict.EDIT, "I would measure it.")

    author_side = "right" if generic_side == "left" else "left"
    older = annotated(swap_task, picked(author_side), created_at="2030-01-01T00:00:00Z")
    assert project.import_([older]).counts["refused"] == 1  # an older annotation than the saved verdict
    later = annotated(swap_task, picked(author_side), created_at="2030-01-03T00:00:00Z")
    # The same annotator changed their mind in Label Studio after the first import.
    assert project.import_([later]).counts["updated"] == 1
    accepted = project.review_of(pairs[0])
    assert accepted is not None and (accepted.verdict, accepted.version) == (Verdict.ACCEPT, 2)


@pytest.mark.parametrize(
    ("kind", "result", "reason"),
    [
        ("instruction", [choice("verdict", "edit"), text("edited_answer", "   ")], "the edit is empty"),
        ("instruction", [choice("verdict", "edit")], "the edit is empty"),
        ("instruction", [choice("verdict", "accept"), text("edited_answer", "New")], "choose edit, or clear the text"),
        ("instruction", [text("edited_answer", "New")], "no verdict; choose edit"),
        ("instruction", [], "it has no verdict"),
        ("instruction", [choice("verdict", "maybe")], "`maybe` is not one of accept, reject, edit"),
        ("preference", [text("better_answer", "")], "the better answer is empty"),
        ("preference", [choice("pair_verdict", "reject"), picked("left")], "drops the pair and also picks"),
        ("preference", [], "it picks no answer"),
    ],
)
def test_an_annotation_that_cannot_be_a_review_is_refused_with_the_fix_and_the_rest_imported(
    kind: str, result: list[dict[str, Any]], reason: str
) -> None:
    project = Project()
    bad, good = project.tasks(kind)[:2]
    fine = choice("verdict", "reject") if kind == "instruction" else choice("pair_verdict", "reject")
    report = project.import_([annotated(bad, *result), annotated(good, fine)])
    assert report.counts["created"] == 1
    [problem] = report.problems
    assert problem.startswith(f"task 11 ({kind} row {bad['data']['sample_id']}): refused: ") and reason in problem
    assert project.review_of(rows(project.instruct if kind == "instruction" else project.preference)[0]) is None


def test_a_task_whose_row_is_no_longer_in_the_newest_dataset_is_reported_and_skipped() -> None:
    project = Project()
    tasks = project.tasks("instruction")
    project.artifacts.save("instruction", instruct_dataset(train=1, test=0))  # regenerated: only the first row is left
    report = project.import_([annotated(task, choice("verdict", "accept")) for task in tasks])
    assert report.counts["created"] == 1 and len(report.problems) == 3
    assert "its row is not in instruction datasets version 2" in report.problems[0]


def test_a_newer_review_by_someone_else_is_kept_and_the_task_reported() -> None:
    project = Project()
    task = project.tasks("instruction")[0]
    row = rows(project.instruct)[0]
    later = ANNOTATED + timedelta(hours=1)
    project.store.save_review(Review(key=sample_key(row), verdict=Verdict.REJECT, reviewer="Theo", reviewed_at=later))
    report = project.import_([annotated(task, choice("verdict", "accept"))])
    [problem] = report.problems
    assert "Theo saved reject on it at 2030-01-02 04:04:05 UTC (version 1)" in problem and "skipped" in problem
    stored = project.review_of(row)
    assert stored is not None and stored.verdict is Verdict.REJECT


def test_agreeing_with_a_stored_review_is_unchanged_whoever_made_it() -> None:
    project = Project()
    task = project.tasks("instruction")[0]
    row = rows(project.instruct)[0]
    project.store.save_review(
        Review(key=sample_key(row), verdict=Verdict.ACCEPT, reviewer="Theo", reviewed_at=ANNOTATED)
    )
    report = project.import_([annotated(task, choice("verdict", "accept"))])
    assert (report.counts["unchanged"], report.problems) == (1, [])


def test_the_newest_submitted_annotation_counts_and_skipped_ones_do_not() -> None:
    project = Project()
    task = project.tasks("instruction")[0]
    newest = {"id": 2, "completed_by": 1, "result": [choice("verdict", "reject")], "created_at": "2030-01-05T00:00:00Z"}
    skipped = {"id": 3, "completed_by": 1, "result": [], "was_cancelled": True, "created_at": "2030-01-09T00:00:00Z"}
    payload = [annotated(task, choice("verdict", "accept"))]
    payload[0]["annotations"] += [newest, skipped]
    [parsed] = parse_export(payload, "export.json")
    assert isinstance(parsed, AnnotatedTask) and parsed.annotation is not None and parsed.annotation.id == 2
    cancelled_only = [{"id": 5, "data": task["data"], "annotations": [skipped]}]
    assert project.import_(cancelled_only).counts["not annotated"] == 1


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"tasks": []}, "is not Label Studio's JSON export: that is a list of tasks, and this is a dict"),
        ([{"id": 1, "instruction": "Hi", "verdict": "accept"}], "task 1 has no `data` object (JSON_MIN and CSV"),
        (
            [{"id": 2, "data": {"text": "I love it"}, "annotations": []}],
            "task 2's data has no document_id, kind, content_hash",
        ),
        ([{"id": 3, "data": {"document_id": "nope", "kind": "instruction", "content_hash": "ab"}}], "task 3's key"),
        (
            [{"id": 4, "data": {}, "annotations": [{"result": []}]}],
            "task 4 does not read as one (annotations.0.created_at",
        ),
    ],
)
def test_a_file_that_is_not_our_projects_json_export_is_refused_whole(payload: object, message: str) -> None:
    with pytest.raises(LabelStudioExportError, match=re.escape(message)):
        parse_export(payload, "export.json")


def test_an_export_of_a_project_with_another_config_is_refused_before_anything_is_saved() -> None:
    project = Project()
    good, other = project.tasks("instruction")[:2]
    sentiment = {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
    payload = [annotated(good, choice("verdict", "accept")), annotated(other, sentiment)]
    with pytest.raises(LabelStudioExportError, match="annotated with sentiment, which the instruction review config"):
        project.import_(payload)
    assert project.store.reviews == {}


def test_the_annotator_is_named_by_full_name_email_default_or_user_id() -> None:
    assert annotator_name(MAYA) == "Maya Okafor"
    assert (
        annotator_name({"id": 2, "email": "theo@example.com", "first_name": "", "last_name": ""}) == "theo@example.com"
    )
    assert annotator_name(2, "Theo Brandt") == "Theo Brandt"
    assert annotator_name(2) == "Label Studio user 2"


def test_the_annotation_time_is_kept_to_the_millisecond_in_utc() -> None:
    naive = ExportedAnnotation.model_validate({"created_at": "2030-01-02T03:04:05.678901"})
    assert naive.time == ANNOTATED
    updated = ExportedAnnotation.model_validate(
        {"created_at": ANNOTATED_AT, "updated_at": "2030-01-02T05:04:05.678999+02:00"}
    )
    assert updated.time == ANNOTATED
