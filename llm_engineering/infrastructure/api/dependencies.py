"""What routes receive, as `Annotated` dependencies: the config, the loaded answerer, the tracer, a request slot."""

import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from loguru import logger

from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.domain.rag import TwinAnswerer
from llm_engineering.domain.review_desk import ReviewDesk
from llm_engineering.domain.tracing import Tracer
from llm_engineering.infrastructure.api.limits import AnswerStream, ConcurrencyLimiter
from llm_engineering.settings import Settings


@dataclass(frozen=True)
class ServiceConfig:
    """The service's limits and key, read from Settings once (Settings holds their defaults)."""

    api_key: str | None
    max_input_chars: int
    max_messages: int
    max_new_tokens: int
    request_timeout_s: float
    max_concurrent_requests: int
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    # The port of SageMaker's container contract (/ping, /invocations); None: not served.
    sagemaker_port: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "ServiceConfig":
        """The API_* settings."""
        return cls(
            api_key=settings.API_KEY.get_secret_value() if settings.API_KEY else None,
            max_input_chars=settings.API_MAX_INPUT_CHARS,
            max_messages=settings.API_MAX_MESSAGES,
            max_new_tokens=settings.API_MAX_NEW_TOKENS,
            request_timeout_s=settings.API_REQUEST_TIMEOUT_S,
            max_concurrent_requests=settings.API_MAX_CONCURRENT_REQUESTS,
            repetition_penalty=settings.API_REPETITION_PENALTY,
            no_repeat_ngram_size=settings.API_NO_REPEAT_NGRAM_SIZE,
            sagemaker_port=settings.API_SAGEMAKER_PORT,
        )


async def get_config(request: Request) -> ServiceConfig:
    """The app's ServiceConfig."""
    config: ServiceConfig = request.app.state.config
    return config


async def get_answerer(request: Request) -> TwinAnswerer:
    """The answerer the lifespan loaded; 503 while it is still loading."""
    answerer: TwinAnswerer | None = request.app.state.answerer
    if answerer is None:
        raise HTTPException(status_code=503, detail="The twin is still loading; retry when /ready says so.")
    return answerer


class LazyReviewDesk:
    """The review desk, built on its first request: a service nobody reviews on opens no warehouse or registry."""

    def __init__(self, factory: Callable[[], ReviewDesk]) -> None:
        """`factory` builds the desk; it runs again on the next request when it failed."""
        self._factory = factory
        self._desk: ReviewDesk | None = None
        self._lock = threading.Lock()

    def get(self) -> ReviewDesk:
        """The desk, built now if this is its first use."""
        with self._lock:
            if self._desk is None:
                self._desk = self._factory()
            return self._desk

    def close(self) -> None:
        """Close the desk if it was built."""
        with self._lock:
            desk, self._desk = self._desk, None
        if desk is not None:
            desk.close()


def get_review_desk(request: Request) -> ReviewDesk:
    """The app's review desk (built on first use, in a worker thread); 503 when it cannot be built now."""
    lazy: LazyReviewDesk | None = request.app.state.review_desk
    if lazy is None:
        raise HTTPException(status_code=503, detail="This service was started without the review desk.")
    try:
        return lazy.get()
    except LLMTwinError as error:
        logger.warning("the review desk cannot start: {}", error)
        raise HTTPException(
            status_code=503, detail="The review desk cannot reach the warehouse; retry later (GET /ready shows it)."
        ) from None


async def get_tracer(request: Request) -> Tracer:
    """The app's tracer (a disabled one when Opik is not configured)."""
    tracer: Tracer = request.app.state.tracer
    return tracer


async def get_limiter(request: Request) -> ConcurrencyLimiter:
    """The app's concurrency limiter."""
    limiter: ConcurrencyLimiter = request.app.state.limiter
    return limiter


async def request_slot(request: Request) -> AsyncIterator[None]:
    """Holds a concurrency slot until the response (a stream included) is finished; 429 when none is free."""
    limiter: ConcurrencyLimiter = request.app.state.limiter
    release = limiter.try_acquire()
    if release is None:
        raise HTTPException(
            status_code=429,
            detail="The twin is answering as many requests as it can; retry in a moment.",
            headers={"Retry-After": "1"},
        )
    try:
        yield
    finally:
        release()


async def open_streams() -> AsyncIterator[list[AnswerStream]]:
    """The request's answer streams, all closed once the response is over.

    That is when it finished, failed, or the client went away before the stream started (then no generator
    `finally` would run).
    """
    streams: list[AnswerStream] = []
    try:
        yield streams
    finally:
        for stream in streams:
            stream.close()


async def request_id(request: Request) -> str:
    """The id RequestLogMiddleware gave this request."""
    state = request.scope.get("state") or {}
    return str(state.get("request_id", "-"))


ConfigDep = Annotated[ServiceConfig, Depends(get_config)]
AnswererDep = Annotated[TwinAnswerer, Depends(get_answerer)]
TracerDep = Annotated[Tracer, Depends(get_tracer)]
RequestIdDep = Annotated[str, Depends(request_id)]
LimiterDep = Annotated[ConcurrencyLimiter, Depends(get_limiter)]
StreamsDep = Annotated[list[AnswerStream], Depends(open_streams)]
ReviewDeskDep = Annotated[ReviewDesk, Depends(get_review_desk)]
