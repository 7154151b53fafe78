"""The one place where errors become JSON responses."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from graph.errors import CreditlinkError, Overloaded
from graph.privacy import mask_error_payload

log = logging.getLogger("creditlink.api")


def error_body(code: str, message: str, details: object | None = None) -> dict[str, object]:
    body: dict[str, object] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def _sees_id_numbers(request: Request) -> bool:
    # Decided from the principal the auth dependency stored on the request,
    # not from a context variable: error handlers may run outside the task
    # that ran the dependency. No principal (401, unknown route): masked.
    principal = getattr(request.state, "principal", None)
    return bool(principal is not None and principal.sees_id_numbers)


def _json(
    request: Request,
    body: dict[str, object],
    status_code: int,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    # Errors echo what the caller sent (a key in a path, a value in a body):
    # masked like every other payload, and more strictly (15-digit numbers too).
    if not _sees_id_numbers(request):
        body = mask_error_payload(body)
    return JSONResponse(body, status_code=status_code, headers=dict(headers) if headers else None)


def error_headers(exc: CreditlinkError) -> dict[str, str] | None:
    if exc.status == 401:
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, Overloaded):
        return {"Retry-After": str(max(1, exc.retry_after_s))}
    return None


def creditlink_response(request: Request, exc: CreditlinkError) -> JSONResponse:
    """The JSON answer for one of our errors: what ``public()`` allows callers to
    see, masked for roles that may not see ID numbers."""
    message, details = exc.public()
    return _json(
        request, error_body(exc.code, message, details or None), exc.status, error_headers(exc)
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CreditlinkError)
    async def _creditlink(request: Request, exc: CreditlinkError) -> JSONResponse:
        return creditlink_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"location": list(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()
        ]
        return _json(
            request, error_body("invalid_request", "the request is not valid", problems), 422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error"
        )
        return _json(request, error_body(code, str(exc.detail)), exc.status_code, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Never leak a traceback (it may hold personal data); the log keeps it.
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "an internal error occurred; it has been logged"),
            status_code=500,
        )
