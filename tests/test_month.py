"""The clerk's month, played as a new user would from an empty folder: ``minshi init``, two
periods of templates → send → replies (by mail, one dropped in a folder, one late) → collect →
status → remind → the corrected annotated copy mailed back → reconcile.

Every time printed or written must be the office's time (China, whatever the mail's zone), a
file's own time marked 文件时间 and never called late; every line a clerk reads is Chinese, with
no issue code inside a sentence.
"""
from __future__ import annotations

import email
import email.policy
import os
import re
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from minshi_xls import columns as C
from minshi_xls import issues
from minshi_xls.cli import cli
from test_collect_support import cells, fill, register_emails

MAY, JUNE = "2024-05", "2024-06"
UTC = timezone.utc
TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2})?")
CODES = [c for c in issues.TYPES]
#: Names, not sentences: paths, files, addresses, commands, options, config keys.
NAMES = re.compile(r"minshi [a-z ]+|--[\w-]+|[\w.+-]+@[\w.-]+|[\w./\\~-]*\.(xlsx|eml|txt|csv|toml|"
                   r"sqlite|xlsm|zip)\b|\[[a-z]+\]( [a-z_]+)?|(output|templates|annotated|outbox|"
                   r"inbox\w*)[/\\]\S*|\b(README|SMTP|IMAP|JSON|Excel|WPS|YYYY-MM(-DD)?|HH:MM)\b")


def minshi(*args, ok=(0,)):
    r = CliRunner().invoke(cli, [str(a) for a in args])
    assert r.exit_code in ok, (args, r.output, r.exception)
    assert_chinese(r.output)
    return r.output


def assert_chinese(output: str) -> None:
    """Every line a clerk reads is Chinese: any line with an English word has Chinese in it, no
    click or Python English, no issue code (they live in JSON, SQL and the 问题代码 column)."""
    assert not re.search(r"Usage:|Error:|Traceback|Missing|No such|Try '", output), output
    for code in CODES:
        assert code not in output, (code, output)
    for line in output.splitlines():
        rest = NAMES.sub("", line)
        if re.search(r"[A-Za-z]{3,}", rest):
            assert re.search(r"[\u4e00-\u9fff]", line), line


def shown_times(text: str):
    return [m.group(0) for m in TIME.finditer(text)]


def china(t: datetime) -> str:
    return t.astimezone(timezone.utc).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")


def reply(folder: Path, unit: str, address: str, when: datetime, attachment: Path,
          name: str = None) -> Path:
    """The unit's answer as its mail client sends it: Date in the sender's zone (UTC here)."""
    msg = EmailMessage()
    msg["From"] = f"{unit} <{address}>"
    msg["To"] = "msss@lyg.example.cn"
    msg["Subject"] = f"回复：{unit}民生实事填报表"
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<{address.split('@')[0]}.{when.timestamp():.0f}@units.lyg.example.cn>"
    msg.set_content("附件是我单位本月的填报表，请查收。")
    msg.add_attachment(attachment.read_bytes(), maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       filename=name or attachment.name)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{unit}_{when:%m%d%H%M}.eml"
    out.write_bytes(msg.as_bytes())
    return out


def typed_text(wb):
    ws = wb[C.SHEET_LEAD]
    hdr, ids = cells(ws)
    ws.cell(next(iter(ids.values())), hdr["本月累计完成"]).value = "三"


def attachment_of(eml: Path):
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    part = next(p for p in msg.iter_attachments())
    return part.get_filename(), part.get_payload(decode=True)


def returns_sheet(workbook: Path):
    wb = openpyxl.load_workbook(workbook, read_only=True)
    ws = next(wb[s] for s in wb.sheetnames if s == "报送情况")
    rows = list(ws.iter_rows(values_only=True))
    head_at = next(i for i, r in enumerate(rows) if r and "单位" in r)
    head = rows[head_at]
    return {r[head.index("单位")]: dict(zip(head, r)) for r in rows[head_at + 1:]
            if r and r[head.index("单位")]}


@pytest.fixture()
def month(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MINSHI_SMTP_PASSWORD", raising=False)
    return tmp_path


def test_a_clerks_two_months_from_an_empty_folder(month):
    # --- set-up: minshi init on an empty folder ------------------------------------------------
    out = minshi("init", "--no-input", "--office", "连云港市民生实事办公室", "--contact", "王科长",
                 "--phone", "0518-85800000")
    assert (month / "minshi.toml").exists() and (month / "output" / "master.xlsx").exists()
    assert "已导入通知" in out and "没有登记邮箱" in out and "单位”表" in out
    assert "办公室邮箱" in out  # the one [office] setting not given
    assert "下一步：minshi templates --period" in out
    addresses = register_emails(month / "output" / "master.xlsx", skip=("灌南县",))
    out = minshi("init", "--no-input", "--email", "msss@lyg.example.cn", "--contact", "李四")
    assert "[office] contact 已设为“王科长”，未改成“李四”" in out  # never overwritten
    assert "1 个单位没有登记邮箱（灌南县）" in out
    toml = (month / "minshi.toml").read_text(encoding="utf-8")
    assert 'contact = "王科长"' in toml and 'email = "msss@lyg.example.cn"' in toml
    assert "# 联系人" in toml  # the comments stay

    # --- May: templates, send, replies ------------------------------------------------------
    out = minshi("templates", "--period", MAY)
    assert "截止日期 2024-06-05" in out and "灌南县" in out
    out = minshi("send", "--period", MAY, ok=(0, 1))  # 灌南县 has no address: exit 1
    sent = sorted((month / "output" / "outbox" / MAY).glob("*.eml"))
    assert len(sent) == 41 and "灌南县" in out  # 42 reporting units, one without an address
    body = email.message_from_bytes(sent[0].read_bytes(), policy=email.policy.default)
    assert "王科长" in body.get_body(("plain",)).get_content()  # the office's contact reaches units

    tdir = month / "templates" / MAY
    inbox = month / "inbox" / MAY
    on_time = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)  # 10:00 in China
    late = datetime(2024, 6, 7, 1, 30, tzinfo=UTC)  # 09:30 on the 7th: two days late
    bad = fill(tdir / C.file_name(MAY, "市卫健委"), month / "work" / "卫健委5月.xlsx",
               edit=typed_text)
    reply(inbox, "市卫健委", addresses["市卫健委"], on_time, bad)
    reply(inbox, "市教育局", addresses["市教育局"], late,
          fill(tdir / C.file_name(MAY, "市教育局"), month / "work" / "教育局.xlsx"))
    # 东海县's file was copied into the folder by hand today: only its own (modified) time
    dropped = fill(tdir / C.file_name(MAY, "东海县"), inbox / "东海县5月报表.xlsx")
    os.utime(dropped, (datetime(2024, 6, 20, 8, 0, tzinfo=UTC).timestamp(),) * 2)

    out = minshi("collect", inbox, "--period", MAY, ok=(1,))
    assert "不是数字：" in out  # the sentence, not the code
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.split() and ln.split()[0] in
             ("市卫健委", "市教育局", "东海县")}
    assert china(on_time) in lines["市卫健委"] and "2024-06-03 10:00" in lines["市卫健委"]
    assert "2024-06-07 09:30" in lines["市教育局"]
    assert "2024-06-20 16:00（文件时间）" in lines["东海县"]
    assert "逾期报送：报送时间 2024-06-07 09:30 晚于截止时间 2024-06-05" in out
    assert not any("东海县" in ln and "逾期" in ln for ln in out.splitlines())
    assert all(" " in t and "+" not in t for t in shown_times(out))  # no ISO, no offsets

    out = minshi("status", "--period", MAY)
    status = {ln.split()[0]: ln for ln in out.splitlines() if ln.split()}
    assert "2024-06-03 10:00" in status["市卫健委"] and "2024-06-07 09:30" in status["市教育局"]
    assert "2024-06-20 16:00（文件时间）" in status["东海县"]
    assert status["东海县"].split()[4] == "否"  # not late on a guess
    assert status["市教育局"].split()[4] == "是"
    out = minshi("accept", "东海县", "--period", MAY)  # its versions, as the clerk chooses
    assert "东海县5月报表.xlsx（文件时间 2024-06-20 16:00" in out

    # --- remind; 市卫健委 corrects the annotated copy and mails it back ------------------------
    out = minshi("remind", "--period", MAY, ok=(0, 1))
    reminder = month / "output" / "outbox" / MAY / "市卫健委_提醒.eml"
    name, data = attachment_of(reminder)
    copy = month / "work" / "更正" / name
    copy.parent.mkdir()
    copy.write_bytes(data)
    wb = openpyxl.load_workbook(copy)
    assert "问题清单" in wb.sheetnames  # the annotated copy, cells marked
    ws = wb[C.SHEET_LEAD]
    hdr, ids = cells(ws)
    ws.cell(next(iter(ids.values())), hdr["本月累计完成"]).value = 3
    wb.save(copy)
    corrected = datetime(2024, 6, 8, 0, 15, tzinfo=UTC)
    reply(month / "inbox" / "更正", "市卫健委", addresses["市卫健委"], corrected, copy)
    out = minshi("collect", month / "inbox" / "更正", "--period", MAY)
    row = next(ln for ln in out.splitlines() if ln.startswith("市卫健委"))
    assert "已接收" in row and "2024-06-08 08:15" in row and "（文件时间）" not in row

    out = minshi("reconcile", "--period", MAY)
    book = next((month / "output" / MAY).glob("*进展汇总表.xlsx"))
    sheet = returns_sheet(book)
    assert sheet["市卫健委"]["报送时间"] == "2024-06-08 08:15"
    assert sheet["市卫健委"]["错误"] == 0
    assert sheet["市教育局"]["报送时间"] == "2024-06-07 09:30" and sheet["市教育局"]["是否逾期"] == "是"
    assert sheet["东海县"]["报送时间"] == "2024-06-20 16:00（文件时间）"
    assert sheet["东海县"]["是否逾期"] == "否"

    # --- June: the next command, templates with May's figures, one reply ---------------------
    out = minshi("init", "--no-input")
    assert "下一步：minshi templates --period 2024-06" in out and "未改动" in out
    minshi("templates", "--period", JUNE)
    out = minshi("templates", "--period", "2025-06", ok=(2,))
    assert "总表是 2024 年的任务" in out
    june_book = fill(month / "templates" / JUNE / C.file_name(JUNE, "市卫健委"),
                     month / "work" / "卫健委6月.xlsx", share=0.6)
    reply(month / "inbox" / JUNE, "市卫健委", addresses["市卫健委"],
          datetime(2024, 7, 2, 23, 59, tzinfo=UTC), june_book)
    out = minshi("collect", month / "inbox" / JUNE, "--period", JUNE)
    assert "2024-07-03 07:59" in out
    out = minshi("status", "--period", JUNE)
    assert "2024-07-03 07:59" in out and "未报" in out
    for t in shown_times(out):
        assert "T" not in t and "+" not in t

    # --- the unattended part in one command, and who to remind --------------------------------
    late_june = fill(month / "templates" / JUNE / C.file_name(JUNE, "市教育局"),
                     month / "work" / "教育局6月.xlsx", edit=typed_text)
    reply(month / "inbox" / "6月第二批", "市教育局", addresses["市教育局"],
          datetime(2024, 7, 4, 6, 0, tzinfo=UTC), late_june)
    out = minshi("month", "--period", JUNE, month / "inbox" / "6月第二批", ok=(1,))
    assert "未设收信服务器" in out and "共 1 个文件、1 个单位" in out
    assert "通报：" in out and (month / "output" / JUNE / "通报_2024-06.txt").exists()
    assert "未报送 40 个" in out and "报表有错误 1 个：市教育局" in out
    assert "发送提醒：minshi remind --period 2024-06" in out
