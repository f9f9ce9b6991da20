"""Start and stop the embedded MongoDB-wire server (SecantusDB) that backs the default setup."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from llm_engineering.domain.exceptions import LocalInfrastructureError
from llm_engineering.infrastructure.local.processes import pid_alive
from llm_engineering.settings import Settings

SERVER_COMMAND = "secantusd-py"


def _server_executable() -> str:
    """The server script next to this interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / SERVER_COMMAND
    if beside.exists():
        return str(beside)
    found = shutil.which(SERVER_COMMAND)
    if found is None:
        raise LocalInfrastructureError(
            f"{SERVER_COMMAND} is not installed. Run `make setup` (it installs the secantusdb package)."
        )
    return found


def port_is_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


@dataclass(frozen=True)
class LocalMongoServer:
    """The embedded server for one data directory and port; the pid file makes stop() exact."""

    data_dir: Path
    port: int
    host: str = "127.0.0.1"

    @classmethod
    def from_settings(cls, settings: Settings) -> "LocalMongoServer":
        """The server for the settings' data folder and local database port."""
        return cls(data_dir=settings.data_dir, port=settings.LOCAL_DATABASE_PORT)

    @property
    def storage_path(self) -> Path:
        """The folder mongod keeps its data in."""
        return self.data_dir / "mongo"

    @property
    def pid_file(self) -> Path:
        """The file holding the running mongod's process id."""
        return self.data_dir / "run" / "mongo.pid"

    @property
    def log_file(self) -> Path:
        """The file mongod logs to."""
        return self.data_dir / "logs" / "mongo.log"

    @property
    def uri(self) -> str:
        """The connection URI of this server."""
        return f"mongodb://{self.host}:{self.port}"

    def is_running(self) -> bool:
        """Whether something accepts connections on the server's port."""
        return port_is_open(self.host, self.port)

    def pid(self) -> int | None:
        """The pid recorded by start(), if that process is still alive."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def start(self, timeout: float = 30.0) -> bool:
        """Start the server unless something already listens; returns True if this call started it."""
        if self.is_running():
            if self.pid() is None:
                # Not started from this data directory: another project, or a server started by hand.
                logger.warning(
                    "Something already listens on {} but it was not started from {}; using it as is. "
                    "Set LOCAL_DATABASE_PORT to give this data directory a server of its own.",
                    self.uri,
                    self.data_dir,
                )
            return False
        for folder in (self.storage_path, self.pid_file.parent, self.log_file.parent):
            folder.mkdir(parents=True, exist_ok=True)
        command = [
            _server_executable(),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--storage-path",
            str(self.storage_path),
            "--standalone",
            "--log-level",
            "WARNING",
        ]
        with self.log_file.open("ab") as log:
            # A session of its own: the server outlives the command that started it, by design.
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_running():
                logger.info(
                    "Started the local Mongo-wire server (pid {}) on {} with data in {}",
                    process.pid,
                    self.uri,
                    self.storage_path,
                )
                return True
            if process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise LocalInfrastructureError(
            f"The local Mongo-wire server did not start on {self.uri} within {timeout:.0f}s; see {self.log_file}."
        )

    def stop(self, timeout: float = 15.0) -> bool:
        """Stop the server recorded in the pid file; returns True if one was stopped."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            self._reap(pid)
            time.sleep(0.05)
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        self._reap(pid)
        self.pid_file.unlink(missing_ok=True)
        logger.info("Stopped the local Mongo-wire server (pid {}).", pid)
        return True

    @staticmethod
    def _reap(pid: int) -> None:
        # Only our own children can be reaped; for others waitpid raises and that is fine.
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


def ensure_local_mongo(settings: Settings) -> None:
    """Start the embedded server when the settings use it and nothing listens on its port."""
    if settings.uses_embedded_mongo:
        LocalMongoServer.from_settings(settings).start()
