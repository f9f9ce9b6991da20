from pathlib import Path

import pytest

from llm_engineering.bootstrap.llm import build_llm_client, llm_cache_dir
from llm_engineering.domain.exceptions import SettingsError
from llm_engineering.infrastructure.llm.cache import CachedLLMClient
from llm_engineering.infrastructure.llm.local import LocalTransformersClient, load_local_llm
from llm_engineering.infrastructure.llm.openai_compatible import OpenAICompatibleClient
from llm_engineering.infrastructure.llm.sagemaker import SageMakerTGIClient
from tests.conftest import make_settings


def test_default_is_the_local_model_behind_the_cache_and_loads_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, LLM_BACKEND="local")
    loads_before = load_local_llm.cache_info()
    client = build_llm_client(settings)
    assert isinstance(client, CachedLLMClient)
    assert (client.backend, client.model_id) == ("local", "HuggingFaceTB/SmolLM2-135M-Instruct")
    assert client.directory == tmp_path.resolve() / "cache" / "llm"
    assert isinstance(build_llm_client(settings, use_cache=False), LocalTransformersClient)
    assert load_local_llm.cache_info() == loads_before


def test_openai_backend_needs_an_endpoint_or_a_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="OPENAI_API_KEY or OPENAI_BASE_URL"):
        make_settings(tmp_path, LLM_BACKEND="openai", OPENAI_API_KEY=None, OPENAI_BASE_URL=None)
    settings = make_settings(
        tmp_path, LLM_BACKEND="openai", OPENAI_BASE_URL="http://127.0.0.1:9/v1", OPENAI_MODEL_ID="twin"
    )
    client = build_llm_client(settings, use_cache=False)
    assert isinstance(client, OpenAICompatibleClient)
    assert (client.backend, client.model_id) == ("openai", "twin")


def test_sagemaker_backend_is_built_without_calling_aws(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, LLM_BACKEND="sagemaker", SAGEMAKER_ENDPOINT_INFERENCE="twin-endpoint", LLM_CACHE_DIR=tmp_path / "c"
    )
    client = build_llm_client(settings)
    assert isinstance(client, CachedLLMClient)
    assert (client.backend, client.model_id) == ("sagemaker", "twin-endpoint")
    assert client.directory == llm_cache_dir(settings) == (tmp_path / "c").resolve()
    assert isinstance(build_llm_client(settings, use_cache=False), SageMakerTGIClient)
