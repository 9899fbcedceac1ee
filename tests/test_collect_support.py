"""Returns as bureaus fill them: real templates from the bundled notice, filled with openpyxl.

Imported by the collect/guard tests; its own tests check that the filler does what it says.
"""
from __future__ import annotations

import functools
import shutil
import subprocess
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Dict, Tuple

import openpyxl

from minshi_xls import columns as C
from minshi_xls import templates
from minshi_xls.notice import load_bundled

PERIOD = "2024-06"
ON_TIME = "2024-07-03T10:00:00+08:00"


@functools.lru_cache(maxsize=None)
def master():
    return load_bundled()


def template(folder: Path, unit: str, period: str = PERIOD) -> Path:
    path = Path(folder) / "templates" / C.file_name(period, unit)
    if not path.exists():
        templates.write_workbook(master(), unit, period, path, config={})
    return path


def cells(ws) -> Tuple[Dict[str, int], Dict[str, int]]:
    """({header: column}, {indicator_id: row}) of a table sheet."""
    hdr_row = next(r for r in range(1, 40)
                   if any(ws.cell(r, c).value == "指标编号" for c in range(1, 30)))
    hdr = {C.plain_header(ws.cell(hdr_row, c).value): c
           for c in range(1, ws.max_column + 1)
           if ws.cell(hdr_row, c).value}
    ids = {}
    for r in range(hdr_row + 1, ws.max_row + 1):
        v = ws.cell(r, hdr["指标编号"]).value
        if v:
            ids[str(v)] = r
    return hdr, ids


def ref(ws, header: str, indicator_id: str) -> str:
    hdr, ids = cells(ws)
    return ws.cell(ids[indicator_id], hdr[header]).coordinate


def good_value(ind, share: float = 0.5) -> float:
    t = ind.target_number
    return round(t * share, 2) if t else 1.0


def fill(path: Path, out: Path, edit=None, share: float = 0.5) -> Path:
    """Fill every input row sensibly (as a careful bureau would), then let ``edit(wb)`` make
    the mistakes of the test; save to ``out``."""
    m = master()
    wb = openpyxl.load_workbook(path)
    for sheet in (C.SHEET_LEAD, C.SHEET_CO):
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        hdr, ids = cells(ws)
        for ind_id, r in ids.items():
            ind = m.indicator(ind_id)
            if sheet == C.SHEET_LEAD:
                ws.cell(r, hdr["本月累计完成"]).value = good_value(ind, share)
                ws.cell(r, hdr["推进状态"]).value = "序时推进"
                ws.cell(r, hdr["进展情况"]).value = "已完成年度目标的一半，按计划推进。"
                if ws.cell(r, hdr["一季度末计划"]).value is None and ind.target_number:
                    for q, h in enumerate(("一季度末计划", "二季度末计划", "三季度末计划",
                                           "四季度末计划")):
                        ws.cell(r, hdr[h]).value = round(ind.target_number * (q + 1) / 4, 2)
            else:
                ws.cell(r, hdr["本单位累计完成"]).value = good_value(ind, share / 10)
                ws.cell(r, hdr["配合工作情况"]).value = "配合牵头单位推进。"
    for sheet, labels in C.HEADER_CELLS.items():
        if sheet in wb.sheetnames:
            wb[sheet][labels[C.REPORTER_LABEL][1]] = "张三"
    if edit:
        edit(wb)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def mail_with(files: Dict[str, bytes], text: str = "见附件", message_id: str = "<1@example.cn>",
              subject: str = "报表") -> bytes:
    """A unit's mail (市卫健委, 2024-07-03 10:00 China time) with ``files`` attached as
    octet-stream, the way most clients send a workbook."""
    msg = EmailMessage()
    msg["From"] = "卫健委 <wjw@example.cn>"
    msg["Subject"] = subject
    msg["Date"] = "Wed, 03 Jul 2024 10:00:00 +0800"
    msg["Message-ID"] = message_id
    msg.set_content(text)
    for name, data in files.items():
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return bytes(msg)


def soffice_convert(src: Path, fmt: str, outdir: Path) -> Path:
    """LibreOffice re-save/conversion (xlsx, xls, ods), with a private profile per call."""
    profile = Path("/tmp") / f"lo_minshi_collect_{uuid.uuid4().hex}"
    outdir.mkdir(parents=True, exist_ok=True)
    tmp = outdir / f"_conv_{uuid.uuid4().hex[:6]}"
    tmp.mkdir()
    filt = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "xls": "xls:MS Excel 97", "ods": "ods"}[fmt]
    try:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                        "--calc", "--convert-to", filt, "--outdir", str(tmp), str(src)],
                       check=True, capture_output=True, timeout=180)
        got = next(tmp.iterdir())
        dest = outdir / got.name
        shutil.move(str(got), dest)
        return dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)


def test_filler_fills_every_input_row(tmp_path):
    out = fill(template(tmp_path, "市卫健委"), tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(out)[C.SHEET_LEAD]
    hdr, ids = cells(ws)
    assert len(ids) == len(templates.rows_for(master(), "市卫健委").lead)
    assert all(ws.cell(r, hdr["本月累计完成"]).value is not None for r in ids.values())


def register_emails(master_path: Path, skip=()) -> Dict[str, str]:
    """What the clerk does in the master's 单位 sheet: an address in 邮箱 for every unit (but
    ``skip``); returns {short name: address}."""
    wb = openpyxl.load_workbook(master_path)
    ws = wb["单位"]
    hdr = {c.value: c.column for c in ws[1] if c.value}
    if "简称" not in hdr:  # a title row above the header
        hdr = {c.value: c.column for c in ws[2] if c.value}
    first = 2 if ws.cell(1, hdr["简称"]).value == "简称" else 3
    got = {}
    for r in range(first, ws.max_row + 1):
        short = ws.cell(r, hdr["简称"]).value
        if short and short not in skip:
            got[short] = f"unit{r:03d}@units.lyg.example.cn"
            ws.cell(r, hdr["邮箱"]).value = got[short]
    wb.save(master_path)
    return got
