"""Training on SageMaker: the same rows, base and entry point, in a Hugging Face training job; registered alike."""

import json
import tempfile
import time
from pathlib import Path
from typing import Annotated

from zenml import step

from llm_engineering.infrastructure.aws.training_job import (
    TrainingJobSpec,
    download_model,
    launch_training_job,
    sagemaker_session,
)
from llm_engineering.infrastructure.zenml_settings import settings_for_step
from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.finetuning.data import TrainingRows
from llm_engineering.model.finetuning.sagemaker_entry import METRICS_FILE, stage_job_code, write_job_dataset
from llm_engineering.model.finetuning.trainer import ADAPTER_DIR, MERGED_DIR, TrainingOutcome, run_key
from llm_engineering.model.registry import ModelFolder, ModelFolderMaterializer
from steps.training.train import record_outcome, training_base, training_rows


def job_spec(config: TrainingConfig, rows: TrainingRows, base_model: str | None, staging: Path) -> TrainingJobSpec:
    """The job for this config: code and dataset staged under `staging`, the SFT model as a channel for DPO."""
    source_dir = staging / "code"
    entry_point = stage_job_code(source_dir)
    channels = {"train": write_job_dataset(rows, staging / "train").parent}
    if base_model is not None:
        channels["model"] = Path(base_model)
    section = config.sagemaker
    return TrainingJobSpec(
        job_name=f"twin-{config.finetuning_type}-{time.strftime('%Y%m%d-%H%M%S')}",
        source_dir=source_dir,
        entry_point=entry_point,
        hyperparameters={"config": config.model_dump_json()},
        channels=channels,
        instance_type=section.instance_type,
        instance_count=section.instance_count,
        volume_size_gb=section.volume_size_gb,
        max_run_s=section.max_run_s,
        transformers_version=section.transformers_version,
        pytorch_version=section.pytorch_version,
        py_version=section.py_version,
        s3_prefix=section.s3_prefix,
    )


@step(
    enable_cache=False,
    output_materializers={"lora_adapter": ModelFolderMaterializer, "merged_model": ModelFolderMaterializer},
)
def train_on_sagemaker(
    config: TrainingConfig,
) -> tuple[Annotated[ModelFolder, "lora_adapter"], Annotated[ModelFolder, "merged_model"]]:
    """Run the training entry point as a SageMaker job, wait for it, and register its model like a local one."""
    settings = settings_for_step()
    rows = training_rows(config)
    # SFT: the job downloads base_model from the Hub itself; DPO: the registry's SFT model goes up as a channel.
    base_model, base_description = training_base(config, settings) if config.finetuning_type == "dpo" else (None, None)
    session = sagemaker_session(settings)
    with tempfile.TemporaryDirectory() as staging:
        spec = job_spec(config, rows, base_model, Path(staging))
        estimator = launch_training_job(spec, settings, session, wait=True)
    output = settings.data_dir / "training" / run_key(config, spec.job_name, rows) / "sagemaker"
    download_model(estimator.model_data, session, output)
    metrics = json.loads((output / METRICS_FILE).read_text())
    backend = str(metrics.pop("backend"))
    metrics.pop("dataset", None)
    outcome = TrainingOutcome(
        adapter_dir=output / ADAPTER_DIR, merged_dir=output / MERGED_DIR, metrics=metrics, backend=backend
    )
    record_outcome(config, outcome, base_description or config.base_model, rows)
    return ModelFolder(outcome.adapter_dir), ModelFolder(outcome.merged_dir)
