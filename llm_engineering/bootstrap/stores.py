"""The one place that picks the store adapters from the settings: the feature store, and the reviews' warehouse."""

from llm_engineering.infrastructure.db.mongo_reviews import MongoReviewStore
from llm_engineering.infrastructure.db.qdrant import QdrantVectorStore
from llm_engineering.infrastructure.db.qdrant_edge import EdgeVectorStore
from llm_engineering.settings import Settings

VectorStoreAdapter = EdgeVectorStore | QdrantVectorStore


def build_vector_store(settings: Settings, *, lock_wait_s: float = 3.0) -> VectorStoreAdapter:
    """Qdrant Edge in-process under DATA_DIR by default; qdrant-client for a Qdrant server or Qdrant Cloud.

    `lock_wait_s`: how long the embedded store waits for another process to release it before failing.
    """
    if settings.qdrant_backend == "local":
        return EdgeVectorStore.from_settings(settings, lock_wait_s=lock_wait_s)
    return QdrantVectorStore.from_settings(settings)


def build_review_store(settings: Settings) -> MongoReviewStore:
    """People's reviews of the dataset rows, in the warehouse the settings name; close() releases the connection."""
    return MongoReviewStore.from_settings(settings)
