"""The code a SageMaker job runs, staged once for both jobs: this package, an entry script, and requirements.txt.

The entry scripts are modules of this package (`train_entry`, `evaluate_entry`), copied to the root of the job's
source folder, where the Hugging Face toolkit runs them as `python <script> --<hyperparameter> <value>`. The
requirements pin each distribution the job installs on top of the Hugging Face training image (which has torch and
CUDA) to the version installed here, so the job runs the libraries the local run and the tests ran.
"""

import shutil
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

from llm_engineering.bootstrap import evaluate_entry, train_entry

JobKind = Literal["training", "evaluating"]

_TRAINING = ("transformers", "trl", "peft", "accelerate", "datasets", "pydantic", "loguru")


@dataclass(frozen=True)
class JobCode:
    """What one kind of job runs: its entry module's file and the distributions it installs."""

    entry_file: Path
    distributions: tuple[str, ...]


JOB_CODE: dict[JobKind, JobCode] = {
    "training": JobCode(Path(train_entry.__file__), _TRAINING),
    # The in-process LLM client needs these on top of the training job's.
    "evaluating": JobCode(Path(evaluate_entry.__file__), (*_TRAINING, "pydantic-settings", "httpx", "tqdm", "gguf")),
}


def job_requirements(job: JobKind) -> list[str]:
    """requirements.txt's lines for `job`: each distribution pinned to the version installed here."""
    lines = []
    for name in JOB_CODE[job].distributions:
        try:
            lines.append(f"{name}=={version(name)}")
        except PackageNotFoundError as error:
            raise RuntimeError(
                f"{name} is not installed here, so the {job} job cannot pin it: install the project (make setup)."
            ) from error
    return lines


def stage_job_code(job: JobKind, target: Path) -> str:
    """Write the job's source folder (the package, the entry script, requirements.txt); the entry script's name."""
    code = JOB_CODE[job]
    package = Path(__file__).resolve().parents[1]
    shutil.copytree(package, target / package.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copyfile(code.entry_file, target / code.entry_file.name)
    (target / "requirements.txt").write_text("\n".join(job_requirements(job)) + "\n", encoding="utf-8")
    return code.entry_file.name
