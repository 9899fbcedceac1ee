"""Reconcile on a real SQLite ledger filled the way collect fills it (tables of ledger.py), with
the bundled notice's master; the consolidated workbook read back with openpyxl."""
import hashlib
import itertools

import openpyxl
import pytest
from click.testing import CliRunner

from minshi_xls import MinshiError, consolidated, ledger, notice, reconcile, report, summary
from minshi_xls.cli import cli
from minshi_xls.settings import NOT_REPORTED, STATUS_COLORS

_seq = itertools.count()


@pytest.fixture(scope="module")
def master():
    return notice.load_bundled()


class Ledger:
    """Writes returns and their cell values as collect does (files, receipts, returns, cells)."""

    def __init__(self, path):
        self.path = path
        self.con = ledger.connect(path)

    def add(self, unit, period, rows, received="2024-07-03T09:00:00", status="accepted",
            late=False, sheet="牵头任务"):
        """rows: (indicator_id, {header: value}); numbers go to ``number``, all to ``raw``."""
        n = next(_seq)
        sha = hashlib.sha256(f"{unit}{period}{n}".encode()).hexdigest()
        src = f"returns/{period}_{unit}_民生实事填报表_{n}.xlsx"
        with ledger.transaction(self.con) as c:
            fid = c.execute("INSERT INTO files (sha256, size, format, archive_path, first_seen)"
                            " VALUES (?, 1, 'xlsx', ?, ?)",
                            (sha, f"archive/{period}/{unit}/{n}.xlsx", received)).lastrowid
            rid = c.execute("INSERT INTO receipts (file_id, source_path, received_at,"
                            " collected_at) VALUES (?, ?, ?, ?)",
                            (fid, src, received, received)).lastrowid
            ret = c.execute("INSERT INTO returns (receipt_id, file_id, unit, period, received_at,"
                            " late, status, accepted_rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (rid, fid, unit, period, received, int(late), status,
                             len(rows))).lastrowid
            for r, (ind_id, fields) in enumerate(rows, start=5):
                for col, (header, value) in enumerate(fields.items()):
                    number = value if isinstance(value, (int, float)) else None
                    c.execute("INSERT INTO cell_values (return_id, sheet, cell, indicator_id,"
                              " field, raw, number) VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (ret, sheet, f"{'LMNOPQ'[col]}{r}", ind_id, header, str(value),
                               number))
        self.last_return = ret
        return src

    def issue(self, code, unit, period, message, cell="L5", severity="warning"):
        """An issue as collect records it, on the return added last."""
        with ledger.transaction(self.con) as c:
            c.execute("INSERT INTO issues (return_id, source, code, severity, unit, period,"
                      " sheet, cell, message) VALUES (?, 'collect', ?, ?, ?, ?, '牵头任务', ?, ?)",
                      (self.last_return, code, severity, unit, period, cell, message))


@pytest.fixture
def book(tmp_path):
    return Ledger(tmp_path / "output" / "minshi.sqlite")


def run(master, book, period, tmp_path, **kw):
    return report.reconcile(master, period, book.path, tmp_path / "output" / period, **kw)


def row_of(rec, ind_id):
    return next(r for r in rec.rows if r.indicator.id == ind_id)


def codes(rec):
    return sorted((i.code, i.unit, i.indicator_id) for i in rec.issues
                  if i.code != "not-returned")


def test_multi_lead_task_shows_first_lead_in_master_order_and_flags_disagreement(
        master, book, tmp_path):
    assert master.task("市-17.1").lead_units == ["市委人才办", "市人社局", "市住建局"]
    book.add("市住建局", "2024-06", [("市-17.1#0", {"本月累计完成": 55})])
    src = book.add("市人社局", "2024-06", [("市-17.1#0", {"本月累计完成": 45})])
    rec = run(master, book, "2024-06", tmp_path).reconciliation
    row = row_of(rec, "市-17.1#0")
    assert row.cumulative == 45 and row.source.unit == "市人社局"  # 市委人才办 sent nothing
    assert src.endswith(row.source.file.split("/")[-1])
    (mm,) = [i for i in rec.issues if i.code == "lead-mismatch"]
    assert (mm.unit, mm.cell, mm.value) == ("市住建局", "L5", "55")
    assert "市人社局 45" in mm.message and "市住建局 55" in mm.message
    # The other lead unit's figure is in 明细, not lost.
    detail = consolidated.detail_rows(rec)
    assert {(d["value"].unit, d["value"].number, d["used"]) for d in detail
            if d["value"].indicator_id == "市-17.1#0"} == {("市人社局", 45, True),
                                                           ("市住建局", 55, False)}


def test_missing_month_carries_forward_and_unit_shows_not_reported(master, book, tmp_path):
    book.add("市体育局", "2024-05", [("省-45#1", {"本月累计完成": 6})], received="2024-06-03T10:00")
    book.add("市体育局", "2024-06", [("省-45#1", {"本月累计完成": 8})],
             received="2024-07-01T10:00", status="superseded")  # only a superseded version
    run(master, book, "2024-05", tmp_path)
    rec = run(master, book, "2024-06", tmp_path).reconciliation
    row = row_of(rec, "省-45#1")
    assert (row.cumulative, row.previous, row.carried_forward, row.added) == (6, 6, True, None)
    assert row.source_label().startswith("上月结转")
    ur = next(u for u in rec.returns if u.unit == "市体育局")
    assert ur.expected and not ur.returned and ur.versions == 1
    assert ("not-returned", "市体育局") in {(i.code, i.unit) for i in rec.issues}
    # History is stored: June knows it carried, and the same figure was reconciled.
    con = ledger.connect(book.path)
    got = con.execute("SELECT cumulative, carried_forward FROM reconciled WHERE period='2024-06'"
                      " AND indicator_id='省-45#1'").fetchone()
    assert tuple(got) == (6, 1)


def test_carry_forward_works_without_last_month_reconciled(master, book, tmp_path):
    book.add("市体育局", "2024-04", [("省-45#1", {"本月累计完成": 4})], received="2024-05-03")
    rec = run(master, book, "2024-06", tmp_path).reconciliation  # May and April never reconciled
    row = row_of(rec, "省-45#1")
    assert (row.cumulative, row.carried_forward) == (4, True)


def test_month_over_month_uses_the_reconciled_previous_figure(master, book, tmp_path):
    book.add("市卫健委", "2024-05", [("省-14#1", {"本月累计完成": 1})], received="2024-06-03")
    run(master, book, "2024-05", tmp_path)
    book.add("市卫健委", "2024-06", [("省-14#1", {"本月累计完成": 2})])
    rec = run(master, book, "2024-06", tmp_path).reconciliation
    row = row_of(rec, "省-14#1")
    assert (row.previous, row.cumulative, row.added) == (1, 2, 1)
    assert row.progress.rate == pytest.approx(2 / 3)
    assert row.progress.scheduled == pytest.approx(0.5)


@pytest.mark.parametrize("figures,tolerance,flagged", [
    ((1, 1, 0), 0.0, True), ((1, 1, 1), 0.0, False), ((1, 1, 0), 1.0, False)])
def test_county_sum_mismatch(master, book, tmp_path, figures, tolerance, flagged):
    task = master.task("省-14")  # 院前急救站 3 个; co: 东海县、赣榆区、海州区
    counties = reconcile.territorial_sharers(master, task, task.lead_units)
    assert counties == ["东海县", "赣榆区", "海州区"]
    book.add("市卫健委", "2024-06", [("省-14#1", {"本月累计完成": 3})])
    for u, f in zip(counties, figures):
        book.add(u, "2024-06", [("省-14#1", {"本单位累计完成": f})], sheet="配合任务")
    cfg = {"rules": {"county_sum_tolerance": tolerance, "status_tolerance_points": 5.0},
           "templates": {}}
    rec = run(master, book, "2024-06", tmp_path, config=cfg).reconciliation
    cr = next(c for c in rec.county_rows if c.row.indicator.id == "省-14#1")
    assert (cr.total, cr.difference) == (sum(figures), sum(figures) - 3)
    found = [i for i in rec.issues if i.code == "county-sum-mismatch"]
    assert bool(found) == flagged
    if flagged:
        assert found[0].unit == "市卫健委" and "海州区 0" in found[0].message


def test_partial_county_figures_are_not_a_mismatch(master, book, tmp_path):
    book.add("市卫健委", "2024-06", [("省-14#1", {"本月累计完成": 3})])
    book.add("东海县", "2024-06", [("省-14#1", {"本单位累计完成": 1})], sheet="配合任务")
    rec = run(master, book, "2024-06", tmp_path).reconciliation
    assert not [i for i in rec.issues if i.code == "county-sum-mismatch"]


def test_status_a_unit_chose_is_kept_and_a_disagreement_flagged(master, book, tmp_path):
    book.add("市人社局", "2024-06", [("省-9#1", {"本月累计完成": 900, "推进状态": "序时推进"}),
                                    ("省-8.2#1", {"本月累计完成": 750, "推进状态": "序时推进"})])
    rec = run(master, book, "2024-06", tmp_path).reconciliation
    bad, good = row_of(rec, "省-9#1"), row_of(rec, "省-8.2#1")
    assert (bad.unit_status, bad.status) == ("序时推进", "滞后")  # 25.7 % against 50 %
    assert (good.unit_status, good.status) == ("序时推进", "序时推进")
    (i,) = [i for i in rec.issues if i.code == "status-disagrees"]
    assert (i.unit, i.indicator_id, i.cell, i.severity) == ("市人社局", "省-9#1", "M5", "info")


def test_never_reported_is_counted_apart(master, book, tmp_path):
    book.add("市人社局", "2024-06", [("省-9#1", {"本月累计完成": 3500})])
    rec = run(master, book, "2024-06", tmp_path).reconciliation
    prov = next(h for h in rec.headlines if h.level == "省")
    assert row_of(rec, "省-9#1").status == "已完成"
    assert row_of(rec, "省-1#1").status == NOT_REPORTED
    assert prov.local_tasks == 56 and prov.tasks == 65
    assert prov.task_status["已完成"] == 1
    assert prov.task_status[NOT_REPORTED] == 55
    assert rec.task_status["省-6.1"] == "省本级实施"


def test_rerun_replaces_issues_and_gives_the_same_workbook(master, book, tmp_path):
    book.add("市住建局", "2024-06", [("市-17.1#0", {"本月累计完成": 55})])
    book.add("市人社局", "2024-06", [("市-17.1#0", {"本月累计完成": 45})])
    first = run(master, book, "2024-06", tmp_path)
    before = cells(first.workbook)
    con = ledger.connect(book.path)
    n = con.execute("SELECT COUNT(*) FROM issues WHERE source='reconcile'").fetchone()[0]
    second = run(master, book, "2024-06", tmp_path)
    assert con.execute("SELECT COUNT(*) FROM issues WHERE source='reconcile'").fetchone()[0] == n
    assert n == len(first.reconciliation.issues) > 40  # every silent unit + the mismatch
    after = cells(second.workbook)
    stamp = [k for k in before if k[0] == "汇总" and "生成时间" in str(before[k])]
    assert len(stamp) == 1
    for k in stamp:
        before.pop(k), after.pop(k)
    assert before == after


def cells(path):
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if c.value is not None}


def test_workbook_layout_formats_and_text_safety(master, book, tmp_path):
    book.add("市卫健委", "2024-06", [
        ("省-1#1", {"本月累计完成": 9, "推进状态": "已完成", "进展情况": "=HYPERLINK(\"x\")",
                    "存在问题": "+1 无"})])
    res = run(master, book, "2024-06", tmp_path)
    assert res.workbook.name == "2024年1-6月民生实事进展汇总表.xlsx"
    wb = openpyxl.load_workbook(res.workbook)
    assert wb.sheetnames == ["汇总", "省民生实事", "市民生实事", "县区分解", "报送情况", "指标数据",
                             "校验问题", "明细"]
    # The leader's sheet: a task's text once over its indicators, the qualifier shown with the
    # target, status colours, no file names.
    ws = wb["省民生实事"]
    assert [c.value for c in ws[3]] == [
        "序号", "任务内容", "牵头单位", "指标", "年度目标", "计量单位", "本月累计", "本月新增",
        "完成率", "序时进度", "偏差(百分点)", "状态", "情况说明"]
    assert ws["A4"].value == "（一）幼有所育（4项）"
    hdr = {c.value: c.column for c in ws[3]}
    r = next(c.row for c in ws["A"] if c.value == "1")
    rate = ws.cell(r, hdr["完成率"])
    assert rate.value == pytest.approx(1.5) and rate.number_format == "0.0%"  # not capped
    assert ws.cell(r, hdr["序时进度"]).value == pytest.approx(0.5)
    status = ws.cell(r, hdr["状态"])
    assert status.value == "已完成"
    assert status.fill.fgColor.rgb.endswith(STATUS_COLORS["已完成"])
    merged = {str(m) for m in ws.merged_cells.ranges}
    several = next(t for t in master.tasks if t.level == "省" and len(t.report_rows()) > 1)
    r2 = next(c.row for c in ws["A"] if c.value == several.number)
    span = len(several.report_rows())
    assert f"B{r2}:B{r2 + span - 1}" in merged and ws.cell(r2, 2).value == several.text
    assert [ws.cell(r2 + i, hdr["指标"]).value for i in range(span)] == [
        i.name for i in several.report_rows()]
    above = next(ind for t in master.tasks for ind in t.indicators if ind.qualifier == ">="
                 and t.level == "省")
    ra = next(c.row for c in ws["D"] if c.value == above.name)
    assert ws.cell(ra, hdr["年度目标"]).value == above.target_number  # a number, shown "…以上"
    assert ws.cell(ra, hdr["年度目标"]).number_format.endswith('"以上"')
    grey = next(c.row for c in ws["A"] if c.value == "6.1")  # 省本级实施
    assert ws.cell(grey, hdr["状态"]).value == "省本级实施"
    assert ws.cell(grey, hdr["任务内容"]).font.color.rgb.endswith("808080")
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value]
    assert not [t for t in texts if ".xlsx" in t]
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", (sheet.title, c.coordinate)
                assert not c.font.i, (sheet.title, c.coordinate)  # no slanted CJK
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$3:$3" and ws.freeze_panes == "D4"
    # The data view: every field, where each figure came from, an autofilter.
    ws = wb["指标数据"]
    hdr = {c.value: c.column for c in ws[3]}
    r = next(c.row for c in ws["C"] if c.value == "省-1#1")
    assert ws.cell(r, hdr["进展情况"]).value == "=HYPERLINK(\"x\")"
    assert ws.cell(r, hdr["进展情况"]).data_type == "s"  # typed text never becomes a formula
    assert ws.cell(r, hdr["存在问题"]).value == "+1 无"
    assert ws.cell(r, hdr["数据来源"]).value.startswith("市卫健委：")
    assert ws.auto_filter.ref.startswith("A3:")
    assert wb["校验问题"].auto_filter.ref.startswith("A3:")
    assert res.csv.read_text(encoding="utf-8-sig").splitlines()[0].startswith("月份,单位,任务编号")


def test_returns_sheet_lists_the_units_to_chase_first(master, book, tmp_path):
    book.add("市人社局", "2024-06", [("省-9#1", {"本月累计完成": 1750})])
    book.add("市卫健委", "2024-06", [("省-1#1", {"本月累计完成": 9})], late=True)
    book.add("市民政局", "2024-06", [("省-4#1", {"本月累计完成": 1})], status="rejected")
    res = run(master, book, "2024-06", tmp_path)
    ws = openpyxl.load_workbook(res.workbook)["报送情况"]
    hdr = [c.value for c in ws[3]]
    rows = [dict(zip(hdr, [c.value for c in row])) for row in ws.iter_rows(min_row=4)]
    states = [r["报送状态"] for r in rows]
    assert states == sorted(states, key=["未报送", "有错误", "逾期报送", "已报送"].index)
    assert states[-2:] == ["逾期报送", "已报送"] and states.count("有错误") == 1
    assert [r["单位"] for r in rows if r["报送状态"] != "未报送"] == ["市民政局", "市卫健委", "市人社局"]
    assert [r["序号"] for r in rows] == list(range(1, len(rows) + 1))
    assert ws.page_setup.orientation == "portrait" and "文件" not in hdr


def test_issues_sheet_groups_each_units_problems(master, book, tmp_path):
    book.add("市住建局", "2024-06", [("市-17.1#0", {"本月累计完成": 55})])
    book.add("市人社局", "2024-06", [("市-17.1#0", {"本月累计完成": 45, "推进状态": "已完成"}),
                                    ("省-9#1", {"本月累计完成": 900, "推进状态": "序时推进"})])
    res = run(master, book, "2024-06", tmp_path)
    ws = openpyxl.load_workbook(res.workbook)["校验问题"]
    units = [ws.cell(r, 1).value for r in range(4, ws.max_row + 1)]
    assert units.count("市人社局") == 2 and units.count("市住建局") == 1
    assert [ws.cell(r, 4).value for r in range(4, ws.max_row + 1)
            if ws.cell(r, 1).value == "市人社局"] == ["M5", "M6"]  # row order within a unit
    seen = []
    for u in units:  # every unit's rows are contiguous
        if not seen or seen[-1] != u:
            assert u not in seen
            seen.append(u)


def test_open_workbook_is_a_clear_error_and_the_old_file_stays(master, book, tmp_path):
    first = run(master, book, "2024-06", tmp_path)
    data = first.workbook.read_bytes()
    lock = first.workbook.with_name(f".~lock.{first.workbook.name}#")
    lock.write_text("someone,host,2024", encoding="utf-8")
    with pytest.raises(MinshiError, match="正在被其他程序打开"):
        run(master, book, "2024-06", tmp_path)
    assert first.workbook.read_bytes() == data
    assert not [p for p in first.workbook.parent.iterdir() if ".tmp" in p.name]


def test_summary_paragraph_agrees_with_the_workbook(master, book, tmp_path):
    book.add("市人社局", "2024-06", [("省-9#1", {"本月累计完成": 3500}),
                                    ("省-8.2#1", {"本月累计完成": 300})])
    res = run(master, book, "2024-06", tmp_path)
    text = summary.paragraph(res.reconciliation)
    assert text.startswith("截至2024年6月底，65项省民生实事中（我市承担56项），已完成1项、超序时0项、"
                           "序时推进0项、滞后1项")
    assert "1.兜底帮扶1500名困难群体就业（省第8.2项，牵头单位：市人社局），滞后序时进度30个百分点" in text
    ws = openpyxl.load_workbook(res.workbook)["汇总"]
    hdr = [c.value for c in ws[5]]
    prov = [c.value for c in ws[6]]
    assert prov[0] == "省民生实事"
    for status in ("已完成", "超序时", "序时推进", "滞后"):
        assert f"{status}{prov[hdr.index(status)]}项" in text
    assert paragraph_in(ws) == text


def paragraph_in(ws):
    """The 通报 as printed in 汇总: the rows between its heading and the next section."""
    col = [c.value for c in ws["A"]]
    start, end = col.index("二、通报"), col.index("三、报送与校验")
    return "".join(v for v in col[start + 1:end] if v)


def test_cli_reconcile_summary_status(master, workdir):
    from minshi_xls.master import write_master
    write_master(master, "output/master.xlsx")
    book = Ledger(workdir / "output" / "minshi.sqlite")
    book.add("市人社局", "2024-06", [("省-9#1", {"本月累计完成": 1750})])
    runner = CliRunner()
    r = runner.invoke(cli, ["reconcile", "--period", "2024-06"])
    assert r.exit_code == 0, r.output
    assert (workdir / "output/2024-06/2024年1-6月民生实事进展汇总表.xlsx").is_file()
    assert "报送：1/42 个单位" in r.output
    r = runner.invoke(cli, ["summary", "--period", "2024-06"])
    assert r.exit_code == 0 and r.output.startswith("截至2024年6月底")
    saved = (workdir / "output/2024-06/通报_2024-06.txt").read_text(encoding="utf-8")
    assert saved.strip() in r.output
    r = runner.invoke(cli, ["status", "--period", "2024-06"])
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert lines[0].split()[:2] == ["单位", "报送"]
    assert lines[-1].startswith("2024-06：应报 42 个单位，已报 1 个，未报 41 个")
    r = runner.invoke(cli, ["status", "--period", "2024-06", "--db", "nowhere.sqlite"])
    assert r.exit_code == 2 and "找不到台账" in r.output
    r = runner.invoke(cli, ["reconcile", "--period", "2024-6"])
    assert r.exit_code == 2


def test_quarterly_plan_reported_by_the_lead_sets_the_schedule(master, book, tmp_path):
    plan = {"一季度末计划": 200, "二季度末计划": 900, "三季度末计划": 2500, "四季度末计划": 3500}
    book.add("市人社局", "2024-05", [("省-9#1", {**plan, "本月累计完成": 600}),
                                    ("省-8.2#1", {"一季度末计划": 300, "本月累计完成": 600})])
    rec = run(master, book, "2024-05", tmp_path).reconciliation
    row = row_of(rec, "省-9#1")
    # May lies 2/3 of the way from the Q1 plan (200) to the Q2 plan (900).
    assert row.progress.scheduled == pytest.approx((200 + 700 * 2 / 3) / 3500)
    assert row.status == "序时推进"  # 17.1 % against 17.1 %; the straight line says 41.7 %
    other = row_of(rec, "省-8.2#1")  # an incomplete plan: target × 5/12
    assert other.progress.scheduled == pytest.approx(5 / 12)


def test_a_plan_given_once_keeps_counting_in_later_months(master, book, tmp_path):
    plan = {"一季度末计划": 200, "二季度末计划": 900, "三季度末计划": 2500, "四季度末计划": 3500}
    book.add("市人社局", "2024-04", [("省-9#1", {**plan, "本月累计完成": 400})], received="2024-05-02")
    book.add("市人社局", "2024-06", [("省-9#1", {"本月累计完成": 800})])
    rec = run(master, book, "2024-06", tmp_path).reconciliation
    assert row_of(rec, "省-9#1").progress.scheduled == pytest.approx(900 / 3500)


def test_a_file_that_is_not_a_ledger_is_a_clear_error(master, workdir):
    from minshi_xls.master import write_master
    write_master(master, "output/master.xlsx")
    (workdir / "output" / "minshi.sqlite").write_bytes(b"PK\x03\x04 not a database at all" * 100)
    r = CliRunner().invoke(cli, ["reconcile", "--period", "2024-06"])
    assert r.exit_code == 2 and "无法打开" in r.output


def test_workbook_names_follow_the_months_covered():
    assert consolidated.workbook_name("2024-06") == "2024年1-6月民生实事进展汇总表.xlsx"
    assert consolidated.workbook_name("2024-01") == "2024年1月民生实事进展汇总表.xlsx"


def test_issues_replaced_or_explained_are_not_open(master, book, tmp_path):
    from minshi_xls import rules
    book.add("市人社局", "2024-06", [("省-9#1", {"本月累计完成": 90})], received="2024-07-01",
             status="superseded")
    book.issue("not-a-number", "市人社局", "2024-06", "“本月累计完成”应填写数字", severity="error")
    book.add("市人社局", "2024-06", [("省-9#1", {"本月累计完成": 1750})], received="2024-07-02")
    book.issue("exceeds-target", "市人社局", "2024-06",
               "远超目标" + rules.EXPLAINED.format(note="含上年结转"), cell="L6")
    book.issue("missing-text", "市人社局", "2024-06", "未填写进展情况", cell="O5")
    res = run(master, book, "2024-06", tmp_path)
    mine = [(i["code"], i["state"]) for i in res.reconciliation.all_issues
            if i["unit"] == "市人社局"]
    assert mine == [("missing-text", "待处理"), ("exceeds-target", "已说明"),
                    ("not-a-number", "已替代")]
    ur = next(u for u in res.reconciliation.returns if u.unit == "市人社局")
    assert (ur.versions, ur.errors, ur.warnings) == (2, 0, 2)
    ws = openpyxl.load_workbook(res.workbook)["校验问题"]
    states = {ws.cell(r, 6).value: ws.cell(r, 12).value for r in range(4, ws.max_row + 1)
              if ws.cell(r, 1).value == "市人社局"}
    assert states == {"missing-text": "待处理", "exceeds-target": "已说明", "not-a-number": "已替代"}


def test_county_sheet_shows_figures_allocations_and_the_difference(master, book, tmp_path):
    import copy
    from minshi_xls.model import Allocation
    m = copy.deepcopy(master)
    m.allocations = [Allocation("省-14#1", "东海县", 1), Allocation("省-14#1", "赣榆区", 1),
                     Allocation("省-14#1", "海州区", 1)]
    book.add("市卫健委", "2024-06", [("省-14#1", {"本月累计完成": 2})])
    book.add("东海县", "2024-06", [("省-14#1", {"本单位累计完成": 1})], sheet="配合任务")
    book.add("海州区", "2024-06", [("省-14#1", {"本单位累计完成": 0.5})], sheet="配合任务")
    res = run(m, book, "2024-06", tmp_path)
    ws = openpyxl.load_workbook(res.workbook)["县区分解"]
    heads = [c.value for c in ws[3]]
    assert heads[:3] == ["指标编号", "指标", "牵头单位累计"]  # lead units: on the 省/市 sheets
    assert heads[-2:] == ["县区合计", "差额"] and "东海县" in heads and "云台山景区" in heads
    r = next(c.row for c in ws["A"] if c.value == "省-14#1")
    got = {h: ws.cell(r, i + 1).value for i, h in enumerate(heads)}
    assert (got["牵头单位累计"], got["东海县"], got["海州区"], got["赣榆区"]) == (2, 1, 0.5, "未报")
    assert got["灌云县"] is None  # does not share this task
    assert (got["县区合计"], got["差额"]) == (1.5, -0.5)
    alloc = {h: ws.cell(r + 1, i + 1).value for i, h in enumerate(heads)}
    assert alloc["指标"] == "（分配目标）" and alloc["东海县"] == 1 and alloc["县区合计"] == 3
    # 赣榆区 has not reported: a partial sum is not a mismatch.
    assert not [i for i in res.reconciliation.issues if i.code == "county-sum-mismatch"]


def test_an_output_folder_that_cannot_be_made_is_a_clear_error(master, book, tmp_path):
    blocker = tmp_path / "output" / "2024-06"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    book.add("市人社局", "2024-06", [("省-9#1", {"本月累计完成": 1750})])
    with pytest.raises(MinshiError, match="无法创建输出文件夹"):
        run(master, book, "2024-06", tmp_path)
    con = ledger.connect(book.path)  # nothing half-done in the ledger either
    assert con.execute("SELECT COUNT(*) FROM reconciled").fetchone()[0] == 0
    assert con.execute("SELECT COUNT(*) FROM issues WHERE source='reconcile'").fetchone()[0] == 0
