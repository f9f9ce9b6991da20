"""The twin wired from Settings: the one place tools.rag, tools.ml_service and the benches build the RAG core."""

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from loguru import logger

from llm_engineering.application.rag.context import context_budget
from llm_engineering.application.rag.prompts import prompt_overhead
from llm_engineering.application.rag.retriever import ContextRetriever, RetrieverConfig
from llm_engineering.application.rag.twin import RagTwin
from llm_engineering.domain.ports import StreamingLLM, TokenCounter
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse, connect_mongo
from llm_engineering.infrastructure.db.vector_store import VectorStoreAdapter, build_vector_store
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, SentenceTransformerEmbedder
from llm_engineering.infrastructure.llm.factory import build_helper_llm, build_remote_streaming_llm, llm_models_dir
from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
from llm_engineering.infrastructure.reranking import load_cross_encoder
from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.inference.production import find_production_model
from llm_engineering.model.inference.streaming import MicroBatchingGenerator
from llm_engineering.settings import Settings

# The registry model the training pipeline versions and the evaluation pipeline promotes.
TWIN_MODEL_NAME: str = TrainingConfig.model_fields["model_name"].default


def expansion_count(settings: Settings) -> int:
    """RAG_EXPAND_TO_N_QUERIES, else 1 with the local model (too weak to rephrase well) and the book's 3 remotely."""
    if settings.RAG_EXPAND_TO_N_QUERIES is not None:
        return settings.RAG_EXPAND_TO_N_QUERIES
    return 1 if settings.LLM_BACKEND == "local" else 3


def local_answer_model(settings: Settings) -> MicroBatchingGenerator:
    """The registry's production TwinLlama, or the base model with one warning that says how to get one."""
    models_dir = llm_models_dir(settings)
    production = find_production_model(TWIN_MODEL_NAME, models_dir / "registry")
    if production is not None:
        folder, name = production.folder, production.display_name
    else:
        logger.warning(
            "No production {} in the model registry, so the base model {} answers. Train one with "
            "`poe run-training-pipeline`; the evaluation pipeline then promotes it to production.",
            TWIN_MODEL_NAME,
            settings.LOCAL_LLM_MODEL_ID,
        )
        folder, name = Path(resolve_llm_model(settings.LOCAL_LLM_MODEL_ID, models_dir)), settings.LOCAL_LLM_MODEL_ID
    return MicroBatchingGenerator(
        folder,
        model_id=name,
        device=settings.RAG_MODEL_DEVICE,
        dtype=settings.RAG_MODEL_DTYPE,
        batch_window_s=settings.RAG_BATCH_WINDOW_MS / 1000,
        max_batch_size=settings.API_MAX_CONCURRENT_REQUESTS,
        stream_timeout_s=settings.LLM_TIMEOUT_S,
    )


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
        embedder=SentenceTransformerEmbedder(settings.TEXT_EMBEDDING_MODEL_ID, settings.RAG_MODEL_DEVICE),
        sparse_embedder=Bm25SparseEmbedder(),
        authors=warehouse,
        config=config,
        token_counter=counter,
        reranker=reranker,
        llm=build_helper_llm(settings),
    )


def build_twin(settings: Settings, *, generate: bool = True) -> RagTwin:
    """The whole twin: stores, retriever, and (unless `generate` is False) the answering model, loaded now.

    Closing the twin releases the stores (the embedded Qdrant Edge store is locked while open)."""
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
        model_name = "retrieval only"
        if generate and settings.LLM_BACKEND == "local":
            generator = local_answer_model(settings)
            generator.load()
            cleanup.callback(generator.close)
            llm, counter, model_ready, model_name = generator, generator, lambda: generator.loaded, generator.model_id
        elif generate:
            llm, counter = build_remote_streaming_llm(settings)
            model_name = f"{llm.model_id} ({settings.LLM_BACKEND})"
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
            model_name=model_name,
            readiness_checks={
                "warehouse": lambda: bool(client.admin.command("ping")),
                "vector_store": lambda: store.collection_names() is not None,
                "model": model_ready,
            },
            on_close=cleanup.close,
        )
    except BaseException:
        cleanup.close()
        raise
