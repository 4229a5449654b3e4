"""One's own account: changing the password, and API tokens for scripts (listed, created
and shown once, revoked)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Body, Depends, Form, HTTPException, Request, Response
from pydantic import BaseModel

from formdesk.model.accounts import ApiToken
from formdesk.model.errors import NotFoundError
from formdesk.services import accounts
from formdesk.services.stores import Store

from ..deps import current_principal, get_store, session_only
from ..principal import SCOPE_LABELS, Principal
from ..sessions import current_session
from ..signin import client_address, waits_as_http

router = APIRouter(prefix="/api", tags=["account"])


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
    session = current_session(request, store)  # looked up already by session_only
    with waits_as_http():  # 429 locked out, 503 busy, each with Retry-After
        ended = await accounts.change_password(
            store,
            request.app.state.login_guard,
            request.app.state.password_work,
            who.username,
            change.old_password,
            change.new_password,
            client_address(request),
            keep=session.session_hash if session else None,
        )
    return {"ok": True, "ended_sessions": ended}


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
    return [token_info(t, who) for t in accounts.list_tokens(store, who.username)]


class TokenOut(TokenInfo):
    """A new token: its listing plus the token, shown this once."""

    token: str
    note: str = "令牌只显示这一次,请妥善保存;请求时放在 Authorization: Bearer 头中"


@router.post("/tokens", response_model=TokenOut, status_code=201)
def create_token(
    label: str = Form("script"),
    scope: Literal["read", "write"] | None = Form(None),
    who: Principal = Depends(session_only),
    store: Store = Depends(get_store),
) -> TokenOut:
    """为脚本创建 API 令牌(只显示这一次)。scope:read(只读)或 write(读写,默认);
    审计员只能创建只读令牌(否则 403)。名称最多 64 个字符,不能有控制字符(否则 422)。"""
    made = accounts.create_own_token(store, who.username, who.role, label, scope)
    return TokenOut(token=made.token, **token_info(made.stored, who).model_dump())


@router.delete("/tokens/{token_id}", status_code=204, response_class=Response)
def revoke_token(
    token_id: str, who: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    """撤销本人的一个 API 令牌:立即失效(之后用它的请求返回 401)。"""
    try:
        accounts.revoke_token(store, token_id, who.username)
    except NotFoundError:
        raise HTTPException(404, "找不到这个令牌") from None
    return Response(status_code=204)
