"""Number cells: not-a-number, coerced-number, negative-value, missing-value, formula-no-value.

Only input cells are checked (本月累计完成, the quarterly plan while it is an input, and
本单位累计完成 for counties); the template's own formula column is never read.
"""
from __future__ import annotations

from typing import Iterator, List

from minshi_xls import numbers as N
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

