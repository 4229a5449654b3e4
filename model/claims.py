"""The network's stations (维修站) and its warranty claims (三包索赔单), and the imports
that brought them in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from .errors import FormdeskError
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
    # the source its claims carry (Claim.source: "import:<id>" or "record:<record id>");
    # None on a log from before it was kept (a file's: "import:<id>")
    source: str | None = None
    undone_by: str | None = None  # 撤销: who took its claims out again, and when
    undone_at: Timestamp | None = None

    def claims_source(self) -> str:
        """The Claim.source of the claims this import brought in."""
        return self.source or f"import:{self.import_id}"


# -- refusals of a claims file ----------------------------------------------------------------


class RowProblem(BaseModel):
    """One thing wrong with a claims file: where (line, column label) and why."""

    line: int | None = None  # the file's line / sheet row (header = 1) or the form's row
    column: str | None = None  # the column's Chinese label
    reason: str

    def __str__(self) -> str:
        where = " ".join(
            p for p in (f"第{self.line}行" if self.line else "", self.column or "") if p
        )
        return f"{where}:{self.reason}" if where else self.reason


class ClaimFileError(FormdeskError, ValueError):
    """A claims file (or BD-25 record) refused as a whole (HTTP 422); `str()` is a one-line
    summary, `problems` lists what is wrong (at most MAX_PROBLEMS, `total` counts them all)."""

    status = 422

    def details(self) -> dict[str, Any]:
        """Every row problem found (line, column, reason), for the clerk fixing the file."""
        return {"problems": [p.model_dump() for p in self.problems]}

    def __init__(self, message: str, problems: list[RowProblem] | None = None, total: int = 0):
        super().__init__(message)
        self.problems = problems if problems is not None else [RowProblem(reason=message)]
        self.total = max(total, len(self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled whole (the import parses in a worker process): by default an exception
        is rebuilt from its message alone, and the problems would be lost."""
        return (type(self), (str(self), self.problems, self.total))


class ClaimFileTooLarge(ClaimFileError):
    """Over the size limit: refused before the file is read (HTTP 413)."""

    status = 413

    def details(self) -> dict[str, Any]:
        return {}
