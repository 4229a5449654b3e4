"""Chinese reasons for FastAPI's request-validation errors (pydantic v2 error types).

A 422 names each bad parameter by where it was sent (路径 / 查询参数 / 请求体 / 表单) and says
what was wrong in Chinese; pydantic's English `msg` is never shown to users. Error types:
https://docs.pydantic.dev/latest/errors/validation_errors/
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: where a parameter came from (the first element of an error's `loc`)
PLACES = {"path": "路径", "query": "查询参数", "body": "请求体", "header": "请求头",
          "cookie": "Cookie", "form": "表单"}  # fmt: skip

#: pydantic v2 error type → Chinese text; `{…}` filled from the error's `ctx`
TEXTS = {
    "missing": "缺少此项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数,不能带小数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_parsing": "应为是/否(true/false)",
    "bool_type": "应为是/否(true/false)",
    "string_type": "应为文字",
    "string_too_short": "太短,至少 {min_length} 个字符",
    "string_too_long": "太长,最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不对",
    "too_short": "太少,至少 {min_length} 项",
    "too_long": "太多,最多 {max_length} 项",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "literal_error": "只能是 {expected} 之一",
    "enum": "只能是 {expected} 之一",
    "date_parsing": "应为日期(年-月-日)",
    "date_from_datetime_parsing": "应为日期(年-月-日)",
    "date_type": "应为日期(年-月-日)",
    "datetime_parsing": "应为日期时间",
    "datetime_from_date_parsing": "应为日期时间",
    "dict_type": "应为 JSON 对象",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "list_type": "应为列表",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "extra_forbidden": "不认识的参数",
    "uuid_parsing": "格式不对",
    "value_error": "取值不对",
    "assertion_error": "取值不对",
}


def _text(error: Mapping[str, Any]) -> str:
    """The Chinese text of one pydantic error (its `type`, `ctx`), "取值不对" when unknown."""
    text = TEXTS.get(str(error.get("type", "")), "取值不对")
    ctx = error.get("ctx") or {}
    try:
        return text.format(**{k: _plain(v) for k, v in ctx.items()})
    except (KeyError, IndexError, ValueError):
        return text.split(",")[0]


def _plain(value: Any) -> str:
    """A context value as users read it (pydantic writes literals as "'a' or 'b'")."""
    return str(value).replace("' or '", "、").replace("', '", "、").strip("'")


def reason(errors: Iterable[Mapping[str, Any]]) -> str:
    """ "请求参数不对:查询参数 limit 应为整数;请求体 paper 只能是 a4、a6 之一" from
    `RequestValidationError.errors()` (each error's `loc` is (place, name, …))."""
    parts = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ())]
        place = PLACES.get(loc[0], "") if loc else ""
        name = ".".join(loc[1:])
        where = " ".join(p for p in (place, name) if p)
        parts.append(f"{where} {_text(error)}".strip())
    return "请求参数不对:" + ";".join(parts)
