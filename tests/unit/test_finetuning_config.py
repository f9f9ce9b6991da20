import pytest
from pydantic import ValidationError

from llm_engineering.model.finetuning.config import TrainingConfig


def test_defaults_are_a_laptop_sft_run_of_twinllama() -> None:
    config = TrainingConfig()
    assert config.finetuning_type == "sft"
    assert config.model_name == "TwinLlama"
    assert config.dataset.source == "artifact"
    assert config.dataset.reviews == "apply"
    assert config.runner == "local"
    assert config.sagemaker.instance_type == "ml.g5.2xlarge"
    assert config.dataset_artifact_name == "instruct_datasets"
    assert config.model_copy(update={"finetuning_type": "dpo"}).dataset_artifact_name == "preference_datasets"


def test_book_names_and_sections_validate_from_yaml_shaped_dicts() -> None:
    config = TrainingConfig.model_validate(
        {
            "finetuning_type": "dpo",
            "num_train_epochs": 3,
            "per_device_train_batch_size": 2,
            "learning_rate": 3e-4,
            "lora": {"r": 32, "alpha": 32, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]},
            "dpo": {"beta": 0.5, "sft_version": "4"},
        }
    )
    assert config.lora.target_modules == ("q_proj", "v_proj")
    assert config.dpo.beta == 0.5


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"finetuning_type": "ppo"}, "finetuning_type"),
        ({"learnig_rate": 1e-4}, "learnig_rate"),
        ({"lora": {"rank": 8}}, "rank"),
        ({"lora": {"r": 0}}, "r"),
        ({"dataset": {"source": "json"}}, "dataset.path is required"),
        ({"dataset": {"reviews": "always"}}, "reviews"),
        ({"dataset": {"source": "json", "path": "x.json", "reviews": "require"}}, "dataset.reviews is require"),
        ({"dataset": {"source": "huggingface"}}, "dataset.huggingface_id is required"),
        ({"dpo": {"sft_version": "best"}}, "dpo.sft_version"),
        ({"backend": "trl", "load_in_4bit": True}, "load_in_4bit needs Unsloth"),
    ],
)
def test_invalid_values_name_the_field(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TrainingConfig.model_validate(values)


def test_config_is_frozen() -> None:
    with pytest.raises(ValidationError):
        TrainingConfig().learning_rate = 1.0  # type: ignore[misc]
