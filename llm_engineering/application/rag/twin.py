"""RagTwin: the TwinAnswerer the REST service and `llm-twin ask` use, made of the retriever and a streaming LLM."""

import re
from collections.abc import Callable, Iterator, Mapping, Sequence

from loguru import logger

from llm_engineering.application.rag.prompts import NO_CONTEXT_ANSWER, answer_conversation
from llm_engineering.application.rag.retriever import ContextRetriever
from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage, GenerationParams, StreamingLLM, TokenUsage
from llm_engineering.domain.rag import ReadinessCheck, Retrieval


class RagTwin:
    """Implements TwinAnswerer on ports: retrieval from the feature store, the answer streamed by the LLM."""

    def __init__(
        self,
        retriever: ContextRetriever,
        llm: StreamingLLM | None,
        *,
        model_name: str,
        readiness_checks: Mapping[str, Callable[[], bool]],
        on_close: Callable[[], None] | None = None,
        serving: Mapping[str, str] | None = None,
    ) -> None:
        """Wire the twin; with `llm` None it does retrieval only.

        `readiness_checks`: one cheap probe per dependency ("warehouse", "vector_store", "model").
        `on_close` releases the stores and the model. `serving`: how the model runs ("engine", and a "note" that
        says why, e.g. why the fallback engine answers), shown by GET /ready.
        """
        self._retriever = retriever
        self._llm = llm
        self._model_name = model_name
        self._checks = dict(readiness_checks)
        self._on_close = on_close
        self._serving = dict(serving or {})

    def close(self) -> None:
        """Release what the twin holds (the embedded feature store's lock, the model's thread); idempotent."""
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    @property
    def model_name(self) -> str:
        """The name of the answering model, reported with each answer."""
        return self._model_name

    @property
    def serving(self) -> dict[str, str]:
        """How the answering model runs: its engine, and why that engine."""
        return dict(self._serving)

    def retrieve(self, query: str, *, k: int | None = None, author_full_name: str | None = None) -> Retrieval:
        """Ranked context for the query; InvalidQueryError (a ValueError) for an empty, long or unreadable one."""
        return self._retriever.search(query, k=k, author_full_name=author_full_name)

    def stream_answer(
        self, retrieval: Retrieval, history: Sequence[ChatMessage], params: GenerationParams
    ) -> Iterator[str]:
        """The answer grounded in the retrieved chunks; with none, a fixed "no context" answer and no generation."""
        if not retrieval.chunks:
            return _FixedAnswer(NO_CONTEXT_ANSWER)
        if self._llm is None:
            raise LLMError("This twin was built for retrieval only (generate=False); it cannot answer.")
        return self._llm.stream(answer_conversation(retrieval, history), params)

    def readiness(self) -> dict[str, ReadinessCheck]:
        """Each probe's state with its own message (a probe that raises is not ready, and says why), then the engine.

        The engine is ready whenever the twin serves one: its message says which engine answers and why that one
        (say, the source weights because the export was rejected).
        """
        checks: dict[str, ReadinessCheck] = {}
        for name, probe in self._checks.items():
            try:
                answers = bool(probe())
            except Exception as error:  # a probe failing means "not ready", never a failed /ready request
                logger.warning("Readiness probe {} failed: {}", name, error)
                checks[name] = ReadinessCheck(False, _failure_message(error))
            else:
                checks[name] = ReadinessCheck(answers, "answers" if answers else "does not answer")
        if engine := self._serving.get("engine"):
            note = self._serving.get("note")
            checks["engine"] = ReadinessCheck(True, f"{engine}: {note}" if note else engine)
        return checks


class _FixedAnswer:
    """The fixed answer given without context: nothing is generated, so it costs no tokens."""

    def __init__(self, text: str) -> None:
        self._pieces = iter([text])
        self.usage = TokenUsage(prompt_tokens=0, completion_tokens=0)

    def __iter__(self) -> "_FixedAnswer":
        return self

    def __next__(self) -> str:
        return next(self._pieces)


def _failure_message(error: Exception) -> str:
    """The error's type and first line, with any credentials in a URL masked and at most 200 characters."""
    first_line = (str(error).strip().splitlines() or [""])[0]
    masked = re.sub(r"://[^/@\s]+@", "://***@", first_line)
    text = f"{type(error).__name__}: {masked}" if masked else type(error).__name__
    return text if len(text) <= 200 else text[:199] + "…"
