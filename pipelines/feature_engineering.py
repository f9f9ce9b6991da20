"""Feature pipeline: the warehouse's raw documents → cleaned documents and embedded chunks in Qdrant."""

from typing import Any

from zenml import pipeline

from steps.authors import resolve_authors
from steps.feature_engineering import update_feature_store


@pipeline
def feature_engineering(
    author_full_names: list[str],
    full: bool,
    chunking: dict[str, Any],
    embedding_batch_size: int,
    write_batch_size: int,
) -> None:
    """Incremental by content hash: unchanged documents cost one hash comparison each."""
    author_ids = resolve_authors(author_full_names)
    update_feature_store(author_ids, full, chunking, embedding_batch_size, write_batch_size)
