"""The feature pipeline's step: bring the feature store up to date with the warehouse."""

from typing import Annotated, Any
from uuid import UUID

from loguru import logger
from zenml import step

from llm_engineering.application.preprocessing.feature_store import FeatureStoreUpdater
from llm_engineering.application.run_configs import FeatureEngineeringConfig
from llm_engineering.bootstrap.stores import build_vector_store
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, SentenceTransformerEmbedder
from llm_engineering.infrastructure.zenml_settings import settings_for_step
from steps.metadata import record_metadata


@step
def update_feature_store(
    author_ids: list[str], config: FeatureEngineeringConfig
) -> Annotated[dict[str, Any], "feature_store_report"]:
    """Clean, chunk, embed and load every new or changed document; drop the features of deleted ones."""
    settings = settings_for_step()
    warehouse = MongoDataWarehouse.from_settings(settings)
    store = build_vector_store(settings)
    try:
        updater = FeatureStoreUpdater(
            warehouse,
            store,
            SentenceTransformerEmbedder.from_settings(settings),
            config.chunking,
            sparse_embedder=Bm25SparseEmbedder(),
            embedding_batch_size=config.embedding_batch_size,
            write_batch_size=config.write_batch_size,
        )
        report = updater.run(author_ids=[UUID(a) for a in author_ids], full=config.full).summary()
    finally:
        store.close()
    logger.info(
        "Feature store: {documents_seen} documents seen, {documents_changed} rebuilt, {documents_skipped} unchanged, "
        "{documents_deleted} removed, {chunks_written} chunks written.",
        **report,
    )
    record_metadata(report)
    return report
