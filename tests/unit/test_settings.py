from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from llm_engineering.domain.exceptions import SettingsError
from llm_engineering.settings import Settings, get_settings, load_settings


def test_defaults_are_the_embedded_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_HOST", "QDRANT_DATABASE_HOST", "USE_QDRANT_CLOUD", "LLM_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.uses_embedded_mongo
    assert settings.mongo_uri == f"mongodb://127.0.0.1:{settings.LOCAL_DATABASE_PORT}"
    assert settings.qdrant_backend == "local"
    assert settings.DATABASE_NAME == "twin"
    assert settings.TEXT_EMBEDDING_MODEL_ID == "sentence-transformers/all-MiniLM-L6-v2"


def test_environment_switches_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_HOST", "mongodb://u:p@db.example:27017")
    monkeypatch.setenv("QDRANT_DATABASE_HOST", "qdrant.example")
    settings = load_settings(_env_file=None)
    assert not settings.uses_embedded_mongo
    assert settings.qdrant_backend == "server"
    monkeypatch.setenv("USE_QDRANT_CLOUD", "true")
    monkeypatch.setenv("QDRANT_CLOUD_URL", "https://cluster.cloud.qdrant.io")
    assert load_settings(_env_file=None).qdrant_backend == "cloud"


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_NAME", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("DATABASE_NAME=from_env_file\n")
    assert load_settings(_env_file=env_file).DATABASE_NAME == "from_env_file"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_HOST", "localhost:27017", "DATABASE_HOST"),
        ("LOCAL_DATABASE_PORT", "99999", "LOCAL_DATABASE_PORT"),
        ("OPENAI_API_KEY", "changeme", "OPENAI_API_KEY"),
        ("COMET_API_KEY", "<your key>", "COMET_API_KEY"),
        ("LLM_BACKEND", "gpt", "LLM_BACKEND"),
    ],
)
def test_invalid_values_fail_fast_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=message):
        load_settings(_env_file=None)


def test_cloud_without_url_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USE_QDRANT_CLOUD", "true")
    monkeypatch.delenv("QDRANT_CLOUD_URL", raising=False)
    with pytest.raises(SettingsError, match="QDRANT_CLOUD_URL"):
        load_settings(_env_file=None)


def test_get_settings_is_cached() -> None:
    get_settings.cache_clear()
    assert get_settings() is get_settings()
    get_settings.cache_clear()


def test_env_example_documents_every_setting() -> None:
    from pathlib import Path

    from llm_engineering.settings import Settings

    text = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    missing = [name for name in Settings.model_fields if f"{name}=" not in text]
    assert missing == []


def test_the_service_refuses_to_bind_beyond_loopback_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("API_KEY", "API_HOST", "API_ALLOW_NO_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert load_settings(_env_file=None).API_HOST == "127.0.0.1"
    load_settings(_env_file=None).check_service_binding()
    load_settings(_env_file=None, API_HOST="::1").check_service_binding()
    exposed = load_settings(_env_file=None, API_HOST="0.0.0.0")  # noqa: S104 - the guard under test
    with pytest.raises(SettingsError, match="API_ALLOW_NO_KEY"):
        exposed.check_service_binding()
    load_settings(_env_file=None, API_HOST="0.0.0.0", API_KEY="a-real-key").check_service_binding()  # noqa: S104
    load_settings(_env_file=None, API_HOST="10.0.0.5", API_ALLOW_NO_KEY=True).check_service_binding()


def test_a_bind_address_that_needs_a_key_fails_the_service_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli_support import llm_twin

    for name in ("API_KEY", "API_ALLOW_NO_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("API_HOST", "0.0.0.0")  # noqa: S104 - the guard under test
    get_settings.cache_clear()
    try:
        assert get_settings().API_HOST == "0.0.0.0"  # noqa: S104 - other commands load these settings as they are
        assert llm_twin(["serve"]) == 2
        assert "API_HOST=0.0.0.0 exposes the service beyond this machine without API_KEY" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    with pytest.raises(SettingsError, match="API_KEY"):
        load_settings(_env_file=None, API_KEY="changeme")


def test_endpoint_limits_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError, match="SAGEMAKER_MIN_REPLICAS"):
        load_settings(_env_file=None, SAGEMAKER_MIN_REPLICAS=3, SAGEMAKER_MAX_REPLICAS=2)
    with pytest.raises(SettingsError, match="MAX_INPUT_LENGTH"):
        load_settings(_env_file=None, MAX_INPUT_LENGTH=4096, MAX_TOTAL_TOKENS=4096)


def test_opik_is_on_only_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPIK_API_KEY", "OPIK_URL_OVERRIDE"):
        monkeypatch.delenv(name, raising=False)
    assert not load_settings(_env_file=None).opik_enabled
    assert not load_settings(_env_file=None, OPIK_URL_OVERRIDE="  ").opik_enabled
    assert load_settings(_env_file=None, OPIK_URL_OVERRIDE="http://127.0.0.1:5173/api").opik_enabled
    assert load_settings(_env_file=None, OPIK_API_KEY="opik-key-1").opik_enabled


def test_the_service_answers_with_the_repetition_controls_the_evaluation_scores_with() -> None:
    from llm_engineering.model.evaluation.config import EvaluationConfig

    settings = load_settings(_env_file=None)
    scored = EvaluationConfig().generation
    assert scored.repetition_penalty == settings.API_REPETITION_PENALTY
    assert scored.no_repeat_ngram_size == settings.API_NO_REPEAT_NGRAM_SIZE


def test_settings_are_grouped_by_concern_under_the_same_variable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from llm_engineering.settings import (
        AWSSettings,
        CrawlerSettings,
        EmbeddingSettings,
        LLMSettings,
        ServingSettings,
        StoreSettings,
        TrackingSettings,
    )

    groups: list[type[BaseSettings]] = [
        StoreSettings,
        EmbeddingSettings,
        LLMSettings,
        TrackingSettings,
        AWSSettings,
        ServingSettings,
        CrawlerSettings,
    ]
    names = [name for group in groups for name in group.model_fields]
    assert len(names) == len(set(names)), "a variable belongs to one group only"
    assert set(names) == set(Settings.model_fields)
    # The book's variable names, read by the whole and by the group alike.
    monkeypatch.setenv("DATABASE_NAME", "book")
    monkeypatch.setenv("OPENAI_MODEL_ID", "gpt-4o-mini-book")
    monkeypatch.setenv("SAGEMAKER_ENDPOINT_INFERENCE", "twin-book")
    whole = Settings(_env_file=None)
    assert (whole.DATABASE_NAME, whole.OPENAI_MODEL_ID, whole.SAGEMAKER_ENDPOINT_INFERENCE) == (
        "book",
        "gpt-4o-mini-book",
        "twin-book",
    )
    assert StoreSettings(_env_file=None).DATABASE_NAME == "book"
    assert AWSSettings(_env_file=None).SAGEMAKER_ENDPOINT_INFERENCE == "twin-book"
