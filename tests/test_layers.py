"""Each defence layer on its own: a test here fails when that one layer is removed, even where a
later layer would still stop the file (so a layer is never proven only by the one behind it)."""
from __future__ import annotations

import io
import sqlite3
import zipfile

import pytest

from minshi_xls import collect, guard, reconcile
from minshi_xls.model import Incoming
from test_collect_support import PERIOD, fill, master, template
from test_guard import rezip

RETURN_NAME = "2024-06_市卫健委_民生实事填报表.xlsx"


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    tmp = tmp_path_factory.mktemp("good")
    return fill(template(tmp, "市卫健委"), tmp / "good.xlsx").read_bytes()


# --- the guard's DOCTYPE/ENTITY check ------------------------------------------------------------
# openpyxl parses with defusedxml, which would refuse an entity bomb later in the worker; the
# guard's own check must refuse it first, before any parser sees the file.

@pytest.mark.parametrize("part,xml", [
    # a part read in full (the sheet), a part of which only the prolog is read (styles), and a
    # DOCTYPE without any entity (defusedxml forbids DTDs too, so the guard does as well)
    ("sheet", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaa">]><worksheet/>'),
    ("xl/styles.xml", b'<?xml version="1.0"?><!DOCTYPE styleSheet SYSTEM "http://x/y.dtd">'
                      b'<styleSheet/>'),
    ("docProps/core.xml", b'<?xml version="1.0"?>\n<!ENTITY e SYSTEM "file:///etc/passwd">'
                          b'<cp:coreProperties/>'),
])
def test_guard_refuses_a_doctype_or_entity_in_any_part_before_parsing(good, part, xml):
    if part == "sheet":
        part = next(n for n in zipfile.ZipFile(io.BytesIO(good)).namelist()
                    if n.startswith("xl/worksheets/"))
    ins = guard.inspect(rezip(good, {part: lambda _: xml}))
    assert ins.findings == [("file-unreadable", f"{part} 含有 DOCTYPE/ENTITY 声明")]
    assert guard.inspect(good).findings == []


def test_guard_refuses_a_prolog_too_long_to_hide_a_doctype_behind(good):
    padded = b'<?xml version="1.0"?>' + b"<!--" + b"x" * 5000 + b"-->" \
             + b'<!DOCTYPE s [<!ENTITY a "b">]><styleSheet/>'
    ins = guard.inspect(rezip(good, {"xl/styles.xml": lambda _: padded}))
    assert ins.findings == [("file-unreadable", "xl/styles.xml 含有 DOCTYPE/ENTITY 声明")]


# --- zip member names ----------------------------------------------------------------------------

def _zip_with_raw_names(members) -> bytes:
    """A zip whose member names are the given raw bytes with no UTF-8 flag, as Chinese Windows
    (GBK) and Info-ZIP on Linux (UTF-8) write them. zipfile always flags non-ASCII names, so the
    names are written as ASCII placeholders of the same length and patched in."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, (raw, body) in enumerate(members):
            z.writestr(f"{n}".rjust(len(raw) - 5, "_") + ".xlsx", body)
    data = buf.getvalue()
    for n, (raw, _) in enumerate(members):
        placeholder = (f"{n}".rjust(len(raw) - 5, "_") + ".xlsx").encode()
        assert data.count(placeholder) == 2  # local header and central directory
        data = data.replace(placeholder, raw)
    return data


def test_zip_member_names_written_in_gbk_or_unflagged_utf8_come_out_in_chinese(good):
    gbk = RETURN_NAME.encode("gbk")
    utf8 = "2024-06_东海县_民生实事填报表.xlsx".encode("utf-8")
    data = _zip_with_raw_names([(gbk, good), (utf8, good)])
    info = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert not any(i.flag_bits & 0x800 for i in info)  # what the test is about: no flag
    assert info[0].filename != RETURN_NAME  # Python alone reads it as cp437 mojibake
    got = list(collect.expand_bytes(Incoming("returns.zip", data, "mail/returns.zip")))
    assert [i.name for i in got] == [RETURN_NAME, "2024-06_东海县_民生实事填报表.xlsx"]
    assert got[0].source_path == f"mail/returns.zip!{RETURN_NAME}"
    assert got[0].data == good


# --- a wrong-period file never competes with the period's own returns -----------------------------

@pytest.mark.parametrize("order", [("june", "may"), ("may", "june")])
def test_a_wrong_period_file_never_supersedes_the_accepted_return(tmp_path, order):
    """May's workbook sent again (by mistake) after June's: it is newer, but it belongs to another
    month, so it is rejected and June's return still counts, whichever run saw it first."""
    june = fill(template(tmp_path, "市卫健委"), tmp_path / "in" / "june.xlsx")
    may = fill(template(tmp_path, "市卫健委", "2024-05"), tmp_path / "in" / "may.xlsx",
               share=0.3)
    items = {"june": Incoming("june.xlsx", june.read_bytes(), str(june),
                              received_at="2024-07-01T09:00:00+08:00"),
             "may": Incoming("may.xlsx", may.read_bytes(), str(may),
                             received_at="2024-07-02T09:00:00+08:00")}
    db = tmp_path / "l.sqlite"
    for name in order:  # separate runs: the second one meets the first one's return in the ledger
        collect.ingest([items[name]], PERIOD, db, master(), {})
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    status = dict(con.execute("SELECT rc.source_path, r.status FROM returns r JOIN receipts rc"
                              " ON rc.id = r.receipt_id").fetchall())
    assert status == {str(june): "accepted", str(may): "rejected"}
    assert con.execute("SELECT COUNT(*) FROM issues WHERE code = 'superseded'").fetchone()[0] == 0
    codes = {r[0] for r in con.execute("SELECT i.code FROM issues i JOIN receipts rc"
                                       " ON rc.file_id = i.file_id WHERE rc.source_path = ?",
                                       (str(may),))}
    assert "wrong-period" in codes
    current = reconcile.current_returns(con, PERIOD)["市卫健委"]
    assert current["source_path"] == str(june)


# --- each of the guard's pre-open checks, by itself ----------------------------------------------
# The worker's memory and time limits would stop most of these files later; each check must
# stop its file first, before anything is decompressed or parsed.

def codes(ins):
    return [code for code, _ in ins.findings]


def test_guard_file_size_total_size_and_ratio_each_stop_their_file(good):
    lim = guard.limits_from(None)
    assert guard.inspect(good, {**lim, "max_file_bytes": len(good) - 1}).findings == [
        ("file-too-large", f"文件 {len(good) // 1024} KB，上限 {(len(good) - 1) // 1024} KB")]
    padded = rezip(good, add={"xl/media/blank.bin": b"\0" * (3 << 20)})  # ratio ~1000:1
    total = guard.inspect(padded, {**lim, "max_uncompressed_bytes": 2 << 20,
                                   "max_compression_ratio": 1e6})  # the total alone
    assert codes(total) == ["file-too-large"] and total.findings[0][1].startswith("解压后 3 MB")
    ins = guard.inspect(padded, lim)
    assert codes(ins) == ["file-too-large"] and "xl/media/blank.bin 压缩比" in ins.findings[0][1]
    assert guard.inspect(padded, {**lim, "max_compression_ratio": 1e6}).findings == []
    small = rezip(good, add={"xl/media/blank.bin": b"\0" * ((1 << 20) - 1)})  # under 1 MB: fine
    assert guard.inspect(small, lim).findings == []


def test_guard_extent_and_macros(good):
    lim = guard.limits_from(None)
    part = next(n for n in zipfile.ZipFile(io.BytesIO(good)).namelist()
                if n.startswith("xl/worksheets/"))
    far = rezip(good, {part: lambda b: b.replace(
        b"</sheetData>", b'<row r="6000"><c r="A6000" t="inlineStr"><is><t>x</t></is></c></row>'
                         b"</sheetData>")})
    ins = guard.inspect(far, lim)
    assert codes(ins) == ["file-too-large"] and "工作表数据区域达 6000 行" in ins.findings[0][1]
    assert guard.inspect(far, {**lim, "max_rows": 6000}).findings == []
    wide = rezip(good, {part: lambda b: b.replace(
        b"</sheetData>", b'<row r="7"><c r="ZZ7" t="inlineStr"><is><t>x</t></is></c></row>'
                         b"</sheetData>")})
    assert codes(guard.inspect(wide, lim)) == ["file-too-large"]  # column 702 > 200
    macro = guard.inspect(rezip(good, add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0"}), lim)
    assert (macro.format, codes(macro)) == ("xlsm", ["macro-present"])
    ole = guard.OLE_MAGIC + b"\0" * 100 + "_VBA_PROJECT_CUR".encode("utf-16-le")
    assert (guard.inspect(ole).format, codes(guard.inspect(ole))) == ("xls", ["macro-present"])
    assert codes(guard.inspect(guard.OLE_MAGIC + b"\0" * 100)) == []
