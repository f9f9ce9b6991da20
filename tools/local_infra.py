"""Start, stop or inspect the embedded local infrastructure (the Mongo-wire server).

python -m tools.local_infra up | down | status
"""

import argparse
import sys

from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.infrastructure.local.mongo_server import LocalMongoServer
from llm_engineering.settings import get_settings
from tools.cli_logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.local_infra", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["up", "down", "status"])
    args = parser.parse_args(argv)
    configure_logging()
    settings = get_settings()
    if not settings.uses_embedded_mongo:
        print(f"DATABASE_HOST is set: MongoDB is remote, nothing local to {args.action}.")
        return 0
    server = LocalMongoServer.from_settings(settings)
    try:
        if args.action == "up":
            started = server.start()
            state = "started" if started else "already running"
            print(f"Mongo-wire server {state} at {server.uri} (data: {server.storage_path})")
        elif args.action == "down":
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


if __name__ == "__main__":
    sys.exit(main())
