"""The judge through the project's OpenAI-compatible backend, against the scripted server on 127.0.0.1."""

import json
from pathlib import Path

from llm_engineering.model.evaluation.config import EvaluationConfig
from llm_engineering.model.evaluation.judge import judge_answers
from steps.evaluating.evaluate import judge_client
from tests.conftest import ChatCompletionsServer, make_settings

VERDICT = {"accuracy": {"reason": "right", "score": 3}, "style": {"reason": "plain", "score": 2}}


def test_judge_scores_parse_and_failures_are_counted(chat_server: ChatCompletionsServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, OPENAI_BASE_URL=chat_server.base_url, LLM_MAX_RETRIES=0)
    config = EvaluationConfig(judge={"backend": "openai"})
    judge = judge_client(config, settings)
    assert judge is not None and judge.backend == "openai"
    # The server echoes the prompt: an answer holding a verdict comes back as a parsable judgement, plain text
    # comes back as the prompt's unfilled template (malformed), is retried once and counted as failed.
    outcome = judge_answers(judge, ["q1", "q2"], [json.dumps(VERDICT), "plain words"], 128)
    assert outcome.failed == 1
    assert outcome.accuracy == 3 and outcome.style == 2
    assert len(chat_server.requests) == 3


def test_a_failing_judge_server_never_crashes_the_evaluation(
    chat_server: ChatCompletionsServer, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, OPENAI_BASE_URL=chat_server.base_url, LLM_MAX_RETRIES=0)
    chat_server.script = [500, 500]
    judge = judge_client(EvaluationConfig(judge={"backend": "openai"}), settings)
    assert judge is not None
    outcome = judge_answers(judge, ["q1", "q2"], ["a1", "a2"], 128)
    assert outcome.failed == 2 and outcome.accuracy is None


def test_no_judge_configured_means_no_client(tmp_path: Path) -> None:
    assert judge_client(EvaluationConfig(), make_settings(tmp_path)) is None
