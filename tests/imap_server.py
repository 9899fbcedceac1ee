"""Real mail servers on loopback for the mail tests (no mocks).

An aiosmtpd SMTP server (:class:`SmtpSink`) that keeps what it receives and can refuse a
recipient, defer or drop a message; and a dovecot IMAP server from a private config under a temp
folder: ``DovecotServer.start()`` writes a small dovecot.conf
(passwd-file passdb, static userdb, its own base_dir/state_dir/log, maildir under the folder),
runs ``dovecot -c FILE`` on a free 127.0.0.1 port and waits until it greets. ``tls=True`` also
serves implicit TLS (IMAPS) on a second port with a self-signed certificate made by openssl.
Dovecot's login processes refuse to run as root, so the login user is dovenull and the internal
user dovecot even when the tests run as root.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Optional, Tuple

DOVECOT = "/usr/sbin/dovecot"
USER = "office@minshi.test"
PASSWORD = "imap-secret-123"


def available() -> Optional[str]:
    """None when a dovecot server can be started here, else the reason to skip."""
    if not os.path.exists(DOVECOT):
        return f"{DOVECOT} is missing (install dovecot-imapd; .ci/run does)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cert(folder: Path) -> Tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem in ``folder``)."""
    cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def _die_with_parent() -> None:
    """In the child: SIGTERM when the test process dies (a killed run leaves no dovecot)."""
    import ctypes
    import signal
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass


def _wait_greeting(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.settimeout(2)
                if s.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not answer on port {port}")


class DovecotServer:
    def __init__(self, root: Path, port: int, tls_port: Optional[int], cert: Optional[Path]):
        self.root, self.port, self.tls_port, self.cert = root, port, tls_port, cert
        self.user, self.password, self.host = USER, PASSWORD, "127.0.0.1"
        self.conf = root / "dovecot.conf"
        self.proc: Optional[subprocess.Popen] = None

    @classmethod
    def start(cls, tls: bool = False) -> "DovecotServer":
        # Not under pytest's tmp_path: that is mode 0700 and the mail processes run as dovecot.
        root = Path(tempfile.mkdtemp(prefix="minshi-dovecot-"))
        root.chmod(0o755)
        port = free_port()
        tls_port = free_port() if tls else None
        cert = None
        if tls:
            cert, _ = make_cert(root)
        server = cls(root, port, tls_port, cert)
        server._write_config()
        # -F: stay in the foreground as our child, so stop() ends exactly this process.
        with open(root / "stderr.log", "wb") as err:
            server.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(server.conf)],
                                           stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                           preexec_fn=_die_with_parent)
        try:
            _wait_greeting(port)
        except RuntimeError:
            server.stop()
            logs = "".join(p.read_text(errors="replace") for p in
                           (root / "stderr.log", root / "dovecot.log") if p.exists())
            raise RuntimeError(f"dovecot did not start:\n{logs}")
        return server

    def _write_config(self) -> None:
        r = self.root
        if os.getuid() == 0:  # login processes refuse root: dovenull logs in, dovecot owns mail
            mail = pwd.getpwnam("dovecot")
            login_user, internal_user = "dovenull", "dovecot"
        else:  # an unprivileged run: everything as the current user
            mail = pwd.getpwuid(os.getuid())
            login_user = internal_user = mail.pw_name
        for d in ("base", "state", "mail"):
            (r / d).mkdir()
        os.chown(r / "mail", mail.pw_uid, mail.pw_gid)
        (r / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        ssl = "no"
        imaps = "port = 0"
        if self.tls_port:
            ssl = (f"yes\nssl_cert = <{r / 'cert.pem'}\nssl_key = <{r / 'key.pem'}\n"
                   "ssl_min_protocol = TLSv1.2")
            imaps = f"address = 127.0.0.1\n    port = {self.tls_port}\n    ssl = yes"
        self.conf.write_text(f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {r / 'base'}
state_dir = {r / 'state'}
log_path = {r / 'dovecot.log'}
info_log_path = {r / 'dovecot.log'}
default_login_user = {login_user}
default_internal_user = {internal_user}
ssl = {ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:{r / 'mail'}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r / 'passwd'}
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={r / 'mail'}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    {imaps}
  }}
}}
service anvil {{
  chroot =
}}
""")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# --- SMTP -----------------------------------------------------------------------------------------

class SmtpSink:
    """aiosmtpd on 127.0.0.1 with AUTH (user/password below); keeps every message it accepts.

    ``refuse``: addresses answered 550 at RCPT; ``defer``: address -> how many times DATA is
    answered 451; ``drop``: address -> how many times the connection is cut at DATA.
    """

    user, password = "office@minshi.test", "smtp-secret-456"

    def __init__(self, tls_folder: Optional[Path] = None):
        """With ``tls_folder``: implicit TLS (SMTPS) with a self-signed cert made there."""
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages: list = []  # (mail_from, [rcpt], bytes)
        self.refuse: set = set()
        self.defer: dict = {}
        self.drop: dict = {}
        self.logins: list = []
        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address.lower() in sink.refuse:
                    return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                for r in envelope.rcpt_tos:
                    if sink.drop.get(r, 0) > 0:
                        sink.drop[r] -= 1
                        server.transport.close()
                        return "421 4.4.2 connection dropped"
                    if sink.defer.get(r, 0) > 0:
                        sink.defer[r] -= 1
                        return "451 4.3.0 Temporary failure, try again later"
                sink.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                                      envelope.original_content or envelope.content))
                return "250 OK"

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode() == sink.user
                  and auth_data.password.decode() == sink.password)
            sink.logins.append(ok)
            return AuthResult(success=ok, handled=False)  # handled=False: answer 535

        self.port = free_port()
        self.host = "127.0.0.1"
        context = None
        self.cert = None
        if tls_folder is not None:
            self.cert, key = make_cert(tls_folder)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert, key)
        self.controller = Controller(Handler(), hostname=self.host, port=self.port,
                                     authenticator=authenticate, auth_required=True,
                                     auth_require_tls=False, decode_data=False,
                                     ssl_context=context)
        with warnings.catch_warnings():  # AUTH without TLS: fine on loopback
            warnings.simplefilter("ignore")
            self.controller.start()

    def reset(self) -> None:
        self.messages.clear()
        self.refuse.clear()
        self.defer.clear()
        self.drop.clear()
        self.logins.clear()

    def stop(self) -> None:
        self.controller.stop()


# --- loading a mailbox ----------------------------------------------------------------------------

def append(server: DovecotServer, raw: bytes, when: Optional[str] = None,
           folder: str = "INBOX") -> None:
    """IMAP APPEND ``raw`` as received at ``when`` (ISO; INTERNALDATE, what SINCE searches)."""
    import imaplib
    from datetime import datetime
    conn = imaplib.IMAP4(server.host, server.port)
    try:
        conn.login(server.user, server.password)
        stamp = imaplib.Time2Internaldate(datetime.fromisoformat(when)) if when else None
        if folder != "INBOX":
            conn.create(folder)  # "already exists" after the first time: fine
        typ, data = conn.append(folder, None, stamp, raw)
        assert typ == "OK", data
    finally:
        conn.logout()


def mailbox_state(server: DovecotServer, folder: str = "INBOX") -> list:
    """(uid, flags) of every message: what a client that only reads must leave unchanged."""
    import imaplib
    conn = imaplib.IMAP4(server.host, server.port)
    try:
        conn.login(server.user, server.password)
        conn.select(folder, readonly=True)
        typ, data = conn.fetch("1:*", "(UID FLAGS)")
        return sorted(d.decode() for d in data if isinstance(d, bytes))
    finally:
        conn.logout()


def server_bytes(server: DovecotServer, folder: str = "INBOX") -> dict:
    """uid -> the exact bytes the server holds for each message (UID FETCH BODY.PEEK[]), what an
    archive of the message must equal."""
    import imaplib
    import re
    conn = imaplib.IMAP4(server.host, server.port)
    try:
        conn.login(server.user, server.password)
        conn.select(folder, readonly=True)
        typ, data = conn.uid("fetch", "1:*", "(BODY.PEEK[])")
        assert typ == "OK", data
        return {int(re.search(rb"UID (\d+)", d[0]).group(1)): d[1]
                for d in data if isinstance(d, tuple)}
    finally:
        conn.logout()
