"""How many objects a PDF file asks its parser to index, counted in the raw bytes before
PDFium, pypdf or pdfminer opens it.

Every parser builds a table entry for every object the cross-reference data names: a 4 MB
file whose object stream lists a million objects costs PDFium ~220 MB, pypdf ~220 MB and
1.2 s; a 44 MB file with a million plain objects costs pypdf 4 s and 340 MB (measured).
Both views of the file are counted, each an upper bound of what a parser reads from it:
the body (object headers `n g obj`, plus the /N of every object stream) and the index
(cross-reference table entries, plus the entries every cross-reference stream declares
through /Index or /Size).  Counting stops as soon as the limit is passed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .errors import IngestError

_WS = rb"[\x00\t\n\x0c\r ]"
_OBJ_HEADER = re.compile(rb"(?<![0-9])[0-9]{1,10}" + _WS + rb"+[0-9]{1,5}" + _WS + rb"*obj\b")
_XREF_ENTRY = re.compile(rb"[0-9]{10}" + _WS + rb"[0-9]{5}" + _WS + rb"[fn]")
_STREAM_TYPE = re.compile(rb"/Type" + _WS + rb"*/(XRef|ObjStm)\b")
_INDEX = re.compile(rb"/Index" + _WS + rb"*\[([0-9\x00\t\n\x0c\r ]*)\]")
_SIZE = re.compile(rb"/Size" + _WS + rb"+([0-9]{1,12})\b")
_N = re.compile(rb"/N" + _WS + rb"+([0-9]{1,12})\b")
# How far a stream's dictionary may reach around its /Type entry.
_DICT_WINDOW = 4096


def too_many_objects(count: int | None, limit: int) -> IngestError:
    """The refusal; `count` None when counting stopped at the limit."""
    many = f"{count} 个" if count is not None else f"超过 {limit} 个"
    return IngestError(f"PDF 对象过多({many},上限 {limit} 个)")


def check_object_count(data: bytes, limit: int) -> int:
    """The larger of the body's and the index's object counts (see the module doc);
    IngestError when it is over `limit`."""
    body = index = 0
    for kind, n in _declared(data, limit):
        if kind == b"ObjStm":
            body += n
        else:
            index += n
        if max(body, index) > limit:
            raise too_many_objects(None, limit)
    body = _count(_OBJ_HEADER, data, body, limit)
    index = _count(_XREF_ENTRY, data, index, limit)
    return max(body, index)


def _count(pattern: re.Pattern[bytes], data: bytes, start: int, limit: int) -> int:
    """`start` plus the matches of `pattern`, stopping (IngestError) past `limit`."""
    n = start
    for _ in pattern.finditer(data):
        n += 1
        if n > limit:
            raise too_many_objects(None, limit)
    return n


def _declared(data: bytes, limit: int) -> Iterator[tuple[bytes, int]]:
    """(b"XRef" or b"ObjStm", entries it declares) for each such stream dictionary.

    An unreadable count (indirect, missing) counts 1: pypdf and PDFium bound what they
    then read by the stream's decoded length, which the page budgets do not cover, but a
    cross-reference stream larger than `limit` entries is refused by pypdf itself
    (`xref_stream_maximum_entries`)."""
    for seen, m in enumerate(_STREAM_TYPE.finditer(data), start=1):
        if seen > limit:
            raise too_many_objects(None, limit)
        head = data.rfind(b"obj", max(0, m.start() - _DICT_WINDOW), m.start())
        tail = data.find(b"stream", m.end(), m.end() + _DICT_WINDOW)
        window = data[head if head >= 0 else m.start() : tail if tail >= 0 else m.end()]
        if m[1] == b"ObjStm":
            n = _N.search(window)
            yield m[1], int(n[1]) if n else 1
            continue
        index = _INDEX.search(window)
        if index:
            numbers = [int(x) for x in index[1].split()[: 2 * limit + 2]]
            yield m[1], max(1, sum(numbers[1::2]))
        else:
            size = _SIZE.search(window)
            yield m[1], int(size[1]) if size else 1
