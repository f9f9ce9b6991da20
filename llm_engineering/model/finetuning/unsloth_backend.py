"""The CUDA path: Unsloth's FastLanguageModel (optionally 4-bit QLoRA). Unsloth is imported inside the functions only.

Unsloth patches torch and transformers when imported and needs a CUDA torch, so importing it at module level would
break every CPU install; the `gpu` extra installs it, and `trainer.use_unsloth` decides when to come here.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_engineering.model.finetuning.config import TrainingConfig

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


def load_unsloth(config: TrainingConfig, base_model: str) -> tuple["PreTrainedModel", "PreTrainedTokenizerBase"]:
    """The base through FastLanguageModel with the LoRA adapter already attached (TRL then gets no peft_config)."""
    try:
        from unsloth import FastLanguageModel
    except ImportError as error:
        raise RuntimeError(
            f"Unsloth cannot be imported ({error}); install the gpu extra on a CUDA machine "
            "(pip install -e '.[gpu]') or set backend: trl."
        ) from error
    model: Any
    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=base_model, max_seq_length=config.max_length, load_in_4bit=config.load_in_4bit, dtype=None
    )
    model = FastLanguageModel.get_peft_model(
        model,
        r=config.lora.r,
        lora_alpha=config.lora.alpha,
        lora_dropout=config.lora.dropout,
        target_modules=list(config.lora.target_modules),
        use_gradient_checkpointing="unsloth",
        random_state=config.seed,
    )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def save_merged_unsloth(model: "PreTrainedModel", tokenizer: "PreTrainedTokenizerBase", target: Path) -> None:
    """Unsloth's own merge: 16-bit weights (also from a 4-bit base) as safetensors, with the tokenizer."""
    model.save_pretrained_merged(str(target), tokenizer, save_method="merged_16bit")  # type: ignore[operator]
