"""SageMaker job code is staged one way for both jobs, with requirements pinned to what is installed here."""

from importlib.metadata import version
from pathlib import Path

import pytest

from llm_engineering.bootstrap.sagemaker_jobs import job_requirements, stage_job_code


@pytest.mark.parametrize(("job", "script"), [("training", "train_entry.py"), ("evaluating", "evaluate_entry.py")])
def test_a_job_gets_the_package_its_entry_script_and_pinned_requirements(job: str, script: str, tmp_path: Path) -> None:
    assert stage_job_code(job, tmp_path) == script  # type: ignore[arg-type]
    assert (tmp_path / "llm_engineering" / "model" / "finetuning" / "trainer.py").is_file()
    assert not list(tmp_path.rglob("__pycache__"))
    entry = (tmp_path / script).read_text()
    assert 'if __name__ == "__main__":' in entry and "import" in entry
    requirements = (tmp_path / "requirements.txt").read_text().split()
    assert f"transformers=={version('transformers')}" in requirements
    assert f"trl=={version('trl')}" in requirements
    assert all("==" in line for line in requirements)


def test_the_evaluation_job_installs_what_the_training_job_does_and_its_client_s_needs() -> None:
    training, evaluating = job_requirements("training"), job_requirements("evaluating")
    assert set(training) < set(evaluating)
    assert {line.split("==")[0] for line in set(evaluating) - set(training)} == {
        "pydantic-settings",
        "httpx",
        "tqdm",
        "gguf",
    }
