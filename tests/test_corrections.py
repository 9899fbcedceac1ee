"""Corrections come back in: the annotated copy collect writes (and remind sends) is the unit's
own workbook with its ``_meta``; filled in and sent back, from a folder or a mail, it is a
return like any other and replaces the rejected one."""
from __future__ import annotations

import shutil

import openpyxl

from minshi_xls import collect, ledger
from minshi_xls.reconcile import current_returns
from minshi_xls import columns as C
from test_collect_support import ON_TIME, PERIOD, cells, fill, master, template

LATER = "2024-07-05T09:30:00+08:00"


def _blank_first_value(wb):
    ws = wb[C.SHEET_LEAD]
    hdr, ids = cells(ws)
    ws.cell(next(iter(ids.values())), hdr["本月累计完成"]).value = "待统计"


def _correct(path, out):
    """What the bureau does with the annotated copy: types the number into the red cell."""
    wb = openpyxl.load_workbook(path)
    assert "问题清单" in wb.sheetnames  # it is the annotated copy
    ws = wb[C.SHEET_LEAD]
    hdr, ids = cells(ws)
    ws.cell(next(iter(ids.values())), hdr["本月累计完成"]).value = 12
    wb.save(out)
    return out


def test_annotated_copy_filled_in_is_a_return_from_a_folder(tmp_path):
    db = tmp_path / "out" / "minshi.sqlite"
    bad = fill(template(tmp_path, "市卫健委"), tmp_path / "inbox" / C.file_name(PERIOD, "市卫健委"),
               edit=_blank_first_value)
    first = collect.collect_paths([str(tmp_path / "inbox")], PERIOD, db, master=master(),
                                  config={}, received=ON_TIME,
                                  annotate_dir=collect.annotated_dir(db, PERIOD))
    assert [r.errors for r in first.rows] == [1]
    copy = collect.annotated_path(collect.annotated_dir(db, PERIOD), "市卫健委", bad.name)
    assert copy.exists()
    # the bureau corrects the copy and mails it back; the clerk saves it into the same inbox
    back = _correct(copy, tmp_path / "inbox" / copy.name)
    second = collect.collect_paths([str(tmp_path / "inbox")], PERIOD, db, master=master(),
                                   config={}, received=LATER)
    got = {r.file: r for r in second.rows}
    assert back.name in got, f"the corrected copy was skipped: {sorted(got)}"
    assert got[back.name].unit == "市卫健委" and got[back.name].status == "accepted"
    assert got[back.name].errors == 0
    # the corrected copy is the unit's current return: its figure is the one reconcile reads
    con = ledger.connect(db)
    current = current_returns(con, PERIOD)["市卫健委"]
    assert current["source_path"].endswith(back.name)


