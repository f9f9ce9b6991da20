"""`poe export-settings-to-zenml`: steps read the stored secret instead of the environment."""

from collections.abc import Iterator

import pytest

from llm_engineering.infrastructure.zenml_settings import SECRET_NAME, export_settings_to_zenml, settings_for_step
from llm_engineering.settings import Settings, load_settings


@pytest.fixture
def zenml_secret_cleanup() -> Iterator[None]:
    from zenml.client import Client

    yield
    Client().delete_secret(SECRET_NAME)


def test_exported_settings_are_what_steps_read(
    pipeline_env: Settings, zenml_secret_cleanup: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = load_settings(_env_file=None, DATABASE_NAME="twin_from_secret", OPENAI_API_KEY="sk-test-123")
    assert export_settings_to_zenml(exported) >= 10
    monkeypatch.setenv("DATABASE_NAME", "twin_from_env")
    from_step = settings_for_step()
    assert from_step.DATABASE_NAME == "twin_from_secret"
    assert from_step.OPENAI_API_KEY is not None and from_step.OPENAI_API_KEY.get_secret_value() == "sk-test-123"
    # A second export updates the same secret rather than failing.
    export_settings_to_zenml(exported.model_copy(update={"DATABASE_NAME": "twin_updated"}))
    assert settings_for_step().DATABASE_NAME == "twin_updated"


def test_without_a_secret_steps_use_the_environment(pipeline_env: Settings) -> None:
    assert settings_for_step().DATABASE_NAME == pipeline_env.DATABASE_NAME
