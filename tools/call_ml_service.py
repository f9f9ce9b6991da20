"""Ask the running service a question, as the book's curl does: POST /rag with {"query": ...}; prints the answer
and its sources.

llm-twin call ["QUESTION"] [--url http://127.0.0.1:8000]

The key is API_KEY from the environment or .env, sent as `Authorization: Bearer`.
"""

import sys
from typing import Annotated

import httpx
import typer

from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.settings import get_settings

BOOK_QUERY = (
    "My name is Maya Okafor. Could you draft a LinkedIn post discussing how to keep GPU costs down "
    "when training models?"
)


def call(
    query: Annotated[str, typer.Argument(help="the question (default: the book's example)")] = BOOK_QUERY,
    url: Annotated[str | None, typer.Option(help="the service (default: http://API_HOST:API_PORT)")] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the answer")] = 600.0,
) -> int:
    """Ask the running service a question, as the book's curl does: POST /rag; prints the answer and its sources.

    The key is API_KEY from the environment or .env, sent as `Authorization: Bearer`. Exit 1 when the service
    answers with an error or cannot be reached.
    """
    try:
        settings = get_settings()
    except LLMTwinError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    host = "127.0.0.1" if settings.API_HOST in ("0.0.0.0", "::") else settings.API_HOST  # noqa: S104 - a bind-all address is reached on loopback
    base = (url or f"http://{host}:{settings.API_PORT}").rstrip("/")
    headers = {"Authorization": f"Bearer {settings.API_KEY.get_secret_value()}"} if settings.API_KEY else {}
    try:
        response = httpx.post(f"{base}/rag", json={"query": query}, headers=headers, timeout=timeout)
    except httpx.HTTPError as error:
        print(
            f"error: cannot reach {base}/rag ({error}); start it with `poe run-inference-ml-service`", file=sys.stderr
        )
        return 1
    if response.status_code != 200:
        print(f"error: HTTP {response.status_code}: {response.text}", file=sys.stderr)
        return 1
    body = response.json()
    print(body["answer"])
    print("\nSources:")
    for rank, source in enumerate(body["sources"], start=1):
        print(f"  {rank}. {source['link']}  ({source['author_full_name']}, {source['category']})")
    return 0
