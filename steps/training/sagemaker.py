"""Training on SageMaker: the same rows, base and entry point, in a Hugging Face training job; registered alike."""

import json
import tempfile
import time
from pathlib import Path
from typing import Annotated

from zenml import step

from llm_engineering.bootstrap.sagemaker_jobs import stage_job_code
from llm_engineering.infrastructure.aws.training_job import (
    TrainingJobSpec,
    download_model,
    launch_training_job,
    sagemaker_session,
)
from llm_engineering.infrastructure.zenml_settings import settings_for_step
from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.finetuning.data import TrainingRows
from llm_engineering.model.finetuning.sagemaker_entry import METRICS_FILE, write_job_dataset
from llm_engineering.model.finetuning.trainer import ADAPTER_DIR, MERGED_DIR, TrainingOutcome
from steps.training.train import register_outcome, training_base, training_inputs


def job_spec(config: TrainingConfig, rows: TrainingRows, base_model: str | None, staging: Path) -> TrainingJobSpec:
    """The job for this config: code and dataset staged under `staging`, the SFT model as a channel for DPO."""
    source_dir = staging / "code"
    entry_point = stage_job_code("training", source_dir)
    channels = {"train": write_job_dataset(rows, staging / "train").parent}
    if base_model is not None:
        channels["model"] = Path(base_model)
    # The sagemaker section's keys are the spec's machine fields, by name.
    return TrainingJobSpec(
        job_name=f"twin-{config.finetuning_type}-{time.strftime('%Y%m%d-%H%M%S')}",
        source_dir=source_dir,
        entry_point=entry_point,
        hyperparameters={"config": config.model_dump_json()},
        channels=channels,
        **config.sagemaker.model_dump(),
    )


@step(enable_cache=False)
def train_on_sagemaker(config: TrainingConfig, sft_version: int | None = None) -> Annotated[int, "trained_version"]:
    """Run the training entry point as a SageMaker job, wait for it, and register its model like a local one.

    As locally, a version already trained on the same inputs is returned without launching a job.
    """
    inputs = training_inputs(config, sft_version)
    if inputs.reused_version is not None:
        return inputs.reused_version
    settings = settings_for_step()
    # SFT: the job downloads base_model from the Hub itself; DPO: the registry's SFT model goes up as a channel.
    base_model = training_base(config, settings, inputs.sft_number) if inputs.sft_number is not None else None
    session = sagemaker_session(settings)
    with tempfile.TemporaryDirectory() as staging:
        spec = job_spec(config, inputs.rows, base_model, Path(staging))
        estimator = launch_training_job(spec, settings, session, wait=True)
    output = settings.data_dir / "training" / inputs.key / "sagemaker"
    download_model(estimator.model_data, session, output)
    metrics = json.loads((output / METRICS_FILE).read_text())
    backend = str(metrics.pop("backend"))
    metrics.pop("dataset", None)
    outcome = TrainingOutcome(
        adapter_dir=output / ADAPTER_DIR, merged_dir=output / MERGED_DIR, metrics=metrics, backend=backend
    )
    return register_outcome(config, outcome, inputs)
