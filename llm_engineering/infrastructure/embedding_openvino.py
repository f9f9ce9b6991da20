"""The embedding model's encoder on OpenVINO, in fp32 or with int8 weights and activations.

sentence-transformers' own `backend="openvino"` goes through optimum-intel, and `backend="onnx"` through
optimum-onnx; both pin transformers below the version this project runs (< 5.6 and < 4.58), so neither can be
installed beside it. The encoder is therefore converted here with OpenVINO's PyTorch frontend and, for int8,
quantized with NNCF (static quantization, calibrated on a fixed set of passages shipped with the package, so the
same model always gives the same export). Tokenization, pooling and normalization stay sentence-transformers'
own modules: only the transformer forward pass runs on OpenVINO.

An export is made once and kept under the cache folder, keyed by the model's files, the variant and the versions
of the tools that made it; it is written to a temporary folder and renamed, so a crash leaves no half export.
"""

import hashlib
import importlib.metadata
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from loguru import logger

if TYPE_CHECKING:
    import numpy as np
    import openvino as ov
    import torch
    from sentence_transformers import SentenceTransformer

OpenVINOVariant = Literal["openvino", "openvino-int8"]
CALIBRATION_FILE = Path(__file__).with_name("embedding_calibration.json")
ENCODER_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
IR_NAME = "encoder.xml"


def variant_label(variant: OpenVINOVariant) -> str:
    """The variant with the versions that make its vectors what they are, recorded with the features."""
    openvino = importlib.metadata.version("openvino")
    if variant == "openvino-int8":
        return f"openvino-int8/openvino {openvino}/nncf {importlib.metadata.version('nncf')}"
    return f"openvino-fp32/openvino {openvino}"


def transformer_of(model: "SentenceTransformer") -> Any:
    """The Hugging Face model inside the first module; ValueError when the first module has none."""
    encoder = getattr(model[0], "auto_model", None)
    if encoder is None:
        raise ValueError("The embedding model does not start with a transformer; use TEXT_EMBEDDING_BACKEND=torch.")
    return encoder


def model_fingerprint(model: "SentenceTransformer") -> str:
    """A hash of the encoder's configuration and weights, so a changed model never reuses an old export."""
    digest = hashlib.sha256()
    encoder = transformer_of(model)
    state = encoder.state_dict()
    digest.update(json.dumps(encoder.config.to_dict(), sort_keys=True, default=str).encode())
    for name in sorted(state):
        digest.update(name.encode())
        digest.update(state[name].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


def calibration_texts() -> list[str]:
    """The fixed passages that int8 quantization measures activation ranges on."""
    texts: list[str] = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))["texts"]
    return texts


def _encoder_inputs(model: "SentenceTransformer", texts: list[str]) -> dict[str, "np.ndarray"]:
    features = model.tokenize(texts)
    return {name: features[name].numpy() for name in ENCODER_INPUTS if name in features}


def convert_encoder(model: "SentenceTransformer", variant: OpenVINOVariant) -> "ov.Model":
    """The encoder as an OpenVINO model (last hidden state out), int8-quantized for openvino-int8."""
    import openvino as ov
    import torch

    encoder = transformer_of(model).eval()
    example = {name: torch.from_numpy(value) for name, value in _encoder_inputs(model, ["An example."]).items()}

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(
            self,
            input_ids: "torch.Tensor",
            attention_mask: "torch.Tensor",
            token_type_ids: "torch.Tensor | None" = None,
        ) -> "torch.Tensor":
            inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                inputs["token_type_ids"] = token_type_ids
            hidden: torch.Tensor = self.encoder(**inputs).last_hidden_state
            return hidden

    shapes = [(name, [-1, -1], ov.Type.i64) for name in example]
    with torch.no_grad():
        converted = ov.convert_model(LastHiddenState(), example_input=example, input=shapes)
    if variant == "openvino":
        return converted

    import nncf

    texts = calibration_texts()
    batches = [_encoder_inputs(model, texts[start : start + 4]) for start in range(0, len(texts), 4)]
    quantized: ov.Model = nncf.quantize(
        converted, nncf.Dataset(batches), model_type=nncf.ModelType.TRANSFORMER, subset_size=len(batches)
    )
    return quantized


def ensure_export(model: "SentenceTransformer", variant: OpenVINOVariant, cache_dir: Path) -> Path:
    """The export's IR file, made now when the cache does not hold it yet."""
    key = hashlib.sha256(f"{model_fingerprint(model)}|{variant_label(variant)}".encode()).hexdigest()[:20]
    folder = cache_dir / f"{variant}-{key}"
    if (folder / IR_NAME).is_file():
        return folder / IR_NAME
    import openvino as ov

    cache_dir.mkdir(parents=True, exist_ok=True)
    logger.info("Exporting the embedding model to OpenVINO ({}) into {} (once per model).", variant, folder)
    tic = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".{variant}-", dir=cache_dir))
    try:
        ov.save_model(convert_encoder(model, variant), staging / IR_NAME, compress_to_fp16=False)
        try:
            staging.rename(folder)
        except OSError:
            if not (folder / IR_NAME).is_file():  # not another process's finished export
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("Embedding export {} made in {:.1f} s.", folder.name, time.perf_counter() - tic)
    return folder / IR_NAME


class OpenVINOEncoder:
    """Encodes like SentenceTransformer.encode, with the transformer forward pass on an OpenVINO compiled model."""

    def __init__(self, model: "SentenceTransformer", variant: OpenVINOVariant, cache_dir: Path) -> None:
        import openvino as ov

        self._model = model
        self._input_names = [name for name in ENCODER_INPUTS if name in _encoder_inputs(model, ["x"])]
        # f32 compute for the layers left unquantized, so a store's vectors do not depend on the CPU's bf16 support.
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
        self._compiled = ov.Core().compile_model(ensure_export(model, variant, cache_dir), "CPU", config)

    def encode(self, texts: list[str], batch_size: int) -> "np.ndarray":
        """Unit-length vectors in the texts' order; texts run longest first so batches pad little."""
        import numpy as np
        import torch

        order = sorted(range(len(texts)), key=lambda index: -len(texts[index]))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            features = self._model.tokenize([texts[index] for index in chosen])
            inputs = {name: features[name].numpy() for name in self._input_names}
            hidden = self._compiled(inputs)[0]
            features["token_embeddings"] = torch.from_numpy(np.ascontiguousarray(hidden))
            for module in list(self._model)[1:]:
                features = module(features)
            embedding = torch.nn.functional.normalize(features["sentence_embedding"], dim=-1)
            vectors[chosen] = embedding.numpy()
        return vectors

    @property
    def dimension(self) -> int:
        """The vector size that the pooling produces."""
        size = self._model.get_embedding_dimension()
        if size is None:
            raise ValueError("The embedding model does not report its vector size.")
        return int(size)
