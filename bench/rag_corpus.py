"""The sample corpus in a private, throw-away warehouse and feature store, for the retrieval benches."""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from llm_engineering.application.preprocessing.chunking import ChunkingConfig
from llm_engineering.application.preprocessing.feature_store import FeatureStoreUpdater
from llm_engineering.application.warehouse_transfer import import_warehouse
from llm_engineering.bootstrap.stores import VectorStoreAdapter, build_vector_store
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, SentenceTransformerEmbedder
from llm_engineering.infrastructure.local.folder_files import FolderFiles
from llm_engineering.infrastructure.local.loopback import free_port
from llm_engineering.infrastructure.local.mongo_server import LocalMongoServer
from llm_engineering.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "data" / "sample"


@dataclass
class BenchStores:
    """A running private warehouse and an open feature store, with the settings that point at them."""

    settings: Settings
    warehouse: MongoDataWarehouse
    store: VectorStoreAdapter


@contextmanager
def sample_stores(**settings_overrides: object) -> Iterator[BenchStores]:
    """A temporary DATA_DIR with its own Mongo-wire server, holding the sample corpus and its features."""
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as folder:
        settings = load_settings(
            _env_file=None,
            DATA_DIR=Path(folder) / "data",
            DATABASE_HOST=None,
            LOCAL_DATABASE_PORT=free_port(),
            **settings_overrides,
        )
        server = LocalMongoServer.from_settings(settings)
        server.start()
        try:
            warehouse = MongoDataWarehouse.from_settings(settings)
            import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
            store = build_vector_store(settings)
            try:
                FeatureStoreUpdater(
                    warehouse,
                    store,
                    SentenceTransformerEmbedder.from_settings(settings),
                    ChunkingConfig(),
                    sparse_embedder=Bm25SparseEmbedder(),
                    embedding_batch_size=32,
                    write_batch_size=256,
                    progress=False,
                ).run()
                yield BenchStores(settings=settings, warehouse=warehouse, store=store)
            finally:
                store.close()
        finally:
            server.stop()
