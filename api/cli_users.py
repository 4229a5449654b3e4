"""`formdesk user …` and `formdesk token …`: users, their passwords, and API tokens.

User names follow model.usernames (trimmed, 1–32 letters, digits, CJK, `._-`); passwords
follow services.passwords (a generated one is printed once when none is given). Tokens
are printed once when made; only their hash is stored.  The work is services.accounts'.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .cli_common import fail, open_cli_store

user_app = typer.Typer(help="管理用户:添加、列出、停用、启用、修改或重设密码", no_args_is_help=True)
token_app = typer.Typer(help="管理 API 令牌:创建、列出、撤销", no_args_is_help=True)
out = Console()

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="数据目录")]
ROLES = ("back_office", "station", "auditor")


def _operator() -> str:
    """Who changes accounts from the command line, as the audit trail names them:
    ``cli:<login name of the system account>``."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a container)
        return "cli"


def _name(raw: str) -> str:
    """The user name as stored (model.usernames); else one line and exit 1."""
    from formdesk.model.usernames import InvalidUsernameError, normalize_username

    try:
        return normalize_username(raw)
    except InvalidUsernameError as exc:
        raise fail(str(exc)) from None


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="用户名(1–32 个字母、数字、汉字或 . _ -)")],
    role: Annotated[
        str, typer.Option(help="角色:back_office(售后服务部)、station(维修站)、auditor(审计员)")
    ],
    station: Annotated[str | None, typer.Option(help="维修站代码(角色为 station 时必填)")] = None,
    station_name: Annotated[str | None, typer.Option(help="维修站名称(新维修站时填写)")] = None,
    password: Annotated[
        str | None, typer.Option(help="密码(至少 10 个字符,不能太容易猜;不填则自动生成并显示一次)")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """添加用户。"""
    from formdesk.services.accounts import add_user
    from formdesk.services.passwords import WeakPasswordError, password_to_set

    if role not in ROLES:
        raise fail(f"角色应为 back_office、station 或 auditor,而不是 {role}")
    if role == "station" and not station:
        raise fail("维修站用户必须用 --station 指定所属维修站")
    name = _name(username)
    try:
        secret, generated = password_to_set(password, name)
    except WeakPasswordError as exc:
        raise fail(str(exc)) from None
    store = open_cli_store(data_dir, users="restoring")  # adding users back is the remedy
    try:  # ConflictError (name taken), InvalidUsernameError: ValueErrors
        add_user(store, name, role, secret, station=station, station_name=station_name)
    except ValueError as exc:
        raise fail(str(exc)) from None
    from formdesk.services.audit import audit

    audit(_operator(), "user.add", name, role=role, station=station or "")
    print(
        f"已添加用户 {name}(角色 {role}"
        + (f",维修站 {station}" if station else "")
        + ")"
        + (f",密码 {secret}(只显示这一次)" if generated else "")
    )


@user_app.command("password")
def user_password(
    username: Annotated[str, typer.Argument(help="用户名")],
    password: Annotated[str | None, typer.Option(help="新密码(不填则自动生成并显示一次)")] = None,
    data_dir: DataDir = None,
) -> None:
    """修改用户的密码(新密码不能与原密码相同);该用户的所有登录会话随之结束(API 令牌不受影响)。"""
    from formdesk.model.errors import NotFoundError
    from formdesk.services.passwords import WeakPasswordError
    from formdesk.services.users import reset_password_by

    name = _name(username)
    store = open_cli_store(data_dir, must_exist=True)
    try:
        done = reset_password_by(store, _operator(), name, password)
    except (NotFoundError, WeakPasswordError) as exc:
        raise fail(str(exc)) from None
    print(
        f"已修改用户 {done.username} 的密码"
        + (f",新密码 {done.password}(只显示这一次)" if done.generated else "")
        + (f";已结束 {done.ended_sessions} 个登录会话" if done.ended_sessions else "")
    )


@user_app.command("list")
def user_list(data_dir: DataDir = None) -> None:
    """列出用户:用户名、角色、维修站、状态(启用/停用)、创建时间(北京时间)。"""
    from formdesk.services.users import ROLES, list_users
    from formdesk.templates.values.dates import CHINA_TIME

    store = open_cli_store(data_dir, must_exist=True)
    table = Table("用户名", "角色", "维修站", "状态", "创建时间(北京时间)")
    for row in list_users(store):
        user = row.user
        station = f"{user.station} {row.station_name or ''}".strip() if user.station else "—"
        cells = (
            user.username,
            ROLES[user.role],
            station,
            "停用" if user.disabled else "启用",
            f"{user.created_at.astimezone(CHINA_TIME):%Y-%m-%d %H:%M}",
        )
        table.add_row(*(Text(c) for c in cells))
    out.print(table)


def _set_disabled(username: str, disabled: bool, data_dir: Path | None) -> None:
    from formdesk.model.errors import ConflictError, NotFoundError
    from formdesk.services.users import set_disabled

    name = _name(username)
    store = open_cli_store(data_dir, must_exist=True)
    try:
        user, ended = set_disabled(store, _operator(), name, disabled)
    except (NotFoundError, ConflictError) as exc:
        raise fail(str(exc)) from None
    if disabled:
        print(
            f"已停用用户 {user.username}"
            + (f";已结束 {ended} 个登录会话" if ended else "")
            + "(不能登录,API 令牌不再有效)"
        )
    else:
        print(f"已启用用户 {user.username}")


@user_app.command("disable")
def user_disable(
    username: Annotated[str, typer.Argument(help="用户名")], data_dir: DataDir = None
) -> None:
    """停用用户:不能再登录,其登录会话立即结束,API 令牌不再有效(不能停用最后一个启用的后台用户)。"""
    _set_disabled(username, True, data_dir)


@user_app.command("enable")
def user_enable(
    username: Annotated[str, typer.Argument(help="用户名")], data_dir: DataDir = None
) -> None:
    """重新启用已停用的用户。"""
    _set_disabled(username, False, data_dir)


@user_app.command("reset-password")
def user_reset_password(
    username: Annotated[str, typer.Argument(help="用户名")],
    password: Annotated[
        str | None, typer.Option(help="新密码(规则同 user add;不填则自动生成并显示一次)")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """重设用户的密码(售后服务部为忘记密码的用户操作);该用户的所有登录会话随之结束。"""
    from formdesk.model.errors import NotFoundError
    from formdesk.services.passwords import WeakPasswordError
    from formdesk.services.users import reset_password_by

    name = _name(username)
    store = open_cli_store(data_dir, must_exist=True)
    try:
        done = reset_password_by(store, _operator(), name, password)
    except (NotFoundError, WeakPasswordError) as exc:
        raise fail(str(exc)) from None
    print(
        f"已重设用户 {done.username} 的密码"
        + (f",新密码 {done.password}(只显示这一次)" if done.generated else "")
        + (f";已结束 {done.ended_sessions} 个登录会话" if done.ended_sessions else "")
    )


@token_app.command("add")
def token_add(
    username: Annotated[str, typer.Argument(help="令牌属于哪个用户")],
    label: Annotated[str, typer.Option("--label", help="名称,如“夜间导出”")] = "script",
    scope: Annotated[
        str | None,
        typer.Option("--scope", help="read(只读)或 write(读写;审计员只能 read)。默认按角色"),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """创建 API 令牌并显示一次(只保存其散列)。"""
    from formdesk.model.errors import NotFoundError
    from formdesk.services.accounts import TokenRefusedError, create_token_for

    name = _name(username)
    store = open_cli_store(data_dir, must_exist=True)
    try:
        made = create_token_for(store, name, label, scope)
    except (NotFoundError, TokenRefusedError) as exc:
        raise fail(str(exc)) from None
    stored = made.stored
    print(f"已为 {stored.username} 创建令牌 {stored.token_id}({stored.scope}):")
    print(made.token)
    print("令牌只显示这一次,请妥善保存;请求时放在 Authorization: Bearer 头中", flush=True)


@token_app.command("list")
def token_list(
    username: Annotated[str | None, typer.Argument(help="只列这个用户的(不填为全部)")] = None,
    data_dir: DataDir = None,
) -> None:
    """列出 API 令牌:编号、用户、名称、权限、创建时间(令牌本身不保存,无法再显示)。"""
    from formdesk.services.accounts import list_tokens

    store = open_cli_store(data_dir, must_exist=True)
    name = _name(username) if username is not None else None
    table = Table("编号", "用户", "名称", "权限", "创建时间(UTC)")
    for t in list_tokens(store, name):
        cells = (
            t.token_id or "",
            t.username,
            t.label,
            t.scope or "",
            f"{t.created_at:%Y-%m-%d %H:%M}",
        )
        table.add_row(*(Text(c) for c in cells))
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="令牌编号(见 formdesk token list)")],
    data_dir: DataDir = None,
) -> None:
    """撤销 API 令牌:立即失效。"""
    from formdesk.model.errors import NotFoundError
    from formdesk.services.accounts import revoke_token

    store = open_cli_store(data_dir, must_exist=True)
    try:
        gone = revoke_token(store, token_id)
    except NotFoundError as exc:
        raise fail(str(exc)) from None
    print(f"已撤销 {gone.username} 的令牌 {gone.token_id}({gone.label})")
