"""The external layouts: catalog forms as a station's Word template or a print shop's pad
would have them — typeset independently of render/ (other fonts, spacing and cell sizes,
the form code as plain text, no marks, no QR).  Labels follow the seed (and the catalog's
labels for the fields the seed does not name).

Each form is a page (paper mm, margins mm), title lines, and tables.  A table is a list of
rows; a row is a height (mm) and cells left to right, each a width (mm) and what it holds:

- `Label(text)`: a printed label;
- `Value(key)`: the empty cell a field is written in (its true box);
- `LabelValue(key, text)`: a label and, right of it in the same cell, the writing area
  (the seed's 来件单位:------); the true box runs from the label's end to the cell's;
- `Options(key, text)`: the options of a choice printed in the cell (the cell is the box);
- `Header(key, text)`: a column heading of the form's table; `Body(rows, height)` rows below.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Label:
    text: str


@dataclass(frozen=True)
class Value:
    key: str


@dataclass(frozen=True)
class LabelValue:
    key: str
    text: str


@dataclass(frozen=True)
class Options:
    key: str
    text: str


@dataclass(frozen=True)
class Header:
    key: str
    text: str


Cell = Label | Value | LabelValue | Options | Header


@dataclass(frozen=True)
class Row:
    height: float  # mm, exact
    cells: tuple[tuple[float, Cell], ...]  # (width mm, content)


@dataclass(frozen=True)
class Table:
    rows: tuple[Row, ...]
    body_rows: int = 0  # empty rows of the form's table after a header row
    body_height: float = 8.0  # mm

    @property
    def width(self) -> float:
        return sum(w for w, _ in self.rows[0].cells)

    @property
    def height(self) -> float:
        return sum(r.height for r in self.rows) + self.body_rows * self.body_height


@dataclass(frozen=True)
class ExternalForm:
    code: str  # the catalog form it is a variant of
    name: str  # file stem
    paper: tuple[float, float]  # mm
    margins: tuple[float, float, float, float]  # top, right, bottom, left (mm)
    font: str  # the body font
    size_pt: float
    title: str
    title_font: str
    title_pt: float
    code_text: str  # the form code as printed (plain text)
    tables: tuple[Table, ...]
    notes: tuple[str, ...] = ()
    gap_mm: float = 6.0  # space between tables
    extra: dict = field(default_factory=dict)


def _r(height: float, *cells: tuple[float, Cell]) -> Row:
    return Row(height, tuple(cells))


L, V, LV, Opt, H = Label, Value, LabelValue, Options, Header

BD27 = ExternalForm(
    code="SH-ZH/BD-27",
    name="sh-zh-bd-27_print_shop",
    paper=(105.0, 148.0),
    margins=(8.0, 8.0, 8.0, 8.0),
    font="Noto Serif CJK SC",
    size_pt=8.5,
    title="保修零部件鉴别标签",
    title_font="Noto Sans CJK SC",
    title_pt=12.0,
    code_text="SH-ZH/BD—27",
    tables=(
        Table(
            (
                _r(9.0, (89.0, LV("sender_unit", "来件单位:"))),
                _r(
                    8.5,
                    (17.0, L("型号")),
                    (27.5, V("vehicle_model")),
                    (17.0, L("购买日期")),
                    (27.5, V("purchase_date")),
                ),
                _r(
                    8.5,
                    (17.0, L("发动机号")),
                    (27.5, V("engine_no")),
                    (17.0, L("修理日期")),
                    (27.5, V("repair_date")),
                ),
                _r(8.5, (17.0, L("车架号码")), (72.0, V("vin"))),
                _r(8.5, (17.0, L("行驶里程")), (72.0, V("mileage_km"))),
                _r(9.0, (89.0, LV("part_name", "零部件名称:"))),
                _r(9.0, (89.0, LV("part_no", "零部件编号:"))),
                _r(10.0, (17.0, L("初步确认")), (72.0, V("preliminary_finding"))),
                _r(10.0, (17.0, L("检查结果")), (72.0, V("inspection_result"))),
                _r(8.5, (89.0, Opt("part_origin", "日产零部件          国产零部件"))),
                _r(8.5, (17.0, L("公司名称")), (72.0, V("company_name"))),
            )
        ),
    ),  # fmt: skip
    notes=("注:请在上面画圈标明所使用零部件的产地",),
)

BD31 = ExternalForm(
    code="SH-ZH/BD-31",
    name="sh-zh-bd-31_station_word",
    paper=(297.0, 210.0),
    margins=(14.0, 15.0, 12.0, 15.0),
    font="Noto Sans CJK SC",
    size_pt=9.5,
    title="XX公司售后服务中心三包索赔件返厂清单",
    title_font="Noto Serif CJK SC",
    title_pt=15.0,
    code_text="SH-ZH/BD—31",
    tables=(
        Table(
            (
                _r(
                    9.5,
                    (24.0, L("单位名称")),
                    (85.0, V("unit_name")),
                    (16.0, L("时间")),
                    (50.0, V("manifest_date")),
                    (16.0, L("编号")),
                    (76.0, V("manifest_no")),
                ),
                _r(
                    9.5,
                    (20.0, L("装箱人")),
                    (47.0, V("packer")),
                    (20.0, L("总箱数")),
                    (40.0, V("box_count")),
                    (24.0, L("合计数量")),
                    (40.0, V("total_quantity")),
                    (16.0, L("制表")),
                    (60.0, V("prepared_by")),
                ),
                _r(
                    12.0,
                    (22.0, L("主管经理")),
                    (50.0, V("supervising_manager")),
                    (16.0, L("盖章")),
                    (50.0, V("unit_seal")),
                    (50.0, L("制造商售后部门经办人")),
                    (40.0, V("manufacturer_handler")),
                    (16.0, L("稽查人")),
                    (23.0, V("manufacturer_inspector")),
                ),
            )
        ),
        Table(
            (
                _r(
                    10.0,
                    (12.0, H("serial", "序号")),
                    (34.0, H("claim_no", "索赔单号")),
                    (50.0, H("vin", "车架号")),
                    (32.0, H("engine_no", "发动机号")),
                    (32.0, H("part_no", "零件编号")),
                    (36.0, H("part_name", "零件名称")),
                    (14.0, H("quantity", "数量")),
                    (37.0, H("fault_description", "故障描述")),
                    (20.0, H("remarks", "备注")),
                ),
            ),
            body_rows=11,
            body_height=8.0,
        ),
    ),  # fmt: skip
    notes=("注:如与清单数量不符者,请及时与本中心联系。",),
    gap_mm=5.0,
)

FORM04 = ExternalForm(
    code="表格04",
    name="form-04_station_word",
    paper=(210.0, 297.0),
    margins=(16.0, 18.0, 14.0, 18.0),
    font="AR PL UKai CN",
    size_pt=10.0,
    title="维修接车单",
    title_font="Noto Serif CJK SC",
    title_pt=18.0,
    code_text="表格04",
    tables=(
        Table(
            (
                _r(
                    9.0,
                    (14.0, L("地址")),
                    (70.0, V("station_address")),
                    (14.0, L("电话")),
                    (30.0, V("station_phone")),
                    (20.0, L("救援电话")),
                    (26.0, V("rescue_phone")),
                ),
                _r(
                    9.0,
                    (18.0, L("工单号")),
                    (36.0, V("work_order_no")),
                    (20.0, L("接车时间")),
                    (100.0, V("reception_time")),
                ),
                _r(
                    9.0,
                    (20.0, L("维修类别")),
                    (154.0, Opt("repair_category", "机电□      钣喷□      改装□")),
                ),
                _r(
                    9.0,
                    (20.0, L("客户姓名")),
                    (40.0, V("customer_name")),
                    (20.0, L("联系电话")),
                    (40.0, V("customer_phone")),
                    (18.0, L("车牌号")),
                    (36.0, V("plate_no")),
                ),
                _r(
                    9.0,
                    (16.0, L("车型")),
                    (44.0, V("vehicle_model")),
                    (18.0, L("车架号")),
                    (96.0, V("vin")),
                ),
                _r(
                    9.0,
                    (20.0, L("发动机号")),
                    (40.0, V("engine_no")),
                    (20.0, L("行驶里程")),
                    (30.0, V("mileage_km")),
                    (16.0, L("燃油量")),
                    (48.0, Opt("fuel_level", "空  1/4  1/2  3/4  满")),
                ),
                _r(7.0, (174.0, L("故障现象及客户要求"))),
                _r(18.0, (174.0, V("customer_request"))),
                _r(7.0, (87.0, L("外观检查(划痕、凹陷、破损)")), (87.0, L("随车物品"))),
                _r(16.0, (87.0, V("exterior_check")), (87.0, V("items_in_car"))),
                _r(
                    9.0,
                    (58.0, LV("no_valuables", "车内无贵重物品  □")),
                    (58.0, LV("old_parts_returned", "旧件客户带走  □")),
                    (58.0, LV("car_wash", "需要洗车  □")),
                ),
                _r(
                    9.0,
                    (26.0, L("预计交车时间")),
                    (61.0, V("promised_delivery_time")),
                    (20.0, L("预估费用")),
                    (67.0, V("estimated_cost")),
                ),
                _r(
                    14.0,
                    (20.0, L("服务顾问")),
                    (67.0, V("service_advisor")),
                    (20.0, L("客户签字")),
                    (67.0, V("customer_signature")),
                ),
            )
        ),
        Table(
            (
                _r(
                    9.0,
                    (12.0, H("serial", "序号")),
                    (74.0, H("job_description", "维修项目")),
                    (24.0, H("estimated_hours", "预估工时")),
                    (28.0, H("estimated_amount", "预估金额")),
                    (36.0, H("remarks", "备注")),
                ),
            ),
            body_rows=10,
            body_height=8.0,
        ),
    ),  # fmt: skip
    gap_mm=5.0,
)

FORMS: tuple[ExternalForm, ...] = (BD27, BD31, FORM04)
