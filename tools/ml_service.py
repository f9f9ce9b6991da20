"""Serve the twin over HTTP: the book's /rag, /retrieve, an OpenAI-compatible chat API, a chat page at /, and the
dataset review page at /review with its API under /api/reviews.

llm-twin serve [--host HOST] [--port PORT]

Host, port, API key and limits come from Settings (API_HOST, API_PORT, API_KEY, API_*); the flags override
the first two. Without API_KEY the service binds to loopback only unless API_ALLOW_NO_KEY=true.
"""

import socket
import sys
from collections.abc import Callable
from functools import partial
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI

from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.domain.rag import TwinAnswerer
from llm_engineering.domain.review_desk import ReviewDesk
from llm_engineering.infrastructure.api.app import create_app
from llm_engineering.infrastructure.api.dependencies import ServiceConfig
from llm_engineering.infrastructure.monitoring.tracing import build_tracer
from llm_engineering.settings import Settings, get_settings, load_settings
from tools.cli_logging import configure_logging

AnswererFactory = Callable[[Settings], TwinAnswerer]
ReviewDeskFactory = Callable[[Settings], ReviewDesk]


def build_twin_answerer(settings: Settings) -> TwinAnswerer:
    """The RAG core's answerer (self-query, hybrid retrieval, rerank, the registry's model), loaded once."""
    from llm_engineering.bootstrap.twin import build_twin

    return build_twin(settings)


def build_review_desk(settings: Settings) -> ReviewDesk:
    """The review desk on the registry's newest datasets and the warehouse's reviews."""
    from llm_engineering.bootstrap.review_desk import build_review_desk as build_desk

    return build_desk(settings)


def build_service(
    settings: Settings,
    answerer_factory: AnswererFactory = build_twin_answerer,
    review_desk_factory: ReviewDeskFactory = build_review_desk,
) -> FastAPI:
    """The app with the settings' limits and key, the answerer built in its lifespan, and Opik if configured.

    The review desk is built on the first /api/reviews request, so a service nobody reviews on opens nothing for it.
    """
    return create_app(
        ServiceConfig.from_settings(settings),
        partial(answerer_factory, settings),
        build_tracer(settings),
        partial(review_desk_factory, settings),
    )


def serve(
    host: Annotated[str | None, typer.Option(help="address to bind (default: API_HOST, 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on (default: API_PORT, 8000)")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="debug logs")] = False,
) -> int:
    """Serve the twin over HTTP: /rag, /retrieve, the OpenAI-compatible chat API, the chat page at / and /review.

    Host, port, API key and limits come from Settings (API_HOST, API_PORT, API_KEY, API_*); the options override
    the first two. Without API_KEY the service binds to loopback only unless API_ALLOW_NO_KEY=true. With
    API_SAGEMAKER_PORT set (8080 in the image), that port serves SageMaker's /ping and /invocations as well.
    """
    configure_logging(verbose)
    overrides = {name: value for name, value in (("API_HOST", host), ("API_PORT", port)) if value}
    try:
        settings = load_settings(**overrides) if overrides else get_settings()
        settings.check_service_binding()
    except LLMTwinError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    app = build_service(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.API_HOST, port=settings.API_PORT, access_log=False, log_level="info")
    )
    # A twin that cannot load stops the start-up (uvicorn exits with status 3) after logging why.
    if settings.API_SAGEMAKER_PORT is None:
        server.run()
    else:
        ports = (settings.API_PORT, settings.API_SAGEMAKER_PORT)
        print(f"Serving on {settings.API_HOST}:{ports[0]}, and SageMaker's /ping and /invocations on port {ports[1]}.")
        server.run(sockets=[listening_socket(settings.API_HOST, port) for port in ports])
    return 0


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port for uvicorn to serve on (it starts listening at start-up)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock
