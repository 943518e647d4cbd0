"""The one place that maps exceptions to HTTP status and error body (CONTRACT.md §1)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from core import exceptions as exc
from core.log import request_id_var
from web.pages import error_page, wants_html_error

logger = logging.getLogger(__name__)

GENERIC_MESSAGE = exc.PixyProxyException.default_message

STATUS_BY_EXCEPTION: dict[type[exc.PixyProxyException], int] = {
    exc.ValidationFailedError: 422,
    exc.RecordNotFoundError: 404,
    exc.IdempotencyConflictError: 409,
    exc.IdempotencyInProgressError: 409,
    exc.ConstraintViolationError: 409,
    exc.AuthenticationError: 401,
    exc.RateLimitedError: 429,
    exc.PromptRejectedError: 422,
    exc.GeneratorRateLimitError: 429,
    exc.GeneratorTimeoutError: 504,
    exc.GenerationError: 502,
    exc.DBConnectionError: 503,
    exc.BlobStoreUnavailableError: 503,
    exc.BlobNotFoundError: 404,
    exc.StorageError: 503,
    exc.RangeNotSatisfiableError: 416,
}

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "authentication"}


class ErrorBody(BaseModel):
    """The error shape every failure uses."""

    error: str
    message: str
    request_id: str
    details: list[dict[str, Any]] | None = None


def status_for(error: exc.PixyProxyException) -> int:
    """The HTTP status of a core exception: the nearest class in the table, else 500."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_EXCEPTION:
            return STATUS_BY_EXCEPTION[cls]
    return 500


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    details: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Build the error body of CONTRACT.md §1 with the current request id."""
    body = ErrorBody(
        error=code, message=message, request_id=request_id_var.get() or "-", details=details
    )
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, headers=dict(headers or {})
    )


def _headers_for(error: exc.PixyProxyException) -> dict[str, str]:
    """Retry-After, WWW-Authenticate and Content-Range where the failure calls for them."""
    headers: dict[str, str] = {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if isinstance(error, exc.AuthenticationError):
        headers["WWW-Authenticate"] = 'Basic realm="pixyproxy"'
    if isinstance(error, exc.RangeNotSatisfiableError):
        headers["Content-Range"] = f"bytes */{error.size}"
    return headers


async def handle_pixyproxy_exception(request: Request, error: Exception) -> Response:
    """Turn any core exception into its status and error body (a page for the gallery)."""
    assert isinstance(error, exc.PixyProxyException)  # noqa: S101 - registered for this type
    status = status_for(error)
    message = error.message if status < 500 or status in (502, 503, 504) else GENERIC_MESSAGE
    if status >= 500:
        logger.warning("request failed: %s", error.code, exc_info=status == 500)
    details = error.details if isinstance(error, exc.ValidationFailedError) else None
    if wants_html_error(request):
        return error_page(request, status, message, details=details, headers=_headers_for(error))
    return error_response(status, error.code, message, details=details, headers=_headers_for(error))


async def handle_request_validation(request: Request, error: Exception) -> Response:
    """FastAPI's own validation errors, in our shape, without echoing the input."""
    assert isinstance(error, RequestValidationError)  # noqa: S101
    details = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in error.errors()
    ]
    if wants_html_error(request):
        return error_page(request, 422, exc.ValidationFailedError.default_message, details=details)
    return error_response(
        422,
        exc.ValidationFailedError.code,
        exc.ValidationFailedError.default_message,
        details=details,
    )


async def handle_http_exception(request: Request, error: Exception) -> Response:
    """Starlette's HTTP errors (unknown route, wrong method, ...) in our shape.

    A browser asking for a page outside the API gets an HTML page instead.
    """
    assert isinstance(error, StarletteHTTPException)  # noqa: S101
    code = _HTTP_CODES.get(error.status_code, "http_error")
    message = error.detail if isinstance(error.detail, str) else "Request failed."
    if wants_html_error(request):
        return error_page(request, error.status_code, message, headers=error.headers)
    return error_response(error.status_code, code, message, headers=error.headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers; the last-resort 500 lives in the request middleware."""
    app.add_exception_handler(exc.PixyProxyException, handle_pixyproxy_exception)
    app.add_exception_handler(RequestValidationError, handle_request_validation)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        401: "Missing or wrong credentials",
        404: "No such image in this scope",
        409: "Conflict",
        422: "Validation failed, or the prompt was rejected",
        429: "Rate limited; see Retry-After",
        500: "Unexpected error",
        502: "Image generator failed",
        503: "Database or blob store unavailable; see Retry-After",
        504: "Image generator timed out",
    }.items()
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented error responses for a route's OpenAPI entry."""
    return {status: ERROR_RESPONSES[status] for status in statuses}
