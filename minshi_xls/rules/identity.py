"""Whose return is this, for which month, and did it come from where it should?

``_meta`` (very hidden, written by ``templates``) wins. Without it (values pasted into a new
workbook) the 填报单位 cell and the file name identify the return, with a meta-missing warning;
with neither, the return is unidentified (an error: nothing of it can be attributed). When
``_meta``, the 填报单位 cell, the file name and the sender's registered unit do not all name the
same unit, it is identity-conflict (an error naming each source: the file is counted for nobody
and never supersedes a return). A folder naming another unit is only wrong-unit (a warning).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import PurePosixPath
from typing import Iterator, List, Optional, Tuple

from minshi_xls import clock
from minshi_xls.model import Master
from minshi_xls.rules import _memo, registry_get

_NAME = re.compile(r"(\d{4})-(\d{2})_([^_/\\]+)_")
_TITLE_PERIOD = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月")


@dataclass
class Identity:
    unit: Optional[str] = None
    period: Optional[str] = None
    format_version: Optional[str] = None
    deadline: Optional[str] = None
    meta_found: bool = False
    #: (code, message fields) found while identifying: meta-missing, unidentified-return, ...
    findings: List[Tuple[str, dict]] = field(default_factory=list)


def resolve_unit(name: Optional[str], master: Optional[Master]) -> Optional[str]:
    """Short name for a unit name as written; None when a master is given and does not know it."""
    if not name:
        return None
    name = str(name).strip()
    if master is None:
        return name
    u = registry_get(master, name)
    return u.short if u else None


def units_in_text(text: str, master: Optional[Master]) -> List[str]:
    """Known units named in a file or folder name (longest names first, no overlaps)."""
    if not master or not text:
        return []
    memo = _memo(master)
    if "names" not in memo:
        memo["names"] = sorted({k for u in master.registry.units
                                for k in [u.short, u.name, *u.aliases] if k},
                               key=len, reverse=True)
    keys = memo["names"]
    found, rest = [], text
    for k in keys:
        if k in rest:
            short = registry_get(master, k).short
            if short not in found:
                found.append(short)
            rest = rest.replace(k, "\x00")
    return found


def name_parts(name: str) -> Tuple[Optional[str], Optional[str]]:
    """(period, unit) from a file name like ``2024-06_市卫健委_民生实事填报表.xlsx``."""
    m = _NAME.search(PurePosixPath(name.replace("\\", "/")).name)
    if not m:
        return None, None
    return f"{m.group(1)}-{m.group(2)}", m.group(3)


def _title_period(wb: dict) -> Optional[str]:
    title = (wb.get("labels") or {}).get("title")
    if not title:
        return None
    found = _TITLE_PERIOD.findall(str(title[0]))
    if not found:
        return None
    y, m = found[-1]
    return f"{int(y)}-{int(m):02d}"


def identify(wb: dict, name: str, master: Optional[Master]) -> Identity:
    meta = wb.get("meta") or {}
    ident = Identity()
    label = (wb.get("labels") or {}).get("unit")
    label_unit = resolve_unit(label[0], master) if label else None
    name_period, name_unit = name_parts(name)
    name_unit = resolve_unit(name_unit, master) if name_unit else None
    if not name_unit:
        in_name = units_in_text(PurePosixPath(name.replace("\\", "/")).name, master)
        name_unit = in_name[0] if len(in_name) == 1 else None
    if meta.get("unit") and meta.get("period"):
        ident.meta_found = True
        ident.unit = resolve_unit(meta["unit"], master)
        ident.period = meta["period"]
        ident.format_version = meta.get("format_version") or None
        ident.deadline = meta.get("deadline") or None
        if ident.unit is None:
            ident.findings.append(("unidentified-return",
                                   {"detail": f"报表标识的单位“{meta['unit']}”不在单位名册中"}))
        return ident
    if not wb.get("tables"):
        ident.findings.append(("unidentified-return", {"detail": "找不到填报表格（表头“指标编号”等）"}))
        return ident
    ident.unit = label_unit or name_unit
    ident.period = name_period or _title_period(wb)
    if not ident.unit or not ident.period:
        missing = "填报单位" if not ident.unit else "填报月份"
        shown = label[0] if label and not label_unit else ""
        detail = f"报表标识页已丢失，且无法确定{missing}" + (f"（“{shown}”不在名册中）" if shown else "")
        ident.findings.append(("unidentified-return", {"detail": detail}))
        return ident
    how = "“填报单位”单元格" if label_unit else "文件名"
    ident.findings.append(("meta-missing", {"detail": how}))
    return ident


def wrong_unit(ident: Identity, wb: dict, name: str, source_path: str, sender: Optional[str],
               master: Optional[Master]) -> Iterator[Tuple[str, dict]]:
    """(code, fields) for identity-conflict, wrong-unit (folder) and unexpected-sender."""
    if not ident.unit or master is None:
        return  # without the registry a full name and a short name cannot be compared
    sources: List[Tuple[str, str]] = [("报表标识页" if ident.meta_found else "识别结果",
                                       ident.unit)]
    where: dict = {}
    label = (wb.get("labels") or {}).get("unit")
    if label:
        found = resolve_unit(label[0], master)
        if found:
            sources.append(("“填报单位”单元格", found))
            if found != ident.unit:
                where = {"sheet": label[1], "cell": label[2]}
    base = PurePosixPath(name.replace("\\", "/")).name
    _, name_unit = name_parts(base)
    named = [resolve_unit(name_unit, master)] if name_unit else units_in_text(base, master)
    named = [u for u in named if u]
    if len(named) == 1 or (named and ident.unit not in named):
        sources.append(("文件名", named[0] if ident.unit not in named else ident.unit))
    if sender:
        addr = _address(sender)
        owners = [u.short for u in master.registry.units if addr in u.addresses]
        if owners:
            sources.append(("发件邮箱", ident.unit if ident.unit in owners else owners[0]))
        else:
            me = registry_get(master, ident.unit)
            if me and me.addresses:
                yield "unexpected-sender", {"found": addr}
    if len({u for _, u in sources}) > 1:
        detail = "；".join(f"{how}为“{u}”" for how, u in sources)
        yield "identity-conflict", {"detail": detail, **where}
    folders = [p for p in PurePosixPath(str(source_path).replace("\\", "/")).parts[:-1]]
    for part in reversed(folders[-2:]):
        u = resolve_unit(part, master)
        if u and u != ident.unit:
            yield "wrong-unit", {"detail": "所在文件夹", "found": part}
            break


def _address(sender: str) -> str:
    m = re.search(r"<([^>]+)>", sender)
    return (m.group(1) if m else sender).strip().lower()


def parse_time(text: Optional[str], tz=None) -> Optional[datetime]:
    """An ISO time as naive local time of the office (deadlines are local dates)."""
    return clock.local(text, tz)


def late(ident: Identity, received_at: Optional[str], tz=None) -> Optional[dict]:
    """Fields of a late-return finding, or None (a deadline date runs to the end of that day).
    Only a real receipt time (mail, --received) can make a return late."""
    if not ident.deadline or not received_at:
        return None
    deadline = parse_time(ident.deadline, tz)
    got = parse_time(received_at, tz)
    if deadline is None or got is None:
        return None
    if len(ident.deadline) <= 10:
        deadline = deadline + timedelta(days=1) - timedelta(microseconds=1)
    if got > deadline:
        return {"found": clock.show(received_at, tz), "detail": ident.deadline}
    return None
