from collections.abc import Sequence

import pytest
from pydantic import BaseModel, Field

from llm_engineering.application.llm.structured import (
    extract_json,
    generate_structured,
    parse_answer,
)
from llm_engineering.domain.exceptions import LLMError, MalformedAnswerError
from llm_engineering.domain.ports import ChatMessage, GenerationParams
from tests.fakes import ScriptedLLM

PARAMS = GenerationParams(max_new_tokens=64)


class Answer(BaseModel):
    title: str
    score: int = Field(ge=0, le=10)


def ask(question: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=question)]


def test_valid_and_fenced_json_parse_without_retry() -> None:
    client = ScriptedLLM(
        {
            "q1": ['{"title": "plain", "score": 3}'],
            "q2": ['Sure! Here it is:\n```json\n{"title": "fenced", "score": 7}\n```\nAnything else?'],
            "q3": ['The answer {is} below: {"title": "in prose", "score": 0} and that is all.'],
        }
    )
    result = generate_structured(client, [ask("q1"), ask("q2"), ask("q3")], Answer, PARAMS)
    assert result.items == [
        Answer(title="plain", score=3),
        Answer(title="fenced", score=7),
        Answer(title="in prose", score=0),
    ]
    assert (result.parsed, result.retried, result.dropped) == (3, 0, 0)
    assert len(client.calls) == 1


def test_malformed_answer_is_retried_once_with_its_error() -> None:
    client = ScriptedLLM(
        {
            "good": ['{"title": "ok", "score": 1}'],
            "bad": ['{"title": "too high", "score": 99}', '{"title": "fixed", "score": 9}'],
        }
    )
    result = generate_structured(client, [ask("good"), ask("bad")], Answer, PARAMS)
    assert result.items == [Answer(title="ok", score=1), Answer(title="fixed", score=9)]
    assert (result.parsed, result.retried, result.dropped) == (2, 1, 0)
    retry = client.calls[1]
    assert len(retry) == 1
    assert retry[0][1] == ChatMessage(role="assistant", content='{"title": "too high", "score": 99}')
    assert retry[0][2].role == "user"
    assert "score" in retry[0][2].content
    assert "less than or equal to 10" in retry[0][2].content


def test_twice_malformed_is_dropped_and_counted_without_touching_the_others() -> None:
    client = ScriptedLLM(
        {
            "a": ['{"title": "a", "score": 2}'],
            "b": ["no json here", "still no json"],
            "c": ["[1, 2", '{"title": "c", "score": 4}'],
            "d": ['{"title": "d", "score": 5}'],
        }
    )
    result = generate_structured(client, [ask("a"), ask("b"), ask("c"), ask("d")], Answer, PARAMS)
    assert result.items == [Answer(title="a", score=2), None, Answer(title="c", score=4), Answer(title="d", score=5)]
    assert (result.parsed, result.retried, result.dropped) == (3, 2, 1)
    assert len(client.calls) == 2


def test_backend_failure_propagates() -> None:
    class BrokenLLM(ScriptedLLM):
        def generate(self, conversations: Sequence[Sequence[ChatMessage]], params: GenerationParams) -> list[str]:
            raise LLMError("endpoint down")

    with pytest.raises(LLMError, match="endpoint down"):
        generate_structured(BrokenLLM({}), [ask("x")], Answer, PARAMS)


def test_extraction_is_lenient_and_validation_strict() -> None:
    assert extract_json('noise [1, {"a": 2}] more') == [1, {"a": 2}]
    assert extract_json('```\n{"a": 1}\n``` then {"b": 2}') == {"a": 1}
    with pytest.raises(MalformedAnswerError, match="no JSON"):
        extract_json("{not json")
    with pytest.raises(MalformedAnswerError, match="title: Field required"):
        parse_answer('{"score": 1}', Answer)
    with pytest.raises(MalformedAnswerError, match="score"):
        parse_answer('{"title": "x", "score": "high"}', Answer)
