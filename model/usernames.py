"""What a user name may be: one rule for `formdesk user add`, signing in and the store.

A name is compared after NFKC normalisation (full-width ``ａｄｍｉｎ`` is ``admin``) and with
surrounding white space removed, so what a person types at sign-in finds the name that was
created. What is left must be 1–32 characters of ASCII letters and digits, CJK ideographs
and ``. _ -``: no spaces, no control or bidi-override characters (OWASP ASVS 4.0 V5.1.4,
allow-listed input), and no look-alike letters from other scripts.

Names are unique regardless of case (`fold_username`): ``Admin`` and ``ＡＤＭＩＮ`` are the
user ``admin``, found by any case and never created beside it (NIST SP 800-63B §5.1.1.2 on
normalising what people type; OWASP Authentication Cheat Sheet, "user IDs should be case
insensitive"). A name is stored as it was first written (its case kept for display).
"""

from __future__ import annotations

import re
import unicodedata

from .errors import StoreError

USERNAME_MAX = 32
_ALLOWED = re.compile(r"[A-Za-z0-9._\-\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


class InvalidUsernameError(StoreError, ValueError):
    """A user name outside the rule; the message (Chinese) says what is wrong (HTTP 422)."""

    status = 422


def normalize_username(raw: str) -> str:
    """The name as stored: NFKC, trimmed, then checked against the rule.

    Returns the normalised name (a str of 1–32 allowed characters); raises
    InvalidUsernameError (Chinese message) for an empty, too long or disallowed name.
    """
    name = unicodedata.normalize("NFKC", raw or "").strip()
    if not name:
        raise InvalidUsernameError("用户名不能为空")
    if len(name) > USERNAME_MAX:
        raise InvalidUsernameError(f"用户名最多 {USERNAME_MAX} 个字符")
    if not _ALLOWED.fullmatch(name):
        raise InvalidUsernameError(
            "用户名只能包含英文字母、数字、汉字和 . _ -(不能有空格或控制字符)"
        )
    return name


def fold_username(name: str) -> str:
    """The key two names are the same user by: the (already normalised) name casefolded.
    `Admin`, `ADMIN` and `admin` fold to `admin`; CJK characters are unchanged."""
    return name.casefold()
