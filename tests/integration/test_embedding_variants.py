"""The packaged embedding model on OpenVINO (fp32 and int8) against the same model on torch."""

import os
from pathlib import Path

import numpy as np
import pytest

from llm_engineering.domain.exceptions import SettingsError
from llm_engineering.infrastructure import embedding_openvino
from llm_engineering.infrastructure.embeddings import SentenceTransformerEmbedder, load_sentence_transformer
from llm_engineering.settings import load_settings

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
CACHE = Path(os.environ["EMBEDDING_CACHE_DIR"])
TEXTS = [
    "How do you keep GPU costs down when fine-tuning?",
    "Quantization stores weights in eight bits, which makes the model smaller and usually faster on a CPU.",
    "A vector database indexes embeddings so that the nearest neighbours of a query are found quickly. " * 6,
    "Short.",
]


def agreement(one: list[list[float]], other: list[list[float]]) -> np.ndarray:
    result: np.ndarray = (np.asarray(one) * np.asarray(other)).sum(axis=1)
    return result


def test_openvino_variants_agree_with_torch_and_say_what_they_are() -> None:
    reference = SentenceTransformerEmbedder(MODEL).embed(TEXTS)
    fp32 = SentenceTransformerEmbedder(MODEL, backend="openvino", cache_dir=CACHE)
    int8 = SentenceTransformerEmbedder(MODEL, backend="openvino-int8", cache_dir=CACHE)
    assert fp32.dimension == int8.dimension == 384
    fp32_vectors, int8_vectors = fp32.embed(TEXTS, batch_size=2), int8.embed(TEXTS, batch_size=3)
    assert agreement(fp32_vectors, reference).min() > 0.9999
    # The goal is a mean agreement of 0.99; a repetitive text is the hardest case for int8 (0.990 here).
    assert agreement(int8_vectors, reference).mean() > 0.99 and agreement(int8_vectors, reference).min() > 0.98
    assert agreement(int8_vectors, fp32_vectors).min() < 0.99999  # int8 is a different computation, not a copy
    assert np.allclose(np.linalg.norm(int8_vectors, axis=1), 1.0, atol=1e-5)
    # Order is kept although texts run longest first.
    [alone] = int8.embed([TEXTS[1]])
    assert agreement([alone], [int8_vectors[1]])[0] > 0.9999
    assert SentenceTransformerEmbedder(MODEL).variant == "torch-fp32"
    assert fp32.variant.startswith("openvino-fp32/openvino ")
    assert int8.variant.startswith("openvino-int8/openvino ") and "/nncf " in int8.variant


def test_an_export_is_made_once_and_a_failed_one_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = load_sentence_transformer(MODEL, "cpu")
    made = embedding_openvino.ensure_export(model, "openvino", tmp_path)
    assert made.is_file() and made.with_suffix(".bin").is_file()

    def no_export(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(embedding_openvino, "convert_encoder", no_export)
    assert embedding_openvino.ensure_export(model, "openvino", tmp_path) == made
    before = sorted(path.name for path in tmp_path.iterdir())

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated crash half-way through the export")

    monkeypatch.setattr(embedding_openvino, "convert_encoder", crash)
    with pytest.raises(RuntimeError, match="half-way"):
        embedding_openvino.ensure_export(model, "openvino-int8", tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == before


def test_bad_backend_settings_are_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"Unknown embedding backend 'onnx'.*openvino-int8"):
        SentenceTransformerEmbedder(MODEL, backend="onnx")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"CPU only.*TEXT_EMBEDDING_BACKEND=torch"):
        SentenceTransformerEmbedder(MODEL, "cuda", backend="openvino-int8")
    with pytest.raises(SettingsError, match="TEXT_EMBEDDING_BACKEND"):
        load_settings(_env_file=None, TEXT_EMBEDDING_BACKEND="int4")
    assert SentenceTransformerEmbedder.from_settings(load_settings(_env_file=None)).backend == "openvino-int8"
