"""JSON answers for what the routes did not handle: store errors by kind, and a catch-all
so an unexpected error is a JSON 500 with a Chinese reason, never plain text."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from formdesk.store import (
    ConflictError,
    DamagedFileError,
    DiskFullError,
    NotFoundError,
    StoreError,
)

log = logging.getLogger("formdesk")

UNEXPECTED = "服务器内部错误,请稍后重试;如果一再出现,请联系管理员(详情已记入服务日志)"
# most specific first: the first class an error is an instance of gives the status
STATUS: list[tuple[type[StoreError], int]] = [
    (DiskFullError, 507),  # Insufficient Storage
    (DamagedFileError, 503),
    (NotFoundError, 404),
    (ConflictError, 409),
    (StoreError, 500),
]


def error_json(reason: str, status: int) -> JSONResponse:
    """The app's error shape: {"reason": <Chinese>, "status": n}."""
    return JSONResponse({"reason": reason, "status": status}, status_code=status)


async def store_error(request: Request, exc: Exception) -> JSONResponse:
    status = next(code for kind, code in STATUS if isinstance(exc, kind))
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    return error_json(str(exc), status)


async def unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette raises the error again once this answer is sent: the server (uvicorn) logs
    # its traceback then, so one line here is enough.
    log.error("%s %s failed: %r", request.method, request.url.path, exc)
    return error_json(UNEXPECTED, 500)


def install(app: FastAPI) -> None:
    """Registers both handlers on `app`."""
    app.add_exception_handler(StoreError, store_error)
    app.add_exception_handler(Exception, unexpected)
