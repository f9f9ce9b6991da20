"""The embedding variants side by side: speed, agreement with fp32, and retrieval quality.

    python -m bench.embeddings [--chunks 1000] [--batch-size 32] [--variant torch --variant openvino-int8 ...]

Per TEXT_EMBEDDING_BACKEND variant (torch fp32, openvino fp32, openvino-int8), in one process:
- export seconds: making the OpenVINO export into an empty cache (torch: none);
- chunks/s: encoding the sample corpus's chunk texts, replicated to --chunks (warmed up first);
- cosine agreement with the torch fp32 vectors of the same texts: mean and minimum;
- hit@5 of the hand-written questions (bench/questions/sample_corpus.yaml), dense only and hybrid, on a feature
  store built with that variant.
Goals: chunks/s ≥ 2x torch fp32's, mean agreement ≥ 0.99, hit@5 within one question of fp32's.
The last line is one JSON object with the figures.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, get_args

import numpy as np
from loguru import logger

from bench.rag_corpus import ROOT, sample_stores
from bench.retrieval_quality import dense_only, documents_of, hand_written, rank_of
from llm_engineering.application.preprocessing.chunking import ChunkingConfig, DocumentChunker
from llm_engineering.application.preprocessing.cleaning import clean_document
from llm_engineering.application.rag.retriever import ContextRetriever, RetrieverConfig
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, EmbeddingBackend, SentenceTransformerEmbedder

QUESTIONS = ROOT / "bench" / "questions" / "sample_corpus.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.embeddings", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=1000, help="chunk texts to encode per variant")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--variant", action="append", choices=get_args(EmbeddingBackend), help="default: all")
    args = parser.parse_args(argv)
    variants: list[EmbeddingBackend] = args.variant or list(get_args(EmbeddingBackend))
    if "torch" not in variants:
        variants.insert(0, "torch")  # the reference every other variant is compared with
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    questions = hand_written(QUESTIONS)["hand-written"]
    cache = Path(tempfile.mkdtemp(prefix="embedding-bench-"))
    report: dict[str, dict[str, Any]] = {}
    reference: np.ndarray | None = None
    texts: list[str] = []
    for variant in variants:
        with sample_stores(TEXT_EMBEDDING_BACKEND=variant, EMBEDDING_CACHE_DIR=cache / variant) as stores:
            tic = time.perf_counter()
            embedder = SentenceTransformerEmbedder.from_settings(stores.settings)
            if not texts:
                chunker = DocumentChunker(embedder.tokenizer_json, embedder.max_input_tokens, ChunkingConfig())
                unique = [
                    chunk.content
                    for category in DataCategory
                    for document in stores.warehouse.iter_documents(category)
                    for chunk in chunker.chunk(clean_document(document))
                ]
                texts = (unique * (args.chunks // len(unique) + 1))[: args.chunks]
            # The store was embedded with this variant already, so its export exists: time one into a fresh cache.
            if variant != "torch":
                fresh = SentenceTransformerEmbedder(
                    embedder.model_id, backend=variant, cache_dir=cache / f"{variant}-timed"
                )
                tic = time.perf_counter()
                fresh.embed(["warm-up"])
            export_s = time.perf_counter() - tic if variant != "torch" else 0.0
            embedder.embed(texts[:64], batch_size=args.batch_size)
            tic = time.perf_counter()
            vectors = np.asarray(embedder.embed(texts, batch_size=args.batch_size))
            rate = len(texts) / (time.perf_counter() - tic)
            if reference is None:
                reference = vectors
            agreement = (vectors * reference).sum(axis=1)
            retriever = ContextRetriever(
                store=stores.store,
                embedder=embedder,
                sparse_embedder=Bm25SparseEmbedder(),
                authors=stores.warehouse,
                config=RetrieverConfig(k=10, self_query=False),
            )
            hybrid = documents_of(retriever)
            dense_hits = [rank_of(dense_only(stores, embedder, q.text), q.document_id) for q in questions]
            hybrid_hits = [rank_of(hybrid(q.text), q.document_id) for q in questions]
            report[variant] = {
                "label": embedder.variant,
                "export_s": round(export_s, 1),
                "chunks_per_s": round(rate, 1),
                "speedup": round(rate / report["torch"]["chunks_per_s"], 2) if report else 1.0,
                "cosine_mean": round(float(agreement.mean()), 5),
                "cosine_min": round(float(agreement.min()), 5),
                "hit5_dense": sum(1 for r in dense_hits if r is not None and r <= 5),
                "hit5_hybrid": sum(1 for r in hybrid_hits if r is not None and r <= 5),
            }
    print(f"{len(texts)} chunk texts, batch {args.batch_size}; {len(questions)} hand-written questions")
    header = f"{'variant':<14} {'export s':>8} {'chunks/s':>9} {'x fp32':>7} {'cos mean':>9} {'cos min':>8}"
    print(header + f" {'hit@5 dense':>11} {'hit@5 hybrid':>12}")
    for name, row in report.items():
        print(
            f"{name:<14} {row['export_s']:8.1f} {row['chunks_per_s']:9.1f} {row['speedup']:7.2f} "
            f"{row['cosine_mean']:9.5f} {row['cosine_min']:8.5f} {row['hit5_dense']:>8}/{len(questions)} "
            f"{row['hit5_hybrid']:>9}/{len(questions)}"
        )
    print("goals: x fp32 >= 2, cos mean >= 0.99, hit@5 within one question of torch's")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
