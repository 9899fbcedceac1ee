"""The console's mail buttons on real servers: send through SMTP (aiosmtpd), a unit replies into
dovecot, fetch takes the reply in, remind writes to the others; the unit page shows the mails
sent to and received from the unit."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest
from pypdf import PdfWriter

from minshi_xls import columns as C
from minshi_xls import ledger, mail
from tests import imap_server
from tests.imap_server import DovecotServer, SmtpSink, append, server_bytes
from tests.test_collect_support import fill
from tests.test_mail_imap import reply
from tests.test_web import PERIOD, base, finish, post, project, rows_of, text  # noqa: F401

pytestmark = [pytest.mark.skipif(imap_server.available() is not None,
                                 reason=imap_server.available() or ""),
              pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]

UNIT = "市卫健委"
SILENT = "市妇联"


@pytest.fixture
def servers(monkeypatch):
    dovecot, sink = DovecotServer.start(), SmtpSink()
    monkeypatch.setenv("MINSHI_TEST_SMTP_PASSWORD", sink.password)
    monkeypatch.setenv("MINSHI_TEST_IMAP_PASSWORD", dovecot.password)
    yield dovecot, sink
    sink.stop()
    dovecot.stop()


def test_send_fetch_remind_from_the_console(project, servers, tmp_path):
    from minshi_xls.web import Project
    from minshi_xls.web.app import create_app
    dovecot, sink = servers
    master = project / "output" / "master.xlsx"
    wb = openpyxl.load_workbook(master)
    ws = wb["单位"]
    col = [c.value for c in ws[1]].index("邮箱") + 1
    for r in range(2, ws.max_row + 1):
        ws.cell(r, col).value = f"unit{r:02d}@units.test"
    wb.save(master)
    (project / "minshi.toml").write_text(f"""
[office]
name = "连云港市民生实事办公室"
email = "office@minshi.test"
[smtp]
host = "{sink.host}"
port = {sink.port}
security = "plain"
user = "{sink.user}"
sender = "office@minshi.test"
password_env = "MINSHI_TEST_SMTP_PASSWORD"
[imap]
host = "{dovecot.host}"
port = {dovecot.port}
security = "plain"
user = "{dovecot.user}"
password_env = "MINSHI_TEST_IMAP_PASSWORD"
[mail]
retry_delay_s = 0
""", encoding="utf-8")
    app = create_app(Project.at(project, config_path=project / "minshi.toml"), token="t" * 20,
                     period=PERIOD, testing=True)
    client = app.test_client()
    client.get("/?token=" + "t" * 20)
    assert finish(app, post(client, f"/p/{PERIOD}/run/templates")).state == "done"

    job = finish(app, post(client, f"/p/{PERIOD}/run/send"))
    assert job.state == "done", job.error
    units = list(rows_of(text(client.get(f"/p/{PERIOD}/"))))
    assert f"已发送 {len(units)}" in job.lines[0]
    assert len(sink.messages) == len(units)

    con = ledger.connect(project / "output" / "minshi.sqlite")
    sent = {r[0]: (r[1], r[2]) for r in con.execute("SELECT unit, message_id, to_addr FROM sends")}
    con.close()
    msg_id, to = sent[UNIT]
    ret = fill(project / "templates" / PERIOD / C.file_name(PERIOD, UNIT), tmp_path / "r.xlsx")
    scan = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.write(scan)
    append(dovecot, reply(to, f"回复：【民生实事月报】2024年6月 {UNIT} 填报表",
                          [(ret.name, ret.read_bytes()), ("盖章扫描件.pdf", scan.getvalue())],
                          in_reply_to=msg_id), when="2024-07-03T10:00:00+08:00")
    # another unit answers without the workbook: a reply state of mail's, shown as it names it
    append(dovecot, reply(sent[SILENT][1], f"回复：【民生实事月报】2024年6月 {SILENT} 填报表", [],
                          in_reply_to=sent[SILENT][0], date="Wed, 03 Jul 2024 11:00:00 +0800"),
           when="2024-07-03T11:00:00+08:00")

    job = finish(app, post(client, f"/p/{PERIOD}/run/fetch"))
    assert job.state == "done", job.error
    states = rows_of(text(client.get(f"/p/{PERIOD}/")))
    assert states[UNIT] == "已接收"
    con = ledger.connect(project / "output" / "minshi.sqlite")
    said = mail.unit_states(con, PERIOD, [SILENT])[SILENT].label
    con.close()
    assert said not in ("未报送", "已接收") and states[SILENT] == said  # 回复无附件
    page = text(client.get(f"/p/{PERIOD}/unit/{UNIT}"))
    assert to in page and "填报表" in page  # the mail sent
    assert f"回复：【民生实事月报】2024年6月 {UNIT} 填报表" in page  # the mail received
    assert "2024-07-03 10:00" in page  # its date, in the office's zone
    link = re.search(rf'href="(/p/{PERIOD}/attachment/\d+)">盖章扫描件.pdf<', page)
    assert link, "the sealed scan is listed"
    assert client.get(link.group(1)).data == scan.getvalue()
    # the messages as the server holds them (IMAP BODY[]), downloadable from the unit's page
    held = set(server_bytes(dovecot).values())
    link = re.search(r'class="message-original" href="([^"]+)"', page)
    original = client.get(link.group(1)).data if link else None
    assert original in held and b"From: " + to.encode() in original
    silent = text(client.get(f"/p/{PERIOD}/unit/{SILENT}"))
    link = re.search(r'id="reply-original" href="([^"]+)"', silent)
    assert link and "最近的回复：" in silent  # its no-attachment reply, kept as it came
    original = client.get(link.group(1)).data
    assert original in held and b"From: " + sent[SILENT][1].encode() in original

    preview = text(client.get(f"/p/{PERIOD}/remind"))
    assert f'data-unit="{UNIT}"' not in preview
    row = preview.split(f'data-unit="{SILENT}"')[1].split("</tr>")[0]
    assert said in row and "尚未报送；" in row  # and what the reply said
    sink.reset()
    job = finish(app, post(client, f"/p/{PERIOD}/run/remind"))
    assert job.state == "done", job.error
    assert len(sink.messages) == len(units) - 1
    assert f"已发送 {len(units) - 1}" in job.lines[0]
