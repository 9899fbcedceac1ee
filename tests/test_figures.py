"""Every figure that reaches a leader, against an independent computation.

The demo cycle's returned workbooks are read back here with plain openpyxl, and what the office
must show is recomputed from them in this file (the lead figure, 本月新增, the status rules, the
headline counts, the 明细 long table and its CSV); the outputs are then read by header text, never
by position, and compared column by column. Nothing is taken from the result object the code
produced, so a wrong figure cannot agree with itself.
"""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from minshi_xls import columns as C, demo
from minshi_xls.cli import cli
from minshi_xls.master import read_master
from test_demo import JUNE, MAY, REJECTED, WORKBOOK, lead_figure, level_sentences_say, number

#: What a unit types, sheet by sheet: the only cells 明细 lists (locked and pre-filled ones are
#: the template's own).
PLAN = ("一季度末计划", "二季度末计划", "三季度末计划", "四季度末计划")
INPUTS = {"牵头任务": (*PLAN, "本月累计完成", "推进状态", "进展情况", "存在问题", "下步计划",
                    "备注（说明）"),
          "配合任务": ("本单位累计完成", "配合工作情况", "存在问题", "备注（说明）")}
NUMERIC = {*PLAN, "本月累计完成", "本单位累计完成"}
TOLERANCE = 5.0  # percentage points around 序时进度 (the default rules.status_tolerance_points)
WORST_FIRST = ("未报送", "未启动", "滞后", "序时推进", "超序时", "已完成")
NOT_LOCAL = ("省本级实施", "我市不承担相关任务")


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("figures") / "cycle"
    r = CliRunner().invoke(cli, ["demo", str(folder)])
    assert r.exit_code == 0, r.output
    return folder


@pytest.fixture(scope="module")
def master(cycle):
    return read_master(cycle / "output" / "master.xlsx")


@pytest.fixture(scope="module")
def book(cycle):
    return openpyxl.load_workbook(cycle / "output" / JUNE / WORKBOOK)


def header_row(ws, first: str):
    """1-based row whose first cell is ``first`` (a table's header), found by text."""
    return next(c.row for c in ws["A"] if c.value == first)


def sheet_table(ws, first: str):
    """Rows below the header as dicts by header text, up to the first empty row."""
    r0 = header_row(ws, first)
    heads = [c.value for c in ws[r0]]
    out = []
    for row in ws.iter_rows(min_row=r0 + 1, values_only=True):
        if all(v is None for v in row):
            break
        out.append(dict(zip(heads, row)))
    return out


def returned_cells(folder: Path, period: str):
    """Every non-empty input cell of the returns that count for ``period``: the files sent back
    (a first draft in a subfolder was replaced) of units whose return was not rejected (the
    demo plants its mistakes in June)."""
    out = []
    for f in sorted((folder / "returns" / period).glob("*.xlsx")):
        unit = f.name.split("_")[1]
        if period == JUNE and unit in REJECTED:
            continue
        wb = openpyxl.load_workbook(f)
        for sheet, fields in INPUTS.items():
            if sheet not in wb.sheetnames:
                continue
            ws = wb[sheet]
            r0 = next(r for r in range(1, 12) if any(c.value == "指标编号" for c in ws[r]))
            heads = {C.plain_header(c.value): c.column for c in ws[r0] if c.value}
            for r in range(r0 + 1, ws.max_row + 1):
                ind = ws.cell(r, heads["指标编号"]).value
                if not ind:
                    continue
                for field in fields:
                    cell = ws.cell(r, heads[field])
                    if cell.value is None or cell.value == "":
                        continue
                    unit_word = ws.cell(r, heads["计量单位"]).value or ""
                    out.append(dict(unit=unit, task=ws.cell(r, heads["任务编号"]).value,
                                    indicator_id=ind, indicator=ws.cell(r, heads["指标"]).value,
                                    field=field, value=cell.value,
                                    number=number(cell.value, unit_word)
                                    if field in NUMERIC else None,
                                    file=f.name, sheet=sheet, cell=cell.coordinate))
    return out


def figures(master, cells):
    """{(unit, sheet, indicator id): {field: value}} of the cells that count."""
    out = {}
    for c in cells:
        out.setdefault((c["unit"], c["sheet"], c["indicator_id"]), {})[c["field"]] = c["value"]
    return out


def raw(v) -> str:
    """A typed value as text, the way the ledger keeps it (12.0 -> "12")."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def expected_status(cumulative, target, qualifier, scheduled):
    """The office's rules, written out again: the target met (as the notice words it) is 已完成;
    nothing done while something was due is 未启动; more than 5 points ahead of or behind the
    schedule is 超序时/滞后; anything else 序时推进."""
    if cumulative is None:
        return "未报送"
    if qualifier == "<=":  # an upper bound (以内) is met or not: no schedule
        return "已完成" if cumulative <= target else "滞后"
    met = {">": cumulative > target, "~": cumulative >= target * (1 - TOLERANCE / 100)}.get(
        qualifier, cumulative >= target)
    gap = (cumulative / target - scheduled) * 100
    if met:
        return "已完成"
    if cumulative <= 0 and scheduled > 0:
        return "未启动"
    return "超序时" if gap > TOLERANCE else "滞后" if gap < -TOLERANCE else "序时推进"


@pytest.fixture(scope="module")
def expected_rows(cycle, master):
    return recompute_rows(cycle, master)


def recompute_rows(cycle, master):
    """Per local indicator, what the 省/市 sheets must show, from the returned files alone."""
    june = figures(master, returned_cells(cycle, JUNE))
    may = figures(master, returned_cells(cycle, MAY))
    plans = {}
    for values in (may, june):  # a plan typed once keeps counting; a later one replaces it
        for (u, sheet, ind), vals in values.items():
            if sheet == "牵头任务" and all(isinstance(vals.get(h), (int, float)) for h in PLAN):
                plans[(u, ind)] = [float(vals[h]) for h in PLAN]
    out = {}
    for task, ind in master.rows():
        if not task.is_local:
            continue
        typed = {k[0]: v for k, v in june.items() if k[1] == "牵头任务" and k[2] == ind.id}
        now, unit = lead_figure(master, task, ind, {(u, "牵头任务", ind.id): v
                                                    for u, v in typed.items()})
        before, _ = lead_figure(master, task, ind, may)
        shown = now if now is not None else before
        plan = next((plans[(u, ind.id)] for u in task.lead_units if (u, ind.id) in plans), None)
        target = ind.target_number
        scheduled = (plan[1] if plan else target * 6 / 12) / target  # June ends the 2nd quarter
        chosen = typed.get(unit, {})
        out[ind.id] = {
            "task": task, "上月累计": before, "本月累计": shown,
            "本月新增": now - before if now is not None and before is not None else None,
            "状态": expected_status(shown, target, ind.qualifier, scheduled),
            "单位自报状态": (chosen.get("推进状态") or "").strip() or None,
            "进展情况": chosen.get("进展情况") or None, "存在问题": chosen.get("存在问题") or None,
            "下步计划": chosen.get("下步计划") or None,
            "rate": shown / target if shown is not None and ind.qualifier != "<=" else None,
        }
    return out


def level_rows(book):
    """指标数据, the data view of the 省/市 sheets: every field of every indicator row."""
    return {r["指标编号"]: r for r in sheet_table(book["指标数据"], "层级") if r.get("指标编号")}


def leader_rows(book, level):
    """The leader's 省/市 sheet by (task number, indicator name): a task's 序号 and text are
    merged over its indicator rows, so the number is carried down; category rows are skipped."""
    out, number = {}, None
    for r in sheet_table_all(book[f"{level}民生实事"], "序号"):
        if r["序号"] is not None:
            number = str(r["序号"])
        if r.get("指标"):
            out[(number, r["指标"])] = r
    return out


def sheet_table_all(ws, first: str):
    """Like :func:`sheet_table` but through blank spacer rows, to the sheet's last row."""
    r0 = header_row(ws, first)
    heads = [c.value for c in ws[r0]]
    return [dict(zip(heads, row)) for row in ws.iter_rows(min_row=r0 + 1, values_only=True)]


def test_leader_sheets_print_the_recomputed_figures(book, master, expected_rows):
    """What the leaders read (省/市民生实事, found by header text): target, cumulative, new this
    month, rate, schedule and status of every indicator, local or not."""
    for level in ("省", "市"):
        rows = leader_rows(book, level)
        seen = 0
        for task, ind in master.rows():
            if task.level != level:
                continue
            got = rows[(task.number, ind.name)]
            seen += 1
            if not task.is_local:
                assert got["状态"] in NOT_LOCAL and got["本月累计"] is None, ind.id
                continue
            want = expected_rows[ind.id]
            assert got["年度目标"] == pytest.approx(ind.target_number), ind.id
            for header in ("本月累计", "本月新增"):
                assert got[header] == (None if want[header] is None
                                       else pytest.approx(want[header])), (ind.id, header)
            assert got["状态"] == want["状态"], ind.id
            if want["rate"] is None:
                assert got["完成率"] is None, ind.id
            else:
                assert got["完成率"] == pytest.approx(want["rate"]), ind.id
        assert seen == len(rows)  # no row the master does not have


def test_level_sheets_show_the_new_this_month_the_status_and_the_lead_units_words(
        book, master, expected_rows):
    rows = level_rows(book)
    assert {i for i, r in rows.items() if r["状态"] not in NOT_LOCAL} == set(expected_rows)
    statuses = Counter()
    for ind_id, want in expected_rows.items():
        got = rows[ind_id]
        for header in ("上月累计", "本月累计", "本月新增"):
            assert got[header] == (None if want[header] is None
                                   else pytest.approx(want[header])), (ind_id, header)
        for header in ("状态", "单位自报状态", "进展情况", "存在问题", "下步计划"):
            assert got[header] == want[header], (ind_id, header)
        statuses[want["状态"]] += 1
    # The demo's mix: every status occurs, and some figures grew this month while others not.
    assert set(statuses) == set(WORST_FIRST) - {"未报送"}
    assert sum(r["本月新增"] is None for r in expected_rows.values()) > 0  # carried forward
    assert sum((r["本月新增"] or 0) > 0 for r in expected_rows.values()) > 100


def expected_headlines(master, expected_rows):
    out = {}
    for level in ("省", "市"):
        tasks = [t for t in master.tasks if t.level == level]
        local = {}
        rates = []
        for ind_id, want in expected_rows.items():
            t = want["task"]
            if t.level == level:
                local.setdefault(t.id, []).append(want["状态"])
                if want["rate"] is not None:
                    rates.append(min(want["rate"], 1.0))
        task_status = {t: min(ss, key=WORST_FIRST.index) for t, ss in local.items()}
        out[level] = {"任务总数": len(tasks), "我市承担": len(local),
                      **{s: sum(v == s for v in task_status.values()) for s in WORST_FIRST},
                      "指标数": sum(len(v) for v in local.values()),
                      "平均完成率": sum(rates) / len(rates), "_tasks": task_status}
    return out


def test_headline_and_category_counts_are_recomputed_from_the_returns(book, master,
                                                                      expected_rows):
    want = expected_headlines(master, expected_rows)
    ws = book["汇总"]
    got = {r["层级"][0]: r for r in sheet_table(ws, "层级") if r["层级"] in ("省民生实事", "市民生实事")}
    assert set(got) == {"省", "市"}
    for level, w in want.items():
        for header, value in w.items():
            if not header.startswith("_"):
                assert got[level][header] == pytest.approx(value), (level, header)
    # 四、分类推进情况: per category, its local tasks by status.
    r0 = max(c.row for c in ws["A"] if c.value == "层级")
    heads = [c.value for c in ws[r0]]
    cats = {}
    for task in master.tasks:
        counts = cats.setdefault(f"{task.level}·{task.category}", Counter())
        if task.is_local:
            counts[want[task.level]["_tasks"][task.id]] += 1
    seen = 0
    for row in ws.iter_rows(min_row=r0 + 1, values_only=True):
        d = dict(zip(heads, row))
        if not d.get("类别"):
            break
        for s in WORST_FIRST:
            assert d[s] == cats[d["类别"]][s], (d["类别"], s)
        seen += 1
    assert seen == len(cats)


def test_the_notice_text_says_the_recomputed_numbers(cycle, master, expected_rows):
    want = expected_headlines(master, expected_rows)
    text = (cycle / "output" / JUNE / f"通报_{JUNE}.txt").read_text(encoding="utf-8").strip()
    level_sentences_say(text, want)
    lagging = [t for w in want.values() for t, s in w["_tasks"].items() if s in ("滞后", "未启动")]
    items = re.findall(r"(\d+)\.[^；。]*?（(省|市)第([\d.]+)项，牵头单位：", text)
    assert [int(n) for n, _, _ in items] == list(range(1, len(lagging) + 1))
    assert sorted(f"{lvl}-{no}" for _, lvl, no in items) == sorted(lagging)
    expected = len(list((cycle / "templates" / JUNE).glob("*_民生实事填报表.xlsx")))
    sent = len(list((cycle / "returns" / JUNE).glob("*.xlsx")))
    assert text.endswith(f"本月应报送单位{expected}个，已报送{sent}个，未报送：{demo.SILENT}。")


def expected_detail(cycle, master):
    """明细 from the returned files: every input cell that counts; 是否采用 marks the lead figure
    the 省/市 sheets show."""
    cells = returned_cells(cycle, JUNE)
    june = figures(master, cells)
    used = {}
    for task, ind in master.rows():
        if task.is_local:
            _, unit = lead_figure(master, task, ind, june)
            used[ind.id] = unit
    out = []
    for c in cells:
        out.append({"月份": JUNE, "单位": c["unit"], "任务编号": c["task"],
                    "指标编号": c["indicator_id"], "指标": c["indicator"], "字段": c["field"],
                    "数值": c["number"], "原文": raw(c["value"]),
                    "是否采用": "是" if c["field"] == "本月累计完成"
                    and used.get(c["indicator_id"]) == c["unit"] else None,
                    "文件": c["file"], "工作表": c["sheet"], "单元格": c["cell"]})
    return out


def key(d):
    """A row as comparable text (3 and 3.0 are the same figure)."""
    return tuple(sorted((k, "" if v is None else raw(float(v)) if isinstance(v, (int, float))
                         else str(v)) for k, v in d.items()))


def test_detail_sheet_every_column_is_what_the_units_typed(cycle, master, book):
    want = expected_detail(cycle, master)
    got = sheet_table(book["明细"], "月份")
    assert len(got) == len(want) > 2000
    for d in got:  # numbers as numbers (a pivot table sums them)
        assert d["数值"] is None or isinstance(d["数值"], (int, float))
    assert Counter(map(key, got)) == Counter(map(key, want))  # every row, every column
    assert sum(d["是否采用"] == "是" for d in got) == sum(
        r["是否采用"] == "是" for r in want) > 100
    # Unit by unit, in the registry's order.
    order = [u for u in dict.fromkeys(d["单位"] for d in got)]
    assert order == [u for u in master.registry.names() if u in order]


def test_csv_is_the_detail_sheet_as_text(cycle, master):
    want = expected_detail(cycle, master)
    path = cycle / "output" / JUNE / WORKBOOK.replace(".xlsx", "_明细.csv")
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode("utf-8"))  # Excel opens UTF-8 with a BOM right
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert list(rows[0]) == ["月份", "单位", "任务编号", "指标编号", "指标", "字段", "数值", "原文",
                             "是否采用", "文件", "工作表", "单元格"]

    def as_text(d):
        n = d["数值"]
        return {**d, "数值": "" if n is None else raw(float(n)), "是否采用": d["是否采用"] or ""}

    assert Counter(map(key, rows)) == Counter(key(as_text(d)) for d in want)


def test_returns_sheet_every_unit_its_versions_lateness_and_counts(cycle, book):
    expected = sorted(f.name.split("_")[1] for f in (cycle / "templates" / JUNE).glob("*_民生实事填报表.xlsx"))
    rows = {r["单位"]: r for r in sheet_table(book["报送情况"], "序号")}
    assert sorted(rows) == expected
    files = {}
    for f in (cycle / "returns" / JUNE).rglob("*.xlsx"):
        files.setdefault(f.name.split("_")[1], []).append(f)
    issues = sheet_table(book["校验问题"], "单位")
    for unit, r in rows.items():
        sent = files.get(unit, [])
        assert r["是否报送"] == ("是" if sent else "否"), unit
        assert r["报送状态"] == ("未报送" if not sent else "有错误" if unit in REJECTED
                              else "逾期报送" if unit in demo.LATE else "已报送"), unit
        assert r["版本数"] == len(sent), unit
        if not sent:
            assert (r["是否逾期"], r["接受行数"], r["错误"], r["警告"]) == (None,) * 4
            continue
        assert r["是否逾期"] == ("是" if unit in demo.LATE else "否"), unit
        final = next(f for f in sent if f.parent.name == JUNE)
        wb = openpyxl.load_workbook(final)
        table_rows = sum(1 for ws in wb.worksheets if ws.title in INPUTS
                         for c in ws["B"] if re.fullmatch(r"[省市]-[\d.]+#\d+", str(c.value)))
        assert r["接受行数"] == (0 if unit in REJECTED else table_rows), unit
        mine = [i for i in issues if i["单位"] == unit and i["状态"] != "已替代"]
        assert r["错误"] == sum(i["严重程度"] == "错误" for i in mine), unit
        assert r["警告"] == sum(i["严重程度"] == "警告" for i in mine), unit
    assert sum(r["错误"] or 0 for r in rows.values()) >= 1  # the rejected return's error


#: Where each planted mistake must be reported: the issue's severity as the office grades it,
#: the column of the typed value, and whether collect (校验) or reconcile (汇总) finds it.
PLANTED = {"coerced-number": ("警告", "本月累计完成", "校验"),
           "exceeds-target": ("警告", "本月累计完成", "校验"),
           "missing-text": ("警告", "进展情况", "校验"),
           "status-inconsistent": ("警告", "推进状态", "校验"),
           "cumulative-decreased": ("警告", "本月累计完成", "校验"),
           "template-modified": ("错误", "年度目标", "校验"),
           "lead-mismatch": ("警告", "本月累计完成", "汇总")}


def test_issue_sheet_every_column_of_each_planted_mistake(cycle, book):
    issues = sheet_table(book["校验问题"], "单位")
    for code, ind_id, unit in demo.MISTAKES:
        severity, header, stage = PLANTED[code]
        f = cycle / "returns" / JUNE / f"{JUNE}_{unit}_民生实事填报表.xlsx"
        ws = openpyxl.load_workbook(f)["牵头任务"]
        r0 = next(r for r in range(1, 12) if any(c.value == "指标编号" for c in ws[r]))
        heads = {C.plain_header(c.value): c.column for c in ws[r0] if c.value}
        row = next(r for r in range(r0 + 1, ws.max_row + 1)
                   if ws.cell(r, heads["指标编号"]).value == ind_id)
        cell = ws.cell(row, heads[header])
        found = [i for i in issues if i["问题代码"] == code and i["单位"] == unit]
        assert len(found) == 1, (code, unit)
        i = found[0]
        assert (i["文件"], i["工作表"], i["单元格"], i["指标编号"]) == (
            f.name, "牵头任务", cell.coordinate, ind_id), code
        assert (i["严重程度"], i["环节"], i["状态"]) == (severity, stage, "待处理"), code
        typed = None if cell.value in (None, "") else raw(cell.value)
        assert i["填写值"] == typed, code
        assert i["问题"] and i["说明"] and i["问题"] != code
    silent = [i for i in issues if i["问题代码"] == "not-returned"]
    assert [(i["单位"], i["文件"], i["严重程度"], i["环节"], i["状态"]) for i in silent] == [
        (demo.SILENT, None, "警告", "汇总", "待处理")]
    units = [i["单位"] for i in issues]  # grouped unit by unit, to phone each one once
    assert all(units.index(u) + units.count(u) == len(units) - units[::-1].index(u)
               for u in set(units))


def test_text_a_spreadsheet_would_run_as_a_formula_stays_text_in_the_csv_and_the_detail(
        tmp_path):
    """A bureau's 存在问题 "-" (nothing to report) or a pasted "=HYPERLINK(...)" must open in
    Excel as the text typed, never as a formula: the CSV prefixes an apostrophe (the usual
    guard), the workbook stores a string."""
    from minshi_xls import collect, report
    from test_collect_support import ON_TIME, PERIOD, cells, fill, template
    from test_collect_support import master as bundled

    typed = {"进展情况": '=HYPERLINK("http://x.example/a","详见")', "存在问题": "-",
             "下步计划": "+加快推进", "备注（说明）": "@各县区"}

    def edit(wb):
        ws = wb["牵头任务"]
        hdr, ids = cells(ws)
        row = ids["省-1#1"]
        for header, text in typed.items():
            cell = ws.cell(row, hdr[header])
            cell.value = text
            cell.data_type = "s"  # typed as text (an apostrophe in Excel), not a formula

    f = fill(template(tmp_path, "市卫健委"), tmp_path / "in" / "r.xlsx", edit=edit)
    db = tmp_path / "out" / "minshi.sqlite"
    collect.collect_paths([f], PERIOD, db, master=bundled(), config={}, received=ON_TIME)
    res = report.reconcile(bundled(), PERIOD, db, tmp_path / "out" / PERIOD)
    rows = list(csv.DictReader(io.StringIO(res.csv.read_text(encoding="utf-8-sig"))))
    got = {r["字段"]: r["原文"] for r in rows if r["指标编号"] == "省-1#1"}
    for header, text in typed.items():
        assert got[header] == "'" + text, header
    assert got["推进状态"] == "序时推进"  # ordinary text is left alone
    ws = openpyxl.load_workbook(res.workbook)["明细"]
    detail = [c for row in ws.iter_rows() for c in row if c.value in typed.values()]
    assert sorted(c.value for c in detail) == sorted(typed.values())
    assert all(c.data_type == "s" for c in detail)


def test_county_sheet_sums_and_differences_from_the_counties_returns(book, cycle, master,
                                                                     expected_rows):
    """县区分解: each county's own figure as typed on its 配合任务 sheet, their sum, and the
    difference to the lead unit's figure, recomputed here."""
    typed = figures(master, returned_cells(cycle, JUNE))
    seen = 0
    for r in sheet_table_all(book["县区分解"], "指标编号"):
        ind_id = r.get("指标编号")
        if not ind_id or ind_id not in expected_rows:
            continue  # the allocation row under an indicator
        lead = expected_rows[ind_id]["本月累计"]
        assert r["牵头单位累计"] == (None if lead is None else pytest.approx(lead)), ind_id
        counties = [h for h in r if h not in ("指标编号", "指标", "牵头单位", "牵头单位累计",
                                             "县区合计", "差额")]
        got = {}
        for u in counties:
            v = typed.get((u, "配合任务", ind_id), {}).get("本单位累计完成")
            if v is not None:
                got[u] = number(v, master.indicator(ind_id).unit)
                assert r[u] == pytest.approx(got[u]), (ind_id, u)
        total = sum(got.values()) if got else None
        assert r["县区合计"] == (None if total is None else pytest.approx(total)), ind_id
        diff = total - lead if total is not None and lead is not None else None
        assert r["差额"] == (None if diff is None else pytest.approx(diff, abs=1e-6)), ind_id
        seen += 1
    assert seen > 50
