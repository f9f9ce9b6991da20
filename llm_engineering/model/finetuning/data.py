"""Training rows from any of the three sources, checked and normalised to the book's columns.

SFT rows are `instruction`/`output`; DPO rows are `prompt`/`chosen`/`rejected`. Whatever the source, an empty split or
a missing column fails here with the source named, before a model is loaded.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_engineering.domain.datasets import InstructDataset, PreferenceDataset
from llm_engineering.domain.exceptions import DatasetSourceError
from llm_engineering.model.finetuning.config import FinetuningType, TrainingDataSection

COLUMNS: dict[FinetuningType, tuple[str, ...]] = {
    "sft": ("instruction", "output"),
    "dpo": ("prompt", "chosen", "rejected"),
}
# Other names of the same columns: the book's artifact samples say `answer` and, for preferences, `instruction`.
ALIASES: dict[FinetuningType, dict[str, str]] = {
    "sft": {"answer": "output"},
    "dpo": {"instruction": "prompt"},
}

Row = dict[str, str]


@dataclass(frozen=True)
class TrainingRows:
    """The train and test rows of one run, and where they came from (for logs, metadata and errors)."""

    train: list[Row]
    test: list[Row]
    source: str


def dataset_of_kind(dataset: object, kind: FinetuningType, source: str) -> InstructDataset | PreferenceDataset:
    """The artifact's dataset when it is the kind this finetuning type trains on; else an error naming both."""
    expected = InstructDataset if kind == "sft" else PreferenceDataset
    if not isinstance(dataset, expected):
        raise DatasetSourceError(
            f"{source} holds a {type(dataset).__name__}, but finetuning_type {kind} trains on a {expected.__name__}; "
            "point dataset at the matching artifact."
        )
    return dataset


def rows_from_dataset(dataset: InstructDataset | PreferenceDataset, kind: FinetuningType, source: str) -> TrainingRows:
    """Rows of a dataset artifact (every category together), in the book's columns."""
    dataset = dataset_of_kind(dataset, kind, source)
    columns = COLUMNS[kind]
    sides: dict[str, list[Mapping[str, Any]]] = {"train": [], "test": []}
    for split in dataset.splits.values():
        for side, rows in sides.items():
            rows.extend(sample.model_dump(include=set(columns)) for sample in getattr(split, side))
    return _checked(sides["train"], sides["test"], kind, source)


def rows_from_json(path: Path, kind: FinetuningType) -> TrainingRows:
    """Rows of this project's export ({category: {train, test}}) or of the book's ({train: {category: {samples}}})."""
    source = f"JSON file {path}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetSourceError(
            f"{source} does not exist; run `poe run-export-artifact-to-json-pipeline` or fix dataset.path."
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DatasetSourceError(
            f"{source} is not valid JSON ({error}); point dataset.path at a dataset export."
        ) from error
    if not isinstance(data, dict):
        raise DatasetSourceError(f"{source} holds a {type(data).__name__}, not a dataset export object.")
    if isinstance(data.get("train"), dict) and isinstance(data.get("test"), dict):
        train = _book_samples(data["train"], source)
        test = _book_samples(data["test"], source)
    else:
        train, test = [], []
        for category, split in data.items():
            if not isinstance(split, dict) or not isinstance(split.get("train"), list):
                raise DatasetSourceError(
                    f"{source}: {category!r} is not {{'train': [...], 'test': [...]}}; expected this project's "
                    "export ({category: {train, test}}) or the book's ({train: {category: {samples}}, test: ...})."
                )
            train.extend(split["train"])
            test.extend(split.get("test", []))
    return _checked(train, test, kind, source)


def rows_from_huggingface(dataset_id: str, kind: FinetuningType) -> TrainingRows:
    """Rows of a Hugging Face Hub dataset with `train` (and usually `test`) splits, such as mlabonne/llmtwin."""
    import datasets

    source = f"Hugging Face dataset {dataset_id}"
    try:
        loaded = datasets.load_dataset(dataset_id)
    except (ConnectionError, OSError, datasets.exceptions.DatasetNotFoundError) as error:
        raise DatasetSourceError(
            f"Cannot load {source}: the Hugging Face Hub is unreachable or the dataset does not exist "
            f"({type(error).__name__}: {error}). Connect to the internet (and unset HF_HUB_OFFLINE), or download it "
            "where the Hub is reachable and use dataset.source: json."
        ) from error
    if "train" not in loaded:
        raise DatasetSourceError(f"{source} has no train split (it has {sorted(loaded)}).")
    train = [dict(row) for row in loaded["train"]]
    test = [dict(row) for row in loaded["test"]] if "test" in loaded else []
    return _checked(train, test, kind, source)


def load_rows(section: TrainingDataSection, kind: FinetuningType) -> TrainingRows:
    """Rows of the json or huggingface source; artifacts are read by `rows_from_dataset`."""
    if section.source == "json" and section.path:
        return capped(rows_from_json(Path(section.path).expanduser(), kind), section.max_test_rows)
    if section.source == "huggingface" and section.huggingface_id:
        return capped(rows_from_huggingface(section.huggingface_id, kind), section.max_test_rows)
    raise DatasetSourceError(f"dataset.source {section.source} is not read from a file or the Hub.")


def capped(rows: TrainingRows, max_test_rows: int | None) -> TrainingRows:
    """`max_test_rows` test rows (all when None), evenly spaced: evaluation time grows with them.

    The test rows come category after category, so a prefix would measure one category; every k-th row keeps each
    category in its share.
    """
    if max_test_rows is None or len(rows.test) <= max_test_rows:
        return rows
    step = len(rows.test) / max_test_rows
    kept = [rows.test[int(index * step)] for index in range(max_test_rows)]
    return TrainingRows(train=rows.train, test=kept, source=rows.source)


def _book_samples(side: Mapping[str, Any], source: str) -> list[Mapping[str, Any]]:
    samples: list[Mapping[str, Any]] = []
    for category, split in side.items():
        if not isinstance(split, dict) or not isinstance(split.get("samples"), list):
            raise DatasetSourceError(f"{source}: {category!r} has no 'samples' list, as the book's export has.")
        samples.extend(split["samples"])
    return samples


def _normalised(rows: Iterable[Mapping[str, Any]], kind: FinetuningType, source: str, side: str) -> list[Row]:
    columns = COLUMNS[kind]
    aliases = ALIASES[kind]
    result: list[Row] = []
    for index, row in enumerate(rows):
        named = {aliases.get(key, key): value for key, value in row.items()}
        missing = [column for column in columns if not isinstance(named.get(column), str)]
        if missing:
            raise DatasetSourceError(
                f"{source}: {side} row {index} lacks the column(s) {missing} (it has {sorted(row)}); "
                f"finetuning_type {kind} needs {list(columns)}."
            )
        result.append({column: named[column] for column in columns})
    return result


def _checked(
    train: Iterable[Mapping[str, Any]], test: Iterable[Mapping[str, Any]], kind: FinetuningType, source: str
) -> TrainingRows:
    train_rows = _normalised(train, kind, source, "train")
    test_rows = _normalised(test, kind, source, "test")
    if not train_rows:
        raise DatasetSourceError(
            f"{source} has no train rows for finetuning_type {kind}; generate the dataset first "
            "(poe run-generate-instruct-datasets-pipeline / run-generate-preference-datasets-pipeline)."
        )
    if not test_rows:
        raise DatasetSourceError(f"{source} has no test rows; the eval loss and held-out perplexity need a test split.")
    return TrainingRows(train=train_rows, test=test_rows, source=source)
