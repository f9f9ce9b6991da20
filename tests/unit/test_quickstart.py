"""The main job's own parts: stage lines read from ZenML's log, the one-line reasons, the summary table, and registry
writes that Ctrl-C cannot cut in half."""

import logging
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from llm_engineering.application.run_configs import config_or_file
from llm_engineering.model.continuous_training import ContinuousTrainingConfig
from llm_engineering.model.registry import uninterrupted
from tests.conftest import REPO_ROOT
from tools.quickstart import ALL_STAGES, StageAnnouncer, one_line, render_summary, stages_for


def quickstart_config(monkeypatch: pytest.MonkeyPatch, **changes: object) -> ContinuousTrainingConfig:
    monkeypatch.chdir(REPO_ROOT)
    config = config_or_file("configs/quickstart.yaml", ContinuousTrainingConfig)
    assert isinstance(config, ContinuousTrainingConfig)
    return config.model_copy(update=changes)


def test_the_stage_lines_come_from_zenmls_step_log_once_per_stage_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    lines: list[str] = []
    announcer = StageAnnouncer(stages_for(quickstart_config(monkeypatch)), lines.append)
    launcher = logging.getLogger("zenml.orchestrators.step_launcher")
    launcher.addHandler(announcer)
    previous = launcher.level
    launcher.setLevel(logging.INFO)
    try:
        for step in ("crawl_links_0", "crawl_links_1", "resolve_authors", "update_feature_store", "train_sft"):
            launcher.info("Step `%s` has started.", step)
        launcher.info("Step `train_sft` has finished in 3.2s.")
    finally:
        launcher.removeHandler(announcer)
        launcher.setLevel(previous)
    assert lines == ["[1/9] Crawl the sample authors …", "[2/9] Features: clean, chunk, embed …", "[5/9] SFT …"]
    assert announcer.current == "sft"


def test_a_config_without_dpo_or_export_has_fewer_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    config = quickstart_config(monkeypatch, dpo_config=None, optimize_config=None)
    assert [stage.key for stage in stages_for(config)] == [
        "etl",
        "features",
        "instruct",
        "preference",
        "sft",
        "evaluate",
        "ask",
    ]
    assert len(stages_for(quickstart_config(monkeypatch))) == len(ALL_STAGES)


def test_the_quickstart_trains_on_less_than_the_full_configs(monkeypatch: pytest.MonkeyPatch) -> None:
    quick = quickstart_config(monkeypatch)
    full = config_or_file("configs/continuous_training.yaml", ContinuousTrainingConfig)
    assert isinstance(full, ContinuousTrainingConfig) and full.dpo_config is not None and quick.dpo_config is not None
    assert quick.sft_config.num_train_epochs < full.sft_config.num_train_epochs
    assert quick.dpo_config.num_train_epochs < full.dpo_config.num_train_epochs
    assert quick.data_config == full.data_config and quick.optimize_config == full.optimize_config
    assert quick.sft_config.model_name == full.sft_config.model_name == "TwinLlama"


def test_a_reason_is_one_line_however_long_the_traceback() -> None:
    traceback = "Traceback (most recent call last):\n  File 'x.py'\nOSError: disk full\n\n"
    assert one_line(traceback) == "OSError: disk full"
    assert one_line("") == "unknown error"
    assert len(one_line("x" * 1000)) == 300


def test_the_summary_table_has_a_row_per_stage_and_says_how_it_ended() -> None:
    summary: dict[str, Any] = {
        "stages": [
            {
                "title": "SFT",
                "status": "completed",
                "seconds": 61.04,
                "made": {"version": 3, "reused": False},
                "error": None,
            },
            {
                "title": "DPO",
                "status": "failed",
                "seconds": 2.0,
                "made": {},
                "error": "train_dpo: OSError: disk full",
            },
            {"title": "Ask the twin", "status": "not run", "seconds": None, "made": {}, "error": None},
        ],
        "total_seconds": 63.2,
        "training_path": "CPU (transformers + PEFT + TRL)",
        "outcome": "stopped at DPO: train_dpo: OSError: disk full",
    }
    table = render_summary(summary).splitlines()
    assert table[0].split() == ["stage", "status", "time", "made"]
    assert "61.0 s" in table[1] and "version 3; reused False" in table[1]
    assert table[2].endswith("train_dpo: OSError: disk full")
    assert table[-1].startswith("total 63.2 s on the CPU") and table[-1].endswith(
        "stopped at DPO: train_dpo: OSError: disk full"
    )


def test_ctrl_c_during_a_registry_write_waits_for_the_write_to_finish(tmp_path: Path) -> None:
    # The handler that the block installs is called as Python calls it on Ctrl-C; a real signal to a real process is
    # tests/integration/test_ctrl_c.py.
    written = tmp_path / "written"
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt), uninterrupted("a test write"):
        held = signal.getsignal(signal.SIGINT)
        assert callable(held) and held is not before
        held(signal.SIGINT, None)
        written.write_text("whole")  # still runs: the interrupt is held
    assert written.read_text() == "whole"
    assert signal.getsignal(signal.SIGINT) is before


def test_a_registry_write_off_the_main_thread_runs_as_it_is() -> None:
    ran: list[bool] = []

    def write() -> None:
        with uninterrupted("a write in a thread"):
            ran.append(True)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()
    assert ran == [True]
