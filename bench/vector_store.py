"""Benchmark of the feature store's adapters in local form: Qdrant Edge, and qdrant-client local mode (memory, path).

    python bench/vector_store.py [--sizes 10000 100000] [--queries 200] [--budget-s 180]

For each size it builds one synthetic corpus (384-d unit vectors, a BM25 vector of ~30 terms per point from
Qdrant Edge's BM25, 50 authors so an author filter keeps 2% of the points), loads it into each adapter through the
VectorStore port, and measures:
- upsert time (batches of 1024; for Qdrant Edge also optimize(), which builds HNSW and the payload indexes);
- query latency p50/p95 of dense and hybrid (dense + BM25 prefetch, RRF) search, unfiltered and filtered by author.
qdrant-client's local mode is slow (no indexes; on a path it also pickles every point into SQLite): when the queries
of a cell would take longer than --budget-s, fewer are measured, and when loading takes longer than --upsert-budget-s
the load stops there, its rate is extrapolated to the full size, and that cell's queries are skipped (they run on the
same in-memory engine as the :memory: cell). The table says which figures were cut.
Goal: Qdrant Edge filtered hybrid p50 < 5 ms at 100k points.
The last line is one JSON object with every figure.
"""

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np

from llm_engineering.bootstrap.stores import VectorStoreAdapter
from llm_engineering.domain.ids import chunk_id
from llm_engineering.domain.ports import SparseVector, VectorRecord
from llm_engineering.infrastructure.db.qdrant import QdrantVectorStore
from llm_engineering.infrastructure.db.qdrant_edge import EdgeVectorStore
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder

DIM = 384
AUTHORS = 50
CHUNKS_PER_DOCUMENT = 10
WORDS_PER_POINT = 30
VOCABULARY = 20_000
BATCH = 1024
COLLECTION = "embedded_articles"
QUERY_KINDS = ("dense", "dense_filtered", "hybrid", "hybrid_filtered")


@dataclass
class Corpus:
    """Dense vectors (float32), BM25 vectors, payloads and the texts the queries are drawn from."""

    vectors: np.ndarray
    sparse: list[SparseVector]
    payloads: list[dict[str, Any]]
    ids: list[UUID]
    words: list[list[str]]


@dataclass
class Cell:
    """The figures of one adapter at one size."""

    backend: str
    size: int
    upsert_s: float = 0.0
    optimize_s: float = 0.0
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        figures: dict[str, Any] = {
            "backend": self.backend,
            "points": self.size,
            "upsert_s": round(self.upsert_s, 2),
            "optimize_s": round(self.optimize_s, 2),
        }
        for kind, values in self.latencies_ms.items():
            figures[f"{kind}_p50_ms"] = round(statistics.median(values), 2)
            figures[f"{kind}_p95_ms"] = round(float(np.percentile(values, 95)), 2)
            figures[f"{kind}_queries"] = len(values)
        figures["notes"] = self.notes
        return figures


def make_corpus(size: int, rng: np.random.Generator, sparse_embedder: Bm25SparseEmbedder) -> Corpus:
    """Clustered unit vectors and Zipf-distributed words, so both searches have real neighbours to find."""
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocabulary = ["".join(rng.choice(letters, size=int(rng.integers(4, 10)))) for _ in range(VOCABULARY)]
    centres = rng.standard_normal((256, DIM)).astype(np.float32)
    vectors = centres[rng.integers(0, len(centres), size)] + 0.6 * rng.standard_normal((size, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ranks = np.minimum(rng.zipf(1.15, size=(size, WORDS_PER_POINT)), VOCABULARY) - 1
    words = [[vocabulary[r] for r in row] for row in ranks]
    sparse = sparse_embedder.embed_documents([" ".join(row) for row in words])
    documents = [UUID(int=n + 1) for n in range(-(-size // CHUNKS_PER_DOCUMENT))]
    payloads, ids = [], []
    for n in range(size):
        document = documents[n // CHUNKS_PER_DOCUMENT]
        payloads.append(
            {
                "author_id": f"author-{n % AUTHORS:02d}",
                "document_id": str(document),
                "chunk_index": n % CHUNKS_PER_DOCUMENT,
            }
        )
        ids.append(chunk_id(document, n % CHUNKS_PER_DOCUMENT))
    return Corpus(vectors=vectors, sparse=sparse, payloads=payloads, ids=ids, words=words)


def load(store: VectorStoreAdapter, corpus: Corpus, budget_s: float) -> tuple[float, int]:
    """Upsert the corpus through the port, stopping once past the budget; (seconds inside upsert calls, points)."""
    store.ensure_collection(COLLECTION, DIM, sparse=True)
    seconds = 0.0
    stop = 0
    for start in range(0, len(corpus.ids), BATCH):
        if seconds > budget_s:
            return seconds, start
        stop = min(start + BATCH, len(corpus.ids))
        batch = [
            VectorRecord(id=corpus.ids[n], payload=corpus.payloads[n], vector=row, sparse=corpus.sparse[n])
            for n, row in zip(range(start, stop), corpus.vectors[start:stop].tolist(), strict=True)
        ]
        tic = time.perf_counter()
        store.upsert(COLLECTION, batch)
        seconds += time.perf_counter() - tic
    return seconds, stop


def query_plan(corpus: Corpus, count: int, rng: np.random.Generator, sparse_embedder: Bm25SparseEmbedder) -> list[Any]:
    """Queries near stored points: the point's vector plus noise, and 3 of its words; an author to filter on."""
    plan = []
    for n in rng.integers(0, len(corpus.ids), count):
        vector = corpus.vectors[n] + 0.3 * rng.standard_normal(DIM).astype(np.float32)
        words = " ".join(rng.choice(corpus.words[n], size=3, replace=False))
        plan.append(
            (
                (vector / np.linalg.norm(vector)).tolist(),
                sparse_embedder.embed_query(words),
                f"author-{n % AUTHORS:02d}",
            )
        )
    return plan


def measure(store: VectorStoreAdapter, plan: list[Any], cell: Cell, budget_s: float) -> None:
    """Latency of each query kind; the number of queries is cut when the budget would be exceeded."""
    runs: dict[str, Callable[[Any], object]] = {
        "dense": lambda q: store.search(COLLECTION, q[0], k=10),
        "dense_filtered": lambda q: store.search(COLLECTION, q[0], k=10, filters={"author_id": q[2]}),
        "hybrid": lambda q: store.hybrid_search(COLLECTION, q[0], q[1], k=10),
        "hybrid_filtered": lambda q: store.hybrid_search(COLLECTION, q[0], q[1], k=10, filters={"author_id": q[2]}),
    }
    per_kind_budget = budget_s / len(runs)
    for kind, run in runs.items():
        run(plan[0])  # warm-up, not counted
        latencies: list[float] = []
        spent = 0.0
        for query in plan:
            tic = time.perf_counter()
            run(query)
            elapsed = time.perf_counter() - tic
            latencies.append(elapsed * 1000)
            spent += elapsed
            if spent > per_kind_budget and len(latencies) >= 5:
                break
        if len(latencies) < len(plan):
            cell.notes.append(f"{kind}: {len(latencies)} of {len(plan)} queries (time budget {per_kind_budget:.0f} s)")
        cell.latencies_ms[kind] = latencies


def run_backend(
    backend: str, corpus: Corpus, plan: list[Any], workdir: Path, budget_s: float, upsert_budget_s: float
) -> Cell:
    cell = Cell(backend=backend, size=len(corpus.ids))
    folder = workdir / f"{backend}-{cell.size}"
    store: VectorStoreAdapter
    if backend == "qdrant-edge":
        store = EdgeVectorStore(folder)
    elif backend == "qdrant-client :memory:":
        store = QdrantVectorStore.local()
    else:
        store = QdrantVectorStore.local(folder)
    try:
        cell.upsert_s, loaded = load(store, corpus, upsert_budget_s)
        if loaded < cell.size:
            cell.upsert_s *= cell.size / loaded
            cell.notes.append(
                f"upsert: stopped after {loaded:,} points (budget {upsert_budget_s:.0f} s); the figure is extrapolated "
                "to the full size, and the queries were skipped"
            )
            return cell
        tic = time.perf_counter()
        store.optimize(COLLECTION)
        cell.optimize_s = time.perf_counter() - tic
        if store.count(COLLECTION) != cell.size:
            raise RuntimeError(f"{backend} holds {store.count(COLLECTION)} points, expected {cell.size}")
        measure(store, plan, cell, budget_s)
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)
    return cell


def render(cells: list[Cell]) -> str:
    """A markdown table: p50 / p95 in ms per query kind."""
    header = (
        "| backend | points | upsert s | optimize s | " + " | ".join(f"{k} p50 / p95 ms" for k in QUERY_KINDS) + " |"
    )
    lines = [header, "|" + "---|" * (4 + len(QUERY_KINDS))]
    for cell in cells:
        row = cell.row()
        figures = " | ".join(
            f"{row[f'{k}_p50_ms']} / {row[f'{k}_p95_ms']} (n={row[f'{k}_queries']})" if k in cell.latencies_ms else "—"
            for k in QUERY_KINDS
        )
        lines.append(f"| {cell.backend} | {cell.size:,} | {row['upsert_s']} | {row['optimize_s']} | {figures} |")
    notes = [f"- {cell.backend} at {cell.size:,}: {note}" for cell in cells for note in cell.notes]
    return "\n".join(lines + (["", *notes] if notes else []))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200, help="queries per kind (default 200)")
    parser.add_argument("--budget-s", type=float, default=180.0, help="query time per adapter and size (default 180)")
    parser.add_argument(
        "--upsert-budget-s", type=float, default=120.0, help="load time per adapter and size (default 120)"
    )
    parser.add_argument(
        "--backends",
        nargs="+",
        default=["qdrant-edge", "qdrant-client :memory:", "qdrant-client path"],
        choices=["qdrant-edge", "qdrant-client :memory:", "qdrant-client path"],
    )
    args = parser.parse_args()
    rng = np.random.default_rng(14)
    sparse_embedder = Bm25SparseEmbedder()
    workdir = Path(tempfile.mkdtemp(prefix="llm-twin-bench-vectors-"))
    cells: list[Cell] = []
    try:
        for size in args.sizes:
            tic = time.perf_counter()
            corpus = make_corpus(size, rng, sparse_embedder)
            plan = query_plan(corpus, args.queries, rng, sparse_embedder)
            print(f"corpus of {size:,} points built in {time.perf_counter() - tic:.1f} s", file=sys.stderr, flush=True)
            for backend in args.backends:
                cells.append(run_backend(backend, corpus, plan, workdir, args.budget_s, args.upsert_budget_s))
                print(f"  {json.dumps(cells[-1].row())}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(render(cells))
    edge = [c for c in cells if c.backend == "qdrant-edge" and c.size == max(args.sizes)]
    if edge:
        p50 = statistics.median(edge[0].latencies_ms["hybrid_filtered"])
        print(f"\nQdrant Edge filtered hybrid p50 at {edge[0].size:,} points: {p50:.2f} ms (goal < 5 ms)")
    print(json.dumps([cell.row() for cell in cells]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
