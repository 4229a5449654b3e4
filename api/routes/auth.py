"""Signing in and out, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from formdesk.model.accounts import User, UserSession
from formdesk.services.stores import Store

from ..deps import current_principal, get_store
from ..principal import ROLE_LABELS, Principal
from ..sessions import clear_cookie, current_session, end_session, start_session
from ..signin import authenticate

router = APIRouter(prefix="/api", tags=["auth"])


class Me(BaseModel):
    """Who is signed in: name, role (and its Chinese label), station; the session's CSRF
    token (browser sessions) or the token's scope (API tokens)."""

    username: str
    role: str
    role_label: str
    station: str | None
    csrf: str | None = None
    token_scope: str | None = None  # "read" or "write" when asked with an API token


async def sign_in(
    request: Request, response: Response, store: Store, username: str, password: str
) -> tuple[User, UserSession]:
    """Checks the password (api.signin: 401, 429 while locked out, 503 while too many
    checks are pending), ends the session the browser had, opens a new one and sets its
    cookie on `response`; (user, new session). Awaited on the event loop: the argon2 work
    runs in its bounded pool, the store's work in the request thread pool."""
    user = await authenticate(request, store, username, password)
    session = await run_in_threadpool(start_session, request, response, store, user)
    return user, session


@router.post("/login", response_model=Me)
async def login(
    request: Request,
    response: Response,
    username: str = Form(...),
    password: str = Form(...),
    store: Store = Depends(get_store),
) -> Me:
    """登录(浏览器会话);返回 CSRF 令牌,之后的修改请求须在 X-CSRF-Token 头中带上它。

    密码错误返回 401;同一用户名或同一地址失败次数过多时返回 429(Retry-After 为等待秒数),
    在此期间即使密码正确也不能登录;同时登录的请求太多时返回 503(Retry-After)。
    来自其他网站的登录请求(Origin/Referer 不是本站)返回 403。"""
    user, session = await sign_in(request, response, store, username, password)
    return Me(
        username=user.username,
        role=user.role,
        role_label=ROLE_LABELS[user.role],
        station=user.station,
        csrf=session.csrf,
    )


@router.post("/logout")
def logout(
    request: Request,
    response: Response,
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> dict:
    """退出登录(需 CSRF 令牌):服务器上的会话被删除,复制的 Cookie 随之失效。"""
    if who.via_token:
        raise HTTPException(400, "API 令牌无需退出;不再使用时请撤销它")
    end_session(request, store)
    clear_cookie(response, request.app.state.settings)
    return {"ok": True}


@router.get("/me", response_model=Me)
def me(
    request: Request,
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Me:
    """当前登录的用户:用户名、角色、维修站;浏览器会话另有 CSRF 令牌,API 令牌另有权限
    (read 或 write)。未登录返回 401。"""
    session = None if who.via_token else current_session(request, store)
    return Me(
        username=who.username,
        role=who.role,
        role_label=ROLE_LABELS[who.role],
        station=who.station,
        csrf=session.csrf if session is not None else None,
        token_scope=who.scope if who.via_token else None,
    )
