"""Collect returns: read whatever comes back, validate it cell by cell, lose nothing.

:func:`expand_paths` turns files, folders, .zip archives and .eml messages into
:class:`~minshi_xls.model.Incoming` records (names are never trusted as paths; archive members
are size- and ratio-checked before decompressing). :func:`ingest` parses them in a guarded worker
pool, runs the rules, and records every file (archived byte for byte), every value and every
issue in the SQLite ledger, one ``BEGIN IMMEDIATE`` transaction per batch, so a killed run
leaves it consistent and two runs at once do not double-count. :func:`check_files` validates
without the ledger (what a bureau runs before sending).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import sqlite3
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from minshi_xls import MinshiError
from minshi_xls import columns as C
from minshi_xls import clock, faults, guard, ledger, reader, settings, versions
from minshi_xls import issues as I
from minshi_xls import numbers as N
from minshi_xls import rules as R
from minshi_xls.master import load_master
from minshi_xls.model import Incoming, Master
from minshi_xls.rules import identity

#: Names taken as spreadsheets wherever they come from; the bytes then decide what they are
#: (.xlsb is read, a Numbers or flat-XML file is told to be re-saved, never skipped unseen).
SPREADSHEET_EXT = (".xlsx", ".xlsm", ".xls", ".et", ".ods", ".xltx", ".ett", ".xlsb", ".xltm",
                   ".xlt", ".fods", ".numbers")
UNIDENTIFIED = "_unidentified"
CONTAINERS = "_containers"  # archive folder of the .zip and .eml files returns came in
#: Files per ledger transaction: each batch is all-or-nothing; small enough that a kill loses
#: little work, large enough that commits do not dominate a 1,000-file run. A batch is also
#: committed after BATCH_SECONDS, so a second run at the same time never waits long.
BATCH = 25
BATCH_SECONDS = 0.25
MAX_NESTING = 3
ANNOTATED_SUFFIX = "_问题标注"


@dataclass
class Container(Incoming):
    """A .zip or .eml as it arrived, or a fetched mail message as the server holds it: not a
    return itself, archived byte for byte (under ``archive/<period>/_containers/``) so every
    original can be recovered as it came; the receipts of its members point at it."""


@dataclass
class Refused(Incoming):
    """An arrival that could not be safely unpacked (a zip bomb member, an oversized
    attachment): ``data`` is the container it came in, ``finding`` its file-level issue."""

    finding: Tuple[str, str] = ("file-unreadable", "")
    #: a file too large to load: archived by streaming it from here (``data`` is empty)
    source_file: Optional[str] = None
    #: the unit whose registered address sent it (fetch): an unreadable file still counts as
    #: that unit's rejected return, so its reminder says what was wrong
    unit: Optional[str] = None


#: The clerk's choice of the version that counts (``minshi accept``): see minshi_xls/versions.py.
accept, unaccept, list_versions = versions.accept, versions.unaccept, versions.versions


# --- expanding paths --------------------------------------------------------------------------

def safe_name(name: str) -> str:
    """The last path component of an untrusted name, without control characters or dots that
    could climb out of a folder ("../../x.xlsx" -> "x.xlsx")."""
    base = PurePosixPath(str(name).replace("\\", "/")).name
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = base.strip().lstrip(".").replace(":", "_")
    return base[:MAX_NAME_CHARS] or "unnamed"


#: Names are kept as sent (the ledger has them whole); only files we write are shortened to fit
#: the disk (:func:`fit_name`).
MAX_NAME_CHARS = 1000
#: What archivers and desktops add beside the files people meant to send: macOS's __MACOSX/
#: resource forks ("._name") and .DS_Store, Windows's Thumbs.db and desktop.ini.
JUNK_NAMES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", ".ds_store"})


def is_junk(path: str) -> bool:
    """A member or file an archiver or a desktop added (skipped without an issue): anything
    under ``__MACOSX/``, an AppleDouble ``._name``, Thumbs.db, desktop.ini, .DS_Store."""
    parts = str(path).replace("\\", "/").split("/")
    base = parts[-1]
    return "__MACOSX" in parts[:-1] or base.startswith("._") or base.lower() in JUNK_NAMES


def wanted(name: str, head: bytes = b"") -> bool:
    """Whether an archive member or a file in a folder can be a return: a spreadsheet, archive
    or message by its name, or, given its first bytes, a workbook or archive by them whatever
    its name, by the rule mail attachments are taken by (``mail.incoming.kind``: an OLE file
    naming a Workbook stream, a zip with workbook parts; a Word document is not taken)."""
    if name.lower().endswith(SPREADSHEET_EXT + (".zip", ".eml", ".rar", ".7z")):
        return True
    if not head:
        return False
    from minshi_xls.mail import incoming
    return incoming.kind(head, name) in ("workbook", "archive")


#: Enough of a file for :func:`wanted` to tell a workbook by its bytes (an OLE directory, a
#: zip's first member names).
HEAD_BYTES = 1 << 16


def _head(path: Path) -> bytes:
    """A file's first bytes, so a workbook under an odd name (``1900.biff5``, no extension) is
    taken from a folder as it is from a mail."""
    try:
        with open(path, "rb") as f:
            return f.read(HEAD_BYTES)
    except OSError:
        return b""  # taken by name or not at all; reading it later reports the fault


def _iso_mtime(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")


def _is_archive(data: bytes) -> bool:
    """A zip that is not itself a workbook (xlsx/ods are zips too)."""
    if not data.startswith(guard.ZIP_MAGIC):
        return False
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return not ({"xl/workbook.xml", "content.xml", "[Content_Types].xml"} & names)


def _from_zip(data: bytes, source: str, base: Incoming, limits: dict,
              depth: int) -> Iterator[Incoming]:
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        yield Refused(safe_name(source), data, source, base.sender, base.message_id,
                      base.mail_date, base.received_at, base.file_time,
                      finding=("file-unreadable", "压缩包损坏"))
        return
    for info in infos:
        if info.is_dir() or is_junk(_zip_name(info)):
            continue
        name = safe_name(_zip_name(info))
        if name.startswith("~$") or not wanted(name):
            continue
        where = f"{source}!{name}"
        when = base.file_time
        if not base.mail_date:  # a zip dropped in a folder: its member's time, a file time too
            try:
                when = datetime(*info.date_time).isoformat()
            except ValueError:
                pass
        if info.file_size > limits["max_file_bytes"] or (
                info.file_size >= (1 << 20) and
                info.file_size > limits["max_compression_ratio"] * max(info.compress_size, 1)):
            yield Refused(name, data, where, base.sender, base.message_id, base.mail_date,
                          base.received_at, when, finding=(
                              "file-too-large", f"压缩包成员 {name} 解压后 {info.file_size // 1024} KB"))
            continue
        try:
            with z.open(info) as f:
                body = f.read(info.file_size + 1)
            if len(body) > info.file_size:
                raise ValueError("declared size exceeded")
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, RuntimeError,
                EOFError) as e:
            code = "file-too-large" if "declared" in str(e) else "file-unreadable"
            yield Refused(name, data, where, base.sender, base.message_id, base.mail_date,
                          base.received_at, when, finding=(code, f"压缩包成员 {name} 无法解压"))
            continue
        item = Incoming(name, body, where, base.sender, base.message_id, base.mail_date,
                        base.received_at, when)
        yield from _expand_bytes(item, limits, depth + 1)


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The member name as its maker meant it: without the UTF-8 flag, Info-ZIP on Linux still
    writes UTF-8 and Chinese Windows writes GBK; Python decodes both as cp437."""
    if not info.flag_bits & 0x800:
        try:
            raw = info.filename.encode("cp437")
        except UnicodeEncodeError:
            return info.filename
        for enc in ("utf-8", "gbk"):
            try:
                return raw.decode(enc)
            except UnicodeDecodeError:
                continue
    return info.filename


def _from_eml(data: bytes, source: str, base: Incoming, limits: dict,
              depth: int) -> Iterator[Incoming]:
    """The returns inside a saved message, read as fetch reads mail (mail.incoming: lenient
    headers, names whatever the client's encoder did, attachments by their bytes at any depth,
    TNEF); a message that cannot be read is that file's issue."""
    from minshi_xls.mail import incoming
    reply = incoming.read(data)
    sender = reply.sender or base.sender
    message_id = reply.message_id or base.message_id
    mail_date = reply.date or base.mail_date
    if reply.why:
        yield Refused(safe_name(base.name), data, source, sender, message_id, mail_date,
                      mail_date, finding=("file-unreadable", f"邮件无法读取（{reply.why}）"))
        return
    for a in reply.files:
        if is_junk(a.name):
            continue
        name = safe_name(a.name)
        where = f"{source}!{name}"
        item = Incoming(name, a.data, where, sender, message_id, mail_date, mail_date)
        if len(a.data) > limits["max_file_bytes"]:
            yield Refused(name, data, where, sender, message_id, mail_date, mail_date,
                          finding=("file-too-large", f"附件 {len(a.data) // 1024} KB"))
            continue
        yield from _expand_bytes(item, limits, depth + 1)


#: RAR and 7-Zip, read by libarchive (Debian's libarchive13 through libarchive-c).
OTHER_ARCHIVES = (b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c")


def _from_libarchive(data: bytes, source: str, base: Incoming, limits: dict,
                     depth: int) -> Iterator[Incoming]:
    """Members of a .rar or .7z with the .zip limits: a member's declared size and the bytes
    actually read are both capped at ``max_file_bytes`` (nothing is decompressed unbounded)."""
    import libarchive

    def refused(name, code, detail):
        return Refused(name, data, f"{source}!{name}", base.sender, base.message_id,
                       base.mail_date, base.received_at, base.file_time, finding=(code, detail))
    # the format named, never guessed: a stored .xlsx member would make the data look like a zip
    fmt = "rar" if data.startswith(OTHER_ARCHIVES[0]) else "7zip"
    try:
        with libarchive.memory_reader(data, format_name=fmt) as archive:
            for entry in archive:
                if not entry.isfile or is_junk(entry.pathname or ""):
                    continue
                name = safe_name(entry.pathname or "")
                if name.startswith("~$") or not wanted(name):
                    continue
                cap, body = limits["max_file_bytes"], bytearray()
                if (entry.size or 0) > cap:
                    yield refused(name, "file-too-large",
                                  f"压缩包成员 {name} 解压后 {entry.size // 1024} KB")
                    continue
                for block in entry.get_blocks():
                    body += block
                    if len(body) > cap:
                        break
                if len(body) > cap:
                    yield refused(name, "file-too-large", f"压缩包成员 {name} 超过大小限制")
                    continue
                item = Incoming(name, bytes(body), f"{source}!{name}", base.sender,
                                base.message_id, base.mail_date, base.received_at, base.file_time)
                yield from _expand_bytes(item, limits, depth + 1)
    except libarchive.ArchiveError as e:
        yield refused(safe_name(base.name), "file-unreadable", f"压缩包损坏或已加密（{e.msg}）"
                      if hasattr(e, "msg") else "压缩包损坏或已加密")


def _expand_bytes(item: Incoming, limits: dict, depth: int) -> Iterator[Incoming]:
    if depth > MAX_NESTING:
        yield Refused(item.name, item.data, item.source_path, item.sender, item.message_id,
                      item.mail_date, item.received_at, item.file_time,
                      finding=("file-unreadable", "压缩包嵌套过深"))
    elif item.name.lower().endswith(".zip") or (
            not item.name.lower().endswith(SPREADSHEET_EXT) and _is_archive(item.data)):
        # a zip named .xlsx without a workbook part is a broken workbook, not a folder of files
        yield Container(**_fields(item))
        yield from _from_zip(item.data, item.source_path, item, limits, depth)
    elif item.data.startswith(OTHER_ARCHIVES):
        yield Container(**_fields(item))
        yield from _from_libarchive(item.data, item.source_path, item, limits, depth)
    elif item.name.lower().endswith(".eml"):
        yield Container(**_fields(item))
        yield from _from_eml(item.data, item.source_path, item, limits, depth)
    else:
        yield item


def _fields(item: Incoming) -> dict:
    return {f.name: getattr(item, f.name) for f in dataclasses.fields(Incoming)}


def expand_bytes(item: Incoming, config: Optional[dict] = None,
                 limits: Optional[dict] = None, containers: bool = False) -> Iterator[Incoming]:
    """An arrived file's returns: the file itself, or its members/attachments when it is a .zip
    or an .eml (what fetch calls for each mail attachment); with ``containers`` also each .zip
    and .eml itself as a :class:`Container` (for :func:`ingest` to archive)."""
    got = _expand_bytes(item, limits or guard.limits_from(config), 0)
    return got if containers else (i for i in got if not isinstance(i, Container))


def expand_paths(paths: Iterable, config: Optional[dict] = None,
                 containers: bool = False) -> Iterator[Incoming]:
    """Every arrived file under ``paths``: files, folders (recursive), .zip members, .eml
    attachments (and with ``containers`` each .zip and .eml itself). Files other than
    spreadsheets, archives and messages in folders (by name, or by first bytes like an
    attachment: :func:`wanted`) are skipped, and so is what archivers and desktops add
    (:func:`is_junk`); a path given by name is always taken (a renamed workbook is still a
    return)."""
    got = _expand_paths(paths, config)
    return got if containers else (i for i in got if not isinstance(i, Container))


def _expand_paths(paths: Iterable, config: Optional[dict]) -> Iterator[Incoming]:
    limits = guard.limits_from(config)
    for p in paths:
        p = Path(p)
        if p.is_dir():
            # An annotated copy (*_问题标注.xlsx) is taken like any return: it is the unit's own
            # workbook with its _meta, and the units send it back corrected.
            files = sorted(f for f in p.rglob("*") if f.is_file()
                           and not f.name.startswith(("~$", "."))
                           and not is_junk(f.relative_to(p).as_posix())
                           and wanted(f.name, _head(f)))
        elif p.is_file():
            files = [p]
        else:
            raise MinshiError(f"找不到文件或文件夹：{p}")
        for f in files:
            try:
                yield from _expand_file(f, limits)
            except OSError as e:  # a file we may not read, a disk error
                raise faults.as_fault(e, f, "读取") from e


def _expand_file(f: Path, limits: dict) -> Iterator[Incoming]:
    size = f.stat().st_size
    if size > max(limits["max_file_bytes"], limits["max_uncompressed_bytes"]):
        yield Refused(safe_name(f.name), b"", str(f), file_time=_iso_mtime(f),
                      finding=("file-too-large", f"文件 {size // (1 << 20)} MB"),
                      source_file=str(f))
        return
    # A file in a folder has no receipt time, only its own (it may have been copied, unzipped
    # or saved again since): shown as 文件时间, never a reason to call it late.
    item = Incoming(safe_name(f.name), f.read_bytes(), str(f), file_time=_iso_mtime(f))
    yield from _expand_bytes(item, limits, 0)


# --- evaluating one return --------------------------------------------------------------------

@dataclass
class Evaluation:
    """One return read and validated, before it is written anywhere."""

    item: Incoming
    format: str
    workbook: Optional[dict]
    identity: identity.Identity
    issues: List[I.Issue]
    status: str  # accepted | rejected | unidentified
    values: List[tuple] = field(default_factory=list)  # (sheet, cell, id, field, raw, number, ok)
    accepted_rows: int = 0
    sha256: str = ""
    size: int = 0
    archive_path: Optional[str] = None  # relative to the ledger's folder, once written
    archive_created: bool = False
    labels: dict = field(default_factory=dict)
    annotated: Optional[str] = None  # path of the annotated copy written for it
    #: a fault of this machine met while keeping it (archive or annotated copy not written)
    fault: Optional[faults.MachineFault] = None
    saved_at: Optional[str] = None  # the workbook's own saved time (orders same-time versions)

    def slim(self) -> "Evaluation":
        """What travels back from a worker: not the bytes (the parent has them) nor the parsed
        workbook (its values, labels and issues are extracted)."""
        self.labels = (self.workbook or {}).get("labels") or {}
        self.workbook = None
        self.item = dataclasses.replace(self.item, data=b"")
        return self


def _file_issue(code: str, item: Incoming, unit=None, period=None, **kw) -> I.Issue:
    kw.setdefault("detail", "")
    return I.make(code, unit=unit, period=period, file=item.source_path, **kw)


def evaluate(item: Incoming, result: dict, master: Optional[Master], config: dict,
             run_period: Optional[str], previous: Callable[[str, str], Dict[str, float]],
             generated: bool = False) -> Evaluation:
    """Identify and validate one parsed file (``result`` from :func:`reader.read_guarded`).
    ``generated``: the file is byte for byte a workbook ``templates`` wrote (never a return)."""
    found = list(result.get("findings") or [])
    if isinstance(item, Refused):
        found.insert(0, item.finding)
    wb = result.get("workbook")
    ident = identity.identify(wb, item.name, master) if wb else identity.Identity()
    if not ident.unit and getattr(item, "unit", None):
        ident.unit = item.unit
    unit, period = ident.unit, run_period or ident.period
    issues = [_file_issue(code, item, unit, period, detail=detail) for code, detail in found]
    if wb is None or isinstance(item, Refused):
        status = "rejected" if unit else "unidentified"
        return Evaluation(item, result.get("format", "unknown"), None, ident, issues, status)
    for code, kw in ident.findings:
        issues.append(_file_issue(code, item, unit, period, **kw))
    if not unit:
        return Evaluation(item, result["format"], wb, ident, issues, "unidentified")
    if run_period and ident.period and ident.period != run_period:
        issues.append(_file_issue("wrong-period", item, unit, period, found=ident.period))
    for code, kw in identity.wrong_unit(ident, wb, item.name, item.source_path, item.sender,
                                        master):
        issues.append(_file_issue(code, item, unit, period, **kw))
    # check: not sent yet; a file time is no receipt time, so it never makes a return late
    late = identity.late(ident, item.received_at, clock.zone(config)) if run_period else None
    if late:
        issues.append(_file_issue("late-return", item, unit, period, **late))
    ctx = R.Context(wb, unit=unit, period=period, run_period=run_period,
                    file=item.source_path, master=master, config=config,
                    previous=previous(unit, period) if period else {},
                    received_at=item.received_at, sender=item.sender,
                    source_path=item.source_path)
    found = R.run(ctx)
    if generated:  # our own bytes (a bounce, a forwarded template): one issue says it all
        found = [i for i in found if i.code != "blank-return"]
        found.insert(0, ctx.issue("blank-return", field="内容", detail="与系统生成的填报表完全相同"))
        found = [i for i in found if i.code not in ("missing-value", "missing-text")]
    issues.extend(found)
    rejected = any(i.code in R.FILE_LEVEL_ERRORS and i.severity == I.ERROR for i in issues)
    blank = any(i.code == "blank-return" and i.severity == I.ERROR for i in issues)
    ev = Evaluation(item, result["format"], wb, ident, issues,
                    "blank" if blank else "rejected" if rejected else "accepted")
    _collect_values(ev, ctx)
    return ev


_TYPED = (C.INPUT, C.PLAN)


def _collect_values(ev: Evaluation, ctx: R.Context) -> None:
    """Every non-empty cell the unit types (INPUT and PLAN columns), with the number when it is
    a good one, plus any locked cell an issue points at (a changed target is kept as found).
    Locked cells otherwise repeat the master and are not stored again."""
    bad_cells = {(i.sheet, i.cell) for i in ev.issues if i.severity == I.ERROR and i.cell}
    flagged = {(i.sheet, i.cell) for i in ev.issues if i.cell}
    bad_rows = {(i.sheet, i.indicator_id) for i in ev.issues
                if i.code == "unknown-row" and i.indicator_id}
    # a repeated row: the copy named by duplicate-row (both copies when they differ) is not read
    dup_cells = {(i.sheet, i.cell) for i in ev.issues if i.code == "duplicate-row"}
    error_rows = {(i.sheet, i.indicator_id) for i in ev.issues
                  if i.severity == I.ERROR and i.indicator_id}
    accepted_rows = 0
    add = ev.values.append
    for row in ctx.rows():
        row_bad = (row.sheet, row.id) in bad_rows or (
            dup_cells and (row.sheet, row.ref("indicator_id")) in dup_cells)
        for col in R.COLUMNS[row.kind]:
            value, ref = row.cells.get(col.key, (None, None))
            if ref is None or value is None or value == "":
                continue
            if col.kind not in _TYPED and (row.sheet, ref) not in flagged:
                continue
            ok = not row_bad and (row.sheet, ref) not in bad_cells
            number = None
            if col.number and ok:
                p = ctx.number(row, col.key)
                number = p.number if p.kind in (N.OK, N.COERCED) else None
            add((row.sheet, ref, row.id, col.header, N.raw_text(value), number, int(ok)))
        if ev.status == "accepted" and (row.sheet, row.id) not in error_rows and not row_bad:
            accepted_rows += 1
    ev.accepted_rows = accepted_rows


# --- the ledger -------------------------------------------------------------------------------

@dataclass
class SummaryRow:
    """One line of the per-unit summary table."""

    unit: str
    file: str
    received: str
    status: str
    accepted_rows: int
    errors: int
    warnings: int
    return_id: Optional[int] = field(default=None, repr=False, compare=False)
    time_source: str = ""  # clock.MAIL, GIVEN or FILE: how ``received`` is known


@dataclass
class CollectResult:
    """What a collect run did: a summary row per file (grouped by unit) and all its issues."""

    period: Optional[str]
    rows: List[SummaryRow] = field(default_factory=list)
    issues: List[I.Issue] = field(default_factory=list)
    db_path: Optional[str] = None
    master_used: bool = True
    tz: object = field(default=None, repr=False)  # the office's zone, for the times shown

    @property
    def report(self) -> I.Report:
        return I.Report(self.issues, {"files": len(self.rows)})

    @property
    def exit_code(self) -> int:
        return 1 if any(i.severity == I.ERROR for i in self.issues) else 0

    def to_json(self) -> dict:
        return {"period": self.period,
                "files": [{k: v for k, v in r.__dict__.items() if k != "return_id"}
                          for r in self.rows],
                "issues": [i.to_dict() for i in self.issues]}

    def summary_lines(self, max_issues: int = 200) -> List[str]:
        """The per-unit table, then every error and warning with its cell (Chinese, for the
        clerk)."""
        head = ("单位", "文件", "接收时间", "状态", "接收行数", "错误", "警告")
        body = [(r.unit, r.file, clock.show_received(r.received, r.time_source, self.tz),
                 STATUS_LABELS.get(r.status, r.status), str(r.accepted_rows), str(r.errors),
                 str(r.warnings)) for r in self.rows]
        if not self.rows:
            return ["没有找到可收取的文件（.xlsx .xlsm .xls .et .ods，或其 .zip/.eml）。"]
        lines = _table(head, body)
        units = {r.unit for r in self.rows if r.unit != UNIDENTIFIED}
        errors = sum(i.severity == I.ERROR for i in self.issues)
        warnings = sum(i.severity == I.WARNING for i in self.issues)
        lines.append(f"共 {len(self.rows)} 个文件、{len(units)} 个单位；错误 {errors} 个，警告 {warnings} 个。")
        if not self.master_used:
            lines.append("未找到总表，锁定内容按报表标识页校验。")
        shown = issue_lines([i for i in self.issues if i.severity != I.INFO])
        lines.extend(shown[:max_issues])
        if len(shown) > max_issues:
            lines.append(f"……另有 {len(shown) - max_issues} 条问题，见 --json 输出或台账 issues_v。")
        return lines


def issue_line(i: I.Issue, where: Optional[str] = None) -> str:
    """``[错误] 市卫健委 牵头任务!L6 不是数字：message`` (a return of no known unit: 未识别)."""
    return i.line(unknown_unit="未识别", where=where)


#: A run of at least this many cells of one column with the same problem is one line.
GROUP_MIN = 3


def _split_cell(cell: Optional[str]) -> Tuple[str, int]:
    letters = (cell or "").rstrip("0123456789")
    digits = (cell or "")[len(letters):]
    return letters, int(digits) if digits else -1


def issue_lines(issues: Sequence[I.Issue]) -> List[str]:
    """What the clerk reads: one line per issue, except that the same problem (same file,
    code and message) over several cells of one column is one line, "牵头任务!L5–L80 共 76 格"
    (the records themselves stay one per cell, in the ledger and --json)."""
    groups: Dict[tuple, List[I.Issue]] = {}
    order: List[tuple] = []
    for n, i in enumerate(issues):
        letters, row = _split_cell(i.cell)
        key = (i.file, i.unit, i.code, i.severity, i.sheet, letters, i.message) \
            if i.sheet and row >= 0 else (n,)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(i)
    lines = []
    for key in order:
        members = groups[key]
        if len(members) < GROUP_MIN:
            lines.extend(issue_line(i) for i in members)
            continue
        rows = sorted(_split_cell(i.cell)[1] for i in members)
        first, letters = members[0], key[5]
        where = f"{first.sheet}!{letters}{rows[0]}–{letters}{rows[-1]} 共 {len(members)} 格"
        lines.append(issue_line(first, where))
    return lines


def _table(head: Sequence[str], body: Sequence[Sequence[str]]) -> List[str]:
    from minshi_xls.xlsx_style import display_width
    widths = [max(display_width(r[c]) for r in [head, *body]) for c in range(len(head))]

    def fmt(r):
        return "  ".join(str(v) + " " * (w - display_width(v)) for v, w in zip(r, widths)).rstrip()
    return [fmt(head), "  ".join("-" * w for w in widths)] + [fmt(r) for r in body]


STATUS_LABELS = {"accepted": "已接收", "rejected": "退回", "superseded": "已被替代",
                 "duplicate": "重复", "unidentified": "无法识别", "blank": "空表未计入"}


class _Ledger:
    """The writes of one collect run (one connection; a transaction per batch of files)."""

    def __init__(self, db_path, period: str, tz=None):
        self.tz = tz
        self.db_path = Path(db_path)
        self.root = self.db_path.resolve().parent
        self.period = period
        self.con = ledger.connect(self.db_path)
        self.con.execute("PRAGMA synchronous=NORMAL")
        self.containers: Dict[str, Optional[int]] = {}  # source path -> file id

    def previous_all(self) -> Dict[str, Dict[str, float]]:
        """unit -> indicator_id -> cumulative of its accepted return of the month before
        (what cumulative-decreased compares with), read once per run."""
        prev = settings.previous_period(self.period)
        if not prev:
            return {}
        return ledger.accepted_numbers(self.con, prev, (
            C.column(C.LEAD_COLUMNS, "cumulative").header,
            C.column(C.CO_COLUMNS, "cumulative").header))

    def already(self, sha: str, item: Incoming) -> Optional[sqlite3.Row]:
        """This very arrival recorded for this period before (a rerun): the same bytes from the
        same place. Per period: a file rejected as another month's is collected for its own."""
        return self.con.execute(
            "SELECT r.status, r.unit, r.accepted_rows, rc.received_at FROM receipts rc "
            "JOIN files f ON f.id = rc.file_id JOIN returns r ON r.receipt_id = rc.id "
            "WHERE f.sha256 = ? AND rc.source_path = ? AND IFNULL(rc.message_id, '') = ? "
            "AND r.period = ?",
            (sha, item.source_path, item.message_id or "", self.period)).fetchone()

    def archive(self, ev: Evaluation) -> int:
        """The file's id; its bytes are under archive/<period>/<unit>/ (written by the worker,
        or here), once: a second copy of known bytes is removed again."""
        row = self.con.execute("SELECT id, archive_path FROM files WHERE sha256 = ?",
                               (ev.sha256,)).fetchone()
        if row:
            if ev.archive_created and ev.archive_path and ev.archive_path != row["archive_path"]:
                (self.root / ev.archive_path).unlink(missing_ok=True)
            return row["id"]
        if not ev.archive_path:  # a worker crashed on it: kept here
            ev.archive_path, ev.archive_created = write_archive(self.root, self.period, ev)
        cur = self.con.execute(
            "INSERT INTO files(sha256, size, format, archive_path, first_seen) VALUES (?,?,?,?,?)",
            (ev.sha256, ev.size, ev.format, ev.archive_path, _now()))
        return cur.lastrowid

    def record(self, ev: Evaluation) -> Tuple[SummaryRow, List[I.Issue]]:
        """Write one evaluated arrival (inside the caller's transaction)."""
        item = ev.item
        sha = ev.sha256
        unit = ev.identity.unit
        name = PurePosixPath(item.source_path.replace("\\", "/")).name
        seen = self.already(sha, item)
        if seen is not None:  # this very arrival was recorded by an earlier (or killed) run
            info = _file_issue("duplicate-return", item, unit, self.period,
                               detail=f"已于此前收录，{clock.show(seen['received_at'], self.tz)}")
            return SummaryRow(unit or seen["unit"] or UNIDENTIFIED, name, _when(item),
                              "duplicate", 0, 0, 0, time_source=_source(item)), [info]
        file_id = self.archive(ev)
        receipt_id = self._receipt(file_id, item, self._container_of(item.source_path))
        first = self.con.execute(
            "SELECT r.id, rc.source_path, r.received_at FROM returns r JOIN receipts rc ON "
            "rc.id = r.receipt_id WHERE r.file_id = ? AND r.period = ? AND r.status != 'duplicate' "
            "ORDER BY r.id LIMIT 1", (file_id, self.period)).fetchone()
        issues = list(ev.issues)
        status = ev.status
        # A refused member shares its container's bytes with its siblings: not a duplicate.
        if first is not None and not isinstance(item, Refused):
            issues = [_file_issue("duplicate-return", item, unit, self.period,
                                  detail=f"{first['source_path']}，"
                                         f"{clock.show(first['received_at'], self.tz)}")]
            status = "duplicate"
        ident = ev.identity
        late = any(i.code == "late-return" for i in issues)
        return_id = self.con.execute(
            "INSERT INTO returns(receipt_id, file_id, unit, period, format_version, received_at, "
            "time_source, deadline, late, status, accepted_rows, meta_found, reporter, phone, "
            "report_date, saved_at, verdict) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (receipt_id, file_id, unit, self.period, ident.format_version,
             _when(item), _source(item), ident.deadline, int(late), status,
             ev.accepted_rows if status == "accepted" else 0, int(ident.meta_found),
             *self._labels(ev), ev.saved_at, status)).lastrowid
        if status != "duplicate":
            self.con.executemany(
                "INSERT INTO cell_values(return_id, sheet, cell, indicator_id, field, raw, number, "
                "accepted) VALUES (?,?,?,?,?,?,?,?)",
                [(return_id, *v) for v in ev.values])
        competes = status in ("accepted", "rejected") and unit and \
            not any(i.code in versions.NON_COMPETING for i in issues)
        self._store_issues(issues, return_id, file_id)
        if competes:  # which version counts now; each explanation stored once, where it belongs
            issues.extend(versions.settle(self.con, unit, self.period))
        cur = self.con.execute("SELECT status FROM returns WHERE id = ?", (return_id,)).fetchone()
        errors = sum(i.severity == I.ERROR for i in issues)
        warnings = sum(i.severity == I.WARNING for i in issues)
        return SummaryRow(unit or UNIDENTIFIED, name, _when(item), cur[0],
                          ev.accepted_rows if cur[0] == "accepted" else 0, errors, warnings,
                          return_id, _source(item)), issues

    def _receipt(self, file_id: int, item: Incoming, container_id: Optional[int]) -> int:
        return self.con.execute(
            "INSERT INTO receipts(file_id, source_path, sender, message_id, mail_date, "
            "received_at, collected_at, container_id) VALUES (?,?,?,?,?,?,?,?)",
            (file_id, item.source_path, item.sender, item.message_id or "", item.mail_date,
             _when(item), _now(), container_id)).lastrowid

    def contain(self, item: Container) -> None:
        """Record and archive a .zip or .eml as it arrived (once per arrival, like a return)."""
        sha = hashlib.sha256(item.data).hexdigest()
        seen = self.con.execute(
            "SELECT f.id FROM receipts rc JOIN files f ON f.id = rc.file_id WHERE f.sha256 = ? "
            "AND rc.source_path = ? AND IFNULL(rc.message_id, '') = ?",
            (sha, item.source_path, item.message_id or "")).fetchone()
        if seen is not None:
            self.containers[item.source_path] = seen[0]
            return
        row = self.con.execute("SELECT id FROM files WHERE sha256 = ?", (sha,)).fetchone()
        if row:
            file_id = row[0]
        else:
            rel, _ = _keep(self.root, Path("archive") / safe_name(self.period) / CONTAINERS,
                           sha, len(item.data), item)
            fmt = next((f for f in ("eml", "rar", "7z") if item.name.lower().endswith("." + f)),
                       "zip")
            file_id = self.con.execute(
                "INSERT INTO files(sha256, size, format, archive_path, first_seen) "
                "VALUES (?,?,?,?,?)", (sha, len(item.data), fmt, rel, _now())).lastrowid
        self._receipt(file_id, item, self._container_of(item.source_path))
        self.containers[item.source_path] = file_id

    def _container_of(self, source_path: str) -> Optional[int]:
        """The file id of the container an arrival came in (:func:`container_path`), if it
        was recorded."""
        outer = container_path(source_path)
        if outer is None:
            return None
        if outer not in self.containers:
            row = self.con.execute("SELECT file_id FROM receipts WHERE source_path = ? "
                                   "ORDER BY id DESC LIMIT 1", (outer,)).fetchone()
            self.containers[outer] = row[0] if row else None
        return self.containers[outer]

    def _labels(self, ev: Evaluation) -> tuple:
        labels = ev.labels or (ev.workbook or {}).get("labels") or {}
        return tuple(N.raw_text(labels[k][0]) if k in labels else None
                     for k in ("reporter", "phone", "date"))

    def _store_issues(self, issues: Sequence[I.Issue], return_id: int, file_id: int) -> None:
        self.con.executemany(
            "INSERT INTO issues(return_id, file_id, source, code, severity, unit, period, "
            "file_path, sheet, cell, indicator_id, value, message) "
            "VALUES (?,?,'collect',?,?,?,?,?,?,?,?,?,?)",
            [(return_id, file_id, i.code, i.severity, i.unit, i.period, i.file, i.sheet, i.cell,
              i.indicator_id, i.value, i.message) for i in issues])


#: Where fetch's arrivals come from: ``imap:<Message-ID>`` is the message itself (archived as
#: a container), ``imap:<Message-ID>/<name>`` an attachment of it.
MAIL_SOURCE = "imap:"


def container_path(source_path: str) -> Optional[str]:
    """The source path of the container an arrival came in: ``a.zip`` for ``a.zip!b.xlsx``,
    the message ``imap:<id>`` for its attachment ``imap:<id>/b.xlsx``; None for a file that
    came on its own."""
    if "!" in source_path:
        return source_path.rsplit("!", 1)[0]
    if source_path.startswith(MAIL_SOURCE) and "/" in source_path:
        return source_path.split("/", 1)[0]
    return None


def _depth(source_path: str) -> int:
    """How many containers an arrival is inside: containers are recorded outer first, so each
    one's receipt can point at the one it came in."""
    n = 0
    while source_path is not None:
        source_path = container_path(source_path)
        n += 1
    return n


def _now() -> str:
    return clock.now()


def _when(item: Incoming) -> str:
    """The time that orders a unit's versions: its receipt time, else the file's own time."""
    return item.received_at or item.file_time or _now()


def _source(item: Incoming) -> str:
    """How :func:`_when` is known (clock.MAIL, GIVEN or FILE)."""
    if not item.received_at:
        return clock.FILE
    return clock.MAIL if item.received_at == item.mail_date else clock.GIVEN


def _sortable(t: Optional[str]) -> str:
    parsed = clock.parse(t)
    return parsed.astimezone(timezone.utc).isoformat() if parsed else (t or "")


# --- running ----------------------------------------------------------------------------------

#: Bytes of a file name we write (most file systems allow 255; room left for ".<pid>.part").
NAME_BYTES = 200


def fit_name(name: str, limit: int = NAME_BYTES) -> str:
    """``name`` cut to ``limit`` bytes of UTF-8 with its extension kept and "…" where it was
    cut (a Chinese name of 120 characters is 360 bytes: too long for the disk). The name as
    sent stays in the ledger (``receipts.source_path``)."""
    if len(name.encode("utf-8")) <= limit:
        return name
    suffix = PurePosixPath(name).suffix
    suffix = suffix if len(suffix.encode("utf-8")) <= 16 else ""
    stem = name[:len(name) - len(suffix)] if suffix else name
    budget = limit - len(suffix.encode("utf-8")) - len("…".encode("utf-8"))
    return stem.encode("utf-8")[:budget].decode("utf-8", "ignore") + "…" + suffix


def write_archive(root: Path, period: str, ev: Evaluation) -> Tuple[str, bool]:
    """Write the original bytes under archive/<period>/<unit or _unidentified>/ (atomically:
    a kill leaves no half file under the final name); (relative path, written now). A folder
    or disk that cannot take it is a :class:`faults.MachineFault`."""
    folder = safe_name(ev.identity.unit) if ev.identity.unit else UNIDENTIFIED
    return _keep(root, Path("archive") / safe_name(period) / folder, ev.sha256, ev.size,
                 ev.item)


def _keep(root: Path, folder: Path, sha: str, size: int, item: Incoming) -> Tuple[str, bool]:
    rel = folder / fit_name(f"{sha[:12]}_{item.name}")
    dest = root / rel
    try:
        if dest.exists() and dest.stat().st_size == size:
            return rel.as_posix(), False
        big = getattr(item, "source_file", None)
        faults.atomic_write(dest, item.data, big if big and not item.data else None)
    except OSError as e:
        raise faults.as_fault(e, dest) from e
    return rel.as_posix(), True


@dataclass
class _Job:
    """What every file's evaluation needs besides the file; the same for a whole run (the
    workers inherit it when they start)."""

    master: Optional[Master]
    config: dict
    run_period: Optional[str]
    previous: Dict[str, Dict[str, float]]
    archive_root: Optional[str] = None  # None: validate only (check)
    #: annotated copies: "collect" (into annotate_dir, named by unit), "check" (next to the
    #: file, or into annotate_dir), "" (none)
    annotate_mode: str = ""
    annotate_dir: Optional[str] = None
    #: SHA-256 of every workbook ``templates`` wrote (ledger.generated_hashes): never a return
    generated: frozenset = frozenset()


_NO_WORKBOOK = {"format": "unknown", "findings": [], "workbook": None}


def _finish(job: _Job, item: Incoming, result: dict) -> Evaluation:
    big = getattr(item, "source_file", None)
    if big and not item.data:  # streamed: never loaded whole
        h, size = hashlib.sha256(), 0
        with open(big, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
                size += len(chunk)
        sha = h.hexdigest()
    else:
        sha, size = hashlib.sha256(item.data).hexdigest(), len(item.data)
    ev = evaluate(item, result, job.master, job.config, job.run_period,
                  lambda unit, period: job.previous.get(unit, {}), sha in job.generated)
    ev.sha256, ev.size = sha, size
    ev.saved_at = result.get("saved_at")
    if job.archive_root:
        try:
            ev.archive_path, ev.archive_created = write_archive(
                Path(job.archive_root), job.run_period, ev)
        except faults.MachineFault as fault:  # this machine's, not the file's: stops the run
            ev.fault = fault
    return ev


#: Share of ``limits.worker_timeout_s`` a job may have used when its annotated copy is done:
#: openpyxl is far slower than the reader (a workbook of 50,000 merged ranges takes minutes),
#: and a copy that overruns is dropped, never the file's evaluation (the pool's timeout would
#: replace a correctly read return by file-too-large).
ANNOTATE_BY = 0.8


def _work(job: _Job, item: Incoming) -> Evaluation:
    """The whole per-file job, in a guarded worker: read, validate, archive, annotate (openpyxl
    opens the unit's file here too, under the same limits)."""
    started = time.monotonic()
    limits = guard.limits_from(job.config)
    if isinstance(item, Refused):
        result = _NO_WORKBOOK
    else:
        result = reader.read_guarded(item.name, item.data, limits)
    ev = _finish(job, item, result)
    # An unidentified file gets no copy: no unit to send it to, no cell to mark.
    if job.annotate_mode and ev.workbook is not None and ev.fault is None and \
            ev.identity.unit and any(i.severity != I.INFO for i in ev.issues):
        budget = ANNOTATE_BY * float(limits["worker_timeout_s"]) - (time.monotonic() - started)
        try:
            with guard.time_limit(budget):
                ev.annotated = str(_annotate(job, ev))
        except OSError as e:
            if faults.is_machine(e):  # a full disk, an output folder that cannot be made
                ev.fault = faults.as_fault(e, None)
        except (Exception, guard.TimeLimit):  # noqa: BLE001 - a copy openpyxl cannot make
            ev.annotated = None  # must not lose the return
    return ev.slim()


def annotated_dir(db_path, period: str) -> Path:
    """Where collect writes annotated copies of returns with problems (remind attaches them)."""
    return Path(db_path).resolve().parent / "annotated" / period


def annotated_path(folder, unit: Optional[str], file_name: str) -> Path:
    """``[<unit>_]<name>_问题标注.xlsx``: the one naming rule, used by collect to write the copy
    and by remind to find it."""
    stem = PurePosixPath(file_name).stem
    unit = safe_name(unit) if unit else UNIDENTIFIED
    prefix = "" if unit in stem else f"{unit}_"
    return Path(folder) / _annotated_name(f"{prefix}{stem}")


def _annotated_name(stem: str) -> str:
    tail = f"{ANNOTATED_SUFFIX}.xlsx"
    return fit_name(stem, NAME_BYTES - len(tail.encode("utf-8"))) + tail


def _annotate(job: _Job, ev: Evaluation) -> Path:
    """Write the annotated copy; collect names it ``[<unit>_]<name>_问题标注.xlsx`` in its
    folder (what remind attaches), check puts ``<name>_问题标注.xlsx`` next to the file."""
    from minshi_xls import annotate
    if job.annotate_mode == "collect":
        dest = annotated_path(job.annotate_dir, ev.identity.unit, ev.item.name)
    else:
        stem = PurePosixPath(ev.item.name).stem
        src = Path(ev.item.source_path)
        folder = Path(job.annotate_dir) if job.annotate_dir else (
            src.parent if src.is_file() else Path("."))
        dest = folder / _annotated_name(stem)
    return annotate.write_annotated(ev.item.data, ev.format, ev.issues, dest,
                                    ev.identity.unit, ev.identity.period)


def _evaluated(items: List[Incoming], job: _Job,
               workers: Optional[int]) -> Iterator[Evaluation]:
    """Evaluations in the order of ``items`` (the order decides duplicates), computed in the
    guarded pool; a file whose worker died or hung gets its file-level issue here."""
    done: Dict[int, object] = {}
    nxt = 0
    n = min(workers or 2, max(1, len(items)))
    if not items:
        return
    R.forget()
    with guard.WorkerPool(functools.partial(_work, job), n,
                          guard.limits_from(job.config)) as pool:
        for k, got in pool.imap((it,) for it in items):
            done[k] = got
            while nxt in done:
                got = done.pop(nxt)
                item = items[nxt]
                if isinstance(got, Evaluation):
                    got.item = item
                    got.workbook = None
                else:  # a crash result from the pool: the worker is gone
                    got = _finish(job, item, got)
                if got.fault is not None:
                    raise got.fault
                yield got
                nxt += 1


def _order(items: Iterable[Incoming], received: Optional[str],
           containers: bool = False) -> List[Incoming]:
    """Oldest first. A time is a receipt time only when the clerk gave it or a mail carried it.
    Containers only with ``containers`` (they are not returns: :func:`ingest` keeps them)."""
    out = []
    for it in items:
        if isinstance(it, Container) != containers:
            continue
        if received:
            it.received_at = received
        elif not it.received_at:
            it.received_at = it.mail_date
        out.append(it)
    out.sort(key=lambda it: (_sortable(_when(it)), it.name))
    return out


def ingest(items: Iterable[Incoming], period: str, db_path=settings.DEFAULT_DB,
           master: Optional[Master] = None, config: Optional[dict] = None,
           progress: Optional[Callable[..., None]] = None, received: Optional[str] = None,
           annotate_dir=None, workers: Optional[int] = None) -> CollectResult:
    """Validate and record arrived files for ``period`` (see the module docstring)."""
    settings.period_parts(period)
    if received and clock.parse(received) is None:
        raise MinshiError(f"接收时间“{received}”格式不对，应写成 ISO 格式，例如 2024-07-03T10:00。")
    config = settings.load_config() if config is None else config
    items = list(items)
    containers = sorted(_order(items, received, True), key=lambda c: _depth(c.source_path))
    items = _order(items, received)
    result = CollectResult(period, db_path=str(db_path), tz=clock.zone(config))
    led = _Ledger(db_path, period, result.tz)
    # what a killed run or a full disk left half written
    faults.sweep_partials(led.root / "archive")
    if annotate_dir:
        faults.sweep_partials(annotate_dir)
    job = _Job(master, config, period, led.previous_all(), str(led.root),
               "collect" if annotate_dir else "", str(annotate_dir) if annotate_dir else None,
               ledger.generated_hashes(led.con))
    done = batch = 0
    started = 0.0
    try:
        if containers:
            with ledger.transaction(led.con):
                for c in containers:
                    led.contain(c)
        for ev in _evaluated(items, job, workers):
            if not batch:
                led.con.execute("BEGIN IMMEDIATE")
                started = time.monotonic()
            row, issues = led.record(ev)
            result.rows.append(row)
            result.issues.extend(issues)
            batch += 1
            if batch >= BATCH or time.monotonic() - started > BATCH_SECONDS:
                led.con.execute("COMMIT")
                batch = 0
            done += 1
            if progress:
                progress(done, len(items), ev.item.name)
        if batch:
            led.con.execute("COMMIT")
        _refresh(led.con, result.rows)
    except BaseException as e:
        if led.con.in_transaction:
            try:
                led.con.execute("ROLLBACK")
            except sqlite3.Error:  # a full disk may have rolled it back already
                pass
        fault = faults.as_fault(e, led.db_path if isinstance(e, sqlite3.Error) else None)
        if fault is e:
            raise
        raise fault from e
    finally:
        led.con.close()
    result.rows.sort(key=lambda r: (r.unit, r.received, r.file))
    return result


def _refresh(con: sqlite3.Connection, rows: List[SummaryRow]) -> None:
    """Statuses as they ended: a return accepted early in a run may have been superseded by a
    newer one later in it."""
    for r in rows:
        if r.return_id is None:
            continue
        status = con.execute("SELECT status FROM returns WHERE id = ?", (r.return_id,)).fetchone()
        if status and status[0] != r.status:
            r.status = status[0]
            if r.status != "accepted":
                r.accepted_rows = 0


def collect_paths(paths: Sequence, period: str, db_path=settings.DEFAULT_DB,
                  master: Optional[Master] = None, config: Optional[dict] = None,
                  progress: Optional[Callable[..., None]] = None,
                  received: Optional[str] = None, annotate_dir=None) -> CollectResult:
    """:func:`expand_paths` then :func:`ingest`."""
    config = settings.load_config() if config is None else config
    settings.period_parts(period)
    items = list(expand_paths(paths, config, containers=True))
    return ingest(items, period, db_path, master, config, progress, received, annotate_dir)


def _named(master_path) -> bool:
    """A master named on purpose must exist; the default one may be absent (a bureau running
    ``check`` has none)."""
    return bool(master_path) and Path(master_path) != Path(settings.DEFAULT_MASTER)


def run(paths: Sequence, period: str, db_path=settings.DEFAULT_DB, master_path=None,
        config_path=None, received: Optional[str] = None, json_path=None,
        progress: Optional[Callable[..., None]] = None, annotate: bool = True) -> CollectResult:
    """``minshi collect``: annotated copies of returns with problems go to
    ``<db folder>/annotated/<period>/``; ``json_path`` gets the issue records."""
    config = settings.load_config(config_path)
    master = load_master(master_path, required=_named(master_path))
    annotate_dir = annotated_dir(db_path, period) if annotate else None
    result = collect_paths(paths, period, db_path, master, config, progress, received,
                           annotate_dir)
    result.master_used = master is not None
    if json_path:
        write_json(result.to_json(), json_path)
    return result


def write_json(obj: dict, path) -> None:
    import json
    try:
        faults.atomic_write(path, json.dumps(obj, ensure_ascii=False, indent=1).encode("utf-8"))
    except OSError as e:
        raise faults.as_fault(e, path) from e


def check_files(paths: Sequence, master: Optional[Master] = None, annotate: bool = False,
                config: Optional[dict] = None, period: Optional[str] = None,
                annotate_dir=None, generated: frozenset = frozenset()) -> I.Report:
    """Validate files without recording anything (a bureau checking before it sends).

    With ``annotate`` an annotated copy ``<name>_问题标注.xlsx`` is written next to each file
    with issues (or into ``annotate_dir``); ``report.stats["annotated"]`` lists them."""
    config = settings.load_config() if config is None else config
    return check_items(expand_paths(paths, config), master, annotate, config, period,
                       annotate_dir, generated)


def check_items(items: Iterable[Incoming], master: Optional[Master] = None,
                annotate: bool = False, config: Optional[dict] = None,
                period: Optional[str] = None, annotate_dir=None,
                generated: frozenset = frozenset()) -> I.Report:
    """:func:`check_files` on arrived files (with their sender, source and Message-ID, as mail
    hands them over); ``report.stats["evaluations"]`` holds each file's evaluation."""
    config = settings.load_config() if config is None else config
    items = _order(items, None)
    report = I.Report(stats={"files": 0, "returns": [], "annotated": [], "evaluations": []})
    job = _Job(master, config, period, {}, None, "check" if annotate else "",
               str(annotate_dir) if annotate_dir else None, generated)
    for ev in _evaluated(items, job, None):
        item = ev.item
        report.extend(ev.issues)
        report.stats["files"] += 1
        report.stats["returns"].append({
            "file": item.source_path, "unit": ev.identity.unit, "period": ev.identity.period,
            "status": ev.status, "accepted_rows": ev.accepted_rows,
            "errors": sum(i.severity == I.ERROR for i in ev.issues),
            "warnings": sum(i.severity == I.WARNING for i in ev.issues)})
        report.stats["evaluations"].append(ev)
        if ev.annotated:
            report.stats["annotated"].append(ev.annotated)
    return report


def check(paths: Sequence, master_path=None, annotate: bool = False, json_path=None,
          config_path=None, db_path=settings.DEFAULT_DB) -> I.Report:
    """``minshi check``: the master is used when it exists (else ``_meta`` fingerprints); the
    ledger, when there is one, tells our own generated workbooks (blank-return)."""
    config = settings.load_config(config_path)
    master = load_master(master_path, required=_named(master_path))
    report = check_files(paths, master, annotate, config,
                         generated=ledger.generated_in(db_path))
    report.stats["master_used"] = master is not None
    if json_path:
        write_json({"files": report.stats["returns"],
                    "issues": [i.to_dict() for i in report.issues]}, json_path)
    return report


def _verdict(r: dict) -> str:
    """What ``check`` says of one file: never 可以接收 while it lists errors for it."""
    errors, warnings = r.get("errors", 0), r.get("warnings", 0)
    if r["status"] == "blank":
        return "是空白报表，不能作为报送"
    if r["status"] == "unidentified":
        return "无法识别"
    if r["status"] == "rejected":
        return f"将被整份退回（{errors} 个错误）"
    if errors:
        return f"有 {errors} 个错误，有错的数值不会被采用，请改正后再报送"
    if warnings:
        return f"可以接收（{r['accepted_rows']} 行，{warnings} 个警告请核实）"
    return f"可以接收（{r['accepted_rows']} 行无错误）"


def check_lines(report: I.Report) -> List[str]:
    """What ``minshi check`` prints."""
    lines = []
    for r in report.stats.get("returns", []):
        lines.append(f"{r['file']}：{r['unit'] or '未识别单位'} {r['period'] or ''} {_verdict(r)}")
    lines.extend(issue_lines(report.issues))
    lines.append(f"错误 {len(report.errors)} 个，警告 {len(report.warnings)} 个。")
    if report.stats.get("master_used") is False:
        lines.append("未找到总表，锁定内容按报表标识页校验。")
    for p in report.stats.get("annotated", []):
        lines.append(f"问题标注：{p}")
    return lines
