"""Start, stop or inspect the embedded local infrastructure (the Mongo-wire server).

llm-twin infra up | down | status
"""

import sys
from enum import StrEnum
from typing import Annotated

import typer

from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.infrastructure.local.mongo_server import LocalMongoServer
from llm_engineering.settings import get_settings
from tools.cli_logging import configure_logging


class InfraAction(StrEnum):
    """What to do with the embedded Mongo-wire server."""

    UP = "up"
    DOWN = "down"
    STATUS = "status"


def infra(action: Annotated[InfraAction, typer.Argument(help="up, down or status")]) -> int:
    """Start, stop or inspect the embedded local infrastructure (the Mongo-wire server, data in DATA_DIR)."""
    configure_logging()
    settings = get_settings()
    if not settings.uses_embedded_mongo:
        print(f"DATABASE_HOST is set: MongoDB is remote, nothing local to {action.value}.")
        return 0
    server = LocalMongoServer.from_settings(settings)
    try:
        if action is InfraAction.UP:
            started = server.start()
            state = "started" if started else "already running"
            print(f"Mongo-wire server {state} at {server.uri} (data: {server.storage_path})")
        elif action is InfraAction.DOWN:
            stopped = server.stop()
            print(
                "Mongo-wire server stopped."
                if stopped
                else "No local Mongo-wire server was running from this data directory."
            )
        else:
            state = "running" if server.is_running() else "stopped"
            print(f"Mongo-wire server {state} at {server.uri} (pid {server.pid()}, data: {server.storage_path})")
    except LLMTwinError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
