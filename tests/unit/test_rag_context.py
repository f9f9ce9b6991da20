"""The context budget and the ranking across collections: whole chunks in rank order, fusion order, one per chunk."""

from collections.abc import Sequence

import pytest

from llm_engineering.application.rag.context import context_budget, pack_context
from llm_engineering.application.rag.query_expansion import expand_to_n_queries
from llm_engineering.application.rag.reranker import rerank
from llm_engineering.application.rag.retriever import (
    RRF_K,
    Candidate,
    RetrieverConfig,
    check_query,
    fuse_across_collections,
)
from llm_engineering.domain.exceptions import InvalidQueryError
from llm_engineering.domain.rag import ContextChunk
from llm_engineering.domain.types import DataCategory
from tests.unit.test_rag_self_query import AnsweringLLM


class WordCounter:
    """A TokenCounter of one token per word, with a stated window."""

    def __init__(self, context_tokens: int | None = 100) -> None:
        self._context_tokens = context_tokens

    @property
    def context_tokens(self) -> int | None:
        return self._context_tokens

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class LengthReranker:
    """A Reranker that prefers longer passages."""

    @property
    def model_id(self) -> str:
        return "length"

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        return [float(len(passage)) for passage in passages]


def chunk(chunk_id: str, words: int = 1, category: DataCategory = DataCategory.POSTS, **scores: float) -> ContextChunk:
    return ContextChunk(
        chunk_id=chunk_id,
        document_id=f"doc-{chunk_id}",
        category=category,
        author_full_name="Maya Okafor",
        link=f"https://example.com/{chunk_id}",
        content=" ".join(["word"] * words),
        scores=scores,
    )


def candidate(chunk_id: str, category: DataCategory = DataCategory.POSTS, **scores: float) -> Candidate:
    return Candidate(chunk_id=chunk_id, category=category, scores=scores)


def test_whole_chunks_are_kept_in_rank_order_until_the_budget_is_full() -> None:
    ranked = [chunk("a", 40), chunk("b", 50), chunk("c", 20), chunk("d", 5)]
    # "d" would still fit after "c" overflows, but a lower-ranked chunk never jumps ahead: the context ends at "b".
    assert [c.chunk_id for c in pack_context(ranked, 100, WordCounter())] == ["a", "b"]
    assert [c.chunk_id for c in pack_context(ranked, 115, WordCounter())] == ["a", "b", "c", "d"]
    assert [c.chunk_id for c in pack_context(ranked, 89, WordCounter())] == ["a"]
    assert [c.chunk_id for c in pack_context(ranked, 95, WordCounter(), overhead_tokens=3)] == ["a"]
    assert pack_context(ranked, 10, WordCounter()) == []


def test_the_budget_is_the_window_minus_answer_and_prompt_capped() -> None:
    assert context_budget(WordCounter(2048), answer_tokens=512, prompt_tokens=100, cap=4000) == 1436
    assert context_budget(WordCounter(8192), answer_tokens=512, prompt_tokens=100, cap=1536) == 1536
    assert context_budget(WordCounter(None), answer_tokens=512, prompt_tokens=100, cap=700) == 700
    with pytest.raises(ValueError, match="API_MAX_NEW_TOKENS"):
        context_budget(WordCounter(600), answer_tokens=512, prompt_tokens=100, cap=700)


def test_a_small_collections_top_chunk_no_longer_ties_with_the_top_article() -> None:
    articles = [
        candidate("article-1", category=DataCategory.ARTICLES, dense=0.82, lexical=9.0),
        candidate("article-2", category=DataCategory.ARTICLES, dense=0.78, lexical=7.5),
    ]
    # The repository's only candidate is weak on both sides, yet the best its collection has.
    repositories = [candidate("repo-1", category=DataCategory.REPOSITORIES, dense=0.31, lexical=1.2)]
    # Fused within its own collection, as Qdrant does per collection, it scores exactly as high as the top article.
    [top_article, _] = fuse_across_collections([articles])
    [top_repository] = fuse_across_collections([repositories])
    assert top_repository.scores["fused"] == top_article.scores["fused"]
    ranked = fuse_across_collections([articles + repositories])
    assert [c.chunk_id for c in ranked] == ["article-1", "article-2", "repo-1"]
    assert ranked[2].scores["fused"] < ranked[1].scores["fused"] < ranked[0].scores["fused"]
    assert ranked[0].scores == pytest.approx({"dense": 0.82, "lexical": 9.0, "fused": 2 / (RRF_K + 1)})


def test_a_chunk_both_sides_found_outranks_one_only_the_best_side_found() -> None:
    ranked = fuse_across_collections(
        [
            [
                candidate("dense-best", category=DataCategory.ARTICLES, dense=0.9),
                candidate("both", dense=0.6, lexical=3.0),
                candidate("lexical-best", category=DataCategory.REPOSITORIES, lexical=12.0),
            ]
        ]
    )
    assert [c.chunk_id for c in ranked] == ["both", "dense-best", "lexical-best"]
    assert "lexical" not in ranked[1].scores and "dense" not in ranked[2].scores


def test_queries_add_up_per_chunk_with_its_best_scores_and_one_entry_each() -> None:
    first = [candidate("post-1", dense=0.7, lexical=2.0), candidate("post-2", dense=0.8)]
    second = [candidate("post-1", dense=0.75, lexical=1.0), candidate("post-3", dense=0.5)]
    ranked = fuse_across_collections([first, second])
    assert [c.chunk_id for c in ranked] == ["post-1", "post-2", "post-3"]
    # Dense rank 2 and lexical rank 1 for the first query, rank 1 on both sides for the second.
    assert ranked[0].scores == pytest.approx(
        {"dense": 0.75, "lexical": 2.0, "fused": 1 / (RRF_K + 2) + 3 / (RRF_K + 1)}
    )


def test_fused_ties_go_to_the_better_dense_score_then_the_chunk_id() -> None:
    # "b" is first by dense, "a" first by lexical: the same fused score.
    ranked = fuse_across_collections([[candidate("a", dense=0.1, lexical=5.0), candidate("b", dense=0.5, lexical=1.0)]])
    assert ranked[0].scores["fused"] == ranked[1].scores["fused"]
    assert [c.chunk_id for c in ranked] == ["b", "a"]
    assert [c.chunk_id for c in fuse_across_collections([[candidate("y", dense=0.4), candidate("x", dense=0.4)]])] == [
        "x",
        "y",
    ]


def test_rerank_orders_by_the_rerankers_score_and_keeps_it() -> None:
    ranked = rerank("q", [chunk("short", 1, fused=0.03), chunk("long", 9, fused=0.01)], LengthReranker())
    assert [c.chunk_id for c in ranked] == ["long", "short"]
    assert ranked[0].scores["rerank"] == len(" ".join(["word"] * 9)) and ranked[0].scores["fused"] == 0.01


def test_bad_queries_get_a_clear_error() -> None:
    config = RetrieverConfig(max_query_chars=50)
    assert check_query("  How do you cut GPU costs?  ", config, "minilm") == "How do you cut GPU costs?"
    with pytest.raises(InvalidQueryError, match="empty"):
        check_query("   ", config, "minilm")
    with pytest.raises(InvalidQueryError, match="more than the 50"):
        check_query("why " * 20, config, "minilm")
    with pytest.raises(InvalidQueryError, match="cannot read"):
        check_query("如何降低GPU成本", config, "minilm")
    with pytest.raises(InvalidQueryError, match="no words"):
        check_query("?!? 42", config, "minilm")


def test_expansion_is_the_question_alone_without_an_llm_and_distinct_rewrites_with_one() -> None:
    assert expand_to_n_queries("GPU costs?", 3, None) == ["GPU costs?"]
    assert expand_to_n_queries("GPU costs?", 1, AnsweringLLM("x")) == ["GPU costs?"]
    rewrites = "How to cut GPU spend? #next-question# gpu costs? #next-question# Cheaper GPUs? #next-question# x"
    llm = AnsweringLLM(rewrites)
    assert expand_to_n_queries("GPU costs?", 3, llm) == ["GPU costs?", "How to cut GPU spend?", "Cheaper GPUs?"]
