"""Layout variants on PostgreSQL (issue 13): `LayoutStore` with the TinyDB store's rules;
the reference image lives in the variant's row.  A (template, name) is unique by the
primary key, so two machines registering the same name at once cannot both succeed."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from formdesk.model.layouts import LayoutVariant

from ..interface import ConflictError, NotFoundError
from .documents import _engine
from .schema import layout_variants

_HEAD = [c for c in layout_variants.c if c.name != "reference"]


def _variant(row: Any) -> LayoutVariant:
    return LayoutVariant(
        template=row.template, name=row.name, paper_mm=(row.paper_w_mm, row.paper_h_mm),
        fields=row.fields, table=row.table_layout, fingerprint=row.fingerprint,
        reference_sha256=row.reference_sha256, created_by=row.created_by,
        created_at=row.created_at,
    )  # fmt: skip


class SqlLayouts:
    """Read-only lookup of a form's layout variants with their reference images, for
    another process (picklable: only the database URL travels; a process's jobs share
    its one engine, as `SqlDocumentValues`)."""

    def __init__(self, url: str):
        self.url = url

    def __call__(self, template: str) -> list[tuple[LayoutVariant, bytes]]:
        q = (
            select(layout_variants)
            .where(layout_variants.c.template == template)
            .order_by(layout_variants.c.name.collate("C"))
        )
        with _engine(self.url).connect() as db:
            return [(_variant(r), bytes(r.reference)) for r in db.execute(q)]


class SqlLayoutStore:
    """Layout variants in the database of `engine` (schema at the head revision)."""

    engine: Engine

    def add_layout(self, variant: LayoutVariant, reference_png: bytes) -> LayoutVariant:
        if hashlib.sha256(reference_png).hexdigest() != variant.reference_sha256:
            raise ValueError("reference_sha256 is not the SHA-256 of the reference image")
        data = variant.model_dump(mode="json")
        try:
            with self.engine.begin() as db:
                db.execute(
                    layout_variants.insert().values(
                        template=variant.template, name=variant.name,
                        paper_w_mm=variant.paper_mm[0], paper_h_mm=variant.paper_mm[1],
                        fields=data["fields"], table_layout=data["table"],
                        fingerprint=data["fingerprint"],
                        reference_sha256=variant.reference_sha256, reference=reference_png,
                        created_by=variant.created_by, created_at=variant.created_at,
                    )
                )  # fmt: skip
        except IntegrityError:
            raise ConflictError(f"表单 {variant.template} 已有名为“{variant.name}”的版式") from None
        return variant

    def update_layout(self, variant: LayoutVariant) -> LayoutVariant:
        data = variant.model_dump(mode="json")
        with self.engine.begin() as db:
            sha = db.execute(
                update(layout_variants)
                .where(
                    layout_variants.c.template == variant.template,
                    layout_variants.c.name == variant.name,
                )
                .values(
                    fields=data["fields"], table_layout=data["table"],
                    fingerprint=data["fingerprint"], created_by=variant.created_by,
                    created_at=variant.created_at,
                )
                .returning(layout_variants.c.reference_sha256)
            ).scalar_one_or_none()  # fmt: skip
        if sha is None:
            raise NotFoundError(f"表单 {variant.template} 没有名为“{variant.name}”的版式")
        return variant.model_copy(update={"reference_sha256": sha})

    def list_layouts(self, template: str | None = None) -> list[LayoutVariant]:
        q = select(*_HEAD).order_by(
            layout_variants.c.template.collate("C"), layout_variants.c.name.collate("C")
        )
        if template is not None:
            q = q.where(layout_variants.c.template == template)
        with self.engine.connect() as db:
            return [_variant(r) for r in db.execute(q)]

    def get_layout(self, template: str, name: str) -> LayoutVariant | None:
        q = select(*_HEAD).where(
            layout_variants.c.template == template, layout_variants.c.name == name
        )
        with self.engine.connect() as db:
            row = db.execute(q).first()
        return _variant(row) if row else None

    def layout_reference(self, sha256: str) -> bytes:
        q = select(layout_variants.c.reference).where(layout_variants.c.reference_sha256 == sha256)
        with self.engine.connect() as db:
            data = db.execute(q.limit(1)).scalar_one_or_none()
        if data is None:
            raise NotFoundError(f"版式图像“{sha256[:16]}…”不存在")
        return bytes(data)

    def layout_reader(self) -> SqlLayouts:
        return SqlLayouts(self.engine.url.render_as_string(hide_password=False))

    def delete_layout(self, template: str, name: str) -> bool:
        with self.engine.begin() as db:
            gone = db.execute(
                delete(layout_variants).where(
                    layout_variants.c.template == template, layout_variants.c.name == name
                )
            )
        return gone.rowcount > 0
