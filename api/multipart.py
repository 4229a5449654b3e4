"""Multipart forms as careless users and their tools send them: two adaptations of
Starlette's form parser, and its English refusals said in Chinese.

1. Long part headers. python-multipart refuses a part header line longer than 4,224 bytes,
   and Starlette then refuses the whole request ("Invalid multipart data."): one file
   named with more than ~1,400 Chinese characters lost its whole batch. Here a line may
   have PART_HEADER_BYTES (64 KiB: a file name of about 20,000 Chinese characters as
   browsers send it, raw UTF-8); the name is then shortened where every upload name is
   (api.filenames.neutral_filename, 200 characters, the extension kept). The bound stays:
   at most 8 header lines of a part are buffered (python-multipart's default), so a part's
   headers cost at most 512 KiB.
2. Files without a file name. A part with no `filename` is a text field to Starlette, even
   when it says it is `image/jpeg`: httpx sends a file named "" that way, and the upload
   was refused as a text field "too long". A part whose Content-Type is given and is not
   text/* is taken as a file named "" (RFC 7578 §4.4: a text field's type defaults to
   text/plain), stored as 未命名文件 like any nameless upload.
3. `reason()` turns Starlette's English multipart refusals into Chinese (api.app uses it).

`install()` puts 1 and 2 in place (idempotent); it changes Starlette's module globals
`starlette.formparsers.multipart` and `starlette.requests.MultiPartParser`, the only places
Starlette builds these parsers (Starlette 1.x). tests/hostile/test_upload_names.py checks
both on a served process, so a Starlette that builds them elsewhere fails there.
"""

from __future__ import annotations

import re
import types

import python_multipart
import starlette.formparsers as formparsers
import starlette.requests as requests
from python_multipart.multipart import parse_options_header

PART_HEADER_BYTES = 64 * 1024


class LongHeaderParser(python_multipart.MultipartParser):
    """python-multipart's parser with part header lines up to PART_HEADER_BYTES."""

    def __init__(self, boundary, callbacks=None, max_size=float("inf"), **limits) -> None:
        limits.setdefault("max_header_size", PART_HEADER_BYTES)
        super().__init__(boundary, callbacks, max_size, **limits)


class NamelessFileParts(formparsers.MultiPartParser):
    """Starlette's parser, taking a part without a file name but with a non-text
    Content-Type as a file named ""."""

    def on_headers_finished(self) -> None:
        part = self._current_part
        _, options = parse_options_header(part.content_disposition)
        if b"filename" not in options and _declares_file(part.item_headers):
            part.content_disposition = (part.content_disposition or b"") + b'; filename=""'
        super().on_headers_finished()


def _declares_file(headers: list[tuple[bytes, bytes]]) -> bool:
    """The part says a Content-Type other than text/*."""
    for name, value in headers:
        if name == b"content-type":
            kind = value.split(b";")[0].strip().lower()
            return bool(kind) and not kind.startswith(b"text/")
    return False


def install() -> None:
    """Puts the two parsers in Starlette's place (see the module doc); idempotent."""
    formparsers.multipart = types.SimpleNamespace(
        MultipartParser=LongHeaderParser, QuerystringParser=python_multipart.QuerystringParser
    )
    requests.MultiPartParser = NamelessFileParts


# Starlette's (and its multipart parser's) English reasons, said in Chinese
_REASONS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"Invalid multipart data\."),
        "上传内容无法解析:multipart 格式不对,或某一部分的头部超过 "
        f"{PART_HEADER_BYTES // 1024} KB(例如文件名过长)",
    ),
    (re.compile(r"Missing boundary in multipart\."), "上传内容缺少 multipart 分隔符(boundary)"),
    (
        re.compile(r'The Content-Disposition header field "name" must be provided\.'),
        "上传内容的某一部分缺少字段名(Content-Disposition 的 name)",
    ),
    (
        re.compile(r"Too many files\. Maximum number of files is (\d+)\."),
        r"文件太多:一次最多 \1 个",
    ),
    (
        re.compile(r"Too many fields\. Maximum number of fields is (\d+)\."),
        r"表单字段太多:最多 \1 个",
    ),
    (
        re.compile(r"(?:Part|Field) exceeded maximum size of (\d+)KB\."),
        r"表单字段过大:最多 \1 KB(上传文件时请带上文件名)",
    ),
]


def reason(detail: str) -> str | None:
    """The Chinese reason for one of Starlette's multipart refusals, else None."""
    for pattern, chinese in _REASONS:
        if pattern.fullmatch(detail):
            return pattern.sub(chinese, detail)
    return None
