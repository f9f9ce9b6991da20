"""The entry point a SageMaker job runs for `runner: sagemaker`: the heavy half of the evaluation.

That is the answers and perplexity of every model, on the job's GPU, with the same functions a local run uses.

SageMaker passes the hyperparameters as arguments (`--config '<EvaluationConfig JSON>' --models '<JSON list>'`)
and the folders as SM_* variables: SM_CHANNEL_TEST holds rows.json, SM_CHANNEL_<ROLE> each model's weights, and
what is written to SM_MODEL_DIR (outputs.json) comes back as the job's model.tar.gz. The measures and the judge run
afterwards in the pipeline step, on these outputs. The entry script (`llm_engineering.bootstrap.evaluate_entry`)
passes in how a model folder becomes an LLMClient (the in-process transformers client).
"""

import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

from loguru import logger

from llm_engineering.domain.ports import LLMClient
from llm_engineering.model.evaluation.config import EvaluationConfig
from llm_engineering.model.evaluation.evaluator import ModelOutputs, ModelUnderTest, model_outputs
from llm_engineering.model.finetuning.data import Row
from llm_engineering.model.finetuning.sagemaker_entry import job_arguments

ROWS_FILE = "rows.json"
OUTPUTS_FILE = "outputs.json"
ClientFactory = Callable[[Path, int], LLMClient]


def write_job_rows(rows: Sequence[Row], folder: Path) -> Path:
    """The test channel's content: the held-out rows the models answer."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ROWS_FILE
    path.write_text(json.dumps(list(rows), ensure_ascii=False), encoding="utf-8")
    return path


def channel_name(model: ModelUnderTest) -> str:
    """The job channel that carries a model's weights (SM_CHANNEL_<NAME> inside the job)."""
    return f"model_{model.role}"


def models_argument(models: Sequence[ModelUnderTest]) -> str:
    """The `--models` hyperparameter: role, label and version of each model, in order."""
    return json.dumps([{"role": m.role, "label": m.label, "version": m.version} for m in models])


def read_job_outputs(model_dir: Path) -> dict[str, ModelOutputs]:
    """The job's outputs.json, by role."""
    data = json.loads((model_dir / OUTPUTS_FILE).read_text(encoding="utf-8"))
    return {role: ModelOutputs(**outputs) for role, outputs in data.items()}


def run_job(argv: Sequence[str], environ: Mapping[str, str], make_client: ClientFactory) -> Path:
    """Answer and measure perplexity as the job configured by `argv` and the SM_* variables; the output folder."""
    args = job_arguments(
        argv,
        environ,
        job="evaluating",
        hyperparameters={"config": "the EvaluationConfig as JSON", "models": "JSON list of {role, label, version}"},
        variables=("SM_CHANNEL_TEST", "SM_MODEL_DIR"),
    )
    config = EvaluationConfig.model_validate_json(args.config)
    rows: list[Row] = json.loads((Path(environ["SM_CHANNEL_TEST"]) / ROWS_FILE).read_text(encoding="utf-8"))
    outputs: dict[str, dict[str, object]] = {}
    for item in json.loads(args.models):
        channel = f"SM_CHANNEL_MODEL_{str(item['role']).upper()}"
        if not environ.get(channel):
            raise RuntimeError(f"{channel} not set: the job has no weights for the {item['role']} model.")
        model = ModelUnderTest(item["role"], item["label"], item["version"], Path(environ[channel]))
        client = make_client(model.folder, config.generation.batch_size)
        outputs[model.role] = asdict(model_outputs(model, client, rows, config.generation, config.max_length))
    model_dir = Path(environ["SM_MODEL_DIR"])
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / OUTPUTS_FILE).write_text(json.dumps(outputs, ensure_ascii=False, indent=2), encoding="utf-8")
    logger.info("Saved the answers and perplexities of {} models to {}.", len(outputs), model_dir)
    return model_dir


def main(make_client: ClientFactory) -> int:
    """Console entry: the arguments and environment SageMaker gives the job."""
    run_job(sys.argv[1:], os.environ, make_client)
    return 0
