"""Ctrl-C as a user sends it: a real SIGINT to a process that is writing to the registry."""

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO_ROOT

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from llm_engineering.model.registry import uninterrupted

    written = Path(sys.argv[1])
    try:
        with uninterrupted("a test write"):
            os.kill(os.getpid(), signal.SIGINT)
            written.write_text("whole")
        print("not interrupted")
    except KeyboardInterrupt:
        print("interrupted after the write:", written.read_text())
        sys.exit(130)
    """
)


def test_a_sigint_during_a_registry_write_stops_the_process_after_the_write(tmp_path: Path) -> None:
    # A process of its own: the signal goes to a fresh interpreter, not to a test worker that other tests have used.
    written = tmp_path / "written"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(written)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert child.returncode == 130, child.stderr
    assert child.stdout.strip() == "interrupted after the write: whole"
    assert "Ctrl-C was held until a test write was written whole; stopping now." in child.stderr
