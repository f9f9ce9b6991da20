"""Moving a version to the production stage of the Model Control Plane, with who decided it and why on the version."""

from datetime import UTC, datetime
from typing import Any

from loguru import logger
from zenml import log_metadata
from zenml.enums import ModelStages
from zenml.model.model import Model

from llm_engineering.model.registry import find_model_version, uninterrupted


def promote_to_production(model_name: str, version: int, *, decided_by: str, reason: str) -> None:
    """Set `version` to production (the previous production version is archived) and record why on the version."""
    with uninterrupted(f"the promotion of {model_name} version {version}"):
        Model(name=model_name, version=version).set_stage(ModelStages.PRODUCTION, force=True)
        record_promotion(model_name, version, promoted=True, decided_by=decided_by, reason=reason)
    logger.info("{} version {} is now in production ({}): {}", model_name, version, decided_by, reason)


def record_promotion(model_name: str, version: int, *, promoted: bool, decided_by: str, reason: str) -> None:
    """The promotion decision (taken or refused) as metadata on the version, read on the dashboard."""
    metadata: dict[str, Any] = {
        "promotion": {
            "promoted": promoted,
            "decided_by": decided_by,
            "reason": reason,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    }
    log_version_metadata(model_name, version, metadata)


def log_version_metadata(model_name: str, version: int, metadata: dict[str, Any]) -> None:
    """Metadata on a version found by number (by id: a named version such as "sft-<date>" is not found by "3")."""
    found = find_model_version(model_name, version)
    log_metadata(metadata=metadata, model_version_id=found.id)
