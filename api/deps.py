"""Request dependencies: the store, the signed-in principal, role and CSRF checks."""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request

from formdesk.store import Store

from .principal import Principal
from .security import token_hash

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def get_store(request: Request) -> Store:
    return request.app.state.store


def optional_principal(request: Request, store: Store = Depends(get_store)) -> Principal | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        user = store.user_for_token(token_hash(auth[7:].strip()))
        if user is None:
            raise HTTPException(401, "API 令牌无效")
        return Principal(user.username, user.role, user.station, via_token=True)
    username = request.session.get("user") if "session" in request.scope else None
    if not username:
        return None
    user = store.get_user(username)
    if user is None:
        request.session.clear()
        return None
    return Principal(user.username, user.role, user.station)


def current_principal(
    request: Request, who: Principal | None = Depends(optional_principal)
) -> Principal:
    if who is None:
        raise HTTPException(401, "请先登录")
    if not who.via_token and request.method in UNSAFE:
        sent = request.headers.get("x-csrf-token") or request.state.__dict__.get("form_csrf") or ""
        expected = request.session.get("csrf", "")
        # bytes: compare_digest raises TypeError on non-ASCII str (a 500 for an odd header)
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise HTTPException(403, "请求缺少有效的 CSRF 令牌,请刷新页面后重试")
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
