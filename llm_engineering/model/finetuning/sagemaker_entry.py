"""The entry point a SageMaker training job runs: the same `train` as a local run, wired to SageMaker's folders.

SageMaker passes the hyperparameters as arguments (`--config '<TrainingConfig JSON>'`) and the folders as SM_*
variables: SM_CHANNEL_TRAIN holds dataset.json, SM_CHANNEL_MODEL (DPO only) the SFT model to start from, and
whatever is written to SM_MODEL_DIR becomes the job's model.tar.gz: merged/, adapter/ and metrics.json.
"""

import argparse
import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from loguru import logger

from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.finetuning.data import TrainingRows, rows_from_json
from llm_engineering.model.finetuning.trainer import ADAPTER_DIR, MERGED_DIR, train

DATASET_FILE = "dataset.json"
METRICS_FILE = "metrics.json"


def write_job_dataset(rows: TrainingRows, folder: Path) -> Path:
    """The train channel's content: the rows in this project's export format, which the job reads back."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DATASET_FILE
    path.write_text(json.dumps({"all": {"train": rows.train, "test": rows.test}}, ensure_ascii=False))
    return path


def job_arguments(
    argv: Sequence[str],
    environ: Mapping[str, str],
    *,
    job: str,
    hyperparameters: Mapping[str, str],
    variables: Sequence[str],
) -> argparse.Namespace:
    """The hyperparameters SageMaker passes as `--name value` (all required), once its SM_* `variables` are checked.

    `job` is the pipeline whose job this is (training, evaluating): the error says to run that pipeline locally.
    """
    parser = argparse.ArgumentParser(description=f"LLM Twin {job}, as run inside a SageMaker job.")
    for name, meaning in hyperparameters.items():
        parser.add_argument(f"--{name}", required=True, help=meaning)
    args, unknown = parser.parse_known_args(list(argv))
    if unknown:
        logger.warning("Ignoring arguments this entry point does not know: {}", unknown)
    missing = [name for name in variables if not environ.get(name)]
    if missing:
        raise RuntimeError(
            f"{', '.join(missing)} not set: this entry point runs inside a SageMaker job "
            f"(run locally with llm-twin run {job} instead)."
        )
    return args


def run_job(argv: Sequence[str], environ: Mapping[str, str]) -> Path:
    """Train as the job configured by `argv` and the SM_* variables; the model folder it filled."""
    args = job_arguments(
        argv,
        environ,
        job="training",
        hyperparameters={"config": "the TrainingConfig as JSON"},
        variables=("SM_CHANNEL_TRAIN", "SM_MODEL_DIR"),
    )
    config = TrainingConfig.model_validate_json(args.config)
    rows = rows_from_json(Path(environ["SM_CHANNEL_TRAIN"]) / DATASET_FILE, config.finetuning_type)
    base_model = environ.get("SM_CHANNEL_MODEL") or config.base_model
    model_dir = Path(environ["SM_MODEL_DIR"])
    # SageMaker keeps /opt/ml/checkpoints in S3 when the job has a checkpoint location: a restarted job resumes.
    work_dir = Path(environ.get("SM_CHECKPOINT_DIR", "/opt/ml/checkpoints"))
    outcome = train(config, base_model, rows, work_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    for source, name in ((outcome.merged_dir, MERGED_DIR), (outcome.adapter_dir, ADAPTER_DIR)):
        shutil.copytree(source, model_dir / name, dirs_exist_ok=True)
    (model_dir / METRICS_FILE).write_text(
        json.dumps({**outcome.metrics, "backend": outcome.backend, "dataset": rows.source}, indent=2)
    )
    logger.info("Saved the merged model, adapter and metrics to {}.", model_dir)
    return model_dir


def main() -> int:
    """Console entry: the arguments and environment SageMaker gives the job."""
    run_job(sys.argv[1:], os.environ)
    return 0
