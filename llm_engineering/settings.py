"""All configuration read from the environment / `.env`. Nothing is read at import time."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from llm_engineering.domain.exceptions import SettingsError

PLACEHOLDERS = {"changeme", "change-me", "your-key-here", "xxx", "todo", "<secret>", "none"}


class Settings(BaseSettings):
    """Endpoints, secrets and model ids. Unset stores mean the embedded local default."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

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

    # Models.
    TEXT_EMBEDDING_MODEL_ID: str = "sentence-transformers/all-MiniLM-L6-v2"
    RERANKING_CROSS_ENCODER_MODEL_ID: str = "cross-encoder/ms-marco-MiniLM-L-4-v2"
    RAG_MODEL_DEVICE: str = "cpu"
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

    # Experiment tracking and prompt monitoring.
    COMET_API_KEY: SecretStr | None = None
    COMET_WORKSPACE: str | None = None
    COMET_PROJECT: str = "twin"
    OPIK_API_KEY: SecretStr | None = None
    OPIK_WORKSPACE: str | None = None
    OPIK_PROJECT: str = "twin"

    # AWS / SageMaker.
    AWS_REGION: str = "eu-central-1"
    AWS_ACCESS_KEY: SecretStr | None = None
    AWS_SECRET_KEY: SecretStr | None = None
    AWS_ARN_ROLE: str | None = None
    SAGEMAKER_ENDPOINT_INFERENCE: str = "twin"

    # Crawlers.
    LINKEDIN_USERNAME: str | None = None
    LINKEDIN_PASSWORD: SecretStr | None = None
    CRAWLER_ALLOW_PRIVATE_NETWORKS: bool = False

    @field_validator(
        "OPENAI_API_KEY",
        "HUGGINGFACE_ACCESS_TOKEN",
        "COMET_API_KEY",
        "OPIK_API_KEY",
        "QDRANT_APIKEY",
        "AWS_ACCESS_KEY",
        "AWS_SECRET_KEY",
        "LINKEDIN_PASSWORD",
    )
    @classmethod
    def _no_placeholder_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value().strip()
        if not secret:
            return None
        if secret.lower() in PLACEHOLDERS or (secret.startswith("<") and secret.endswith(">")):
            raise ValueError("is a placeholder; set the real secret or remove the variable")
        return value

    @field_validator("DATABASE_HOST")
    @classmethod
    def _mongo_uri(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must be a MongoDB URI starting with mongodb:// or mongodb+srv://")
        return value

    @field_validator("QDRANT_DATABASE_HOST", "QDRANT_CLOUD_URL", "OPENAI_BASE_URL")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value if value and value.strip() else None

    @model_validator(mode="after")
    def _cloud_needs_url(self) -> "Settings":
        if self.USE_QDRANT_CLOUD and not self.QDRANT_CLOUD_URL:
            raise ValueError("USE_QDRANT_CLOUD=true needs QDRANT_CLOUD_URL (and usually QDRANT_APIKEY)")
        if self.LLM_BACKEND == "openai" and self.OPENAI_API_KEY is None and self.OPENAI_BASE_URL is None:
            raise ValueError("LLM_BACKEND=openai needs OPENAI_API_KEY or OPENAI_BASE_URL (a local server)")
        return self

    @property
    def data_dir(self) -> Path:
        """DATA_DIR as an absolute path."""
        return self.DATA_DIR.expanduser().resolve()

    @property
    def uses_embedded_mongo(self) -> bool:
        return self.DATABASE_HOST is None

    @property
    def mongo_uri(self) -> str:
        """The URI to connect to: DATABASE_HOST, or the embedded server on loopback."""
        return self.DATABASE_HOST or f"mongodb://127.0.0.1:{self.LOCAL_DATABASE_PORT}"

    @property
    def qdrant_backend(self) -> Literal["local", "server", "cloud"]:
        if self.USE_QDRANT_CLOUD:
            return "cloud"
        return "server" if self.QDRANT_DATABASE_HOST else "local"


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
