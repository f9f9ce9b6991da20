"""Ports: what the application needs from outside systems. Adapters live in infrastructure/."""

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from llm_engineering.domain.datasets import DatasetType, InstructDataset, PreferenceDataset
from llm_engineering.domain.documents import Document, UserDocument
from llm_engineering.domain.reviews import Review, SampleKey
from llm_engineering.domain.types import DataCategory

# A filter is {payload field: value or list of accepted values}; all fields must match.
Filters = Mapping[str, Any]


class WriteOutcome(StrEnum):
    """What an upsert did to one document."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class DocumentRepository(Protocol):
    """The data warehouse: authors and their raw documents, upserted by natural key."""

    def upsert_user(self, user: UserDocument) -> UserDocument:
        """Insert the author or return the stored one with the same name, so an author is stored once."""
        ...

    def find_user(self, full_name: str) -> UserDocument | None:
        """The author with this full name, or None when there is none."""
        ...

    def list_users(self) -> list[UserDocument]:
        """Every stored author."""
        ...

    def upsert_documents(self, documents: Iterable[Document]) -> dict[UUID, WriteOutcome]:
        """Insert or update each document by its natural key; what happened to each, by document id."""
        ...

    def find_documents(
        self,
        category: DataCategory,
        *,
        author_id: UUID | None = None,
        platform: str | None = None,
        link: str | None = None,
    ) -> list[Document]:
        """The documents of one category, narrowed by author, platform or link when given."""
        ...

    def iter_documents(
        self, category: DataCategory, *, author_id: UUID | None = None, batch_size: int = 500
    ) -> Iterator[Document]:
        """Every document of one category (of one author when given), read `batch_size` at a time."""
        ...

    def find_documents_by_ids(self, category: DataCategory, ids: Iterable[UUID]) -> list[Document]:
        """The documents of one category with these ids; ids not stored are left out."""
        ...

    def document_hashes(self, category: DataCategory, *, author_ids: Collection[UUID] | None = None) -> dict[UUID, str]:
        """Each document's content hash by id, so a re-run can skip the unchanged ones."""
        ...

    def delete_documents(self, category: DataCategory, ids: Iterable[UUID]) -> int:
        """Delete these documents of one category; the number deleted."""
        ...

    def count_documents(self, category: DataCategory, *, author_id: UUID | None = None) -> int:
        """How many documents one category holds (of one author when given)."""
        ...


class ReviewStore(Protocol):
    """People's verdicts on dataset rows, in the warehouse, one per row key, saved with a version check."""

    def save_review(self, review: Review) -> Review:
        """Store the verdict as version `review.version + 1`; ReviewConflictError if another save came first.

        `review.version` is the version the reviewer saw (0: the row had no review); a stored review of another
        version means someone saved the row since it was read, and the save is refused.
        """
        ...

    def find_review(self, key: SampleKey) -> Review | None:
        """The stored review of this row, or None when it has none."""
        ...

    def find_reviews(self, keys: Iterable[SampleKey]) -> dict[SampleKey, Review]:
        """The stored reviews of these rows, by key; rows without a review are left out."""
        ...

    def find_reviews_of_kind(self, kind: DatasetType) -> dict[SampleKey, Review]:
        """Every stored review of this dataset kind, by key: those of rows no longer generated too.

        The cheap way to read the reviews of a whole dataset (one query, not one per batch of keys).
        """
        ...

    def restore_review(self, review: Review) -> WriteOutcome:
        """Put back a review as a warehouse export holds it, its version kept (the warehouse import).

        Created when the row has no review, updated when the stored one has an older version, unchanged otherwise:
        a newer verdict in the warehouse is never replaced by an older copy.
        """
        ...


class SourceDocuments(Protocol):
    """The warehouse's documents by id: where a dataset row comes from (a narrow view of DocumentRepository)."""

    def find_documents_by_ids(self, category: DataCategory, ids: Iterable[UUID]) -> list[Document]:
        """The documents of one category with these ids; ids not stored are left out."""
        ...


@dataclass(frozen=True)
class DatasetVersion:
    """One stored version of a generated dataset: its registry id, and how people name it."""

    id: str
    label: str  # e.g. "instruct_datasets version 3"


class DatasetArtifacts(Protocol):
    """The registry's generated datasets: the newest version of each kind, and its rows."""

    def newest_version(self, kind: DatasetType) -> DatasetVersion | None:
        """The newest stored version of the kind's dataset, or None when the registry holds none."""
        ...

    def load_dataset(self, kind: DatasetType, version: DatasetVersion) -> InstructDataset | PreferenceDataset:
        """The rows of that version; DatasetSourceError when it holds another kind of dataset."""
        ...


class WarehouseFiles(Protocol):
    """Where the warehouse's JSON files live: a local folder or an S3 prefix. Files are named, not nested."""

    @property
    def location(self) -> str:
        """The folder or `s3://bucket/prefix` as the user gave it, for messages."""
        ...

    def describe(self, name: str) -> str:
        """One file's full location (a path or an s3:// URL), for messages."""
        ...

    def names(self) -> set[str]:
        """The names of the files directly in the location; an error when the location cannot be read."""
        ...

    def read_text(self, name: str) -> str:
        """One file's text (UTF-8)."""
        ...

    def write_text(self, name: str, text: str) -> None:
        """Write one file (UTF-8), creating the location when it needs creating, replacing a file there."""
        ...


@dataclass(frozen=True)
class SparseVector:
    """A sparse vector: term ids and their weights (the store applies IDF at query time)."""

    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class VectorRecord:
    """A point of the vector store: deterministic id, JSON payload, optional dense and sparse vectors."""

    id: UUID
    payload: dict[str, Any] = field(default_factory=dict)
    vector: list[float] | None = None
    sparse: SparseVector | None = None


@dataclass(frozen=True)
class SearchHit:
    """One search result: the point and its score (higher is better)."""

    record: VectorRecord
    score: float


class VectorStore(Protocol):
    """The feature store: payload-only and vector collections with filtered dense and hybrid search."""

    def ensure_collection(self, name: str, vector_size: int | None, *, sparse: bool = False) -> None:
        """Create the collection if missing: dense vectors of `vector_size` (None: payload only), plus sparse ones."""
        ...

    def collection_names(self) -> list[str]:
        """The names of the collections the store holds."""
        ...

    def upsert(self, collection: str, records: Sequence[VectorRecord]) -> None:
        """Insert or overwrite the records by id."""
        ...

    def delete_where(self, collection: str, filters: Filters) -> None:
        """Delete every point of the collection that matches the filter."""
        ...

    def scroll(
        self,
        collection: str,
        *,
        filters: Filters | None = None,
        page_size: int = 256,
        with_vectors: bool = False,
        payload_fields: Sequence[str] | None = None,
    ) -> Iterator[VectorRecord]:
        """Every point (matching the filter when given), a page at a time; vectors and payload fields on request."""
        ...

    def search(
        self,
        collection: str,
        vector: Sequence[float],
        *,
        k: int = 5,
        filters: Filters | None = None,
        with_payload: bool = True,
    ) -> list[SearchHit]:
        """The k nearest points to the dense vector, among those matching the filter.

        `with_payload=False`: ids and scores only (empty payloads), for ranking; fetching payloads is most of a
        query's time.
        """
        ...

    def hybrid_search(
        self,
        collection: str,
        vector: Sequence[float],
        sparse: SparseVector,
        *,
        k: int = 5,
        filters: Filters | None = None,
        candidates: int = 50,
        with_payload: bool = True,
    ) -> list[SearchHit]:
        """Dense and sparse candidates (`candidates` each, filtered), fused by reciprocal rank; the top k.

        `with_payload=False`: ids and scores only, as for search.
        """
        ...

    def retrieve(self, collection: str, ids: Sequence[UUID]) -> list[VectorRecord]:
        """The points with these ids and their payloads (no vectors), in the order given; missing ids are skipped."""
        ...

    def sparse_search(
        self,
        collection: str,
        sparse: SparseVector,
        *,
        k: int = 5,
        filters: Filters | None = None,
        with_payload: bool = True,
    ) -> list[SearchHit]:
        """The k best points by BM25 (sparse dot product with the store's IDF), among those matching the filter.

        `with_payload=False`: ids and scores only, as for search.
        """
        ...

    def count(self, collection: str, filters: Filters | None = None) -> int:
        """How many points of the collection match the filter (all when None)."""
        ...

    def optimize(self, collection: str) -> None:
        """Build the indexes after a bulk load, so queries are fast; a no-op where the server does it itself."""
        ...


class Embedder(Protocol):
    """Turns texts into fixed-size vectors."""

    @property
    def model_id(self) -> str:
        """The embedding model's id, recorded with the features it makes."""
        ...

    @property
    def variant(self) -> str:
        """How the vectors are computed (engine and precision), recorded with the features it makes."""
        ...

    @property
    def dimension(self) -> int:
        """The length of every vector the model returns."""
        ...

    @property
    def max_input_tokens(self) -> int:
        """The longest input, in tokens, the model embeds without truncating."""
        ...

    @property
    def tokenizer_json(self) -> str:
        """The model's Hugging Face tokenizer as JSON, so chunking counts the tokens the model sees."""
        ...

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> list[list[float]]:
        """One vector per text, in order, computed `batch_size` texts at a time."""
        ...


class SparseEmbedder(Protocol):
    """Turns texts into sparse lexical vectors (BM25 term weights) for hybrid search."""

    @property
    def scheme(self) -> str:
        """What makes the vectors (model, its settings and version): stored features record it."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        """One sparse vector per stored text (term frequencies the store weighs by IDF)."""
        ...

    def embed_query(self, text: str) -> SparseVector:
        """The sparse vector of a query, matched against the documents' vectors."""
        ...


@dataclass(frozen=True)
class ChatMessage:
    """One turn of a chat conversation."""

    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class TokenUsage:
    """What one answer cost in tokens, and why it ended: "stop" (the model or a stop string) or "length" (max tokens).

    An answer stream that knows it (the local engines) has it as its `usage` attribute once it is exhausted.
    """

    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"

    @property
    def total_tokens(self) -> int:
        """Prompt and completion together."""
        return self.prompt_tokens + self.completion_tokens


def reported_usage(pieces: object) -> TokenUsage | None:
    """The usage an answer stream reports once exhausted; None from a stream that does not count its tokens."""
    usage = getattr(pieces, "usage", None)
    return usage if isinstance(usage, TokenUsage) else None


def finish_reason(completion_tokens: int, max_new_tokens: int, *, stopped_early: bool) -> str:
    """The reason an answer ended: "length" when it used its whole token budget and nothing else ended it."""
    return "length" if completion_tokens >= max_new_tokens and not stopped_early else "stop"


@dataclass(frozen=True)
class GenerationParams:
    """Decoding parameters shared by every LLM backend; temperature 0 means greedy and deterministic."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    # Repetition control against greedy loops; the defaults (1.0, 0) leave decoding as it is. Local transformers
    # honours both; a TGI endpoint the penalty only; OpenAI-compatible servers neither.
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    # Strings that end the answer where they first appear (left out of it); honoured by the local engines and the
    # OpenAI-compatible API.
    stop: tuple[str, ...] = ()

    def repetition_controls(self) -> dict[str, float | int]:
        """The repetition controls that are on, by the names transformers' generate() takes (none at defaults)."""
        controls: dict[str, float | int] = {}
        if self.repetition_penalty != 1.0:
            controls["repetition_penalty"] = self.repetition_penalty
        if self.no_repeat_ngram_size > 0:
            controls["no_repeat_ngram_size"] = self.no_repeat_ngram_size
        return controls


class LLMClient(Protocol):
    """A chat LLM: local transformers, an OpenAI-compatible endpoint or a SageMaker TGI endpoint."""

    @property
    def backend(self) -> str:
        """Which kind of backend answers (e.g. local, openai, sagemaker), for logs and traces."""
        ...

    @property
    def model_id(self) -> str:
        """The model (or endpoint) that answers, recorded with each answer."""
        ...

    def generate(self, conversations: Sequence[Sequence[ChatMessage]], params: GenerationParams) -> list[str]:
        """One completion per conversation, in order; raises LLMError after the configured retries."""
        ...


class StreamingLLM(Protocol):
    """A chat LLM that streams one answer's text pieces; closing the iterator stops the generation."""

    @property
    def model_id(self) -> str:
        """The model that answers, recorded with each answer."""
        ...

    def stream(self, conversation: Sequence[ChatMessage], params: GenerationParams) -> Iterator[str]:
        """The completion's text as it is generated, piece by piece."""
        ...


class TokenCounter(Protocol):
    """Counts tokens as the answering model sees them, so the retrieved context fits its window."""

    @property
    def context_tokens(self) -> int | None:
        """The model's context window in tokens, when it states one."""
        ...

    def count_tokens(self, text: str) -> int:
        """The number of tokens the answering model sees for this text."""
        ...


class Reranker(Protocol):
    """Scores (query, passage) pairs jointly, e.g. a trained cross-encoder; higher means more relevant."""

    @property
    def model_id(self) -> str:
        """The reranking model's id, recorded with its scores."""
        ...

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        """One relevance score per passage for the query, in order; higher means more relevant."""
        ...
