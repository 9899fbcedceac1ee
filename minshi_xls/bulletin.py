"""The monthly 通报 as a Word document, in the layout of party and government documents
(GB/T 9704-2012): a red masthead and rule, a 小标宋 title, 主送, a 仿宋 body with 黑体 and 楷体
headings on a 28-point line grid, page numbers "— 1 —", the tables as attachments.

It only writes a :class:`~minshi_xls.reconcile.Reconciliation`, with the sentences of
:mod:`summary`: every figure it states is one the consolidated workbook holds.
"""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import List, Optional, Sequence

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from minshi_xls import clock, faults, progress, settings, summary
from minshi_xls.reconcile import TASK_STATUS_ORDER, Reconciliation

# GB/T 9704: 小标宋 for titles, 仿宋 for the body, 黑体 / 楷体 for the first / second headings;
# 3号 = 16 pt, 2号 = 22 pt; a line grid of 28 points (22 lines of 28 characters on A4).
TITLE_FONT, BODY_FONT, HEADING_FONT, SUBHEADING_FONT = "方正小标宋简体", "仿宋", "黑体", "楷体"
TABLE_FONT = "仿宋"
BODY_PT, TITLE_PT, MAST_PT, TABLE_PT, LINE_PT = 16, 22, 30, 10.5, 28
RED = RGBColor(0xE6, 0x00, 0x12)
NUMERALS = "一二三四五六七八九十"
#: How many tasks ahead of schedule the 通报 names (the rest are counted; all are in 附件).
AHEAD_NAMED = 5


def bulletin_name(period: str) -> str:
    """``通报_2024-06.docx``, next to the text version ``通报_2024-06.txt``."""
    return f"通报_{period}.docx"


def _font(run, name: str, size: float, bold: bool = False, color: Optional[RGBColor] = None):
    """A run in a CJK font: Word takes East Asian text from ``w:eastAsia``, not from ``name``."""
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.italic = False
    if color is not None:
        run.font.color.rgb = color
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)
    return run


class _Doc:
    """The document being written, with the paragraph kinds of a 通报."""

    def __init__(self):
        self.doc = Document()
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Cm(21), Cm(29.7)
        sec.top_margin, sec.bottom_margin = Cm(3.7), Cm(3.5)
        sec.left_margin, sec.right_margin = Cm(2.8), Cm(2.6)
        sec.footer_distance = Cm(2.5)
        self._page_numbers(sec)

    def para(self, text: str = "", font: str = BODY_FONT, size: float = BODY_PT,
             align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent: bool = True, bold: bool = False,
             color: Optional[RGBColor] = None, line: Optional[float] = LINE_PT,
             before: float = 0, after: float = 0):
        p = self.doc.add_paragraph()
        fmt = p.paragraph_format
        fmt.alignment = align
        fmt.space_before, fmt.space_after = Pt(before), Pt(after)
        if line:
            fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            fmt.line_spacing = Pt(line)
        if indent:
            fmt.first_line_indent = Pt(size * 2)  # two characters
        if text:
            _font(p.add_run(text), font, size, bold, color)
        return p

    def heading(self, text: str):
        return self.para(text, HEADING_FONT)

    def subheading(self, text: str, rest: str = ""):
        """"（一）已完成的任务。" in 楷体, the paragraph's own text after it in 仿宋."""
        p = self.para(text, SUBHEADING_FONT)
        if rest:
            _font(p.add_run(rest), BODY_FONT, BODY_PT)
        return p

    def rule(self, color: str = "E60012", size: int = 12):
        """A red line under the masthead (a bottom border of an empty paragraph)."""
        p = self.para("", line=8, indent=False)
        ppr = p._element.get_or_add_pPr()
        borders = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for k, v in (("w:val", "single"), ("w:sz", str(size)), ("w:space", "1"),
                     ("w:color", color)):
            bottom.set(qn(k), v)
        borders.append(bottom)
        ppr.append(borders)
        return p

    def page_break(self):
        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def _page_numbers(self, sec):
        """"— 1 —" centred in the footer (4号 宋体), a PAGE field Word and LibreOffice fill in."""
        p = sec.footer.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(p.add_run("— "), settings.FONT, 14)
        run = _font(p.add_run(), settings.FONT, 14)
        for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"),
                           ("end", None)):
            if kind:
                el = OxmlElement("w:fldChar")
                el.set(qn("w:fldCharType"), kind)
            else:
                el = OxmlElement("w:instrText" if text.strip() == "PAGE" else "w:t")
                el.set(qn("xml:space"), "preserve")
                el.text = text
            run._element.append(el)
        _font(p.add_run(" —"), settings.FONT, 14)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence], widths_cm: Sequence[float]):
        t = self.doc.add_table(rows=1, cols=len(headers))
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        for i, h in enumerate(headers):
            self._cell(t.rows[0].cells[i], h, bold=True)
        for row in rows:
            cells = t.add_row().cells
            for i, v in enumerate(row):
                self._cell(cells[i], v)
        # LibreOffice lays a table out by its grid, Word by its cells: set both.
        t.autofit = False
        for col, w in zip(t._tbl.tblGrid.findall(qn("w:gridCol")), widths_cm):
            col.set(qn("w:w"), str(int(Cm(w).twips)))
        for row in t.rows:
            for i, w in enumerate(widths_cm):
                row.cells[i].width = Cm(w)
        self._repeat_header(t.rows[0])
        return t

    @staticmethod
    def _cell(cell, value, bold: bool = False):
        p = cell.paragraphs[0]
        p.paragraph_format.space_before = p.paragraph_format.space_after = Pt(0)
        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        p.paragraph_format.line_spacing = Pt(TABLE_PT + 3)
        text = "" if value is None else str(value)
        numeric = text.replace(".", "", 1).replace("%", "").replace("-", "", 1).isdigit()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER if (bold or numeric or len(text) <= 2) \
            else WD_ALIGN_PARAGRAPH.LEFT
        _font(p.add_run(text), HEADING_FONT if bold else TABLE_FONT, TABLE_PT)

    @staticmethod
    def _repeat_header(row):
        trpr = row._tr.get_or_add_trPr()
        el = OxmlElement("w:tblHeader")
        el.set(qn("w:val"), "true")
        trpr.append(el)

    def landscape_section(self):
        """The attachments' wide tables on landscape pages (a new section, same footer)."""
        from docx.enum.section import WD_SECTION
        sec = self.doc.add_section(WD_SECTION.NEW_PAGE)
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = Cm(29.7), Cm(21)
        sec.top_margin, sec.bottom_margin = Cm(2.8), Cm(2.6)
        sec.left_margin, sec.right_margin = Cm(3.5), Cm(3.7)
        return sec


def percent(x: Optional[float]) -> str:
    """0.563 -> "56.3%" (as the workbook's 0.0% format shows it)."""
    return "—" if x is None else f"{x * 100:.1f}%"


def _label(rec: Reconciliation) -> str:
    return f"{rec.year}年1月" if rec.month == 1 else f"{rec.year}年1-{rec.month}月"


def _task_name(task, limit: int = 30) -> str:
    return f"{summary.short_text(task.text, limit)}（{task.level}第{task.number}项）"


def build(rec: Reconciliation, office: str, issued: date, deadline_day: int) -> bytes:
    """The 通报 as .docx bytes."""
    d = _Doc()
    label = _label(rec)
    # Masthead (版头): the organ's mark in red, the issue number, the issuer and date, a red rule.
    d.para("民生实事工作通报", TITLE_FONT, MAST_PT, WD_ALIGN_PARAGRAPH.CENTER, False, color=RED,
           line=None, before=12, after=6)
    d.para(f"{rec.year}年第{rec.month}期", BODY_FONT, BODY_PT, WD_ALIGN_PARAGRAPH.CENTER, False)
    issuer = d.para(office, indent=False, align=WD_ALIGN_PARAGRAPH.LEFT)
    issuer.paragraph_format.tab_stops.add_tab_stop(Cm(15.6), WD_TAB_ALIGNMENT.RIGHT)  # the date
    _font(issuer.add_run(f"\t{clock_date(issued)}"), BODY_FONT, BODY_PT)
    d.rule()
    d.para(f"关于{label}全市民生实事推进情况的通报", TITLE_FONT, TITLE_PT,
           WD_ALIGN_PARAGRAPH.CENTER, False, line=36, before=12, after=12)
    d.para("各县区人民政府、功能板块管委会，市各有关部门、单位：", indent=False)

    levels = rec.master.levels()
    heads = {h.level: h for h in rec.headlines}
    d.para(f"现将{label}全市民生实事推进情况通报如下。")
    section = iter(NUMERALS)

    d.heading(f"{next(section)}、总体进展情况")
    text = f"截至{rec.year}年{rec.month}月底，" + "；".join(
        summary.level_sentence(rec, lvl) for lvl in levels) + "。"
    rates = [f"{lvl}民生实事{percent(heads[lvl].completion)}" for lvl in levels
             if heads[lvl].completion is not None]
    if rates:
        text += "各指标平均完成率：" + "，".join(rates) + "。"
    d.para(text)

    d.heading(f"{next(section)}、进度较快的事项")
    done = summary.tasks_with(rec, progress.DONE)
    ahead = summary.tasks_with(rec, progress.AHEAD)
    d.subheading("（一）已完成年度目标的任务。",
                 f"共{len(done)}项：" + "；".join(_task_name(t, 20) for t, _ in done) + "。"
                 if done else "暂无。")
    top = summary.most_ahead(rec, AHEAD_NAMED)
    d.subheading("（二）超序时推进的任务。",
                 f"共{len(ahead)}项，其中超出序时进度最多的是：" + "；".join(
                     f"{_task_name(it['task'], 20)}，超出{summary.points(it['gap'])}个百分点"
                     for it in top) + "。" if ahead else "暂无。")

    d.heading(f"{next(section)}、进度滞后的事项")
    items = summary.lagging(rec)
    if items:
        d.para(f"共{len(items)}项任务滞后序时进度或尚未启动，请牵头单位高度重视：")
        for n, it in enumerate(items, 1):
            d.para(f"{n}.{summary.lagging_text(it)}" + ("。" if n == len(items) else "；"))
    else:
        d.para("所有任务均达到序时进度。")

    d.heading(f"{next(section)}、报送情况")
    late = [u.unit for u in rec.expected if u.returned and u.late]
    missing = [u.unit for u in rec.expected if not u.returned]
    wrong = [u.unit for u in rec.expected if u.state == "有错误"]
    text = summary.reporting_sentence(rec)
    text += (f"逾期报送{len(late)}个：{'、'.join(late)}。" if late else "无逾期报送单位。")
    if wrong:
        text += f"报表有错误、需更正后重新报送的单位{len(wrong)}个：{'、'.join(wrong)}。"
    d.para(text)

    d.heading(f"{next(section)}、下步工作要求")
    leads = list(dict.fromkeys(u for it in items for u in it["leads"].split("、")))
    d.subheading("（一）压实牵头责任。",
                 ("请" + "、".join(leads) + "等滞后、未启动事项的牵头单位认真分析原因，"
                  "制定赶进度措施，确保按序时推进。") if leads else
                 "各牵头单位要保持推进力度，确保按序时完成年度目标。")
    d.subheading("（二）按时准确报送。",
                 f"各单位须于每月{deadline_day}日前报送上月填报表，数据以年初至月底的累计数填写，"
                 "计量单位与任务分解方案一致。" + (f"请{'、'.join(missing)}尽快补报。" if missing else ""))
    d.subheading("（三）加强统筹调度。",
                 "各县区、功能板块要加强与牵头单位的对接，确保分解到本地区的任务数据准确、进度同步。")

    d.para("")
    d.para(f"附件：1.{label}民生实事推进情况汇总表", indent=True)
    d.para("2.滞后及未启动指标清单", indent=False).paragraph_format.left_indent = Pt(BODY_PT * 5)
    d.para("")
    for text in (office, clock_date(issued)):
        p = d.para(text, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
        p.paragraph_format.right_indent = Pt(BODY_PT * 4)

    _attachments(d, rec, label)
    out = io.BytesIO()
    d.doc.save(out)
    return out.getvalue()


def _attachments(d: _Doc, rec: Reconciliation, label: str) -> None:
    d.landscape_section()
    d.para("附件1", HEADING_FONT, BODY_PT, WD_ALIGN_PARAGRAPH.LEFT, False)
    d.para(f"{label}民生实事推进情况汇总表", TITLE_FONT, TITLE_PT - 4, WD_ALIGN_PARAGRAPH.CENTER,
           False, line=32, after=6)
    d.table(["层级", "任务总数", "我市承担", *TASK_STATUS_ORDER, "指标数", "平均完成率"],
            [[f"{h.level}民生实事", h.tasks, h.local_tasks,
              *[h.task_status[s] for s in TASK_STATUS_ORDER], h.indicators,
              percent(h.completion)] for h in rec.headlines],
            [3.2] + [1.9] * 9 + [2.4])
    d.para("", line=14)
    d.table(["层级", "类别", *TASK_STATUS_ORDER],
            [[level, name, *[counts[s] for s in TASK_STATUS_ORDER]]
             for level, _, name, counts in rec.categories],
            [1.6, 5.0] + [2.2] * len(TASK_STATUS_ORDER))
    d.page_break()
    d.para("附件2", HEADING_FONT, BODY_PT, WD_ALIGN_PARAGRAPH.LEFT, False)
    d.para("滞后及未启动指标清单", TITLE_FONT, TITLE_PT - 4, WD_ALIGN_PARAGRAPH.CENTER, False,
           line=32, after=6)
    rows: List[list] = []
    for r in rec.rows:
        if r.local and r.progress.status in (progress.BEHIND, progress.NOT_STARTED):
            gap = r.progress.gap
            rows.append([len(rows) + 1, _task_name(r.task, 24), r.indicator.name,
                         "、".join(r.leads), percent(r.progress.rate),
                         percent(r.progress.scheduled),
                         "" if gap is None else summary.points(gap), r.progress.status])
    d.table(["序号", "任务", "指标", "牵头单位", "完成率", "序时进度", "偏差（百分点）", "状态"],
            rows or [["", "无", "", "", "", "", "", ""]], [1.2, 7.6, 4.0, 3.6, 1.8, 1.8, 1.9, 1.6])


def clock_date(d: date) -> str:
    """2024年7月5日 (dates in a 通报 are written in full)."""
    return f"{d.year}年{d.month}月{d.day}日"


def write(rec: Reconciliation, path, office: Optional[str] = None,
          issued: Optional[date] = None, config: Optional[dict] = None) -> Path:
    """Write the 通报 .docx at ``path`` (whole or not at all; refused while Word/WPS has it open)."""
    config = config or settings.DEFAULTS
    office = office or config.get("office", {}).get("name") or settings.DEFAULTS["office"]["name"]
    issued = issued or clock.local(clock.now(), clock.zone(config)).date()
    day = int(config.get("templates", {}).get("deadline_day", 5))
    path = Path(path)
    faults.check_not_open(path, "通报")
    faults.atomic_write(path, build(rec, office, issued, day))
    return path
