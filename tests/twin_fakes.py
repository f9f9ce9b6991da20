"""A scripted TwinAnswerer and a recording Tracer for the service's tests: they implement the ports, nothing more."""

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from llm_engineering.domain.ports import ChatMessage, GenerationParams, TokenUsage, finish_reason
from llm_engineering.domain.rag import ContextChunk, ReadinessCheck, Retrieval, StageTime
from llm_engineering.domain.tracing import RequestTrace
from llm_engineering.domain.types import DataCategory

SCRIPTED_MODEL_NAME = "TwinLlama:scripted (test stand-in, not the real twin)"


def sample_chunks() -> list[ContextChunk]:
    """Two chunks of Maya Okafor's writing, ranked."""
    return [
        ContextChunk(
            chunk_id="chunk-1",
            document_id="doc-1",
            category=DataCategory.ARTICLES,
            author_full_name="Maya Okafor",
            link="http://127.0.0.1:8765/medium/maya/gpu-costs",
            content="Spot instances and checkpoints keep GPU costs down.",
            scores={"dense": 0.8, "lexical": 3.1, "fused": 0.032},
        ),
        ContextChunk(
            chunk_id="chunk-2",
            document_id="doc-2",
            category=DataCategory.POSTS,
            author_full_name="Maya Okafor",
            link="http://127.0.0.1:8765/linkedin/maya/post-3",
            content="Measure before you buy bigger GPUs.",
            scores={"dense": 0.7, "lexical": 2.0, "fused": 0.031},
        ),
    ]


class ScriptedStream:
    """An answer's pieces, one every `delay_s`, each counted as one token, at most `max_new_tokens` of them; `close()`
    stops it and is recorded. Once exhausted, `usage` counts the prompt's words as its tokens, as an engine reports."""

    def __init__(
        self, pieces: Sequence[str], delay_s: float, max_new_tokens: int = 512, prompt_tokens: int = 0
    ) -> None:
        self._pieces = list(pieces)
        self._delay_s = delay_s
        self._max_new_tokens = max_new_tokens
        self._prompt_tokens = prompt_tokens
        self.produced = 0
        self.closed = threading.Event()
        self.usage: TokenUsage | None = None

    def __iter__(self) -> "ScriptedStream":
        return self

    def __next__(self) -> str:
        if self.closed.is_set() or self.produced >= min(len(self._pieces), self._max_new_tokens):
            ended = self.closed.is_set() or self.produced == len(self._pieces)
            reason = finish_reason(self.produced, self._max_new_tokens, stopped_early=ended)
            self.usage = TokenUsage(self._prompt_tokens, self.produced, reason)
            raise StopIteration
        time.sleep(self._delay_s)
        piece = self._pieces[self.produced]
        self.produced += 1
        return piece

    def close(self) -> None:
        self.closed.set()


@dataclass
class ScriptedAnswerer:
    """Implements TwinAnswerer with fixed chunks and pieces; delays, failures and store states are set by tests."""

    pieces: list[str] = field(
        default_factory=lambda: ["Keep ", "GPU ", "costs ", "down ", "with ", "spot ", "instances."]
    )
    chunks: list[ContextChunk] = field(default_factory=sample_chunks)
    piece_delay_s: float = 0.0
    retrieve_delay_s: float = 0.0
    retrieve_error: Exception | None = None
    checks: dict[str, bool] = field(default_factory=lambda: {"warehouse": True, "vector_store": True, "model": True})
    streams: list[ScriptedStream] = field(default_factory=list)
    calls: list[tuple[str, list[ChatMessage], GenerationParams]] = field(default_factory=list)

    @property
    def model_name(self) -> str:
        return SCRIPTED_MODEL_NAME

    def retrieve(self, query: str, *, k: int | None = None, author_full_name: str | None = None) -> Retrieval:
        if not query.strip():
            raise ValueError("the query is empty; ask a question")
        if self.retrieve_delay_s:
            time.sleep(self.retrieve_delay_s)
        if self.retrieve_error is not None:
            raise self.retrieve_error
        started = datetime.now(UTC)
        chunks = self.chunks[:k] if k else list(self.chunks)
        searched = datetime.now(UTC)
        return Retrieval(
            query=query,
            author_full_name=author_full_name or "Maya Okafor",
            queries=[query, f"{query} (expanded)"],
            chunks=chunks,
            notes=["no reranker configured: ranked by fused score"],
            stage_times={
                "self-query": StageTime(started, started),
                "retrieval": StageTime(started, searched),
                "rerank": StageTime(searched, datetime.now(UTC)),
            },
        )

    def stream_answer(
        self, retrieval: Retrieval, history: Sequence[ChatMessage], params: GenerationParams
    ) -> Iterator[str]:
        self.calls.append((retrieval.query, list(history), params))
        prompt_tokens = len(" ".join([retrieval.query, *(message.content for message in history)]).split())
        stream = ScriptedStream(self.pieces, self.piece_delay_s, params.max_new_tokens, prompt_tokens)
        self.streams.append(stream)
        return stream

    @property
    def serving(self) -> dict[str, str]:
        return {"engine": "stand-in"}

    def readiness(self) -> dict[str, ReadinessCheck]:
        return {
            name: ReadinessCheck(ready, "answers" if ready else "does not answer")
            for name, ready in self.checks.items()
        }


@dataclass
class RecordingTracer:
    """Implements Tracer by keeping every trace, so tests read the spans without an Opik server."""

    traces: list[RequestTrace] = field(default_factory=list)
    closed: bool = False

    @property
    def enabled(self) -> bool:
        return True

    def record(self, trace: RequestTrace) -> None:
        self.traces.append(trace)

    def close(self) -> None:
        self.closed = True
