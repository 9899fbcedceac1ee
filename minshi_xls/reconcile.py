"""Reconcile a period: from the accepted values in the ledger to one figure per indicator.

:func:`compute` only reads (so ``summary`` and ``status`` can use it without side effects);
:func:`store` keeps the period's reconciled figures and issues in the ledger (so month n+1 knows
month n). Nothing here writes an output: the writers (:mod:`consolidated`, :mod:`bulletin`,
:mod:`summary`) only write a :class:`Reconciliation`, and :mod:`report` (the command layer) calls
both. Everything is ordered by the master and the registry, so the same ledger always gives the
same result.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from minshi_xls import MinshiError
from minshi_xls import issues as issues_mod
from minshi_xls import clock, ledger, progress, rules, settings
from minshi_xls.columns import (CO_COLUMNS, INPUT, LEAD_COLUMNS, PLAN, SHEET_LEAD, STATUS_CHOICES,
                               column)
from minshi_xls.issues import Issue
from minshi_xls.model import SCOPE_LABELS, Indicator, Master, Task

F_CUMULATIVE = column(LEAD_COLUMNS, "cumulative").header  # 本月累计完成
F_STATUS = column(LEAD_COLUMNS, "status").header
F_PROGRESS = column(LEAD_COLUMNS, "progress").header
F_PROBLEMS = column(LEAD_COLUMNS, "problems").header
F_NEXT = column(LEAD_COLUMNS, "next_steps").header
F_CO_CUMULATIVE = column(CO_COLUMNS, "cumulative").header  # 本单位累计完成
F_PLAN = [c.header for c in LEAD_COLUMNS if c.kind == PLAN]  # 一季度末计划 … 四季度末计划
#: What a unit types (inputs and its quarterly plan): the values reconcile reads and 明细 lists;
#: the locked, pre-filled and formula cells collect also records are the template's own.
INPUT_FIELDS = tuple(dict.fromkeys(c.header for c in LEAD_COLUMNS + CO_COLUMNS
                                   if c.kind in (INPUT, PLAN)))
#: Order of fields in 明细: the lead sheet's columns, then the co sheet's.
FIELD_ORDER = {h: i for i, h in enumerate(dict.fromkeys(
    [c.header for c in LEAD_COLUMNS] + [c.header for c in CO_COLUMNS]))}

CARRIED_LABEL = "上月结转"


def file_name_of(path: Optional[str]) -> str:
    """The file name of a collected path (a folder path, "a.zip!x.xlsx" or "imap:<id>/x.xlsx")."""
    return path.replace("\\", "/").rsplit("/", 1)[-1] if path else ""


@dataclass
class Value:
    """One accepted value of the ledger, with where it came from."""

    unit: str
    indicator_id: str
    field: str
    number: Optional[float]
    raw: Optional[str]
    sheet: Optional[str]
    cell: Optional[str]
    return_id: int
    file_id: int
    file: str  # the path it was collected from


@dataclass
class UnitReturn:
    """One expected (or unexpected) unit's standing for the period: a row of 报送情况."""

    unit: str
    expected: bool
    returned: bool = False
    received_at: str = ""
    received_shown: str = ""  # as the clerk reads it (office zone; a file's own time marked)
    late: bool = False
    versions: int = 0
    accepted_rows: int = 0
    errors: int = 0
    warnings: int = 0
    file: str = ""  # archived file of the return that counts
    return_id: Optional[int] = None
    file_id: Optional[int] = None
    source_path: str = ""
    accepted: bool = False  # the return that counts was accepted (its values are used)
    #: the unit's last reply when it was not a return (fetch: 回复无附件, 自动回复, 退信：地址无效,
    #: 超大附件链接，需手工下载, …), from ledger.mail_states; empty once a return counts
    mail_state: str = ""
    #: the sealed scan and photos that came with the return (ledger.mail_files)
    extra_files: List[str] = field(default_factory=list)

    @property
    def remark(self) -> str:
        """The 说明 of 报送情况 and ``status``: the mail state, or the files kept beside."""
        if self.extra_files:
            return "随表附件：" + "、".join(self.extra_files)
        return "" if self.returned else self.mail_state

    @property
    def state(self) -> str:
        """The one reading of a unit's standing (报送情况, ``status``): see :data:`UNIT_STATES`."""
        if not self.returned:
            return settings.NOT_REPORTED
        if not self.accepted or self.errors:
            return HAS_ERRORS
        return LATE if self.late else REPORTED


HAS_ERRORS, LATE, REPORTED = "有错误", "逾期报送", "已报送"
#: Unit states, what to chase first first (报送情况 lists units in this order).
UNIT_STATES = (settings.NOT_REPORTED, HAS_ERRORS, LATE, REPORTED)
#: The colour of each state in 报送情况 (the status colours: grey, red, yellow, green).
UNIT_STATE_COLORS = {settings.NOT_REPORTED: settings.STATUS_COLORS[settings.NOT_REPORTED],
                     HAS_ERRORS: settings.STATUS_COLORS["滞后"],
                     LATE: settings.STATUS_COLORS["未启动"],
                     REPORTED: settings.STATUS_COLORS["序时推进"]}


@dataclass
class Row:
    """One indicator (or 形象进度) row of the 省/市 sheets."""

    task: Task
    indicator: Indicator
    leads: List[str]
    previous: Optional[float] = None
    cumulative: Optional[float] = None
    added: Optional[float] = None
    progress: progress.Progress = progress.Progress(None, None, None, "")
    unit_status: str = ""
    texts: Dict[str, str] = field(default_factory=dict)  # 进展情况 / 存在问题 / 下步计划
    source: Optional[Value] = None  # the lead value shown (None when carried or missing)
    carried_forward: bool = False
    #: Lead units whose return this period was rejected (sent, but nothing of it accepted).
    rejected_leads: List[str] = field(default_factory=list)
    plan: Optional[List[float]] = None  # a quarterly plan a lead unit reported this period

    @property
    def local(self) -> bool:
        return self.task.is_local

    @property
    def status(self) -> str:
        return self.progress.status if self.local else SCOPE_LABELS[self.task.scope]

    def source_label(self) -> str:
        if self.carried_forward:
            if self.rejected_leads:
                why = f"{'、'.join(self.rejected_leads)}本月报表有错误未采用"
            else:
                why = f"{'、'.join(self.leads)}本月未报送"
            return f"{CARRIED_LABEL}（{why}）"
        if self.source:
            sheet = "" if self.source.sheet == SHEET_LEAD else f"{self.source.sheet}!"
            return f"{self.source.unit}：{file_name_of(self.source.file)}!{sheet}{self.source.cell}"
        return ""


@dataclass
class CountyRow:
    """An indicator shared by counties/functional zones: their figures against the lead's."""

    row: Row
    units: List[str]  # the territorial units sharing it, registry order
    figures: Dict[str, float]
    allocations: Dict[str, float]
    mismatch: bool = False  # beyond the tolerance: a county-sum-mismatch issue was raised

    # Rounded to 6 decimals: sums of two-decimal figures must not show 4.4e-16 as a difference.
    @property
    def total(self) -> Optional[float]:
        return round(sum(self.figures.values()), 6) if self.figures else None

    @property
    def difference(self) -> Optional[float]:
        if self.total is None or self.row.cumulative is None:
            return None
        return round(self.total - self.row.cumulative, 6)


@dataclass
class Headline:
    """The 汇总 figures of one level (省 or 市)."""

    level: str
    tasks: int
    local_tasks: int
    task_status: Dict[str, int]
    indicators: int
    completion: Optional[float]  # mean 完成率 of reported local indicators, each capped at 100 %


@dataclass
class Reconciliation:
    """Everything the consolidated workbook, the 通报 and ``status`` are made of."""

    master: Master
    period: str
    year: int
    month: int
    rows: List[Row]
    task_status: Dict[str, str]
    county_rows: List[CountyRow]
    returns: List[UnitReturn]
    values: List[Value]
    issues: List[Issue]  # made by reconcile (stored with source='reconcile')
    issue_links: List[Tuple[Optional[int], Optional[int]]]  # (return id, file id) per issue
    all_issues: List[dict]  # every issue of the period, collect's and ours, in phoning order
    headlines: List[Headline]
    categories: List[Tuple[str, int, str, Dict[str, int]]]  # level, no, name, task status counts

    @property
    def expected(self) -> List[UnitReturn]:
        return [r for r in self.returns if r.expected]

    def chase_order(self) -> List[UnitReturn]:
        """Expected units, what to chase first first (:data:`UNIT_STATES`), registry order
        within a state."""
        return sorted(self.expected, key=lambda u: UNIT_STATES.index(u.state))

    @property
    def received(self) -> int:
        return sum(1 for r in self.expected if r.returned)

    @property
    def open_issues(self) -> Dict[str, int]:
        out = {issues_mod.ERROR: 0, issues_mod.WARNING: 0}
        for i in self.all_issues:
            if i["open"] and i["severity"] in out:
                out[i["severity"]] += 1
        return out

    def headline_lines(self) -> List[str]:
        """One terminal line per level: tasks by status and the average 完成率."""
        lines = []
        for h in self.headlines:
            counts = "、".join(f"{s}{h.task_status.get(s, 0)}项" for s in TASK_STATUS_ORDER
                              if h.task_status.get(s))
            rate = "—" if h.completion is None else f"{h.completion * 100:.1f}%"
            lines.append(f"{h.level}民生实事 {h.tasks} 项（我市承担 {h.local_tasks} 项）：{counts}；"
                         f"平均完成率 {rate}")
        return lines


TASK_STATUS_ORDER = ("已完成", "超序时", "序时推进", "滞后", "未启动", settings.NOT_REPORTED)


# --- reading the ledger --------------------------------------------------------------------------

def _unit_order(master: Master) -> Dict[str, int]:
    return {u: i for i, u in enumerate(master.registry.names())}


def _sort_units(master: Master, units) -> List[str]:
    order = _unit_order(master)
    return sorted(set(units), key=lambda u: (order.get(u, len(order)), u))


def lead_units(master: Master, task: Task) -> List[str]:
    out: List[str] = []
    for tok in task.lead_units:
        for u in master.registry.expand(tok):
            if u not in out:
                out.append(u)
    return out


def territorial_sharers(master: Master, task: Task, leads: List[str]) -> List[str]:
    out = []
    for u in task.responsible_units:
        unit = master.registry.get(u)
        if unit and unit.is_territorial and unit.short not in leads and unit.short not in out:
            out.append(unit.short)
    return _sort_units(master, out)


def _returns(con: sqlite3.Connection, period: str) -> Dict[str, List[sqlite3.Row]]:
    """Identified returns of the period per unit, oldest first."""
    rows = con.execute(
        "SELECT r.id, r.unit, r.file_id, r.received_at, r.time_source, r.late, r.status,"
        " r.accepted_rows,"
        " rc.source_path, f.archive_path, f.sha256, r.id = (SELECT p.return_id FROM pins p"
        " WHERE p.unit = r.unit AND p.period = r.period ORDER BY p.id DESC LIMIT 1) AS pinned"
        " FROM returns r"
        " JOIN receipts rc ON rc.id = r.receipt_id JOIN files f ON f.id = r.file_id"
        " WHERE r.period = ? AND r.unit IS NOT NULL ORDER BY r.unit, r.received_at, r.id",
        (period,)).fetchall()
    out: Dict[str, List[sqlite3.Row]] = {}
    for r in rows:
        out.setdefault(r["unit"], []).append(r)
    return out


def _current(versions: List[sqlite3.Row]) -> Optional[sqlite3.Row]:
    """The return that counts: the one the clerk pinned (``minshi accept``), else the newest
    accepted one, else the newest rejected one (collect's versions.settle leaves one of a
    unit's versions accepted or rejected and the others superseded)."""
    for r in versions:
        if r["pinned"]:
            return r
    for status in ("accepted", "rejected"):
        cands = [r for r in versions if r["status"] == status]
        if cands:
            return cands[-1]
    return None


def current_returns(con: sqlite3.Connection, period: str) -> Dict[str, sqlite3.Row]:
    """unit -> the return that counts for ``period`` (reconcile shows it; remind writes about
    it), by the one rule of :func:`_current`."""
    out = {}
    for unit, versions in _returns(con, period).items():
        cur = _current(versions)
        if cur is not None:
            out[unit] = cur
    return out


def _values(con: sqlite3.Connection, return_ids: List[int]) -> List[Value]:
    if not return_ids:
        return []
    marks = ",".join("?" * len(return_ids))
    fields = ",".join("?" * len(INPUT_FIELDS))
    rows = con.execute(
        "SELECT r.unit, v.indicator_id, v.field, v.number, v.raw, v.sheet, v.cell, r.id AS rid,"
        " r.file_id, rc.source_path FROM cell_values v JOIN returns r ON r.id = v.return_id"
        " JOIN receipts rc ON rc.id = r.receipt_id"
        f" WHERE v.accepted = 1 AND v.indicator_id IS NOT NULL AND r.id IN ({marks})"
        f" AND v.field IN ({fields}) ORDER BY v.id", [*return_ids, *INPUT_FIELDS]).fetchall()
    return [Value(r["unit"], r["indicator_id"], r["field"], r["number"], r["raw"], r["sheet"],
                  r["cell"], r["rid"], r["file_id"], r["source_path"]) for r in rows]


def _index(values: List[Value]) -> Dict[Tuple[str, str], Dict[str, Value]]:
    idx: Dict[Tuple[str, str], Dict[str, Value]] = {}
    for v in values:
        idx.setdefault((v.unit, v.indicator_id), {})[v.field] = v
    return idx


def _accepted_return_ids(con: sqlite3.Connection, period: str) -> List[int]:
    ids = []
    for versions in _returns(con, period).values():
        cur = _current(versions)
        if cur is not None and cur["status"] == "accepted":
            ids.append(cur["id"])
    return ids


def _pick(leads: List[str], idx, ind: Indicator) -> Tuple[Optional[Value], List[Value]]:
    """The lead figure shown (first lead unit in master order with an accepted one) and all."""
    found = []
    for u in leads:
        v = idx.get((u, ind.id), {}).get(F_CUMULATIVE)
        if v is not None and v.number is not None:
            found.append(v)
    return (found[0] if found else None), found


def reported_plans(con: sqlite3.Connection, period: str) -> Dict[Tuple[str, str], List[float]]:
    """(unit, indicator id) -> the latest complete quarterly plan a unit gave in an accepted
    return of this year up to ``period``. The plan cells are inputs of the fill-in workbook while
    the master has none, and a unit types its plan once, not every month."""
    year = period[:4]
    marks = ",".join("?" * len(F_PLAN))
    out: Dict[Tuple[str, str], List[float]] = {}
    current: Dict[Tuple[int, str, str], Dict[str, float]] = {}
    for r in con.execute(
            "SELECT r.id, r.unit, v.indicator_id, v.field, v.number FROM cell_values v"
            " JOIN returns r ON r.id = v.return_id WHERE r.status = 'accepted' AND v.accepted = 1"
            f" AND v.number IS NOT NULL AND v.field IN ({marks}) AND r.period >= ?"
            " AND r.period <= ? ORDER BY r.period, r.received_at, r.id",
            [*F_PLAN, f"{year}-01", period]):
        current.setdefault((r["id"], r["unit"], r["indicator_id"]), {})[r["field"]] = r["number"]
    for (_, unit, ind_id), fields in current.items():  # oldest first: later plans replace
        plan = [fields.get(h) for h in F_PLAN]
        if progress.complete(plan):
            out[(unit, ind_id)] = plan
    return out


def _reported_plan(leads: List[str], plans, ind: Indicator) -> Optional[List[float]]:
    """The plan of the first lead unit (master order) that has given one."""
    for u in leads:
        if (u, ind.id) in plans:
            return plans[(u, ind.id)]
    return None


def cumulatives(con: sqlite3.Connection, master: Master, period: Optional[str],
                _depth: int = 0) -> Dict[str, Tuple[float, bool]]:
    """indicator id -> (reconciled cumulative, carried forward) for ``period``.

    The stored ``reconciled`` figures when the period was reconciled, else picked from the
    ledger the same way (carrying forward from the month before), so history never has holes.
    """
    if period is None or _depth > 12:
        return {}
    stored = con.execute("SELECT indicator_id, cumulative, carried_forward FROM reconciled"
                         " WHERE period = ?", (period,)).fetchall()
    if stored:
        return {r["indicator_id"]: (r["cumulative"], bool(r["carried_forward"]))
                for r in stored if r["cumulative"] is not None}
    idx = _index(_values(con, _accepted_return_ids(con, period)))
    before = cumulatives(con, master, settings.previous_period(period), _depth + 1)
    out = {}
    for task, ind in master.rows():
        v, _ = _pick(lead_units(master, task), idx, ind)
        if v is not None:
            out[ind.id] = (v.number, False)
        elif ind.id in before:
            out[ind.id] = (before[ind.id][0], True)
    return out


def expected_units(master: Master, config: Optional[dict] = None) -> List[str]:
    """The units that must report (the model's rule; the ones that get a fill-in workbook)."""
    return master.reporting_units(settings.include_co_bureaus(config))


# --- the computation -----------------------------------------------------------------------------

def _num_eq(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _fmt(x: Optional[float]) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:.4g}"


def compute(master: Master, period: str, con: sqlite3.Connection,
            config: Optional[dict] = None) -> Reconciliation:
    """Reconcile ``period`` from the ledger without writing anything."""
    config = config or settings.DEFAULTS
    year, month = settings.period_parts(period)
    tol = progress.tolerance_from(config)
    county_tol = float(config.get("rules", {}).get("county_sum_tolerance", 0.0))

    # Returns: the one that counts per unit, and 报送情况.
    by_unit = _returns(con, period)
    tz = clock.zone(config)
    expected = expected_units(master, config)
    issue_counts = {(r["return_id"], r["severity"]): r["n"] for r in con.execute(
        "SELECT return_id, severity, COUNT(*) AS n FROM issues WHERE period = ? AND"
        " return_id IS NOT NULL AND source != 'reconcile' GROUP BY return_id, severity",
        (period,))}
    returns: List[UnitReturn] = []
    for unit in _sort_units(master, list(expected) + list(by_unit)):
        versions = by_unit.get(unit, [])
        cur = _current(versions)
        ur = UnitReturn(unit=unit, expected=unit in expected,
                        versions=sum(1 for v in versions if v["status"] != "duplicate"))
        if cur is not None:
            ur.returned = True
            ur.received_at, ur.late = cur["received_at"], bool(cur["late"])
            ur.received_shown = clock.show_received(cur["received_at"], cur["time_source"], tz)
            ur.accepted_rows = cur["accepted_rows"] if cur["status"] == "accepted" else 0
            ur.errors = issue_counts.get((cur["id"], issues_mod.ERROR), 0)
            ur.warnings = issue_counts.get((cur["id"], issues_mod.WARNING), 0)
            ur.file, ur.return_id, ur.file_id = cur["archive_path"], cur["id"], cur["file_id"]
            ur.source_path, ur.accepted = cur["source_path"], cur["status"] == "accepted"
        returns.append(ur)
    notes, extras = ledger.mail_states(con, period), ledger.mail_files(con, period)
    for ur in returns:
        note = notes.get(ur.unit)
        if note and not ur.returned:
            ur.mail_state = issues_mod.TYPES[note["code"]].title
        ur.extra_files = [f["name"] for f in extras.get(ur.unit, [])]

    values = _values(con, [r.return_id for r in returns if r.accepted])
    idx = _index(values)
    rejected = {r.unit for r in returns if r.returned and not r.accepted}
    plans = reported_plans(con, period)
    before = cumulatives(con, master, settings.previous_period(period))
    made: List[Issue] = []
    links: List[Tuple[Optional[int], Optional[int]]] = []  # (return id, file id) per issue

    def issue(code, v: Optional[Value] = None, **kw):
        loc = dict(unit=v.unit, file=v.file, sheet=v.sheet, cell=v.cell) if v else {}
        loc.update(kw)
        made.append(issues_mod.make(code, period=period, **loc))
        links.append((v.return_id, v.file_id) if v else (None, None))

    rows: List[Row] = []
    county_rows: List[CountyRow] = []
    for task, ind in master.rows():
        leads = lead_units(master, task)
        row = Row(task=task, indicator=ind, leads=leads)
        rows.append(row)
        if not task.is_local:
            continue
        prev = before.get(ind.id)
        row.previous = prev[0] if prev else None
        chosen, found = _pick(leads, idx, ind)
        if chosen is not None:
            row.source, row.cumulative = chosen, chosen.number
            fields = idx[(chosen.unit, ind.id)]
            row.texts = {f: (fields[f].raw or "") for f in (F_PROGRESS, F_PROBLEMS, F_NEXT)
                         if f in fields}
            st = fields.get(F_STATUS)
            row.unit_status = (st.raw or "").strip() if st else ""
            if row.previous is not None:  # 6 decimals: 2 − 1.68 is 0.32, not 0.3200000000000001
                row.added = round(row.cumulative - row.previous, 6)
        elif prev is not None:
            row.cumulative, row.carried_forward = prev[0], True
            row.rejected_leads = [u for u in leads if u in rejected]
        row.plan = _reported_plan(leads, plans, ind)
        row.progress = progress.for_indicator(ind, row.cumulative, month, tol, row.plan)

        if not all(_num_eq(v.number, found[0].number) for v in found):
            detail = "；".join(f"{v.unit} {_fmt(v.number)}" for v in found)
            for v in found[1:]:
                if not _num_eq(v.number, chosen.number):
                    issue("lead-mismatch", v, indicator_id=ind.id, value=_fmt(v.number),
                          detail=detail)
        if (chosen is not None and row.unit_status in STATUS_CHOICES
                and row.unit_status != row.progress.status):
            st = idx[(chosen.unit, ind.id)][F_STATUS]
            issue("status-disagrees", st, indicator_id=ind.id, value=row.unit_status,
                  expected=row.progress.status)

        sharers = [] if ind.is_milestone else territorial_sharers(master, task, leads)
        if sharers:
            figures = {}
            for u in sharers:
                v = idx.get((u, ind.id), {}).get(F_CO_CUMULATIVE)
                if v is not None and v.number is not None:
                    figures[u] = v.number
            alloc = {u: a for u in sharers
                     if (a := master.allocation(ind.id, u)) is not None}
            cr = CountyRow(row=row, units=sharers, figures=figures, allocations=alloc)
            county_rows.append(cr)
            # A partial sum is not a mismatch: the missing units already carry not-returned.
            if (chosen is not None and len(figures) == len(sharers)
                    and abs(cr.difference) > county_tol + 1e-9):
                cr.mismatch = True
                issue("county-sum-mismatch", chosen, indicator_id=ind.id, value=_fmt(cr.total),
                      expected=_fmt(row.cumulative), detail=_fmt(cr.difference),
                      found="、".join(f"{u} {_fmt(figures[u])}" for u in sharers))

    for ur in returns:
        if ur.expected and not ur.returned:
            issue("not-returned", unit=ur.unit)
    # This run's issues count against the return they concern (last run's were replaced).
    by_return = {ur.return_id: ur for ur in returns if ur.return_id is not None}
    for i, (rid, _) in zip(made, links):
        if rid in by_return:
            if i.severity == issues_mod.ERROR:
                by_return[rid].errors += 1
            elif i.severity == issues_mod.WARNING:
                by_return[rid].warnings += 1

    task_status: Dict[str, str] = {}
    for task in master.tasks:
        if task.is_local:
            task_status[task.id] = progress.task_status(
                r.progress.status for r in rows if r.task is task)
        else:
            task_status[task.id] = SCOPE_LABELS[task.scope]

    headlines = _headlines(master, rows, task_status)
    categories = _categories(master, task_status)
    rec = Reconciliation(master=master, period=period, year=year, month=month, rows=rows,
                         task_status=task_status, county_rows=county_rows, returns=returns,
                         values=values, issues=made, issue_links=links, all_issues=[],
                         headlines=headlines, categories=categories)
    rec.all_issues = _all_issues(con, master, period, made)
    return rec


def _headlines(master: Master, rows: List[Row], task_status: Dict[str, str]) -> List[Headline]:
    out = []
    for level in master.levels():
        tasks = [t for t in master.tasks if t.level == level]
        local = [t for t in tasks if t.is_local]
        ts = {s: sum(1 for t in local if task_status[t.id] == s) for s in TASK_STATUS_ORDER}
        lrows = [r for r in rows if r.task.level == level and r.local]
        rates = [min(r.progress.rate, 1.0) for r in lrows if r.progress.rate is not None]
        out.append(Headline(level=level, tasks=len(tasks), local_tasks=len(local), task_status=ts,
                            indicators=len(lrows),
                            completion=sum(rates) / len(rates) if rates else None))
    return out


def _categories(master: Master, task_status: Dict[str, str]):
    cats: Dict[Tuple[str, int, str], Dict[str, int]] = {}
    for t in master.tasks:
        counts = cats.setdefault((t.level, t.category_no, t.category),
                                 {s: 0 for s in TASK_STATUS_ORDER})
        if t.is_local:
            counts[task_status[t.id]] += 1
    return [(lvl, no, name, counts) for (lvl, no, name), counts in cats.items()]


def _cell_key(cell: Optional[str]) -> Tuple[int, str]:
    """Row-major order of an A1 reference (the way a clerk reads down a sheet)."""
    if not cell:
        return (0, "")
    letters = "".join(ch for ch in cell if ch.isalpha())
    digits = "".join(ch for ch in cell if ch.isdigit())
    return (int(digits) if digits else 0, f"{len(letters):02d}{letters}")


OPEN, SUPERSEDED, EXPLAINED, NOTED = "待处理", "已替代", "已说明", "备查"
STATE_ORDER = {OPEN: 0, EXPLAINED: 1, NOTED: 2, SUPERSEDED: 3}  # within a unit: fix first
_EXPLAINED_MARK = rules.EXPLAINED.split("{")[0]  # collect appends it when 备注 explains a warning


def _state(r: sqlite3.Row) -> str:
    """An issue is open unless its file was replaced by a newer one, the unit explained the
    warning in 备注（说明）, or it is information only (a duplicate, a superseded version)."""
    if r["return_status"] in ("superseded", "duplicate"):
        return SUPERSEDED
    if r["severity"] == issues_mod.WARNING and _EXPLAINED_MARK in (r["message"] or ""):
        return EXPLAINED
    return NOTED if r["severity"] == issues_mod.INFO else OPEN


def _all_issues(con, master: Master, period: str, made: List[Issue]) -> List[dict]:
    """collect's issues of the period (from the ledger) and ours, sorted unit by unit."""
    rows = con.execute(
        "SELECT i.code, i.severity, i.unit, i.file_path, i.sheet, i.cell, i.indicator_id, i.value,"
        " i.message, r.status AS return_status FROM issues i LEFT JOIN returns r"
        " ON r.id = i.return_id WHERE i.period = ? AND i.source != 'reconcile'",
        (period,)).fetchall()
    out = [dict(code=r["code"], severity=r["severity"], unit=r["unit"], file=r["file_path"],
                sheet=r["sheet"], cell=r["cell"], indicator_id=r["indicator_id"], value=r["value"],
                message=r["message"], source="collect", state=_state(r)) for r in rows]
    out += [dict(code=i.code, severity=i.severity, unit=i.unit, file=i.file, sheet=i.sheet,
                 cell=i.cell, indicator_id=i.indicator_id, value=i.value, message=i.message,
                 source="reconcile", state=NOTED if i.severity == issues_mod.INFO else OPEN)
            for i in made]
    for d in out:
        d["open"] = d["state"] == OPEN
    order = _unit_order(master)
    sev = issues_mod.SEVERITY_ORDER
    out.sort(key=lambda d: (d["unit"] is None, order.get(d["unit"], len(order)), d["unit"] or "",
                            STATE_ORDER[d["state"]], d["file"] or "", d["sheet"] or "",
                            _cell_key(d["cell"]), sev.get(d["severity"], 9), d["code"],
                            d["indicator_id"] or "", d["message"]))
    return out


# --- storing and writing -------------------------------------------------------------------------

def store(con: sqlite3.Connection, rec: Reconciliation) -> None:
    """Replace the period's reconciled figures and reconcile issues (a rerun never adds)."""
    with ledger.transaction(con):
        con.execute("DELETE FROM issues WHERE source = 'reconcile' AND period = ?", (rec.period,))
        con.executemany(
            "INSERT INTO issues (return_id, file_id, source, code, severity, unit, period,"
            " file_path, sheet, cell, indicator_id, value, message)"
            " VALUES (?, ?, 'reconcile', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(rid, fid, i.code, i.severity, i.unit, i.period, i.file, i.sheet, i.cell,
              i.indicator_id, i.value, i.message)
             for i, (rid, fid) in zip(rec.issues, rec.issue_links)])
        con.execute("DELETE FROM reconciled WHERE period = ?", (rec.period,))
        con.executemany(
            "INSERT INTO reconciled (period, indicator_id, cumulative, status, unit,"
            " carried_forward) VALUES (?, ?, ?, ?, ?, ?)",
            [(rec.period, r.indicator.id, r.cumulative, r.progress.status,
              r.source.unit if r.source else None, int(r.carried_forward))
             for r in rec.rows if r.local])


def connect(db_path) -> sqlite3.Connection:
    """The ledger, or a clear error when the file is not one (a copy gone wrong, another file)."""
    try:
        return ledger.connect(db_path)
    except sqlite3.DatabaseError as e:
        raise MinshiError(f"台账 {db_path} 无法打开（{e}），请确认它是 minshi 的台账数据库。") from e


def open_inputs(master_path, period: str, db_path, config_path=None) -> Tuple[Master, dict]:
    """The master and config for a command, with a clear error when the ledger is missing."""
    from minshi_xls.master import read_master
    settings.period_parts(period)
    config = settings.load_config(config_path)
    if not Path(db_path).is_file():
        raise MinshiError(f"找不到台账 {db_path}。请先运行 minshi collect 收取本月报表。")
    return read_master(master_path), config


def compute_period(master_path, period: str, db_path, config_path=None) -> Reconciliation:
    """The period computed read-only from paths (``status`` and ``summary`` write no history)."""
    master, config = open_inputs(master_path, period, db_path, config_path)
    con = connect(db_path)
    try:
        return compute(master, period, con, config)
    finally:
        con.close()


def status_table(rec: Reconciliation) -> List[str]:
    """``status`` as terminal lines: one per expected unit, those to chase first first."""
    head = ("单位", "报送", "报送时间", "逾期", "版本", "接受行", "错误", "警告", "说明")
    rows = [head]
    for u in rec.chase_order():
        rows.append((u.unit, "是" if u.returned else "否",
                     u.received_shown if u.returned else "-",
                     ("是" if u.late else "否") if u.returned else "-", str(u.versions),
                     str(u.accepted_rows) if u.returned else "-",
                     str(u.errors) if u.returned else "-", str(u.warnings) if u.returned else "-",
                     u.remark))
    from minshi_xls.xlsx_style import display_width
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c + " " * (w - display_width(c)) for c, w in zip(r, widths)).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    missing = [u.unit for u in rec.expected if not u.returned]
    lines.append("")
    lines.append(f"{rec.period}：应报 {len(rec.expected)} 个单位，已报 {rec.received} 个，"
                 f"未报 {len(missing)} 个" + (f"（{'、'.join(missing)}）" if missing else ""))
    return lines
