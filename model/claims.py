"""The network's stations (维修站) and its warranty claims (三包索赔单), and the imports
that brought them in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from .time import Timestamp, utcnow


class Station(BaseModel):
    code: str
    name: str


class Claim(BaseModel):
    """One warranty claim (三包索赔单) as the warranty system or a read SH-ZH/BD-25 row
    gives it; the service center pays it only against a returned part that matches."""

    claim_no: str  # 索赔单号, unique
    station: str  # 维修站 code
    vin: str  # 车架号/VIN
    engine_no: str | None = None  # 发动机号
    vehicle_model: str  # 车型
    part_no: str  # 零件编号
    part_name: str  # 零件名称
    quantity: int = Field(ge=1)  # 数量
    purchase_date: date  # 购买日期
    repair_date: date  # 维修日期
    mileage_km: int = Field(ge=0)  # 行驶里程
    fault_description: str = ""  # 故障描述
    labor_fee: Decimal = Decimal("0")  # 工时费, 元
    material_fee: Decimal = Decimal("0")  # 材料费, 元
    source: str  # "import:<import id>" or "record:<record id>"
    source_line: int | None = None  # line of the file (header = 1) or row of the form
    imported_at: Timestamp = Field(default_factory=utcnow)

    @property
    def amount(self) -> Decimal:
        return self.labor_fee + self.material_fee


class ClaimImport(BaseModel):
    """One accepted claims file (or BD-25 record): what it brought in, by whom."""

    import_id: str
    filename: str
    sha256: str
    imported_by: str
    imported_at: Timestamp = Field(default_factory=utcnow)
    claims: int  # rows added or replaced
    replaced: int = 0  # of `claims`, those that replaced a stored claim (import with replace)
    unchanged: int = 0  # rows already stored with the same content
    stations_added: list[str] = Field(default_factory=list)
