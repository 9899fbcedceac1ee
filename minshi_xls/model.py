"""The one model of tasks, indicators, units and allocations, used by every stage.

Unit identity everywhere (templates, ledger, reports, mail) is the unit's *short name* as the
notice writes it ("市卫健委", "东海县", "市开发区"); the registry maps full names and aliases to it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

#: 省 and 市 are the levels of a city's notice (always shown, even when empty); a county's or
#: district's own notice has 县 or 区 tasks (shown when present: Master.levels()).
LEVELS = ("省", "市", "县", "区")
SCOPES = ("local", "province", "not_applicable")
SCOPE_LABELS = {"local": "本地实施", "province": "省本级实施", "not_applicable": "我市不承担相关任务"}
#: "<=" is an upper bound (不超过, 控制在…以内): met while at or below it. "range" is a target
#: written as X—Y: ``target`` holds the low end (what counts as met), ``target_high`` the high end.
QUALIFIERS = ("=", ">=", "~", ">", "<=", "range")
QUALIFIER_LABELS = {"=": "", ">=": "以上/不少于", "~": "左右", ">": "多/余", "<=": "以内/不超过",
                    "range": "区间"}
#: How a task whose notice names only 责任单位 (no 牵头单位) gets its lead: the first unit named
#: (what most notices state: "列第一位者为牵头单位"), every unit named, or none (left to the office).
LEAD_RULES = {"first": "第一个责任单位牵头", "all": "全部责任单位牵头", "none": "不指定（人工补录）"}
UNIT_KINDS = ("市直部门", "县区", "功能板块", "企业/其他")
TERRITORIAL_KINDS = ("县区", "功能板块")

#: Row kind of a task with no quantitative target: tracked by 形象进度 (0-100 %).
MILESTONE_NAME = "形象进度"
MILESTONE_UNIT = "%"
MILESTONE_TARGET = "100"


@dataclass
class Indicator:
    """One quantitative target of a task, as written in the notice plus its value in base units."""

    id: str  # "省-10#2"; milestone rows use "<task id>#0"
    name: str  # what is counted: "苏青驿站"
    target: str  # as written: "2.28"
    unit: str  # as written: "万名"
    qualifier: str = "="
    base_value: Optional[float] = None  # 22800.0
    base_unit: str = ""  # "名"
    target_high: str = ""  # the high end of a "range" target ("3—5个": target "3", high "5")
    #: Quarterly cumulative plan (Q1..Q4) in the notice's unit; None until a lead unit supplies it.
    plan: List[Optional[float]] = field(default_factory=lambda: [None, None, None, None])

    @property
    def task_id(self) -> str:
        return self.id.rsplit("#", 1)[0]

    @property
    def is_milestone(self) -> bool:
        return self.id.endswith("#0")

    @property
    def target_number(self) -> Optional[float]:
        """Target in the notice's unit (what units report in)."""
        try:
            return float(self.target)
        except (TypeError, ValueError):
            return None

    @property
    def target_suffix(self) -> str:
        """What follows the target number where it is shown: "以上", "左右", "余", "以内", or
        "—5" for a range 3—5."""
        if self.qualifier == "range":
            return f"—{self.target_high}" if self.target_high else ""
        return {">=": "以上", "~": "左右", ">": "余", "<=": "以内"}.get(self.qualifier, "")

    def to_json(self) -> dict:
        """The public JSON shape (plan is a master-workbook concern and is not part of it)."""
        d = {k: getattr(self, k) for k in
             ("id", "name", "target", "unit", "qualifier", "base_value", "base_unit")}
        if self.qualifier == "range":
            d["target_high"] = self.target_high
        return d


@dataclass
class Task:
    """A leaf task of the notice (an item with sub-items is represented by its sub-items)."""

    id: str  # "省-5.1"
    level: str  # "省" | "市" | "县" | "区"
    category_no: int
    category: str
    number: str  # "5.1"
    text: str
    lead_units: List[str] = field(default_factory=list)
    co_units: List[str] = field(default_factory=list)
    responsible_units: List[str] = field(default_factory=list)
    scope: str = "local"
    indicators: List[Indicator] = field(default_factory=list)

    @property
    def is_local(self) -> bool:
        return self.scope == "local"

    def report_rows(self) -> List[Indicator]:
        """The rows units report on: the indicators, or one 形象进度 row for a milestone task."""
        if self.indicators:
            return list(self.indicators)
        return [Indicator(id=f"{self.id}#0", name=MILESTONE_NAME, target=MILESTONE_TARGET,
                          unit=MILESTONE_UNIT, qualifier="=", base_value=100.0,
                          base_unit=MILESTONE_UNIT)]

    def to_json(self) -> dict:
        d = {k: getattr(self, k) for k in
             ("id", "level", "category_no", "category", "number", "text", "lead_units",
              "co_units", "responsible_units", "scope")}
        d["indicators"] = [i.to_json() for i in self.indicators]
        return d


@dataclass
class Unit:
    """A responsible unit; ``short`` is its identity across the whole tool."""

    short: str
    name: str = ""  # full name: 连云港市卫生健康委员会
    kind: str = "市直部门"
    aliases: List[str] = field(default_factory=list)
    email: str = ""
    contact: str = ""

    @property
    def is_territorial(self) -> bool:
        return self.kind in TERRITORIAL_KINDS

    @property
    def addresses(self) -> List[str]:
        """Registered addresses, lower-cased (the registry cell may hold several, separated by
        ; , or spaces), so sender checks and mail recipients agree."""
        return [e.strip().lower() for e in re.split(r"[;,，；\s]+", self.email or "") if "@" in e]


@dataclass
class Registry:
    """Known units and the group tokens of the notice ("各县区", "功能板块") they expand to."""

    units: List[Unit] = field(default_factory=list)
    groups: Dict[str, List[str]] = field(default_factory=dict)

    def _index(self) -> Dict[str, Unit]:
        idx: Dict[str, Unit] = {}
        for u in self.units:
            for key in [u.short, u.name, *u.aliases]:
                if key:
                    idx.setdefault(key, u)
        return idx

    def get(self, name: str) -> Optional[Unit]:
        """The unit called ``name`` (short name, full name or alias), or None."""
        return self._index().get(name)

    def expand(self, token: str) -> List[str]:
        """Short names a token stands for: a group's members, a unit's short name, or the token."""
        if self.groups.get(token):  # a group without members stays a name, never vanishes
            out: List[str] = []
            for member in self.groups[token]:
                out.extend(self.expand(member))
            return out
        u = self.get(token)
        return [u.short if u else token]

    def names(self) -> List[str]:
        return [u.short for u in self.units]


@dataclass
class Allocation:
    """Share of an indicator's target allotted to a unit (optional; 本单位目标 in templates)."""

    indicator_id: str
    unit: str
    share: float


@dataclass
class Master:
    """The master list: the source of truth once imported (later steps never read the notice)."""

    source: str
    tasks: List[Task] = field(default_factory=list)
    registry: Registry = field(default_factory=Registry)
    allocations: List[Allocation] = field(default_factory=list)
    year: Optional[int] = None
    #: The office's rule for tasks that name 责任单位 only (a key of LEAD_RULES).
    lead_rule: str = "first"
    #: Where the notice's lines went ({"前言": n, "标题": n, "任务": n, "未解析": n, "空行": n});
    #: filled by the import, shown on the 说明 sheet, not part of the model's identity.
    coverage: Dict[str, int] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict:
        """The public JSON interface: keep stable."""
        return {"source": self.source, "tasks": [t.to_json() for t in self.tasks]}

    def levels(self) -> List[str]:
        """The levels reports show: 省 and 市 always, 县 and 区 when the notice has such tasks."""
        return [lv for lv in LEVELS if lv in ("省", "市") or any(t.level == lv for t in self.tasks)]

    def task(self, task_id: str) -> Task:
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise KeyError(task_id)

    def local_tasks(self) -> List[Task]:
        return [t for t in self.tasks if t.is_local]

    def rows(self) -> Iterable[tuple]:
        """(task, indicator-or-milestone-row) for every reportable row, in master order."""
        for t in self.tasks:
            for ind in t.report_rows():
                yield t, ind

    def indicator(self, indicator_id: str) -> Indicator:
        for _, ind in self.rows():
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def allocation(self, indicator_id: str, unit: str) -> Optional[float]:
        for a in self.allocations:
            if a.indicator_id == indicator_id and a.unit == unit:
                return a.share
        return None

    def led_by(self, unit: str) -> List[Task]:
        return [t for t in self.local_tasks() if unit in t.lead_units]

    def shared_by(self, unit: str) -> List[Task]:
        """Local tasks ``unit`` shares but does not lead (through a group or by name)."""
        return [t for t in self.local_tasks()
                if unit in t.responsible_units and unit not in t.lead_units]

    # --- who must report what: one rule for templates, the reader, reconcile, mail, status ---
    def is_territorial(self, unit: str) -> bool:
        """A county or functional zone (its own figures are reported and summed)."""
        u = self.registry.get(unit)
        return bool(u and u.is_territorial)

    def report_rows(self, unit: str, include_co_bureaus: bool = False
                    ) -> Tuple[List[tuple], List[tuple]]:
        """(lead rows, shared rows) ``unit`` reports: every row of the local tasks it leads, and
        every row of those it shares when it is a county/functional zone, or a bureau with
        ``include_co_bureaus``."""
        lead = [(t, ind) for t in self.led_by(unit) for ind in t.report_rows()]
        co: List[tuple] = []
        if include_co_bureaus or self.is_territorial(unit):
            co = [(t, ind) for t in self.shared_by(unit) for ind in t.report_rows()]
        return lead, co

    def reporting_units(self, include_co_bureaus: bool = False) -> List[str]:
        """Short names of the units that must report (each gets a fill-in workbook): lead units
        of local tasks and every county/functional zone sharing one (plus sharing bureaus with
        ``include_co_bureaus``), ordered by registry kind (市直部门, 县区, 功能板块, others), then
        registry order, then first appearance."""
        seen: Dict[str, int] = {}
        for t in self.local_tasks():
            for u in t.lead_units:
                seen.setdefault(u, len(seen))
            for u in t.responsible_units:
                if u not in t.lead_units and (include_co_bureaus or self.is_territorial(u)):
                    seen.setdefault(u, len(seen))
        order = {name: i for i, name in enumerate(self.registry.names())}

        def key(u):
            reg = self.registry.get(u)
            kind = UNIT_KINDS.index(reg.kind) if reg and reg.kind in UNIT_KINDS else len(UNIT_KINDS)
            return kind, order.get(reg.short if reg else u, len(order)), seen[u]
        return sorted(seen, key=key)


@dataclass
class Incoming:
    """A file that arrived, before it is read: from a folder, a zip, an .eml or an IMAP message.

    ``data`` holds the exact bytes (kept byte for byte in the archive); ``name`` is the file name
    as sent (never trusted as a path).
    """

    name: str
    data: bytes
    source_path: str  # where it was collected from: a path, "a.zip!x.xlsx", "imap:<msgid>/x.xlsx"
    sender: Optional[str] = None
    message_id: Optional[str] = None
    mail_date: Optional[str] = None  # ISO 8601
    received_at: Optional[str] = None  # ISO 8601: the mail's date or --received; None if unknown
    file_time: Optional[str] = None  # ISO 8601: the file's own time (mtime, zip member), not a receipt
