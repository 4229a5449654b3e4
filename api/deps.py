"""Request dependencies: the store, the signed-in principal, role, scope and CSRF checks."""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request

from formdesk.store import Store

from .principal import Principal
from .security import token_hash
from .sessions import current_session

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def get_store(request: Request) -> Store:
    return request.app.state.store


def optional_principal(request: Request, store: Store = Depends(get_store)) -> Principal | None:
    """The API token's user (Authorization: Bearer; 401 if unknown or revoked), else the
    browser session's user, else None."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        token = store.get_token(token_hash(auth[7:].strip()))
        user = store.get_user(token.username) if token is not None else None
        if token is None or user is None:
            raise HTTPException(401, "API 令牌无效或已撤销")
        return Principal(
            user.username,
            user.role,
            user.station,
            via_token=True,
            scope=token.effective_scope(user.role),
        )
    session = current_session(request, store)
    if session is None:
        return None
    user = store.get_user(session.username)
    if user is None:
        return None
    return Principal(user.username, user.role, user.station)


def current_principal(
    request: Request,
    who: Principal | None = Depends(optional_principal),
    store: Store = Depends(get_store),
) -> Principal:
    """Someone signed in (401 if not). Every state change (POST/PUT/PATCH/DELETE) needs,
    from a browser session, its CSRF token (X-CSRF-Token header or the form's csrf field;
    403 if missing or wrong; its Origin has been checked before, api.origin) and, from an
    API token, the write scope (403)."""
    if who is None:
        raise HTTPException(401, "请先登录")
    if request.method in UNSAFE:
        if who.via_token:
            if who.scope != "write":
                raise HTTPException(403, "只读令牌不能修改数据")
        else:
            session = current_session(request, store)
            sent = request.headers.get("x-csrf-token") or ""
            # bytes: compare_digest raises TypeError on non-ASCII str (a 500 for an odd header)
            expected = session.csrf if session is not None else ""
            if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
                raise HTTPException(403, "请求缺少有效的 CSRF 令牌,请刷新页面后重试")
    return who


def session_only(who: Principal = Depends(current_principal)) -> Principal:
    """Account changes (password, new API tokens) need a signed-in browser session."""
    if who.via_token:
        raise HTTPException(403, "修改密码或创建令牌请在网页登录后操作,不能用 API 令牌")
    return who


def writer(who: Principal = Depends(current_principal)) -> Principal:
    if not who.can_write:
        raise HTTPException(403, "审计员只能查看,不能修改")
    return who


def back_office(who: Principal = Depends(writer)) -> Principal:
    if who.role != "back_office":
        raise HTTPException(403, "只有售后服务部(后台)用户可以这样做")
    return who


def not_found(what: str) -> HTTPException:
    """Also what a station user gets for another station's things: they do not exist for it."""
    return HTTPException(404, f"找不到{what}")
