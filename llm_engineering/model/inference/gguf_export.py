"""A model folder exported to GGUF with an Ollama Modelfile, so the twin runs in Ollama, LM Studio or llama.cpp.

The conversion is llama.cpp's own `convert_hf_to_gguf.py`, which `make setup` takes from the llama-cpp-python sdist
into `.venv-export/llama.cpp` (LLM_GGUF_CONVERTER names another copy), run in the export toolchain's Python. The
Modelfile carries the twin's chat template as an Ollama (Go) template, its stop token and a system prompt.
"""

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from loguru import logger

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.model.finetuning.formatting import ALPACA_PROMPT
from llm_engineering.model.inference.openvino_export import export_python, run_export_tool

GgufFormat = Literal["q8_0", "f16"]
GGUF_FORMATS: tuple[str, ...] = ("q8_0", "f16")
MODELFILE = "Modelfile"
# The files a Hugging Face tokenizer is saved as; copied beside a GGUF read back into safetensors, so the read-back
# model is measured with exactly its source's tokenizer and chat template.
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "vocab.json",
    "merges.txt",
    "tokenizer.model",
)
_DEFAULT_CONVERTER = Path(__file__).resolve().parents[3] / ".venv-export" / "llama.cpp" / "convert_hf_to_gguf.py"


@dataclass(frozen=True)
class GgufExport:
    """A GGUF export: its folder (the .gguf file and the Modelfile), the file, format, size and export time."""

    folder: Path
    gguf: Path
    gguf_format: str
    size_mb: float
    export_s: float
    template: str


def gguf_converter() -> Path:
    """llama.cpp's converter: LLM_GGUF_CONVERTER, else the copy `make setup` fetched; LLMError when missing."""
    configured = os.environ.get("LLM_GGUF_CONVERTER")
    script = Path(configured) if configured else _DEFAULT_CONVERTER
    if not script.is_file():
        raise LLMError(
            f"llama.cpp's GGUF converter is missing ({script} does not exist): run `make setup`, or set "
            "LLM_GGUF_CONVERTER to a convert_hf_to_gguf.py with its gguf-py folder beside it."
        )
    return script


def _chat_template(source: Path) -> str | None:
    """The source tokenizer's Jinja chat template, or None when it has none (the Alpaca prompt is used then)."""
    jinja = source / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    config = source / "tokenizer_config.json"
    if config.is_file():
        template = json.loads(config.read_text(encoding="utf-8")).get("chat_template")
        return template if isinstance(template, str) else None
    return None


def ollama_template(source: Path) -> tuple[str, str, list[str]]:
    """(template kind, Ollama Go template, stop strings) matching the prompt format the twin was trained on."""
    template = _chat_template(source)
    if template is None:
        # Exactly the prompt the twin was trained on, with the request in Ollama's .Prompt.
        body = "{{ if .System }}{{ .System }}\n\n{{ end }}" + ALPACA_PROMPT.format(instruction="{{ .Prompt }}")
        return "alpaca", body, ["### Instruction:"]
    if "<|im_start|>" in template:
        body = (
            "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"
        )
        return "chatml", body, ["<|im_end|>"]
    if "<|start_header_id|>" in template:
        body = (
            "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>"
            "{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n"
        )
        return "llama3", body, ["<|eot_id|>"]
    raise LLMError(
        f"The chat template of {source} is neither ChatML, Llama 3 nor absent (Alpaca); the Modelfile cannot "
        "state it. Export with gguf_format: none, or write the Modelfile's TEMPLATE by hand."
    )


def modelfile(gguf_name: str, source: Path, system: str, *, title: str, context_tokens: int) -> tuple[str, str]:
    """(template kind, the Modelfile text) for `ollama create NAME -f Modelfile` in the export's folder."""
    kind, template, stops = ollama_template(source)
    for text, what in ((template, "template"), (system, "system prompt")):
        if '"""' in text:
            raise LLMError(f'The {what} holds """, which a Modelfile cannot quote.')
    lines = [
        f"# {title}",
        "# Run it:  ollama create twin -f Modelfile && ollama run twin",
        f"FROM ./{gguf_name}",
        f'TEMPLATE """{template}"""',
        f'SYSTEM """{system}"""',
        *(f'PARAMETER stop "{stop}"' for stop in stops),
        f"PARAMETER num_ctx {context_tokens}",
        "",
    ]
    return kind, "\n".join(lines)


def export_gguf(
    source: Path,
    target: Path,
    gguf_format: str = "q8_0",
    *,
    system: str,
    title: str,
    context_tokens: int = 2048,
    timeout_s: float = 1800,
) -> GgufExport:
    """Convert the transformers folder `source` into `target` (the .gguf and its Modelfile), replaced only once whole.

    A failed conversion leaves `target` as it was.
    """
    if gguf_format not in GGUF_FORMATS:
        raise LLMError(f"Unknown GGUF format {gguf_format!r}; choose one of {', '.join(GGUF_FORMATS)}.")
    if not (source / "config.json").is_file():
        raise LLMError(f"{source} is not a transformers model folder (no config.json); nothing to convert.")
    converter = gguf_converter()
    export_python()  # a clear error before any work when the toolchain is missing
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    gguf = staging / f"{target.name}.gguf"
    try:
        kind, text = modelfile(gguf.name, source, system, title=title, context_tokens=context_tokens)
        logger.info("Converting {} to GGUF ({}) with llama.cpp's converter.", source, gguf_format)
        tic = time.perf_counter()
        run_export_tool(
            [str(converter), str(source), "--outfile", str(gguf), "--outtype", gguf_format],
            gguf,
            f"The GGUF conversion of {source}",
            timeout_s,
        )
        export_s = time.perf_counter() - tic
        (staging / MODELFILE).write_text(text, encoding="utf-8")
        staging.chmod(0o755)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    file = target / gguf.name
    size_mb = file.stat().st_size / 1e6
    logger.info("GGUF export {} made in {:.1f} s ({:.1f} MB).", file.name, export_s, size_mb)
    return GgufExport(
        folder=target, gguf=file, gguf_format=gguf_format, size_mb=size_mb, export_s=export_s, template=kind
    )


def with_source_tokenizer(read_back: Path, source: Path) -> Path:
    """`read_back` with the source's tokenizer files over the ones rebuilt from the GGUF: the same tokenization."""
    for name in TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, read_back / name)
    return read_back
