"""Evaluation on SageMaker (`runner: sagemaker`): the models' answers and perplexities come from a job running the
evaluation entry point on a GPU; the measures, judge, results and promotion then run here as for a local run."""

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from llm_engineering.bootstrap.sagemaker_jobs import stage_job_code
from llm_engineering.infrastructure.aws.training_job import (
    TrainingJobSpec,
    download_model,
    launch_training_job,
    sagemaker_session,
)
from llm_engineering.model.evaluation.config import EvaluationConfig
from llm_engineering.model.evaluation.evaluator import ModelOutputs, ModelUnderTest
from llm_engineering.model.evaluation.sagemaker_entry import (
    channel_name,
    models_argument,
    read_job_outputs,
    write_job_rows,
)
from llm_engineering.model.finetuning.data import Row
from llm_engineering.settings import Settings


def evaluation_job_spec(
    config: EvaluationConfig, models: Sequence[ModelUnderTest], rows: Sequence[Row], staging: Path
) -> TrainingJobSpec:
    """The job for this evaluation: code and test rows staged under `staging`, each model's weights as a channel."""
    source_dir = staging / "code"
    entry_point = stage_job_code("evaluating", source_dir)
    channels = {"test": write_job_rows(rows, staging / "test").parent}
    channels |= {channel_name(model): model.folder for model in models}
    # The sagemaker section's keys are the spec's machine fields, by name.
    return TrainingJobSpec(
        job_name=f"twin-evaluation-{time.strftime('%Y%m%d-%H%M%S')}",
        source_dir=source_dir,
        entry_point=entry_point,
        hyperparameters={"config": config.model_dump_json(), "models": models_argument(models)},
        channels=channels,
        **config.sagemaker.model_dump(),
    )


def outputs_on_sagemaker(
    config: EvaluationConfig, models: Sequence[ModelUnderTest], rows: Sequence[Row], settings: Settings
) -> dict[str, ModelOutputs]:
    """Run the evaluation entry point as a SageMaker job, wait for it, and read back every model's outputs."""
    session = sagemaker_session(settings)
    with tempfile.TemporaryDirectory() as staging:
        spec = evaluation_job_spec(config, models, rows, Path(staging))
        estimator = launch_training_job(spec, settings, session, wait=True)
    output = settings.data_dir / "evaluation" / spec.job_name
    download_model(estimator.model_data, session, output)
    return read_job_outputs(output)
