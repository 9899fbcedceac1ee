"""The table's structure: which table counts (extra-table, ambiguous-table), its columns
(missing-column, ambiguous-column), template-modified (locked content changed), missing-row,
unknown-row, duplicate-row.

Rows are matched by 指标编号, never by position, so inserted, deleted and re-ordered rows are
fine as long as every expected id is there once. The expected rows are the ones the template was
generated with (the ``_meta`` row table), else what the master says the unit reports.
"""
from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Tuple

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


def _typed(ctx, row) -> tuple:
    return tuple(N.raw_text(row.value(c.key)) for c in COLUMNS[row.kind]
                 if c.kind in (C.INPUT, C.PLAN))


def rows(ctx) -> Iterator[Issue]:
    """unknown-row, missing-row; duplicate-row: the same id twice in the table read. Two
    copies with the same figures: a warning on the second (the first is read); different
    figures: an error on both (neither is read: which one is meant cannot be told)."""
    expected = expected_rows(ctx)
    first: Dict[tuple, object] = {}
    for row in ctx.rows():
        if (row.kind, row.id) in first:
            other = first[(row.kind, row.id)]
            if _typed(ctx, other) == _typed(ctx, row):
                yield ctx.issue("duplicate-row", row, "indicator_id", value=row.id,
                                severity="warning", found=other.row,
                                detail="两行填写的内容相同，已按第一行读取。请删除重复的行。")
            else:
                for a, b in ((other, row), (row, other)):
                    yield ctx.issue("duplicate-row", a, "indicator_id", value=a.id, found=b.row,
                                    detail="两行填写的内容不同，无法确定以哪一行为准，均未采用。请删除多余的行后重新报送。")
            continue
        first[(row.kind, row.id)] = row
        if expected is None:
            continue
        want = expected.get(row.id)
        if want is None or want[0] != row.kind:
            yield ctx.issue("unknown-row", row, "indicator_id", value=row.id)
    if expected is None:
        return
    seen = set(first)
    sheets = {t["kind"]: t["sheet"] for t in ctx.tables()}
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


# --- which table, which columns ---------------------------------------------------------------

def _score(ctx, table: dict) -> tuple:
    """How surely a table is the one the template made: its sheet is where ``_meta`` (else the
    template) put these rows, how many rows keep their ``_meta`` fingerprint, how many sit at
    their ``_meta`` row, a visible sheet."""
    meta = ctx.meta_rows()
    kind = table["kind"]
    cols = COLUMNS[kind]
    names = {meta[r["id"]][0] for r in table["rows"] if r["id"] in meta}
    home = table["sheet"] in names if names else table["sheet"] == SHEET_OF_KIND[kind]
    prints = places = 0
    for r in table["rows"]:
        m = meta.get(r["id"])
        if m is None:
            continue
        places += str(r["row"]) == m[2]
        if len(m) > 3 and m[3]:
            plan_locked = kind == LEAD and len(m) > 4 and m[4] == "1"
            keys = _LOCKED_KEYS[kind, plan_locked]
            values = {k: r["cells"][k][0] for k in keys if k in r["cells"]}
            prints += C.row_fingerprint(cols, values, plan_locked) == m[3]
    return (home, prints, places, not table.get("hidden"))


def choose_tables(ctx) -> Tuple[List[dict], List[Issue]]:
    """The tables to read, and an issue for each table left out. Tables of one kind whose ids
    do not overlap are all read (a table split over two sheets); of overlapping ones the one
    the template made is read and the other named (extra-table); when nothing tells them
    apart, both are named (ambiguous-table, which rejects the file). Never "the first sheet"."""
    tables = [t for t in ctx.workbook.get("tables", []) if t["rows"]]
    if len(tables) < 2:
        return tables, []
    ranked = sorted(enumerate(tables), key=lambda it: (_score(ctx, it[1]), -it[0]),
                    reverse=True)
    chosen: List[Tuple[int, dict, tuple]] = []
    issues: List[Issue] = []
    for pos, t in ranked:
        ids = {r["id"] for r in t["rows"]}
        score = _score(ctx, t)
        clash = next((c for c in chosen if c[1]["kind"] == t["kind"] and
                      ids & {r["id"] for r in c[1]["rows"]}), None)
        if clash is None:
            chosen.append((pos, t, score))
            continue
        both = sorted(ids & {r["id"] for r in clash[1]["rows"]})
        detail = "、".join(both[:3]) + (f" 等 {len(both)} 个" if len(both) > 3 else "")
        code = "ambiguous-table" if score == clash[2] else "extra-table"
        cell = t["columns"].get("indicator_id")
        issues.append(ctx.issue(code, sheet=t["sheet"],
                                cell=f"{cell}{t['header_row']}" if cell else None,
                                found=t["sheet"], expected=clash[1]["sheet"], detail=detail))
    return [t for _, t, _ in sorted(chosen, key=lambda c: c[0])], issues


def tables(ctx) -> Iterator[Issue]:
    ctx.tables()
    yield from ctx.__dict__.get("_table_issues", [])


def _required(ctx, table: dict, col: C.Column) -> bool:
    if col.key == "cumulative" and table["kind"] == CO:
        return ctx.co_numbers()
    return col.required


def columns(ctx) -> Iterator[Issue]:
    """Every input column of each table read, found (by the reader: ``_meta``'s column map,
    then by meaning): a required one missing or doubled is an error at the header row, which
    rejects the file (its rows would otherwise be "accepted" with no figures); another input
    column missing is a warning (its text is lost, not a figure)."""
    meta = ctx.workbook.get("meta") or {}
    for t in ctx.tables():
        mapped = C.parse_column_map(meta.get(f"columns_{t['kind']}"))
        hr = t["header_row"]
        id_col = t["columns"].get("indicator_id", "A")
        for col in COLUMNS[t["kind"]]:
            if col.kind not in (C.INPUT,) or col.key in t["columns"]:
                continue
            severity = None if _required(ctx, t, col) else "warning"
            amb = t.get("ambiguous", {}).get(col.key)
            if amb:
                yield ctx.issue("ambiguous-column", sheet=t["sheet"], cell=f"{amb[0]}{hr}",
                                field=col.header, detail="、".join(f"{c}{hr}" for c in amb),
                                severity=severity)
                continue
            where = C.col_letter(mapped[col.key]) if col.key in mapped else id_col
            yield ctx.issue("missing-column", sheet=t["sheet"], cell=f"{where}{hr}",
                            field=col.header, found=hr, severity=severity)
