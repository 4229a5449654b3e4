"""`formdesk user …` and `formdesk token …`: users, their passwords, and API tokens.

User names follow model.usernames (trimmed, 1–32 letters, digits, CJK, `._-`); passwords
follow api.password_policy (a generated one is printed once when none is given). Tokens
are printed once when made; only their hash is stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .cli_common import fail, open_cli_store

user_app = typer.Typer(help="管理用户:添加、修改密码", no_args_is_help=True)
token_app = typer.Typer(help="管理 API 令牌:创建、列出、撤销", no_args_is_help=True)
out = Console()

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="数据目录")]
ROLES = ("back_office", "station", "auditor")


def _checked_password(password: str | None, username: str) -> tuple[str, bool]:
    """(the password to set, whether it was generated); a given one must pass the policy."""
    from .password_policy import WeakPasswordError, check_password
    from .security import new_password

    if password is None:
        return new_password(username), True
    try:
        check_password(password, username)
    except WeakPasswordError as exc:
        raise fail(str(exc)) from None
    return password, False


def _name(raw: str) -> str:
    from formdesk.store import InvalidUsernameError, normalize_username

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
    from formdesk.model.accounts import User
    from formdesk.model.claims import Station

    from .security import hash_password

    if role not in ROLES:
        raise fail(f"角色应为 back_office、station 或 auditor,而不是 {role}")
    if role == "station" and not station:
        raise fail("维修站用户必须用 --station 指定所属维修站")
    name = _name(username)
    secret, generated = _checked_password(password, name)
    store = open_cli_store(data_dir, users="restoring")  # adding users back is the remedy
    taken = store.get_user(name)
    if taken is not None:
        same = "" if taken.username == name else f"(与“{taken.username}”只差大小写)"
        raise fail(f"用户名“{name}”已存在{same}")
    if station and store.get_station(station) is None:
        store.add_station(Station(code=station, name=station_name or station))
    try:
        store.add_user(
            User(
                username=name,
                password_hash=hash_password(secret),
                role=role,
                station=station if role == "station" else None,
            )
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
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
    from .password_policy import SAME_PASSWORD
    from .security import hash_password, verify_password

    name = _name(username)
    store = open_cli_store(data_dir, must_exist=True)
    user = store.get_user(name)
    if user is None:
        raise fail(f"用户“{name}”不存在")
    name = user.username  # as stored, whatever case was typed
    secret, generated = _checked_password(password, name)
    if not generated and verify_password(user.password_hash, secret):
        raise fail(SAME_PASSWORD)
    store.set_password_hash(name, hash_password(secret))
    ended = store.delete_sessions(name)
    print(
        f"已修改用户 {name} 的密码"
        + (f",新密码 {secret}(只显示这一次)" if generated else "")
        + (f";已结束 {ended} 个登录会话" if ended else "")
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
    from formdesk.model.accounts import ApiToken

    from .security import new_token

    name = _name(username)
    store = open_cli_store(data_dir, must_exist=True)
    user = store.get_user(name)
    if user is None:
        raise fail(f"用户“{name}”不存在")
    name = user.username  # as stored, whatever case was typed
    if scope is None:
        scope = "read" if user.role == "auditor" else "write"
    if scope not in ("read", "write"):
        raise fail(f"--scope 应为 read 或 write,而不是 {scope}")
    if scope == "write" and user.role == "auditor":
        raise fail("审计员只能有只读(read)令牌")
    label = label.strip()
    if len(label) > 64 or not label.isprintable():
        raise fail("令牌名称最多 64 个字符,且不能包含控制字符")
    token, digest = new_token()
    stored = store.add_token(ApiToken(token_hash=digest, username=name, label=label, scope=scope))
    print(f"已为 {name} 创建令牌 {stored.token_id}({scope}):")
    print(token)
    print("令牌只显示这一次,请妥善保存;请求时放在 Authorization: Bearer 头中", flush=True)


@token_app.command("list")
def token_list(
    username: Annotated[str | None, typer.Argument(help="只列这个用户的(不填为全部)")] = None,
    data_dir: DataDir = None,
) -> None:
    """列出 API 令牌:编号、用户、名称、权限、创建时间(令牌本身不保存,无法再显示)。"""
    store = open_cli_store(data_dir, must_exist=True)
    name = _name(username) if username is not None else None
    if name is not None:  # as stored, whatever case was typed
        user = store.get_user(name)
        name = user.username if user is not None else name
    roles = {u.username: u.role for u in store.list_users()}
    table = Table("编号", "用户", "名称", "权限", "创建时间(UTC)")
    for t in store.list_tokens(name):
        scope = t.effective_scope(roles.get(t.username, "auditor"))
        cells = (t.token_id or "", t.username, t.label, scope, f"{t.created_at:%Y-%m-%d %H:%M}")
        table.add_row(*(Text(c) for c in cells))
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="令牌编号(见 formdesk token list)")],
    data_dir: DataDir = None,
) -> None:
    """撤销 API 令牌:立即失效。"""
    from formdesk.store import NotFoundError

    store = open_cli_store(data_dir, must_exist=True)
    try:
        gone = store.revoke_token(token_id)
    except NotFoundError as exc:
        raise fail(str(exc)) from None
    print(f"已撤销 {gone.username} 的令牌 {gone.token_id}({gone.label})")
