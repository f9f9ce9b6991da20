"""In-process LLM on transformers: loaded once per process, prompts batched in one forward pass (left padding).

`load_local_llm` is the one place a transformers model is loaded for evaluation, RAG and serving; its cache key is
the model, the device and the precision, so two precisions of one model are two loads, never one mistaken for the
other.
"""

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from loguru import logger

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
from llm_engineering.infrastructure.llm.prompt import ChatPromptFormatter, context_length

if TYPE_CHECKING:
    from transformers import GenerationMixin, PreTrainedModel, PreTrainedTokenizerBase


@dataclass(frozen=True)
class LoadedLLM:
    """A model, its tokenizer and chat formatter; `lock` serialises forward passes that would fight for the CPU."""

    model: "PreTrainedModel"
    tokenizer: "PreTrainedTokenizerBase"
    formatter: ChatPromptFormatter
    location: str
    lock: threading.Lock = field(default_factory=threading.Lock)


DTYPES = ("auto", "float32", "bfloat16", "float16")


def cpu_has_fast_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AVX512-BF16 or AMX), as torch detects it."""
    import torch

    checks = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(check() for check in checks if callable(check))


def resolve_dtype(requested: str, device: str, *, fast_bfloat16: bool | None = None) -> str:
    """The dtype a model loads in.

    `auto` is bfloat16 on a CPU that computes it in hardware, float32 on other CPUs, and the checkpoint's own dtype
    ("auto") on an accelerator.
    """
    if requested not in DTYPES:
        raise LLMError(f"Unknown dtype {requested!r} for the local model; use one of {', '.join(DTYPES)}.")
    if requested != "auto":
        return requested
    if device != "cpu":
        return "auto"
    return "bfloat16" if (cpu_has_fast_bfloat16() if fast_bfloat16 is None else fast_bfloat16) else "float32"


@lru_cache(maxsize=2)
def load_local_llm(model_id: str, models_dir: Path, device: str, dtype: str = "float32") -> LoadedLLM:
    """Load once per (model, device, dtype): seconds the first time (minutes if a GGUF must be converted), then free.

    `dtype` is one of DTYPES, already resolved (see `resolve_dtype`); on an accelerator float32 means the
    checkpoint's own dtype, as before.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    location = resolve_llm_model(model_id, models_dir)
    logger.info("Loading LLM {} from {} on {} in {}.", model_id, location, device, dtype)
    torch_dtype: Any = "auto" if dtype == "auto" or (device != "cpu" and dtype == "float32") else getattr(torch, dtype)
    try:
        adapter = _adapter_base(location)
        if adapter is None:
            tokenizer = AutoTokenizer.from_pretrained(location)
            model = AutoModelForCausalLM.from_pretrained(location, dtype=torch_dtype, device_map=device)
        else:
            from peft import PeftModel

            base = resolve_llm_model(adapter, models_dir)
            has_tokenizer = (Path(location) / "tokenizer_config.json").is_file()
            tokenizer = AutoTokenizer.from_pretrained(location if has_tokenizer else base)
            base_model = AutoModelForCausalLM.from_pretrained(base, dtype=torch_dtype, device_map=device)
            # Merged once at load, so generation runs at the base model's speed.
            model = PeftModel.from_pretrained(base_model, location).merge_and_unload()
    except OSError as error:
        raise LLMError(
            f"Cannot load LLM {model_id} ({error}); set LOCAL_LLM_MODEL_ID to a local model folder or GGUF file, "
            "or allow Hugging Face Hub access."
        ) from error
    if tokenizer.pad_token_id is None:
        # Padded positions are masked out, so any token does; EOS is the usual stand-in.
        tokenizer.pad_token = tokenizer.eos_token
    formatter = ChatPromptFormatter(tokenizer, name=model_id, context_tokens=context_length(model.config, tokenizer))
    return LoadedLLM(model=model, tokenizer=tokenizer, formatter=formatter, location=location)


def _adapter_base(location: str) -> str | None:
    """The base model of a LoRA adapter folder (one without its own config.json); None for a full model."""
    folder = Path(location)
    adapter_config = folder / "adapter_config.json"
    if not adapter_config.is_file() or (folder / "config.json").is_file():
        return None
    base = json.loads(adapter_config.read_text()).get("base_model_name_or_path")
    if not isinstance(base, str) or not base:
        raise LLMError(f"The adapter in {folder} does not name its base model (base_model_name_or_path).")
    return base


class LocalTransformersClient:
    """Implements the LLMClient port in process; the model is loaded on first use, not at construction."""

    def __init__(
        self,
        model_id: str,
        *,
        models_dir: Path,
        device: str,
        batch_size: int,
        timeout_s: float,
        max_input_tokens: int | None = None,
        dtype: str = "float32",
    ) -> None:
        """`dtype`: the precision it loads in (one of DTYPES; "auto" as `resolve_dtype` decides)."""
        self._model_id = model_id
        self._dtype = resolve_dtype(dtype, device)
        self._models_dir = models_dir
        self._device = device
        self._batch_size = batch_size
        self._timeout_s = timeout_s
        self._max_input_tokens = max_input_tokens

    @property
    def backend(self) -> str:
        """Always "local": the model runs in this process with transformers."""
        return "local"

    @property
    def model_id(self) -> str:
        """The Hugging Face id or folder of the loaded model."""
        return self._model_id

    @property
    def engine(self) -> str:
        """The engine and the precision the model runs in, e.g. "transformers float32" (part of the cache key)."""
        return f"transformers {self._dtype}"

    @property
    def loaded(self) -> LoadedLLM:
        """The model, tokenizer and formatter, loaded on first access."""
        return load_local_llm(self._model_id, self._models_dir, self._device, self._dtype)

    def render_prompts(self, conversations: Sequence[Sequence[ChatMessage]], params: GenerationParams) -> list[str]:
        """The exact prompt texts the model reads: chat template applied, cut to the context left for the answer."""
        formatter = self.loaded.formatter
        budget = formatter.input_budget(params.max_new_tokens, self._max_input_tokens)
        return [formatter.render_fitted(conversation, budget) for conversation in conversations]

    def generate(self, conversations: Sequence[Sequence[ChatMessage]], params: GenerationParams) -> list[str]:
        """One completion per conversation; greedy (deterministic) at temperature 0."""
        if not conversations:
            return []
        prompts = self.render_prompts(conversations, params)
        # Prompts of similar length share a batch, so less compute goes to padding.
        order = sorted(range(len(prompts)), key=lambda index: len(prompts[index]))
        completions = [""] * len(prompts)
        for start in range(0, len(order), self._batch_size):
            indices = order[start : start + self._batch_size]
            texts = self._generate_batch([prompts[index] for index in indices], params)
            for index, text in zip(indices, texts, strict=True):
                completions[index] = text
        return completions

    def _generate_batch(self, prompts: list[str], params: GenerationParams) -> list[str]:
        import torch
        from transformers import GenerationConfig

        loaded = self.loaded
        tokenizer = loaded.tokenizer
        encoded = tokenizer(prompts, add_special_tokens=False, padding=True, padding_side="left", return_tensors="pt")
        encoded = encoded.to(loaded.model.device)
        options: dict[str, Any] = {"do_sample": params.temperature > 0, **params.repetition_controls()}
        if params.temperature > 0:
            options.update(temperature=params.temperature, top_p=params.top_p)
        # A fresh config rather than the model's sampling defaults: the port's parameters alone decide decoding.
        config = GenerationConfig(  # type: ignore[no-untyped-call]  # transformers leaves __init__ unannotated
            max_new_tokens=params.max_new_tokens,
            eos_token_id=loaded.model.generation_config.eos_token_id or tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            max_time=self._timeout_s,
            **options,
        )
        with loaded.lock, torch.inference_mode():
            if params.temperature > 0:
                torch.manual_seed(params.seed)
            started = time.monotonic()
            output = cast("GenerationMixin", loaded.model).generate(**encoded, generation_config=config)
            elapsed = time.monotonic() - started
        if elapsed >= self._timeout_s:
            raise LLMError(
                f"Local generation of {len(prompts)} prompts ran past LLM_TIMEOUT_S={self._timeout_s:g} s and was "
                "stopped; raise LLM_TIMEOUT_S, or lower LLM_BATCH_SIZE or max_new_tokens."
            )
        sequences = output if isinstance(output, torch.Tensor) else output.sequences
        new_tokens = sequences[:, encoded["input_ids"].shape[1] :]
        texts: list[str] = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        return texts
