import subprocess
import sys
from pathlib import Path

import pytest

from tools.run import PIPELINES, PipelineEntry, main


def test_help_lists_every_pipeline() -> None:
    result = subprocess.run([sys.executable, "-m", "tools.run", "--help"], capture_output=True, text=True, check=True)
    for name in PIPELINES:
        assert name in result.stdout
    assert "--config" in result.stdout and "--no-cache" in result.stdout


def test_unknown_pipeline_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-pipeline"])
    assert exit_info.value.code == 2


def test_pipeline_not_built_yet_says_so(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    entry = PipelineEntry(
        "pipelines.not_built", "not_built", Path("configs/x.yaml"), "not built", "llm_engineering.not_built:Config"
    )
    monkeypatch.setitem(PIPELINES, "not-built", entry)
    assert main(["not-built"]) == 2
    assert "not built yet" in capsys.readouterr().err
