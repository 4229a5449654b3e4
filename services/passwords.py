"""Passwords: the policy a new one must pass, generating one that does, and argon2id
hashing and checking.  What `formdesk user add` / `user password`, the password change of
the web service and the first admin use.

Rules (NIST SP 800-63B §5.1.1.2 "memorized secrets"; OWASP ASVS 4.0 V2.1):
- at least 10 characters (PASSWORD_MIN), at most 128 (PASSWORD_MAX, ASVS 2.1.2), any
  characters, spaces included, no composition rules;
- not the user name, and not containing it (case-insensitive; a name shorter than 3
  characters is refused only as the whole password);
- not common or guessable: zxcvbn's estimate, told the user name and this product's name,
  must score at least 3 of 4 (ZXCVBN_MIN_SCORE; "safely unguessable", ≳10^8 guesses):
  dictionary words and common passwords, names, keyboard rows, repeats, sequences and
  dates all score low;
- a new password is not the one it replaces (SAME_PASSWORD; checked where the old one is
  known: `formdesk user password` and POST /api/me/password).

Only the argon2id hash (argon2-cffi's default parameters, RFC 9106) is stored.
"""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from formdesk.model.errors import FormdeskError

PASSWORD_MIN = 10
PASSWORD_MAX = 128
ZXCVBN_MIN_SCORE = 3
SAME_PASSWORD = "新密码不能与原密码相同"
_ZXCVBN_MAX = 72  # zxcvbn refuses longer input; the first 72 characters are judged
_CONTEXT = ["formdesk", "售后", "三包", "password", "admin"]

# zxcvbn's English warnings, said in Chinese (matched by a part of the text)
_WARNINGS = [
    ("common password", "这是常见密码"),
    ("names and surnames", "单独的姓名很容易被猜到"),
    ("rows of keys", "键盘上连着的按键很容易被猜到"),
    ("keyboard patterns", "键盘上连着的按键很容易被猜到"),
    ("Repeats like", "重复的字符很容易被猜到"),
    ("Sequences like", "abc、6543 这样的顺序很容易被猜到"),
    ("Recent years", "年份很容易被猜到"),
    ("Dates are", "日期很容易被猜到"),
    ("word by itself", "单个词很容易被猜到"),
]

_hasher = PasswordHasher()


class WeakPasswordError(FormdeskError, ValueError):
    """The password breaks the policy; the message (Chinese) says which rule (HTTP 422):
    ``密码至少 10 个字符``, ``密码最多 128 个字符``, ``密码不能是用户名,也不能包含用户名``,
    ``密码太容易被猜到(…),请换一个更长、更不规则的密码,…`` or SAME_PASSWORD."""

    status = 422


def check_password(password: str, username: str) -> None:
    """Returns if `password` may be the password of `username`; else WeakPasswordError
    (422) with a Chinese reason (length, user name, or guessable and why).  About 10 ms
    of CPU for a long password (zxcvbn)."""
    if len(password) < PASSWORD_MIN:
        raise WeakPasswordError(f"密码至少 {PASSWORD_MIN} 个字符")
    if len(password) > PASSWORD_MAX:
        raise WeakPasswordError(f"密码最多 {PASSWORD_MAX} 个字符")
    name, folded = username.strip().casefold(), password.casefold()
    if name and (name == folded or (len(name) >= 3 and name in folded)):
        raise WeakPasswordError("密码不能是用户名,也不能包含用户名")
    verdict = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=[username, *_CONTEXT])
    if verdict["score"] < ZXCVBN_MIN_SCORE:
        warning = verdict["feedback"].get("warning") or ""
        why = next((zh for en, zh in _WARNINGS if en.lower() in warning.lower()), "")
        raise WeakPasswordError(
            "密码太容易被猜到"
            + (f"({why})" if why else "")
            + ",请换一个更长、更不规则的密码,例如几个不相关的词加上数字或符号"
        )


def generate_password(username: str) -> str:
    """A random password (16 URL-safe characters, 96 bits) that passes `check_password`
    for `username`."""
    while True:
        candidate = secrets.token_urlsafe(12)
        try:
            check_password(candidate, username)
        except WeakPasswordError:
            continue
        return candidate


def password_to_set(password: str | None, username: str) -> tuple[str, bool]:
    """(the password to give `username`, whether it was generated): `password` when it
    passes the policy (else WeakPasswordError, 422, Chinese reason), a generated one when
    it is None (shown to the person once, never stored in clear)."""
    if password is None:
        return generate_password(username), True
    check_password(password, username)
    return password, False


def hash_password(password: str) -> str:
    """The argon2id hash (argon2-cffi's default parameters, RFC 9106: about 0.2 s of CPU
    and 64 MiB) of `password`, as the store keeps it (a `$argon2id$…` string)."""
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    """A hash of a random password with the same parameters as real ones, made once."""
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if `password` matches `password_hash`. With no hash (an unknown user) a dummy
    hash is verified instead, so a known and an unknown user name cost the same work and
    answer in the same time (OWASP Authentication Cheat Sheet, "authentication responses");
    the answer is then always False.  A damaged hash is False, never an error."""
    try:
        if password_hash is None:
            _hasher.verify(_dummy_hash(), password)
            return False
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
