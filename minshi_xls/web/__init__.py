"""``minshi serve``: the month in a browser, for clerks who do not use a terminal.

Server-rendered Chinese pages (Flask, Jinja2) over the same library and ledger as the CLI:
every button calls the function its command calls (:mod:`minshi_xls.web.actions`), every table
shows what ``status`` and the ledger say. Served by waitress (also on Windows), on 127.0.0.1
with a random access token unless ``--host`` opens it to the office network with a password.
"""
from __future__ import annotations

import secrets
import threading
import webbrowser
from typing import Callable, Optional

from minshi_xls import MinshiError, clock, settings
from minshi_xls.web.actions import Project
from minshi_xls.web.security import is_loopback

DEFAULT_PORT = 8765


def default_period(config: Optional[dict] = None) -> str:
    """Last month in the office's zone: in July the clerk collects June."""
    today = clock.local(clock.now(), clock.zone(config))
    y, m = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{y}-{m:02d}"


def make_server(app, host: str = "127.0.0.1", port: int = DEFAULT_PORT):
    """A waitress server for ``app`` (port 0: any free port, see ``server.effective_port``)."""
    import waitress
    try:
        return waitress.create_server(app, host=host, port=port, threads=4, ident="minshi")
    except OSError as e:
        raise MinshiError(f"无法在 {host}:{port} 上启动控制台（{e.strerror or e}），"
                          "请换一个端口（--port）。") from e


def serve(project: Project, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
          period: Optional[str] = None, open_browser: bool = True,
          echo: Callable[[str], None] = print) -> None:
    """Start the console and open it in the browser; runs until interrupted."""
    from minshi_xls.web.app import create_app
    config = project.config()
    password_hash = (config.get("console") or {}).get("password_hash") or ""
    if not is_loopback(host) and not password_hash:
        raise MinshiError(f"在办公网络上提供控制台（--host {host}）需要先设置密码：运行 "
                          "minshi serve --hash-password，把显示的 password_hash 写入 "
                          "minshi.toml 的 [console] 中。")
    if period:
        settings.period_parts(period)
    token = secrets.token_urlsafe(24)
    app = create_app(project, token=token, period=period)
    server = make_server(app, host, port)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{server.effective_port}/?token={token}"
    echo(f"控制台已启动：{url}")
    echo("（用这个链接打开；按 Ctrl+C 停止）")
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
