"""SageMaker evaluation: the CreateTrainingJob request checked offline with botocore's Stubber, and the evaluation
entry point run locally exactly as the job runs it (SageMaker's arguments and SM_* variables)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from llm_engineering.bootstrap.sagemaker_jobs import stage_job_code
from llm_engineering.infrastructure.aws.training_job import launch_training_job
from llm_engineering.model.evaluation.config import EvaluationConfig
from llm_engineering.model.evaluation.evaluator import ModelUnderTest
from llm_engineering.model.evaluation.sagemaker_entry import (
    models_argument,
    read_job_outputs,
    write_job_rows,
)
from steps.evaluating.sagemaker import evaluation_job_spec
from tests.integration.test_sagemaker_training import (  # the stubbed session fixture and its constants
    BUCKET,
    EXISTING_BUCKET,
    ROLE,
    StubbedAWS,
    aws,
    settings_with_role,
)
from tests.training_support import instruct_rows, make_tiny_llama

__all__ = ["aws"]


def model_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    return path


def test_create_training_job_carries_the_models_rows_and_config(aws: StubbedAWS, tmp_path: Path) -> None:
    config = EvaluationConfig(runner="sagemaker", generation={"max_new_tokens": 64})
    models = [
        ModelUnderTest("base", "base", None, model_folder(tmp_path / "base")),
        ModelUnderTest("candidate", "v2 (sft)", 2, model_folder(tmp_path / "candidate")),
    ]
    spec = evaluation_job_spec(config, models, instruct_rows(3), tmp_path / "staging")
    aws.s3.add_response("list_buckets", EXISTING_BUCKET)
    for _ in range(4):  # rows.json, the two models' config.json, then the code's sourcedir.tar.gz
        aws.s3.add_response("put_object", {})
    aws.sagemaker.add_response("create_training_job", {"TrainingJobArn": f"arn:aws:sagemaker:::{spec.job_name}"})

    launch_training_job(spec, settings_with_role(tmp_path), aws.session, wait=False)

    aws.sagemaker.assert_no_pending_responses()
    (request,) = aws.requests
    assert request["RoleArn"] == ROLE
    assert request["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
    assert "huggingface-pytorch-training" in request["AlgorithmSpecification"]["TrainingImage"]
    hyperparameters = request["HyperParameters"]
    assert EvaluationConfig.model_validate_json(json.loads(hyperparameters["config"])) == config
    assert json.loads(json.loads(hyperparameters["models"]))[1] == {
        "role": "candidate",
        "label": "v2 (sft)",
        "version": 2,
    }
    assert json.loads(hyperparameters["sagemaker_program"]) == "evaluate_entry.py"
    prefix = f"s3://{BUCKET}/llm-twin/evaluation/{spec.job_name}"
    channels = {
        channel["ChannelName"]: channel["DataSource"]["S3DataSource"]["S3Uri"] for channel in request["InputDataConfig"]
    }
    assert channels == {name: f"{prefix}/input/{name}" for name in ("test", "model_base", "model_candidate")}
    assert request["OutputDataConfig"]["S3OutputPath"] == f"{prefix}/output"


@pytest.mark.slow
def test_the_entry_point_runs_as_the_job_runs_it(tmp_path: Path) -> None:
    base = make_tiny_llama(tmp_path / "base")
    candidate = make_tiny_llama(tmp_path / "candidate")
    config = EvaluationConfig(max_length=64, generation={"max_new_tokens": 6, "batch_size": 2})
    models = [ModelUnderTest("base", "base", None, base), ModelUnderTest("candidate", "v1 (sft)", 1, candidate)]
    code = tmp_path / "code"
    script = stage_job_code("evaluating", code)
    write_job_rows(instruct_rows(3), tmp_path / "input" / "test")
    model_dir = tmp_path / "model"
    env = {
        "PATH": "/usr/bin:/bin",
        "HF_HUB_OFFLINE": "1",
        "SM_CHANNEL_TEST": str(tmp_path / "input" / "test"),
        "SM_CHANNEL_MODEL_BASE": str(base),
        "SM_CHANNEL_MODEL_CANDIDATE": str(candidate),
        "SM_MODEL_DIR": str(model_dir),
        "SM_OUTPUT_DATA_DIR": str(tmp_path / "output"),
    }
    # The Hugging Face toolkit runs `python <entry_point> --<hyperparameter> <value>` in the code's folder.
    result = subprocess.run(
        [sys.executable, script, "--config", config.model_dump_json(), "--models", models_argument(models)],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outputs = read_job_outputs(model_dir)
    assert set(outputs) == {"base", "candidate"}
    for output in outputs.values():
        assert len(output.answers) == 3 and output.perplexity > 1
