"""Each rule on its own, on rows shaped like the reader's output, asserting (sheet, cell, code).

The rows are the bundled notice's real indicators (省-1#1 新增6家普惠托育机构: target 6 家;
省-12#1 2.28 万名 HPV 疫苗) as the 牵头任务 sheet of 市卫健委 holds them.
"""
from __future__ import annotations

import pytest

from minshi_xls import columns as C
from minshi_xls import numbers as N
from minshi_xls import rules as R
from minshi_xls.rules import identity, plan, structure, targets, text, values
from test_collect_support import master

LEAD = C.SHEET_LEAD
COLS = {c.key: chr(65 + i) for i, c in enumerate(C.LEAD_COLUMNS)}


def row(n, ind_id, **typed):
    ind = master().indicator(ind_id)
    base = {"task_id": ind.task_id, "indicator_id": ind.id, "task_text": master().task(
        ind.task_id).text, "indicator": ind.name, "target": ind.target_number, "unit": ind.unit}
    base.update(typed)
    return {"row": n, "id": ind_id,
            "cells": {k: (base.get(k, ""), f"{COLS[k]}{n}") for k in COLS}}


def ctx(*rows, with_master=True, **kw):
    wb = {"tables": [{"sheet": LEAD, "kind": "lead", "rows": list(rows), "columns": COLS,
                      "header_row": C.HEADER_ROW}],
          "meta_rows": [], "formula_cells": kw.pop("formula_cells", {})}
    return R.Context(wb, unit="市卫健委", period="2024-06", master=master() if with_master else None,
                     config={}, **kw)


def found(issues):
    return [(i.sheet, i.cell, i.code) for i in issues]


@pytest.mark.parametrize("typed,unit,kind,number", [
    (12, "家", N.OK, 12), ("12", "家", N.OK, 12), ("１２", "家", N.OK, 12),
    ("1,200", "家", N.OK, 1200), (" 12.0 ", "家", N.OK, 12), ("１，２００．５", "元", N.OK, 1200.5),
    ("3家", "家", N.COERCED, 3), ("2.5 万名", "万名", N.COERCED, 2.5),
    ("约5", "家", N.NAN, None), ("三", "家", N.NAN, None), ("5个", "家", N.NAN, None),
    ("5-6", "家", N.NAN, None), (True, "家", N.NAN, None), ("", "家", N.EMPTY, None),
    ("1,20", "家", N.NAN, None)])
def test_numbers(typed, unit, kind, number):
    p = N.parse(typed, unit)
    assert (p.kind, p.number) == (kind, number)


def test_value_rules_locate_each_cell():
    c = ctx(row(5, "省-1#1", cumulative="3家"), row(6, "省-12#1", cumulative="约5"),
            row(7, "省-13#1", cumulative=-1), row(8, "省-14#1", cumulative=""),
            row(9, "省-21#1", cumulative=""), formula_cells={LEAD: ["L9"]})
    assert found(values.check(c)) == [(LEAD, "L5", "coerced-number"), (LEAD, "L6", "not-a-number"),
                                      (LEAD, "L7", "negative-value"), (LEAD, "L8", "missing-value"),
                                      (LEAD, "L9", "formula-no-value")]
    msg = list(values.check(c))[1].message
    assert "万名" in msg and "约5" in msg


def test_exceeds_target_is_configurable():
    c = ctx(row(5, "省-1#1", cumulative=61), row(6, "省-12#1", cumulative=22))
    assert found(targets.exceeds_target(c)) == [(LEAD, "L5", "exceeds-target")]
    c.config = {"rules": {"exceeds_target_multiple": 20}}
    assert found(targets.exceeds_target(c)) == []


def test_cumulative_decreased_against_previous_and_prefill():
    c = ctx(row(5, "省-1#1", cumulative=2), row(6, "省-12#1", cumulative=1, previous=1.5),
            previous={"省-1#1": 3})
    assert found(targets.cumulative_decreased(c)) == [(LEAD, "L5", "cumulative-decreased"),
                                                      (LEAD, "L6", "cumulative-decreased")]


def test_status_inconsistent_at_the_status_cell():
    c = ctx(row(5, "省-1#1", cumulative=3, status="已完成"),
            row(6, "省-12#1", cumulative=2.28, status="序时推进"),
            row(7, "省-13#1", cumulative=2, status="未启动"),
            row(8, "省-14#1", cumulative=1, status="序时推进"))
    assert found(targets.status_inconsistent(c)) == [(LEAD, "N5", "status-inconsistent"),
                                                     (LEAD, "N6", "status-inconsistent"),
                                                     (LEAD, "N7", "status-inconsistent")]


def test_missing_text_and_plan_not_monotonic():
    c = ctx(row(5, "省-1#1", cumulative=3, progress=""),
            row(6, "省-12#1", cumulative=1, progress="推进中", plan_q1=1, plan_q2=0.5, plan_q3=0.2))
    assert found(text.missing_text(c)) == [(LEAD, "O5", "missing-text")]
    assert found(plan.not_monotonic(c)) == [(LEAD, "H6", "plan-not-monotonic")]


def test_structure_missing_unknown_and_modified():
    c = ctx(row(5, "省-1#1", cumulative=3, target=60), row(6, "省-13#1", cumulative=1))
    c.workbook["tables"][0]["rows"][1]["id"] = "省-99#9"  # an id typed over
    c.workbook["tables"][0]["rows"][1]["cells"]["indicator_id"] = ("省-99#9", "B6")
    got = found(structure.rows(c))
    assert (LEAD, "B6", "unknown-row") in got
    assert sum(code == "missing-row" for _, _, code in got) == 16  # 市卫健委 leads 17 rows
    assert found(structure.template_modified(c)) == [(LEAD, "E5", "template-modified")]


def test_fingerprint_without_master():
    r = row(5, "省-1#1", cumulative=3)
    vals = {k: v for k, (v, _) in r["cells"].items()}
    fp = C.row_fingerprint(C.LEAD_COLUMNS, vals, False)
    c = ctx(r, with_master=False)
    c.workbook["meta_rows"] = [(LEAD, "省-1#1", "5", fp, "0")]
    assert found(structure.template_modified(c)) == []
    r["cells"]["task_text"] = ("新增60家普惠托育机构", "C5")
    assert found(structure.template_modified(c)) == [(LEAD, "B5", "template-modified")]


def test_explained_warning_keeps_severity_and_says_so():
    c = ctx(row(5, "省-1#1", cumulative=61, status="已完成", progress="x", note="含托位数"))
    got = [i for i in R.run(c) if i.code == "exceeds-target"]
    assert got and got[0].severity == "warning" and got[0].message.endswith("（已说明：含托位数）")


def test_identity_fallback_and_late():
    wb = {"meta": None, "tables": [{"rows": []}], "labels": {"unit": ("连云港市卫生健康委员会", "x", "B2")}}
    ident = identity.identify(wb, "六月报表.xlsx", master())
    # the unit cell names the unit, but without _meta or a dated file name the month is unknown
    assert (ident.unit, ident.period) == ("市卫健委", None)
    assert [code for code, _ in ident.findings] == ["unidentified-return"]
    ident = identity.identify(wb, "2024-06_随便_民生实事填报表.xlsx", master())
    assert (ident.unit, ident.period) == ("市卫健委", "2024-06")
    assert [code for code, _ in ident.findings] == ["meta-missing"]
    ident.deadline = "2024-07-05"
    assert identity.late(ident, "2024-07-05T23:00:00+08:00") is None
    assert identity.late(ident, "2024-07-05T16:30:00+00:00")  # 00:30 on the 6th in China


def test_county_share_is_the_target_on_the_co_sheet():
    co_cols = {c.key: chr(65 + i) for i, c in enumerate(C.CO_COLUMNS)}
    ind = master().indicator("省-1#1")  # 6 家 city-wide
    cells = {k: ("", f"{co_cols[k]}7") for k in co_cols}
    cells.update(indicator_id=("省-1#1", "B7"), unit_target=(1, "F7"), cumulative=(12, "H7"),
                 unit=(ind.unit, "G7"))
    wb = {"tables": [{"sheet": C.SHEET_CO, "kind": "co", "rows": [
        {"row": 7, "id": "省-1#1", "cells": cells}]}], "meta_rows": [], "formula_cells": {}}
    c = R.Context(wb, unit="东海县", period="2024-06", master=master(), config={})
    assert found(targets.exceeds_target(c)) == [(C.SHEET_CO, "H7", "exceeds-target")]
    assert found(values.check(c)) == []  # a county's share is a number it types
