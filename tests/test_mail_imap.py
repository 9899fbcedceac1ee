"""Fetching returns from a real IMAP server (dovecot on loopback) and the full mail round.

The round on the bundled notice: ``send`` mails the 42 units through a real SMTP server; test
"units" reply into the dovecot mailbox with filled workbooks the way mail clients write them
(RFC 2231 names, Outlook-style RFC 2047 names, a GBK-encoded Foxmail name, raw GBK bytes, a zip,
two files in one message, a stranger, a scan that is not a spreadsheet, last month's return);
``fetch`` hands them to collect; ``remind`` writes only to the units still missing or in error.
"""
import io
import re
import sqlite3
import zipfile
from email import encoders
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import BytesParser
from email import policy
from email.utils import formataddr

import openpyxl
import pytest

from minshi_xls import MinshiError, columns, mail, notice, settings, templates
from tests import imap_server
from tests.imap_server import DovecotServer, SmtpSink, append, mailbox_state
from tests.test_collect_support import cells, fill
from tests.test_mail import PW_ENV as SMTP_PW_ENV, config as smtp_config, with_emails

pytestmark = [pytest.mark.skipif(imap_server.available() is not None,
                                 reason=imap_server.available() or ""),
              pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]

PERIOD = "2024-06"
IMAP_PW_ENV = "MINSHI_TEST_IMAP_PASSWORD"
REPLIED_CLEAN = ["市卫健委", "市妇联", "市教育局", "市民政局", "市人社局", "市公安局",
                 "市农业农村局", "市住建局"]
#: 市妇联 forwards 市残联's workbook from its own address: _meta and the sender disagree, an
#: identity-conflict (issue 9): counted for nobody, 市残联 is reminded.
FORWARDED = "市残联"
STRANGER = "someone@163.example"


@pytest.fixture(scope="module")
def dovecot():
    server = DovecotServer.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def smtp():
    sink = SmtpSink()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def master():
    return with_emails(notice.load_bundled())


def full_config(sink, server, **imap):
    cfg = smtp_config(sink)
    cfg["imap"].update(host=server.host, port=server.port, security="plain", user=server.user,
                       password_env=IMAP_PW_ENV, **imap)
    return cfg


@pytest.fixture
def env(monkeypatch, smtp, dovecot):
    monkeypatch.setenv(SMTP_PW_ENV, smtp.password)
    monkeypatch.setenv(IMAP_PW_ENV, dovecot.password)


def reply(sender, subject, attachments, in_reply_to=None, date="Wed, 03 Jul 2024 10:00:00 +0800",
          name_style="rfc2231"):
    """A unit's reply as its mail client writes it; ``attachments`` are (name, bytes)."""
    msg = MIMEMultipart()
    msg["From"] = sender
    msg["To"] = "office@minshi.test"
    msg["Subject"] = Header(subject, "utf-8")
    msg["Date"] = date
    msg["Message-ID"] = f"<{abs(hash((sender, subject, date)))}@client.example>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    msg.attach(MIMEText("附件是我单位的填报表，请查收。", "plain", "utf-8"))
    raw_names = {}
    for name, data in attachments:
        part = MIMEBase("application", "octet-stream")
        part.set_payload(data)
        encoders.encode_base64(part)
        if name_style == "raw-gbk":  # old clients: the GBK bytes as they are, no encoding
            placeholder = f"RAWNAME{len(raw_names)}.xlsx"
            raw_names[placeholder.encode()] = name.encode("gbk")
            part.add_header("Content-Disposition", "attachment", filename=placeholder)
        elif name_style == "rfc2231":
            part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name))
        else:  # Outlook / Foxmail: an RFC 2047 word inside quotes, in the charset they use
            charset = "gbk" if name_style == "gbk" else "utf-8"
            word = Header(name, charset).encode().replace("\n", "")
            part.add_header("Content-Disposition", "attachment", filename=word)
            part.set_param("name", word)
        msg.attach(part)
    raw = msg.as_bytes()
    for placeholder, name in raw_names.items():
        raw = raw.replace(placeholder, name)
    return raw


def zipped(name, data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, data)
    return buf.getvalue()


def send_round(master, sink, server, work, **config):
    """The period's workbooks made and mailed to the 42 units: (templates dir, db, config)."""
    tdir = work / "templates"
    db = work / "output" / "minshi.sqlite"
    templates.write_templates(master, PERIOD, tdir / PERIOD, config=settings.DEFAULTS, db=db)
    cfg = {**full_config(sink, server), **config}
    sink.reset()
    sent = mail.send(master, PERIOD, tdir, db, cfg)
    assert sent.count("sent") == 42
    return tdir, db, cfg


@pytest.fixture(scope="module")
def round_trip(master, dovecot, smtp, tmp_path_factory):
    """send -> units reply into dovecot -> fetch -> collect, once for the module."""
    work = tmp_path_factory.mktemp("round")
    mp = pytest.MonkeyPatch()
    mp.setenv(SMTP_PW_ENV, smtp.password)
    mp.setenv(IMAP_PW_ENV, dovecot.password)
    try:
        tdir, db, cfg = send_round(master, smtp, dovecot, work)
        received = {rc[0]: BytesParser(policy=policy.default).parsebytes(data)
                    for _, rc, data in smtp.messages}

        def workbook(unit, edit=None):
            src = tdir / PERIOD / columns.file_name(PERIOD, unit)
            return fill(src, work / "filled" / src.name, edit=edit).read_bytes()

        def answer(unit, atts, style="rfc2231", sender=None):
            u = master.registry.get(unit)
            got = received[u.email]
            append(dovecot, reply(formataddr((u.name, u.email)) if sender is None else sender,
                                  "回复：" + str(got["Subject"]), atts, got["Message-ID"],
                                  name_style=style), "2024-07-03T10:00:00+08:00")

        name = lambda u: columns.file_name(PERIOD, u)  # noqa: E731
        answer("市卫健委", [(name("市卫健委"), workbook("市卫健委"))])
        # two spreadsheets in one message: its own (Chinese name) and one forwarded for 市残联
        answer("市妇联", [(name("市妇联"), workbook("市妇联")),
                        ("cdpf-2024-06.xlsx", workbook("市残联"))])
        answer("市教育局", [("教育局6月.zip", zipped(name("市教育局"), workbook("市教育局")))])
        answer("市民政局", [(name("市民政局"), workbook("市民政局"))], style="rfc2047")
        answer("市人社局", [(name("市人社局"), workbook("市人社局"))], style="gbk")
        answer("市公安局", [(name("市公安局"), workbook("市公安局"))], style="raw-gbk")
        answer("东海县", [(name("东海县"), workbook("东海县", edit=mistakes))])
        # a new message whose subject says nothing: the attachment's name tells the period
        u = master.registry.get("市住建局")
        append(dovecot, reply(u.email, "报表", [(name("市住建局"), workbook("市住建局"))]),
               "2024-07-03T10:00:00+08:00")
        # not a spreadsheet: a scan only; the unit still owes its workbook
        answer("市医保局", [("盖章扫描件.pdf", b"%PDF-1.4 scan")])
        # a stranger sends one unit's workbook, and a file nobody can identify
        append(dovecot, reply(STRANGER, "2024年6月民生实事报表", [
            (name("市农业农村局"), workbook("市农业农村局")),
            ("2024年6月数据.xlsx", blank_workbook())]), "2024-07-03T11:00:00+08:00")
        # last month's return and an unrelated message: not this period's
        append(dovecot, reply(master.registry.get("市总工会").email,
                              "【民生实事月报】2024年5月 市总工会 填报表",
                              [("2024-05_市总工会_民生实事填报表.xlsx", b"PK\x03\x04old")]),
               "2024-06-04T09:00:00+08:00")
        append(dovecot, reply("news@example.com", "会议通知", []), "2024-07-01T09:00:00+08:00")
        # a copy of one of our own messages in the inbox: a blank template, never a return
        append(dovecot, smtp.messages[0][2], "2024-07-01T08:00:00+08:00")
        before = mailbox_state(dovecot)
        progress = []
        fetched = mail.fetch(master, PERIOD, db, cfg, progress=lambda d, t, u: progress.append(d))
        return dict(work=work, tdir=tdir, db=db, cfg=cfg, fetched=fetched, before=before,
                    progress=progress, received=received)
    finally:
        mp.undo()


def mistakes(wb):
    """Two errors a clerk makes: words for a number, a negative cumulative."""
    ws = wb[columns.SHEET_LEAD] if columns.SHEET_LEAD in wb.sheetnames else wb[columns.SHEET_CO]
    hdr, ids = cells(ws)
    col = hdr.get("本月累计完成") or hdr["本单位累计完成"]
    first, second = list(ids.values())[:2]
    ws.cell(first, col).value = "正在统计"
    ws.cell(second, col).value = -3


def blank_workbook():
    wb = openpyxl.Workbook()
    wb.active["A1"] = "六月数据"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ledger_rows(db, sql, *args):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, args)]
    finally:
        con.close()


def test_fetch_hands_every_return_to_collect_with_mail_metadata(round_trip, master):
    r = round_trip["fetched"]
    assert r.searched == 13 and r.messages == 10 and r.already == 1  # our own copy
    assert round_trip["progress"][-1] == 13
    assert sorted(r.ignored) == ["盖章扫描件.pdf"]
    assert "2024-06_市民政局_民生实事填报表.xlsx" in r.attachments  # RFC 2047 decoded
    assert "2024-06_市人社局_民生实事填报表.xlsx" in r.attachments  # GBK RFC 2047 decoded
    assert "2024-06_市公安局_民生实事填报表.xlsx" in r.attachments  # raw GBK bytes decoded
    assert "教育局6月.zip" in r.attachments
    db = round_trip["db"]
    returns = ledger_rows(db, "SELECT r.unit, r.status, r.late, rc.sender, rc.message_id,"
                              " rc.received_at, rc.source_path FROM returns r JOIN receipts rc"
                              " ON rc.id = r.receipt_id")
    by_unit = {x["unit"]: x for x in returns}
    assert set(REPLIED_CLEAN) | {"东海县", FORWARDED} <= set(by_unit)
    assert {x["status"] for u, x in by_unit.items() if u in REPLIED_CLEAN} == {"accepted"}
    assert by_unit[FORWARDED]["status"] == "rejected"
    wj = by_unit["市卫健委"]
    assert wj["sender"] == master.registry.get("市卫健委").email
    assert wj["received_at"].startswith("2024-07-03T10:00:00+08:00") and not wj["late"]
    assert wj["source_path"] == f"imap:{wj['message_id']}/2024-06_市卫健委_民生实事填报表.xlsx"
    assert by_unit["市教育局"]["source_path"].endswith("/教育局6月.zip!2024-06_市教育局_民生实事填报表.xlsx")
    assert [x for x in returns if x["unit"] is None][0]["sender"] == STRANGER
    # the workbook archived is byte for byte the attachment
    con = sqlite3.connect(db)
    (rel,) = con.execute("SELECT f.archive_path FROM returns r JOIN files f ON f.id = r.file_id"
                         " WHERE r.unit = '市卫健委'").fetchone()
    filled = round_trip["work"] / "filled" / columns.file_name(PERIOD, "市卫健委")
    assert (db.parent / rel).read_bytes() == filled.read_bytes()


def test_senders_are_checked_against_the_registry(round_trip):
    found = ledger_rows(round_trip["db"], "SELECT unit, file_path, message FROM issues_v"
                                          " WHERE code = 'unexpected-sender'")
    assert {f["unit"] for f in found} == {"市农业农村局", None}
    assert all(STRANGER in f["message"] for f in found)
    assert any("任何单位登记的邮箱" in f["message"] and f["file_path"].endswith("2024年6月数据.xlsx")
               for f in found)
    wrong = ledger_rows(round_trip["db"], "SELECT unit, message FROM issues_v"
                                          " WHERE code = 'identity-conflict'")
    assert [w["unit"] for w in wrong] == [FORWARDED]  # sent from 市妇联's address
    assert "发件邮箱为“市妇联”" in wrong[0]["message"]


def test_fetch_never_changes_the_mailbox_and_never_fetches_twice(round_trip, master, env, dovecot):
    assert mailbox_state(dovecot) == round_trip["before"]  # no \\Seen, nothing deleted
    assert all("\\Seen" not in s for s in round_trip["before"])
    db = round_trip["db"]
    rows = ledger_rows(db, "SELECT message_id, sender, subject, period FROM fetched")
    assert len(rows) == 10 and {r["period"] for r in rows} == {PERIOD}
    receipts = len(ledger_rows(db, "SELECT id FROM receipts"))
    again = mail.fetch(master, PERIOD, db, round_trip["cfg"])
    assert again.already == 11 and again.messages == 0 and again.collect is None
    assert len(ledger_rows(db, "SELECT id FROM receipts")) == receipts
    # --since: only what arrived from that day on is searched (the 10 replies of 3 July)
    assert mail.fetch(master, PERIOD, db, round_trip["cfg"], since="2024-07-02").searched == 10


def test_every_fetched_message_is_archived_as_the_server_holds_it(round_trip, master, dovecot,
                                                                  smtp, env, tmp_path):
    """Issue #9 class 9 for mail: each message downloaded is kept byte for byte (what IMAP
    BODY[] gives) under archive/<P>/_containers/, a return's receipt points at its message (a
    zipped one through its zip), a reply that is no return is archived and found from its
    unit's mail state; a rerun, even after a run killed before it recorded ``fetched``, adds
    nothing."""
    import hashlib
    from email import message_from_bytes
    from email.utils import parseaddr

    from minshi_xls import ledger
    from tests.imap_server import server_bytes
    folder, tdir = "ORIGINALS", round_trip["tdir"]

    def workbook(unit):
        src = tdir / PERIOD / columns.file_name(PERIOD, unit)
        return fill(src, tmp_path / "filled" / src.name).read_bytes()

    def send(unit, subject, atts, extra=b""):
        raw = reply(master.registry.get(unit).email, subject, atts)
        append(dovecot, extra + raw, "2024-07-03T10:00:00+08:00", folder=folder)

    subject = "回复：【民生实事月报】2024年6月 {} 填报表"
    send("市卫健委", subject.format("市卫健委"),
         [(columns.file_name(PERIOD, "市卫健委"), workbook("市卫健委"))])
    send("市教育局", subject.format("市教育局"), [("2024年6月教育局.zip", zipped(
        columns.file_name(PERIOD, "市教育局"), workbook("市教育局")))])
    send("市民政局", "自动回复：" + subject.format("市民政局"), [],
         extra=b"Auto-Submitted: auto-replied\r\n")
    send("市人社局", subject.format("市人社局"), [])  # "附件稍后发送": no attachment
    cfg = full_config(smtp, dovecot, folder=folder)
    db = tmp_path / "output" / "minshi.sqlite"
    res = mail.fetch(master, PERIOD, db, cfg)
    assert res.messages == 4 and res.archived == 4
    assert f"邮件原件 4 封已按原样存档（archive/{PERIOD}/_containers/）" in res.summary()

    held = server_bytes(dovecot, folder)
    assert len(held) == 4
    by_sender = {parseaddr(message_from_bytes(b)["From"])[1]: hashlib.sha256(b).hexdigest()
                 for b in held.values()}
    sha_of = {u: by_sender[master.registry.get(u).email] for u in
              ("市卫健委", "市教育局", "市民政局", "市人社局")}
    kept = {r["sha256"]: r for r in ledger_rows(db, "SELECT id, sha256, archive_path FROM files"
                                                    " WHERE format = 'eml'")}
    assert set(kept) == set(sha_of.values())
    for sha, row in kept.items():
        assert row["archive_path"].startswith(f"archive/{PERIOD}/_containers/")
        assert hashlib.sha256((db.parent / row["archive_path"]).read_bytes()).hexdigest() == sha

    def container(receipt_of):
        (c,) = ledger_rows(db, "SELECT c.id, c.sha256, c.format FROM receipts rc JOIN files c"
                               " ON c.id = rc.container_id WHERE rc.id = ?", receipt_of)
        return c
    receipts = {r["unit"]: r["receipt_id"] for r in ledger_rows(
        db, "SELECT unit, receipt_id FROM returns WHERE unit IS NOT NULL")}
    assert set(receipts) == {"市卫健委", "市教育局"}
    assert container(receipts["市卫健委"])["sha256"] == sha_of["市卫健委"]
    zipped_in = container(receipts["市教育局"])
    assert zipped_in["format"] == "zip"
    (zip_receipt,) = ledger_rows(db, "SELECT id FROM receipts WHERE file_id = ?", zipped_in["id"])
    assert container(zip_receipt["id"])["sha256"] == sha_of["市教育局"]

    # replies that carry no return: archived, and their unit's mail state names the original
    con = ledger.connect(db)
    try:
        states = ledger.mail_states(con, PERIOD)
    finally:
        con.close()
    for unit, code in (("市民政局", "mail-auto-reply"), ("市人社局", "mail-no-attachment")):
        assert states[unit]["code"] == code
        original = (db.parent / states[unit]["archive_path"]).read_bytes()
        assert hashlib.sha256(original).hexdigest() == sha_of[unit]
    assert {r["file_sha256"] for r in ledger_rows(
        db, "SELECT file_sha256 FROM issues_v WHERE code LIKE 'mail-%'")} == {
        sha_of["市民政局"], sha_of["市人社局"]}

    def snapshot():
        return (ledger_rows(db, "SELECT * FROM files ORDER BY id"),
                ledger_rows(db, "SELECT * FROM receipts ORDER BY id"),
                sorted(p.name for p in (db.parent / "archive").rglob("*")))
    before = snapshot()
    again = mail.fetch(master, PERIOD, db, cfg)
    assert again.already == 4 and again.archived == 0 and snapshot() == before
    # a run killed after collect but before ``fetched`` was written: downloaded again,
    # archived once
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM fetched")
    con.close()
    again = mail.fetch(master, PERIOD, db, cfg)
    assert again.messages == 4 and snapshot() == before


def test_remind_writes_only_to_missing_units_and_units_in_error(round_trip, master, env, smtp):
    smtp.reset()
    res = mail.remind(master, PERIOD, round_trip["db"], round_trip["cfg"], round_trip["tdir"])
    expected = [u for u in master.reporting_units() if u not in REPLIED_CLEAN]
    assert "东海县" in expected and "市医保局" in expected
    assert [d.unit for d in res.deliveries] == expected
    assert res.count("sent") == len(expected) == len(smtp.messages)
    got = {rc[0]: BytesParser(policy=policy.default).parsebytes(data)
           for _, rc, data in smtp.messages}
    # the unit in error: every error listed with its sheet and cell, its annotated copy attached
    dh = got[master.registry.get("东海县").email]
    assert dh["Subject"] == "【民生实事月报】2024年6月 东海县 填报提醒"
    assert dh["In-Reply-To"] == round_trip["received"][master.registry.get("东海县").email][
        "Message-ID"]
    body = dh.get_body(("plain",)).get_content()
    errors = ledger_rows(round_trip["db"], "SELECT sheet, cell, message FROM issues_v WHERE"
                                           " unit = '东海县' AND severity = 'error'")
    assert f"有以下 {len(errors)} 处错误" in body
    for e in errors:
        assert f"工作表“{e['sheet']}” 单元格 {e['cell']}（指标 " in body and e["message"] in body
    assert "附件是你单位报送的表格，已标出问题单元格" in body
    (att,) = list(dh.iter_attachments())
    assert att.get_filename() == columns.file_name(PERIOD, "东海县")
    annotated = openpyxl.load_workbook(io.BytesIO(att.get_content()))
    assert "问题清单" in annotated.sheetnames
    # a missing unit: asked for its workbook, the template attached
    yb = got[master.registry.get("市总工会").email]
    assert "尚未收到你单位2024年6月民生实事推进情况填报表" in yb.get_body(("plain",)).get_content()
    (att,) = list(yb.iter_attachments())
    assert att.get_content() == mail.template_path(round_trip["tdir"], PERIOD, "市总工会").read_bytes()
    # a unit that replied with a scan only: told its reply carried no workbook
    assert "2024-07-03 10:00 的回复邮件没有附带2024年6月填报表" in got[master.registry.get(
        "市医保局").email].get_body(("plain",)).get_content()
    rows = ledger_rows(round_trip["db"], "SELECT DISTINCT unit FROM sends WHERE kind = 'remind'")
    assert sorted(r["unit"] for r in rows) == sorted(expected)


def test_wrong_imap_password_is_a_clear_error(master, dovecot, smtp, env, tmp_path, monkeypatch):
    monkeypatch.setenv(IMAP_PW_ENV, "wrong")
    db = tmp_path / "l.sqlite"
    with pytest.raises(MinshiError, match="收件服务器拒绝登录.*密码不对") as e:
        mail.fetch(master, PERIOD, db, full_config(smtp, dovecot))
    assert "wrong" not in str(e.value)
    assert ledger_rows(db, "SELECT * FROM fetched") == []


def test_imap_server_down_is_a_clear_error(master, dovecot, smtp, env, tmp_path):
    cfg = full_config(smtp, dovecot)
    cfg["imap"]["port"] = imap_server.free_port()
    with pytest.raises(MinshiError, match="无法连接收件服务器.*连接被拒绝"):
        mail.fetch(master, PERIOD, tmp_path / "l.sqlite", cfg)


def test_imap_over_tls_verifies_the_certificate(master, smtp, tmp_path, monkeypatch):
    with DovecotServer.start(tls=True) as server:
        monkeypatch.setenv(IMAP_PW_ENV, server.password)
        append(server, reply("unit00@units.test", "【民生实事月报】2024年6月 市卫健委 填报表",
                             [("x.pdf", b"%PDF")]), "2024-07-02T09:00:00+08:00")
        cfg = full_config(smtp, server)
        cfg["imap"].update(port=server.tls_port, security="ssl")
        with pytest.raises(MinshiError, match="建立加密连接失败.*cafile"):
            mail.fetch(master, PERIOD, tmp_path / "l.sqlite", cfg)
        cfg["imap"]["cafile"] = str(server.cert)
        res = mail.fetch(master, PERIOD, tmp_path / "l.sqlite", cfg)
        assert res.messages == 1 and res.ignored == ["x.pdf"]
        # STARTTLS on the plain port, same certificate check
        cfg["imap"].update(port=server.port, security="starttls")
        assert mail.fetch(master, PERIOD, tmp_path / "l.sqlite", cfg).already == 1


def test_cli_round_in_a_clerks_folder(master, dovecot, smtp, env, workdir):
    """What a clerk types: import (registry with emails), templates, send, fetch, remind."""
    import json

    from click.testing import CliRunner

    from minshi_xls import registry
    from minshi_xls.cli import cli

    reg = registry.registry_to_dict(master.registry)
    (workdir / "units.json").write_text(json.dumps(reg, ensure_ascii=False), encoding="utf-8")
    (workdir / "minshi.toml").write_text(f"""
[office]
name = "连云港市民生实事办公室"
contact = "王科长"
phone = "0518-85800000"

[smtp]
host = "{smtp.host}"
port = {smtp.port}
security = "plain"
user = "{smtp.user}"
sender = "office@minshi.test"
password_env = "{SMTP_PW_ENV}"

[imap]
host = "{dovecot.host}"
port = {dovecot.port}
security = "plain"
user = "{dovecot.user}"
folder = "CLI"
password_env = "{IMAP_PW_ENV}"

[mail]
retry_delay_s = 0
""", encoding="utf-8")
    run = CliRunner().invoke
    assert run(cli, ["import", "--units", "units.json"]).exit_code == 0
    assert run(cli, ["templates", "--period", PERIOD]).exit_code == 0
    smtp.reset()
    r = run(cli, ["send", "--period", PERIOD])
    assert r.exit_code == 0, r.output
    assert "2024年6月填报表：通过邮件服务器发送。已发送 42。" in r.output
    assert len(smtp.messages) == 42 and smtp.password not in r.output
    r = run(cli, ["send", "--period", PERIOD, "--resend", "市卫健委"])
    assert "已发送 1，已发送过，跳过 41" in r.output and len(smtp.messages) == 43

    wj = master.registry.get("市卫健委")
    filled = fill(workdir / "templates" / PERIOD / columns.file_name(PERIOD, "市卫健委"),
                  workdir / "reply" / "r.xlsx").read_bytes()
    append(dovecot, reply(wj.email, "回复：【民生实事月报】2024年6月 市卫健委 填报表",
                          [(columns.file_name(PERIOD, "市卫健委"), filled)]),
           "2024-07-02T16:00:00+08:00", folder="CLI")
    r = run(cli, ["fetch", "--period", PERIOD])
    assert r.exit_code == 0, r.output
    assert "本次新收取本月邮件 1 封，表格附件 1 个" in r.output and "市卫健委" in r.output
    r = run(cli, ["fetch", "--period", PERIOD])
    assert "以前已收取 1 封，本次新收取本月邮件 0 封" in r.output

    smtp.reset()
    r = run(cli, ["remind", "--period", PERIOD, "--dry-run"])
    assert r.exit_code == 0 and "试运行" in r.output and smtp.messages == []
    r = run(cli, ["remind", "--period", PERIOD])
    assert r.exit_code == 0, r.output
    assert "2024年6月提醒：通过邮件服务器发送。已发送 41。" in r.output
    assert wj.email not in {rc[0] for _, rc, _ in smtp.messages}

    (workdir / "minshi.toml").write_text('[smtp]\nhost = "x"\npassword = "secret"\n')
    r = run(cli, ["send", "--period", PERIOD])
    assert r.exit_code == 2 and "不能写密码" in r.output and "secret" not in r.output


def test_a_message_without_date_or_message_id_and_an_oversized_one(master, dovecot, env, smtp,
                                                                   tmp_path):
    """No Date: the server's arrival time orders it; no Message-ID: keyed by UID, still fetched
    once; a message over limits.max_uncompressed_bytes is not downloaded; a forwarded .eml
    attachment is opened."""
    cfg = full_config(smtp, dovecot, folder="民生实事")  # a Chinese folder: modified UTF-7
    cfg["limits"] = {**settings.DEFAULTS["limits"], "max_uncompressed_bytes": 200_000}
    u = master.registry.get("市文广旅局")
    raw = reply(u.email, "2024年6月 市文广旅局 报表", [("scan.pdf", b"%PDF")])
    raw = re.sub(rb"^(Date|Message-ID): .*\n", b"", raw, flags=re.M)
    append(dovecot, raw, "2024-07-04T08:30:00+08:00", folder=mail.imap_utf7("民生实事"))
    append(dovecot, reply(u.email, "2024年6月 大附件", [("big.xlsx", b"x" * 300_000)]),
           "2024-07-04T09:00:00+08:00", folder=mail.imap_utf7("民生实事"))
    inner = reply(u.email, "2024年6月", [("2024年6月.xlsx", blank_workbook())])
    append(dovecot, reply(u.email, "转发：2024年6月报表", [("转发.eml", inner)]),
           "2024-07-04T10:00:00+08:00", folder=mail.imap_utf7("民生实事"))
    db = tmp_path / "l.sqlite"
    res = mail.fetch(master, PERIOD, db, cfg)
    assert res.messages == 3 and res.ignored[0] == "scan.pdf"
    assert "超过大小限制" in res.ignored[1] and "big.xlsx" not in res.attachments
    # too large from a registered address: that unit's refused return, not "nothing arrived"
    assert [(n.code, n.unit) for n in res.notes] == [("mail-no-attachment", "市文广旅局"),
                                                    ("mail-too-large", "市文广旅局")]
    # a message attached as a file is opened: its workbook is the return
    assert res.attachments == ["2024年6月.xlsx"]
    (src,) = [r["source_path"] for r in ledger_rows(
        db, "SELECT rc.source_path FROM receipts rc JOIN returns r ON r.receipt_id = rc.id")]
    assert src.endswith("/2024年6月.xlsx")
    # the two messages downloaded are archived as they arrived; the oversized one was not read
    assert res.archived == 2 and len(ledger_rows(db, "SELECT id FROM files WHERE format = 'eml'")) == 2
    (row,) = ledger_rows(db, "SELECT message_id, mail_date FROM fetched"
                             " WHERE subject = '2024年6月 市文广旅局 报表'")
    assert row["message_id"].startswith("<uid-") and row["mail_date"] is not None
    from datetime import datetime
    assert datetime.fromisoformat(row["mail_date"]) == datetime.fromisoformat(
        "2024-07-04T08:30:00+08:00")
    assert mail.fetch(master, PERIOD, db, cfg).already == 3
