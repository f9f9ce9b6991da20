"""All configuration read from the environment / `.env`. Nothing is read at import time."""

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from llm_engineering.domain.exceptions import SettingsError


def _is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the service on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


PLACEHOLDERS = {"changeme", "change-me", "your-key-here", "xxx", "todo", "<secret>", "none"}


class _Group(BaseSettings):
    """What every group of settings shares: the environment and `.env` as the source, unknown variables ignored."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")


def _checked_secret(value: SecretStr | None) -> SecretStr | None:
    """A secret that is blank is unset; a placeholder ("changeme", "<secret>") is refused."""
    if value is None:
        return None
    secret = value.get_secret_value().strip()
    if not secret:
        return None
    if secret.lower() in PLACEHOLDERS or (secret.startswith("<") and secret.endswith(">")):
        raise ValueError("is a placeholder; set the real secret or remove the variable")
    return value


def _blank_is_none(value: str | None) -> str | None:
    return value if value and value.strip() else None


class StoreSettings(_Group):
    """Where the data lives: DATA_DIR, the MongoDB warehouse and the Qdrant feature store."""

    # Embedded default: where local stores, caches and logs live.
    DATA_DIR: Path = Path(".data")

    # MongoDB data warehouse. Unset: the embedded Mongo-wire server on LOCAL_DATABASE_PORT.
    DATABASE_HOST: str | None = None
    DATABASE_NAME: str = Field(default="twin", min_length=1)
    LOCAL_DATABASE_PORT: int = Field(default=27027, ge=1, le=65535)
    DATABASE_TIMEOUT_MS: int = Field(default=5000, ge=100)

    # Qdrant feature store. Unset host and no cloud: local mode under DATA_DIR/qdrant.
    QDRANT_DATABASE_HOST: str | None = None
    QDRANT_DATABASE_PORT: int = Field(default=6333, ge=1, le=65535)
    USE_QDRANT_CLOUD: bool = False
    QDRANT_CLOUD_URL: str | None = None
    QDRANT_APIKEY: SecretStr | None = None

    _store_secrets = field_validator("QDRANT_APIKEY")(_checked_secret)
    _store_urls = field_validator("QDRANT_DATABASE_HOST", "QDRANT_CLOUD_URL")(_blank_is_none)

    @field_validator("DATABASE_HOST")
    @classmethod
    def _mongo_uri(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must be a MongoDB URI starting with mongodb:// or mongodb+srv://")
        return value

    @model_validator(mode="after")
    def _cloud_needs_url(self) -> "StoreSettings":
        if self.USE_QDRANT_CLOUD and not self.QDRANT_CLOUD_URL:
            raise ValueError("USE_QDRANT_CLOUD=true needs QDRANT_CLOUD_URL (and usually QDRANT_APIKEY)")
        return self

    @property
    def data_dir(self) -> Path:
        """DATA_DIR as an absolute path."""
        return self.DATA_DIR.expanduser().resolve()

    @property
    def uses_embedded_mongo(self) -> bool:
        """Whether the warehouse is the embedded local mongod (no DATABASE_HOST set)."""
        return self.DATABASE_HOST is None

    @property
    def mongo_uri(self) -> str:
        """The URI to connect to: DATABASE_HOST, or the embedded server on loopback."""
        return self.DATABASE_HOST or f"mongodb://127.0.0.1:{self.LOCAL_DATABASE_PORT}"

    @property
    def qdrant_backend(self) -> Literal["local", "server", "cloud"]:
        """Which Qdrant to use: Qdrant Cloud, a server at QDRANT_DATABASE_HOST, or local storage."""
        if self.USE_QDRANT_CLOUD:
            return "cloud"
        return "server" if self.QDRANT_DATABASE_HOST else "local"


class EmbeddingSettings(_Group):
    """The retrieval models: the embedding encoder, the reranker, and the device the local models run on."""

    # Models.
    TEXT_EMBEDDING_MODEL_ID: str = "sentence-transformers/all-MiniLM-L6-v2"
    # The embedding encoder's engine: torch (fp32), openvino (fp32) or openvino-int8 (the fastest on CPU; see the
    # README's numbers). Changing it rebuilds the feature store on the next feature run.
    TEXT_EMBEDDING_BACKEND: Literal["torch", "openvino", "openvino-int8"] = "openvino-int8"
    # Where OpenVINO embedding exports are kept (unset: DATA_DIR/cache/embeddings).
    EMBEDDING_CACHE_DIR: Path | None = None
    RERANKING_CROSS_ENCODER_MODEL_ID: str = "cross-encoder/ms-marco-MiniLM-L-4-v2"
    RAG_MODEL_DEVICE: str = "cpu"
    # The transformers fallback's dtype: auto is bfloat16 on a CPU with bfloat16 instructions, else float32 on CPU.
    RAG_MODEL_DTYPE: Literal["auto", "float32", "bfloat16", "float16"] = "auto"


class LLMSettings(_Group):
    """The LLM: which backend answers (local engine, OpenAI-compatible, SageMaker), its limits, retries and cache."""

    # The local answering engine: auto is OpenVINO GenAI on the production version's optimized export, else plain
    # transformers (the reason in the log and /ready); openvino refuses to start without the export.
    LLM_ENGINE: Literal["auto", "openvino", "transformers"] = "auto"
    # OpenVINO GenAI's KV cache (GB) and tokens scheduled per step; the defaults fit a 2-core laptop.
    LLM_KV_CACHE_GB: float = Field(default=1.0, gt=0)
    LLM_MAX_BATCHED_TOKENS: int = Field(default=2048, ge=64)
    # The precision OpenVINO computes in; auto: the device's default (bf16 on CPUs with bfloat16 instructions).
    LLM_INFERENCE_PRECISION: Literal["auto", "f32", "bf16", "f16"] = "auto"
    # Prompt-lookup decoding, or a draft model (an OpenVINO export folder or a registry version "TwinLlama:2").
    LLM_PROMPT_LOOKUP: bool = False
    LLM_DRAFT_MODEL: str | None = None
    LOCAL_LLM_MODEL_ID: str = "HuggingFaceTB/SmolLM2-135M-Instruct"
    LLM_BACKEND: Literal["local", "openai", "sagemaker"] = "local"
    # Every LLM backend: one call's time limit, retries of transient failures, conversations per call.
    LLM_TIMEOUT_S: float = Field(default=600.0, gt=0)
    LLM_MAX_RETRIES: int = Field(default=3, ge=0)
    LLM_RETRY_BACKOFF_S: float = Field(default=1.0, ge=0)
    LLM_BATCH_SIZE: int = Field(default=16, ge=1)
    # Prompt tokens kept (unset: the model's context minus max_new_tokens).
    LLM_MAX_INPUT_TOKENS: int | None = Field(default=None, ge=16)
    # Tokenizer of the model behind a remote endpoint (unset: LOCAL_LLM_MODEL_ID for SageMaker; none for OpenAI).
    LLM_TOKENIZER_ID: str | None = None
    # Completions cache (unset: DATA_DIR/cache/llm).
    LLM_CACHE_DIR: Path | None = None

    # OpenAI-compatible LLMs.
    OPENAI_API_KEY: SecretStr | None = None
    OPENAI_MODEL_ID: str = "gpt-4o-mini"
    OPENAI_BASE_URL: str | None = None

    # Hugging Face Hub (dataset / model pushes).
    HUGGINGFACE_ACCESS_TOKEN: SecretStr | None = None

    _llm_secrets = field_validator("OPENAI_API_KEY", "HUGGINGFACE_ACCESS_TOKEN")(_checked_secret)
    _llm_urls = field_validator("OPENAI_BASE_URL")(_blank_is_none)

    @model_validator(mode="after")
    def _openai_needs_a_key_or_a_server(self) -> "LLMSettings":
        if self.LLM_BACKEND == "openai" and self.OPENAI_API_KEY is None and self.OPENAI_BASE_URL is None:
            raise ValueError("LLM_BACKEND=openai needs OPENAI_API_KEY or OPENAI_BASE_URL (a local server)")
        return self


class TrackingSettings(_Group):
    """Experiment tracking (Comet ML) and prompt monitoring (Opik)."""

    # Experiment tracking and prompt monitoring.
    COMET_API_KEY: SecretStr | None = None
    COMET_WORKSPACE: str | None = None
    COMET_PROJECT: str = "twin"
    OPIK_API_KEY: SecretStr | None = None
    OPIK_WORKSPACE: str | None = None
    OPIK_PROJECT: str = "twin"
    # A self-hosted Opik server (e.g. http://127.0.0.1:5173/api); with OPIK_API_KEY it turns tracing on.
    OPIK_URL_OVERRIDE: str | None = None

    _tracking_secrets = field_validator("COMET_API_KEY", "OPIK_API_KEY")(_checked_secret)
    _tracking_urls = field_validator("OPIK_URL_OVERRIDE")(_blank_is_none)

    @property
    def opik_enabled(self) -> bool:
        """Prompt monitoring is on only when an Opik server or cloud account is configured."""
        return self.OPIK_API_KEY is not None or self.OPIK_URL_OVERRIDE is not None


class AWSSettings(_Group):
    """AWS: credentials, the SageMaker role, and the TGI endpoint with its autoscaling."""

    # AWS / SageMaker.
    AWS_REGION: str = "eu-central-1"
    AWS_ACCESS_KEY: SecretStr | None = None
    AWS_SECRET_KEY: SecretStr | None = None
    AWS_ARN_ROLE: str | None = None
    SAGEMAKER_ENDPOINT_INFERENCE: str = "twin"
    # The TGI endpoint the deploy creates (names as the book's): instance, GPUs and TGI token limits.
    SAGEMAKER_ENDPOINT_CONFIG_INFERENCE: str = "twin"
    GPU_INSTANCE_TYPE: str = "ml.g5.2xlarge"
    SM_NUM_GPUS: int = Field(default=1, ge=1)
    MAX_INPUT_LENGTH: int = Field(default=2048, ge=1)
    MAX_TOTAL_TOKENS: int = Field(default=4096, ge=2)
    MAX_BATCH_TOTAL_TOKENS: int = Field(default=4096, ge=2)
    TGI_VERSION: str = "3.2.3"
    # Autoscaling of the endpoint's variant: replicas and the invocations per instance the policy aims at.
    SAGEMAKER_MIN_REPLICAS: int = Field(default=1, ge=1)
    SAGEMAKER_MAX_REPLICAS: int = Field(default=2, ge=1)
    SAGEMAKER_TARGET_INVOCATIONS_PER_INSTANCE: float = Field(default=10.0, gt=0)

    _aws_secrets = field_validator("AWS_ACCESS_KEY", "AWS_SECRET_KEY")(_checked_secret)

    @model_validator(mode="after")
    def _endpoint_limits(self) -> "AWSSettings":
        if self.SAGEMAKER_MIN_REPLICAS > self.SAGEMAKER_MAX_REPLICAS:
            raise ValueError("SAGEMAKER_MIN_REPLICAS must not exceed SAGEMAKER_MAX_REPLICAS")
        if self.MAX_INPUT_LENGTH >= self.MAX_TOTAL_TOKENS:
            raise ValueError("MAX_INPUT_LENGTH must be below MAX_TOTAL_TOKENS (TGI refuses to start otherwise)")
        return self


class ServingSettings(_Group):
    """Answering: RAG's retrieval sizes and the REST service's address, key and limits."""

    # RAG (llm-twin ask and the service): chunks per answer, LLM rewrites of the question (unset: 1 with the local
    # model, 3 with a remote LLM_BACKEND), and the context's token cap.
    RAG_TOP_K: int = Field(default=5, ge=1, le=50)
    RAG_EXPAND_TO_N_QUERIES: int | None = Field(default=None, ge=1, le=5)
    RAG_MAX_CONTEXT_TOKENS: int = Field(default=1536, ge=64)

    # The REST service (llm-twin serve). Without API_KEY it binds to loopback only unless API_ALLOW_NO_KEY.
    API_KEY: SecretStr | None = None
    API_HOST: str = "127.0.0.1"
    API_PORT: int = Field(default=8000, ge=1, le=65535)
    API_ALLOW_NO_KEY: bool = False
    API_MAX_INPUT_CHARS: int = Field(default=4000, ge=1)
    API_MAX_MESSAGES: int = Field(default=32, ge=1)
    API_MAX_NEW_TOKENS: int = Field(default=512, ge=1)
    # Repetition controls of every answer: the evaluation's own (EvaluationConfig.generation), so that what is
    # scored is what is served. 1.0 and 0 turn them off (plain greedy decoding).
    API_REPETITION_PENALTY: float = Field(default=1.1, ge=1.0)
    API_NO_REPEAT_NGRAM_SIZE: int = Field(default=4, ge=0)
    API_REQUEST_TIMEOUT_S: float = Field(default=120.0, gt=0)
    API_MAX_CONCURRENT_REQUESTS: int = Field(default=8, ge=1)
    # SageMaker's container contract: GET /ping and POST /invocations (the /rag body) on this port too (8080 in the
    # image). Only this port serves them, and without API_KEY: SageMaker authenticates InvokeEndpoint with IAM.
    API_SAGEMAKER_PORT: int | None = Field(default=None, ge=1, le=65535)
    # The review desk (/review, /api/reviews) asks the registry for newer datasets, and the warehouse for reviews
    # saved elsewhere, at most this often (seconds); in between it lists and counts rows from what it holds.
    API_REVIEW_REFRESH_S: float = Field(default=5.0, ge=0)

    _serving_secrets = field_validator("API_KEY")(_checked_secret)

    def check_service_binding(self) -> None:
        """Refuse to serve beyond this machine without an API key; checked where the service starts, not on load.

        Raises:
            SettingsError: API_HOST is not a loopback address, API_KEY is unset and API_ALLOW_NO_KEY is false.
        """
        if self.API_KEY is None and not self.API_ALLOW_NO_KEY and not _is_loopback(self.API_HOST):
            raise SettingsError(
                f"API_HOST={self.API_HOST} exposes the service beyond this machine without API_KEY; "
                "set API_KEY, bind 127.0.0.1, or set API_ALLOW_NO_KEY=true on purpose"
            )


class CrawlerSettings(_Group):
    """The crawlers: the LinkedIn sign-in and whether private addresses may be crawled."""

    LINKEDIN_USERNAME: str | None = None
    LINKEDIN_PASSWORD: SecretStr | None = None
    CRAWLER_ALLOW_PRIVATE_NETWORKS: bool = False

    _crawler_secrets = field_validator("LINKEDIN_PASSWORD")(_checked_secret)


class Settings(
    StoreSettings,
    EmbeddingSettings,
    LLMSettings,
    TrackingSettings,
    AWSSettings,
    ServingSettings,
    CrawlerSettings,
):
    """Every setting, grouped by concern in its bases, under the same environment variable names as ever.

    Endpoints, secrets and model ids; unset stores mean the embedded local default. A component that needs one
    concern only can take that group (`StoreSettings`, `LLMSettings`, ...) as its type.
    """


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning a validation error into one message per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = ".".join(str(part) for part in item["loc"]) or "settings"
            problems.append(f"{name}: {item['msg']}")
        raise SettingsError("Invalid settings (fix the environment or .env):\n  " + "\n  ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once on first use."""
    return load_settings()
