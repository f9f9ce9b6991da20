"""The `llm-twin` command line run in the test's own process, as the console script runs it."""

from collections.abc import Sequence

from tools.cli import app


def llm_twin(args: Sequence[str]) -> int:
    """Run `llm-twin ARGS` here; its exit code (a usage error is 2, as on the command line)."""
    try:
        app(list(args), prog_name="llm-twin")
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    return 0
