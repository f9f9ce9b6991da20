"""The one logging set-up every entry point calls."""

import sys

from loguru import logger


def configure_logging(verbose: bool = False) -> None:
    """Human-readable logs on stderr, INFO by default, DEBUG with --verbose."""
    logger.remove()
    logger.add(
        sys.stderr,
        level="DEBUG" if verbose else "INFO",
        format="<green>{time:HH:mm:ss}</green> <level>{level: <7}</level> {message}",
    )
