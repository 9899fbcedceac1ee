"""Each rule on its own, on rows shaped like the reader's output, asserting (sheet, cell, code).

The rows are the bundled notice's real indicators (省-1#1 新增6家普惠托育机构: target 6 家;
省-12#1 2.28 万名 HPV 疫苗) as the 牵头任务 sheet of 市卫健委 holds them.
"""
from __future__ import annotations

import datetime

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


# --- numbers: what the ledger keeps and how messages print it ------------------------------------

@pytest.mark.parametrize("value,text", [
    (None, None), ("", None), (True, "TRUE"), (False, "FALSE"), (12.0, "12"), (12.5, "12.5"),
    (7, "7"), ("约5", "约5"), (float("nan"), "nan"), (float("inf"), "inf"),
    (1e15, "1000000000000000.0"), (1e16, "1e+16"),  # beyond 15 digits: as Python writes it
    (datetime.date(2024, 6, 30), "2024-06-30"), (datetime.time(10, 0), "10:00:00"),
    (datetime.timedelta(days=1), "1 day, 0:00:00")])
def test_raw_text_is_what_the_cell_held(value, text):
    assert N.raw_text(value) == text


@pytest.mark.parametrize("value,text", [(None, ""), (12.0, "12"), (2.5, "2.5"), (1e15, "1e+15"),
                                        (1 / 3, "0.333333")])
def test_format_number_for_messages(value, text):
    assert N.format_number(value) == text


@pytest.mark.parametrize("typed,kind,number", [
    (float("inf"), N.NAN, None), ("9" * 400, N.NAN, None),  # overflows to infinity
    ("−5", N.OK, -5.0),  # the typographic minus sign
    ("3家", N.NAN, None),  # no unit given: no measure word can be dropped
    (datetime.date(2024, 1, 1), N.NAN, None)])
def test_numbers_without_a_unit_and_out_of_range(typed, kind, number):
    p = N.parse(typed)
    assert (p.kind, p.number) == (kind, number)


# --- rules: messages, thresholds, every row visited, the 配合任务 sheet ---------------------------

def test_messages_name_the_figures_the_unit_must_check():
    c = ctx(row(5, "省-1#1", cumulative=61), row(6, "省-12#1", cumulative="3 万名"),
            row(7, "省-13#1", cumulative=1), previous={"省-13#1": 2})
    (ex,) = targets.exceeds_target(c)
    assert "为 61，超过年度目标 6家 的 10 倍以上" in ex.message and ex.value == "61"
    (co,) = values.check(c)
    assert "填写了“3 万名”，已按 3 计入" in co.message
    (dec,) = targets.cumulative_decreased(c)
    assert "本月累计 1 小于上月累计 2" in dec.message
    c = ctx(row(5, "省-1#1", cumulative=3, status="已完成"),
            row(6, "省-12#1", cumulative=2.28, status="序时推进"),
            row(7, "省-13#1", cumulative=2, status="未启动"),
            row(8, "省-14#1", cumulative="", progress="x", plan_q1=1, plan_q2=0.5),
            formula_cells={LEAD: ["L8"]})
    st = list(targets.status_inconsistent(c))
    assert [(i.value, i.message.split("，")[1]) for i in st] == [
        ("已完成", "但本月累计 3 低于年度目标 6。请核对推进状态。"),
        ("序时推进", "但本月累计 2.28 已达到年度目标 2.28。请核对推进状态。"),
        ("未启动", "但本月累计 2 大于 0。请核对推进状态。")]
    (pl,) = plan.not_monotonic(c)
    assert "二季度末计划 为 0.5，小于上一季度的 1" in pl.message
    (fm,) = values.check(c)
    assert (fm.code, fm.value) == ("formula-no-value", "无计算结果")


def test_thresholds_are_strict_and_zero_is_a_figure():
    c = ctx(row(5, "省-1#1", cumulative=60),  # exactly 10 x the target
            row(6, "省-13#1", cumulative=2, plan_q1=1, plan_q2=1, plan_q3=1, plan_q4=2),
            row(7, "省-14#1", cumulative=0, status="未启动", progress="前期准备"),
            previous={"省-13#1": 2})  # equal to last month
    assert found(targets.exceeds_target(c)) == []
    assert found(targets.cumulative_decreased(c)) == []
    assert found(plan.not_monotonic(c)) == []  # an unchanged quarter is not a decrease
    assert found(values.check(c)) == []  # 0 is not negative
    assert found(targets.status_inconsistent(c)) == []  # 未启动 at 0
    c = ctx(row(5, "省-12#1", cumulative=0.5, status="未启动"),
            row(6, "省-13#1", cumulative="0个", plan_q1=1, plan_q2=0, plan_q3=0.5))
    assert found(targets.status_inconsistent(c)) == [(LEAD, "N5", "status-inconsistent")]
    assert found(values.check(c)) == [(LEAD, "L6", "coerced-number")]
    assert found(plan.not_monotonic(c)) == [(LEAD, "H6", "plan-not-monotonic")]  # 0 < 1


def test_a_row_a_rule_skips_does_not_stop_it_for_the_next_rows():
    meta = [(LEAD, "省-1#1", "5", "x", "1")]  # 省-1#1's plan is locked: not the unit's
    c = ctx(row(5, "省-1#1", cumulative="", plan_q1=5, plan_q2=1),
            row(6, "省-12#1", cumulative=30, progress="x", plan_q2=2, plan_q3=1),
            row(7, "省-13#1", cumulative=1, progress=""),
            previous={"省-13#1": 2})
    c.workbook["meta_rows"] = meta
    assert found(targets.exceeds_target(c)) == [(LEAD, "L6", "exceeds-target")]
    assert found(targets.cumulative_decreased(c)) == [(LEAD, "L7", "cumulative-decreased")]
    assert found(plan.not_monotonic(c)) == [(LEAD, "I6", "plan-not-monotonic")]
    assert found(text.missing_text(c)) == [(LEAD, "O7", "missing-text")]
    c = ctx(row(5, "省-1#1", cumulative=3), row(6, "省-12#1", cumulative=1, status="已完成"))
    assert found(targets.status_inconsistent(c)) == [(LEAD, "N6", "status-inconsistent")]


def test_status_is_judged_by_the_notices_wording_and_the_configured_tolerance():
    c = ctx(row(5, "市-7.2#1", cumulative=1, status="已完成"),  # "1个以上" worded as more than 1
            row(6, "市-7.2#1", cumulative=2, status="序时推进"),
            row(7, "省-7#1", cumulative=10.5, status="已完成"))  # 12 个左右: 87.5 %
    assert found(targets.status_inconsistent(c)) == [(LEAD, "N5", "status-inconsistent"),
                                                     (LEAD, "N6", "status-inconsistent"),
                                                     (LEAD, "N7", "status-inconsistent")]
    c = ctx(row(7, "省-7#1", cumulative=10.5, status="已完成"))
    c.config = {"rules": {"status_tolerance_points": 15}}
    assert found(targets.status_inconsistent(c)) == []
    # without a master or a target, only 未启动 with progress can be told
    c = ctx(row(5, "省-1#1", cumulative=2, status="未启动", target=""), with_master=False)
    assert found(targets.status_inconsistent(c)) == [(LEAD, "N5", "status-inconsistent")]
    c = ctx(row(5, "省-1#1", cumulative=6, status="序时推进"), with_master=False)
    assert found(targets.status_inconsistent(c)) == [(LEAD, "N5", "status-inconsistent")]


CO_COLS = {c.key: chr(65 + i) for i, c in enumerate(C.CO_COLUMNS)}


def co_row(n, ind_id, **typed):
    ind = master().indicator(ind_id)
    base = {"task_id": ind.task_id, "indicator_id": ind.id, "indicator": ind.name,
            "unit": ind.unit, "progress": "配合推进"}
    base.update(typed)
    return {"row": n, "id": ind_id,
            "cells": {k: (base.get(k, ""), f"{CO_COLS[k]}{n}") for k in CO_COLS}}


def co_ctx(unit, *rows):
    wb = {"tables": [{"sheet": C.SHEET_CO, "kind": "co", "rows": list(rows)}], "meta_rows": [],
          "formula_cells": {}}
    return R.Context(wb, unit=unit, period="2024-06", master=master(), config={})


def test_co_sheet_figures_are_required_of_counties_and_checked_when_a_bureau_types_one():
    CO = C.SHEET_CO
    rows = (co_row(5, "省-14#1", cumulative="", unit_target=1),
            co_row(6, "省-1#1", cumulative="约3", unit_target=2),
            co_row(7, "省-2#1", cumulative=30, unit_target=2),
            co_row(8, "省-3#1", cumulative=1, unit_target=2, progress=""))
    county = co_ctx("东海县", *rows)
    keys = [c.key for c in C.CO_COLUMNS]
    cum, prog = (C.col_letter(keys.index(k)) for k in ("cumulative", "progress"))
    assert found(values.check(county)) == [(CO, f"{cum}5", "missing-value"),
                                           (CO, f"{cum}6", "not-a-number")]
    assert found(targets.exceeds_target(county)) == [(CO, f"{cum}7", "exceeds-target")]
    assert found(text.missing_text(county)) == [(CO, f"{prog}8", "missing-text")]
    bureau = co_ctx("市教育局", *rows)  # text only; a figure typed anyway is still checked
    assert found(values.check(bureau)) == [(CO, f"{cum}6", "not-a-number")]
    assert found(targets.exceeds_target(bureau)) == [(CO, f"{cum}7", "exceeds-target")]


# --- identity: whose return, which month, sent from where ----------------------------------------

def meta_wb(labels=None, **meta):
    return {"meta": {"unit": "市卫健委", "period": "2024-06", "format_version": "3",
                     "deadline": "2024-07-05", **meta},
            "tables": [{"rows": []}], "labels": labels or {}}


def test_meta_wins_and_an_unknown_meta_unit_is_unidentified():
    ident = identity.identify(meta_wb(), "别的单位.xlsx", master())
    assert (ident.unit, ident.period, ident.format_version, ident.deadline, ident.meta_found,
            ident.findings) == ("市卫健委", "2024-06", "3", "2024-07-05", True, [])
    ident = identity.identify(meta_wb(unit="连云港市卫生健康委员会", format_version="",
                                      deadline=""), "x.xlsx", master())
    assert (ident.unit, ident.format_version, ident.deadline) == ("市卫健委", None, None)
    ident = identity.identify(meta_wb(unit="市外星局"), "x.xlsx", master())
    assert ident.unit is None and ident.findings == [
        ("unidentified-return", {"detail": "报表标识的单位“市外星局”不在单位名册中"})]
    half = identity.identify(meta_wb(period=""), "2024-05_市教育局_民生实事填报表.xlsx", master())
    assert (half.unit, half.period, half.meta_found) == ("市教育局", "2024-05", False)


def test_without_meta_the_unit_cell_then_the_file_name_and_the_title_month():
    tables = [{"rows": []}]
    got = identity.identify({"tables": tables, "labels": {
        "title": ("2023年12月数据（2024 年 1 月）", "A1")}}, "连云港市卫生健康委员会报表.xlsx", master())
    assert (got.unit, got.period, got.findings) == ("市卫健委", "2024-01",
                                                    [("meta-missing", {"detail": "文件名"})])
    got = identity.identify({"tables": tables, "labels": {"unit": ("东海", "x", "B2"),
                                                          "title": ("2024年6月", "A1")}},
                            "市教育局.xlsx", master())
    assert (got.unit, got.findings) == ("东海县", [("meta-missing", {"detail": "“填报单位”单元格"})])
    # two units in the name say nothing; an unknown unit cell is shown to the clerk
    got = identity.identify({"tables": tables, "labels": {"unit": ("市外星局", "x", "B2")}},
                            "2024-06_市卫健委与市教育局.xlsx", master())
    assert got.unit is None and got.findings == [("unidentified-return", {
        "detail": "报表标识页已丢失，且无法确定填报单位（“市外星局”不在名册中）"})]
    got = identity.identify({"tables": tables, "labels": {"title": ("填报表", "A1")}},
                            "市教育局.xlsx", master())
    assert got.findings == [("unidentified-return", {"detail": "报表标识页已丢失，且无法确定填报月份"})]
    got = identity.identify({"tables": [], "labels": {}}, "2024-06_市教育局_x.xlsx", master())
    assert got.findings == [("unidentified-return", {"detail": "找不到填报表格（表头“指标编号”等）"})]


def test_units_named_in_text_longest_first_each_once():
    m = master()
    assert identity.units_in_text("连云港市卫生健康委员会六月.xlsx", m) == ["市卫健委"]
    assert identity.units_in_text("市卫健委 市卫生健康委 报表", m) == ["市卫健委"]
    assert identity.units_in_text("市教育局、东海县.zip", m) == ["市教育局", "东海县"]
    assert identity.units_in_text("", m) == [] and identity.units_in_text("市教育局", None) == []
    assert identity.name_parts("收件/2024-06_东海县_民生实事填报表.xlsx") == ("2024-06", "东海县")
    assert identity.name_parts("六月.xlsx") == (None, None)


def test_a_return_naming_another_unit_anywhere_is_a_conflict_located_at_the_unit_cell():
    import copy
    m = copy.deepcopy(master())
    m.registry.get("市卫健委").email = "wjw@lyg.example.cn"
    m.registry.get("市教育局").email = "jyj@lyg.example.cn"
    ident = identity.identify(meta_wb(), "x.xlsx", m)
    wb = meta_wb(labels={"unit": ("连云港市教育局", "牵头任务", "B2")})
    got = list(identity.wrong_unit(ident, wb, "2024-06_东海县_民生实事填报表.xlsx",
                                   "收件/市教育局/2024-06_东海县_民生实事填报表.xlsx",
                                   "教育局 <JYJ@lyg.example.cn>", m))
    assert got == [
        ("identity-conflict", {"detail": "报表标识页为“市卫健委”；“填报单位”单元格为“市教育局”；文件名为“东海县”；"
                                         "发件邮箱为“市教育局”", "sheet": "牵头任务", "cell": "B2"}),
        ("wrong-unit", {"detail": "所在文件夹", "found": "市教育局"})]
    clean = list(identity.wrong_unit(ident, meta_wb(labels={"unit": ("市卫健委", "牵头任务", "B2")}),
                                     "2024-06_市卫健委_民生实事填报表.xlsx",
                                     "收件/市卫健委/六月/x.xlsx", "wjw@lyg.example.cn", m))
    assert clean == []
    stranger = list(identity.wrong_unit(ident, meta_wb(), "x.xlsx", "x.xlsx",
                                        "某人 <someone@qq.com>", m))
    assert stranger == [("unexpected-sender", {"found": "someone@qq.com"})]
    assert list(identity.wrong_unit(ident, wb, "x.xlsx", "x.xlsx", None, None)) == []


def test_late_runs_to_the_end_of_the_deadline_day_in_the_office_zone():
    ident = identity.Identity(unit="市卫健委", deadline="2024-07-05")
    assert identity.late(ident, "2024-07-05T23:59:59+08:00") is None
    assert identity.late(ident, "2024-07-06T00:00:00+08:00") == {
        "found": "2024-07-06 00:00", "detail": "2024-07-05"}
    timed = identity.Identity(unit="市卫健委", deadline="2024-07-05T17:00:00+08:00")
    assert identity.late(timed, "2024-07-05T17:00:00+08:00") is None
    assert identity.late(timed, "2024-07-05T17:01:00+08:00")["found"] == "2024-07-05 17:01"
    assert identity.late(ident, None) is None and identity.late(ident, "不是时间") is None
    assert identity.late(identity.Identity(), "2024-08-01T00:00:00+08:00") is None


def test_milestone_over_100_is_out_of_range_by_master_or_by_the_rows_own_words():
    c = ctx(row(5, "市-17.1#0", cumulative=101), row(6, "省-1#1", cumulative=150),
            row(7, "市-2#0", cumulative=100), row(8, "省-16#0", cumulative="101"))
    got = [i for i in values.check(c) if i.code == "out-of-range"]
    assert [(i.cell, i.value) for i in got] == [("L5", "101"), ("L8", "101")]
    assert "超过 100" in got[0].message
    c = ctx(row(5, "省-1#1", cumulative=120, indicator="形象进度", unit="%"),
            row(6, "省-12#1", cumulative=120, indicator="形象进度", unit="个"), with_master=False)
    assert found(values.check(c)) == [(LEAD, "L5", "out-of-range")]


def test_a_return_without_one_figure_is_blank():
    c = ctx(row(5, "省-1#1", cumulative=""), row(6, "省-12#1", cumulative=""))
    (b,) = values.blank(c)
    assert (b.code, b.severity, b.cell) == ("blank-return", "error", None)
    assert "没有填写任何“本月累计完成”（2 行均未填写）" in b.message
    assert list(values.blank(ctx(row(5, "省-1#1", cumulative=""), row(6, "省-12#1", cumulative=0)))) == []
    assert list(values.blank(ctx(row(5, "省-1#1", cumulative=""),
                                 formula_cells={LEAD: ["L5"]}))) == []  # a formula: not blank
    gone = row(5, "省-1#1", cumulative="")
    del gone["cells"]["cumulative"]  # the column is missing: missing-column says why
    assert list(values.blank(ctx(gone))) == []
    (none,) = values.blank(ctx())
    assert "找不到任何指标行" in none.message
    assert list(values.blank(R.Context({"tables": [], "meta_rows": []}, unit="市卫健委"))) == []
    county = co_ctx("东海县", co_row(5, "省-14#1", cumulative=""), co_row(6, "省-1#1", cumulative=""))
    assert "没有填写任何“本单位累计完成”" in next(values.blank(county)).message
    bureau = (co_row(5, "省-14#1", cumulative="", progress=""),
              co_row(6, "省-1#1", cumulative="", progress=""))
    (text_only,) = values.blank(co_ctx("市教育局", *bureau))
    assert "没有填写任何工作情况（2 行均未填写）" in text_only.message
    for key in ("progress", "problems", "note"):
        said = co_row(6, "省-1#1", **{"cumulative": "", "progress": "", key: "配合做好宣传"})
        assert list(values.blank(co_ctx("市教育局", bureau[0], said))) == [], key


def test_rows_twice_on_the_wrong_sheet_or_missing_each_named_at_their_row():
    c = ctx(row(5, "省-1#1", cumulative=3), row(6, "省-1#1", cumulative=3),  # a pasted copy
            row(7, "省-12#1", cumulative=1), row(8, "省-12#1", cumulative=2),  # which one?
            row(9, "省-14#1", cumulative=1))  # a 配合任务 row typed on the lead sheet
    c.workbook["meta_rows"] = [(LEAD, "省-1#1", "5", "", "0"), (LEAD, "省-12#1", "6", "", "0"),
                               (C.SHEET_CO, "省-14#1", "5", "", "0")]
    got = [(i.code, i.sheet, i.cell, i.severity) for i in structure.rows(c)]
    assert got == [("duplicate-row", LEAD, "B6", "warning"), ("duplicate-row", LEAD, "B7", "error"),
                   ("duplicate-row", LEAD, "B8", "error"), ("unknown-row", LEAD, "B9", "error"),
                   ("missing-row", C.SHEET_CO, None, "error")]
    msgs = [i.message for i in structure.rows(c)]
    assert "另见第 5 行" in msgs[0] and "已按第一行读取" in msgs[0]
    assert "另见第 8 行" in msgs[1] and "另见第 7 行" in msgs[2] and "均未采用" in msgs[1]
    assert "省-14#1" in msgs[4]


def test_without_a_master_the_meta_says_whether_a_county_figure_is_asked_for():
    cum = C.col_letter([c.key for c in C.CO_COLUMNS].index("cumulative"))
    for flag, want in (("1", [(C.SHEET_CO, f"{cum}5", "missing-value")]), ("0", []), (None, [])):
        wb = {"tables": [{"sheet": C.SHEET_CO, "kind": "co",
                          "rows": [co_row(5, "省-14#1", cumulative="")]}],
              "meta_rows": [], "formula_cells": {}, "meta": {"co_numbers": flag}}
        c = R.Context(wb, unit="东海县", period="2024-06", master=None, config={})
        assert found(values.check(c)) == want, flag


def test_run_keeps_one_issue_per_blank_return_or_unknown_row_and_appends_explanations():
    blank = R.run(ctx(row(5, "省-1#1", cumulative="", progress=""),
                      row(6, "省-12#1", cumulative="", progress="")))
    assert "blank-return" in {i.code for i in blank}
    assert not {"missing-value", "missing-text"} & {i.code for i in blank}
    partly = R.run(ctx(row(5, "省-1#1", cumulative=3, progress="x"),
                       row(6, "省-12#1", cumulative="", progress="")))
    assert [(i.cell, i.code) for i in partly if i.cell] == [("L6", "missing-value")]  # kept
    c = ctx(row(5, "省-1#1", cumulative="约3", progress="x"),
            row(6, "省-1#1", cumulative="约5", progress="x"),  # the copy made ambiguous...
            row(7, "省-12#1", cumulative="约5", progress="x"))
    c.workbook["tables"][0]["rows"][2]["id"] = "省-99#9"  # ...and an id typed over
    c.workbook["tables"][0]["rows"][2]["cells"]["indicator_id"] = ("省-99#9", "B7")
    got = [(i.cell, i.code) for i in R.run(c) if i.cell]
    assert ("B7", "unknown-row") in got and ("L7", "not-a-number") not in got  # its noise gone
    assert ("L5", "not-a-number") in got  # other rows keep theirs
    assert any(i.code == "missing-row" and i.cell is None for i in R.run(c))
    long_note = "含托位数" * 30
    c = ctx(row(5, "省-1#1", cumulative=61, status="已完成", progress="x", note=long_note),
            row(6, "省-12#1", cumulative="约5", progress="x", note="见附件"))
    issues = R.run(c)
    ex = next(i for i in issues if i.code == "exceeds-target")
    assert ex.message.startswith("“本月累计完成”为 61")
    assert ex.message.endswith(f"（已说明：{long_note[:100]}）")
    nan = next(i for i in issues if i.code == "not-a-number")  # an error is never explained away
    assert "已说明" not in nan.message


def test_an_issue_carries_the_returns_unit_period_and_file():
    c = R.Context({"tables": [], "meta_rows": []}, unit="市卫健委", period=None,
                  run_period="2024-06", file="收件/r.xlsx")
    i = c.issue("blank-return", field="指标行", detail="找不到任何指标行", severity=None)
    assert (i.unit, i.period, i.file) == ("市卫健委", "2024-06", "收件/r.xlsx")
    c.period = "2024-05"
    assert c.issue("blank-return", field="x", detail="y", severity=None).period == "2024-05"
