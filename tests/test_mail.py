"""Sending the workbooks and reminders through a real SMTP server (aiosmtpd on loopback).

The bundled notice's 42 reporting units, each given an address, get their real fill-in workbook;
the tests read back what the server received (MIME structure, decoded subject, attachment bytes
and Chinese file name) and what the ledger recorded.
"""
import re
import sqlite3
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from minshi_xls import MinshiError, columns, ledger, mail, notice, settings, templates
from tests.imap_server import SmtpSink

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

PERIOD = "2024-06"
PW_ENV = "MINSHI_TEST_SMTP_PASSWORD"
SUBJECT = "【民生实事月报】2024年6月 市卫健委 填报表"


def with_emails(master):
    """Give every reporting unit an address (the bundled registry has none)."""
    for i, short in enumerate(master.reporting_units()):
        master.registry.get(short).email = f"unit{i:02d}@units.test"
    return master


@pytest.fixture(scope="module")
def master():
    return with_emails(notice.load_bundled())


@pytest.fixture(scope="module")
def templates_dir(master, tmp_path_factory):
    out = tmp_path_factory.mktemp("templates") / PERIOD
    templates.write_templates(master, PERIOD, out, config=settings.DEFAULTS)
    return out.parent


@pytest.fixture(scope="module")
def smtp():
    sink = SmtpSink()
    yield sink
    sink.stop()


@pytest.fixture
def server(smtp, monkeypatch):
    smtp.reset()
    monkeypatch.setenv(PW_ENV, smtp.password)
    return smtp


def config(sink=None, **mail_opts):
    over = {"office": {"name": "连云港市民生实事办公室", "contact": "王科长", "phone": "0518-85800000",
                       "email": "office@minshi.test"},
            "mail": {"retries": 2, "retry_delay_s": 0, **mail_opts}}
    if sink is not None:
        over["smtp"] = {"host": sink.host, "port": sink.port, "security": "plain",
                        "user": sink.user, "sender": "office@minshi.test", "password_env": PW_ENV}
    return settings._merge(settings.DEFAULTS, over)


def parse(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw)


def sends(db):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM sends ORDER BY id")]
    finally:
        con.close()


def test_message_has_chinese_subject_body_and_rfc2231_attachment(master, templates_dir):
    unit = master.registry.get("市卫健委")
    path = mail.template_path(templates_dir, PERIOD, "市卫健委")
    msg = mail.build_message(unit, PERIOD, path, config())
    raw = bytes(msg)
    back = parse(raw)
    assert back["Subject"] == SUBJECT
    assert back.get_content_type() == "multipart/mixed"
    text, att = [p for p in back.iter_parts()]
    body = text.get_content()
    assert "请于2024年7月5日（含）前" in body and "王科长" in body and "0518-85800000" in body
    assert att.get_filename() == "2024-06_市卫健委_民生实事填报表.xlsx"
    assert att.get_content() == path.read_bytes()
    assert att.get_content_type() == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    # RFC 2231 on the disposition, RFC 2047 name= on the type (older Outlook, Foxmail).
    assert "filename*=utf-8''2024-06_%E5%B8%82" in raw.decode("ascii").replace("\r\n ", " ")
    assert mail.decode_name(att.get_param("name", header="content-type")) == att.get_filename()
    assert back["Message-ID"].endswith("@minshi.test>") and back["Date"]
    assert back["To"].addresses[0].addr_spec == unit.email
    assert raw.isascii()  # 7-bit safe: any server relays it


def test_outgoing_mail_every_client_reads(master, templates_dir, smtp):
    """Class 9: plain filename= (RFC 2047, folded words of at most 75 characters) beside
    filename*=, both decoding to the name; Reply-To the mailbox fetch reads; a warning when
    the sender is another address."""
    from email import message_from_bytes
    from email import policy as pol
    unit = master.registry.get("市住房公积金中心")  # the longest name: several encoded words
    path = mail.template_path(templates_dir, PERIOD, unit.short)
    cfg = config(smtp)
    cfg["imap"] = {**cfg["imap"], "user": "office@minshi.test"}
    raw = bytes(mail.build_message(unit, PERIOD, path, cfg))
    head = raw.split(b"Content-Disposition:", 1)[1].split(b"\r\n\r\n", 1)[0].decode("ascii")
    plain = re.search(r'filename="([^"]+)"', head).group(1)
    words = re.findall(r"=\?utf-8\?b\?[^?]*\?=", plain)
    assert len(words) >= 2 and all(len(w) <= 75 for w in words) and "\r\n " in plain
    assert "filename*=utf-8''" in head
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    # an old reader (compat32, the plain parameter) and a new one (filename*) agree
    old = message_from_bytes(raw, policy=pol.compat32).get_payload()[1]
    new = list(parse(raw).iter_attachments())[0]
    assert mail.decode_name(old.get_param("filename", header="content-disposition")) == \
        new.get_filename() == path.name
    assert parse(raw)["Reply-To"] == "office@minshi.test"
    assert mail.outgoing.sender_warning(cfg) == ""
    cfg["smtp"] = {**cfg["smtp"], "sender": "noreply@minshi.test"}
    assert "noreply@minshi.test 与收件邮箱 office@minshi.test" in mail.outgoing.sender_warning(cfg)


def test_send_mails_each_unit_its_own_workbook_once(server, master, templates_dir, tmp_path):
    db = tmp_path / "l.sqlite"
    seen = []
    res = mail.send(master, PERIOD, templates_dir, db, config(server),
                    progress=lambda d, t, u: seen.append((d, t)))
    units = master.reporting_units()
    assert res.transport == "smtp" and res.count("sent") == len(units) == 42
    assert seen[-1] == (42, 42)
    assert len(server.messages) == 42 and all(server.logins)
    by_rcpt = {rcpts[0]: parse(data) for _, rcpts, data in server.messages}
    for short in units:
        msg = by_rcpt[master.registry.get(short).email]
        assert msg["Subject"] == f"【民生实事月报】2024年6月 {short} 填报表"
        (att,) = list(msg.iter_attachments())
        assert att.get_filename() == columns.file_name(PERIOD, short)
        assert att.get_content() == (templates_dir / PERIOD / columns.file_name(PERIOD, short)
                                     ).read_bytes()
    rows = sends(db)
    assert len(rows) == 42 and {r["status"] for r in rows} == {"sent"}
    assert {r["transport"] for r in rows} == {"smtp"} and rows[0]["kind"] == "send"
    assert {r["message_id"] for r in rows} == {m["Message-ID"] for m in by_rcpt.values()}

    # A second run mails nobody; --resend mails exactly the unit named.
    server.messages.clear()
    again = mail.send(master, PERIOD, templates_dir, db, config(server))
    assert again.count("skipped") == 42 and server.messages == []
    once = mail.send(master, PERIOD, templates_dir, db, config(server), resend=["连云港市卫生健康委员会"])
    assert once.count("sent") == 1 and once.by_unit()["市卫健委"].status == "sent"
    assert [r for _, r, _ in server.messages] == [[master.registry.get("市卫健委").email]]
    with pytest.raises(MinshiError, match="不在2024年6月的填报单位中"):
        mail.send(master, PERIOD, templates_dir, db, config(server), resend=["市不存在局"])


def test_one_bad_recipient_does_not_stop_the_others(server, master, templates_dir, tmp_path):
    db = tmp_path / "l.sqlite"
    bad = master.registry.get("东海县").email
    deferred = master.registry.get("市教育局").email
    dropped = master.registry.get("市开发区").email
    server.refuse.add(bad)
    server.defer[deferred] = 1  # 451 once, then accepted
    server.drop[dropped] = 1  # connection cut once, then accepted
    res = mail.send(master, PERIOD, templates_dir, db, config(server))
    d = res.by_unit()
    assert d["东海县"].status == "failed" and "550" in d["东海县"].detail
    assert d["东海县"].attempts == 1  # a permanent refusal is not retried
    assert d["市教育局"].status == "sent" and d["市教育局"].attempts == 2
    assert d["市开发区"].status == "sent" and d["市开发区"].attempts == 2
    assert res.count("sent") == 41 and len(server.messages) == 41
    assert "东海县：发送失败" in res.summary()
    rows = {r["unit"]: r for r in sends(db)}
    assert rows["东海县"]["status"] == "failed" and "550" in rows["东海县"]["error"]
    # The failed unit is mailed by the next run (the server now accepts it); nobody else is.
    server.reset()
    res2 = mail.send(master, PERIOD, templates_dir, db, config(server))
    assert res2.count("sent") == 1 and [r for _, r, _ in server.messages] == [[bad]]


def test_a_transient_failure_gives_up_after_the_configured_retries(server, master, templates_dir,
                                                                   tmp_path):
    addr = master.registry.get("市卫健委").email
    server.defer[addr] = 10
    res = mail.send(master, PERIOD, templates_dir, tmp_path / "l.sqlite", config(server, retries=1))
    d = res.by_unit()["市卫健委"]
    assert d.status == "failed" and d.attempts == 2 and "451" in d.detail
    assert res.count("sent") == 41


def test_wrong_password_is_a_clear_error_and_nothing_is_recorded(server, master, templates_dir,
                                                                 tmp_path, monkeypatch):
    monkeypatch.setenv(PW_ENV, "not-the-password")
    db = tmp_path / "l.sqlite"
    with pytest.raises(MinshiError) as e:
        mail.send(master, PERIOD, templates_dir, db, config(server))
    assert "密码不对" in str(e.value) and PW_ENV in str(e.value)
    assert "not-the-password" not in str(e.value)
    assert server.messages == [] and sends(db) == []


def test_missing_password_variable_names_it(server, master, templates_dir, tmp_path, monkeypatch):
    monkeypatch.delenv(PW_ENV)
    with pytest.raises(MinshiError, match=PW_ENV):
        mail.send(master, PERIOD, templates_dir, tmp_path / "l.sqlite", config(server))


def test_server_down_is_a_clear_error_and_nothing_is_recorded(server, master, templates_dir,
                                                              tmp_path):
    from tests.imap_server import free_port
    cfg = config(server)
    cfg["smtp"]["port"] = free_port()  # nothing listens there
    db = tmp_path / "l.sqlite"
    with pytest.raises(MinshiError, match="无法连接邮件发送服务器.*连接被拒绝"):
        mail.send(master, PERIOD, templates_dir, db, cfg)
    assert sends(db) == []


def test_plain_smtp_is_refused_for_a_remote_host(master, templates_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(PW_ENV, "x")
    cfg = config(None)
    cfg["smtp"].update(host="smtp.example.gov.cn", security="plain", user="a", password_env=PW_ENV)
    with pytest.raises(MinshiError, match="只允许连接本机"):
        mail.send(master, PERIOD, templates_dir, tmp_path / "l.sqlite", cfg)


def test_without_smtp_the_messages_go_to_the_outbox(master, templates_dir, workdir):
    db = workdir / "output" / "l.sqlite"
    res = mail.send(master, PERIOD, templates_dir, db, config())
    box = workdir / "output" / "outbox" / PERIOD
    assert res.transport == "outbox" and res.outbox == Path("output/outbox/2024-06")
    emls = sorted(box.glob("*.eml"))
    assert len(emls) == 42 and (box / "市卫健委.eml") in emls
    msg = parse((box / "市卫健委.eml").read_bytes())
    assert msg["Subject"] == SUBJECT
    (att,) = list(msg.iter_attachments())
    assert att.get_content() == mail.template_path(templates_dir, PERIOD, "市卫健委").read_bytes()
    rows = sends(db)
    assert len(rows) == 42 and {r["transport"] for r in rows} == {"outbox"}
    # Written once; a rerun writes nothing new.
    assert mail.send(master, PERIOD, templates_dir, db, config()).count("skipped") == 42


def test_dry_run_writes_messages_but_records_nothing(server, master, templates_dir, tmp_path):
    db = tmp_path / "l.sqlite"
    res = mail.send(master, PERIOD, templates_dir, db, config(server), outbox=tmp_path / "box",
                    dry_run=True)
    assert res.transport == "dry-run" and res.count("written") == 42
    assert len(list((tmp_path / "box").glob("*.eml"))) == 42
    assert server.messages == [] and not db.exists()


def test_units_without_email_or_workbook_are_reported(master, templates_dir, tmp_path):
    m = with_emails(notice.load_bundled())
    m.registry.get("灌南县").email = ""
    empty = tmp_path / "none"
    res = mail.send(m, PERIOD, templates_dir, tmp_path / "l.sqlite", config(),
                    outbox=tmp_path / "box")
    assert res.by_unit()["灌南县"].status == "no-email" and res.exit_code == 1
    assert "  未登记邮箱（请在总表“单位”表的“邮箱”列登记）：灌南县" in res.summary()
    res = mail.send(m, PERIOD, empty, tmp_path / "l2.sqlite", config(), outbox=tmp_path / "box2")
    assert res.count("no-file") == 41 and res.count("written") == 0
    assert "缺少填报表（请先运行 minshi templates）：市卫健委、市发改委、" in res.summary()


def test_smtp_over_tls_verifies_the_certificate(master, templates_dir, tmp_path, monkeypatch):
    sink = SmtpSink(tls_folder=tmp_path)
    try:
        monkeypatch.setenv(PW_ENV, sink.password)
        cfg = config(sink)
        cfg["smtp"]["security"] = "ssl"
        db = tmp_path / "l.sqlite"
        with pytest.raises(MinshiError, match="建立加密连接失败.*cafile"):
            mail.send(master, PERIOD, templates_dir, db, cfg)
        assert sends(db) == []
        cfg["smtp"]["cafile"] = str(sink.cert)
        assert mail.send(master, PERIOD, templates_dir, db, cfg).count("sent") == 42
        assert len(sink.messages) == 42
    finally:
        sink.stop()


def test_remind_lists_the_errors_and_attaches_the_template_without_an_annotated_copy(
        master, templates_dir, tmp_path):
    from minshi_xls import collect
    from tests.test_collect_support import cells, fill

    def words_for_a_number(wb):
        ws = wb[columns.SHEET_LEAD]
        hdr, ids = cells(ws)
        ws.cell(next(iter(ids.values())), hdr["本月累计完成"]).value = "正在统计"

    tpl = mail.template_path(templates_dir, PERIOD, "市卫健委")
    bad = fill(tpl, tmp_path / "in" / tpl.name, edit=words_for_a_number)
    good = fill(mail.template_path(templates_dir, PERIOD, "市发改委"), tmp_path / "in" / "fgw.xlsx")
    db = tmp_path / "l.sqlite"
    collect.collect_paths([bad, good], PERIOD, db, master, settings.DEFAULTS)  # no annotate_dir
    res = mail.remind(master, PERIOD, db, config(), templates_dir, outbox=tmp_path / "box")
    units = master.reporting_units()
    assert [d.unit for d in res.deliveries] == [u for u in units if u != "市发改委"]
    msg = parse((tmp_path / "box" / "市卫健委_提醒.eml").read_bytes())
    assert msg["Subject"] == "【民生实事月报】2024年6月 市卫健委 填报提醒"
    body = msg.get_body(("plain",)).get_content()
    assert "有以下 1 处错误" in body and "实际填写了“正在统计”" in body
    assert "工作表“牵头任务” 单元格 L5（指标 " in body and "已标出" not in body
    (att,) = list(msg.iter_attachments())
    assert att.get_content() == tpl.read_bytes()
    assert {r["kind"] for r in sends(db)} == {"remind"} and len(sends(db)) == 41


def test_readme_config_example_loads_and_documents_every_setting(tmp_path):
    """The commented minshi.toml of docs/config.md is valid and covers every default key."""
    import re
    import tomllib

    doc = (Path(__file__).resolve().parents[1] / "docs" / "config.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", doc, re.S)
    (tmp_path / "minshi.toml").write_text(example.group(1), encoding="utf-8")
    cfg = settings.load_config(tmp_path / "minshi.toml")
    written = tomllib.loads(example.group(1))
    for section, values in settings.DEFAULTS.items():
        assert set(written[section]) == set(values), section
        for key in ("password_env", "security", "port", "subject", "remind_subject", "retries"):
            if key in values and section in ("smtp", "imap", "mail"):
                assert cfg[section][key] == values[key], (section, key)
    for section in ("smtp", "imap"):
        assert "password" not in cfg[section]


def test_the_deadline_is_the_one_the_workbook_states(master, tmp_path):
    """minshi templates --deadline 2024-07-08: the mail says 7月8日, not the config's 5日;
    a reminder after the deadline says it has passed."""
    tdir = tmp_path / "t"
    templates.write_workbook(master, "市卫健委", PERIOD,
                             tdir / PERIOD / columns.file_name(PERIOD, "市卫健委"),
                             deadline="2024-07-08", config=settings.DEFAULTS)
    res = mail.send(master, PERIOD, tdir, tmp_path / "l.sqlite", config(), outbox=tmp_path / "b")
    assert res.count("written") == 1 and res.count("no-file") == 41
    body = parse((tmp_path / "b" / "市卫健委.eml").read_bytes()).get_body(("plain",)).get_content()
    assert "请于2024年7月8日（含）前填写附件表格" in body
    from datetime import date
    unit = master.registry.get("市卫健委")
    late = mail.remind_body(unit, PERIOD, mail.UnitState("市卫健委"), config(),
                            due_date=date(2024, 7, 8), today=date(2024, 7, 10))
    assert "截至2024年7月10日，尚未收到" in late and "报送截止日期（2024年7月8日）已过，请尽快填写" in late


def test_a_missing_cafile_is_a_clear_error(server, master, templates_dir, tmp_path):
    cfg = config(server)
    cfg["smtp"].update(security="ssl", cafile=str(tmp_path / "nope.pem"))
    with pytest.raises(MinshiError, match="无法读取证书文件"):
        mail.send(master, PERIOD, templates_dir, tmp_path / "l.sqlite", cfg)


def test_a_bad_subject_pattern_is_a_clear_error(master, templates_dir, tmp_path):
    cfg = config()
    cfg["mail"]["subject"] = "{年}月报表"
    with pytest.raises(MinshiError, match=r"\[mail\] subject .*只能使用 \{year\}"):
        mail.send(master, PERIOD, templates_dir, tmp_path / "l.sqlite", cfg, outbox=tmp_path / "b")


def test_fetch_without_an_imap_server_configured_says_what_to_set(master, tmp_path):
    with pytest.raises(MinshiError, match=r"\[imap\] 中填写 host"):
        mail.fetch(master, PERIOD, tmp_path / "l.sqlite", config())


def test_a_server_that_wants_a_login_stops_the_run_with_what_to_set(server, master,
                                                                    templates_dir, tmp_path):
    cfg = config(server)
    cfg["smtp"]["user"] = ""  # no login configured; the server answers 530 to MAIL FROM
    db = tmp_path / "l.sqlite"
    with pytest.raises(MinshiError, match=r"要求登录（530.*\[smtp\] 中填写 user"):
        mail.send(master, PERIOD, templates_dir, db, cfg)
    assert server.messages == [] and sends(db) == []
