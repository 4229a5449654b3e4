"""Layout variants in the store (issue 13), on both stores: registered from a real scan of
a blank typeset elsewhere, kept with their reference image, listed, refused twice under
one name, removed; and `formdesk layout` on the command line."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import cv2
import numpy as np
import pytest

from formdesk.model.layouts import FieldBox, LayoutVariant
from formdesk.model.time import utcnow
from formdesk.services.layouts import list_layouts, register_layout, remove_layout
from formdesk.services.refusals import Refused
from formdesk.store import ConflictError, NotFoundError, TinyStore
from samples.external import external_blank, shoot


def _variant(name: str, png: bytes, template: str = "SH-ZH/BD-27") -> LayoutVariant:
    return LayoutVariant(
        template=template,
        name=name,
        paper_mm=(105.0, 148.0),
        fields=[FieldBox(key="vin", box=(23.0, 49.0, 72.0, 8.5), options={})],
        fingerprint=[2.0, 1.0, 0.5, 0.25, 0.1],
        reference_sha256=hashlib.sha256(png).hexdigest(),
        created_by="admin",
        created_at=utcnow(),
    )


def test_variants_are_kept_listed_and_removed(any_store):
    png = cv2.imencode(".png", np.full((20, 30), 200, np.uint8))[1].tobytes()
    a = any_store.add_layout(_variant("印刷厂", png), png)
    any_store.add_layout(_variant("站内Word", png, "表格04"), png)
    with pytest.raises(ConflictError, match="已有名为“印刷厂”的版式"):
        any_store.add_layout(_variant("印刷厂", png), png)
    with pytest.raises(ValueError):
        any_store.add_layout(_variant("other", png), png + b"x")  # not its image
    assert [v.name for v in any_store.list_layouts()] == ["印刷厂", "站内Word"]
    assert [v.name for v in any_store.list_layouts("表格04")] == ["站内Word"]
    got = any_store.get_layout("SH-ZH/BD-27", "印刷厂")
    assert got == a
    assert any_store.layout_reference(a.reference_sha256) == png
    with pytest.raises(NotFoundError):
        any_store.layout_reference("0" * 64)
    assert any_store.delete_layout("SH-ZH/BD-27", "印刷厂") is True
    assert any_store.delete_layout("SH-ZH/BD-27", "印刷厂") is False
    assert any_store.get_layout("SH-ZH/BD-27", "印刷厂") is None


def test_registering_from_a_scan_keeps_the_proposal(tmp_path):
    """(On PostgreSQL registration is tested through the service: test_external_service.)"""
    with TinyStore(tmp_path / "data") as store:
        _registering_from_a_scan_keeps_the_proposal(store)


def _registering_from_a_scan_keeps_the_proposal(any_store):
    blank = external_blank("SH-ZH/BD-27")
    scan = shoot(blank.page(), "scan", np.random.default_rng(27))
    data = cv2.imencode(".jpg", scan)[1].tobytes()
    variant, proposal = register_layout(any_store, "BD-27", "印刷厂标签", data, "pad.jpg", "admin")
    assert variant.template == "SH-ZH/BD-27"
    assert len(variant.fields) == 13 and not proposal.missing
    stored = any_store.get_layout("SH-ZH/BD-27", "印刷厂标签")
    assert stored == variant
    ref = cv2.imdecode(
        np.frombuffer(any_store.layout_reference(stored.reference_sha256), np.uint8),
        cv2.IMREAD_GRAYSCALE,
    )
    assert ref.shape == (round(148 * 200 / 25.4), round(105 * 200 / 25.4))
    assert [v.name for v in list_layouts(any_store, "SH-ZH/BD-27")] == ["印刷厂标签"]
    with pytest.raises(ConflictError):
        register_layout(any_store, "SH-ZH/BD-27", "印刷厂标签", data, "pad.jpg", "admin")
    remove_layout(any_store, "SH-ZH/BD-27", "印刷厂标签")
    with pytest.raises(NotFoundError, match="没有名为"):
        remove_layout(any_store, "SH-ZH/BD-27", "印刷厂标签")


def test_a_page_of_another_form_is_not_registered(tmp_path):
    """表格04's blank offered as SH-ZH/BD-27 (same paper shape): too few of its fields."""
    blank = external_blank("表格04")
    data = cv2.imencode(".png", blank.page())[1].tobytes()
    with TinyStore(tmp_path / "data") as store, pytest.raises(Refused, match="不像是该表单"):
        register_layout(store, "SH-ZH/BD-27", "x", data, "x.png", "admin")
    with TinyStore(tmp_path / "data") as store, pytest.raises(Refused, match="版式名称"):
        register_layout(store, "SH-ZH/BD-27", "a/b", data, "x.png", "admin")


def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "formdesk.api", *args],
        capture_output=True, text=True, cwd=cwd, timeout=120,
        env={"PATH": "/usr/bin:/bin", "FORMDESK_DATA_DIR": str(cwd / "data")},
    )  # fmt: skip


def test_cli_layout_add_list_remove(tmp_path):
    pdf = external_blank("SH-ZH/BD-31").pdf
    shown = tmp_path / "preview.png"
    done = _cli(
        "layout", "add", "SH-ZH/BD-31", str(pdf), "--name", "站内清单", "--preview", str(shown),
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert shown.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "已登记 SH-ZH/BD-31 的版式“站内清单”:找到 12/12 个栏目" in done.stdout
    assert "明细表:9 列 × 11 行" in done.stdout
    again = _cli("layout", "add", "BD-31", str(pdf), "--name", "站内清单", cwd=tmp_path)
    assert again.returncode == 1 and again.stderr.count("\n") == 1
    assert "已有名为“站内清单”的版式" in again.stderr
    shared = tmp_path / "站内清单.json"
    out = _cli("layout", "export", "SH-ZH/BD-31", "站内清单", "-o", str(shared), cwd=tmp_path)
    assert out.returncode == 0 and shared.stat().st_size > 1000, out.stderr
    gone = _cli("layout", "remove", "SH-ZH/BD-31", "站内清单", cwd=tmp_path)
    assert gone.returncode == 0 and "已删除版式“站内清单”" in gone.stdout
    back = _cli("layout", "import", str(shared), "--name", "导入清单", cwd=tmp_path)
    assert back.returncode == 0 and "已导入 SH-ZH/BD-31 的版式“导入清单”" in back.stdout
    gone = _cli("layout", "remove", "SH-ZH/BD-31", "导入清单", cwd=tmp_path)
    listed = _cli("layout", "list", cwd=tmp_path)
    assert listed.returncode == 0 and "没有已登记的版式" in listed.stdout


def test_bad_files_and_codes_are_refused_in_chinese(tmp_path):
    from formdesk.model.errors import FormdeskError

    with TinyStore(tmp_path / "data") as store:
        with pytest.raises(FormdeskError, match="没有模板"):
            register_layout(store, "SH-ZH/BD-99", "x", b"%PDF-1.4", "x.pdf", "admin")
        with pytest.raises(FormdeskError) as refused:
            register_layout(store, "SH-ZH/BD-31", "x", b"not an image", "x.jpg", "admin")
        assert refused.value.status in (413, 415, 422)


def _a6_variant(name: str) -> tuple[LayoutVariant, bytes]:
    """A variant of SH-ZH/BD-27 with a reference image of its paper's size (A6, 200 dpi)."""
    png = cv2.imencode(".png", np.full((1166, 827), 240, np.uint8))[1].tobytes()
    return _variant(name, png), png


def test_a_variant_moves_between_installations(tmp_path, pg_engine):
    """Exported from a TinyDB installation, imported into a PostgreSQL one (issue 13,
    point 4): the same boxes, fingerprint and image, under the importer's name."""
    import json

    from formdesk.services.layouts import export_layout, import_layout
    from formdesk.store.sql.store import SqlStore

    variant, png = _a6_variant("印刷厂")
    with TinyStore(tmp_path / "data") as tiny:
        tiny.add_layout(variant, png)
        data = export_layout(tiny, "BD-27", "印刷厂")
        with pytest.raises(NotFoundError):
            export_layout(tiny, "BD-27", "没有")
    with SqlStore(pg_engine) as sql:
        got = import_layout(sql, data, "office", name="长沙印刷厂")
        assert (got.name, got.created_by) == ("长沙印刷厂", "office")
        assert got.model_dump(exclude={"name", "created_by", "created_at"}) == variant.model_dump(
            exclude={"name", "created_by", "created_at"}
        )
        assert sql.layout_reference(got.reference_sha256) == png
        with pytest.raises(ConflictError):
            import_layout(sql, data, "office", name="长沙印刷厂")
        body = json.loads(data)
        bad = {
            "不是 formdesk 导出的版式文件": b"{not json",
            "参考图像与版式不符": json.dumps(
                body | {"reference_png": body["reference_png"][:-8] + "AAAAAAA="}
            ).encode(),
            "没有的栏目:nope": json.dumps(
                body
                | {"variant": body["variant"] | {"fields": [{"key": "nope", "box": [1, 1, 1, 1]}]}}
            ).encode(),
            "不在模板目录中": json.dumps(
                body | {"variant": body["variant"] | {"template": "SH-ZH/BD-99"}}
            ).encode(),
        }
        for reason, file in bad.items():
            with pytest.raises(Refused, match=reason):
                import_layout(sql, file, "office", name="x")
        assert [v.name for v in sql.list_layouts()] == ["长沙印刷厂"]


def test_a_person_moves_a_box_or_places_a_missing_field(any_store):
    """The proposal corrected by hand (until the browser does it): a box moved, a field it
    did not find placed, by key or label; the reference image stays; a preview shows
    every box on the reference image."""
    from formdesk.services.layouts import preview, set_box

    variant, png = _a6_variant("印刷厂")
    any_store.add_layout(variant, png)
    set_box(any_store, "SH-ZH/BD-27", "印刷厂", "vin", (24.0, 50.0, 70.0, 8.0))
    got = set_box(any_store, "SH-ZH/BD-27", "印刷厂", "来件单位", (20.0, 23.0, 75.0, 9.0))
    assert [(f.key, f.box, f.source) for f in got.fields] == [
        ("sender_unit", (20.0, 23.0, 75.0, 9.0), "manual"),  # in the template's order
        ("vin", (24.0, 50.0, 70.0, 8.0), "manual"),
    ]
    assert any_store.get_layout("SH-ZH/BD-27", "印刷厂") == got
    assert got.reference_sha256 == variant.reference_sha256
    for key, box, reason in (
        ("nope", (1, 1, 5, 5), "没有栏目“nope”"),
        ("vin", (100.0, 50.0, 10.0, 8.0), "不在 105 × 148 mm 的页面内"),
        ("vin", (10.0, 50.0, 1.0, 8.0), "不在"),
    ):
        with pytest.raises(Refused, match=reason):
            set_box(any_store, "SH-ZH/BD-27", "印刷厂", key, box)
    with pytest.raises(NotFoundError):
        set_box(any_store, "SH-ZH/BD-27", "没有", "vin", (24.0, 50.0, 70.0, 8.0))
    with pytest.raises(NotFoundError):
        any_store.update_layout(variant.model_copy(update={"name": "没有"}))
    shown = cv2.imdecode(
        np.frombuffer(preview(any_store, "SH-ZH/BD-27", "印刷厂"), np.uint8), cv2.IMREAD_COLOR
    )
    assert shown.shape[:2] == (1166, 827)
    y, x = round(50.0 * 200 / 25.4), round(40.0 * 200 / 25.4)  # the vin box's top edge
    b, g, r = (int(v) for v in shown[y, x])
    assert r > 200 and b < 60  # drawn orange (set by hand) on the grey page
