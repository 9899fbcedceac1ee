"""plan-not-monotonic: quarter-end plans are cumulative, so each is at least the one before."""
from __future__ import annotations

from typing import Iterator

from minshi_xls import numbers as N
from minshi_xls.issues import Issue
from minshi_xls.reader import LEAD
from minshi_xls.rules.values import PLAN_KEYS


def not_monotonic(ctx) -> Iterator[Issue]:
    for row in ctx.rows(LEAD):
        if not ctx.plan_is_input(row):
            continue  # a locked plan comes from the master (checked by template-modified)
        before = None
        for key in PLAN_KEYS:
            if not row.ref(key):
                continue
            p = ctx.number(row, key)
            if p.kind not in (N.OK, N.COERCED) or p.number < 0:
                continue
            if before is not None and p.number < before:
                yield ctx.issue("plan-not-monotonic", row, key,
                                expected=N.format_number(before))
                break  # the first offending cell; the rest follow from it
            before = p.number
