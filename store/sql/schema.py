"""The tables, as SQLAlchemy Core describes them (the migrations create them; this is what
the queries are written against).  Money in NUMERIC(14, 2) 元, dates as DATE, times as
timestamptz (UTC); text as TEXT (the lengths are ingest's to check: a station's code may be
its name, up to 100 characters)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
)

metadata = MetaData()

stations = Table(
    "stations",
    metadata,
    Column("code", Text, primary_key=True),  # 维修站代码
    Column("name", Text, nullable=False),
)

claims = Table(
    "claims",
    metadata,
    Column("claim_no", Text, primary_key=True),  # 索赔单号
    Column("station", Text, ForeignKey("stations.code"), nullable=False),
    Column("vin", Text, nullable=False),
    Column("engine_no", Text),
    Column("vehicle_model", Text, nullable=False),
    Column("part_no", Text, nullable=False),
    Column("part_name", Text, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("purchase_date", Date, nullable=False),
    Column("repair_date", Date, nullable=False),
    Column("mileage_km", Integer, nullable=False),
    Column("fault_description", Text, nullable=False, default=""),
    Column("labor_fee", Numeric(14, 2), nullable=False),
    Column("material_fee", Numeric(14, 2), nullable=False),
    Column("source", Text, nullable=False),
    Column("source_line", Integer),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Index("claims_station_repair", "station", "repair_date"),
    Index("claims_repair", "repair_date", "claim_no"),
    Index("claims_vin", "vin"),
)

claim_imports = Table(
    "claim_imports",
    metadata,
    Column("import_id", Text, primary_key=True),
    Column("filename", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("imported_by", Text, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("claims", Integer, nullable=False),
    Column("replaced", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("stations_added", JSON, nullable=False),
)
