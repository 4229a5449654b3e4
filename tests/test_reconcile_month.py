"""A month end to end: claims imported from the warranty system's GBK CSV with the CLI,
manifests and tags written by hand, scanned and read by the real reader (once) into each
real store (TinyDB, PostgreSQL), then `formdesk reconcile` — every injected kind of
difference is reported, nothing else, and the report files open again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pdfplumber
import pytest

from formdesk.reconcile.engine import reconcile_station
from samples.month_store import read_files, register_month, store_read
from samples.reconcile_scoring import misread_forms, score
from samples.synth.month import INJECTIONS, claims_csv, plan_month, scan_month

from .pg import STORES, database_url, store_copy, store_of

KEY = b"formdesk-month-test"
FORMDESK = [sys.executable, "-m", "formdesk.api"]


def cli(*args: str, cwd: Path, store) -> subprocess.CompletedProcess:
    """`formdesk ARGS` in `cwd`, on `store` as installed: its data folder (--data-dir in
    ARGS), or its database (FORMDESK_DATABASE_URL)."""
    url = database_url(store)
    return subprocess.run(
        [*FORMDESK, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"}
        | ({"FORMDESK_DATABASE_URL": url} if url else {}),
        timeout=300,
    )


@pytest.fixture(scope="module")
def month_read(tmp_path_factory):
    """The month planned, its forms written by hand, scanned and read, once per module:
    (plan, [(scan file, records read)])."""
    plan = plan_month(11, stations=1, claims=16, per_station=len(INJECTIONS))
    files = scan_month(plan, tmp_path_factory.mktemp("month-scans"), KEY, seed=11, workers=2)
    return plan, list(read_files(files, KEY, workers=2))


@pytest.fixture(scope="module", params=STORES)
def month(request, tmp_path_factory, month_read):
    """(folder, plan, store): the month's scans and records in each store, its claims file
    in the folder (not imported), the TinyDB store's data folder there too (`data`)."""
    plan, reads = month_read
    root = tmp_path_factory.mktemp("month")
    with store_of(request.param, root / "data") as store:
        register_month(store, plan)
        (root / "claims.csv").write_bytes(claims_csv(plan))
        for path, records in reads:
            store_read(store, path, records)
        yield root, plan, store


@pytest.mark.slow
def test_every_injected_difference_is_reported_and_nothing_else(month):
    root, plan, store = month
    res = cli("claims", "import", "claims.csv", "--data-dir", "data", cwd=root, store=store)
    assert res.returncode == 0, res.stderr
    assert f"新增 {len(plan.claims)} 条" in res.stdout
    rec = reconcile_station(store, "ST01", plan.month)
    found, total, explained, unexplained, missed = score(
        plan, "ST01", rec.outcomes, misread_forms(store, plan)
    )
    assert sorted(total) == sorted(INJECTIONS)
    assert missed == [], missed
    assert unexplained == [], unexplained
    assert rec.claims == len(plan.claims) and rec.tags > 0 and rec.manifest_lines > 0
    assert {o.kind for o in rec.outcomes} == {
        "matched", "missing", "unexpected", "quantity", "mismatch", "duplicate", "outside_warranty"
    }  # fmt: skip
    for o in rec.differences:
        returned_twice = o.kind == "duplicate" and o.returned_values
        if o.kind in ("unexpected", "mismatch", "quantity") or returned_twice:
            assert o.evidence, o  # shown on the scan
            assert all(store.get_record(e.record_id) for e in o.evidence)


@pytest.mark.slow
def test_the_installations_rules_come_from_the_data_folder_it_is_given(month, tmp_path):
    """services.reconciliation takes the data folder explicitly (the settings' data_dir),
    never from the store: a rules file there (every model: 1 month, 1,000 km) turns claims
    outside 三包期 that the shipped rules keep inside."""
    from formdesk.services.claims import import_claims_file
    from formdesk.services.reconciliation import reconcile_station as reconcile_with_rules

    root, plan, shared = month
    data = tmp_path / "data"  # the installation's folder: no rules file in it
    with store_copy(shared, data) as store:  # the month's store, not shared
        data.mkdir(exist_ok=True)
        if not store.list_claims():  # the CLI import of the first test may not have run
            import_claims_file(store, (root / "claims.csv").read_bytes(), "claims.csv", "t")

        def outside(rec):
            return sum(o.kind == "outside_warranty" for o in rec.outcomes)

        shipped = reconcile_with_rules(store, data, "ST01", plan.month)
        assert [o.kind for o in shipped.outcomes] == [
            o.kind for o in reconcile_station(store, "ST01", plan.month).outcomes
        ]
        (tmp_path / "rules").mkdir()
        (tmp_path / "rules" / "warranty_rules.yaml").write_text(
            "default: {months: 1, km: 1000}\n", encoding="utf-8"
        )
        strict = reconcile_with_rules(store, tmp_path / "rules", "ST01", plan.month)
        assert outside(strict) > outside(shipped)


@pytest.mark.slow
def test_reconcile_cli_writes_the_report_and_the_letter(month):
    root, plan, store = month
    cli("claims", "import", "claims.csv", "--data-dir", "data", cwd=root, store=store)
    res = cli(
        "reconcile", "--station", "ST01", "--month", plan.month, "--data-dir", "data",
        "-o", "report.xlsx", "--letter", "letter.pdf", cwd=root, store=store,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    rec = reconcile_station(store, "ST01", plan.month)
    book = openpyxl.load_workbook(root / "report.xlsx")
    rows = list(book["差异明细"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(rec.differences)
    assert {r[2] for r in rows if r[2]} == {o.claim_no for o in rec.differences if o.claim_no}
    res = cli(
        "reconcile", "--station", "ST01", "--month", plan.month, "--data-dir", "data",
        "-o", "report.pdf", cwd=root, store=store,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    with pdfplumber.open(root / "report.pdf") as pdf:
        text = "".join(p.extract_text() for p in pdf.pages)
    assert "三包索赔件核对报告" in text and plan.stations[0][1] in text
    for o in rec.differences:
        if o.claim_no:
            assert o.claim_no in text
    with pdfplumber.open(root / "letter.pdf") as pdf:
        letter = "".join(p.extract_text() for p in pdf.pages)
    assert f"致 {plan.stations[0][1]}" in letter


@pytest.mark.slow
def test_reconcile_cli_refuses_with_one_line(month):
    root, plan, store = month
    for args, reason in (
        (("--month", "2026-13"), "年月无效"),
        (("--month", plan.month, "--station", "NOPE"), "维修站“NOPE”未登记"),
        (("--month", plan.month, "-o", "x.xlsx"), "--station"),
        (("--month", plan.month, "--station", "ST01", "-o", "x.docx"), ".xlsx"),
    ):
        res = cli("reconcile", *args, "--data-dir", "data", cwd=root, store=store)
        assert res.returncode == 1, args
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("错误:") and reason in lines[0], res.stderr


@pytest.mark.slow
def test_the_samples_a_fresh_machine_starts_with_reconcile(any_settings):
    """`formdesk serve --samples samples`: the sample manifest and tags, read, against
    samples/claims.csv — one claim of each situation the 核对 page shows."""
    from formdesk.api.app import create_app
    from formdesk.services.samples import load_sample_claims, load_samples

    samples = Path(__file__).resolve().parents[1] / "samples"
    app = create_app(settings=any_settings, start_worker=False)
    store = app.state.store
    load_samples(store, app.state.key, samples / "records")
    assert load_sample_claims(store, samples / "claims.csv") == 6
    assert load_sample_claims(store, samples / "claims.csv") == 0  # not twice
    while app.state.reader.run_one():
        pass
    rec = reconcile_station(store, "HN01", "2026-03")
    assert sorted((o.kind, o.field, o.claim_no) for o in rec.outcomes) == [
        ("matched", None, "SP2026031502"),
        ("mismatch", "vin", "SP2026031807"),  # the 鉴别标签 names another VIN
        ("missing", None, "SP2026033011"),
        ("outside_warranty", None, "SP2026032908"),  # a 2022 帕萨特: 36 months passed
        ("quantity", None, "SP2026032405"),  # listed, but no tag came back with it
        ("quantity", None, "SP2026032613"),
        ("quantity", None, "SP2026032908"),
        ("unexpected", None, "SP2026032011"),  # returned without a claim
    ]
