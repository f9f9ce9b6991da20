"""LoRA SFT then DPO on a tiny random Llama, a killed run that resumes, and a few real SmolLM2 steps."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.finetuning.data import TrainingRows
from llm_engineering.model.finetuning.trainer import CHECKPOINTS_DIR, train
from tests.conftest import PACKAGED_LLM_ID, REPO_ROOT
from tests.training_support import instruct_rows, make_tiny_llama, preference_rows


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_llama(tmp_path_factory.mktemp("tiny") / "model")


def tiny_config(base: Path, **overrides: object) -> TrainingConfig:
    values: dict[str, object] = {
        "base_model": str(base),
        "num_train_epochs": 2,
        "learning_rate": 5e-3,
        "max_length": 96,
        "lora": {"r": 4, "alpha": 8},
        "logging_steps": 1,
    }
    values.update(overrides)
    return TrainingConfig.model_validate(values)


def test_sft_then_dpo_on_a_tiny_llama(tiny_model: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    config = tiny_config(tiny_model)
    rows = TrainingRows(instruct_rows(12), instruct_rows(15)[12:], "code")
    sft = train(config, str(tiny_model), rows, tmp_path / "s")
    assert (sft.adapter_dir / "adapter_config.json").is_file()
    assert (sft.merged_dir / "model.safetensors").is_file() and (sft.merged_dir / "tokenizer.json").is_file()
    assert sft.metrics["last_logged_loss"] < sft.metrics["first_logged_loss"]
    assert sft.metrics["perplexity_after"] < sft.metrics["perplexity_before"]
    assert sft.metrics["tokens_per_s"] > 0
    assert not (tmp_path / "s" / CHECKPOINTS_DIR).exists()  # a finished run leaves no checkpoint to resume
    before = load_file(str(tiny_model / "model.safetensors"))
    after = load_file(str(sft.merged_dir / "model.safetensors"))
    changed = [name for name in before if "proj" in name and not before[name].equal(after[name])]
    assert changed, "merging the adapter changed no projection weight"

    dpo_config = config.model_copy(update={"finetuning_type": "dpo"})
    preferences = TrainingRows(preference_rows(12), preference_rows(15)[12:], "code")
    dpo = train(dpo_config, str(sft.merged_dir), preferences, tmp_path / "d")
    assert (dpo.merged_dir / "model.safetensors").is_file()
    assert dpo.metrics["last_logged_loss"] < dpo.metrics["first_logged_loss"]  # starts at log 2 ≈ 0.693


CHILD = """
import sys
from pathlib import Path
from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.finetuning.data import TrainingRows
from llm_engineering.model.finetuning.trainer import train
from tests.training_support import instruct_rows
config = TrainingConfig.model_validate_json(sys.argv[1])
train(config, config.base_model, TrainingRows(instruct_rows(40), instruct_rows(44)[40:], "code"), Path(sys.argv[2]))
"""


@pytest.mark.slow
def test_a_killed_run_resumes_from_its_last_checkpoint(tiny_model: Path, tmp_path: Path) -> None:
    # 40 rows / 2 per step x 8 epochs = 160 steps, a checkpoint every 3: the kill (within 50 ms of the second
    # checkpoint) lands long before the end on a fast machine too, and the resumed run stays short on this one.
    config = tiny_config(tiny_model, num_train_epochs=8, save_steps=3, per_device_train_batch_size=2)
    total_steps = 160
    work_dir = tmp_path / "run"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, config.model_dump_json(), str(work_dir)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def saved_steps() -> list[int]:
        # The trainer keeps the last two checkpoints, so any one of them may be rotated away between two looks.
        done = (work_dir / CHECKPOINTS_DIR).glob("checkpoint-*/trainer_state.json")
        return sorted(int(path.parent.name.split("-")[1]) for path in done)

    deadline = time.monotonic() + 240
    while not [step for step in saved_steps() if step >= 6]:
        assert child.poll() is None, "the training process ended before its second checkpoint"
        assert time.monotonic() < deadline, "no second checkpoint within 240 s"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    saved = saved_steps()
    assert saved and saved[-1] < total_steps  # killed half-way

    outcome = train(config, str(tiny_model), TrainingRows(instruct_rows(40), instruct_rows(44)[40:], "code"), work_dir)
    assert outcome.metrics["resumed_from_step"] == saved[-1]
    assert outcome.metrics["global_step"] == total_steps


@pytest.mark.slow
def test_smollm2_loss_falls_when_it_overfits_a_handful_of_rows(llm_models_dir: Path, tmp_path: Path) -> None:
    from llm_engineering.infrastructure.llm.model_store import resolve_llm_model

    base = resolve_llm_model(PACKAGED_LLM_ID, llm_models_dir)
    config = TrainingConfig(
        base_model=base, num_train_epochs=4, learning_rate=1e-3, max_length=64, logging_steps=1, lora={"r": 8}
    )
    rows = TrainingRows(instruct_rows(4), instruct_rows(6)[4:], "code")
    outcome = train(config, base, rows, tmp_path)
    assert outcome.metrics["last_logged_loss"] < 0.7 * outcome.metrics["first_logged_loss"]
    assert outcome.metrics["perplexity_after"] < outcome.metrics["perplexity_before"]
