"""Email: send the fill-in workbooks, fetch the returns from a mailbox, remind missing units.

Standard library only (email, smtplib, imaplib). Every message sent is a row of the ledger's
``sends`` table and every message fetched a row of ``fetched``, so reruns neither mail a unit
twice nor ingest a message twice. Passwords come only from the environment variable the config
names (``smtp.password_env``, ``imap.password_env``); they are never printed, logged or stored.
Without an SMTP host (or with an outbox / dry run) messages are written as .eml files instead, so
the whole cycle works on a machine with no mail server.
"""
from __future__ import annotations

import imaplib
import ipaddress
import os
import re
import smtplib
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import date, datetime
from email import encoders, policy
from email.header import Header, decode_header, make_header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import BytesParser
from email.utils import formataddr, formatdate, make_msgid, parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from minshi_xls import MinshiError, columns, guard, issues, ledger, settings
from minshi_xls.model import Incoming, Master, Unit
from minshi_xls.templates import chinese_date

#: progress(done, total, label): the CLI draws a bar from it.
Progress = Callable[[int, int, str], None]

SPREADSHEET_TYPES = {
    ".xlsx": "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsm": "vnd.ms-excel.sheet.macroEnabled.12",
    ".xls": "vnd.ms-excel",
    ".et": "vnd.ms-excel",  # WPS 表格
    ".ods": "vnd.oasis.opendocument.spreadsheet",
    ".zip": "zip",
}
TIMEOUT_S = 30


# --- configuration helpers --------------------------------------------------------------------

def _section(config: Optional[dict], name: str) -> dict:
    """A config section with the defaults filled in (callers may pass a partial dict)."""
    return {**settings.DEFAULTS[name], **((config or {}).get(name) or {})}


def _password(sec: dict, what: str) -> str:
    """The password from the environment variable the config names; never from a file."""
    var = sec.get("password_env") or ""
    value = os.environ.get(var) if var else None
    if not value:
        raise MinshiError(f"{what} 需要密码：请先设置环境变量 {var or '(未配置 password_env)'}，"
                          f"密码不能写在配置文件里。")
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tls_context(sec: dict) -> ssl.SSLContext:
    """Verified TLS; ``cafile`` trusts a private CA (an office's self-signed server)."""
    cafile = sec.get("cafile") or None
    try:
        return ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as e:
        raise MinshiError(f"无法读取证书文件 cafile = “{cafile}”（{e}）。请检查路径，"
                          "文件应为 PEM 格式的证书。") from None


def _security(sec: dict, what: str) -> str:
    mode = (sec.get("security") or "ssl").lower()
    if mode not in ("ssl", "starttls", "plain"):
        raise MinshiError(f"{what} 的 security 只能是 ssl、starttls 或 plain，配置为“{mode}”。")
    if mode == "plain" and not _is_loopback(sec.get("host", "")):
        raise MinshiError(f"{what} 不加密（security = \"plain\"）只允许连接本机测试服务器；"
                          f"连接 {sec.get('host')} 请使用 ssl 或 starttls。")
    return mode


SERVER_NAMES = {"smtp": "邮件发送服务器", "imap": "收件服务器"}


def _connect(sec: dict, mode: str, section: str, tls, plain, starttls, protocol_error):
    """Open a connection in the configured security mode; failures become a Chinese error.

    ``tls(ctx)`` opens implicit TLS, ``plain()`` a clear connection that ``starttls(conn, ctx)``
    upgrades; ``protocol_error`` is the protocol library's base exception.
    """
    host, port, what = sec["host"], sec["port"], SERVER_NAMES[section]
    try:
        if mode == "ssl":
            return tls(_tls_context(sec))
        conn = plain()
        if mode == "starttls":
            starttls(conn, _tls_context(sec))
        return conn
    except ssl.SSLError as e:
        raise MinshiError(f"与{what} {host}:{port} 建立加密连接失败（{e.reason or e}）。请检查 "
                          f"security 设置；自签名证书请在 [{section}] 中配置 cafile。") from None
    except (OSError, protocol_error) as e:
        raise MinshiError(f"无法连接{what} {host}:{port}（{_os_reason(e)}）。请检查 [{section}] 的 "
                          "host、port 和网络，稍后重试。") from None


def period_label(period: str) -> str:
    y, m = settings.period_parts(period)
    return f"{y}年{m}月"


def deadline(period: str, config: Optional[dict] = None) -> date:
    """The due date the workbooks state (``templates.deadline_day`` of the next month)."""
    from minshi_xls.templates import default_deadline
    return default_deadline(period, {"templates": _section(config, "templates")})


def workbook_deadline(path: Optional[Path], period: str, config: Optional[dict] = None) -> date:
    """The deadline the unit's workbook states in ``_meta`` (``minshi templates --deadline``
    may have set another than the config's), else the config's."""
    if path is not None:
        from minshi_xls import reader
        try:
            meta = reader.read_workbook(Path(path).read_bytes(), "xlsx").get("meta") or {}
            return date.fromisoformat(str(meta.get("deadline"))[:10])
        except Exception:  # noqa: BLE001 - an unreadable or older template: the config's date
            pass
    return deadline(period, config)


def _config(config) -> dict:
    """A loaded config dict, or ``minshi.toml`` / the given path loaded (for the CLI)."""
    return config if isinstance(config, dict) else settings.load_config(config)


def _master(master) -> Master:
    """A Master object, or read from a path (so the CLI calls one library function)."""
    if isinstance(master, Master):
        return master
    from minshi_xls.master import load_master
    return load_master(master, required=True)


def _expected_units(master: Master, config: Optional[dict]) -> List[Unit]:
    from minshi_xls.templates import units_to_report
    out = []
    include = bool(_section(config, "templates").get("include_co_bureaus"))
    for short in units_to_report(master, include):
        out.append(master.registry.get(short) or Unit(short=short))
    return out


def template_path(templates_dir, period: str, unit: str) -> Optional[Path]:
    """The unit's fill-in workbook (``templates/<period>/`` or directly in ``templates/``)."""
    name = columns.file_name(period, unit)
    for p in (Path(templates_dir) / period / name, Path(templates_dir) / name):
        if p.is_file():
            return p
    return None


# --- building messages ------------------------------------------------------------------------

def _sender(config: Optional[dict]) -> Tuple[str, str]:
    """(display name, address) of the office."""
    smtp, office = _section(config, "smtp"), _section(config, "office")
    addr = smtp.get("sender") or office.get("email") or smtp.get("user") or "minshi@localhost"
    return office.get("name") or "", addr


def _contact_line(config: Optional[dict]) -> str:
    office = _section(config, "office")
    parts = [office.get("name"), office.get("contact"), office.get("phone"), office.get("email")]
    return "，".join(p for p in parts if p)


#: Messages are built with the legacy (compat32) API: the modern policy re-folds a long
#: Content-Type inside its media type ("…sp readsheetml…") once a Chinese name is added.
#: Plain headers stay unfolded up to RFC 5322's 998 characters; Chinese ones are encoded words.
POLICY = policy.compat32.clone(linesep="\r\n", max_line_length=998)


def encoded_words(text: str) -> str:
    """RFC 2047 form of ``text`` (``=?utf-8?b?…?=``, split into words of at most 75 chars)."""
    if text.isascii():
        return text
    return Header(text, "utf-8").encode().replace("\n", "").replace("\r", "")


def attachment_part(name: str, data: bytes) -> MIMEBase:
    """An attachment with a Chinese file name every client shows right.

    The Content-Disposition carries ``filename*=utf-8''…`` (RFC 2231, read by Thunderbird, Apple
    Mail, Gmail and current Outlook); the Content-Type also carries ``name="=?utf-8?b?…?="``
    (RFC 2047), which older Outlook and Foxmail read instead.
    """
    subtype = SPREADSHEET_TYPES.get(Path(name).suffix.lower(), "octet-stream")
    part = MIMEBase("application", subtype, policy=POLICY)
    part.set_param("name", encoded_words(name))
    part.set_payload(data)
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment",
                    filename=name if name.isascii() else ("utf-8", "", name))
    return part


def build_message(unit: Unit, period: str, attachment: Optional[Path],
                  config: Optional[dict] = None, *, kind: str = "send", body: Optional[str] = None,
                  attachment_name: Optional[str] = None, reply_to: Optional[str] = None
                  ) -> Message:
    """One message to one unit: Chinese subject from ``mail.subject``, body, the workbook.

    ``kind`` "send" uses the fill-in instructions as the body; a reminder passes its own body.
    """
    y, m = settings.period_parts(period)
    mail = _section(config, "mail")
    key = "subject" if kind == "send" else "remind_subject"
    try:
        subject = mail[key].format(year=y, month=m, unit=unit.short, period=period)
    except (KeyError, IndexError, ValueError) as e:
        raise MinshiError(f"配置 [mail] {key} = “{mail[key]}” 有误（{e}）：只能使用 {{year}} {{month}} "
                          "{unit} {period}。") from None
    msg = MIMEMultipart(policy=POLICY)
    msg["Subject"] = Header(subject, "utf-8")
    sender_name, sender = _sender(config)
    msg["From"] = formataddr((sender_name, sender), charset="utf-8")
    addrs = unit.addresses
    msg["To"] = ", ".join([formataddr((unit.name or unit.short, addrs[0]), charset="utf-8")]
                          + addrs[1:]) if addrs else ""
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid("minshi", domain=sender.rpartition("@")[2] or "minshi.local")
    if reply_to:
        msg["In-Reply-To"] = reply_to
        msg["References"] = reply_to
    text = body if body is not None else send_body(unit, period, config)
    msg.attach(MIMEText(text, "plain", "utf-8", policy=POLICY))
    if attachment is not None:
        msg.attach(attachment_part(attachment_name or Path(attachment).name,
                                   Path(attachment).read_bytes()))
    return msg


def send_body(unit: Unit, period: str, config: Optional[dict] = None,
              due_date: Optional[date] = None) -> str:
    label = period_label(period)
    due = chinese_date(due_date or deadline(period, config))
    office = _section(config, "office")
    contact = _contact_line(config)
    lines = [
        f"{unit.name or unit.short}：",
        "",
        f"    现将{label}民生实事推进情况填报表发给你单位，请于{due}前填写附件表格，"
        "并直接回复本邮件报送（附上填好的表格）。",
        "",
        "    填报要求：",
        "    1. 只在白色单元格中填写：本月累计完成（截至本月底的累计数）、推进状态、进展情况等；"
        "灰色单元格为任务、目标等锁定内容，请勿修改。",
        "    2. 数值只填阿拉伯数字，不带计量单位；本月没有进展请填 0。",
        "    3. 请勿增删行、列或工作表，不要改动文件名和表格结构，请用 Excel 或 WPS 打开填写后保存为 .xlsx。",
        "    4. 请填写表头的填报人、联系电话和填报日期。",
    ]
    if contact:
        lines.append(f"    5. 如有疑问请联系：{contact}。")
    lines += ["", f"{office.get('name') or ''}", chinese_date(date.today())]
    return "\n".join(lines) + "\n"


# --- delivering -------------------------------------------------------------------------------

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
                 "failed": "发送失败", "no-email": "未登记邮箱", "no-file": "缺少填报表"}


@dataclass
class SendResult:
    """The outcome of ``send`` or ``remind``: one Delivery per unit."""

    period: str
    kind: str  # send | remind
    transport: str  # smtp | outbox | dry-run
    outbox: Optional[Path] = None
    deliveries: List[Delivery] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for d in self.deliveries if d.status == status)

    @property
    def failed(self) -> List[Delivery]:
        return [d for d in self.deliveries if d.status == "failed"]

    @property
    def exit_code(self) -> int:
        """1 when some unit did not get its message (failed, no email, no workbook)."""
        return int(any(d.status in ("failed", "no-email", "no-file") for d in self.deliveries))

    def by_unit(self) -> Dict[str, Delivery]:
        return {d.unit: d for d in self.deliveries}

    def summary(self) -> str:
        what = "填报表" if self.kind == "send" else "提醒"
        head = {"smtp": "通过邮件服务器发送", "outbox": f"写入发件箱 {self.outbox}",
                "dry-run": f"试运行（未发送，邮件写入 {self.outbox}）"}[self.transport]
        counts = "，".join(f"{STATUS_LABELS[s]} {self.count(s)}" for s in STATUS_LABELS
                          if self.count(s))
        lines = [f"{period_label(self.period)}{what}：{head}。{counts or '没有需要发送的单位'}。"]
        for d in self.failed:
            lines.append(f"  {d.unit}：{STATUS_LABELS[d.status]} {d.detail}".rstrip())
        for status, hint in (("no-email", "请在总表“单位”表的“邮箱”列登记"),
                             ("no-file", "请先运行 minshi templates")):
            units = [d.unit for d in self.deliveries if d.status == status]
            if units:
                lines.append(f"  {STATUS_LABELS[status]}（{hint}）：{'、'.join(units)}")
        return "\n".join(lines)


class _UnitFailure(Exception):
    """This unit's message failed (the others go on); ``permanent`` ones are not retried."""

    def __init__(self, detail: str, permanent: bool = False):
        super().__init__(detail)
        self.permanent = permanent


class _Smtp:
    """One SMTP session for a whole run, reopened when the server drops it."""

    def __init__(self, config: Optional[dict]):
        self.sec = _section(config, "smtp")
        self.mode = _security(self.sec, "SMTP")
        self.password = _password(self.sec, "SMTP") if self.sec.get("user") else None
        self.conn: Optional[smtplib.SMTP] = None

    def open(self) -> None:
        """Connect and log in; a server down or a wrong password is fatal for the run."""
        host, port = self.sec["host"], int(self.sec["port"])
        conn = _connect(self.sec, self.mode, "smtp",
                        lambda ctx: smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_S, context=ctx),
                        lambda: smtplib.SMTP(host, port, timeout=TIMEOUT_S),
                        lambda c, ctx: c.starttls(context=ctx), smtplib.SMTPException)
        if self.password is not None:
            try:
                conn.login(self.sec["user"], self.password)
            except smtplib.SMTPAuthenticationError:
                _quit(conn)
                raise MinshiError(f"邮件发送服务器拒绝登录：用户 {self.sec['user']} 的密码不对"
                                  f"（环境变量 {self.sec['password_env']}）或未开通 SMTP。"
                                  "未发送任何邮件。") from None
            except (smtplib.SMTPException, OSError) as e:
                _quit(conn)
                raise MinshiError(f"登录邮件发送服务器失败（{_os_reason(e)}）。未发送任何邮件。") from None
        self.conn = conn

    def send(self, msg: Message) -> None:
        if self.conn is None:
            try:
                self.open()
            except MinshiError as e:  # the server went away mid-run: this unit fails, retried
                raise _UnitFailure(str(e)) from None
        try:
            refused = self.conn.send_message(msg)
        except (smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused,
                smtplib.SMTPDataError) as e:
            self._refused(e)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as e:
            self.close()
            raise _UnitFailure(f"连接中断（{_os_reason(e)}）") from None
        if refused:  # only with several recipients: some got it
            raise _UnitFailure("部分收件人被拒收：" + "，".join(refused), permanent=True)

    def _refused(self, e: smtplib.SMTPException) -> None:
        """A refusal of this message (the unit fails), or of any message: the run stops."""
        if isinstance(e, smtplib.SMTPRecipientsRefused):
            code, text = next(iter(e.recipients.values()))
        else:
            code, text = e.smtp_code, e.smtp_error
        if code == 530:  # 5.7.0 authentication required: every message would fail the same way
            self.close()
            raise MinshiError(f"邮件发送服务器要求登录（{code} {_text(text)}）：请在 minshi.toml 的 "
                              "[smtp] 中填写 user，密码放在环境变量中。") from None
        self._reset()
        what = "收件人被拒收" if isinstance(e, smtplib.SMTPRecipientsRefused) else "服务器拒收"
        raise _UnitFailure(f"{what}（{code} {_text(text)}）", permanent=code >= 500) from None

    def _reset(self) -> None:
        try:
            self.conn.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self.conn is not None:
            _quit(self.conn)
            self.conn = None


def _quit(conn) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()


def _text(b) -> str:
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b)


def _os_reason(e: BaseException) -> str:
    if isinstance(e, ConnectionRefusedError):
        return "连接被拒绝，服务器未运行或端口不对"
    if isinstance(e, (socket.timeout, TimeoutError)):
        return "连接超时"
    if isinstance(e, socket.gaierror):
        return "找不到该服务器地址"
    if isinstance(e, smtplib.SMTPResponseException):
        return f"{e.smtp_code} {_text(e.smtp_error)}"
    return str(e) or type(e).__name__


def _safe_name(s: str) -> str:
    from minshi_xls.collect import safe_name
    return safe_name(s)


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
                 datetime.now().isoformat(timespec="seconds")))


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


# --- reminders --------------------------------------------------------------------------------

@dataclass
class UnitState:
    """Where a unit stands for a period, from the ledger: the return that counts and its issues."""

    unit: str
    status: Optional[str] = None  # accepted | rejected | None (nothing identified yet)
    received_at: Optional[str] = None
    file_sha256: Optional[str] = None
    file_name: Optional[str] = None  # as received (the last part of its source path)
    errors: List[dict] = field(default_factory=list)
    warnings: List[dict] = field(default_factory=list)

    @property
    def needs_reminder(self) -> bool:
        return self.status != "accepted" or bool(self.errors)


def unit_states(con, period: str, units: Iterable[str]) -> Dict[str, UnitState]:
    """Each unit's current return (newest accepted, else newest rejected) and its issues_v rows."""
    from minshi_xls.reconcile import current_returns
    states = {u: UnitState(u) for u in units}
    for unit, r in current_returns(con, period).items():
        st = states.get(unit)
        if st is None:
            continue
        st.status, st.received_at, st.file_sha256 = r["status"], r["received_at"], r["sha256"]
        st.file_name = re.split(r"[\\/!]", r["source_path"] or "")[-1]
    for st in states.values():
        if not st.file_sha256:
            continue
        found = con.execute(
            "SELECT DISTINCT severity, sheet, cell, indicator_id, value, message, code"
            " FROM issues_v WHERE period = ? AND unit = ? AND file_sha256 = ?"
            " AND severity IN ('error', 'warning')",
            (period, st.unit, st.file_sha256)).fetchall()
        for i in sorted(found, key=lambda i: (i["sheet"] or "", _cell_order(i["cell"]))):
            (st.errors if i["severity"] == issues.ERROR else st.warnings).append(dict(i))
    return states


def _cell_order(cell: Optional[str]) -> Tuple[int, str]:
    m = re.match(r"([A-Z]+)(\d+)$", cell or "")
    return (int(m.group(2)), m.group(1)) if m else (0, cell or "")


def _where(i: dict) -> str:
    parts = []
    if i.get("sheet"):
        parts.append(f"工作表“{i['sheet']}”")
    if i.get("cell"):
        parts.append(f"单元格 {i['cell']}")
    where = " ".join(parts) or "整个文件"
    return f"{where}（指标 {i['indicator_id']}）" if i.get("indicator_id") else where


def remind_body(unit: Unit, period: str, state: UnitState, config: Optional[dict] = None,
                annotated: bool = False, due_date: Optional[date] = None,
                today: Optional[date] = None) -> str:
    """The reminder text: what is missing, or exactly which cells to fix."""
    label, today = period_label(period), today or date.today()
    due_date = due_date or deadline(period, config)
    due = chinese_date(due_date)
    office = _section(config, "office")
    lines = [f"{unit.name or unit.short}：", ""]
    if state.status is None:
        when = f"请于{due}前" if today <= due_date else f"报送截止日期（{due}）已过，请尽快"
        lines.append(f"    截至{chinese_date(today)}，尚未收到你单位{label}民生实事推进情况填报表。"
                     f"{when}填写附件中的填报表，并直接回复本邮件报送。")
    else:
        got = (state.received_at or "")[:16].replace("T", " ")
        lines.append(f"    你单位{got and got + ' '}报送的{label}填报表有以下 {len(state.errors)} 处错误，"
                     "请在附件表格中逐项修改后，将整个表格重新回复本邮件报送"
                     + ("（附件是你单位报送的表格，已标出问题单元格）：" if annotated else "："))
        lines.append("")
        for n, i in enumerate(state.errors, 1):
            lines.append(f"    {n}. {_where(i)}：{i['message']}")
    if state.warnings:
        lines += ["", "    另有以下内容请核实（如无误可不修改，请在备注中说明）："]
        for n, i in enumerate(state.warnings, 1):
            lines.append(f"    {n}. {_where(i)}：{i['message']}")
    contact = _contact_line(config)
    if contact:
        lines += ["", f"    如有疑问请联系：{contact}。"]
    lines += ["", f"{office.get('name') or ''}", chinese_date(today)]
    return "\n".join(lines) + "\n"


def reminder_attachment(db_path, period: str, unit: str, templates_dir,
                        state: Optional[UnitState] = None) -> Tuple[Optional[Path], bool]:
    """(file, annotated): the annotated copy of the unit's current return when collect made
    one, so the unit fixes the cells marked in its own file; else the template."""
    if state is not None and state.file_name:
        from minshi_xls.collect import annotated_dir, annotated_path
        p = annotated_path(annotated_dir(db_path, period), unit, state.file_name)
        if p.is_file():
            return p, True
    return template_path(templates_dir, period, unit), False


def remind(master, period: str, db_path, config=None, templates_dir=None,
           outbox=None, dry_run: bool = False, progress: Optional[Progress] = None) -> SendResult:
    """Write to each unit with no accepted return or with errors, listing what to fix."""
    master, config = _master(master), _config(config)
    settings.period_parts(period)
    templates_dir = templates_dir or settings.DEFAULT_TEMPLATES
    units = _expected_units(master, config)
    con = ledger.connect(db_path)
    try:
        states = unit_states(con, period, [u.short for u in units])
        # the latest workbook mail per unit: the reminder joins its thread
        thread = {r["unit"]: r["message_id"] for r in con.execute(
            "SELECT unit, message_id FROM sends WHERE kind = 'send' AND period = ?"
            " AND status = 'sent' ORDER BY id", (period,))}
    finally:
        con.close()
    jobs: List[Tuple[Delivery, Optional[_Job]]] = []
    for u in units:
        st = states[u.short]
        if not st.needs_reminder:
            continue
        addrs = u.addresses
        d = Delivery(u.short, ", ".join(addrs))
        path, annotated = reminder_attachment(db_path, period, u.short, templates_dir, st)
        if not addrs:
            d.status = "no-email"
            jobs.append((d, None))
            continue
        msg = build_message(u, period, path, config, kind="remind",
                            body=remind_body(u, period, st, config, annotated,
                                             workbook_deadline(template_path(
                                                 templates_dir, period, u.short), period, config)),
                            attachment_name=columns.file_name(period, u.short) if path else None,
                            reply_to=thread.get(u.short))
        jobs.append((d, _Job(u, msg, path.name if path else "")))
    return _deliver(jobs, "remind", period, db_path, config, outbox, dry_run, progress)


# --- fetching ---------------------------------------------------------------------------------

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


def period_pattern(period: str) -> re.Pattern:
    """Matches the period as people write it: 2024-06, 2024年6月, 2024年06月, 202406, 2024.6."""
    y, m = settings.period_parts(period)
    return re.compile(rf"(?<!\d){y}\s*(?:[-年./_]\s*)?0?{m}(?!\d)")


def decode_name(raw: Optional[str]) -> str:
    """An attachment name as the sender meant it: RFC 2231 is decoded by the email package,
    RFC 2047 encoded-words (what Outlook and Foxmail write) here; never a path."""
    if not raw:
        return ""
    name = str(raw)
    if "=?" in name:
        try:
            name = str(make_header(decode_header(name)))
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
    return _safe_name(name.replace("\r", "").replace("\n", ""))


_RAW_NAME = re.compile(r'(?:file)?name\s*=\s*"?([^";\r\n]+)', re.I)


def _raw_8bit_name(part: Message) -> Optional[str]:
    """A file name written as raw 8-bit bytes in the header (older Chinese clients write GBK
    there, which the email package turns into U+FFFD): decoded as UTF-8, else GB18030."""
    for key, value in part.raw_items():
        if key.lower() not in ("content-disposition", "content-type"):
            continue
        m = _RAW_NAME.search(str(value))
        if not m:
            continue
        data = m.group(1).encode("ascii", "surrogateescape")
        for codec in ("utf-8", "gb18030"):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                continue
    return None


def _attachments(msg: Message) -> Iterator[Tuple[str, bytes]]:
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = part.get_filename()
        if name and "\ufffd" in name:
            name = _raw_8bit_name(part) or name
        if not name and part.get_content_disposition() != "attachment":
            continue
        data = part.get_payload(decode=True)
        if data is None:
            continue
        yield decode_name(name) or "附件", data


def is_spreadsheet(name: str) -> bool:
    from minshi_xls.collect import SPREADSHEET_EXT
    return Path(name).suffix.lower() in SPREADSHEET_EXT


def _header_text(v) -> str:
    return str(v or "").strip()


def _iso_date(value) -> Optional[str]:
    try:
        dt = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return dt.isoformat() if dt else None


def _internal_date(fetch_answer: bytes) -> Optional[str]:
    """The server's arrival time (INTERNALDATE), for a message without a usable Date header."""
    tt = imaplib.Internaldate2tuple(fetch_answer)
    return datetime.fromtimestamp(time.mktime(tt)).astimezone().isoformat() if tt else None


class _Imap:
    def __init__(self, config: Optional[dict]):
        self.sec = _section(config, "imap")
        if not self.sec.get("host"):
            raise MinshiError("未配置收件服务器：请在 minshi.toml 的 [imap] 中填写 host、user 等。")
        self.mode = _security(self.sec, "IMAP")
        if not self.sec.get("user"):
            raise MinshiError("未配置收件邮箱账号：请在 minshi.toml 的 [imap] 中填写 user。")
        self.password = _password(self.sec, "IMAP")
        self.conn: Optional[imaplib.IMAP4] = None

    def open(self) -> imaplib.IMAP4:
        host, port = self.sec["host"], int(self.sec["port"])
        conn = _connect(self.sec, self.mode, "imap",
                        lambda ctx: imaplib.IMAP4_SSL(host, port, ssl_context=ctx,
                                                      timeout=TIMEOUT_S),
                        lambda: imaplib.IMAP4(host, port, timeout=TIMEOUT_S),
                        lambda c, ctx: c.starttls(ssl_context=ctx), imaplib.IMAP4.error)
        try:
            conn.login(self.sec["user"], self.password)
        except imaplib.IMAP4.error:
            _logout(conn)
            raise MinshiError(f"收件服务器拒绝登录：用户 {self.sec['user']} 的密码不对"
                              f"（环境变量 {self.sec['password_env']}）或未开通 IMAP。") from None
        folder = self.sec.get("folder") or "INBOX"
        # EXAMINE: nothing is changed
        typ, _ = conn.select(_quote(imap_utf7(folder)), readonly=True)
        if typ != "OK":
            _logout(conn)
            raise MinshiError(f"收件邮箱中没有文件夹“{folder}”。请检查 [imap] 的 folder。")
        self.conn = conn
        return conn

    def uid(self, *args) -> List:
        typ, data = self.conn.uid(*args)
        if typ != "OK":
            raise MinshiError(f"收件服务器返回错误：{_text(data[0]) if data else typ}")
        return data

    def close(self) -> None:
        if self.conn is not None:
            _logout(self.conn)
            self.conn = None


def imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3): "民生实事" is "&bBF1H1ueTos-"."""
    import base64
    out, run = [], []

    def flush():
        if run:
            b64 = base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + b64.replace("/", ",") + "-")
            run.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _logout(conn) -> None:
    try:
        conn.logout()
    except (imaplib.IMAP4.error, OSError):
        pass


def _fetch_parts(data: List) -> Dict[str, bytes]:
    """One UID FETCH answer: ``literal`` is the first literal payload (the header or the body),
    ``all`` every byte of the answer (for BODYSTRUCTURE, whose strings may come as literals)."""
    out: Dict[str, bytes] = {"all": b""}
    for item in data:
        if isinstance(item, tuple):
            out.setdefault("literal", item[1])
            out["all"] += b"".join(item)
        elif isinstance(item, bytes):
            out["all"] += item
    return out


_STRUCT_STRING = re.compile(rb'"((?:[^"\\]|\\.)*)"')


def structure_names(raw: bytes) -> str:
    """All strings of a BODYSTRUCTURE answer, decoded (RFC 2047 and RFC 2231 percent-encoding),
    joined: enough to tell whether a message carries a file named for the period without
    downloading it."""
    out = []
    for m in _STRUCT_STRING.finditer(raw):
        s = m.group(1).decode("utf-8", "replace")
        if "=?" in s:
            s = decode_name(s)
        elif "%" in s:
            s = urllib.parse.unquote(s.split("'", 2)[-1], errors="replace")
        out.append(s)
    return "".join(out)


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
                              ("file-too-large", f"附件 {len(data) // 1024} KB"))
        return
    yield from collect.expand_bytes(Incoming(name, data, source, sender, message_id, mail_date,
                                             mail_date), limits=limits)


HEADER_BATCH = 200  # messages per header FETCH: one round trip each, not one per message
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def imap_date(d: date) -> str:
    """``01-Jun-2024`` whatever the locale (strftime's %b is not always English)."""
    return f"{d.day:02d}-{_MONTHS[d.month - 1]}-{d.year}"


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
