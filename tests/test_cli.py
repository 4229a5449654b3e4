"""The `formdesk` command as a user runs it: from any folder, with one-line errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from openpyxl import Workbook

from .conftest import RECORDS

FORMDESK = [sys.executable, "-m", "formdesk.api"]


def run(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*FORMDESK, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"FORMDESK_SECRET": "cli-test", "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


def test_templates_lists_the_whole_catalog(tmp_path):
    res = run("templates", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    codes = [t["code"] for t in json.loads(res.stdout)]
    assert len(codes) >= 27 and "SH-ZH/BD-27" in codes and "表格18" in codes


def test_template_json_has_boxes(tmp_path):
    res = run("template", "BD-27", "--json", cwd=tmp_path)
    data = json.loads(res.stdout)
    vin = next(f for f in data["fields"] if f["key"] == "vin")
    assert vin["label"] == "车架号码" and len(vin["value_box"]) == 4
    assert data["page"]["qr"][2] >= 20


def test_render_prefilled_from_json(tmp_path):
    res = run(
        "render",
        "SH-ZH/BD-27",
        "--data",
        str(RECORDS / "sh-zh-bd-27.json"),
        "-o",
        "tag.pdf",
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert len(pypdf.PdfReader(tmp_path / "tag.pdf").pages) == 1


def test_render_registers_what_it_prints(tmp_path):
    """Every document `formdesk render` prints is registered in the data folder (so its
    scan is recognised and its prefilled values verified), by whom and for which station;
    an unknown station is refused before anything is printed."""
    from formdesk.store import open_store

    res = run("render", "BD-27", "--copies", "2", "-o", "blank.pdf", "--user", "amy", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    mark = pypdf.PdfReader(tmp_path / "blank.pdf").metadata["/FormdeskIssue"]
    ids = mark.split("|")[1].split(",")  # FDPDF1|<id>,<id>|<mac>
    with open_store(tmp_path / "data") as store:
        assert sorted(store.document_ids("SH-ZH/BD-27")) == sorted(ids) and len(ids) == 2
        docs = [store.get_document(i) for i in ids]
    assert {(d.template, d.issued_by, d.station, d.copies) for d in docs} == {
        ("SH-ZH/BD-27", "amy", None, 1)
    }
    refused = run("render", "BD-27", "--station", "NOPE", "-o", "s.pdf", cwd=tmp_path)
    assert refused.returncode == 1 and "NOPE" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "s.pdf").exists()


def tag_rows(n: int) -> list[dict]:
    values = json.loads((RECORDS / "sh-zh-bd-27.json").read_text(encoding="utf-8"))["values"]
    return [values | {"part_name": f"机油泵总成{i}"} for i in range(n)]


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8") -> None:
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_render_many_from_csv_with_chinese_headers(tmp_path):
    rows = tag_rows(9)
    labelled = [
        {"来件单位": r["sender_unit"], "车架号码": r["vin"], "零部件名称": r["part_name"]}
        for r in rows
    ]
    write_csv(tmp_path / "tags.csv", labelled)
    res = run(
        "render", "BD-27", "--data", "tags.csv", "--copies", "2", "-o", "tags.pdf", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert len(pypdf.PdfReader(tmp_path / "tags.pdf").pages) == 5  # 18 tags, 4 per A4 sheet


@pytest.mark.parametrize("encoding", ["gbk", "utf-16", "utf-8-sig"])
def test_print_data_is_read_in_the_encodings_excel_saves(tmp_path, encoding):
    """One encoding policy for print data and claims (ingest.tables.decode_text): Chinese
    Excel's default CSV (GBK), its "Unicode text" (UTF-16) and CSV UTF-8 all print, and
    the values registered are the ones in the file."""
    from formdesk.store import open_store

    rows = tag_rows(2)
    labelled = [{"来件单位": r["sender_unit"], "零部件名称": r["part_name"]} for r in rows]
    write_csv(tmp_path / "tags.csv", labelled, encoding=encoding)
    res = run("render", "BD-27", "--data", "tags.csv", "-o", "tags.pdf", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    with open_store(tmp_path / "data") as store:
        docs = [store.get_document(i) for i in store.document_ids("SH-ZH/BD-27")]
    assert sorted(d.values["part_name"] for d in docs) == sorted(r["part_name"] for r in rows)


def test_render_many_from_xlsx(tmp_path):
    rows = tag_rows(3)
    wb = Workbook()
    ws = wb.active
    ws.append(list(rows[0]))
    for r in rows:
        ws.append(list(r.values()))
    wb.save(tmp_path / "tags.xlsx")
    res = run("render", "BD-27", "--data", "tags.xlsx", "--no-gang", "-o", "tags.pdf", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert len(pypdf.PdfReader(tmp_path / "tags.pdf").pages) == 3


@pytest.mark.parametrize(
    "case,expect",
    [
        ("unknown_template", "没有模板"),
        ("unknown_field", "第1行第2列"),
        ("bad_vin_row", "tags.csv 第3行 车架号码:车架号不能含字母 I、O、Q"),
        ("bad_date_row", "tags.csv 第2行 购买日期:日期无效"),
        ("text_in_integer", "行驶里程:应为整数"),
        ("pdf_as_csv", "tags.csv:这是PDF 文件,不是 CSV 或 Excel(.xlsx)表格"),
        ("broken_utf8", "tags.csv:第4行:不是有效的 UTF-8 编码"),
        ("empty_csv", "文件为空"),
    ],
)
def test_bad_input_gets_one_line_and_no_pdf(tmp_path, case, expect):
    rows = tag_rows(3)
    code = "BD-27"
    if case == "unknown_template":
        code = "BD-99"
        write_csv(tmp_path / "tags.csv", rows)
    elif case == "unknown_field":
        write_csv(tmp_path / "tags.csv", [{"sender_unit": "x", "colour": "红"}])
    elif case == "bad_vin_row":
        rows[1]["vin"] = "LGAX2A13O6K123456"
        write_csv(tmp_path / "tags.csv", rows)
    elif case == "bad_date_row":
        rows[0]["purchase_date"] = "2026年13月40日"
        write_csv(tmp_path / "tags.csv", rows)
    elif case == "text_in_integer":
        rows[2]["mileage_km"] = "四万八千"
        write_csv(tmp_path / "tags.csv", rows)
    elif case == "broken_utf8":  # UTF-8 with one damaged byte: never read as GBK garbage
        write_csv(tmp_path / "tags.csv", rows)
        lines = (tmp_path / "tags.csv").read_bytes().split(b"\n")
        lines[3] = lines[3].replace(b",", b",\xa0", 1)
        (tmp_path / "tags.csv").write_bytes(b"\n".join(lines))
    elif case == "pdf_as_csv":
        (tmp_path / "tags.csv").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    elif case == "empty_csv":
        (tmp_path / "tags.csv").write_text("")
    res = run("render", code, "--data", "tags.csv", "-o", "out.pdf", cwd=tmp_path)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert expect in lines[0]
    assert not (tmp_path / "out.pdf").exists()
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".pdf"]


@pytest.mark.slow
def test_read_reports_records_and_refuses_bad_files_one_line_each(tmp_path):
    res = run(
        "render",
        "BD-27",
        "--data",
        str(RECORDS / "sh-zh-bd-27.json"),
        "-o",
        "tag.pdf",
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "note.jpg").write_text("not an image")
    res = run("read", "tag.pdf", "--json", "out.json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    [file_result] = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    [record] = file_result["records"]
    assert record["template"] == "SH-ZH/BD-27" and record["identified_by"] == "text_layer"
    assert {f["key"]: f["value"] for f in record["fields"]}["mileage_km"] == 48260
    from .test_ingest import bomb_png, encrypted

    pdf = (tmp_path / "tag.pdf").read_bytes()
    (tmp_path / "half.pdf").write_bytes(pdf[: len(pdf) // 2])
    (tmp_path / "locked.pdf").write_bytes(encrypted(pdf, "secret"))
    (tmp_path / "bomb.png").write_bytes(bomb_png(30000, 30000))
    bad = ["empty.pdf", "note.jpg", "half.pdf", "locked.pdf", "bomb.png"]
    res = run("read", "tag.pdf", *bad, cwd=tmp_path)
    assert res.returncode == 1
    errors = res.stderr.strip().splitlines()
    assert len(errors) == len(bad) and "Traceback" not in res.stderr, res.stderr
    for line, name, reason in zip(
        errors,
        bad,
        ["文件为空", "不是 PDF、JPEG、PNG 或 TIFF", "损坏或不完整", "已加密", "可能是解压炸弹"],
        strict=True,
    ):
        assert name in line and reason in line, line
    assert "SH-ZH/BD-27" in res.stdout
