"""The annotated copy sent back to a unit: its own workbook with each problem cell marked.

Each located issue highlights its cell (red for errors, yellow for warnings) with the message as
a cell comment, and a 问题清单 sheet lists every issue with a link to its cell, so nobody has to
describe cells over the phone. Nothing a unit typed becomes a formula here: text that starts
with = + - @ is written with a leading apostrophe.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.utils.exceptions import InvalidFileException

from minshi_xls import faults, settings, xlsx_style
from minshi_xls import issues as I

SHEET = "问题清单"
FILLS = {I.ERROR: PatternFill("solid", fgColor="FFC7CE"),
         I.WARNING: PatternFill("solid", fgColor="FFEB9C")}
HEADERS = ("序号", "类别", "问题", "工作表", "单元格", "指标编号", "填写内容", "说明")
WIDTHS = (5, 6, 14, 9, 12, 16, 16, 58)
HEADER_ROW = 3  # 1-based: title, then unit and period, then the table
FONT = Font(name=settings.FONT, size=10)
BOLD = Font(name=settings.FONT, size=10, bold=True)
THIN = Side(style="thin", color=xlsx_style.BORDER_COLOR)
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor=xlsx_style.HEADER_FILL)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(v) -> Optional[str]:
    """Text that can never be taken for a formula by Excel, WPS or LibreOffice."""
    if v is None:
        return None
    s = str(v)
    return "'" + s if s.startswith(_FORMULA_START) else s


def _open(data: bytes, fmt: str):
    """The unit's workbook (xlsx/xlsm), or a fresh one when it is not readable by openpyxl
    (.xls/.ods or broken): the list of problems still goes back."""
    if fmt in ("xlsx", "xlsm"):
        try:
            return openpyxl.load_workbook(io.BytesIO(data), keep_vba=False), True
        except (InvalidFileException, KeyError, ValueError, OSError, TypeError, IndexError):
            pass
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    return wb, False


def write_annotated(data: bytes, fmt: str, issues: Sequence[I.Issue], dest,
                    unit: Optional[str] = None, period: Optional[str] = None) -> Path:
    """Write the annotated copy to ``dest`` (.xlsx) and return its path; ``unit`` and
    ``period`` (when identified) head its 问题清单."""
    wb, own = _open(data, fmt)
    shown = [i for i in issues if i.severity != I.INFO]
    for i in shown:
        if not (own and i.sheet in wb.sheetnames and i.cell):
            continue
        ws = wb[i.sheet]
        try:
            cell = ws[i.cell]
        except (ValueError, IndexError):
            continue
        if type(cell).__name__ == "MergedCell":
            continue
        fill = FILLS.get(i.severity)
        if fill:
            cell.fill = fill
        text = f"【{I.SEVERITY_LABELS.get(i.severity, '')}】{i.title}：{i.message}"
        if cell.comment is not None:
            text = cell.comment.text + "\n" + text
        cell.comment = Comment(text, "市民生实事办", width=320, height=160)
    if SHEET in wb.sheetnames:
        del wb[SHEET]
    _problem_list(wb.create_sheet(SHEET, 0), shown, wb.sheetnames if own else [], unit, period)
    wb.active = 0
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = sheet.title == SHEET
    dest = Path(dest)
    buf = io.BytesIO()
    wb.save(buf)
    faults.atomic_write(dest, buf.getvalue())  # a kill or a full disk leaves no half copy
    return dest


def _cell_order(i: I.Issue):
    """Errors first, then sheet by sheet, cell by cell down the sheet."""
    digits = "".join(ch for ch in (i.cell or "") if ch.isdigit())
    letters = "".join(ch for ch in (i.cell or "") if ch.isalpha())
    return (I.SEVERITY_ORDER.get(i.severity, 9), i.sheet or "", int(digits or 0),
            len(letters), letters)


def cell_ranges(cells: Sequence[str]) -> str:
    """"O5:O11、L12" for cells O5…O11 and L12: a column's consecutive rows as one range."""
    parsed = []
    for c in dict.fromkeys(cells):
        letters = "".join(ch for ch in c if ch.isalpha())
        digits = "".join(ch for ch in c if ch.isdigit())
        parsed.append((letters, int(digits) if digits else 0, c))
    out, run = [], []
    for letters, row, c in sorted(parsed, key=lambda p: (len(p[0]), p[0], p[1])):
        if run and (letters != run[-1][0] or row != run[-1][1] + 1):
            out.append(run)
            run = []
        run.append((letters, row, c))
    if run:
        out.append(run)
    return "、".join(r[0][2] if len(r) == 1 else f"{r[0][2]}:{r[-1][2]}" for r in out)


def grouped(issues: Sequence[I.Issue]) -> List[List[I.Issue]]:
    """Issues saying the same thing on one sheet, together (a missing 进展情况 on twenty rows
    is one line with twenty cells), in :func:`_cell_order`."""
    groups: Dict[tuple, List[I.Issue]] = {}
    for i in sorted(issues, key=_cell_order):
        groups.setdefault((i.severity, i.title, i.sheet, i.message), []).append(i)
    return list(groups.values())


def _problem_list(ws, shown: Sequence[I.Issue], sheets: Sequence[str],
                  unit: Optional[str], period: Optional[str]) -> None:
    """问题清单: a title, the unit and period, one line per problem (repeats grouped, each cell
    linked), printed landscape on A4, as wide as the page."""
    last = len(HEADERS)
    errors = sum(1 for i in shown if i.severity == I.ERROR)
    warnings = sum(1 for i in shown if i.severity == I.WARNING)
    when = ""
    if period and len(period) == 7:
        when = f"{period[:4]}年{int(period[5:])}月"
    ws.append([f"{unit or ''}{when}填报表问题清单"])
    ws.merge_cells(start_row=1, end_row=1, start_column=1, end_column=last)
    ws["A1"].font = Font(name=settings.TITLE_FONT, size=14, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 28
    head = (f"填报单位：{unit or '（未识别）'}　　填报月份：{when or '（未识别）'}　　共 {len(shown)} 个问题"
            f"（错误 {errors} 个，警告 {warnings} 个）。红色为错误，须更正后重新报送；黄色为警告，"
            "请核实，数字无误的请在“备注（说明）”列写明原因。点单元格地址可跳到该单元格。")
    ws.append([head])
    ws.merge_cells(start_row=2, end_row=2, start_column=1, end_column=last)
    ws["A2"].font = FONT
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="center")
    ws.row_dimensions[2].height = xlsx_style.row_height([(head, sum(WIDTHS) * 0.95)])
    ws.append(HEADERS)
    for c in ws[HEADER_ROW]:
        c.font, c.fill, c.border = BOLD, HEAD_FILL, BOX
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for n, group in enumerate(grouped(shown), 1):
        i = group[0]
        cells = cell_ranges([g.cell for g in group if g.cell])
        if len(group) > 1:
            cells += f"（{len(group)}处）"
        ids = "、".join(dict.fromkeys(safe_text(g.indicator_id) for g in group if g.indicator_id))
        values = "、".join(dict.fromkeys(safe_text(g.value) for g in group if g.value))
        ws.append([n, I.SEVERITY_LABELS.get(i.severity, i.severity), i.title, safe_text(i.sheet),
                   cells or None, ids or None, values or None, safe_text(i.message)])
        r = ws.max_row
        for c, w in zip(ws[r], WIDTHS):
            c.font, c.border = FONT, BOX
            c.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(c.value, str) and c.value.startswith("="):
                c.data_type = "s"
        ws.cell(r, 2).fill = FILLS.get(i.severity, PatternFill())
        ws.row_dimensions[r].height = xlsx_style.row_height(
            [(c.value, w - 1) for c, w in zip(ws[r], WIDTHS) if isinstance(c.value, str)])
        if i.sheet in sheets and i.cell:
            link = ws.cell(r, 5)
            link.hyperlink = f"#'{i.sheet.replace(chr(39), chr(39) * 2)}'!{i.cell}"
            link.font = Font(name=settings.FONT, size=10, color="0563C1", underline="single")
    for col, w in zip("ABCDEFGH", WIDTHS):
        ws.column_dimensions[col].width = w
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top, ws.page_margins.bottom = 0.5, 0.6
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddFooter.left.text = f"{unit or ''} 问题清单"
