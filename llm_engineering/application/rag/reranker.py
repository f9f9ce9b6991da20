"""Reranking through the Reranker port: a cross-encoder reads the question and each passage together."""

from collections.abc import Sequence
from dataclasses import replace

from llm_engineering.domain.ports import Reranker
from llm_engineering.domain.rag import ContextChunk


def rerank(query: str, chunks: Sequence[ContextChunk], reranker: Reranker) -> list[ContextChunk]:
    """The chunks ordered by the reranker's score (kept in each chunk's scores as "rerank"), best first."""
    if not chunks:
        return []
    scores = reranker.score(query, [chunk.content for chunk in chunks])
    if len(scores) != len(chunks):
        raise ValueError(f"Reranker {reranker.model_id} returned {len(scores)} scores for {len(chunks)} passages.")
    scored = [
        replace(chunk, scores={**chunk.scores, "rerank": score}) for chunk, score in zip(chunks, scores, strict=True)
    ]
    return sorted(scored, key=lambda chunk: chunk.scores["rerank"], reverse=True)
