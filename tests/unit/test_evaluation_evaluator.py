from llm_engineering.model.evaluation.config import EvaluationGenerationSection
from llm_engineering.model.evaluation.evaluator import generate_answers
from tests.fakes import ScriptedLLM


def test_answers_are_greedy_with_the_configured_repetition_control_in_batches() -> None:
    client = ScriptedLLM(["a1", "a2", "a3"])
    rows = [{"instruction": f"q{i}", "output": "reference"} for i in range(3)]
    generation = EvaluationGenerationSection(
        max_new_tokens=7, batch_size=2, repetition_penalty=1.3, no_repeat_ngram_size=3
    )
    assert generate_answers(client, rows, generation, "model") == ["a1", "a2", "a3"]
    assert [len(call) for call in client.calls] == [2, 1]
    assert {(p.max_new_tokens, p.temperature, p.repetition_penalty, p.no_repeat_ngram_size) for p in client.params} == {
        (7, 0.0, 1.3, 3)
    }
    assert client.params[0].repetition_controls() == {"repetition_penalty": 1.3, "no_repeat_ngram_size": 3}


def test_the_repetition_control_can_be_turned_off() -> None:
    client = ScriptedLLM(["a"])
    off = EvaluationGenerationSection(repetition_penalty=1.0, no_repeat_ngram_size=0)
    generate_answers(client, [{"instruction": "q", "output": "r"}], off, "model")
    assert client.params[0].repetition_controls() == {}
