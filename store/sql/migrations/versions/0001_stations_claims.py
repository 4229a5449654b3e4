"""Stations, warranty claims and claim imports.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stations",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
    )
    op.create_table(
        "claims",
        sa.Column("claim_no", sa.Text, primary_key=True),
        sa.Column("station", sa.Text, sa.ForeignKey("stations.code"), nullable=False),
        sa.Column("vin", sa.Text, nullable=False),
        sa.Column("engine_no", sa.Text),
        sa.Column("vehicle_model", sa.Text, nullable=False),
        sa.Column("part_no", sa.Text, nullable=False),
        sa.Column("part_name", sa.Text, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("purchase_date", sa.Date, nullable=False),
        sa.Column("repair_date", sa.Date, nullable=False),
        sa.Column("mileage_km", sa.Integer, nullable=False),
        sa.Column("fault_description", sa.Text, nullable=False),
        sa.Column("labor_fee", sa.Numeric(14, 2), nullable=False),
        sa.Column("material_fee", sa.Numeric(14, 2), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_line", sa.Integer),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("claims_station_repair", "claims", ["station", "repair_date"])
    op.create_index("claims_repair", "claims", ["repair_date", "claim_no"])
    op.create_index("claims_vin", "claims", ["vin"])
    op.create_table(
        "claim_imports",
        sa.Column("import_id", sa.Text, primary_key=True),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("imported_by", sa.Text, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claims", sa.Integer, nullable=False),
        sa.Column("replaced", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("stations_added", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("claim_imports")
    op.drop_table("claims")
    op.drop_table("stations")
