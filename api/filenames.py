"""File names from users: neutralised once when they arrive, and put safely into
Content-Disposition headers when files leave.

An uploaded name is shown back in lists, batch errors and download headers; a right-to-
left override (U+202E) in `invoice\u202efdp.exe` shows as `invoiceexe.pdf`, a control
character can break a header or a log line. Such characters (templates/values/text.py:
C0/C1 controls, bidi controls U+202A–202E, U+2066–2069, U+200E/200F, U+061C, line
separators, lone surrogates; Unicode TR36 §2.1, UTS #39 §3.3) are removed, not refused:
the file itself is fine.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from formdesk.templates.values.text import remove_refused

MAX_NAME_CHARS = 200
UNNAMED = "未命名文件"
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def neutral_filename(name: str | None, default: str = UNNAMED) -> str:
    """`name` as formdesk stores and shows it: its last path component, without the
    characters above, trimmed, at most MAX_NAME_CHARS characters (the extension kept);
    `default` when nothing is left or only dots and spaces are (`.`, `..`: a path's
    parts, never a file's name, which would read as one in a download or a shell)."""
    text = remove_refused((name or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if len(text) > MAX_NAME_CHARS:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            text = stem[: MAX_NAME_CHARS - len(ext) - 1] + "." + ext
        else:
            text = text[:MAX_NAME_CHARS]
    return text if text.strip(". ") else default


def content_disposition(name: str, fallback: str | None = None) -> str:
    """`attachment` with the (neutralised) name as RFC 6266/5987 `filename*` (UTF-8,
    percent-encoded, so nothing in it can end the header) and an ASCII `filename` for old
    clients: `fallback`, else the name with every other character replaced by `_`."""
    name = neutral_filename(name)
    ascii_name = _ASCII_UNSAFE.sub("_", fallback if fallback is not None else name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
