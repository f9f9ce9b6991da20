"""The app factory: routes, auth, limits, errors and request logs around one TwinAnswerer loaded at startup.

The review desk (/api/reviews) is built on its first request instead.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI
from loguru import logger

from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.domain.rag import TwinAnswerer
from llm_engineering.domain.review_desk import ReviewDesk
from llm_engineering.domain.tracing import Tracer
from llm_engineering.infrastructure.api.auth import require_api_key
from llm_engineering.infrastructure.api.dependencies import LazyReviewDesk, ServiceConfig
from llm_engineering.infrastructure.api.errors import install_error_handlers
from llm_engineering.infrastructure.api.limits import ConcurrencyLimiter
from llm_engineering.infrastructure.api.request_log import RequestLogMiddleware
from llm_engineering.infrastructure.api.review_routes import review_page, reviews
from llm_engineering.infrastructure.api.routes import protected, public, sagemaker
from llm_engineering.infrastructure.monitoring.tracing import NullTracer


def create_app(
    config: ServiceConfig,
    answerer_factory: Callable[[], TwinAnswerer],
    tracer: Tracer | None = None,
    review_desk_factory: Callable[[], ReviewDesk] | None = None,
) -> FastAPI:
    """The FastAPI service of the twin.

    `answerer_factory` runs once, in the lifespan (off the event loop); until it returns, /ready is not ready
    and the twin's routes answer 503. A factory that raises stops the start-up with its message.
    `review_desk_factory` runs on the first /api/reviews request (None: those routes answer 503).
    """
    the_tracer = tracer or NullTracer()
    review_desk = LazyReviewDesk(review_desk_factory) if review_desk_factory is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            answerer = await anyio.to_thread.run_sync(answerer_factory)
        except LLMTwinError as error:
            logger.error("the twin could not be loaded, so the service stops: {}", error)
            raise
        app.state.answerer = answerer
        logger.info("the twin is loaded: {}", answerer.model_name)
        try:
            yield
        finally:
            app.state.answerer = None
            if review_desk is not None:
                await anyio.to_thread.run_sync(review_desk.close)
            # An answerer that holds resources (the embedded store's lock, a model thread) releases them here.
            close = getattr(answerer, "close", None)
            if callable(close):
                await anyio.to_thread.run_sync(close)
            await anyio.to_thread.run_sync(the_tracer.close)

    # With a key, the API description is a route like any other, so it is not served without one.
    docs = config.api_key is None
    app = FastAPI(
        title="LLM Twin",
        summary="The twin's RAG answers: the book's /rag and an OpenAI-compatible chat API.",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.config = config
    app.state.answerer = None
    app.state.review_desk = review_desk
    app.state.tracer = the_tracer
    app.state.limiter = ConcurrencyLimiter(config.max_concurrent_requests)
    app.state.api_key = config.api_key.encode() if config.api_key else None
    app.add_middleware(RequestLogMiddleware)
    install_error_handlers(app)
    app.include_router(public)
    app.include_router(sagemaker, include_in_schema=config.sagemaker_port is not None)
    app.include_router(review_page)
    app.include_router(protected, dependencies=[Depends(require_api_key)])
    app.include_router(reviews, dependencies=[Depends(require_api_key)])
    return app
