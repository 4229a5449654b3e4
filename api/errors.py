"""JSON answers for what the routes did not handle: every FormdeskError (a Chinese message
and its HTTP status, `formdesk.model.errors`) by one handler, and a catch-all so an
unexpected error is a JSON 500 with a Chinese reason, never plain text."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from formdesk.model.errors import FormdeskError
from formdesk.services.database import database_errors, database_refusal

log = logging.getLogger("formdesk")

UNEXPECTED = "服务器内部错误,请稍后重试;如果一再出现,请联系管理员(详情已记入服务日志)"


def error_json(reason: str, status: int) -> JSONResponse:
    """The app's error shape: {"reason": <Chinese>, "status": n}."""
    return JSONResponse({"reason": reason, "status": status}, status_code=status)


async def formdesk_error(request: Request, exc: Exception) -> JSONResponse:
    """{"reason", "status"} and the error's details (row problems, the field), with the
    status the error carries; a 5xx is logged (the server's trouble, not the request's)."""
    assert isinstance(exc, FormdeskError)
    status = exc.status
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    body = {"reason": str(exc), "status": status, **exc.details()}
    return JSONResponse(body, status_code=status)


async def unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette raises the error again once this answer is sent: the server (uvicorn) logs
    # its traceback then, so one line here is enough.
    log.error("%s %s failed: %r", request.method, request.url.path, exc)
    return error_json(UNEXPECTED, 500)


async def database_error(request: Request, exc: Exception) -> JSONResponse:
    """PostgreSQL down or refusing: 503 with the reason (services.database)."""
    error = database_refusal(exc)
    log.error("%s %s: %s", request.method, request.url.path, error)
    return error_json(f"{error};请稍后重试或联系管理员", error.status)


def install(app: FastAPI) -> None:
    """Registers the handlers on `app`."""
    app.add_exception_handler(FormdeskError, formdesk_error)
    for driver_error in database_errors():
        app.add_exception_handler(driver_error, database_error)
    app.add_exception_handler(Exception, unexpected)
