"""The importer on notices of other cities and years, one per form real notices take.

Each fixture in tests/fixtures_notice/ was written for this project in the form of a real
notice (layout, labels, numbering and phrasing; the places, units, items and targets are made
up); tests/fixtures_notice/SOURCES.md names the public notice each form was taken from. The
expected results below were checked by hand against the fixture text: task id, lead units,
co-units, and every target (qualifier prefix, target, unit; a range as low—high).
"""
from pathlib import Path

import pytest

from minshi_xls.notice import PLACES, UNPARSED, parse_notice, read_notice_lines
from test_notice import write_text_pdf

HERE = Path(__file__).parent / "fixtures_notice"
QUAL = {"=": "", ">=": ">=", "~": "~", ">": ">", "<=": "<="}

#: fixture -> (year, expected tasks "id | lead | co | targets", unparsed lines)
EXPECTED = {
    "f01_huzhou_bare_units.txt": (2021, """
        市-1 | 市教育局 | 市发展改革委、市自然资源规划局、市建设局 | 12所 6000个
        市-2 | 市教育局 | 市卫生健康委 | >=95%
        市-3 | 市民政局 | 市财政局、各区县政府 | 30家 20个
        市-4 | 市民政局 | 市残联 | 1500户
        市-5 | 市交通运输局 | 市公安局、市建设局 | 25条 ~80个
        """, 0),
    "f02_lishan_label_lines.txt": (2023, """
        区-1 | 区教育局 | 区财政局、区自然资源局、各街道 | 2所 540个
        区-2 | 区人社局 | 各街道、区就业服务中心 | >=3200人 <=4.5%
        区-3 | 区住建局 | 区财政局、南湾经济开发区、各街道 | 15个 3000户
        区-4 | 区发改局 | 区统计局 | ~6%
        """, 0),
    "f03_ningbo_newspaper_people.txt": (2024, """
        市-1 | 市公安局 | 市城管局、市财政局 | 200套
        市-2 | 市交通局 | 市公安局、各区政府 | 8条 15条
        市-3 | 市交通局 | 各区政府、市发改委、市住建局 | 2000辆 80个
        """, 0),
    "f04_mianyang_traditional.txt": (2023, """
        市-1 | 市住房和城乡建设委 | 水务集团 | 20万吨 ~18公里
        市-2 | 市住房和城乡建设委 | 交发集团 | 1条 ~2.1万平方米
        市-3 | 市住房和城乡建设委 | 各县市区政府 | 120部
        市-4 | 市卫生健康委 | - | >=8万人
        市-5 | 市医保局 | 市民政局、市财政局 | 1.5万人次
        市-6 | 市教育和体育局 | - | 3所 4500个
        """, 0),
    "f05_jiayu_cn_items.txt": (2022, """
        县-1-1 | 县教育局 | 县财政局、城关镇人民政府 | 1所 360个
        县-1-2 | 县卫健局 | 县妇联、各镇人民政府 | >=6000人
        县-2-1 | 县交通运输局 | 县财政局、各镇人民政府、白沙经济开发区 | 45公里 3座
        县-2-2 | 县住建局、县城管执法局 | 县公安局交警大队 | 500个
        县-2-3 | 县水利局（河湖长制办公室） | 各镇人民政府 | 2.5万人
        """, 0),
    "f06_wuhan_nested_categories.txt": (2019, """
        市-1 | 市人力资源局 | 各区人民政府 | 16万人 <=3.5%
        市-2 | 市人力资源局 | - | 3亿元
        市-3 | 市教育局 | 市自然资源规划局、市城建局、各区人民政府 | 40所 3万个
        市-5 | 市卫生健康委 | 市教育局、市市场监管局 | 10—15家
        市-6 | 市住房保障房管局 | 市财政局、各区人民政府 | <=120个 >=5万户
        """, 0),
    "f08_web_table_flat.txt": (2022, """
        市-1 | 市教育局 | 市公安局、各县区政府 | 320套
        市-2 | 市文广旅局 | 各县区政府 | 12家 >=200场
        市-3 | 市住建局 | 市公安局、市自然资源局 | ~3000个
        """, 0),
    "f09_county_list_from_31.txt": (2024, """
        县-31 | 县交通运输局 | 县财政局、各乡镇人民政府 | 60公里 8座
        县-32 | 县教育体育局 | 县发展改革局、县自然资源局 | 1200个
        县-33 | 县卫生健康局 | 各乡镇卫生院 | >=3.2万人
        县-35 | 县水利局 | 各乡镇人民政府 | 5处 1.2万人
        县-36 | 县城市管理局 | - | 10座 20辆
        """, 0),
    "f10_dash_headings_bounds.txt": (2025, """
        区-1 | 区教育局 | 区财政局 | 2个 1栋
        区-2 | 区商务局 | 各街道 | 8个 <=1000米
        区-3 | 区卫健局 | - | 75% <=12分钟
        区-4 | 区卫健局 | 区教育局、区民政局 | 3000—5000人次
        区-5 | 区住建局 | 各街道 | 18个 ~4200户
        """, 0),
    "f11_hubei_yishi_shared_suffix.txt": (2020, """
        县-1 | 县水利和湖泊局 | 县财政局、人民大垸管理区、荒湖管理区、各乡、镇人民政府 | 4处 120公里
        县-2 | 县住建局 | 县民政局 | 300户
        县-3 | 县文化和旅游局 | 县财政局、各乡、镇人民政府 | 2个 120场次
        县-4 | 县民政局 | 朱河镇、新沟镇 | 200张
        """, 0),
    "f12_covering_letter_zhuban.txt": (2021, """
        市-1 | 市人社局 | 各县市区人民政府 | 4.5万人
        市-2 | 市人社局 | 市教育局、市财政局 | >=3万人次
        市-3 | 市住建局 | 市发改委、市自然资源局、各县市区人民政府 | 2000套
        市-4 | 市住建局 | - | 160个
        """, 0),
    "f13_levels_sub_items.txt": (2025, """
        省-1 | 市卫健委 | 市发改委、各县区 | 600个
        省-2.1 | 市民政局 | 团市委 | 2000人次
        省-2.2 | 市妇联 | 各县区 | 15个
        省-3.1 | 市交通局 | 各县区 | 200公里
        省-3.2 | 市交通局 | 各县区 | 10座
        市-1 | 市住建局 | 各县区、功能板块 | 20个
        市-2 | - | - | 1家
        """, 0),
    "f15_xianyang_prose_units.txt": (2022, """
        市-1 | 市教育局 | 市发展改革委、市财政局、市自然资源局 | 15所 4500个
        市-2 | 市教育局、市住建局 | 各县市区政府 | 8万平方米
        市-3 | 市民政局 | 市财政局、各县市区政府 | 12万人
        市-4 | 市人社局 | 市级各有关部门、各县市区政府 | >=100场次
        """, 0),
    "f16_shandong_pipe_table.txt": (2022, """
        市-1 | 教育体育局 | - | 2座
        市-2 | 教育体育局 | - | 14处
        市-3 | 卫生健康局 | - | 20处
        市-4 | 卫生健康局 | 妇联 | 1.2万人
        """, 0),
    "f14_pdf_cn_numbered.txt": (2018, """
        市-1 | 市教育局 | 各县（区）人民政府 | 6所 1800个
        市-2 | 市住建局 | 市环保局、各县（区）人民政府 | 25个
        市-3 | 市住建局 | 市公安局、市国土资源局、各县（区）人民政府 | >=4000个
        市-4 | 市商务局 | 各县（区）人民政府 | 8座
        """, 0),
}


def _names(cell: str):
    """"A、B" -> [A, B]; a name holding 、 itself (各乡、镇人民政府) is kept whole."""
    if cell == "-":
        return []
    out = []
    for part in cell.split("、"):
        if out and out[-1] in ("各乡", "各县"):
            out[-1] += "、" + part
        else:
            out.append(part)
    return out


def _expected(table: str):
    for line in table.strip().splitlines():
        task_id, lead, co, targets = (x.strip() for x in line.split("|"))
        yield task_id, _names(lead), _names(co), targets.split() if targets != "-" else []


def _target(ind) -> str:
    if ind.qualifier == "range":
        return f"{ind.target}—{ind.target_high}{ind.unit}"
    return f"{QUAL[ind.qualifier]}{ind.target}{ind.unit}"


def _got(master):
    return [(t.id, t.lead_units, t.co_units, [_target(i) for i in t.indicators])
            for t in master.tasks]


def _check(master, found, name, n_lines=None):
    year, table, unparsed = EXPECTED[name]
    assert master.year == year
    assert _got(master) == list(_expected(table))
    assert master.coverage[UNPARSED] == unparsed == sum(i.code == "notice-unparsed"
                                                        for i in found), found
    if n_lines is not None:  # every line is in exactly one place
        assert sum(master.coverage[p] for p in PLACES) == n_lines


def _as_docx(lines, path):
    import docx
    d = docx.Document()
    for line in lines:
        d.add_paragraph(line)
    d.save(path)
    return path


@pytest.mark.parametrize("name", [n for n in EXPECTED if n != "f14_pdf_cn_numbered.txt"])
def test_txt_form(name):
    master, found = parse_notice(HERE / name)
    _check(master, found, name, len(read_notice_lines(HERE / name)))


def test_pdf_form(tmp_path):
    """A PDF with a text layer (lines wrapped at 30 characters, pages of 12 lines)."""
    name = "f14_pdf_cn_numbered.txt"
    pdf = write_text_pdf((HERE / name).read_text(encoding="utf-8").split("\n"),
                         tmp_path / "notice.pdf", per_line=30, per_page=12)
    master, found = parse_notice(tmp_path / "notice.pdf")
    _check(master, found, name, len(read_notice_lines(tmp_path / "notice.pdf")))
    txt_master, _ = parse_notice(HERE / name)
    assert master.tasks == txt_master.tasks


def test_docx_paragraphs_form(tmp_path):
    name = "f12_covering_letter_zhuban.txt"
    lines = (HERE / name).read_text(encoding="utf-8").split("\n")
    master, found = parse_notice(_as_docx(lines, tmp_path / "notice.docx"))
    _check(master, found, name, len(lines))


def _table_docx(path, before, header, rows, after=()):
    """A Word notice whose list is a table; a row of one value is a category row merged
    across the table; "\n" in a cell is a paragraph break inside it."""
    import docx
    d = docx.Document()
    for line in before:
        d.add_paragraph(line)
    table = d.add_table(rows=len(rows) + 1, cols=len(header))
    for c, v in enumerate(header):
        table.rows[0].cells[c].text = v
    for r, values in enumerate(rows, start=1):
        cells = table.rows[r].cells
        if len(values) == 1:
            cells[0].merge(cells[-1]).text = values[0]
            continue
        for c, v in enumerate(values):
            cells[c].text = ""
            for k, part in enumerate(v.split("\n")):
                if k == 0:
                    cells[c].paragraphs[0].text = part
                else:
                    cells[c].add_paragraph(part)
    for line in after:
        d.add_paragraph(line)
    d.save(path)
    return path


def test_docx_table_with_name_content_and_second_rows(tmp_path):
    """Form of a district's 重大民生实事项目目标任务责任分解表 (Word): 序号 | 项目名称 | 主要内容 |
    区政府分管领导 | 牵头单位 | 配合单位; a row without 序号 and name is a second part of the
    item above with its own units; several units in one cell as paragraphs."""
    p = _table_docx(
        tmp_path / "table.docx",
        ["钟山区人民政府办公室关于印发2021年重大民生实事项目目标任务责任分解表的通知",
         "各街道办事处，区各部门：现将责任分解表印发给你们，请认真组织实施。",
         "2021年重大民生实事项目目标任务责任分解表"],
        ["序号", "项目名称", "主要内容", "区政府分管领导", "牵头单位", "配合单位"],
        [("1", "增加教育资源供给", "新建、改扩建学校8个，其中幼儿园5个、小学3个；增加学位3200个。",
          "李明", "教育局", "经开区\n各街道"),
         ("2", "促进就业稳定增长", "城镇新增就业9000人，城镇登记失业率控制在3%以内。", "李明", "人社局",
          "各街道"),
         ("3", "老城厢复兴发展", "完成纪念馆整体提升工程对外开放。", "王红", "文体旅局", "城投公司"),
         ("", "", "推进历史街区道路整治，整治道路5条。", "王红", "住建局", "五星街道、南大街街道"),
         ("4", "优化养老服务", "为6000名老年人提供居家上门服务，改造3家社区居家养老服务中心。", "张兰",
          "民政局", "各街道")],
        ["抄送：区委办公室。"])
    master, found = parse_notice(p)
    assert master.year == 2021
    assert _got(master) == [
        ("区-1", ["教育局"], ["经开区", "各街道"], ["8个", "5个", "3个", "3200个"]),
        ("区-2", ["人社局"], ["各街道"], ["9000人", "<=3%"]),
        ("区-3.1", ["文体旅局"], ["城投公司"], []),
        ("区-3.2", ["住建局"], ["五星街道", "南大街街道"], ["5条"]),
        ("区-4", ["民政局"], ["各街道"], ["6000名", "3家"])]
    assert master.task("区-1").text.startswith("增加教育资源供给：新建")
    assert master.coverage[UNPARSED] == 0 and not [i for i in found if i.code == "notice-unparsed"]


def test_docx_table_with_responsible_units_only(tmp_path):
    """Form of a 民生实事项目任务分解表 with 事项名称 | 项目内容 | 责任单位 | 协同单位 | 完成时限 |
    备注 and merged category rows: no lead column, so the office's rule applies (default: the
    first 责任单位 leads); 完成时限 and 备注 are not units."""
    p = _table_docx(
        tmp_path / "table.docx",
        ["青禾市2025年民生实事项目任务分解表"],
        ["序号", "事项名称", "项目内容", "责任单位", "协同单位", "完成时限", "备注"],
        [("一、民生保障",),
         ("1", "困难群众救助", "发放城乡低保金1.2亿元，临时救助不少于3000人次。", "市民政局",
          "市财政局\n各县区", "2025年12月", ""),
         ("2", "残疾人康复", "为800名残疾儿童提供康复救助。", "市残联、市卫健委", "市民政局",
          "2025年10月", "续建"),
         ("二、城市管理",),
         ("3", "背街小巷整治", "整治背街小巷60条。", "市城管局", "各县区、功能区", "2025年11月", "")])
    master, found = parse_notice(p)
    assert master.year == 2025
    assert _got(master) == [
        ("市-1", ["市民政局"], ["市财政局", "各县区"], ["1.2亿元", ">=3000人次"]),
        ("市-2", ["市残联"], ["市卫健委", "市民政局"], ["800名"]),
        ("市-3", ["市城管局"], ["各县区", "功能区"], ["60条"])]
    assert [t.category for t in master.tasks] == ["民生保障", "民生保障", "城市管理"]
    assert master.task("市-1").indicators[0].base_value == 120000000
    assert master.coverage[UNPARSED] == 0


# --- what the import does with a notice of another city ----------------------------------------

def test_a_pasted_table_keeps_its_categories_and_drops_progress_columns():
    master, _ = parse_notice(HERE / "f16_shandong_pipe_table.txt")
    assert [t.category for t in master.tasks] == ["教育文化", "教育文化", "医疗卫生", "医疗卫生"]
    assert "已完成" not in master.task("市-1").text  # 1-9月份工作完成情况 is not the task
    assert master.coverage == {"前言": 2, "标题": 1, "任务": 4, "未解析": 0, "空行": 1}


def test_another_city_gets_a_registry_of_its_own_units():
    master, found = parse_notice(HERE / "f02_lishan_label_lines.txt")
    assert found[0].code == "notice-new-registry" and found[0].severity == "info"
    names = {u.short for u in master.registry.units}
    assert {"区教育局", "区人社局", "南湾经济开发区", "区就业服务中心"} <= names
    assert "市卫健委" not in names  # not forced onto Lianyungang's registry
    # only group tokens stay unknown: the office gives them members in the 单位 sheet
    assert {i.value for i in found if i.code == "unknown-unit"} == {"各街道"}
    assert master.registry.get("南湾经济开发区").kind == "功能板块"
    assert master.task("区-1").responsible_units == ["区教育局", "区财政局", "区自然资源局", "各街道"]


def test_the_bundled_notice_keeps_the_default_registry_and_every_line_is_placed():
    from minshi_xls import data_path
    from minshi_xls.registry import default_registry
    master, found = parse_notice(data_path("lianyungang_2024.txt"))
    assert len(master.tasks) == 124 and sum(len(t.indicators) for t in master.tasks) == 148
    assert master.registry.names() == default_registry().names()
    assert found == []
    assert master.coverage[UNPARSED] == 0
    assert sum(master.coverage.values()) == len(read_notice_lines(data_path("lianyungang_2024.txt")))


def test_unknown_names_get_a_suggestion_only_when_close():
    from minshi_xls.registry import closest_name, default_registry
    reg = default_registry()
    assert closest_name(reg, "市卫建委") == "市卫健委"
    assert closest_name(reg, "赣愉区") == "赣榆区"
    assert closest_name(reg, "市统计局") is None  # not 市自然资源局
    assert closest_name(reg, "各县市区人民政府") is None  # a group token is not a unit


@pytest.mark.parametrize("rule, lead, co", [
    ("first", ["县住建局"], ["县民政局"]), ("all", ["县住建局", "县民政局"], []),
    ("none", [], ["县住建局", "县民政局"])])
def test_the_office_rule_for_a_bare_list_of_units(rule, lead, co):
    master, found = parse_notice(HERE / "f11_hubei_yishi_shared_suffix.txt", lead_rule=rule)
    t = master.task("县-2")
    assert (t.lead_units, t.co_units) == (lead, co)
    assert master.lead_rule == rule
    assert any(i.code == "no-lead-unit" for i in found) == (rule == "none")


def test_a_notice_that_says_the_first_unit_leads_overrides_the_rule():
    master, _ = parse_notice(HERE / "f01_huzhou_bare_units.txt", lead_rule="none")
    assert master.task("市-1").lead_units == ["市教育局"] and master.lead_rule == "first"


def test_a_stray_line_is_listed_with_what_was_expected(tmp_path):
    lines = (HERE / "f02_lishan_label_lines.txt").read_text(encoding="utf-8").split("\n")
    lines.insert(lines.index("二、城市更新"), "（以上项目由区政府督查室跟踪督办。）")
    p = tmp_path / "n.txt"
    p.write_text("\n".join(lines), encoding="utf-8")
    master, found = parse_notice(p)
    stray = [i for i in found if i.code == "notice-unparsed"]
    assert [(i.cell, i.value) for i in stray] == [(str(lines.index("二、城市更新")), "（以上项目由区政府督查室跟踪督办。）")]
    assert "不是新条目" in stray[0].message
    assert master.coverage[UNPARSED] == 1 and len(master.tasks) == 4


def test_a_notice_without_items_says_what_was_looked_for(tmp_path):
    from minshi_xls import MinshiError
    p = tmp_path / "n.txt"
    p.write_text("关于召开民生工作座谈会的通知\n各单位：\n定于下周召开座谈会，请准时参加。\n", encoding="utf-8")
    with pytest.raises(MinshiError) as e:
        parse_notice(p)
    msg = str(e.value)
    assert "牵头单位" in msg and "“1.”" in msg  # what the parser looked for
    assert "第1行“关于召开民生工作座谈会的通知”" in msg  # the first lines it skipped


@pytest.mark.parametrize("text, expected", [
    ("更新渔船20艘，救助流浪动物300只", ["20艘", "300只"]),
    ("床位数增至500张，服务人数增加至2万人次", ["500张", "2万人次"]),
    ("公租房保障达到1.2万套，发放补贴3.5亿元", ["1.2万套", "3.5亿元"]),
    ("为3000户家庭更换燃气管道", ["3000户"]),
    ("市第一医院新院区2024年建成，热线85800393全天服务", []),
    ("建设“双一流”专业群，打造一刻钟生活圈", []),
    ("培训新型职业农民500人左右，新增就业岗位1000余个", ["~500人", ">1000个"]),
    ("规模以上工业增加值增长7%，PM2.5平均浓度控制在35微克以内", ["7%"]),
    ("新增3—5个示范点，每户补助2000—5000元", ["3—5个"]),
    ("改造5所学校，不超过20个工作日办结", ["5所", "<=20个工作日"]),
])
def test_targets(text, expected):
    from minshi_xls.notice import extract_indicators
    assert [_target(i) for i in extract_indicators("市-1", text)] == expected


def test_a_district_notice_with_bounds_and_ranges_runs_the_whole_cycle(workdir):
    """区 tasks, an upper bound and a range go through templates, collect, reconcile and the
    通报 without being dropped or crashing: ≤ met below the bound, a range met from its low end."""
    import openpyxl
    from click.testing import CliRunner

    from minshi_xls import columns as C
    from minshi_xls.cli import cli
    from test_collect_support import cells

    def run(*args):
        r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert r.exit_code in (0, 1), r.output
        return r

    run("import", str(HERE / "f10_dash_headings_bounds.txt"))
    run("templates", "--period", "2025-06")
    src = workdir / "templates" / "2025-06" / C.file_name("2025-06", "区卫健局")
    wb = openpyxl.load_workbook(src)
    ws = wb[C.SHEET_LEAD]
    hdr, ids = cells(ws)
    assert ws.cell(ids["区-3#2"], hdr["年度目标"]).number_format.endswith('"以内"')
    assert ws.cell(ids["区-4#1"], hdr["年度目标"]).number_format.endswith('"—5000"')
    assert ws.cell(ids["区-3#2"], hdr["完成率"]).value == "—"  # no rate for an upper bound
    for ind_id, value in (("区-3#1", 80), ("区-3#2", 10), ("区-4#1", 3500)):
        ws.cell(ids[ind_id], hdr["本月累计完成"]).value = value
        ws.cell(ids[ind_id], hdr["推进状态"]).value = "已完成"
        ws.cell(ids[ind_id], hdr["进展情况"]).value = "已完成。"
    ws[C.HEADER_CELLS[C.SHEET_LEAD][C.REPORTER_LABEL][1]] = "张三"
    wb.save(workdir / "back.xlsx")
    run("collect", "--period", "2025-06", "back.xlsx")
    r = run("reconcile", "--period", "2025-06")
    from minshi_xls import ledger, reconcile
    from minshi_xls.master import read_master
    rec = reconcile.compute(read_master("output/master.xlsx"), "2025-06",
                            ledger.connect("output/minshi.sqlite"))
    by_id = {row.indicator.id: row for row in rec.rows}
    assert by_id["区-3#2"].progress.status == "已完成" and by_id["区-3#2"].progress.rate is None
    assert by_id["区-4#1"].progress.status == "已完成"
    assert by_id["区-4#1"].progress.rate == pytest.approx(3500 / 3000)
    assert [h.level for h in rec.headlines] == ["省", "市", "区"]
    books = list((workdir / "output" / "2025-06").glob("*进展汇总表.xlsx"))
    assert books and "区民生实事" in openpyxl.load_workbook(books[0]).sheetnames
    text = run("summary", "--period", "2025-06").output
    assert "5项区民生实事中" in text


def test_a_word_table_copied_into_text_with_tabs_and_a_lead_mark():
    """A Word table pasted into a .txt keeps a tab between cells; "（牵头）" after a name in a
    责任单位 list makes that unit the lead."""
    from minshi_xls.notice import parse_lines
    from minshi_xls.registry import registry_from_names
    lines = ["白沙县2023年民生实事项目分解表",
             "序号\t项目名称\t责任单位\t完成时限",
             "1\t新建乡镇公办幼儿园3所\t县财政局、县教育局（牵头）\t2023年9月",
             "2\t改造农村公路40公里\t县交通运输局\t2023年12月"]
    master, found = parse_lines(lines, registry_from_names([]), "t.txt")
    assert _got(master) == [("县-1", ["县教育局"], ["县财政局"], ["3所"]),
                            ("县-2", ["县交通运输局"], [], ["40公里"])]
    assert master.coverage == {"前言": 0, "标题": 2, "任务": 2, "未解析": 0, "空行": 0}


def test_numbering_that_restarts_in_a_second_appendix():
    from minshi_xls.notice import parse_lines
    from minshi_xls.registry import registry_from_names
    lines = ["附件1", "2024年县级民生实事项目", "1.新建公园2个。（牵头单位：县住建局）",
             "2.新建驿站5个。（牵头单位：县总工会）", "附件2", "2024年县级民生实事备选项目",
             "1.新建球场3片。（牵头单位：县体育局）"]
    master, found = parse_lines(lines, registry_from_names([]), "t.txt")
    assert [t.id for t in master.tasks] == ["县-1-1", "县-1-2", "县-2-1"]
    assert not [i for i in found if i.code == "duplicate-id"]
    assert master.coverage["未解析"] == 0


def test_a_name_line_and_its_content_line_are_joined_with_a_colon():
    master, _ = parse_notice(HERE / "f04_mianyang_traditional.txt")
    assert master.task("市-1").text == "青禾科技城第三水厂及配套管网建设项目：建设一座日供水20万吨的净水厂；建设输水管道约18公里"
    assert master.task("市-4").text == "为全市65岁以上老年人免费健康体检：完成体检不少于8万人"
