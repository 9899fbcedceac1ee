"""The SMTP and IMAP sessions: connecting in the configured security mode, logging in, and
turning every server or network failure into a Chinese message."""
from __future__ import annotations

import smtplib
from email.message import Message
from typing import Optional

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, ProtocolError

from minshi_xls import MinshiError
from minshi_xls.mail.common import (TIMEOUT_S, _connect, _os_reason, _password, _section,
                                    _security, _text)

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

class Unparsable(Exception):
    """The server's answer about one message could not be parsed."""


class Imap:
    """One read-only IMAP session (IMAPClient parses the answers: literals, BODYSTRUCTURE,
    INTERNALDATE, modified UTF-7 folder names). Every server or network failure is a
    MinshiError (exit 2); what a message holds is never a reason to stop."""

    def __init__(self, config: Optional[dict]):
        self.sec = _section(config, "imap")
        if not self.sec.get("host"):
            raise MinshiError("未配置收件服务器：请在 minshi.toml 的 [imap] 中填写 host、user 等。")
        self.mode = _security(self.sec, "IMAP")
        if not self.sec.get("user"):
            raise MinshiError("未配置收件邮箱账号：请在 minshi.toml 的 [imap] 中填写 user。")
        self.password = _password(self.sec, "IMAP")
        self.conn: Optional[IMAPClient] = None

    @property
    def folder(self) -> str:
        return self.sec.get("folder") or "INBOX"

    def open(self) -> IMAPClient:
        host, port = self.sec["host"], int(self.sec["port"])
        conn = _connect(self.sec, self.mode, "imap",
                        lambda ctx: IMAPClient(host, port, ssl=True, ssl_context=ctx,
                                               timeout=TIMEOUT_S),
                        lambda: IMAPClient(host, port, ssl=False, timeout=TIMEOUT_S),
                        lambda c, ctx: c.starttls(ssl_context=ctx), IMAPClientError)
        conn.normalise_times = False  # INTERNALDATE with its zone, not the machine's
        try:
            conn.login(self.sec["user"], self.password)
        except IMAPClientError:
            _logout(conn)
            raise MinshiError(f"收件服务器拒绝登录：用户 {self.sec['user']} 的密码不对"
                              f"（环境变量 {self.sec['password_env']}）或未开通 IMAP。") from None
        except OSError as e:
            raise MinshiError(f"收件服务器连接中断（{_os_reason(e)}）。请稍后重试。") from None
        try:
            conn.select_folder(self.folder, readonly=True)  # EXAMINE: nothing is changed
        except IMAPClientError:
            _logout(conn)
            raise MinshiError(f"收件邮箱中没有文件夹“{self.folder}”。请检查 [imap] 的 folder。") \
                from None
        self.conn = conn
        return conn

    def fetch(self, uids, items) -> dict:
        """FETCH parsed by IMAPClient; an answer it cannot parse is :class:`Unparsable` (that
        message is noted and the run goes on: imaplib has read the whole answer, the session
        stays in step), a server error or a dropped connection stops the run."""
        try:
            return self.conn.fetch(uids, items)
        except ProtocolError as e:
            raise Unparsable(str(e)[:200]) from None
        except (IMAPClientError, OSError) as e:
            raise MinshiError(f"收件服务器返回错误或连接中断（{_os_reason(e)}）。"
                              "已收取的邮件已记录，请稍后重新运行 minshi fetch。") from None

    def call(self, name: str, *args, **kw):
        """A command of the session; a server error or a dropped connection stops the run."""
        try:
            return getattr(self.conn, name)(*args, **kw)
        except (IMAPClientError, OSError) as e:
            raise MinshiError(f"收件服务器返回错误或连接中断（{_os_reason(e)}）。"
                              "已收取的邮件已记录，请稍后重新运行 minshi fetch。") from None

    def close(self) -> None:
        if self.conn is not None:
            _logout(self.conn)
            self.conn = None


def imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3): "民生实事" is "&bBF1H1ueTos-"."""
    from imapclient.imap_utf7 import encode
    return encode(name).decode("ascii")


def _logout(conn) -> None:
    try:
        conn.logout()
    except (IMAPClientError, OSError):
        try:
            conn.shutdown()
        except OSError:
            pass
