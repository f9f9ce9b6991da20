"""The promotion rule: better by the margin promotes; worse, equal or better by too little does not."""

import pytest

from llm_engineering.model.evaluation.config import PromotionSection
from llm_engineering.model.evaluation.evaluator import ModelScores
from llm_engineering.model.evaluation.promotion import decide_from_scores, decide_promotion


def test_lower_perplexity_by_more_than_the_margin_promotes() -> None:
    decision = decide_promotion("perplexity", 8.0, 10.0, 0.02, "production (version 1)")
    assert decision.promote
    assert "candidate perplexity 8 vs production (version 1) 10" in decision.reason


def test_worse_perplexity_is_refused_with_both_numbers() -> None:
    decision = decide_promotion("perplexity", 12.0, 10.0, 0.02, "production (version 1)")
    assert not decision.promote
    assert decision.reason.startswith("not promoted: candidate perplexity 12 vs production (version 1) 10")


def test_equal_is_refused_even_with_no_margin() -> None:
    assert not decide_promotion("perplexity", 10.0, 10.0, 0.0, "base").promote
    assert not decide_promotion("rouge_l", 0.3, 0.3, 0.0, "base").promote


def test_better_by_less_than_the_margin_is_refused() -> None:
    assert not decide_promotion("perplexity", 9.9, 10.0, 0.02, "base").promote
    assert decide_promotion("perplexity", 9.8, 10.0, 0.02, "base").promote


@pytest.mark.parametrize(("candidate", "promote"), [(0.31, True), (0.302, False), (0.25, False)])
def test_higher_is_better_measures(candidate: float, promote: bool) -> None:
    assert decide_promotion("rouge_l", candidate, 0.30, 0.02, "base").promote is promote


def test_with_no_production_the_base_is_the_reference() -> None:
    decision = decide_promotion("style_similarity", 0.6, 0.5, 0.02, "base model")
    assert decision.promote
    assert decision.reference_label == "base model"
    assert "higher is better" in decision.reason


def scores(**perplexities: float | None) -> list[ModelScores]:
    return [
        ModelScores(role=role, label=role, version=None if role == "base" else 1, measures={"perplexity": value})  # type: ignore[arg-type]
        for role, value in perplexities.items()
    ]


def test_the_reference_is_production_when_measured_else_the_base() -> None:
    section = PromotionSection(metric="perplexity", min_improvement=0.02)
    against_production = decide_from_scores(scores(base=20.0, production=9.0, candidate=9.5), section, False)
    assert not against_production.promote and against_production.reference == 9.0
    against_base = decide_from_scores(scores(base=20.0, candidate=9.5), section, False)
    assert against_base.promote and against_base.reference_label == "the base model"


def test_a_candidate_already_in_production_or_without_the_measure_is_not_promoted() -> None:
    section = PromotionSection(metric="perplexity", min_improvement=0.02)
    assert "already in production" in decide_from_scores(scores(base=20.0, candidate=5.0), section, True).reason
    missing = decide_from_scores(scores(base=20.0, candidate=None), section, False)
    assert not missing.promote and "not measured" in missing.reason
