"""deploy/aws/llm-twin.yaml passes cfn-lint (informational rules included) and checkov, and each checkov skip in the
template is one that checkov needs, with its reason beside the resource.

These linters are also the only check of what moto does not model (tests/integration/test_aws_stack.py names it).
checkov pins packages of its own (an older boto3, networkx, packaging ...), so it lives in .venv-tools, not .venv.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from llm_engineering.infrastructure.aws.stack import TEMPLATE_PATH, parse_template

REPO_ROOT = Path(__file__).resolve().parents[2]
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
CHECKOV = REPO_ROOT / ".venv-tools" / "bin" / "checkov"


def declared_skips(template: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(logical id, check id) -> comment, for every `Metadata: checkov: skip:` entry of the template."""
    skips = {}
    for name, resource in template["Resources"].items():
        for skip in (resource.get("Metadata") or {}).get("checkov", {}).get("skip", []):
            skips[(name, skip["id"])] = skip.get("comment", "")
    return skips


def test_cfn_lint_finds_nothing() -> None:
    assert CFN_LINT.exists(), f"{CFN_LINT} is missing: cfn-lint is in the dev extra (pip install -e '.[dev]')"
    result = subprocess.run(
        [str(CFN_LINT), "--include-checks", "I", "--format", "parseable", "--", str(TEMPLATE_PATH)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_checkov_finds_nothing_and_every_skip_is_needed_and_justified() -> None:
    if not CHECKOV.exists():
        pytest.fail(
            f"{CHECKOV} is missing. checkov needs its own environment: `make setup-test` builds it (.venv-tools)."
        )
    # --skip-download: no guidelines fetched from the vendor's API (the tests run offline).
    command = [str(CHECKOV), "--file", str(TEMPLATE_PATH), "--framework", "cloudformation", "--compact"]
    result = subprocess.run(
        [*command, "--skip-download", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    report = json.loads(result.stdout)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["parsing_errors"] == 0 and report["summary"]["passed"] > 0

    skips = declared_skips(parse_template(TEMPLATE_PATH.read_text()))
    skipped = {(c["resource"].split(".", 1)[1], c["check_id"]) for c in report["results"]["skipped_checks"]}
    assert skipped == set(skips), "a skip in the template that checkov does not need, or one it did not apply"
    assert all(len(comment.split()) >= 8 for comment in skips.values()), skips
