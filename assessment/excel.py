"""The score sheets as an Excel workbook laid out like the notice's table (临沂市环境监管网格化体系
考核细则): one worksheet per county-level grid — 序号, 指标类型, 分值, 考核内容, 评分细则, then
the points each rule took with the evidence behind them and the item's score — and a ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from assessment import selectors
from assessment.models import ScoreSheet

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GRADE_ZH = {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}
HEADER = [
    "序号",
    "指标类型",
    "分值",
    "考核内容",
    "评分细则",
    "扣（加）分",
    "扣（加）分依据",
    "考核得分",
]
WIDTHS = [6, 22, 9, 40, 44, 14, 60, 10]
EVIDENCE_SHOWN = 10
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _num(value):
    """A Decimal as a plain number (no trailing zeros) for the cell."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _max_label(item) -> object:
    if item.group == "bonus":
        return f"最高{_num(item.max_points)}分"
    if item.group == "deduction":
        return "--"
    return _num(item.max_points)


def _evidence_text(line) -> str:
    shown = [f"· {e.get('text', '')}" for e in line.evidence[:EVIDENCE_SHOWN]]
    if line.instances > len(shown):
        shown.append(f"……共{line.instances}项")
    return "\n".join(shown)


def _sheet_title(name: str, taken: set[str]) -> str:
    title = "".join(ch for ch in name if ch not in "[]:*?/\\")[:28] or "sheet"
    base, n = title, 2
    while title in taken:
        title = f"{base[:26]}-{n}"
        n += 1
    taken.add(title)
    return title


def sheets_write(*, sheets: Sequence[ScoreSheet], ranking, out: IO[bytes]) -> None:
    """Write ``sheets`` (from ``selectors.sheet_list``) and ``ranking`` to ``out``."""
    wb = Workbook()
    wb.remove(wb.active)
    rule_sets = {}
    taken: set[str] = set()
    for sheet in sheets:
        if sheet.year not in rule_sets:
            rule_sets[sheet.year] = selectors.rule_set_get(year=sheet.year)
        rule_set = rule_sets[sheet.year]
        rules = {item.code: list(item.rules.all()) for item in rule_set.items.all()}
        ws = wb.create_sheet(_sheet_title(sheet.grid.name, taken))
        _write_one(ws, sheet=sheet, rule_set=rule_set, rules=rules)
    ws = wb.create_sheet("排名", 0)
    _write_ranking(ws, ranking=ranking, year=sheets[0].year if sheets else "")
    wb.save(out)


def _write_one(ws, *, sheet: ScoreSheet, rule_set, rules: dict) -> None:
    ws.append(
        [f"{sheet.year}年度 {rule_set.name.removeprefix(f'{sheet.year}年度')} —— {sheet.grid.name}"]
    )
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = CENTER
    ws.append(HEADER)
    for col, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
        cell = ws.cell(row=2, column=col)
        cell.font = Font(bold=True)
        cell.alignment = CENTER
        cell.border = BOX
    items = list(sheet.items.all())
    row = 3
    section_start: dict[str, int] = {}
    section_end: dict[str, int] = {}
    for item in items:
        rule_item = item.rule_item
        lines = list(item.lines.all())
        ws.append(
            [
                rule_item.section,
                rule_item.section_title,
                _max_label(item),
                f"{item.code} {rule_item.content or rule_item.title}",
                "\n".join(f"{r.code} {r.title}" for r in rules.get(item.code, [])),
                "\n".join(f"{ln.code}: {_num(ln.points):+g}" for ln in lines),
                "\n".join(f"{ln.code}\n{_evidence_text(ln)}" for ln in lines),
                _num(item.score),
            ]
        )
        for col in range(1, len(HEADER) + 1):
            cell = ws.cell(row=row, column=col)
            cell.alignment = CENTER if col in (1, 2, 3, 6, 8) else WRAP
            cell.border = BOX
        section_start.setdefault(rule_item.section, row)
        section_end[rule_item.section] = row
        row += 1
    for section, start in section_start.items():
        end = section_end[section]
        if end > start:
            ws.merge_cells(start_row=start, start_column=1, end_row=end, end_column=1)
            ws.merge_cells(start_row=start, start_column=2, end_row=end, end_column=2)
    for label, value in (
        ("基础得分", sheet.base_score),
        ("加分", sheet.bonus),
        ("扣分", sheet.deductions),
        ("总分", sheet.total),
    ):
        ws.append(["", label, "", "", "", "", "", _num(value)])
        ws.cell(row=ws.max_row, column=2).font = Font(bold=True)
    ws.append(["", "等级", "", "", "", "", "", GRADE_ZH.get(sheet.grade, sheet.grade)])
    ws.cell(row=ws.max_row, column=2).font = Font(bold=True)
    status = "已锁定" if sheet.locked_at else "未锁定（可重新计算）"
    computed = sheet.computed_at.strftime("%Y-%m-%d %H:%M") if sheet.computed_at else ""
    ws.append(["", f"计算时间 {computed}，{status}"])
    ws.freeze_panes = "A3"


def _write_ranking(ws, *, ranking, year) -> None:
    ws.append([f"{year}年度环境监管网格化体系考核排名"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["名次", "网格编码", "网格", "基础得分", "加分", "扣分", "总分", "等级"])
    for col in range(1, 9):
        ws.cell(row=2, column=col).font = Font(bold=True)
    for row in ranking:
        sheet = row.sheet
        ws.append(
            [
                row.rank,
                sheet.grid.code,
                sheet.grid.name,
                _num(sheet.base_score),
                _num(sheet.bonus),
                _num(sheet.deductions),
                _num(sheet.total),
                GRADE_ZH.get(sheet.grade, sheet.grade),
            ]
        )
    for col, width in enumerate([6, 16, 24, 10, 8, 8, 8, 8], start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
