"""The sample corpus in the test's warehouse and feature store, built by the real feature pipeline's use case."""

from llm_engineering.application.preprocessing.chunking import ChunkingConfig
from llm_engineering.application.preprocessing.feature_store import FeatureStoreUpdater
from llm_engineering.application.warehouse_transfer import import_warehouse
from llm_engineering.domain.ports import DocumentRepository, VectorStore
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, SentenceTransformerEmbedder
from tests.conftest import SAMPLE_DIR

EMBEDDING_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


def load_sample_features(warehouse: DocumentRepository, store: VectorStore) -> None:
    """Import data/sample and build its cleaned and embedded collections (dense + BM25)."""
    import_warehouse(warehouse, SAMPLE_DIR)
    FeatureStoreUpdater(
        warehouse,
        store,
        SentenceTransformerEmbedder(EMBEDDING_MODEL_ID),
        ChunkingConfig(),
        sparse_embedder=Bm25SparseEmbedder(),
        embedding_batch_size=32,
        write_batch_size=64,
        progress=False,
    ).run()
