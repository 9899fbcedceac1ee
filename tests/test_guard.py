"""The hostile corpus: every broken or malicious file yields its issue and the run goes on.

The files are made at test time (small, from a real return where that matters), collected in one
run together with a good return, which must still be accepted; every original is archived byte for
byte and nothing is ever written outside the archive folder.
"""
from __future__ import annotations

import email.message
import hashlib
import io
import os
import sqlite3
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from minshi_xls import collect, guard, reader
from minshi_xls import columns as C
from test_collect_support import ON_TIME, PERIOD, fill, mail_with, master, template


def rezip(src: bytes, replace=None, add=None) -> bytes:
    """A copy of an xlsx with some members replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zi, zipfile.ZipFile(out, "w",
                                                                  zipfile.ZIP_DEFLATED) as zo:
        for i in zi.infolist():
            body = zi.read(i)
            if replace and i.filename in replace:
                body = replace[i.filename](body)
            zo.writestr(i.filename, body)
        for name, body in (add or {}).items():
            zo.writestr(name, body)
    return out.getvalue()


def sheet_part(data: bytes, sheet: str = C.SHEET_LEAD) -> str:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return f"xl/worksheets/sheet{wb.sheetnames.index(sheet) + 1}.xml"


def corner_cells() -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    wb.active["XFD1048576"] = "y"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    tmp = tmp_path_factory.mktemp("good")
    return fill(template(tmp, "市卫健委"), tmp / "good.xlsx").read_bytes()


def hostile(good: bytes) -> dict:
    part = sheet_part(good)
    bomb = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 ' \
           b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><x>&lol2;</x>'
    fake_ole = guard.OLE_MAGIC + b"\0" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 64
    return {
        "entity_bomb.xlsx": (rezip(good, {"xl/styles.xml": lambda b: bomb}),
                             "file-unreadable"),
        "zip_bomb.xlsx": (rezip(good, add={"xl/media/blank.bin": b"\0" * (30 << 20)}),
                          "file-too-large"),
        "corner_cells.xlsx": (corner_cells(), "file-too-large"),
        "encrypted.xlsx": (fake_ole, "file-encrypted"),
        "not_a_sheet.xlsx": (b"%PDF-1.4 this is a pdf renamed", "file-unreadable"),
        "truncated.xlsx": (good[: len(good) // 2], "file-unreadable"),
        "macro.xlsm": (rezip(good, add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 vba"}),
                       "macro-present"),
        "huge_dimension.xlsx": (rezip(good, {part: lambda b: b.replace(
            b'<dimension ref="', b'<dimension ref="A1:XFD1048576" x="', 1)}), None),
    }


def test_hostile_corpus_each_yields_its_issue_and_the_run_goes_on(tmp_path, good):
    folder = tmp_path / "in"
    folder.mkdir()
    corpus = hostile(good)
    for name, (data, _) in corpus.items():
        (folder / name).write_bytes(data)
    (folder / "good.xlsx").write_bytes(good)
    db = tmp_path / "out" / "minshi.sqlite"
    t = time.monotonic()
    res = collect.collect_paths([folder], PERIOD, db, master=master(), config={},
                                received=ON_TIME)
    assert time.monotonic() - t < 60
    codes = {}
    for i in res.issues:
        codes.setdefault(Path(i.file).name, set()).add(i.code)
    for name, (_, code) in corpus.items():
        if code:
            assert code in codes.get(name, set()), (name, codes.get(name))
    # same unit, same receipt and saved time: one counts, and the clerk is asked which
    assert codes.get("good.xlsx", set()) <= {"superseded", "version-tie"}
    status = {r.file: r.status for r in res.rows}
    # a macro is only a warning; the oversized <dimension> (formatting) is read normally; the
    # good return is accepted once (the macro copy and the re-dimensioned one are its versions)
    assert status["huge_dimension.xlsx"] in ("accepted", "superseded")
    assert sorted(status[n] for n in ("good.xlsx", "macro.xlsm", "huge_dimension.xlsx")) == [
        "accepted", "superseded", "superseded"]
    assert "file-too-large" not in codes.get("huge_dimension.xlsx", set())
    assert {status[n] for n in ("entity_bomb.xlsx", "zip_bomb.xlsx", "encrypted.xlsx",
                                "not_a_sheet.xlsx", "truncated.xlsx", "corner_cells.xlsx")} <= {
        "unidentified", "rejected"}
    con = sqlite3.connect(db)
    for name, (data, _) in [*corpus.items(), ("good.xlsx", (good, None))]:
        sha = hashlib.sha256(data).hexdigest()
        rel = con.execute("SELECT archive_path FROM files WHERE sha256 = ?", (sha,)).fetchone()
        assert rel, name
        assert (db.parent / rel[0]).read_bytes() == data, name


def test_path_tricks_in_zip_members_and_eml_attachments_stay_in_the_archive(tmp_path, good):
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../../evil.xlsx", good)
        zf.writestr("/etc/also_evil.xlsx", good[:-10] + b"x" * 10)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "returns.zip").write_bytes(z.getvalue())
    (tmp_path / "in" / "mail.eml").write_bytes(mail_with({"..\\..\\..\\evil2.xlsx": good}))
    items = list(collect.expand_paths([tmp_path / "in"]))
    assert {i.name for i in items} == {"evil.xlsx", "also_evil.xlsx", "evil2.xlsx"}
    mail = [i for i in items if i.name == "evil2.xlsx"][0]
    # the sender's address, as fetch records it (one message reader: mail.incoming)
    assert mail.sender == "wjw@example.cn" and mail.received_at.startswith("2024-07-03")
    db = tmp_path / "deep" / "out" / "minshi.sqlite"
    collect.ingest(items, PERIOD, db, master(), {})
    written = {p for p in tmp_path.rglob("*") if p.is_file()}
    archive = (db.parent / "archive").resolve()
    for p in written:
        assert p.resolve().is_relative_to(archive) or p.parent in (tmp_path / "in", db.parent), p
    assert not (tmp_path / "evil.xlsx").exists() and not (tmp_path / "deep" / "evil.xlsx").exists()


def test_zip_members_are_checked_before_decompressing(tmp_path):
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.xlsx", b"\0" * (40 << 20))
    (tmp_path / "b.zip").write_bytes(z.getvalue())
    (item,) = collect.expand_paths([tmp_path / "b.zip"])
    assert isinstance(item, collect.Refused) and item.finding[0] == "file-too-large"
    assert item.data == z.getvalue()  # the original (the archive it came in) is what is kept


def test_guard_reads_a_sheet_formatted_down_to_the_last_row_in_bounded_time(good):
    part = sheet_part(good)
    blank_rows = b"".join(b'<row r="%d" s="1" customFormat="1"><c r="B%d" s="1"/></row>' % (r, r)
                          for r in range(2000, 1048577, 997))
    data = rezip(good, {part: lambda b: b.replace(b"</sheetData>", blank_rows + b"</sheetData>")})
    t = time.monotonic()
    out = reader.read_guarded("x.xlsx", data)
    assert time.monotonic() - t < 5
    assert out["findings"] == [] and out["workbook"]["meta"]["unit"] == "市卫健委"
    assert len(out["workbook"]["tables"][0]["rows"]) == 17


def _abort(name, data, limits):
    os.abort()


def _sleep(name, data, limits):
    time.sleep(30)


def _ok(name, data, limits):
    return {"format": "xlsx", "findings": [], "workbook": {"name": name}}


def _hog(name, data, limits):
    return {"blob": bytearray(3 << 30)}  # 3 GB: over the worker's memory limit


def _by_name(name, data, limits):
    return {"abort": _abort, "sleep": _sleep, "hog": _hog}.get(name, _ok)(name, data, limits)


def test_memory_limit_makes_a_runaway_file_too_large():
    limits = dict(guard.limits_from(None), worker_memory_mb=512)
    with guard.WorkerPool(_by_name, 1, limits) as pool:
        got = dict(pool.imap([("hog", b"", limits), ("a", b"", limits)]))
    assert got[0]["findings"][0][0] == "file-too-large"
    assert got[1]["workbook"] == {"name": "a"}


def test_worker_crash_and_runaway_become_file_issues_and_other_files_go_on():
    limits = dict(guard.limits_from(None), worker_timeout_s=1.0)
    with guard.WorkerPool(_by_name, 2, limits) as pool:
        got = dict(pool.imap([("a", b"", limits), ("abort", b"", limits), ("sleep", b"", limits),
                              ("b", b"", limits)]))
    assert got[0]["workbook"] == {"name": "a"} and got[3]["workbook"] == {"name": "b"}
    assert got[1]["findings"][0][0] == "file-unreadable"
    assert got[2]["findings"][0][0] == "file-too-large"


def test_corner_cells_would_abort_calamine_but_the_guard_refuses_first():
    ins = guard.inspect(corner_cells())
    assert ins.fatal and ins.findings[0][0] == "file-too-large"
    assert "1048576" in ins.findings[0][1]


def test_magic_bytes_not_extension_decide_the_format(tmp_path, good):
    assert guard.inspect(good).format == "xlsx"
    assert guard.sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100) == "ole"
    out = reader.read_guarded("报表.xls", good)  # an xlsx named .xls is read as what it is
    assert out["workbook"]["meta"]["unit"] == "市卫健委"


def test_refused_members_and_oversized_files_each_keep_their_issue(tmp_path, good):
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.xlsx", b"\0" * (3 << 20))
        zf.writestr("b.xlsx", b"\1" * (3 << 20))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "two.zip").write_bytes(z.getvalue())
    (tmp_path / "in" / "big.xlsx").write_bytes(good + b"\0" * 5000)
    config = {"limits": {"max_file_bytes": len(good) + 1000,
                         "max_uncompressed_bytes": len(good) + 1000}}
    db = tmp_path / "out" / "l.sqlite"
    res = collect.collect_paths([tmp_path / "in"], PERIOD, db, master=master(), config=config,
                                received=ON_TIME)
    assert sorted((Path(i.file).name, i.code) for i in res.issues) == [
        ("big.xlsx", "file-too-large"), ("two.zip!a.xlsx", "file-too-large"),
        ("two.zip!b.xlsx", "file-too-large")]
    archived = {p.read_bytes() for p in (db.parent / "archive").rglob("*") if p.is_file()}
    assert archived == {z.getvalue(), good + b"\0" * 5000}  # streamed, byte for byte


def test_jobs_queued_behind_a_crash_are_sent_again():
    limits = dict(guard.limits_from(None), worker_timeout_s=5.0)
    with guard.WorkerPool(_by_name, 1, limits) as pool:
        got = dict(pool.imap([("abort", b"", limits), ("a", b"", limits), ("b", b"x" * 100000,
                                                                          limits)]))
    assert got[0]["findings"][0][0] == "file-unreadable"
    assert got[1]["workbook"] == {"name": "a"} and got[2]["workbook"] == {"name": "b"}


def test_only_spreadsheets_are_taken_from_mails_and_archives(tmp_path, good):
    msg = email.message.EmailMessage()
    msg["From"] = "wjw@example.cn"
    msg.set_content("见附件")
    msg.add_attachment(b"\x89PNG....", maintype="image", subtype="png", filename="image001.png")
    msg.add_attachment(good, maintype="application", subtype="octet-stream", filename="六月报表")
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("说明.txt", "请查收")
        zf.writestr("报表/2024-06_市卫健委_民生实事填报表.xlsx", good)
        zf.writestr("inner.eml", bytes(msg))
    (tmp_path / "all.zip").write_bytes(z.getvalue())
    got = [(i.name, i.source_path.split("!", 1)[1]) for i in collect.expand_paths([tmp_path])]
    assert got == [("2024-06_市卫健委_民生实事填报表.xlsx", "2024-06_市卫健委_民生实事填报表.xlsx"),
                   ("六月报表", "inner.eml!六月报表")]


def test_an_xls_reaching_beyond_the_limits_is_too_large(tmp_path):
    from test_collect_support import soffice_convert
    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    wb.active["IV6000"] = "y"  # within .xls bounds, beyond max_rows: the guard cannot see it
    wb.save(tmp_path / "far.xlsx")
    xls = soffice_convert(tmp_path / "far.xlsx", "xls", tmp_path / "conv")
    out = reader.read_guarded(xls.name, xls.read_bytes())
    assert out["format"] == "xls" and out["findings"][0][0] == "file-too-large"


def _patch_member(data: bytes, name: str, **fields) -> bytes:
    """Rewrite fields of one member's local and central headers (what a hostile or damaged
    file declares): ``size`` (uncompressed) and/or ``crc``."""
    out = bytearray(data)
    raw = name.encode()
    for sig, base, size_at, crc_at in ((b"PK\x03\x04", 30, 22, 14), (b"PK\x01\x02", 46, 24, 16)):
        pos = out.find(sig)
        while pos >= 0:
            if out[pos + base:pos + base + len(raw)] == raw:
                if "size" in fields:
                    out[pos + size_at:pos + size_at + 4] = fields["size"].to_bytes(4, "little")
                if "crc" in fields:
                    out[pos + crc_at:pos + crc_at + 4] = fields["crc"].to_bytes(4, "little")
            pos = out.find(sig, pos + 1)
    return bytes(out)


def test_lying_sizes_and_bad_checksums_are_refused_before_parsing(good):
    part = sheet_part(good)
    info = zipfile.ZipFile(io.BytesIO(good)).getinfo(part)
    lying = _patch_member(good, part, size=info.file_size // 2)
    # zipfile stops at the declared size and the CRC then fails: refused, never parsed
    assert [c for c, _ in guard.inspect(lying).findings] == ["file-unreadable"]
    bad_crc = _patch_member(good, part, crc=info.CRC ^ 1)
    assert [code for code, _ in guard.inspect(bad_crc).findings] == ["file-unreadable"]
    damaged = bytearray(good)  # a flipped byte in the compressed sheet
    damaged[info.header_offset + 30 + len(part) + info.compress_size // 2] ^= 0xFF
    assert [c for c, _ in guard.inspect(bytes(damaged)).findings] == ["file-unreadable"]
    assert guard.inspect(good).findings == []


def test_a_damaged_member_inside_a_sent_zip_is_refused_and_its_neighbours_still_come_through(
        good, tmp_path):
    """zlib raises its own error (not BadZipFile) on damaged deflate data: it must become the
    member's issue, not stop collect while it unpacks the archive."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        # sheet-like XML, damaged where zlib itself fails ("invalid distance too far back")
        z.writestr("a_市卫健委.xlsx", "".join(
            f'<c r="A{i}"><v>{hashlib.sha256(str(i).encode()).hexdigest()[:6]}</v></c>'
            for i in range(5000)).encode())
        z.writestr("b_东海县.xlsx", good)
    data = bytearray(buf.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("a_市卫健委.xlsx")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 7] ^= 0xFF
    sent = tmp_path / "returns.zip"
    sent.write_bytes(bytes(data))
    got = list(collect.expand_paths([sent]))
    refused = [i for i in got if isinstance(i, collect.Refused)]
    fine = [i for i in got if not isinstance(i, collect.Refused)]
    assert [r.finding[0] for r in refused] == ["file-unreadable"]
    assert [i.data for i in fine] == [good]
