"""Pure ASGI middleware: a request id for every request and one structured log line when it ends."""

import re
import time
import uuid
from collections.abc import MutableMapping
from typing import Any

from loguru import logger
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id_of(scope: MutableMapping[str, Any]) -> str:
    """The id this middleware gave the request ("-" outside it)."""
    state = scope.get("state") or {}
    return str(state.get("request_id", "-"))


class RequestLogMiddleware:
    """Tags each HTTP request with an id (a sane incoming X-Request-ID, or a new one) and logs it once.

    The line has method, path (never the query string), status, duration and the id; headers such as
    Authorization are never logged. Streams are logged when they end, with their real duration.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Tag each HTTP request with an X-Request-ID, then log its method, path, status and duration."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1")
        request_id = incoming if _CLIENT_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            fields = {
                "request_id": request_id,
                "method": scope.get("method", ""),
                "path": scope.get("path", ""),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "client": (scope.get("client") or ("-", 0))[0],
            }
            logger.bind(http=fields).info(" ".join(f"{key}={value}" for key, value in fields.items()))
