"""SageMaker training: the training job created on moto's SageMaker and S3 (server mode, through AWS_ENDPOINT_URL),
and the entry point run locally exactly as the job runs it (SageMaker's arguments and SM_* variables)."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID

from llm_engineering.bootstrap.sagemaker_jobs import stage_job_code
from llm_engineering.domain.exceptions import SettingsError
from llm_engineering.infrastructure.aws.training_job import TrainingJobSpec, launch_training_job, sagemaker_session
from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.finetuning.data import TrainingRows
from llm_engineering.model.finetuning.sagemaker_entry import METRICS_FILE, write_job_dataset
from llm_engineering.settings import Settings
from steps.training.sagemaker import job_spec
from tests.aws_support import REGION, aws_emulator  # noqa: F401 - the fixture, used by name below
from tests.conftest import make_settings
from tests.training_support import instruct_rows, make_tiny_llama

ROLE = "arn:aws:iam::123456789012:role/twin-sagemaker-execution"
# The SDK's default bucket: named after the region and the (emulator's) account, made by the first job.
BUCKET = f"sagemaker-{REGION}-{DEFAULT_ACCOUNT_ID}"


def settings_with_role(tmp_path: Path, role: str | None = ROLE) -> Settings:
    return make_settings(tmp_path / "data", AWS_ARN_ROLE=role, AWS_REGION=REGION)


def launch_on_emulator(spec: TrainingJobSpec, tmp_path: Path) -> dict[str, Any]:
    """Launch the job through the project's own session, then the job as the emulator's SageMaker describes it."""
    settings = settings_with_role(tmp_path)
    launch_training_job(spec, settings, sagemaker_session(settings), wait=False)
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    return dict(sagemaker.describe_training_job(TrainingJobName=spec.job_name))


def uploaded_keys(prefix: str) -> set[str]:
    """The keys under `prefix` in the default bucket, relative to it."""
    listing = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/")
    return {item["Key"].removeprefix(f"{prefix}/") for item in listing.get("Contents", [])}


@pytest.mark.usefixtures("aws_emulator")
def test_create_training_job_carries_image_role_instance_hyperparameters_and_s3_paths(tmp_path: Path) -> None:
    config = TrainingConfig(num_train_epochs=3, learning_rate=1e-4)
    rows = TrainingRows(instruct_rows(4), instruct_rows(6)[4:], "code")
    spec = job_spec(config, rows, None, tmp_path / "staging")

    job = launch_on_emulator(spec, tmp_path)

    assert job["TrainingJobName"] == spec.job_name
    assert job["RoleArn"] == ROLE
    assert job["ResourceConfig"]["InstanceType"] == "ml.g5.2xlarge"
    assert job["ResourceConfig"]["InstanceCount"] == 1
    image = job["AlgorithmSpecification"]["TrainingImage"]
    assert "huggingface-pytorch-training:2.8.0-transformers4.56.2-gpu-py312" in image
    assert "eu-central-1" in image
    hyperparameters = job["HyperParameters"]
    assert TrainingConfig.model_validate_json(json.loads(hyperparameters["config"])) == config
    assert json.loads(hyperparameters["sagemaker_program"]) == "train_entry.py"
    prefix = f"llm-twin/training/{spec.job_name}"
    assert (
        json.loads(hyperparameters["sagemaker_submit_directory"])
        == f"s3://{BUCKET}/{prefix}/code/{spec.job_name}/source/sourcedir.tar.gz"
    )
    (channel,) = job["InputDataConfig"]
    assert channel["ChannelName"] == "train"
    assert channel["DataSource"]["S3DataSource"]["S3Uri"] == f"s3://{BUCKET}/{prefix}/input/train"
    assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/{prefix}/output"
    assert job["CheckpointConfig"]["S3Uri"] == f"s3://{BUCKET}/{prefix}/checkpoints"
    # What the job will read is in the bucket: the train channel's rows and the code.
    assert uploaded_keys(prefix) == {"input/train/dataset.json", f"code/{spec.job_name}/source/sourcedir.tar.gz"}


@pytest.mark.usefixtures("aws_emulator")
def test_dpo_sends_the_sft_model_as_a_channel(tmp_path: Path) -> None:
    sft_model = tmp_path / "sft"
    sft_model.mkdir()
    (sft_model / "config.json").write_text("{}")
    config = TrainingConfig(finetuning_type="dpo", sagemaker={"instance_type": "ml.g5.12xlarge"})
    rows = TrainingRows(instruct_rows(2), instruct_rows(3)[2:], "code")
    spec = job_spec(config, rows, str(sft_model), tmp_path / "staging")
    job = launch_on_emulator(spec, tmp_path)
    assert {channel["ChannelName"] for channel in job["InputDataConfig"]} == {"train", "model"}
    assert job["ResourceConfig"]["InstanceType"] == "ml.g5.12xlarge"
    assert "input/model/config.json" in uploaded_keys(f"llm-twin/training/{spec.job_name}")


@pytest.mark.usefixtures("aws_emulator")
def test_without_a_role_the_error_says_how_to_make_one(tmp_path: Path) -> None:
    spec = job_spec(TrainingConfig(), TrainingRows(instruct_rows(1), instruct_rows(2)[1:], "c"), None, tmp_path)
    settings = settings_with_role(tmp_path, None)
    with pytest.raises(SettingsError, match="create-sagemaker-execution-role"):
        launch_training_job(spec, settings, sagemaker_session(settings), wait=False)
    assert boto3.client("sagemaker", region_name=REGION).list_training_jobs()["TrainingJobSummaries"] == []


@pytest.mark.slow
def test_the_entry_point_runs_as_the_job_runs_it(tmp_path: Path) -> None:
    base = make_tiny_llama(tmp_path / "tiny")
    config = TrainingConfig(
        base_model=str(base), num_train_epochs=1, max_length=64, lora={"r": 2, "alpha": 4}, logging_steps=1
    )
    code = tmp_path / "code"
    script = stage_job_code("training", code)
    write_job_dataset(TrainingRows(instruct_rows(6), instruct_rows(8)[6:], "code"), tmp_path / "input" / "train")
    model_dir = tmp_path / "model"
    env = {
        "PATH": "/usr/bin:/bin",
        "HF_HUB_OFFLINE": "1",
        "SM_CHANNEL_TRAIN": str(tmp_path / "input" / "train"),
        "SM_MODEL_DIR": str(model_dir),
        "SM_OUTPUT_DATA_DIR": str(tmp_path / "output"),
        "SM_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
        "SM_HPS": json.dumps({"config": config.model_dump_json()}),
    }
    # The Hugging Face toolkit runs `python <entry_point> --<hyperparameter> <value>` in the code's folder.
    result = subprocess.run(
        [sys.executable, script, "--config", config.model_dump_json()],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (model_dir / "merged" / "model.safetensors").is_file()
    assert (model_dir / "adapter" / "adapter_config.json").is_file()
    metrics = json.loads((model_dir / METRICS_FILE).read_text())
    assert metrics["backend"] == "trl" and metrics["perplexity_after"] > 0
