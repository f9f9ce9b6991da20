"""SageMaker training: the CreateTrainingJob request checked offline with botocore's Stubber, and the entry point run
locally exactly as the job runs it (SageMaker's arguments and SM_* variables)."""

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from llm_engineering.bootstrap.sagemaker_jobs import stage_job_code
from llm_engineering.domain.exceptions import SettingsError
from llm_engineering.infrastructure.aws.training_job import SAGEMAKER_CONFIG, launch_training_job
from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.finetuning.data import TrainingRows
from llm_engineering.model.finetuning.sagemaker_entry import METRICS_FILE, write_job_dataset
from llm_engineering.settings import Settings
from steps.training.sagemaker import job_spec
from tests.conftest import make_settings
from tests.training_support import instruct_rows, make_tiny_llama

ROLE = "arn:aws:iam::123456789012:role/twin-sagemaker-execution"
BUCKET = "twin-test-bucket"
EXISTING_BUCKET = {"Buckets": [{"Name": BUCKET, "CreationDate": datetime(2026, 1, 1, tzinfo=UTC)}]}


@dataclass
class StubbedAWS:
    session: Any
    sagemaker: Any
    s3: Any
    requests: list[dict[str, Any]]


@pytest.fixture
def aws() -> Iterator[StubbedAWS]:
    """A SageMaker session whose SageMaker and S3 clients answer from botocore Stubbers (no network)."""
    import boto3
    from botocore.stub import Stubber
    from sagemaker.session import Session

    boto_session = boto3.Session(region_name="eu-central-1", aws_access_key_id="test", aws_secret_access_key="test")
    sagemaker_client = boto_session.client("sagemaker")
    s3_resource = boto_session.resource("s3")
    session = Session(
        boto_session=boto_session,
        sagemaker_client=sagemaker_client,
        default_bucket=BUCKET,
        sagemaker_config=SAGEMAKER_CONFIG,
    )
    session.s3_resource = s3_resource
    requests: list[dict[str, Any]] = []
    sagemaker_client.meta.events.register(
        "provide-client-params.sagemaker.CreateTrainingJob", lambda params, **_: requests.append(params)
    )
    with Stubber(sagemaker_client) as sagemaker_stub, Stubber(s3_resource.meta.client) as s3_stub:
        yield StubbedAWS(session, sagemaker_stub, s3_stub, requests)


def settings_with_role(tmp_path: Path, role: str | None = ROLE) -> Settings:
    return make_settings(tmp_path / "data", AWS_ARN_ROLE=role)


def test_create_training_job_carries_image_role_instance_hyperparameters_and_s3_paths(
    aws: StubbedAWS, tmp_path: Path
) -> None:
    config = TrainingConfig(num_train_epochs=3, learning_rate=1e-4)
    rows = TrainingRows(instruct_rows(4), instruct_rows(6)[4:], "code")
    spec = job_spec(config, rows, None, tmp_path / "staging")
    aws.s3.add_response("list_buckets", EXISTING_BUCKET)  # the session checks that its bucket exists
    for _ in range(2):  # the train channel's dataset.json, then the code's sourcedir.tar.gz
        aws.s3.add_response("put_object", {})
    aws.sagemaker.add_response("create_training_job", {"TrainingJobArn": f"arn:aws:sagemaker:::{spec.job_name}"})

    launch_training_job(spec, settings_with_role(tmp_path), aws.session, wait=False)

    aws.sagemaker.assert_no_pending_responses()
    (request,) = aws.requests
    assert request["TrainingJobName"] == spec.job_name
    assert request["RoleArn"] == ROLE
    assert request["ResourceConfig"]["InstanceType"] == "ml.g5.2xlarge"
    assert request["ResourceConfig"]["InstanceCount"] == 1
    image = request["AlgorithmSpecification"]["TrainingImage"]
    assert "huggingface-pytorch-training:2.8.0-transformers4.56.2-gpu-py312" in image
    assert "eu-central-1" in image
    hyperparameters = request["HyperParameters"]
    assert TrainingConfig.model_validate_json(json.loads(hyperparameters["config"])) == config
    assert json.loads(hyperparameters["sagemaker_program"]) == "train_entry.py"
    prefix = f"s3://{BUCKET}/llm-twin/training/{spec.job_name}"
    assert (
        json.loads(hyperparameters["sagemaker_submit_directory"])
        == f"{prefix}/code/{spec.job_name}/source/sourcedir.tar.gz"
    )
    (channel,) = request["InputDataConfig"]
    assert channel["ChannelName"] == "train"
    assert channel["DataSource"]["S3DataSource"]["S3Uri"] == f"{prefix}/input/train"
    assert request["OutputDataConfig"]["S3OutputPath"] == f"{prefix}/output"
    assert request["CheckpointConfig"]["S3Uri"] == f"{prefix}/checkpoints"


def test_dpo_sends_the_sft_model_as_a_channel(aws: StubbedAWS, tmp_path: Path) -> None:
    sft_model = tmp_path / "sft"
    sft_model.mkdir()
    (sft_model / "config.json").write_text("{}")
    config = TrainingConfig(finetuning_type="dpo", sagemaker={"instance_type": "ml.g5.12xlarge"})
    rows = TrainingRows(instruct_rows(2), instruct_rows(3)[2:], "code")
    spec = job_spec(config, rows, str(sft_model), tmp_path / "staging")
    aws.s3.add_response("list_buckets", EXISTING_BUCKET)
    for _ in range(3):
        aws.s3.add_response("put_object", {})
    aws.sagemaker.add_response("create_training_job", {"TrainingJobArn": "arn:aws:sagemaker:::job"})
    launch_training_job(spec, settings_with_role(tmp_path), aws.session, wait=False)
    (request,) = aws.requests
    assert {channel["ChannelName"] for channel in request["InputDataConfig"]} == {"train", "model"}
    assert request["ResourceConfig"]["InstanceType"] == "ml.g5.12xlarge"


def test_without_a_role_the_error_says_how_to_make_one(aws: StubbedAWS, tmp_path: Path) -> None:
    spec = job_spec(TrainingConfig(), TrainingRows(instruct_rows(1), instruct_rows(2)[1:], "c"), None, tmp_path)
    with pytest.raises(SettingsError, match="create-sagemaker-execution-role"):
        launch_training_job(spec, settings_with_role(tmp_path, None), aws.session, wait=False)


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
