"""Retrieval-augmented answers in the domain's terms: what a question retrieved, and the port to ask the twin.

The REST service and the CLI use the port; the RAG use case implements it; nothing here does I/O.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.domain.types import DataCategory


@dataclass(frozen=True)
class ContextChunk:
    """One retrieved chunk of the author's writing, with the scores that ranked it."""

    chunk_id: str
    document_id: str
    category: DataCategory
    author_full_name: str
    link: str
    content: str
    # "dense", "lexical", "fused" and, when a cross-encoder ran, "rerank"; higher is better.
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class StageTime:
    """When one stage of the RAG core ran, on the wall clock (UTC)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Retrieval:
    """What one question retrieved: the author it is about (self-query), the queries searched, the chunks kept."""

    query: str
    author_full_name: str | None
    queries: list[str]
    chunks: list[ContextChunk]
    notes: list[str] = field(default_factory=list)  # e.g. "no reranker configured: ranked by fused score"
    # When each stage ran, in order: "self-query", "retrieval", "rerank"; empty when not recorded.
    stage_times: dict[str, StageTime] = field(default_factory=dict)


@dataclass(frozen=True)
class ReadinessCheck:
    """One dependency's state for GET /ready: whether it answers now, and what it said (or why not)."""

    ready: bool
    message: str


class TwinAnswerer(Protocol):
    """The twin behind the REST service and `llm-twin ask`: retrieve context, then stream an answer grounded in it."""

    @property
    def model_name(self) -> str:
        """What answers, as people should see it: "TwinLlama:3 (production)" or the base model's id."""
        ...

    @property
    def serving(self) -> dict[str, str]:
        """How the answering model runs ("engine", and a "note" that says why that engine), for GET /ready."""
        ...

    def retrieve(self, query: str, *, k: int | None = None, author_full_name: str | None = None) -> Retrieval:
        """Ranked context for the query; raises ValueError for an empty or over-long query."""
        ...

    def stream_answer(
        self, retrieval: Retrieval, history: Sequence[ChatMessage], params: GenerationParams
    ) -> Iterator[str]:
        """The answer's text pieces as they are generated; closing the iterator stops the generation."""
        ...

    def readiness(self) -> dict[str, ReadinessCheck]:
        """Each dependency's state right now: "warehouse", "vector_store", "model", and "engine" when one answers."""
        ...
