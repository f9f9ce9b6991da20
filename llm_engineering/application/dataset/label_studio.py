"""Label Studio, both ways: review tasks and labeling configs for the generated datasets, and annotations as reviews.

Out: one task per row of the newest dataset of a kind (the pending rows, unless all are asked for). A task's data holds
the row's key (document id, kind, content hash) and the version of its stored review, so that its annotation finds the
row again and is saved with the version check the review page uses.

In: Label Studio's JSON export. The whole file is checked before anything is saved: a file from a project with another
labeling config is refused as a whole. Then each annotated task becomes a review, or is reported and skipped: its row is
no longer in the newest dataset, its edit is empty, its verdict contradicts itself, or the store holds another verdict
saved after the tasks were exported. Importing the same file again changes nothing.
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llm_engineering.application.dataset.reviews import dataset_samples, review_status
from llm_engineering.domain.datasets import (
    DatasetType,
    InstructDataset,
    InstructSample,
    PreferenceDataset,
    PreferenceSample,
)
from llm_engineering.domain.exceptions import InvalidReviewError, LabelStudioExportError, ReviewConflictError
from llm_engineering.domain.ports import DatasetArtifacts, DatasetVersion, ReviewStore
from llm_engineering.domain.reviews import Review, SampleKey, Verdict, sample_key

KINDS: tuple[DatasetType, ...] = ("instruction", "preference")

# The instruction review: the row as generated, a verdict, and the corrected texts an edit carries.
INSTRUCTION_CONFIG = """\
<View>
  <Header value="Instruction"/>
  <Text name="instruction" value="$instruction"/>
  <Header value="Answer"/>
  <Text name="answer" value="$output"/>
  <Header value="Verdict: accept the row as it is, reject it, or edit it with the corrected text below"/>
  <Choices name="verdict" toName="answer" choice="single-radio" showInline="true">
    <Choice value="accept"/>
    <Choice value="reject"/>
    <Choice value="edit"/>
  </Choices>
  <Header value="Edit: a corrected instruction and/or answer (leave one empty to keep the row's own)"/>
  <TextArea name="edited_instruction" toName="instruction" rows="3" maxSubmissions="1" editable="true"
            placeholder="Corrected instruction"/>
  <TextArea name="edited_answer" toName="answer" rows="6" maxSubmissions="1" editable="true"
            placeholder="Corrected answer, in the author's voice"/>
</View>
"""

# The preference review, pairwise: the two answers in an order fixed per row (so nobody learns "left is the author"),
# the better one picked, or one written by hand, or the pair dropped.
PREFERENCE_CONFIG = """\
<View>
  <Header value="Prompt"/>
  <Text name="prompt" value="$prompt"/>
  <Header value="Which answer sounds like the author? Click it."/>
  <Pairwise name="better" toName="answer_a,answer_b"/>
  <Text name="answer_a" value="$answer_a"/>
  <Text name="answer_b" value="$answer_b"/>
  <Header value="Or write a better answer in the author's voice (it replaces the pair's chosen answer)"/>
  <TextArea name="better_answer" toName="prompt" rows="6" maxSubmissions="1" editable="true"
            placeholder="A better answer"/>
  <Header value="Or drop the pair (a bad prompt, or neither answer is any good)"/>
  <Choices name="pair_verdict" toName="prompt" choice="single">
    <Choice value="reject"/>
  </Choices>
</View>
"""

LABEL_CONFIGS: dict[DatasetType, str] = {"instruction": INSTRUCTION_CONFIG, "preference": PREFERENCE_CONFIG}
# The control tags each config has: an annotation with any other is from a project with another config.
CONTROLS: dict[DatasetType, frozenset[str]] = {
    "instruction": frozenset({"verdict", "edited_instruction", "edited_answer"}),
    "preference": frozenset({"better", "better_answer", "pair_verdict"}),
}
KEY_FIELDS = ("document_id", "kind", "content_hash")
NEXT_STEP = (
    "import the tasks written by `poe export-review-tasks` into a project made with the labeling config beside them, "
    "and export that project as JSON"
)


def _chosen_first(key: SampleKey) -> bool:
    """Whether the author's answer is shown first: fixed per row by its hash, so half the pairs show it second."""
    return int(key.content_hash[:8], 16) % 2 == 0


def review_task(sample: InstructSample | PreferenceSample, review: Review | None) -> dict[str, Any]:
    """The row as one Label Studio task: its key, its review's version and status, and the texts the config shows."""
    key = sample_key(sample)
    data: dict[str, Any] = {
        "sample_id": key.id,
        "document_id": str(key.document_id),
        "kind": key.kind,
        "content_hash": key.content_hash,
        # The version an import saves on: a review stored after the export is not overwritten silently.
        "review_version": review.version if review is not None else 0,
        "status": review_status(review).value,
        "category": sample.category.value,
        "strategy": sample.strategy,
    }
    if isinstance(sample, InstructSample):
        data |= {"instruction": sample.instruction, "output": sample.output}
    else:
        first, second = (sample.chosen, sample.rejected) if _chosen_first(key) else (sample.rejected, sample.chosen)
        data |= {"prompt": sample.prompt, "answer_a": first, "answer_b": second}
    return {"data": data}


def review_tasks(
    dataset: InstructDataset | PreferenceDataset, reviews: Mapping[SampleKey, Review], *, include_reviewed: bool
) -> list[dict[str, Any]]:
    """One task per distinct row of the dataset (a row generated twice is one), reviewed rows only when asked."""
    tasks: list[dict[str, Any]] = []
    seen: set[SampleKey] = set()
    for sample in dataset_samples(dataset):
        key = sample_key(sample)
        if key in seen:
            continue
        seen.add(key)
        review = reviews.get(key)
        if review is None or include_reviewed:
            tasks.append(review_task(sample, review))
    return tasks


@dataclass(frozen=True)
class TaskExport:
    """The tasks of one kind: from which dataset version (None: the registry has none), of how many distinct rows."""

    kind: DatasetType
    version: DatasetVersion | None
    rows: int
    tasks: list[dict[str, Any]]
    config: str


def export_review_tasks(
    artifacts: DatasetArtifacts, store: ReviewStore, *, include_reviewed: bool = False
) -> list[TaskExport]:
    """The review tasks and labeling config of each kind, from the registry's newest datasets and the stored reviews."""
    exports: list[TaskExport] = []
    for kind in KINDS:
        version = artifacts.newest_version(kind)
        if version is None:
            exports.append(TaskExport(kind, None, 0, [], LABEL_CONFIGS[kind]))
            continue
        dataset = artifacts.load_dataset(kind, version)
        keys = {sample_key(sample) for sample in dataset_samples(dataset)}
        reviews = store.find_reviews(keys)
        tasks = review_tasks(dataset, reviews, include_reviewed=include_reviewed)
        exports.append(TaskExport(kind, version, len(keys), tasks, LABEL_CONFIGS[kind]))
    return exports


class _Export(BaseModel):
    """What we read of Label Studio's JSON export; anything else in it is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class ExportedResult(_Export):
    """One control's value in an annotation: `choices`, `text` or `selected`, by the control's type."""

    from_name: str
    type: str
    value: dict[str, Any] = Field(default_factory=dict)


class ExportedAnnotation(_Export):
    """One annotator's submission on a task."""

    id: int | None = None
    # A user id (the project's plain JSON export) or {id, email, first_name, last_name} (an export snapshot).
    completed_by: int | dict[str, Any] | None = None
    result: list[ExportedResult] = Field(default_factory=list)
    was_cancelled: bool = False
    created_at: datetime
    updated_at: datetime | None = None

    @property
    def time(self) -> datetime:
        """When the verdict was last given, to the millisecond (as the warehouse keeps it), in UTC."""
        moment = self.updated_at or self.created_at
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class ExportedTask(_Export):
    """One task with its data (ours, with the row's key) and its annotations."""

    id: int | None = None
    data: dict[str, Any]
    annotations: list[ExportedAnnotation] = Field(default_factory=list)


@dataclass(frozen=True)
class AnnotatedTask:
    """A task of the export, checked: the row it names, the version it was exported on, its newest annotation."""

    task_id: int | None
    key: SampleKey
    review_version: int
    data: Mapping[str, Any]
    # The newest submission that was not skipped; None when the task has none.
    annotation: ExportedAnnotation | None

    @property
    def label(self) -> str:
        """How the report names the task: Label Studio's id and the row's."""
        task = f"task {self.task_id}" if self.task_id is not None else "a task"
        return f"{task} ({self.key.kind} row {self.key.id})"


def _task_label(task: Mapping[str, Any] | ExportedTask, position: int) -> str:
    task_id = task.id if isinstance(task, ExportedTask) else task.get("id")
    return f"task {task_id}" if task_id is not None else f"task #{position + 1} of the file"


def _task_key(task: ExportedTask, where: str, source: str) -> tuple[SampleKey, int]:
    missing = [name for name in KEY_FIELDS if name not in task.data]
    if missing:
        raise LabelStudioExportError(
            f"{source} is not an export of our review tasks: {where}'s data has no {', '.join(missing)} (the row's "
            f"key), so it comes from a project with another labeling config or other tasks; {NEXT_STEP}."
        )
    try:
        key = SampleKey(**{name: task.data[name] for name in KEY_FIELDS})
        version = int(task.data.get("review_version", 0))
    except (ValidationError, TypeError, ValueError) as error:
        raise LabelStudioExportError(
            f"{source}: {where}'s key ({', '.join(f'{n}={task.data[n]!r}' for n in KEY_FIELDS)}) is not one our "
            f"export writes ({_first_error(error)}); {NEXT_STEP}."
        ) from None
    return key, max(version, 0)


def _first_error(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = str(first.get("msg", error)).removeprefix("Value error, ")
        return f"{where}: {message}" if where else message
    return str(error)


def parse_export(payload: object, source: str) -> list[AnnotatedTask]:
    """The export's tasks, checked whole; LabelStudioExportError (one line) when the file is not what we can import.

    Refused: anything but a list of tasks with `data` (e.g. the JSON_MIN or CSV exports), a task without our row key,
    and an annotation with a control our config for its kind does not have (a project with another labeling config).
    """
    if not isinstance(payload, list):
        raise LabelStudioExportError(
            f"{source} is not Label Studio's JSON export: that is a list of tasks, and this is a "
            f"{type(payload).__name__}; export the project as JSON."
        )
    tasks: list[AnnotatedTask] = []
    for position, raw in enumerate(payload):
        if not isinstance(raw, dict) or not isinstance(raw.get("data"), dict):
            where = _task_label(raw, position) if isinstance(raw, dict) else f"item #{position + 1}"
            raise LabelStudioExportError(
                f"{source} is not Label Studio's JSON export: {where} has no `data` object (JSON_MIN and CSV exports "
                "flatten it away); export the project as JSON."
            )
        try:
            task = ExportedTask.model_validate(raw)
        except ValidationError as error:
            raise LabelStudioExportError(
                f"{source} is not Label Studio's JSON export: {_task_label(raw, position)} does not read as one "
                f"({_first_error(error)}); export the project as JSON."
            ) from None
        where = _task_label(task, position)
        key, version = _task_key(task, where, source)
        foreign = sorted({r.from_name for a in task.annotations for r in a.result} - CONTROLS[key.kind])
        if foreign:
            raise LabelStudioExportError(
                f"{source}: {where} is annotated with {', '.join(foreign)}, which the {key.kind} review config does "
                f"not have (it has {', '.join(sorted(CONTROLS[key.kind]))}): the project's labeling config is not "
                f"ours; {NEXT_STEP}."
            )
        submitted = [annotation for annotation in task.annotations if not annotation.was_cancelled]
        newest = max(submitted, key=lambda annotation: annotation.time, default=None)
        tasks.append(AnnotatedTask(task.id, key, version, task.data, newest))
    return tasks


@dataclass(frozen=True)
class Decision:
    """What an annotation decides about its row: the verdict, and the texts an edit carries."""

    verdict: Verdict
    instruction: str | None = None
    answer: str | None = None


def _values(annotation: ExportedAnnotation, name: str, field_name: str) -> list[str] | None:
    """The strings a control gave (None: the annotation has no value for it)."""
    found: list[str] = []
    present = False
    for result in annotation.result:
        if result.from_name != name:
            continue
        present = True
        value = result.value.get(field_name)
        found += [str(item) for item in value] if isinstance(value, list) else [] if value is None else [str(value)]
    return found if present else None


def _text(annotation: ExportedAnnotation, name: str) -> str | None:
    """A text area's text, trimmed (several submissions joined by a blank line); None when it was left alone."""
    texts = _values(annotation, name, "text")
    return None if texts is None else "\n\n".join(texts).strip()


def _single_choice(annotation: ExportedAnnotation, name: str, allowed: Sequence[str]) -> str | None:
    choices = _values(annotation, name, "choices") or []
    if len(choices) > 1:
        raise InvalidReviewError(f"{name} has {len(choices)} choices ({', '.join(choices)}); pick one")
    if choices and choices[0] not in allowed:
        raise InvalidReviewError(f"{name} `{choices[0]}` is not one of {', '.join(allowed)}")
    return choices[0] if choices else None


def instruction_decision(annotation: ExportedAnnotation) -> Decision:
    """The verdict of an instruction review; InvalidReviewError for an empty edit or a contradicting verdict."""
    verdict = _single_choice(annotation, "verdict", [v.value for v in (Verdict.ACCEPT, Verdict.REJECT, Verdict.EDIT)])
    instruction, answer = _text(annotation, "edited_instruction"), _text(annotation, "edited_answer")
    written = [text for text in (instruction, answer) if text]
    if verdict is None:
        if written:
            raise InvalidReviewError("it has a corrected text but no verdict; choose edit to use the text")
        raise InvalidReviewError("it has no verdict; choose accept, reject or edit")
    if verdict != Verdict.EDIT:
        if written:
            raise InvalidReviewError(
                f"its verdict is {verdict} but it has a corrected text; choose edit, or clear the text"
            )
        return Decision(Verdict(verdict))
    if not written:
        raise InvalidReviewError(
            "the edit is empty; write a corrected instruction or answer, or choose accept or reject instead"
        )
    return Decision(Verdict.EDIT, instruction=instruction or None, answer=answer or None)


def preference_decision(annotation: ExportedAnnotation, data: Mapping[str, Any], sample: PreferenceSample) -> Decision:
    """The verdict of a pairwise review; InvalidReviewError for an empty edit or a contradiction.

    The author's answer picked is accept, the generic one swap, a better answer written edit, the pair dropped reject.
    """
    rejected = _single_choice(annotation, "pair_verdict", [Verdict.REJECT.value]) is not None
    better = _text(annotation, "better_answer")
    picked = _values(annotation, "better", "selected") or []
    if rejected:
        if better or picked:
            raise InvalidReviewError("it drops the pair and also picks or writes an answer; keep one of them")
        return Decision(Verdict.REJECT)
    if better is not None:
        if not better:
            raise InvalidReviewError("the better answer is empty; write one, or pick one of the two answers instead")
        return Decision(Verdict.EDIT, answer=better)
    if len(picked) != 1 or picked[0] not in ("left", "right"):
        raise InvalidReviewError("it picks no answer; click the better one, write a better one, or drop the pair")
    shown = data.get("answer_a" if picked[0] == "left" else "answer_b")
    if shown == sample.chosen:
        return Decision(Verdict.ACCEPT)
    if shown == sample.rejected:
        return Decision(Verdict.SWAP)
    raise InvalidReviewError("the task's answers are not the row's (its data was changed); export the tasks again")


def annotator_name(completed_by: int | dict[str, Any] | None, default_reviewer: str | None = None) -> str:
    """The reviewer's name: the annotator's full name or email, else `default_reviewer`, else their user id.

    Label Studio's plain JSON export names the annotator by user id only; an export snapshot adds the name and email.
    """
    if isinstance(completed_by, dict):
        full_name = " ".join(str(completed_by.get(part) or "").strip() for part in ("first_name", "last_name")).strip()
        if full_name or completed_by.get("email"):
            return full_name or str(completed_by["email"])
        completed_by = completed_by.get("id")
    if default_reviewer and default_reviewer.strip():
        return default_reviewer.strip()
    return f"Label Studio user {completed_by}" if completed_by is not None else "Label Studio"


Outcome = Literal["created", "updated", "unchanged", "not annotated", "refused"]


@dataclass
class ReviewImport:
    """What an import did: how many tasks went each way, and one line per task that was refused or skipped."""

    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """The counts in one phrase."""
        order: list[Outcome] = ["created", "updated", "unchanged", "not annotated", "refused"]
        return ", ".join(f"{self.counts[outcome]} {outcome}" for outcome in order)


def _same_decision(review: Review, decision: Decision) -> bool:
    return (review.verdict, review.instruction, review.answer) == (
        decision.verdict,
        decision.instruction,
        decision.answer,
    )


def _load_rows(
    artifacts: DatasetArtifacts, kinds: Iterable[DatasetType]
) -> dict[DatasetType, tuple[str, dict[SampleKey, InstructSample | PreferenceSample]]]:
    """The rows of the newest dataset of each kind, by key, with how the report names the dataset."""
    rows: dict[DatasetType, tuple[str, dict[SampleKey, InstructSample | PreferenceSample]]] = {}
    for kind in kinds:
        version = artifacts.newest_version(kind)
        if version is None:
            rows[kind] = (f"the registry, which has no {kind} dataset", {})
            continue
        dataset = artifacts.load_dataset(kind, version)
        rows[kind] = (version.label, {sample_key(sample): sample for sample in dataset_samples(dataset)})
    return rows


def import_annotations(
    tasks: Sequence[AnnotatedTask],
    artifacts: DatasetArtifacts,
    store: ReviewStore,
    *,
    default_reviewer: str | None = None,
) -> ReviewImport:
    """Save each annotated task's verdict as a review of its row; report and skip the ones that cannot be saved.

    A task is saved on the review version it was exported with. The store holding another verdict on a later version
    is a conflict (reported, skipped), unless that verdict is the same annotator's and older than the annotation: then
    it is their own earlier verdict, changed since in Label Studio. The store already holding the same verdict is
    `unchanged`, which makes a second import of the same file change nothing.
    """
    report = ReviewImport()
    rows = _load_rows(artifacts, sorted({task.key.kind for task in tasks}))
    stored = store.find_reviews(task.key for task in tasks)
    for task in tasks:
        if task.annotation is None:
            report.counts["not annotated"] += 1
            continue
        outcome, problem = _import_task(task, task.annotation, rows, stored, store, default_reviewer)
        report.counts[outcome] += 1
        if problem is not None:
            report.problems.append(f"{task.label}: {problem}")
    return report


def _import_task(
    task: AnnotatedTask,
    annotation: ExportedAnnotation,
    rows: Mapping[DatasetType, tuple[str, Mapping[SampleKey, InstructSample | PreferenceSample]]],
    stored: dict[SampleKey, Review],
    store: ReviewStore,
    default_reviewer: str | None,
) -> tuple[Outcome, str | None]:
    source, samples = rows[task.key.kind]
    sample = samples.get(task.key)
    if sample is None:
        return "refused", f"its row is not in {source} (regenerated with other text, or removed); skipped"
    try:
        if isinstance(sample, PreferenceSample):
            decision = preference_decision(annotation, task.data, sample)
        else:
            decision = instruction_decision(annotation)
    except InvalidReviewError as error:
        return "refused", f"refused: {error}"
    current = stored.get(task.key)
    if current is not None and _same_decision(current, decision):
        return "unchanged", None
    reviewer = annotator_name(annotation.completed_by, default_reviewer)
    version = task.review_version
    if current is None:
        version = 0
    elif current.version != version:
        if current.reviewer != reviewer or current.reviewed_at > annotation.time:
            return "refused", (
                f"{current.reviewer} saved {current.verdict.value} on it at "
                f"{current.reviewed_at:%Y-%m-%d %H:%M:%S} UTC "
                f"(version {current.version}) after these tasks were exported on version {version}; skipped, to keep "
                "that verdict. Export the tasks again to review the row on it."
            )
        version = current.version
    try:
        review = Review(
            key=task.key,
            verdict=decision.verdict,
            instruction=decision.instruction,
            answer=decision.answer,
            reviewer=reviewer,
            reviewed_at=annotation.time,
            version=version,
        )
    except ValidationError as error:
        return "refused", f"refused: {_first_error(error)}"
    try:
        stored[task.key] = store.save_review(review)
    except ReviewConflictError as error:
        return "refused", f"skipped: {error}"
    return ("created" if current is None else "updated"), None
