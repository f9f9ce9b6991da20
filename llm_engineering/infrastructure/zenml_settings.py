"""Settings kept as a ZenML secret, so remote steps get the same endpoints and keys as a laptop."""

from typing import Any

from loguru import logger

from llm_engineering.settings import Settings, get_settings, load_settings

SECRET_NAME = "llm_twin_settings"  # noqa: S105 - the secret's name, not its value


def settings_to_secret_values(settings: Settings) -> dict[str, str]:
    """Every variable that is set, as strings (secrets revealed: the ZenML secret store keeps them)."""
    values: dict[str, str] = {}
    for name in Settings.model_fields:
        value: Any = getattr(settings, name)
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        values[name] = str(value)
    return values


def export_settings_to_zenml(settings: Settings) -> int:
    """Create or update the ZenML secret; returns how many variables it holds."""
    from zenml.client import Client

    values = settings_to_secret_values(settings)
    client = Client()
    try:
        client.get_secret(SECRET_NAME)
    except KeyError:
        client.create_secret(name=SECRET_NAME, values=values)
    else:
        client.update_secret(name_id_or_prefix=SECRET_NAME, add_or_update_values=values)
    return len(values)


def settings_for_step() -> Settings:
    """Settings inside a pipeline step: the ZenML secret when it exists, else the environment."""
    from zenml.client import Client

    try:
        secret = Client().get_secret(SECRET_NAME)
    except (KeyError, RuntimeError):
        return get_settings()
    logger.info("Using settings from the ZenML secret {}.", SECRET_NAME)
    return load_settings(**secret.secret_values)
