"""``minshi send``: each unit its own workbook, once; and the delivery loop ``remind`` shares."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from minshi_xls import MinshiError, clock, columns, ledger, settings
from minshi_xls.mail.common import (Progress, _config, _expected_units, _master, _safe_name,
                                    _section, period_label, template_path, workbook_deadline)
from minshi_xls.mail.outgoing import build_message, send_body, sender_warning
from minshi_xls.mail.transport import _Smtp, _UnitFailure
from minshi_xls.model import Unit

@dataclass
class Delivery:
    """What happened to one unit's message."""

    unit: str
    to_addr: str = ""
    status: str = ""  # sent | written | skipped | failed | no-email | no-file
    detail: str = ""
    path: Optional[str] = None  # the .eml written, for the outbox
    attempts: int = 0
    message_id: str = ""


STATUS_LABELS = {"sent": "已发送", "written": "已写入发件箱", "skipped": "已发送过，跳过",
                 "failed": "发送失败", "no-email": "未登记邮箱", "no-file": "缺少填报表",
                 "bounced": "邮箱退信，未发送"}


@dataclass
class SendResult:
    """The outcome of ``send`` or ``remind``: one Delivery per unit."""

    period: str
    kind: str  # send | remind
    transport: str  # smtp | outbox | dry-run
    outbox: Optional[Path] = None
    deliveries: List[Delivery] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for d in self.deliveries if d.status == status)

    @property
    def failed(self) -> List[Delivery]:
        return [d for d in self.deliveries if d.status == "failed"]

    @property
    def exit_code(self) -> int:
        """1 when some unit did not get its message (failed, no email, no workbook)."""
        return int(any(d.status in ("failed", "no-email", "no-file", "bounced")
                           for d in self.deliveries))

    def by_unit(self) -> Dict[str, Delivery]:
        return {d.unit: d for d in self.deliveries}

    def summary(self) -> str:
        what = "填报表" if self.kind == "send" else "提醒"
        head = {"smtp": "通过邮件服务器发送", "outbox": f"写入发件箱 {self.outbox}",
                "dry-run": f"试运行（未发送，邮件写入 {self.outbox}）"}[self.transport]
        counts = "，".join(f"{STATUS_LABELS[s]} {self.count(s)}" for s in STATUS_LABELS
                          if self.count(s))
        lines = [f"{period_label(self.period)}{what}：{head}。{counts or '没有需要发送的单位'}。"]
        lines += [f"  {w}" for w in self.warnings]
        for d in self.failed:
            lines.append(f"  {d.unit}：{STATUS_LABELS[d.status]} {d.detail}".rstrip())
        for status, hint in (("no-email", "请在总表“单位”表的“邮箱”列登记"),
                             ("no-file", "请先运行 minshi templates"),
                             ("bounced", "地址无效，请在总表“单位”表中更正邮箱")):
            units = [d.unit for d in self.deliveries if d.status == status]
            if units:
                lines.append(f"  {STATUS_LABELS[status]}（{hint}）：{'、'.join(units)}")
        return "\n".join(lines)

def _write_eml(outbox: Path, msg: Message, unit: str, kind: str) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    suffix = "" if kind == "send" else "_提醒"
    p = outbox / f"{_safe_name(unit)}{suffix}.eml"
    p.write_bytes(msg.as_bytes())
    return p


def _record(con, kind: str, period: str, d: Delivery, transport: str, subject: str,
            attachment: str) -> None:
    con.execute("INSERT INTO sends(kind, unit, period, to_addr, subject, attachment, message_id,"
                " transport, status, error, sent_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (kind, d.unit, period, d.to_addr, subject, attachment, d.message_id, transport,
                 "sent" if d.status in ("sent", "written") else "failed", d.detail or None,
                 clock.now()))


@dataclass
class _Job:
    unit: Unit
    msg: Message
    attachment: str


def _transport(config: Optional[dict], outbox, dry_run: bool) -> str:
    """smtp, or outbox (.eml files) with no SMTP host or an explicit outbox, or dry-run."""
    if dry_run:
        return "dry-run"
    return "outbox" if outbox is not None or not _section(config, "smtp").get("host") else "smtp"


def _deliver(jobs: List[Tuple[Delivery, Optional[_Job]]], kind: str, period: str, db_path,
             config: Optional[dict], outbox: Optional[Path], dry_run: bool,
             progress: Optional[Progress]) -> SendResult:
    """Send (or write) each job's message; one unit's failure never stops the others.

    The SMTP session is opened before the first message, so a server that is down or refuses
    the password raises MinshiError with nothing sent and nothing recorded.
    """
    transport = _transport(config, outbox, dry_run)
    box = Path(outbox) if outbox is not None else \
        Path(settings.DEFAULT_OUTPUT) / "outbox" / period
    result = SendResult(period, kind, transport, None if transport == "smtp" else box)
    result.warnings = [w for w in [sender_warning(config)] if w]
    todo = [(d, j) for d, j in jobs if j is not None]
    retries = max(0, int(_section(config, "mail").get("retries") or 0))
    delay = float(_section(config, "mail").get("retry_delay_s") or 0)
    smtp = None
    if transport == "smtp" and todo:
        smtp = _Smtp(config)
        smtp.open()
    con = None if dry_run else ledger.connect(db_path)
    try:
        done = 0
        for d, job in jobs:
            result.deliveries.append(d)
            if job is None:
                continue
            d.message_id = job.msg["Message-ID"]
            if transport != "smtp":
                d.path = str(_write_eml(box, job.msg, d.unit, kind))
                d.status, d.attempts = "written", 1
            else:
                for attempt in range(1, retries + 2):
                    d.attempts = attempt
                    try:
                        smtp.send(job.msg)
                        d.status, d.detail = "sent", ""
                        break
                    except _UnitFailure as e:
                        d.status, d.detail = "failed", str(e)
                        if e.permanent:
                            break
                        if attempt <= retries and delay:
                            time.sleep(delay * attempt)
            if con is not None:
                _record(con, kind, period, d, "outbox" if transport != "smtp" else "smtp",
                        str(job.msg["Subject"]), job.attachment)
            done += 1
            if progress:
                progress(done, len(todo), d.unit)
    finally:
        if smtp is not None:
            smtp.close()
        if con is not None:
            con.close()
    return result


def _already_sent(db_path, period: str, transport: str) -> set:
    con = ledger.connect(db_path)
    try:
        rows = con.execute("SELECT DISTINCT unit FROM sends WHERE kind = 'send' AND period = ?"
                           " AND status = 'sent' AND transport = ?", (period, transport))
        return {r["unit"] for r in rows}
    finally:
        con.close()


def send(master, period: str, templates_dir, db_path, config=None,
         outbox=None, dry_run: bool = False, resend: Sequence[str] = (),
         progress: Optional[Progress] = None) -> SendResult:
    """Mail each unit that must report its fill-in workbook for ``period``.

    A unit already mailed for the period (over the same transport) is skipped unless ``resend``
    names it; units with no email or no workbook are reported, not fatal.
    """
    master, config = _master(master), _config(config)
    settings.period_parts(period)
    units = _expected_units(master, config)
    known = {u.short for u in units}
    resend_set = set()
    for name in resend:
        u = master.registry.get(name)
        short = u.short if u else name
        if short not in known:
            raise MinshiError(f"--resend 指定的单位“{name}”不在{period_label(period)}的填报单位中。")
        resend_set.add(short)
    transport = _transport(config, outbox, dry_run)
    done_before = set() if dry_run else _already_sent(db_path, period, transport)
    jobs: List[Tuple[Delivery, Optional[_Job]]] = []
    for u in units:
        addrs = u.addresses
        d = Delivery(u.short, ", ".join(addrs))
        path = template_path(templates_dir, period, u.short)
        if not addrs:
            d.status = "no-email"
        elif path is None:
            d.status = "no-file"
            d.detail = str(Path(templates_dir) / period / columns.file_name(period, u.short))
        elif u.short in done_before and u.short not in resend_set:
            d.status = "skipped"
        else:
            body = send_body(u, period, config, workbook_deadline(path, period, config))
            jobs.append((d, _Job(u, build_message(u, period, path, config, body=body), path.name)))
            continue
        jobs.append((d, None))
    return _deliver(jobs, "send", period, db_path, config, outbox, dry_run, progress)
