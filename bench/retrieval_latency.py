"""Retrieval latency at 10,000 chunks against the bare cost of one question: embed it and send one Qdrant query.

    python -m bench.retrieval_latency [--chunks 10000] [--queries 200]

The sample corpus's chunks are replicated (new ids, the dense vector nudged by a little noise, the BM25 vector kept)
until the embedded collections hold --chunks points; replicas belong to 50 made-up authors, so a question that
names Maya Okafor filters down to ~1% of the points. Measured in one process, on the same questions (half of
them name an author), after a warm-up:
- bare: MiniLM embedding of the question + its BM25 vector + one hybrid query (dense + BM25 prefetch, RRF) on the
  largest collection;
- retrieval: ContextRetriever.search as the service runs it (self-query from the warehouse's authors, then per
  collection the fused query plus the dense and the BM25 lists for their scores, one ranking across collections,
  dedupe; no reranker here).
Target: retrieval p50 at most 1.5 times bare p50. On a loaded machine the embedding's time swings the ratio, so
retrieval's own work is also timed alone: the same searches with each question's vector already known.
The last line is one JSON object with the figures.
"""

import argparse
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence

from loguru import logger

from bench.rag_corpus import BenchStores, sample_stores
from llm_engineering.application.rag.retriever import ContextRetriever, RetrieverConfig
from llm_engineering.domain.ids import user_id
from llm_engineering.domain.ports import VectorRecord
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, SentenceTransformerEmbedder

QUESTIONS = [
    "How do you keep GPU costs down?",
    "Maya Okafor, how do you read a GPU bill?",
    "Is Spark worth it for small data?",
    "Maya, what makes a training run reproducible?",
    "Should I pick Airflow or Dagster?",
    "Maya Okafor on alert budgets for drift monitoring",
    "What is a data contract?",
    "Maya, how do you version datasets?",
    "Why are notebooks not pipelines?",
    "Maya Okafor: what does a feature store do?",
]


def grow(stores: BenchStores, target: int, seed: int = 0) -> int:
    """Replicate every embedded chunk until the collections hold about `target` points; returns the total."""
    rng = random.Random(seed)  # noqa: S311 - noise for a benchmark, not a secret
    originals = {
        category: list(stores.store.scroll(category.embedded_collection, with_vectors=True))
        for category in DataCategory
    }
    total = sum(len(records) for records in originals.values())
    replicas = max(0, -(-target // total) - 1)
    for category, records in originals.items():
        collection = category.embedded_collection
        batch: list[VectorRecord] = []
        for replica in range(1, replicas + 1):
            author = f"Replica Author {replica % 50}"
            for record in records:
                if record.vector is None:
                    continue
                noisy = [value + rng.gauss(0, 0.02) for value in record.vector]
                norm = sum(value * value for value in noisy) ** 0.5
                payload = dict(record.payload) | {
                    "author_id": str(user_id(author)),
                    "author_full_name": author,
                    "content": f"{record.payload['content']}\n\nReplica {replica}.",
                }
                batch.append(
                    VectorRecord(
                        id=uuid.uuid5(record.id, str(replica)),
                        payload=payload,
                        vector=[value / norm for value in noisy],
                        sparse=record.sparse,
                    )
                )
        stores.store.upsert(collection, batch)
        stores.store.optimize(collection)
    return sum(stores.store.count(category.embedded_collection) for category in DataCategory)


class RememberedEmbedder(SentenceTransformerEmbedder):
    """The real embedder, remembering each text's vector: retrieval timed without the cost of embedding."""

    def __init__(self, model_id: str, device: str = "cpu") -> None:
        super().__init__(model_id, device)
        self._vectors: dict[str, list[float]] = {}

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> list[list[float]]:
        missing = [text for text in texts if text not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, super().embed(missing, batch_size=batch_size), strict=True))
        return [self._vectors[text] for text in texts]


def timed(function: Callable[[str], object], questions: list[str]) -> list[float]:
    """Milliseconds per call, one call per question."""
    times = []
    for question in questions:
        started = time.perf_counter()
        function(question)
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentiles(times: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(times, n=20)
    return {"p50": round(statistics.median(times), 2), "p95": round(cuts[18], 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.retrieval_latency",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--chunks", type=int, default=10_000, help="points in the embedded collections")
    parser.add_argument("--queries", type=int, default=200, help="timed calls per measurement")
    args = parser.parse_args(argv)
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    with sample_stores() as stores:
        total = grow(stores, args.chunks)
        settings = stores.settings
        embedder = SentenceTransformerEmbedder.from_settings(settings)
        sparse = Bm25SparseEmbedder()
        retriever = ContextRetriever(
            store=stores.store,
            embedder=embedder,
            sparse_embedder=sparse,
            authors=stores.warehouse,
            config=RetrieverConfig(),
        )
        largest = max(DataCategory, key=lambda c: stores.store.count(c.embedded_collection)).embedded_collection

        def bare(question: str) -> object:
            [vector] = embedder.embed([question])
            return stores.store.hybrid_search(largest, vector, sparse.embed_query(question), k=5)

        questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.queries)]
        timed(bare, QUESTIONS)  # warm-up: model, caches, shards
        timed(lambda q: retriever.search(q), QUESTIONS)
        results: dict[str, dict[str, float]] = {}
        # Interleaved rounds, so a change in the machine's load hits both measurements alike.
        bare_times: list[float] = []
        rag_times: list[float] = []
        for start in range(0, len(questions), 20):
            round_questions = questions[start : start + 20]
            bare_times += timed(bare, round_questions)
            rag_times += timed(lambda q: retriever.search(q), round_questions)
        results["bare: embed + one hybrid query"] = percentiles(bare_times)
        results["retrieval (ContextRetriever.search)"] = percentiles(rag_times)
        results["  of which: embed the question"] = percentiles(timed(lambda q: embedder.embed([q]), questions))
        [vector] = embedder.embed([QUESTIONS[0]])
        query_terms = sparse.embed_query(QUESTIONS[0])
        results["  of which: one hybrid query"] = percentiles(
            timed(lambda _q: stores.store.hybrid_search(largest, vector, query_terms, k=5), questions)
        )
        results["  of which: list the warehouse's authors"] = percentiles(
            timed(lambda _q: stores.warehouse.list_users(), questions)
        )
        remembered = ContextRetriever(
            store=stores.store,
            embedder=RememberedEmbedder(settings.TEXT_EMBEDDING_MODEL_ID, settings.RAG_MODEL_DEVICE),
            sparse_embedder=sparse,
            authors=stores.warehouse,
            config=RetrieverConfig(),
        )
        timed(lambda q: remembered.search(q), QUESTIONS)  # warm-up, and every question's vector remembered
        results["retrieval with the question's vector known"] = percentiles(
            timed(lambda q: remembered.search(q), questions)
        )
    ratio = results["retrieval (ContextRetriever.search)"]["p50"] / results["bare: embed + one hybrid query"]["p50"]
    print(f"\n{total} chunks, {len(questions)} questions per measurement (ms)")
    print(f"{'measurement':<44} {'p50':>8} {'p95':>8}")
    for name, figures in results.items():
        print(f"{name:<44} {figures['p50']:8.2f} {figures['p95']:8.2f}")
    print(f"retrieval p50 / bare p50 = {ratio:.2f} (target ≤ 1.5)")
    print(json.dumps({"chunks": total, "ratio_p50": round(ratio, 2)} | results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
