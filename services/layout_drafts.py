"""Registering a layout in the browser (issue 13, point 1): the proposal for an uploaded
scan is made in a process pool (OCR never runs in the web process), held as a *draft* —
reference image, proposed boxes, fields not found — while the clerk corrects it, and saved
as a layout variant with the clerk's boxes.

Units: every box is (x, y, w, h) in mm of the reference image, origin top-left; the image
is the scan flattened to the paper's size at 200 dpi (PX_PER_MM ≈ 7.874 px per mm), so a
box in pixels of the image is the box in mm times PX_PER_MM.

Drafts live in the data folder (`<data>/layout-drafts/<id>.json` and `<id>.png`), at most
MAX_DRAFTS of them, each for DRAFT_HOURS; older ones are removed when a new one is made.
On PostgreSQL with several web machines a draft is on the machine that made it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

import anyio.to_thread

from formdesk.extract.align import PX_PER_MM
from formdesk.ingest import IngestLimits, precheck
from formdesk.model.layouts import VARIANT_NAME, Box, FieldBox, LayoutDraft, LayoutVariant
from formdesk.model.time import utcnow
from formdesk.store import ConflictError, NotFoundError, Store
from formdesk.templates import get_template
from formdesk.templates.schema import FieldType

from .layouts import (
    BOX_MIN_MM,
    check_found,
    checked_layout_file,
    propose_from_file,
    reference_png,
    store_imported,
)
from .pools import LimitedPool, TaskFailed
from .refusals import Refused

IMPORT_SECONDS = 30.0  # checking an imported layout file (its PNG decoded) in the pool
PROPOSE_SECONDS = 120.0  # one proposal in the pool (the first loads the OCR engine)
QUEUE_SECONDS = 60.0  # … and how long it may wait behind another
MAX_DRAFTS = 50
DRAFT_HOURS = 24
DRAFT_ID = re.compile(r"^[0-9a-f]{16}$")
SAME_MM = 0.1  # a box within this of the proposed one (rounding) is the proposal's, kept as found


def propose_in_child(code: str, data: bytes, filename: str, limits: IngestLimits) -> dict[str, Any]:
    """Runs in a pool process: the proposal for form `code` from the file's first page,
    JSON-ready, with the reference image as PNG bytes.  Raises what propose_from_file and
    check_found raise (IngestError, Refused, UnknownTemplateError: each a 4xx with a
    Chinese reason); the OCR engine is loaded once per process."""
    template, proposal = propose_from_file(code, data, filename, limits=limits)
    check_found(template, proposal)
    return {
        "template": template.code,
        "paper_mm": (template.geometry.width, template.geometry.height),
        "fields": [f.model_dump(mode="json") for f in proposal.fields],
        "table": proposal.table.model_dump(mode="json") if proposal.table else None,
        "missing": list(proposal.missing),
        "fingerprint": list(proposal.fingerprint),
        "png": reference_png(proposal),
    }


class LayoutDrafts:
    """The drafts of one installation: made by `propose` (in `pool`), read, saved, removed.
    Thread-safe (each draft is two files written whole, then renamed into place)."""

    def __init__(self, folder: Path, pool: LimitedPool, limits: IngestLimits):
        self.folder = folder
        self.pool = pool
        self.limits = limits

    # -- files ------------------------------------------------------------------------------
    def _path(self, draft_id: str, ext: str) -> Path:
        if not DRAFT_ID.match(draft_id):
            raise NotFoundError("找不到这个版式草稿(可能已保存、已放弃或已过期)")
        return self.folder / f"{draft_id}.{ext}"

    def _write(self, path: Path, data: bytes) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def _prune(self) -> None:
        """Removes drafts older than DRAFT_HOURS, and the oldest beyond MAX_DRAFTS - 1."""
        drafts = sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
        old = time.time() - DRAFT_HOURS * 3600
        for i, path in enumerate(drafts):
            if path.stat().st_mtime < old or i < len(drafts) - (MAX_DRAFTS - 1):
                for ext in ("json", "png"):
                    with contextlib.suppress(OSError):
                        path.with_suffix(f".{ext}").unlink()

    # -- the work ---------------------------------------------------------------------------
    async def propose(self, code: str, data: bytes, filename: str, created_by: str) -> LayoutDraft:
        """A draft for form `code` from an uploaded scan or photo of a blank (PDF, JPEG,
        PNG, TIFF; its first page).  The size and type are checked here, the rest in the
        pool within PROPOSE_SECONDS and the pool's memory limit.  Raises
        UnknownTemplateError (404), IngestError (422: empty, too large, not a supported
        type, damaged), Refused (422: too few of the form's fields found; the time or
        memory limit reached)."""
        template = get_template(code)
        precheck(data, self.limits)
        try:
            found = await self.pool.run(
                propose_in_child,
                template.code,
                data,
                filename,
                self.limits,
                timeout=PROPOSE_SECONDS,
                queue_s=QUEUE_SECONDS,
            )
        except TaskFailed as exc:
            raise Refused(f"无法处理这个文件:{exc.reason}") from None
        png: bytes = found.pop("png")
        draft = LayoutDraft(
            draft_id=secrets.token_hex(8),
            filename=filename,
            reference_sha256=hashlib.sha256(png).hexdigest(),
            created_by=created_by,
            created_at=utcnow(),
            **found,
        )
        await anyio.to_thread.run_sync(self._keep, draft, png)
        return draft

    async def import_file(
        self, store: Store, data: bytes, created_by: str, name: str | None = None
    ) -> LayoutVariant:
        """A layout file exported by another installation (services.layouts.export_layout)
        stored as a variant, under `name` if given: the file is parsed, its reference
        PNG's declared size checked and its pixels decoded in the pool (never in the web
        process; within IMPORT_SECONDS and the pool's memory limit), then stored here.
        Refused (422, Chinese: checked_layout_file's reasons, the time or memory limit
        reached), ConflictError (409: the form has a variant of that name)."""
        try:
            variant, png = await self.pool.run(
                checked_layout_file, data, name, timeout=IMPORT_SECONDS, queue_s=QUEUE_SECONDS
            )
        except TaskFailed as exc:
            raise Refused(f"无法处理这个版式文件:{exc.reason}") from None
        return await anyio.to_thread.run_sync(store_imported, store, variant, png, created_by)

    def _keep(self, draft: LayoutDraft, png: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._prune()
        self._write(self._path(draft.draft_id, "png"), png)
        self._write(self._path(draft.draft_id, "json"), draft.model_dump_json().encode())

    def get(self, draft_id: str) -> LayoutDraft:
        """The draft; NotFoundError (404) when there is none (saved, removed, expired)."""
        try:
            text = self._path(draft_id, "json").read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NotFoundError("找不到这个版式草稿(可能已保存、已放弃或已过期)") from None
        return LayoutDraft.model_validate(json.loads(text))

    def reference(self, draft_id: str) -> bytes:
        """The draft's reference image (grayscale PNG, 200 dpi); NotFoundError (404)."""
        self.get(draft_id)
        return self._path(draft_id, "png").read_bytes()

    def remove(self, draft_id: str) -> None:
        """Removes the draft; NotFoundError (404) when there is none."""
        self.get(draft_id)
        for ext in ("json", "png"):
            with contextlib.suppress(FileNotFoundError):
                self._path(draft_id, ext).unlink()

    def save(
        self, store: Store, draft_id: str, name: str, boxes: dict[str, Box], created_by: str
    ) -> LayoutVariant:
        """Saves the draft as variant `name` of its form with the clerk's `boxes` (field
        key → (x, y, w, h) mm of the reference image; a field left out is not read on this
        layout), then removes the draft.  A box equal to the proposed one (within SAME_MM)
        keeps what was found with it (its source, where the options are printed); any
        other is `manual`.  The table's rows and columns are the proposal's.  Raises
        NotFoundError (404: no draft), Refused (422: a bad name, an unknown field, the
        table, a box not inside the page or under BOX_MIN_MM, no box at all),
        ConflictError (409: the form has a variant of that name)."""
        draft = self.get(draft_id)
        template = get_template(draft.template)
        name = name.strip()
        if not VARIANT_NAME.match(name):
            raise Refused(f"版式名称“{name[:40]}”不合适:1–40 个字母、数字、汉字或 . _ -")
        fields = checked_boxes(draft, boxes)
        if not fields and draft.table is None:
            raise Refused("没有任何栏目的框,无法保存版式")
        if store.get_layout(template.code, name) is not None:
            raise ConflictError(f"表单 {template.code} 已有名为“{name}”的版式")
        variant = LayoutVariant(
            template=template.code,
            name=name,
            paper_mm=draft.paper_mm,
            fields=fields,
            table=draft.table,
            fingerprint=draft.fingerprint,
            reference_sha256=draft.reference_sha256,
            created_by=created_by,
            created_at=utcnow(),
        )
        saved = store.add_layout(variant, self.reference(draft_id))
        self.remove(draft_id)
        return saved


def checked_boxes(draft: LayoutDraft, boxes: dict[str, Box]) -> list[FieldBox]:
    """The clerk's boxes as the variant's fields, in the template's order, rounded to
    0.1 mm.  Refused (422, Chinese) for a key that is not one of the form's fields (or is
    its table), a value that is not a finite number, a box under BOX_MIN_MM wide or high,
    or one not wholly inside the page (`draft.paper_mm`)."""
    template = get_template(draft.template)
    by_key = {f.key: f for f in template.fields}
    pw, ph = draft.paper_mm
    proposed = {f.key: f for f in draft.fields}
    out: dict[str, FieldBox] = {}
    for key, box in boxes.items():
        field = by_key.get(key)
        if field is None:
            raise Refused(f"表单 {template.code} 没有栏目“{key[:40]}”")
        if field.type == FieldType.table:
            raise Refused(f"明细表“{field.label}”的行列由表格线确定,不能用一个框设置")
        if len(box) != 4 or not all(isinstance(v, int | float) and math.isfinite(v) for v in box):
            raise Refused(f"“{field.label}”的框应为 4 个数(x、y、宽、高,单位 mm)")
        x, y, w, h = (round(float(v), 1) for v in box)
        if w < BOX_MIN_MM or h < BOX_MIN_MM:
            raise Refused(f"“{field.label}”的框太小(至少 {BOX_MIN_MM:g} × {BOX_MIN_MM:g} mm)")
        if x < 0 or y < 0 or x + w > pw + 0.05 or y + h > ph + 0.05:
            raise Refused(
                f"“{field.label}”的框 {x:g}, {y:g}, {w:g} × {h:g} mm 不在 {pw:g} × {ph:g} mm 的页面内"
            )
        before = proposed.get(key)
        if before is not None and all(
            abs(a - b) <= SAME_MM for a, b in zip(before.box, (x, y, w, h), strict=True)
        ):
            out[key] = before
        else:
            out[key] = FieldBox(key=key, box=(x, y, w, h), source="manual")
    order = {f.key: i for i, f in enumerate(template.fields)}
    return sorted(out.values(), key=lambda f: order[f.key])


__all__ = ["LayoutDrafts", "PX_PER_MM", "checked_boxes", "propose_in_child"]
