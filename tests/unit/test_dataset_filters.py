from uuid import uuid4

from llm_engineering.application.dataset.filters import (
    FilterConfig,
    copies_answer,
    filter_instruct,
    filter_preference,
    looks_english,
    looks_like_request,
)
from llm_engineering.domain.datasets import InstructSample, PreferenceSample
from llm_engineering.domain.types import DataCategory

CONFIG = FilterConfig(
    min_instruction_chars=10,
    max_instruction_chars=200,
    min_answer_chars=40,
    max_answer_chars=1000,
    max_copy_overlap=0.5,
    near_duplicate_similarity=0.8,
    english_only=True,
)
ANSWER = (
    "We moved the nightly batch to spot instances and wrote a checkpoint every ten minutes, "
    "so a reclaimed machine cost us at most ten minutes of work instead of the whole night."
)


def row(instruction: str, output: str = ANSWER) -> InstructSample:
    return InstructSample(instruction=instruction, output=output, category=DataCategory.ARTICLES, document_id=uuid4())


def test_good_rows_pass_and_counts_add_up() -> None:
    rows = [row("How did you make spot instances safe for nightly training?")]
    kept, counts = filter_instruct(rows, CONFIG)
    assert kept == rows and counts == {"kept": 1}


def test_each_rule_rejects_and_is_counted() -> None:
    rows = [
        row(""),
        row("Why?"),
        row("How did you handle reclaimed machines?", "Too short."),
        row("We moved the nightly batch to spot instances and wrote a checkpoint every ten minutes"),
        row("Wie habt ihr die nächtlichen Trainingsläufe abgesichert, ohne die Kosten zu erhöhen?"),
        row("How did you make spot instances safe?", ANSWER * 20),
        row("The passage is about spot instances and checkpoints."),
    ]
    kept, counts = filter_instruct(rows, CONFIG)
    assert kept == []
    assert counts == {
        "empty": 1,
        "instruction_too_short": 1,
        "answer_too_short": 1,
        "instruction_copies_answer": 1,
        "not_english": 1,
        "answer_too_long": 1,
        "instruction_not_a_request": 1,
        "kept": 0,
    }


def test_exact_and_near_duplicates_are_dropped() -> None:
    first = row("How did you make spot instances safe for nightly training?")
    same = row("How did you make spot instances safe for nightly training?")
    near = row("How did you make spot instances safe for nightly training runs?", ANSWER.replace("whole", "entire"))
    kept, counts = filter_instruct([first, same, near], CONFIG)
    assert kept == [first]
    assert counts["exact_duplicate"] == 1 and counts["near_duplicate"] == 1


def test_requests_are_questions_or_imperatives() -> None:
    assert looks_like_request("Explain how checkpoints make spot instances safe")
    assert looks_like_request("Spot instances for training: worth it?")
    assert not looks_like_request("You've already answered the question.")
    assert not looks_like_request("I'm sorry, as an AI I cannot edit text.")


def test_language_and_copy_heuristics() -> None:
    assert looks_english(ANSWER)
    assert looks_english("def f(x):\n    return x")
    russian = "Это очень длинный текст на русском языке о машинном обучении и данных."  # noqa: RUF001
    assert not looks_english(russian)
    assert copies_answer("spot instances and wrote a checkpoint", ANSWER, 0.5)
    assert not copies_answer("How do you keep nightly training cheap?", ANSWER, 0.5)


def test_preference_applies_the_books_rules_to_chosen() -> None:
    def triple(chosen: str, rejected: str = "A generic answer.") -> PreferenceSample:
        return PreferenceSample(
            prompt="How did you make spot instances safe for nightly training?",
            chosen=chosen,
            rejected=rejected,
            category=DataCategory.POSTS,
            document_id=uuid4(),
        )

    good = triple(ANSWER)
    rows = [
        good,
        triple(ANSWER[:60] + "."),
        triple(ANSWER[0].lower() + ANSWER[1:]),
        triple(ANSWER[:-1] + " and"),
        triple(ANSWER + " Yes.", " "),
    ]
    kept, counts = filter_preference(rows, CONFIG)
    assert kept == [good]
    assert counts["chosen_under_100_chars"] == 1
    assert counts["chosen_not_capitalised"] == 1
    assert counts["chosen_not_a_full_sentence"] == 1
    assert counts["rejected_empty"] == 1
