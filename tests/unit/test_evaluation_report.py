"""The results people read: the table's rows and columns, the JSON file, the chart's PNG."""

import json
from pathlib import Path

from llm_engineering.model.evaluation.evaluator import ModelScores
from llm_engineering.model.evaluation.report import results_table, write_chart, write_results_json

SCORES = [
    ModelScores("base", "base", None, {"perplexity": 20.5, "rouge_l": 0.1, "judge_accuracy": None}, answers=["a"]),
    ModelScores("candidate", "v2 (sft)", 2, {"perplexity": 12.25, "rouge_l": 0.2, "judge_accuracy": None}),
]


def test_the_table_has_a_row_per_model_and_marks_missing_values() -> None:
    lines = results_table(SCORES).splitlines()
    assert lines[0].startswith("model") and "perplexity↓" in lines[0] and "ROUGE-L↑" in lines[0]
    assert lines[1].startswith("base") and "20.500" in lines[1] and "-" in lines[1]
    assert lines[2].startswith("v2 (sft)") and "12.250" in lines[2]


def test_json_and_chart_are_written(tmp_path: Path) -> None:
    path = write_results_json(tmp_path / "out" / "TwinLlama-2.json", SCORES, {"candidate_version": 2})
    data = json.loads(path.read_text())
    assert data["candidate_version"] == 2 and data["models"][0]["answers"] == ["a"]
    chart = write_chart(tmp_path / "out" / "TwinLlama-2.png", SCORES, "TwinLlama")
    assert chart.read_bytes()[:4] == b"\x89PNG"
