"""Reading incoming messages: headers, dates and attachment names as real mail clients write
them (the client quirks live here)."""
from __future__ import annotations

import imaplib
import re
import time
import urllib.parse
from datetime import datetime
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Iterator, Optional, Tuple

from minshi_xls import settings
from minshi_xls.mail.common import _safe_name

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
