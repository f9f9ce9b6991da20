"""SageMaker evaluation: the training job created on moto's SageMaker and S3 (server mode, through
AWS_ENDPOINT_URL), and the evaluation entry point run locally exactly as the job runs it (SageMaker's arguments and
SM_* variables)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from llm_engineering.bootstrap.sagemaker_jobs import stage_job_code
from llm_engineering.model.evaluation.config import EvaluationConfig
from llm_engineering.model.evaluation.evaluator import ModelUnderTest
from llm_engineering.model.evaluation.sagemaker_entry import (
    models_argument,
    read_job_outputs,
    write_job_rows,
)
from steps.evaluating.sagemaker import evaluation_job_spec
from tests.aws_support import aws_emulator  # noqa: F401 - the fixture, used by name below
from tests.integration.test_sagemaker_training import BUCKET, ROLE, launch_on_emulator, uploaded_keys
from tests.training_support import instruct_rows, make_tiny_llama


def model_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    return path


@pytest.mark.usefixtures("aws_emulator")
def test_create_training_job_carries_the_models_rows_and_config(tmp_path: Path) -> None:
    config = EvaluationConfig(runner="sagemaker", generation={"max_new_tokens": 64})
    models = [
        ModelUnderTest("base", "base", None, model_folder(tmp_path / "base")),
        ModelUnderTest("candidate", "v2 (sft)", 2, model_folder(tmp_path / "candidate")),
    ]
    spec = evaluation_job_spec(config, models, instruct_rows(3), tmp_path / "staging")

    job = launch_on_emulator(spec, tmp_path)

    assert job["RoleArn"] == ROLE
    assert job["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
    assert "huggingface-pytorch-training" in job["AlgorithmSpecification"]["TrainingImage"]
    hyperparameters = job["HyperParameters"]
    assert EvaluationConfig.model_validate_json(json.loads(hyperparameters["config"])) == config
    assert json.loads(json.loads(hyperparameters["models"]))[1] == {
        "role": "candidate",
        "label": "v2 (sft)",
        "version": 2,
    }
    assert json.loads(hyperparameters["sagemaker_program"]) == "evaluate_entry.py"
    prefix = f"llm-twin/evaluation/{spec.job_name}"
    channels = {
        channel["ChannelName"]: channel["DataSource"]["S3DataSource"]["S3Uri"] for channel in job["InputDataConfig"]
    }
    assert channels == {
        name: f"s3://{BUCKET}/{prefix}/input/{name}" for name in ("test", "model_base", "model_candidate")
    }
    assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/{prefix}/output"
    # The rows, the two models' config.json and the code are in the bucket.
    assert uploaded_keys(prefix) == {
        "input/test/rows.json",
        "input/model_base/config.json",
        "input/model_candidate/config.json",
        f"code/{spec.job_name}/source/sourcedir.tar.gz",
    }


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
