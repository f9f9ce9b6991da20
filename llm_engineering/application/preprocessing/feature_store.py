"""The feature path: warehouse → clean → chunk → embed (dense + BM25) → Qdrant, incremental by content hash.

The cleaned record of a document is written last: it marks that document's features as complete,
so a run that stops half-way redoes exactly the documents it had not finished. A document to rebuild
loses that mark before it loses its chunks, so no crash can leave a marked document without chunks.
"""

import json
import statistics
import time
from collections.abc import Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Any
from uuid import UUID

from loguru import logger
from tqdm import tqdm

from llm_engineering.application.preprocessing.chunking import ChunkingConfig, DocumentChunker
from llm_engineering.application.preprocessing.cleaning import clean_document
from llm_engineering.domain.features import Chunk, CleanedDocument
from llm_engineering.domain.ids import content_hash
from llm_engineering.domain.ports import DocumentRepository, Embedder, SparseEmbedder, VectorRecord, VectorStore
from llm_engineering.domain.types import DataCategory

# Bump when cleaning changes its output, so stored features are rebuilt.
CLEANING_VERSION = 1
# Bump when an embedded chunk's payload gains a field readers rely on (2: the sparse scheme, checked by the RAG
# retriever; 3: the embedding variant), so stores written before are rebuilt by the next run.
PAYLOAD_VERSION = 3


def feature_version(
    embedding_model_id: str, chunking: ChunkingConfig, sparse_scheme: str, embedding_variant: str = "torch-fp32"
) -> str:
    """What the stored features were made with; a different value means they must be rebuilt."""
    return content_hash(
        {
            "model": embedding_model_id,
            "variant": embedding_variant,
            "chunking": chunking.model_dump(mode="json"),
            "cleaning": CLEANING_VERSION,
            "sparse": sparse_scheme,
            "payload": PAYLOAD_VERSION,
        }
    )[:16]


@dataclass
class CategoryPlan:
    """Which documents of one category need new features, and which features are orphaned."""

    seen: int = 0
    changed: list[UUID] = field(default_factory=list)
    deleted: list[UUID] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        """How many documents were seen but unchanged, so not re-embedded."""
        return self.seen - len(self.changed)


@dataclass
class FeatureReport:
    """What a run did, for logs and step metadata."""

    plans: dict[str, CategoryPlan] = field(default_factory=dict)
    chunks_written: dict[str, int] = field(default_factory=dict)
    chunk_lengths: list[int] = field(default_factory=list)
    embedding_seconds: float = 0.0
    total_seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The run's counts, timings and chunk-length distribution, for the logs and the step's metadata."""
        lengths = sorted(self.chunk_lengths)
        distribution = (
            {
                "min": lengths[0],
                "median": int(statistics.median(lengths)),
                "p95": lengths[min(len(lengths) - 1, int(0.95 * len(lengths)))],
                "max": lengths[-1],
            }
            if lengths
            else {}
        )
        return {
            "documents_seen": sum(p.seen for p in self.plans.values()),
            "documents_changed": sum(len(p.changed) for p in self.plans.values()),
            "documents_skipped": sum(p.skipped for p in self.plans.values()),
            "documents_deleted": sum(len(p.deleted) for p in self.plans.values()),
            "chunks_written": sum(self.chunks_written.values()),
            "per_category": {
                name: {
                    "seen": plan.seen,
                    "changed": len(plan.changed),
                    "skipped": plan.skipped,
                    "deleted": len(plan.deleted),
                    "chunks_written": self.chunks_written.get(name, 0),
                }
                for name, plan in self.plans.items()
            },
            "chunk_length_chars": distribution,
            "embedding_seconds": round(self.embedding_seconds, 3),
            "total_seconds": round(self.total_seconds, 3),
        }


def _batched(items: list[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class FeatureStoreUpdater:
    """Keeps the cleaned_* and embedded_* collections in step with the warehouse."""

    def __init__(
        self,
        repository: DocumentRepository,
        store: VectorStore,
        embedder: Embedder,
        chunking: ChunkingConfig,
        *,
        sparse_embedder: SparseEmbedder,
        embedding_batch_size: int,
        write_batch_size: int,
        progress: bool = True,
    ) -> None:
        self._repository = repository
        self._store = store
        self._embedder = embedder
        self._sparse_embedder = sparse_embedder
        self._chunking = chunking
        self._embedding_batch_size = embedding_batch_size
        self._write_batch_size = write_batch_size
        self._progress = progress
        self._version = feature_version(embedder.model_id, chunking, sparse_embedder.scheme, embedder.variant)

    def plan(self, *, author_ids: Collection[UUID] | None, full: bool) -> dict[str, CategoryPlan]:
        """Compare warehouse hashes with what the feature store was built from."""
        plans: dict[str, CategoryPlan] = {}
        author_filter = {"author_id": [str(a) for a in author_ids]} if author_ids is not None else None
        for category in DataCategory:
            current = self._repository.document_hashes(category, author_ids=author_ids)
            stored = {
                record.id: record.payload
                for record in self._store.scroll(
                    category.cleaned_collection,
                    filters=author_filter,
                    payload_fields=["source_hash", "feature_version"],
                    page_size=1024,
                )
            }
            plan = CategoryPlan(seen=len(current))
            for document_id, source_hash in current.items():
                previous = stored.get(document_id)
                if (
                    full
                    or previous is None
                    or previous.get("source_hash") != source_hash
                    or previous.get("feature_version") != self._version
                ):
                    plan.changed.append(document_id)
            plan.deleted = sorted(set(stored) - set(current), key=str)
            plans[category.value] = plan
        return plans

    def run(self, *, author_ids: Collection[UUID] | None = None, full: bool = False) -> FeatureReport:
        """Bring the feature store up to date for these authors (all when None)."""
        started = time.perf_counter()
        report = FeatureReport(plans=self.plan(author_ids=author_ids, full=full))
        for category in DataCategory:
            plan = report.plans[category.value]
            # Orphans lose everything; documents to rebuild lose their completion mark, then their old chunks.
            self._remove(category, plan.deleted)
            self._remove(category, plan.changed)
            logger.info(
                "{}: {} documents, {} to (re)build, {} unchanged, {} removed.",
                category.value,
                plan.seen,
                len(plan.changed),
                plan.skipped,
                len(plan.deleted),
            )
        cleaned, chunks = self._clean_and_chunk(report.plans)
        report.chunk_lengths = [len(chunk.content) for chunk in chunks]
        if chunks:
            self._prepare_collections()
            report.embedding_seconds, report.chunks_written = self._embed_and_write(chunks)
        self._write_cleaned(cleaned)
        if cleaned:
            self._optimize()
        report.total_seconds = time.perf_counter() - started
        return report

    def _prepare_collections(self) -> None:
        dimension = self._embedder.dimension
        for category in DataCategory:
            self._store.ensure_collection(category.cleaned_collection, None)
            self._store.ensure_collection(category.embedded_collection, dimension, sparse=True)

    def _optimize(self) -> None:
        """Build the stores' indexes once the bulk load is over, so searches run on them."""
        for category in DataCategory:
            self._store.optimize(category.embedded_collection)
            self._store.optimize(category.cleaned_collection)

    def _remove(self, category: DataCategory, document_ids: list[UUID]) -> None:
        """Delete the cleaned records (completion marks) of these documents first, then their chunks.

        In this order a run that dies in between leaves unmarked documents, which the next run rebuilds; the other
        order would leave marked documents with no chunks, skipped as unchanged (a crash in a full rebuild did that).
        """
        for batch in _batched(document_ids, 512):
            ids = [str(i) for i in batch]
            self._store.delete_where(category.cleaned_collection, {"document_id": ids})
            self._store.delete_where(category.embedded_collection, {"document_id": ids})

    def _clean_and_chunk(self, plans: dict[str, CategoryPlan]) -> tuple[list[CleanedDocument], list[Chunk]]:
        cleaned: list[CleanedDocument] = []
        chunks: list[Chunk] = []
        if not any(plan.changed for plan in plans.values()):
            return cleaned, chunks
        chunker = DocumentChunker(self._embedder.tokenizer_json, self._embedder.max_input_tokens, self._chunking)
        for category in DataCategory:
            for batch in _batched(plans[category.value].changed, 256):
                for document in self._repository.find_documents_by_ids(category, batch):
                    document_cleaned = clean_document(document)
                    cleaned.append(document_cleaned)
                    chunks += chunker.chunk(document_cleaned)
        return cleaned, chunks

    def _embed_and_write(self, chunks: list[Chunk]) -> tuple[float, dict[str, int]]:
        """Embed longest-first (batches of similar length pad little); each group is written while the next embeds."""
        ordered = sorted(chunks, key=lambda chunk: len(chunk.content), reverse=True)
        written: dict[str, int] = {}
        seconds = 0.0
        bar = tqdm(total=len(ordered), desc="embedding chunks", unit="chunk", disable=not self._progress)
        # One writer thread: the store sees one call at a time, and the model never waits for the disk.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant-writer") as writer:
            pending: Future[None] | None = None
            for group in _batched(ordered, self._write_batch_size):
                tic = time.perf_counter()
                vectors = self._embedder.embed([c.content for c in group], batch_size=self._embedding_batch_size)
                seconds += time.perf_counter() - tic
                if pending is not None:
                    pending.result()  # a failed write stops the run here, before more work is done
                pending = writer.submit(self._write_group, group, vectors)
                for chunk in group:
                    written[chunk.category.value] = written.get(chunk.category.value, 0) + 1
                bar.update(len(group))
            if pending is not None:
                pending.result()
        bar.close()
        return seconds, written

    def _write_group(self, group: list[Chunk], vectors: list[list[float]]) -> None:
        """Add the BM25 vectors (cheap, so here in the writer thread) and write the group."""
        sparse_vectors = self._sparse_embedder.embed_documents([chunk.content for chunk in group])
        by_collection: dict[str, list[VectorRecord]] = {}
        for chunk, vector, sparse in zip(group, vectors, sparse_vectors, strict=True):
            payload = chunk.model_dump(mode="json", exclude={"id"})
            payload["embedding_model_id"] = self._embedder.model_id
            payload["embedding_variant"] = self._embedder.variant
            payload["sparse_scheme"] = self._sparse_embedder.scheme
            by_collection.setdefault(chunk.category.embedded_collection, []).append(
                VectorRecord(id=chunk.id, payload=payload, vector=vector, sparse=sparse)
            )
        for collection, records in by_collection.items():
            self._store.upsert(collection, records)

    def _write_cleaned(self, cleaned: list[CleanedDocument]) -> None:
        by_collection: dict[str, list[VectorRecord]] = {}
        for document in cleaned:
            payload = json.loads(document.model_dump_json(exclude={"id"}))
            payload |= {"document_id": str(document.id), "feature_version": self._version}
            by_collection.setdefault(document.category.cleaned_collection, []).append(
                VectorRecord(id=document.id, payload=payload)
            )
        for collection, records in by_collection.items():
            self._store.ensure_collection(collection, None)
            self._store.upsert(collection, records)
