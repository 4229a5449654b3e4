"""The audit trail of account and settings changes: one line per change on the logger
`formdesk.audit` (INFO), saying when (UTC, ISO), who, what and to whom, e.g.

    2026-12-01T06:30:00Z user=admin action=user.disable target=bob ended_sessions=2

With no handler configured by the deployment, the lines go to standard error (the
service's log, journald under systemd).  Passwords and tokens are never logged."""

from __future__ import annotations

import logging
import sys

from formdesk.model.time import utcnow

log = logging.getLogger("formdesk.audit")


def _ready() -> logging.Logger:
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("formdesk.audit %(message)s"))
        log.addHandler(handler)
    return log


def audit(user: str, action: str, target: str = "", **details: object) -> str:
    """Logs that `user` did `action` (``user.add``, ``user.disable``, ``settings.set``…)
    to `target` now, with `details` (key=value; values repr'd when they hold spaces);
    returns the line logged."""
    parts = [f"{utcnow():%Y-%m-%dT%H:%M:%SZ}", f"user={user}", f"action={action}"]
    if target:
        parts.append(f"target={target}")
    for key, value in details.items():
        text = str(value)
        parts.append(
            f"{key}={text!r}" if not text or any(c.isspace() for c in text) else f"{key}={text}"
        )
    line = " ".join(parts)
    _ready().info(line)
    return line
