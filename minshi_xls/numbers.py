"""Reading a number the way a clerk types it.

Accepted silently: 12, "12", "１２" (full-width), "1,200", "12.0", surrounding spaces. Coerced with
a warning: a trailing measure word equal to the row's own 计量单位 ("3家" in a 家 row), because
that reading is unambiguous. Everything else ("约5", "三", "5个" in a 家 row, "5-6") is not a
number: guessing would put a wrong figure into the city's report.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Optional

OK, COERCED, EMPTY, NAN = "ok", "coerced", "empty", "nan"

_PLAIN = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_LEADING = re.compile(r"([+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(.+)")


@dataclass(frozen=True)
class Parsed:
    kind: str  # ok | coerced | empty | nan
    number: Optional[float] = None


def raw_text(value: Any) -> Optional[str]:
    """The text stored in the ledger for a cell value (None for an empty cell)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, (_dt.date, _dt.time, _dt.timedelta)):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    return str(value)


def _normal(text: str) -> str:
    # NFKC folds full-width digits, comma, point and minus ("１，２００．５" -> "1,200.5").
    return unicodedata.normalize("NFKC", text).strip().replace("\u2212", "-")


def _plain_number(text: str) -> Optional[float]:
    if _PLAIN.fullmatch(text) or _GROUPED.fullmatch(text):
        v = float(text.replace(",", ""))
        return v if math.isfinite(v) else None
    return None


def parse(value: Any, unit: str = "") -> Parsed:
    """Parse a cell value; ``unit`` is the row's 计量单位 (the only word a number may carry)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Parsed(EMPTY)
    if isinstance(value, bool):
        return Parsed(NAN)
    if isinstance(value, (int, float)):
        v = float(value)
        return Parsed(OK, v) if math.isfinite(v) else Parsed(NAN)
    if not isinstance(value, str):  # dates, times: a date in a number cell is a typing slip
        return Parsed(NAN)
    text = _normal(value)
    v = _plain_number(text)
    if v is not None:
        return Parsed(OK, v)
    m = _LEADING.fullmatch(text)
    if m and unit and _normal(m.group(2)) == _normal(unit):
        v = _plain_number(m.group(1))
        if v is not None:
            return Parsed(COERCED, v)
    return Parsed(NAN)


def format_number(v: Optional[float]) -> str:
    """12.0 -> "12", 2.5 -> "2.5" (for messages)."""
    if v is None:
        return ""
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.6g}"
