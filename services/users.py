"""Users as the back office manages them (用户 page, `formdesk user list/disable/enable/
reset-password`): listing, adding, disabling and enabling, resetting a password.  Every
change is audited (services.audit).  Passwords follow services.passwords, names
model.usernames; refusals are FormdeskErrors with a Chinese message and their HTTP status.

Rules: one cannot disable oneself, nor the last enabled back-office user (someone must
be able to manage users); disabling ends the user's sessions, and the services refuse
a disabled user's sign-in, sessions and API tokens (services.accounts, .sessions,
.signin) until enabled again."""

from __future__ import annotations

from dataclasses import dataclass

from formdesk.model.accounts import Role, User
from formdesk.model.errors import ConflictError
from formdesk.model.usernames import normalize_username

from .accounts import PasswordReset, add_user, find_user, reset_password
from .audit import audit
from .passwords import password_to_set
from .refusals import Refused
from .stores import Store

ROLES: dict[str, str] = {
    "back_office": "售后服务部(后台)",
    "station": "维修站",
    "auditor": "审计员",
}
STATION_NAME_MAX = 100


@dataclass(frozen=True)
class UserRow:
    """One user as listed: the stored user (never shown: its hash) and the name of its
    station (None for no station, or a station no longer registered)."""

    user: User
    station_name: str | None


def list_users(store: Store) -> list[UserRow]:
    """Every user, by name, with its station's name."""
    names = {s.code: s.name for s in store.list_stations()}
    return [UserRow(u, names.get(u.station) if u.station else None) for u in store.list_users()]


@dataclass(frozen=True)
class NewUser:
    """A user just added, and its password when it was generated (to show once)."""

    user: User
    password: str | None


def add_user_by(
    store: Store,
    by: str,
    username: str,
    role: str,
    password: str | None,
    *,
    station: str | None = None,
    station_name: str | None = None,
) -> NewUser:
    """Adds a user as the back-office user `by` (the 用户 page): `username` as typed
    (normalised, model.usernames), `role` one of ROLES, `password` passing the policy of
    `formdesk user add` (None: one is generated and returned once), `station` (a
    code) required for a station user — a station not yet registered needs its
    `station_name` (so it is never listed as "HN03 HN03").

    Refused (422) for a role, a missing station or station name; InvalidUsernameError
    (422); WeakPasswordError (422); ConflictError (409) for a name taken in any case."""
    if role not in ROLES:
        raise Refused(f"角色应为 {'、'.join(ROLES.values())} 之一")
    name = normalize_username(username)
    code = (station or "").strip() or None
    label = (station_name or "").strip() or None
    if role == "station":
        if code is None:
            raise Refused("维修站用户必须选择或填写所属维修站代码")
        if len(code) > STATION_NAME_MAX or (label and len(label) > STATION_NAME_MAX):
            raise Refused(f"维修站代码和名称最多 {STATION_NAME_MAX} 个字符")
        if store.get_station(code) is None and label is None:
            raise Refused(f"维修站 {code} 尚未登记,请填写维修站名称")
    else:
        code = label = None
    secret, generated = password_to_set(password, name)
    checked: Role = role  # type: ignore[assignment]  (checked against ROLES above)
    user = add_user(store, name, checked, secret, station=code, station_name=label)
    audit(by, "user.add", user.username, role=role, station=code or "")
    return NewUser(user, secret if generated else None)


def _enabled_back_office(store: Store) -> list[User]:
    return [u for u in store.list_users() if u.role == "back_office" and not u.disabled]


def set_disabled(store: Store, by: str, username: str, disabled: bool) -> tuple[User, int]:
    """Disables (停用) or enables (启用) the user `username` (normalised; any case) as `by`;
    returns the user as stored and how many of its sign-in sessions were ended (only on
    disabling).  NotFoundError (404); ConflictError (409) ``不能停用自己的账户`` and
    ``不能停用最后一个启用的售后服务部(后台)用户``.  Disabling a disabled user, or enabling
    an enabled one, changes nothing and is not logged."""
    user = find_user(store, username)
    if user.disabled == disabled:
        return user, 0
    if disabled:
        if user.username.casefold() == by.casefold():
            raise ConflictError("不能停用自己的账户")
        enabled = _enabled_back_office(store)
        if user.role == "back_office" and [u.username for u in enabled] == [user.username]:
            raise ConflictError("不能停用最后一个启用的售后服务部(后台)用户")
    user = store.set_user_disabled(user.username, disabled)
    ended = store.delete_sessions(user.username) if disabled else 0
    action = "user.disable" if disabled else "user.enable"
    audit(by, action, user.username, **({"ended_sessions": ended} if disabled else {}))
    return user, ended


def reset_password_by(store: Store, by: str, username: str, password: str | None) -> PasswordReset:
    """Sets the password of `username` (normalised; any case) as `by` (the back office, or
    the command line): `password` passing the policy, or a generated one when None
    (returned to show once); every sign-in session of the user ends.  Errors as
    `accounts.reset_password`: NotFoundError (404), WeakPasswordError (422); and
    ConflictError (409, ``本人的密码请在账户页修改(需要原密码)``) for `by`'s own: a
    session left open must not change its owner's password without the old one."""
    if find_user(store, username).username.casefold() == by.casefold():
        raise ConflictError("本人的密码请在账户页修改(需要原密码)")
    done = reset_password(store, username, password)
    audit(
        by,
        "user.reset_password",
        done.username,
        generated=done.generated,
        ended_sessions=done.ended_sessions,
    )
    return done
