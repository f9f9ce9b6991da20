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


def test_version_flag_picks_the_version_to_optimize(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["optimize-model", "--version", "3", "--print-config"]) == 0
    printed = capsys.readouterr().out
    assert "version: '3'" in printed and "weight_format: int8" in printed


def test_version_flag_on_a_pipeline_without_a_version_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["feature-engineering", "--version", "3"]) == 2
    assert (
        "--version is for pipelines whose config has a version; feature-engineering has none" in capsys.readouterr().err
    )
