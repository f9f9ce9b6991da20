"""Retrieval quality on the instruction dataset's test split: does retrieval find each question's source document?

    python -m bench.retrieval_quality [--dataset instruct_datasets.json] [--strategy NAME ...] [--llm-cache DIR]
    python -m bench.retrieval_quality --questions bench/questions/sample_corpus.yaml

Queries: the test rows of the instruction dataset (each row carries the document it was generated from); the train
rows are reported beside them as a larger sample. With
--dataset, the JSON that `export-artifact-to-json` writes; without, the dataset is built here from the sample corpus
with configs/generate_instruct_datasets.yaml (every extract, not the quick-run cap; --strategy replaces its
strategies, e.g. `--strategy structure` needs no LLM) and the configured LLM, its completions cached in --llm-cache
so a rerun is fast. A question's rank is that of the first chunk of its source
document among the top 10 chunks. Reported: hit@1, hit@5 and MRR@10 for dense only (cosine, merged across
collections), hybrid (dense + BM25 fused by RRF in the engine), hybrid + self-query, and hybrid + self-query +
expansion (only with a remote LLM_BACKEND). The last line is one JSON object with the figures.

--questions replaces the dataset with a hand-written question set (YAML: question, document_id, kind). The
dataset's questions name their article and section, which makes them easy for dense search; the hand-written
ones do not, and their kinds (paraphrase, exact-term, author) are also reported apart.
"""

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from loguru import logger

from bench.rag_corpus import ROOT, BenchStores, sample_stores
from llm_engineering.application.dataset.builder import DatasetBuilderConfig, build_dataset
from llm_engineering.application.dataset.generation import SampleGenerationConfig
from llm_engineering.application.rag.retriever import ContextRetriever, RetrieverConfig
from llm_engineering.application.run_configs import GenerateDatasetsConfig, load_run_config
from llm_engineering.bootstrap.llm import build_helper_llm, build_llm_client
from llm_engineering.domain.datasets import InstructDataset, InstructSample
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, SentenceTransformerEmbedder

TOP = 10


@dataclass(frozen=True)
class Scores:
    """hit@1, hit@5 and MRR@10 over the questions, in percent."""

    hit1: float
    hit5: float
    mrr10: float

    @classmethod
    def of(cls, ranks: list[int | None]) -> "Scores":
        n = len(ranks)
        return cls(
            hit1=100 * sum(1 for r in ranks if r == 1) / n,
            hit5=100 * sum(1 for r in ranks if r is not None and r <= 5) / n,
            mrr10=100 * sum(1 / r for r in ranks if r is not None) / n,
        )


@dataclass(frozen=True)
class Question:
    """A question and the document that answers it."""

    text: str
    document_id: str
    category: str


def from_samples(samples: list[InstructSample]) -> list[Question]:
    """The dataset rows as questions: the instruction, asked of its source document."""
    return [Question(s.instruction, str(s.document_id), s.category.value) for s in samples]


def hand_written(path: Path) -> dict[str, list[Question]]:
    """The question file's questions, all together and by kind; a document id not in the sample corpus fails."""
    categories = {
        str(record["id"]): category.value
        for category in DataCategory
        for record in json.loads((ROOT / "data" / "sample" / f"{category.value}.json").read_text())
    }
    sides: dict[str, list[Question]] = {"hand-written": []}
    for entry in yaml.safe_load(path.read_text())["questions"]:
        document = str(entry["document_id"])
        if document not in categories:
            raise SystemExit(f"{path}: {entry['question']!r} names {document}, which is not in data/sample.")
        question = Question(str(entry["question"]), document, categories[document])
        sides["hand-written"].append(question)
        sides.setdefault(f"hand-written, {entry['kind']}", []).append(question)
    return sides


def dataset_rows(
    dataset_file: Path | None,
    stores: BenchStores,
    embedder: SentenceTransformerEmbedder,
    llm_cache: Path,
    max_per_category: int | None,
    strategies: list[str] | None,
) -> dict[str, list[InstructSample]]:
    """The instruction dataset's "test" and "train" rows: from the exported JSON, or built here with the configured
    LLM from at most `max_per_category` extracts per category (None: all), by `strategies` (None: the config's)."""
    if dataset_file is not None:
        rows = json.loads(dataset_file.read_text())
        return {
            side: [InstructSample.model_validate(row) for split in rows.values() for row in split[side]]
            for side in ("test", "train")
        }
    run = load_run_config(ROOT / "configs" / "generate_instruct_datasets.yaml", GenerateDatasetsConfig)
    extracts = run.dataset.extracts.model_copy(update={"max_per_category": max_per_category})
    generation = run.dataset.generation
    if strategies:
        generation = SampleGenerationConfig.model_validate(generation.model_dump() | {"strategy": strategies})
    config: DatasetBuilderConfig = run.dataset.model_copy(update={"extracts": extracts, "generation": generation})
    settings = stores.settings.model_copy(update={"LLM_CACHE_DIR": llm_cache})
    dataset, metadata = build_dataset(stores.store, build_llm_client(settings), config, embedder=embedder)
    if not isinstance(dataset, InstructDataset):
        raise TypeError("configs/generate_instruct_datasets.yaml does not build an instruction dataset.")
    logger.info("Built the instruction dataset ({}): {}", ", ".join(config.generation.strategy), metadata["counts"])
    return {
        "test": [row for split in dataset.splits.values() for row in split.test],
        "train": [row for split in dataset.splits.values() for row in split.train],
    }


def rank_of(document_ids: list[str], source: str) -> int | None:
    """1-based rank of the first chunk of the source document in the top 10, None if absent."""
    for rank, document in enumerate(document_ids[:TOP], start=1):
        if document == source:
            return rank
    return None


def dense_only(stores: BenchStores, embedder: SentenceTransformerEmbedder, question: str) -> list[str]:
    """Cosine top 10 per collection, merged by cosine (comparable across collections): the book's dense search."""
    [vector] = embedder.embed([question])
    hits = [
        hit for category in DataCategory for hit in stores.store.search(category.embedded_collection, vector, k=TOP)
    ]
    hits.sort(key=lambda hit: hit.score, reverse=True)
    return [str(hit.record.payload["document_id"]) for hit in hits[:TOP]]


def documents_of(retriever: ContextRetriever) -> Callable[[str], list[str]]:
    """The source documents of the retriever's ranked chunks for a question."""
    return lambda question: [chunk.document_id for chunk in retriever.search(question).chunks]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.retrieval_quality",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dataset", type=Path, help="instruct_datasets.json from export-artifact-to-json")
    parser.add_argument(
        "--max-per-category",
        type=int,
        help="extracts per category when building the dataset here (default: all; a CPU LLM needs a cap)",
    )
    parser.add_argument(
        "--strategy",
        action="append",
        help="build the dataset with this generation strategy instead of the config's (repeat for several)",
    )
    parser.add_argument("--llm-cache", type=Path, default=ROOT / ".data" / "cache" / "llm", help="completions cache")
    parser.add_argument("--questions", type=Path, help="hand-written questions (YAML) instead of the dataset's")
    args = parser.parse_args(argv)
    logger.remove()
    logger.add(sys.stderr, level="INFO")
    with sample_stores() as stores:
        settings = stores.settings
        embedder = SentenceTransformerEmbedder.from_settings(settings)
        if args.questions is not None:
            sides = hand_written(args.questions)
        else:
            splits = dataset_rows(
                args.dataset, stores, embedder, args.llm_cache.resolve(), args.max_per_category, args.strategy
            )
            if not splits["test"]:
                print("The dataset's test split is empty: nothing to measure.", file=sys.stderr)
                return 1
            sides = {side: from_samples(splits[side]) for side in ("test", "train")}
        llm = build_helper_llm(settings)

        def retriever(**config: Any) -> ContextRetriever:
            return ContextRetriever(
                store=stores.store,
                embedder=embedder,
                sparse_embedder=Bm25SparseEmbedder(),
                authors=stores.warehouse,
                config=RetrieverConfig(k=TOP, **config),
                llm=llm,
            )

        variants: dict[str, Callable[[str], list[str]]] = {"dense only": lambda q: dense_only(stores, embedder, q)}
        configs: dict[str, dict[str, Any]] = {"hybrid": {"self_query": False}, "hybrid + self-query": {}}
        if llm is not None:
            configs["hybrid + self-query + expansion"] = {"expand_to_n_queries": 3}
        for name, config in configs.items():
            variants[name] = documents_of(retriever(**config))
        # The test split is the query set; the train rows are reported beside it only as a larger sample (retrieval
        # learns nothing from them, so they are fair questions too).
        report: dict[str, Any] = {}
        for side, questions in sides.items():
            if not questions:
                continue
            named = sum(1 for q in questions if retriever().search(q.text, k=1).author_full_name is not None)
            results = {
                name: Scores.of([rank_of(search(q.text), q.document_id) for q in questions])
                for name, search in variants.items()
            }
            report[side] = {"questions": len(questions), "named_author": named} | {
                name: score.__dict__ for name, score in results.items()
            }
            categories = Counter(q.category for q in questions)
            report[side]["categories"] = dict(categories)
            print(
                f"\n{side}: {len(questions)} questions "
                f"({', '.join(f'{n} {c}' for c, n in sorted(categories.items()))}; "
                f"{named} name an author the self-query recognises)"
            )
            print(f"{'variant':<34} {'hit@1':>6} {'hit@5':>6} {'MRR@10':>7}")
            for name, score in results.items():
                print(f"{name:<34} {score.hit1:6.1f} {score.hit5:6.1f} {score.mrr10:7.1f}")
    if llm is None:
        print("hybrid + self-query + expansion: not measured (needs a remote LLM_BACKEND; expansion is off locally)")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
