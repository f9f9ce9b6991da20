"""Whether a process still runs: for the pid files and lock files of the embedded servers and stores."""

import contextlib
import os
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists and is not a zombie (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); look at its state where /proc exists.
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        with contextlib.suppress(OSError):
            return "\nState:\tZ" not in status.read_text()
    return True
