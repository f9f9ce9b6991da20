"""What routes receive, as `Annotated` dependencies: the config, the loaded answerer, the tracer, a request slot."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from llm_engineering.domain.rag import TwinAnswerer
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
