"""ContextRetriever: self-query, expansion, hybrid search in the vector store across collections, rerank, budget.

Per collection, one engine query fuses dense and BM25 candidates by reciprocal rank: that is where each collection's
candidates come from. They are then ranked together by one reciprocal-rank fusion of a global dense ranking (cosine)
and a global lexical ranking (BM25), not by the collections' own fused scores: those are rank-based, so the top chunk
of a small collection would tie with the top article however weak it is. The dense and lexical scores come from the
same two candidate lists run alone (two more queries per collection, ~1 ms on Qdrant Edge). Candidates are ids and
scores only: the chunks' payloads are fetched for the few that make the final ranking.
"""

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from loguru import logger

from llm_engineering.application.rag.context import pack_context
from llm_engineering.application.rag.query_expansion import expand_to_n_queries
from llm_engineering.application.rag.reranker import rerank
from llm_engineering.application.rag.self_query import AuthorMatch, find_author
from llm_engineering.domain.documents import UserDocument
from llm_engineering.domain.exceptions import IncompatibleFeatureStoreError, InvalidQueryError
from llm_engineering.domain.ports import (
    DocumentRepository,
    Embedder,
    LLMClient,
    Reranker,
    SparseEmbedder,
    SparseVector,
    TokenCounter,
    VectorStore,
)
from llm_engineering.domain.rag import ContextChunk, Retrieval, StageTime
from llm_engineering.domain.types import DataCategory

# Below this share of letters in a script the embedder reads, a query is refused rather than matched at random.
_MIN_READABLE_SHARE = 0.5
# What each numbered passage costs in the prompt besides its text: its number, category and link.
PASSAGE_OVERHEAD_TOKENS = 24
# The reciprocal-rank-fusion constant of the ranking across collections: the stores' (Qdrant's usual 60).
RRF_K = 60


@dataclass(frozen=True)
class RetrieverConfig:
    """How much to retrieve and how.

    Results kept, candidates per search, expansions, rerank pool, the longest question, whether to look for an
    author in the question (self-query), and the context's token budget.
    """

    k: int = 5
    candidates: int = 50
    expand_to_n_queries: int = 1
    rerank_candidates: int = 20
    max_query_chars: int = 4000
    self_query: bool = True
    context_budget_tokens: int | None = None
    readable_scripts: tuple[str, ...] = ("LATIN",)
    categories: tuple[DataCategory, ...] = field(default_factory=lambda: tuple(DataCategory))


def check_query(query: str, config: RetrieverConfig, embedder_id: str) -> str:
    """The query stripped, or InvalidQueryError saying what to change: empty, too long, or unreadable."""
    text = query.strip()
    if not text:
        raise InvalidQueryError("The question is empty; ask something about the author's writing.")
    if len(text) > config.max_query_chars:
        raise InvalidQueryError(
            f"The question has {len(text)} characters, more than the {config.max_query_chars} allowed; shorten it."
        )
    letters = [c for c in text if c.isalpha()]
    if not letters:
        raise InvalidQueryError("The question has no words in it; ask it in words.")
    readable = sum(1 for c in letters if unicodedata.name(c, "").split(" ")[0] in config.readable_scripts)
    if readable / len(letters) < _MIN_READABLE_SHARE:
        raise InvalidQueryError(
            f"The question is written in a script the embedding model {embedder_id} cannot read "
            f"(it reads {', '.join(config.readable_scripts).lower()} script); ask it in English."
        )
    return text


def _lap(stages: dict[str, StageTime], stage: str, started: datetime) -> datetime:
    """Record that the stage ran from `started` until now; the time the next stage starts from."""
    now = datetime.now(UTC)
    stages[stage] = StageTime(started, now)
    return now


@dataclass(frozen=True)
class Candidate:
    """A chunk one search found in its category's collection, by id and scores; its text is fetched if it is kept."""

    chunk_id: str
    category: DataCategory
    # "dense" (cosine) and "lexical" (BM25) where the chunk was in that side's list; "fused" once ranked.
    scores: dict[str, float] = field(default_factory=dict)


def _chunk(payload: dict[str, Any], candidate: Candidate) -> ContextChunk:
    return ContextChunk(
        chunk_id=candidate.chunk_id,
        document_id=str(payload["document_id"]),
        category=DataCategory(payload["category"]),
        author_full_name=str(payload["author_full_name"]),
        link=str(payload["link"]),
        content=str(payload["content"]),
        scores=dict(candidate.scores),
    )


class ContextRetriever:
    """Ranked context for a question from the feature store; depends on ports only, reads and never writes."""

    def __init__(
        self,
        *,
        store: VectorStore,
        embedder: Embedder,
        sparse_embedder: SparseEmbedder,
        authors: DocumentRepository,
        config: RetrieverConfig,
        token_counter: TokenCounter | None = None,
        reranker: Reranker | None = None,
        llm: LLMClient | None = None,
    ) -> None:
        """`llm` (a configured, non-local LLM) enables LLM author extraction and expansion; `reranker` reranking."""
        self._store = store
        self._embedder = embedder
        self._sparse = sparse_embedder
        self._authors = authors
        self._config = config
        self._counter = token_counter
        self._reranker = reranker
        self._llm = llm
        self._store_checked = False

    @property
    def config(self) -> RetrieverConfig:
        """The retrieval settings this retriever runs with."""
        return self._config

    def check_feature_store(self) -> None:
        """Refuse a store built with another embedding model, variant or sparse scheme: its vectors would not match."""
        expected = {
            "embedding_model_id": self._embedder.model_id,
            "embedding_variant": self._embedder.variant,
            "sparse_scheme": self._sparse.scheme,
        }
        for category in self._config.categories:
            collection = category.embedded_collection
            for record in self._store.scroll(collection, page_size=1, payload_fields=list(expected)):
                found = {name: record.payload.get(name) for name in expected}
                if found != expected:
                    raise IncompatibleFeatureStoreError(
                        f"The feature store's {collection} was built with embedding model "
                        f"{found['embedding_model_id']} ({found['embedding_variant']}) and sparse scheme "
                        f"{found['sparse_scheme']}, but retrieval uses {expected['embedding_model_id']} "
                        f"({expected['embedding_variant']}) and {expected['sparse_scheme']}. Rebuild it: "
                        "poe run-feature-engineering-pipeline (a changed model or scheme rebuilds automatically; "
                        "otherwise set full: true in configs/feature_engineering.yaml)."
                    )
                break
        self._store_checked = True

    def resolve_author(self, query: str, author_full_name: str | None, notes: list[str]) -> AuthorMatch | None:
        """The author asked for by name, else the one the question names; an unknown name is noted and ignored."""
        if author_full_name is None and not self._config.self_query:
            return None
        users: Sequence[UserDocument] = self._authors.list_users()
        if author_full_name is None:
            return find_author(query, users, llm=self._llm)
        wanted = " ".join(author_full_name.split()).casefold()
        for user in users:
            if user.full_name.casefold() == wanted:
                return AuthorMatch(author=user, matched_on="given")
        notes.append(f"unknown author {author_full_name!r}: searched every author")
        return None

    def search(self, query: str, *, k: int | None = None, author_full_name: str | None = None) -> Retrieval:
        """Self-query, expand, hybrid-search every collection, merge, rerank, and keep what fits the budget."""
        text = check_query(query, self._config, self._embedder.model_id)
        if not self._store_checked:
            self.check_feature_store()
        wanted = k if k is not None else self._config.k
        if wanted < 1:
            raise InvalidQueryError(f"k must be at least 1, got {wanted}.")
        notes: list[str] = []
        timings: dict[str, StageTime] = {}
        started = datetime.now(UTC)
        match = self.resolve_author(text, author_full_name, notes)
        if match is not None:
            notes.append(f"self-query: {match.author.full_name} (matched on {match.matched_on})")
        queries = expand_to_n_queries(text, self._config.expand_to_n_queries, self._llm)
        started = _lap(timings, "self-query", started)
        candidates = self._hybrid(queries, {"author_id": str(match.author.id)} if match else None)
        pool = max(self._config.rerank_candidates, wanted) if self._reranker is not None else wanted
        ranked = self._load(candidates[:pool])
        started = _lap(timings, "retrieval", started)
        if self._reranker is not None:
            ranked = rerank(text, ranked, self._reranker)
        else:
            notes.append("no reranker: ranked by fused score")
        chunks = ranked[:wanted]
        if self._config.context_budget_tokens is not None and self._counter is not None:
            packed = pack_context(
                chunks, self._config.context_budget_tokens, self._counter, overhead_tokens=PASSAGE_OVERHEAD_TOKENS
            )
            if len(packed) < len(chunks):
                notes.append(
                    f"kept {len(packed)} of {len(chunks)} chunks: the context budget is "
                    f"{self._config.context_budget_tokens} tokens"
                )
            chunks = packed
        _lap(timings, "rerank", started)
        if not chunks:
            notes.append("no context found")
        logger.debug("Retrieved {} chunks for {!r} ({}).", len(chunks), text[:80], "; ".join(notes))
        return Retrieval(
            query=text,
            author_full_name=match.author.full_name if match else None,
            queries=queries,
            chunks=chunks,
            notes=notes,
            stage_times=timings,
        )

    def _hybrid(self, queries: list[str], filters: dict[str, str] | None) -> list[Candidate]:
        """Every query against every collection: each collection's fused candidates, ranked by fuse_across_collections.

        A candidate carries the scores it has in the collection's dense and lexical candidate lists run alone. Every
        list holds ids and scores only.
        """
        vectors = self._embedder.embed(queries)
        candidates = self._config.candidates
        searches: list[list[Candidate]] = []
        for query, vector in zip(queries, vectors, strict=True):
            sparse: SparseVector = self._sparse.embed_query(query)
            found: list[Candidate] = []
            for category in self._config.categories:
                collection = category.embedded_collection
                dense = self._store.search(collection, vector, k=candidates, filters=filters, with_payload=False)
                if not sparse.indices:
                    # No query term is in the BM25 vocabulary: the dense list alone is the collection's candidates.
                    found += [Candidate(str(hit.record.id), category, {"dense": hit.score}) for hit in dense]
                    continue
                lexical = self._store.sparse_search(
                    collection, sparse, k=candidates, filters=filters, with_payload=False
                )
                sides = {
                    "dense": {hit.record.id: hit.score for hit in dense},
                    "lexical": {hit.record.id: hit.score for hit in lexical},
                }
                for hit in self._store.hybrid_search(
                    collection, vector, sparse, k=candidates, filters=filters, candidates=candidates, with_payload=False
                ):
                    scores = {kind: by_id[hit.record.id] for kind, by_id in sides.items() if hit.record.id in by_id}
                    found.append(Candidate(str(hit.record.id), category, scores))
            searches.append(found)
        return fuse_across_collections(searches)

    def _load(self, candidates: Sequence[Candidate]) -> list[ContextChunk]:
        """The candidates' chunks with their payloads, in rank order; one that was deleted meanwhile is skipped."""
        payloads: dict[str, dict[str, Any]] = {}
        for category in {candidate.category for candidate in candidates}:
            ids = [UUID(c.chunk_id) for c in candidates if c.category is category]
            payloads |= {str(r.id): r.payload for r in self._store.retrieve(category.embedded_collection, ids)}
        return [_chunk(payloads[c.chunk_id], c) for c in candidates if c.chunk_id in payloads]


def fuse_across_collections(searches: Iterable[Sequence[Candidate]], rrf_k: int = RRF_K) -> list[Candidate]:
    """One ranking of every collection's candidates, best first, one entry per chunk id.

    Each search is one query's candidates from every collection, with their "dense" (cosine) and "lexical" (BM25)
    scores where they have them. Per search, the candidates are ranked once by dense score and once by lexical
    score across all collections; a chunk's "fused" score is the sum of 1 / (rrf_k + rank) over every ranking it is
    in (queries included). Its dense and lexical scores are the best it had. Ties go to the better dense score, then
    to the chunk id, so the order is reproducible.
    """
    fused: dict[str, float] = {}
    merged: dict[str, Candidate] = {}
    for search in searches:
        best: dict[str, Candidate] = {}
        for candidate in search:
            best[candidate.chunk_id] = _best_scores(best.get(candidate.chunk_id), candidate)
        for kind in ("dense", "lexical"):
            listed = [candidate for candidate in best.values() if kind in candidate.scores]
            listed.sort(key=lambda candidate: (-candidate.scores[kind], candidate.chunk_id))
            for rank, candidate in enumerate(listed, start=1):
                fused[candidate.chunk_id] = fused.get(candidate.chunk_id, 0.0) + 1.0 / (rrf_k + rank)
        for chunk_id, candidate in best.items():
            merged[chunk_id] = _best_scores(merged.get(chunk_id), candidate)
    ranked = [replace(c, scores=c.scores | {"fused": fused.get(c.chunk_id, 0.0)}) for c in merged.values()]
    return sorted(ranked, key=lambda c: (-c.scores["fused"], -c.scores.get("dense", -1.0), c.chunk_id))


def _best_scores(known: Candidate | None, candidate: Candidate) -> Candidate:
    """The candidate with, for each kind of score, the better of the two it was seen with."""
    if known is None:
        return candidate
    scores = dict(known.scores)
    for kind, value in candidate.scores.items():
        scores[kind] = max(value, scores.get(kind, value))
    return replace(known, scores=scores)
