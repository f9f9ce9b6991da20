"""Each objective measure on hand-made inputs whose answers are known."""

import math

import pytest

from llm_engineering.model.evaluation.measures import (
    bleu,
    is_degenerate,
    length_stats,
    rouge_l,
    style_similarity,
)
from tests.fakes import TableEmbedder


def test_rouge_l_is_one_for_identical_text_and_the_lcs_f1_otherwise() -> None:
    assert rouge_l(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(1.0)
    # LCS of "a c" in "a b c d" is 2: precision 2/2, recall 2/4, F1 2/3; the mean over two rows.
    assert rouge_l(["a c", "x"], ["a b c d", "y"]) == pytest.approx((2 / 3 + 0.0) / 2)


def test_bleu_is_100_for_identical_text_and_0_without_shared_ngrams() -> None:
    assert bleu(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(100.0)
    assert bleu(["completely different words here"], ["the cat sat on the mat"]) == pytest.approx(0.0)


def test_measures_refuse_mismatched_or_empty_inputs() -> None:
    with pytest.raises(ValueError, match="2 answers for 1 references"):
        rouge_l(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="empty"):
        bleu([], [])


def test_style_similarity_is_the_mean_cosine_to_the_centroid_of_the_author_texts() -> None:
    embedder = TableEmbedder(
        {"author 1": [1.0, 0.0], "author 2": [0.0, 1.0], "on style": [1.0, 1.0], "off style": [1.0, -1.0]}
    )
    # Centroid of the unit author vectors: (0.5, 0.5), the diagonal. "on style" lies on it (cos 1), "off" at 90°.
    assert style_similarity(["on style"], ["author 1", "author 2"], embedder) == pytest.approx(1.0)
    assert style_similarity(["off style"], ["author 1", "author 2"], embedder) == pytest.approx(0.0)
    both = style_similarity(["on style", "off style"], ["author 1", "author 2"], embedder)
    assert both == pytest.approx(0.5)
    single = style_similarity(["author 1"], ["author 1", "author 2"], embedder)
    assert single == pytest.approx(1 / math.sqrt(2))


def test_degenerate_answers_are_empty_or_looping() -> None:
    assert is_degenerate("")
    assert is_degenerate("   \n")
    assert is_degenerate("the model the model the model the model the model the model")
    assert not is_degenerate("I measure the GPU bill first, then I decide what to cut.")
    assert not is_degenerate("Yes.")


def test_length_stats_count_words_and_the_empty_and_degenerate_shares() -> None:
    stats = length_stats(["one two three", "", "a b a b a b a b a b", "four words right here"])
    assert stats.mean_words == pytest.approx((3 + 0 + 10 + 4) / 4)
    assert stats.median_words == pytest.approx(3.5)
    assert (stats.min_words, stats.max_words) == (0, 10)
    assert stats.empty_share == pytest.approx(0.25)
    assert stats.degenerate_share == pytest.approx(0.5)
