"""The SQLite ledger: every file received, every value read, every issue, every mail sent.

Outside tools read it only through the two documented views ``issues_v`` and ``values_v``; the
tables behind them may change. Writes happen in transactions so a killed run leaves it
consistent and a rerun finishes the job.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, Optional, Sequence

from minshi_xls import faults

SCHEMA_VERSION = 3

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);

-- One row per distinct file content ever received (archived byte for byte).
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    format TEXT,                 -- xlsx, xlsm, xls, et, ods, unknown
    archive_path TEXT NOT NULL,  -- relative to the ledger's folder
    first_seen TEXT NOT NULL
);

-- One row per arrival of a file (the same bytes may arrive twice: a duplicate).
CREATE TABLE IF NOT EXISTS receipts (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id),
    source_path TEXT NOT NULL,   -- path it was collected from (or attachment name)
    sender TEXT, message_id TEXT, mail_date TEXT,
    received_at TEXT NOT NULL,   -- ISO time used to order versions (mail date or mtime)
    collected_at TEXT NOT NULL,
    container_id INTEGER REFERENCES files(id)  -- the .zip/.eml it came in (archived too)
);

-- One row per return (an identified or unidentified file for a period).
CREATE TABLE IF NOT EXISTS returns (
    id INTEGER PRIMARY KEY,
    receipt_id INTEGER NOT NULL REFERENCES receipts(id),
    file_id INTEGER NOT NULL REFERENCES files(id),
    unit TEXT,                   -- short name; NULL when unidentified
    period TEXT,
    format_version TEXT,
    received_at TEXT NOT NULL,   -- orders versions; a receipt time unless time_source = 'file'
    time_source TEXT,            -- mail | given (--received) | file (the file's own time)
    deadline TEXT,
    late INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,        -- accepted | rejected | superseded | duplicate | unidentified | blank
    accepted_rows INTEGER NOT NULL DEFAULT 0,
    meta_found INTEGER NOT NULL DEFAULT 1,
    reporter TEXT, phone TEXT, report_date TEXT,
    saved_at TEXT,               -- the workbook's own saved time (docProps modified), orders ties
    verdict TEXT                 -- accepted | rejected as validated, before any version contest
);
CREATE INDEX IF NOT EXISTS returns_unit_period ON returns(unit, period);

-- Every value read from a return; ``accepted`` is 0 for a value in error.
CREATE TABLE IF NOT EXISTS cell_values (
    id INTEGER PRIMARY KEY,
    return_id INTEGER NOT NULL REFERENCES returns(id),
    sheet TEXT, cell TEXT, indicator_id TEXT,
    field TEXT NOT NULL,         -- the header text of the column (columns.py)
    raw TEXT, number REAL,
    accepted INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS cell_values_return ON cell_values(return_id);

CREATE TABLE IF NOT EXISTS issues (
    id INTEGER PRIMARY KEY,
    return_id INTEGER REFERENCES returns(id),
    file_id INTEGER REFERENCES files(id),
    source TEXT NOT NULL DEFAULT 'collect',   -- collect | reconcile | fetch
    code TEXT NOT NULL, severity TEXT NOT NULL,
    unit TEXT, period TEXT, file_path TEXT, sheet TEXT, cell TEXT, indicator_id TEXT,
    value TEXT, message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS issues_period ON issues(period);
-- collect looks these up once per file (duplicates, supersede): keep a 1,000-file run linear.
CREATE INDEX IF NOT EXISTS issues_return ON issues(return_id);
CREATE INDEX IF NOT EXISTS receipts_file ON receipts(file_id);
CREATE INDEX IF NOT EXISTS returns_file ON returns(file_id);

-- The clerk's choice of the version that counts (minshi accept), newest row per unit and
-- period wins; return_id NULL is an undo. Never updated: the history stays.
CREATE TABLE IF NOT EXISTS pins (
    id INTEGER PRIMARY KEY,
    period TEXT NOT NULL, unit TEXT NOT NULL,
    return_id INTEGER REFERENCES returns(id),
    file_sha256 TEXT, file_path TEXT,
    note TEXT, pinned_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pins_unit_period ON pins(unit, period);

-- Reconciled figures per period (month n+1 knows month n).
CREATE TABLE IF NOT EXISTS reconciled (
    period TEXT NOT NULL, indicator_id TEXT NOT NULL,
    cumulative REAL, status TEXT, unit TEXT, carried_forward INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (period, indicator_id)
);

-- Mail: every message sent (or written to the outbox), and every message fetched.
CREATE TABLE IF NOT EXISTS sends (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,          -- send | remind
    unit TEXT NOT NULL, period TEXT NOT NULL,
    to_addr TEXT, subject TEXT, attachment TEXT, message_id TEXT,
    transport TEXT NOT NULL,     -- smtp | outbox
    status TEXT NOT NULL,        -- sent | failed
    error TEXT, sent_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fetched (
    message_id TEXT PRIMARY KEY,
    uid TEXT, folder TEXT, sender TEXT, mail_date TEXT, subject TEXT,
    period TEXT, fetched_at TEXT NOT NULL
);

-- Every workbook ``templates`` wrote, by its exact bytes: such a file coming back (a bounce,
-- the blank template forwarded) is never a return (collect: blank-return; mail can ask too).
CREATE TABLE IF NOT EXISTS generated (
    sha256 TEXT PRIMARY KEY,
    unit TEXT NOT NULL, period TEXT NOT NULL, file_name TEXT NOT NULL,
    generated_at TEXT NOT NULL
);

-- Files that came with a return but are not one (the sealed scan, photos), archived beside it.
-- Replies that are not returns are issues (source 'fetch', codes mail-*) against their unit.
CREATE TABLE IF NOT EXISTS mail_files (
    id INTEGER PRIMARY KEY,
    period TEXT NOT NULL, unit TEXT, message_id TEXT,
    name TEXT NOT NULL, archive_path TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    kept_at TEXT NOT NULL
);

CREATE VIEW IF NOT EXISTS issues_v AS
SELECT i.code, i.severity, i.unit, i.period, i.file_path, f.sha256 AS file_sha256,
       i.sheet, i.cell, i.indicator_id, i.value, i.message
FROM issues i LEFT JOIN files f ON f.id = i.file_id;

CREATE VIEW IF NOT EXISTS values_v AS
SELECT r.unit, r.period, rc.source_path AS file_path, f.sha256 AS file_sha256,
       r.status AS return_status, v.sheet, v.cell, v.indicator_id, v.field, v.raw, v.number
FROM cell_values v
JOIN returns r ON r.id = v.return_id
JOIN receipts rc ON rc.id = r.receipt_id
JOIN files f ON f.id = r.file_id;
"""


def connect(db_path) -> sqlite3.Connection:
    """Open (creating if needed) the ledger; WAL and a busy timeout let two runs share it."""
    p = Path(db_path)
    con = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(str(p), timeout=60, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA foreign_keys=ON")
        # all of the schema or none of it (a full disk stops a first run part way)
        con.executescript(f"BEGIN IMMEDIATE;{SCHEMA}COMMIT;")
        _migrate(con)
        return con
    except (OSError, sqlite3.Error) as e:
        if con is not None:
            con.close()
        fault = faults.as_fault(e, p)
        if fault is e:
            raise
        raise fault from e


#: Columns added after version 1 (time_source: version 3): (table, column, declaration).
_ADDED = (("receipts", "container_id", "INTEGER REFERENCES files(id)"),
          ("returns", "saved_at", "TEXT"), ("returns", "verdict", "TEXT"),
          ("returns", "time_source", "TEXT"))


def _migrate(con: sqlite3.Connection) -> None:
    """Bring a ledger of an earlier version up to this one (columns are only ever added)."""
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is not None and int(row[0]) >= SCHEMA_VERSION:
        return
    with transaction(con):
        for table, column, decl in _ADDED:
            have = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
        # the validation verdict of a return superseded before verdicts were kept: rejected
        # when it carries a file-level error
        con.execute(
            "UPDATE returns SET verdict = CASE WHEN status IN ('accepted', 'rejected') THEN status"
            " WHEN EXISTS (SELECT 1 FROM issues i WHERE i.return_id = returns.id AND"
            " i.severity = 'error' AND i.code IN (%s)) THEN 'rejected' ELSE 'accepted' END"
            " WHERE verdict IS NULL AND status IN ('accepted', 'rejected', 'superseded')"
            % ",".join("?" * len(_FILE_LEVEL)), _FILE_LEVEL)
        con.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),))


#: rules.FILE_LEVEL_ERRORS as of schema version 1 (what rejected a whole return then).
_FILE_LEVEL = ("file-unreadable", "file-encrypted", "file-too-large", "unidentified-return",
               "wrong-period", "template-modified")


@contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT: one writer at a time, all or nothing."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")


def accepted_numbers(con: sqlite3.Connection, period: str, fields: Sequence[str],
                     unit: Optional[str] = None) -> Dict[str, Dict[str, float]]:
    """unit -> indicator_id -> number of ``fields`` (header texts) in each unit's latest
    accepted return of ``period``: the one reading of "what a unit reported for a month" that
    cumulative-decreased (collect) and the 上月累计 pre-fill (templates) share. Matched by
    field, never by sheet: units rename sheets."""
    marks = ",".join("?" * len(fields))
    where, args = ("AND r.unit = ?", [unit]) if unit else ("", [])
    out: Dict[str, Dict[str, float]] = {}
    for u, ind, num in con.execute(
            "SELECT r.unit, v.indicator_id, v.number FROM cell_values v JOIN returns r "
            "ON r.id = v.return_id WHERE r.period = ? AND r.status = 'accepted' "
            f"AND v.accepted = 1 AND v.number IS NOT NULL AND v.field IN ({marks}) {where} "
            "AND r.id = (SELECT r2.id FROM returns r2 WHERE r2.unit = r.unit AND "
            "r2.period = r.period AND r2.status = 'accepted' "
            "ORDER BY r2.received_at DESC, r2.id DESC LIMIT 1) ORDER BY v.id",
            [period, *fields, *args]):
        if ind:
            out.setdefault(u, {})[ind] = num
    return out


def record_generated(db_path, rows: Sequence[tuple]) -> None:
    """(sha256, unit, period, file name) of workbooks ``templates`` just wrote."""
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    con = connect(db_path)
    try:
        with transaction(con):
            con.executemany("INSERT OR REPLACE INTO generated(sha256, unit, period, file_name, "
                            "generated_at) VALUES (?,?,?,?,?)", [(*r, now) for r in rows])
    finally:
        con.close()


def generated_hashes(con: sqlite3.Connection) -> frozenset:
    """SHA-256 (hex) of every workbook ``templates`` wrote: bytes that are never a return."""
    return frozenset(r[0] for r in con.execute("SELECT sha256 FROM generated"))


def generated_in(db_path) -> frozenset:
    """:func:`generated_hashes` of the ledger at ``db_path``, read only; empty without one."""
    p = Path(db_path) if db_path else None
    if p is None or not p.is_file():
        return frozenset()
    try:
        con = sqlite3.connect(f"file:{p.resolve()}?mode=ro", uri=True, timeout=30)
        try:
            return generated_hashes(con)
        finally:
            con.close()
    except sqlite3.Error:  # an older ledger without the table, a foreign file
        return frozenset()


def mail_states(con: sqlite3.Connection, period: str) -> Dict[str, dict]:
    """unit -> its latest reply that is not a return (``fetch``'s ``mail-*`` issues: no
    attachment, auto-reply, bounce, download link, …) as {code, value, message, mail_date,
    file_id, archive_path}: the one reading ``status``, 报送情况 and ``remind`` share.
    ``file_id``/``archive_path`` are the message as it arrived (None when it was never
    downloaded: too large)."""
    out: Dict[str, dict] = {}
    for r in con.execute(
            "SELECT i.unit, i.code, i.value, i.message, f.mail_date, i.file_id, m.archive_path"
            " FROM issues i LEFT JOIN fetched f ON 'imap:' || f.message_id = i.file_path"
            " LEFT JOIN files m ON m.id = i.file_id"
            " WHERE i.period = ? AND i.source = 'fetch' AND i.code LIKE 'mail-%'"
            " AND i.unit IS NOT NULL ORDER BY i.id", (period,)):
        out[r["unit"]] = dict(r)
    return out


def mail_files(con: sqlite3.Connection, period: str) -> Dict[str, list]:
    """unit -> the files that came with its return (sealed scan, photos), as archived (with
    their id, size and time kept, which the console lists and serves them by)."""
    out: Dict[str, list] = {}
    for r in con.execute("SELECT id, unit, name, archive_path, size, kept_at FROM mail_files"
                         " WHERE period = ? AND unit IS NOT NULL ORDER BY id", (period,)):
        out.setdefault(r["unit"], []).append(dict(r))
    return out


def archive_dir(db_path) -> Path:
    """The archive sits next to the ledger: ``<db folder>/archive/``."""
    return Path(db_path).resolve().parent / "archive"
