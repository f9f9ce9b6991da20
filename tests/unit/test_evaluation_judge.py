"""Judge parsing: a good verdict, a malformed one retried then counted, a refusal, a failing backend."""

import json

import pytest

from llm_engineering.model.evaluation.judge import judge_answers
from tests.fakes import FailingLLM, ScriptedLLM

GOOD = json.dumps({"accuracy": {"reason": "right", "score": 3}, "style": {"reason": "plain", "score": 2}})
OTHER = json.dumps({"accuracy": {"reason": "gaps", "score": 2}, "style": {"reason": "stiff", "score": 1}})


def test_good_verdicts_are_parsed_and_averaged() -> None:
    judge = ScriptedLLM([f"Here you go:\n```json\n{GOOD}\n```", OTHER])
    outcome = judge_answers(judge, ["q1", "q2"], ["a1", "a2"], 128)
    assert outcome.failed == 0
    assert outcome.accuracy == pytest.approx(2.5)
    assert outcome.style == pytest.approx(1.5)
    assert "Instruction: q1" in judge.asked[0][0].content
    assert "Answer: a1" in judge.asked[0][0].content


def test_a_malformed_verdict_is_retried_once_then_counted_as_failed() -> None:
    out_of_range = json.dumps({"accuracy": {"reason": "x", "score": 5}, "style": {"reason": "y", "score": 2}})
    judge = ScriptedLLM([out_of_range, GOOD, "still not json"])
    outcome = judge_answers(judge, ["q1", "q2"], ["a1", "a2"], 128)
    assert len(judge.calls) == 2
    assert outcome.failed == 1
    assert outcome.verdicts[0] is None
    assert outcome.accuracy == pytest.approx(3.0)


def test_a_refusing_judge_counts_failures_and_gives_no_scores() -> None:
    judge = ScriptedLLM(["I'm sorry, I can't rate that."] * 2)
    outcome = judge_answers(judge, ["q"], ["a"], 128)
    assert outcome.failed == 1
    assert outcome.accuracy is None
    assert outcome.style is None


def test_a_failing_backend_never_crashes_the_run() -> None:
    outcome = judge_answers(FailingLLM(), ["q1", "q2"], ["a1", "a2"], 128)
    assert outcome.failed == 2
    assert outcome.accuracy is None
