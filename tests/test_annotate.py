"""The annotated copy's 问题清单 as the unit reads and prints it: a title with the unit and month,
repeated problems on one line with their cells as ranges, landscape on as few pages as needed."""
import openpyxl
import pytest

from minshi_xls import annotate, columns as C, issues
from test_collect_support import cells, fill, template
import office_render

PERIOD = "2024-06"


def located(ws, header, ind_id):
    hdr, ids = cells(ws)
    return f"{C.col_letter(hdr[header] - 1)}{ids[ind_id]}"


@pytest.fixture
def annotated(tmp_path):
    """市卫健委's return with seven empty 进展情况 and two words in number cells."""
    src = fill(template(tmp_path, "市卫健委"), tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(src)
    ws = wb[C.SHEET_LEAD]
    ids = list(cells(ws)[1])
    found = []
    for ind_id in ids[:7]:
        ref = located(ws, "进展情况", ind_id)
        ws[ref] = None
        found.append(issues.make("missing-text", unit="市卫健委", sheet=C.SHEET_LEAD, cell=ref,
                                 indicator_id=ind_id, field="进展情况"))
    for ind_id in ids[7:9]:
        ref = located(ws, "本月累计完成", ind_id)
        ws[ref] = "约5"
        found.append(issues.make("not-a-number", unit="市卫健委", sheet=C.SHEET_LEAD, cell=ref,
                                 indicator_id=ind_id, value="约5", field="本月累计完成",
                                 unit_name="家"))
    wb.save(src)
    dest = annotate.write_annotated(src.read_bytes(), "xlsx", found, tmp_path / "a.xlsx",
                                    "市卫健委", PERIOD)
    return dest, ids, found


def test_problem_list_has_a_title_groups_repeats_and_prints_landscape(annotated):
    dest, ids, found = annotated
    wb = openpyxl.load_workbook(dest)
    assert wb.sheetnames[0] == annotate.SHEET
    ws = wb[annotate.SHEET]
    assert ws["A1"].value == "市卫健委2024年6月填报表问题清单"
    assert "填报单位：市卫健委" in ws["A2"].value and "共 9 个问题（错误 2 个，警告 7 个）" in ws["A2"].value
    assert [c.value for c in ws[annotate.HEADER_ROW]] == list(annotate.HEADERS)
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=annotate.HEADER_ROW + 1)]
    assert [r[1] for r in rows] == ["错误", "警告"]  # errors first, each repeat on one line
    assert rows[0][4].endswith("（2处）") and rows[0][6] == "约5"
    first, last = located(ws=wb[C.SHEET_LEAD], header="进展情况", ind_id=ids[0]), \
        located(ws=wb[C.SHEET_LEAD], header="进展情况", ind_id=ids[6])
    assert rows[1][4] == f"{first}:{last}（7处）" and rows[1][5].count("、") == 6
    link = ws.cell(annotate.HEADER_ROW + 2, 5).hyperlink
    assert link.location == f"'{C.SHEET_LEAD}'!{first}" or first in (link.target or "")
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == f"${annotate.HEADER_ROW}:${annotate.HEADER_ROW}"
    assert not any(c.font.i for row in ws.iter_rows() for c in row)


@pytest.mark.skipif(not office_render.TOOLS, reason="LibreOffice/poppler not installed")
def test_problem_list_prints_on_one_page_with_nothing_cut(annotated, tmp_path):
    dest, _, _ = annotated
    wb = openpyxl.load_workbook(dest)
    for name in wb.sheetnames[1:]:  # print the list alone, as the unit prints it
        del wb[name]
    wb.save(tmp_path / "list.xlsx")
    pdf = office_render.to_pdf(tmp_path / "list.xlsx", tmp_path / "pdf")
    assert office_render.page_count(pdf) == 1
    text = office_render.flat(office_render.page_texts(pdf)[0])
    assert "市卫健委2024年6月填报表问题清单" in text and "（7处）" in text
    assert not office_render.overlapping(office_render.line_boxes(pdf)[0])
