"""The review desk: the registry's newest datasets, row by row, joined to their source documents and their reviews.

The datasets are loaded once, and again when the registry has a newer version of one; the registry is the only
channel from the dataset pipeline. The stored reviews of the loaded rows are read with them and again every
`refresh_s`, so verdicts saved elsewhere (another service, a Label Studio import) show within that time. A row's
review is read fresh when the row is opened, and a save is checked by the store against the stored version, never
against what is held here: the held reviews only sort rows into lists and counts.
"""

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from pydantic import ValidationError

from llm_engineering.domain.datasets import (
    DatasetType,
    InstructDataset,
    InstructSample,
    PreferenceDataset,
    PreferenceSample,
)
from llm_engineering.domain.documents import ArticleDocument, Document, PostDocument, RepositoryDocument
from llm_engineering.domain.exceptions import InvalidReviewError, ReviewConflictError, ReviewSampleNotFoundError
from llm_engineering.domain.ports import DatasetArtifacts, DatasetVersion, ReviewStore, SourceDocuments
from llm_engineering.domain.review_desk import (
    UNRECORDED_STRATEGY,
    DatasetInfo,
    KindProgress,
    ReviewProgress,
    ReviewView,
    SampleDetail,
    SampleFilter,
    SamplePage,
    SampleQuery,
    SampleView,
    SourceExcerpt,
    StrategyProgress,
    VerdictSubmission,
)
from llm_engineering.domain.reviews import Review, ReviewStatus, SampleKey, Verdict, sample_key
from llm_engineering.domain.types import DataCategory

KINDS: tuple[DatasetType, ...] = ("instruction", "preference")
# The command that makes each kind, for the note shown while the registry has none.
MAKE_DATASET = {
    "instruction": "poe run-generate-instruct-datasets-pipeline",
    "preference": "poe run-generate-preference-datasets-pipeline",
}
EXCERPT_CHARS = 1200
# How many of the answer's first words locate it in its source document.
OPENING_WORDS = 8

Split = Literal["train", "test"]


@dataclass(frozen=True)
class _Row:
    """A loaded row, its key and where it comes from (the author and link of its document, None when gone)."""

    id: str
    key: SampleKey
    split: Split
    sample: InstructSample | PreferenceSample
    author_full_name: str | None
    link: str | None

    @property
    def strategy(self) -> str:
        return self.sample.strategy or UNRECORDED_STRATEGY


@dataclass(frozen=True)
class _Loaded:
    version: DatasetVersion
    rows: tuple[_Row, ...]


def document_text(document: Document) -> tuple[str | None, str]:
    """The document's title (None when it has none) and its text as its reader sees it."""
    content = document.content
    if isinstance(document, ArticleDocument):
        parts = [content.get("subtitle"), content.get("content")]
        return content.get("title"), "\n\n".join(str(part) for part in parts if part)
    if isinstance(document, PostDocument):
        return None, str(content.get("text", ""))
    if isinstance(document, RepositoryDocument):
        return document.name, "\n\n".join(f"{path}\n{text}" for path, text in sorted(content.items()))
    return None, "\n\n".join(str(value) for value in content.values())


def source_excerpt(text: str, answer: str, max_chars: int = EXCERPT_CHARS) -> tuple[str, bool]:
    """About `max_chars` of the text from a little before the answer's opening words (else from its beginning).

    Also whether those words were found. A cut end is marked with "…".
    """
    words = answer.split()[:OPENING_WORDS]
    match = re.search(r"\s+".join(re.escape(word) for word in words), text) if words else None
    if len(text) <= max_chars:
        return text, match is not None
    start = 0
    if match is not None:
        start = max(0, match.start() - max_chars // 5)
        # Begin on a word: after the first blank at or after `start`, unless that passes the answer.
        blank = re.compile(r"\s").search(text, start)
        if start > 0 and blank is not None and blank.start() < match.start():
            start = blank.end()
    end = min(len(text), start + max_chars)
    if end < len(text):
        blank_before_end = text.rfind(" ", start + max_chars // 2, end)
        end = blank_before_end if blank_before_end > 0 else end
    excerpt = text[start:end].strip()
    return f"{'…' if start > 0 else ''}{excerpt}{'…' if end < len(text) else ''}", match is not None


def _status(review: Review | None) -> ReviewStatus:
    return ReviewStatus.PENDING if review is None else review.status


def _counts(tally: Counter[ReviewStatus]) -> dict[str, int | float | None]:
    accepted, edited, rejected = (
        tally[status] for status in (ReviewStatus.ACCEPTED, ReviewStatus.EDITED, ReviewStatus.REJECTED)
    )
    reviewed = accepted + edited + rejected
    return {
        "total": reviewed + tally[ReviewStatus.PENDING],
        "reviewed": reviewed,
        "accepted": accepted,
        "edited": edited,
        "rejected": rejected,
        "pending": tally[ReviewStatus.PENDING],
        "acceptance_rate": round(accepted / reviewed, 4) if reviewed else None,
    }


def _first_error(error: ValidationError) -> str:
    message = str(error.errors()[0].get("msg", error))
    return message.removeprefix("Value error, ")


class DatasetReviewDesk:
    """Implements ReviewDesk on ports: the registry's datasets, the warehouse's documents, the stored reviews."""

    def __init__(
        self,
        artifacts: DatasetArtifacts,
        reviews: ReviewStore,
        documents: SourceDocuments,
        *,
        refresh_s: float,
        excerpt_chars: int = EXCERPT_CHARS,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_close: Callable[[], None] | None = None,
    ) -> None:
        """Wire the desk to its ports.

        `refresh_s`: how long the loaded versions and reviews are trusted before the registry and the store are asked
        again. `clock` and `now` are the monotonic and the wall clock; `on_close` releases the connections.
        """
        self._artifacts = artifacts
        self._store = reviews
        self._documents = documents
        self._refresh_s = refresh_s
        self._excerpt_chars = excerpt_chars
        self._clock = clock
        self._now = now
        self._on_close = on_close
        # One lock over the held state; a refresh holds it while it reads, so a request never sees half a refresh.
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._loaded: dict[DatasetType, _Loaded] = {}
        self._rows: tuple[_Row, ...] = ()
        self._position: dict[str, int] = {}
        self._authors: list[str] = []
        self._categories: list[DataCategory] = []
        self._reviews: dict[str, Review] = {}

    def close(self) -> None:
        """Release the connections the desk was given to close; idempotent."""
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    def list_samples(self, query: SampleQuery) -> SamplePage:
        """The page of rows the query asks for, in the datasets' order (instruction rows first)."""
        self._refresh()
        notes = self._notes()
        with self._lock:
            start = 0
            if query.after is not None:
                position = self._position.get(query.after)
                if position is None:
                    notes.append(f"Row {query.after} is no longer in the datasets; the list starts at their beginning.")
                else:
                    start = position + 1
            matching = [position for position, row in enumerate(self._rows) if self._matches(row, query, query.status)]
            after = [position for position in matching if position >= start]
            page = after[query.offset : query.offset + query.limit]
            items = [self._view(self._rows[position]) for position in page]
            datasets = self._dataset_infos()
        return SamplePage(
            items=items, total=len(matching), offset=query.offset, limit=query.limit, datasets=datasets, notes=notes
        )

    def get_sample(self, sample_id: str) -> SampleDetail:
        """One row with its source excerpt, and its review as stored now."""
        self._refresh()
        row = self._row(sample_id)
        stored = self._store.find_review(row.key)
        with self._lock:
            if stored is not None:
                self._remember(stored)
            view = self._view(row, stored)
        return SampleDetail.model_validate({**dict(view), "source": self._source(row)})

    def submit_verdict(self, sample_id: str, submission: VerdictSubmission) -> SampleView:
        """Store the verdict on the row (version-checked by the store) and return the row as it now stands."""
        self._refresh()
        row = self._row(sample_id)
        review = self._review(row, submission)
        try:
            saved = self._store.save_review(review)
        except ReviewConflictError:
            current = self._store.find_review(row.key)
            if current is not None:
                with self._lock:
                    self._remember(current)
            raise
        with self._lock:
            self._remember(saved)
            return self._view(row, saved)

    def progress(self, selection: SampleFilter) -> ReviewProgress:
        """How many of the selected rows are reviewed, per kind and per generation strategy."""
        self._refresh()
        notes = self._notes()
        with self._lock:
            kinds: list[KindProgress] = []
            for kind, loaded in self._loaded.items():
                if selection.kind is not None and selection.kind != kind:
                    continue
                tally = Counter(
                    (row.strategy, _status(self._reviews.get(row.id)))
                    for row in loaded.rows
                    if self._matches(row, selection, None)
                )
                by_strategy: dict[str, Counter[ReviewStatus]] = {}
                overall: Counter[ReviewStatus] = Counter()
                for (strategy, status), count in tally.items():
                    by_strategy.setdefault(strategy, Counter())[status] += count
                    overall[status] += count
                strategies = [
                    StrategyProgress(strategy=strategy, **_counts(counts))
                    for strategy, counts in sorted(by_strategy.items())
                ]
                kinds.append(
                    KindProgress(kind=kind, version=loaded.version.label, strategies=strategies, **_counts(overall))
                )
            authors, categories = self._authors, self._categories
        return ReviewProgress(kinds=kinds, authors=authors, categories=categories, notes=notes)

    def _refresh(self) -> None:
        """Load a newer dataset version and re-read the reviews, once `refresh_s` has passed since the last time."""
        with self._lock:
            now = self._clock()
            if self._checked_at is not None and now - self._checked_at < self._refresh_s:
                return
            changed = False
            for kind in KINDS:
                newest = self._artifacts.newest_version(kind)
                held = self._loaded.get(kind)
                if newest is None:
                    changed |= self._loaded.pop(kind, None) is not None
                elif held is None or held.version.id != newest.id:
                    self._loaded[kind] = self._load(kind, newest)
                    changed = True
            if changed:
                self._rows = tuple(row for kind in KINDS if kind in self._loaded for row in self._loaded[kind].rows)
                self._position = {row.id: position for position, row in enumerate(self._rows)}
                self._authors = sorted({row.author_full_name for row in self._rows if row.author_full_name is not None})
                present = {row.sample.category for row in self._rows}
                self._categories = [category for category in DataCategory if category in present]
            held_reviews, self._reviews = self._reviews, {}
            for kind in self._loaded:
                for key, review in self._store.find_reviews_of_kind(kind).items():
                    if key.id in self._position:
                        self._reviews[key.id] = review
            for review in held_reviews.values():
                if review.key.id in self._position:
                    self._remember(review)
            self._checked_at = now

    def _load(self, kind: DatasetType, version: DatasetVersion) -> _Loaded:
        dataset = self._artifacts.load_dataset(kind, version)
        rows: list[tuple[Split, InstructSample | PreferenceSample]] = list(_split_rows(dataset))
        wanted: dict[DataCategory, set[UUID]] = {}
        for _, sample in rows:
            wanted.setdefault(sample.category, set()).add(sample.document_id)
        documents = {
            document.id: document
            for category, ids in wanted.items()
            for document in self._documents.find_documents_by_ids(category, ids)
        }
        loaded: dict[str, _Row] = {}
        for split, sample in rows:
            key = sample_key(sample)
            # A row generated twice is one row to review: its copies share a key, and so a review.
            if key.id in loaded:
                continue
            document = documents.get(sample.document_id)
            loaded[key.id] = _Row(
                id=key.id,
                key=key,
                split=split,
                sample=sample,
                author_full_name=document.author_full_name if document is not None else None,
                link=document.link if document is not None else None,
            )
        return _Loaded(version, tuple(loaded.values()))

    def _remember(self, review: Review) -> None:
        """Hold the review unless a newer version of it is held already (call with the lock held)."""
        held = self._reviews.get(review.key.id)
        if held is None or held.version < review.version:
            self._reviews[review.key.id] = review

    def _notes(self) -> list[str]:
        with self._lock:
            return [
                f"No {kind} dataset in the registry yet: make one with `{MAKE_DATASET[kind]}`."
                for kind in KINDS
                if kind not in self._loaded
            ]

    def _dataset_infos(self) -> list[DatasetInfo]:
        return [
            DatasetInfo(kind=kind, version=loaded.version.label, rows=len(loaded.rows))
            for kind, loaded in self._loaded.items()
        ]

    def _row(self, sample_id: str) -> _Row:
        with self._lock:
            position = self._position.get(sample_id)
            if position is not None:
                return self._rows[position]
            versions = ", ".join(loaded.version.label for loaded in self._loaded.values()) or "none loaded"
        raise ReviewSampleNotFoundError(
            f"No row {sample_id} in the newest datasets ({versions}): a regenerated dataset may have changed or "
            "dropped it; reload the list."
        )

    def _matches(self, row: _Row, selection: SampleFilter, status: ReviewStatus | None) -> bool:
        return (
            (selection.kind is None or row.key.kind == selection.kind)
            and (selection.category is None or row.sample.category == selection.category)
            and (selection.author is None or row.author_full_name == selection.author)
            and (status is None or _status(self._reviews.get(row.id)) == status)
        )

    def _view(self, row: _Row, review: Review | None = None) -> SampleView:
        """The row as a reviewer sees it, with `review` or else the held one (call with the lock held)."""
        review = review if review is not None else self._reviews.get(row.id)
        sample = row.sample
        instruction, answer, rejected = _texts(sample)
        return SampleView(
            id=row.id,
            kind=row.key.kind,
            split=row.split,
            category=sample.category,
            strategy=sample.strategy,
            document_id=sample.document_id,
            author_full_name=row.author_full_name,
            link=row.link,
            status=_status(review),
            version=review.version if review is not None else 0,
            review=None if review is None else ReviewView(**review.model_dump(exclude={"key"})),
            instruction=instruction,
            answer=answer,
            rejected=rejected,
        )

    def _source(self, row: _Row) -> SourceExcerpt:
        sample = row.sample
        found = self._documents.find_documents_by_ids(sample.category, [sample.document_id])
        if not found:
            return SourceExcerpt(
                found=False,
                excerpt=f"The source document {sample.document_id} is no longer in the warehouse "
                f"({sample.category.value}).",
            )
        document = found[0]
        title, text = document_text(document)
        excerpt, answer_found = source_excerpt(text, _texts(sample)[1], self._excerpt_chars)
        return SourceExcerpt(
            found=True,
            link=document.link,
            platform=document.platform,
            title=title,
            excerpt=excerpt,
            answer_found=answer_found,
        )

    def _review(self, row: _Row, submission: VerdictSubmission) -> Review:
        """The verdict as a review of the row; InvalidReviewError when it cannot apply to it."""
        instruction = submission.instruction.strip() if submission.instruction is not None else None
        answer = submission.answer.strip() if submission.answer is not None else None
        own_instruction, own_answer, _ = _texts(row.sample)
        unchanged = instruction in (None, own_instruction) and answer in (None, own_answer)
        if submission.verdict is Verdict.EDIT and unchanged:
            raise InvalidReviewError(
                "The edit changes nothing in this row: change its instruction or answer, or accept it instead."
            )
        try:
            return Review(
                key=row.key,
                verdict=submission.verdict,
                instruction=instruction,
                answer=answer,
                reviewer=submission.reviewer,
                reviewed_at=self._now(),
                version=submission.version,
            )
        except ValidationError as error:
            raise InvalidReviewError(f"The verdict cannot be saved: {_first_error(error)}") from None


def _texts(sample: InstructSample | PreferenceSample) -> tuple[str, str, str | None]:
    """The row's instruction (a pair's prompt), its answer (a pair's chosen side) and a pair's rejected side."""
    if isinstance(sample, InstructSample):
        return sample.instruction, sample.output, None
    return sample.prompt, sample.chosen, sample.rejected


def _split_rows(
    dataset: InstructDataset | PreferenceDataset,
) -> Iterator[tuple[Split, InstructSample | PreferenceSample]]:
    """Every row with its side of the split: each category's train rows, then its test rows."""
    for split in dataset.splits.values():
        for sample in split.train:
            yield "train", sample
        for sample in split.test:
            yield "test", sample
