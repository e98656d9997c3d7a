"""The one table from errors to HTTP: TMF630 Error bodies (`code`, `reason`, `message`, `status`, `@type`).
Anything unexpected is logged with its traceback and answered with a plain 500 body, never a trace."""

from __future__ import annotations

import logging

import msgspec
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from troubleflow import errors

log = logging.getLogger(__name__)

JSON = "application/json;charset=utf-8"

_TABLE: dict[type[errors.TroubleflowError], tuple[int, str]] = {
    errors.NotFound: (404, "Not Found"),
    errors.InvalidInput: (400, "Bad Request"),
    errors.InvalidTransition: (409, "Illegal status transition"),
    errors.Conflict: (409, "Conflict"),
    errors.PreconditionFailed: (412, "Precondition Failed"),
    errors.Forbidden: (403, "Forbidden"),
    errors.Unsupported: (501, "Not Implemented"),
}
_HTTP_REASONS = {
    404: "Not Found",
    405: "Method Not Allowed",
    415: "Unsupported Media Type",
    400: "Bad Request",
    413: "Payload Too Large",
}


def error_response(status: int, code: str, reason: str, message: str) -> Response:
    body = {"@type": "Error", "code": code, "reason": reason, "message": message, "status": str(status)}
    return Response(msgspec.json.encode(body), status_code=status, media_type=JSON)


def for_error(exc: errors.TroubleflowError) -> Response:
    for cls in type(exc).__mro__:
        if cls in _TABLE:
            status, reason = _TABLE[cls]
            return error_response(status, exc.code, reason, exc.message)
    return error_response(500, "internalError", "Internal Server Error", "unexpected error")


def install(app: FastAPI) -> None:
    async def on_domain(_req: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.TroubleflowError)
        return for_error(exc)

    async def on_validation(_req: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in {"body", "query", "path"})
        return error_response(400, "invalidInput", "Bad Request", f"'{where}': {first.get('msg', '')}")

    async def on_http(_req: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        reason = _HTTP_REASONS.get(exc.status_code, "Error")
        response = error_response(
            exc.status_code,
            reason.replace(" ", "")[0].lower() + reason.replace(" ", "")[1:],
            reason,
            str(exc.detail),
        )
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def on_unexpected(req: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", req.method, req.url.path)
        return error_response(
            500,
            "internalError",
            "Internal Server Error",
            "the server met an unexpected condition; it has been logged",
        )

    app.add_exception_handler(errors.TroubleflowError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
