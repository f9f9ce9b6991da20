"""The sample corpus in the test's warehouse and feature store, built by the real feature pipeline's use case, and
the packaged SmolLM2 made available to a tool run under the test's DATA_DIR without converting it again."""

import os
from pathlib import Path

from llm_engineering.application.preprocessing.chunking import ChunkingConfig
from llm_engineering.application.preprocessing.feature_store import FeatureStoreUpdater
from llm_engineering.application.warehouse_transfer import import_warehouse
from llm_engineering.bootstrap.stores import build_vector_store
from llm_engineering.domain.ports import DocumentRepository, Embedder, VectorStore
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, SentenceTransformerEmbedder
from llm_engineering.infrastructure.local.folder_files import FolderFiles
from llm_engineering.settings import Settings
from tests.conftest import SAMPLE_DIR, link_packaged_llm

EMBEDDING_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


def shipped_embedder() -> SentenceTransformerEmbedder:
    """MiniLM on the backend the settings ship with (what `make run` and the service embed with), its OpenVINO
    export kept in the checkout's cache (EMBEDDING_CACHE_DIR, set by conftest)."""
    backend = Settings.model_fields["TEXT_EMBEDDING_BACKEND"].default
    return SentenceTransformerEmbedder(
        EMBEDDING_MODEL_ID, backend=backend, cache_dir=Path(os.environ["EMBEDDING_CACHE_DIR"])
    )


def load_sample_features(warehouse: DocumentRepository, store: VectorStore, embedder: Embedder | None = None) -> None:
    """Import data/sample and build its cleaned and embedded collections (dense + BM25), with the shipped encoder
    unless another embedder is given."""
    import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
    FeatureStoreUpdater(
        warehouse,
        store,
        embedder or shipped_embedder(),
        ChunkingConfig(),
        sparse_embedder=Bm25SparseEmbedder(),
        embedding_batch_size=32,
        write_batch_size=64,
        progress=False,
    ).run()


def prepare_sample_twin(settings: Settings, warehouse: DocumentRepository, session_models_dir: Path) -> None:
    """The sample's features in the settings' store, embedded by the encoder the settings configure, as the tool or
    the service will query it (closed again, so they can open it), and the session's converted SmolLM2 linked where
    the settings look for it."""
    store = build_vector_store(settings)
    try:
        load_sample_features(warehouse, store, SentenceTransformerEmbedder.from_settings(settings))
    finally:
        store.close()
    link_packaged_llm(session_models_dir, settings.data_dir)
