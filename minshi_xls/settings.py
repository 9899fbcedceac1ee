"""Defaults and limits in one place, and the optional ``minshi.toml`` that overrides them.

Passwords never live here or in the file: mail code reads them from environment variables.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Dict, Optional

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib

from minshi_xls import MinshiError

FORMAT_VERSION = "3"  # of the fill-in workbook contract (_meta, columns); 2: _meta column maps;
#: 3: 配合任务 shows 年度目标 and 上月累计, header texts may hold a line break
DEFAULT_MASTER = "output/master.xlsx"
DEFAULT_DB = "output/minshi.sqlite"
DEFAULT_TEMPLATES = "templates"
DEFAULT_OUTPUT = "output"
CONFIG_FILE = "minshi.toml"

STATUSES = ("已完成", "超序时", "序时推进", "滞后", "未启动")
NOT_REPORTED = "未报送"
#: One colour per status, used by every view (cells of the workbooks and bars of the chart), so
#: a leader reads the same colour the same way everywhere; dark text stays readable on each.
STATUS_COLORS = {"已完成": "A9D08E", "超序时": "9BC2E6", "序时推进": "E2EFDA", "滞后": "FF9F9F",
                 "未启动": "FFD966", NOT_REPORTED: "BFBFBF"}

#: Fonts of government tables, with fallbacks where the first is missing (LibreOffice/Linux).
FONT = "宋体"
TITLE_FONT = "黑体"

DEFAULTS: Dict[str, Any] = {
    "office": {"name": "市民生实事办公室", "contact": "", "phone": "", "email": "",
               "timezone": "Asia/Shanghai"},  # every time a clerk reads is shown in this zone
    "templates": {"include_co_bureaus": False, "password": "", "deadline_day": 5},
    "rules": {
        "exceeds_target_multiple": 10.0,  # exceeds-target: over this multiple of the target
        "status_tolerance_points": 5.0,  # 超序时/滞后 beyond this many percentage points
        "county_sum_tolerance": 0.0,  # county-sum-mismatch beyond this absolute difference
        "text_max_length": 500,
    },
    "limits": {
        "max_file_bytes": 20 * 1024 * 1024,
        "max_uncompressed_bytes": 200 * 1024 * 1024,
        "max_compression_ratio": 100.0,
        "max_rows": 5000,  # a return has a few hundred rows at most
        "max_cols": 200,
        "worker_timeout_s": 30.0,
        "worker_memory_mb": 1024,
    },
    "smtp": {"host": "", "port": 465, "security": "ssl", "user": "", "sender": "",
             "password_env": "MINSHI_SMTP_PASSWORD",
             "cafile": ""},  # a private CA's certificate (an office server's self-signed one)
    "imap": {"host": "", "port": 993, "security": "ssl", "user": "", "folder": "INBOX",
             "password_env": "MINSHI_IMAP_PASSWORD", "cafile": ""},
    "mail": {"subject": "【民生实事月报】{year}年{month}月 {unit} 填报表", "retries": 2,
             "remind_subject": "【民生实事月报】{year}年{month}月 {unit} 填报提醒",
             "retry_delay_s": 2.0},  # × the attempt number, before retrying a transient failure
    # minshi serve: the office-network password is stored as a hash (minshi serve
    # --hash-password), never as text; one upload (all files dropped at once) is capped.
    "console": {"password_hash": "", "max_upload_bytes": 50 * 1024 * 1024},
}


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def load_config(path: Optional[os.PathLike] = None) -> Dict[str, Any]:
    """Defaults overridden by ``minshi.toml`` (or ``path``) when present."""
    p = Path(path) if path else Path(CONFIG_FILE)
    if not p.exists():
        if path:
            raise MinshiError(f"找不到配置文件：{p}")
        return copy.deepcopy(DEFAULTS)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise MinshiError(f"配置文件 {p} 格式有误：{e}") from e
    for section in ("smtp", "imap"):
        if "password" in data.get(section, {}):
            raise MinshiError(f"配置文件 {p} 的 [{section}] 中不能写密码，请改用环境变量 "
                              f"{DEFAULTS[section]['password_env']}。")
    return _merge(DEFAULTS, data)


def include_co_bureaus(config: Optional[dict] = None) -> bool:
    """``[templates] include_co_bureaus``: sharing bureaus report too (text only)."""
    return bool(((config or DEFAULTS).get("templates") or {}).get("include_co_bureaus", False))


def period_parts(period: str) -> tuple:
    """"2024-06" -> (2024, 6); a clear error for anything else."""
    try:
        y, m = period.split("-")
        y, m = int(y), int(m)
        if not (2000 <= y <= 2100 and 1 <= m <= 12) or len(period) != 7:
            raise ValueError
        return y, m
    except ValueError:
        raise MinshiError(f"月份“{period}”格式不对，应写成 YYYY-MM，例如 2024-06。") from None


def text_max_length(config: Optional[dict]) -> int:
    """The one length limit of a unit's texts: the template's validation and collect's
    text-too-long both use it."""
    rules = (config or {}).get("rules", {})
    return int(rules.get("text_max_length", DEFAULTS["rules"]["text_max_length"]))


def is_period(text: str) -> bool:
    """Whether a folder name or a workbook's own period reads as YYYY-MM (no error raised)."""
    try:
        period_parts(text)
        return True
    except MinshiError:
        return False


def previous_period(period: str) -> Optional[str]:
    y, m = period_parts(period)
    return None if m == 1 else f"{y}-{m - 1:02d}"
