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
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,5})?$")
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
    digits = phone.replace(" ", "")
    if _MOBILE.match(digits) or _LANDLINE.match(digits) or _SERVICE.match(digits):
        return None
    return f"电话号码格式不对:{phone}(手机11位,座机如 0731-84561234)"
