"""The master workbook: exact round trip, what staff see, hand-made mistakes found at their cells,
and an import that never destroys an edited master."""
import json
from pathlib import Path

import openpyxl
import pytest

from minshi_xls import MinshiError
from minshi_xls.master import (INDICATOR_COLUMNS, SHEET_ALLOCATIONS, SHEET_INDICATORS,
                               SHEET_TASKS, SHEET_UNITS, TASK_COLUMNS, UNIT_COLUMNS,
                               check_master, import_notice, read_master, read_units,
                               write_master)
from minshi_xls.model import Allocation
from minshi_xls.notice import load_bundled


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The bundled master with a quarterly plan and allocations, written once."""
    m = load_bundled()
    m.task("省-12").indicators[0].plan = [0.5, 1.2, 2.0, 2.28]
    m.task("市-3.1").indicators[1].plan = [None, 4000.5, None, None]
    m.allocations = [Allocation("省-1#1", "东海县", 2.0), Allocation("省-1#1", "灌南县", 1.5)]
    path = tmp_path_factory.mktemp("m") / "master.xlsx"
    write_master(m, path)
    return m, path


def _col(columns, key):
    return openpyxl.utils.get_column_letter([c.key for c in columns].index(key) + 1)


def _find_row(ws, value, col="A"):
    for cell in ws[col]:
        if cell.value == value:
            return cell.row
    raise KeyError(value)


def test_round_trip_is_exact(written):
    m, path = written
    back = read_master(path)
    assert back.tasks == m.tasks  # every field, indicators and their plans included
    assert back.registry == m.registry
    assert back.allocations == m.allocations
    assert (back.source, back.year) == ("lianyungang_2024.txt", 2024)
    assert back.to_json() == m.to_json()
    assert back.task("省-12").indicators[0].plan == [0.5, 1.2, 2.0, 2.28]
    assert back.allocation("省-1#1", "灌南县") == 1.5


def test_workbook_is_made_for_people(written):
    _, path = written
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["说明", "任务", "指标", "单位", "分配"]
    for name, columns in ((SHEET_TASKS, TASK_COLUMNS), (SHEET_INDICATORS, INDICATOR_COLUMNS),
                          (SHEET_UNITS, UNIT_COLUMNS)):
        ws = wb[name]
        assert [c.value for c in ws[1]] == [c.header for c in columns]
        assert ws.freeze_panes == "B2"
        assert ws.page_setup.paperSize == 9 and ws.print_title_rows == "$1:$1"
    ws = wb[SHEET_TASKS]
    assert ws.column_dimensions[_col(TASK_COLUMNS, "text")].width >= 40
    assert ws.max_row == 125
    r = _find_row(ws, "省-2")
    assert ws[f"{_col(TASK_COLUMNS, 'co_units')}{r}"].value == "市妇联、各县区、功能板块"
    assert ws[f"{_col(TASK_COLUMNS, 'scope')}{_find_row(ws, '省-11')}"].value == "我市不承担相关任务"
    ws = wb[SHEET_INDICATORS]
    r = _find_row(ws, "省-12#1")
    assert ws[f"{_col(INDICATOR_COLUMNS, 'target')}{r}"].value == 2.28  # a number, not text
    assert ws[f"{_col(INDICATOR_COLUMNS, 'base_value')}{r}"].value == 22800
    r = _find_row(ws, "省-38#1")
    assert ws[f"{_col(INDICATOR_COLUMNS, 'qualifier')}{r}"].value == "以上/不少于"
    assert "可修改" in "".join(str(c.value) for c in wb["说明"]["B"] if c.value)


def test_hand_edits_are_read_and_derived_columns_follow(written, tmp_path):
    _, path = written
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET_UNITS]
    r = _find_row(ws, "高新区")
    ws[f"{_col(UNIT_COLUMNS, 'groups')}{r}"] = None  # the office drops 高新区 from 功能板块
    ws = wb[SHEET_INDICATORS]
    r = _find_row(ws, "省-12#1")
    ws[f"{_col(INDICATOR_COLUMNS, 'target')}{r}"] = 2.5
    ws[f"{_col(INDICATOR_COLUMNS, 'qualifier')}{r}"] = "左右"
    ws = wb[SHEET_TASKS]
    ws[f"{_col(TASK_COLUMNS, 'lead_units')}{_find_row(ws, '省-1')}"] = "市卫健委， 市发改委"
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    m = read_master(edited)
    assert m.registry.groups["功能板块"] == ["市开发区", "徐圩新区", "云台山景区"]
    assert "高新区" not in m.task("省-2").responsible_units
    ind = m.task("省-12").indicators[0]
    assert (ind.target, ind.qualifier, ind.base_value) == ("2.5", "~", 25000)
    assert m.task("省-1").lead_units == ["市卫健委", "市发改委"]


def test_clean_master_checks_clean(written):
    report = check_master(written[1])
    assert report.valid and report.issues == []
    assert report.stats["tasks"] == 124 and report.stats["indicators"] == 148


def test_check_finds_hand_made_mistakes_at_their_cells(written, tmp_path):
    _, path = written
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET_TASKS]
    lead, co, tid = (_col(TASK_COLUMNS, k) for k in ("lead_units", "co_units", "id"))
    r3 = _find_row(ws, "省-3")
    ws[f"{tid}{r3}"] = "省-2"  # duplicate id
    r4 = _find_row(ws, "省-4")
    ws[f"{lead}{r4}"] = "市民证局"  # typo
    r7 = _find_row(ws, "省-7")
    ws[f"{lead}{r7}"] = None  # no lead unit
    r8 = _find_row(ws, "省-8.1")
    ws[f"{co}{r8}"] = "各县区、功能版块"  # typo of a group
    r11 = _find_row(ws, "省-11")
    ws[f"{lead}{r11}"] = None  # not applicable: no lead unit needed
    scope = _col(TASK_COLUMNS, "scope")
    r13 = _find_row(ws, "省-13")
    ws[f"{scope}{r13}"] = "本地"
    ws = wb[SHEET_INDICATORS]
    target, q2, q3 = (_col(INDICATOR_COLUMNS, k) for k in ("target", "plan_q2", "plan_q3"))
    ri = _find_row(ws, "省-9#1")
    ws[f"{target}{ri}"] = "三千五"
    rp = _find_row(ws, "省-12#1")
    ws[f"{q3}{rp}"] = 1.0  # below 二季度 1.2
    task_col = _col(INDICATOR_COLUMNS, "task_id")
    rt = _find_row(ws, "省-14#1")
    ws[f"{task_col}{rt}"] = "省-99"
    ws = wb[SHEET_ALLOCATIONS]
    ws["A4"], ws["B4"], ws["C4"] = "省-1#1", "东海", 1  # alias: fine
    ws["A5"], ws["B5"], ws["C5"] = "省-1#1", "赣愉区", "两个"
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    report = check_master(bad)
    got = sorted(map(tuple, report.flatten(("sheet", "cell", "code"))))
    assert got == sorted([
        (SHEET_TASKS, f"{tid}{r3}", "duplicate-id"),
        (SHEET_TASKS, f"{lead}{r4}", "unknown-unit"),
        (SHEET_TASKS, f"{lead}{r7}", "no-lead-unit"),
        (SHEET_TASKS, f"{co}{r8}", "unknown-unit"),
        (SHEET_INDICATORS, f"{target}{ri}", "bad-target"),
        (SHEET_INDICATORS, f"{q3}{rp}", "plan-not-monotonic"),
        (SHEET_TASKS, f"{scope}{r13}", "bad-scope"),
        (SHEET_INDICATORS, f"{task_col}{rt}", "unknown-task"),
        # renumbering 省-3 leaves its indicator without a task
        (SHEET_INDICATORS, f"{task_col}{_find_row(wb[SHEET_INDICATORS], '省-3#1')}", "unknown-task"),
        (SHEET_ALLOCATIONS, "B5", "unknown-unit"),
        (SHEET_ALLOCATIONS, "C5", "bad-target"),
    ])
    assert not report.valid
    by_cell = {i.cell: i for i in report.issues}
    assert "市民政局" in by_cell[f"{lead}{r4}"].message  # closest known name suggested
    assert "功能板块" in by_cell[f"{co}{r8}"].message
    assert "赣榆区" in by_cell["B5"].message
    assert f"{tid}{_find_row(ws.parent[SHEET_TASKS], '省-2')}" in by_cell[f"{tid}{r3}"].message


def test_import_writes_master_and_json(tmp_path, notice_path):
    out, js = tmp_path / "out" / "master.xlsx", tmp_path / "out" / "master.json"
    result = import_notice(notice_path, out, json_path=js)
    assert out.is_file() and result.backup is None and result.issues == []
    assert result.seconds < 1.0
    raw = js.read_text(encoding="utf-8")
    assert "幼有所育" in raw  # UTF-8, not ASCII-escaped
    assert json.loads(raw) == read_master(out).to_json() == result.master.to_json()
    assert "124 项任务" in result.summary()


def test_import_refuses_to_overwrite_then_force_keeps_a_backup(tmp_path, notice_path):
    out = tmp_path / "master.xlsx"
    import_notice(notice_path, out)
    wb = openpyxl.load_workbook(out)  # staff edit the registry: 高新区 leaves 功能板块
    ws = wb[SHEET_UNITS]
    ws[f"{_col(UNIT_COLUMNS, 'groups')}{_find_row(ws, '高新区')}"] = None
    ws = wb[SHEET_INDICATORS]  # ... and type in quarterly plans and an allocation
    for ind_id, plan in (("省-12#1", [0.5, 1, 2, 2.28]), ("省-7#1", [3, 6, 9, 12])):
        r = _find_row(ws, ind_id)
        for key, v in zip(("plan_q1", "plan_q2", "plan_q3", "plan_q4"), plan):
            ws[f"{_col(INDICATOR_COLUMNS, key)}{r}"] = v
    ws[f"{_col(INDICATOR_COLUMNS, 'target')}{_find_row(ws, '省-7#1')}"] = 14  # target changed
    wb[SHEET_ALLOCATIONS].append(["省-1#1", "东海县", 2])
    wb[SHEET_ALLOCATIONS].append(["市-4#0", "连云区", 30])
    wb[SHEET_ALLOCATIONS].append(["省-99#1", "连云区", 1])  # no longer exists
    wb.save(out)
    edited = out.read_bytes()
    with pytest.raises(MinshiError, match="--force"):
        import_notice(notice_path, out)
    assert out.read_bytes() == edited
    result = import_notice(notice_path, out, force=True)
    assert result.backup.is_file() and result.backup.read_bytes() == edited
    assert result.backup.name.startswith("master.backup-")
    # the edited 单位 sheet of the old master is the registry of the new one
    new = read_master(out)
    assert "高新区" not in new.task("省-2").responsible_units
    # plans survive where the notice's target is the one they were made for
    assert new.task("省-12").indicators[0].plan == [0.5, 1, 2, 2.28]
    assert new.task("省-7").indicators[0].plan == [None] * 4
    assert [(a.indicator_id, a.unit, a.share) for a in new.allocations] == [
        ("省-1#1", "东海县", 2), ("市-4#0", "连云区", 30)]
    assert result.carried == (1, 2) and "季度计划 1 条" in result.summary()


def test_units_workbook_overrides_the_default(tmp_path, notice_path):
    units = tmp_path / "units.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET_UNITS
    ws.append([c.header for c in UNIT_COLUMNS])
    ws.append(["市卫健委", "连云港市卫生健康委员会", "市直部门", "", "", "wjw@example.cn", "张三"])
    ws.append(["东海县", "东海县人民政府", "县区", "", "各县区", "", ""])
    wb.save(units)
    assert read_units(units).get("连云港市卫生健康委员会").email == "wjw@example.cn"
    result = import_notice(notice_path, tmp_path / "m.xlsx", units=units)
    assert result.master.task("省-2").responsible_units[:3] == ["团市委", "市妇联", "东海县"]
    assert any(i.code == "unknown-unit" and i.value == "团市委" for i in result.issues)
    with pytest.raises(MinshiError, match="单位名册"):
        import_notice(notice_path, tmp_path / "n.xlsx", units=tmp_path / "missing.xlsx")
    assert not (tmp_path / "n.xlsx").exists()


def test_bad_notice_writes_nothing(tmp_path):
    garbled = tmp_path / "n.txt"
    garbled.write_bytes(bytes(range(256)) * 20)
    out = tmp_path / "m.xlsx"
    with pytest.raises(MinshiError, match="无法识别通知文件 n.txt 的文字编码"):
        import_notice(garbled, out, json_path=tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == [garbled]


def test_not_a_master(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_text("not a workbook")
    with pytest.raises(MinshiError, match="无法读取总表 x.xlsx（BadZipFile）"):
        read_master(p)
    with pytest.raises(MinshiError, match="找不到总表"):
        check_master(tmp_path / "missing.xlsx")


# --- the commands ---------------------------------------------------------------------------------

def _run(*args):
    from click.testing import CliRunner
    from minshi_xls.cli import cli
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_import_bundled_then_refuse_then_force(workdir):
    r = _run("import", "--json", "output/master.json")
    assert r.exit_code == 0, r.output
    assert "已导入 124 项任务（省 65 项、市 59 项" in r.output
    assert (workdir / "output" / "master.xlsx").is_file()
    data = json.loads((workdir / "output" / "master.json").read_text("utf-8"))
    assert data["tasks"][0]["id"] == "省-1"
    r = _run("import")
    assert r.exit_code == 2 and "--force" in r.output
    r = _run("import", "--force")
    assert r.exit_code == 0 and "已备份" in r.output
    assert len(list((workdir / "output").glob("master.backup-*.xlsx"))) == 1


def test_cli_import_reports_unparsed_lines(workdir):
    variant = Path(__file__).parent / "fixtures_notice" / "variant_2025.txt"
    r = _run("import", str(variant), "-o", "m.xlsx")
    assert r.exit_code == 0, r.output  # warnings only
    assert "[警告] 第19行 通知中未能解析的内容" in r.output
    assert read_master("m.xlsx").task("市-3.2").lead_units == ["市卫健委"]


def test_cli_import_garbled_exits_2_and_writes_nothing(workdir):
    (workdir / "bad.txt").write_bytes(bytes(range(256)) * 4)
    r = _run("import", "bad.txt", "--json", "output/m.json")
    assert r.exit_code == 2 and "编码" in r.output
    assert not (workdir / "output").exists()


def test_cli_master_check(workdir):
    assert _run("import").exit_code == 0
    assert _run("master", "check").exit_code == 0
    wb = openpyxl.load_workbook("output/master.xlsx")
    ws = wb[SHEET_TASKS]
    cell = f"{_col(TASK_COLUMNS, 'lead_units')}{_find_row(ws, '市-1')}"
    ws[cell] = "市教育厅"
    wb.save("output/master.xlsx")
    r = _run("master", "check", "output/master.xlsx")
    assert r.exit_code == 1
    assert f"[错误] 任务!{cell} 单位未登记" in r.output and "市教育局" in r.output
    assert _run("master", "check", "nope.xlsx").exit_code == 2


def test_readme_documents_every_import_and_check_option():
    """docs/import.md is the manual: each option of the two commands must be in it."""
    from minshi_xls.cli import cli
    section = (Path(__file__).parents[1] / "docs" / "import.md").read_text(encoding="utf-8")
    for command in (cli.commands["import"], cli.commands["master"].commands["check"]):
        assert command.help
        for param in command.params:
            names = [o for o in param.opts if o.startswith("--")] or [param.name.upper()]
            assert any(n in section for n in names), (command.name, names)
    for word in ("minshi import", "minshi master check", "--json", "说明", "任务", "指标", "单位",
                 "分配", "notice-unparsed", "duplicate-id", "unknown-unit", "bad-target",
                 "no-lead-unit"):
        assert word in section, word


def test_check_finds_a_bad_unit_kind_and_a_plan_that_is_not_a_number(written, tmp_path):
    """The two checks docs/import.md lists for the 单位 and the plan cells, each at its cell."""
    wb = openpyxl.load_workbook(written[1])
    ws = wb[SHEET_UNITS]
    kind = f"{_col(UNIT_COLUMNS, 'kind')}{_find_row(ws, '市教育局')}"
    ws[kind] = "市直单位"  # the registry's word is 市直部门
    ws = wb[SHEET_INDICATORS]
    q1 = f"{_col(INDICATOR_COLUMNS, 'plan_q1')}{_find_row(ws, '省-9#1')}"
    ws[q1] = "约500"
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    report = check_master(bad)
    assert sorted(map(tuple, report.flatten(("sheet", "cell", "code", "severity")))) == sorted([
        (SHEET_UNITS, kind, "bad-unit-kind", "error"),
        (SHEET_INDICATORS, q1, "not-a-number", "error")])
    by_cell = {i.cell: i for i in report.issues}
    assert "市直单位" in by_cell[kind].message and "市直部门、县区" in by_cell[kind].message
    assert "约500" in by_cell[q1].message and by_cell[q1].indicator_id == "省-9#1"
    assert not report.valid


# --- notices of other places: the 说明 sheet, the office's lead rule, the report -----------------

FIXTURES = Path(__file__).parent / "fixtures_notice"


def _guide(path):
    ws = openpyxl.load_workbook(path)["说明"]
    return {r[0]: r[1] for r in ws.iter_rows(min_col=1, max_col=2, values_only=True) if r[0]}


def test_guide_sheet_carries_line_coverage_and_the_lead_rule_the_office_sets(tmp_path):
    out = tmp_path / "m.xlsx"
    result = import_notice(FIXTURES / "f11_hubei_yishi_shared_suffix.txt", out)
    guide = _guide(out)
    assert guide["无牵头单位时"] == "第一个责任单位牵头"
    cov = result.master.coverage
    assert guide["通知行数"] == (f"前言 {cov['前言']} 行、标题 {cov['标题']} 行、任务 {cov['任务']} 行、"
                              f"未解析 0 行、空行 {cov['空行']} 行")
    assert read_master(out).coverage == cov
    assert read_master(out).task("县-2").lead_units == ["县住建局"]
    # the office decides every unit of a bare 责任单位 list leads; re-import keeps that choice
    wb = openpyxl.load_workbook(out)
    ws = wb["说明"]
    row = next(r for r in ws.iter_rows() if r[0].value == "无牵头单位时")
    row[1].value = "全部责任单位牵头"
    wb.save(out)
    again = import_notice(FIXTURES / "f11_hubei_yishi_shared_suffix.txt", out, force=True)
    assert again.master.lead_rule == "all"
    assert read_master(out).task("县-2").lead_units == ["县住建局", "县民政局"]
    assert _guide(out)["无牵头单位时"] == "全部责任单位牵头"


def test_cli_import_of_another_city_reports_lines_and_its_new_registry(workdir):
    r = _run("import", str(FIXTURES / "f02_lishan_label_lines.txt"), "-o", "m.xlsx")
    assert r.exit_code == 0, r.output
    assert "已导入 4 项任务（省 0 项、市 0 项、区 4 项" in r.output
    assert "未解析 0 行" in r.output and "通知共 46 行" in r.output
    assert "按通知新建单位名册" in r.output
    units = read_units("m.xlsx")
    assert "区教育局" in units.names() and "市卫健委" not in units.names()


def test_check_a_range_needs_a_high_end_not_below_the_low_end(tmp_path):
    out = tmp_path / "m.xlsx"
    import_notice(FIXTURES / "f06_wuhan_nested_categories.txt", out)
    assert not [i for i in check_master(out).issues if i.code == "bad-target"]
    wb = openpyxl.load_workbook(out)
    ws = wb[SHEET_INDICATORS]
    row = _find_row(ws, "市-5#1")
    high = f"{_col(INDICATOR_COLUMNS, 'target_high')}{row}"
    assert ws[f"{_col(INDICATOR_COLUMNS, 'qualifier')}{row}"].value == "区间"
    assert ws[high].value == 15
    ws[high] = 8  # below the low end, 10
    wb.save(out)
    report = check_master(out)
    assert [(i.code, i.cell) for i in report.issues if i.code == "bad-target"] == [
        ("bad-target", high)]
    assert read_master(out).indicator("市-5#1").target_high == "8"
