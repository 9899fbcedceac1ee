"""Figures against the target and last month: exceeds-target, cumulative-decreased,
status-inconsistent. All are warnings: the value is accepted, the unit is asked to check."""
from __future__ import annotations

from typing import Iterator

from minshi_xls import numbers as N
from minshi_xls.issues import Issue
from minshi_xls.progress import reached, tolerance_from
from minshi_xls.reader import CO, LEAD


def _cumulative(ctx, row):
    if row.kind == CO and not (ctx.co_numbers() or N.raw_text(row.value("cumulative"))):
        return None
    p = ctx.number(row, "cumulative")
    if p.kind in (N.OK, N.COERCED) and p.number >= 0:
        return p.number
    return None


def exceeds_target(ctx) -> Iterator[Issue]:
    """Over ``rules.exceeds_target_multiple`` x the target: usually 元 typed for 万元."""
    multiple = float(ctx.rule_setting("exceeds_target_multiple"))
    for row in ctx.rows():
        v = _cumulative(ctx, row)
        target = ctx.target(row)
        if v is None or not target or target <= 0:
            continue
        if v > multiple * target:
            yield ctx.issue("exceeds-target", row, "cumulative", target=N.format_number(target),
                            measure=ctx.row_unit(row), detail=N.format_number(multiple))


def cumulative_decreased(ctx) -> Iterator[Issue]:
    """Below the previous period's accepted figure (the ledger's; else the 上月累计 cell)."""
    for row in ctx.rows():
        v = _cumulative(ctx, row)
        if v is None:
            continue
        before = ctx.previous.get(row.id)
        if before is None and row.kind == LEAD:
            p = N.parse(row.value("previous"))
            before = p.number if p.kind == N.OK else None
        if before is not None and v < before:
            yield ctx.issue("cumulative-decreased", row, "cumulative",
                            expected=N.format_number(before))


def _reached(ctx, row, v: float, target: float) -> bool:
    found = ctx.indicator(row)
    qualifier = found[1].qualifier if found else "="
    return reached(v, target, qualifier, tolerance_from(ctx.config))


def status_inconsistent(ctx) -> Iterator[Issue]:
    """已完成 below the target, the target reached and not 已完成, 未启动 with progress."""
    for row in ctx.rows(LEAD):
        status = row.text("status")
        v = _cumulative(ctx, row)
        target = ctx.target(row)
        if not status or v is None:
            continue
        detail = None
        if target and target > 0:
            done = _reached(ctx, row, v, target)
            if status == "已完成" and not done:
                detail = f"低于年度目标 {N.format_number(target)}"
            elif done and status != "已完成":
                detail = f"已达到年度目标 {N.format_number(target)}"
        if detail is None and status == "未启动" and v > 0:
            detail = "大于 0"
        if detail:
            yield ctx.issue("status-inconsistent", row, "status", value=status,
                            number=N.format_number(v), detail=detail)
