"""Objective measures of a model's answers against the author's held-out text; none needs an API key.

ROUGE-L comes from `rouge-score` and BLEU from `sacrebleu` (kept libraries, not our own n-gram code); style
similarity uses the project's embedding model, passed in through the Embedder port; perplexity lives with the
training code (`finetuning.perplexity`) and is reused from there.
"""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from llm_engineering.domain.ports import Embedder

# An answer whose word trigrams are less than half distinct is stuck in a loop ("the model the model the model").
MIN_DISTINCT_TRIGRAM_SHARE = 0.5


def rouge_l(answers: Sequence[str], references: Sequence[str]) -> float:
    """Mean ROUGE-L F1 (stemmed) of each answer against its reference, in [0, 1]."""
    from rouge_score import rouge_scorer

    _same_length(answers, references)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    scores = [
        scorer.score(reference, answer)["rougeL"].fmeasure
        for answer, reference in zip(answers, references, strict=True)
    ]
    return statistics.fmean(scores)


def bleu(answers: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (sacrebleu's default 13a tokenisation), in [0, 100]."""
    import sacrebleu

    _same_length(answers, references)
    return float(sacrebleu.corpus_bleu(list(answers), [list(references)]).score)


def style_similarity(answers: Sequence[str], author_texts: Sequence[str], embedder: Embedder) -> float:
    """Mean cosine between each answer's embedding and the centroid of the author's held-out texts, in [-1, 1]."""
    if not answers or not author_texts:
        raise ValueError("Style similarity needs at least one answer and one author text; the test split is empty.")
    centroid = _centroid([_unit(vector) for vector in embedder.embed(list(author_texts))])
    return statistics.fmean(_cosine(_unit(vector), centroid) for vector in embedder.embed(list(answers)))


def is_degenerate(answer: str) -> bool:
    """Empty, or repeating itself: fewer than half of its word trigrams are distinct."""
    words = answer.split()
    if not words:
        return True
    trigrams = [tuple(words[index : index + 3]) for index in range(len(words) - 2)]
    if len(trigrams) < 3:
        return False
    return len(set(trigrams)) / len(trigrams) < MIN_DISTINCT_TRIGRAM_SHARE


@dataclass(frozen=True)
class LengthStats:
    """Answer lengths in words, and the share of empty or degenerate answers."""

    mean_words: float
    median_words: float
    min_words: int
    max_words: int
    empty_share: float
    degenerate_share: float


def length_stats(answers: Sequence[str]) -> LengthStats:
    """Length statistics of the answers; an empty answer is also counted as degenerate."""
    if not answers:
        raise ValueError("No answers to measure; the test split is empty.")
    lengths = [len(answer.split()) for answer in answers]
    return LengthStats(
        mean_words=statistics.fmean(lengths),
        median_words=float(statistics.median(lengths)),
        min_words=min(lengths),
        max_words=max(lengths),
        empty_share=sum(1 for length in lengths if length == 0) / len(lengths),
        degenerate_share=sum(1 for answer in answers if is_degenerate(answer)) / len(answers),
    )


def _same_length(answers: Sequence[str], references: Sequence[str]) -> None:
    if len(answers) != len(references):
        raise ValueError(f"{len(answers)} answers for {len(references)} references; each answer needs its reference.")
    if not answers:
        raise ValueError("No answers to measure; the test split is empty.")


def _unit(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(value * value for value in vector))
    return [value / norm for value in vector] if norm > 0 else list(vector)


def _centroid(vectors: Sequence[Sequence[float]]) -> list[float]:
    return [sum(column) / len(vectors) for column in zip(*vectors, strict=True)]


def _cosine(left: Sequence[float], right: Sequence[float]) -> float:
    norm = math.sqrt(sum(value * value for value in left)) * math.sqrt(sum(value * value for value in right))
    if norm == 0:
        return 0.0
    return sum(a * b for a, b in zip(left, right, strict=True)) / norm
