"""KeyBERT-style keyphrases with the hashing embedder fake (shared words mean similarity)."""

from llm_engineering.application.dataset.keyphrases import candidate_phrases, keyphrases
from tests.fakes import HashingEmbedder


def test_candidates_stay_inside_a_clause_and_hold_no_stopword() -> None:
    found = candidate_phrases("Your dbt project has 900 models. Nobody reads the lineage graph!")
    assert "dbt project" in found and "lineage graph" in found and "nobody reads" in found
    assert not any(phrase.startswith(("your", "the")) for phrase in found)
    assert "models nobody" not in found  # crosses a sentence end
    assert candidate_phrases("a I of the") == []


def test_keyphrases_are_close_to_the_text_and_share_no_word() -> None:
    texts = [
        "Warehouse costs: the warehouse bill doubled because every dashboard query scanned the warehouse.",
        "Kafka streaming is rarely needed; a nightly batch job beats Kafka streaming for most teams.",
    ]
    [first, second] = keyphrases(HashingEmbedder(), texts, top_n=2)
    assert len(first) == len(second) == 2
    assert "warehouse" in first[0] and "kafka" in " ".join(second)
    for chosen in (first, second):
        assert not set(chosen[0].split()) & set(chosen[1].split())
