"""One request's work against the twin: retrieval and generation in worker threads, under its deadline.

The work is recorded as a trace (self-query, retrieval, rerank, generation) when a tracer is enabled.
"""

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from loguru import logger

from llm_engineering.domain.exceptions import AnswerTimeoutError, InvalidQueryError
from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.domain.rag import Retrieval, TwinAnswerer
from llm_engineering.domain.tracing import RequestTrace, Tracer, TraceSpan
from llm_engineering.infrastructure.api.limits import AnswerStream

T = TypeVar("T")
# The RAG core's stages, each recorded as a span with the times the core took them at.
_STAGES = ("self-query", "retrieval", "rerank")
_RETRIEVE_TIMING_NOTE = "the answerer records no stage times: one span for its whole retrieve() call"


def _now() -> datetime:
    return datetime.now(UTC)


class TwinCall:
    """Runs one request's blocking calls off the event loop, each bounded by what is left of the deadline.

    A call past the deadline is abandoned (its thread finishes on its own) and AnswerTimeoutError is raised;
    a generation is stopped through AnswerStream.close.
    """

    def __init__(
        self,
        answerer: TwinAnswerer,
        tracer: Tracer,
        *,
        route: str,
        request_id: str,
        timeout_s: float,
        hold_slot: Callable[[], Callable[[], None]],
    ) -> None:
        """`hold_slot` takes a concurrency slot for a call abandoned at the deadline, until its thread ends."""
        self._answerer = answerer
        self._hold_slot = hold_slot
        self._tracer = tracer
        self._deadline = time.monotonic() + timeout_s
        self._timeout_s = timeout_s
        self._trace: RequestTrace | None = None
        self._generation: TraceSpan | None = None
        self._started = time.perf_counter()
        self.first_piece_s: float | None = None
        self.pieces = 0
        if tracer.enabled:
            start = _now()
            self._trace = RequestTrace(
                name=route, request_id=request_id, start=start, end=start, metadata={"model": answerer.model_name}
            )

    async def _in_thread(self, function: Callable[[], T]) -> T:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise AnswerTimeoutError(f"the request took more than {self._timeout_s:g} s (API_REQUEST_TIMEOUT_S)")
        lock = threading.Lock()
        abandoned: list[Callable[[], None]] = []

        def run() -> T:
            try:
                return function()
            finally:
                with lock:
                    for release in abandoned:
                        release()
                    abandoned.append(lambda: None)  # finished: a late timeout holds nothing

        try:
            with anyio.fail_after(remaining):
                return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except TimeoutError:
            with lock:
                if not abandoned:
                    abandoned.append(self._hold_slot())
            raise AnswerTimeoutError(
                f"the request took more than {self._timeout_s:g} s (API_REQUEST_TIMEOUT_S)"
            ) from None

    async def retrieve(self, query: str, *, k: int | None, author_full_name: str | None) -> Retrieval:
        """Ranked context for the query, traced as the self-query, retrieval and rerank spans."""
        start = _now()

        def retrieve() -> Retrieval:
            try:
                return self._answerer.retrieve(query, k=k, author_full_name=author_full_name)
            except ValueError as error:  # the port's way of refusing the query itself
                raise InvalidQueryError(str(error)) from error

        retrieval = await self._in_thread(retrieve)
        if self._trace is not None:
            self._trace.input.update(query=query, author_full_name=author_full_name, k=k)
            self._trace.spans.extend(_retrieval_spans(retrieval, start, _now()))
        return retrieval

    def start_answer(
        self, retrieval: Retrieval, history: Sequence[ChatMessage], params: GenerationParams
    ) -> AnswerStream:
        """The answer's pieces as a stream the caller must close; opens the generation span."""
        if self._trace is not None:
            self._generation = TraceSpan(
                name="generation",
                start=_now(),
                end=_now(),
                input={
                    "query": retrieval.query,
                    "history": [{"role": m.role, "content": m.content} for m in history],
                    "context_chunk_ids": [chunk.chunk_id for chunk in retrieval.chunks],
                    "params": {
                        "max_new_tokens": params.max_new_tokens,
                        "temperature": params.temperature,
                        "top_p": params.top_p,
                        "seed": params.seed,
                    },
                },
                metadata={"model": self._answerer.model_name},
            )
        return AnswerStream(self._answerer.stream_answer(retrieval, history, params))

    async def next_piece(self, stream: AnswerStream) -> str | None:
        """The next piece within the deadline (None at the end); the stream is closed on timeout."""
        try:
            piece = await self._in_thread(stream.next_piece)
        except AnswerTimeoutError:
            stream.close()
            raise
        if piece is not None:
            self.pieces += 1
            if self.first_piece_s is None:
                self.first_piece_s = time.perf_counter() - self._started
        return piece

    async def answer(self, stream: AnswerStream) -> str:
        """The whole answer; the stream is closed whatever happens."""
        pieces: list[str] = []
        try:
            while (piece := await self.next_piece(stream)) is not None:
                pieces.append(piece)
        finally:
            stream.close()
        return "".join(pieces)

    def finish(self, *, answer: str | None, error: str | None = None) -> None:
        """Close the trace (answer, piece count, latency) and hand it to the tracer; never raises."""
        if self._trace is None:
            return
        end = _now()
        latency_ms = round((time.perf_counter() - self._started) * 1000, 1)
        timing: dict[str, Any] = {
            "latency_ms": latency_ms,
            "time_to_first_piece_ms": None if self.first_piece_s is None else round(self.first_piece_s * 1000, 1),
            # Pieces as the answerer streamed them: one per generated token for the local and TGI backends.
            "completion_pieces": self.pieces,
        }
        if self._generation is not None:
            self._generation.end = end
            self._generation.output = {"answer": answer}
            self._generation.metadata.update(timing)
            self._trace.spans.append(self._generation)
        self._trace.end = end
        self._trace.output = {"answer": answer}
        self._trace.metadata.update(timing)
        self._trace.error = error
        try:
            self._tracer.record(self._trace)
        except Exception as failure:  # a monitoring outage must never fail the user's request
            logger.warning("could not record the trace of request {}: {}", self._trace.request_id, failure)


def _retrieval_spans(retrieval: Retrieval, start: datetime, end: datetime) -> list[TraceSpan]:
    """The self-query, retrieval and rerank spans as the RAG core timed them, with their inputs and outputs.

    An answerer that records no stage times gets one span, `retrieve`, for the whole call it made: no stage is given
    times it did not have.
    """
    chunk_ids = [chunk.chunk_id for chunk in retrieval.chunks]
    times = retrieval.stage_times
    if not all(stage in times for stage in _STAGES):
        return [
            TraceSpan(
                name="retrieve",
                start=start,
                end=end,
                input={"query": retrieval.query},
                output={"author_full_name": retrieval.author_full_name, "chunk_ids": chunk_ids},
                metadata={"timing": _RETRIEVE_TIMING_NOTE, "notes": retrieval.notes},
            )
        ]
    reranked = any("rerank" in chunk.scores for chunk in retrieval.chunks)
    return [
        TraceSpan(
            name="self-query",
            start=times["self-query"].start,
            end=times["self-query"].end,
            input={"query": retrieval.query},
            output={"author_full_name": retrieval.author_full_name, "queries": retrieval.queries},
        ),
        TraceSpan(
            name="retrieval",
            start=times["retrieval"].start,
            end=times["retrieval"].end,
            input={"queries": retrieval.queries},
            output={
                "chunk_ids": chunk_ids,
                "scores": [{k: v for k, v in chunk.scores.items() if k != "rerank"} for chunk in retrieval.chunks],
            },
        ),
        TraceSpan(
            name="rerank",
            start=times["rerank"].start,
            end=times["rerank"].end,
            input={"chunk_ids": chunk_ids},
            output={
                "chunk_ids": chunk_ids,
                "rerank_scores": [chunk.scores.get("rerank") for chunk in retrieval.chunks],
            },
            metadata={"reranked": reranked, "notes": retrieval.notes},
        ),
    ]
