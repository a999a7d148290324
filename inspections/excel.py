"""Excel workbooks of the source register and the inspection ledger (DOMAIN §4; issue 3 item 6).

The source list (污染源清单) — import, template and export share these columns, with the
Chinese headers in row 1 of the first sheet (any order; the export's extra columns are ignored
on import, so an exported file can be imported again):

========================  ===================  =============================================
header                    field                what to write
========================  ===================  =============================================
名称                      name                 required
统一社会信用代码          credit_code          18 characters with a valid check character
                                               (GB 32100); write it as text, not a number
地址                      address
网格编码                  grid                 the code of a grid in the importer's scope
纬度 / 经度               lat / lng            decimal degrees, both or neither, in the city
行业                      industry
类别                      kind                 a code (enterprise …) or its label: 企业,
                                               建筑工地 (施工工地), 餐饮, 畜禽养殖场, 锅炉, 其他
监管等级                  control_tier         a code (national …) or 国控/省控/市控/县控/其他
在线监控                  online_monitoring    是/否 (empty is 否)
省级环境安全重点          safety_key           是/否 (empty is 否)
联系人                    contact_name
联系电话                  contact_phone
排污许可证号              permit_number
主要污染物                pollutants
排放去向                  discharge_to
========================  ===================  =============================================

The export adds 网格名称, 状态, 巡查周期（天）, 最近巡查 and 下次应巡查.

Import is all or nothing (issue 3, "a file with any bad row stores nothing and says which rows
and why"). Every row is read and checked first with the service's own checks
(``inspections.services.source_register_roles`` once per grid and ``source_values_clean`` per
row, the rules ``source_create`` applies), and if any row fails nothing is written and
``SourceImportRejected`` lists every problem as {row, field, column, message}; rows are
numbered as Excel numbers them (the headers are row 1). Only then are all the sources created,
in one transaction, by ``services.sources_create_many`` — the same code ``source_create`` uses
(status, history row, schedule) — in bulk with one set-based schedule refresh. On top of the service's rules the import refuses a
source whose name is already registered (and not closed) in the same grid, or that appears twice
in the file, so that importing a file twice does not register it twice.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from core.errors import DomainError, Forbidden
from core.models import User
from grids import selectors as grid_selectors
from grids.models import Department, Grid
from inspections import ledger, selectors, services
from inspections.models import ControlTier, Patrol, PollutionSource, SourceKind

MAX_ROWS = 5000
# The error report stops listing after this many problems (the total is still given).
MAX_REPORTED_ERRORS = 500
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    width: int = 14


SOURCE_COLUMNS = [
    Column("名称", "name", 30),
    Column("统一社会信用代码", "credit_code", 22),
    Column("地址", "address", 30),
    Column("网格编码", "grid", 16),
    Column("纬度", "lat", 11),
    Column("经度", "lng", 11),
    Column("行业", "industry"),
    Column("类别", "kind", 12),
    Column("监管等级", "control_tier", 10),
    Column("在线监控", "online_monitoring", 10),
    Column("省级环境安全重点", "safety_key", 10),
    Column("联系人", "contact_name", 10),
    Column("联系电话", "contact_phone", 15),
    Column("排污许可证号", "permit_number", 22),
    Column("主要污染物", "pollutants", 20),
    Column("排放去向", "discharge_to", 20),
]
EXPORT_ONLY_COLUMNS = [
    Column("网格名称", "grid_name", 16),
    Column("状态", "status", 8),
    Column("巡查周期（天）", "patrol_interval_days", 10),
    Column("最近巡查", "last_patrol_at", 18),
    Column("下次应巡查", "next_patrol_due", 12),
]
HEADER_OF = {c.field: c.header for c in SOURCE_COLUMNS + EXPORT_ONLY_COLUMNS}
TEXT_FIELDS = [
    "name",
    "credit_code",
    "address",
    "industry",
    "contact_name",
    "contact_phone",
    "permit_number",
    "pollutants",
    "discharge_to",
]

# Chinese labels as the notices and the city's lists write them; the codes are accepted too.
KIND_LABELS = {
    SourceKind.ENTERPRISE: "企业",
    SourceKind.CONSTRUCTION_SITE: "建筑工地",
    SourceKind.CATERING: "餐饮",
    SourceKind.LIVESTOCK_FARM: "畜禽养殖场",
    SourceKind.BOILER: "锅炉",
    SourceKind.OTHER: "其他",
}
KIND_ALIASES = {"施工工地": SourceKind.CONSTRUCTION_SITE, "养殖场": SourceKind.LIVESTOCK_FARM}
TIER_LABELS = {
    ControlTier.NATIONAL: "国控",
    ControlTier.PROVINCIAL: "省控",
    ControlTier.MUNICIPAL: "市控",
    ControlTier.COUNTY: "县控",
    ControlTier.OTHER: "其他",
}
STATUS_LABELS = {
    PollutionSource.Status.REPORTED: "待确认",
    PollutionSource.Status.ACTIVE: "在册",
    PollutionSource.Status.CLOSED: "已关闭",
}
YES, NO = "是", "否"
_YES = {"是", "y", "yes", "true", "1", "有"}
_NO = {"否", "n", "no", "false", "0", "无", ""}

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class SourceImportRejected(DomainError):
    """Some rows are bad; nothing was stored. ``rows`` lists {row, field, column, message}."""

    def __init__(self, rows: list[dict]):
        super().__init__(
            _("%(n)s problem(s) in the file; nothing was stored. Correct the rows and try again.")
            % {"n": len(rows)},
            rows=rows[:MAX_REPORTED_ERRORS],
            errors_total=len(rows),
        )
        self.rows = rows


# --- reading ---------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    values: dict[str, Any] = field(default_factory=dict)
    grid_code: str = ""
    errors: list[dict] = field(default_factory=list)

    def error(self, field_name: str, message: str) -> None:
        self.errors.append(
            {
                "row": self.number,
                "field": field_name,
                "column": HEADER_OF.get(field_name, ""),
                "message": str(message),
            }
        )


def _file_error(message: str, **extra) -> DomainError:
    return DomainError(message, file=[message], **extra)


def _open(workbook_bytes: bytes):
    try:
        workbook = load_workbook(io.BytesIO(workbook_bytes), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise _file_error(_("The file is not an Excel workbook (.xlsx).")) from exc
    if not workbook.worksheets:
        workbook.close()
        raise _file_error(_("The workbook has no sheet."))
    return workbook


def _header_map(header_row: tuple) -> dict[str, int]:
    """Field → column index, or a DomainError naming missing and unknown headers."""
    known = {c.header: c.field for c in SOURCE_COLUMNS + EXPORT_ONLY_COLUMNS}
    positions: dict[str, int] = {}
    unknown, doubled = [], []
    for index, value in enumerate(header_row):
        header = _text(value)
        if not header:
            continue
        if header not in known:
            unknown.append(header)
        elif known[header] in positions:
            doubled.append(header)
        else:
            positions[known[header]] = index
    missing = [c.header for c in SOURCE_COLUMNS if c.field not in positions]
    if missing or unknown or doubled:
        raise _file_error(
            _(
                "Row 1 must hold the column headers of the template (download it from "
                "/api/v1/sources/import-template/)."
            ),
            missing_columns=missing,
            unknown_columns=unknown,
            repeated_columns=doubled,
        )
    return positions


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _number(row: _Row, name: str, value: Any, low: float, high: float) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            number = None
    if number is None or not low <= number <= high:
        row.error(
            name, _("Write a number between %(low)s and %(high)s.") % {"low": low, "high": high}
        )
        return None
    return number


def _flag(row: _Row, name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _YES:
        return True
    if text not in _NO:
        row.error(name, _("Write %(yes)s or %(no)s.") % {"yes": YES, "no": NO})
    return False


def _choice(row: _Row, name: str, value: Any, labels: dict, aliases: dict) -> str:
    text = _text(value)
    if not text:
        row.error(name, _("Required."))
        return ""
    by_label = {label: code for code, label in labels.items()} | aliases
    code = by_label.get(text) or (text.lower() if text.lower() in labels else None)
    if code is None:
        row.error(
            name,
            _("Unknown value %(value)r; write one of %(choices)s.")
            % {"value": text, "choices": "、".join(labels.values())},
        )
        return ""
    return str(code)


def _row_read(number: int, cells: tuple, positions: dict[str, int]) -> _Row | None:
    """One data row parsed into the service's input values; None for an empty row."""

    def cell(name: str) -> Any:
        index = positions.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    if all(_text(cell(c.field)) == "" for c in SOURCE_COLUMNS):
        return None
    row = _Row(number=number)
    values: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = cell(name)
        if name == "credit_code" and isinstance(value, int | float) and not isinstance(value, bool):
            row.error(
                name,
                _(
                    "The credit code was stored as a number and may have lost digits; "
                    "format the column as text."
                ),
            )
        text = _text(value)
        limit = PollutionSource._meta.get_field(name).max_length
        if len(text) > limit:
            row.error(name, _("At most %(n)s characters.") % {"n": limit})
        values[name] = text
    if not values["name"]:
        row.error("name", _("A source needs a name."))
    row.grid_code = _text(cell("grid"))
    if not row.grid_code:
        row.error("grid", _("Required."))
    values["lat"] = _number(row, "lat", cell("lat"), -90, 90)
    values["lng"] = _number(row, "lng", cell("lng"), -180, 180)
    values["kind"] = _choice(row, "kind", cell("kind"), KIND_LABELS, KIND_ALIASES)
    values["control_tier"] = _choice(row, "control_tier", cell("control_tier"), TIER_LABELS, {})
    values["online_monitoring"] = _flag(row, "online_monitoring", cell("online_monitoring"))
    values["safety_key"] = _flag(row, "safety_key", cell("safety_key"))
    row.values = values
    return row


def _rows_read(workbook_bytes: bytes) -> list[_Row]:
    workbook = _open(workbook_bytes)
    try:
        sheet = workbook.worksheets[0]
        width = len(SOURCE_COLUMNS) + len(EXPORT_ONLY_COLUMNS) + 10
        lines = sheet.iter_rows(max_col=width, values_only=True)
        header = next(lines, None)
        if header is None:
            raise _file_error(_("The first sheet is empty."))
        positions = _header_map(header)
        rows = []
        for number, cells in enumerate(lines, start=2):
            row = _row_read(number, cells, positions)
            if row is None:
                continue
            if len(rows) == MAX_ROWS:
                raise _file_error(
                    _("A file holds at most %(n)s sources; split it into several files.")
                    % {"n": MAX_ROWS}
                )
            rows.append(row)
    finally:
        workbook.close()
    if not rows:
        raise _file_error(_("The file holds no sources below the headers."))
    return rows


def _service_errors(row: _Row, exc: DomainError) -> None:
    fields = {k: v for k, v in exc.extra.items() if k != "status"}
    if not fields:
        row.error("", str(exc))
        return
    for name, messages in fields.items():
        for message in messages if isinstance(messages, list) else [messages]:
            row.error(name, str(message))


def source_import(*, workbook_bytes: bytes, actor: User, grid_scope_user: User) -> int:
    """Register every source of the workbook, or none: returns how many were registered, or
    raises ``SourceImportRejected`` (per-row problems) or ``DomainError`` (not a workbook,
    wrong headers, empty, too many rows). Grid codes are looked up in ``grid_scope_user``'s
    scope; ``actor`` registers the sources (and needs a patrol role on each grid)."""
    rows = _rows_read(workbook_bytes)
    codes = {row.grid_code for row in rows if row.grid_code}
    grids = {
        grid.code: grid
        for grid in grid_selectors.grids_visible(user=grid_scope_user).filter(code__in=codes)
    }
    registered = set(
        PollutionSource.objects.filter(
            grid__in=grids.values(), name__in=[r.values["name"] for r in rows]
        )
        .exclude(status=PollutionSource.Status.CLOSED)
        .values_list("grid__code", "name")
    )
    first_row: dict[tuple[str, str], int] = {}
    for row in rows:
        if row.grid_code and row.grid_code not in grids:
            row.error(
                "grid",
                _("Unknown grid code %(code)s, or the grid lies outside your area.")
                % {"code": row.grid_code},
            )
        key = (row.grid_code, row.values["name"])
        if key in registered:
            row.error("name", _("This source is already registered in this grid."))
        elif row.values["name"] and key in first_row:
            row.error("name", _("The same source appears on row %(n)s.") % {"n": first_row[key]})
        first_row.setdefault(key, row.number)

    # Validate every row with the service's own checks: the roles once per grid, then the
    # fields (credit code, tier, kind, coordinates in the city) row by row.
    refused: dict[int, str] = {}
    held: dict[int, set[str]] = {}
    for grid in grids.values():
        try:
            held[grid.pk] = services.source_register_roles(grid=grid, actor=actor)
        except Forbidden as exc:
            refused[grid.pk] = str(exc)
    for row in rows:
        if row.errors:
            continue
        grid = grids[row.grid_code]
        if grid.pk in refused:
            row.error("grid", refused[grid.pk])
            continue
        try:
            row.values = services.source_values_clean(
                grid=grid, data=services.SourceInput(**row.values)
            )
        except DomainError as exc:
            _service_errors(row, exc)
    problems = [error for row in rows for error in row.errors]
    if problems:
        raise SourceImportRejected(problems)
    created = services.sources_create_many(
        items=[(grids[row.grid_code], row.values) for row in rows],
        held=held,
        actor=actor,
        note=_("imported from Excel"),
    )
    return len(created)


# --- writing ---------------------------------------------------------------------------------


def _safe(sheet, value: Any) -> Any:
    """A cell value as written: text never becomes a formula, times lose their zone (Excel has
    none; they are shown in the city's time), control characters are dropped."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value, timezone.get_default_timezone())
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, str):
        value = _ILLEGAL.sub("", value)
        if value.startswith("="):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            return cell
    return value


def _text_cell(sheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=_ILLEGAL.sub("", value))
    cell.data_type = "s"
    cell.number_format = "@"
    return cell


def _header_cells(sheet, headers: Iterable[str]) -> list[WriteOnlyCell]:
    cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cells.append(cell)
    return cells


def _sheet(workbook: Workbook, title: str, columns: list[Column], freeze: str = "A2"):
    sheet = workbook.create_sheet(title)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = freeze
    return sheet


def _source_cells(sheet, source: PollutionSource, *, export: bool) -> list:
    cells = [
        _safe(sheet, source.name),
        _text_cell(sheet, source.credit_code),
        _safe(sheet, source.address),
        _text_cell(sheet, source.grid.code),
        source.lat,
        source.lng,
        _safe(sheet, source.industry),
        KIND_LABELS.get(source.kind, source.kind),
        TIER_LABELS.get(source.control_tier, source.control_tier),
        YES if source.online_monitoring else NO,
        YES if source.safety_key else NO,
        _safe(sheet, source.contact_name),
        _text_cell(sheet, source.contact_phone),
        _text_cell(sheet, source.permit_number),
        _safe(sheet, source.pollutants),
        _safe(sheet, source.discharge_to),
    ]
    if export:
        cells += [
            _safe(sheet, source.grid.name),
            STATUS_LABELS.get(source.status, source.status),
            source.patrol_interval_days,
            _safe(sheet, source.last_patrol_at),
            source.next_patrol_due,
        ]
    return cells


def source_export_write(*, user: User, out: IO[bytes], **filters) -> int:
    """Write the register as ``inspections.selectors.source_list(user=user, **filters)`` lists
    it to ``out``; return the number of sources. A write-only workbook and a chunked query
    keep memory flat however long the register is."""
    workbook = Workbook(write_only=True)
    columns = SOURCE_COLUMNS + EXPORT_ONLY_COLUMNS
    sheet = _sheet(workbook, "污染源清单", columns)
    sheet.append(_header_cells(sheet, [c.header for c in columns]))
    count = 0
    for source in selectors.source_list(user=user, **filters).iterator(chunk_size=2000):
        sheet.append(_source_cells(sheet, source, export=True))
        count += 1
    workbook.save(out)
    return count


def source_template_write(*, user: User, out: IO[bytes]) -> None:
    """The import template: the headers, one example row (in a grid of the user's, when there
    is one) and a sheet explaining each column."""
    example_grid = grid_selectors.grids_visible(user=user).order_by("-level", "code").first()
    example = PollutionSource(
        name="示例化工有限公司",
        credit_code="91371302MA3C000002",
        address="兰山区示例路 1 号",
        grid=example_grid or Grid(code="371302001001", name=""),
        lat=None,
        lng=None,
        industry="化学原料和化学制品制造业",
        kind=SourceKind.ENTERPRISE,
        control_tier=ControlTier.MUNICIPAL,
        online_monitoring=True,
        safety_key=False,
        contact_name="张三",
        contact_phone="13800000000",
        permit_number="91371302MA3C000002001P",
        pollutants="COD、氨氮",
        discharge_to="经园区污水处理厂排入沂河",
    )
    workbook = Workbook(write_only=True)
    sheet = _sheet(workbook, "污染源清单", SOURCE_COLUMNS)
    sheet.append(_header_cells(sheet, [c.header for c in SOURCE_COLUMNS]))
    sheet.append(_source_cells(sheet, example, export=False))

    notes = _sheet(workbook, "填写说明", [Column("列", "", 18), Column("填写要求", "", 70)])
    notes.append(_header_cells(notes, ["列", "填写要求"]))
    for header, rule in _TEMPLATE_NOTES:
        notes.append([header, rule])
    workbook.save(out)


_TEMPLATE_NOTES = [
    ("名称", "必填"),
    ("统一社会信用代码", "18 位，末位校验码须正确；请以文本格式填写"),
    ("地址", "选填"),
    ("网格编码", "必填，须为您负责范围内的网格编码"),
    ("纬度", "选填，十进制度；与经度同时填写或同时留空，且须位于本市范围内"),
    ("经度", "选填，十进制度"),
    ("行业", "选填"),
    ("类别", "必填：" + "、".join(KIND_LABELS.values())),
    ("监管等级", "必填：" + "、".join(TIER_LABELS.values())),
    ("在线监控", "是 / 否（留空为否）"),
    ("省级环境安全重点", "是 / 否（留空为否）"),
    ("联系人", "选填"),
    ("联系电话", "选填"),
    ("排污许可证号", "选填"),
    ("主要污染物", "选填"),
    ("排放去向", "选填"),
    ("", f"每个文件最多 {MAX_ROWS} 行；任何一行有误则整个文件不导入，并列出每行的错误。"),
]


# --- the inspection ledger -------------------------------------------------------------------

LEDGER_COLUMNS = [
    Column("序号", "", 6),
    Column("检查时间", "", 18),
    Column("检查类型", "", 14),
    Column("污染源", "", 28),
    Column("统一社会信用代码", "", 22),
    Column("网格", "", 16),
    Column("检查单位", "", 20),
    Column("检查人员（执法证号）", "", 30),
    Column("现场负责人", "", 12),
    Column("检查情况", "", 40),
    Column("处理结果", "", 16),
    Column("整改期限", "", 12),
    Column("案件编号", "", 16),
]
PATROL_KIND_LABELS = {
    Patrol.Kind.PATROL: "网格巡查",
    Patrol.Kind.INSPECTION: "现场执法检查",
    Patrol.Kind.ONLINE_CHECK: "在线监控核查",
}
OUTCOME_LABELS = {
    Patrol.Outcome.COMPLIANT: "未发现问题",
    Patrol.Outcome.CORRECTED_ON_SITE: "当场整改",
    Patrol.Outcome.NOTICE_ISSUED: "下达整改通知",
    Patrol.Outcome.CASE_OPENED: "立案查处",
    Patrol.Outcome.ABNORMAL_READING: "在线数据异常",
}


def officer_label(user: User) -> str:
    name = user.full_name or user.get_username()
    return f"{name}（{user.enforcement_certificate}）" if user.enforcement_certificate else name


def _ledger_cells(sheet, number: int, patrol: Patrol) -> list:
    return [
        number,
        _safe(sheet, patrol.patrolled_at),
        PATROL_KIND_LABELS.get(patrol.kind, patrol.kind),
        _safe(sheet, patrol.source.name),
        _text_cell(sheet, patrol.source.credit_code),
        _safe(sheet, patrol.source.grid.name),
        _safe(sheet, patrol.department.name if patrol.department else ""),
        _safe(sheet, "、".join(officer_label(u) for u in patrol.officers.all())),
        _safe(sheet, patrol.person_present),
        _safe(sheet, patrol.findings),
        OUTCOME_LABELS.get(patrol.outcome, patrol.outcome),
        patrol.rectification_deadline,
        _safe(sheet, patrol.case_reference),
    ]


def ledger_export_write(
    *,
    user: User,
    out: IO[bytes],
    start: date,
    end: date,
    department: Department | None = None,
    grid: Grid | None = None,
    kinds: Iterable[str] = ledger.ON_SITE_KINDS,
) -> int:
    """The ledger as a workbook: its title in row 1, the headers in row 2, one row per patrol.
    Returns the number of patrols."""
    workbook = Workbook(write_only=True)
    sheet = _sheet(workbook, "检查台账", LEDGER_COLUMNS, freeze="A3")
    title = WriteOnlyCell(
        sheet, value=ledger.ledger_title(start=start, end=end, department=department, grid=grid)
    )
    title.font = Font(bold=True, size=14)
    sheet.append([title])
    sheet.append(_header_cells(sheet, [c.header for c in LEDGER_COLUMNS]))
    patrols = ledger.ledger_rows(
        user=user, start=start, end=end, department=department, grid=grid, kinds=kinds
    )
    count = 0
    for patrol in patrols.iterator(chunk_size=1000):
        count += 1
        sheet.append(_ledger_cells(sheet, count, patrol))
    workbook.save(out)
    return count
