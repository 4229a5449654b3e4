"""Users and the installation's settings, for the back office (the 用户 page): list, add,
disable and enable, reset a password; the company's and service center's names.  The
work is services.users' and services.installation's; station users and auditors get 403.
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, HTTPException
from pydantic import BaseModel

from formdesk.model.installation import SETTING_LABELS
from formdesk.services import installation, users
from formdesk.services.stores import Store

from ..deps import current_principal, get_store
from ..principal import ROLE_LABELS, Principal

router = APIRouter(prefix="/api", tags=["users"])

REFUSALS = {
    403: {"description": "只有售后服务部(后台)用户可以管理用户和设置"},
    404: {"description": "用户不存在"},
    409: {"description": "用户名已存在;不能停用自己或最后一个启用的后台用户"},
    422: {"description": "用户名、角色、维修站或密码不符合规则(reason 说明原因)"},
}


def admin(who: Principal = Depends(current_principal)) -> Principal:
    """A back-office user (403 ``只有售后服务部(后台)用户可以管理用户和设置`` for a station
    user or an auditor, reading too)."""
    if who.role != "back_office":
        raise HTTPException(403, "只有售后服务部(后台)用户可以管理用户和设置")
    return who


def admin_session(who: Principal = Depends(admin)) -> Principal:
    """A back-office user signed in with a browser session: changes to accounts are not
    made with API tokens (403), as for one's own password and tokens (deps.session_only)."""
    if who.via_token:
        raise HTTPException(403, "管理用户请在网页登录后操作,不能用 API 令牌")
    return who


class UserOut(BaseModel):
    """A user as listed (never its password hash). `created_at` ISO UTC."""

    username: str
    role: str
    role_label: str
    station: str | None
    station_name: str | None
    disabled: bool
    status_label: str  # 启用 / 停用
    created_at: str


def user_out(row: users.UserRow) -> UserOut:
    user = row.user
    return UserOut(
        username=user.username,
        role=user.role,
        role_label=ROLE_LABELS[user.role],
        station=user.station,
        station_name=row.station_name,
        disabled=user.disabled,
        status_label="停用" if user.disabled else "启用",
        created_at=user.model_dump(mode="json")["created_at"],
    )


@router.get("/users", response_model=list[UserOut], responses=REFUSALS)
def list_users(who: Principal = Depends(admin), store: Store = Depends(get_store)) -> list[UserOut]:
    """全部用户(按用户名):角色、维修站、状态(启用/停用)、创建时间。仅售后服务部。"""
    return [user_out(r) for r in users.list_users(store)]


class NewUserIn(BaseModel):
    """The body of POST /api/users; `password` empty: one is generated and shown once."""

    username: str
    role: str
    station: str | None = None
    station_name: str | None = None
    password: str | None = None


class NewUserOut(BaseModel):
    user: UserOut
    password: str | None = None  # only when generated: shown this once


def _row(store: Store, username: str) -> UserOut:
    found = next(r for r in users.list_users(store) if r.user.username == username)
    return user_out(found)


@router.post("/users", response_model=NewUserOut, status_code=201, responses=REFUSALS)
def add_user(
    body: NewUserIn = Body(...),
    who: Principal = Depends(admin_session),
    store: Store = Depends(get_store),
) -> NewUserOut:
    """添加用户:用户名、角色(back_office / station / auditor)、维修站(维修站用户必填;
    新维修站须填名称)、初始密码(规则同 formdesk user add;不填则自动生成并只显示一次)。"""
    made = users.add_user_by(
        store,
        who.username,
        body.username,
        body.role,
        body.password,
        station=body.station,
        station_name=body.station_name,
    )
    return NewUserOut(user=_row(store, made.user.username), password=made.password)


class StatusOut(BaseModel):
    user: UserOut
    ended_sessions: int


@router.post("/users/{username}/disable", response_model=StatusOut, responses=REFUSALS)
def disable_user(
    username: str, who: Principal = Depends(admin_session), store: Store = Depends(get_store)
) -> StatusOut:
    """停用用户:不能再登录,其登录会话立即结束,其 API 令牌不再有效。不能停用自己,
    也不能停用最后一个启用的售后服务部用户(409)。"""
    user, ended = users.set_disabled(store, who.username, username, True)
    return StatusOut(user=_row(store, user.username), ended_sessions=ended)


@router.post("/users/{username}/enable", response_model=StatusOut, responses=REFUSALS)
def enable_user(
    username: str, who: Principal = Depends(admin_session), store: Store = Depends(get_store)
) -> StatusOut:
    """重新启用用户。"""
    user, _ = users.set_disabled(store, who.username, username, False)
    return StatusOut(user=_row(store, user.username), ended_sessions=0)


class PasswordIn(BaseModel):
    password: str | None = None


class PasswordOut(BaseModel):
    username: str
    password: str | None = None  # only when generated: shown this once
    ended_sessions: int


@router.post("/users/{username}/password", response_model=PasswordOut, responses=REFUSALS)
def reset_password(
    username: str,
    body: PasswordIn | None = Body(None),
    who: Principal = Depends(admin_session),
    store: Store = Depends(get_store),
) -> PasswordOut:
    """重设用户密码(规则同 formdesk user add;不填则自动生成并只显示一次);该用户的登录
    会话全部结束。"""
    password = body.password if body is not None else None
    done = users.reset_password_by(store, who.username, username, password)
    return PasswordOut(
        username=done.username,
        password=done.password if done.generated else None,
        ended_sessions=done.ended_sessions,
    )


class SettingOut(BaseModel):
    """One installation setting: its key, Chinese label, value ("" unset), who set it
    and when (ISO UTC; None unset)."""

    name: str
    label: str
    value: str
    updated_by: str | None
    updated_at: str | None


def _settings_out(found: dict) -> list[SettingOut]:
    out = []
    for name, setting in found.items():
        dumped = setting.model_dump(mode="json") if setting else {}
        out.append(
            SettingOut(
                name=name,
                label=SETTING_LABELS[name],
                value=dumped.get("value", ""),
                updated_by=dumped.get("updated_by"),
                updated_at=dumped.get("updated_at"),
            )
        )
    return out


@router.get("/settings", response_model=list[SettingOut], responses=REFUSALS)
def get_settings(
    who: Principal = Depends(admin), store: Store = Depends(get_store)
) -> list[SettingOut]:
    """安装设置:公司名称、售后服务中心名称(打印表单时代替种子表中的 XX公司、某某公司)。"""
    return _settings_out(installation.installation_settings(store))


@router.put("/settings", response_model=list[SettingOut], responses=REFUSALS)
def put_settings(
    values: dict[str, str | None] = Body(...),
    who: Principal = Depends(admin),
    store: Store = Depends(get_store),
) -> list[SettingOut]:
    """修改安装设置(如 {"company_name": "某某汽车有限公司"});空值表示不设置(打印时保留占位)。
    每项最多 60 个字符,不能有换行或控制字符(否则 422)。"""
    return _settings_out(installation.set_installation_settings(store, who.username, values))
