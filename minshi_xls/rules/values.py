"""Number cells: not-a-number, coerced-number, negative-value, missing-value, formula-no-value,
out-of-range (形象进度 over 100); blank-return (no figure in the whole return).

Only input cells are checked (本月累计完成, the quarterly plan while it is an input, and
本单位累计完成 for counties); the template's own formula column is never read.
"""
from __future__ import annotations

from typing import Iterator, List

from minshi_xls import numbers as N
from minshi_xls.model import MILESTONE_NAME, MILESTONE_UNIT
from minshi_xls.rules import header
from minshi_xls.issues import Issue
from minshi_xls.reader import CO, LEAD

PLAN_KEYS = ("plan_q1", "plan_q2", "plan_q3", "plan_q4")


def input_number_keys(ctx, row) -> List[str]:
    """Number cells the unit types in this row."""
    keys = []
    if row.kind == LEAD:
        keys.append("cumulative")
        if ctx.plan_is_input(row):
            keys.extend(PLAN_KEYS)
    elif row.kind == CO and (ctx.co_numbers() or N.raw_text(row.value("cumulative"))):
        keys.append("cumulative")
    return [k for k in keys if row.ref(k)]


def required(ctx, row, key) -> bool:
    return key == "cumulative" and (row.kind == LEAD or ctx.co_numbers())


def check(ctx) -> Iterator[Issue]:
    for row in ctx.rows():
        for key in input_number_keys(ctx, row):
            p = ctx.number(row, key)
            if p.kind == N.EMPTY:
                if ctx.is_formula(row, key):
                    yield ctx.issue("formula-no-value", row, key, value="无计算结果")
                elif required(ctx, row, key):
                    yield ctx.issue("missing-value", row, key)
            elif p.kind == N.NAN:
                yield ctx.issue("not-a-number", row, key, measure=ctx.row_unit(row))
            elif p.number < 0:
                yield ctx.issue("negative-value", row, key)
            elif p.kind == N.COERCED:
                yield ctx.issue("coerced-number", row, key, number=N.format_number(p.number))
            if p.number is not None and p.number > 100 and is_milestone(ctx, row):
                # 形象进度 is 0-100 (a cell shown as 85% already reads 85: ctx.number); other
                # "%" indicators (a rate) are left to exceeds-target
                yield ctx.issue("out-of-range", row, key, value=N.format_number(p.number))



def is_milestone(ctx, row) -> bool:
    """A 形象进度 row (0-100), by the master, else by the row's own 指标 cell."""
    if ctx.master:
        memo = ctx.memo
        if "milestones" not in memo:
            memo["milestones"] = {ind.id for _, ind in ctx.master.rows() if ind.is_milestone}
        if ctx.indicator(row):
            return row.id in memo["milestones"]
    return row.text("indicator") == MILESTONE_NAME and ctx.row_unit(row) == MILESTONE_UNIT


def blank(ctx) -> Iterator[Issue]:
    """blank-return: not one required figure in the whole return (a blank template sent back,
    our own workbook forwarded, a bounce); for a unit that reports text only, not one text.
    Not raised when a required column is missing (missing-column says why)."""
    rows = ctx.rows()
    if not rows:
        if ctx.workbook.get("tables") or ctx.meta_rows():
            yield ctx.issue("blank-return", field="指标行", detail="找不到任何指标行",
                            severity=None)
        return
    figures = [r for r in rows if required(ctx, r, "cumulative")]
    if any(r.ref("cumulative") is None for r in figures):
        return
    if figures:
        if any(N.raw_text(r.value("cumulative")) not in (None, "") and
               r.text("cumulative") != "" for r in figures) or \
                any(ctx.is_formula(r, "cumulative") for r in figures):
            return
        field = header(figures[0].kind, "cumulative")
        yield ctx.issue("blank-return", field=f"“{field}”",
                        detail=f"{len(figures)} 行均未填写")
        return
    if any(r.text(k) for r in rows for k in ("progress", "problems", "note")):
        return
    yield ctx.issue("blank-return", field="工作情况", detail=f"{len(rows)} 行均未填写")
