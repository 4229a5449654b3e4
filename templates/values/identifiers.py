"""Plate numbers, engine numbers and phone numbers as Chinese forms write them."""

from __future__ import annotations

import re

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# 7 characters (ordinary) or 8 (new-energy: D/F after the city letter, or at the end for trucks)
_PLATE = re.compile(
    rf"^[{PROVINCES}][A-HJ-NP-Z](?:[A-HJ-NP-Z0-9]{{4}}[A-HJ-NP-Z0-9挂学警港澳]"
    rf"|[DF][A-HJ-NP-Z0-9]\d{{4}}|\d{{5}}[DF])$"
)
_ENGINE = re.compile(r"^[0-9A-Z][0-9A-Z\-]{4,19}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# China's numbering plan: the 3-digit area codes (with the trunk 0) are 010 and 02x, whose
# local numbers have 8 digits; every other code has 4 digits (03xx-09xx), with 7- or
# 8-digit local numbers; no local number begins with 0 or 1.
_LANDLINE = re.compile(
    r"^(?:(?P<big>010|02\d)-?[2-9]\d{7}|(?P<code>0[3-9]\d{2})-?[2-9]\d{6,7})(-\d{1,5})?$"
)
_SERVICE = re.compile(r"^(400|800)-?\d{3}-?\d{4}$")


def plate_problem(plate: str) -> str | None:
    if _PLATE.match(plate):
        return None
    return f"车牌号格式不对:{plate}(应如 湘A12345,新能源 粤AD12345)"


def engine_no_problem(engine_no: str) -> str | None:
    if _ENGINE.match(engine_no):
        return None
    return f"发动机号格式不对:{engine_no}(5–20位大写字母、数字或-)"


def phone_problem(phone: str) -> str | None:
    """None for a mobile number (1[3-9] + 9 digits), a landline in China's numbering plan
    (area code 010/02x + 8 digits, or 0[3-9]xx + 7–8 digits; extension after a second -)
    or a 400/800 service number; otherwise the reason, in Chinese."""
    digits = phone.replace(" ", "")
    if _MOBILE.match(digits) or _LANDLINE.match(digits) or _SERVICE.match(digits):
        return None
    return f"电话号码格式不对:{phone}(手机11位,座机如 0731-84561234)"


def canonical_phone(phone: str) -> str:
    """A valid phone number as forms write it: a landline's area code set off by `-`
    (073184561234 → 0731-84561234: the numbering plan fixes where the code ends, so a `-`
    the writer left out, or OCR did not see, is put back); anything else unchanged but
    for spaces.  Call after `phone_problem` found nothing."""
    digits = phone.replace(" ", "")
    m = _LANDLINE.match(digits)
    if not m:
        return digits
    code = m.group("big") or m.group("code")
    rest = digits[len(code) :].lstrip("-")
    return f"{code}-{rest}"
