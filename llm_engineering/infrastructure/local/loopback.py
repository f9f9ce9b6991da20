"""Servers on 127.0.0.1 for the length of a block: a free port, and an ASGI app served by uvicorn in a thread.

The benchmarks and the tests start the service (and stand-ins for what it calls) this way, in their own process.
"""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(app: Any, port: int, *, start_timeout_s: float = 20) -> Iterator[str]:
    """Serve the ASGI `app` on 127.0.0.1:port until the block ends; yields the base URL once uvicorn has started.

    RuntimeError when it has not started within `start_timeout_s` (the port taken, the app failing at start-up).
    """
    import uvicorn

    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError(f"the server on 127.0.0.1:{port} did not start within {start_timeout_s:g} s")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
