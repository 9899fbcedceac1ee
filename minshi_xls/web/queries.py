"""Read-only questions the pages ask the ledger that no command prints: a unit's versions with
their issues, its mails, and where each downloadable file is. Which version counts is always
reconcile's rule (:func:`minshi_xls.reconcile.current_returns`), never a copy of it."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from minshi_xls import ledger
from minshi_xls.reconcile import _cell_key, current_returns, file_name_of
from minshi_xls.versions import competing


@dataclass
class Version:
    """A version as the unit page shows it: ``minshi accept``'s version (which counts, which is
    pinned, its saved time) with how it arrived and its issues."""

    return_id: int
    file_id: int
    file_name: str
    status: str
    received_at: str
    late: bool
    accepted_rows: int
    sender: str
    saved_at: Optional[str] = None
    counts: bool = False  # the version reconcile uses
    pinned: bool = False
    #: takes part in a contest of two or more and is not pinned (pinning the one that counts
    #: keeps a later arrival from replacing it)
    can_pin: bool = False
    issues: List[sqlite3.Row] = field(default_factory=list)


def open_ledger(db: Path) -> sqlite3.Connection:
    """The ledger, or an empty one in memory before anything was collected (a view never
    creates the clerk's ledger file)."""
    from minshi_xls.reconcile import connect  # a file that is not a ledger: a clear message
    return connect(db) if Path(db).is_file() else ledger.connect(":memory:")


def versions(con: sqlite3.Connection, period: str, unit: str) -> List[Version]:
    """Every version the unit sent for the period, newest first, each with its issues; which
    counts and which may be pinned is :mod:`minshi_xls.versions`' answer."""
    contest = {v.return_id: v for v in competing(con, unit, period)}
    cur = current_returns(con, period).get(unit)
    rows = con.execute(
        "SELECT r.id, r.file_id, r.status, r.received_at, r.late, r.accepted_rows,"
        " rc.source_path, rc.sender FROM returns r JOIN receipts rc ON rc.id = r.receipt_id"
        " WHERE r.period = ? AND r.unit = ? ORDER BY r.received_at DESC, r.id DESC",
        (period, unit)).fetchall()
    out = []
    for r in rows:
        c = contest.get(r["id"])
        counts = cur is not None and cur["id"] == r["id"]
        v = Version(r["id"], r["file_id"], file_name_of(r["source_path"]), r["status"],
                    r["received_at"], bool(r["late"]), r["accepted_rows"], r["sender"] or "",
                    saved_at=c.saved_at if c else None, counts=counts,
                    pinned=bool(c and c.pinned),
                    can_pin=c is not None and not c.pinned and len(contest) > 1)
        found = con.execute(
            "SELECT code, severity, sheet, cell, indicator_id, value, message FROM issues"
            " WHERE return_id = ? ORDER BY id", (r["id"],)).fetchall()
        v.issues = sorted(found, key=lambda i: (i["sheet"] or "", _cell_key(i["cell"])))
        out.append(v)
    return out


def unidentified(con: sqlite3.Connection, period: str) -> List[sqlite3.Row]:
    """Files collected for the period that no unit could be found for (the clerk looks at them
    and asks around), with the issue that says why."""
    return con.execute(
        "SELECT r.id, r.file_id, r.received_at, rc.source_path,"
        " (SELECT message FROM issues i WHERE i.return_id = r.id AND i.severity = 'error'"
        "  ORDER BY i.id LIMIT 1) AS why FROM returns r JOIN receipts rc ON rc.id = r.receipt_id"
        " WHERE r.period = ? AND r.unit IS NULL ORDER BY r.received_at, r.id",
        (period,)).fetchall()


def mails(con: sqlite3.Connection, period: str, unit: str) -> Dict[str, list]:
    """Mails sent to the unit (send, remind) and received from it (the receipts of its
    versions that came by mail, with ``message_file``: the message as fetch archived it, whose
    receipt is ``imap:<Message-ID>`` without an attachment name)."""
    sent = con.execute("SELECT kind, to_addr, subject, attachment, transport, status, error,"
                       " sent_at FROM sends WHERE period = ? AND unit = ? ORDER BY id",
                       (period, unit)).fetchall()
    received = con.execute(
        "SELECT DISTINCT rc.sender, rc.mail_date, rc.received_at, f.subject, rc.source_path,"
        " (SELECT m.file_id FROM receipts m WHERE m.message_id = rc.message_id"
        "  AND m.source_path LIKE 'imap:%' AND m.source_path NOT LIKE 'imap:%/%'"
        "  ORDER BY m.id LIMIT 1) AS message_file"
        " FROM returns r JOIN receipts rc ON rc.id = r.receipt_id"
        " LEFT JOIN fetched f ON f.message_id = rc.message_id"
        " WHERE r.period = ? AND r.unit = ? AND IFNULL(rc.message_id, '') != ''"
        " ORDER BY rc.received_at", (period, unit)).fetchall()
    return {"sent": sent, "received": received}


def archived_file(con: sqlite3.Connection, db: Path, file_id: int) -> Optional[tuple]:
    """(path in the archive, name as received) of a ledger file id; None when unknown or when
    the recorded path would leave the ledger's folder."""
    row = con.execute("SELECT f.archive_path, rc.source_path FROM files f JOIN receipts rc"
                      " ON rc.file_id = f.id WHERE f.id = ? ORDER BY rc.id LIMIT 1",
                      (file_id,)).fetchone()
    return _inside(db, row["archive_path"], file_name_of(row["source_path"])) if row else None


def attachments(con: sqlite3.Connection, period: str, unit: str) -> List[dict]:
    """The files that came by mail with the unit's return (its sealed scan, photos), as fetch
    kept them (:func:`minshi_xls.ledger.mail_files`)."""
    return ledger.mail_files(con, period).get(unit, [])


def attachment_file(con: sqlite3.Connection, db: Path, period: str,
                    attachment_id: int) -> Optional[tuple]:
    """(path, name) of a kept attachment of the period, or None (unknown, or a path leaving
    the ledger's folder)."""
    for files in ledger.mail_files(con, period).values():
        for f in files:
            if f["id"] == attachment_id:
                return _inside(db, f["archive_path"], f["name"])
    return None


def _inside(db: Path, rel: str, name: str) -> Optional[tuple]:
    root = Path(db).resolve().parent
    path = (root / rel).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path, name


def return_row(con: sqlite3.Connection, period: str, return_id: int) -> Optional[sqlite3.Row]:
    return con.execute("SELECT r.id, r.unit, rc.source_path FROM returns r JOIN receipts rc"
                       " ON rc.id = r.receipt_id WHERE r.id = ? AND r.period = ?",
                       (return_id, period)).fetchone()


def change_stamp(db: Path) -> str:
    """Changes whenever the ledger is written (by the console or the CLI): the month page
    reloads itself when it does."""
    parts = []
    for suffix in ("", "-wal"):
        p = Path(f"{db}{suffix}")
        if p.exists():
            st = p.stat()
            parts.append(f"{st.st_mtime_ns}:{st.st_size}")
    return "|".join(parts)
