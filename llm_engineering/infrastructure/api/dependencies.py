"""What routes receive, as `Annotated` dependencies: the config, the loaded answerer, the tracer, a request slot."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from llm_engineering.domain.rag import TwinAnswerer
from llm_engineering.domain.tracing import Tracer
from llm_engineering.infrastructure.api.limits import ConcurrencyLimiter
from llm_engineering.settings import Settings


@dataclass(frozen=True)
class ServiceConfig:
    """The service's limits and key, taken from Settings once so tests can build them directly."""

    api_key: str | None = None
    max_input_chars: int = 4000
    max_messages: int = 32
    max_new_tokens: int = 512
    request_timeout_s: float = 120.0
    max_concurrent_requests: int = 8

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


async def request_id(request: Request) -> str:
    """The id RequestLogMiddleware gave this request."""
    state = request.scope.get("state") or {}
    return str(state.get("request_id", "-"))


ConfigDep = Annotated[ServiceConfig, Depends(get_config)]
AnswererDep = Annotated[TwinAnswerer, Depends(get_answerer)]
TracerDep = Annotated[Tracer, Depends(get_tracer)]
RequestIdDep = Annotated[str, Depends(request_id)]
