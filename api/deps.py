"""Request dependencies: the store, the signed-in principal, role, scope and CSRF checks."""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request

from formdesk.services.accounts import token_holder
from formdesk.services.sessions import session_user
from formdesk.services.stores import Store

from .principal import Principal
from .sessions import current_session

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def get_store(request: Request) -> Store:
    """The service's store (opened by create_app), as an opaque handle for services."""
    return request.app.state.store


def optional_principal(request: Request, store: Store = Depends(get_store)) -> Principal | None:
    """The API token's user (Authorization: Bearer; 401 ``API 令牌无效或已撤销`` if unknown
    or revoked), else the browser session's user, else None."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        held = token_holder(store, auth[7:])
        if held is None:
            raise HTTPException(401, "API 令牌无效或已撤销")
        user, scope = held
        return Principal(user.username, user.role, user.station, via_token=True, scope=scope)
    session = current_session(request, store)
    if session is None:
        return None
    user = session_user(store, session)
    if user is None:
        return None
    return Principal(user.username, user.role, user.station)


def current_principal(
    request: Request,
    who: Principal | None = Depends(optional_principal),
    store: Store = Depends(get_store),
) -> Principal:
    """Someone signed in (401 ``请先登录`` if not). Every state change (POST/PUT/PATCH/DELETE)
    needs, from a browser session, its CSRF token (X-CSRF-Token header or the form's csrf
    field; 403 if missing or wrong; its Origin has been checked before, api.origin) and,
    from an API token, the write scope (403 ``只读令牌不能修改数据``)."""
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
    """Account changes (password, new API tokens) need a signed-in browser session (403
    with an API token)."""
    if who.via_token:
        raise HTTPException(403, "修改密码或创建令牌请在网页登录后操作,不能用 API 令牌")
    return who


def writer(who: Principal = Depends(current_principal)) -> Principal:
    """Someone who may change things (403 ``审计员只能查看,不能修改`` for an auditor)."""
    if not who.can_write:
        raise HTTPException(403, "审计员只能查看,不能修改")
    return who


def back_office(who: Principal = Depends(writer)) -> Principal:
    """A back-office user (403 for anyone else)."""
    if who.role != "back_office":
        raise HTTPException(403, "只有售后服务部(后台)用户可以这样做")
    return who


def not_found(what: str) -> HTTPException:
    """404 ``找不到{what}``.  Also what a station user gets for another station's things:
    they do not exist for it."""
    return HTTPException(404, f"找不到{what}")
