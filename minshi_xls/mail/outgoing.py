"""Outgoing messages: the workbook mail and the reminder, in a form every client reads."""
from __future__ import annotations

from datetime import date
from email import encoders, policy
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Optional, Tuple

from minshi_xls import MinshiError, clock, settings
from minshi_xls.mail.common import _section, deadline, period_label
from minshi_xls.model import Unit
from minshi_xls.templates import chinese_date

SPREADSHEET_TYPES = {
    ".xlsx": "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsm": "vnd.ms-excel.sheet.macroEnabled.12",
    ".xls": "vnd.ms-excel",
    ".et": "vnd.ms-excel",  # WPS 表格
    ".ods": "vnd.oasis.opendocument.spreadsheet",
    ".zip": "zip",
}


def _sender(config: Optional[dict]) -> Tuple[str, str]:
    """(display name, address) of the office."""
    smtp, office = _section(config, "smtp"), _section(config, "office")
    addr = smtp.get("sender") or office.get("email") or smtp.get("user") or "minshi@localhost"
    return office.get("name") or "", addr


def office_today(config: Optional[dict]) -> date:
    """Today in the office's zone (a run at 01:00 Beijing time on a UTC server is already the
    next day for the clerk)."""
    return clock.local(clock.now(), clock.zone(config)).date()


def reply_address(config: Optional[dict]) -> str:
    """The mailbox ``fetch`` reads (``[imap] user``): where the units' replies must arrive."""
    user = (_section(config, "imap").get("user") or "").strip()
    return user if "@" in user else ""


def sender_warning(config: Optional[dict]) -> str:
    """A warning when ``[smtp] sender`` is not the mailbox ``fetch`` reads: Reply-To points the
    replies there, but some clients and people answer the From address."""
    box, (_, sender) = reply_address(config), _sender(config)
    if not box or sender.lower() == box.lower():
        return ""
    return (f"注意：发件地址 {sender} 与收件邮箱 {box}（[imap] user）不同。邮件的回复地址（Reply-To）"
            f"已设为 {box}，但仍可能有单位回复到 {sender}，请留意该邮箱或把两者设为同一地址。")


def _contact_line(config: Optional[dict]) -> str:
    office = _section(config, "office")
    parts = [office.get("name"), office.get("contact"), office.get("phone"), office.get("email")]
    return "，".join(p for p in parts if p)


#: Messages are built with the legacy (compat32) API: the modern policy re-folds a long
#: Content-Type inside its media type ("…sp readsheetml…") once a Chinese name is added.
#: Plain headers stay unfolded up to RFC 5322's 998 characters; Chinese ones are encoded words.
POLICY = policy.compat32.clone(linesep="\r\n", max_line_length=998)


def encoded_words(text: str, fold: str = "") -> str:
    """RFC 2047 form of ``text``: ``=?utf-8?b?…?=`` words of at most 75 characters, each
    ending on a whole character (readers that decode word by word still show it), joined by
    ``fold`` (a CRLF and a space folds them over lines; a space keeps one line)."""
    if text.isascii():
        return text
    words = Header(text, "utf-8", maxlinelen=75).encode(maxlinelen=75).split()
    return (fold or " ").join(words)


FOLD = "\r\n "


def attachment_part(name: str, data: bytes) -> MIMEBase:
    """An attachment with a Chinese file name every client shows right.

    The Content-Disposition carries a plain ``filename="=?utf-8?b?…?="`` (RFC 2047: Outlook
    2007-2013, Foxmail, QQ and 163 web mail, phone apps) and ``filename*=utf-8''…`` (RFC 2231:
    Thunderbird, Apple Mail, Gmail, current Outlook); the Content-Type also carries the
    ``name`` older Outlook reads. Encoded words are at most 75 characters, folded.
    """
    from urllib.parse import quote
    subtype = SPREADSHEET_TYPES.get(Path(name).suffix.lower(), "octet-stream")
    part = MIMEBase("application", subtype, policy=POLICY)
    del part["Content-Type"]
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    words = encoded_words(quoted, FOLD)
    part["Content-Type"] = f'application/{subtype};{FOLD}name="{words}"'
    part.set_payload(data)
    encoders.encode_base64(part)
    if name.isascii():
        part["Content-Disposition"] = f'attachment;{FOLD}filename="{quoted}"'
    else:
        part["Content-Disposition"] = (f'attachment;{FOLD}filename="{words}";{FOLD}'
                                       f"filename*=utf-8''{quote(name.encode('utf-8'), safe='')}")
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
    box = reply_address(config)
    if box:
        msg["Reply-To"] = box
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
        f"    现将{label}民生实事推进情况填报表发给你单位，请于{due}（含）前填写附件表格，"
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
    lines += ["", f"{office.get('name') or ''}", chinese_date(office_today(config))]
    return "\n".join(lines) + "\n"
