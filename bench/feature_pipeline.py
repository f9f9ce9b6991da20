"""Benchmark of the feature path against the physical limit, the bare embedding model.

    python bench/feature_pipeline.py [--min-chunks 5000] [--batch-size 32]

Replicates the sample corpus until it yields at least --min-chunks chunks, then measures in one process:
- throughput ratio: chunks/s of the whole feature path (Mongo read → clean → chunk → embed → Qdrant write,
  no ZenML start-up) ÷ chunks/s of the bare embedding encoder (TEXT_EMBEDDING_BACKEND's) over the same chunk texts
  (target ≥ 0.85);
- incremental ratio: full run time ÷ time of a second run over unchanged data (target ≥ 20);
- peak RSS (target < 2.5 GiB).
The last line is one JSON object with the figures.
"""

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from llm_engineering.application.preprocessing.chunking import DocumentChunker
from llm_engineering.application.preprocessing.cleaning import clean_document
from llm_engineering.application.preprocessing.feature_store import FeatureStoreUpdater
from llm_engineering.application.run_configs import FeatureEngineeringConfig, load_run_config
from llm_engineering.application.warehouse_transfer import import_warehouse
from llm_engineering.bootstrap.stores import build_vector_store
from llm_engineering.domain.documents import DOCUMENT_CLASSES, Document, UserDocument
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, SentenceTransformerEmbedder
from llm_engineering.infrastructure.local.folder_files import FolderFiles
from llm_engineering.infrastructure.local.loopback import free_port
from llm_engineering.infrastructure.local.mongo_server import LocalMongoServer
from llm_engineering.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def replicate(document: Document, replica: int, authors: dict[str, UserDocument]) -> Document:
    """A copy with its own link and a marked body, so every replica is a distinct document."""
    content = dict(document.content)
    key = {"articles": "content", "posts": "text"}.get(document.category.value)
    if key is not None:
        content[key] = f"{content[key]}\n\nReplica {replica}."
    else:
        content = {f"replica_{replica}/{path}": text for path, text in content.items()}
    return DOCUMENT_CLASSES[document.category].create(
        author=authors[document.author_full_name],
        platform=document.platform,
        link=f"{document.link}?replica={replica}",
        content=content,
        now=document.created_at,
        **document.extras(),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min-chunks", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    config = load_run_config(ROOT / "configs" / "feature_engineering.yaml", FeatureEngineeringConfig)
    chunking = config.chunking
    data_dir = Path(tempfile.mkdtemp(prefix="llm-twin-bench-"))
    settings = load_settings(_env_file=None, DATA_DIR=data_dir, DATABASE_HOST=None, LOCAL_DATABASE_PORT=free_port())
    server = LocalMongoServer.from_settings(settings)
    warehouse = MongoDataWarehouse.from_settings(settings)
    try:
        import_warehouse(warehouse, FolderFiles(ROOT / "data" / "sample"))
        embedder = SentenceTransformerEmbedder.from_settings(settings)
        chunker = DocumentChunker(embedder.tokenizer_json, embedder.max_input_tokens, chunking)
        originals = [d for c in DataCategory for d in warehouse.iter_documents(c)]
        per_copy = sum(len(chunker.chunk(clean_document(d))) for d in originals)
        copies = -(-args.min_chunks // per_copy)
        authors = {u.full_name: u for u in warehouse.list_users()}
        warehouse.upsert_documents(replicate(d, n, authors) for n in range(1, copies) for d in originals)
        print(f"corpus: {copies} copies of the sample, {len(originals) * copies} documents", file=sys.stderr)

        # The same chunk texts the pipeline will embed; the model is warmed up first so neither timing pays for it.
        texts = [
            chunk.content
            for c in DataCategory
            for document in warehouse.iter_documents(c)
            for chunk in chunker.chunk(clean_document(document))
        ]
        embedder.embed(texts[:64], batch_size=args.batch_size)
        tic = time.perf_counter()
        embedder.embed(texts, batch_size=args.batch_size)
        bare_seconds = time.perf_counter() - tic

        store = build_vector_store(settings)
        updater = FeatureStoreUpdater(
            warehouse,
            store,
            embedder,
            chunking,
            sparse_embedder=Bm25SparseEmbedder(),
            embedding_batch_size=args.batch_size,
            write_batch_size=config.write_batch_size,
        )
        tic = time.perf_counter()
        full = updater.run()
        full_seconds = time.perf_counter() - tic
        chunks = sum(full.chunks_written.values())

        tic = time.perf_counter()
        again = updater.run()
        incremental_seconds = time.perf_counter() - tic
        if sum(again.chunks_written.values()) != 0:
            raise RuntimeError("the second run re-embedded unchanged documents")
        store.close()
    finally:
        server.stop()

    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    pipeline_rate, bare_rate = chunks / full_seconds, len(texts) / bare_seconds
    result = {
        "chunks": chunks,
        "pipeline_chunks_per_s": round(pipeline_rate, 2),
        "bare_encode_chunks_per_s": round(bare_rate, 2),
        "throughput_ratio": round(pipeline_rate / bare_rate, 3),
        "full_run_s": round(full_seconds, 2),
        "embedding_s": round(full.embedding_seconds, 2),
        "incremental_run_s": round(incremental_seconds, 3),
        "incremental_ratio": round(full_seconds / incremental_seconds, 1),
        "peak_rss_gib": round(peak_gib, 3),
    }
    print(f"feature path   {pipeline_rate:8.2f} chunks/s   ({chunks} chunks in {full_seconds:.1f} s)")
    print(f"embedding variant: {embedder.variant}")
    print(f"bare encode    {bare_rate:8.2f} chunks/s   (limit)   ratio {result['throughput_ratio']} (target >= 0.85)")
    print(f"incremental    {incremental_seconds:8.3f} s         ratio {result['incremental_ratio']} (target >= 20)")
    print(f"peak RSS       {peak_gib:8.3f} GiB       (target < 2.5)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
