"""Serve the twin over HTTP: the book's /rag, /retrieve, an OpenAI-compatible chat API and a chat page at /.

python -m tools.ml_service [--host HOST] [--port PORT]

Host, port, API key and limits come from Settings (API_HOST, API_PORT, API_KEY, API_*); the flags override
the first two. Without API_KEY the service binds to loopback only unless API_ALLOW_NO_KEY=true.
"""

import argparse
import sys
from collections.abc import Callable
from functools import partial

import uvicorn
from fastapi import FastAPI

from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.domain.rag import TwinAnswerer
from llm_engineering.infrastructure.api.app import create_app
from llm_engineering.infrastructure.api.dependencies import ServiceConfig
from llm_engineering.infrastructure.monitoring.tracing import build_tracer
from llm_engineering.settings import Settings, get_settings, load_settings
from tools.cli_logging import configure_logging
from tools.twin import build_twin

AnswererFactory = Callable[[Settings], TwinAnswerer]


def build_twin_answerer(settings: Settings) -> TwinAnswerer:
    """The RAG core's answerer (self-query, hybrid retrieval, rerank, the registry's model), loaded once."""
    return build_twin(settings)


def build_service(settings: Settings, answerer_factory: AnswererFactory = build_twin_answerer) -> FastAPI:
    """The app with the settings' limits and key, the answerer built in its lifespan, and Opik if configured."""
    return create_app(
        ServiceConfig.from_settings(settings), partial(answerer_factory, settings), build_tracer(settings)
    )


def main(argv: list[str] | None = None, answerer_factory: AnswererFactory = build_twin_answerer) -> int:
    """Parse the flags, check the settings, and serve until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.ml_service", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", help="address to bind (default: API_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: API_PORT, 8000)")
    parser.add_argument("--verbose", action="store_true", help="debug logs")
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    overrides = {name: value for name, value in (("API_HOST", args.host), ("API_PORT", args.port)) if value}
    try:
        settings = load_settings(**overrides) if overrides else get_settings()
        settings.check_service_binding()
    except LLMTwinError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    app = build_service(settings, answerer_factory)
    # A twin that cannot load stops the start-up (uvicorn exits with status 3) after logging why.
    uvicorn.run(app, host=settings.API_HOST, port=settings.API_PORT, access_log=False, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
