"""Fill-in workbooks (填报表): one per responsible unit and period, built to come back clean.

The layout is the contract in :mod:`minshi_xls.columns` (sheets, header texts, column kinds, the
header block, ``_meta``); the return reader relies on it. Everything the clerk sees is Chinese.
Only input cells are unlocked; data validation and conditional formats apply the reader's rules
while the unit types, so most mistakes are fixed before the file is sent.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

from minshi_xls import MinshiError, clock, columns as C, ledger, settings
from minshi_xls.model import Indicator, Master, Task
from minshi_xls.xlsx_style import (HINT_ERROR, HINT_WARNING, Styles, close_workbook, print_setup,
                                   row_height, set_widths, write_header, write_title)

Row = Tuple[Task, Indicator]
Progress = Optional[Callable[[int, int, str], None]]

#: Suffix shown after a target (the value stays a plain number): "130以上", "12左右".
NAME_LIMIT, PHONE_LIMIT = 20, 30
TAB_COLORS = {C.SHEET_GUIDE: "808080", C.SHEET_LEAD: "2F75B5", C.SHEET_CO: "548235"}
#: Locked text columns whose content sets a row's height.
WRAPPED = ("task_text", "indicator", "lead_units")


# --- who reports what ---------------------------------------------------------------------------

@dataclass
class UnitRows:
    """The rows one unit reports on, by sheet, in the master's order."""

    unit: str
    lead: List[Row] = field(default_factory=list)
    co: List[Row] = field(default_factory=list)
    #: 本单位累计完成 is an input (counties, functional zones); bureaus only give text.
    co_numbers: bool = False

    @property
    def count(self) -> int:
        return len(self.lead) + len(self.co)

    def sheets(self) -> Dict[str, List[Row]]:
        """Non-empty sheets only: a unit never gets an empty table."""
        out = {}
        if self.lead:
            out[C.SHEET_LEAD] = self.lead
        if self.co:
            out[C.SHEET_CO] = self.co
        return out


def rows_for(master: Master, unit: str, include_co_bureaus: bool = False) -> UnitRows:
    """What ``unit`` reports, by sheet (the model's rule, :meth:`Master.report_rows`); the reader
    uses the same function to know which rows to expect."""
    lead, co = master.report_rows(unit, include_co_bureaus)
    return UnitRows(unit=unit, lead=lead, co=co, co_numbers=master.is_territorial(unit))


# --- previous period's figures --------------------------------------------------------------------

def previous_values(db_path, period: str, unit: str) -> Dict[str, float]:
    """indicator_id -> cumulative accepted for the month before ``period`` (上月累计 of 牵头任务).

    The reconciled figure wins; for indicators reconcile has not seen, the unit's own latest
    accepted return of that month is used. Nothing (no previous month in the year, no ledger yet,
    an older ledger) gives an empty dict: the cells stay blank.
    """
    return _previous(db_path, period, unit, C.column(C.LEAD_COLUMNS, "cumulative").header, True)


def previous_co_values(db_path, period: str, unit: str) -> Dict[str, float]:
    """indicator_id -> the unit's own 本单位累计完成 accepted for the month before ``period``
    (上月累计 of 配合任务: a county's share, never the city's reconciled figure)."""
    return _previous(db_path, period, unit, C.column(C.CO_COLUMNS, "cumulative").header, False)


def _previous(db_path, period: str, unit: str, field_name: str,
              reconciled: bool) -> Dict[str, float]:
    prev = settings.previous_period(period)
    if prev is None or db_path is None or not Path(db_path).is_file():
        return {}
    try:
        con = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return {}
    try:
        out = ledger.accepted_numbers(con, prev, (field_name,), unit).get(unit, {})
        if reconciled:
            for ind_id, number in con.execute(
                    "SELECT indicator_id, cumulative FROM reconciled WHERE period = ? "
                    "AND cumulative IS NOT NULL", (prev,)):
                out[ind_id] = number
    except sqlite3.Error:  # no tables yet, or a foreign file: treat as no history
        return {}
    finally:
        con.close()
    return out


# --- deadline -------------------------------------------------------------------------------------

def default_deadline(period: str, config: Optional[dict] = None) -> date:
    """The config's ``templates.deadline_day`` of the month after ``period``."""
    y, m = settings.period_parts(period)
    day = int((config or settings.DEFAULTS)["templates"].get("deadline_day", 5))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    try:
        return date(y, m, day)
    except ValueError:
        raise MinshiError(f"配置中的截止日 deadline_day = {day} 无效，应为 1-28 之间的数字。") from None


def resolve_deadline(period: str, deadline: Union[None, str, date],
                     config: Optional[dict] = None) -> date:
    if deadline is None:
        return default_deadline(period, config)
    if isinstance(deadline, datetime):
        return deadline.date()
    if isinstance(deadline, date):
        return deadline
    try:
        return date.fromisoformat(str(deadline).strip())
    except ValueError:
        raise MinshiError(f"截止日期“{deadline}”格式不对，应写成 YYYY-MM-DD，例如 2024-07-05。"
                          ) from None


def chinese_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# --- one workbook ---------------------------------------------------------------------------------

@dataclass
class WorkbookInfo:
    """One written workbook (a line of the distribution list)."""

    unit: str
    kind: str
    path: Path
    email: str
    lead_rows: int
    co_rows: int
    sha256: str = ""  # of the bytes written (recorded in the ledger's ``generated``)

    @property
    def rows(self) -> int:
        return self.lead_rows + self.co_rows


def _target_value(ind: Indicator):
    """The target as a number cell when it is one (so 完成率 can use it), else as written."""
    n = ind.target_number
    return n if n is not None else (ind.target or None)


def _plan_locked(ind: Indicator) -> bool:
    return any(p is not None for p in (ind.plan or []))


def lead_values(task: Task, ind: Indicator, previous: Dict[str, float]) -> Dict[str, object]:
    """Cell values of a 牵头任务 row before the unit fills it (what the fingerprint covers)."""
    locked_plan = _plan_locked(ind)
    plan = list(ind.plan or []) + [None] * 4
    v = {"task_id": task.id, "indicator_id": ind.id, "task_text": task.text,
         "indicator": ind.name, "target": _target_value(ind), "unit": ind.unit,
         "previous": previous.get(ind.id)}
    for q in range(4):
        v[f"plan_q{q + 1}"] = plan[q] if locked_plan else None
    return v


def co_values(master: Master, unit: str, task: Task, ind: Indicator,
              previous: Optional[Dict[str, float]] = None) -> Dict[str, object]:
    """Cell values of a 配合任务 row before the unit fills it: what it needs to report its share
    (the task's annual target, its own target where allocated, its figure of last month)."""
    return {"task_id": task.id, "indicator_id": ind.id, "task_text": task.text,
            "indicator": ind.name, "lead_units": "、".join(task.lead_units),
            "target": _target_value(ind), "unit_target": master.allocation(ind.id, unit),
            "unit": ind.unit, "previous": (previous or {}).get(ind.id)}


def _ranges(col: int, rows: Sequence[int]) -> str:
    """"L5:L7 L9" for 0-based ``rows`` of a column (a multi-range for one validation rule)."""
    out, rows = [], sorted(rows)
    start = prev = None
    for r in rows + [None]:
        if start is not None and (r is None or r != prev + 1):
            a, b = xl_rowcol_to_cell(start, col), xl_rowcol_to_cell(prev, col)
            out.append(a if a == b else f"{a}:{b}")
            start = None
        if r is not None and start is None:
            start = r
        prev = r
    return " ".join(out)


def _validate(ws, col: int, rows: Sequence[int], options: dict) -> None:
    if not rows:
        return
    rng = _ranges(col, rows)
    first = rng.split()[0].split(":")
    r1, c1 = xl_cell_to_rowcol(first[0])
    r2, c2 = xl_cell_to_rowcol(first[-1])
    ws.data_validation(r1, c1, r2, c2, {**options, "multi_range": rng})


def _number_rule(title: str, message: str, top: Optional[float] = None) -> dict:
    rule = {"validate": "decimal", "input_title": title, "input_message": message,
            "error_title": "请填写数字", "error_type": "stop"}
    if top is None:
        rule.update(criteria=">=", value=0,
                    error_message="这里只能填写不小于 0 的数字，不要带单位或文字。需要说明的情况请写在"
                                  "“备注（说明）”列。")
    else:
        rule.update(criteria="between", minimum=0, maximum=top,
                    error_message=f"这里只能填写 0 到 {top:g} 之间的数字（形象进度：45 表示完成 45%），"
                                  "不要带 % 号或文字。")
    return rule


def _text_rule(header: str, limit: int) -> dict:
    return {"validate": "length", "criteria": "<=", "value": limit,
            "input_title": header, "input_message": f"请简要填写，不超过 {limit} 字。",
            "error_title": "内容过长", "error_message": f"“{header}”不能超过 {limit} 字，请精简。"}


MILESTONE_HINT = "形象进度：填写 0-100 的数字，45 表示完成 45%，不带 % 号。"
CUMULATIVE_HINT = "填写年初至本月底的累计完成数，只填阿拉伯数字，计量单位见“计量单位”列。"
PLAN_HINT = "填写截至该季度末的累计计划数（只填数字），逐季不减少。"


class _Writer:
    """Writes one unit's workbook; holds the formats and what goes into ``_meta``."""

    def __init__(self, master: Master, unit: str, period: str, path: Path, deadline: date,
                 config: dict, previous: Dict[str, float], rows: UnitRows,
                 previous_co: Optional[Dict[str, float]] = None):
        self.master, self.unit, self.period, self.path = master, unit, period, path
        self.deadline, self.config, self.previous, self.rows = deadline, config, previous, rows
        self.previous_co = previous_co or {}
        self.year, self.month = settings.period_parts(period)
        self.password = str(config.get("templates", {}).get("password") or "")
        self.multiple = float(config.get("rules", {}).get("exceeds_target_multiple", 10.0))
        self.meta_rows: List[tuple] = []

    def write(self) -> None:
        # in_memory: no temporary files per part (a third of the time on a busy disk)
        wb = xlsxwriter.Workbook(str(self.path), {"strings_to_numbers": False,
                                                  "strings_to_formulas": False,
                                                  "strings_to_urls": False, "in_memory": True})
        self.st = Styles(wb)
        office = self.config.get("office", {})
        wb.set_properties({"title": C.title(self.year, self.month), "subject": self.unit,
                           "author": office.get("name", ""), "company": office.get("name", "")})
        guide = wb.add_worksheet(C.SHEET_GUIDE)
        for sheet, rows in self.rows.sheets().items():
            self._table(wb.add_worksheet(sheet), sheet, rows)
        self._guide(guide)
        self._meta(wb.add_worksheet(C.SHEET_META))
        guide.activate()
        close_workbook(wb, self.path)

    # --- the table sheets ----------------------------------------------------------------------
    def _table(self, ws, sheet: str, rows: List[Row]) -> None:
        cols = C.SHEET_COLUMNS[sheet]
        st, last = self.st, len(cols) - 1
        set_widths(ws, [c.width for c in cols])
        write_title(ws, st, C.TITLE_ROW - 1, last, C.title(self.year, self.month))
        self._header_block(ws, sheet, last)
        ws.set_row(C.HEADER_ROW - 2, 30)
        ws.merge_range(C.HEADER_ROW - 2, 0, C.HEADER_ROW - 2, last, self._note(sheet), st.note())
        heads = [C.display_header(c) for c in cols]
        write_header(ws, st, C.HEADER_ROW - 1, heads,
                     height=row_height([(h, c.width) for h, c in zip(heads, cols)]))
        col_of = {c.key: i for i, c in enumerate(cols)}
        inputs: Dict[Tuple[str, str], List[int]] = {}  # (column key, rule kind) -> 0-based rows
        first = C.FIRST_DATA_ROW - 1
        for n, (task, ind) in enumerate(rows):
            r = first + n
            if sheet == C.SHEET_LEAD:
                values, plan_locked = lead_values(task, ind, self.previous), _plan_locked(ind)
            else:
                values, plan_locked = co_values(self.master, self.unit, task, ind,
                                                    self.previous_co), False
            ws.set_row(r, row_height([(values.get(c.key), c.width) for c in cols
                                      if c.key in WRAPPED], min_lines=2))
            for c in cols:
                kind = self._write_cell(ws, r, col_of, c, values, ind, plan_locked, sheet)
                if kind:
                    inputs.setdefault((c.key, kind), []).append(r)
            fp = C.row_fingerprint(cols, values, plan_locked)
            self.meta_rows.append((sheet, ind.id, r + 1, fp, "1" if plan_locked else "0"))
        last_row = first + len(rows) - 1
        self._validations(ws, cols, col_of, inputs)
        self._hints(ws, sheet, col_of, first, last_row)
        ws.freeze_panes(C.FIRST_DATA_ROW - 1, col_of["indicator"] + 1)
        ws.set_selection(first, col_of["cumulative"], first, col_of["cumulative"])
        ws.hide_gridlines(2)  # the table has its own borders
        ws.set_tab_color(TAB_COLORS[sheet])
        sign_row = self._signature(ws, last_row + 2, col_of["indicator_id"] + 1)
        print_setup(ws, header_row=C.HEADER_ROW - 1, last_col=last, last_row=sign_row,
                    footer=f"{self.unit} · {sheet}")
        ws.protect(self.password, {"format_rows": True, "format_columns": True,
                                   "select_locked_cells": True, "select_unlocked_cells": True})

    def _signature(self, ws, row: int, first_col: int) -> int:
        """The lines a return is signed with, under the table (a printed return is signed and
        stamped before it is scanned or filed); right of 指标编号, so the reader never takes
        them for a row. Returns the last row used."""
        gap = "\u3000" * 6
        text = f"填报人：{gap}审核人：{gap}分管领导（签字）：{gap}单位（盖章）"
        ws.set_row(row, 36)
        # One cell, not merged: the line runs on over the empty cells to its right, and a
        # unit that edits whole columns (or a program that rewrites them) meets no merge.
        ws.write_string(row, first_col, text, self.st.fmt(bold=True, align="left",
                                                         valign="bottom"))
        return row

    def _header_block(self, ws, sheet: str, last: int) -> None:
        """填报单位 (locked short name), 填报人 / 联系电话 / 填报日期 (inputs), per HEADER_CELLS."""
        st = self.st
        cells = [(label, xl_cell_to_rowcol(lc), xl_cell_to_rowcol(vc))
                 for label, (lc, vc) in C.HEADER_CELLS[sheet].items()]
        ws.set_row(C.UNIT_ROW - 1, 22)
        for i, (label, (lr, lcol), (vr, vcol)) in enumerate(cells):
            next_label = cells[i + 1][1][1] if i + 1 < len(cells) else None
            vend = min(next_label - 1 if next_label is not None else vcol + 1, last)
            lab_fmt = st.label()
            if vcol - 1 > lcol:
                ws.merge_range(lr, lcol, lr, vcol - 1, label, lab_fmt)
            else:
                ws.write_string(lr, lcol, label, lab_fmt)
            if label == C.UNIT_LABEL:
                value, fmt, rule = self.unit, st.cell(locked=True, bold=True, align="left"), None
            elif label == C.DATE_LABEL:
                value, fmt = None, st.cell(locked=False, align="center", num_format="yyyy-mm-dd")
                rule = {"validate": "date", "criteria": "between",
                        "minimum": date(2000, 1, 1), "maximum": date(2100, 12, 31),
                        "input_title": "填报日期", "input_message": "填写日期，例如 2024-07-03。",
                        "error_title": "日期格式不对",
                        "error_message": "请填写日期，格式如 2024-07-03。"}
            else:
                limit = NAME_LIMIT if label == C.REPORTER_LABEL else PHONE_LIMIT
                value, fmt = None, st.cell(locked=False, align="left", num_format="@")
                name = label.rstrip("：")
                rule = {"validate": "length", "criteria": "<=", "value": limit,
                        "input_title": name, "input_message": f"请填写{name}（不超过 {limit} 字）。",
                        "error_title": "内容过长", "error_message": f"“{name}”不能超过 {limit} 字。"}
            if vend > vcol:
                ws.merge_range(vr, vcol, vr, vend, value or "", fmt)
            else:
                ws.write(vr, vcol, value, fmt)
            if rule:
                ws.data_validation(vr, vcol, vr, vcol, rule)

    def _note(self, sheet: str) -> str:
        if sheet == C.SHEET_LEAD:
            what = ("“本月累计完成”填写年初至本月底的累计数，计量单位与“计量单位”列一致；"
                    "形象进度行填 0-100 的数字。")
        elif self.rows.co_numbers:
            what = "“本单位累计完成”填写本地区年初至本月底的累计数，计量单位与“计量单位”列一致。"
        else:
            what = "请填写配合工作情况和存在问题，数字由牵头单位报送。"
        return (f"黄色单元格为填报区，灰色单元格已锁定。{what}请勿删除、插入或调整行。"
                f"报送截止：{chinese_date(self.deadline)}。")

    def _write_cell(self, ws, r: int, col_of, c: C.Column, values, ind: Indicator,
                    plan_locked: bool, sheet: str) -> Optional[str]:
        """Write one table cell; return the validation rule kind when it is an input cell."""
        st, col = self.st, col_of[c.key]
        if c.kind == C.FORMULA and ind.qualifier == "<=":
            # an upper bound (控制在…以内) has no completion rate: see progress.compute
            ws.write_string(r, col, "—", st.cell(locked=True, align="center"))
            return None
        if c.kind == C.FORMULA:  # 完成率 = 本月累计完成 / 年度目标, blank until a number is typed
            cum = xl_rowcol_to_cell(r, col_of["cumulative"])
            tgt = xl_rowcol_to_cell(r, col_of["target"])
            ws.write_formula(r, col, f'=IF(AND(ISNUMBER({cum}),ISNUMBER({tgt}),N({tgt})>0),'
                                     f'{cum}/{tgt},"")',
                             st.cell(locked=True, align="right", num_format="0.0%"), "")
            return None
        locked = c.kind in (C.LOCKED, C.PREFILL) or (c.kind == C.PLAN and plan_locked) or (
            sheet == C.SHEET_CO and c.key == "cumulative" and not self.rows.co_numbers)
        value = values.get(c.key)
        if locked:
            if c.key == "target" and isinstance(value, float):
                suffix = ind.target_suffix
                fmt = st.cell(align="right", num_format=f'General"{suffix}"' if suffix else None)
            elif c.number:
                fmt = st.cell(align="right")
            elif c.key in ("task_text", "indicator", "lead_units"):
                fmt = st.cell(wrap=True, align="left")
            else:
                fmt = st.cell(wrap=True, align="center")
            if value is None or value == "":
                ws.write_blank(r, col, None, fmt)
            elif isinstance(value, (int, float)):
                ws.write_number(r, col, value, fmt)
            else:
                ws.write_string(r, col, str(value), fmt)
            return None
        if c.number:
            ws.write_blank(r, col, None, st.cell(locked=False, align="right"))
            if c.kind == C.PLAN:
                return "plan_milestone" if ind.is_milestone else "plan"
            return "milestone" if ind.is_milestone else "number"
        if c.key == "status":
            ws.write_blank(r, col, None, st.cell(locked=False, align="center"))
            return "status"
        ws.write_blank(r, col, None, st.cell(locked=False, wrap=True, align="left"))
        return "text"

    def _validations(self, ws, cols, col_of, inputs) -> None:
        by_key = {c.key: c for c in cols}
        for (key, kind), rows in inputs.items():
            c = by_key[key]
            if kind == "number":
                rule = _number_rule(c.header, CUMULATIVE_HINT if key == "cumulative" else "只填数字。")
            elif kind == "milestone":
                rule = _number_rule(c.header, MILESTONE_HINT, top=100)
            elif kind == "plan":
                rule = _number_rule(c.header, PLAN_HINT)
            elif kind == "plan_milestone":
                rule = _number_rule(c.header, "截至该季度末的形象进度计划（0-100 的数字）。", top=100)
            elif kind == "status":
                rule = {"validate": "list", "source": list(C.STATUS_CHOICES),
                        "input_title": "推进状态", "input_message": "请从下拉列表中选择：" +
                        "、".join(C.STATUS_CHOICES) + "。",
                        "error_title": "推进状态", "error_message": "请从下拉列表中选择，不要手工输入其他内容。"}
            else:
                rule = _text_rule(c.header, settings.text_max_length(self.config))
            _validate(ws, col_of[key], rows, rule)

    def _hints(self, ws, sheet: str, col_of, first: int, last_row: int) -> None:
        """Live hints: the reader's warnings as conditional formats on the input cells."""
        def ref(key):  # column-absolute reference to the first data row
            return xl_rowcol_to_cell(first, col_of[key], col_abs=True)

        def rule(key, formula, hint):
            c = col_of[key]
            ws.conditional_format(first, c, last_row, c, {
                "type": "formula", "criteria": "=" + formula, "format": self.st.hint(hint)})
        m = f"{self.multiple:g}"
        if sheet == C.SHEET_LEAD:
            cum, prev, tgt = ref("cumulative"), ref("previous"), ref("target")
            rule("cumulative", f"AND(ISNUMBER({cum}),ISNUMBER({tgt}),N({tgt})>0,"
                               f"{cum}>{tgt}*{m})", HINT_ERROR)
            rule("cumulative", f"AND(ISNUMBER({cum}),ISNUMBER({prev}),{cum}<{prev})",
                 HINT_WARNING)
            rule("status", f'AND({ref("status")}="已完成",ISNUMBER({tgt}),N({cum})<{tgt})',
                 HINT_ERROR)
            rule("progress", f'AND(ISNUMBER({cum}),LEN(TRIM({ref("progress")}))=0)', HINT_WARNING)
        elif self.rows.co_numbers:
            cum, tgt = ref("cumulative"), ref("unit_target")
            rule("cumulative", f"AND(ISNUMBER({cum}),ISNUMBER({tgt}),N({tgt})>0,"
                               f"{cum}>{tgt}*{m})", HINT_ERROR)
            rule("progress", f'AND(ISNUMBER({cum}),LEN(TRIM({ref("progress")}))=0)', HINT_WARNING)

    # --- 填报说明 -------------------------------------------------------------------------------
    def _guide(self, ws) -> None:
        st = self.st
        ws.set_column(0, 0, 16)
        ws.set_column(1, 1, 96)
        ws.hide_gridlines(2)
        ws.set_tab_color(TAB_COLORS[C.SHEET_GUIDE])
        write_title(ws, st, 0, 1, C.title(self.year, self.month))
        body, head = st.fmt(text_wrap=True, valign="top"), st.fmt(bold=True, valign="top")
        r = 2
        for label, text in self._guide_lines():
            ws.set_row(r, row_height([(text, 96)]) + 4)
            ws.write_string(r, 0, label, head)
            ws.write_string(r, 1, text, body)
            r += 1
        print_setup(ws, landscape=False, footer=f"{self.unit} · {C.SHEET_GUIDE}")
        ws.protect(self.password, {"select_locked_cells": True})

    def _guide_lines(self) -> List[Tuple[str, str]]:
        """(label, text) lines of 填报说明, worded for the sheets this unit actually has."""
        office = self.config.get("office", {})
        sheets = self.rows.sheets()
        lead, co = C.SHEET_LEAD in sheets, C.SHEET_CO in sheets
        dl = chinese_date(self.deadline)
        lines = [("填报单位", self.unit),
                 ("填报月份", f"{self.year}年{self.month}月（填写截至 {self.year}年{self.month}月底的累计数）"),
                 ("报送截止", dl)]
        what = []
        if lead:
            what.append(f"“{C.SHEET_LEAD}”工作表（{len(sheets[C.SHEET_LEAD])} 行）：本单位牵头的任务。每行填写"
                        "“本月累计完成”（年初至本月底的累计数，只填阿拉伯数字，计量单位与“计量单位”列一致，"
                        "例如目标为 2.28 万名、已完成 1.5 万名，就填 1.5）、“推进状态”（下拉选择）、"
                        "“进展情况”“存在问题”“下步计划”。“形象进度”行（没有量化指标的任务）填 0-100 的数字，"
                        "45 表示完成 45%，不带 % 号。季度末计划为黄色时，请填写截至各季度末的累计计划数。")
        if co and self.rows.co_numbers:
            what.append(f"“{C.SHEET_CO}”工作表（{len(sheets[C.SHEET_CO])} 行）：本地区承担的任务。每行填写"
                        "“本单位累计完成”（本地区年初至本月底的累计数，只填阿拉伯数字，计量单位与“计量单位”列一致；"
                        "形象进度行填 0-100 的数字）和“配合工作情况”“存在问题”。本地区没有承担量化任务的行填 0 "
                        "并在“备注（说明）”中说明。各县区、功能板块的数字将与牵头单位报送的全市合计核对。")
        elif co:
            what.append(f"“{C.SHEET_CO}”工作表（{len(sheets[C.SHEET_CO])} 行）：本单位配合的任务，"
                        "只需填写“配合工作情况”和“存在问题”，数字由牵头单位报送。")
        what.append("表头处填写“填报人”“联系电话”“填报日期”。数值有特殊情况（如累计数比上月少、远超目标）"
                    "请在“备注（说明）”列写明原因。")
        lines.append(("填写内容", "\n".join(what)))
        locked = ["任务编号、指标编号、任务内容、指标、计量单位" + ("、年度目标" if lead else "")
                  + "来自市政府印发的任务分解方案"]
        if co:
            locked.append("牵头单位、本单位目标（市里分解到本单位的目标，空白表示未分解）由民生实事办确定")
            if not self.rows.co_numbers:
                locked.append("“本单位累计完成”不需填写")
        if lead:
            locked.append("上月累计为上月审核通过的数字（1 月为空），完成率由公式自动计算，已下达的季度计划也已锁定")
        lines.append(("锁定单元格", "灰色单元格已锁定，不能修改：" + "；".join(locked) + "。如认为锁定内容有误，"
                                  "请在“备注（说明）”中说明或与民生实事办联系，不要改动原表。"))
        lines.append(("注意事项", "不得删除、插入、移动或调整行的顺序，不得修改工作表名称或删除工作表，"
                                "系统按“指标编号”逐行读取。请直接在本表上填写，不要复制到新表。"
                                "可以调整行高以便阅读。"))
        hints = []
        if lead:
            hints += ["“本月累计完成”小于“上月累计”（黄色）",
                      f"“本月累计完成”超过年度目标的 {self.multiple:g} 倍（红色，多为计量单位填错，如把“万元”填成“元”）",
                      "“推进状态”为“已完成”但累计未达到目标（红色）",
                      "已填数字但“进展情况”为空（黄色）"]
        if co and self.rows.co_numbers:
            hints += [f"“本单位累计完成”超过本单位目标的 {self.multiple:g} 倍（红色）",
                      "已填数字但“配合工作情况”为空（黄色）"]
        if hints:
            lines.append(("颜色提示", "填写时以下情况会自动标色，请核实：" + "；".join(hints) + "。"))
        email = office.get("email") or "民生实事办公室的邮箱"
        lines.append(("报送方式", f"填写完成后直接保存（保持 .xlsx 格式，不要改文件名），于 {dl} 前作为邮件附件"
                                f"发送至 {email}。报送后如需更正，修改后重新发送即可，以最后收到的一份为准。"))
        contact = "，".join(x for x in (office.get("name"),
                                       office.get("contact") and f"联系人：{office['contact']}",
                                       office.get("phone") and f"电话：{office['phone']}",
                                       office.get("email") and f"邮箱：{office['email']}") if x)
        lines.append(("联系方式", contact or "市民生实事办公室"))
        return lines

    # --- _meta ----------------------------------------------------------------------------------
    def _meta(self, ws) -> None:
        values = {"format_version": settings.FORMAT_VERSION, "unit": self.unit,
                  "period": self.period, "deadline": self.deadline.isoformat(),
                  "generated_at": clock.now(),
                  "year": str(self.master.year or self.year),
                  "co_numbers": "1" if self.rows.co_numbers else "0",
                  "columns_lead": C.column_map(C.LEAD_COLUMNS),
                  "columns_co": C.column_map(C.CO_COLUMNS)}
        for r, key in enumerate(C.META_KEYS):
            ws.write_string(r, 0, key)
            ws.write_string(r, 1, values.get(key, ""))
        r = len(C.META_KEYS) + 1
        for c, h in enumerate(C.META_ROW_HEADER):
            ws.write_string(r, c, h)
        for row in self.meta_rows:
            r += 1
            sheet, ind_id, excel_row, fp, plan_locked = row
            ws.write_string(r, 0, sheet)
            ws.write_string(r, 1, ind_id)
            ws.write_number(r, 2, excel_row)
            ws.write_string(r, 3, fp)
            ws.write_string(r, 4, plan_locked)
        ws.protect(self.password)
        ws.very_hidden()


def _unit_info(master: Master, unit: str) -> Tuple[str, str]:
    u = master.registry.get(unit)
    return (u.kind if u else "未登记", (u.email or "") if u else "")


def write_workbook(master: Master, unit: str, period: str, path, deadline=None,
                   config: Optional[dict] = None, previous: Optional[Dict[str, float]] = None,
                   include_co_bureaus: Optional[bool] = None,
                   previous_co: Optional[Dict[str, float]] = None) -> WorkbookInfo:
    """Write ``unit``'s fill-in workbook for ``period`` to ``path``.

    ``previous`` maps indicator_id -> last month's accepted cumulative (上月累计 of 牵头任务;
    blank when absent), ``previous_co`` the unit's own last figures of 配合任务.
    ``include_co_bureaus`` defaults to the config's ``templates.include_co_bureaus``.
    """
    config = config or settings.load_config()
    settings.period_parts(period)
    if include_co_bureaus is None:
        include_co_bureaus = settings.include_co_bureaus(config)
    rows = rows_for(master, unit, include_co_bureaus)
    if not rows.count:
        raise MinshiError(f"单位“{unit}”在总表中没有需要填报的任务，不生成填报表。")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _Writer(master, unit, period, path, resolve_deadline(period, deadline, config), config,
            previous or {}, rows, previous_co).write()
    kind, email = _unit_info(master, unit)
    return WorkbookInfo(unit, kind, path, email, len(rows.lead), len(rows.co),
                        hashlib.sha256(path.read_bytes()).hexdigest())


# --- all units ------------------------------------------------------------------------------------

DISTRIBUTION_HEADERS = ("单位", "类别", "文件", "邮箱", "行数", "截止日期")


def distribution_name(period: str) -> str:
    return f"分发清单_{period}.xlsx"


@dataclass
class TemplatesSummary:
    """What ``minshi templates`` wrote."""

    period: str
    deadline: date
    out_dir: Path
    entries: List[WorkbookInfo]
    distribution: Path

    @property
    def workbooks(self) -> int:
        return len(self.entries)

    @property
    def rows(self) -> int:
        return sum(e.rows for e in self.entries)

    @property
    def units_without_email(self) -> List[str]:
        return [e.unit for e in self.entries if not e.email]

    @property
    def paths(self) -> List[Path]:
        return [e.path for e in self.entries]

    def summary_lines(self) -> List[str]:
        """What ``minshi templates`` prints and the console shows after generating."""
        lines = [f"已生成 {self.workbooks} 份填报表，共 {self.rows} 行，截止日期 "
                 f"{self.deadline.isoformat()}，保存在 {self.out_dir}{os.sep}",
                 f"分发清单：{self.distribution}"]
        missing = self.units_without_email
        if missing:
            names = "、".join(missing[:8]) + ("等，完整名单见分发清单" if len(missing) > 8 else "")
            lines.append(f"未登记邮箱的单位 {len(missing)} 个（需另行发送）：{names}")
        else:
            lines.append("所有单位均已登记邮箱。")
        return lines


def write_distribution(entries: Sequence[WorkbookInfo], period: str, deadline: date,
                       path: Path) -> None:
    """分发清单: one line per workbook, for the send step (units without an email stand out)."""
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True})
    st = Styles(wb)
    ws = wb.add_worksheet("分发清单")
    set_widths(ws, [16, 10, 44, 30, 8, 12])
    y, m = settings.period_parts(period)
    write_title(ws, st, 0, len(DISTRIBUTION_HEADERS) - 1, f"{y}年{m}月民生实事填报表分发清单")
    write_header(ws, st, 1, DISTRIBUTION_HEADERS, height=22)
    plain, center = st.cell(), st.cell(align="center")
    missing = st.fmt(**{**HINT_WARNING, "border": 1})
    for i, e in enumerate(entries, start=2):
        ws.write_string(i, 0, e.unit, plain)
        ws.write_string(i, 1, e.kind, center)
        ws.write_string(i, 2, e.path.name, plain)
        ws.write_string(i, 3, e.email or "（未登记邮箱）", plain if e.email else missing)
        ws.write_number(i, 4, e.rows, plain)
        ws.write_string(i, 5, deadline.isoformat(), center)
    ws.freeze_panes(2, 1)
    ws.autofilter(1, 0, 1 + len(entries), len(DISTRIBUTION_HEADERS) - 1)
    print_setup(ws, header_row=1, landscape=False)
    close_workbook(wb, path)


def write_templates(master: Master, period: str, out_dir, deadline=None,
                    config: Optional[dict] = None, db=None,
                    progress: Progress = None) -> TemplatesSummary:
    """Write every reporting unit's workbook for ``period`` into ``out_dir`` plus the
    distribution list. ``db`` (the ledger) pre-fills 上月累计; ``progress(done, total, unit)`` is
    called after each workbook."""
    config = config or settings.load_config()
    settings.period_parts(period)
    dl = resolve_deadline(period, deadline, config)
    include = settings.include_co_bureaus(config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    units = master.reporting_units(include)
    entries = []
    for i, unit in enumerate(units, start=1):
        prev = previous_values(db, period, unit) if db else {}
        prev_co = previous_co_values(db, period, unit) if db else {}
        entries.append(write_workbook(master, unit, period, out / C.file_name(period, unit),
                                      dl, config, prev, include_co_bureaus=include,
                                      previous_co=prev_co))
        if progress:
            progress(i, len(units), unit)
    if db:  # these exact bytes coming back are never a return (collect's blank-return)
        ledger.record_generated(db, [(e.sha256, e.unit, period, e.path.name) for e in entries])
    dist = out / distribution_name(period)
    write_distribution(entries, period, dl, dist)
    return TemplatesSummary(period, dl, out, entries, dist)


def generate(master_path, period: str, out_dir=None, deadline=None, db=None,
             config_path=None, progress: Progress = None, force: bool = False) -> TemplatesSummary:
    """``minshi templates``: read the master list, then :func:`write_templates` into
    ``out_dir`` (default ``templates/<period>/``), after :func:`refusals` (unless ``force``)."""
    from minshi_xls.master import load_master
    config = settings.load_config(config_path)
    settings.period_parts(period)
    master = load_master(master_path, required=True)
    out = Path(out_dir) if out_dir else Path(settings.DEFAULT_TEMPLATES) / period
    if not force:
        problems = refusals(master, period, resolve_deadline(period, deadline, config), out, db)
        if problems:
            raise MinshiError("\n".join(problems + ["确实要这样生成，请加 --force。"]))
    return write_templates(master, period, out, deadline, config, db, progress)


def refusals(master: Master, period: str, deadline: date, out: Path, db=None) -> List[str]:
    """The mistakes a clerk makes with ``minshi templates`` (a typed year, a deadline inside the
    month, regenerating workbooks the units already have), each as a Chinese sentence."""
    year, month = settings.period_parts(period)
    found = []
    if master.year and year != master.year:
        found.append(f"总表是 {master.year} 年的任务，不能生成 {period} 的填报表（月份的年份写错了？）。")
    last_day = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1))
    if deadline <= last_day:
        found.append(f"截止日期 {deadline.isoformat()} 不在 {period} 月底之后：月报要到月底才有数，"
                     f"截止日期应在 {last_day.isoformat()} 之后。")
    sent = _sent_units(db, period)
    existing = [u for u in sent if (out / C.file_name(period, u)).exists()]
    if existing:
        found.append(f"{period} 的填报表已发给 {len(sent)} 个单位（{'、'.join(existing[:5])}"
                     f"{'等' if len(existing) > 5 else ''}），重新生成会覆盖已发出的表格，"
                     "单位手里的表和这里的将不一致。")
    return found


def _sent_units(db, period: str) -> List[str]:
    """Units whose workbook for ``period`` went out (``sends`` in the ledger), oldest first."""
    if not db or not Path(db).exists():
        return []
    con = ledger.connect(db)
    try:
        return [r[0] for r in con.execute(
            "SELECT unit FROM sends WHERE period = ? AND kind = 'send' AND status = 'sent' "
            "GROUP BY unit ORDER BY MIN(id)", (period,))]
    finally:
        con.close()
