"""Which characters a piece of text formdesk accepts: one rule for field values, request
fields and file names, so the service never stores or shows what it cannot handle.

Refused, everywhere:
- lone surrogates (U+D800–U+DFFF): not characters at all, they cannot be written as UTF-8
  (Unicode §3.9, D76) and break the store, PDFs and spreadsheets;
- C0 and C1 control characters (U+0000–U+001F, U+007F–U+009F), NUL included; tab, line
  feed and carriage return only where the text may span lines;
- bidirectional formatting characters (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
  U+061C): invisible, they reorder what is shown, so a name can be spoofed ("Trojan
  Source"; Unicode TR36 §2.1 / UTS #39 §3.3, UAX #9 §2);
- line and paragraph separators (U+2028, U+2029) outside multi-line text;
- the noncharacters U+FFFE and U+FFFF (Unicode §23.7), which XML cannot hold.
"""

from __future__ import annotations

import re

MULTILINE_ALLOWED = frozenset("\t\n\r")
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
_SEPARATORS = frozenset("\u2028\u2029")
# every character any rule below may refuse: one regex scan finds candidates fast
_SUSPECT = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069"
    "\u200e\u200f\u061c\u2028\u2029\ufffe\uffff]"
)


def describe(ch: str) -> str:
    """The Chinese reason one refused character is refused, with its code point (U+XXXX)."""
    cp = ord(ch)
    code = f"U+{cp:04X}"
    if 0xD800 <= cp <= 0xDFFF:
        return f"含有无效的 Unicode 字符({code},孤立的代理项,不能保存为 UTF-8)"
    if cp == 0:
        return f"含有空字符({code}),不允许"
    if cp <= 0x1F or 0x7F <= cp <= 0x9F:
        return f"含有控制字符({code}),不允许"
    if ch in BIDI_CONTROLS:
        return f"含有双向文字控制符({code},可改变文字显示顺序、伪装内容,见 Unicode TR36),不允许"
    if ch in _SEPARATORS:
        return f"含有换行符({code}),此处只能填一行"
    return f"含有非字符({code}),不允许"


def refused_char(text: str, *, multiline: bool = False) -> str | None:
    """The first character of `text` that the rules above refuse, else None.

    `multiline`: tab, line feed, carriage return and U+2028/U+2029 are allowed (multi-line
    text fields); a newline in a single-line value is refused like any control."""
    for m in _SUSPECT.finditer(text):
        ch = m.group()
        if multiline and (ch in MULTILINE_ALLOWED or ch in _SEPARATORS):
            continue
        return ch
    return None


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """The Chinese reason `text` is refused (its first refused character), else None."""
    ch = refused_char(text, multiline=multiline)
    if ch is None:
        return None
    if ch in MULTILINE_ALLOWED:
        return f"含有换行或制表符(U+{ord(ch):04X}),此处只能填一行"
    return describe(ch)


def shown(value: object, limit: int = 24) -> str:
    """`value` as an error message may quote it: at most `limit` characters, strings in
    repr form (controls, bidi and surrogates escaped), so a 100 KB or control-laden input
    is never echoed back whole nor shown spoofed."""
    if not isinstance(value, str):
        text = str(value)
        return text if len(text) <= limit else text[:limit] + "…"
    return repr(value if len(value) <= limit else value[:limit] + "…")


def remove_refused(text: str) -> str:
    """`text` without any character the single-line rule refuses (for names that are
    neutralised rather than refused, such as uploaded file names)."""
    return _SUSPECT.sub("", text)
