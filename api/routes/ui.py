"""The web pages: Chinese first, plain HTML from Jinja2 templates plus a little local JS.

Pages only lay things out; everything they show or change goes through the JSON API
(the scripts take the CSRF token from GET /api/me).  Signing in and out are plain form
posts here, so they work before any script has loaded; signing out needs the session's
CSRF token like every other change.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from formdesk.model.errors import NotFoundError
from formdesk.services.batches import visible_batch
from formdesk.services.records import visible_record
from formdesk.services.stations import own_station, stations_to_choose
from formdesk.services.stores import Store

from ..deps import get_store, optional_principal
from ..principal import ROLE_LABELS, Principal
from ..sessions import clear_cookie, current_session, end_session
from .auth import sign_in

WEB = Path(__file__).resolve().parent.parent / "web"
templates = Jinja2Templates(directory=WEB / "templates")
router = APIRouter(include_in_schema=False)

NAV = [
    ("/", "desk", "工作台"),
    ("/upload", "upload", "上传"),
    ("/review", "review", "复核"),
    ("/records", "records", "记录"),
    ("/reconcile", "reconcile", "核对"),
    ("/summary", "summary", "月报"),
]
NAV_PRINT = ("/print", "print", "打印")
NAV_CLAIMS = ("/claims", "claims", "索赔单")  # back office and auditors
NAV_USERS = ("/users", "users", "用户")  # back office only
NAV_LAYOUTS = ("/layouts", "layouts", "表单版式")  # back office only
NAV_HISTORY = ("/history", "history", "识读词库")  # back office only


def nav_for(who: Principal) -> list[tuple[str, str, str]]:
    """The navigation `who`'s role sees: 索赔单 for the back office and auditors; 用户,
    表单版式 and 识读词库 for the back office."""
    extra = {
        "back_office": [NAV_CLAIMS, NAV_USERS, NAV_LAYOUTS, NAV_HISTORY],
        "auditor": [NAV_CLAIMS],
    }.get(who.role, [])
    return NAV + [NAV_PRINT] + extra


def static_files() -> StaticFiles:
    """The pages' own CSS and JS (app.mount("/static", ...)); nothing comes from a CDN."""
    return StaticFiles(directory=WEB / "static")


def _safe_next(target: str | None) -> str:
    """Only a path of this site (never //host or a scheme) is followed after signing in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _to_login(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(here, safe='')}", status_code=303)


def _page(
    request: Request,
    who: Principal,
    name: str,
    active: str,
    store: Store | None = None,
    status_code: int = 200,
    **context: object,
) -> HTMLResponse:
    stations, own = [], None
    if store is not None:
        stations = [s.model_dump() for s in stations_to_choose(store, who)]
        own = own_station(store, who)  # a station user's code and name: 打印 prefills them
    session = current_session(request, request.app.state.store)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "who": who,
            "role_label": ROLE_LABELS[who.role],
            "can_write": who.can_write,
            "csrf": session.csrf if session is not None else "",
            "nav": nav_for(who),
            "active": active,
            "stations": stations,
            "own_station": own,
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request, next: str = "/", who: Principal | None = Depends(optional_principal)
) -> Response:
    if who is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return templates.TemplateResponse(
        request, "login.html", {"next": _safe_next(next), "error": None, "username": ""}
    )


@router.post("/login", response_class=HTMLResponse)
async def login_form(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    store: Store = Depends(get_store),
) -> Response:
    """The sign-in form: 401 with the page again for a wrong name or password, 429 (and
    Retry-After) with the wait while the name or the address is locked out, 503 (and
    Retry-After) while too many checks are pending (api.signin)."""
    error, status, headers = None, 401, None
    response = RedirectResponse(_safe_next(next), status_code=303)
    if not username.strip() or not password:
        error = "请输入用户名和密码"
    else:
        try:
            await sign_in(request, response, store, username, password)
        except HTTPException as exc:
            error, status, headers = str(exc.detail), exc.status_code, exc.headers
    if error:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"next": _safe_next(next), "error": error, "username": username},
            status_code=status,
            headers=headers,
        )
    return response


@router.post("/logout")
def logout_form(
    request: Request, csrf: str = Form(""), store: Store = Depends(get_store)
) -> Response:
    """Signs out (the session row is deleted) if the form carries the session's CSRF
    token; a post without it (another site's form) changes nothing and goes home."""
    session = current_session(request, store)
    if session is not None and not hmac.compare_digest(csrf.encode(), session.csrf.encode()):
        return RedirectResponse("/", status_code=303)
    end_session(request, store)
    response = RedirectResponse("/login", status_code=303)
    clear_cookie(response, request.app.state.settings)
    return response


@router.get("/review/{record_id}", response_class=HTMLResponse)
def review_page(
    request: Request,
    record_id: str,
    who: Principal | None = Depends(optional_principal),
    store: Store = Depends(get_store),
) -> Response:
    if who is None:
        return _to_login(request)
    try:
        visible_record(store, who, record_id)  # a damaged one too: the page says why
    except NotFoundError:
        return _page(
            request,
            who,
            "error.html",
            "review",
            status_code=404,
            title="找不到这条记录",
            message="这条记录不存在,或不属于您的维修站。",
        )
    return _page(request, who, "review.html", "review", store, record_id=record_id)


def _simple_page(template: str, nav: str):
    """A page that needs only a signed-in user; its script fetches the data."""

    def page(
        request: Request,
        who: Principal | None = Depends(optional_principal),
        store: Store = Depends(get_store),
    ) -> Response:
        if who is None:
            return _to_login(request)
        return _page(request, who, template, nav, store)

    return page


@router.get("/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(
    request: Request,
    batch_id: str,
    who: Principal | None = Depends(optional_principal),
    store: Store = Depends(get_store),
) -> Response:
    """批次: an upload's files, records and refused pages (404 page for one not seen)."""
    if who is None:
        return _to_login(request)
    try:
        visible_batch(store, who, batch_id)
    except NotFoundError:
        return _page(
            request,
            who,
            "error.html",
            "upload",
            status_code=404,
            title="找不到这个批次",
            message="这个批次不存在,或不属于您的维修站。",
        )
    return _page(request, who, "batch.html", "upload", store, batch_id=batch_id)


def _back_office_page(template: str, nav: str, refusal: str):
    """A page of the back office's only; anyone else gets a 403 page saying `refusal`."""

    def page(
        request: Request,
        who: Principal | None = Depends(optional_principal),
        store: Store = Depends(get_store),
    ) -> Response:
        if who is None:
            return _to_login(request)
        if who.role != "back_office":
            return _page(
                request,
                who,
                "error.html",
                nav,
                status_code=403,
                title="无权访问",
                message=refusal,
            )
        return _page(request, who, template, nav, store)

    return page


# 用户 and 设置
router.add_api_route(
    "/users",
    _back_office_page("users.html", "users", "用户和设置只有售后服务部(后台)用户可以管理。"),
    methods=["GET"],
    response_class=HTMLResponse,
    include_in_schema=False,
    name="users_page",
)
# 表单版式: layouts registered from scans (issue 13)
router.add_api_route(
    "/layouts",
    _back_office_page("layouts.html", "layouts", "表单版式只有售后服务部(后台)用户可以管理。"),
    methods=["GET"],
    response_class=HTMLResponse,
    include_in_schema=False,
    name="layouts_page",
)
# 识读词库: the values the reader reads text fields against (issue 10)
router.add_api_route(
    "/history",
    _back_office_page("history.html", "history", "识读词库只有售后服务部(后台)用户可以管理。"),
    methods=["GET"],
    response_class=HTMLResponse,
    include_in_schema=False,
    name="history_page",
)


for _path, _template, _nav in (
    ("/", "desk.html", "desk"),  # 工作台: the first page of every role
    ("/upload", "upload.html", "upload"),  # 上传
    ("/refusals", "refusals.html", "upload"),  # 待处理页面
    ("/review", "queue.html", "review"),  # 复核队列
    ("/print", "print.html", "print"),  # 打印
    ("/records", "records.html", "records"),  # 记录
    ("/reconcile", "reconcile.html", "reconcile"),  # 核对
    ("/summary", "summary.html", "summary"),  # 月报
    ("/account", "account.html", "account"),  # 账户: password, API tokens
    ("/claims", "claims.html", "claims"),  # 索赔单 and their imports
):
    router.add_api_route(
        _path,
        _simple_page(_template, _nav),
        methods=["GET"],
        response_class=HTMLResponse,
        include_in_schema=False,
        name=f"{_nav}_page",
    )
