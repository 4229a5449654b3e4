"""Sample data for a first look: every form of the catalog, printed prefilled from
samples/records/ with this installation's key, scanned (rasterised) and queued for reading."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium

from formdesk.model.claims import Station
from formdesk.services.claims import import_claims_file
from formdesk.services.printing import print_documents
from formdesk.store import Store
from formdesk.templates import get_template

DEMO_STATION = Station(code="HN01", name="长沙顺达汽车维修站")


def load_samples(store: Store, key: bytes, records_dir: Path, user: str = "admin") -> int:
    """Queues one scan per sample record; does nothing if records are already stored or
    scans already queued (a restart before the first sample was read must not print and
    queue them all again: every form twice, each part counted twice)."""
    if store.list_records(limit=1)[1] or store.list_batches() or not records_dir.is_dir():
        return 0
    if store.get_station(DEMO_STATION.code) is None:
        store.add_station(DEMO_STATION)
    scan_ids, pages = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(records_dir.glob("*.json")):
            sample = json.loads(path.read_text(encoding="utf-8"))
            template = get_template(sample["template"])
            out = Path(tmp) / f"{template.slug}.pdf"
            print_documents(
                store, key, template, [sample["values"]], out,
                station=DEMO_STATION.code, issued_by=user, gang=False,
            )  # fmt: skip
            pdf = pdfium.PdfDocument(str(out))
            for i in range(len(pdf)):
                img = np.asarray(pdf[i].render(scale=200 / 72).to_pil().convert("RGB"))
                ok, buf = cv2.imencode(
                    ".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85]
                )
                scan, _ = store.put_scan(
                    buf.tobytes(),
                    f"{template.slug}-p{i + 1}.jpg",
                    "image/jpeg",
                    user,
                    DEMO_STATION.code,
                )
                scan_ids.append(scan.sha256)
                pages += 1
            pdf.close()
    store.create_batch(user, DEMO_STATION.code, scan_ids, pages)
    return len(scan_ids)


def load_sample_claims(store: Store, claims_file: Path, user: str = "admin") -> int:
    """The sample warranty claims (samples/claims.csv) that the sample manifest and tags
    are reconciled against; nothing if claims are already stored."""
    if store.list_claims() or not claims_file.is_file():
        return 0
    return import_claims_file(store, claims_file.read_bytes(), claims_file.name, user).claims
