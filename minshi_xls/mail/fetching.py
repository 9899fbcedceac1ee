"""``minshi fetch``: download the period's returns and hand them to collect."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr
from typing import Dict, Iterator, List, Optional, Tuple

from minshi_xls import MinshiError, guard, issues, ledger, settings
from minshi_xls.mail.common import Progress, _config, _master, _safe_name, period_label
from minshi_xls.mail.incoming import (_attachments, _header_text, _internal_date, _iso_date,
                                      is_spreadsheet, period_pattern, structure_names)
from minshi_xls.mail.transport import _fetch_parts, _Imap, imap_date
from minshi_xls.model import Incoming, Master

@dataclass
class FetchResult:
    """What ``fetch`` found: messages, attachments handed to collect, and collect's result."""

    period: str
    searched: int = 0  # messages since the date
    already: int = 0  # fetched before (never downloaded twice)
    messages: int = 0  # new messages for the period
    attachments: List[str] = field(default_factory=list)  # names handed to collect
    ignored: List[str] = field(default_factory=list)  # attachments that are not spreadsheets
    issues: List[issues.Issue] = field(default_factory=list)  # unexpected-sender
    collect: object = None  # collect.CollectResult, when anything was ingested

    def summary(self) -> str:
        lines = [f"{period_label(self.period)}收取：邮箱中检索到 {self.searched} 封，"
                 f"其中以前已收取 {self.already} 封，本次新收取本月邮件 {self.messages} 封，"
                 f"表格附件 {len(self.attachments)} 个。"]
        if self.ignored:
            lines.append("  非表格附件（未处理）：" + "，".join(self.ignored))
        for i in self.issues:
            lines.append(f"  [{i.title}] {i.message}")
        if self.collect is not None:
            lines.extend(self.collect.summary_lines())
        return "\n".join(lines)

    @property
    def exit_code(self) -> int:
        """collect's: 1 when a return fetched has errors."""
        return self.collect.exit_code if self.collect is not None else 0

def _record_fetched(con, message_id: str, uid: str, folder: str, sender: str, mail_date,
                    subject: str, period: str) -> None:
    con.execute("INSERT OR IGNORE INTO fetched(message_id, uid, folder, sender, mail_date, subject,"
                " period, fetched_at) VALUES (?,?,?,?,?,?,?,?)",
                (message_id, uid, folder, sender, mail_date, subject, period,
                 datetime.now().isoformat(timespec="seconds")))


@dataclass
class _Fetched:
    uid: str
    message_id: str
    sender: str
    subject: str
    mail_date: Optional[str]
    items: List[Incoming]


def fetch(master, period: str, db_path, config=None, since=None,
          progress: Optional[Progress] = None, collect_options: Optional[dict] = None
          ) -> FetchResult:
    """Download the period's returns from the mailbox and hand them to collect.

    Messages are read with BODY.PEEK from a folder opened read-only: nothing is deleted or marked
    read. A message counts for the period when its subject or an attachment name mentions the
    period, or it replies to a message ``send`` sent for it. Each message is recorded in
    ``fetched`` after collect has taken its files, so it is never downloaded or ingested twice.
    """
    master, config = _master(master), _config(config)
    y, m = settings.period_parts(period)
    since_day = _since(since, y, m)
    pat = period_pattern(period)
    limits = guard.limits_from(config)
    result = FetchResult(period)
    imap = _Imap(config)
    folder = imap.sec.get("folder") or "INBOX"
    con = ledger.connect(db_path)
    try:
        seen = {r[0] for r in con.execute("SELECT message_id FROM fetched")}
        ours = {r[0] for r in con.execute(
            "SELECT message_id FROM sends WHERE period = ? AND message_id IS NOT NULL", (period,))}
        # Our own messages (a copy in the inbox, a test mail to ourselves) are never returns.
        seen |= {r[0] for r in con.execute(
            "SELECT message_id FROM sends WHERE message_id IS NOT NULL")}
    finally:
        con.close()
    new: List[_Fetched] = []
    imap.open()
    try:
        data = imap.uid("SEARCH", None, "SINCE", imap_date(since_day))
        uids = [u.decode() for u in (data[0] or b"").split()]
        result.searched = len(uids)
        done = 0
        for chunk in range(0, len(uids), HEADER_BATCH):
            heads = _headers(imap, uids[chunk:chunk + HEADER_BATCH])
            for uid in uids[chunk:chunk + HEADER_BATCH]:
                got = _fetch_one(imap, uid, heads.get(uid, (b"", b"")), pat, ours, seen, result,
                                 folder, limits)
                if got is not None:
                    new.append(got)
                done += 1
                if progress:
                    progress(done, len(uids), "收取邮件")
    finally:
        imap.close()
    items = [it for f in new for it in f.items]
    result.messages = len(new)
    if items:
        from minshi_xls import collect
        result.collect = collect.ingest(items, period, db_path, master=master, config=config,
                                        annotate_dir=collect.annotated_dir(db_path, period),
                                        **(collect_options or {}))
    con = ledger.connect(db_path)
    try:
        with ledger.transaction(con):
            for f in new:
                result.issues.extend(_check_sender(con, master, period, f))
                _record_fetched(con, f.message_id, f.uid, folder, f.sender, f.mail_date,
                                f.subject, period)
    finally:
        con.close()
    return result


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

def _incoming(name: str, data: bytes, message_id: str, sender: str, mail_date: Optional[str],
              limits: dict) -> Iterator[Incoming]:
    """An attachment as collect takes it: zips and attached .eml files unpacked (with
    collect's bomb limits), an oversized one refused with its issue rather than read."""
    from minshi_xls import collect
    # a Message-ID is the sender's text: no path separators in what reads like a path
    source = "imap:" + re.sub(r"[/\\]", "_", message_id) + "/" + name
    if len(data) > limits["max_file_bytes"]:
        yield collect.Refused(name, data, source, sender, message_id, mail_date, mail_date,
                              finding=("file-too-large", f"附件 {len(data) // 1024} KB"))
        return
    yield from collect.expand_bytes(Incoming(name, data, source, sender, message_id, mail_date,
                                             mail_date), limits=limits)

HEADER_BATCH = 200  # messages per header FETCH: one round trip each, not one per message


def _headers(imap: _Imap, uids: List[str]) -> Dict[str, Tuple[bytes, bytes]]:
    """uid -> (fetch answer without the literal, header bytes) for a batch of messages."""
    data = imap.uid("FETCH", ",".join(uids), "(UID RFC822.SIZE INTERNALDATE BODY.PEEK["
                                             "HEADER.FIELDS (MESSAGE-ID SUBJECT FROM DATE"
                                             " IN-REPLY-TO REFERENCES CONTENT-TYPE)])")
    out: Dict[str, Tuple[bytes, bytes]] = {}
    meta, header = b"", b""

    def flush():
        m = re.search(rb"UID (\d+)", meta)
        if m:
            out[m.group(1).decode()] = (meta, header)
    for item in data:
        if isinstance(item, tuple):
            if meta:
                flush()
            meta, header = item[0], item[1]
        elif isinstance(item, bytes):
            meta += item
    if meta:
        flush()
    return out


def _fetch_one(imap: _Imap, uid: str, answer: Tuple[bytes, bytes], pat: re.Pattern, ours: set,
               seen: set, result: FetchResult, folder: str, limits: dict) -> Optional[_Fetched]:
    """From its headers, whether a message is new and belongs to the period; only then is the
    whole message downloaded."""
    meta, header = answer
    head = BytesParser(policy=policy.default).parsebytes(header, headersonly=True)
    message_id = _header_text(head.get("Message-ID")) or \
        f"<uid-{uid}.{_safe_name(folder)}@{imap.sec['host']}>"
    if message_id in seen:
        result.already += 1  # fetched before, or sent by us
        return None
    subject = _header_text(head.get("Subject"))
    refs = f"{head.get('In-Reply-To') or ''} {head.get('References') or ''}"
    wanted = bool(pat.search(subject)) or any(r in refs for r in ours if r)
    if not wanted and head.get_content_type() not in ("text/plain", "text/html",
                                                       "multipart/alternative"):
        # Attachment names are only in the body structure (plain or alternative text has none,
        # so most unrelated mail costs no second round trip).
        struct = _fetch_parts(imap.uid("FETCH", uid, "(BODYSTRUCTURE)"))["all"]
        wanted = bool(pat.search(structure_names(struct)))
    if not wanted:
        return None
    size = re.search(rb"RFC822\.SIZE (\d+)", meta)
    if size and int(size.group(1)) > limits["max_uncompressed_bytes"]:
        # Not downloaded at all; the clerk sees it in the summary and handles it by hand.
        result.ignored.append(f"{subject}（邮件 {int(size.group(1)) >> 20} MB，超过大小限制）")
        return None
    body = _fetch_parts(imap.uid("FETCH", uid, "(BODY.PEEK[])")).get("literal", b"")
    msg = BytesParser(policy=policy.default).parsebytes(body)
    sender = parseaddr(_header_text(msg.get("From")))[1].lower()
    mail_date = _iso_date(msg.get("Date")) or _internal_date(meta)
    items = []
    for name, data in _attachments(msg):
        if not is_spreadsheet(name) and not name.lower().endswith((".zip", ".eml")):
            result.ignored.append(name)
            continue
        result.attachments.append(name)
        items.extend(_incoming(name, data, message_id, sender, mail_date, limits))
    seen.add(message_id)
    return _Fetched(uid, message_id, sender, subject, mail_date, items)


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
