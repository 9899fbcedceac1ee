"""``minshi fetch``: download the period's returns and hand them to collect; record every reply
that is not a return (no attachment, auto-reply, bounce, download link, unreadable) against its
unit, so ``status`` and ``remind`` can say what happened."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from minshi_xls import MinshiError, clock, faults, guard, issues, ledger, settings
from minshi_xls.mail import incoming
from minshi_xls.mail.common import Progress, _config, _master, _safe_name, period_label
from minshi_xls.mail.transport import Imap, Unparsable
from minshi_xls.model import Incoming, Master

#: Messages per header FETCH: one round trip each, not one per message.
HEADER_BATCH = 200


@dataclass
class FetchResult:
    """What ``fetch`` found: messages, attachments handed to collect, and collect's result."""

    period: str
    searched: int = 0  # messages since the date
    already: int = 0  # fetched before (never downloaded twice)
    messages: int = 0  # new messages for the period
    attachments: List[str] = field(default_factory=list)  # names handed to collect
    kept: List[str] = field(default_factory=list)  # scans and photos archived beside a return
    ignored: List[str] = field(default_factory=list)  # attachments that are not returns
    notes: List[issues.Issue] = field(default_factory=list)  # replies that are not returns
    issues: List[issues.Issue] = field(default_factory=list)  # unexpected-sender
    archived: int = 0  # messages downloaded and archived byte for byte (returns or not)
    collect: object = None  # collect.CollectResult, when anything was ingested
    #: files whose own _meta says another month, collected for that month
    other_periods: Dict[str, object] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"{period_label(self.period)}收取：邮箱中检索到 {self.searched} 封，"
                 f"其中以前已收取 {self.already} 封，本次新收取本月邮件 {self.messages} 封，"
                 f"表格附件 {len(self.attachments)} 个。"]
        if self.archived:
            lines.append(f"  邮件原件 {self.archived} 封已按原样存档"
                         f"（archive/{self.period}/_containers/）。")
        if self.kept:
            lines.append("  随表附件（已存档）：" + "，".join(self.kept))
        if self.ignored:
            lines.append("  其他附件（未处理）：" + "，".join(self.ignored))
        for i in self.notes + self.issues:
            lines.append(f"  [{i.title}] {i.message}")
        if self.collect is not None:
            lines.extend(self.collect.summary_lines())
        for p, got in sorted(self.other_periods.items()):
            lines.append(f"另有 {len(got.rows)} 个文件按表内标识属于{period_label(p)}，"
                         f"已收取到{period_label(p)}：" + "、".join(r.unit for r in got.rows))
        return "\n".join(lines)

    @property
    def exit_code(self) -> int:
        """collect's (1 when a return fetched has errors), or 1 for a bounce: data problems."""
        code = self.collect.exit_code if self.collect is not None else 0
        return max(code, int(any(i.severity == issues.ERROR for i in self.notes)))


@dataclass
class _Fetched:
    uid: str
    message_id: str
    sender: str
    subject: str
    mail_date: Optional[str]
    items: List[Incoming] = field(default_factory=list)
    others: List[incoming.Attachment] = field(default_factory=list)
    notes: List[issues.Issue] = field(default_factory=list)
    #: the subject, thread or an attachment name says the period (else the workbooks' own
    #: _meta decides which month they are for)
    about: bool = True
    #: the message as the server holds it (BODY[]), once downloaded: archived as it arrived
    raw: Optional[bytes] = None


class _Context:
    """What deciding about one message needs: the period, the registry, our own bytes."""

    def __init__(self, master: Master, period: str, config: dict, seen: set, ours: set,
                 own: Dict[str, str], folder: str, host: str):
        self.period, self.config, self.seen, self.ours, self.own = period, config, seen, ours, own
        self.pat = incoming.period_pattern(period)
        self.limits = guard.limits_from(config)
        self.book = {a: u.short for u in master.registry.units for a in u.addresses}
        self.folder, self.host = folder, host
        self.tz = clock.zone(config)

    def note(self, code: str, f: "_Fetched", unit: Optional[str], **kw) -> issues.Issue:
        when = clock.show(f.mail_date, self.tz)
        kw.setdefault("detail", f"{when} “{f.subject}”" if when else f"“{f.subject}”")
        kw.setdefault("found", f.sender)
        value = kw.pop("value", None) or kw["found"]
        i = issues.make(code, unit=unit, period=self.period, file=f"imap:{f.message_id}",
                        value=value, **kw)
        if not unit:
            i.message = i.message.replace("的回复邮件", f"{f.sender} 的回复邮件", 1)
        f.notes.append(i)
        return i


def fetch(master, period: str, db_path, config=None, since=None,
          progress: Optional[Progress] = None, collect_options: Optional[dict] = None
          ) -> FetchResult:
    """Download the period's returns from the mailbox and hand them to collect.

    The folder is opened read-only and read with BODY.PEEK: nothing is deleted or marked read.
    A message counts for the period when its subject or an attachment name mentions the period,
    it replies to a message ``send`` sent, or it comes from a registered unit (or anyone) with a
    spreadsheet or archive attached. Each message is parsed on its own: one that cannot be read
    is recorded and the rest go on. Every message downloaded, return or not, is archived byte
    for byte by collect as the container of its attachments. Each is recorded in ``fetched``
    after collect has taken its files, so it is never downloaded or ingested twice.
    """
    master, config = _master(master), _config(config)
    y, m = settings.period_parts(period)
    since_day = _since(since, y, m)
    result = FetchResult(period)
    imap = Imap(config)
    con = ledger.connect(db_path)
    try:
        # Our own messages (a copy in the inbox, a test mail to ourselves) are never returns.
        ours = {r[0] for r in con.execute(
            "SELECT message_id FROM sends WHERE message_id IS NOT NULL")}
        seen = {r[0] for r in con.execute("SELECT message_id FROM fetched")} | ours
        # the exact bytes ``templates`` wrote (ledger.generated): never a unit's return
        own = {r[0]: r[1] for r in con.execute("SELECT sha256, unit FROM generated")}
    finally:
        con.close()
    ctx = _Context(master, period, config, seen, ours, own, imap.folder, imap.sec["host"])
    new: List[_Fetched] = []
    imap.open()
    try:
        uids = sorted(imap.call("search", ["SINCE", since_day]))
        result.searched = len(uids)
        done = 0
        for chunk in range(0, len(uids), HEADER_BATCH):
            batch = uids[chunk:chunk + HEADER_BATCH]
            heads = _heads(imap, batch)
            for uid in batch:
                got = _one(imap, ctx, uid, heads.get(uid) or {}, result)
                if got is not None:
                    new.append(got)
                done += 1
                if progress:
                    progress(done, len(uids), "收取邮件")
    finally:
        imap.close()
    result.messages = len(new)
    for p, items in _by_period(new, period, master, config).items():
        from minshi_xls import collect
        got = collect.ingest(items, p, db_path, master=master, config=config,
                             annotate_dir=collect.annotated_dir(db_path, p),
                             **(collect_options or {}))
        if not got.rows:  # only messages that carry no return: archived, nothing collected
            continue
        if p == period:
            result.collect = got
        else:
            result.other_periods[p] = got
    result.archived = sum(f.raw is not None for f in new)
    con = ledger.connect(db_path)
    try:
        with ledger.transaction(con):
            for f in new:
                result.issues.extend(_check_sender(con, master, period, f))
                result.kept.extend(_keep_others(con, db_path, period, f))
                message = _message_file(con, f)
                for i in f.notes:
                    _store_note(con, i, message)
                result.notes.extend(f.notes)
                con.execute("INSERT OR IGNORE INTO fetched(message_id, uid, folder, sender,"
                            " mail_date, subject, period, fetched_at) VALUES (?,?,?,?,?,?,?,?)",
                            (f.message_id, f.uid, ctx.folder, f.sender, f.mail_date, f.subject,
                             period, clock.now()))
    finally:
        con.close()
    return result


def _one(imap: Imap, ctx: _Context, uid: int, head: dict,
         result: FetchResult) -> Optional[_Fetched]:
    """One message: new? for the period? then downloaded and read. Whatever it holds, it never
    stops the run (a server failure does, as MinshiError)."""
    f = _Fetched(str(uid), "", "", "", None)
    try:
        return _decide(imap, ctx, uid, head, result, f)
    except MinshiError:
        raise
    except Exception as e:  # noqa: BLE001 - this message is recorded; the others go on
        f.message_id = f.message_id or _uid_id(ctx, uid)
        ctx.note("mail-unreadable", f, ctx.book.get(f.sender), cell=str(uid),
                 value=f"{type(e).__name__}: {e}"[:200], detail=f.subject)
        ctx.seen.add(f.message_id)
        return f


#: What is asked of every message in one round trip per batch: enough to decide whether to
#: download it (its body structure holds the attachment names and types).
HEAD_ITEMS = ["RFC822.SIZE", "INTERNALDATE", "BODY.PEEK[HEADER]", "BODYSTRUCTURE"]
UNPARSABLE = "unparsable"


def _heads(imap: Imap, batch: List[int]) -> Dict[int, dict]:
    """The HEAD_ITEMS of a batch; when IMAPClient cannot parse the answer, message by message
    (without the body structure, then not at all: that message is noted, the rest go on)."""
    try:
        return imap.fetch(batch, HEAD_ITEMS)
    except Unparsable:
        pass
    out: Dict[int, dict] = {}
    for uid in batch:
        for items in (HEAD_ITEMS, HEAD_ITEMS[:3]):
            try:
                out.update(imap.fetch([uid], items))
                break
            except Unparsable as e:
                out[uid] = {UNPARSABLE: str(e)}
    return out


def _uid_id(ctx: _Context, uid) -> str:
    return f"<uid-{uid}.{_safe_name(ctx.folder)}@{ctx.host}>"


def _decide(imap: Imap, ctx: _Context, uid: int, head: dict, result: FetchResult,
            f: _Fetched) -> Optional[_Fetched]:
    if UNPARSABLE in head:
        raise ValueError(f"服务器对该邮件的应答无法解析（{head[UNPARSABLE]}）")
    msg = incoming.read_headers(head.get(b"BODY[HEADER]") or b"")
    r = incoming.Reply()
    incoming.basics(msg, r)
    f.message_id = r.message_id or _uid_id(ctx, uid)
    f.sender, f.subject = r.sender, r.subject
    if f.message_id in ctx.seen:
        result.already += 1  # fetched before, or sent by us
        return None
    internal = head.get(b"INTERNALDATE")
    f.mail_date = r.date or (internal.isoformat() if isinstance(internal, datetime) else None)
    unit = ctx.book.get(r.sender)
    about = bool(ctx.pat.search(r.subject)) or any(x in r.refs for x in ctx.ours if x)
    wanted = about or r.bounce
    if not wanted and _names_other_period(r.subject, ctx.pat):
        return None  # last month's return, a later one: left for its own fetch
    if not wanted and msg.get_content_maintype() in ("multipart", "application", "message"):
        # Attachment names and types are in the body structure: no download for most mail.
        struct = head.get(b"BODYSTRUCTURE")
        names = incoming.structure_names(struct)
        about = bool(ctx.pat.search(names))
        wanted = about or struct is None or bool(incoming.MAY_BE_RETURN.search(names)) or bool(
            unit and re.search(r"\b(application|image)\b", names, re.I))
    if not wanted:
        return None
    f.about = about
    ctx.seen.add(f.message_id)
    size = int(head.get(b"RFC822.SIZE") or 0)
    if size > ctx.limits["max_uncompressed_bytes"]:
        # Not downloaded; against its unit it is a return refused as too large (class 7).
        result.ignored.append(f"{r.subject}（邮件 {size >> 20} MB，超过大小限制）")
        if unit:
            ctx.note("mail-too-large", f, unit)
        return f
    raw = (imap.fetch([uid], ["BODY.PEEK[]"]).get(uid) or {}).get(b"BODY[]") or b""
    f.raw = raw
    reply = incoming.read(raw)
    if reply.why:
        ctx.note("mail-unreadable", f, unit, cell=str(uid), value=reply.why, detail=f.subject)
        return f
    if reply.bounce:
        for addr in dict.fromkeys(reply.failed):
            if addr in ctx.book:
                ctx.note("mail-bounced", f, ctx.book[addr], found=addr)
        return f
    for a in reply.files:
        sha = hashlib.sha256(a.data).hexdigest()
        if sha in ctx.own:  # our own workbook forwarded back or bounced: not a return
            ctx.note("mail-own-workbook", f, ctx.own[sha])
            continue
        result.attachments.append(a.name)
        f.items.extend(_items(a.name, a.data, f, ctx.limits, unit))
    for a in reply.attachments:
        if a.kind not in ("workbook", "archive") and not (a in reply.others and f.items):
            result.ignored.append(a.name)
    if f.items:
        f.others = reply.others
    elif not about:
        return f  # not about this period and nothing to collect: only remembered as seen
    elif f.notes:
        pass
    elif reply.auto_reply:
        ctx.note("mail-auto-reply", f, unit)
    elif reply.links:
        ctx.note("mail-link-only", f, unit, value=reply.links[0], found=reply.links[0])
    else:
        ctx.note("mail-no-attachment", f, unit)
    return f


_ANY_PERIOD = re.compile(r"(?<!\d)20\d\d\s*(?:[-年./_]\s*)?(?:1[0-2]|0?[1-9])(?!\d)")


def _names_other_period(subject: str, pat: re.Pattern) -> bool:
    return bool(_ANY_PERIOD.search(subject)) and not pat.search(subject)


def _by_period(new: List[_Fetched], period: str, master: Master,
               config: dict) -> Dict[str, List[Incoming]]:
    """The files to collect per month: those of messages about the period are its; for the
    others (a unit's "报表" with "数据.xlsx") the workbook's own _meta decides, through collect's
    guarded check, so last month's workbook is collected for last month, not rejected now."""
    out: Dict[str, List[Incoming]] = {}
    unsure = [it for f in new if not f.about for it in f.items]
    own = {}
    if unsure:
        from minshi_xls import collect
        report = collect.check_items(unsure, master, config=config)
        own = {r["file"]: r["period"] for r in report.stats["returns"]}
    for f in new:
        periods = []
        for it in f.items:
            p = period if f.about else own.get(it.source_path) or period
            p = p if settings.is_period(p) else period
            out.setdefault(p, []).append(it)
            periods.append(p)
        message = _message(f)
        if message is not None:  # with every month its files went to (recorded once)
            for p in dict.fromkeys(periods or [period]):
                out.setdefault(p, []).append(message)
    return out


def _source(f: _Fetched) -> str:
    """``imap:<Message-ID>``: the message's source path, its attachments' prefix (the sender's
    text: no path or container separators in it)."""
    from minshi_xls import collect
    return collect.MAIL_SOURCE + re.sub(r"[/\\!]", "_", f.message_id)


def _message(f: _Fetched):
    """The downloaded message as a collect.Container: ingest archives it byte for byte under
    ``archive/<P>/_containers/`` and its attachments' receipts point at it."""
    from minshi_xls import collect
    if f.raw is None:
        return None
    name = collect.safe_name((f.subject.strip() or "邮件") + ".eml")
    if not name.lower().endswith(".eml"):  # a subject cut by safe_name's length limit
        name = name[:-4] + ".eml"
    return collect.Container(name, f.raw, _source(f), f.sender, f.message_id, f.mail_date,
                             f.mail_date)



def _since(since, year: int, month: int) -> date:
    if since is None:
        return date(year, month, 1)
    if isinstance(since, datetime):
        return since.date()
    if isinstance(since, date):
        return since
    try:
        return date.fromisoformat(str(since))
    except ValueError:
        raise MinshiError(f"--since 日期“{since}”格式不对，应写成 YYYY-MM-DD，例如 2024-07-01。") from None


def _items(name: str, data: bytes, f: _Fetched, limits: dict,
           unit: Optional[str]) -> Iterator[Incoming]:
    """An attachment as collect takes it: archives and attached messages unpacked (with
    collect's bomb limits); an oversized one refused with its issue, against the unit whose
    registered address sent it (its reminder says the file is too large)."""
    from minshi_xls import collect
    source = _source(f) + "/" + name
    if len(data) > limits["max_file_bytes"]:
        yield collect.Refused(name, data, source, f.sender, f.message_id, f.mail_date,
                              f.mail_date, finding=("file-too-large",
                                                    f"附件 {len(data) // 1024} KB"), unit=unit)
        return
    for it in collect.expand_bytes(Incoming(name, data, source, f.sender, f.message_id,
                                            f.mail_date, f.mail_date), limits=limits,
                                   containers=True):  # the .zip/.eml itself is archived too
        if isinstance(it, collect.Refused) and it.unit is None:
            it.unit = unit
        yield it


def _store_note(con, i: issues.Issue, file_id: Optional[int]) -> None:
    """A reply that is not a return, with ``file_id`` its archived message (issues_v shows its
    SHA-256, ledger.mail_states its archive path)."""
    con.execute("INSERT INTO issues(file_id, source, code, severity, unit, period, file_path,"
                " cell, value, message) VALUES (?, 'fetch', ?, ?, ?, ?, ?, ?, ?, ?)",
                (file_id, i.code, i.severity, i.unit, i.period, i.file, i.cell, i.value,
                 i.message))


def _message_file(con, f: _Fetched) -> Optional[int]:
    """The files row of the message as collect archived it (None: never downloaded)."""
    if f.raw is None:
        return None
    row = con.execute("SELECT file_id FROM receipts WHERE source_path = ? AND message_id = ?"
                      " ORDER BY id LIMIT 1", (_source(f), f.message_id)).fetchone()
    return row[0] if row else None


def _keep_others(con, db_path, period: str, f: _Fetched) -> List[str]:
    """The sealed scan and photos that came with a return, archived beside it under the unit
    collect identified (``archive/<P>/<unit>/随表附件/``) and listed in ``mail_files``."""
    if not f.others:
        return []
    row = con.execute("SELECT r.unit FROM returns r JOIN receipts rc ON rc.id = r.receipt_id"
                      " WHERE rc.message_id = ? AND r.unit IS NOT NULL ORDER BY r.id LIMIT 1",
                      (f.message_id,)).fetchone()
    unit = row["unit"] if row else None
    root = ledger.archive_dir(db_path).parent
    kept = []
    for a in f.others:
        sha = hashlib.sha256(a.data).hexdigest()
        rel = (Path("archive") / _safe_name(period) / (_safe_name(unit) if unit else
                                                        "_unidentified")
               / ATTACHMENTS_FOLDER / f"{sha[:12]}_{_safe_name(a.name)}")
        dest = root / rel
        if not dest.exists():
            faults.atomic_write(dest, a.data)
        con.execute("INSERT INTO mail_files(period, unit, message_id, name, archive_path,"
                    " sha256, size, kept_at) VALUES (?,?,?,?,?,?,?,?)",
                    (period, unit, f.message_id, a.name, rel.as_posix(), sha, len(a.data),
                     clock.now()))
        kept.append(a.name)
    return kept


ATTACHMENTS_FOLDER = "随表附件"


def _check_sender(con, master: Master, period: str, f: _Fetched) -> List[issues.Issue]:
    """unexpected-sender for the files of a message that collect could not assign to a unit
    when no unit registered the sender (collect itself checks the identified ones)."""
    everyone = {a for u in master.registry.units for a in u.addresses}
    if not f.items or not everyone or f.sender in everyone:
        return []
    rows = con.execute(
        "SELECT r.id, r.file_id, rc.source_path FROM returns r JOIN receipts rc"
        " ON rc.id = r.receipt_id WHERE rc.message_id = ? AND r.unit IS NULL", (f.message_id,))
    found = []
    for r in rows.fetchall():
        i = issues.make("unexpected-sender", period=period, file=r["source_path"],
                        found=f.sender or "（无发件人）")
        i.message = i.message.replace("“”登记的邮箱", "任何单位登记的邮箱")
        con.execute("INSERT INTO issues(return_id, file_id, source, code, severity, period,"
                    " file_path, value, message) VALUES (?, ?, 'fetch', ?, ?, ?, ?, ?, ?)",
                    (r["id"], r["file_id"], i.code, i.severity, period, r["source_path"],
                     f.sender, i.message))
        found.append(i)
    return found
