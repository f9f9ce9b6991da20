"""RagTwin: the TwinAnswerer the REST service and tools.rag use, made of the retriever and a streaming LLM."""

from collections.abc import Callable, Iterator, Mapping, Sequence

from loguru import logger

from llm_engineering.application.rag.prompts import NO_CONTEXT_ANSWER, answer_conversation
from llm_engineering.application.rag.retriever import ContextRetriever
from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage, GenerationParams, StreamingLLM
from llm_engineering.domain.rag import Retrieval


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
            return iter([NO_CONTEXT_ANSWER])
        if self._llm is None:
            raise LLMError("This twin was built for retrieval only (generate=False); it cannot answer.")
        return self._llm.stream(answer_conversation(retrieval, history), params)

    def readiness(self) -> dict[str, bool]:
        """Each probe's answer; a probe that raises counts as not ready."""
        ready: dict[str, bool] = {}
        for name, check in self._checks.items():
            try:
                ready[name] = bool(check())
            except Exception as error:  # a probe failing means "not ready", never a failed /ready request
                logger.warning("Readiness probe {} failed: {}", name, error)
                ready[name] = False
        return ready
