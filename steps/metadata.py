"""Metadata a person reads on the dashboard, attached to the running step (and, if asked, its output)."""

from typing import Any

from loguru import logger
from zenml import get_step_context, log_metadata


def record_metadata(metadata: dict[str, Any], *, on_output: bool = False) -> None:
    """Log metadata on the step (and its output artifact); called outside a run (`step.entrypoint()`), log it."""
    try:
        get_step_context()
    except RuntimeError:
        logger.info("Step metadata (not in a pipeline run): {}", metadata)
        return
    log_metadata(metadata=metadata)
    if on_output:
        log_metadata(metadata=metadata, infer_artifact=True)
