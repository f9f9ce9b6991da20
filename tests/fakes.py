"""Test fakes shared by every test module; each implements one of the project's ports."""

import hashlib
import math
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from uuid import UUID

from llm_engineering.domain.datasets import DatasetType, InstructDataset, PreferenceDataset
from llm_engineering.domain.documents import Document
from llm_engineering.domain.exceptions import LLMError, ReviewConflictError
from llm_engineering.domain.ports import ChatMessage, DatasetVersion, GenerationParams, WriteOutcome
from llm_engineering.domain.reviews import Review, SampleKey
from llm_engineering.domain.types import DataCategory

WORD = re.compile(r"[a-z0-9]+")


class ScriptedLLM:
    """The LLMClient port, answering from a script: one queue of replies, or one queue per first message."""

    backend = "scripted"
    model_id = "scripted-1"

    def __init__(self, replies: Iterable[str] | Mapping[str, Iterable[str]]) -> None:
        self._by_first_message = (
            {key: deque(values) for key, values in replies.items()} if isinstance(replies, Mapping) else None
        )
        self._queue = deque(replies) if not isinstance(replies, Mapping) else deque[str]()
        self.calls: list[list[list[ChatMessage]]] = []
        self.params: list[GenerationParams] = []

    @property
    def asked(self) -> list[list[ChatMessage]]:
        """Every conversation asked so far, across calls, in order."""
        return [conversation for call in self.calls for conversation in call]

    def generate(self, conversations: Sequence[Sequence[ChatMessage]], params: GenerationParams) -> list[str]:
        """The next scripted reply per conversation; raises IndexError when the script runs out."""
        self.calls.append([list(conversation) for conversation in conversations])
        self.params.append(params)
        if self._by_first_message is None:
            return [self._queue.popleft() for _ in conversations]
        return [self._by_first_message[conversation[0].content].popleft() for conversation in conversations]


class HashingEmbedder:
    """The Embedder port without a model: unit vectors of hashed word counts, so shared words mean similarity."""

    model_id = "hashing-64"
    variant = "hashing"
    dimension = 64
    max_input_tokens = 256
    tokenizer_json = ""

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> list[list[float]]:
        """One vector per text; counts the calls so tests can check batching."""
        self.calls += 1
        vectors = []
        for text in texts:
            vector = [0.0] * self.dimension
            for word in WORD.findall(text.lower()):
                vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            vectors.append([v / norm for v in vector])
        return vectors


class TableEmbedder:
    """The Embedder port with a fixed vector per text, so a similarity has an answer known by hand."""

    model_id = "table"
    variant = "table"
    dimension = 2
    max_input_tokens = 256
    tokenizer_json = ""

    def __init__(self, vectors: Mapping[str, list[float]]) -> None:
        self._vectors = dict(vectors)

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> list[list[float]]:
        """The table's vector of each text (KeyError for a text the test did not plan)."""
        return [self._vectors[text] for text in texts]


class FailingLLM:
    """A backend that is down: every call raises the port's error."""

    backend = "down"
    model_id = "down"

    def generate(self, conversations: Sequence[Sequence[ChatMessage]], params: GenerationParams) -> list[str]:
        raise LLMError("connection refused")


class MemoryReviewStore:
    """ReviewStore in a dict, with the warehouse's version check: a save names the version it was made on."""

    def __init__(self) -> None:
        self.reviews: dict[str, Review] = {}

    def save_review(self, review: Review) -> Review:
        stored = self.reviews.get(review.key.id)
        if (stored.version if stored is not None else 0) != review.version:
            by = f"by {stored.reviewer} " if stored is not None else ""
            raise ReviewConflictError(f"The row was reviewed {by}after version {review.version}; reload it.")
        saved = review.model_copy(update={"version": review.version + 1})
        self.reviews[review.key.id] = saved
        return saved

    def find_review(self, key: SampleKey) -> Review | None:
        return self.reviews.get(key.id)

    def find_reviews(self, keys: Iterable[SampleKey]) -> dict[SampleKey, Review]:
        return {key: self.reviews[key.id] for key in keys if key.id in self.reviews}

    def find_reviews_of_kind(self, kind: DatasetType) -> dict[SampleKey, Review]:
        return {review.key: review for review in self.reviews.values() if review.key.kind == kind}

    def restore_review(self, review: Review) -> WriteOutcome:
        stored = self.reviews.get(review.key.id)
        if stored is not None and stored.version >= review.version:
            return WriteOutcome.UNCHANGED
        self.reviews[review.key.id] = review
        return WriteOutcome.CREATED if stored is None else WriteOutcome.UPDATED


class MemoryDocuments:
    """SourceDocuments over a list of documents."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.documents = {document.id: document for document in documents}

    def find_documents_by_ids(self, category: DataCategory, ids: Iterable[UUID]) -> list[Document]:
        found = (self.documents.get(document_id) for document_id in ids)
        return [document for document in found if document is not None and document.category == category]


class MemoryDatasetArtifacts:
    """DatasetArtifacts over datasets saved in memory: each `save` is a new, newest version of its kind."""

    def __init__(self) -> None:
        self.versions: dict[DatasetType, list[InstructDataset | PreferenceDataset]] = {}
        self.loads = 0

    def save(self, kind: DatasetType, dataset: InstructDataset | PreferenceDataset) -> DatasetVersion:
        self.versions.setdefault(kind, []).append(dataset)
        return self._version(kind, len(self.versions[kind]))

    def _version(self, kind: DatasetType, number: int) -> DatasetVersion:
        return DatasetVersion(id=f"{kind}-{number}", label=f"{kind} datasets version {number}")

    def newest_version(self, kind: DatasetType) -> DatasetVersion | None:
        saved = self.versions.get(kind)
        return self._version(kind, len(saved)) if saved else None

    def load_dataset(self, kind: DatasetType, version: DatasetVersion) -> InstructDataset | PreferenceDataset:
        self.loads += 1
        return self.versions[kind][int(version.id.rsplit("-", 1)[1]) - 1]
