"""What the QR code on every printed page says, and the HMAC that proves this
installation issued it.

Payload: ``FD1|<form code>|<template version>|<document id>|<page>/<pages>|<copy>|<mac>``.
The MAC covers everything before it, so a tag copied from another installation (or typed
up by hand) is recognised as not issued here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date

PREFIX = "FD1"
MAC_HEX_CHARS = 16


@dataclass(frozen=True)
class PageIdentity:
    form_code: str
    version: int
    document_id: str
    page: int
    pages: int
    copy: int = 1  # 联: 1 for the first copy


@dataclass(frozen=True)
class DecodedIdentity:
    identity: PageIdentity
    authentic: bool  # the MAC matches this installation's key


class IdentityFormatError(ValueError):
    """A QR text that is not a formdesk page identity."""


def new_document_id(today: date | None = None) -> str:
    """Date-prefixed random id, e.g. 261127-3F9A2C1B7E: unique, short enough to type."""
    d = today or date.today()
    return f"{d:%y%m%d}-{secrets.token_hex(5).upper()}"


def _mac(body: str, key: bytes) -> str:
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()[:MAC_HEX_CHARS]


def encode(identity: PageIdentity, key: bytes) -> str:
    i = identity
    body = f"{PREFIX}|{i.form_code}|{i.version}|{i.document_id}|{i.page}/{i.pages}|{i.copy}"
    return f"{body}|{_mac(body, key)}"


def decode(text: str, key: bytes) -> DecodedIdentity:
    parts = text.strip().split("|")
    if len(parts) != 7 or parts[0] != PREFIX:
        raise IdentityFormatError(f"不是本系统打印的表单二维码:{text[:40]!r}")
    _, code, version, doc_id, page_of, copy, mac = parts
    try:
        page, pages = (int(x) for x in page_of.split("/"))
        identity = PageIdentity(code, int(version), doc_id, page, pages, int(copy))
    except ValueError:
        raise IdentityFormatError(f"二维码内容损坏:{text[:40]!r}") from None
    body = text.strip().rsplit("|", 1)[0]
    return DecodedIdentity(identity, hmac.compare_digest(mac, _mac(body, key)))


# -- the mark formdesk signs its own PDFs with ---------------------------------------------
ISSUE_PREFIX = "FDPDF1"


def sign_issue(document_ids: list[str], key: bytes) -> str:
    """The text of a PDF's /FormdeskIssue entry (document information dictionary):
    ``FDPDF1|<id>,<id>,…|<mac>``, the MAC covering the ids this PDF prints.  A PDF that
    carries it with a valid MAC, for the document on the page, was written by this
    installation, so its text layer is what it printed (see extract/text_layer.py)."""
    body = f"{ISSUE_PREFIX}|{','.join(document_ids)}"
    return f"{body}|{_mac(body, key)}"


def verify_issue(text: str | None, key: bytes) -> frozenset[str]:
    """The document ids an issue mark vouches for; empty when there is no mark, it is
    malformed, or it was signed with another key."""
    if not text:
        return frozenset()
    body, _, mac = text.strip().rpartition("|")
    prefix, _, ids = body.partition("|")
    if prefix != ISSUE_PREFIX or not hmac.compare_digest(mac, _mac(body, key)):
        return frozenset()
    return frozenset(i for i in ids.split(",") if i)
