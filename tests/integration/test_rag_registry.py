"""Which model the twin deploys and answers with, read from the ZenML model registry (the session's local store)."""

from pathlib import Path

import pytest

from llm_engineering.domain.exceptions import PipelineNotAvailableError
from llm_engineering.model.finetuning.config import TWIN_MODEL_NAME
from llm_engineering.model.inference.production import find_production_model
from llm_engineering.settings import load_settings
from tools.sagemaker_endpoint import production_model_location


@pytest.mark.slow
def test_without_a_production_twinllama_deploy_says_what_to_do_and_inference_falls_back(tmp_path: Path) -> None:
    with pytest.raises(PipelineNotAvailableError, match=r"run the training pipeline first.*--model"):
        production_model_location(load_settings(_env_file=None))
    assert find_production_model(TWIN_MODEL_NAME, tmp_path) is None
