"""The shared contracts every stage relies on: issue catalogue, ledger views, columns."""
import sqlite3

from minshi_xls import columns, issues, ledger, settings


def test_issue_catalogue_severities_follow_the_contract():
    errors = {"file-unreadable", "file-encrypted", "file-too-large", "unidentified-return",
              "wrong-period", "template-modified", "missing-row", "unknown-row", "missing-value",
              "not-a-number", "negative-value", "formula-no-value"}
    infos = {"superseded", "duplicate-return"}
    for code, t in issues.TYPES.items():
        expected = "error" if code in errors else "info" if code in infos else None
        if expected:
            assert t.severity == expected, code
    for code in ("macro-present", "wrong-unit", "unexpected-sender", "late-return",
                 "coerced-number", "exceeds-target", "cumulative-decreased",
                 "status-inconsistent", "missing-text", "plan-not-monotonic", "meta-missing"):
        assert issues.TYPES[code].severity == "warning", code


def test_issue_message_is_chinese_and_filled():
    i = issues.make("not-a-number", sheet="牵头任务", cell="L5", value="三家", field="本月累计完成",
                    unit="家", indicator_id="省-1#1")
    assert "三家" in i.message and "本月累计完成" in i.message and "{" not in i.message
    r = issues.Report([i])
    assert not r.valid and r.flatten() == [["牵头任务", "L5", "not-a-number"]]


def test_ledger_views_have_documented_columns(tmp_path):
    con = ledger.connect(tmp_path / "l.sqlite")
    cols = [r[1] for r in con.execute("PRAGMA table_info(issues_v)")]
    assert cols == ["code", "severity", "unit", "period", "file_path", "file_sha256", "sheet",
                    "cell", "indicator_id", "value", "message"]
    cols = [r[1] for r in con.execute("PRAGMA table_info(values_v)")]
    assert cols == ["unit", "period", "file_path", "file_sha256", "return_status", "sheet",
                    "cell", "indicator_id", "field", "raw", "number"]


def test_lead_sheet_headers_are_the_contract():
    assert [c.header for c in columns.LEAD_COLUMNS] == [
        "任务编号", "指标编号", "任务内容", "指标", "年度目标", "计量单位", "一季度末计划", "二季度末计划",
        "三季度末计划", "四季度末计划", "上月累计", "本月累计完成", "完成率", "推进状态", "进展情况",
        "存在问题", "下步计划", "备注（说明）"]
    assert [c.header for c in columns.CO_COLUMNS] == [
        "任务编号", "指标编号", "任务内容", "指标", "牵头单位", "年度目标", "本单位目标", "计量单位",
        "上月累计", "本单位累计完成", "配合工作情况", "存在问题", "备注（说明）"]


def test_period_parsing():
    assert settings.period_parts("2024-06") == (2024, 6)
    assert settings.previous_period("2024-06") == "2024-05"
    import pytest
    from minshi_xls import MinshiError
    with pytest.raises(MinshiError, match="月份“2024-6”格式不对，应写成 YYYY-MM"):
        settings.period_parts("2024-6")


def _imports_of_package():
    """module name -> the minshi_xls modules it imports anywhere in its source (also inside
    functions: a lazy import is still a dependency)."""
    import ast
    from pathlib import Path

    import minshi_xls
    root = Path(minshi_xls.__file__).parent
    graph = {}
    for path in root.rglob("*.py"):
        name = ".".join(path.relative_to(root).with_suffix("").parts).replace(".__init__", "")
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "minshi_xls":
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("minshi_xls."):
                deps.add(node.module.split(".", 1)[1].split(".")[0])
            elif isinstance(node, ast.Import):
                deps.update(a.name.split(".", 1)[1].split(".")[0] for a in node.names
                            if a.name.startswith("minshi_xls."))
        graph[name] = deps
    return graph


def test_the_computation_imports_no_writer():
    """reconcile computes one result; the writers (workbook, 通报) only write it, and the
    command layer (report) calls both: so no writer can be reached from reconcile."""
    graph = _imports_of_package()
    seen, todo = set(), ["reconcile"]
    while todo:
        for dep in graph.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    assert not seen & {"consolidated", "summary", "bulletin", "report", "templates", "reconcile"}


def test_who_must_report_is_asked_of_the_model_not_of_the_template_writer():
    graph = _imports_of_package()
    for module in ("reconcile", "report"):
        assert "templates" not in graph[module], module
    from minshi_xls import reconcile, templates
    from minshi_xls.notice import load_bundled
    master = load_bundled()
    units = master.reporting_units()
    assert reconcile.expected_units(master) == units
    assert not hasattr(templates, "units_to_report")
    assert "东海县" in units and "市财政局" not in units  # a county shares; a bureau only helps
    assert "市财政局" in master.reporting_units(include_co_bureaus=True)
