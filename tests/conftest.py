"""Shared fixtures: a real Mongo-wire server (SecantusDB) and Qdrant in local mode."""

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports ZenML, Opik or the Hub: keep every test offline and out of the user's home.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="llm-twin-tests-"))
os.environ.setdefault("OPIK_TRACK_DISABLE", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["ZENML_CONFIG_PATH"] = str(_SESSION_DIR / "zenml")
os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")

from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse, connect_mongo  # noqa: E402
from llm_engineering.infrastructure.db.qdrant import QdrantVectorStore  # noqa: E402
from llm_engineering.infrastructure.local.mongo_server import LocalMongoServer  # noqa: E402
from llm_engineering.settings import Settings, load_settings  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO_ROOT / "data" / "sample"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings that ignore the developer's .env and environment-chosen stores."""
    values: dict[str, object] = {"_env_file": None, "DATA_DIR": data_dir, "DATABASE_HOST": None}
    values.update(overrides)
    return load_settings(**values)


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
def vector_store(settings: Settings) -> Iterator[QdrantVectorStore]:
    store = QdrantVectorStore.from_settings(settings)
    yield store
    store.close()


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
def pipeline_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Point in-process pipeline runs (ZenML steps read get_settings()) at the test's stores."""
    from llm_engineering.settings import get_settings

    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LOCAL_DATABASE_PORT", str(settings.LOCAL_DATABASE_PORT))
    monkeypatch.setenv("DATABASE_NAME", settings.DATABASE_NAME)
    for name in ("DATABASE_HOST", "QDRANT_DATABASE_HOST", "USE_QDRANT_CLOUD"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


from tests.fixture_site import FixtureSite, make_git_mirror  # noqa: E402


@pytest.fixture
def fixture_site() -> Iterator[FixtureSite]:
    """The crawler tests' web site on 127.0.0.1: articles, a LinkedIn-like feed, and the failure cases."""
    site = FixtureSite.start()
    yield site
    site.stop()


@pytest.fixture
def git_mirror(tmp_path: Path) -> Path:
    """A local git "github.com" (file:// clones) holding mayaokafor/tiny-feature-store."""
    return make_git_mirror(tmp_path / "git-mirror")
