"""Search the feature store: embed a query and print the closest chunks with scores and links.

llm-twin search "how do you keep training data reproducible?" [--author "Maya Okafor"] [--k 5] [--hybrid]
"""

import sys
import textwrap
from typing import Annotated

import typer

from llm_engineering.application.search import search_chunks
from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.domain.ids import user_id
from llm_engineering.domain.queries import Query
from llm_engineering.domain.types import DataCategory
from llm_engineering.settings import get_settings
from tools.cli_logging import configure_logging


def search(
    query: Annotated[str, typer.Argument(help="what to look for, in plain words")],
    author: Annotated[str | None, typer.Option(help="only chunks written by this author (full name)")] = None,
    k: Annotated[int, typer.Option("--k", help="how many chunks to print")] = 5,
    category: Annotated[list[DataCategory] | None, typer.Option(help="limit to a category (repeatable)")] = None,
    hybrid: Annotated[
        bool, typer.Option("--hybrid", help="dense + BM25 candidates fused by reciprocal rank (scores are RRF scores)")
    ] = False,
) -> int:
    """Search the feature store: embed a query and print the closest chunks with scores and links."""
    from llm_engineering.bootstrap.stores import build_vector_store
    from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, SentenceTransformerEmbedder

    configure_logging()
    settings = get_settings()
    search_query = Query(content=query, author_id=user_id(author) if author else None, author_full_name=author)
    categories = list(category) if category else list(DataCategory)
    try:
        store = build_vector_store(settings)
        try:
            embedder = SentenceTransformerEmbedder.from_settings(settings)
            hits = search_chunks(
                search_query,
                store=store,
                embedder=embedder,
                k=k,
                categories=categories,
                sparse_embedder=Bm25SparseEmbedder() if hybrid else None,
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
