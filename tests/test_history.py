"""Values people confirmed on earlier records are what the reader reads the same field
against next time (store/history.py, extract/lexicon.py history lists; issue 10, point 2)."""

from __future__ import annotations

from formdesk.extract.lexicon import (
    Lexicon,
    frequent_list,
    history_list,
    near_known,
    rememberable,
)
from formdesk.services import records
from formdesk.store.history import history_lists

from .pages import scanned_tag
from .test_review_desk import OFFICE, make_record
from .test_store import new_scan, reading

FINDING = history_list("SH-ZH/BD-27", "preliminary_finding")
RESULT = history_list("SH-ZH/BD-27", "inspection_result")


def test_only_words_without_figures_are_remembered():
    assert rememberable("待料") and rememberable("更换正时皮带") and rememberable("压力低,断裂")
    assert not rememberable("机油4L")  # a figure: the next form's may differ by one
    assert not rememberable("1012010-A01") and not rememberable("2026-03-01")
    assert not rememberable("") and not rememberable("   ") and not rememberable("长" * 25)


def test_history_lists_take_text_fields_and_table_cells_most_often_confirmed_first():
    reviewed = [
        ("表格11", "borrowings", "purpose", "故障诊断"),
        ("表格11", "borrowings", "purpose", "测量缸压"),
        ("表格11", "borrowings", "purpose", "测量缸压 "),
        ("表格11", "borrowings", "quantity", 2),  # an integer column
        ("表格11", "borrowings", "plate", "湘A12345"),  # a plate, not text
        ("表格11", "borrowings", "tool_no", "T-180"),  # figures
        ("表格11", "record_month", None, "2026-03"),
        ("SH-ZH/BD-27", "preliminary_finding", None, "压力低"),
        ("SH-ZH/BD-27", "no_such_field", None, "压力低"),
        ("表格99", "purpose", None, "压力低"),  # no such form
    ]
    assert history_lists(reviewed) == {
        history_list("表格11", "purpose"): ["测量缸压", "故障诊断"],
        frequent_list("表格11", "purpose"): ["测量缸压"],  # confirmed twice
        FINDING: ["压力低"],
    }


def test_a_reading_one_character_from_a_phrase_confirmed_again_and_again_is_doubted():
    frequent = ["待料", "客户要求"]
    assert near_known("待科", frequent) == "待料"
    assert near_known("客户要 求", frequent) is None  # the phrase itself
    assert near_known("客户要球", frequent) == "客户要求"
    assert near_known("待", frequent) is None and near_known("待料了", frequent) is None
    assert near_known("加急", frequent) is None and near_known("", frequent) is None


def test_an_item_of_a_list_one_character_from_a_frequent_item_is_doubted():
    """随车物品 lists items whose combinations vary: 灭火器 read 天火器 (Long Cang, both
    models agreeing) in 天火器、行车记录仪 is doubted beside a frequent 灭火器; items of two
    characters are not (漏气 beside 漏油)."""
    frequent = ["灭火器", "行车记录仪", "漏油"]
    assert near_known("天火器、行车记录仪", frequent) == "灭火器"
    assert near_known("千斤顶,行车纪录仪", frequent) == "行车记录仪"
    assert near_known("灭火器、行车记录仪", frequent) is None  # every item known
    assert near_known("灭火器、千斤顶", frequent) is None  # a new item, not one away
    assert near_known("密封不良,漏气", frequent) is None  # two characters: left alone
    assert near_known("天火器", ["灭火器"]) == "灭火器"  # a whole value as before


def test_items_confirmed_again_and_again_are_frequent_though_their_lists_differ():
    reviewed = [
        ("表格04", "items_in_car", None, "灭火器、行车记录仪"),
        ("表格04", "items_in_car", None, "千斤顶、灭火器"),
        ("表格04", "items_in_car", None, "备胎"),
    ]
    lists = history_lists(reviewed)
    assert lists[frequent_list("表格04", "items_in_car")] == ["灭火器"]
    assert "灭火器" not in lists[history_list("表格04", "items_in_car")]  # read whole as before


def test_reviewed_text_values_become_the_fields_history(any_store):
    """On each store: a value a reviewer kept or typed in a text field joins that field's
    history (known_values); numbers and values with figures do not."""
    store = any_store
    assert not any(k.startswith("history:") for k in store.known_values())
    rec = make_record("D1")
    rec["fields"] += [
        reading("preliminary_finding", "压力低", "check", 0.7, label="初步确认"),
        reading("inspection_result", "电机烧毁", "check", 0.6, label="检查结果"),
    ]
    (summary,) = store.save_records(new_scan(store).sha256, [rec], "S01")
    rid = summary.record_id
    records.correct_field(store, OFFICE, rid, "preliminary_finding", "压力低")  # kept
    records.correct_field(store, OFFICE, rid, "inspection_result", "线圈烧坏")  # typed
    records.correct_field(store, OFFICE, rid, "mileage_km", "48,260")
    records.correct_field(store, OFFICE, rid, "part_no", "1012010-A01")
    known = store.known_values()
    history = {k: v for k, v in known.items() if k.startswith("history:")}
    assert history == {FINDING: ["压力低"], RESULT: ["线圈烧坏"]}
    assert known["part_no"] == []  # only claims give part numbers
    # a value changed again later was a slip: only the last one counts
    records.correct_field(store, OFFICE, rid, "inspection_result", "阀芯卡死")
    assert store.known_values()[RESULT] == ["阀芯卡死"]
    # confirmed on a second record too: a phrase people write again and again
    (other,) = store.save_records(new_scan(store, b"%PDF-1.7 two").sha256, [rec], "S01")
    records.correct_field(store, OFFICE, other.record_id, "preliminary_finding", "压力低")
    known = store.known_values()
    assert known[FINDING] == ["压力低"] and known[frequent_list(*FINDING.split(":")[1:])] == [
        "压力低"
    ]


def test_a_text_field_is_read_against_its_history(key):
    """A handwritten BD-27 tag (development hands), scanned: with the phrases confirmed
    before in 初步确认 and 检查结果, both are read as the phrase with evidence `lexicon`;
    a phrase the history lacks is read as written; without history, no lexicon evidence;
    the history of one form is not another form's."""
    from formdesk.extract.reader import FormReader

    data, values = scanned_tag(key, 5, preliminary_finding="异响", inspection_result="线圈烧坏")

    def read(lexicon):
        [rec] = FormReader(key, lexicon=lexicon).read_file(data, "tag.jpg").records
        return {f.key: f for f in rec.fields}

    got = read(Lexicon.of(**{FINDING: ["异响", "渗油"], RESULT: ["线圈烧坏", "阀芯卡死"]}))
    for k in ("preliminary_finding", "inspection_result"):
        assert got[k].value == values[k] and got[k].status == "ok", got[k]
        assert any(e.startswith("lexicon:") for e in got[k].evidence), got[k]
        assert "history" in got[k].evidence
    got = read(Lexicon.of(**{FINDING: ["渗油", "断裂"]}))
    assert got["preliminary_finding"].value == "异响"
    assert not any(e.startswith("lexicon") for e in got["preliminary_finding"].evidence)
    other = history_list("SH-ZH/BD-21", "preliminary_finding")
    got = read(Lexicon.of(**{other: ["异响"]}))
    assert not any(e.startswith("lexicon") for f in got.values() for e in f.evidence)
    # 线圈烧坏 confirmed again and again in 检查结果, but the crop shows 线圈烧坏 and the
    # history lacks it: a phrase one character away (线圈烧毁) puts it in doubt
    near = Lexicon.of(
        **{RESULT: ["线圈烧毁"], frequent_list("SH-ZH/BD-27", "inspection_result"): ["线圈烧毁"]}
    )
    got = read(near)["inspection_result"]
    assert got.value == "线圈烧坏" and got.status == "check", got  # read as written
    assert "near:线圈烧毁" in got.evidence and "线圈烧毁" in (got.reason or "")
