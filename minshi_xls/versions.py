"""Which version of a unit's return counts for a month: the one received last, then the one
the unit saved last (the workbook's own ``modified`` time, which Excel, WPS and LibreOffice
write), never the one whose file name sorts last ("报表(1).xlsx" sorts before "报表.xlsx"). An
exact tie is a ``version-tie`` warning that asks the clerk to choose, and the clerk's choice
(:func:`accept`, ``minshi accept``) is recorded in the ledger's ``pins`` table and overrides
the order until it is undone (:func:`unaccept`).

:func:`settle` is the one place that sets the statuses of a unit's versions (``accepted`` or
``rejected`` for the one that counts, ``superseded`` for the others); reconcile, remind and the
templates' 上月累计 read those statuses, so they all follow the same rule and the pin.
"""
from __future__ import annotations

import functools
import hashlib
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from minshi_xls import MinshiError, clock, ledger
from minshi_xls import issues as I

#: Issue codes that keep a return out of the contest: a file for another month never replaces
#: this month's return (it is collected for its own month); a file whose sources name
#: different units never replaces any unit's return; a blank one is no return at all.
NON_COMPETING = ("wrong-period", "identity-conflict", "blank-return")
#: The issues this module writes (and replaces when the choice changes).
VERSION_CODES = ("superseded", "version-chosen", "version-tie")

#: Parts of a workbook holding its saved time: OOXML core properties, ODF meta.
SAVED_PARTS = ("docProps/core.xml", "meta.xml")
_SAVED = re.compile(rb"<(?:[A-Za-z]+:)?(?:modified|date)\b[^>]*>\s*([0-9][0-9T:.+\-Z ]+?)\s*<")


def saved_time(parts: Dict[str, bytes]) -> Optional[str]:
    """The workbook's last saved time as ISO with an offset, or None. OOXML writes UTC
    (``...Z``); LibreOffice's ODF ``dc:date`` has no zone and is the office's local time."""
    for name in SAVED_PARTS:
        body = parts.get(name)
        if not body:
            continue
        for m in _SAVED.finditer(body):
            tag = body[m.start():m.start() + 40]
            if b"modified" not in tag and b"dc:date" not in tag:
                continue
            text = m.group(1).decode("ascii", "replace").strip()
            text = re.sub(r"(\.\d{1,6})\d*", r"\1", text)  # ODF writes nanoseconds
            t = clock.parse(text)
            if t is not None and t.year > 1980:
                return t.isoformat(timespec="seconds")
    return None


def saved_time_ole(data: bytes) -> Optional[str]:
    """The last saved time of an .xls/.et workbook (the OLE SummaryInformation stream that
    Excel, WPS and LibreOffice write; a FILETIME, UTC), or None."""
    try:
        import olefile
        with olefile.OleFileIO(data) as ole:
            t = ole.get_metadata().last_saved_time
    except Exception:  # noqa: BLE001 - a damaged stream only means no saved time
        return None
    if not isinstance(t, datetime) or t.year <= 1980:
        return None
    return t.replace(tzinfo=timezone.utc).isoformat(timespec="seconds")


# --- the contest ------------------------------------------------------------------------------

@dataclass
class Version:
    """One competing return of a unit for a month, as the clerk chooses between them."""

    return_id: int
    unit: str
    period: str
    file: str  # where it came from: a path, "a.zip!member.xlsx", "imap:<id>/x.xlsx"
    sha256: str
    received_at: str
    saved_at: Optional[str]
    status: str  # accepted | rejected | superseded
    verdict: str  # accepted | rejected: what validation said, before the contest
    accepted_rows: int
    file_id: int = 0
    pinned: bool = False
    time_source: Optional[str] = None  # clock.FILE: received_at is only the file's own time

    @property
    def name(self) -> str:
        return re.split(r"[!/\\]", self.file)[-1]

    @property
    def counts(self) -> bool:
        return self.status != "superseded"

    def describe(self) -> str:
        """``v1.xlsx（接收 2024-07-01 09:00，保存 2024-07-01 08:55）``; a file from a folder says
        文件时间 instead of 接收 (nobody knows when it arrived)."""
        saved = clock.show(self.saved_at, default="无记录")
        came = "文件时间" if self.time_source == clock.FILE else "接收"
        return f"{self.name}（{came} {clock.show(self.received_at)}，保存 {saved}）"

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "file_id"}
        d.update(name=self.name, counts=self.counts)
        return d


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@functools.lru_cache(maxsize=4096)  # a unit's versions are compared at every new arrival
def _when(text: Optional[str]) -> Optional[datetime]:
    t = clock.parse(text)
    return t.astimezone(timezone.utc) if t else None


def choose(versions: Sequence[Version], pin: Optional[int] = None
           ) -> Tuple[Optional[Version], List[Version]]:
    """(the version that counts, the versions tied with it). The pinned one when there is a
    pin; else the last received, then the last saved; versions that cannot be told apart (same
    received time, and saved times equal or missing) are a tie, and the first recorded of them
    counts until the clerk chooses."""
    if not versions:
        return None, []
    if pin is not None:
        for v in versions:
            if v.return_id == pin:
                return v, []
    latest = max(_when(v.received_at) or _EPOCH for v in versions)
    top = [v for v in versions if (_when(v.received_at) or _EPOCH) == latest]
    if len(top) > 1:
        saved = [_when(v.saved_at) for v in top]
        best = max((s for s in saved if s is not None), default=None)
        top = [v for v, s in zip(top, saved) if s is None or s == best]
    top.sort(key=lambda v: v.return_id)
    return top[0], (top if len(top) > 1 else [])


_VERSIONS_SQL = (
    "SELECT r.id, r.unit, r.period, rc.source_path, f.sha256, r.received_at, r.saved_at,"
    " r.status, COALESCE(r.verdict, r.status) AS verdict, r.accepted_rows, r.file_id,"
    " r.time_source"
    " FROM returns r JOIN receipts rc ON rc.id = r.receipt_id JOIN files f ON f.id = r.file_id"
    " WHERE r.unit = ? AND r.period = ? AND r.status IN ('accepted', 'rejected', 'superseded')"
    " AND NOT EXISTS (SELECT 1 FROM issues i WHERE i.return_id = r.id AND i.code IN (%s))"
    " ORDER BY r.id" % ",".join("?" * len(NON_COMPETING)))


def competing(con: sqlite3.Connection, unit: str, period: str, pin: Optional[int] = -1,
              counting_only: bool = False) -> List[Version]:
    """The unit's versions for ``period`` that take part in the contest, oldest recorded first
    (``counting_only``: only those not superseded)."""
    if pin == -1:
        pin = pinned(con, unit, period)
    sql = _VERSIONS_SQL.replace(" ORDER BY", " AND r.status != 'superseded' ORDER BY") \
        if counting_only else _VERSIONS_SQL
    return [Version(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
                    pinned=r[0] == pin, time_source=r[11])
            for r in con.execute(sql, (unit, period, *NON_COMPETING))]


def pinned(con: sqlite3.Connection, unit: str, period: str) -> Optional[int]:
    """The return the clerk pinned for the unit and month, or None."""
    row = con.execute("SELECT return_id FROM pins WHERE unit = ? AND period = ? "
                      "ORDER BY id DESC LIMIT 1", (unit, period)).fetchone()
    return row[0] if row else None


def settle(con: sqlite3.Connection, unit: str, period: str, full: bool = False
           ) -> List[I.Issue]:
    """Set the statuses of the unit's versions for ``period`` by :func:`choose` (inside the
    caller's transaction) and store the issues that explain them; returns the issues that are
    new. ``full`` re-checks every version's explanation (after the clerk's choice changed);
    otherwise only versions whose status changes are touched, which keeps a 1,000-file run
    linear."""
    pin = pinned(con, unit, period)
    # Without a pin, a superseded version lost to one that still counts and cannot win now: the
    # versions that count (the new one among them) decide, unless they tie (then all are seen).
    versions = competing(con, unit, period, pin, counting_only=not full and pin is None)
    winner, tied = choose(versions, pin)
    if tied and not full and pin is None:
        versions = competing(con, unit, period, pin)
        winner, tied = choose(versions, pin)
    if pin is not None and not any(v.pinned for v in versions):
        pin = None  # the pinned return no longer competes
        winner, tied = choose(versions, pin)
    if winner is None:
        return []
    full = full or pin is not None
    pin_time = _pin_time(con, unit, period) if pin is not None else ""
    shown: List[I.Issue] = []
    for v in versions:
        want = v.verdict if v is winner else "superseded"
        changed = v.status != want
        if changed:
            con.execute("UPDATE returns SET status = ? WHERE id = ?", (want, v.return_id))
        if not (changed or full):
            continue
        if v is winner:
            _replace(con, v, [])
            continue
        code = "version-chosen" if pin is not None else "superseded"
        detail = winner.name + ("" if pin is not None
                                else f"，{clock.show(winner.received_at)}")
        issue = I.make(code, unit=unit, period=period, file=v.file, detail=detail,
                       found=clock.show(pin_time))
        if _replace(con, v, [issue], keep_superseded=not full or pin is None):
            shown.append(issue)
    if tied and pin is None:
        names = "、".join(t.name for t in tied)
        issue = I.make("version-tie", unit=unit, period=period, file=winner.file,
                       detail=names, found=winner.name)
        if _replace(con, winner, [issue]):
            shown.append(issue)
    return shown


def _replace(con: sqlite3.Connection, v: Version, want: List[I.Issue],
             keep_superseded: bool = False) -> bool:
    """Make ``want`` the version issues of ``v``; True when that changed anything. With
    ``keep_superseded`` an existing ``superseded`` issue stays as it was written (it names the
    version that was newer at the time)."""
    have = con.execute(
        "SELECT id, code, message FROM issues WHERE return_id = ? AND code IN (?, ?, ?)",
        (v.return_id, *VERSION_CODES)).fetchall()
    if keep_superseded and want and want[0].code == "superseded" and \
            any(h[1] == "superseded" for h in have):
        return False
    if sorted((h[1], h[2]) for h in have) == sorted((i.code, i.message) for i in want):
        return False
    if have:
        con.executemany("DELETE FROM issues WHERE id = ?", [(h[0],) for h in have])
    con.executemany(
        "INSERT INTO issues(return_id, file_id, source, code, severity, unit, period, file_path, "
        "message) VALUES (?,?,'collect',?,?,?,?,?,?)",
        [(v.return_id, v.file_id, i.code, i.severity, i.unit, i.period, i.file, i.message)
         for i in want])
    return bool(want)


def _pin_time(con: sqlite3.Connection, unit: str, period: str) -> str:
    row = con.execute("SELECT pinned_at FROM pins WHERE unit = ? AND period = ? "
                      "ORDER BY id DESC LIMIT 1", (unit, period)).fetchone()
    return row[0] if row else ""


# --- the clerk's choice -----------------------------------------------------------------------

@dataclass
class Choice:
    """What :func:`accept` or :func:`unaccept` did."""

    period: str
    unit: str
    counts: Optional[Version]  # the version that counts now
    before: Optional[Version]  # the one that counted before
    pinned: bool
    at: str
    versions: List[Version] = field(default_factory=list)
    issues: List[I.Issue] = field(default_factory=list)

    def lines(self) -> List[str]:
        """What ``minshi accept`` prints."""
        what = f"{self.unit} {self.period}"
        if self.counts is None:
            return [f"{what} 没有可计入的版本。"]
        now = self.counts.describe()
        if self.pinned:
            head = f"已指定 {what} 以 {now} 为准（{clock.show(self.at)} 记入台账）。"
        else:
            head = f"已撤销对 {what} 的指定，按接收时间和保存时间计入 {now}。"
        out = [head]
        if self.before is not None and self.before.return_id != self.counts.return_id:
            out.append(f"原计入的 {self.before.describe()} 不再计入，保留备查。")
        out.extend(version_lines(self.versions))
        return out


def version_lines(versions: Sequence[Version]) -> List[str]:
    """The unit's versions, oldest first, the one that counts marked."""
    out = []
    for v in versions:
        mark = "★ 计入" if v.counts else "  "
        pin = "（已指定）" if v.pinned else ""
        out.append(f"{mark} {v.describe()} sha256 {v.sha256[:12]}{pin}")
    return out


Ref = Union[str, int, Path]


def versions(db_path, period: str, unit: str, master=None) -> List[Version]:
    """The versions of a unit's return for a month, oldest recorded first (what a console
    shows before the clerk chooses)."""
    con = ledger.connect(db_path)
    try:
        return competing(con, _unit(con, period, unit, master), period)
    finally:
        con.close()


def accept(db_path, period: str, unit: str, version: Ref, note: Optional[str] = None,
           master=None) -> Choice:
    """Pin ``version`` as the unit's return that counts for ``period``: a return id (int), a
    file (its bytes are matched), a SHA-256 or its first 8+ hex digits, or the file's name or
    source path as collected. Recorded in the ``pins`` table with the time; the other versions
    become ``superseded`` (with ``version-chosen``) until :func:`unaccept`. ``unit`` is the
    short name, or with ``master`` any name or alias of its registry."""
    return _choose(db_path, period, unit, version, note, master)


def unaccept(db_path, period: str, unit: str, note: Optional[str] = None,
             master=None) -> Choice:
    """Undo the pin: the order of received and saved times decides again (recorded too)."""
    return _choose(db_path, period, unit, None, note, master)


def _choose(db_path, period: str, unit: str, version: Optional[Ref],
            note: Optional[str], master) -> Choice:
    from minshi_xls import settings
    settings.period_parts(period)
    con = ledger.connect(db_path)
    try:
        with ledger.transaction(con):
            unit = _unit(con, period, unit, master)
            before_list = competing(con, unit, period)
            before = next((v for v in before_list if v.counts), None)
            at = clock.now()
            if version is None:
                if pinned(con, unit, period) is None:
                    raise MinshiError(f"{unit} {period} 没有指定过有效版本，无需撤销。")
                con.execute("INSERT INTO pins(period, unit, return_id, note, pinned_at) "
                            "VALUES (?,?,NULL,?,?)", (period, unit, note, at))
            else:
                target = _resolve(con, period, unit, version, before_list)
                con.execute("INSERT INTO pins(period, unit, return_id, file_sha256, file_path, "
                            "note, pinned_at) VALUES (?,?,?,?,?,?,?)",
                            (period, unit, target.return_id, target.sha256, target.file, note,
                             at))
            shown = settle(con, unit, period, full=True)
            after = competing(con, unit, period)
        return Choice(period, unit, next((v for v in after if v.counts), None), before,
                      version is not None, at, after, shown)
    finally:
        con.close()


def _unit(con: sqlite3.Connection, period: str, unit: str, master=None) -> str:
    """The unit's short name as recorded for the month (a full name or alias through the
    master's registry; else a name that is part of exactly one recorded name)."""
    units = [r[0] for r in con.execute(
        "SELECT DISTINCT unit FROM returns WHERE period = ? AND unit IS NOT NULL", (period,))]
    known = master.registry.get(unit) if master is not None else None
    if known is not None and known.short in units:
        return known.short
    if unit in units:
        return unit
    near = [u for u in units if u in unit or unit in u]
    if len(near) == 1:
        return near[0]
    hint = f"相近的有：{'、'.join(near)}" if near else f"已收到报表的单位：{'、'.join(units[:12])}"
    raise MinshiError(f"台账中没有“{unit}” {period} 的报表。{hint}" if units else
                      f"台账中还没有 {period} 的报表，请先运行 minshi collect。")


def _resolve(con: sqlite3.Connection, period: str, unit: str, ref: Ref,
             versions: List[Version]) -> Version:
    """The version ``ref`` names, or a MinshiError saying why none or several do."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        found = [v for v in versions if v.return_id == ref]
        label = f"编号 {ref}"
    else:
        text = str(ref).strip()
        label = text
        path = Path(text)
        if path.is_file():
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            found = [v for v in versions if v.sha256 == sha]
        elif re.fullmatch(r"[0-9a-fA-F]{8,64}", text):
            found = [v for v in versions if v.sha256.startswith(text.lower())]
        else:
            name = re.split(r"[!/\\]", text)[-1]
            found = [v for v in versions if v.file == text] or \
                [v for v in versions if v.name == name] or _same_bytes(con, period, unit, text,
                                                                      name, versions)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise MinshiError(f"“{label}”对应 {len(found)} 个版本，请改用文件的 sha256 指定：\n"
                          + "\n".join(version_lines(found)))
    elsewhere = _elsewhere(con, period, unit, ref)
    listing = "\n".join(version_lines(versions))
    raise MinshiError(f"“{label}”不是 {unit} {period} 可以计入的版本{elsewhere}。"
                      f"该单位本月的版本：\n{listing}")


def _same_bytes(con: sqlite3.Connection, period: str, unit: str, text: str, name: str,
               versions: List[Version]) -> List[Version]:
    """The version whose bytes arrived again under ``text`` (a copy recorded as a duplicate:
    "报表 - 副本.xlsx" names the same return as "报表.xlsx")."""
    shas = {r[0] for r in con.execute(
        "SELECT f.sha256 FROM returns r JOIN receipts rc ON rc.id = r.receipt_id JOIN files f "
        "ON f.id = r.file_id WHERE r.period = ? AND r.unit = ? AND r.status = 'duplicate' AND "
        "(rc.source_path = ? OR rc.source_path LIKE ? OR rc.source_path LIKE ?)",
        (period, unit, text, f"%/{name}", f"%!{name}"))}
    return [v for v in versions if v.sha256 in shas]


def _elsewhere(con: sqlite3.Connection, period: str, unit: str, ref: Ref) -> str:
    """Why a named file is not one of the unit's versions, when the ledger knows it."""
    text = str(ref)
    path = Path(text)
    if path.is_file():
        key, where = hashlib.sha256(path.read_bytes()).hexdigest(), "f.sha256 = ?"
    elif re.fullmatch(r"[0-9a-fA-F]{8,64}", text):
        key, where = text.lower() + "%", "f.sha256 LIKE ?"
    else:
        key, where = text, "rc.source_path = ?"
    row = con.execute(
        "SELECT r.unit, r.period, r.status, EXISTS (SELECT 1 FROM issues i WHERE "
        "i.return_id = r.id AND i.code = 'wrong-period') FROM returns r JOIN receipts rc ON "
        f"rc.id = r.receipt_id JOIN files f ON f.id = r.file_id WHERE {where} "
        "ORDER BY r.id DESC LIMIT 1", (key,)).fetchone()
    if row is None:
        return "（台账中没有这份文件，请先运行 minshi collect 收取）"
    if row[3]:
        return "（这份文件不是本月的填报表）"
    if row[0] != unit:
        return f"（这份文件是“{row[0] or '未识别单位'}”的报表）"
    if row[1] != period:
        return f"（这份文件收取在 {row[1]}）"
    return ""
