"""Ask the twin: the self-query's author, the searched queries, the ranked chunks with their scores and links, then
the answer as it streams.

llm-twin ask ["QUESTION"] [--author "Maya Okafor"] [--k 5] [--no-generate]

Scores: dense = cosine similarity of the query and chunk vectors; lexical = BM25 (the store's IDF); fused = reciprocal
rank fusion of the dense and the lexical ranking of every collection's candidates together, the ranking used ("-": the
chunk was not in that side's top candidates).
"""

import sys
import textwrap
from typing import Annotated

import typer

from llm_engineering.domain.exceptions import InvalidQueryError, LLMTwinError
from llm_engineering.domain.ports import GenerationParams
from llm_engineering.domain.rag import ContextChunk, Retrieval
from llm_engineering.settings import get_settings
from tools.cli_logging import configure_logging

# A question about the sample corpus (data/sample), so `poe call-rag-retrieval-module` works after `make run`.
DEFAULT_QUESTION = "Maya Okafor, could you draft a LinkedIn post on how to keep GPU costs down?"


def _score(chunk: ContextChunk, name: str, digits: int) -> str:
    value = chunk.scores.get(name)
    return "-" if value is None else f"{value:.{digits}f}"


def print_retrieval(retrieval: Retrieval) -> None:
    """The self-query result, the queries and the ranked chunks, as a person reads them."""
    author = retrieval.author_full_name or "none recognised: searching every author"
    print(f"Self-query: author = {author}")
    print("Queries:")
    for index, query in enumerate(retrieval.queries, start=1):
        print(f"  {index}. {query}")
    for note in retrieval.notes:
        print(f"Note: {note}")
    print(f"Chunks ({len(retrieval.chunks)}):")
    for rank, chunk in enumerate(retrieval.chunks, start=1):
        rerank = f"  rerank {_score(chunk, 'rerank', 3)}" if "rerank" in chunk.scores else ""
        print(
            f"{rank:>2}. fused {_score(chunk, 'fused', 4)}  dense {_score(chunk, 'dense', 3)}  "
            f"lexical {_score(chunk, 'lexical', 2)}{rerank}  {chunk.author_full_name}  [{chunk.category.value}]  "
            f"{chunk.link}"
        )
        print(textwrap.indent(textwrap.shorten(chunk.content, width=300, placeholder=" …"), "    "))


def ask(
    question: Annotated[
        str, typer.Argument(help="what to ask the twin (default: a question about the sample corpus)")
    ] = DEFAULT_QUESTION,
    author: Annotated[
        str | None, typer.Option(help="only this author's chunks (full name); unknown names search everyone")
    ] = None,
    k: Annotated[int | None, typer.Option("--k", help="how many chunks to keep (default: RAG_TOP_K, 5)")] = None,
    no_generate: Annotated[bool, typer.Option("--no-generate", help="retrieve and print the chunks only")] = False,
    max_new_tokens: Annotated[int, typer.Option(help="answer length limit")] = 256,
    verbose: Annotated[bool, typer.Option("--verbose", help="debug logs")] = False,
) -> int:
    """Ask the twin: the ranked chunks with their scores and links, then the answer as it streams.

    Scores: dense = cosine similarity of the query and chunk vectors; lexical = BM25; fused = reciprocal rank fusion
    of both rankings ("-": the chunk was not in that side's top candidates). Exit 2 for a question that cannot be
    asked, 1 for other failures.
    """
    from llm_engineering.bootstrap.twin import build_twin

    configure_logging(verbose)
    try:
        settings = get_settings()
        twin = build_twin(settings, generate=not no_generate)
        try:
            retrieval = twin.retrieve(question, k=k, author_full_name=author)
            print_retrieval(retrieval)
            if no_generate:
                return 0
            print(f"\nAnswer ({twin.model_name}):", flush=True)
            params = GenerationParams(
                max_new_tokens=max_new_tokens,
                repetition_penalty=settings.API_REPETITION_PENALTY,
                no_repeat_ngram_size=settings.API_NO_REPEAT_NGRAM_SIZE,
            )
            stream = twin.stream_answer(retrieval, [], params)
            try:
                for piece in stream:
                    print(piece, end="", flush=True)
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
            print()
        finally:
            twin.close()
    except InvalidQueryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except LLMTwinError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    return 0
