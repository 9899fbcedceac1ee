"""The annotated copy sent back to a unit: its own workbook with each problem cell marked.

Each located issue highlights its cell (red for errors, yellow for warnings) with the message as
a cell comment, and a 问题清单 sheet lists every issue with a link to its cell, so nobody has to
describe cells over the phone. Nothing a unit typed becomes a formula here: text that starts
with = + - @ is written with a leading apostrophe.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Optional, Sequence

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException

from minshi_xls import faults
from minshi_xls import issues as I

SHEET = "问题清单"
FILLS = {I.ERROR: PatternFill("solid", fgColor="FFC7CE"),
         I.WARNING: PatternFill("solid", fgColor="FFEB9C")}
HEADERS = ("序号", "类别", "问题", "工作表", "单元格", "指标编号", "填写内容", "说明")
WIDTHS = (6, 8, 16, 12, 9, 12, 20, 80)
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


def write_annotated(data: bytes, fmt: str, issues: Sequence[I.Issue], dest) -> Path:
    """Write the annotated copy to ``dest`` (.xlsx) and return its path."""
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
    ws = wb.create_sheet(SHEET, 0)
    ws.append(HEADERS)
    for c in ws[1]:
        c.font = Font(bold=True)
    for n, i in enumerate(sorted(shown, key=lambda x: I.SEVERITY_ORDER.get(x.severity, 9)), 1):
        ws.append([n, I.SEVERITY_LABELS.get(i.severity, i.severity), i.title, safe_text(i.sheet),
                   i.cell, safe_text(i.indicator_id), safe_text(i.value), safe_text(i.message)])
        r = ws.max_row
        for c in ws[r]:
            c.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(c.value, str) and c.value.startswith("="):
                c.data_type = "s"
        if own and i.sheet in wb.sheetnames and i.cell:
            link = ws.cell(r, 5)
            link.hyperlink = f"#'{i.sheet.replace(chr(39), chr(39) * 2)}'!{i.cell}"
            link.font = Font(color="0563C1", underline="single")
    for col, w in zip("ABCDEFGH", WIDTHS):
        ws.column_dimensions[col].width = w
    ws.freeze_panes = "A2"
    wb.active = 0
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = sheet.title == SHEET
    dest = Path(dest)
    buf = io.BytesIO()
    wb.save(buf)
    faults.atomic_write(dest, buf.getvalue())  # a kill or a full disk leaves no half copy
    return dest
