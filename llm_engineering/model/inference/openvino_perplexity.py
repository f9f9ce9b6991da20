"""Held-out perplexity of an OpenVINO export, by the same measure as the source weights' (`perplexity_from_logits`).

The IR runs on the OpenVINO runtime at the precision the serving engine uses on this CPU (its default inference
precision), one full sequence per forward pass, with the model's KV state reset between rows.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.model.finetuning.data import Row
from llm_engineering.model.finetuning.formatting import uses_chat_template
from llm_engineering.model.finetuning.perplexity import perplexity_from_logits

if TYPE_CHECKING:
    import torch


def openvino_inference_precision(folder: Path, device: str = "CPU") -> str:
    """The precision the OpenVINO runtime computes this IR in here (e.g. bf16 on a CPU with AMX, else f32)."""
    import openvino

    compiled = openvino.Core().compile_model(str(folder / "openvino_model.xml"), device)
    return str(compiled.get_property("INFERENCE_PRECISION_HINT"))


def openvino_perplexity(folder: Path, rows: Sequence[Row], max_length: int, device: str = "CPU") -> float:
    """Perplexity of the export in `folder` on the answers of `rows`, as `held_out_perplexity` measures weights."""
    import numpy as np
    import openvino
    import torch
    from transformers import AutoTokenizer

    model_file = folder / "openvino_model.xml"
    if not model_file.is_file():
        raise LLMError(f"{folder} holds no OpenVINO model (openvino_model.xml); export one first.")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    compiled = openvino.Core().compile_model(str(model_file), device)
    request = compiled.create_infer_request()
    inputs = {name for port in compiled.inputs for name in port.get_names()}

    def logits_of(ids: list[int]) -> "torch.Tensor":
        request.reset_state()  # a stateful export keeps the KV cache between calls
        length = len(ids)
        feed = {
            "input_ids": np.array([ids], dtype=np.int64),
            "attention_mask": np.ones((1, length), dtype=np.int64),
        }
        if "position_ids" in inputs:
            feed["position_ids"] = np.arange(length, dtype=np.int64)[None, :]
        if "beam_idx" in inputs:
            feed["beam_idx"] = np.zeros(1, dtype=np.int32)
        request.infer(feed)
        return torch.from_numpy(np.array(request.get_tensor("logits").data, dtype=np.float32))

    return perplexity_from_logits(logits_of, tokenizer, rows, uses_chat_template(tokenizer), max_length)
