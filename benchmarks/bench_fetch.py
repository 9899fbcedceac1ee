"""Time of ``minshi fetch`` on a real dovecot mailbox, against the floor.

The mailbox: the 28 client replies of ``tests/mail_corpus.py`` (each unit's filled workbook in
its client's form, plus the non-returns) and ``--noise`` unrelated messages (half with a PDF).
The floor, in the same process: log in, search, fetch every header and download the messages
fetch has to download (no parsing, no collect). ``fetch`` is timed on a fresh ledger (so collect
reads every workbook) and again on the same ledger (nothing new). Best of ``--repeat``.

    python3 benchmarks/bench_fetch.py [--repeat 3] [--noise 1000]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imapclient import IMAPClient  # noqa: E402

from minshi_xls import columns, mail, settings, templates  # noqa: E402
from minshi_xls.notice import load_bundled  # noqa: E402
from tests.imap_server import DovecotServer, SmtpSink  # noqa: E402
from tests.mail_corpus import CASES, Ctx  # noqa: E402
from tests.test_collect_support import fill  # noqa: E402
from tests.test_mail import with_emails  # noqa: E402

PERIOD = "2024-06"


def load(server, raws):
    c = IMAPClient(server.host, server.port, ssl=False)
    c.login(server.user, server.password)
    for raw in raws:
        c.append("INBOX", raw, msg_time=None)
    c.logout()


def noise(i: int) -> bytes:
    head = (f"From: news{i}@example.org\r\nTo: office@minshi.test\r\nSubject: notice {i}\r\n"
            f"Message-ID: <n{i}@example.org>\r\nMIME-Version: 1.0\r\n")
    if i % 2:
        return (head + "Content-Type: multipart/mixed; boundary=\"nb\"\r\n\r\n--nb\r\n"
                "Content-Type: text/plain\r\n\r\nsee pdf\r\n--nb\r\nContent-Type: application/pdf;"
                " name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n"
                "--nb--\r\n").encode()
    return (head + "Content-Type: text/plain\r\n\r\nhello\r\n").encode()


def floor(server, wanted_subjects):
    c = IMAPClient(server.host, server.port, ssl=False)
    c.login(server.user, server.password)
    c.select_folder("INBOX", readonly=True)
    uids = c.search(["SINCE", "01-Jun-2024"])
    heads = {}
    for i in range(0, len(uids), 200):
        heads.update(c.fetch(uids[i:i + 200], ["RFC822.SIZE", "BODY.PEEK[HEADER]"]))
    got = [u for u, h in heads.items() if b"notice " not in h[b"BODY[HEADER]"]]
    for u in got:
        c.fetch([u], ["BODY.PEEK[]"])
    c.logout()
    return len(got)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--noise", type=int, default=1000)
    args = ap.parse_args()
    master = with_emails(load_bundled())
    work = Path(tempfile.mkdtemp(prefix="bench-fetch-"))
    server, sink = DovecotServer.start(), SmtpSink()
    os.environ["BENCH_SMTP_PW"], os.environ["BENCH_IMAP_PW"] = sink.password, server.password
    try:
        tdir, db0 = work / "templates", work / "sent.sqlite"
        templates.write_templates(master, PERIOD, tdir / PERIOD, config=settings.DEFAULTS, db=db0)
        cfg = settings._merge(settings.DEFAULTS, {
            "smtp": {"host": sink.host, "port": sink.port, "security": "plain", "user": sink.user,
                     "sender": "office@minshi.test", "password_env": "BENCH_SMTP_PW"},
            "imap": {"host": server.host, "port": server.port, "security": "plain",
                     "user": server.user, "password_env": "BENCH_IMAP_PW"}})
        mail.send(master, PERIOD, tdir, db0, cfg)
        from email import policy
        from email.parser import BytesParser
        ours = {rc[0]: BytesParser(policy=policy.default).parsebytes(d) for _, rc, d in sink.messages}
        raws = []
        for case, unit in zip(CASES, master.reporting_units()):
            u = master.registry.get(unit)
            src = tdir / PERIOD / columns.file_name(PERIOD, unit)
            filled = fill(src, work / "filled" / src.name).read_bytes()
            raws.append(case.build(Ctx(u.email, u.name, str(ours[u.email]["Subject"]),
                                       ours[u.email]["Message-ID"], src.name, filled,
                                       src.read_bytes())))
        load(server, raws + [noise(i) for i in range(args.noise)])
        best = {"floor": [], "fetch": [], "rerun": []}
        for n in range(args.repeat):
            t = time.perf_counter()
            floor(server, None)
            best["floor"].append(time.perf_counter() - t)
            db = work / f"run{n}.sqlite"
            db.write_bytes(db0.read_bytes())
            t = time.perf_counter()
            res = mail.fetch(master, PERIOD, db, cfg)
            best["fetch"].append(time.perf_counter() - t)
            t = time.perf_counter()
            again = mail.fetch(master, PERIOD, db, cfg)
            best["rerun"].append(time.perf_counter() - t)
        f, a, r = (min(best[k]) for k in ("floor", "fetch", "rerun"))
        print(f"mailbox {len(raws) + args.noise} messages ({len(raws)} replies), "
              f"fetched {res.messages}, files to collect {len(res.attachments)}, "
              f"rerun already {again.already}")
        print(f"floor (headers + download) {f:.2f} s; fetch incl. collect {a:.2f} s "
              f"(x{a / f:.1f}); rerun {r:.2f} s (x{r / f:.1f})")
    finally:
        sink.stop()
        server.stop()


if __name__ == "__main__":
    main()
