"""The printed form alone (no values, marks or QR): what a scan is compared with to tell
a writer's ink from the form's own print."""

from __future__ import annotations

import io

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from formdesk.templates.schema import Template

from .frame import draw_static
from .pen import Pen


def static_page_pdf(template: Template, variant: str, copy_label: str | None) -> bytes:
    g = template.geometry
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(g.width * mm, g.height * mm))
    draw_static(Pen(c, g.height), template, variant, copy_label)
    c.showPage()
    c.save()
    return buf.getvalue()
