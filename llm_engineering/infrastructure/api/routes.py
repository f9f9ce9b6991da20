"""The routes. Domain errors become HTTP errors here, and only here."""

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from importlib.resources import files
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from loguru import logger

from llm_engineering.domain.exceptions import (
    AnswerTimeoutError,
    DataWarehouseUnavailableError,
    InvalidQueryError,
    LLMError,
    LLMTwinError,
    VectorStoreError,
)
from llm_engineering.domain.ports import ChatMessage, GenerationParams, TokenUsage
from llm_engineering.domain.rag import Retrieval, TwinAnswerer
from llm_engineering.domain.tracing import Tracer
from llm_engineering.infrastructure.api.dependencies import (
    AnswererDep,
    ConfigDep,
    LimiterDep,
    RequestIdDep,
    ServiceConfig,
    StreamsDep,
    TracerDep,
    request_slot,
)
from llm_engineering.infrastructure.api.limits import AnswerStream, ConcurrencyLimiter
from llm_engineering.infrastructure.api.schemas import (
    ChatCompletionRequest,
    RagRequest,
    RagResponse,
    RetrievedChunk,
    RetrieveResponse,
    Source,
)
from llm_engineering.infrastructure.api.twin_calls import TwinCall

# The answer's sources ride on the stream's last chunk as an extra top-level field, which OpenAI clients
# ignore (the Python client keeps it in `model_extra`) and the chat page reads.
SOURCES_FIELD = "sources"
DEFAULT_MAX_NEW_TOKENS = GenerationParams().max_new_tokens
READINESS_TIMEOUT_S = 5.0
READINESS_CHECKS = ("warehouse", "vector_store", "model")

public = APIRouter()
protected = APIRouter()
# SageMaker's container contract, served only on ServiceConfig.sagemaker_port (see `on_sagemaker_port`).
sagemaker = APIRouter()


@contextmanager
def http_errors(call: TwinCall | None = None) -> Iterator[None]:
    """Turns the twin's failures into HTTP errors that name the cause but no internals; closes the trace."""
    try:
        yield
    except AnswerTimeoutError as error:
        _finish(call, f"timeout: {error}")
        raise HTTPException(status_code=504, detail=f"The twin did not answer in time: {error}.") from None
    except InvalidQueryError as error:
        _finish(call, f"invalid: {error}")
        raise HTTPException(status_code=422, detail=str(error)) from None
    except (DataWarehouseUnavailableError, VectorStoreError) as error:
        logger.warning("a store is unavailable: {}", error)
        _finish(call, "store unavailable")
        raise HTTPException(
            status_code=503, detail="A data store is unavailable; retry later (GET /ready shows which)."
        ) from None
    except LLMError as error:
        logger.warning("the LLM backend failed: {}", error)
        _finish(call, "llm failed")
        raise HTTPException(status_code=502, detail="The language model backend failed; retry later.") from None
    except LLMTwinError as error:
        logger.warning("the twin failed: {}", error)
        _finish(call, "twin failed")
        raise HTTPException(status_code=503, detail="The twin cannot answer right now; retry later.") from None


def _finish(call: TwinCall | None, error: str) -> None:
    if call is not None:
        call.finish(answer=None, error=error)


def _check_length(text: str, config: ServiceConfig, what: str) -> None:
    if len(text) > config.max_input_chars:
        raise HTTPException(
            status_code=422,
            detail=f"{what} has {len(text)} characters, more than the {config.max_input_chars} allowed "
            "(API_MAX_INPUT_CHARS); shorten it.",
        )


@public.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process answers. Needs no key and touches no store."""
    return {"status": "ok"}


@public.get("/", response_class=HTMLResponse, include_in_schema=False)
async def chat_page() -> HTMLResponse:
    """The static chat page; it holds no data and asks for the API key when the service needs one."""
    return HTMLResponse(files("llm_engineering.infrastructure.api").joinpath("static/chat.html").read_text())


@protected.get("/ready")
async def ready(answerer: AnswererDep) -> JSONResponse:
    """Readiness: the model is loaded and every store answers now; 503 naming what does not."""
    return await _readiness(answerer)


async def _readiness(answerer: TwinAnswerer) -> JSONResponse:
    try:
        with anyio.fail_after(READINESS_TIMEOUT_S):
            results = await anyio.to_thread.run_sync(answerer.readiness, abandon_on_cancel=True)
        checks = {name: {"ready": check.ready, "message": check.message} for name, check in results.items()}
    except TimeoutError:
        unanswered = {"ready": False, "message": f"the checks gave no answer within {READINESS_TIMEOUT_S:g} s"}
        checks = {name: unanswered for name in READINESS_CHECKS}
    except Exception as error:  # readiness must report, not fail
        logger.warning("readiness check failed: {}", error)
        failed = {"ready": False, "message": "the readiness check failed; the service log says why"}
        checks = {name: failed for name in READINESS_CHECKS}
    is_ready = all(check["ready"] for check in checks.values())
    return JSONResponse(
        {"ready": is_ready, "checks": checks, "serving": answerer.serving}, status_code=200 if is_ready else 503
    )


@protected.post("/rag", dependencies=[Depends(request_slot)])
async def rag(
    body: RagRequest,
    answerer: AnswererDep,
    tracer: TracerDep,
    config: ConfigDep,
    request_id: RequestIdDep,
    streams: StreamsDep,
    limiter: LimiterDep,
) -> RagResponse:
    """The book's endpoint: retrieve context for the query and answer from it, with the sources."""
    return await _rag_answer(body, answerer, tracer, config, request_id, streams, limiter, route="rag")


async def on_sagemaker_port(request: Request, config: ConfigDep) -> None:
    """404 unless the request came in on the SageMaker port: elsewhere these routes do not exist."""
    server = request.scope.get("server")
    if config.sagemaker_port is None or server is None or server[1] != config.sagemaker_port:
        raise HTTPException(status_code=404, detail="Not Found")


@sagemaker.get("/ping", dependencies=[Depends(on_sagemaker_port)])
async def ping(request: Request) -> JSONResponse:
    """SageMaker's health check: 200 once the twin is loaded and its stores answer, else 503 with the checks."""
    answerer: TwinAnswerer | None = request.app.state.answerer
    if answerer is None:
        return JSONResponse({"ready": False, "checks": {}, "serving": {}}, status_code=503)
    return await _readiness(answerer)


@sagemaker.post("/invocations", dependencies=[Depends(on_sagemaker_port), Depends(request_slot)])
async def invocations(
    body: RagRequest,
    answerer: AnswererDep,
    tracer: TracerDep,
    config: ConfigDep,
    request_id: RequestIdDep,
    streams: StreamsDep,
    limiter: LimiterDep,
) -> RagResponse:
    """SageMaker's inference route: the /rag body in, the /rag answer out."""
    return await _rag_answer(body, answerer, tracer, config, request_id, streams, limiter, route="invocations")


async def _rag_answer(
    body: RagRequest,
    answerer: TwinAnswerer,
    tracer: Tracer,
    config: ServiceConfig,
    request_id: str,
    streams: list[AnswerStream],
    limiter: ConcurrencyLimiter,
    *,
    route: str,
) -> RagResponse:
    _check_length(body.query, config, "query")
    call = TwinCall(
        answerer, tracer, route=route, request_id=request_id, timeout_s=config.request_timeout_s, hold_slot=limiter.hold
    )
    params = GenerationParams(
        max_new_tokens=min(DEFAULT_MAX_NEW_TOKENS, config.max_new_tokens),
        repetition_penalty=config.repetition_penalty,
        no_repeat_ngram_size=config.no_repeat_ngram_size,
    )
    with http_errors(call):
        retrieval = await call.retrieve(body.query, k=body.k, author_full_name=body.author_full_name)
        stream = call.start_answer(retrieval, [], params)
        streams.append(stream)
        answer = await call.answer(stream)
    call.finish(answer=answer)
    return RagResponse(
        answer=answer, sources=[Source.from_chunk(c) for c in retrieval.chunks], model=answerer.model_name
    )


@protected.post("/retrieve", dependencies=[Depends(request_slot)])
async def retrieve(
    body: RagRequest,
    answerer: AnswererDep,
    tracer: TracerDep,
    config: ConfigDep,
    request_id: RequestIdDep,
    limiter: LimiterDep,
) -> RetrieveResponse:
    """Ranked chunks for the query, with no generation."""
    _check_length(body.query, config, "query")
    call = TwinCall(
        answerer,
        tracer,
        route="retrieve",
        request_id=request_id,
        timeout_s=config.request_timeout_s,
        hold_slot=limiter.hold,
    )
    with http_errors(call):
        retrieval = await call.retrieve(body.query, k=body.k, author_full_name=body.author_full_name)
    call.finish(answer=None)
    return RetrieveResponse(
        query=retrieval.query,
        author_full_name=retrieval.author_full_name,
        queries=retrieval.queries,
        chunks=[
            RetrievedChunk(**Source.from_chunk(c).model_dump(), content=c.content, scores=c.scores)
            for c in retrieval.chunks
        ],
        notes=retrieval.notes,
    )


@protected.get("/v1/models")
async def list_models(answerer: AnswererDep) -> dict[str, Any]:
    """OpenAI's model list: the one twin this service serves, named with its registry version."""
    return {
        "object": "list",
        "data": [{"id": answerer.model_name, "object": "model", "created": 0, "owned_by": "llm-twin"}],
    }


def _conversation(body: ChatCompletionRequest, config: ServiceConfig) -> tuple[str, list[ChatMessage]]:
    if len(body.messages) > config.max_messages:
        raise HTTPException(
            status_code=422,
            detail=f"{len(body.messages)} messages, more than the {config.max_messages} allowed (API_MAX_MESSAGES).",
        )
    history: list[ChatMessage] = []
    for index, message in enumerate(body.messages):
        text = message.text()
        _check_length(text, config, f"messages[{index}]")
        if message.role in ("system", "developer"):
            history.append(ChatMessage(role="system", content=text))
        elif message.role in ("user", "assistant"):
            history.append(ChatMessage(role=message.role, content=text))
    if not history or history[-1].role != "user" or not history[-1].content.strip():
        raise HTTPException(status_code=422, detail="The last message must be a non-empty user message.")
    return history[-1].content, history[:-1]


def _params(body: ChatCompletionRequest, config: ServiceConfig) -> GenerationParams:
    wanted = body.max_completion_tokens or body.max_tokens or DEFAULT_MAX_NEW_TOKENS
    params = GenerationParams(
        max_new_tokens=min(wanted, config.max_new_tokens),
        repetition_penalty=config.repetition_penalty,
        no_repeat_ngram_size=config.no_repeat_ngram_size,
    )
    given: dict[str, Any] = {"temperature": body.temperature, "top_p": body.top_p, "seed": body.seed}
    try:
        given["stop"] = body.stop_strings() or None
    except ValueError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    return replace(params, **{name: value for name, value in given.items() if value is not None})


@protected.post("/v1/chat/completions", dependencies=[Depends(request_slot)], response_model=None)
async def chat_completions(
    body: ChatCompletionRequest,
    answerer: AnswererDep,
    tracer: TracerDep,
    config: ConfigDep,
    request_id: RequestIdDep,
    streams: StreamsDep,
    limiter: LimiterDep,
) -> dict[str, Any] | StreamingResponse:
    """OpenAI's chat completions: the last user message is the query, earlier messages the history."""
    query, history = _conversation(body, config)
    params = _params(body, config)
    call = TwinCall(
        answerer,
        tracer,
        route="chat",
        request_id=request_id,
        timeout_s=config.request_timeout_s,
        hold_slot=limiter.hold,
    )
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    with http_errors(call):
        retrieval = await call.retrieve(query, k=None, author_full_name=None)
        stream = call.start_answer(retrieval, history, params)
        streams.append(stream)
        answer = None if body.stream else await call.answer(stream)
    if answer is not None:
        call.finish(answer=answer)
        usage = stream.usage
        message = {"role": "assistant", "content": answer}
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": answerer.model_name,
            "choices": [{"index": 0, "message": message, "finish_reason": usage.finish_reason if usage else "stop"}],
            **({"usage": _usage(usage)} if usage else {}),
            SOURCES_FIELD: _sources(retrieval),
        }
    # The first piece is awaited before the response starts, so a slow or failing backend still gets a
    # proper status code (504, 503) instead of a broken stream.
    with http_errors(call):
        first = await call.next_piece(stream)
    chunk = _ChunkWriter(completion_id, created, answerer.model_name)
    include_usage = body.stream_options is not None and body.stream_options.include_usage
    return StreamingResponse(
        _sse(call, stream, first, chunk, retrieval, include_usage=include_usage),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _usage(usage: TokenUsage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _sources(retrieval: Retrieval) -> list[dict[str, Any]]:
    return [Source.from_chunk(c).model_dump() for c in retrieval.chunks]


class _ChunkWriter:
    """Formats `chat.completion.chunk` SSE events."""

    def __init__(self, completion_id: str, created: int, model: str) -> None:
        self._base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}

    def __call__(self, delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> str:
        event = {**self._base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}], **extra}
        return f"data: {json.dumps(event)}\n\n"

    def usage(self, usage: TokenUsage | None) -> str:
        """The last chunk that stream_options.include_usage asks for: no choices, the usage (null where unknown)."""
        event = {**self._base, "choices": [], "usage": _usage(usage) if usage else None}
        return f"data: {json.dumps(event)}\n\n"


async def _sse(
    call: TwinCall,
    stream: AnswerStream,
    first: str | None,
    chunk: _ChunkWriter,
    retrieval: Retrieval,
    *,
    include_usage: bool = False,
) -> AsyncIterator[str]:
    pieces: list[str] = []
    error: str | None = "client disconnected"
    try:
        yield chunk({"role": "assistant", "content": ""})
        piece = first
        while piece is not None:
            pieces.append(piece)
            yield chunk({"content": piece})
            piece = await call.next_piece(stream)
        usage = stream.usage
        yield chunk({}, usage.finish_reason if usage else "stop", **{SOURCES_FIELD: _sources(retrieval)})
        if include_usage:
            yield chunk.usage(usage)
        yield "data: [DONE]\n\n"
        error = None
    except LLMTwinError as failure:
        # Headers are gone: the error travels as an SSE event in OpenAI's error shape, then the stream ends.
        logger.warning("an answer stream stopped early: {}", failure)
        error = "timeout" if isinstance(failure, AnswerTimeoutError) else "generation failed"
        message = "The twin did not answer in time." if error == "timeout" else "The answer could not be finished."
        yield f"data: {json.dumps({'error': {'message': message, 'type': error}})}\n\n"
    finally:
        stream.close()
        call.finish(answer="".join(pieces), error=error)
