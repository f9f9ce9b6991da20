"""The training pipeline through ZenML on a tiny model: SFT then DPO versions of TwinLlama in the Control Plane,
trained on the rows that people's reviews in the warehouse leave."""

from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from llm_engineering.bootstrap.stores import build_review_store
from llm_engineering.domain.exceptions import RegistryError
from llm_engineering.domain.reviews import Review, Verdict, sample_key
from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.registry import find_model_version, load_model_folder
from llm_engineering.settings import Settings
from tests.training_support import instruct_dataset, make_tiny_llama, preference_dataset


@pytest.mark.slow
def test_sft_then_dpo_versions_with_artifacts_and_metadata(
    pipeline_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zenml import save_artifact

    from pipelines.training import training

    monkeypatch.delenv("COMET_API_KEY", raising=False)
    data_dir = pipeline_env.data_dir
    model_name = f"TwinLlamaTest{tmp_path.name[-6:].replace('_', '')}"
    base = make_tiny_llama(tmp_path / "tiny")
    with pytest.raises(RegistryError, match="run the training pipeline first"):
        find_model_version(model_name, "latest", tag="sft")

    rows = instruct_dataset(12, 3)
    instruct = save_artifact(rows, name="instruct_datasets")
    save_artifact(preference_dataset(12, 3), name="preference_datasets")
    # A reviewer rejected one train row and rewrote the answer of another; the other 13 rows are unreviewed.
    [split] = rows.splits.values()
    now = datetime.now(UTC)
    with closing(build_review_store(pipeline_env)) as store:
        store.save_review(
            Review(key=sample_key(split.train[0]), verdict=Verdict.REJECT, reviewer="ana", reviewed_at=now)
        )
        edit = Review(
            key=sample_key(split.train[1]),
            verdict=Verdict.EDIT,
            answer="I measure it first, then I write down what the numbers say, and only then do I decide.",
            reviewer="ana",
            reviewed_at=now,
        )
        store.save_review(edit)
    config = TrainingConfig(
        base_model=str(base),
        model_name=model_name,
        num_train_epochs=2,
        learning_rate=5e-3,
        max_length=96,
        lora={"r": 4, "alpha": 8},
        logging_steps=1,
    )
    training.with_options(enable_cache=False)(config=config)
    sft = find_model_version(model_name, "latest")
    assert [tag.name for tag in sft.tags] == ["sft"]
    metadata: dict[str, Any] = dict(sft.run_metadata)
    assert metadata["base_model"] == str(base)
    assert metadata["reviews"] == {
        "policy": "apply",
        "applied": True,
        "accepted": 0,
        "edited": 1,
        "rejected": 1,
        "pending": 13,
    }
    assert metadata["train_rows"] == 11 and metadata["test_rows"] == 3  # the rejected row is not trained on
    assert metadata["hyperparameters"]["lora.r"] == 4
    for key in ("train_loss", "eval_loss", "perplexity_before", "perplexity_after", "tokens_per_s", "wall_time_s"):
        assert isinstance(metadata[key], float), key
    assert metadata["perplexity_after"] < metadata["perplexity_before"]
    assert sft.get_artifact("lora_adapter") is not None
    assert sft.get_artifact("merged_model") is not None
    linked_dataset = sft.get_artifact("instruct_datasets")
    assert linked_dataset is not None and linked_dataset.id == instruct.id

    merged = load_model_folder(model_name, "latest", data_dir / "cache")
    assert (merged / "model.safetensors").is_file() and (merged / "tokenizer.json").is_file()
    assert load_model_folder(model_name, sft.number, data_dir / "cache") == merged  # cached, copied once
    assert list((data_dir / "comet").glob("*.zip"))
    assert isinstance(metadata["training_key"], str)

    # The same rows, config and base again: nothing is trained and no version is added.
    training.with_options(enable_cache=False)(config=config)
    assert find_model_version(model_name, "latest").number == sft.number

    training.with_options(enable_cache=False)(config=config.model_copy(update={"finetuning_type": "dpo"}))
    dpo = find_model_version(model_name, "latest")
    assert dpo.number == sft.number + 1
    assert [tag.name for tag in dpo.tags] == ["dpo"]
    assert dpo.run_metadata["base_model"] == f"{model_name} version {sft.number} (sft)"
    assert dpo.get_artifact("preference_datasets") is not None
    assert find_model_version(model_name, "latest", tag="sft").number == sft.number
