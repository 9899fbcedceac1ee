"""Who may use the console, and that every form was sent by it.

The console opens with a random access token in its URL (as Jupyter does): the first request
that carries it gets a session cookie, later ones need the cookie. On the office network
(``--host``) a clerk without the link signs in with the password whose hash is set in
``[console] password_hash``. Every POST carries the session's CSRF token.
"""
from __future__ import annotations

import secrets
import time
from typing import Optional

from flask import abort, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

# One rule for "this host is this machine": plain SMTP/IMAP and the console's token-only mode.
from minshi_xls.mail.common import _is_loopback as is_loopback  # noqa: F401

CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
#: Pages anyone may load: the sign-in page and the stylesheet.
OPEN_ENDPOINTS = {"login", "static"}
WRONG_PASSWORD_DELAY_S = 1.0


def hash_password(password: str) -> str:
    """What goes into ``[console] password_hash`` (never the password itself)."""
    return generate_password_hash(password)


def csrf_token() -> str:
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


def _csrf_ok() -> bool:
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    want = session.get(CSRF_FIELD) or ""
    return bool(want) and secrets.compare_digest(sent.encode(), want.encode())


def check_request(token: str, password_hash: str):
    """The before-request guard; returns a response to stop the request, or None."""
    given = request.args.get("token")
    if given is not None:
        if not secrets.compare_digest(given.encode(), token.encode()):
            abort(403, "访问令牌不正确。请使用 minshi serve 启动时显示的链接打开控制台。")
        session.clear()
        session["auth"] = True
        session.permanent = False
        args = {k: v for k, v in request.args.items() if k != "token"}
        return redirect(url_for(request.endpoint, **(request.view_args or {}), **args))
    if request.endpoint not in OPEN_ENDPOINTS and not session.get("auth"):
        if password_hash:
            return redirect(url_for("login", next=request.path))
        abort(403, "需要访问令牌。请使用 minshi serve 启动时显示的链接打开控制台。")
    if request.method == "POST" and not _csrf_ok():
        abort(400, "表单已失效（缺少或不正确的安全令牌），请刷新页面后重试。")
    return None


def login_view(password_hash: str):
    """The sign-in page for the office network."""
    error = ""
    if request.method == "POST":
        if password_hash and check_password_hash(password_hash, request.form.get("password", "")):
            session["auth"] = True
            nxt = request.args.get("next") or ""
            # Only a path of this site: never an open redirect.
            return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//")
                            else url_for("home"))
        time.sleep(WRONG_PASSWORD_DELAY_S)  # guessing on the office network stays slow
        error = "密码不正确。" if password_hash else "未设置密码，请使用启动时显示的链接打开。"
    return render_template("login.html", error=error)


def safe_upload_name(name: Optional[str]) -> Optional[str]:
    """The upload's own file name, or None for anything that is a path (``../x``, ``a/b``,
    ``C:\\x``) or hidden: such a name is refused, never cleaned up into something else."""
    if not name or name in (".", "..") or name.startswith("."):
        return None
    if any(ch in name for ch in '/\\:\0') or any(ord(ch) < 32 for ch in name):
        return None
    return name
