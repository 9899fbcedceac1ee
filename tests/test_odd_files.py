"""Odd spreadsheet files in the forms other readers' test suites hold (docs/collect.md, *The
foreign corpus*), each made here in that form: an .xls with an open password, a bare BIFF4
stream, an .xlsb, a Numbers file, a zip named .xlsx without a workbook part, a password .ods,
value cells behind a namespace prefix, a workbook openpyxl takes minutes to open. Each must be
an error issue of its own (never skipped, never misnamed), and a return must never be lost
because its annotated copy is slow.
"""
from __future__ import annotations

import hashlib
import io
import re
import sqlite3
import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest

from minshi_xls import collect, guard, reader
from minshi_xls import columns as C
from corpus import Book
from test_collect_support import ON_TIME, PERIOD, cells, fill, mail_with, master, template
from test_guard import corner_cells, rezip, sheet_part

FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def ole_file(streams: dict) -> bytes:
    """A compound file (CFB version 3, 512-byte sectors) holding ``streams`` in the root storage,
    each padded to 4 KB so it lives in regular sectors, as Excel 97-2003 writes .xls files."""
    bodies = [body.ljust(max(4096, -(-len(body) // 512) * 512), b"\0")
              for body in streams.values()]
    fat, starts, sector = [FATSECT, END], [], 2
    for body in bodies:
        n = len(body) // 512
        starts.append(sector)
        fat += [sector + k + 1 for k in range(n - 1)] + [END]
        sector += n
    assert len(fat) <= 128
    fat += [FREE] * (128 - len(fat))

    def entry(name: str, kind: int, child=NOSTREAM, right=NOSTREAM, start=END, size=0) -> bytes:
        raw = (name + "\0").encode("utf-16-le") if name else b""
        return (raw.ljust(64, b"\0") + struct.pack("<HBB3I", len(raw), kind, 1, NOSTREAM, right,
                                                   child)
                + b"\0" * 36 + struct.pack("<IQ", start, size))

    names = list(streams)
    # siblings of one storage form a red-black tree; a right-leaning chain of black nodes is one
    dirs = [entry("Root Entry", 5, child=1 if names else NOSTREAM)]
    for k, (name, body) in enumerate(zip(names, bodies)):
        dirs.append(entry(name, 2, right=k + 2 if k + 1 < len(names) else NOSTREAM,
                          start=starts[k], size=len(body)))
    dirs += [b"\0" * 64 + struct.pack("<HBB3I", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM)
             + b"\0" * 48] * (-len(dirs) % 4)
    assert len(dirs) == 4, "one directory sector"
    header = (guard.OLE_MAGIC + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
              + struct.pack("<109I", 0, *[FREE] * 108))
    return header + struct.pack("<128I", *fat) + b"".join(dirs) + b"".join(bodies)


def record(rid: int, body: bytes = b"") -> bytes:
    return struct.pack("<HH", rid, len(body)) + body


#: A BIFF8 workbook-globals BOF (version 0x0600, Excel 97's build and year).
BOF8 = record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0x41, 0x06))
#: FILEPASS with an RC4 encryption header (type 1, version 1.1, salt, verifier and its hash):
#: what Excel writes right after the BOF of a workbook saved with an open password.
FILEPASS_RC4 = record(0x002F, struct.pack("<HHH", 1, 1, 1) + bytes(range(48)))
EOF = record(0x000A)


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    tmp = tmp_path_factory.mktemp("good")
    return fill(template(tmp, "市卫健委"), tmp / "good.xlsx").read_bytes()


def test_an_xls_with_an_open_password_is_encrypted_not_unreadable():
    locked = ole_file({"Workbook": BOF8 + FILEPASS_RC4 + EOF})
    assert guard.inspect(locked).findings == [("file-encrypted", "")]
    # Excel 5/95 names the stream Book, Excel 97 Workbook; either case
    assert guard.inspect(ole_file({"BOOK": BOF8 + FILEPASS_RC4 + EOF})).findings == [
        ("file-encrypted", "")]
    assert guard.inspect(ole_file({"Workbook": BOF8 + EOF})).findings == []  # no password
    word = guard.inspect(ole_file({"WordDocument": b"\xec\xa5" + b"\0" * 100}))
    assert word.fatal and "找不到工作簿" in word.findings[0][1]


def test_an_ods_with_a_password_is_encrypted():
    manifest = (b'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                b'"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                b'<manifest:file-entry manifest:full-path="/" manifest:media-type='
                b'"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
                b'manifest:full-path="content.xml" manifest:media-type="text/xml" manifest:size='
                b'"2048"><manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:'
                b'checksum="AAAA"><manifest:algorithm manifest:algorithm-name="Blowfish CFB" '
                b'manifest:initialisation-vector="AAAA"/></manifest:encryption-data>'
                b'</manifest:file-entry></manifest:manifest>')
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", bytes(range(256)) * 8)  # ciphertext
        zf.writestr("META-INF/manifest.xml", manifest)
    got = reader.read_guarded("报表.ods", z.getvalue())
    assert got["findings"] == [("file-encrypted", "")]


@pytest.mark.parametrize("data, says", [
    (record(0x0409, struct.pack("<HH", 0, 0x10)) + record(0x0204, b"\0" * 8) + EOF,
     "Excel 2.x–4.0"),  # a bare BIFF4 worksheet, as Excel 4.0 saved it
    (b"", "空文件"),
    (b'<?xml version="1.0" encoding="UTF-8"?>\n<office:document xmlns:office="urn:oasis:names:'
     b'tc:opendocument:xmlns:office:1.0" office:mimetype="application/vnd.oasis.opendocument.'
     b'spreadsheet"/>', ".fods"),
    (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "HTML"),
])
def test_what_a_file_that_is_no_workbook_is_gets_said(data, says):
    got = guard.inspect(data)
    assert got.findings[0][0] == "file-unreadable" and says in got.findings[0][1]


def test_value_cells_behind_a_namespace_prefix_are_seen_by_the_guard():
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="http://schemas.'
             b'openxmlformats.org/spreadsheetml/2006/main"><x:sheetData><x:row r="1"><x:c r="A1" '
             b't="n"><x:v>1</x:v></x:c></x:row><x:row r="1048576"><x:c r="XFD1048576" t="n">'
             b'<x:v>2</x:v></x:c></x:row></x:sheetData></x:worksheet>')
    wb = openpyxl.Workbook()
    buf = io.BytesIO()
    wb.save(buf)
    got = guard.inspect(rezip(buf.getvalue(), {"xl/worksheets/sheet1.xml": lambda b: sheet}))
    assert got.findings and got.findings[0][0] == "file-too-large"
    assert "1048576" in got.findings[0][1]


def test_a_sheet_outside_xl_worksheets_is_still_checked_by_the_guard():
    """calamine follows the workbook's rels to a sheet anywhere in the package; values at A1 and
    XFD1048576 there made it abort the worker instead of being refused as too large."""
    moved = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(corner_cells())) as zi, zipfile.ZipFile(moved, "w") as zo:
        for i in zi.infolist():
            body = zi.read(i).replace(b"worksheets/sheet1.xml", b"data/big.xml")
            zo.writestr(i.filename.replace("worksheets/sheet1.xml", "data/big.xml"), body)
    got = guard.inspect(moved.getvalue())  # (calamine itself is never called on it here)
    assert got.findings and got.findings[0][0] == "file-too-large"
    assert "1048576" in got.findings[0][1]


def _prefixed(xml: bytes) -> bytes:
    """A sheet part as the Open XML SDK writes it: every element of the main namespace with an
    ``x:`` prefix (elements of other namespaces keep theirs)."""
    xml = re.sub(rb"<(/?)([A-Za-z][\w.-]*)(?=[\s/>])", rb"<\1x:\2", xml)
    return xml.replace(b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
                       b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"')


def test_a_return_written_with_namespace_prefixes_reads_its_percentages_and_formulas(tmp_path):
    """Before: the sheet XML was searched for ``<c`` and ``<f`` only, so in a prefixed sheet an
    85 % milestone read 0.85 and a formula without a value read as an empty cell."""
    def spoil(wb):
        b = Book(wb)
        n = b.first(lambda ind: ind.is_milestone)
        b.ws().cell(b.row(n), b.col("本月累计完成")).number_format = "0%"
        got["pct"] = b.put("本月累计完成", n, 0.85)
        got["formula"] = b.put("本月累计完成", 0 if n else 1, "=1/0")
    got: dict = {}
    data = fill(template(tmp_path, "市卫健委"), tmp_path / "r.xlsx", spoil).read_bytes()
    part = sheet_part(data, C.SHEET_LEAD)
    pre = rezip(data, {part: _prefixed})
    assert b'<x:c r="%s"' % got["pct"].encode() in zipfile.ZipFile(io.BytesIO(pre)).read(part)
    for bytes_ in (data, pre):
        wb = reader.read_guarded("r.xlsx", bytes_)["workbook"]
        assert wb["percent_cells"] == {C.SHEET_LEAD: [got["pct"]]}
        assert got["formula"] in wb["formula_cells"][C.SHEET_LEAD]


def xlsb_like() -> bytes:
    """The parts of an Excel binary workbook (records here are not a readable workbook)."""
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
                    'openxmlformats.org/package/2006/content-types"><Override PartName="/xl/'
                    'workbook.bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled'
                    '.main"/></Types>')
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00\x9c\x01\x00")
        zf.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00")
    return z.getvalue()


def numbers_like() -> bytes:
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("Index/Document.iwa", b"\0\x10\x00")
        zf.writestr("Metadata/Properties.plist", b"bplist00")
    return z.getvalue()


def word_docx() -> bytes:
    """A unit's cover letter (情况说明) in Word: a zip, but no workbook."""
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    return z.getvalue()


def test_every_odd_workbook_in_a_folder_gets_its_issue_and_is_archived(tmp_path, good):
    """Before: a zip named .xlsx without xl/workbook.xml was unpacked as an archive and its parts
    skipped, and .xlsb, .numbers or an OLE workbook under an odd name were not taken from a
    folder at all: each disappeared without a word."""
    backslashed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as zi, zipfile.ZipFile(backslashed, "w") as zo:
        for i in zi.infolist():  # as a Windows zip tool writes member paths
            zo.writestr(i.filename.replace("/", "\\"), zi.read(i))
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    files = {
        "backslash.xlsx": (backslashed.getvalue(), "file-unreadable"),
        "empty.xlsx": (empty.getvalue(), "file-unreadable"),
        "binary.xlsb": (xlsb_like(), "file-unreadable"),
        "apple.numbers": (numbers_like(), "file-unreadable"),
        "1997.biff8": (ole_file({"Workbook": BOF8 + FILEPASS_RC4 + EOF}), "file-encrypted"),
    }
    folder = tmp_path / "in"
    folder.mkdir()
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    (folder / "说明.pdf").write_bytes(b"%PDF-1.4 not a return")  # still skipped, and so is
    # the unit's cover letter in Word
    (folder / "情况说明.docx").write_bytes(word_docx())  # as from a mail
    db = tmp_path / "out" / "l.sqlite"
    res = collect.collect_paths([folder], PERIOD, db, master=master(), config={},
                                received=ON_TIME)
    got = {Path(i.file).name: i.code for i in res.issues if i.severity == "error"}
    assert got == {name: code for name, (_, code) in files.items()}
    assert "Apple Numbers" in next(i.message for i in res.issues if i.file.endswith(".numbers"))
    con = sqlite3.connect(db)
    for name, (data, _) in files.items():
        rel = con.execute("SELECT archive_path FROM files WHERE sha256 = ?",
                          (hashlib.sha256(data).hexdigest(),)).fetchone()
        assert rel and (db.parent / rel[0]).read_bytes() == data, name
    assert res.exit_code == 1


def test_a_slow_annotated_copy_never_costs_the_return(tmp_path):
    """A return whose table sheet also holds 60,000 merged ranges below the table: calamine
    reads it in a blink, openpyxl needs longer than the worker's time limit to open it for the
    annotated copy (a workbook of 50,000 merges in POI's tests takes it minutes).
    Before: the worker was killed and the correctly read return became file-too-large."""
    def typo(wb):
        ws = wb[C.SHEET_LEAD]
        hdr, ids = cells(ws)
        ws.cell(next(iter(ids.values())), hdr["本月累计完成"]).value = "三所"
    data = fill(template(tmp_path, "市卫健委"), tmp_path / "filled.xlsx", typo).read_bytes()
    part = sheet_part(data, C.SHEET_LEAD)
    merges = b"".join(b'<mergeCell ref="A%d:B%d"/>' % (r, r) for r in range(100, 60100))
    # into the sheet's own <mergeCells> (the template merges its title): a second one is ignored
    slow = rezip(data, {part: lambda b: re.sub(rb"(<mergeCells\b[^>]*>)",
                                               lambda m: m.group(1) + merges, b, count=1)})
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "merged.xlsx").write_bytes(slow)
    db = tmp_path / "out" / "l.sqlite"
    res = collect.collect_paths([tmp_path / "in"], PERIOD, db, master=master(),
                                config={"limits": {"worker_timeout_s": 2.0}}, received=ON_TIME,
                                annotate_dir=collect.annotated_dir(db, PERIOD))
    assert [i.code for i in res.issues if i.severity == "error"] == ["not-a-number"]
    assert [(r.status, r.accepted_rows > 0) for r in res.rows] == [("accepted", True)]


def _chatty(name, data, limits):
    print("0 is out of range")  # what openpyxl prints for a bad style index
    return {"workbook": {"name": name}}


def test_what_a_library_prints_in_a_worker_stays_out_of_the_clerks_output(capfd):
    with guard.WorkerPool(_chatty, 1) as pool:
        got = dict(pool.imap([("a", b"", None)]))
    assert got[0]["workbook"] == {"name": "a"}
    assert "out of range" not in capfd.readouterr().out


def test_a_mail_with_a_locked_xlsx_and_a_web_systems_xls_gets_their_issues(tmp_path):
    """Before: both attachments were taken for "other" (an OLE file without a Workbook stream,
    HTML) and skipped, so the mail looked as if nothing had been attached."""
    locked = ole_file({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00",
                       "EncryptedPackage": bytes(range(256))})
    html = "<html><body><table><tr><td>指标编号</td></tr></table></body></html>".encode()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "mail.eml").write_bytes(mail_with(
        {"报表.xlsx": locked, "系统导出.xls": html, "情况说明.docx": word_docx()},
        "见附件，打开密码另行告知", "<odd@example.cn>", "2024年6月民生实事报表"))
    db = tmp_path / "out" / "l.sqlite"
    res = collect.collect_paths([tmp_path / "in"], PERIOD, db, master=master(), config={},
                                received=ON_TIME)
    got = {Path(i.file).name: (i.code, i.message) for i in res.issues}
    assert set(got) == {"mail.eml!报表.xlsx", "mail.eml!系统导出.xls"}
    assert got["mail.eml!报表.xlsx"][0] == "file-encrypted"
    assert got["mail.eml!系统导出.xls"][0] == "file-unreadable"
    assert "HTML" in got["mail.eml!系统导出.xls"][1]
