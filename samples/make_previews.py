"""Writes samples/previews/<slug>.png: every template prefilled with its sample record,
first page at 100 dpi, for reviewers to look at.

    python samples/make_previews.py
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pypdfium2 as pdfium

from formdesk.render.document import PdfRenderer
from formdesk.templates import load_catalog

HERE = Path(__file__).resolve().parent
KEY = b"preview-key"


def main() -> None:
    out_dir = HERE / "previews"
    out_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for tpl in load_catalog().values():
            values = json.loads(
                (HERE / "records" / f"{tpl.slug}.json").read_text(encoding="utf-8")
            )["values"]
            pdf_path = Path(tmp) / f"{tpl.slug}.pdf"
            with PdfRenderer(pdf_path, KEY) as r:
                r.add(tpl, values)
            pdf = pdfium.PdfDocument(str(pdf_path))
            pdf[0].render(scale=100 / 72, grayscale=True).to_pil().save(
                out_dir / f"{tpl.slug}.png", optimize=True
            )
            pdf.close()
            print(out_dir / f"{tpl.slug}.png")


if __name__ == "__main__":
    main()
