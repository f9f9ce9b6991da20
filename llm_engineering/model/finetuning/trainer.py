"""LoRA fine-tuning with TRL (SFT or DPO), resumable from checkpoints, ending in an adapter and a merged model.

`train` is the whole job: the same function runs in a pipeline step, in the SageMaker entry point and in the
benchmark. It reads nothing from ZenML or the settings; the caller passes the base model, the rows and a folder.
"""

import hashlib
import json
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from loguru import logger

from llm_engineering.domain.tracking import ExperimentTracker
from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.finetuning.data import TrainingRows
from llm_engineering.model.finetuning.formatting import dpo_example, sft_example, uses_chat_template
from llm_engineering.model.finetuning.perplexity import held_out_perplexity

if TYPE_CHECKING:
    from peft import LoraConfig
    from transformers import PreTrainedModel, PreTrainedTokenizerBase, Trainer, TrainerCallback

ADAPTER_DIR = "adapter"
MERGED_DIR = "merged"
CHECKPOINTS_DIR = "checkpoints"


@dataclass(frozen=True)
class TrainingOutcome:
    """Where the adapter and the merged model were saved, and the run's measures."""

    adapter_dir: Path
    merged_dir: Path
    metrics: dict[str, float]
    backend: str


def run_key(config: TrainingConfig, base_model: str, rows: TrainingRows) -> str:
    """A stable name for this exact run (config, base, data): a restarted run finds its own checkpoints."""
    digest = hashlib.sha256()
    digest.update(config.model_dump_json().encode())
    digest.update(base_model.encode())
    digest.update(json.dumps([rows.train, rows.test], sort_keys=True).encode())
    return digest.hexdigest()[:16]


def train(
    config: TrainingConfig,
    base_model: str,
    rows: TrainingRows,
    work_dir: Path,
    tracker: ExperimentTracker | None = None,
) -> TrainingOutcome:
    """Train a LoRA on `rows` from `base_model`, resuming from `work_dir`'s last checkpoint; save adapter + merged."""
    # transformers imports comet_ml when it is installed, and Comet would report its errors to sentry.io.
    os.environ.setdefault("COMET_ERROR_TRACKING_ENABLE", "false")
    from transformers import set_seed

    set_seed(config.seed)
    started = time.perf_counter()
    model, tokenizer, peft_config, backend = load_for_training(config, base_model)
    chat = uses_chat_template(tokenizer)
    logger.info(
        "{} of {} on {} ({} train / {} test rows), {} template, backend {}.",
        config.finetuning_type.upper(),
        base_model,
        rows.source,
        len(rows.train),
        len(rows.test),
        "chat" if chat else "Alpaca",
        backend,
    )
    perplexity_before = held_out_perplexity(model, tokenizer, rows.test, chat, config.max_length)
    logger.info("Held-out perplexity before training: {:.3f}.", perplexity_before)
    if tracker is not None:
        tracker.log_parameters({**flat_parameters(config), "base_model": base_model, "backend": backend})

    checkpoints = work_dir / CHECKPOINTS_DIR
    trainer = build_trainer(config, model, tokenizer, peft_config, rows, chat, checkpoints, tracker)
    last = last_complete_checkpoint(checkpoints)
    if last:
        logger.info("Resuming from {} (a checkpoint of an earlier, unfinished run).", last)
    result = trainer.train(resume_from_checkpoint=last)
    resumed_from_step = int(Path(last).name.split("-")[-1]) if last else 0

    adapter_dir = work_dir / ADAPTER_DIR
    trainer.save_model(str(adapter_dir))
    tokenizer.save_pretrained(str(adapter_dir))
    merged = merge_and_save(cast("PreTrainedModel", trainer.model), tokenizer, work_dir / MERGED_DIR, backend)
    perplexity_after = held_out_perplexity(merged, tokenizer, rows.test, chat, config.max_length)
    logger.info("Held-out perplexity after training: {:.3f} (before: {:.3f}).", perplexity_after, perplexity_before)

    metrics = _metrics(trainer, result.metrics, perplexity_before, perplexity_after, started, resumed_from_step)
    if tracker is not None:
        tracker.log_metrics(metrics)
    # The run is complete: its checkpoints would only make a later identical run resume past its end.
    shutil.rmtree(checkpoints, ignore_errors=True)
    return TrainingOutcome(adapter_dir=adapter_dir, merged_dir=work_dir / MERGED_DIR, metrics=metrics, backend=backend)


def last_complete_checkpoint(checkpoints: Path) -> str | None:
    """The newest checkpoint the trainer finished writing, or None.

    The trainer writes `trainer_state.json` after the weights and optimizer state, so a process killed while
    saving leaves a folder without it; resuming from that folder would fail, so it is skipped (and removed).
    """
    if not checkpoints.is_dir():
        return None
    found = sorted(
        (int(path.name.split("-")[-1]), path)
        for path in checkpoints.glob("checkpoint-*")
        if path.is_dir() and path.name.split("-")[-1].isdigit()
    )
    for _, path in reversed(found):
        if (path / "trainer_state.json").is_file():
            return str(path)
        logger.warning("Skipping {}: it was not finished (the run stopped while saving it).", path)
        shutil.rmtree(path, ignore_errors=True)
    return None


def load_for_training(
    config: TrainingConfig, base_model: str
) -> tuple["PreTrainedModel", "PreTrainedTokenizerBase", "LoraConfig | None", str]:
    """The base model and tokenizer, with the LoRA config for TRL (None when Unsloth already attached it)."""
    if use_unsloth(config):
        from llm_engineering.model.finetuning.unsloth_backend import load_unsloth

        model, tokenizer = load_unsloth(config, base_model)
        return model, tokenizer, None, "unsloth"
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    device_map = "cuda" if torch.cuda.is_available() else None
    model = AutoModelForCausalLM.from_pretrained(base_model, dtype=dtype, device_map=device_map)
    return model, tokenizer, lora_config(config), "trl"


def use_unsloth(config: TrainingConfig) -> bool:
    """Whether this run trains through Unsloth: asked for, or `auto` with CUDA and the gpu extra installed."""
    import importlib.util

    import torch

    if config.backend == "trl":
        return False
    available = torch.cuda.is_available() and importlib.util.find_spec("unsloth") is not None
    if config.backend == "unsloth" and not available:
        raise RuntimeError(
            "backend: unsloth needs a CUDA GPU and the gpu extra (pip install -e '.[gpu]'); "
            "set backend: auto or trl to train with transformers + PEFT + TRL."
        )
    if config.load_in_4bit and not available:
        raise RuntimeError("load_in_4bit needs Unsloth on a CUDA GPU; set load_in_4bit: false on this machine.")
    return available


def lora_config(config: TrainingConfig) -> "LoraConfig":
    """PEFT's LoRA config from the lora section."""
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora.r,
        lora_alpha=config.lora.alpha,
        lora_dropout=config.lora.dropout,
        target_modules=list(config.lora.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )


def trainer_arguments(config: TrainingConfig, output_dir: Path) -> dict[str, Any]:
    """The TrainingArguments shared by SFTConfig and DPOConfig, from the run config."""
    import torch

    cuda = torch.cuda.is_available()
    return {
        "output_dir": str(output_dir),
        "num_train_epochs": config.num_train_epochs,
        "per_device_train_batch_size": config.per_device_train_batch_size,
        "per_device_eval_batch_size": config.per_device_eval_batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "learning_rate": config.learning_rate,
        "warmup_steps": config.warmup_ratio,  # below 1: a fraction of the steps
        "lr_scheduler_type": "linear",
        "logging_steps": config.logging_steps,
        "save_strategy": "steps",
        "save_steps": config.save_steps,
        "save_total_limit": 2,
        "eval_strategy": "epoch",
        "seed": config.seed,
        "report_to": "none",
        "bf16": cuda and torch.cuda.is_bf16_supported(),
        "fp16": False,
        # Recomputing activations costs time; the default model fits in memory without it.
        "activation_checkpointing": False,
        "include_num_input_tokens_seen": "non_padding",
        "max_length": config.max_length,
        "use_cpu": not cuda,
        "disable_tqdm": False,
    }


def build_trainer(
    config: TrainingConfig,
    model: "PreTrainedModel",
    tokenizer: "PreTrainedTokenizerBase",
    peft_config: "LoraConfig | None",
    rows: TrainingRows,
    chat: bool,
    output_dir: Path,
    tracker: ExperimentTracker | None = None,
) -> "Trainer":
    """TRL's SFTTrainer (prompt/completion: loss on the answer only) or DPOTrainer (reference = adapter off)."""
    from datasets import Dataset

    callbacks = [progress_callback(tracker)]
    arguments = trainer_arguments(config, output_dir)
    if config.finetuning_type == "sft":
        from trl.trainer.sft_config import SFTConfig
        from trl.trainer.sft_trainer import SFTTrainer

        train_set = Dataset.from_list([sft_example(row, chat) for row in rows.train])
        eval_set = Dataset.from_list([sft_example(row, chat) for row in rows.test])
        return SFTTrainer(
            model=model,
            args=SFTConfig(**arguments, packing=config.packing, completion_only_loss=True),
            train_dataset=train_set,
            eval_dataset=eval_set,
            processing_class=tokenizer,
            peft_config=peft_config,
            callbacks=callbacks,
        )
    from trl.trainer.dpo_config import DPOConfig
    from trl.trainer.dpo_trainer import DPOTrainer

    train_set = Dataset.from_list([dpo_example(row, chat) for row in rows.train])
    eval_set = Dataset.from_list([dpo_example(row, chat) for row in rows.test])
    return DPOTrainer(
        model=model,
        ref_model=None,
        args=DPOConfig(**arguments, beta=config.dpo.beta),
        train_dataset=train_set,
        eval_dataset=eval_set,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=callbacks,
    )


def merge_and_save(
    model: "PreTrainedModel", tokenizer: "PreTrainedTokenizerBase", target: Path, backend: str
) -> "PreTrainedModel":
    """Fold the adapter into the base weights and save safetensors + tokenizer; the merged model, in eval mode."""
    if backend == "unsloth":
        from llm_engineering.model.finetuning.unsloth_backend import save_merged_unsloth

        save_merged_unsloth(model, tokenizer, target)
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM.from_pretrained(target)
    merged = model.merge_and_unload()  # type: ignore[operator]
    merged.save_pretrained(str(target), safe_serialization=True)
    tokenizer.save_pretrained(str(target))
    merged.eval()
    return merged  # type: ignore[no-any-return]


def progress_callback(tracker: ExperimentTracker | None) -> "TrainerCallback":
    """A callback that logs each loss line (the bar comes from transformers) and forwards it to the tracker."""
    from transformers import TrainerCallback

    class LossLog(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None, **_: Any) -> None:
            numbers = {key: float(value) for key, value in (logs or {}).items() if isinstance(value, int | float)}
            if not numbers:
                return
            shown = ", ".join(f"{key} {value:.4g}" for key, value in numbers.items() if "loss" in key or key == "epoch")
            logger.info("step {}/{}: {}", state.global_step, state.max_steps, shown)
            if tracker is not None:
                tracker.log_metrics(numbers, step=state.global_step)

    return LossLog()


def flat_parameters(config: TrainingConfig) -> dict[str, Any]:
    """The config as flat `section.key` parameters, for trackers and the registry's metadata."""
    flat: dict[str, Any] = {}
    for key, value in config.model_dump(mode="json").items():
        if isinstance(value, dict):
            flat.update({f"{key}.{inner}": item for inner, item in value.items()})
        else:
            flat[key] = value
    return flat


def _metrics(
    trainer: "Trainer",
    train_metrics: Mapping[str, float],
    perplexity_before: float,
    perplexity_after: float,
    started: float,
    resumed_from_step: int,
) -> dict[str, float]:
    history = trainer.state.log_history
    losses = [float(entry["loss"]) for entry in history if "loss" in entry]
    eval_losses = [float(entry["eval_loss"]) for entry in history if "eval_loss" in entry]
    runtime = float(train_metrics.get("train_runtime", 0.0))
    tokens = float(trainer.state.num_input_tokens_seen)
    metrics = {
        "perplexity_before": perplexity_before,
        "perplexity_after": perplexity_after,
        "perplexity_ratio": perplexity_after / perplexity_before,
        "train_tokens": tokens,
        "tokens_per_s": tokens / runtime if runtime > 0 else 0.0,
        "train_runtime_s": runtime,
        "wall_time_s": time.perf_counter() - started,
        "global_step": float(trainer.state.global_step),
        "resumed_from_step": float(resumed_from_step),
    }
    if "train_loss" in train_metrics:
        metrics["train_loss"] = float(train_metrics["train_loss"])
    if losses:
        metrics["first_logged_loss"], metrics["last_logged_loss"] = losses[0], losses[-1]
    if eval_losses:
        metrics["eval_loss"] = eval_losses[-1]
    return metrics
