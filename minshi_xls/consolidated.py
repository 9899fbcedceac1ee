"""The consolidated monthly progress workbook (进展汇总表) and its 明细 CSV.

Two views of one :class:`~minshi_xls.reconcile.Reconciliation`. The leader's view (汇总, 省民生实事,
市民生实事, 县区分解, 报送情况) prints in a few A4 pages at a readable size: a task's text once,
merged over its indicators, the target with its qualifier ("500以上"), status colours, no file
names or cell addresses. The data view (指标数据, 校验问题, 明细) has every field, where each
figure came from, and autofilters, for work on screen.

Rates are written as numbers with a percent format, never as formulas (other programs read cached
values), and every text a unit typed is written with ``write_string`` so it can never become a
formula. The file appears atomically. Each sheet's columns are defined once, below, as (header,
width, getter, kind); the writer and the tests read the same definitions.
"""
from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Dict, List, Optional

import xlsxwriter
import xlsxwriter.exceptions

from minshi_xls import MinshiError, clock, faults, issues as issues_mod, settings, xlsx_style
from minshi_xls.reconcile import (FIELD_ORDER, TASK_STATUS_ORDER, UNIT_STATE_COLORS,
                                  Reconciliation, Row, file_name_of)
from minshi_xls import summary as summary_mod

# Cell kinds of a column.
TEXT, NUMBER, PERCENT, POINTS, STATUS, TARGET = "text", "number", "percent", "points", "status", \
    "target"

SHEET_SUMMARY = "汇总"
SHEET_LEVEL = {"省": "省民生实事", "市": "市民生实事", "县": "县民生实事", "区": "区民生实事"}
SHEET_COUNTY = "县区分解"
SHEET_RETURNS = "报送情况"
SHEET_DATA = "指标数据"
SHEET_ISSUES = "校验问题"
SHEET_DETAIL = "明细"
#: What a leader reads (printed); the rest is for work on screen (autofilters, sources).
LEADER_SHEETS = (SHEET_SUMMARY, *SHEET_LEVEL.values(), SHEET_COUNTY, SHEET_RETURNS)
WORK_SHEETS = (SHEET_DATA, SHEET_ISSUES, SHEET_DETAIL)
#: Tab colours: the leader's sheets blue, the work sheets grey.
TAB_LEADER, TAB_WORK = "2F75B5", "A6A6A6"


@dataclass(frozen=True)
class Col:
    header: str
    width: float
    get: Callable
    kind: str = TEXT
    merge: bool = False  # a task's column: written once, merged over its indicator rows


def _texts(key):
    return lambda r: r.texts.get(key, "")


def _target(r: Row):
    n = r.indicator.target_number
    return n if n is not None else r.indicator.target


#: Statuses a leader asks "why" about: their row says what the unit reported as the problem.
EXPLAINED_STATUSES = ("滞后", "未启动")


def _remark(r: Row) -> str:
    """情况说明, the leader's exception column: why last month's figure stands, or, for a row
    behind schedule or not started, the unit's 存在问题 (else its 进展情况). Rows on track need
    no words here; every unit's text is in 指标数据."""
    if r.carried_forward:
        return r.source_label()
    if r.local and r.progress.status in EXPLAINED_STATUSES:
        problem = r.texts.get("存在问题", "").strip()
        if problem and problem not in ("无", "暂无", "/", "-"):
            return problem
        return r.texts.get("进展情况", "")
    return ""


#: The leader's 省/市 sheets: one row per indicator under category rows, a task's number, text
#: and lead units merged over its indicators.
LEADER_COLUMNS: List[Col] = [
    Col("序号", 4.5, lambda r: r.task.number, merge=True),
    Col("任务内容", 30, lambda r: r.task.text, merge=True),
    Col("牵头单位", 10, lambda r: "、".join(r.leads), merge=True),
    Col("指标", 20, lambda r: r.indicator.name),
    Col("年度目标", 7.5, _target, TARGET),
    Col("计量单位", 5, lambda r: r.indicator.unit),
    Col("本月累计", 7, lambda r: r.cumulative, NUMBER),
    Col("本月新增", 6.5, lambda r: r.added, NUMBER),
    Col("完成率", 9, lambda r: r.progress.rate, PERCENT),  # wide enough for a 元/万元 slip
    Col("序时进度", 6, lambda r: r.progress.scheduled if r.local else None, PERCENT),
    Col("偏差(百分点)", 7.5, lambda r: r.progress.gap, POINTS),
    Col("状态", 8, lambda r: r.status, STATUS),  # 省本级实施 on one line
    Col("情况说明", 17.5, _remark),
]

#: 指标数据 (work): every field of an indicator row, both levels, with its source.
TASK_COLUMNS: List[Col] = [
    Col("层级", 5, lambda r: r.task.level),
    Col("任务编号", 8, lambda r: r.task.id),
    Col("指标编号", 9.5, lambda r: r.indicator.id),
    Col("任务内容", 30, lambda r: r.task.text),
    Col("指标", 11, lambda r: r.indicator.name),
    Col("牵头单位", 10, lambda r: "、".join(r.leads)),
    Col("年度目标", 8, lambda r: r.indicator.target_number
        if r.indicator.target_number is not None else r.indicator.target, NUMBER),
    Col("目标限定", 6, lambda r: r.indicator.target_suffix),
    Col("计量单位", 7, lambda r: r.indicator.unit),
    Col("上月累计", 8, lambda r: r.previous, NUMBER),
    Col("本月累计", 8, lambda r: r.cumulative, NUMBER),
    Col("本月新增", 8, lambda r: r.added, NUMBER),
    Col("完成率", 9, lambda r: r.progress.rate, PERCENT),  # wide enough for a 元/万元 slip
    Col("序时进度", 7.5, lambda r: r.progress.scheduled if r.local else None, PERCENT),
    Col("偏差(百分点)", 8.5, lambda r: r.progress.gap, POINTS),
    Col("状态", 8, lambda r: r.status, STATUS),
    Col("单位自报状态", 8, lambda r: r.unit_status),
    Col("进展情况", 30, _texts("进展情况")),
    Col("存在问题", 16, _texts("存在问题")),
    Col("下步计划", 16, _texts("下步计划")),
    Col("数据来源", 22, lambda r: r.source_label()),
]

RETURN_COLUMNS: List[Col] = [
    Col("序号", 4.5, lambda u: u.n, NUMBER),
    Col("单位", 14, lambda u: u.unit),
    Col("报送状态", 8, lambda u: u.state, STATUS),
    Col("是否报送", 6, lambda u: "是" if u.returned else "否"),
    Col("报送时间", 15, lambda u: u.received_shown),
    Col("是否逾期", 6, lambda u: ("是" if u.late else "否") if u.returned else ""),
    Col("版本数", 5, lambda u: u.versions, NUMBER),
    Col("接受行数", 6, lambda u: u.accepted_rows if u.returned else None, NUMBER),
    Col("错误", 4.5, lambda u: u.errors if u.returned else None, NUMBER),
    Col("警告", 4.5, lambda u: u.warnings if u.returned else None, NUMBER),
    Col("说明", 18, lambda u: u.remark),
]

ISSUE_COLUMNS: List[Col] = [
    Col("单位", 14, lambda i: i["unit"] or ""),
    Col("文件", 30, lambda i: file_name_of(i["file"])),
    Col("工作表", 10, lambda i: i["sheet"] or ""),
    Col("单元格", 7, lambda i: i["cell"] or ""),
    Col("指标编号", 10, lambda i: i["indicator_id"] or ""),
    Col("问题代码", 18, lambda i: i["code"]),
    Col("严重程度", 8, lambda i: issues_mod.SEVERITY_LABELS.get(i["severity"], i["severity"])),
    Col("问题", 14, lambda i: issues_mod.TYPES[i["code"]].title
        if i["code"] in issues_mod.TYPES else i["code"]),
    Col("说明", 60, lambda i: i["message"]),
    Col("填写值", 12, lambda i: i["value"] or ""),
    Col("环节", 6, lambda i: "汇总" if i["source"] == "reconcile" else "校验"),
    Col("状态", 8, lambda i: i["state"]),
]

DETAIL_COLUMNS: List[Col] = [
    Col("月份", 8, lambda d: d["period"]),
    Col("单位", 14, lambda d: d["value"].unit),
    Col("任务编号", 9, lambda d: d["task_id"]),
    Col("指标编号", 10, lambda d: d["value"].indicator_id),
    Col("指标", 12, lambda d: d["indicator"]),
    Col("字段", 12, lambda d: d["value"].field),
    Col("数值", 10, lambda d: d["value"].number, NUMBER),
    Col("原文", 30, lambda d: d["value"].raw or ""),
    Col("是否采用", 8, lambda d: "是" if d["used"] else ""),
    Col("文件", 30, lambda d: file_name_of(d["value"].file)),
    Col("工作表", 10, lambda d: d["value"].sheet or ""),
    Col("单元格", 7, lambda d: d["value"].cell or ""),
]

HEADLINE_HEADERS = ["层级", "任务总数", "我市承担", *TASK_STATUS_ORDER, "指标数", "平均完成率"]


def period_label(year: int, month: int) -> str:
    return f"{year}年1月" if month == 1 else f"{year}年1-{month}月"


# --- formats -------------------------------------------------------------------------------------

class _Formats:
    """The workbook's formats on top of the shared :class:`xlsx_style.Styles` (same fonts, header
    and print look as the fill-in workbooks), plus status colours and the number kinds."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self.styles = st = xlsx_style.Styles(wb, font_size=FONT_SIZE)
        self._by_kind: Dict[tuple, object] = {}  # a detail sheet has ~150k cells: look up fast
        self.note = st.fmt(font_color="595959", text_wrap=True, valign="top")
        self.subtitle = st.fmt(font_color="595959", align="center", text_wrap=True)
        self.heading = st.fmt(font_name=settings.TITLE_FONT, font_size=12)
        self.category = st.fmt(bold=True, bg_color="EDEDED", border=1,
                               border_color=xlsx_style.BORDER_COLOR)
        self.paragraph = st.fmt(text_wrap=True, valign="top", font_size=PARAGRAPH_PT)

    def get(self, kind: str, status: str = "", grey: bool = False, carried: bool = False,
            suffix: str = "", shrink: bool = False):
        key = (kind, status, grey, carried, suffix, shrink)
        got = self._by_kind.get(key)
        if got is None:
            got = self._by_kind[key] = self._make(*key)
        return got

    def _make(self, kind: str, status: str, grey: bool, carried: bool, suffix: str,
              shrink: bool):
        f = {"border": 1, "border_color": xlsx_style.BORDER_COLOR}
        if shrink:
            f["shrink"] = True
        if kind == NUMBER:
            f.update(num_format="General", align="right")
        elif kind == TARGET:  # the value stays a number; the qualifier is its display
            f.update(num_format=f'General"{suffix}"' if suffix else "General", align="right")
        elif kind == PERCENT:
            f.update(num_format="0.0%", align="right")
        elif kind == POINTS:
            f.update(num_format="0.0", align="right")
        elif kind == STATUS:
            f.update(align="center", text_wrap=True, bold=bool(status))
        else:
            f["text_wrap"] = True
        colors = {**settings.STATUS_COLORS, **UNIT_STATE_COLORS}
        if status in colors:  # a status cell, or a count/flag of that status
            f["bg_color"] = colors[status]
        if carried:  # last month's figure: grey, never italic (CJK italics are a fake slant)
            f["font_color"] = "7F7F7F"
        if grey:
            f.update(bg_color=xlsx_style.LOCKED_FILL, font_color="808080")
        return self.styles.fmt(**f)


def _put(ws, row: int, col: int, value, fmt) -> None:
    """Numbers as numbers, everything else as a literal string (never a formula)."""
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            ws.write_blank(row, col, None, fmt)
        else:
            ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _setup(ws, columns: List[Col], header_row: int, title: str, fmt: _Formats,
           subtitle: str = "", freeze_cols: int = 0, landscape: bool = True,
           leader: bool = True) -> float:
    """Title block, header row, widths, frozen panes and print setup shared by table sheets;
    returns the height in points above the first table row (title, subtitle, header)."""
    last = len(columns) - 1
    xlsx_style.write_title(ws, fmt.styles, 0, last, title)
    widths = [c.width for c in columns]
    above = 30.0
    if subtitle:
        ws.merge_range(1, 0, 1, last, subtitle, fmt.subtitle)
        sub = _height(_lines(subtitle, 0, px=sum(w * 7 + 5 for w in widths)))
        ws.set_row(1, sub)
        above += sub
    xlsx_style.set_widths(ws, widths)
    header = _height(max(_lines(c.header, c.width) for c in columns))
    xlsx_style.write_header(ws, fmt.styles, header_row, [c.header for c in columns],
                            height=header)
    ws.freeze_panes(header_row + 1, freeze_cols)
    ws.set_tab_color(TAB_LEADER if leader else TAB_WORK)
    # The footer names the sheet, not the title: a footer text starting with a digit would be
    # read as part of the "&8" font-size code.
    xlsx_style.print_setup(ws, header_row=header_row, landscape=landscape,
                           footer=f"民生实事进展汇总表·{ws.name}")
    return above + header


#: The workbook's body size. Columns are sized so that Excel/WPS print the leader's tables at
#: 100 % on A4; LibreOffice lays the same columns out ~6.6 % wider and prints them at ~94 %, so
#: 8.5 pt prints as 8 pt there, the smallest a leader reads without a loupe.
FONT_SIZE = 8.5
#: Points per line of CJK text (SimSun in Excel/WPS, Noto CJK in LibreOffice: 12 pt at 9 pt),
#: and the pixels a CJK character takes (an ASCII one half; 12 px at 9 pt): a column ``w``
#: units wide is ``7w + 5`` px, less the cell's padding.
#: The 通报 on 汇总: a running paragraph, on a line pitch of 1.5 em (LibreOffice sets Noto CJK
#: at ~1.46 em: a 20-line cell sized at 4/3 em loses its last lines).
PARAGRAPH_PT = 8
LINE_PT, CJK_PX, PADDING_PX = FONT_SIZE * 4 / 3, FONT_SIZE * 4 / 3, 5


def _lines(text, width: float, font_pt: float = FONT_SIZE, px: Optional[float] = None) -> int:
    """Lines a text takes in a column ``width`` units wide (or a merged range ``px`` wide):
    whole characters per line, and one character more once it wraps (a line may not start with
    "，" or "。", so the renderers move a character down with it)."""
    if text in (None, ""):
        return 1
    cjk = CJK_PX * font_pt / FONT_SIZE
    avail = (px if px is not None else width * 7 + 5) - PADDING_PX
    per_line = max(avail // cjk, 1) * cjk
    lines = 0
    for part in str(text).split("\n"):
        need = xlsx_style.display_width(part) * cjk / 2
        lines += 1 if need <= avail else math.ceil((need + cjk) / per_line)
    return lines


def _height(lines: int) -> float:
    return lines * LINE_PT + 1.5


def _row_height(cols: List[Col], item) -> float:
    """Height of a table row whose wrapped text columns may need several lines (LibreOffice
    does not grow rows of an .xlsx for wrapped text: a row without a height prints clipped)."""
    lines = 1
    for col in cols:
        if col.kind in (TEXT, STATUS):
            value = col.get(item)
            if isinstance(value, str) and value:
                lines = max(lines, _lines(value, col.width))
    return _height(min(lines, 20))


#: Printable area of A4 landscape with :func:`xlsx_style.print_setup`'s margins, in points.
PAGE_W, PAGE_H = 841.9 - 0.8 * 72, 595.3 - 1.1 * 72


def _scale(widths) -> float:
    """The fit-to-width zoom a sheet of these column widths prints at (7 px per unit + 5 px)."""
    return min(1.0, PAGE_W / (sum(w * 7 + 5 for w in widths) * 0.75))


def _keep_together(ws, blocks, top: float, header: float, scale: float) -> None:
    """Manual page breaks so that no block (a task and its merged rows) is cut by a page break:
    a merged cell split over two pages prints clipped on both. ``blocks`` are (first row, [row
    heights]); ``top`` is the height above the first block on page 1, ``header`` the repeated
    header row's."""
    room = PAGE_H / scale * 0.985  # a little slack for the renderers' rounding
    used, breaks = top, []
    for first, heights in blocks:
        h = sum(heights)
        if used + h > room and used > header:
            breaks.append(first)
            used = header
        used += h
    if breaks:
        ws.set_h_pagebreaks(breaks)


# --- sheets --------------------------------------------------------------------------------------

def _summary_sheet(wb, fmt: _Formats, rec: Reconciliation, paragraph: List[str], stamp: str,
                   office: str) -> None:
    """One landscape page: the headline, then the 通报 on the left with the chart of task status
    per category on its right (data labels in the status colours), then returns and issues. The
    chart's data (below the printed area) is on screen only."""
    ws = wb.add_worksheet(SHEET_SUMMARY)
    ws.set_tab_color(TAB_LEADER)
    # A:B hold the level label (and the chart data's 层级/类别), C.. the counts.
    widths = [6, 16] + [8] * (len(HEADLINE_HEADERS) - 1) + [8, 8, 8]
    ncols = len(widths)
    xlsx_style.set_widths(ws, widths)
    full_px = sum(w * 7 + 5 for w in widths)  # a text merged across the page
    text_cols = 9  # the 通报 on the left (A:I), the chart on the right
    text_px = sum(w * 7 + 5 for w in widths[:text_cols])
    xlsx_style.write_title(ws, fmt.styles, 0, ncols - 1,
                           f"{period_label(rec.year, rec.month)}民生实事进展汇总表")
    ws.merge_range(1, 0, 1, ncols - 1,
                   f"截至{rec.year}年{rec.month}月底 · {office} · 生成时间：{stamp}", fmt.subtitle)

    r = 3
    ws.set_row(r - 1, 4)
    ws.write_string(r, 0, "一、总体情况（按任务计）", fmt.heading)
    ws.set_row(r, 18)
    r += 1
    heads = HEADLINE_HEADERS
    ws.set_row(r, _height(2))
    ws.merge_range(r, 0, r, 1, heads[0], fmt.styles.header())
    for c, h in enumerate(heads[1:], start=2):
        ws.write_string(r, c, h, fmt.styles.header())
    for h in rec.headlines:
        r += 1
        vals = [h.tasks, h.local_tasks, *[h.task_status[s] for s in TASK_STATUS_ORDER],
                h.indicators, h.completion]
        ws.merge_range(r, 0, r, 1, f"{h.level}民生实事", fmt.get(TEXT))
        for c, v in enumerate(vals, start=2):
            head = heads[c - 1]
            kind = PERCENT if head == "平均完成率" else NUMBER
            status = head if head in settings.STATUS_COLORS and v else ""
            _put(ws, r, c, v, fmt.get(kind, status=status))
    r += 1
    note = ("注：状态按指标计算，任务取其各指标中最差的状态，全部指标完成方为已完成；平均完成率为已报送"
            "指标完成率（单项最高按100%计）的平均值；未报送指从未收到数据的任务。")
    ws.merge_range(r, 0, r, ncols - 1, note, fmt.note)
    ws.set_row(r, _height(_lines(note, 0, px=full_px)))

    r += 2
    ws.set_row(r - 1, 4)
    ws.write_string(r, 0, "二、通报", fmt.heading)
    ws.set_row(r, 18)
    ws.write_string(r, text_cols, "四、分类推进情况（任务数）", fmt.heading)
    chart_row = r + 1
    # The status sentence, the lagging tasks as one running paragraph (as the 通报 prints
    # them: a row per item would end most lines half empty) and the reporting sentence.
    pieces = [paragraph[0], "".join(paragraph[1:-1]), paragraph[-1]] if len(paragraph) > 2 \
        else paragraph
    for piece in (p for p in pieces if p):
        r += 1
        ws.merge_range(r, 0, r, text_cols - 1, piece, fmt.paragraph)
        lines_ = _lines(piece, 0, PARAGRAPH_PT, px=text_px)
        ws.set_row(r, min(lines_ * PARAGRAPH_PT * 1.5 + 3, 409))

    r += 2
    ws.set_row(r - 1, 4)
    ws.write_string(r, 0, "三、报送与校验", fmt.heading)
    ws.set_row(r, 18)
    missing = [u.unit for u in rec.expected if not u.returned]
    late = [u.unit for u in rec.expected if u.returned and u.late]
    oi = rec.open_issues
    lines = [
        f"应报送单位 {len(rec.expected)} 个，已报送 {rec.received} 个，未报送 {len(missing)} 个"
        + (f"（{'、'.join(missing)}）" if missing else "") + "；"
        + f"逾期报送 {len(late)} 个" + (f"（{'、'.join(late)}）" if late else "") + "。",
        f"待处理问题：错误 {oi[issues_mod.ERROR]} 个，警告 {oi[issues_mod.WARNING]} 个"
        f"（明细见“{SHEET_ISSUES}”表，按单位排列，便于逐个单位联系）。",
    ]
    for line in lines:
        r += 1
        ws.merge_range(r, 0, r, text_cols - 1, line, fmt.note)
        ws.set_row(r, _height(_lines(line, 0, px=text_px)))
    # The chart beside the text: ~11 pt a category (every one named), down to the foot of
    # page 1 at most (a chart cut by a page break prints on neither).
    sizes = {row: h[0] * 0.75 for row, h in ws.row_sizes.items()}  # xlsxwriter keeps pixels
    above = sum(sizes.get(i, 15.0) for i in range(chart_row))
    beside = sum(sizes.get(i, 15.0) for i in range(chart_row, r + 1))
    chart_pt = max(beside, min(11 * len(rec.categories) + 50, PAGE_H * 0.97 - above))
    while sum(sizes.get(i, 15.0) for i in range(chart_row, r + 1)) < chart_pt:
        r += 1  # empty rows under the text so the print area holds the whole chart
    last_printed = r

    r += 3
    ws.merge_range(r, 0, r, ncols - 1, "图表数据（不打印）", fmt.note)
    r += 1
    head = ["层级", "类别", *TASK_STATUS_ORDER]
    xlsx_style.write_header(ws, fmt.styles, r, head, height=30)
    first = r + 1
    for level, no, name, counts in rec.categories:
        r += 1
        _put(ws, r, 0, level, fmt.get(TEXT))
        _put(ws, r, 1, f"{level}·{name}", fmt.get(TEXT))
        for c, s in enumerate(TASK_STATUS_ORDER, start=2):
            _put(ws, r, c, counts[s], fmt.get(NUMBER, status=s if counts[s] else ""))
    last = r

    chart = wb.add_chart({"type": "bar", "subtype": "stacked"})
    for c, s in enumerate(TASK_STATUS_ORDER, start=2):
        chart.add_series({
            "name": [SHEET_SUMMARY, first - 1, c],
            "categories": [SHEET_SUMMARY, first, 1, last, 1],
            "values": [SHEET_SUMMARY, first, c, last, c],
            "fill": {"color": "#" + settings.STATUS_COLORS[s]},
            "border": {"color": "#595959", "width": 0.5},
            "gap": 35,
            # Counts on the bars; a zero segment has no width and shows no label.
            "data_labels": {"value": True, "position": "center",
                            "num_format": '0;-0;;@',
                            "font": {"name": settings.FONT, "size": 8}},
        })
    chart.set_title({"none": True})  # the heading above it names it
    chart.set_y_axis({"reverse": True, "interval_unit": 1,  # every category named
                      "num_font": {"name": settings.FONT, "size": 8}})
    chart.set_x_axis({"num_font": {"name": settings.FONT, "size": 8}, "min": 0,
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "top", "font": {"name": settings.FONT, "size": 8}})
    chart_px = sum(w * 7 + 5 for w in widths[text_cols:])
    chart.set_size({"width": int(chart_px) - 4, "height": int(chart_pt / 0.75) - 6})
    ws.insert_chart(chart_row, text_cols, chart, {"x_offset": 2, "y_offset": 3})
    xlsx_style.print_setup(ws, footer=f"民生实事进展汇总表（{period_label(rec.year, rec.month)}）")
    ws.print_area(0, 0, last_printed, ncols - 1)


def _task_groups(rec: Reconciliation, level: str):
    """(category, [(task, rows)]) of a level, in master order."""
    out: List[tuple] = []
    for row in rec.rows:
        if row.task.level != level:
            continue
        cat = (row.task.category_no, row.task.category)
        if not out or out[-1][0] != cat:
            out.append((cat, []))
        tasks = out[-1][1]
        if not tasks or tasks[-1][0] is not row.task:
            tasks.append((row.task, []))
        tasks[-1][1].append(row)
    return out


def _level_sheet(wb, fmt: _Formats, rec: Reconciliation, level: str) -> None:
    """The leader's table of one level: a task's number, text and lead units once, merged over
    its indicators; heights sized so every wrapped text shows in full."""
    ws = wb.add_worksheet(SHEET_LEVEL[level])
    cols = LEADER_COLUMNS
    sched = f"按牵头单位季度计划（无计划的按年度目标×{rec.month}/12）"
    top = _setup(ws, cols, 2, f"{period_label(rec.year, rec.month)}{level}民生实事进展情况", fmt,
           subtitle=f"截至{rec.year}年{rec.month}月底。序时进度{sched}；完成率、序时进度不封顶；"
                    f"偏差 = 完成率 − 序时进度（百分点）；情况说明列出滞后、未启动指标的存在问题；灰色数字为上月结转。各单位填报的进展情况、存在问题、下步计划全文见“指标数据”表。",
           freeze_cols=3)
    merged = [c for c in cols if c.merge]
    header = _height(max(_lines(c.header, c.width) for c in cols))
    blocks = []  # (first row, heights): a category row stays with its first task
    r = 2
    for (no, name), tasks in _task_groups(rec, level):
        r += 1
        ws.merge_range(r, 0, r, len(cols) - 1,
                       f"（{_cn(no)}）{name}（{len(tasks)}项）", fmt.category)
        ws.set_row(r, _height(1))
        category_row = r
        for task, rows in tasks:
            heights = [_row_height([c for c in cols if not c.merge], row) for row in rows]
            need = _height(max(_lines(c.get(rows[0]), c.width) for c in merged))
            if sum(heights) < need:  # the merged task text needs more than its indicators
                extra = (need - sum(heights)) / len(rows)
                heights = [h + extra for h in heights]
            first = r + 1
            if category_row is not None:
                blocks.append((category_row, [_height(1), *heights]))
                category_row = None
            else:
                blocks.append((first, heights))
            for row, h in zip(rows, heights):
                r += 1
                ws.set_row(r, round(h, 1))
                grey = not row.local
                for c, col in enumerate(cols):
                    if col.merge:
                        continue
                    f = fmt.get(col.kind, status=row.status if col.kind == STATUS else "",
                                grey=grey, carried=row.carried_forward and col.header in
                                ("本月累计", "情况说明"),
                                suffix=row.indicator.target_suffix if col.kind == TARGET else "")
                    _put(ws, r, c, col.get(row), f)
            for c, col in enumerate(cols):
                if not col.merge:
                    continue
                f = fmt.get(TEXT, grey=not task.is_local)
                if r > first:
                    ws.merge_range(first, c, r, c, "", f)
                _put(ws, first, c, col.get(rows[0]), f)
    _keep_together(ws, blocks, top, header, _scale([c.width for c in cols]))


_CN = "零一二三四五六七八九十"


def _cn(n: int) -> str:
    """1 -> 一, 12 -> 十二 (category ordinals as the notice prints them)."""
    if n <= 10:
        return _CN[n]
    if n < 20:
        return "十" + _CN[n - 10]
    return _CN[n // 10] + "十" + (_CN[n % 10] if n % 10 else "")


def _county_sheet(wb, fmt: _Formats, rec: Reconciliation) -> None:
    """县区分解 as a portrait matrix: one row per shared indicator, one narrow column per county
    or zone, the lead unit's figure, the counties' sum and the difference. Portrait holds ~55
    one-line rows a page against ~40 in landscape; the lead units' names are on the 省/市
    sheets, so the indicator name gets the width."""
    ws = wb.add_worksheet(SHEET_COUNTY)
    reg = rec.master.registry
    territorial = [u.short for u in reg.units if u.is_territorial]
    county_w = 4.4 if len(territorial) <= 10 else 4
    # Narrow figure columns: a figure too long for them (a 元/万元 slip: 4990000) is set smaller
    # in its cell rather than shown as 5E+06 or ###.
    cols = [Col("指标编号", 7.5, None), Col("指标", 23, None),
            Col("牵头单位累计", 5.5, None, NUMBER),
            *[Col(u, county_w, None, NUMBER) for u in territorial],
            Col("县区合计", 5.5, None, NUMBER), Col("差额", 4.5, None, NUMBER)]
    _setup(ws, cols, 2, f"{period_label(rec.year, rec.month)}民生实事县区分解情况", fmt,
           subtitle="各县区、功能板块填报的本单位累计完成数与牵头单位累计数的核对；空白灰格表示该单位"
                    "不承担此项，“未报”表示应报未报；差额 = 县区合计 − 牵头单位累计；牵头单位见省、市民生实事表。",
           freeze_cols=2, landscape=False)
    grey = fmt.get(TEXT, grey=True)
    missing = fmt.get(STATUS, status=settings.NOT_REPORTED)
    num = fmt.get(NUMBER, shrink=True)
    bad = fmt.get(NUMBER, status="滞后", shrink=True)  # a mismatch
    first_county, total_col = 3, 3 + len(territorial)
    r = 2
    for cr in rec.county_rows:
        r += 1
        row = cr.row
        name = f"{row.indicator.name}（{row.indicator.unit}）"
        ws.set_row(r, _height(_lines(name, cols[1].width)))
        _put(ws, r, 0, row.indicator.id, fmt.get(TEXT))
        _put(ws, r, 1, name, fmt.get(TEXT))
        _put(ws, r, 2, row.cumulative, fmt.get(NUMBER, carried=row.carried_forward, shrink=True))
        for c, u in enumerate(territorial, start=first_county):
            if u not in cr.units:
                ws.write_blank(r, c, None, grey)
            elif u in cr.figures:
                _put(ws, r, c, cr.figures[u], num)
            else:
                ws.write_string(r, c, "未报", missing)
        _put(ws, r, total_col, cr.total, num)
        _put(ws, r, total_col + 1, cr.difference, bad if cr.mismatch else num)
        if cr.allocations:
            r += 1
            ws.write_blank(r, 0, None, fmt.get(TEXT))
            ws.write_string(r, 1, "（分配目标）", fmt.get(TEXT))
            _put(ws, r, 2, row.indicator.target_number, num)
            for c, u in enumerate(territorial, start=first_county):
                _put(ws, r, c, cr.allocations.get(u), fmt.get(NUMBER, grey=u not in cr.units, shrink=True))
            _put(ws, r, total_col, sum(cr.allocations.values()), num)
            ws.write_blank(r, total_col + 1, None, num)


@dataclass(frozen=True)
class _Numbered:
    """A unit's row of 报送情况 with its 序号."""

    n: int
    ur: object

    def __getattr__(self, name):
        return getattr(self.ur, name)


def _returns_sheet(wb, fmt: _Formats, rec: Reconciliation) -> None:
    """报送情况: the units to chase first on top (not reported, in error, late), one portrait
    page for a city's forty-odd units."""
    items = [_Numbered(n, u) for n, u in enumerate(rec.chase_order(), 1)]
    states = {}
    for u in rec.expected:
        states[u.state] = states.get(u.state, 0) + 1
    counts = "，".join(f"{s} {n} 个" for s, n in states.items())
    _table_sheet(wb, fmt, SHEET_RETURNS, f"{rec.year}年{rec.month}月填报表报送情况",
                 f"应报送单位 {len(rec.expected)} 个：{counts}。未报送、有错误和逾期的单位排在前面；"
                 f"问题明细见“{SHEET_ISSUES}”表。", RETURN_COLUMNS, items,
                 status_of=lambda x: x.state, status_col=2, landscape=False)


def _table_sheet(wb, fmt: _Formats, name: str, title: str, subtitle: str, cols: List[Col],
                 items, status_of: Callable = None, status_col: int = 1,
                 autofilter: bool = False, leader: bool = True, landscape: bool = True) -> int:
    ws = wb.add_worksheet(name)
    _setup(ws, cols, 2, title, fmt, subtitle=subtitle, freeze_cols=1 + (not leader),
           leader=leader, landscape=landscape)
    r = 2
    for it in items:
        r += 1
        st = status_of(it) if status_of else ""
        ws.set_row(r, _row_height(cols, it))  # LibreOffice does not size wrapped rows itself
        for c, col in enumerate(cols):
            _put(ws, r, c, col.get(it), fmt.get(col.kind, status=st if c == status_col else ""))
    if autofilter:
        ws.autofilter(2, 0, max(r, 2), len(cols) - 1)
    return r


def detail_rows(rec: Reconciliation) -> List[dict]:
    """The long table of 明细: every accepted value of the period's returns, in a stable order."""
    order = {u: i for i, u in enumerate(rec.master.registry.names())}
    ind_order, ind_info = {}, {}
    for n, (t, ind) in enumerate(rec.master.rows()):
        ind_order[ind.id], ind_info[ind.id] = n, (t.id, ind.name)
    used = {id(r.source) for r in rec.rows if r.source is not None}
    vals = sorted(rec.values, key=lambda v: (order.get(v.unit, len(order)), v.unit,
                                             ind_order.get(v.indicator_id, 1 << 30),
                                             v.indicator_id, FIELD_ORDER.get(v.field, 99), v.field))
    return [dict(period=rec.period, value=v, task_id=ind_info.get(v.indicator_id, ("", ""))[0],
                 indicator=ind_info.get(v.indicator_id, ("", ""))[1], used=id(v) in used)
            for v in vals]


def _csv_text(rows: List[dict]) -> str:
    """明细 as CSV (UTF-8 with BOM so Excel opens it right); text that a spreadsheet would read as
    a formula is prefixed with an apostrophe (the usual CSV-injection guard)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([c.header for c in DETAIL_COLUMNS])
    for d in rows:
        out = []
        for c in DETAIL_COLUMNS:
            v = c.get(d)
            if v is None:
                v = ""
            elif isinstance(v, float) and v.is_integer():
                v = int(v)
            elif isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
                v = "'" + v
            out.append(v)
        w.writerow(out)
    return "\ufeff" + buf.getvalue()


# --- writing -------------------------------------------------------------------------------------

def _replace(tmp: Path, path: Path) -> None:
    try:
        os.replace(tmp, path)
    except PermissionError as e:
        tmp.unlink(missing_ok=True)
        raise MinshiError(f"无法写入“{path}”：文件可能正在被其他程序打开，或没有写入权限。"
                          "请关闭该文件后重新运行。") from e


def workbook_name(period: str) -> str:
    """``2024年1-6月民生实事进展汇总表.xlsx``."""
    y, m = settings.period_parts(period)
    return f"{period_label(y, m)}民生实事进展汇总表.xlsx"


def csv_path(workbook: Path) -> Path:
    """The 明细 CSV next to the workbook: ``<workbook>_明细.csv``."""
    workbook = Path(workbook)
    return workbook.with_name(f"{workbook.stem}_明细.csv")


def _mkdir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MinshiError(f"无法创建输出文件夹 {folder}（{e}）。") from e


def write(rec: Reconciliation, path, generated_at: Optional[datetime] = None,
          office: Optional[str] = None) -> Path:
    """Write the workbook at ``path``; returns it.

    It is written to a temporary name in the same folder, then renamed into place, so a reader
    never sees half a file and a failure leaves the previous version intact.
    """
    path = Path(path)
    _mkdir(path.parent)
    faults.check_not_open(path, "汇总表")
    stamp_dt = generated_at or clock.local(clock.now())
    stamp = stamp_dt.strftime(clock.SHOWN)
    office = office or settings.DEFAULTS["office"]["name"]
    paragraph = summary_mod.lines(rec)
    details = detail_rows(rec)

    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.xlsx")
    wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    try:
        wb.set_properties({"title": path.stem, "author": office, "created": stamp_dt,
                           "company": office})
        fmt = _Formats(wb)
        _summary_sheet(wb, fmt, rec, paragraph, stamp, office)
        for level in rec.master.levels():
            _level_sheet(wb, fmt, rec, level)
        _county_sheet(wb, fmt, rec)
        _returns_sheet(wb, fmt, rec)
        _table_sheet(wb, fmt, SHEET_DATA, f"{period_label(rec.year, rec.month)}民生实事指标数据",
                     "每个指标一行（省、市），含单位自报状态、存在问题、下步计划和数据来源（采用的报表和单元格）；"
                     "可按任一列筛选。", TASK_COLUMNS,
                     [r for level in rec.master.levels() for r in rec.rows
                      if r.task.level == level],
                     status_of=lambda r: r.status,
                     status_col=next(i for i, c in enumerate(TASK_COLUMNS) if c.kind == STATUS),
                     autofilter=True, leader=False)
        _table_sheet(wb, fmt, SHEET_ISSUES, f"{rec.year}年{rec.month}月校验问题清单",
                     "按单位排列，同一单位的问题集中在一起，便于逐个单位核对；可按任一列筛选。",
                     ISSUE_COLUMNS, rec.all_issues, autofilter=True, leader=False)
        _table_sheet(wb, fmt, SHEET_DETAIL, f"{rec.year}年{rec.month}月填报数据明细",
                     "各单位报送并被接受的全部数据（长表，便于数据透视）；“是否采用”标出汇总表采用的牵头单位累计数。",
                     DETAIL_COLUMNS, details, autofilter=True, leader=False)
        wb.close()
    except (OSError, xlsxwriter.exceptions.FileCreateError) as e:
        tmp.unlink(missing_ok=True)
        raise MinshiError(f"无法在 {path.parent} 中写入汇总表（{e}）。请检查该文件夹是否可写。") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _replace(tmp, path)
    return path


def write_csv(rec: Reconciliation, path) -> Path:
    """Write 明细 as CSV at ``path`` (temporary name, then renamed into place); returns it."""
    path = Path(path)
    _mkdir(path.parent)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.csv")
    tmp.write_text(_csv_text(detail_rows(rec)), encoding="utf-8", newline="")
    _replace(tmp, path)
    return path
