"""Every text cell of a claims file is checked and bounded (issue 9, red-team finding: a
1,000-character 零件名称 was imported and then broke the reconciliation report; U+202E,
ESC, DEL, U+0085, U+2028, VT and FF were imported into claims).

The characters are refused by the rule print data and corrections follow
(`templates.values.text`); each refusal is a RowProblem naming its line and column.
"""

from __future__ import annotations

import csv
import io
import time

import pytest
from openpyxl import Workbook

from formdesk.ingest.claims import COLUMNS, ClaimFileError, RowProblem, read_claims

from .test_claims_import import HEADER, row, table


def csv_file(rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(table(rows))
    return buf.getvalue().encode("utf-8")


def xlsx_file(rows: list[dict[str, str]]) -> bytes:
    wb = Workbook()
    for line in table(rows):
        wb.active.append(line)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def problems(data: bytes, name: str = "c.csv") -> list[RowProblem]:
    with pytest.raises(ClaimFileError) as info:
        read_claims(data, name, source="t")
    assert "\n" not in str(info.value)
    return info.value.problems


def only_problem(data: bytes, name: str = "c.csv") -> RowProblem:
    found = problems(data, name)
    assert len(found) == 1, found
    return found[0]


# the red team's characters (/tmp/redteam/ctrl_chars.py), each in the middle of a name
REFUSED = {
    "\u202e": "含有双向文字控制符(U+202E",
    "\x1b[31m": "含有控制字符(U+001B)",
    "\x7f": "含有控制字符(U+007F)",
    "\x85": "含有控制字符(U+0085)",
    "\u2028": "含有换行符(U+2028),此处只能填一行",
    "\x0b": "含有控制字符(U+000B)",
    "\x0c": "含有控制字符(U+000C)",
    "\n": "含有换行或制表符(U+000A),此处只能填一行",
    "\x00": "含有空字符(U+0000)",
}


@pytest.mark.parametrize("bad", list(REFUSED), ids=[f"U+{ord(c[0]):04X}" for c in REFUSED])
def test_refused_characters_in_a_csv_name_each_a_problem_naming_line_and_column(bad):
    rows = [row(1), row(2, 零件名称=f"水泵{bad}总成")]
    if bad == "\x00":  # a NUL early in a file is taken for UTF-16 / binary: put it later
        rows = [row(n) for n in range(1, 400)] + [row(400, 零件名称=f"水泵{bad}总成")]
    found = only_problem(csv_file(rows))
    assert found.line == len(rows) + 1 and found.column == "零件名称"
    assert found.reason.startswith(REFUSED[bad])


@pytest.mark.parametrize("bad", ["\u202e", "\x85", "\u2028", "\u2066"])
def test_refused_characters_in_an_xlsx_are_refused_alike(bad):
    """What XML can hold (C0 controls it cannot): bidi controls, NEL, line separators."""
    found = only_problem(xlsx_file([row(1, 车型=f"EQ{bad}1180")]), "c.xlsx")
    assert (found.line, found.column) == (2, "车型")
    assert f"U+{ord(bad):04X}" in found.reason


def test_every_column_checks_its_text():
    """Codes, names, dates and numbers alike: the check runs before any parser."""
    bad = {label: f"1{chr(0x202E)}2" for label in HEADER}
    found = problems(csv_file([row(1, **bad)]))
    assert sorted(p.column for p in found) == sorted(HEADER)
    assert all("U+202E" in p.reason and p.line == 2 for p in found)


def test_line_breaks_are_allowed_in_the_fault_description_only():
    claims = read_claims(
        csv_file([row(1, 故障描述="转向沉重\n转向器漏油\t(复查)")]), "c.csv", source="t"
    )
    assert claims[0].fault_description == "转向沉重\n转向器漏油\t(复查)"
    found = only_problem(csv_file([row(1, 故障描述="漏\x0c油")]))
    assert (found.column, found.reason) == ("故障描述", "含有控制字符(U+000C),不允许")


def test_line_breaks_and_spaces_around_a_value_are_trimmed():
    claims = read_claims(csv_file([row(1, 零件编号=" 3411010-K2000\r\n")]), "c.csv", source="t")
    assert claims[0].part_no == "3411010-K2000"


def test_zero_width_characters_and_a_bom_inside_values_are_removed():
    """Invisible, meaningless here, and a number keeping one would not match the same
    number on a returned part's tag (see the module doc of ingest.claims)."""
    claims = read_claims(
        csv_file(
            [
                row(1, 索赔单号="\ufeffSP2611-001", 零件编号="3411010\u200b-K2000"),
                row(2, 零件名称="动力\u200d转向器\u00ad总成", 车型="EQ1180\u2060GZ"),
            ]
        ),
        "c.csv",
        source="t",
    )
    assert [c.claim_no for c in claims] == ["SP2611-001", "SP2611-002"]
    assert claims[0].part_no == "3411010-K2000"
    assert (claims[1].part_name, claims[1].vehicle_model) == ("动力转向器总成", "EQ1180GZ")
    found = only_problem(csv_file([row(1, 零件名称="\u200b\u200b")]))
    assert found.column == "零件名称" and found.reason.startswith("只有不可见的字符")


LIMITS = {
    "索赔单号": 40,
    "维修站": 100,
    "车架号": 40,
    "发动机号": 40,
    "车型": 100,
    "零件编号": 40,
    "零件名称": 200,
    "故障描述": 2000,
    "数量": 40,
    "购买日期": 40,
    "维修日期": 40,
    "行驶里程": 40,
    "工时费": 40,
    "材料费": 40,
}


def test_every_column_has_its_length_limit():
    assert {c.label: c.max_chars for c in COLUMNS.values()} == LIMITS


@pytest.mark.parametrize(
    ("label", "fill"),
    [("零件名称", "泵"), ("故障描述", "漏"), ("车型", "E"), ("维修站", "站"), ("零件编号", "P")],
)
def test_text_at_its_limit_is_stored_and_one_more_character_refused(label, fill):
    limit = LIMITS[label]
    claims = read_claims(csv_file([row(1, **{label: fill * limit})]), "c.csv", source="t")
    key = next(k for k, c in COLUMNS.items() if c.label == label)
    assert getattr(claims[0], key) == fill * limit
    found = only_problem(csv_file([row(1, **{label: fill * (limit + 1)})]))
    assert (found.line, found.column) == (2, label)
    assert found.reason == f"内容太长:最多 {limit} 个字符,实际 {limit + 1} 个"


@pytest.mark.exclusive  # times itself (tests/exclusive.py)
def test_the_red_teams_1000_character_part_name_is_refused():
    """/tmp/redteam/longtext_claim2.py; and 100,000 characters (longtext_claim.py) in the
    description, just under the CSV field limit, quickly."""
    found = only_problem(csv_file([row(1, 零件名称=("水泵总成" * 250))]))
    assert found.reason == "内容太长:最多 200 个字符,实际 1000 个"
    start = time.monotonic()
    found = only_problem(csv_file([row(1, 故障描述="漏水" * 50_000)]))
    assert found.reason == "内容太长:最多 2000 个字符,实际 100000 个"
    assert time.monotonic() - start < 1


def test_text_that_normalising_lengthens_is_measured_as_stored():
    """NFKC, which codes get, turns ㍿ into 株式会社: 20 characters as typed, 80 as
    stored. A name keeps it as typed (only full-width ASCII becomes ASCII there)."""
    found = only_problem(csv_file([row(1, 零件编号="㍿" * 20)]))
    assert found.reason == "内容太长:最多 40 个字符,实际 80 个"
    (claim,) = read_claims(csv_file([row(1, 零件名称="㍿" * 60)]), "c.csv", source="t")
    assert claim.part_name == "㍿" * 60


@pytest.mark.parametrize(
    ("label", "value", "reason"),
    [
        ("数量", "1e1000000", "“1e1000000”不能大于 999"),  # int() of it: half a minute
        ("数量", "Infinity", "“Infinity”不是整数"),
        ("数量", "sNaN", "“sNaN”不是整数"),
        ("数量", "1000", "“1000”不能大于 999"),
        ("行驶里程", "2000001", "“2000001”不能大于 2000000"),
        ("行驶里程", "1e99999999", "“1e99999999”不能大于 2000000"),
        ("工时费", "1000000000", "“1000000000”不能大于 999999999.99"),
    ],
)
def test_numbers_are_bounded_before_they_are_converted(label, value, reason):
    start = time.monotonic()
    found = only_problem(csv_file([row(1, **{label: value})]))
    assert time.monotonic() - start < 1
    assert (found.column, found.reason) == (label, reason)


def test_numbers_at_their_limits_are_stored():
    claims = read_claims(
        csv_file([row(1, 数量="999", 行驶里程="2,000,000", 工时费="999999999.99")]),
        "c.csv",
        source="t",
    )
    assert (claims[0].quantity, claims[0].mileage_km) == (999, 2_000_000)
    assert str(claims[0].labor_fee) == "999999999.99"


def test_an_unknown_header_is_quoted_short_and_without_refused_characters():
    header = [*HEADER[:-1], "备注\u202e" + "注" * 500]
    data = io.StringIO()
    csv.writer(data).writerows(table([row(1)], header=[*header[:6], "零件", *header[7:]]))
    found = only_problem(data.getvalue().encode())
    assert "“备注" + "注" * 22 + "…”" in found.reason
    assert "\u202e" not in found.reason and len(found.reason) < 300
