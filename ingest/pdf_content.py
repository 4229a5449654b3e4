"""What one decoded PDF content stream asks of a renderer and a text extractor, measured
with a few C-speed regular-expression passes, without interpreting it.

PDFium turns every drawing or text operator into a page object of ~350 bytes, and
pdfplumber turns every character shown into a dict of ~2 KB, so a 10 KB file whose one
stream holds `(A) Tj` a million times, or one string of three million characters, is enough
to exhaust memory.  `scan` gives upper bounds of both, and the Form XObjects the stream
invokes by name (each `Do` repeats the form's whole cost; PDFium and pdfminer both expand a
form at every invocation).

The counts are upper bounds, never underestimates an attacker could arrange:
- operators: every bare keyword, also words inside strings and comments (overcounts);
- text: every byte of every literal string (an escape counts two, a two-byte code two) and
  half of every hex string's digits: each shown character takes at least one byte;
- a comment is not skipped (`%` only ends a token), so no operator hides in one; bytes that
  the scan takes for a string are text, bounded by the text limit, so a string it misplaces
  can hide at most that many bytes of operators.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice

# PDF delimiters and white space (ISO 32000-1, 7.2.2 and 7.2.3).
_DELIM = rb"\x00\t\n\x0c\r ()<>\[\]{}/%"
# A bare keyword: operators (re, f, Tj, ', ", BT ...) and true/false/null.
_KEYWORD = re.compile(rb"(?:(?<=[" + _DELIM + rb"])|^)[A-Za-z'\"][^" + _DELIM + rb"]*")
_DO = re.compile(rb"/([^" + _DELIM + rb"]*)[\x00\t\n\x0c\r ]*Do(?![^" + _DELIM + rb"])")
_HEX_STRING = re.compile(rb"<([0-9A-Fa-f\x00\t\n\x0c\r ]*)>")
_WHITE = b"\x00\t\n\x0c\r "
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# Inside a literal string: everything up to the next unescaped parenthesis.
_STRING_BODY = re.compile(rb"[^()\\]*(?:\\.[^()\\]*)*", re.DOTALL)


class ContentTooComplex(ValueError):
    """One stream alone has more than `max_operators` operators (`operators`), or more
    string parentheses and escapes than that (`strings`, about half of them): scanning its
    strings one parenthesis at a time would itself be unbounded work."""

    def __init__(self, operators: int = 0, strings: int = 0):
        super().__init__(operators, strings)
        self.operators = operators
        self.strings = strings


@dataclass
class StreamCost:
    """One decoded content stream: `size` bytes, at most `operators` operators and `text`
    shown characters of its own; `calls` counts `/Name Do` invocations by resource name."""

    size: int
    operators: int
    text: int
    calls: Counter[str] = field(default_factory=Counter)


def scan(data: bytes, max_operators: int) -> StreamCost:
    """Measures one decoded content stream (bytes).

    Raises ContentTooComplex when the stream alone has more than `max_operators`
    operators, or more than that many parentheses and backslashes together (each costs one
    Python step here; formdesk's pages have a few thousand).
    """
    operators = _count(_KEYWORD, data, max_operators + 1)
    if operators > max_operators:
        raise ContentTooComplex(operators=operators)
    specials = data.count(b"(") + data.count(b")") + data.count(b"\\")
    if specials > max_operators:
        raise ContentTooComplex(strings=specials // 2)
    hex_text = sum(len(m.translate(None, _WHITE)) for m in _HEX_STRING.findall(data)) // 2
    calls: Counter[str] = Counter()
    if operators:
        for m in _DO.finditer(data):  # each a keyword too, so bounded by `operators`
            calls[_name(m[1])] += 1
    return StreamCost(len(data), operators, _literal_bytes(data) + hex_text, calls)


def _count(pattern: re.Pattern[bytes], data: bytes, stop: int) -> int:
    """Matches of `pattern` in `data`, counting no further than `stop`."""
    return sum(1 for _ in islice(pattern.finditer(data), stop))


def _literal_bytes(data: bytes) -> int:
    """Bytes inside literal strings, nested parentheses and escapes as PDF reads them: an
    unescaped `(` opens (or nests), `)` closes; a backslash escapes only inside a string.
    One step per string or nested parenthesis, bounded by the caller's token check."""
    total = 0
    pos = data.find(b"(")
    while pos >= 0:
        depth, start, i = 1, pos, pos + 1
        while depth and i < len(data):
            i = _STRING_BODY.match(data, i).end()
            if i >= len(data):
                break
            depth += 1 if data[i] == 0x28 else -1  # 0x28 is "("
            i += 1
        total += i - start
        pos = data.find(b"(", i)
    return total


def _name(raw: bytes) -> str:
    """A name token as pypdf gives resource keys: `#xx` escapes decoded, with the slash."""
    decoded = _NAME_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), raw)
    return "/" + decoded.decode("utf-8", "surrogateescape")
