"""Benchmark of the training step: the pipeline's trainer against a plain TRL script, and packing on vs off.

    python bench/train.py [--data output/instruct_datasets.json] [--steps 6] [--batch-size 4] [--max-length 256]

Every variant trains the same LoRA (the default config's r, alpha, dropout and target modules) on the packaged
SmolLM2-135M-Instruct, on the same rows (the first steps x batch-size train rows of the export, repeated when there
are fewer), one epoch, same batch and max_length, each in its own process (so each has its own peak RSS):
- `pipeline`: `llm_engineering.model.finetuning.trainer.build_trainer` as a run builds it (its eval at the epoch's
  end, checkpoints, loss-log callback), packing off;
- `plain_trl`: a minimal SFTTrainer script (no eval, no checkpoints, no callbacks), packing off;
- `pipeline_packing`: the pipeline's trainer with packing on.
tokens/s = non-padding input tokens seen / train_runtime; ratio = pipeline / plain_trl (target ≥ 0.95). The
variants run in turn, --repeats times; the ratios compare the median runs, and every run is printed, because on a
shared machine the load changes between runs (a 5x spread was seen on the 2-core reference machine). The last line
is one JSON object with the figures.
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from llm_engineering.bootstrap.llm import llm_models_dir
from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.finetuning.data import Row, rows_from_json
from llm_engineering.settings import load_settings

VARIANTS = ("plain_trl", "pipeline", "pipeline_packing")


def bench_rows(data: Path, count: int) -> list[Row]:
    """The first `count` train rows of the export, cycled when it has fewer."""
    train = rows_from_json(data, "sft").train
    return [train[index % len(train)] for index in range(count)]


def run_variant(variant: str, base: str, rows: list[Row], config: TrainingConfig, out: Path) -> dict[str, Any]:
    """Train one variant in this process; its tokens/s, runtime and peak RSS."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llm_engineering.model.finetuning.data import TrainingRows
    from llm_engineering.model.finetuning.formatting import sft_example, uses_chat_template
    from llm_engineering.model.finetuning.trainer import build_trainer, lora_config

    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base)
    chat = uses_chat_template(tokenizer)
    if variant == "plain_trl":
        from trl.trainer.sft_config import SFTConfig
        from trl.trainer.sft_trainer import SFTTrainer

        trainer: Any = SFTTrainer(
            model=model,
            args=SFTConfig(
                output_dir=str(out),
                num_train_epochs=1,
                per_device_train_batch_size=config.per_device_train_batch_size,
                learning_rate=config.learning_rate,
                max_length=config.max_length,
                packing=False,
                bf16=False,
                use_cpu=True,
                activation_checkpointing=False,
                save_strategy="no",
                report_to="none",
                include_num_input_tokens_seen="non_padding",
                seed=config.seed,
            ),
            train_dataset=Dataset.from_list([sft_example(row, chat) for row in rows]),
            processing_class=tokenizer,
            peft_config=lora_config(config),
        )
    else:
        packed = config.model_copy(update={"packing": variant == "pipeline_packing"})
        training_rows = TrainingRows(rows, rows[:2], "bench")
        trainer = build_trainer(packed, model, tokenizer, lora_config(packed), training_rows, chat, out)
    result = trainer.train()
    runtime = float(result.metrics["train_runtime"])
    tokens = float(trainer.state.num_input_tokens_seen)
    return {
        "variant": variant,
        "steps": trainer.state.global_step,
        "tokens": tokens,
        "train_runtime_s": round(runtime, 2),
        "tokens_per_s": round(tokens / runtime, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("output/instruct_datasets.json"))
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # one child process's variant
    args = parser.parse_args(argv)
    config = TrainingConfig(num_train_epochs=1, per_device_train_batch_size=args.batch_size, max_length=args.max_length)
    rows = bench_rows(args.data, args.steps * args.batch_size)
    base = resolve_llm_model(config.base_model, llm_models_dir(load_settings()))
    if args.variant:
        with tempfile.TemporaryDirectory() as out:
            print(json.dumps(run_variant(args.variant, base, rows, config, Path(out))))
        return 0
    runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
    for _ in range(args.repeats):
        for variant in VARIANTS:
            child = subprocess.run(
                [sys.executable, __file__, *(argv or sys.argv[1:]), "--variant", variant],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"{variant:<18}{json.dumps(result)}", flush=True)
            runs[variant].append(result)
    speed = {variant: statistics.median(run["tokens_per_s"] for run in runs[variant]) for variant in VARIANTS}
    summary = {
        "rows": len(rows),
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "lora_r": config.lora.r,
        "repeats": args.repeats,
        "median_tokens_per_s": speed,
        "pipeline_vs_plain_trl": round(speed["pipeline"] / speed["plain_trl"], 3),
        "packing_vs_no_packing": round(speed["pipeline_packing"] / speed["pipeline"], 3),
        "peak_rss_mb": {variant: max(run["peak_rss_mb"] for run in runs[variant]) for variant in VARIANTS},
        "runs": runs,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
