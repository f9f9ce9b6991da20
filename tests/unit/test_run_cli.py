import subprocess
import sys

import pytest

from tools.run import PIPELINES, main


def test_help_lists_every_pipeline() -> None:
    result = subprocess.run([sys.executable, "-m", "tools.run", "--help"], capture_output=True, text=True, check=True)
    for name in PIPELINES:
        assert name in result.stdout
    assert "--config" in result.stdout and "--no-cache" in result.stdout


def test_unknown_pipeline_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-pipeline"])
    assert exit_info.value.code == 2
