"""Odd text in a request is refused at the door with 422 naming the field, so no route
ever sees it (and none can answer 500 on it).

What a request carries is checked before any route runs:
- the path (at most MAX_PATH_CHARS characters) and every query parameter (at most
  MAX_FIELD_CHARS): UTF-8, one line;
- JSON bodies (at most MAX_JSON_BYTES, read into memory only up to that bound) at any
  depth: every key and string, at most MAX_DEPTH levels of nesting, every number finite
  and of at most MAX_INT_DIGITS digits (a string is bounded by the body; how long a
  field's value may be is the normaliser's rule, which names the field's label);
- urlencoded forms (as JSON, bounded) and the non-file fields of multipart forms
  (`guard_form`, once Starlette has parsed the form): at most MAX_FIELD_CHARS characters.

Characters are judged by one rule (formdesk.templates.values.text: lone surrogates, NUL,
C0/C1 controls, bidi controls per Unicode TR36/UTS #39); tab and newline are allowed in
bodies (multi-line fields) but not in the path or the query. Whether a value suits its
field (a date, an amount in range) is the field-value normaliser's job, not this one's.
File contents are not text and are not looked at here; uploaded file names are
neutralised, not refused (api/filenames.py).
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import unquote_plus, unquote_to_bytes

from fastapi import HTTPException, Request
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from formdesk.templates.values.text import text_problem

MAX_JSON_BYTES = 1024 * 1024
MAX_FIELD_CHARS = 4096
MAX_PATH_CHARS = 2048
MAX_DEPTH = 32
MAX_INT_DIGITS = 40
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
FILE_HINT = "(如果这是要上传的文件,请带上文件名或文件类型)"


class Refused(Exception):
    """A request field that is refused: `where` names it, `reason` says why (Chinese)."""

    def __init__(self, where: str, reason: str, status: int = 422):
        super().__init__(f"{where}:{reason}" if where else reason)
        self.where, self.reason, self.status = where, reason, status


def check_text(where: str, text: str, *, multiline: bool, limit: int | None) -> None:
    """Raises Refused when `text` is longer than `limit` characters or holds a character
    formdesk refuses (templates/values/text.py)."""
    if limit is not None and len(text) > limit:
        raise Refused(where, f"内容太长:最多 {limit} 个字符,实际 {len(text)} 个")
    if problem := text_problem(text, multiline=multiline):
        raise Refused(where, problem)


def check_path(scope: Scope) -> None:
    """The request path: UTF-8 once percent-decoded (servers replace what is not, which
    would hide it), one line, bounded."""
    raw = scope.get("raw_path")
    if raw is not None:
        if len(raw) > MAX_PATH_CHARS * 9:  # 9: a percent-encoded 3-byte character
            raise Refused("请求地址", f"内容太长:最多 {MAX_PATH_CHARS} 个字符")
        try:
            unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise Refused("请求地址", "不是有效的 UTF-8 文字") from None
    check_text("请求地址", scope["path"], multiline=False, limit=MAX_PATH_CHARS)


def check_query(query_string: bytes) -> None:
    """Every name and value of a query string: UTF-8, one line, bounded."""
    for pair in query_string.decode("latin-1").split("&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition("=")
        name = _decoded(raw_name, "请求参数")
        where = f"请求参数 {_label(name)}"
        check_text(where, name, multiline=False, limit=MAX_FIELD_CHARS)
        check_text(where, _decoded(raw_value, where), multiline=False, limit=MAX_FIELD_CHARS)


def check_urlencoded(body: bytes) -> None:
    """Every name and value of an urlencoded form body: UTF-8, bounded."""
    for pair in body.decode("latin-1").split("&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition("=")
        name = _decoded(raw_name, "表单字段")
        where = f"表单字段 {_label(name)}"
        check_text(where, name, multiline=False, limit=MAX_FIELD_CHARS)
        check_text(where, _decoded(raw_value, where), multiline=True, limit=MAX_FIELD_CHARS)


def check_json(body: bytes) -> None:
    """A JSON body at any depth: keys and strings (text rules), numbers finite and of at
    most MAX_INT_DIGITS digits, nesting at most MAX_DEPTH. A body that is not JSON at all
    is left to the route (FastAPI answers 422)."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise Refused("请求内容", f"嵌套层数过多(最多 {MAX_DEPTH} 层)") from None
    except json.JSONDecodeError:
        return
    except UnicodeDecodeError:
        raise Refused("请求内容", "不是有效的 UTF-8 文字") from None
    except ValueError:  # an integer of more than 4,300 digits
        raise Refused("请求内容", f"数字位数过多(最多 {MAX_INT_DIGITS} 位)") from None
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    while stack:
        path, value, depth = stack.pop()
        where = f"请求内容 {path}" if path else "请求内容"
        if depth > MAX_DEPTH:
            raise Refused(where, f"嵌套层数过多(最多 {MAX_DEPTH} 层)")
        if isinstance(value, str):
            check_text(where, value, multiline=True, limit=None)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise Refused(where, "数字无效(无穷大或非数字)")
        elif isinstance(value, int):
            if abs(value) >= 10**MAX_INT_DIGITS:
                raise Refused(where, f"数字位数过多(最多 {MAX_INT_DIGITS} 位)")
        elif isinstance(value, dict):
            for key, item in value.items():
                check_text(f"{where} 的键", key, multiline=False, limit=MAX_FIELD_CHARS)
                name = _label(key)
                stack.append((f"{path}.{name}" if path else name, item, depth + 1))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                stack.append((f"{path}[{i}]", item, depth + 1))


async def guard_form(request: Request) -> None:
    """App-wide dependency: the non-file fields of a multipart form, once Starlette has
    parsed it (files are never buffered twice). HTTPException 422 naming the field; a
    field too long to be text says how a file is sent instead (a part with neither a file
    name nor a file type is text, api.multipart)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return
    form = await request.form()
    for name, value in form.multi_items():
        where = f"表单字段 {_label(name)}"
        try:
            check_text(where, name, multiline=False, limit=MAX_FIELD_CHARS)
            if not isinstance(value, UploadFile):
                check_text(where, value, multiline=True, limit=MAX_FIELD_CHARS)
        except Refused as exc:
            hint = FILE_HINT if isinstance(value, str) and len(value) > MAX_FIELD_CHARS else ""
            raise HTTPException(422, str(exc) + hint) from None


class TextGuard:
    """ASGI middleware: path, query string, JSON and urlencoded bodies (see module doc)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_path(scope)
            check_query(scope.get("query_string", b""))
            kind = _body_kind(scope)
            if kind is not None:
                body = await _read_body(scope, receive)
                (check_json if kind == "json" else check_urlencoded)(body)
                receive = _replay(body, receive)
        except Refused as exc:
            await _refuse(send, exc)
            return
        await self.app(scope, receive, send)


def _body_kind(scope: Scope) -> str | None:
    """Which body this request carries that is checked here: "json", "form" or None.
    FastAPI reads a body without a content type as JSON, so it is checked as JSON too."""
    if scope["method"] not in BODY_METHODS:
        return None
    headers = dict(scope["headers"])
    ctype = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        return "form"
    if not ctype or ctype == "application/json" or ctype.endswith("+json"):
        return "json"
    return None


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    declared = dict(scope["headers"]).get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_JSON_BYTES:
        raise Refused("", _too_large(), status=413)
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_JSON_BYTES:
            raise Refused("", _too_large(), status=413)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(send: Send, exc: Refused) -> None:
    body = json.dumps(
        {"reason": str(exc), "status": exc.status}, ensure_ascii=False, separators=(",", ":")
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": exc.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _decoded(raw: str, where: str) -> str:
    try:
        return unquote_plus(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise Refused(where, "不是有效的 UTF-8 文字") from None


def _label(name: str) -> str:
    """A field name as a message may show it: short, and its odd characters escaped."""
    shown = name if len(name) <= 40 else name[:40] + "…"
    return shown if shown.isprintable() else repr(shown)


def _too_large() -> str:
    return f"请求内容过大(JSON 或表单最多 {MAX_JSON_BYTES // (1024 * 1024)} MB)"
