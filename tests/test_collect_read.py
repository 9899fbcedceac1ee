"""Collect never counts a file it did not read right (issue 9): a bounce carrying our own
template, a workbook of one unit re-used by another, a run of empty cells, and the template's
own validation agreeing with what collect says. The single-file cases are in
test_corpus_read.py; these need the ledger, the CLI or the template writer."""
from __future__ import annotations

import copy
import hashlib
import sqlite3
from email.message import EmailMessage

import openpyxl
from click.testing import CliRunner

from minshi_xls import collect, ledger, reconcile, settings, templates
from minshi_xls import columns as C
from minshi_xls.cli import cli
from minshi_xls.model import Incoming
from test_collect_support import ON_TIME, PERIOD, cells, fill, master, template

LATER = "2024-07-04T10:00:00+08:00"


def bounce(attachment: bytes, name: str) -> bytes:
    """A delivery failure as mail servers send it: the original message's attachment inside."""
    msg = EmailMessage()
    msg["From"] = "Mail Delivery System <MAILER-DAEMON@mail.example>"
    msg["To"] = "office@lyg.example"
    msg["Subject"] = "Undelivered Mail Returned to Sender"
    msg["Date"] = "Thu, 04 Jul 2024 10:00:00 +0800"
    msg["Message-ID"] = "<bounce-1@mail.example>"
    msg.set_content("This is the mail system. Your message could not be delivered.")
    msg.add_attachment(attachment, maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       filename=name)
    return msg.as_bytes()


def test_generated_workbooks_are_recorded_and_a_bounce_is_never_a_return(tmp_path):
    db = tmp_path / "minshi.sqlite"
    made = templates.write_templates(master(), PERIOD, tmp_path / "t", config={}, db=db)
    hashes = ledger.generated_in(db)
    assert len(hashes) == len(made.entries) and all(
        hashlib.sha256(e.path.read_bytes()).hexdigest() in hashes for e in made.entries)
    wj = next(e.path for e in made.entries if e.unit == "市卫健委")
    jy = next(e.path for e in made.entries if e.unit == "市教育局")
    good = fill(wj, tmp_path / "in" / wj.name)
    items = [Incoming(good.name, good.read_bytes(), str(good), received_at=ON_TIME)]
    # a day later two bounces come back, carrying the blank templates of both units
    for path in (wj, jy):
        items += collect.expand_bytes(Incoming(f"{path.stem}.eml", bounce(path.read_bytes(),
                                                                          path.name),
                                               f"{path.stem}.eml"))
    res = collect.ingest(items, PERIOD, db, master(), {})
    blank = [i for i in res.issues if i.code == "blank-return"]
    assert sorted(i.unit for i in blank) == ["市卫健委", "市教育局"]
    assert all("与系统生成的填报表完全相同" in i.message and i.severity == "error" for i in blank)
    assert {(r.unit, r.status) for r in res.rows} == {
        ("市卫健委", "accepted"), ("市卫健委", "blank"), ("市教育局", "blank")}
    # the accepted return still counts; 市教育局 is still 未报送
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    current = reconcile.current_returns(con, PERIOD)
    assert current["市卫健委"]["source_path"] == str(good) and "市教育局" not in current
    # check (no ledger written) tells the same bytes by the ledger it is pointed at
    r = CliRunner().invoke(cli, ["check", str(jy), "--db", str(db), "--master", "nope.xlsx"])
    assert r.exit_code == 2  # a master named on purpose must exist
    report = collect.check([jy], db_path=db)
    assert [i.code for i in report.issues if i.severity == "error"] == ["blank-return"]
    assert "空白报表" in collect.check_lines(report)[0]


def test_a_workbook_reused_by_another_unit_never_replaces_the_first_units_return(tmp_path):
    wj = fill(template(tmp_path, "市卫健委"), tmp_path / "in" / C.file_name(PERIOD, "市卫健委"),
              share=0.5)
    # 市教育局 takes 市卫健委's workbook, types its own figures and sends it under its own name
    reused = fill(template(tmp_path, "市卫健委"), tmp_path / "in2" / C.file_name(PERIOD, "市教育局"),
                  share=0.9)
    db = tmp_path / "minshi.sqlite"
    items = [Incoming(wj.name, wj.read_bytes(), str(wj), received_at=ON_TIME),
             Incoming(reused.name, reused.read_bytes(), str(reused), received_at=LATER)]
    res = collect.ingest(items, PERIOD, db, master(), {})
    conflict = [i for i in res.issues if i.code == "identity-conflict"]
    assert len(conflict) == 1 and conflict[0].severity == "error"
    assert "报表标识页为“市卫健委”" in conflict[0].message and "文件名为“市教育局”" in conflict[0].message
    assert sorted((r.file, r.status) for r in res.rows) == sorted(
        [(wj.name, "accepted"), (reused.name, "rejected")])
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    assert reconcile.current_returns(con, PERIOD)["市卫健委"]["source_path"] == str(wj)
    ws = openpyxl.load_workbook(wj)[C.SHEET_LEAD]
    hdr, ids = cells(ws)
    want = {i: ws.cell(r, hdr["本月累计完成"]).value for i, r in ids.items()}
    got = ledger.accepted_numbers(con, PERIOD, ("本月累计完成",))
    assert got["市卫健委"] == want and "市教育局" not in got


def test_a_run_of_empty_cells_is_one_line_and_check_never_says_acceptable_with_errors(
        tmp_path, monkeypatch):
    def leave_empty(wb):
        ws = wb[C.SHEET_CO]
        hdr, ids = cells(ws)
        for r in list(ids.values())[1:]:
            ws.cell(r, hdr["本单位累计完成"]).value = None
    path = fill(template(tmp_path, "东海县"), tmp_path / C.file_name(PERIOD, "东海县"),
                edit=leave_empty)
    ws = openpyxl.load_workbook(path)[C.SHEET_CO]
    hdr, ids = cells(ws)
    rows = sorted(ids.values())[1:]
    letter = C.col_letter(hdr["本单位累计完成"] - 1)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, ["check", path.name])
    assert r.exit_code == 1, r.output
    lines = r.output.splitlines()
    span = f"配合任务!{letter}{rows[0]}–{letter}{rows[-1]} 共 {len(rows)} 格"
    assert [line for line in lines if "未填写数值" in line] == [
        next(line for line in lines if span in line)]
    assert "可以接收" not in lines[0] and f"有 {len(rows)} 个错误" in lines[0]
    # the records stay one per cell
    report = collect.check([path])
    assert sum(i.code == "missing-value" for i in report.issues) == len(rows)


def test_the_templates_validation_agrees_with_collect(tmp_path):
    config = copy.deepcopy(settings.DEFAULTS)
    config["rules"]["text_max_length"] = 60
    path = tmp_path / C.file_name(PERIOD, "市住建局")
    templates.write_workbook(master(), "市住建局", PERIOD, path, config=config)
    ws = openpyxl.load_workbook(path)[C.SHEET_LEAD]
    hdr, ids = cells(ws)
    letter = {h: C.col_letter(c - 1) for h, c in hdr.items()}
    rules = {str(dv.sqref).split()[0][:1]: dv for dv in ws.data_validations.dataValidation}
    assert rules[letter["进展情况"]].type == "textLength"
    assert rules[letter["进展情况"]].formula1 == "60"
    assert rules[letter["推进状态"]].formula1 == '"' + ",".join(C.STATUS_CHOICES) + '"'
    milestone = next(i for i in ids if master().indicator(i).is_milestone)
    cum = f"{letter['本月累计完成']}{ids[milestone]}"
    bounds = [(dv.formula1, dv.formula2) for dv in ws.data_validations.dataValidation
              if cum in dv.sqref]
    assert bounds == [("0", "100")]

    def edit(wb):
        sheet = wb[C.SHEET_LEAD]
        sheet[cum] = 101
        sheet[f"{letter['进展情况']}{ids[milestone]}"] = "好" * 61
        sheet[f"{letter['推进状态']}{ids[milestone]}"] = "推进中"
        other = next(r for i, r in ids.items() if i != milestone)
        sheet[f"{letter['进展情况']}{other}"] = "好" * 60  # at the limit: fine
    out = fill(path, tmp_path / "r.xlsx", edit=edit)
    report = collect.check_files([out], master(), config=config)
    got = {(i.code, i.cell) for i in report.issues if i.code in (
        "out-of-range", "text-too-long", "unknown-status")}
    assert got == {("out-of-range", cum), ("text-too-long", f"{letter['进展情况']}{ids[milestone]}"),
                   ("unknown-status", f"{letter['推进状态']}{ids[milestone]}")}
