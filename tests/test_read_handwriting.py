"""The committed sample scans (handwriting fonts, pen ticks and circles, seals, scanner and
phone-photo effects, gang sheets, tags side by side) read back with the real engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import FormReader
from formdesk.templates import get_template
from samples.scoring import MEASURED, outcomes

SCANS = Path(__file__).resolve().parents[1] / "samples" / "scans"
SYNTH_KEY = b"formdesk-synth"  # the generator's default signing key


@pytest.mark.slow
def test_committed_scans_read_back():
    reader = FormReader(SYNTH_KEY, default_engine())
    results = []
    for image in sorted(SCANS.glob("*.jpg")):
        truth = json.loads(image.with_suffix(".json").read_text(encoding="utf-8"))
        read = reader.read_file(image.read_bytes(), image.name)
        by_doc = {(r.document_id, r.copy_index): r for r in read.records}
        for form in truth["forms"]:
            record = by_doc.get((form["document_id"], form.get("copy", 1)))
            assert record is not None, (image.name, form["template"], read.problems)
            assert record.identified_by == "qr" and record.authentic
            results += outcomes(record, get_template(form["template"]), form["values"])
    text = [o for o in results if o.type not in MEASURED]
    marks = [o for o in results if o.type in MEASURED]
    assert len(results) > 300
    assert sum(o.correct for o in text) / len(text) >= 0.98
    assert all(o.correct for o in marks), [o for o in marks if not o.correct]
    wrong_but_ok = [o for o in results if not o.correct and o.status == "ok"]
    assert len(wrong_but_ok) <= 1, wrong_but_ok
