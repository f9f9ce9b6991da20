"""The GitHub Actions workflows pass actionlint: expressions, contexts, job graphs, and actions whose runtime GitHub
still runs (an action on a retired Node runtime fails the job on GitHub's runners)."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    assert ACTIONLINT.exists(), f"{ACTIONLINT} is missing: actionlint is in the dev extra (make setup)"
    workflows = sorted(str(path) for path in (REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))
    assert workflows, "no workflow files found"
    # -shellcheck= : the run: scripts are not passed to shellcheck, which is not part of the setup, so that the
    # result does not depend on whether a machine happens to have it.
    result = subprocess.run(
        [str(ACTIONLINT), "-shellcheck=", "-no-color", *workflows],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
