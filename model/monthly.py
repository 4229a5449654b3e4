"""The monthly summary of after-sales service (月售后服务汇总) as the reconcile stage
builds it and the reports, the API and SH-ZH/BD-24 use it: figures per station, vehicle
model, part and fault category, amounts in 元 (two decimals), the month in Beijing time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, computed_field

from .time import Timestamp, utcnow

CENT = Decimal("0.01")
MONTHLY_REPORT = "SH-ZH/BD-24"  # the station's monthly report (业务月报表) printed from it

Money = Annotated[Decimal, AfterValidator(lambda d: d.quantize(CENT))]


class Figures(BaseModel):
    """Counts and amounts (元) of one slice of a month."""

    vehicles: int = 0  # 进站台次: distinct vehicle + day, over claims and every repair order
    warranty_visits: int = 0  # 三包维修台次: distinct vehicle + repair day among the claims
    warranty_claims: int = 0  # 三包索赔单数
    claimed_qty: int = 0  # 索赔件数
    warranty_labor: Money = Decimal("0")  # 三包工时费
    warranty_material: Money = Decimal("0")  # 三包材料费 (= 索赔件金额)
    paid_repairs: int = 0  # 收费维修台次 (一般维修, 事故维修)
    paid_labor: Money = Decimal("0")
    paid_material: Money = Decimal("0")
    paid_total: Money = Decimal("0")  # 总计 of the orders (may hold more than labour + material)
    maintenance: int = 0  # 保养台次
    maintenance_first: int = 0  # of them 首保
    maintenance_periodic: int = 0  # of them 定保 (the rest say neither)
    maintenance_labor: Money = Decimal("0")
    maintenance_material: Money = Decimal("0")
    maintenance_total: Money = Decimal("0")
    returned_qty: int = 0  # 返厂件数 (a part on a manifest and tagged counts once)
    returned_unclaimed_qty: int = 0  # of them matching no claim

    @computed_field  # type: ignore[prop-decorator]
    @property
    def warranty_total(self) -> Decimal:
        return self.warranty_labor + self.warranty_material

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> Decimal:
        """三包 + 收费 + 保养 (营业总额 without parts sales, which no form here records)."""
        return self.warranty_total + self.paid_total + self.maintenance_total


class SummaryRow(Figures):
    """One station, vehicle model, part or fault category."""

    key: str  # station code, model, part no. or category ('' when not written)
    label: str  # station name, model as written, part name, category


class MonthlySummary(BaseModel):
    """A month of after-sales service, for one station or (station None) the network."""

    month: str  # 2026-11
    period_start: date
    period_end: date
    station: str | None = None
    station_name: str | None = None
    generated_at: Timestamp = Field(default_factory=utcnow)
    totals: Figures
    stations: list[SummaryRow] = Field(default_factory=list)
    models: list[SummaryRow] = Field(default_factory=list)
    parts: list[SummaryRow] = Field(default_factory=list)
    categories: list[SummaryRow] = Field(default_factory=list)
    orders_to_check: int = 0  # repair orders of the month whose reading awaits review
    orders_undated: int = 0  # repair orders with neither 进厂时间 nor 签字日期 read

    def station_row(self, code: str) -> SummaryRow:
        """The figures of one station; a LookupError when the summary holds none."""
        for row in self.stations:
            if row.key == code:
                return row
        raise LookupError(f"{self.month} 汇总中没有维修站“{code}”")
