"""Text cells: missing-text (a figure with no word on the work behind it), unknown-status (a
推进状态 outside the template's list), text-too-long (over ``[rules] text_max_length``, the
limit the template's own validation uses)."""
from __future__ import annotations

from typing import Iterator

from minshi_xls import columns as C
from minshi_xls import numbers as N
from minshi_xls.issues import Issue
from minshi_xls.reader import LEAD
from minshi_xls.rules import COLUMNS


def missing_text(ctx) -> Iterator[Issue]:
    for row in ctx.rows():
        if row.ref("progress") is None or row.text("progress"):
            continue
        p = ctx.number(row, "cumulative") if row.ref("cumulative") else N.Parsed(N.EMPTY)
        if p.kind != N.EMPTY:
            yield ctx.issue("missing-text", row, "progress")


_TEXT_KEYS = {kind: tuple(c.key for c in cols if c.text) for kind, cols in COLUMNS.items()}


def status_and_length(ctx) -> Iterator[Issue]:
    """unknown-status and text-too-long, in one pass over the rows."""
    from minshi_xls.settings import text_max_length
    limit = text_max_length(ctx.config)
    choices = None
    for row in ctx.rows():
        cells = row.cells
        if row.kind == LEAD:
            status = row.text("status")
            if status and status not in C.STATUS_CHOICES:
                choices = choices or "、".join(C.STATUS_CHOICES)
                yield ctx.issue("unknown-status", row, "status", detail=choices)
        for key in _TEXT_KEYS[row.kind]:
            v = cells[key][0] if key in cells else None
            if type(v) is str and len(v) > limit and len(v.strip()) > limit:
                yield ctx.issue("text-too-long", row, key, value=v[:20] + "……",
                                found=len(v.strip()), detail=limit)
