"""A model folder exported to OpenVINO IR with compressed weights, for the OpenVINO GenAI engine.

The export runs `openvino_export_job.py` in the export toolchain's own Python (LLM_EXPORT_PYTHON, by default the
`.venv-export` that `make setup` builds), since optimum-intel pins an older transformers than the project's.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from llm_engineering.domain.exceptions import LLMError

WEIGHT_FORMATS = ("int8", "int4", "fp16", "fp32")
# Written beside the IR: how the export was made.
EXPORT_RECORD = "llm_twin_export.json"
_JOB = Path(__file__).with_name("openvino_export_job.py")
# Where `make setup` puts the export toolchain, relative to the checkout.
_DEFAULT_EXPORT_VENV = Path(__file__).resolve().parents[3] / ".venv-export"


@dataclass(frozen=True)
class OpenVINOExport:
    """An exported model: its folder, weight format, size on disk and how long the export took."""

    folder: Path
    weight_format: str
    size_mb: float
    export_s: float


def export_python() -> Path:
    """The export toolchain's Python: LLM_EXPORT_PYTHON, else .venv-export/bin/python beside the checkout."""
    configured = os.environ.get("LLM_EXPORT_PYTHON")
    python = Path(configured) if configured else _DEFAULT_EXPORT_VENV / "bin" / "python"
    if not python.is_file():
        raise LLMError(
            f"The OpenVINO export toolchain is missing ({python} does not exist): run `make setup`, or set "
            "LLM_EXPORT_PYTHON to a Python that has the packages of requirements/openvino-export.txt."
        )
    return python


def run_export_tool(args: list[str], produced: Path, what: str, timeout_s: float) -> None:
    """Run a script with `args` in the export toolchain's Python; LLMError unless it exits 0 and `produced` exists."""
    python = export_python()
    try:
        completed = subprocess.run(
            [str(python), *args],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            env={**os.environ, "PYTHONNOUSERSITE": "1"},
        )
    except subprocess.TimeoutExpired:
        raise LLMError(f"{what} ran past {timeout_s:g} s and was stopped.") from None
    if completed.returncode != 0 or not produced.exists():
        tail = "\n".join(completed.stderr.strip().splitlines()[-8:])
        raise LLMError(f"{what} failed (exit {completed.returncode}) in {python}:\n{tail}")


def folder_size_mb(folder: Path) -> float:
    """The size of every file under `folder`, in MB (10^6 bytes)."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 1e6


def export_openvino(
    source: Path, target: Path, weight_format: str = "int8", *, timeout_s: float = 1800
) -> OpenVINOExport:
    """Export the transformers model folder `source` to `target` (replaced only once the new export is whole).

    A failed export leaves `target` as it was, so a previous export stays the one in use.
    """
    if weight_format not in WEIGHT_FORMATS:
        raise LLMError(f"Unknown weight format {weight_format!r}; use one of {', '.join(WEIGHT_FORMATS)}.")
    if not (source / "config.json").is_file():
        raise LLMError(
            f"{source} holds no merged model (config.json is missing); export a version made by the training "
            "pipeline, whose merged_model artifact is a full model folder."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    staging = work / "export"
    started = time.monotonic()
    logger.info("Exporting {} to OpenVINO IR ({} weights).", source, weight_format)
    try:
        run_export_tool(
            [str(_JOB), str(source), str(staging), weight_format],
            staging / "openvino_model.xml",
            f"The OpenVINO export of {source}",
            timeout_s,
        )
        record = {"weight_format": weight_format, "source": str(source), "export_s": time.monotonic() - started}
        (staging / EXPORT_RECORD).write_text(json.dumps(record, indent=2))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    export = OpenVINOExport(target, weight_format, folder_size_mb(target), time.monotonic() - started)
    logger.info("Exported {} ({:.1f} MB) in {:.1f} s.", target, export.size_mb, export.export_s)
    return export


def openvino_loads() -> bool:
    """Whether OpenVINO GenAI imports on this machine (the engine falls back to transformers where it does not)."""
    try:
        import openvino_genai  # noqa: F401
    except ImportError:
        return False
    return True
