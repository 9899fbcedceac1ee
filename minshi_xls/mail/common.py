"""What the three mail commands share: config sections, passwords, TLS, the period's labels and
deadline, the units that report and their workbooks."""
from __future__ import annotations

import ipaddress
import os
import socket
import smtplib
import ssl
from datetime import date
from pathlib import Path
from typing import Callable, List, Optional

from minshi_xls import MinshiError, columns, settings
from minshi_xls.model import Master, Unit

#: progress(done, total, label): the CLI draws a bar from it.
Progress = Callable[[int, int, str], None]
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
    out = []
    for short in master.reporting_units(settings.include_co_bureaus(config)):
        out.append(master.registry.get(short) or Unit(short=short))
    return out


def template_path(templates_dir, period: str, unit: str) -> Optional[Path]:
    """The unit's fill-in workbook (``templates/<period>/`` or directly in ``templates/``)."""
    name = columns.file_name(period, unit)
    for p in (Path(templates_dir) / period / name, Path(templates_dir) / name):
        if p.is_file():
            return p
    return None

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
