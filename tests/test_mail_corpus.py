"""Every reply a real mail client sends, against a real dovecot: the corpus of tests/mail_corpus.py
(one message per client quirk, written in that client's form) plus the full second round — send
to 42 units, replies from mixed clients including the non-returns, fetch, status, remind — with
every unit in exactly the right state."""
import re
from email import policy
from email.parser import BytesParser

import pytest

from minshi_xls import clock, columns, ledger, mail, notice, reconcile, settings, templates
from tests import imap_server
from tests.imap_server import DovecotServer, SmtpSink, append
from tests.mail_corpus import CASES, Ctx
from tests.test_collect_support import fill, soffice_convert
from tests.test_mail import PW_ENV as SMTP_PW_ENV, with_emails
from tests.test_mail_imap import IMAP_PW_ENV, PERIOD, ledger_rows, send_round

pytestmark = [pytest.mark.skipif(imap_server.available() is not None,
                                 reason=imap_server.available() or ""),
              pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]

MAX_FILE = 250_000  # the too-large case sends 300 KB


@pytest.fixture(scope="module")
def master():
    return with_emails(notice.load_bundled())


@pytest.fixture(scope="module")
def round2(master, tmp_path_factory):
    """send to 42 units -> each case's unit replies in its client's form -> fetch."""
    work = tmp_path_factory.mktemp("corpus")
    server, sink = DovecotServer.start(), SmtpSink()
    mp = pytest.MonkeyPatch()
    mp.setenv(SMTP_PW_ENV, sink.password)
    mp.setenv(IMAP_PW_ENV, server.password)
    try:
        tdir, db, cfg = send_round(master, sink, server, work, limits={
            **settings.DEFAULTS["limits"], "max_file_bytes": MAX_FILE})
        ours = {rc[0]: BytesParser(policy=policy.default).parsebytes(data)
                for _, rc, data in sink.messages}
        sent_raw = [data for _, _, data in sink.messages]
        units = list(master.reporting_units())
        by_case = {}
        for case, unit in zip(CASES, units):
            u = master.registry.get(unit)
            src = tdir / PERIOD / columns.file_name(PERIOD, unit)
            filled_path = fill(src, work / "filled" / src.name)
            if case.fmt == "xls":
                filled_path = soffice_convert(filled_path, "xls", work / "xls")
            filled = filled_path.read_bytes()
            ctx = Ctx(email=u.email, name=u.name, subject=str(ours[u.email]["Subject"]),
                      message_id=ours[u.email]["Message-ID"], file_name=src.name,
                      workbook=filled, blank=src.read_bytes())
            append(server, case.build(ctx), "2024-07-03T10:15:00+08:00")
            by_case[case.id] = unit
        # unrelated mail around them: a newsletter, last month's return
        append(server, b"From: news@example.com\r\nSubject: hello\r\n\r\nhi\r\n",
               "2024-07-01T09:00:00+08:00")
        fetched = mail.fetch(master, PERIOD, db, cfg)
        con = ledger.connect(db)
        try:
            states = mail.unit_states(con, PERIOD, units)
        finally:
            con.close()
        yield dict(work=work, tdir=tdir, db=db, cfg=cfg, fetched=fetched, states=states,
                   by_case=by_case, units=units, server=server, sink=sink, sent_raw=sent_raw)
    finally:
        mp.undo()
        sink.stop()
        server.stop()


def state_of(st) -> str:
    if st.status == "accepted":
        return "accepted"
    if st.status == "rejected":
        return "rejected:" + (st.errors[0]["code"] if st.errors else "")
    return st.mail["code"] if st.mail else "none"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_client_reply_leaves_its_unit_in_the_right_state(round2, case):
    """One test per corpus case: the unit that replied in that client's form."""
    st = round2["states"][round2["by_case"][case.id]]
    assert state_of(st) == case.expect, (case.client, st)


def test_one_bad_message_never_stops_the_fetch(round2, master):
    """Class 1: a Message-ID the modern email API raises on, an unparsable Date; the run goes
    on (exit 0/1 by data) and that message's return is still read."""
    r = round2["fetched"]
    unit = round2["by_case"]["broken-headers"]
    (row,) = ledger_rows(round2["db"], "SELECT r.status, rc.received_at FROM returns r JOIN receipts rc"
                                " ON rc.id = r.receipt_id WHERE r.unit = ?", unit)
    # no usable Date: the server's arrival time (INTERNALDATE) orders it
    assert clock.show(row["received_at"]) == "2024-07-03 10:15"
    assert r.exit_code in (0, 1)
    assert r.messages == len(CASES)  # every reply looked at, the newsletter not


def test_attachments_are_recognised_by_their_bytes_at_any_depth(round2):
    """Class 2: 附件, a cut name, winmail.dat, .rar, .7z, Apple's nesting, a forwarded message."""
    names = round2["fetched"].attachments
    assert "附件" in names and "2024-06_市" in names
    for case in ("exchange-tnef", "oa-rar", "foxmail-7z", "apple-alternative-inline",
                 "forwarded-rfc822", "iphone-cut-name", "android-fujian"):
        assert round2["states"][round2["by_case"][case]].status == "accepted", case
    srcs = {r["source_path"] for r in ledger_rows(round2["db"], "SELECT source_path FROM receipts")}
    assert any(s.endswith("/报表.rar!report-2024-06.xlsx") for s in srcs)
    assert any(re.search(r"/报表\.7z!2024-06_.*\.xlsx$", s) for s in srcs)


def test_names_are_decoded_whatever_the_encoder_did(round2):
    """Class 3: GB2312/GBK words split mid-character, unquoted words, raw 8-bit GBK, RFC 2231
    continuations: each file name comes out as the unit wrote it."""
    names = set(round2["fetched"].attachments)
    for case in ("foxmail65-gb2312-split", "foxmail72-unquoted-name", "outlook2007-split-word",
                 "outlook2016-utf8-split", "qq-gb18030", "coremail-163",
                 "thunderbird-rfc2231-continuation", "raw-8bit-gbk", "scan-and-photo"):
        assert columns.file_name(PERIOD, round2["by_case"][case]) in names, case


def test_a_return_is_found_without_the_period_in_subject_or_name(round2, master):
    """Class 4: a registered address with "报表"/"数据.xlsx", and an unknown address."""
    r = round2["states"]
    assert r[round2["by_case"]["registered-no-period"]].status == "accepted"
    unit = round2["by_case"]["unknown-sender"]
    assert r[unit].status == "accepted"
    found = ledger_rows(round2["db"], "SELECT unit, message FROM issues_v WHERE code = 'unexpected-sender'")
    assert [f["unit"] for f in found] == [unit] and "xiaowang1988@163.example" in found[0]["message"]


def test_replies_that_are_not_returns_show_in_fetch_status_and_remind(round2, master):
    """Class 5 (and 6, 7): each non-return is recorded against its unit, shown in fetch's
    summary and in status, never counted, and the reminder says what happened."""
    by, st = round2["by_case"], round2["states"]
    labels = {c: st[by[c]].label for c in ("outlook-later", "exchange-oof", "postfix-dsn",
                                           "qq-big-attachment", "too-large", "forward-of-blank")}
    assert labels == {"outlook-later": "回复无附件", "exchange-oof": "自动回复",
                      "postfix-dsn": "退信：地址无效", "qq-big-attachment": "超大附件链接，需手工下载",
                      "too-large": "退回：文件过大", "forward-of-blank": "退回的下发表格"}
    summary = round2["fetched"].summary()
    for title in ("[回复无附件]", "[自动回复]", "[退信：地址无效]", "[超大附件链接，需手工下载]"):
        assert title in summary
    assert "mail.qq.com/cgi-bin/ftnExs_download" in st[by["qq-big-attachment"]].mail["message"]
    con = ledger.connect(round2["db"])
    try:
        rec = reconcile.compute(master, PERIOD, con, round2["cfg"])
    finally:
        con.close()
    table = "\n".join(reconcile.status_table(rec))
    for unit, label in ((by["outlook-later"], "回复无附件"), (by["coremail-bounce"], "退信：地址无效"),
                        (by["cloud-drive-link"], "超大附件链接，需手工下载")):
        assert re.search(rf"^{unit}\s.*{label}", table, re.M), unit
    # 报送情况 of the consolidated workbook, written and read back: the same words in 说明
    import openpyxl
    from minshi_xls import consolidated
    book = consolidated.write(rec, round2["work"] / "汇总.xlsx")
    ws = openpyxl.load_workbook(book)[
        consolidated.SHEET_RETURNS]
    cells = [[c.value for c in r] for r in ws.iter_rows()]
    head = next(r for r in cells if "说明" in r)
    said = {r[head.index("单位")]: r[head.index("说明")] for r in cells[cells.index(head) + 1:]
            if r[head.index("单位")]}
    assert said[by["exchange-oof"]] == "自动回复" and said[by["postfix-dsn"]] == "退信：地址无效"
    assert said[by["scan-and-photo"]] == "随表附件：盖章扫描件.pdf、现场照片.jpg"
    # none of them counts as a return
    counted = {u.unit for u in rec.expected if u.returned}
    assert not counted & {by[c] for c in ("outlook-later", "exchange-oof", "qq-autoreply",
                                         "postfix-dsn", "coremail-bounce", "qq-big-attachment",
                                         "cloud-drive-link", "forward-of-blank")}


def test_own_workbook_in_a_bounce_or_forward_is_not_a_return(round2):
    """Class 6: the DSN carries our workbook; a unit forwards the blank back: neither counts."""
    by = round2["by_case"]
    for case in ("postfix-dsn", "forward-of-blank"):
        got = ledger_rows(round2["db"], "SELECT id FROM returns WHERE unit = ?", by[case])
        assert got == [], case
    assert round2["states"][by["forward-of-blank"]].mail["code"] == "mail-own-workbook"


def test_an_oversized_file_is_the_units_rejected_return(round2):
    """Class 7: the reminder says the file is too large, not that nothing arrived."""
    st = round2["states"][round2["by_case"]["too-large"]]
    assert st.status == "rejected" and st.errors[0]["code"] == "file-too-large"


def test_scans_and_photos_are_kept_beside_the_return(round2):
    """Class 8: archived under the unit, listed with the unit's state."""
    unit = round2["by_case"]["scan-and-photo"]
    assert round2["states"][unit].extra_files == ["盖章扫描件.pdf", "现场照片.jpg"]
    kept = ledger_rows(round2["db"], "SELECT archive_path FROM mail_files WHERE unit = ?", unit)
    for k in kept:
        p = round2["db"].parent / k["archive_path"]
        assert p.is_file() and f"/{unit}/随表附件/" in k["archive_path"]
    assert (round2["db"].parent / kept[0]["archive_path"]).read_bytes().startswith(b"%PDF")


def test_second_round_every_unit_in_exactly_the_right_state(round2, master):
    """42 units: the corpus units as their case says, the rest not reported; remind writes to
    exactly the units that owe something, each worded for its state, not to a bounced address."""
    st, by = round2["states"], round2["by_case"]
    expect = {by[c.id]: c.expect for c in CASES}
    for unit in round2["units"]:
        assert state_of(st[unit]) == expect.get(unit, "none"), unit
    sink = round2["sink"]
    sink.reset()
    res = mail.remind(master, PERIOD, round2["db"], round2["cfg"], round2["tdir"])
    owing = [u for u in round2["units"] if expect.get(u) != "accepted"]
    bounced = [by["postfix-dsn"], by["coremail-bounce"]]
    assert [d.unit for d in res.deliveries] == owing
    assert sorted(d.unit for d in res.deliveries if d.status == "bounced") == sorted(bounced)
    assert res.count("sent") == len(owing) - 2 == len(sink.messages)
    bodies = {rc[0]: BytesParser(policy=policy.default).parsebytes(data).get_body(
        ("plain",)).get_content() for _, rc, data in sink.messages}

    def body(case):
        return bodies[master.registry.get(by[case]).email]
    # Class 10: written at 02:15 UTC, read by the clerk as 10:15 China time
    assert "2024-07-03 10:15 的回复邮件没有附带2024年6月填报表" in body("outlook-later")
    assert "2024-07-03 10:15" in st[by["outlook-later"]].mail["message"]
    assert "只收到你单位邮箱的自动回复" in body("qq-autoreply")
    assert "下载链接（超大附件或网盘）" in body("cloud-drive-link")
    assert "超出允许的大小" in body("too-large")
    assert "下发的空白填报表" in body("forward-of-blank")
    silent = [u for u in round2["units"] if u not in expect][0]
    assert "尚未收到你单位2024年6月" in bodies[master.registry.get(silent).email]
    assert "邮箱退信，未发送" in res.summary()


def test_eight_bit_names_in_bodystructure_are_decoded(round2):
    """Class 3: dovecot sends a raw GBK name in BODYSTRUCTURE as an IMAP literal (``{n}`` and
    the bytes); IMAPClient parses it and the name is decoded, so the period is found in it."""
    from imapclient import IMAPClient
    server = round2["server"]
    name = "2024年6月报表.xlsx".encode("gbk")
    raw = (b"From: someone@example.org\r\nSubject: hi\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=\"b8\"\r\n\r\n--b8\r\n"
           b"Content-Type: text/plain\r\n\r\nx\r\n--b8\r\nContent-Type: application/octet-stream;"
           b" name=\"" + name + b"\"\r\nContent-Disposition: attachment; filename=\"" + name +
           b"\"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n--b8--\r\n")
    append(server, raw, "2024-07-05T09:00:00+08:00", folder="Literal")
    c = IMAPClient(server.host, server.port, ssl=False)
    try:
        c.login(server.user, server.password)
        c.select_folder("Literal", readonly=True)
        (uid,) = c.search("ALL")
        struct = c.fetch([uid], ["BODYSTRUCTURE"])[uid][b"BODYSTRUCTURE"]
        raw_answer = c._imap.uid("FETCH", str(uid), "(BODYSTRUCTURE)")[1]
    finally:
        c.logout()
    assert any(isinstance(x, tuple) for x in raw_answer)  # the server did send a literal
    names = mail.structure_names(struct)
    assert "2024年6月报表.xlsx" in names
    assert mail.period_pattern(PERIOD).search(names)


def test_a_saved_message_is_read_like_a_fetched_one(round2, tmp_path):
    """A reply saved as .eml and dropped in a folder goes through the same reader: the broken
    mailer's headers (the modern email API raises on them) and Outlook's winmail.dat."""
    from minshi_xls import collect
    from tests import mail_corpus
    unit = round2["by_case"]["broken-headers"]
    src = round2["tdir"] / PERIOD / columns.file_name(PERIOD, unit)
    ctx = Ctx(email="x@units.test", name=unit, subject="s", message_id="<m@x>",
              file_name=src.name, workbook=src.read_bytes(), blank=b"")
    for case in (mail_corpus.broken_headers, mail_corpus.outlook_exchange_tnef):
        (tmp_path / f"{case.__name__}.eml").write_bytes(case(ctx))
    got = sorted(i.source_path.rsplit("!", 1)[-1] for i in collect.expand_paths([tmp_path]))
    assert got == [src.name, src.name]


def test_the_workbooks_own_meta_decides_its_period(round2, master):
    """Class 4: a registered unit mails last month's workbook under a subject that names no
    month: it is read, and recorded for May, not held against the unit in June."""
    from tests.mail_corpus import registered_no_period
    unit = round2["units"][-1]  # a unit that has not replied
    may = round2["work"] / "may"
    templates.write_templates(master, "2024-05", may, config=settings.DEFAULTS)
    src = may / columns.file_name("2024-05", unit)
    u = master.registry.get(unit)
    filled = fill(src, round2["work"] / "filled-may" / src.name).read_bytes()
    append(round2["server"], registered_no_period(Ctx(
        email=u.email, name=u.name, subject="", message_id="<none@x>", file_name=src.name,
        workbook=filled, blank=b"")).replace(b"<noperiod.", b"<may."), "2024-07-04T09:00:00+08:00")
    res = mail.fetch(master, PERIOD, round2["db"], round2["cfg"])
    assert res.messages == 1
    got = ledger_rows(round2["db"], "SELECT period, status FROM returns WHERE unit = ?", unit)
    assert [g["period"] for g in got] == ["2024-05"]
    con = ledger.connect(round2["db"])
    try:
        assert mail.unit_states(con, PERIOD, [unit])[unit].status is None
    finally:
        con.close()


def test_rar_and_7z_members_have_the_zip_bomb_limits():
    """Class 2: a 7z member that inflates past max_file_bytes (a few KB packed) and a rar member
    declared too large are refused as file-too-large, never read whole."""
    from minshi_xls import collect, guard
    from minshi_xls.model import Incoming
    from tests.mail_corpus import rar4, seven_zip
    limits = {**guard.limits_from(None), "max_file_bytes": 100_000}
    bomb = seven_zip("报表.xlsx", b"PK\x03\x04" + bytes(5_000_000))
    assert len(bomb) < 10_000
    big_rar = rar4("report.xlsx", b"PK\x03\x04" + bytes(200_000))
    for name, data in (("a.7z", bomb), ("b.rar", big_rar)):
        (got,) = list(collect.expand_bytes(Incoming(name, data, f"x/{name}"), limits=limits))
        assert isinstance(got, collect.Refused) and got.finding[0] == "file-too-large", name


def test_what_we_sent_every_client_reads(round2):
    """Class 9, as the SMTP server received the 42 messages: Reply-To the mailbox fetch reads,
    a plain filename= of folded words of at most 75 characters beside filename*=, the deadline
    inclusive."""
    for raw in round2["sent_raw"]:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        assert msg["Reply-To"] == round2["server"].user
        disp = raw.split(b"Content-Disposition:", 1)[1].split(b"\r\n\r\n", 1)[0].decode()
        words = re.findall(r"=\?utf-8\?b\?[^?]*\?=", disp)
        assert words and all(len(w) <= 75 for w in words) and "filename*=utf-8''" in disp
        assert "（含）前" in msg.get_body(("plain",)).get_content()


def test_a_plain_bounce_names_only_the_failed_address():
    """The addresses in the quoted original (our From, the To) are not the failed ones."""
    from minshi_xls.mail import incoming
    from tests.mail_corpus import coremail_bounce
    ctx = Ctx(email="unit07@units.test", name="单位", subject="【民生实事月报】2024年6月 x 填报表",
              message_id="<m@minshi.test>", file_name="f.xlsx", workbook=b"", blank=b"",
              office="office@minshi.test")
    reply = incoming.read(coremail_bounce(ctx))
    assert reply.bounce and reply.failed == ["unit07@units.test"]
