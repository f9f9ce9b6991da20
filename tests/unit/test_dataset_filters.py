import json
from pathlib import Path
from uuid import uuid4

import pytest

from llm_engineering.application.dataset.filters import (
    WORKED_EXAMPLES,
    FilterConfig,
    copies_answer,
    copies_worked_example,
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
# Real replies of the packaged 135M model to the backtranslation prompt (see "source" in the file).
REPLIES = json.loads((Path(__file__).parent.parent / "fixtures" / "smollm2_backtranslation_replies.json").read_text())
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


@pytest.mark.parametrize("reply", [r["instruction"] for r in REPLIES["not_requests"]])
def test_real_small_model_replies_that_are_no_request_are_dropped(reply: str) -> None:
    assert copies_worked_example(reply) or not looks_like_request(reply)


@pytest.mark.parametrize("reply", [r["instruction"] for r in REPLIES["requests"]])
def test_real_small_model_questions_to_the_author_are_kept(reply: str) -> None:
    assert looks_like_request(reply) and not copies_worked_example(reply)


def test_chatter_exclamations_and_prompt_talk_are_not_requests() -> None:
    assert not looks_like_request("I'm glad you're happy with the answer. What else?")
    assert not looks_like_request("What a great example! Can I help?")
    assert not looks_like_request("Data contracts are promises between teams. Do you agree?")
    assert not looks_like_request("How did you shorten the passage?")
    assert not looks_like_request("Summarise it like this:")
    assert not looks_like_request("How do you size a cluster? I'll explain below.")
    assert looks_like_request("We run nightly jobs on spot instances. How do you keep them safe?") is False
    assert looks_like_request('Write the section "Step one" of your article "GPU bills".')


def test_a_copy_of_the_worked_example_is_dropped() -> None:
    [example] = WORKED_EXAMPLES
    assert copies_worked_example(example)
    assert copies_worked_example(example.upper().rstrip("?"))
    assert not copies_worked_example("How did you cut the cost of nightly training?")
    kept, counts = filter_instruct([row(example)], CONFIG)
    assert kept == [] and counts["instruction_copies_example"] == 1


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


def test_code_chosen_is_not_held_to_the_prose_rules() -> None:
    code = (
        "def checkpoint(state: dict, path: str) -> None:\n"
        "    with open(path, 'wb') as f:\n"
        "        pickle.dump(state, f)"
    )
    triple = PreferenceSample(
        prompt="Write the Python function `checkpoint` in train.py of your repository spot-trainer.",
        chosen=code,
        rejected="def checkpoint(): pass",
        category=DataCategory.REPOSITORIES,
        document_id=uuid4(),
    )
    kept, _ = filter_preference([triple], CONFIG)
    assert kept == [triple]
    as_post = triple.model_copy(update={"category": DataCategory.POSTS})
    kept, counts = filter_preference([as_post], CONFIG)
    assert kept == [] and counts["chosen_not_capitalised"] == 1
