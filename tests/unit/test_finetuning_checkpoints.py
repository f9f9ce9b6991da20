"""Which checkpoint a restarted training run resumes from."""

from pathlib import Path

from llm_engineering.model.finetuning.trainer import last_complete_checkpoint


def checkpoint(root: Path, step: int, *, complete: bool) -> Path:
    folder = root / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"weights")
    if complete:
        (folder / "trainer_state.json").write_text("{}")
    return folder


def test_no_folder_means_a_fresh_start(tmp_path: Path) -> None:
    assert last_complete_checkpoint(tmp_path / "checkpoints") is None


def test_the_newest_finished_checkpoint_wins_by_step_not_by_name(tmp_path: Path) -> None:
    checkpoint(tmp_path, 9, complete=True)
    newest = checkpoint(tmp_path, 12, complete=True)
    assert last_complete_checkpoint(tmp_path) == str(newest)


def test_a_checkpoint_cut_off_while_saving_is_skipped_and_removed(tmp_path: Path) -> None:
    finished = checkpoint(tmp_path, 6, complete=True)
    cut_off = checkpoint(tmp_path, 9, complete=False)
    assert last_complete_checkpoint(tmp_path) == str(finished)
    assert not cut_off.exists()


def test_only_unfinished_checkpoints_mean_a_fresh_start(tmp_path: Path) -> None:
    checkpoint(tmp_path, 3, complete=False)
    assert last_complete_checkpoint(tmp_path) is None
