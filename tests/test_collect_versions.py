"""Which version counts (received time, then the workbook's own saved time, never the name), the
clerk's choice (``minshi accept``) and per-period duplicates, on realistic returns: real
templates of the bundled notice, filled and re-saved as bureaus do."""
from __future__ import annotations

import io
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from minshi_xls import collect, ledger, reconcile, versions
from minshi_xls import columns as C
from minshi_xls.cli import cli
from minshi_xls.model import Incoming
from test_collect_support import PERIOD, fill, master, template


def saved_as(path: Path, when: str) -> Path:
    """Give an .xlsx the ``dcterms:modified`` Excel or WPS writes when the unit saves it."""
    path = Path(path)
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)",
                              rb"\g<1>" + when.encode() + rb"\g<2>", body)
            z.writestr(info, body)
    path.write_bytes(out.getvalue())
    return path


def cumulative(db, unit: str, period: str = PERIOD) -> float:
    """The unit's accepted 本月累计完成 of 省-1#1 (what reconcile and the 上月累计 pre-fill read)."""
    con = ledger.connect(db)
    try:
        got = ledger.accepted_numbers(con, period, ("本月累计完成",), unit)
    finally:
        con.close()
    return got[unit]["省-1#1"]


def statuses(db, unit="市卫健委", period=PERIOD):
    con = sqlite3.connect(db)
    return {Path(p.replace("!", "/")).name: s for p, s in con.execute(
        "SELECT rc.source_path, r.status FROM returns r JOIN receipts rc ON rc.id = r.receipt_id "
        "WHERE r.unit = ? AND r.period = ?", (unit, period))}


def two_versions(tmp_path, first_saved, second_saved, names=("报表.xlsx", "报表(1).xlsx")):
    """The unit's return downloaded twice from the mail and corrected: "报表(1).xlsx" is the
    second download (0.6 of the target), "报表.xlsx" the first (0.5)."""
    src = template(tmp_path, "市卫健委")
    a = saved_as(fill(src, tmp_path / "in" / names[0], share=0.5), first_saved)
    b = saved_as(fill(src, tmp_path / "in" / names[1], share=0.6), second_saved)
    return a, b


def test_same_receipt_time_the_later_saved_workbook_counts_not_the_later_name(tmp_path):
    # the clerk drops both into a folder and collects with one --received time; by name
    # "报表.xlsx" would win, as "(1)" sorts before "."
    a, b = two_versions(tmp_path, "2024-07-02T01:10:00Z", "2024-07-03T02:30:00Z")
    db = tmp_path / "l.sqlite"
    res = collect.collect_paths([tmp_path / "in"], PERIOD, db, master=master(), config={},
                                received="2024-07-03T11:00")
    assert statuses(db) == {"报表.xlsx": "superseded", "报表(1).xlsx": "accepted"}
    assert cumulative(db, "市卫健委") == pytest.approx(6 * 0.6)
    assert [i.code for i in res.issues] == ["superseded"]
    con = sqlite3.connect(db)
    saved = dict(con.execute("SELECT rc.source_path, r.saved_at FROM returns r JOIN receipts rc "
                             "ON rc.id = r.receipt_id"))
    assert saved == {str(a): "2024-07-02T01:10:00+00:00", str(b): "2024-07-03T02:30:00+00:00"}


def test_received_time_comes_before_saved_time(tmp_path):
    # the unit mails an old copy again by mistake a day later: it was received last, it counts
    a, b = two_versions(tmp_path, "2024-07-02T01:10:00Z", "2024-07-01T02:30:00Z")
    db = tmp_path / "l.sqlite"
    items = [Incoming(p.name, p.read_bytes(), str(p), received_at=t)
             for p, t in [(a, "2024-07-03T09:00+08:00"), (b, "2024-07-02T09:00+08:00")]]
    collect.ingest(items, PERIOD, db, master(), {})
    assert statuses(db) == {"报表.xlsx": "accepted", "报表(1).xlsx": "superseded"}


def test_libreoffice_resave_keeps_a_saved_time_that_orders_versions(tmp_path):
    from test_collect_support import soffice_convert
    a, _ = two_versions(tmp_path, "2024-07-02T01:10:00Z", "2024-07-01T02:30:00Z")
    ods = soffice_convert(a, "ods", tmp_path / "conv")
    xlsx = soffice_convert(a, "xlsx", tmp_path / "conv2")
    xls = soffice_convert(a, "xls", tmp_path / "conv3")
    for f in (ods, xlsx, xls):
        got = reader_saved(f)
        assert got is not None and got[:4] >= "2024", (f, got)


def reader_saved(path: Path):
    from minshi_xls import reader
    return reader.read_guarded(path.name, path.read_bytes())["saved_at"]


def test_exact_tie_warns_and_the_clerk_pins_the_version_reconcile_and_remind_follow(tmp_path):
    a, b = two_versions(tmp_path, "2024-07-03T02:30:00Z", "2024-07-03T02:30:00Z")
    db = tmp_path / "l.sqlite"
    res = collect.collect_paths([tmp_path / "in"], PERIOD, db, master=master(), config={},
                                received="2024-07-03T11:00")
    tie = [i for i in res.issues if i.code == "version-tie"]
    assert len(tie) == 1 and tie[0].severity == "warning"
    assert "报表.xlsx" in tie[0].message and "报表(1).xlsx" in tie[0].message
    assert "minshi accept --period 2024-06 市卫健委" in tie[0].message
    first = statuses(db)
    counted = next(n for n, s in first.items() if s == "accepted")
    other = next(n for n, s in first.items() if s == "superseded")

    runner = CliRunner()
    out = runner.invoke(cli, ["accept", "--period", PERIOD, "市卫健委", "--db", str(db)])
    assert out.exit_code == 0, out.output
    assert "★ 计入 " + counted in out.output and other in out.output

    out = runner.invoke(cli, ["accept", "--period", PERIOD, "市卫健委", str(tmp_path / "in" / other),
                              "--note", "电话确认", "--db", str(db)])
    assert out.exit_code == 0, out.output
    assert f"已指定 市卫健委 2024-06 以 {other}" in out.output
    assert statuses(db) == {counted: "superseded", other: "accepted"}
    con = ledger.connect(db)
    pin = con.execute("SELECT file_path, note, pinned_at FROM pins").fetchall()
    assert [(Path(r[0]).name, r[1]) for r in pin] == [(other, "电话确认")]
    assert pin[0][2].startswith("20")
    # the tie warning is answered; the loser says who chose what
    codes = {r[0]: r[1] for r in con.execute(
        "SELECT code, file_path FROM issues_v WHERE code IN "
        "('version-tie', 'version-chosen', 'superseded')")}
    assert list(codes) == ["version-chosen"] and Path(codes["version-chosen"]).name == counted
    # reconcile's one rule of which return counts, and so remind, follow the pin
    cur = reconcile.current_returns(con, PERIOD)["市卫健委"]
    assert Path(cur["source_path"]).name == other
    from minshi_xls.mail import unit_states
    assert unit_states(con, PERIOD, ["市卫健委"])["市卫健委"].file_name == other
    want = 6 * (0.6 if other == "报表(1).xlsx" else 0.5)
    assert cumulative(db, "市卫健委") == pytest.approx(want)
    con.close()

    # a later collect of the same folder (a rerun) keeps the clerk's choice
    collect.collect_paths([tmp_path / "in"], PERIOD, db, master=master(), config={},
                          received="2024-07-03T11:00")
    assert statuses(db)[other] == "accepted"
    # undo: the order decides again (and the tie is asked about again)
    out = runner.invoke(cli, ["accept", "--period", PERIOD, "市卫健委", "--undo", "--db", str(db)])
    assert out.exit_code == 0, out.output
    assert statuses(db) == first
    con = ledger.connect(db)
    assert con.execute("SELECT COUNT(*) FROM pins WHERE return_id IS NULL").fetchone()[0] == 1
    assert con.execute("SELECT COUNT(*) FROM issues WHERE code = 'version-tie'").fetchone()[0] == 1
    assert con.execute("SELECT COUNT(*) FROM issues WHERE code = 'version-chosen'"
                       ).fetchone()[0] == 0


def test_pin_survives_a_newer_version_until_undone(tmp_path):
    a, b = two_versions(tmp_path, "2024-07-02T01:00:00Z", "2024-07-03T01:00:00Z")
    db = tmp_path / "l.sqlite"
    collect.collect_paths([a, b], PERIOD, db, master=master(), config={},
                          received="2024-07-03T11:00")
    choice = collect.accept(db, PERIOD, "连云港市卫生健康委员会", "报表.xlsx",  # full name
                            master=master())
    assert choice.counts.name == "报表.xlsx" and choice.before.name == "报表(1).xlsx"
    c = saved_as(fill(template(tmp_path, "市卫健委"), tmp_path / "later" / "第三版.xlsx",
                      share=0.7), "2024-07-04T01:00:00Z")
    res = collect.collect_paths([c], PERIOD, db, master=master(), config={},
                                received="2024-07-04T11:00")
    assert statuses(db) == {"报表.xlsx": "accepted", "报表(1).xlsx": "superseded",
                            "第三版.xlsx": "superseded"}
    assert [i.code for i in res.issues] == ["version-chosen"]
    back = collect.unaccept(db, PERIOD, "市卫健委")
    assert back.counts.name == "第三版.xlsx"
    assert cumulative(db, "市卫健委") == pytest.approx(6 * 0.7)


@pytest.mark.parametrize("ref,message", [
    ("不存在.xlsx", "不是 市卫健委 2024-06 可以计入的版本"),
    ("deadbeef00", "台账中没有这份文件"),
])
def test_accept_names_what_is_wrong_with_the_choice(tmp_path, ref, message):
    two_versions(tmp_path, "2024-07-02T01:00:00Z", "2024-07-03T01:00:00Z")
    db = tmp_path / "l.sqlite"
    collect.collect_paths([tmp_path / "in"], PERIOD, db, master=master(), config={},
                          received="2024-07-03T11:00")
    out = CliRunner().invoke(cli, ["accept", "--period", PERIOD, "市卫健委", ref, "--db", str(db)])
    assert out.exit_code == 2 and message in out.output, out.output
    assert "报表(1).xlsx" in out.output  # the versions there are, to choose from
    out = CliRunner().invoke(cli, ["accept", "--period", PERIOD, "市卫健委", "--undo",
                                   "--db", str(db)])
    assert out.exit_code == 2 and "没有指定过" in out.output


def test_another_months_file_is_collected_normally_for_its_own_month(tmp_path):
    """The clerk collects May's return into June by mistake (wrong-period, rejected), then
    collects the same file for May: it is May's return, not a duplicate."""
    may = fill(template(tmp_path, "市卫健委", "2024-05"), tmp_path / "in" / "五月.xlsx", share=0.4)
    db = tmp_path / "l.sqlite"
    june = collect.collect_paths([may], PERIOD, db, master=master(), config={},
                                 received="2024-06-03T10:00")
    assert [r.status for r in june.rows] == ["rejected"]
    assert "wrong-period" in [i.code for i in june.issues]
    res = collect.collect_paths([may], "2024-05", db, master=master(), config={},
                                received="2024-06-03T10:00")
    assert [(r.status, r.accepted_rows > 0) for r in res.rows] == [("accepted", True)]
    assert "duplicate-return" not in [i.code for i in res.issues]
    assert cumulative(db, "市卫健委", "2024-05") == pytest.approx(6 * 0.4)
    # and the same bytes again for May are a duplicate of May's return
    again = collect.collect_paths([may], "2024-05", db, master=master(), config={},
                                  received="2024-06-04T10:00")
    assert [r.status for r in again.rows] == ["duplicate"]
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 1  # one copy of the bytes


def test_a_version_one_ledger_is_migrated_and_its_statuses_kept(tmp_path):
    """A ledger written before versions were ordered by saved time: its columns are added and
    a superseded rejected return keeps its verdict (it must not come back as accepted)."""
    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    con.executescript(_V1_SCHEMA)
    con.executescript(
        "INSERT INTO meta VALUES ('schema_version', '1');"
        "INSERT INTO files VALUES (1, 'a', 1, 'xlsx', 'archive/a', '2024-07-01');"
        "INSERT INTO receipts VALUES (1, 1, 'old.xlsx', NULL, NULL, NULL, '2024-07-01T09:00',"
        " '2024-07-01');"
        "INSERT INTO returns(id, receipt_id, file_id, unit, period, received_at, status)"
        " VALUES (1, 1, 1, '市卫健委', '2024-06', '2024-07-01T09:00', 'superseded');"
        "INSERT INTO issues(return_id, file_id, code, severity, message) VALUES"
        " (1, 1, 'template-modified', 'error', 'x');")
    con.commit()
    con.close()
    con = ledger.connect(db)
    assert con.execute("SELECT verdict, saved_at FROM returns").fetchone()[:] == ("rejected", None)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == \
        str(ledger.SCHEMA_VERSION)
    assert [v.verdict for v in versions.competing(con, "市卫健委", "2024-06")] == ["rejected"]


_V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE files (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, size INTEGER NOT NULL,
    format TEXT, archive_path TEXT NOT NULL, first_seen TEXT NOT NULL);
CREATE TABLE receipts (id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL REFERENCES files(id),
    source_path TEXT NOT NULL, sender TEXT, message_id TEXT, mail_date TEXT,
    received_at TEXT NOT NULL, collected_at TEXT NOT NULL);
CREATE TABLE returns (id INTEGER PRIMARY KEY, receipt_id INTEGER NOT NULL, file_id INTEGER NOT
    NULL, unit TEXT, period TEXT, format_version TEXT, received_at TEXT NOT NULL, deadline TEXT,
    late INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL, accepted_rows INTEGER NOT NULL
    DEFAULT 0, meta_found INTEGER NOT NULL DEFAULT 1, reporter TEXT, phone TEXT,
    report_date TEXT);
CREATE TABLE issues (id INTEGER PRIMARY KEY, return_id INTEGER, file_id INTEGER,
    source TEXT NOT NULL DEFAULT 'collect', code TEXT NOT NULL, severity TEXT NOT NULL,
    unit TEXT, period TEXT, file_path TEXT, sheet TEXT, cell TEXT, indicator_id TEXT,
    value TEXT, message TEXT NOT NULL);
"""


def test_a_third_copy_in_a_later_run_joins_the_tie_and_the_first_still_counts(tmp_path):
    a, b = two_versions(tmp_path, "2024-07-03T02:30:00Z", "2024-07-03T02:30:00Z")
    c = saved_as(fill(template(tmp_path, "市卫健委"), tmp_path / "later" / "报表 - 副本.xlsx",
                      share=0.7), "2024-07-03T02:30:00Z")
    db = tmp_path / "l.sqlite"
    first = collect.collect_paths([a, b], PERIOD, db, master=master(), config={},
                                  received="2024-07-03T11:00")
    counted = next(r.file for r in first.rows if r.status == "accepted")
    res = collect.collect_paths([c], PERIOD, db, master=master(), config={},
                                received="2024-07-03T11:00")
    (tie,) = [i for i in res.issues if i.code == "version-tie"]
    assert all(n in tie.message for n in ("报表.xlsx", "报表(1).xlsx", "报表 - 副本.xlsx"))
    assert statuses(db)[counted] == "accepted"
    assert sorted(statuses(db).values()) == ["accepted", "superseded", "superseded"]
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM issues WHERE code = 'version-tie'").fetchone()[0] == 1


def test_the_clerk_may_name_a_copy_that_was_recorded_as_a_duplicate(tmp_path):
    a, b = two_versions(tmp_path, "2024-07-02T01:00:00Z", "2024-07-03T01:00:00Z")
    db = tmp_path / "l.sqlite"
    collect.collect_paths([tmp_path / "in"], PERIOD, db, master=master(), config={},
                          received="2024-07-03T11:00")
    copy = tmp_path / "again" / "报表 - 副本.xlsx"  # the unit sends the first one once more
    copy.parent.mkdir()
    copy.write_bytes(a.read_bytes())
    res = collect.collect_paths([copy], PERIOD, db, master=master(), config={},
                                received="2024-07-04T11:00")
    assert {r.file: r.status for r in res.rows}["报表 - 副本.xlsx"] == "duplicate"
    choice = collect.accept(db, PERIOD, "市卫健委", "报表 - 副本.xlsx")
    assert choice.counts.name == "报表.xlsx"
    assert statuses(db) == {"报表.xlsx": "accepted", "报表(1).xlsx": "superseded",
                            "报表 - 副本.xlsx": "duplicate"}
