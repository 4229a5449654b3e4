"""The web service: FastAPI wiring of store, reader, renderer and the routes.

`create_app` opens the store, makes the first admin if there is no user yet, starts the
background reader (after re-queuing what a crash left half-read) and mounts the routes.
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from formdesk.services.accounts import ensure_admin
from formdesk.services.login_guard import LoginGuard
from formdesk.services.password_work import PasswordWork
from formdesk.services.runtime import build_runtime
from formdesk.settings import Settings

from . import errors, multipart, validation
from .headers import SecurityHeaders
from .limits import BodyLimit
from .origin import SameOrigin
from .routes import (
    account,
    auth,
    claims,
    desk,
    exports,
    health,
    history,
    layouts,
    printing,
    reconcile,
    records,
    ui,
    uploads,
    users,
)
from .textguard import TextGuard, guard_form

log = logging.getLogger("formdesk")
# Starlette's own English reasons, said in Chinese
GENERIC = {
    "Not Found": "找不到这个地址",
    "Method Not Allowed": "这个地址不支持这种请求方法",
    "There was an error parsing the body": "请求内容无法解析",
}


def create_app(
    data_dir: Path | None = None,
    *,
    start_worker: bool = True,
    max_request_bytes: int | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """The service on the data folder `data_dir` (else settings.data_dir, else
    FORMDESK_DATA_DIR or ./data); `settings` default to `Settings.from_env()`."""
    overrides = {} if max_request_bytes is None else {"max_request_bytes": max_request_bytes}
    if settings is None:
        settings = Settings.from_env(data_dir, **overrides)
    else:
        settings = replace(settings, **overrides)
        if data_dir is not None:
            settings = replace(settings, data_dir=Path(data_dir))
    multipart.install()  # long file names and nameless files in uploads (api.multipart)
    runtime = build_runtime(settings, start_worker=start_worker)
    store = runtime.store

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime.start()
        yield
        runtime.close()

    app = FastAPI(
        title="formdesk 售后表单服务",
        version="0.1.0",
        lifespan=lifespan,
        description="上传扫描件、复核识读结果、打印空白或预填表单。",
        dependencies=[Depends(guard_form)],
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.store = store
    app.state.key = runtime.key
    app.state.engine = runtime.engine
    app.state.ingest_limits = runtime.ingest_limits
    app.state.page_cache = {}
    # reading: a thread of this process on TinyDB; on PostgreSQL, worker processes on the
    # job queue (services/read_queue.py), here and on any machine running `formdesk worker`
    app.state.reader = runtime.reader
    app.state.worker = runtime.worker
    # page counts of uploads and PDF rendering: off the event loop, in processes that a
    # hostile file can only take down with itself (services.runtime)
    app.state.inspect_pool = runtime.inspect_pool
    app.state.tables_pool = runtime.tables_pool
    app.state.render_pool = runtime.render_pool
    app.state.batch_pool = runtime.batch_pool
    app.state.print_jobs = runtime.print_jobs
    # 表单版式: proposals from uploaded scans, made in their own pool, held as drafts
    app.state.layout_drafts = runtime.layout_drafts
    app.state.worker_wake = app.state.worker.wake.set
    app.state.first_password = ensure_admin(store)
    app.state.report_slots = threading.BoundedSemaphore(reconcile.REPORT_SLOTS)

    # sign-in: every check counted first, per name and address; the argon2 work bounded;
    # sessions live in the store (api.sessions)
    app.state.login_guard = LoginGuard(
        settings.login_max_failures, settings.login_ip_max_failures, settings.login_window_s
    )
    app.state.password_work = PasswordWork(settings.login_checks, settings.login_queue)
    app.add_middleware(TextGuard)  # odd text refused (422) before any route sees it
    # sign-ins and session-cookie changes from another site's pages refused (403)
    app.add_middleware(SameOrigin, trust_forwarded_host=settings.trust_forwarded_host)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: every answer, 413 and 422 included

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        too_large = request.scope.get("state", {}).get("body_too_large")
        if too_large:
            return JSONResponse({"reason": too_large, "status": 413}, status_code=413)
        reason = exc.detail
        if isinstance(reason, str):
            reason = GENERIC.get(reason) or multipart.reason(reason) or reason
        return JSONResponse(
            {"reason": reason, "status": exc.status_code},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        ctype = request.headers.get("content-type", "")
        if request.url.path == "/api/uploads" and not ctype.startswith("multipart/form-data"):
            return JSONResponse(
                {"reason": "请用 multipart/form-data 上传文件(字段名 files)", "status": 415},
                status_code=415,
            )
        return JSONResponse(
            {"reason": validation.reason(exc.errors()), "status": 422}, status_code=422
        )

    errors.install(app)
    for module in (
        health, auth, uploads, records, desk, printing, exports, claims, reconcile, users,
        layouts, history, ui
    ):  # fmt: skip
        app.include_router(module.router)
    app.include_router(account.router)
    app.mount("/static", ui.static_files(), name="static")
    return app
