"""Fill-in workbooks on the bundled notice, read back with openpyxl: who gets which rows, the
header texts, locked and input cells, validations, live hints, ``_meta``, the ledger pre-fill."""
from collections import defaultdict
from datetime import date

import openpyxl
import pytest

from minshi_xls import MinshiError, columns as C, ledger, settings, templates
from minshi_xls.notice import load_bundled

PERIOD = "2024-06"


@pytest.fixture(scope="module")
def master():
    return load_bundled()


@pytest.fixture(scope="module")
def written(master, tmp_path_factory):
    out = tmp_path_factory.mktemp("templates")
    calls = []
    summary = templates.write_templates(master, PERIOD, out, config=settings.DEFAULTS,
                                        progress=lambda *a: calls.append(a))
    return summary, out, calls


def expected_rows(master, include_co_bureaus=False):
    """unit -> sheet -> [indicator ids], straight from the master's tasks (not via rows_for)."""
    exp = defaultdict(lambda: defaultdict(list))
    for t in master.tasks:
        if t.scope != "local":
            continue
        ids = [i.id for i in t.indicators] or [f"{t.id}#0"]
        for u in t.lead_units:
            exp[u][C.SHEET_LEAD] += ids
        for u in t.responsible_units:
            reg = master.registry.get(u)
            if u not in t.lead_units and (include_co_bureaus or reg.kind in ("县区", "功能板块")):
                exp[u][C.SHEET_CO] += ids
    return exp


def table(ws):
    """Data rows of a table sheet as {column key: value} dicts, with their 1-based row."""
    cols = C.SHEET_COLUMNS[ws.title]
    out, r = [], C.FIRST_DATA_ROW
    while ws.cell(r, 2).value:
        out.append((r, {c.key: ws.cell(r, i + 1).value for i, c in enumerate(cols)}))
        r += 1
    return out


def meta(wb):
    ws = wb[C.SHEET_META]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    keys = {r[0]: r[1] for r in rows[:len(C.META_KEYS)]}
    head = rows[len(C.META_KEYS) + 1]
    return keys, [dict(zip(head, r)) for r in rows[len(C.META_KEYS) + 2:]]


def open_wb(out, unit):
    return openpyxl.load_workbook(out / C.file_name(PERIOD, unit))


def test_every_reporting_unit_gets_one_workbook_with_exactly_its_rows(master, written):
    summary, out, calls = written
    exp = expected_rows(master)
    assert sorted(e.unit for e in summary.entries) == sorted(exp)  # each unit once
    files = sorted(p.name for p in out.glob("*.xlsx"))
    assert files == sorted([C.file_name(PERIOD, u) for u in exp] + [f"分发清单_{PERIOD}.xlsx"])
    assert "市财政局" not in exp and "东海县" in exp and "市卫健委" in exp  # share-only bureau: none
    for unit, sheets in exp.items():
        wb = open_wb(out, unit)
        tables = [s for s in wb.sheetnames if s in C.SHEET_COLUMNS]
        assert tables == [s for s in (C.SHEET_LEAD, C.SHEET_CO) if sheets.get(s)], unit
        for s in tables:
            got = [v["indicator_id"] for _, v in table(wb[s])]
            assert got == sheets[s], (unit, s)
        assert wb.sheetnames[0] == C.SHEET_GUIDE and wb.sheetnames[-1] == C.SHEET_META
    assert summary.rows == sum(len(v) for s in exp.values() for v in s.values())
    assert [c[0] for c in calls] == list(range(1, len(exp) + 1)) and calls[-1][1] == len(exp)


def test_locked_content_is_the_masters(master, written):
    _, out, _ = written
    wb = open_wb(out, "市卫健委")
    for _, v in table(wb[C.SHEET_LEAD]):
        task = master.task(v["task_id"])
        ind = next(i for i in task.report_rows() if i.id == v["indicator_id"])
        assert v["task_text"] == task.text and v["indicator"] == ind.name and v["unit"] == ind.unit
        assert v["target"] == float(ind.target)
        assert v["previous"] is None and v["cumulative"] is None  # first report of the table
    milestones = [v for _, v in table(wb[C.SHEET_LEAD]) if v["indicator_id"].endswith("#0")]
    assert milestones and all(v["indicator"] == "形象进度" and v["target"] == 100 and v["unit"] == "%"
                              for v in milestones)
    cell = wb[C.SHEET_LEAD].cell(C.FIRST_DATA_ROW, 12)  # 本月累计完成: a plain number, no percent
    assert "%" not in cell.number_format


def test_header_texts_and_header_block(written):
    _, out, _ = written
    for unit, sheet in (("市卫健委", C.SHEET_LEAD), ("东海县", C.SHEET_CO)):
        ws = open_wb(out, unit)[sheet]
        cols = C.SHEET_COLUMNS[sheet]
        heads = [ws.cell(C.HEADER_ROW, i + 1).value for i in range(len(cols) + 1)]
        assert [C.plain_header(h) for h in heads[:-1]] == [c.header for c in cols]
        assert heads[-1] is None
        # A header too long for its column breaks between words, never inside one.
        assert "一季度末\n计划" in heads or sheet == C.SHEET_CO
        assert all(not h.endswith(("计/划", "\n划", "\n位")) for h in heads[:-1])
        assert ws.cell(C.TITLE_ROW, 1).value == "2024年省市民生实事推进情况填报表（2024年6月）"
        for label, (lc, vc) in C.HEADER_CELLS[sheet].items():
            assert ws[lc].value == label
            assert ws[vc].protection.locked == (label == C.UNIT_LABEL)
        assert ws[C.HEADER_CELLS[sheet][C.UNIT_LABEL][1]].value == unit
        assert ws.freeze_panes == "E5"
        assert ws.print_title_rows == f"${C.HEADER_ROW}:${C.HEADER_ROW}"
        ps = ws.page_setup
        assert (ps.orientation, ps.paperSize, ps.fitToWidth, ps.fitToHeight) == \
            ("landscape", 9, None, 0)  # openpyxl reads fitToWidth=1 (the default) as None
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.cell(C.FIRST_DATA_ROW, 3).font.name == settings.FONT
        assert ws.cell(C.FIRST_DATA_ROW, 3).alignment.wrap_text
        widths = {}
        for dim in ws.column_dimensions.values():  # openpyxl keeps equal neighbours as one range
            for i in range(dim.min, dim.max + 1):
                widths[i] = dim.width
        assert [widths[i + 1] for i in range(len(cols))] == \
            pytest.approx([c.width for c in cols], abs=0.72)  # xlsxwriter adds padding


def input_keys(sheet, numbers=True):
    return {c.key for c in C.SHEET_COLUMNS[sheet]
            if c.kind in (C.INPUT, C.PLAN) and (numbers or c.key != "cumulative")}


def test_only_input_cells_are_unlocked_and_sheets_are_protected(written):
    _, out, _ = written
    for unit, sheet in (("市卫健委", C.SHEET_LEAD), ("东海县", C.SHEET_CO)):
        wb = open_wb(out, unit)
        ws = wb[sheet]
        assert ws.protection.sheet and wb[C.SHEET_GUIDE].protection.sheet
        assert wb[C.SHEET_META].protection.sheet
        cols = C.SHEET_COLUMNS[sheet]
        for r, _ in table(ws):
            unlocked = {c.key for i, c in enumerate(cols)
                        if not ws.cell(r, i + 1).protection.locked}
            assert unlocked == input_keys(sheet), (unit, r)
        # nothing outside the table and the three header inputs is open
        hidden_by_merge = {c.coordinate for rng in ws.merged_cells.ranges for row in ws[rng.coord]
                           for c in row[1:]}
        opened = {cell.coordinate for row in ws.iter_rows(max_row=C.HEADER_ROW) for cell in row
                  if cell.has_style and not cell.protection.locked} - hidden_by_merge
        assert opened == {vc for label, (_, vc) in C.HEADER_CELLS[sheet].items()
                          if label != C.UNIT_LABEL}


def covering(ws, coordinate):
    return [dv for dv in ws.data_validations.dataValidation if coordinate in dv.sqref]


def test_every_input_cell_has_a_chinese_validation(written):
    _, out, _ = written
    for unit, sheet in (("市卫健委", C.SHEET_LEAD), ("东海县", C.SHEET_CO)):
        ws = open_wb(out, unit)[sheet]
        cols = C.SHEET_COLUMNS[sheet]
        for r, v in table(ws):
            for i, c in enumerate(cols):
                cell = ws.cell(r, i + 1)
                if cell.protection.locked:
                    continue
                dvs = covering(ws, cell.coordinate)
                assert len(dvs) == 1, (unit, cell.coordinate)
                dv = dvs[0]
                assert dv.showErrorMessage and dv.showInputMessage and dv.error and dv.prompt
                assert any("\u4e00" <= ch <= "\u9fff" for ch in dv.error + dv.prompt)
                if c.number:
                    top = "100" if v["indicator_id"].endswith("#0") else None
                    assert (dv.type, dv.formula1, dv.formula2) == ("decimal", "0", top), c.key
                elif c.key == "status":
                    assert dv.type == "list" and dv.formula1 == '"已完成,超序时,序时推进,滞后,未启动"'
                else:
                    assert (dv.type, dv.operator, dv.formula1) == ("textLength",
                                                                   "lessThanOrEqual", "500")
        date_cell = C.HEADER_CELLS[sheet][C.DATE_LABEL][1]
        assert [dv.type for dv in covering(ws, date_cell)] == ["date"]
        for label in (C.REPORTER_LABEL, C.PHONE_LABEL):
            assert [dv.type for dv in covering(ws, C.HEADER_CELLS[sheet][label][1])] == \
                ["textLength"]


def test_live_hints_apply_the_readers_rules(written):
    _, out, _ = written
    ws = open_wb(out, "市卫健委")[C.SHEET_LEAD]
    n = len(table(ws))
    rules = {str(cf.sqref): [r.formula[0] for r in cf.rules] for cf in ws.conditional_formatting}
    last = C.FIRST_DATA_ROW + n - 1
    cum = rules[f"L5:L{last}"]
    assert "AND(ISNUMBER($L5),ISNUMBER($K5),$L5<$K5)" in cum  # below 上月累计
    assert any("$L5>$E5*10" in f for f in cum)  # over 10x the target
    assert rules[f"N5:N{last}"] == ['AND($N5="已完成",ISNUMBER($E5),N($L5)<$E5)']
    assert rules[f"O5:O{last}"] == ["AND(ISNUMBER($L5),LEN(TRIM($O5))=0)"]
    ws = open_wb(out, "东海县")[C.SHEET_CO]
    progress = co_col("progress", letter=True)
    assert any(f"LEN(TRIM(${progress}5))=0" in r.formula[0] for cf in ws.conditional_formatting
               for r in cf.rules)


def test_rate_is_a_formula_with_a_blank_cached_value(written):
    _, out, _ = written
    ws = open_wb(out, "市卫健委")[C.SHEET_LEAD]
    f = ws.cell(C.FIRST_DATA_ROW, 13)
    assert f.value == '=IF(AND(ISNUMBER(L5),ISNUMBER(E5),N(E5)>0),L5/E5,"")'
    assert f.number_format == "0.0%" and f.protection.locked


def test_meta_is_very_hidden_and_identifies_rows(master, written):
    summary, out, _ = written
    for e in summary.entries[::7] + summary.entries[-1:]:
        wb = openpyxl.load_workbook(e.path)
        assert wb[C.SHEET_META].sheet_state == "veryHidden"
        keys, rows = meta(wb)
        assert list(keys) == list(C.META_KEYS)
        assert (keys["format_version"], keys["unit"], keys["period"], keys["deadline"],
                keys["year"]) == (settings.FORMAT_VERSION, e.unit, PERIOD, "2024-07-05", "2024")
        assert keys["generated_at"][:4] >= "2024"
        assert keys["co_numbers"] == ("1" if e.kind in ("县区", "功能板块") else "0")
        assert len(rows) == e.rows
        for m in rows:
            ws = wb[m["sheet"]]
            values = {c.key: ws.cell(m["row"], i + 1).value
                      for i, c in enumerate(C.SHEET_COLUMNS[m["sheet"]])}
            assert values["indicator_id"] == m["indicator_id"]
            assert m["fingerprint"] == C.row_fingerprint(C.SHEET_COLUMNS[m["sheet"]], values,
                                                         m["plan_locked"] == "1")


def test_a_changed_target_changes_the_fingerprint(written):
    _, out, _ = written
    wb = open_wb(out, "市卫健委")
    _, rows = meta(wb)
    ws = wb[C.SHEET_LEAD]
    r, values = table(ws)[0]
    values["target"] = values["target"] * 10
    assert C.row_fingerprint(C.LEAD_COLUMNS, values, False) != rows[0]["fingerprint"]


def test_plan_cells_lock_once_the_master_has_a_plan(tmp_path):
    m = load_bundled()
    ind = m.led_by("市卫健委")[0].indicators[0]
    ind.plan = [1.0, 3.0, 5.0, 6.0]
    info = templates.write_workbook(m, "市卫健委", PERIOD, tmp_path / "w.xlsx",
                                    config=settings.DEFAULTS)
    wb = openpyxl.load_workbook(info.path)
    ws = wb[C.SHEET_LEAD]
    (r1, v1), (r2, v2) = table(ws)[:2]
    assert [v1[f"plan_q{q}"] for q in range(1, 5)] == [1, 3, 5, 6]
    assert all(ws.cell(r1, c).protection.locked for c in range(7, 11))
    assert not any(ws.cell(r2, c).protection.locked for c in range(7, 11))
    _, rows = meta(wb)
    assert (rows[0]["plan_locked"], rows[1]["plan_locked"]) == ("1", "0")
    assert rows[0]["fingerprint"] == C.row_fingerprint(C.LEAD_COLUMNS, v1, True)
    assert rows[0]["fingerprint"] != C.row_fingerprint(C.LEAD_COLUMNS, {**v1, "plan_q2": 4}, True)


def co_col(key, letter=False):
    """1-based column (or its letter) of a 配合任务 column, from the contract."""
    n = [c.key for c in C.CO_COLUMNS].index(key)
    return C.col_letter(n) if letter else n + 1


def test_co_bureaus_switch_gives_text_only_rows(master, tmp_path):
    exp = expected_rows(master, include_co_bureaus=True)
    assert "市财政局" in master.reporting_units(include_co_bureaus=True)
    assert "市财政局" not in master.reporting_units()
    config = {**settings.DEFAULTS, "templates": {**settings.DEFAULTS["templates"],
                                                 "include_co_bureaus": True}}
    info = templates.write_workbook(master, "市财政局", PERIOD, tmp_path / "c.xlsx", config=config)
    wb = openpyxl.load_workbook(info.path)
    assert wb.sheetnames == [C.SHEET_GUIDE, C.SHEET_CO, C.SHEET_META]
    ws = wb[C.SHEET_CO]
    rows = table(ws)
    assert [v["indicator_id"] for _, v in rows] == exp["市财政局"][C.SHEET_CO]
    cum, progress = co_col("cumulative"), co_col("progress")
    for r, v in rows:
        assert ws.cell(r, cum).protection.locked and v["cumulative"] is None  # 本单位累计完成
        assert not ws.cell(r, progress).protection.locked  # 配合工作情况
        assert not covering(ws, ws.cell(r, cum).coordinate)
    # with the switch a lead bureau also answers, in text, for the tasks it shares
    info = templates.write_workbook(master, "市卫健委", PERIOD, tmp_path / "w.xlsx", config=config)
    wb = openpyxl.load_workbook(info.path)
    assert wb.sheetnames == [C.SHEET_GUIDE, C.SHEET_LEAD, C.SHEET_CO, C.SHEET_META]
    assert [v["indicator_id"] for _, v in table(wb[C.SHEET_CO])] == exp["市卫健委"][C.SHEET_CO]
    assert all(wb[C.SHEET_CO].cell(r, cum).protection.locked for r, _ in table(wb[C.SHEET_CO]))
    assert meta(wb)[0]["co_numbers"] == "0"
    # a county's 本单位目标 comes from the master's allocation table
    from minshi_xls.model import Allocation
    ind_id = exp["东海县"][C.SHEET_CO][0]
    master.allocations.append(Allocation(ind_id, "东海县", 2.0))
    try:
        info = templates.write_workbook(master, "东海县", PERIOD, tmp_path / "d.xlsx",
                                        config=settings.DEFAULTS)
    finally:
        master.allocations.pop()
    ws = openpyxl.load_workbook(info.path)[C.SHEET_CO]
    assert ws.cell(C.FIRST_DATA_ROW, co_col("unit_target")).value == 2
    assert ws.cell(C.FIRST_DATA_ROW + 1, co_col("unit_target")).value is None


def test_unit_without_rows_is_refused(master, tmp_path):
    with pytest.raises(MinshiError, match="市财政局"):
        templates.write_workbook(master, "市财政局", PERIOD, tmp_path / "x.xlsx",
                                 config=settings.DEFAULTS)


def test_distribution_list(master, written):
    summary, out, _ = written
    ws = openpyxl.load_workbook(summary.distribution).active
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert rows[0] == list(templates.DISTRIBUTION_HEADERS)
    body = rows[1:]
    assert [r[0] for r in body] == [e.unit for e in summary.entries]
    for r, e in zip(body, summary.entries):
        assert r[1] == master.registry.get(e.unit).kind
        assert (out / r[2]).is_file() and r[2] == C.file_name(PERIOD, e.unit)
        assert r[4] == e.rows and r[5] == "2024-07-05"
        assert (r[3] == e.email) if e.email else "未登记" in r[3]
    assert summary.units_without_email == [e.unit for e in summary.entries if not e.email]


def test_deadline_default_and_override():
    assert templates.default_deadline("2024-06") == date(2024, 7, 5)
    assert templates.default_deadline("2024-12") == date(2025, 1, 5)
    cfg = {"templates": {"deadline_day": 10}}
    assert templates.default_deadline("2024-06", cfg) == date(2024, 7, 10)
    assert templates.resolve_deadline("2024-06", "2024-07-08") == date(2024, 7, 8)
    with pytest.raises(MinshiError, match="截止日期"):
        templates.resolve_deadline("2024-06", "7月8日")


def _ledger_with_may(db, unit, values, status="accepted", received="2024-06-03T09:00:00"):
    """A return of ``unit`` for 2024-05 as collect records it: file, receipt, return, values."""
    con = ledger.connect(db)
    with ledger.transaction(con):
        fid = con.execute("INSERT INTO files(sha256, size, format, archive_path, first_seen) "
                          "VALUES (?, 1, 'xlsx', 'a', ?)", (received + unit, received)).lastrowid
        rid = con.execute("INSERT INTO receipts(file_id, source_path, received_at, collected_at) "
                          "VALUES (?, 'x.xlsx', ?, ?)", (fid, received, received)).lastrowid
        ret = con.execute("INSERT INTO returns(receipt_id, file_id, unit, period, received_at, "
                          "status) VALUES (?, ?, ?, '2024-05', ?, ?)",
                          (rid, fid, unit, received, status)).lastrowid
        for ind_id, (number, accepted) in values.items():
            con.execute("INSERT INTO cell_values(return_id, sheet, cell, indicator_id, field, raw, "
                        "number, accepted) VALUES (?, '牵头任务', 'L5', ?, '本月累计完成', ?, ?, ?)",
                        (ret, ind_id, str(number), number, accepted))
    con.close()


def test_previous_month_prefills_from_the_ledger(master, tmp_path):
    db = tmp_path / "output" / "minshi.sqlite"
    assert templates.previous_values(db, PERIOD, "市卫健委") == {}  # no ledger yet
    ids = [i.id for t in master.led_by("市卫健委") for i in t.report_rows()]
    _ledger_with_may(db, "市卫健委", {ids[0]: (1, 1), ids[1]: (0.5, 1), ids[2]: (9, 0)},
                     received="2024-06-02T09:00:00")
    _ledger_with_may(db, "市卫健委", {ids[0]: (2, 1), ids[1]: (0.9, 1)})  # later, wins
    _ledger_with_may(db, "市卫健委", {ids[0]: (99, 1)}, status="rejected",
                     received="2024-06-04T09:00:00")
    assert templates.previous_values(db, PERIOD, "市卫健委") == {ids[0]: 2, ids[1]: 0.9}
    con = ledger.connect(db)
    con.execute("INSERT INTO reconciled(period, indicator_id, cumulative, status, unit) "
                "VALUES ('2024-05', ?, 1.2, '序时推进', '市卫健委')", (ids[1],))
    con.close()
    prev = templates.previous_values(db, PERIOD, "市卫健委")
    assert prev == {ids[0]: 2, ids[1]: 1.2}  # reconciled wins, the return fills the rest
    assert templates.previous_values(db, "2024-01", "市卫健委") == {}  # first period: blank
    assert templates.previous_values(db, "2024-08", "市卫健委") == {}  # nothing for July
    s = templates.write_templates(master, PERIOD, tmp_path / "t", config=settings.DEFAULTS, db=db)
    ws = openpyxl.load_workbook(s.entries[0].path)[C.SHEET_LEAD]
    got = {v["indicator_id"]: v["previous"] for _, v in table(ws)}
    assert got[ids[0]] == 2 and got[ids[1]] == 1.2 and got[ids[2]] is None
    assert ws.cell(C.FIRST_DATA_ROW, 11).protection.locked


def test_garbage_ledger_is_tolerated(tmp_path):
    db = tmp_path / "not.sqlite"
    db.write_bytes(b"this is not a database" * 100)
    assert templates.previous_values(db, PERIOD, "市卫健委") == {}


def test_cli_templates_after_import(workdir):
    from click.testing import CliRunner
    from minshi_xls.cli import cli
    runner = CliRunner()
    assert runner.invoke(cli, ["import"]).exit_code == 0
    r = runner.invoke(cli, ["templates", "--period", PERIOD, "--deadline", "2024-07-08"])
    assert r.exit_code == 0, r.output
    files = sorted((workdir / "templates" / PERIOD).glob("2024-06_*.xlsx"))
    assert f"已生成 {len(files)} 份填报表" in r.output and len(files) > 30
    assert "截止日期 2024-07-08" in r.output and "未登记邮箱的单位" in r.output
    keys, _ = meta(openpyxl.load_workbook(files[0]))
    assert keys["deadline"] == "2024-07-08"
    r = runner.invoke(cli, ["templates", "--period", "2024-6"])
    assert r.exit_code == 2 and "YYYY-MM" in r.output
    r = runner.invoke(cli, ["templates", "missing.xlsx", "--period", PERIOD])
    assert r.exit_code == 2 and "minshi import" in r.output


def test_cli_templates_refuses_a_clerks_mistakes_unless_forced(workdir):
    """A typed year, a deadline inside the month and regenerating workbooks the units already
    have are refused in Chinese (exit 2, nothing written); --force goes ahead."""
    from click.testing import CliRunner
    from minshi_xls.cli import cli
    runner = CliRunner()
    assert runner.invoke(cli, ["import"]).exit_code == 0
    r = runner.invoke(cli, ["templates", "--period", "2025-06"])
    assert r.exit_code == 2 and "总表是 2024 年的任务，不能生成 2025-06 的填报表" in r.output
    assert "--force" in r.output and not (workdir / "templates" / "2025-06").exists()
    r = runner.invoke(cli, ["templates", "--period", PERIOD, "--deadline", "2024-06-28"])
    assert r.exit_code == 2 and "截止日期 2024-06-28 不在 2024-06 月底之后" in r.output
    assert runner.invoke(cli, ["templates", "--period", PERIOD]).exit_code == 0
    # the workbooks went out (send, to the outbox): regenerating them is refused
    from test_collect_support import register_emails
    register_emails(workdir / "output" / "master.xlsx")
    r = runner.invoke(cli, ["send", "--period", PERIOD])
    assert r.exit_code == 0, r.output
    book = workdir / "templates" / PERIOD / C.file_name(PERIOD, "市卫健委")
    before = book.read_bytes()
    r = runner.invoke(cli, ["templates", "--period", PERIOD])
    assert r.exit_code == 2 and "的填报表已发给" in r.output and "覆盖已发出的表格" in r.output
    assert book.read_bytes() == before
    r = runner.invoke(cli, ["templates", "--period", PERIOD, "--force"])
    assert r.exit_code == 0, r.output


def guide_text(path):
    ws = openpyxl.load_workbook(path)[C.SHEET_GUIDE]
    return {r[0]: r[1] for r in ws.iter_rows(min_row=3, values_only=True) if r[0]}


def test_guide_tells_what_to_fill_deadline_and_contact(master, tmp_path):
    office = {"name": "连云港市民生实事办公室", "contact": "王敏", "phone": "0518-85820000",
              "email": "msss@lyg.gov.cn"}
    config = {**settings.DEFAULTS, "office": office}
    lead = guide_text(templates.write_workbook(master, "市卫健委", PERIOD, tmp_path / "a.xlsx",
                                               deadline="2024-07-08", config=config).path)
    county = guide_text(templates.write_workbook(master, "东海县", PERIOD, tmp_path / "b.xlsx",
                                                 config=config).path)
    assert lead["填报单位"] == "市卫健委" and lead["报送截止"] == "2024年7月8日"
    assert "本月累计完成" in lead["填写内容"] and "形象进度" in lead["填写内容"]
    assert "不得删除" in lead["注意事项"] and "调整行的顺序" in lead["注意事项"]
    assert "上月累计" in lead["锁定单元格"] and "完成率" in lead["锁定单元格"]
    assert "msss@lyg.gov.cn" in lead["报送方式"] and "2024年7月8日" in lead["报送方式"]
    assert all(x in lead["联系方式"] for x in office.values())
    # a county reads about its own sheet only
    n = len(expected_rows(master)["东海县"][C.SHEET_CO])
    assert f"（{n} 行）" in county["填写内容"] and "本单位累计完成" in county["填写内容"]
    assert C.SHEET_LEAD not in county["填写内容"] and "上月累计" not in county["锁定单元格"]
    assert "推进状态" not in county["颜色提示"]


def test_hand_edited_master_oddities_still_give_a_workbook(tmp_path):
    """A unit missing from the registry with a slash in its name, a target that is not a number:
    the workbook is still written, named safely, identified by _meta."""
    m = load_bundled()
    task = m.led_by("市卫健委")[0]
    task.lead_units = ["市A/B局"]
    task.indicators[0].target = "约6"
    s = templates.write_templates(m, PERIOD, tmp_path, config=settings.DEFAULTS)
    e = next(e for e in s.entries if e.unit == "市A/B局")
    assert e.path.name == "2024-06_市A_B局_民生实事填报表.xlsx" and e.kind == "未登记"
    wb = openpyxl.load_workbook(e.path)
    keys, rows = meta(wb)
    assert keys["unit"] == "市A/B局" and [r["indicator_id"] for r in rows] == [task.indicators[0].id]
    (r, v), = table(wb[C.SHEET_LEAD])
    assert v["target"] == "约6" and v["indicator_id"] == task.indicators[0].id
    assert rows[0]["fingerprint"] == C.row_fingerprint(C.LEAD_COLUMNS, v, False)


def test_password_from_config_protects_every_sheet(master, tmp_path):
    from openpyxl.workbook.protection import hash_password
    config = {**settings.DEFAULTS, "templates": {**settings.DEFAULTS["templates"],
                                                 "password": "lyg2024"}}
    wb = openpyxl.load_workbook(templates.write_workbook(
        master, "东海县", PERIOD, tmp_path / "p.xlsx", config=config).path)
    for name in wb.sheetnames:
        assert wb[name].protection.sheet and wb[name].protection.password == \
            hash_password("lyg2024"), name
    wb = openpyxl.load_workbook(templates.write_workbook(
        master, "东海县", PERIOD, tmp_path / "n.xlsx", config=settings.DEFAULTS).path)
    assert wb[C.SHEET_CO].protection.sheet and not wb[C.SHEET_CO].protection.password


def test_footer_text_starting_with_a_digit_or_holding_an_ampersand_prints_as_written(tmp_path):
    """xlsxwriter footer codes: "&8" followed by "2024" would be font size 82024."""
    import xlsxwriter
    from minshi_xls import xlsx_style
    path = tmp_path / "f.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    xlsx_style.print_setup(ws, footer="2024年6月 A&B")
    wb.close()
    import openpyxl
    left = openpyxl.load_workbook(path).active.oddFooter.left
    assert left.size == 8 and left.text == "2024年6月 A&&B"  # && is how a literal & is stored


def test_a_countys_shared_rows_show_what_it_needs_and_every_sheet_ends_with_signatures(
        master, tmp_path):
    """配合任务 of a county: the task's annual target (with its qualifier), its own target where
    allocated and its own figure of last month, read from the ledger as collect stored it."""
    import copy
    from test_reconcile import Ledger
    from minshi_xls.model import Allocation
    m = copy.deepcopy(master)
    shared = [ind for t in m.shared_by("东海县") for ind in t.report_rows()
              if ind.target_number is not None and not ind.is_milestone]
    qualified = next(i for i in shared if i.target_suffix)
    m.allocations = [Allocation(shared[0].id, "东海县", 3.0)]
    book = Ledger(tmp_path / "minshi.sqlite")
    book.add("东海县", "2024-05", [(shared[0].id, {"本单位累计完成": 1.5}),
                                  (qualified.id, {"本单位累计完成": 7})],
             received="2024-06-03T09:00:00", sheet=C.SHEET_CO)
    book.add("市卫健委", "2024-05", [(shared[0].id, {"本月累计完成": 99})],
             received="2024-06-03T09:00:00")  # the lead's city figure is not the county's
    summary = templates.write_templates(m, PERIOD, tmp_path / "t", config=settings.DEFAULTS,
                                        db=book.path)
    wb = openpyxl.load_workbook(summary.out_dir / C.file_name(PERIOD, "东海县"))
    rows = {v["indicator_id"]: (r, v) for r, v in table(wb[C.SHEET_CO])}
    r, first = rows[shared[0].id]
    assert (first["target"], first["unit_target"], first["previous"]) == (
        shared[0].target_number, 3, 1.5)
    r2, second = rows[qualified.id]
    assert second["previous"] == 7 and second["unit_target"] is None
    target_cell = wb[C.SHEET_CO].cell(r2, co_col("target"))
    assert target_cell.number_format.endswith(f'"{qualified.target_suffix}"')
    assert target_cell.protection.locked
    lead = openpyxl.load_workbook(summary.out_dir / C.file_name(PERIOD, "市卫健委"))
    for ws in (lead[C.SHEET_LEAD], wb[C.SHEET_CO]):
        sheet = ws.title
        n = len(table(ws))
        sign = " ".join(str(c.value) for c in ws[C.FIRST_DATA_ROW + n + 1] if c.value)
        for label in ("填报人：", "审核人：", "分管领导", "单位（盖章）"):
            assert label in sign, (sheet, label)
        assert ws.print_area.endswith(f"${C.FIRST_DATA_ROW + n + 1}")  # printed and signed
        for row in ws.iter_rows(max_row=C.FIRST_DATA_ROW + n + 1):
            assert not any(c.font.i for c in row), sheet  # no slanted CJK
