"""The Qdrant Edge adapter: on-disk shards, the one-process lock and its message, the old local-mode store."""

import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest
import qdrant_edge

from llm_engineering.bootstrap.stores import build_vector_store
from llm_engineering.domain.exceptions import VectorStoreError
from llm_engineering.domain.ports import SparseVector, VectorRecord
from llm_engineering.infrastructure.db.qdrant import QdrantVectorStore
from llm_engineering.infrastructure.db.qdrant_edge import EdgeVectorStore, edge_root
from llm_engineering.settings import Settings
from tests.conftest import REPO_ROOT, make_settings

# qdrant-client warns, from a background thread, that no server answered its version check (none runs here).
pytestmark = pytest.mark.filterwarnings("ignore:Failed to obtain server version")

RECORD = VectorRecord(
    id=uuid4(),
    payload={"author_id": "a", "document_id": "d"},
    vector=[1.0, 0.0, 0.0, 0.0],
    sparse=SparseVector(indices=[1, 2], values=[1.0, 1.0]),
)

HOLDER = """
import sys
from llm_engineering.infrastructure.db.qdrant_edge import EdgeVectorStore
store = EdgeVectorStore(__import__("pathlib").Path(sys.argv[1]))
store.count("embedded_posts")
print("holding", flush=True)
sys.stdin.readline()
store.close()
"""


def filled(root: Path) -> EdgeVectorStore:
    store = EdgeVectorStore(root, lock_wait_s=0.3)
    store.ensure_collection("embedded_posts", 4, sparse=True)
    store.upsert("embedded_posts", [RECORD])
    return store


def test_factory_picks_edge_by_default_and_qdrant_client_for_a_server(settings: Settings, tmp_path: Path) -> None:
    store = build_vector_store(settings)
    assert isinstance(store, EdgeVectorStore) and store.root == settings.data_dir / "qdrant_edge"
    store.close()
    server = build_vector_store(make_settings(tmp_path, QDRANT_DATABASE_HOST="localhost"))
    assert isinstance(server, QdrantVectorStore)
    server.close()


def test_shards_persist_with_payload_indexes_and_release_on_close(tmp_path: Path) -> None:
    store = filled(tmp_path)
    store.optimize("embedded_posts")
    store.close()
    assert not list(tmp_path.glob("*.owner.json"))
    shard = qdrant_edge.EdgeShard.load(str(tmp_path / "embedded_posts"))
    assert {"author_id", "document_id"} <= set(shard.info().payload_schema)
    shard.close()
    again = EdgeVectorStore(tmp_path)
    assert again.count("embedded_posts", {"document_id": "d"}) == 1
    again.close()


def test_a_second_process_is_told_who_holds_the_store_and_what_to_do(tmp_path: Path) -> None:
    filled(tmp_path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(VectorStoreError) as caught:
            EdgeVectorStore(tmp_path, lock_wait_s=0.3).count("embedded_posts")
        message = str(caught.value)
        assert f"process {holder.pid}" in message
        assert "wait for that process to finish" in message and "QDRANT_DATABASE_HOST" in message
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    # The holder has exited: the next process opens the store with nothing to clean up.
    after = EdgeVectorStore(tmp_path, lock_wait_s=0.3)
    assert after.count("embedded_posts") == 1
    after.close()


def test_a_second_store_in_the_same_process_fails_at_once(tmp_path: Path) -> None:
    first = filled(tmp_path)
    with pytest.raises(VectorStoreError, match="this same process"):
        EdgeVectorStore(tmp_path, lock_wait_s=30).count("embedded_posts")
    first.close()


def test_an_owner_file_left_by_a_killed_process_does_not_block(tmp_path: Path) -> None:
    filled(tmp_path).close()
    (tmp_path / "embedded_posts.owner.json").write_text('{"pid": 999999999, "command": "killed"}')
    store = EdgeVectorStore(tmp_path, lock_wait_s=0.3)
    assert store.count("embedded_posts") == 1
    store.close()


def test_old_local_mode_store_is_detected_and_rebuilt_elsewhere(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    legacy = QdrantVectorStore.local(settings.data_dir / "qdrant")
    legacy.ensure_collection("embedded_posts", 4, sparse=True)
    legacy.upsert("embedded_posts", [RECORD])
    legacy.close()
    from loguru import logger

    handler = logger.add(caplog.handler, format="{message}", level="WARNING")
    try:
        store = build_vector_store(settings)
    finally:
        logger.remove(handler)
    assert "qdrant-client's local mode" in caplog.text and "from MongoDB" in caplog.text
    assert store.count("embedded_posts") == 0 and edge_root(settings) != settings.data_dir / "qdrant"
    store.close()
