"""The reading corpus (issue 9, classes 1, 2, 3, 4, 7, 10 and the clerk mistakes around them):
every case is a real return with one mistake, checked for its code, sheet, cell and status.

Cases are built and checked once per module (one guarded pool for all); each case is then its
own test, so a failure names the case.
"""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from corpus import CO, LEAD, Case, run, verify
from minshi_xls import columns as C
from test_collect_support import PERIOD

CUM = "本月累计完成"


def _milestone(b) -> int:
    return b.first(lambda ind: ind.is_milestone)


# --- class 1: columns found by meaning ---------------------------------------------------------

def header_annotated(text):
    def edit(b):
        b.retitle(CUM, text)
        return {"numbers": {(LEAD, b.put(CUM, 0, 4)): 4, (LEAD, b.ref(CUM, 2)): b.get(CUM, 2)}}
    return edit


def column_inserted_before_cumulative(b):
    col = b.col(CUM)
    ws = b.ws()
    ws.insert_cols(col)
    ws.cell(C.HEADER_ROW, col).value = "本月完成"  # the unit's own column, not ours
    ws.cell(b.row(0), col).value = 999
    moved = C.col_letter(col)  # the figures now sit one column right
    ws.cell(b.row(0), col + 1).value = 5
    return {"numbers": {(LEAD, f"{moved}{b.row(0)}"): 5}}


def columns_swapped(b):
    ws, a, c = b.ws(), b.col("推进状态"), b.col("进展情况")
    for r in range(C.HEADER_ROW, ws.max_row + 1):
        x, y = ws.cell(r, a), ws.cell(r, c)
        x.value, y.value = y.value, x.value
    return []


def cumulative_column_deleted(b):
    b.ws().delete_cols(b.col(CUM))
    return [("missing-column", LEAD, f"L{C.HEADER_ROW}")]


def header_retyped_in_place(b):
    b.retitle(CUM, "6月数")
    return {"numbers": {(LEAD, b.put(CUM, 0, 6)): 6}}


def header_retyped_and_column_inserted(b):
    b.retitle(CUM, "6月数")
    b.ws().insert_cols(1)
    return [("missing-column", LEAD, f"L{C.HEADER_ROW}")]


def progress_column_deleted(b):
    b.ws().delete_cols(b.col("进展情况"))
    return [("missing-column", LEAD, f"O{C.HEADER_ROW}")]


def next_steps_column_deleted(b):
    b.ws().delete_cols(b.col("下步计划"))
    return [("missing-column", LEAD, f"Q{C.HEADER_ROW}")]


def cumulative_doubled(b):
    col = b.col(CUM)
    ws = b.ws()
    ws.insert_cols(col + 1)
    ws.cell(C.HEADER_ROW, col).value = "本月累计完成（初稿）"
    ws.cell(C.HEADER_ROW, col + 1).value = "本月累计完成（修正）"
    for n in range(len(b.ids())):
        ws.cell(b.row(n), col + 1).value = 1
    return [("ambiguous-column", LEAD, f"L{C.HEADER_ROW}")]


def retyped_in_new_workbook(b):
    """The clerk copies the figures into a workbook of their own, headers annotated."""
    old = b.ws()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws["A1"] = C.title(2024, 6)
    ws["A2"] = "填报单位：市卫健委"
    headers = ["指标编号", "指标", "年度目标", "计量单位", "本月累计完成\n（截至6月底）", "推进状态",
               "工作进展", "存在的问题", "下一步计划", "备注"]
    keys = ["指标编号", "指标", "年度目标", "计量单位", CUM, "推进状态", "进展情况", "存在问题",
            "下步计划", "备注（说明）"]
    ws.append([])
    ws.append(headers)
    for n in range(len(b.ids())):
        ws.append([old.cell(b.row(n), b.col(k)).value for k in keys])
    b.wb = wb
    return {"issues": [("meta-missing", None, None)],
            "numbers": {("Sheet1", f"E{C.HEADER_ROW + 1}"): b.get(CUM, 0)}}


def rows_inserted_above(b):
    b.retitle(CUM, "本月累计完成（万元）")
    figure = b.get(CUM, 0)
    b.ws().insert_rows(3, 3)
    return {"numbers": {(LEAD, f"L{b.row(0) + 3}"): figure}}


def county_co_cumulative_deleted(b):
    col = b.col("本单位累计完成", CO)
    b.ws(CO).delete_cols(col)
    return [("missing-column", CO, f"{C.col_letter(col - 1)}{C.HEADER_ROW}")]


def note_header_half_width(b):
    b.retitle("备注（说明）", "备注 (说明)")
    return []


# --- class 2: no figures is not a return --------------------------------------------------------

def _clear(b, headers=(CUM,), value=None, sheet=LEAD):
    for n in range(len(b.ids(sheet))):
        for h in headers:
            b.put(h, n, value, sheet)


def blank_but_reporter(b):
    _clear(b, (CUM, "推进状态", "进展情况"))
    return [("blank-return", None, None)]


def texts_only(b):
    _clear(b)
    return [("blank-return", None, None)]


def figures_whitespace(b):
    _clear(b, value="  ")
    return [("blank-return", None, None)]


def rows_all_deleted(b):
    ws = b.ws()
    ws.delete_rows(C.FIRST_DATA_ROW, ws.max_row)
    return [("blank-return", None, None)]


def one_figure_only(b):
    _clear(b)
    b.put(CUM, 0, 3)
    return {"issues": [("missing-value", LEAD, b.ref(CUM, 1))],
            "numbers": {(LEAD, b.ref(CUM, 0)): 3}}


# --- class 3: one table per id -------------------------------------------------------------------

def _copy(b, title, figure=None, index=None, hidden=False):
    ws = b.wb.copy_worksheet(b.ws())
    ws.title = title
    if figure is not None:
        for n in range(len(b.ids())):
            ws.cell(b.row(n), b.col(CUM)).value = figure
    if index is not None:
        b.wb.move_sheet(ws, offset=index - b.wb.index(ws))
    if hidden:
        ws.sheet_state = "hidden"
    return ws


def old_draft_in_front(b):
    _copy(b, "牵头任务 (2)", figure=1, index=0)
    return {"issues": [("extra-table", "牵头任务 (2)", f"B{C.HEADER_ROW}")],
            "numbers": {(LEAD, b.ref(CUM, 0)): b.get(CUM, 0)}}


def unit_summary_sheet(b):
    ws = b.wb.create_sheet("汇总", 0)
    ws.append(["指标编号", "指标", "本月累计完成"])
    for n in range(3):
        ws.append([b.id(n), "x", 1000])
    return {"issues": [("extra-table", "汇总", "A1")],
            "numbers": {(LEAD, b.ref(CUM, 0)): b.get(CUM, 0)}}


def real_renamed_and_copied(b):
    b.ws().title = "牵头任务6月"
    _copy(b, "牵头任务 (2)")
    return [("ambiguous-table", "牵头任务 (2)", f"B{C.HEADER_ROW}")]


def _append_copy(b, n, cumulative=None):
    ws = b.ws()
    src, dest = b.row(n), ws.max_row + 1
    for c in range(1, ws.max_column + 1):
        ws.cell(dest, c).value = ws.cell(src, c).value
    if cumulative is not None:
        ws.cell(dest, b.col(CUM)).value = cumulative
    return dest


def duplicate_row_same(b):
    dest = _append_copy(b, 0)
    return {"issues": [("duplicate-row", LEAD, f"B{dest}")],
            "numbers": {(LEAD, b.ref(CUM, 0)): b.get(CUM, 0)}}


def duplicate_row_different(b):
    dest = _append_copy(b, 0, cumulative=2)
    return {"issues": [("duplicate-row", LEAD, f"B{dest}"), ("duplicate-row", LEAD, b.ref("指标编号", 0))],
            "numbers": {(LEAD, b.ref(CUM, 0)): None, (LEAD, f"L{dest}"): None}}


def hidden_old_copy(b):
    _copy(b, "Sheet1", figure=1, index=0, hidden=True)
    return {"issues": [("extra-table", "Sheet1", f"B{C.HEADER_ROW}")],
            "numbers": {(LEAD, b.ref(CUM, 0)): b.get(CUM, 0)}}


def no_meta_two_tables(b):
    del b.wb[C.SHEET_META]
    _copy(b, "Sheet2", figure=1, index=0)
    return {"issues": [("extra-table", "Sheet2", f"B{C.HEADER_ROW}"), ("meta-missing", None, None)],
            "numbers": {(LEAD, b.ref(CUM, 0)): b.get(CUM, 0)}}


# --- class 4: identity conflicts -----------------------------------------------------------------

def unit_cell_edited(b):
    b.ws()["B2"] = "市教育局"
    return [("identity-conflict", LEAD, "B2")]


def meta_edited(b):
    b.wb[C.SHEET_META]["B2"] = "市教育局"
    return [("identity-conflict", LEAD, "B2")]


def meta_lost(b):
    del b.wb[C.SHEET_META]
    return [("identity-conflict", None, None), ("meta-missing", None, None)]


# --- class 7: percent and ranges -----------------------------------------------------------------

def milestone_percent_format(b):
    n = _milestone(b)
    b.ws().cell(b.row(n), b.col(CUM)).number_format = "0%"
    return {"numbers": {(LEAD, b.put(CUM, n, 0.85)): 85}}


def milestone_over_100(b):
    return [("out-of-range", LEAD, b.put(CUM, _milestone(b), 120))]


def milestone_percent_sign(b):
    ref = b.put(CUM, _milestone(b), "85%")
    return {"issues": [("coerced-number", LEAD, ref)], "numbers": {(LEAD, ref): 85}}


def status_outside_list(b):
    return [("unknown-status", LEAD, b.put("推进状态", 1, "正在推进"))]


def text_too_long(b):
    return [("text-too-long", LEAD, b.put("进展情况", 2, "按计划推进。" * 90))]


# --- class 10: messages a clerk can act on --------------------------------------------------------

def zero_width_space(b):
    return {"issues": [("not-a-number", LEAD, b.put(CUM, 0, "3\u200b"))],
            "message": "实际填写了“3［零宽空格］”"}


def nbsp_in_number(b):
    return {"issues": [("not-a-number", LEAD, b.put(CUM, 1, "1\u00a0200"))],
            "message": "“1［不换行空格］200”"}


# --- the clerk mistakes around them ---------------------------------------------------------------

def put_issue(code, header, value, n=0):
    def edit(b):
        return [(code, LEAD, b.put(header, n, value))]
    return edit


def giant_header_cell(b):
    """A hostile header row: a 20,000-character cell next to the headers (never a header)."""
    b.ws().cell(C.HEADER_ROW, b.ws().max_column + 1).value = "本月累计完成" * 3000
    return {"numbers": {(LEAD, b.ref(CUM, 0)): b.get(CUM, 0)}}


def unknown_row_added(b):
    dest = _append_copy(b, 0)
    b.ws().cell(dest, b.col("指标编号")).value = "省-99#9"
    return [("unknown-row", LEAD, f"B{dest}")]


def row_deleted(b):
    b.ws().delete_rows(b.row(0))
    return [("missing-row", LEAD, None)]


CASES = [
    # class 1
    Case("header-annotated", header_annotated("本月累计完成（截至6月底）")),
    Case("header-line-break", header_annotated("本月累计\n完成")),
    Case("header-synonym", header_annotated("本月累计完成数")),
    Case("header-zero-width", header_annotated("本月累计\u200b完成")),
    Case("column-inserted-before-cumulative", column_inserted_before_cumulative),
    Case("columns-swapped", columns_swapped),
    Case("cumulative-column-deleted", cumulative_column_deleted, status="rejected"),
    Case("header-retyped-in-place", header_retyped_in_place),
    Case("header-retyped-and-column-inserted", header_retyped_and_column_inserted,
         status="rejected"),
    Case("progress-column-deleted", progress_column_deleted, status="rejected"),
    Case("next-steps-column-deleted", next_steps_column_deleted),
    Case("cumulative-doubled", cumulative_doubled, status="rejected"),
    Case("retyped-in-new-workbook", retyped_in_new_workbook),
    Case("rows-inserted-above", rows_inserted_above),
    Case("county-co-cumulative-deleted", county_co_cumulative_deleted, unit="东海县",
         status="rejected"),
    Case("note-header-half-width", note_header_half_width),
    # class 2
    Case("blank-template-generated-bytes", lambda b: {
        "issues": [("blank-return", None, None)], "message": "与系统生成的填报表完全相同"},
        filled=False, registered=True, status="blank"),
    Case("blank-template-unregistered", lambda b: [("blank-return", None, None)],
         unit="市教育局", filled=False, status="blank"),
    Case("blank-but-reporter", blank_but_reporter, status="blank"),
    Case("texts-only", texts_only, status="blank"),
    Case("figures-whitespace", figures_whitespace, status="blank"),
    Case("rows-all-deleted", rows_all_deleted, status="blank", loose=True),
    Case("one-figure-only", one_figure_only, loose=True),
    Case("county-blank", lambda b: _clear(b, ("本单位累计完成",), None, CO) or [
        ("blank-return", None, None)], unit="东海县", status="blank"),
    # class 3
    Case("old-draft-in-front", old_draft_in_front),
    Case("unit-summary-sheet", unit_summary_sheet),
    Case("real-renamed-and-copied", real_renamed_and_copied, status="rejected"),
    Case("duplicate-row-same", duplicate_row_same),
    Case("duplicate-row-different", duplicate_row_different),
    Case("hidden-old-copy", hidden_old_copy),
    Case("no-meta-two-tables", no_meta_two_tables),
    # class 4
    Case("file-renamed-to-other-unit", lambda b: [("identity-conflict", None, None)],
         file_name=C.file_name(PERIOD, "市教育局"), status="rejected"),
    Case("unit-cell-edited", unit_cell_edited, status="rejected"),
    Case("meta-edited", meta_edited, status="rejected", loose=True),
    Case("meta-lost-name-of-other-unit", meta_lost, file_name=C.file_name(PERIOD, "市教育局"),
         status="rejected"),
    Case("sender-of-other-unit", lambda b: [("identity-conflict", None, None)],
         sender="王 <jyj@lyg.example>", status="rejected"),
    Case("sender-own-unit", lambda b: [], sender="wjw@lyg.example"),
    Case("folder-of-other-unit", lambda b: [("wrong-unit", None, None)], folder="东海县"),
    Case("name-without-unit", lambda b: [], file_name="6月报表（终稿）.xlsx"),
    # class 7
    Case("milestone-percent-format", milestone_percent_format),
    Case("milestone-percent-libreoffice-ods", milestone_percent_format, convert="ods"),
    Case("milestone-percent-libreoffice-xlsx", milestone_percent_format, convert="xlsx"),
    Case("milestone-percent-libreoffice-xls", milestone_percent_format, convert="xls"),
    Case("milestone-over-100", milestone_over_100),
    Case("milestone-percent-sign", milestone_percent_sign),
    Case("status-outside-list", status_outside_list),
    Case("text-too-long", text_too_long),
    # class 10
    Case("zero-width-space", zero_width_space),
    Case("nbsp-in-number", nbsp_in_number),
    # clerk mistakes
    Case("chinese-numeral", put_issue("not-a-number", CUM, "三")),
    Case("date-in-number-cell", put_issue("not-a-number", CUM, dt.datetime(2024, 6, 30))),
    Case("negative", put_issue("negative-value", CUM, -5)),
    Case("error-formula", put_issue("formula-no-value", CUM, "=1/0")),
    Case("target-changed", put_issue("template-modified", "年度目标", 999), status="rejected"),
    Case("unknown-row-added", unknown_row_added),
    Case("giant-header-cell", giant_header_cell),
    Case("row-deleted", row_deleted),
    Case("wrong-period", lambda b: [("wrong-period", None, None)], period="2024-05",
         status="rejected"),
]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    return run(CASES, tmp_path_factory.mktemp("corpus"))


def test_the_corpus_is_large_and_every_case_expects_something_located():
    assert len(CASES) >= 40 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(outcomes, case):
    verify(outcomes[case.name])
