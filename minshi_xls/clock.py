"""The one clock every view uses: times are stored as ISO 8601 with an offset and shown to the
clerk in the office's zone (``[office] timezone``, default Asia/Shanghai), whatever zone the
machine, the mail server or the sender's client runs in."""
from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Optional, Union

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"
#: What a clerk reads: minutes are enough, seconds only clutter a table.
SHOWN = "%Y-%m-%d %H:%M"

When = Union[str, datetime, None]


def zone(config: Optional[dict] = None) -> tzinfo:
    """The office's zone; an unknown name falls back to UTC+8 rather than stopping a run."""
    name = ((config or {}).get("office") or {}).get("timezone") or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        from datetime import timedelta
        return timezone(timedelta(hours=8), "UTC+08:00")


def now() -> str:
    """Now, for the ledger: UTC with its offset, so sorting and comparing never guess a zone."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def parse(value: When, tz: Optional[tzinfo] = None) -> Optional[datetime]:
    """An aware datetime, or None for nothing or garbage. A naive time (typed by the clerk, as
    ``--received 2024-07-03T10:00``) is the office's local time."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        t = value
    else:
        try:
            t = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=tz or zone())
    return t


def local(value: When, tz: Optional[tzinfo] = None) -> Optional[datetime]:
    """The time as naive local time of the office (deadlines are local dates)."""
    tz = tz or zone()
    t = parse(value, tz)
    return t.astimezone(tz).replace(tzinfo=None) if t else None


def show(value: When, tz: Optional[tzinfo] = None, default: str = "") -> str:
    """``2024-07-03 10:00`` in the office's zone: the one format of every time a clerk reads."""
    t = local(value, tz)
    return t.strftime(SHOWN) if t else default


#: How a return's time is known: from the mail (Date header), given by the clerk (--received),
#: or only the file's own time (modified time, zip member time) when it was dropped in a folder.
MAIL, GIVEN, FILE = "mail", "given", "file"
FILE_TIME_MARK = "（文件时间）"


def show_received(value: When, source: Optional[str], tz: Optional[tzinfo] = None) -> str:
    """A return's time as a clerk reads it: ``2024-07-03 10:00``; a file's own time is marked
    ``2024-07-03 10:00（文件时间）`` because nobody knows when it really arrived."""
    shown = show(value, tz)
    return shown + FILE_TIME_MARK if shown and source == FILE else shown
