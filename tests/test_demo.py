"""The one-command demo, end to end: the consolidated workbook against what the simulated units
typed into their returned workbooks (read back independently with openpyxl), the planted
mistakes at their cells, the silent unit, the 通报, and the printed pages in LibreOffice."""
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from minshi_xls import columns as C, demo, report
from minshi_xls.cli import cli
from minshi_xls.master import read_master
import office_render
from test_reconcile import paragraph_in

JUNE, MAY = "2024-06", "2024-05"
WORKBOOK = "2024年1-6月民生实事进展汇总表.xlsx"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo") / "cycle"
    r = CliRunner().invoke(cli, ["demo", str(folder)])
    assert r.exit_code == 0, r.output
    return folder, r.output


@pytest.fixture(scope="module")
def master(run):
    return read_master(run[0] / "output" / "master.xlsx")


@pytest.fixture(scope="module")
def book(run):
    return openpyxl.load_workbook(run[0] / "output" / JUNE / WORKBOOK)


def table(ws, header_row=3):
    """Sheet rows as dicts by header text (category rows have no 指标编号 and are skipped)."""
    heads = [c.value for c in ws[header_row]]
    out = []
    for row in ws.iter_rows(min_row=header_row + 1, values_only=True):
        d = dict(zip(heads, row))
        out.append(d)
    return out


def typed(folder: Path, period: str):
    """What each unit typed: {(unit, sheet, indicator id): {header: value, "_cell": {...}}}."""
    out = {}
    for f in sorted((folder / "returns" / period).glob("*.xlsx")):
        unit = f.name.split("_")[1]
        wb = openpyxl.load_workbook(f)
        for ws in wb.worksheets:
            if ws.title not in ("牵头任务", "配合任务"):
                continue
            heads = {C.plain_header(c.value): c.column_letter for c in ws[4] if c.value}
            for r in range(5, ws.max_row + 1):
                ind = ws[f"{heads['指标编号']}{r}"].value
                if ind:
                    vals = {h: ws[f"{col}{r}"].value for h, col in heads.items()}
                    vals["_cell"] = {h: f"{col}{r}" for h, col in heads.items()}
                    out[(unit, ws.title, ind)] = vals
    return out


def number(v, unit):
    """How an office reads a typed figure: a number, or a number followed by the row's unit."""
    if v is None or v == "":
        return None
    if isinstance(v, (int, float)):
        return float(v)
    m = re.fullmatch(r"\s*([0-9.]+)\s*" + re.escape(unit) + r"\s*", str(v))
    return float(m.group(1)) if m else None


#: A changed locked cell (a target) rejects the whole return: none of its values count.
REJECTED = {unit for code, _, unit in demo.MISTAKES if code == "template-modified"}


def lead_figure(master, task, ind, values, rejected=()):
    for u in task.lead_units:
        if u in rejected:
            continue
        got = values.get((u, "牵头任务", ind.id))
        if got is not None:
            n = number(got["本月累计完成"], ind.unit)
            if n is not None:
                return n, u
    return None, None


PLAN = ("一季度末计划", "二季度末计划", "三季度末计划", "四季度末计划")


def lead_plan(task, ind, *months):
    """The quarterly plan the first lead unit typed in full (latest month first)."""
    for u in task.lead_units:
        for values in months:
            got = values.get((u, "牵头任务", ind.id))
            if got and all(isinstance(got.get(h), (int, float)) for h in PLAN):
                return [got[h] for h in PLAN]
    return None


def test_demo_prints_where_the_workbook_is_and_the_headline(run):
    folder, output = run
    assert str(folder / "output" / JUNE / WORKBOOK) in output
    assert re.search(r"省民生实事 65 项（我市承担 56 项）：已完成\d+项", output)
    assert "报送：41/42 个单位" in output
    assert (folder / "output" / JUNE / f"通报_{JUNE}.txt").is_file()


def test_every_figure_matches_what_the_units_reported(run, master, book):
    folder = run[0]
    june, may = typed(folder, JUNE), typed(folder, MAY)
    rows = {r["指标编号"]: r for r in table(book["指标数据"]) if r.get("指标编号")}
    checked = carried = planned = 0
    for task, ind in master.rows():
        row = rows[ind.id]
        if not task.is_local:
            assert row["状态"] in ("省本级实施", "我市不承担相关任务") and row["本月累计"] is None
            continue
        now, unit = lead_figure(master, task, ind, june, REJECTED)
        before, _ = lead_figure(master, task, ind, may)
        if now is None:  # the silent unit, or a rejected return: May's figure carried forward
            assert unit is None and before is not None
            now, carried = before, carried + 1
            assert row["数据来源"].startswith("上月结转"), row["数据来源"]
        else:
            assert row["数据来源"].startswith(unit + "：")
        target = ind.target_number
        assert row["本月累计"] == pytest.approx(now), ind.id
        assert row["上月累计"] == pytest.approx(before), ind.id
        assert row["年度目标"] == pytest.approx(target)
        assert row["完成率"] == pytest.approx(now / target), ind.id  # not capped
        plan = lead_plan(task, ind, june, may)
        scheduled = plan[1] / target if plan else 6 / 12  # June is the end of Q2
        assert row["序时进度"] == pytest.approx(scheduled), ind.id
        assert row["偏差(百分点)"] == pytest.approx((now / target - scheduled) * 100)
        planned += bool(plan)
        checked += 1
    assert checked == 157 and planned > 20  # lead units typed a quarterly plan in May
    absent = {demo.SILENT, *REJECTED}
    assert carried == sum(len(t.report_rows()) for t in master.local_tasks()
                          if set(t.lead_units) <= absent) > 0
    # The figure typed in 元 for a 万元 row is shown as typed, with its huge 完成率.
    assert rows["市-3.2#1"]["完成率"] > 100


def test_county_breakdown_is_what_the_counties_typed(run, master, book):
    june = typed(run[0], JUNE)
    ws = book["县区分解"]
    heads = [c.value for c in ws[3]]
    seen = 0
    for r in table(ws):
        if not r.get("指标编号"):
            continue
        ind = master.indicator(r["指标编号"])
        figures = {u: number(june[(u, "配合任务", ind.id)]["本单位累计完成"], ind.unit)
                   for u in heads[heads.index("牵头单位累计") + 1:heads.index("县区合计")]
                   if (u, "配合任务", ind.id) in june}
        for u, f in figures.items():
            assert r[u] == pytest.approx(f), (ind.id, u)
        assert r["县区合计"] == pytest.approx(sum(figures.values()))
        seen += 1
    assert seen > 50


def test_every_planted_mistake_is_in_the_issue_sheet_at_its_cell(run, book):
    june = typed(run[0], JUNE)
    issues = {(r["单位"], r["工作表"], r["单元格"], r["问题代码"]) for r in table(book["校验问题"])}
    where = {"template-modified": "年度目标", "status-inconsistent": "推进状态",
             "missing-text": "进展情况"}
    for code, ind, unit in demo.MISTAKES:
        vals = june[(unit, "牵头任务", ind)]
        cell = vals["_cell"][where.get(code, "本月累计完成")]
        assert (unit, "牵头任务", cell, code) in issues, (code, unit, cell)
    assert june[("市卫健委", "牵头任务", "省-1#1")]["本月累计完成"].endswith("家")
    assert june[("市残联", "牵头任务", "省-27#1")]["年度目标"] != 6


def test_silent_and_late_units(run, book):
    returns = {r["单位"]: r for r in table(book["报送情况"])}
    assert returns[demo.SILENT]["是否报送"] == "否"
    assert sum(r["是否报送"] == "否" for r in returns.values()) == 1
    for u in demo.LATE:
        assert returns[u]["是否逾期"] == "是"
    assert sum(r["是否逾期"] == "是" for r in returns.values()) == len(demo.LATE)
    issues = table(book["校验问题"])
    assert [r["单位"] for r in issues if r["问题代码"] == "not-returned"] == [demo.SILENT]
    assert {r["单位"] for r in issues if r["问题代码"] == "late-return"} == set(demo.LATE)


def test_summary_numbers_agree_with_the_workbook(run, book):
    text = (run[0] / "output" / JUNE / f"通报_{JUNE}.txt").read_text(encoding="utf-8").strip()
    ws = book["汇总"]
    heads = [c.value for c in ws[5]]
    for r in (6, 7):
        vals = dict(zip(heads, [c.value for c in ws[r]]))
        level = vals["层级"][0]
        sentence = re.search(f"(\\d+)项{level}民生实事中[^；。]*", text).group(0)
        assert sentence.startswith(f"{vals['任务总数']}项")
        for status in ("已完成", "超序时", "序时推进", "滞后"):
            assert f"{status}{vals[status]}项" in sentence
    assert paragraph_in(ws) == text
    assert text.endswith(f"本月应报送单位42个，已报送41个，未报送：{demo.SILENT}。")
    lagging = text.count("滞后序时进度") + text.count("尚未启动")
    behind = sum(ws.cell(r, heads.index(s) + 1).value for r in (6, 7) for s in ("滞后", "未启动"))
    assert lagging == behind


def snapshot(wb):
    """Everything a reader sees of a workbook: per sheet, every cell's value, number format,
    fill and font, the merged ranges and the print titles; the generation time left out."""
    out = {}
    for ws in wb.worksheets:
        cells = [(c.coordinate, c.value, c.number_format, c.fill.fgColor.rgb, c.font.b,
                  c.font.i, c.font.color.rgb if c.font.color else None)
                 for row in ws.iter_rows() for c in row
                 if not (isinstance(c.value, str) and "生成时间" in c.value)]
        out[ws.title] = (cells, sorted(map(str, ws.merged_cells.ranges)), ws.print_title_rows,
                         ws.freeze_panes)
    return out


def test_reconciling_again_gives_the_same_workbook(run, master, book, tmp_path):
    folder = run[0]
    again = report.reconcile(master, JUNE, folder / "output" / "minshi.sqlite", tmp_path)
    first = snapshot(book)
    second = snapshot(openpyxl.load_workbook(again.workbook))
    assert list(second) == list(first)
    for title in first:  # sheet by sheet, so a failure names the sheet
        assert second[title] == first[title], title
    assert sum(len(cells) for cells, *_ in first.values()) > 30000  # 明细 and all
    assert again.csv.read_bytes() == (folder / "output" / JUNE / WORKBOOK.replace(
        ".xlsx", "_明细.csv")).read_bytes()


@pytest.fixture(scope="module")
def printed(run, tmp_path_factory):
    """The leader's pages as LibreOffice prints them (the first 30: the work sheets after them
    are long tables for the screen), page texts and printed line boxes."""
    if not office_render.TOOLS:
        pytest.skip("LibreOffice/poppler not installed (.ci/run installs them)")
    src = run[0] / "output" / JUNE / WORKBOOK
    pdf = office_render.to_pdf(src, tmp_path_factory.mktemp("pdf"), pages="1-30")
    return office_render.page_texts(pdf), office_render.line_boxes(pdf), \
        office_render.cjk_sizes(pdf)


#: Pages each leader's sheet of the demo may take (measured: see docs/reconcile.md): 13 in all,
#: from 17 (汇总 on one page, 县区分解 a portrait matrix, the tables at 8.5 pt).
PAGE_BOUNDS = {"汇总": 1, "省民生实事": 3, "市民生实事": 5, "县区分解": 3, "报送情况": 1}


def test_leader_sheets_print_on_few_pages(printed):
    texts, _, _ = printed
    pages = office_render.pages_per_sheet(texts, "民生实事进展汇总表")
    for sheet, most in PAGE_BOUNDS.items():
        assert 1 <= pages.get(sheet, 0) <= most, (sheet, pages)
    leader = sum(pages[s] for s in PAGE_BOUNDS)
    assert leader <= sum(PAGE_BOUNDS.values())
    # The leader's pages come first; the work sheets (指标数据, 校验问题, 明细) follow them.
    order = [office_render.pages_per_sheet([t], "民生实事进展汇总表") for t in texts]
    names = [next(iter(o)) for o in order if o]
    assert names[:leader] == [s for s in PAGE_BOUNDS for _ in range(pages[s])]


def test_leader_pages_show_every_text_in_full_and_nothing_overprinted(printed, run, master):
    texts, boxes, _ = printed
    for n, lines in enumerate(boxes[:sum(PAGE_BOUNDS.values())]):
        assert not office_render.overlapping(lines), (n + 1, office_render.overlapping(lines))
    for n, t in enumerate(texts[:sum(PAGE_BOUNDS.values())], 1):  # every figure in full, even
        assert not re.search(r"###|\dE[+-]\d", t), n  # the 元/万元 slip's 4990000 and -4989501
    pages = office_render.pages_per_sheet
    summary = [t for t in texts if pages([t], "民生实事进展汇总表") == {"汇总": 1}]
    assert "2024年1-6月民生实事进展汇总表" in summary[0] and "一、总体情况" in summary[0]
    assert "二、通报" in summary[0] and "截至2024年6月底" in summary[0]
    assert "四、分类推进情况" in "".join(summary)
    for level, sheet in (("省", "省民生实事"), ("市", "市民生实事")):
        mine = [t for t in texts if pages([t], "民生实事进展汇总表") == {sheet: 1}]
        assert f"2024年1-6月{level}民生实事进展情况" in mine[0]
        for t in mine:  # the header row is repeated on every printed page
            assert "任务内容" in t and "完成率" in t and "序时进度" in t and "情况说明" in t
            assert ".xlsx" not in t  # no file names or cell addresses for a leader
        # Each task's text is printed whole: a row too short would clip it.
        whole = office_render.flat("".join(mine))
        for task in (t for t in master.tasks if t.level == level):
            assert office_render.flat(task.text) in whole, task.id
    returns = next(t for t in texts if pages([t], "民生实事进展汇总表") == {"报送情况": 1})
    assert returns.index(demo.SILENT) < min(returns.index(u) for u in demo.LATE)


def test_leader_pages_print_no_text_below_8_pt(printed):
    """Fewer pages must not mean smaller type: every word on the leader's pages (tables, 通报,
    chart labels, footers) prints at 8 pt or more, as LibreOffice shrinks the sheet to fit."""
    _, _, sizes = printed
    leader = sum(PAGE_BOUNDS.values())
    small = [(n, word, round(pt, 2)) for n, page in enumerate(sizes[:leader], 1)
             for pt, word in page if pt < 7.95]
    assert not small, small[:10]
    assert all(page for page in sizes[:leader])  # every page has CJK words to measure


def test_demo_never_overwrites_someone_elses_folder(tmp_path):
    (tmp_path / "mine.xlsx").write_bytes(b"a clerk's own file")
    r = CliRunner().invoke(cli, ["demo", str(tmp_path)])
    assert r.exit_code == 2 and "不是空的" in r.output
    assert (tmp_path / "mine.xlsx").read_bytes() == b"a clerk's own file"


def test_a_corrected_file_replaces_the_first_draft(run, book):
    draft = run[0] / "returns" / JUNE / demo.DRAFTS / f"{JUNE}_{demo.RESENDER}_民生实事填报表.xlsx"
    ws = openpyxl.load_workbook(draft)["牵头任务"]
    bad = [c for row in ws.iter_rows(min_row=5) for c in row
           if isinstance(c.value, str) and c.value.startswith("约")]
    assert len(bad) == 1
    issues = table(book["校验问题"])
    found = [r for r in issues if (r["单位"], r["单元格"], r["问题代码"]) ==
             (demo.RESENDER, bad[0].coordinate, "not-a-number")]
    assert len(found) == 1 and found[0]["状态"] == "已替代" and found[0]["填写值"] == bad[0].value
    returns = {r["单位"]: r for r in table(book["报送情况"])}
    assert returns[demo.RESENDER]["版本数"] == 2 and returns[demo.RESENDER]["错误"] == 0


def test_headline_counts_are_the_tasks_of_the_level_sheets(book):
    worst_first = ["未报送", "未启动", "滞后", "序时推进", "超序时", "已完成"]
    heads = [c.value for c in book["汇总"][5]]
    heads = ["层级", None, *heads[2:]]  # 层级 is merged over A:B
    data = table(book["指标数据"])
    for r, level in ((6, "省"), (7, "市")):
        headline = dict(zip(heads, [c.value for c in book["汇总"][r]]))
        level_rows = [row for row in data if row["层级"] == level]
        tasks = {}
        for row in level_rows:
            if row.get("指标编号"):
                tasks.setdefault(row["任务编号"], []).append(row["状态"])
        assert headline["任务总数"] == len(tasks)
        local = {t: min(ss, key=worst_first.index) for t, ss in tasks.items()
                 if all(s in worst_first for s in ss)}
        assert headline["我市承担"] == len(local)
        for status in worst_first:
            assert headline[status] == sum(s == status for s in local.values()), (level, status)
        rates = [min(row["完成率"], 1) for row in level_rows
                 if row.get("指标编号") and row["完成率"] is not None]
        assert headline["平均完成率"] == pytest.approx(sum(rates) / len(rates))


# --- the 通报 as a Word document -----------------------------------------------------------------

@pytest.fixture(scope="module")
def bulletin_doc(run):
    import docx
    return docx.Document(run[0] / "output" / JUNE / f"通报_{JUNE}.docx")


def _east_asian_font(run_):
    from docx.oxml.ns import qn
    fonts = run_._element.rPr.find(qn("w:rFonts"))
    return fonts.get(qn("w:eastAsia"))


def test_bulletin_is_laid_out_as_an_official_document(bulletin_doc):
    paras = [p for p in bulletin_doc.paragraphs if p.text.strip()]
    texts = [p.text for p in paras]
    assert texts[0] == "民生实事工作通报" and paras[0].runs[0].font.color.rgb is not None
    title = next(p for p in paras if p.text.startswith("关于2024年1-6月"))
    assert title.text.endswith("推进情况的通报") and _east_asian_font(title.runs[0]) == "方正小标宋简体"
    assert texts[texts.index(title.text) + 1].endswith("单位：")  # 主送
    headings = [p for p in paras if re.match("[一二三四五六]、", p.text)]
    assert [p.text for p in headings] == ["一、总体进展情况", "二、进度较快的事项", "三、进度滞后的事项",
                                          "四、报送情况", "五、下步工作要求"]
    assert {_east_asian_font(p.runs[0]) for p in headings} == {"黑体"}
    subs = [p for p in paras if re.match("（[一二三]）", p.text)]
    assert {_east_asian_font(p.runs[0]) for p in subs} == {"楷体"}
    body = [p for p in paras if p.text.startswith("截至2024年6月底")]
    assert _east_asian_font(body[0].runs[0]) == "仿宋" and body[0].runs[0].font.size.pt == 16
    assert not any(r.font.italic for p in paras for r in p.runs)
    sec = bulletin_doc.sections[0]
    assert (round(sec.top_margin.cm, 1), round(sec.left_margin.cm, 1)) == (3.7, 2.8)
    assert (round(sec.page_width.cm, 1), round(sec.page_height.cm, 1)) == (21, 29.7)  # A4
    footer = sec.footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and "—" in footer  # "— 1 —"
    assert any(t.startswith("附件：1.") for t in texts)
    assert len(bulletin_doc.tables) == 3  # 附件1 (two tables), 附件2


def level_sentences_say(text, by_level):
    """The 通报's sentence of each level states the counts of ``by_level`` (汇总's headline)."""
    for level, h in by_level.items():
        sentence = re.search(f"(\\d+)项{level}民生实事中[^；。]*", text).group(0)
        assert sentence.startswith(f"{h['任务总数']}项{level}民生实事中")
        if h["我市承担"] != h["任务总数"]:
            assert f"（我市承担{h['我市承担']}项）" in sentence
        for s in ("已完成", "超序时", "序时推进", "滞后"):
            assert f"{s}{h[s]}项" in sentence, (level, s)
        if h["未启动"]:
            assert f"未启动{h['未启动']}项" in sentence


def workbook_figures(book):
    """What the workbook states: 汇总's headline by level, 报送情况's rows, 指标数据's rows."""
    heads = [c.value for c in book["汇总"][5]]
    heads = ["层级", None, *heads[2:]]
    headline = {}
    for r in (6, 7):
        row = dict(zip(heads, [c.value for c in book["汇总"][r]]))
        headline[row["层级"][0]] = row
    return headline, table(book["报送情况"]), table(book["指标数据"])


def test_every_figure_of_the_bulletin_is_in_the_workbook(bulletin_doc, book):
    headline, returns, rows = workbook_figures(book)
    text = "\n".join(p.text for p in bulletin_doc.paragraphs)
    level_sentences_say(text, headline)
    for level, h in headline.items():
        assert f"{level}民生实事{h['平均完成率'] * 100:.1f}%" in text
    done = sum(h["已完成"] for h in headline.values())
    ahead = sum(h["超序时"] for h in headline.values())
    assert f"已完成年度目标的任务。共{done}项" in text and f"超序时推进的任务。共{ahead}项" in text
    behind = sum(h["滞后"] + h["未启动"] for h in headline.values())
    assert f"共{behind}项任务滞后序时进度或尚未启动" in text
    # Each named task's shortfall or lead is its worst indicator's 偏差 in 指标数据.
    by_task = {}
    for r in rows:
        if isinstance(r["偏差(百分点)"], (int, float)):
            by_task.setdefault((r["层级"], r["任务编号"].split("-", 1)[1]), []).append(
                r["偏差(百分点)"])
    named = re.findall(r"（(省|市)第([\d.]+)项[^）]*）[，,](滞后序时进度|超出)([\d.]+)个百分点", text)
    assert len(named) >= behind - 5
    for level, number, kind, points in named:
        gaps = by_task[(level, number)]
        worst = -min(gaps) if kind == "滞后序时进度" else min(gaps)
        assert float(points) == pytest.approx(worst, abs=0.05), (level, number)
    expected = [r for r in returns if r["单位"]]
    reported = [r for r in expected if r["是否报送"] == "是"]
    assert f"本月应报送单位{len(expected)}个，已报送{len(reported)}个" in text
    late = [r["单位"] for r in expected if r["是否逾期"] == "是"]
    assert f"逾期报送{len(late)}个：{'、'.join(late)}" in text
    missing = [r["单位"] for r in expected if r["是否报送"] == "否"]
    assert f"未报送：{'、'.join(missing)}" in text
    # 附件1 is 汇总's headline table, cell for cell.
    table1 = bulletin_doc.tables[0]
    cols = [c.text for c in table1.rows[0].cells]
    for row in table1.rows[1:]:
        got = dict(zip(cols, [c.text for c in row.cells]))
        h = headline[got["层级"][0]]
        for col in cols[1:-1]:
            assert got[col] == str(h[col]), col
        assert got["平均完成率"] == f"{h['平均完成率'] * 100:.1f}%"


@pytest.mark.skipif(not office_render.TOOLS, reason="LibreOffice/poppler not installed")
def test_bulletin_prints_as_a_document(run, tmp_path):
    pdf = office_render.to_pdf(run[0] / "output" / JUNE / f"通报_{JUNE}.docx", tmp_path)
    pages = office_render.page_texts(pdf, layout=True)
    assert 4 <= len(pages) <= 10
    assert "民生实事工作通报" in pages[0] and "关于2024年1-6月全市民生实事推进情况的通报" in \
        office_render.flat(pages[0])
    for n, page in enumerate(pages, 1):  # "— 1 —" … at the foot of every page
        assert re.search(f"—\\s*{n}\\s*—", page), n
    whole = office_render.flat("".join(pages))
    assert "附件1" in whole and "附件2" in whole and "五、下步工作要求" in whole
    for lines in office_render.line_boxes(pdf):
        assert not office_render.overlapping(lines)


def test_no_number_in_the_bulletin_that_the_workbook_does_not_hold(bulletin_doc, book):
    """Every figure of the 通报 (body and attachments) is a value of the workbook, a number in
    one of its texts (a task's "120个"), or a date of the document itself."""
    held = set()
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                if isinstance(v, bool) or v is None:
                    continue
                if isinstance(v, (int, float)):
                    held |= {f"{v:g}", f"{v * 100:.1f}%", f"{abs(v):.1f}".rstrip("0").rstrip(".")}
                else:
                    held |= set(re.findall(r"\d+(?:\.\d+)?%?", str(v)))
    paragraphs = [p.text for p in bulletin_doc.paragraphs]
    cells = [c.text for t in bulletin_doc.tables for row in t.rows for c in row.cells]
    dated = re.compile(r"\d{4}年(\d{1,2}月)?(\d{1,2}日)?|第\d+期|\d{4}年1-\d+月|每月\d+日|第[\d.]+项")
    unknown = []
    for text in paragraphs + cells:
        text = dated.sub("", text)
        for n in re.findall(r"\d+(?:\.\d+)?%?", text):
            if n not in held and not re.fullmatch(r"\d", n):  # list numbers 1. 2. …
                unknown.append((n, text[:40]))
    assert not unknown
