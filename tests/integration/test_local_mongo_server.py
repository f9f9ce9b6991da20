"""The embedded Mongo-wire server: auto-start, persistence, clean stop."""

import os
import subprocess
import sys
import time
from pathlib import Path

from llm_engineering.domain.documents import UserDocument
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.local.loopback import free_port
from llm_engineering.infrastructure.local.mongo_server import LocalMongoServer
from llm_engineering.infrastructure.local.processes import pid_alive
from tests.conftest import REPO_ROOT, make_settings


def _survives(pid: int) -> bool:
    """Alive and not a zombie; a reparented server is reaped by init a moment after it exits."""
    deadline = time.monotonic() + 3
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return pid_alive(pid)


def test_first_use_starts_the_server_and_data_persists(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", LOCAL_DATABASE_PORT=free_port())
    server = LocalMongoServer.from_settings(settings)
    assert not server.is_running()
    try:
        warehouse = MongoDataWarehouse.from_settings(settings)  # nothing listening: starts it
        pid = server.pid()
        assert pid is not None and server.is_running()
        warehouse.upsert_user(UserDocument.from_full_name("Maya Okafor"))
        assert server.stop()
        assert not _survives(pid) and not server.is_running()
        assert not server.pid_file.exists()
        again = MongoDataWarehouse.from_settings(settings)
        assert [u.full_name for u in again.list_users()] == ["Maya Okafor"]
    finally:
        server.stop()
    assert server.stop() is False


def test_cli_up_and_down_leave_no_process(tmp_path: Path) -> None:
    env = dict(os.environ, DATA_DIR=str(tmp_path / "data"), LOCAL_DATABASE_PORT=str(free_port()))
    env.pop("DATABASE_HOST", None)

    def run(action: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "tools", "infra", action],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    assert "started" in run("up")
    assert "already running" in run("up")
    pid = int((tmp_path / "data" / "run" / "mongo.pid").read_text())
    assert pid_alive(pid)
    assert "running" in run("status")
    assert "stopped" in run("down")
    assert not _survives(pid)
    assert "No local Mongo-wire server" in run("down")
