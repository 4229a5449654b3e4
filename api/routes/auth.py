"""Signing in and out, who am I, API tokens for scripts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from pydantic import BaseModel

from formdesk.store import ApiToken, Store

from ..deps import current_principal, get_store
from ..principal import ROLE_LABELS, Principal
from ..security import new_csrf_token, new_token, verify_password

router = APIRouter(prefix="/api", tags=["auth"])


class Me(BaseModel):
    username: str
    role: str
    role_label: str
    station: str | None
    csrf: str | None = None


def sign_in(request: Request, store: Store, username: str, password: str) -> Principal:
    user = store.get_user(username.strip())
    if user is None or not verify_password(user.password_hash, password):
        raise HTTPException(401, "用户名或密码不对")
    request.session.clear()
    request.session["user"] = user.username
    request.session["csrf"] = new_csrf_token()
    return Principal(user.username, user.role, user.station)


@router.post("/login", response_model=Me)
def login(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    store: Store = Depends(get_store),
) -> Me:
    """登录(浏览器会话);返回 CSRF 令牌,之后的修改请求须在 X-CSRF-Token 头中带上它。"""
    who = sign_in(request, store, username, password)
    return Me(
        username=who.username,
        role=who.role,
        role_label=ROLE_LABELS[who.role],
        station=who.station,
        csrf=request.session["csrf"],
    )


@router.post("/logout")
def logout(request: Request) -> dict:
    request.session.clear()
    return {"ok": True}


@router.get("/me", response_model=Me)
def me(request: Request, who: Principal = Depends(current_principal)) -> Me:
    return Me(
        username=who.username,
        role=who.role,
        role_label=ROLE_LABELS[who.role],
        station=who.station,
        csrf=None if who.via_token else request.session.get("csrf"),
    )


class TokenOut(BaseModel):
    token: str
    note: str = "令牌只显示这一次,请妥善保存;请求时放在 Authorization: Bearer 头中"


@router.post("/tokens", response_model=TokenOut, status_code=201)
def create_token(
    label: str = Form("script"),
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> TokenOut:
    """为脚本创建 API 令牌(权限与本人相同)。"""
    token, digest = new_token()
    store.add_token(ApiToken(token_hash=digest, username=who.username, label=label))
    return TokenOut(token=token)
