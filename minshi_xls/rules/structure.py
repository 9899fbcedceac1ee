"""The table's structure: template-modified (locked content changed), missing-row, unknown-row.

Rows are matched by 指标编号, never by position, so inserted, deleted and re-ordered rows are
fine as long as every expected id is there once. The expected rows are the ones the template was
generated with (the ``_meta`` row table), else what the master says the unit reports.
"""
from __future__ import annotations

from typing import Dict, Iterator, Optional, Tuple

from minshi_xls import columns as C
from minshi_xls import numbers as N
from minshi_xls.issues import Issue
from minshi_xls.reader import CO, LEAD
from minshi_xls.rules import COLUMNS, KIND_OF_SHEET, SHEET_OF_KIND


def expected_rows(ctx) -> Optional[Dict[str, Tuple[str, Optional[str]]]]:
    """indicator_id -> (table kind, _meta fingerprint or None); None when nothing is known."""
    meta = ctx.meta_rows()
    if meta:
        return {i: (KIND_OF_SHEET.get(r[0], LEAD), r[3] or None) for i, r in meta.items()}
    if ctx.master and ctx.unit:
        from minshi_xls.templates import rows_for
        include = bool((ctx.config or {}).get("templates", {}).get("include_co_bureaus", False))
        got = rows_for(ctx.master, ctx.unit, include)
        out = {ind.id: (LEAD, None) for _, ind in got.lead}
        out.update({ind.id: (CO, None) for _, ind in got.co})
        return out
    return None


def rows(ctx) -> Iterator[Issue]:
    expected = expected_rows(ctx)
    if expected is None:
        return
    seen = set()
    for row in ctx.rows():
        want = expected.get(row.id)
        if want is None or want[0] != row.kind or (row.kind, row.id) in seen:
            yield ctx.issue("unknown-row", row, "indicator_id", value=row.id)
            continue
        seen.add((row.kind, row.id))
    sheets = {t["kind"]: t["sheet"] for t in ctx.workbook.get("tables", [])}
    for ind_id, (kind, _) in expected.items():
        if (kind, ind_id) not in seen:
            yield ctx.issue("missing-row", sheet=sheets.get(kind, SHEET_OF_KIND[kind]),
                            indicator_id=ind_id)


def _same(read, want: tuple) -> bool:
    """``want`` is (raw, normalised text, number) of the expected value."""
    raw, text, number = want
    if read == raw:
        return True
    if C._norm(read) == text:
        return True
    if number is not None:
        p = N.parse(read)
        return p.kind == N.OK and abs(p.number - number) < 1e-9
    return False


def _expected(ctx, row, keys) -> Optional[Dict[str, tuple]]:
    """The master's locked values of this row, prepared for comparison (memoised per run: the
    same rows come back in every version a unit sends)."""
    found = ctx.indicator(row)
    if not found:
        return None
    memo = ctx.memo.setdefault("expected", {})
    key = (row.kind, ctx.unit, row.id, keys)
    if key not in memo:
        from minshi_xls.templates import co_values, lead_values
        task, ind = found
        values = lead_values(task, ind, {}) if row.kind == LEAD else co_values(
            ctx.master, ctx.unit, task, ind)
        prepared = {}
        for k in keys:
            v = values.get(k)
            p = N.parse(v)
            prepared[k] = (v, C._norm(v), p.number if p.kind == N.OK else None)
        memo[key] = prepared
    return memo[key]


_LOCKED_KEYS = {(kind, plan): tuple(c.key for c in C.locked_columns(cols)) + (
    tuple(c.key for c in C.plan_columns(cols)) if plan else ())
    for kind, cols in COLUMNS.items() for plan in (False, True)}


def _fingerprint(ctx, row, cols, keys, plan_locked: bool) -> str:
    """:func:`columns.row_fingerprint` of the row's locked cells, memoised per run by their
    values: every version a unit sends repeats the same locked rows. A bool is never looked
    up (True == 1 as a key, but "True" != "1" in the fingerprint)."""
    cells = row.cells
    values = tuple(cells[k][0] if k in cells else None for k in keys)
    if any(type(v) is bool for v in values):
        return C.row_fingerprint(cols, dict(zip(keys, values)), plan_locked)
    memo = ctx.memo.setdefault("fingerprints", {})
    key = (row.kind, plan_locked, values)
    got = memo.get(key)
    if got is None:
        got = memo[key] = C.row_fingerprint(cols, dict(zip(keys, values)), plan_locked)
    return got


def template_modified(ctx) -> Iterator[Issue]:
    """Locked cells changed by the unit. A row whose locked content still has the ``_meta``
    fingerprint is as it was sent, whatever the master says now (an office correcting a task
    text mid-month must not reject every return); otherwise the master locates the changed
    cells, and without it the row is reported at its 指标编号."""
    meta = ctx.meta_rows()
    for row in ctx.rows():
        cols = COLUMNS[row.kind]
        plan_locked = not ctx.plan_is_input(row) if row.kind == LEAD else False
        keys = _LOCKED_KEYS[row.kind, plan_locked]
        m = meta.get(row.id)
        fingerprint = m[3] if m is not None and len(m) > 3 else ""
        if fingerprint and _fingerprint(ctx, row, cols, keys, plan_locked) == fingerprint:
            continue
        expected = _expected(ctx, row, keys)
        changed = [k for k in keys if expected is not None and row.ref(k)
                   and not _same(row.value(k), expected[k])]
        for key in changed:
            yield ctx.issue("template-modified", row, key,
                            expected=N.raw_text(expected[key][0]) or "（空）")
        if not changed and fingerprint and (expected is None or ctx.master is None):
            yield ctx.issue("template-modified", row, "indicator_id",
                            expected="下发时的内容", value=f"第 {row.row} 行的锁定内容")
