"""Fill-in workbooks in a real office suite: filled with openpyxl and re-saved by LibreOffice they
stay identifiable; converted to PDF they print the title, the headers and every column on A4
landscape."""
import datetime
import re
import subprocess
import uuid

import openpyxl
import pytest
from pypdf import PdfReader

import office_render

from minshi_xls import collect, columns as C, settings, templates
from minshi_xls.notice import load_bundled

PERIOD = "2024-06"
UNITS = ("市卫健委", "东海县")


def soffice(args, cwd):
    """LibreOffice headless with a private profile, so parallel runs do not collide."""
    profile = cwd / f"lo_{uuid.uuid4().hex}"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", *args],
                   cwd=cwd, check=True, capture_output=True, timeout=240)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    out = tmp_path_factory.mktemp("office")
    master = load_bundled()
    paths = {u: templates.write_workbook(master, u, PERIOD, out / C.file_name(PERIOD, u),
                                         config=settings.DEFAULTS).path for u in UNITS}
    return master, out, paths


def fill(path, dest):
    """What a clerk does: header inputs, then numbers and text in every data row."""
    wb = openpyxl.load_workbook(path)
    filled = {}
    for sheet in (s for s in wb.sheetnames if s in C.SHEET_COLUMNS):
        ws = wb[sheet]
        cols = {c.key: i + 1 for i, c in enumerate(C.SHEET_COLUMNS[sheet])}
        cells = C.HEADER_CELLS[sheet]
        ws[cells[C.REPORTER_LABEL][1]] = "张伟"
        ws[cells[C.PHONE_LABEL][1]] = "0518-85801234"
        ws[cells[C.DATE_LABEL][1]] = datetime.date(2024, 7, 3)
        r = C.FIRST_DATA_ROW
        while ws.cell(r, cols["indicator_id"]).value:
            ind_id = ws.cell(r, cols["indicator_id"]).value
            value = (r * 7) % 100 + 0.5
            ws.cell(r, cols["cumulative"], value)
            ws.cell(r, cols["progress"], f"{ind_id} 本月推进顺利")
            if "status" in cols:
                ws.cell(r, cols["status"], "序时推进")
            filled[(sheet, ind_id)] = value
            r += 1
    wb.save(dest)
    return filled


def test_filled_and_resaved_by_libreoffice_stays_identifiable(books, tmp_path):
    master, out, paths = books
    filled = {u: fill(p, tmp_path / p.name) for u, p in paths.items()}
    soffice(["--convert-to", "xlsx", "--outdir", str(tmp_path / "lo"),
             *[p.name for p in paths.values()]], tmp_path)
    for unit, p in paths.items():
        wb = openpyxl.load_workbook(tmp_path / "lo" / p.name)
        meta = wb[C.SHEET_META]
        assert meta.sheet_state != "visible"  # LibreOffice keeps it hidden (as "hidden")
        rows = [[c.value for c in r] for r in meta.iter_rows()]
        keys = {r[0]: r[1] for r in rows[:len(C.META_KEYS)]}
        assert (keys["unit"], keys["period"], keys["format_version"]) == \
            (unit, PERIOD, settings.FORMAT_VERSION)
        head = tuple(rows[len(C.META_KEYS) + 1][:len(C.META_ROW_HEADER)])
        assert head == C.META_ROW_HEADER
        seen = {}
        for r in rows[len(C.META_KEYS) + 2:]:
            m = dict(zip(head, r))
            ws = wb[m["sheet"]]
            cols = C.SHEET_COLUMNS[m["sheet"]]
            values = {c.key: ws.cell(int(m["row"]), i + 1).value for i, c in enumerate(cols)}
            assert values["indicator_id"] == m["indicator_id"]
            assert C.row_fingerprint(cols, values, m["plan_locked"] == "1") == m["fingerprint"]
            seen[(m["sheet"], m["indicator_id"])] = values["cumulative"]
            assert ws.protection.sheet
            assert ws.cell(int(m["row"]), 1).protection.locked
            assert not ws.cell(int(m["row"]), cols.index(C.column(cols, "cumulative")) + 1
                               ).protection.locked
        assert seen == pytest.approx(filled[unit])
        sheet = next(s for s in wb.sheetnames if s in C.SHEET_COLUMNS)
        cells = C.HEADER_CELLS[sheet]
        assert wb[sheet][cells[C.UNIT_LABEL][1]].value == unit
        assert wb[sheet][cells[C.REPORTER_LABEL][1]].value == "张伟"
    # the return reader (collect) identifies the re-saved files and finds no changed content
    report = collect.check_files([tmp_path / "lo" / p.name for p in paths.values()], master,
                                 period=PERIOD, config=settings.DEFAULTS)
    got = {r["unit"]: r for r in report.stats["returns"]}
    assert set(got) == set(UNITS)
    for unit in UNITS:
        assert (got[unit]["period"], got[unit]["status"]) == (PERIOD, "accepted")
        assert got[unit]["accepted_rows"] == len(filled[unit])
    assert not report.errors, [(i.code, i.sheet, i.cell) for i in report.errors][:5]


def compact(text):
    return re.sub(r"\s+", "", text)


def test_pdf_prints_title_headers_and_all_columns_on_a4_landscape(books, tmp_path):
    master, out, paths = books
    soffice(["--convert-to", "pdf", "--outdir", str(tmp_path), *map(str, paths.values())],
            tmp_path)
    for unit, p in paths.items():
        pdf = tmp_path / (p.stem + ".pdf")
        pages = PdfReader(pdf).pages
        sheet = C.SHEET_LEAD if unit == "市卫健委" else C.SHEET_CO
        headers = [c.header for c in C.SHEET_COLUMNS[sheet]]
        n_rows = len(getattr(templates.rows_for(master, unit), "lead" if sheet == C.SHEET_LEAD
                             else "co"))
        table_pages = []
        for i, page in enumerate(pages, start=1):
            text = compact(subprocess.run(["pdftotext", "-raw", "-f", str(i), "-l", str(i),
                                           str(pdf), "-"], capture_output=True, text=True,
                                          check=True).stdout)
            if i == 1:
                assert C.SHEET_GUIDE in text or "填写内容" in text
                continue
            table_pages.append(text)
            # landscape A4, and the header row (first to last column) repeated on every page:
            # a column spilling onto an extra page would leave a page without them
            assert float(page.mediabox.width) > float(page.mediabox.height)
            assert round(float(page.mediabox.width)) == 842
            for h in headers:
                assert compact(h) in text, (unit, i, h)
        assert C.title(2024, 6) in table_pages[0]
        assert f"{C.UNIT_LABEL}{unit}" in table_pages[0]
        ids = re.findall(r"[省市]-\d+(?:\.\d+)?#\d+", "".join(table_pages))
        assert len(set(ids)) == n_rows  # every row printed
        assert len(table_pages) <= max(1, n_rows // 8)  # one page wide: no horizontal spill-over
        # The return is signed at the end; a header wraps between words; nothing overprinted.
        assert "填报人：" in table_pages[-1] and "单位（盖章）" in table_pages[-1]
        lines = office_render.line_boxes(pdf)
        for page in lines[1:]:
            assert not office_render.overlapping(page), unit
            assert not [t for _, t in page if t in ("划", "位", "成", "标", "明）")], unit
