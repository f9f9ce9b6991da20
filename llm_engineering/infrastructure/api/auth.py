"""Bearer API-key check, in constant time, for every route but /health and the static page."""

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="API_KEY of the service")


def require_api_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """401 unless the request carries `Authorization: Bearer <API_KEY>` (no check when no key is configured)."""
    expected: bytes | None = request.app.state.api_key
    if expected is None:
        return
    given = credentials.credentials.encode() if credentials is not None else b""
    if not secrets.compare_digest(given, expected):
        raise HTTPException(
            status_code=401,
            detail="Missing or wrong API key: send `Authorization: Bearer <API_KEY>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
