"""One's own account: changing the password, and API tokens for scripts (listed, created
and shown once, revoked)."""

from __future__ import annotations

import unicodedata
from typing import Literal

from fastapi import APIRouter, Body, Depends, Form, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from formdesk.model.accounts import ApiToken
from formdesk.store import NotFoundError, Store

from ..deps import current_principal, get_store, session_only
from ..password_policy import SAME_PASSWORD, check_password
from ..password_work import Busy, PasswordWork
from ..principal import SCOPE_LABELS, Principal
from ..security import new_token
from ..sessions import current_session
from ..signin import authenticate, busy_error

router = APIRouter(prefix="/api", tags=["account"])
LABEL_MAX = 64


class PasswordChange(BaseModel):
    """The body of POST /api/me/password."""

    old_password: str
    new_password: str


@router.post("/me/password")
async def change_password(
    request: Request,
    change: PasswordChange = Body(...),
    who: Principal = Depends(session_only),
    store: Store = Depends(get_store),
) -> dict:
    """修改本人密码:需原密码(错误计入登录失败次数);新密码须符合密码规则,且不能与原密码相同
    (否则 422)。本人的其他会话全部结束,当前会话保留。"""
    try:
        await authenticate(request, store, who.username, change.old_password)
    except HTTPException as exc:
        if exc.status_code == 401:
            raise HTTPException(403, "原密码不对") from None
        raise
    if change.new_password == change.old_password:
        raise HTTPException(422, SAME_PASSWORD)
    # WeakPasswordError: 422 with the rule broken (api/errors.py)
    await run_in_threadpool(check_password, change.new_password, who.username)
    work: PasswordWork = request.app.state.password_work
    try:
        new_hash = await work.hash(change.new_password)
    except Busy as exc:
        raise busy_error(exc) from None

    def store_it() -> int:
        store.set_password_hash(who.username, new_hash)
        session = current_session(request, store)
        return store.delete_sessions(who.username, keep=session.session_hash if session else None)

    return {"ok": True, "ended_sessions": await run_in_threadpool(store_it)}


class TokenInfo(BaseModel):
    """A token as listed: never the token itself, nor its hash. `created_at` ISO UTC."""

    id: str
    label: str
    scope: Literal["read", "write"]
    scope_label: str
    created_at: str


def token_info(token: ApiToken, who: Principal) -> TokenInfo:
    """The listing of `token`, with the scope it really has for `who`'s role."""
    scope = token.effective_scope(who.role)
    return TokenInfo(
        id=token.token_id or "",
        label=token.label,
        scope=scope,
        scope_label=SCOPE_LABELS[scope],
        created_at=token.model_dump(mode="json")["created_at"],
    )


@router.get("/tokens", response_model=list[TokenInfo])
def list_tokens(
    who: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> list[TokenInfo]:
    """本人的 API 令牌:编号、名称、权限、创建时间(令牌本身不再显示)。"""
    return [token_info(t, who) for t in store.list_tokens(who.username)]


class TokenOut(TokenInfo):
    """A new token: its listing plus the token, shown this once."""

    token: str
    note: str = "令牌只显示这一次,请妥善保存;请求时放在 Authorization: Bearer 头中"


def clean_label(label: str) -> str:
    """The label trimmed; 422 if longer than LABEL_MAX or with control characters."""
    label = label.strip()
    if len(label) > LABEL_MAX:
        raise HTTPException(422, f"令牌名称最多 {LABEL_MAX} 个字符")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in label):
        raise HTTPException(422, "令牌名称不能包含控制字符")
    return label


@router.post("/tokens", response_model=TokenOut, status_code=201)
def create_token(
    label: str = Form("script"),
    scope: Literal["read", "write"] | None = Form(None),
    who: Principal = Depends(session_only),
    store: Store = Depends(get_store),
) -> TokenOut:
    """为脚本创建 API 令牌(只显示这一次)。scope:read(只读)或 write(读写,默认);
    审计员只能创建只读令牌。"""
    if scope is None:
        scope = "write" if who.can_write else "read"
    if scope == "write" and not who.can_write:
        raise HTTPException(403, "审计员只能创建只读(read)令牌")
    token, digest = new_token()
    stored = store.add_token(
        ApiToken(token_hash=digest, username=who.username, label=clean_label(label), scope=scope)
    )
    return TokenOut(token=token, **token_info(stored, who).model_dump())


@router.delete("/tokens/{token_id}", status_code=204, response_class=Response)
def revoke_token(
    token_id: str, who: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    """撤销本人的一个 API 令牌:立即失效(之后用它的请求返回 401)。"""
    try:
        store.revoke_token(token_id, who.username)
    except NotFoundError:
        raise HTTPException(404, "找不到这个令牌") from None
    return Response(status_code=204)
