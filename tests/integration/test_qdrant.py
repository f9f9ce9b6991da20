"""The qdrant-client adapter (for a Qdrant server or Qdrant Cloud), exercised in qdrant-client's local mode."""

from pathlib import Path
from uuid import uuid4

import pytest
from qdrant_client import models

from llm_engineering.domain.exceptions import VectorStoreError
from llm_engineering.domain.ports import SparseVector, VectorRecord
from llm_engineering.infrastructure.db.qdrant import QdrantVectorStore
from llm_engineering.settings import Settings


def test_local_mode_store_persists_on_disk(tmp_path: Path) -> None:
    first = QdrantVectorStore.local(tmp_path / "qdrant")
    first.ensure_collection("embedded_posts", 4, sparse=True)
    record = VectorRecord(id=uuid4(), payload={"author_id": "a"}, vector=[1.0, 0.0, 0.0, 0.0])
    first.upsert("embedded_posts", [record])
    first.close()
    second = QdrantVectorStore.local(tmp_path / "qdrant")
    assert second.count("embedded_posts") == 1
    second.close()


def test_collection_from_before_the_sparse_scheme_is_recreated() -> None:
    store = QdrantVectorStore.local()
    store.client.create_collection(
        "embedded_posts", vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE)
    )
    store.client.upsert("embedded_posts", [models.PointStruct(id=str(uuid4()), vector=[1.0, 0.0, 0.0, 0.0])])
    store.ensure_collection("embedded_posts", 4, sparse=True)
    assert store.count("embedded_posts") == 0
    store.upsert(
        "embedded_posts",
        [VectorRecord(id=uuid4(), vector=[0.0, 1.0, 0.0, 0.0], sparse=SparseVector(indices=[3], values=[1.0]))],
    )
    assert store.count("embedded_posts") == 1
    store.close()


def test_settings_without_a_server_do_not_pick_qdrant_client(settings: Settings) -> None:
    with pytest.raises(VectorStoreError, match="Qdrant Edge"):
        QdrantVectorStore.from_settings(settings)
