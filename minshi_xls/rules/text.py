"""missing-text: a figure with no word on the work behind it (进展情况 / 配合工作情况)."""
from __future__ import annotations

from typing import Iterator

from minshi_xls import numbers as N
from minshi_xls.issues import Issue


def missing_text(ctx) -> Iterator[Issue]:
    for row in ctx.rows():
        if row.ref("progress") is None or row.text("progress"):
            continue
        p = ctx.number(row, "cumulative") if row.ref("cumulative") else N.Parsed(N.EMPTY)
        if p.kind != N.EMPTY:
            yield ctx.issue("missing-text", row, "progress")
