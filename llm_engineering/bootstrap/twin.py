"""The twin wired from Settings: the one place `llm-twin ask`, `llm-twin serve` and the benches build the RAG core."""

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from loguru import logger

from llm_engineering.application.rag.context import context_budget
from llm_engineering.application.rag.prompts import prompt_overhead
from llm_engineering.application.rag.retriever import ContextRetriever, RetrieverConfig
from llm_engineering.application.rag.twin import RagTwin
from llm_engineering.bootstrap.llm import build_helper_llm, build_remote_streaming_llm, llm_models_dir
from llm_engineering.bootstrap.stores import VectorStoreAdapter, build_vector_store
from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import StreamingLLM, TokenCounter
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse, connect_mongo
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, SentenceTransformerEmbedder
from llm_engineering.infrastructure.llm.local_streaming import TransformersStreamingLLM
from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
from llm_engineering.infrastructure.llm.openvino_engine import EngineLimits, OpenVINOGenerator
from llm_engineering.infrastructure.reranking import load_cross_encoder
from llm_engineering.model.finetuning.config import TWIN_MODEL_NAME
from llm_engineering.model.inference.production import find_production_model
from llm_engineering.model.registry import OPTIMIZED_MODEL_ARTIFACT, load_model_folder
from llm_engineering.settings import Settings


def expansion_count(settings: Settings) -> int:
    """RAG_EXPAND_TO_N_QUERIES, else 1 with the local model (too weak to rephrase well) and the book's 3 remotely."""
    if settings.RAG_EXPAND_TO_N_QUERIES is not None:
        return settings.RAG_EXPAND_TO_N_QUERIES
    return 1 if settings.LLM_BACKEND == "local" else 3


class LocalAnswerModel(StreamingLLM, TokenCounter, Protocol):
    """What the service needs of a local engine: the ports, plus loading, readiness and a description."""

    @property
    def engine(self) -> str:
        """How the model runs, for /ready and logs."""
        ...

    @property
    def loaded(self) -> bool:
        """Whether it is ready to answer."""
        ...

    def load(self) -> None:
        """Load now (at start-up)."""
        ...

    def close(self) -> None:
        """Release the engine."""
        ...


@dataclass(frozen=True)
class ServedModel:
    """The local engine that answers, and what /ready and the log say about it."""

    llm: LocalAnswerModel
    serving: dict[str, str]


def local_answer_model(settings: Settings, model_name: str = TWIN_MODEL_NAME) -> ServedModel:
    """The registry's production TwinLlama on OpenVINO GenAI (its optimized export), loaded.

    It falls back to plain transformers on the merged weights, with the reason in the log and in `serving`, when
    the version has no export, its export was not cleared for serving, or OpenVINO cannot load it here. With no
    production version the base model answers, with one warning that says how to get one.
    """
    models_dir = llm_models_dir(settings)
    production = find_production_model(model_name, models_dir / "registry")
    if production is not None:
        folder, name = production.folder, production.display_name
        optimized, note = production.optimized, production.optimized_note
    else:
        logger.warning(
            "No production {} in the model registry, so the base model {} answers. Train one with "
            "`poe run-training-pipeline`; the evaluation pipeline then promotes it to production.",
            model_name,
            settings.LOCAL_LLM_MODEL_ID,
        )
        folder, name = Path(resolve_llm_model(settings.LOCAL_LLM_MODEL_ID, models_dir)), settings.LOCAL_LLM_MODEL_ID
        optimized, note = None, f"no production {model_name}, so the base model answers and has no export"
    if settings.LLM_ENGINE != "transformers":
        if optimized is not None:
            generator = OpenVINOGenerator(
                optimized,
                model_id=name,
                limits=EngineLimits(
                    kv_cache_gb=settings.LLM_KV_CACHE_GB,
                    max_batched_tokens=settings.LLM_MAX_BATCHED_TOKENS,
                    max_sequences=settings.API_MAX_CONCURRENT_REQUESTS,
                ),
                prompt_lookup=settings.LLM_PROMPT_LOOKUP,
                inference_precision=None
                if settings.LLM_INFERENCE_PRECISION == "auto"
                else settings.LLM_INFERENCE_PRECISION,
                draft_model=draft_model_folder(settings.LLM_DRAFT_MODEL, models_dir / "registry"),
                stream_timeout_s=settings.LLM_TIMEOUT_S,
            )
            try:
                generator.load()
            except (LLMError, ImportError) as error:
                note = f"OpenVINO GenAI cannot load {optimized.name}: {error}"
            else:
                logger.info("{} answers on {}: {}.", name, generator.engine, note)
                return ServedModel(generator, {"model": name, "engine": generator.engine, "note": note})
        if settings.LLM_ENGINE == "openvino":
            raise LLMError(f"LLM_ENGINE=openvino, but {note}. Set LLM_ENGINE=auto to fall back to transformers.")
    fallback = TransformersStreamingLLM(
        folder,
        model_id=name,
        models_dir=models_dir,
        device=settings.RAG_MODEL_DEVICE,
        dtype=settings.RAG_MODEL_DTYPE,
        stream_timeout_s=settings.LLM_TIMEOUT_S,
    )
    fallback.load()
    reason = "LLM_ENGINE=transformers" if settings.LLM_ENGINE == "transformers" else note
    if settings.LLM_ENGINE != "transformers":
        logger.warning("{} answers on the fallback engine, {}: {}.", name, fallback.engine, reason)
    return ServedModel(fallback, {"model": name, "engine": fallback.engine, "note": reason})


def draft_model_folder(setting: str | None, cache_dir: Path) -> Path | None:
    """LLM_DRAFT_MODEL as a folder: a registry version ("TwinLlama:2") gives its optimized export."""
    if not setting:
        return None
    model_name, separator, version = setting.partition(":")
    if separator and version.isdigit() and not Path(setting).exists():
        return load_model_folder(model_name, int(version), cache_dir, artifact=OPTIMIZED_MODEL_ARTIFACT)
    folder = Path(setting).expanduser()
    if not (folder / "openvino_model.xml").is_file():
        raise LLMError(f"LLM_DRAFT_MODEL={setting} is neither a registry version (TwinLlama:2) nor an OpenVINO export.")
    return folder


def build_retriever(
    settings: Settings,
    store: VectorStoreAdapter,
    warehouse: MongoDataWarehouse,
    *,
    counter: TokenCounter | None,
    budget_tokens: int | None,
    expand: int | None = None,
) -> ContextRetriever:
    """The retriever on the settings' stores and models; the reranker only if a trained one loads."""
    reranker = load_cross_encoder(settings.RERANKING_CROSS_ENCODER_MODEL_ID, settings.RAG_MODEL_DEVICE)
    config = RetrieverConfig(
        k=settings.RAG_TOP_K,
        expand_to_n_queries=expand if expand is not None else expansion_count(settings),
        max_query_chars=settings.API_MAX_INPUT_CHARS,
        context_budget_tokens=budget_tokens,
    )
    return ContextRetriever(
        store=store,
        embedder=SentenceTransformerEmbedder.from_settings(settings),
        sparse_embedder=Bm25SparseEmbedder(),
        authors=warehouse,
        config=config,
        token_counter=counter,
        reranker=reranker,
        llm=build_helper_llm(settings),
    )


def build_twin(settings: Settings, *, generate: bool = True, model_name: str = TWIN_MODEL_NAME) -> RagTwin:
    """The whole twin: stores, retriever, and (unless `generate` is False) the answering model, loaded now.

    `model_name`: the registry model whose production version answers.

    Closing the twin releases the stores (the embedded Qdrant Edge store is locked while open).
    """
    cleanup = ExitStack()
    try:
        client = connect_mongo(settings)
        cleanup.callback(client.close)
        warehouse = MongoDataWarehouse(client[settings.DATABASE_NAME])
        store = build_vector_store(settings)
        cleanup.callback(store.close)
        llm: StreamingLLM | None = None
        counter: TokenCounter | None = None
        model_ready: Callable[[], bool] = lambda: True  # noqa: E731 - remote backends load nothing here
        answered_by = "retrieval only"
        serving: dict[str, str] = {"engine": "none (retrieval only)"}
        if generate and settings.LLM_BACKEND == "local":
            served = local_answer_model(settings, model_name)
            generator = served.llm
            cleanup.callback(generator.close)
            llm, counter, model_ready, answered_by = generator, generator, lambda: generator.loaded, generator.model_id
            serving = served.serving
        elif generate:
            llm, counter = build_remote_streaming_llm(settings)
            answered_by = f"{llm.model_id} ({settings.LLM_BACKEND})"
            serving = {"model": llm.model_id, "engine": settings.LLM_BACKEND}
        budget = None
        if counter is not None:
            budget = context_budget(
                counter,
                answer_tokens=settings.API_MAX_NEW_TOKENS,
                # The instructions, plus room for the longest question allowed (about 3 characters per token).
                prompt_tokens=counter.count_tokens(prompt_overhead("an author with a long name"))
                + settings.API_MAX_INPUT_CHARS // 3,
                cap=settings.RAG_MAX_CONTEXT_TOKENS,
            )
        retriever = build_retriever(settings, store, warehouse, counter=counter, budget_tokens=budget)
        retriever.check_feature_store()  # a store built otherwise stops the start-up, with the rebuild command
        return RagTwin(
            retriever,
            llm,
            model_name=answered_by,
            readiness_checks={
                "warehouse": lambda: bool(client.admin.command("ping")),
                "vector_store": lambda: store.collection_names() is not None,
                "model": model_ready,
            },
            on_close=cleanup.close,
            serving=serving,
        )
    except BaseException:
        cleanup.close()
        raise
