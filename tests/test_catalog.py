"""The catalog holds every form the seed names, with the seed's own words."""

from __future__ import annotations

from pathlib import Path

import pytest

from formdesk.templates import FieldType, load_catalog
from formdesk.templates.schema import SCALAR_TYPES

from .conftest import RECORDS, ROOT

SEED_CODES = [f"SH-ZH/BD-{n}" for n in (20, 21, 22, 23, 24, 25, 27, 30, 31)] + [
    f"表格{n:02d}" for n in range(1, 19)
]


def test_every_seed_form_is_in_the_catalog():
    catalog = load_catalog()
    assert sorted(catalog) == sorted(SEED_CODES)
    assert "SH-ZH/BD-26" not in catalog and "SH-ZH/BD-28" not in catalog
    readme = (ROOT / "templates" / "README.md").read_text(encoding="utf-8")
    assert "SH-ZH/BD-26" in readme and "SH-ZH/BD-28" in readme


@pytest.mark.parametrize(
    "code,notes",
    [
        (
            "SH-ZH/BD-24",
            ["注:此表请于次月5日前寄我公司市场组,它是考核贵站维修工作的主要依据之一。"],
        ),
        (
            "SH-ZH/BD-25",
            [
                "此表只填写三包期内车辆",
                "每月返回售后服务部两次,做为三包件兑换依据,不反馈不予兑换配件",
            ],
        ),
        ("SH-ZH/BD-27", ["注:请在上面画圈标明所使用零部件的产地"]),
        ("SH-ZH/BD-31", ["注:如与清单数量不符者,请及时与本中心联系。"]),
    ],
)
def test_seed_notes_are_printed_verbatim(code, notes):
    printed = "".join(load_catalog()[code].notes)
    for note in notes:
        assert note in printed


def test_seed_labels_are_used_exactly():
    c = load_catalog()
    labels = {code: {f.label for f in t.fields} for code, t in c.items()}
    assert {
        "来件单位",
        "型号",
        "购买日期",
        "发动机号",
        "修理日期",
        "车架号码",
        "行驶里程",
        "零部件名称",
        "零部件编号",
        "初步确认",
        "检查结果",
    } <= labels["SH-ZH/BD-27"]
    origin = next(f for f in c["SH-ZH/BD-27"].fields if f.type == FieldType.circle_choice)
    assert origin.options == ["日产零部件", "国产零部件"]
    repair_kind = [
        f for f in c["表格04"].fields if f.type == FieldType.choice and "机电" in f.options
    ]
    assert repair_kind and repair_kind[0].options[:3] == ["机电", "钣喷", "改装"]
    assert {"单位名称", "时间", "编号", "装箱人"} <= labels["SH-ZH/BD-31"]
    assert {"工单号", "汽车客服人员"} <= labels["表格18"]
    assert c["SH-ZH/BD-24"].copies[0] == "第一联维修单位存"


def test_every_field_type_is_used_somewhere():
    used = set()
    for t in load_catalog().values():
        for f in t.fields:
            used.add(f.type)
            used.update(c.type for c in f.columns)
    assert used >= set(SCALAR_TYPES) | {FieldType.table}


def test_designed_templates_say_so_and_every_template_has_a_sample():
    for t in load_catalog().values():
        assert t.source_note.strip(), t.code
        assert (RECORDS / f"{t.slug}.json").is_file(), t.code
        if t.fields_source != "seed":
            assert any(w in t.source_note for w in ("设计", "designed")), t.code


def test_tags_are_small_and_ganged():
    c = load_catalog()
    for code in ("SH-ZH/BD-27", "SH-ZH/BD-30"):
        assert c[code].paper.size == "A6" and c[code].per_sheet == 4


def test_template_files_live_in_the_package():
    import formdesk.templates

    forms = Path(formdesk.templates.__file__).parent / "forms"
    assert len(list(forms.glob("*.yaml"))) == len(load_catalog())
