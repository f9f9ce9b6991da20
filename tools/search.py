"""Search the feature store: embed a query and print the closest chunks with scores and links.

python -m tools.search "how do you keep training data reproducible?" [--author "Maya Okafor"] [--k 5] [--hybrid]
"""

import argparse
import sys
import textwrap

from llm_engineering.application.search import search_chunks
from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.domain.ids import user_id
from llm_engineering.domain.queries import Query
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.vector_store import build_vector_store
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, SentenceTransformerEmbedder
from llm_engineering.settings import get_settings
from tools.cli_logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.search", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("query", help="what to look for, in plain words")
    parser.add_argument("--author", help="only chunks written by this author (full name)")
    parser.add_argument("--k", type=int, default=5, help="how many chunks to print (default 5)")
    parser.add_argument(
        "--category", choices=[c.value for c in DataCategory], action="append", help="limit to a category (repeatable)"
    )
    parser.add_argument(
        "--hybrid", action="store_true", help="dense + BM25 candidates fused by reciprocal rank (scores are RRF scores)"
    )
    args = parser.parse_args(argv)
    configure_logging()
    settings = get_settings()
    query = Query(
        content=args.query,
        author_id=user_id(args.author) if args.author else None,
        author_full_name=args.author,
    )
    categories = [DataCategory(c) for c in args.category] if args.category else list(DataCategory)
    try:
        store = build_vector_store(settings)
        try:
            embedder = SentenceTransformerEmbedder.from_settings(settings)
            hits = search_chunks(
                query,
                store=store,
                embedder=embedder,
                k=args.k,
                categories=categories,
                sparse_embedder=Bm25SparseEmbedder() if args.hybrid else None,
            )
        finally:
            store.close()
    except (LLMTwinError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not hits:
        print("No chunks found. Run the feature pipeline first (poe run-feature-engineering-pipeline).")
        return 1
    for rank, hit in enumerate(hits, start=1):
        chunk = hit.chunk
        print(f"{rank}. score {hit.score:.3f}  {chunk.author_full_name}  [{chunk.category.value}]  {chunk.link}")
        print(textwrap.indent(textwrap.shorten(chunk.content, width=400, placeholder=" …"), "   "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
