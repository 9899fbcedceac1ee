"""The master workbook (总表): the editable source of truth once the notice is imported.

Staff review and correct it by hand, so it is written for people (Chinese headers, frozen header
rows, widths that fit, A4 print setup) and read back by header text, not by position. The columns
of each sheet are defined once below and used by the writer, the reader and the checker alike.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from minshi_xls import MinshiError, clock, issues, settings, xlsx_style
from minshi_xls.issues import Issue, Report
from minshi_xls.model import (LEAD_RULES, QUALIFIER_LABELS, QUALIFIERS, SCOPE_LABELS, SCOPES,
                              UNIT_KINDS,
                              Allocation, Indicator, Master, Registry, Task, Unit)
from minshi_xls.notice import PLACES, bundled_notice_path, parse_notice, responsible, to_base
from minshi_xls.registry import (closest_name, default_registry, group_of, known_names,
                                 load_registry_json)


@dataclass(frozen=True)
class MasterColumn:
    key: str
    header: str
    width: float
    wrap: bool = False
    editable: bool = True  # False: recomputed on read, shown for reference (grey)


SHEET_GUIDE = "说明"
SHEET_TASKS = "任务"
SHEET_INDICATORS = "指标"
SHEET_UNITS = "单位"
SHEET_ALLOCATIONS = "分配"
LIST_SEP = "、"
PLAN_KEYS = ("plan_q1", "plan_q2", "plan_q3", "plan_q4")

TASK_COLUMNS: List[MasterColumn] = [
    MasterColumn("id", "任务编号", 9),
    MasterColumn("level", "级别", 5),
    MasterColumn("category_no", "类别序号", 6),
    MasterColumn("category", "类别", 14, wrap=True),
    MasterColumn("number", "序号", 6),
    MasterColumn("text", "任务内容", 48, wrap=True),
    MasterColumn("lead_units", "牵头单位", 18, wrap=True),
    MasterColumn("co_units", "共同责任单位", 30, wrap=True),
    MasterColumn("scope", "实施方式", 12),
    MasterColumn("responsible_units", "责任单位（自动展开）", 30, wrap=True, editable=False),
]
INDICATOR_COLUMNS: List[MasterColumn] = [
    MasterColumn("id", "指标编号", 11),
    MasterColumn("task_id", "任务编号", 9),
    MasterColumn("name", "指标名称", 30, wrap=True),
    MasterColumn("target", "年度目标", 10),
    MasterColumn("unit", "计量单位", 9),
    MasterColumn("qualifier", "目标限定", 10),
    MasterColumn("target_high", "目标上限", 9),
    MasterColumn("base_value", "折算值（自动）", 14, editable=False),
    MasterColumn("base_unit", "折算单位（自动）", 9, editable=False),
    MasterColumn("plan_q1", "一季度", 9),
    MasterColumn("plan_q2", "二季度", 9),
    MasterColumn("plan_q3", "三季度", 9),
    MasterColumn("plan_q4", "四季度", 9),
]
UNIT_COLUMNS: List[MasterColumn] = [
    MasterColumn("short", "简称", 18),
    MasterColumn("name", "全称", 40, wrap=True),
    MasterColumn("kind", "类别", 10),
    MasterColumn("aliases", "别名", 26, wrap=True),
    MasterColumn("groups", "所属分组", 12),
    MasterColumn("email", "邮箱", 26),
    MasterColumn("contact", "联系人", 16),
]
ALLOCATION_COLUMNS: List[MasterColumn] = [
    MasterColumn("indicator_id", "指标编号", 11),
    MasterColumn("unit", "单位", 18),
    MasterColumn("share", "本单位目标", 12),
]
SOURCE_LABEL = "来源文件"
YEAR_LABEL = "年度"
LEAD_RULE_LABEL = "无牵头单位时"
COVERAGE_LABEL = "通知行数"
_LEAD_RULE_BY_LABEL = {**{v: k for k, v in LEAD_RULES.items()}, **{k: k for k in LEAD_RULES}}

GUIDE_LINES = [
    "本表是民生实事任务的总表：导入通知后由工作人员核对、修改，此后生成填报表、汇总都以本表为准，不再读取通知原文。",
    "“任务”表：每行一项任务（有分项的任务只列分项）。可修改任务内容、牵头单位、共同责任单位、实施方式；"
    "单位之间用顿号“、”分隔，可写“各县区”“功能板块”等分组名。“责任单位（自动展开）”列由系统按“单位”表自动计算，修改无效。",
    "“实施方式”只能填：本地实施、省本级实施、我市不承担相关任务。后两种不下发填报表，但保留在总表和汇总中。",
    "“指标”表：每行一个量化指标。“年度目标”只填数字，计量单位写在“计量单位”列（如“万名”“亿元”）；"
    "“目标限定”可填：以上/不少于、左右、多/余、以内/不超过（上限，不超过即达标）、区间（目标写下限，"
    "“目标上限”写上限，达到下限即达标），或留空。折算值由系统自动计算，修改无效。",
    "“一季度”至“四季度”：季度末累计计划数（与计量单位一致），由牵头单位提供后填写，未提供可留空。",
    "没有量化指标的任务（如建设工程）不列入“指标”表，按形象进度（0—100%）填报。",
    "“单位”表：单位名册。“简称”是全系统使用的单位名称；“所属分组”填“各县区”或“功能板块”，决定分组展开为哪些单位。",
    "“分配”表（可选）：把某项指标的目标分配给各单位，生成的填报表中显示为“本单位目标”。",
    "“无牵头单位时”（上方第5行）决定通知只列“责任单位”而未写牵头单位的任务由谁牵头：第一个责任单位牵头、"
    "全部责任单位牵头，或不指定（人工补录）；修改后用 minshi import --force 重新导入时生效。",
    "“通知行数”（上方第6行）记录通知每一行的去向：前言（正文前的通知、抄送等）、标题、任务、未解析（导入时逐行列出，需人工核对）、空行。",
    "修改后可运行 minshi master check 检查编号重复、单位未登记、目标不是数字等问题。",
]


# --- value conversions --------------------------------------------------------------------------

def _num_text(v) -> str:
    """A cell number as the notice would write it: 8000 not 8000.0, 2.28 not 2.2800000000000002."""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer()):
        return str(int(v))
    if isinstance(v, float):
        return repr(v)
    return str(v).strip()


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (int, float)):
        return _num_text(v)
    return str(v).strip()


def _names(v) -> List[str]:
    """"市卫健委、 市发改委" -> the names; 、，, ；; all separate (staff type any of them)."""
    return [n for n in ("".join(x.split()) for x in re.split(r"[、，,；;]", _text(v))) if n]


def _float(v) -> Optional[float]:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


_SCOPE_BY_LABEL = {**{v: k for k, v in SCOPE_LABELS.items()}, **{s: s for s in SCOPES}}
_QUALIFIER_BY_LABEL = {**{v: k for k, v in QUALIFIER_LABELS.items()}, **{q: q for q in QUALIFIERS},
                       "以上": ">=", "不少于": ">=", "多": ">", "余": ">", "以内": "<=",
                       "不超过": "<=", "以下": "<=", "左右": "~", "约": "~"}


# --- writing ------------------------------------------------------------------------------------

def _task_row(t: Task) -> Dict[str, object]:
    return {"id": t.id, "level": t.level, "category_no": t.category_no, "category": t.category,
            "number": t.number, "text": t.text, "lead_units": LIST_SEP.join(t.lead_units),
            "co_units": LIST_SEP.join(t.co_units), "scope": SCOPE_LABELS.get(t.scope, t.scope),
            "responsible_units": LIST_SEP.join(t.responsible_units)}


def _target_cell(target: str):
    """Write a target as a number when that reads back as the same text, else as text."""
    try:
        f = float(target)
    except (TypeError, ValueError):
        return target
    return f if _num_text(f) == target else target


def _indicator_row(t: Task, ind: Indicator) -> Dict[str, object]:
    row = {"id": ind.id, "task_id": t.id, "name": ind.name, "target": _target_cell(ind.target),
           "unit": ind.unit, "qualifier": QUALIFIER_LABELS.get(ind.qualifier, ind.qualifier),
           "target_high": _target_cell(ind.target_high) if ind.target_high else None,
           "base_value": ind.base_value, "base_unit": ind.base_unit}
    row.update(zip(PLAN_KEYS, ind.plan))
    return row


def _unit_row(registry: Registry, u: Unit) -> Dict[str, object]:
    return {"short": u.short, "name": u.name, "kind": u.kind, "aliases": LIST_SEP.join(u.aliases),
            "groups": LIST_SEP.join(group_of(registry, u.short)), "email": u.email,
            "contact": u.contact}


def _write_table(wb, styles, name: str, columns: List[MasterColumn], rows: List[dict]) -> None:
    ws = wb.add_worksheet(name)
    xlsx_style.write_header(ws, styles, 0, [c.header for c in columns], height=30)
    for ci, c in enumerate(columns):
        ws.set_column(ci, ci, c.width)
    for ri, row in enumerate(rows, start=1):
        height_cells = []
        for ci, c in enumerate(columns):
            v = row.get(c.key)
            fmt = styles.cell(locked=not c.editable, wrap=c.wrap)
            if v is None or v == "":
                ws.write_blank(ri, ci, None, fmt)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(ri, ci, v, fmt)
            else:
                ws.write_string(ri, ci, str(v), fmt)
            if c.wrap:
                height_cells.append((v, c.width))
        if height_cells:
            ws.set_row(ri, xlsx_style.row_height(height_cells))
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
    xlsx_style.print_setup(ws, header_row=0, footer=f"总表 · {name}")


def _write_guide(wb, styles, master: Master) -> None:
    ws = wb.add_worksheet(SHEET_GUIDE)
    ws.set_column(0, 0, 12)
    ws.set_column(1, 1, 100)
    title = f"{master.year or ''}年民生实事任务总表".lstrip("年")
    xlsx_style.write_title(ws, styles, 0, 1, title)
    ws.write_string(1, 0, SOURCE_LABEL, styles.label("left"))
    ws.write_string(1, 1, master.source)
    ws.write_string(2, 0, YEAR_LABEL, styles.label("left"))
    if master.year:
        ws.write_number(2, 1, master.year, styles.fmt(align="left"))
    ws.write_string(3, 0, "生成时间", styles.label("left"))
    ws.write_string(3, 1, clock.show(clock.now()))
    ws.write_string(4, 0, LEAD_RULE_LABEL, styles.label("left"))
    ws.write_string(4, 1, LEAD_RULES.get(master.lead_rule, LEAD_RULES["first"]))
    ws.write_string(5, 0, COVERAGE_LABEL, styles.label("left"))
    ws.write_string(5, 1, coverage_text(master.coverage))
    wrap = styles.fmt(text_wrap=True, valign="top")
    for i, line in enumerate(GUIDE_LINES, start=7):
        ws.write_string(i, 0, f"{i - 6}.", styles.fmt(align="right", valign="top"))
        ws.write_string(i, 1, line, wrap)
        ws.set_row(i, xlsx_style.row_height([(line, 100)]))
    xlsx_style.print_setup(ws, landscape=False)


def coverage_text(coverage: Dict[str, int]) -> str:
    """"前言 12 行、标题 14 行、任务 130 行、未解析 0 行、空行 40 行" (the 说明 cell, the report)."""
    if not coverage:
        return "（未记录）"
    return "、".join(f"{p} {coverage.get(p, 0)} 行" for p in PLACES)


def _parse_coverage(text: str) -> Dict[str, int]:
    return {p: int(n) for p, n in re.findall(r"([^\s、]+) (\d+) 行", text or "") if p in PLACES}


def write_master(master: Master, path) -> Path:
    """Write the master workbook (replacing ``path`` atomically: a crash leaves the old file)."""
    import xlsxwriter
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".master-", suffix=".xlsx", dir=p.parent)
    os.close(fd)
    try:
        wb = xlsxwriter.Workbook(tmp)
        styles = xlsx_style.Styles(wb)
        _write_guide(wb, styles, master)
        _write_table(wb, styles, SHEET_TASKS, TASK_COLUMNS, [_task_row(t) for t in master.tasks])
        _write_table(wb, styles, SHEET_INDICATORS, INDICATOR_COLUMNS,
                     [_indicator_row(t, i) for t in master.tasks for i in t.indicators])
        _write_table(wb, styles, SHEET_UNITS, UNIT_COLUMNS,
                     [_unit_row(master.registry, u) for u in master.registry.units])
        _write_table(wb, styles, SHEET_ALLOCATIONS, ALLOCATION_COLUMNS,
                     [{"indicator_id": a.indicator_id, "unit": a.unit, "share": a.share}
                      for a in master.allocations])
        xlsx_style.close_workbook(wb, p)
        try:
            os.replace(tmp, p)
        except OSError as e:  # Windows: the master is open in Excel/WPS
            raise MinshiError(f"无法写入总表 {p}：{e}。如果它已在 Excel/WPS 中打开，请先关闭。") from e
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p


# --- reading ------------------------------------------------------------------------------------

@dataclass
class _Row:
    """A data row: values by column key, and each key's A1 cell (for located issues)."""

    number: int
    values: Dict[str, object]
    cells: Dict[str, str]


def _open(path):
    import openpyxl
    p = Path(path)
    if not p.is_file():
        raise MinshiError(f"找不到总表：{p}")
    try:
        return openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as e:  # zipfile.BadZipFile, KeyError, InvalidFileException...
        raise MinshiError(f"无法读取总表 {p.name}（{type(e).__name__}），请确认它是 .xlsx 文件。") from e


def _rows(wb, sheet: str, columns: List[MasterColumn]) -> Iterator[_Row]:
    """Data rows of a sheet, columns found by header text (staff may reorder or add columns)."""
    from openpyxl.utils import get_column_letter
    if sheet not in wb.sheetnames:
        return
    ws = wb[sheet]
    it = ws.iter_rows(values_only=True)
    header = next(it, None) or ()
    by_header = {c.header: c.key for c in columns}
    where = {by_header[_text(h)]: i for i, h in enumerate(header) if _text(h) in by_header}
    for n, values in enumerate(it, start=2):
        if not values or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        vals = {k: (values[i] if i < len(values) else None) for k, i in where.items()}
        cells = {k: f"{get_column_letter(i + 1)}{n}" for k, i in where.items()}
        yield _Row(n, vals, cells)


def _guide_value(wb, label: str):
    if SHEET_GUIDE not in wb.sheetnames:
        return None
    for row in wb[SHEET_GUIDE].iter_rows(min_col=1, max_col=2, values_only=True):
        if row and _text(row[0]) == label:
            return row[1] if len(row) > 1 else None
    return None


def _registry_from(wb) -> Optional[Registry]:
    rows = list(_rows(wb, SHEET_UNITS, UNIT_COLUMNS))
    if SHEET_UNITS not in wb.sheetnames:
        return None
    units, groups = [], {}
    for r in rows:
        v = r.values
        short = "".join(_text(v.get("short")).split())
        if not short:
            continue
        kind = _text(v.get("kind")) or "市直部门"
        units.append(Unit(short=short, name=_text(v.get("name")), kind=kind,
                          aliases=_names(v.get("aliases")), email=_text(v.get("email")),
                          contact=_text(v.get("contact"))))
        for g in _names(v.get("groups")):
            groups.setdefault(g, []).append(short)
    return Registry(units=units, groups=groups)


def read_units(path) -> Registry:
    """A registry from a units workbook (its 单位 sheet, same columns as the master's) or JSON."""
    p = Path(path)
    if not p.is_file():
        raise MinshiError(f"找不到单位名册：{p}")
    if p.suffix.lower() == ".json":
        return load_registry_json(p)
    wb = _open(p)
    try:
        reg = _registry_from(wb)
    finally:
        wb.close()
    if reg is None or not reg.units:
        raise MinshiError(f"单位名册 {p.name} 中没有“{SHEET_UNITS}”表或表中没有单位（表头应为："
                          f"{'、'.join(c.header for c in UNIT_COLUMNS)}）。")
    return reg


def read_master(path) -> Master:
    """The master workbook back into the model (what every later step reads).

    Derived columns (责任单位（自动展开）, 折算值) are recomputed from the edited ones, so a hand
    edit of the units or of a target is never contradicted by a stale copy.
    """
    wb = _open(path)
    try:
        if SHEET_TASKS not in wb.sheetnames:
            raise MinshiError(f"{Path(path).name} 不是民生实事总表（缺少“{SHEET_TASKS}”表）。")
        registry = _registry_from(wb) or default_registry()
        tasks: List[Task] = []
        by_id: Dict[str, Task] = {}
        memo: dict = {}
        for r in _rows(wb, SHEET_TASKS, TASK_COLUMNS):
            v = r.values
            task_id = _text(v.get("id"))
            if not task_id:
                continue
            lead, co = _names(v.get("lead_units")), _names(v.get("co_units"))
            scope = _SCOPE_BY_LABEL.get(_text(v.get("scope")), "local")
            cat_no = _float(v.get("category_no"))
            t = Task(id=task_id, level=_text(v.get("level")),
                     category_no=int(cat_no) if cat_no is not None else 0,
                     category=_text(v.get("category")), number=_text(v.get("number")),
                     text=_text(v.get("text")), lead_units=lead, co_units=co,
                     responsible_units=responsible(registry, lead, co, memo), scope=scope)
            tasks.append(t)
            by_id.setdefault(task_id, t)
        for r in _rows(wb, SHEET_INDICATORS, INDICATOR_COLUMNS):
            v = r.values
            t = by_id.get(_text(v.get("task_id")))
            ind_id = _text(v.get("id"))
            if t is None or not ind_id:
                continue
            target, unit = _text(v.get("target")), _text(v.get("unit"))
            base_value, base_unit = to_base(target, unit)
            t.indicators.append(Indicator(
                id=ind_id, name=_text(v.get("name")), target=target, unit=unit,
                qualifier=_QUALIFIER_BY_LABEL.get(_text(v.get("qualifier")), "="),
                base_value=base_value, base_unit=base_unit, target_high=_text(v.get("target_high")),
                plan=[_float(v.get(k)) for k in PLAN_KEYS]))
        allocations = []
        for r in _rows(wb, SHEET_ALLOCATIONS, ALLOCATION_COLUMNS):
            share = _float(r.values.get("share"))
            ind_id, unit = _text(r.values.get("indicator_id")), _text(r.values.get("unit"))
            if ind_id and unit and share is not None:
                allocations.append(Allocation(ind_id, unit, share))
        year = _float(_guide_value(wb, YEAR_LABEL))
        rule = _LEAD_RULE_BY_LABEL.get(_text(_guide_value(wb, LEAD_RULE_LABEL)), "first")
        return Master(source=_text(_guide_value(wb, SOURCE_LABEL)), tasks=tasks, registry=registry,
                      allocations=allocations, year=int(year) if year else None, lead_rule=rule,
                      coverage=_parse_coverage(_text(_guide_value(wb, COVERAGE_LABEL))))
    finally:
        wb.close()


# --- checking a hand-edited master --------------------------------------------------------------

def _duplicates(rows: List[_Row], key: str, sheet: str) -> Iterator[Issue]:
    first: Dict[str, str] = {}
    for r in rows:
        value = _text(r.values.get(key))
        if not value:
            continue
        if value in first:
            yield issues.make("duplicate-id", sheet=sheet, cell=r.cells[key], value=value,
                              detail=first[value])
        else:
            first[value] = r.cells[key]


def _unknown_unit(registry: Registry, name: str, sheet: str, cell: str) -> Issue:
    guess = closest_name(registry, name)
    return issues.make("unknown-unit", sheet=sheet, cell=cell, value=name,
                       detail=f"（是否为“{guess}”？）" if guess else "")


def check_master(path) -> Report:
    """Validate a hand-edited master; every problem names its sheet and cell."""
    wb = _open(path)
    try:
        if SHEET_TASKS not in wb.sheetnames:
            raise MinshiError(f"{Path(path).name} 不是民生实事总表（缺少“{SHEET_TASKS}”表）。")
        registry = _registry_from(wb) or default_registry()
        tasks = list(_rows(wb, SHEET_TASKS, TASK_COLUMNS))
        inds = list(_rows(wb, SHEET_INDICATORS, INDICATOR_COLUMNS))
        units = list(_rows(wb, SHEET_UNITS, UNIT_COLUMNS))
        allocs = list(_rows(wb, SHEET_ALLOCATIONS, ALLOCATION_COLUMNS))
    finally:
        wb.close()
    report = Report()
    report.extend(_duplicates(tasks, "id", SHEET_TASKS))
    report.extend(_duplicates(inds, "id", SHEET_INDICATORS))
    report.extend(_duplicates(units, "short", SHEET_UNITS))
    known = set(known_names(registry))
    for r in tasks:
        for key in ("lead_units", "co_units"):
            for name in _names(r.values.get(key)):
                if name not in known:
                    report.issues.append(_unknown_unit(registry, name, SHEET_TASKS, r.cells[key]))
        scope_text = _text(r.values.get("scope"))
        if scope_text and scope_text not in _SCOPE_BY_LABEL:
            report.issues.append(issues.make("bad-scope", sheet=SHEET_TASKS,
                                             cell=r.cells["scope"], value=scope_text))
        scope = _SCOPE_BY_LABEL.get(scope_text, "local")
        if scope == "local" and not _names(r.values.get("lead_units")) and "lead_units" in r.cells:
            report.issues.append(issues.make("no-lead-unit", sheet=SHEET_TASKS,
                                             cell=r.cells["lead_units"],
                                             value=_text(r.values.get("id"))))
    for r in units:
        kind = _text(r.values.get("kind"))
        if kind and kind not in UNIT_KINDS and "kind" in r.cells:
            report.issues.append(issues.make("bad-unit-kind", sheet=SHEET_UNITS,
                                             cell=r.cells["kind"], value=kind,
                                             kinds="、".join(UNIT_KINDS)))
    task_ids = {_text(r.values.get("id")) for r in tasks}
    for r in inds:
        task_id = _text(r.values.get("task_id"))
        if task_id not in task_ids and "task_id" in r.cells:
            report.issues.append(issues.make("unknown-task", sheet=SHEET_INDICATORS,
                                             cell=r.cells["task_id"], value=task_id,
                                             indicator_id=_text(r.values.get("id"))))
        target = _text(r.values.get("target"))
        if _float(target) is None and "target" in r.cells:
            report.issues.append(issues.make("bad-target", sheet=SHEET_INDICATORS,
                                             cell=r.cells["target"], value=target,
                                             indicator_id=_text(r.values.get("id"))))
        high = _text(r.values.get("target_high"))
        is_range = _QUALIFIER_BY_LABEL.get(_text(r.values.get("qualifier"))) == "range"
        if (is_range or high) and "target_high" in r.cells and (
                _float(high) is None or (_float(target) is not None and _float(high) < _float(target))):
            # a 区间 needs a high end that is a number and not below the low end
            report.issues.append(issues.make("bad-target", sheet=SHEET_INDICATORS,
                                             cell=r.cells["target_high"], value=high or "（空）",
                                             indicator_id=_text(r.values.get("id"))))
        report.extend(_check_plan(r))
    for r in allocs:
        name = _text(r.values.get("unit"))
        if name and name not in known:
            report.issues.append(_unknown_unit(registry, name, SHEET_ALLOCATIONS, r.cells["unit"]))
        share = r.values.get("share")
        if _float(share) is None and "share" in r.cells:
            report.issues.append(issues.make("bad-target", sheet=SHEET_ALLOCATIONS,
                                             cell=r.cells["share"], value=_text(share),
                                             indicator_id=_text(r.values.get("indicator_id"))))
    report.stats = {"tasks": len(tasks), "indicators": len(inds), "units": len(units),
                    "allocations": len(allocs)}
    return report


def check_summary(report: Report) -> str:
    """One line for the clerk after ``minshi master check``."""
    st = report.stats
    return (f"总表检查：任务 {st.get('tasks', 0)} 项、指标 {st.get('indicators', 0)} 个、"
            f"单位 {st.get('units', 0)} 个；错误 {len(report.errors)} 个、警告 {len(report.warnings)} 个。")


def _check_plan(r: _Row) -> Iterator[Issue]:
    """Quarterly plans are cumulative numbers: each one a number, none below the one before."""
    headers = {c.key: c.header for c in INDICATOR_COLUMNS}
    previous = None
    for key in PLAN_KEYS:
        raw = r.values.get(key)
        if key not in r.cells or raw is None or _text(raw) == "":
            continue
        value = _float(raw)
        ind_id = _text(r.values.get("id"))
        if value is None:
            yield issues.make("not-a-number", sheet=SHEET_INDICATORS, cell=r.cells[key],
                              value=_text(raw), field=headers[key],
                              unit=_text(r.values.get("unit")), indicator_id=ind_id)
            continue
        if previous is not None and value < previous:
            yield issues.make("plan-not-monotonic", sheet=SHEET_INDICATORS, cell=r.cells[key],
                              value=_num_text(value), expected=_num_text(previous),
                              field=headers[key], indicator_id=ind_id)
        previous = value


# --- import -------------------------------------------------------------------------------------

@dataclass
class ImportResult:
    master: Master
    issues: List[Issue]
    out: Path
    json_path: Optional[Path] = None
    backup: Optional[Path] = None
    seconds: float = 0.0
    carried: Tuple[int, int] = (0, 0)  # quarterly plans, allocations kept from the old master

    @property
    def report(self) -> Report:
        return Report(list(self.issues))

    def summary(self) -> str:
        """What the clerk reads after an import (Chinese)."""
        tasks = self.master.tasks
        n_ind = sum(len(t.indicators) for t in tasks)
        n_local = len(self.master.local_tasks())
        levels = "、".join(f"{lv} {sum(t.level == lv for t in tasks)} 项"
                           for lv in self.master.levels())
        lines = [f"已导入 {len(tasks)} 项任务（{levels}，"
                 f"本地实施 {n_local} 项），量化指标 {n_ind} 个，用时 {self.seconds:.2f} 秒。"]
        cov = self.master.coverage
        if cov:
            lines.append(f"通知共 {sum(cov.values())} 行：{coverage_text(cov)}。")
        lines.append(f"总表：{self.out}")
        if self.json_path:
            lines.append(f"JSON：{self.json_path}")
        if self.backup:
            lines.append(f"原总表已备份为：{self.backup}；沿用其中的季度计划 {self.carried[0]} 条、"
                         f"目标分配 {self.carried[1]} 条。")
        if self.issues:
            lines.append(f"需要人工核对的问题 {len(self.issues)} 个：")
        return "\n".join(lines)


def _backup_path(out: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = out.with_name(f"{out.stem}.backup-{stamp}{out.suffix}")
    n = 1
    while candidate.exists():
        n += 1
        candidate = out.with_name(f"{out.stem}.backup-{stamp}-{n}{out.suffix}")
    return candidate


def _write_json(master: Master, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(master.to_json(), ensure_ascii=False, indent=2) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)


def _carry_over(old: Master, new: Master) -> Tuple[int, int]:
    """Keep what staff typed into the old master that the notice cannot supply: quarterly plans
    of indicators whose id, target and unit are unchanged, and allocations of indicators that
    still exist. Returns (plans, allocations) carried over."""
    old_inds = {i.id: i for t in old.tasks for i in t.indicators}
    plans = 0
    for t in new.tasks:
        for ind in t.indicators:
            was = old_inds.get(ind.id)
            if was and (was.target, was.unit) == (ind.target, ind.unit) and any(
                    v is not None for v in was.plan):
                ind.plan = list(was.plan)
                plans += 1
    rows = {ind.id for _, ind in new.rows()}
    new.allocations = [a for a in old.allocations if a.indicator_id in rows]
    return plans, len(new.allocations)


def import_notice(notice=None, out=settings.DEFAULT_MASTER, json_path=None, units=None,
                  force: bool = False, lead_rule: Optional[str] = None) -> ImportResult:
    """Notice (default: the bundled 2024 notice) -> master workbook (+ JSON).

    Never destroys an edited master: refuses unless ``force``; then it keeps a dated backup,
    reuses the old 单位 sheet as the registry (unless ``units``, a units workbook or JSON, is
    given) and carries over quarterly plans and allocations. Nothing is written when the notice
    cannot be parsed. Without ``units`` or an old master, a notice of another city gets a new
    registry of its own units (see ``notice.parse_notice``). ``lead_rule`` (a key of
    ``model.LEAD_RULES``) defaults to the old master's 无牵头单位时 cell, else "first".
    """
    t0 = time.perf_counter()
    notice = notice or bundled_notice_path()
    out = Path(out)
    if out.exists() and not force:
        raise MinshiError(f"总表 {out} 已存在，其中可能有人工修改，未覆盖。如确需按通知重新导入，"
                          f"请加 --force（会先把原总表备份），或用 -o 指定新的文件名。")
    old = None
    if out.exists():
        try:
            old = read_master(out)
        except MinshiError:
            old = None  # an unreadable old file is still backed up, just not reused
    registry = read_units(units) if units else old.registry if old and old.registry.units \
        else None
    rule = lead_rule or (old.lead_rule if old else "first")
    if rule not in LEAD_RULES:
        raise MinshiError(f"无牵头单位时的规则“{rule}”无效，应为：{'、'.join(LEAD_RULES)}。")
    master, found = parse_notice(notice, registry, lead_rule=rule)
    carried = _carry_over(old, master) if old else (0, 0)
    backup = None
    if out.exists():
        backup = _backup_path(out)
        shutil.copy2(out, backup)
    write_master(master, out)
    jp = Path(json_path) if json_path else None
    if jp:
        _write_json(master, jp)
    return ImportResult(master=master, issues=found, out=out, json_path=jp, backup=backup,
                        seconds=time.perf_counter() - t0, carried=carried)


def load_master(path, required: bool) -> Optional[Master]:
    """The master list at ``path``; None when it is absent and not required (returns are then
    checked against their own ``_meta`` fingerprints)."""
    if not path or not Path(path).is_file():
        if required:
            raise MinshiError(f"找不到总表 {path}。请先运行 minshi import 导入通知生成总表。")
        return None
    return read_master(path)
