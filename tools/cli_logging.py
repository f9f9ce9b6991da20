"""The one logging set-up every entry point calls."""

import logging
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


def zenml_console_to_stderr() -> None:
    """Send ZenML's console logs (its first-run set-up, stack warnings) to stderr, where ours go.

    ZenML writes them to stdout, which a command that prints its result there (status --json) keeps for the result.
    """
    from zenml.logger import ZenMLConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, ZenMLConsoleHandler):
            handler.setStream(sys.stderr)
