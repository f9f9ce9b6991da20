"""The `llm-twin` command line run in the test's own process, as the console script runs it."""

import sys
from collections.abc import Sequence

from loguru import logger

from tools.cli import app


def llm_twin(args: Sequence[str]) -> int:
    """Run `llm-twin ARGS` here; its exit code (a usage error is 2, as on the command line).

    The CLI binds its log sink to the sys.stderr of the call (pytest's capture, closed after the test); afterwards
    the log goes to whatever sys.stderr is then, so later tests do not write to a closed stream.
    """
    try:
        app(list(args), prog_name="llm-twin")
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    finally:
        logger.remove()
        logger.add(_to_current_stderr)
    return 0


def _to_current_stderr(message: str) -> None:
    sys.stderr.write(message)
