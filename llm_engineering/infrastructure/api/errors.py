"""Every error leaves the service as one JSON shape (OpenAI's, plus the request id); internals stay in the logs."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from loguru import logger
from starlette.exceptions import HTTPException as StarletteHTTPException

from llm_engineering.infrastructure.api.request_log import REQUEST_ID_HEADER, request_id_of
from llm_engineering.infrastructure.api.schemas import ErrorBody, ErrorDetail

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    502: "upstream_error",
    503: "service_unavailable",
    504: "timeout_error",
}


def error_response(
    request: Request,
    status: int,
    message: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The JSON error body for `status`, carrying the request id in the body and the X-Request-ID header."""
    request_id = request_id_of(request.scope)
    detail = ErrorDetail(
        message=message, type=ERROR_TYPES.get(status, "error"), code=status, request_id=request_id, errors=errors
    )
    return JSONResponse(
        ErrorBody(error=detail).model_dump(exclude_none=True),
        status_code=status,
        headers={**(headers or {}), REQUEST_ID_HEADER: request_id},
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, StarletteHTTPException):
        raise error
    message = error.detail if isinstance(error.detail, str) else "request failed"
    if error.status_code == 404 and message == "Not Found":
        message = f"No route {request.method} {request.url.path}; see /docs for the routes."
    return error_response(request, error.status_code, message, headers=dict(error.headers or {}))


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, RequestValidationError):
        raise error
    # The submitted values are left out: they can be long, and they are the caller's own.
    errors = [
        {"loc": [str(part) for part in item.get("loc", ())], "msg": str(item.get("msg", "")), "type": item.get("type")}
        for item in error.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"][1:] or first["loc"])
    return error_response(request, 422, f"Invalid request body: {where}: {first['msg']}", errors=errors)


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.opt(exception=error).error(
        "unhandled error in {} {} (request {})", request.method, request.url.path, request_id_of(request.scope)
    )
    return error_response(request, 500, "Internal error; the service log has the details under this request id.")


def install_error_handlers(app: FastAPI) -> None:
    """Route HTTP errors, validation errors and anything unexpected to the one JSON error shape."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
