"""Collect on realistic returns: real templates of the bundled notice, filled as bureaus fill them.

Each mistake must come out with the right code at the right (sheet, cell); every good value must
be in the ledger's values_v; every file must be archived byte for byte.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading

import openpyxl
import pytest
from click.testing import CliRunner

from minshi_xls import collect, ledger, templates
from minshi_xls import columns as C
from minshi_xls.cli import cli
from minshi_xls.model import Incoming
from test_collect_support import ON_TIME, PERIOD, cells, fill, master, ref, template


def run(paths, db, **kw):
    kw.setdefault("received", ON_TIME)
    return collect.collect_paths([str(p) for p in paths], PERIOD, db, master=master(),
                                 config={}, **kw)


def located(result, codes=None):
    return {(i.sheet, i.cell, i.code) for i in result.issues
            if codes is None or i.code in codes}


def values(db, **where):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    sql = "SELECT * FROM values_v" + (" WHERE " + " AND ".join(f"{k} = ?" for k in where)
                                      if where else "")
    return [dict(r) for r in con.execute(sql, tuple(where.values()))]


def test_clean_returns_every_value_in_the_ledger_and_archive_byte_for_byte(tmp_path):
    files = [fill(template(tmp_path, u), tmp_path / "in" / C.file_name(PERIOD, u))
             for u in ("市卫健委", "东海县", "市教育局")]
    db = tmp_path / "out" / "minshi.sqlite"
    res = run([tmp_path / "in"], db)
    assert res.exit_code == 0, [i.message for i in res.issues]
    assert [i.code for i in res.issues] == []
    assert sorted(r.unit for r in res.rows) == sorted(["东海县", "市教育局", "市卫健委"])
    assert all(r.status == "accepted" and r.accepted_rows > 0 for r in res.rows)
    # every typed 本月累计完成 is in values_v with its number, at its cell
    ws = openpyxl.load_workbook(files[0])[C.SHEET_LEAD]
    hdr, ids = cells(ws)
    got = {(v["indicator_id"], v["cell"]): v["number"]
           for v in values(db, unit="市卫健委", field="本月累计完成")}
    want = {(i, ws.cell(r, hdr["本月累计完成"]).coordinate): ws.cell(r, hdr["本月累计完成"]).value
            for i, r in ids.items()}
    assert got == want
    assert values(db, unit="东海县", field="本单位累计完成")  # a county's shares too
    con = ledger.connect(db)
    for f in files:
        sha = hashlib.sha256(f.read_bytes()).hexdigest()
        rel = con.execute("SELECT archive_path FROM files WHERE sha256 = ?", (sha,)).fetchone()[0]
        assert (db.parent / rel).read_bytes() == f.read_bytes()
        assert rel.startswith(f"archive/{PERIOD}/")


def mistakes(wb):
    ws = wb[C.SHEET_LEAD]
    hdr, ids = cells(ws)
    order = list(ids)

    def put(n, header, value):
        ws.cell(ids[order[n]], hdr[header]).value = value

    put(0, "本月累计完成", "3家")  # 省-1#1 is counted in 家: coerced
    put(1, "本月累计完成", "约5")
    put(2, "本月累计完成", "５个以上")
    put(3, "本月累计完成", -2)
    put(4, "本月累计完成", None)
    put(5, "本月累计完成", "=1/0")
    put(6, "本月累计完成", "０")  # full-width: fine
    put(6, "推进状态", "已完成")  # but 0 is not the target
    put(7, "本月累计完成", 100000)  # x10 over: 元 typed for 万元
    put(7, "推进状态", "已完成")
    put(8, "进展情况", None)
    put(9, "一季度末计划", 5)
    put(9, "二季度末计划", 3)
    put(10, "本月累计完成", "1,200")
    put(10, "推进状态", "已完成")
    put(10, "备注（说明）", "含上年结转")
    return order


def test_each_mistake_at_its_cell_and_good_cells_still_accepted(tmp_path):
    src = template(tmp_path, "市卫健委")
    holder = {}
    out = fill(src, tmp_path / "in" / "r.xlsx", edit=lambda wb: holder.update(o=mistakes(wb)))
    ws = openpyxl.load_workbook(out)[C.SHEET_LEAD]
    order = holder["o"]
    db = tmp_path / "minshi.sqlite"
    res = run([out], db)
    at = lambda n, h: (C.SHEET_LEAD, ref(ws, h, order[n]))  # noqa: E731
    expected = {
        (*at(0, "本月累计完成"), "coerced-number"),
        (*at(1, "本月累计完成"), "not-a-number"),
        (*at(2, "本月累计完成"), "not-a-number"),
        (*at(3, "本月累计完成"), "negative-value"),
        (*at(4, "本月累计完成"), "missing-value"),
        (*at(5, "本月累计完成"), "formula-no-value"),
        (*at(6, "推进状态"), "status-inconsistent"),
        (*at(7, "本月累计完成"), "exceeds-target"),
        (*at(7, "本月累计完成"), "out-of-range"),  # a 形象进度 row: 0-100 (issue 9, class 7)
        (*at(8, "进展情况"), "missing-text"),
        (*at(9, "二季度末计划"), "plan-not-monotonic"),
    }
    got = located(res)
    # the x1200 row also exceeds its target; it carries the unit's explanation
    assert expected <= got
    extra = got - expected
    assert extra <= {(*at(10, "本月累计完成"), "exceeds-target")}, extra
    assert res.exit_code == 1 and res.rows[0].status == "accepted"
    explained = [i for i in res.issues if i.indicator_id == order[10] and i.severity == "warning"]
    assert all("（已说明：含上年结转）" in i.message for i in explained)
    # values in error are not accepted (no number); the rest of the same rows still are
    row1 = {v["field"]: v for v in values(db, indicator_id=order[1])}
    assert row1["本月累计完成"]["raw"] == "约5" and row1["本月累计完成"]["number"] is None
    assert row1["推进状态"]["raw"] == "序时推进"
    assert {v["field"]: v["number"] for v in values(db, indicator_id=order[6])}["本月累计完成"] == 0
    assert {v["field"]: v["number"] for v in values(db, indicator_id=order[10])}["本月累计完成"] == 1200
    assert {v["field"]: v["number"] for v in values(db, indicator_id=order[0])}["本月累计完成"] == 3
    neg = {v["field"]: v for v in values(db, indicator_id=order[3])}["本月累计完成"]
    assert neg["raw"] == "-2" and neg["number"] is None
    # every issue is in issues_v with the file's sha
    con = sqlite3.connect(db)
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    assert con.execute("SELECT COUNT(*) FROM issues_v WHERE file_sha256 = ?",
                       (sha,)).fetchone()[0] == len(res.issues)


def test_template_modified_rejects_the_file_at_the_changed_cell(tmp_path):
    def edit(wb):
        ws = wb[C.SHEET_LEAD]
        ws.protection.sheet = False  # unprotecting is not an issue by itself
        ws[ref(ws, "年度目标", "省-1#1")] = 3
    out = fill(template(tmp_path, "市卫健委"), tmp_path / "r.xlsx", edit=edit)
    ws = openpyxl.load_workbook(out)[C.SHEET_LEAD]
    res = run([out], tmp_path / "l.sqlite")
    assert located(res) == {(C.SHEET_LEAD, ref(ws, "年度目标", "省-1#1"), "template-modified")}
    assert res.rows[0].status == "rejected" and res.rows[0].accepted_rows == 0
    # without the master, the _meta fingerprint still notices
    rep = collect.check_files([out], master=None, config={})
    assert [(i.code, i.indicator_id) for i in rep.issues if i.code == "template-modified"] == [
        ("template-modified", "省-1#1")]


def test_rows_moved_inserted_deleted_sheet_renamed_columns_added(tmp_path):
    def edit(wb):
        ws = wb[C.SHEET_LEAD]
        hdr, ids = cells(ws)
        ws.insert_rows(6, 2)  # blank rows inserted inside the table
        ws.insert_cols(3)  # a column of their own
        ws.cell(4, 3).value = "经办处室"
        hdr, ids = cells(ws)
        a, b = list(ids)[:2]  # swap two rows' contents (re-ordered rows)
        for c in range(1, ws.max_column + 1):
            x, y = ws.cell(ids[a], c), ws.cell(ids[b], c)
            x.value, y.value = y.value, x.value
        ws.delete_rows(ids[list(ids)[-1]])  # the last row deleted
        extra = ws.max_row + 3  # a row of their own, with an id they made up
        ws.cell(extra, hdr["指标编号"]).value = "省-1#9"
        ws.cell(extra, hdr["本月累计完成"]).value = 4
        ws.title = "牵头任务（卫健委）"
    out = fill(template(tmp_path, "市卫健委"), tmp_path / "r.xlsx", edit=edit)
    ws = openpyxl.load_workbook(out)["牵头任务（卫健委）"]
    hdr, ids = cells(ws)
    sent = [ind.id for _, ind in templates.rows_for(master(), "市卫健委").lead]
    deleted = [i for i in sent if i not in ids]
    res = run([out], tmp_path / "l.sqlite")
    made_up = ws.cell(ids["省-1#9"], hdr["指标编号"]).coordinate
    assert {(i.code, i.indicator_id, i.cell) for i in res.issues} == {
        ("missing-row", deleted[0], None), ("unknown-row", "省-1#9", made_up)}
    got = {(v["indicator_id"], v["sheet"], v["cell"]): v["number"]
           for v in values(tmp_path / "l.sqlite", field="本月累计完成")}
    want = {(i, "牵头任务（卫健委）", ws.cell(r, hdr["本月累计完成"]).coordinate):
            ws.cell(r, hdr["本月累计完成"]).value for i, r in ids.items()}
    want[next(k for k in want if k[0] == "省-1#9")] = None  # stored, not accepted
    assert got == want


def test_meta_lost_identified_by_unit_cell_else_unidentified(tmp_path):
    filled = fill(template(tmp_path, "市卫健委"), tmp_path / "f.xlsx")
    src = openpyxl.load_workbook(filled)
    new = openpyxl.Workbook()  # values pasted into a new workbook: _meta is gone
    ws = new.active
    ws.title = "Sheet1"
    for row in src[C.SHEET_LEAD].iter_rows(values_only=True):
        ws.append([v if not (isinstance(v, str) and v.startswith("=")) else None for v in row])
    (tmp_path / "in").mkdir()
    new.save(tmp_path / "in" / "卫健委报表.xlsx")
    ws["B2"] = None  # and one where the 填报单位 is gone too
    new.save(tmp_path / "in" / "无名.xlsx")
    res = run([tmp_path / "in"], tmp_path / "l.sqlite")
    by_file = {r.file: r for r in res.rows}
    assert by_file["卫健委报表.xlsx"].unit == "市卫健委"
    assert by_file["卫健委报表.xlsx"].status == "accepted"
    assert by_file["无名.xlsx"].status == "unidentified"
    assert {(i.file.rsplit("/", 1)[-1], i.code) for i in res.issues} == {
        ("卫健委报表.xlsx", "meta-missing"), ("无名.xlsx", "unidentified-return")}
    arch = list((tmp_path / "archive" / PERIOD / "_unidentified").iterdir())
    assert len(arch) == 1 and arch[0].read_bytes() == (tmp_path / "in" / "无名.xlsx").read_bytes()


def test_wrong_period_wrong_unit_and_late(tmp_path):
    may = fill(template(tmp_path, "市卫健委", "2024-05"), tmp_path / "in" / "a.xlsx")
    other = fill(template(tmp_path, "市教育局"), tmp_path / "in" / C.file_name(PERIOD, "市卫健委"))
    res = run([may, other], tmp_path / "l.sqlite", received=None)
    codes = {(i.unit, i.code) for i in res.issues}
    assert ("市卫健委", "wrong-period") in codes
    # the file name says 市卫健委, _meta and the 填报单位 cell 市教育局: counted for nobody
    assert ("市教育局", "identity-conflict") in codes
    # the file's modified time is today, long after the 2024-07-08 deadline, but a file in a
    # folder has no receipt time: never called late on a guess, its time shown as 文件时间
    assert ("市教育局", "late-return") not in codes
    status = {r.unit: r.status for r in res.rows}
    assert status == {"市卫健委": "rejected", "市教育局": "rejected"}
    assert all(line.count("（文件时间）") == 1 for line in res.summary_lines()[2:4])
    # given (--received) after the deadline, the same file is late, shown in the office's time
    late = run([other], tmp_path / "l2.sqlite", received="2024-07-09T01:30:00+00:00")
    found = [i for i in late.issues if i.code == "late-return"]
    assert [i.unit for i in found] == ["市教育局"] and "2024-07-09 09:30" in found[0].message
    assert "2024-07-09 09:30" in late.summary_lines()[2] and "文件时间" not in late.summary_lines()[2]


def test_duplicates_superseded_and_idempotent_rerun(tmp_path):
    first = fill(template(tmp_path, "市卫健委"), tmp_path / "in" / "v1.xlsx")
    second = fill(template(tmp_path, "市卫健委"), tmp_path / "in" / "v2.xlsx", share=0.6)
    shutil.copy(first, tmp_path / "in" / "v1 副本.xlsx")
    db = tmp_path / "l.sqlite"
    items = [Incoming(p.name, p.read_bytes(), str(p), received_at=t) for p, t in [
        (first, "2024-07-01T09:00"), (tmp_path / "in" / "v1 副本.xlsx", "2024-07-01T09:30"),
        (second, "2024-07-02T09:00")]]
    res = collect.ingest(list(reversed(items)), PERIOD, db, master(), {})
    status = {r.file: r.status for r in res.rows}
    assert status == {"v1.xlsx": "superseded", "v1 副本.xlsx": "duplicate", "v2.xlsx": "accepted"}
    assert {(i.file.rsplit("/", 1)[-1], i.code) for i in res.issues} == {
        ("v1 副本.xlsx", "duplicate-return"), ("v1.xlsx", "superseded")}
    con = sqlite3.connect(db)
    counts = lambda: [con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: E731
                      for t in ("files", "receipts", "returns", "cell_values", "issues")]
    before = counts()
    again = collect.ingest(items, PERIOD, db, master(), {})
    assert counts() == before  # rerun: nothing recorded twice
    assert {i.code for i in again.issues} == {"duplicate-return"}
    # the accepted figures are the newer return's
    accepted = {v["indicator_id"]: v["number"] for v in values(db, return_status="accepted",
                                                                 field="本月累计完成")}
    assert accepted["省-1#1"] == pytest.approx(6 * 0.6)
    assert con.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 2  # same bytes stored once


def test_cumulative_decreased_against_last_months_accepted_value(tmp_path):
    may = fill(template(tmp_path, "市卫健委", "2024-05"), tmp_path / "may.xlsx", share=0.5)
    db = tmp_path / "l.sqlite"
    collect.collect_paths([may], "2024-05", db, master=master(), config={},
                          received="2024-06-03T10:00")
    june = fill(template(tmp_path, "市卫健委"), tmp_path / "june.xlsx", share=0.4)
    ws = openpyxl.load_workbook(june)[C.SHEET_LEAD]
    res = run([june], db)
    dec = located(res, {"cumulative-decreased"})
    hdr, ids = cells(ws)
    numeric = [i for i in ids if master().indicator(i).target_number]
    assert dec == {(C.SHEET_LEAD, ref(ws, "本月累计完成", i), "cumulative-decreased")
                   for i in numeric if round(master().indicator(i).target_number * 0.4, 2)
                   < round(master().indicator(i).target_number * 0.5, 2)}


def test_killed_run_leaves_ledger_consistent_and_rerun_finishes(tmp_path, monkeypatch):
    for u in ("市卫健委", "市教育局", "东海县"):
        fill(template(tmp_path, u), tmp_path / "in" / C.file_name(PERIOD, u))
    db = tmp_path / "l.sqlite"
    real = collect._Ledger.record
    calls = {"n": 0}

    def dying(self, ev):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # killed mid-run
        return real(self, ev)
    monkeypatch.setattr(collect._Ledger, "record", dying)
    monkeypatch.setattr(collect, "BATCH", 2)
    with pytest.raises(KeyboardInterrupt):
        run([tmp_path / "in"], db)
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM returns").fetchone()[0] == 2  # first batch only
    assert con.execute("SELECT COUNT(*) FROM cell_values WHERE return_id NOT IN "
                       "(SELECT id FROM returns)").fetchone()[0] == 0
    monkeypatch.setattr(collect._Ledger, "record", real)
    res = run([tmp_path / "in"], db)
    assert sorted(r.status for r in res.rows) == ["accepted", "duplicate", "duplicate"]
    assert con.execute("SELECT COUNT(*) FROM returns WHERE status = 'accepted'").fetchone()[0] == 3


def test_two_runs_at_once_do_not_double_count(tmp_path):
    for u in ("市卫健委", "市教育局", "东海县", "市民政局"):
        fill(template(tmp_path, u), tmp_path / "in" / C.file_name(PERIOD, u))
    db = tmp_path / "l.sqlite"
    ledger.connect(db).close()
    errors = []

    def go():
        try:
            run([tmp_path / "in"], db)
        except Exception as e:  # pragma: no cover - shown by the assert
            errors.append(e)
    threads = [threading.Thread(target=go) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM receipts").fetchone()[0] == 4
    assert con.execute("SELECT COUNT(*) FROM returns WHERE status = 'accepted'").fetchone()[0] == 4


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods", "et"])
def test_libreoffice_resave_and_conversions_read_the_same(tmp_path, fmt):
    from test_collect_support import soffice_convert

    def edit(wb):
        ws = wb[C.SHEET_LEAD]
        ws[ref(ws, "本月累计完成", "省-12#1")] = "约5"
        ws[ref(ws, "本月累计完成", "省-1#1")] = "3家"
    out = fill(template(tmp_path, "市卫健委"), tmp_path / "r.xlsx", edit=edit)
    conv = soffice_convert(out, "xls" if fmt == "et" else fmt, tmp_path / "conv")
    if fmt == "et":  # WPS's own extension on a BIFF file: the bytes decide, not the name
        conv = conv.rename(conv.with_suffix(".et"))
    ws = openpyxl.load_workbook(out)[C.SHEET_LEAD]
    res = run([conv], tmp_path / "l.sqlite")
    assert located(res) == {(C.SHEET_LEAD, ref(ws, "本月累计完成", "省-12#1"), "not-a-number"),
                            (C.SHEET_LEAD, ref(ws, "本月累计完成", "省-1#1"), "coerced-number")}
    got = {v["indicator_id"]: v["number"] for v in values(tmp_path / "l.sqlite",
                                                          field="本月累计完成")}
    assert got["省-1#1"] == 3 and got["省-12#1"] is None and len(got) == 17


def test_annotated_copy_marks_cells_and_lists_issues_with_links(tmp_path):
    def edit(wb):
        ws = wb[C.SHEET_LEAD]
        ws[ref(ws, "本月累计完成", "省-12#1")] = "约5"
        c = ws[ref(ws, "进展情况", "省-12#1")]
        c.value = "=HYPERLINK(\"http://x\",\"点我\")"
        c.data_type = "s"  # typed as text by the unit
        ws[ref(ws, "本月累计完成", "省-13#1")] = "@SUM(1)"
    out = fill(template(tmp_path, "市卫健委"), tmp_path / "r.xlsx", edit=edit)
    rep = collect.check_files([out], master=master(), annotate=True, config={})
    (ann,) = rep.stats["annotated"]
    wb = openpyxl.load_workbook(ann)
    ws = wb[C.SHEET_LEAD]
    cell = ws[ref(ws, "本月累计完成", "省-12#1")]
    assert "不是数字" in cell.comment.text and cell.fill.fgColor.rgb.endswith("FFC7CE")
    lst = wb["问题清单"]
    rows = list(lst.iter_rows(min_row=2))
    assert rows and all(c.data_type != "f" for r in rows for c in r)
    link = [r[4] for r in rows if r[4].value == cell.coordinate][0]
    assert link.hyperlink.location or link.hyperlink.target
    assert any(r[6].value == "'@SUM(1)" for r in rows)


def test_cli_collect_and_check_exit_codes_and_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    good = fill(template(tmp_path, "市卫健委"), tmp_path / "in" / "good.xlsx")
    def chinese_numeral(wb):
        ws = wb[C.SHEET_LEAD]
        first = next(iter(cells(ws)[1]))
        ws[ref(ws, "本月累计完成", first)] = "三"
    bad = fill(template(tmp_path, "市教育局"), tmp_path / "bad" / "bad.xlsx", edit=chinese_numeral)
    r = CliRunner().invoke(cli, ["collect", str(tmp_path / "in"), "--period", PERIOD,
                                 "--received", ON_TIME])  # no output/master.xlsx here
    assert r.exit_code == 0, r.output
    assert "市卫健委" in r.output and "已接收" in r.output
    r = CliRunner().invoke(cli, ["collect", str(bad), "--period", PERIOD, "--received", ON_TIME,
                                 "--json", "o.json"])
    assert r.exit_code == 1 and "不是数字：" in r.output and "not-a-number" not in r.output
    data = json.loads((tmp_path / "o.json").read_text(encoding="utf-8"))
    assert [i["code"] for i in data["issues"]] == ["not-a-number"]
    r = CliRunner().invoke(cli, ["collect", str(good), "--period", "2024-13"])
    assert r.exit_code == 2
    r = CliRunner().invoke(cli, ["check", str(good), "--json", "c.json"])
    assert r.exit_code == 0, r.output
    assert "未找到总表" in r.output
    r = CliRunner().invoke(cli, ["check", str(good), "--master", "none.xlsx"])
    assert r.exit_code == 2 and "找不到总表" in r.output
    checked = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert checked["files"][0]["unit"] == "市卫健委"
    assert sqlite3.connect(tmp_path / "output" / "minshi.sqlite").execute(
        "SELECT COUNT(*) FROM returns").fetchone()[0] == 2


def test_sender_and_unit_cell_checked_against_the_registry(tmp_path):
    import copy
    m = copy.deepcopy(master())
    m.registry.get("市卫健委").email = "wjw@lyg.gov.cn"
    m.registry.get("市教育局").email = "jyj@lyg.gov.cn; jyj2@lyg.gov.cn"
    ok = fill(template(tmp_path, "市卫健委"), tmp_path / "a.xlsx")
    def relabel(wb):
        wb[C.SHEET_LEAD]["B2"] = "市教育局"
    relabelled = fill(template(tmp_path, "市民政局"), tmp_path / "b.xlsx", edit=relabel)
    items = [Incoming("a.xlsx", ok.read_bytes(), "imap:<1@x>/a.xlsx", sender="王 <JYJ2@lyg.gov.cn>",
                      message_id="<1@x>", received_at=ON_TIME),
             Incoming("c.xlsx", fill(template(tmp_path, "市卫健委"), tmp_path / "c.xlsx",
                                     share=0.6).read_bytes(), "imap:<2@x>/c.xlsx",
                      sender="someone@qq.com", message_id="<2@x>", received_at=ON_TIME),
             Incoming("b.xlsx", relabelled.read_bytes(), "b.xlsx", received_at=ON_TIME)]
    res = collect.ingest(items, PERIOD, tmp_path / "l.sqlite", m, {})
    got = {(i.file, i.code, i.sheet, i.cell) for i in res.issues
           if i.code in ("identity-conflict", "unexpected-sender")}
    assert ("imap:<1@x>/a.xlsx", "identity-conflict", None, None) in got  # a 市教育局 address
    # the 填报单位 cell says otherwise
    assert ("b.xlsx", "identity-conflict", C.SHEET_LEAD, "B2") in got
    assert ("imap:<2@x>/c.xlsx", "unexpected-sender", None, None) in got  # nobody's address
    status = {r.file: (r.unit, r.status) for r in res.rows}
    assert status["b.xlsx"] == ("市民政局", "rejected")  # recorded under _meta, counted for nobody
    assert status["a.xlsx"] == ("市卫健委", "rejected") and status["c.xlsx"][1] == "accepted"
    msg = [i.message for i in res.issues if i.code == "identity-conflict" and i.file == "b.xlsx"][0]
    assert "报表标识页为“市民政局”" in msg and "“填报单位”单元格为“市教育局”" in msg


def test_same_receipt_time_is_never_ordered_by_name_and_received_option(tmp_path):
    """Both saved in the same second by openpyxl: nothing tells them apart, so the name does not
    either (test_collect_versions.py has the saved-time order and the clerk's choice)."""
    a = fill(template(tmp_path, "市卫健委"), tmp_path / "in" / "卫健委_0703_a.xlsx", share=0.3)
    b = fill(template(tmp_path, "市卫健委"), tmp_path / "in" / "卫健委_0703_b.xlsx", share=0.4)
    from test_collect_versions import saved_as
    saved_as(a, "2024-07-03T00:50:00Z")
    saved_as(b, "2024-07-03T00:50:00Z")
    res = run([tmp_path / "in"], tmp_path / "l.sqlite", received="2024-07-03T09:00")
    assert sorted(r.status for r in res.rows) == ["accepted", "superseded"]
    assert [i.code for i in res.issues if i.severity != "info"] == ["version-tie"]
    assert {r.received for r in res.rows} == {"2024-07-03T09:00"}
    con = sqlite3.connect(tmp_path / "l.sqlite")
    assert {r[0] for r in con.execute("SELECT received_at FROM receipts")} == {"2024-07-03T09:00"}


def test_error_value_in_an_ods_return_is_formula_no_value(tmp_path):
    from test_collect_support import soffice_convert

    def edit(wb):
        ws = wb[C.SHEET_LEAD]
        ws[ref(ws, "本月累计完成", "省-12#1")] = "=1/0"  # LibreOffice stores #DIV/0!
    out = fill(template(tmp_path, "市卫健委"), tmp_path / "r.xlsx", edit=edit)
    ods = soffice_convert(out, "ods", tmp_path / "conv")
    ws = openpyxl.load_workbook(out)[C.SHEET_LEAD]
    res = run([ods], tmp_path / "l.sqlite")
    assert located(res) == {(C.SHEET_LEAD, ref(ws, "本月累计完成", "省-12#1"), "formula-no-value")}


def test_master_corrected_after_sending_does_not_reject_unchanged_returns(tmp_path):
    import copy
    out = fill(template(tmp_path, "市卫健委"), tmp_path / "r.xlsx")
    m = copy.deepcopy(master())
    m.task("省-1").text = "新增6家普惠托育机构（更正）"  # the office fixes a text mid-month
    res = collect.collect_paths([out], PERIOD, tmp_path / "l.sqlite", master=m, config={},
                                received=ON_TIME)
    assert res.issues == [] and res.rows[0].status == "accepted"


@pytest.mark.parametrize("runs", ["one run", "older collected last"])
def test_superseded_recorded_once_against_the_older_file(tmp_path, runs):
    old = fill(template(tmp_path, "市卫健委"), tmp_path / "in" / "v1.xlsx", share=0.5)
    new = fill(template(tmp_path, "市卫健委"), tmp_path / "in" / "v2.xlsx", share=0.6)
    items = [Incoming(p.name, p.read_bytes(), str(p), received_at=t)
             for p, t in [(old, "2024-07-01T09:00"), (new, "2024-07-02T09:00")]]
    db = tmp_path / "l.sqlite"
    if runs == "one run":
        res = collect.ingest(items, PERIOD, db, master(), {})
        shown = [i for i in res.issues if i.code == "superseded"]
    else:  # the newer one is recorded first; the older one arrives in a later run and loses
        collect.ingest(items[1:], PERIOD, db, master(), {})
        res = collect.ingest(items[:1], PERIOD, db, master(), {})
        shown = [i for i in res.issues if i.code == "superseded"]
    assert [i.file for i in shown] == [str(old)]
    con = sqlite3.connect(db)
    rows = con.execute("SELECT file_path, file_sha256 FROM issues_v "
                       "WHERE code = 'superseded'").fetchall()
    assert rows == [(str(old), hashlib.sha256(old.read_bytes()).hexdigest())]
    assert {r.file: r.status for r in res.rows}.get("v1.xlsx") == "superseded"


def test_error_values_and_formulas_in_xlsx_input_cells_are_formula_no_value(tmp_path):
    """As Excel writes them: an error value with ``t`` before ``r``, a shared-formula child with
    no cached value; a styled empty cell next to them stays a plain missing value."""
    import io
    import re
    import zipfile

    def edit(wb):
        ws = wb[C.SHEET_LEAD]
        for ind_id in ("省-1#1", "省-12#1", "省-21#1"):
            ws[ref(ws, "本月累计完成", ind_id)] = 1  # placeholders rewritten below
    out = fill(template(tmp_path, "市卫健委"), tmp_path / "r.xlsx", edit=edit)
    ws = openpyxl.load_workbook(out)[C.SHEET_LEAD]
    err, shared, blank = (ref(ws, "本月累计完成", i) for i in ("省-1#1", "省-12#1", "省-21#1"))
    buf = io.BytesIO()
    with zipfile.ZipFile(out) as zi, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zo:
        for info in zi.infolist():
            body = zi.read(info)
            if info.filename.startswith("xl/worksheets/") and f' r="{err}"'.encode() in body:
                cell = lambda r: re.compile(rb'<c r="%s"[^>]*>.*?</c>' % r.encode())  # noqa: E731
                body = cell(err).sub(b'<c t="e" r="%s" s="3"><v>#DIV/0!</v></c>' % err.encode(),
                                     body, 1)
                body = cell(shared).sub(b'<c r="%s"><f t="shared" si="7"/></c>' % shared.encode(),
                                        body, 1)
                body = cell(blank).sub(b'<c r="%s" s="3"/>' % blank.encode(), body, 1)
            zo.writestr(info, body)
    out.write_bytes(buf.getvalue())
    res = run([out], tmp_path / "l.sqlite")
    assert located(res, {"formula-no-value", "missing-value"}) == {
        (C.SHEET_LEAD, err, "formula-no-value"), (C.SHEET_LEAD, shared, "formula-no-value"),
        (C.SHEET_LEAD, blank, "missing-value")}
