"""Builds the LLMClient that Settings choose: the one place an LLM backend is wired."""

from functools import partial
from pathlib import Path

from llm_engineering.domain.ports import LLMClient, StreamingLLM, TokenCounter
from llm_engineering.infrastructure.llm.cache import CachedLLMClient
from llm_engineering.infrastructure.llm.local import LocalTransformersClient
from llm_engineering.infrastructure.llm.openai_compatible import OpenAICompatibleClient
from llm_engineering.infrastructure.llm.prompt import CharacterTokenEstimate, load_chat_formatter
from llm_engineering.infrastructure.llm.sagemaker import SageMakerTGIClient
from llm_engineering.infrastructure.retrying import RetryPolicy
from llm_engineering.settings import Settings


def llm_models_dir(settings: Settings) -> Path:
    """Where converted local models are kept: DATA_DIR/models."""
    return settings.data_dir / "models"


def llm_cache_dir(settings: Settings) -> Path:
    """LLM_CACHE_DIR as an absolute path, by default DATA_DIR/cache/llm."""
    folder = settings.LLM_CACHE_DIR if settings.LLM_CACHE_DIR is not None else settings.data_dir / "cache" / "llm"
    return folder.expanduser().resolve()


def build_helper_llm(settings: Settings) -> LLMClient | None:
    """The LLM that extracts authors and rewrites questions for RAG: the configured remote backend, cached.

    Never the local 135M model, whose extractions would be noise.
    """
    return build_llm_client(settings) if settings.LLM_BACKEND != "local" else None


def build_remote_streaming_llm(settings: Settings) -> tuple[StreamingLLM, TokenCounter]:
    """The remote backend (LLM_BACKEND=openai or sagemaker) that streams answers, uncached, and its token counter.

    The counter is its tokenizer where known (LLM_TOKENIZER_ID; SageMaker serves LOCAL_LLM_MODEL_ID's), else an
    estimate.
    """
    client = build_llm_client(settings, use_cache=False)
    if not isinstance(client, OpenAICompatibleClient | SageMakerTGIClient):
        raise ValueError(f"LLM_BACKEND={settings.LLM_BACKEND} is not a remote backend; the local model streams itself.")
    tokenizer_id = settings.LLM_TOKENIZER_ID or (
        settings.LOCAL_LLM_MODEL_ID if settings.LLM_BACKEND == "sagemaker" else None
    )
    counter: TokenCounter = (
        load_chat_formatter(tokenizer_id, llm_models_dir(settings)) if tokenizer_id else CharacterTokenEstimate()
    )
    return client, counter


def build_llm_client(settings: Settings, *, use_cache: bool = True) -> LLMClient:
    """The client of Settings.LLM_BACKEND, behind the disk cache unless `use_cache` is False; connects to nothing."""
    models_dir = llm_models_dir(settings)
    retry = RetryPolicy(max_retries=settings.LLM_MAX_RETRIES, backoff_s=settings.LLM_RETRY_BACKOFF_S)
    tokenizer_id = settings.LLM_TOKENIZER_ID or None
    client: LLMClient
    if settings.LLM_BACKEND == "openai":
        api_key = settings.OPENAI_API_KEY.get_secret_value() if settings.OPENAI_API_KEY else None
        client = OpenAICompatibleClient(
            settings.OPENAI_MODEL_ID,
            api_key=api_key,
            base_url=settings.OPENAI_BASE_URL,
            timeout_s=settings.LLM_TIMEOUT_S,
            retry=retry,
            concurrency=settings.LLM_BATCH_SIZE,
            formatter=partial(load_chat_formatter, tokenizer_id, models_dir) if tokenizer_id else None,
            max_input_tokens=settings.LLM_MAX_INPUT_TOKENS,
        )
    elif settings.LLM_BACKEND == "sagemaker":
        client = SageMakerTGIClient(
            settings.SAGEMAKER_ENDPOINT_INFERENCE,
            formatter=partial(load_chat_formatter, tokenizer_id or settings.LOCAL_LLM_MODEL_ID, models_dir),
            region=settings.AWS_REGION,
            timeout_s=settings.LLM_TIMEOUT_S,
            retry=retry,
            concurrency=settings.LLM_BATCH_SIZE,
            max_input_tokens=settings.LLM_MAX_INPUT_TOKENS,
            aws_access_key_id=settings.AWS_ACCESS_KEY.get_secret_value() if settings.AWS_ACCESS_KEY else None,
            aws_secret_access_key=settings.AWS_SECRET_KEY.get_secret_value() if settings.AWS_SECRET_KEY else None,
        )
    else:
        client = LocalTransformersClient(
            settings.LOCAL_LLM_MODEL_ID,
            models_dir=models_dir,
            device=settings.RAG_MODEL_DEVICE,
            batch_size=settings.LLM_BATCH_SIZE,
            timeout_s=settings.LLM_TIMEOUT_S,
            max_input_tokens=settings.LLM_MAX_INPUT_TOKENS,
        )
    if not use_cache:
        return client
    return CachedLLMClient(client, llm_cache_dir(settings), chunk_size=settings.LLM_BATCH_SIZE)
