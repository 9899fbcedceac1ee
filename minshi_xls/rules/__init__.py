"""Validation rules for a returned workbook: each module yields located issues, none raises.

A rule is a function ``check(ctx) -> Iterator[Issue]``; :func:`run` applies them all to one
return and then marks warnings the unit already explained in 备注（说明）. Every issue carries
the sheet name as it is in the returned file and the A1 cell of the offending cell (file-level
issues have none), which is what reports, reminders and the annotated copy are built from.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from minshi_xls import columns as C
from minshi_xls import issues as I
from minshi_xls import numbers as N
from minshi_xls.model import Master
from minshi_xls.reader import CO, LEAD

#: Codes that reject a whole file (no value of it is accepted).
FILE_LEVEL_ERRORS = ("file-unreadable", "file-encrypted", "file-too-large",
                     "unidentified-return", "wrong-period", "template-modified",
                     "identity-conflict", "blank-return", "missing-column", "ambiguous-column",
                     "ambiguous-table")

COLUMNS = {LEAD: C.LEAD_COLUMNS, CO: C.CO_COLUMNS}
KIND_OF_SHEET = {C.SHEET_LEAD: LEAD, C.SHEET_CO: CO}
SHEET_OF_KIND = {v: k for k, v in KIND_OF_SHEET.items()}
EXPLAINED = "（已说明：{note}）"


@dataclass
class Row:
    """One table row of a return: its 指标编号 and every known cell as (value, A1)."""

    sheet: str
    kind: str  # lead | co
    row: int
    id: str
    cells: Dict[str, tuple]
    #: column key -> parsed number (Context.number's memo: the rules ask ~250 times a return)
    numbers: Dict[str, N.Parsed] = field(default_factory=dict, repr=False, compare=False)

    def value(self, key):
        return self.cells.get(key, (None, None))[0]

    def ref(self, key) -> Optional[str]:
        return self.cells.get(key, (None, None))[1]

    def text(self, key) -> str:
        v = self.value(key)
        return "" if v is None else str(v).strip()


@dataclass
class Context:
    """Everything a rule may look at for one return."""

    workbook: dict  # reader.read_workbook() output
    unit: Optional[str] = None
    period: Optional[str] = None  # the period the return is for (from _meta or fallback)
    run_period: Optional[str] = None  # the period being collected (None for ``check``)
    file: Optional[str] = None
    master: Optional[Master] = None
    config: dict = field(default_factory=dict)
    #: indicator_id -> previous period's accepted cumulative (from the ledger)
    previous: Dict[str, float] = field(default_factory=dict)
    received_at: Optional[str] = None
    sender: Optional[str] = None
    source_path: Optional[str] = None

    @property
    def memo(self) -> dict:
        """Per-master memo shared by every return of a run (rules cache derived values here)."""
        return _memo(self.master) if self.master else self.__dict__.setdefault("_memo", {})

    # --- the table ---------------------------------------------------------------------------
    def tables(self) -> List[dict]:
        """The tables read: per 指标编号 only the one the template made (see
        :func:`structure.choose_tables`; the others are extra-table / ambiguous-table)."""
        if "_tables" not in self.__dict__:
            from minshi_xls.rules.structure import choose_tables
            self.__dict__["_tables"], self.__dict__["_table_issues"] = choose_tables(self)
        return self.__dict__["_tables"]

    def rows(self, kind: Optional[str] = None) -> List[Row]:
        if "_rows" not in self.__dict__:
            self.__dict__["_rows"] = [Row(t["sheet"], t["kind"], r["row"], r["id"], r["cells"])
                                      for t in self.tables() for r in t["rows"]]
        rows = self.__dict__["_rows"]
        return rows if kind is None else [r for r in rows if r.kind == kind]

    def indicator(self, row: Row):
        """(task, indicator) of the master for this row, or None."""
        if not self.master:
            return None
        idx = self.__dict__.get("_index")
        if idx is None:
            idx = self.__dict__["_index"] = _index(self.master)
        return idx.get(row.id)

    def row_unit(self, row: Row) -> str:
        """计量单位 of the row: the master's, else what the workbook says."""
        found = self.indicator(row)
        return found[1].unit if found else row.text("unit")

    def target(self, row: Row) -> Optional[float]:
        """The row's annual target in the notice's unit (a county's allocation on 配合任务)."""
        found = self.indicator(row)
        if row.kind == CO:
            share = self.master.allocation(row.id, self.unit) if self.master else None
            if share is None:
                share = N.parse(row.value("unit_target")).number
            if share is not None:
                return share
        if found:
            return found[1].target_number
        return N.parse(row.value("target")).number

    def number(self, row: Row, key: str) -> N.Parsed:
        """The cell's number; a cell shown as a percentage (0.85 formatted "85%") in a "%" row
        is the 85 the clerk sees."""
        got = row.numbers.get(key)
        if got is None:
            value, ref = row.cells.get(key, (None, None))
            got = N.parse(value, self.row_unit(row))
            pct = self.workbook.get("percent_cells")
            if pct and got.number is not None and ref in pct.get(row.sheet, ()):
                got = N.Parsed(got.kind, round(got.number * 100, 9))
            row.numbers[key] = got
        return got

    def is_formula(self, row: Row, key: str) -> bool:
        return row.ref(key) in self.workbook.get("formula_cells", {}).get(row.sheet, ())

    def meta_rows(self) -> Dict[str, tuple]:
        """indicator_id -> _meta row (sheet, id, row, fingerprint, plan_locked)."""
        if "_meta_rows" not in self.__dict__:
            self.__dict__["_meta_rows"] = {r[1]: r for r in self.workbook.get("meta_rows") or []
                                           if r[1]}
        return self.__dict__["_meta_rows"]

    def plan_is_input(self, row: Row) -> bool:
        meta = self.meta_rows().get(row.id)
        if meta is not None and len(meta) > 4 and meta[4] in ("0", "1"):
            return meta[4] == "0"
        found = self.indicator(row)
        if found:
            return not any(p is not None for p in (found[1].plan or []))
        return True

    def co_numbers(self) -> bool:
        """Whether 本单位累计完成 is an input for this unit (counties and functional zones)."""
        if "_co_numbers" not in self.__dict__:
            u = registry_get(self.master, self.unit) if self.master and self.unit else None
            if u is not None:
                self.__dict__["_co_numbers"] = u.is_territorial
            else:  # without the registry: what the template was made with
                self.__dict__["_co_numbers"] = (self.workbook.get("meta") or {}).get(
                    "co_numbers") == "1"
        return self.__dict__["_co_numbers"]

    def rule_setting(self, key: str):
        from minshi_xls import settings
        return (self.config or {}).get("rules", {}).get(key, settings.DEFAULTS["rules"][key])

    # --- issues ------------------------------------------------------------------------------
    def issue(self, code: str, row: Optional[Row] = None, key: Optional[str] = None,
              **kw) -> I.Issue:
        if row is not None:
            kw.setdefault("sheet", row.sheet)
            kw.setdefault("indicator_id", row.id)
            if key:
                kw.setdefault("cell", row.ref(key))
                kw.setdefault("field", header(row.kind, key))
                kw.setdefault("value", N.raw_text(row.value(key)))
        kw.setdefault("unit", self.unit)
        kw.setdefault("period", self.period or self.run_period)
        kw.setdefault("file", self.file)
        return I.make(code, **kw)


_LAST: list = [None, {}]  # [weakref to the last master, its memo]


def _memo(master: Master) -> dict:
    """A memo tied to one master (a run checks hundreds of returns against the same one;
    Master is unhashable, so the last one seen is remembered)."""
    ref, memo = _LAST
    if ref is None or ref() is not master:
        memo = {}
        _LAST[:] = [weakref.ref(master), memo]
    return memo


def forget() -> None:
    """Drop memoised master data (at the start of a run: the master may have been edited)."""
    _LAST[:] = [None, {}]


def _index(master: Master) -> dict:
    """indicator_id -> (task, indicator)."""
    memo = _memo(master)
    if "index" not in memo:
        memo["index"] = {ind.id: (t, ind) for t, ind in master.rows()}
    return memo["index"]


def registry_get(master: Master, name: str):
    """``master.registry.get`` without rebuilding the registry's index on every call."""
    memo = _memo(master)
    if "units" not in memo:
        idx = {}
        for u in master.registry.units:
            for key in [u.short, u.name, *u.aliases]:
                if key:
                    idx.setdefault(key, u)
        memo["units"] = idx
    return memo["units"].get(name)


def header(kind: str, key: str) -> str:
    col = C.column(COLUMNS[kind], key)
    return col.header if col else key


def _rules():
    from minshi_xls.rules import plan, structure, targets, text, values
    return [structure.tables, structure.columns, structure.template_modified, structure.rows,
            values.check, values.blank, targets.exceeds_target,
            targets.cumulative_decreased, targets.status_inconsistent, text.missing_text,
            text.status_and_length, plan.not_monotonic]


def _row_of(cell: Optional[str]) -> str:
    return "".join(ch for ch in cell or "" if ch.isdigit())


def run(ctx: Context) -> List[I.Issue]:
    """All row and cell rules on one identified return, with 备注 explanations applied."""
    out: List[I.Issue] = []
    for rule in _rules():
        out.extend(rule(ctx))
    if any(i.code == "blank-return" for i in out):  # one issue, not one per empty cell
        out = [i for i in out if i.code not in ("missing-value", "missing-text")]
    # A row that is not the unit's (unknown-row) gets that one issue, not the rules' noise.
    unknown = {(i.sheet, _row_of(i.cell)) for i in out if i.code == "unknown-row"}
    if unknown:
        out = [i for i in out if i.code == "unknown-row" or not i.cell
               or (i.sheet, _row_of(i.cell)) not in unknown]
    notes = {(r.sheet, r.id): r.text("note") for r in ctx.rows()}
    for i in out:
        note = notes.get((i.sheet, i.indicator_id))
        if i.severity == I.WARNING and i.indicator_id and note:
            i.message += EXPLAINED.format(note=note[:100])
    return out
