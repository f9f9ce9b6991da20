import json
from pathlib import Path

import pytest

from llm_engineering.application.dataset.builder import dataset_rows
from llm_engineering.domain.exceptions import DatasetSourceError
from llm_engineering.model.finetuning.config import TrainingDataSection
from llm_engineering.model.finetuning.data import (
    TrainingRows,
    capped,
    load_rows,
    rows_from_dataset,
    rows_from_huggingface,
    rows_from_json,
)
from tests.training_support import instruct_dataset, preference_dataset


def test_artifact_rows_have_the_book_columns() -> None:
    rows = rows_from_dataset(instruct_dataset(5, 2), "sft", "artifact instruct_datasets")
    assert len(rows.train) == 5 and len(rows.test) == 2
    assert set(rows.train[0]) == {"instruction", "output"}
    preference = rows_from_dataset(preference_dataset(3, 1), "dpo", "artifact preference_datasets")
    assert set(preference.test[0]) == {"prompt", "chosen", "rejected"}


def test_the_wrong_artifact_kind_is_named() -> None:
    with pytest.raises(DatasetSourceError, match="PreferenceDataset"):
        rows_from_dataset(instruct_dataset(2, 1), "dpo", "artifact instruct_datasets")


def test_this_projects_json_export(tmp_path: Path) -> None:
    path = tmp_path / "instruct_datasets.json"
    path.write_text(json.dumps(dataset_rows(instruct_dataset(4, 2))))
    rows = load_rows(TrainingDataSection(source="json", path=str(path), max_test_rows=1), "sft")
    assert len(rows.train) == 4
    assert len(rows.test) == 1
    assert str(path) in rows.source


def test_capped_test_rows_are_spread_over_the_split() -> None:
    rows = TrainingRows(train=[], test=[{"instruction": f"q{i}", "output": "a"} for i in range(10)], source="s")
    assert [row["instruction"] for row in capped(rows, 4).test] == ["q0", "q2", "q5", "q7"]
    assert capped(rows, None) == rows and capped(rows, 10) == rows


def test_the_books_json_export(tmp_path: Path) -> None:
    book = {
        "id": "b1",
        "train": {
            "articles": {"category": "articles", "samples": [{"instruction": "Q1?", "answer": "A1."}]},
            "posts": {"category": "posts", "samples": [{"instruction": "Q2?", "answer": "A2."}]},
        },
        "test": {"articles": {"category": "articles", "samples": [{"instruction": "Q3?", "answer": "A3."}]}},
        "test_split_size": 0.1,
    }
    path = tmp_path / "book.json"
    path.write_text(json.dumps(book))
    rows = rows_from_json(path, "sft")
    assert rows.train == [{"instruction": "Q1?", "output": "A1."}, {"instruction": "Q2?", "output": "A2."}]
    assert rows.test == [{"instruction": "Q3?", "output": "A3."}]
    preference = {
        "train": {"posts": {"samples": [{"instruction": "Q?", "chosen": "Mine.", "rejected": "Generic."}]}},
        "test": {"posts": {"samples": [{"instruction": "Q2?", "chosen": "Mine2.", "rejected": "Generic2."}]}},
    }
    path.write_text(json.dumps(preference))
    assert rows_from_json(path, "dpo").train == [{"prompt": "Q?", "chosen": "Mine.", "rejected": "Generic."}]


def test_empty_and_incomplete_sources_name_the_source(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"articles": {"train": [], "test": []}}))
    with pytest.raises(DatasetSourceError, match=f"JSON file {path} has no train rows"):
        rows_from_json(path, "sft")
    path.write_text(json.dumps({"articles": {"train": [{"instruction": "Q?"}], "test": []}}))
    with pytest.raises(DatasetSourceError, match=r"lacks the column\(s\) \['output'\]"):
        rows_from_json(path, "sft")
    with pytest.raises(DatasetSourceError, match="does not exist"):
        rows_from_json(tmp_path / "missing.json", "sft")


def test_unreachable_hub_is_said_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DatasetSourceError, match="Hugging Face Hub is unreachable"):
        rows_from_huggingface("mlabonne/llmtwin-not-cached-here", "sft")


def test_a_hub_style_dataset_with_the_books_columns(tmp_path: Path) -> None:
    """load_dataset reads a local folder of split files as it reads a Hub repository (offline here)."""
    folder = tmp_path / "llmtwin"
    folder.mkdir()
    for split, count in (("train", 3), ("test", 1)):
        lines = [json.dumps({"instruction": f"Q{i}?", "output": f"A{i}."}) for i in range(count)]
        (folder / f"{split}.jsonl").write_text("\n".join(lines) + "\n")
    rows = rows_from_huggingface(str(folder), "sft")
    assert len(rows.train) == 3 and rows.test == [{"instruction": "Q0?", "output": "A0."}]
