"""`llm-twin run` as its own process: a wrong config fails in one line, before ZenML is even imported."""

import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.unit.test_run_configs import write


def test_the_cli_fails_fast_with_status_2_and_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, {"author_full_names": [], "chunkin": {}})
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "tools", "run", "feature-engineering", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert time.perf_counter() - start < 5
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {path}: parameters.chunkin: unknown key; valid keys "
        "here: author_full_names, full, chunking, embedding_batch_size, "
        "write_batch_size"
    ]
