import tomllib

import pytest
import typer.main

from tests.cli_support import llm_twin
from tests.conftest import REPO_ROOT
from tools.cli import app
from tools.run import PIPELINES


def test_help_lists_every_pipeline(capsys: pytest.CaptureFixture[str]) -> None:
    assert llm_twin(["run", "--help"]) == 0
    shown = capsys.readouterr().out
    for name in PIPELINES:
        assert name in shown
    assert "--config" in shown and "--no-cache" in shown


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert llm_twin(["--help"]) == 0
    shown = capsys.readouterr().out
    for command in ("quickstart", "run", "status", "ask", "search", "serve", "call", "promote", "infra", "warehouse"):
        assert f"  {command} " in shown
    assert "sample-site" in shown and "sagemaker" in shown
    assert llm_twin(["warehouse", "--help"]) == 0
    assert "export" in capsys.readouterr().out


def test_every_poe_task_that_runs_a_tool_names_a_real_subcommand() -> None:
    tasks = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["poe"]["tasks"]
    commands = [task.get("cmd") or task.get("shell") for task in tasks.values() if isinstance(task, dict)]
    calls = [part.split() for command in commands if command for part in command.split("llm-twin ")[1:]]
    assert len(calls) >= 20 and not any("python -m tools" in (c or "") for c in commands)
    top = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for words in calls:
        command = top[words[0]]
        if hasattr(command, "commands"):
            assert words[1] in command.commands, words


def test_unknown_pipeline_is_a_usage_error() -> None:
    assert llm_twin(["run", "no-such-pipeline"]) == 2


def test_version_flag_picks_the_version_to_optimize(capsys: pytest.CaptureFixture[str]) -> None:
    assert llm_twin(["run", "optimize-model", "--version", "3", "--print-config"]) == 0
    printed = capsys.readouterr().out
    assert "version: '3'" in printed and "weight_format: int8" in printed


def test_version_flag_on_a_pipeline_without_a_version_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert llm_twin(["run", "feature-engineering", "--version", "3"]) == 2
    assert (
        "--version is for pipelines whose config has a version; feature-engineering has none" in capsys.readouterr().err
    )
