"""The notice importer on the bundled 2024 Lianyungang notice and on the variants other notices use.

GOLDEN below was checked task by task against the notice text: id, scope (L local, P 省本级实施,
N 我市不承担), lead units, number of concrete responsible units, indicators (qualifier, target, unit).
"""
import json
from pathlib import Path

import pytest

from minshi_xls import MinshiError, data_path
from minshi_xls.notice import load_bundled, normalize, parse_lines, parse_notice, to_base
from minshi_xls.registry import default_registry

GOLDEN = """
省-1     L 市卫健委 | 7 | 6家
省-2     L 团市委 | 12 | 120间
省-3     L 团市委 | 13 | 110个
省-4     L 市民政局 | 9 | 6个
省-5.1   L 市教育局 | 2 | 1所
省-5.2   L 市教育局 | 2 | 1所
省-6.1   P - | 0 | >=40万平方米
省-6.2   P - | 0 | 600栋
省-7     L 市教育局 | 11 | ~12个
省-8.1   L 市人社局 | 11 | 10个
省-8.2   L 市人社局 | 11 | 1500名
省-9     L 市人社局 | 11 | 3500名
省-10    L 团市委 | 7 | 10家 1500人次
省-11    N - | 0 | 13家
省-12    L 市卫健委 | 13 | 2.28万名
省-13    L 市卫健委 | 7 | 6个
省-14    L 市卫健委 | 4 | 3个
省-15    L 市卫健委 | 12 | 4个
省-16    P - | 0 | -
省-17    P - | 0 | -
省-18    L 市农业农村局 | 7 | 5个
省-19    L 市医保局 | 6 | 90万人
省-20    L 市医保局 | 13 | 100%
省-21    L 市卫健委 | 2 | 1家
省-22    L 市卫健委 | 11 | 3万人次
省-23    L 市民政局 | 12 | 150个
省-24    L 市民政局 | 13 | 20个
省-25    L 市住建局 | 9 | 30个
省-26.1  N - | 0 | 60707户
省-26.2  N - | 0 | 6315套
省-26.3  L 市住建局 | 4 | 1173套
省-27    L 市残联 | 7 | 6家
省-28    L 市残联 | 7 | 6家
省-29    L 市民政局 | 13 | 3个
省-30    L 市农业农村局 | 8 | 359公里
省-31.1  L 市住建局 | 15 | 1000个
省-31.2  L 市住建局 | 15 | 500个
省-32.1  L 市交通局 | 14 | 373公里
省-32.2  L 市交通局 | 14 | 22座
省-32.3  L 市交通局 | 14 | 707公里
省-33    L 市公安局 | 6 | 5个
省-34.1  L 市水利局 | 6 | 49公里
省-34.2  L 市水利局 | 3 | 68公里
省-35.1  L 市自然资源局 | 8 | 12个
省-35.2  L 市自然资源局 | 3 | 11个
省-36    L 市住建局 | 15 | 8个
省-37    L 市住建局 | 11 | 6处
省-38    L 市农业农村局 | 15 | >=130个
省-39    L 市生态环境局 | 6 | 44个
省-40    L 市文广旅局 | 2 | 11个
省-41    L 市自然资源局 | 1 | 3条
省-42    L 市文广旅局 | 11 | 15支 300人
省-43    L 市文广旅局 | 11 | 308场
省-44    L 市体育局 | 4 | 3个
省-45    L 市体育局 | 9 | 15公里
省-46    L 市体育局 | 1 | 2个
省-47    P - | 0 | 100项次
省-48    L 市市场监管局 | 11 | 31台
省-49    L 市公安局 | 16 | 400个
省-50    L 市民政局 | 12 | 8个
省-51    L 市司法局 | 7 | 12个
省-52    L 市司法局 | 7 | 40个
省-53    P - | 0 | 1600批次
省-54    L 市邮政管理局 | 7 | 75个
省-55    L 市通管办 | 11 | 90个
市-1     L 市教育局 | 9 | 4所 9所 10所
市-2     L 市体育局、市城建控股集团 | 7 | -
市-3.1   L 市教育局 | 13 | 8000万元 1亿元
市-3.2   L 市人社局 | 12 | 1000万元
市-4     L 市卫健委、市发改委 | 7 | -
市-5     L 市卫健委 | 14 | 5个 16个 6个 4个 4个
市-6     L 市卫健委 | 15 | -
市-7.1   L 市人社局 | 3 | 12.4万名
市-7.2   L 市退役军人事务局 | 14 | >1万名
市-8     L 市医保局 | 13 | -
市-9     L 市总工会 | 13 | 11万名 500万元
市-10    L 市医保局 | 6 | -
市-11    L 市人社局 | 19 | 300名 1000家 500场次 28万个
市-12    L 市人社局 | 18 | 10个 1.1万人
市-13    L 市人社局 | 18 | 2.3万人 1万人 7000个
市-14    L 市住建局 | 8 | 30个
市-15    L 市住建局 | 13 | 800套 900户
市-16    L 市住房公积金中心 | 13 | 5000万元 15亿元
市-17.1  L 市委人才办、市人社局、市住建局 | 14 | -
市-17.2  L 市住房公积金中心 | 11 | 1亿元
市-18    L 市交通局 | 14 | 300公里 20座 600公里
市-19.1  L 市交通局 | 6 | 10条
市-19.2  L 市交通控股集团 | 1 | 150台
市-20.1  L 市城建控股集团 | 9 | -
市-20.2  L 市住建局 | 4 | 5条
市-20.3  L 市交通控股集团 | 6 | -
市-21    L 市住建局 | 1 | -
市-22    L 市农业农村局 | 13 | 31个 144个 390公里 2100座
市-23    L 市公安局 | 9 | 5条
市-24    L 市人社局 | 1 | >1万名
市-25    L 市文广旅局 | 17 | >=500场次 >=100场次 >=100场次 50次 24个 2.9万户
市-26    L 市文广旅局 | 14 | >=200万元 >=20万张 8家
市-27    L 市体育局、市城建控股集团 | 9 | -
市-28    L 市体育局 | 15 | 160套 100副 280张 20片
市-29    L 市商务局 | 23 | 12个
市-30    L 市城建控股集团 | 14 | -
市-31    L 市民政局 | 13 | 150个 20个
市-32    L 市民政局 | 12 | 2000户
市-33    L 市民政局 | 14 | >=2000人次
市-34    L 市卫健委 | 15 | 10家 5家 1家
市-35    L 市科协 | 14 | -
市-36    L 市民政局 | 13 | 6个
市-37    L 团市委 | 13 | 120个 240个
市-38    L 市残联 | 15 | >=5500名 >=2600名
市-39.1  L 市人社局 | 13 | 1万名
市-39.2  L 市民政局 | 14 | >6万名
市-40    L 市妇联 | 13 | 900名 300户 >=500人次
市-41    L 市总工会 | 15 | 10000人次
市-42.1  L 市委政法委 | 21 | 200个
市-42.2  L 市司法局 | 14 | 100个 5000件
市-43    L 市市场监管局 | 14 | ~4000批次 100批次
市-44    L 市市场监管局 | 13 | 700批次
市-45    L 市农商控股集团、市发改委 | 5 | -
市-46    L 市住建局 | 4 | -
市-47    L 市农业农村局 | 8 | 5000亩
市-48    L 市农业农村局 | 15 | -
市-49    L 市水利局 | 8 | 20个
市-50.1  L 市水利局 | 12 | 271公里
市-50.2  L 市城建控股集团 | 6 | -
"""

SCOPE = {"L": "local", "P": "province", "N": "not_applicable"}
QUAL = {">=": ">=", "~": "~", ">": ">"}


def _golden():
    for line in GOLDEN.strip().splitlines():
        head, n_units, inds = (x.strip() for x in line.split("|"))
        task_id, scope, leads = head.split()
        yield task_id, SCOPE[scope], [] if leads == "-" else leads.split("、"), int(n_units), \
            [] if inds == "-" else inds.split()


@pytest.fixture(scope="module")
def parsed():
    return parse_notice(data_path("lianyungang_2024.txt"))


@pytest.fixture(scope="module")
def master(parsed):
    return parsed[0]


def _ind_compact(ind):
    return f"{QUAL.get(ind.qualifier, '')}{ind.target}{ind.unit}"


def test_all_124_leaf_tasks_match_the_checked_table(master):
    expected = list(_golden())
    assert len(expected) == 124
    assert [t.id for t in master.tasks] == [e[0] for e in expected]
    for t, (task_id, scope, leads, n_units, inds) in zip(master.tasks, expected):
        assert t.scope == scope, task_id
        assert t.lead_units == leads, task_id
        assert len(t.responsible_units) == n_units, task_id
        assert [_ind_compact(i) for i in t.indicators] == inds, task_id


def test_levels_categories_and_clean_import(parsed):
    master, found = parsed
    assert sum(t.level == "省" for t in master.tasks) == 65
    assert sum(t.level == "市" for t in master.tasks) == 59
    assert found == []  # every line of the bundled notice is understood
    assert master.year == 2024 and master.source == "lianyungang_2024.txt"
    assert len({t.id for t in master.tasks}) == 124
    assert max(t.category_no for t in master.tasks if t.level == "省") == 12
    assert max(t.category_no for t in master.tasks if t.level == "市") == 10
    t = master.task("市-31")
    assert (t.category_no, t.category, t.number) == (7, "关爱“一老一小”", "31")
    assert master.task("省-5.1").category == "学有所教"
    # items with sub-items are represented by their sub-items only
    assert "省-5" not in {t.id for t in master.tasks}
    assert [t.id for t in master.tasks if t.id.startswith("省-26")] == ["省-26.1", "省-26.2", "省-26.3"]


def test_text_is_normalised(master):
    assert master.task("省-12").text == "为2.28万名适龄女生免费接种HPV疫苗"
    assert master.task("省-10").text == "建成10家“苏青驿站”，服务青年1500人次"
    # 省-25 runs over two lines of the notice
    assert master.task("省-25").text == "新开工改造城镇老旧小区30个，推进社区嵌入式服务设施建设"
    for t in master.tasks:
        assert " " not in t.text.replace("HPV ", ""), t.id
        assert not t.text.endswith("。"), t.id
        assert "牵头单位" not in t.text and "省本级" not in t.text, t.id


def test_units_split_over_page_breaks_are_rejoined(master):
    assert master.task("省-43").lead_units == ["市文广旅局"]  # "市文\n\n广旅局"
    assert "连云区" in master.task("省-35.1").co_units  # "连云\n\n区"
    assert master.task("市-34").co_units[-2:] == ["各县区", "功能板块"]  # "各县\n\n区"
    assert master.task("市-19.1").co_units[-2:] == ["海州区", "连云区"]  # "海\n\n州区"
    assert master.task("市-9").co_units == ["市人社局", "市医保局", "各县区", "功能板块"]
    known = set(default_registry().names())
    for t in master.tasks:
        assert set(t.responsible_units) <= known, t.id


def test_groups_expand_lead_first_without_duplicates(master):
    t = master.task("省-2")
    assert t.co_units == ["市妇联", "各县区", "功能板块"]
    assert t.responsible_units == ["团市委", "市妇联", "东海县", "灌云县", "灌南县", "赣榆区", "海州区",
                                   "连云区", "市开发区", "徐圩新区", "高新区", "云台山景区"]
    t = master.task("市-4")
    assert t.lead_units == ["市卫健委", "市发改委"]
    assert t.responsible_units[:2] == ["市卫健委", "市发改委"]
    assert len(t.responsible_units) == len(set(t.responsible_units))


def test_scopes(master):
    assert [t.id for t in master.tasks if t.scope == "province"] == [
        "省-6.1", "省-6.2", "省-16", "省-17", "省-47", "省-53"]
    assert [t.id for t in master.tasks if t.scope == "not_applicable"] == [
        "省-11", "省-26.1", "省-26.2"]
    for t in master.tasks:
        if t.scope != "local":
            assert t.lead_units == t.co_units == t.responsible_units == []


def test_two_indicators_with_names(master):
    i1, i2 = master.task("省-10").indicators
    assert (i1.id, i1.name, i1.target, i1.unit) == ("省-10#1", "苏青驿站", "10", "家")
    assert (i2.id, i2.name, i2.target, i2.unit) == ("省-10#2", "服务青年", "1500", "人次")
    # a name after the number, before it, or shared with the target before
    assert [i.name for i in master.task("市-1").indicators] == ["新建学校", "改扩建学校", "新建幼儿园"]
    assert [i.name for i in master.task("市-31").indicators] == ["乡村互助养老睦邻点", "助餐点"]
    assert master.task("省-38").indicators[0].name == "行政村整村推进无害化卫生户厕改造提升行动"
    assert master.task("市-26").indicators[1].name == "旅游通票"  # 旅游通(年)票不少于20万张


def test_wan_and_yi_are_multiplied_out(master):
    (i,) = master.task("省-12").indicators
    assert (i.target, i.unit, i.base_value, i.base_unit) == ("2.28", "万名", 22800, "名")
    a, b = master.task("市-3.1").indicators
    assert (a.target, a.unit, a.base_value, a.base_unit) == ("8000", "万元", 80_000_000, "元")
    assert (b.target, b.unit, b.base_value, b.base_unit) == ("1", "亿元", 100_000_000, "元")
    (p,) = master.task("省-20").indicators
    assert (p.target, p.unit, p.base_value, p.base_unit) == ("100", "%", 100, "%")
    assert master.task("市-16").indicators[1].base_value == 1_500_000_000
    assert master.task("市-7.1").indicators[0].base_value == 124_000


def test_qualifiers(master):
    assert master.task("省-7").indicators[0].qualifier == "~"  # 12 个左右
    assert master.task("省-38").indicators[0].qualifier == ">="  # 130 个以上
    i = master.task("市-7.2").indicators[0]  # 1万多名
    assert (i.target, i.unit, i.qualifier, i.base_value) == ("1", "万名", ">", 10000)
    assert master.task("市-39.2").indicators[0].qualifier == ">"  # 6万余名
    assert master.task("市-33").indicators[0].qualifier == ">="  # 不少于 2000 人次
    assert master.task("省-6.1").indicators[0].qualifier == ">="  # 40 万平方米以上


def test_numbers_that_are_not_targets(master):
    assert master.task("市-17.1").indicators == []  # 5 万—200 万元, 连续 3 年, 500—3000 元
    assert master.task("市-4").indicators == []  # 一期: a milestone task
    assert [r.id for r in master.task("市-4").report_rows()] == ["市-4#0"]
    (i,) = master.task("省-55").indicators  # 4G/5G
    assert (i.target, i.unit) == ("90", "个")
    (i,) = master.task("省-13").indicators  # 五级中医馆
    assert (i.target, i.unit) == ("6", "个")
    assert [x.target for x in master.task("市-38").indicators] == ["5500", "2600"]  # 0—14岁
    assert master.task("市-45").indicators == []  # 8万吨…项目: size of one project
    assert master.task("市-20.3").indicators == [] and master.task("市-46").indicators == []


def test_json_shape_is_the_public_interface(master):
    data = json.loads(json.dumps(master.to_json(), ensure_ascii=False))
    assert set(data) == {"source", "tasks"}
    t = next(x for x in data["tasks"] if x["id"] == "省-12")
    assert list(t) == ["id", "level", "category_no", "category", "number", "text", "lead_units",
                       "co_units", "responsible_units", "scope", "indicators"]
    assert t["indicators"][0] == {"id": "省-12#1", "name": "适龄女生免费接种HPV疫苗", "target": "2.28",
                                  "unit": "万名", "qualifier": "=", "base_value": 22800.0,
                                  "base_unit": "名"}


def test_load_bundled_returns_a_fresh_master():
    a, b = load_bundled(), load_bundled()
    assert len(a.tasks) == 124
    a.tasks[0].lead_units.append("X")
    assert b.tasks[0].lead_units == ["市卫健委"]
    assert a.registry.get("连云港经济技术开发区").short == "市开发区"


def test_to_base_is_exact():
    assert to_base("2.28", "万名") == (22800.0, "名")
    assert to_base("0.35", "亿元") == (35_000_000.0, "元")
    assert to_base("三", "个") == (None, "个")


def test_normalize_keeps_spaces_only_between_latin_words():
    assert normalize("新增 6 家 (牵头单位: 市卫健委)") == "新增6家（牵头单位：市卫健委）"
    assert normalize("１２．５万元，Word Excel") == "12.5万元，Word Excel"
    assert normalize("10,000 人") == "10000人"


# --- other notices: layouts, encodings, file types ------------------------------------------------

VARIANT = Path(__file__).parent / "fixtures_notice" / "variant_2025.txt"


def _variant_lines():
    return VARIANT.read_text(encoding="utf-8").split("\n")


def _assert_variant(master, found):
    """What variant_2025.txt says, whatever the file type or encoding."""
    assert [t.id for t in master.tasks] == ["市-1", "市-2", "市-3.1", "市-3.2", "市-4"]
    assert master.year == 2025
    t1, t2, t31, t32, t4 = master.tasks
    assert [(t.category_no, t.category) for t in (t1, t31)] == [(1, "教育惠民"), (2, "健康服务")]
    # several lead units, "责任单位" instead of "共同责任单位", full-width digits and colons
    assert (t1.lead_units, t1.co_units) == (["市教育局", "市财政局"], ["各县区"])
    assert [(i.name, i.target, i.unit) for i in t1.indicators] == [("新建幼儿园", "3", "所"),
                                                                  ("改扩建中小学", "5", "所")]
    # text over two lines; 不少于 / 左右
    assert t2.text == "为不少于1.5万名学生提供课后服务，开设托管班200个左右"
    assert t2.co_units == ["市人社局", "东海县", "灌云县"]
    assert [(i.qualifier, i.target, i.unit, i.base_value) for i in t2.indicators] == [
        (">=", "1.5", "万名", 15000), ("~", "200", "个", 200)]
    # "（1）" sub-items under the heading item "3、"; units over two lines
    assert (t31.text, t31.co_units) == ("建成社区医院2个", ["海州区"])
    assert t32.co_units == ["各县区", "功能板块"] and t32.indicators[0].qualifier == ">="
    assert (t4.lead_units, t4.co_units, t4.indicators) == (["市卫健委"], [], [])
    # the stray line is reported with its line number (the covering letter is not)
    unparsed = [i for i in found if i.code == "notice-unparsed"]
    assert [(i.cell, i.value) for i in unparsed] == [("19", "这一行是无法识别的说明文字。")]


def test_variant_layout_txt():
    _assert_variant(*parse_notice(VARIANT))


@pytest.mark.parametrize("encoding", ["gbk", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_encodings_are_detected(tmp_path, encoding):
    p = tmp_path / "notice.txt"
    p.write_bytes(VARIANT.read_text(encoding="utf-8").replace("\n", "\r\n").encode(encoding))
    _assert_variant(*parse_notice(p))


def test_docx(tmp_path):
    import docx
    d = docx.Document()
    for line in _variant_lines():
        d.add_paragraph(line)
    p = tmp_path / "notice.docx"
    d.save(p)
    _assert_variant(*parse_notice(p))


def test_docx_with_the_tasks_in_a_table(tmp_path):
    """Many 分解表 are Word tables: 序号 | 任务内容 | 牵头单位 | 责任单位, merged category rows."""
    import docx
    d = docx.Document()
    d.add_paragraph("2025年市级民生实事项目任务分解表")
    d.add_paragraph("二、市民生实事任务分解")
    rows = [("序号", "任务内容", "牵头单位", "责任单位"),
            ("一、教育惠民（2件）",) * 4,
            ("1", "新建幼儿园 3 所、改扩建中小学 5 所", "市教育局、市财政局", "各县区"),
            ("2", "为不少于1.5万名学生提供课后服务", "市教育局", "市人社局，东海县、灌云县"),
            ("二、健康服务（1件）",) * 4,
            ("3", "推进市第一人民医院新院区建设", "市卫健委", "")]
    table = d.add_table(rows=len(rows), cols=4)
    for r, values in enumerate(rows):
        if len(set(values)) == 1:
            table.rows[r].cells[0].merge(table.rows[r].cells[3]).text = values[0]
        else:
            for c, v in enumerate(values):
                table.rows[r].cells[c].text = v
    d.add_paragraph("抄送：市委办公室。")
    p = tmp_path / "table.docx"
    d.save(p)
    master, found = parse_notice(p)
    assert found == []
    assert [(t.id, t.category) for t in master.tasks] == [
        ("市-1", "教育惠民"), ("市-2", "教育惠民"), ("市-3", "健康服务")]
    t1, t2, t3 = master.tasks
    assert (t1.lead_units, t1.co_units) == (["市教育局", "市财政局"], ["各县区"])
    assert [i.target for i in t1.indicators] == ["3", "5"]
    assert t2.indicators[0].base_value == 15000 and t2.co_units == ["市人社局", "东海县", "灌云县"]
    assert (t3.lead_units, t3.co_units, t3.indicators) == (["市卫健委"], [], [])


def test_pdf_text_layer_with_wrapped_lines_and_page_breaks(tmp_path):
    p = tmp_path / "notice.pdf"
    write_text_pdf(_variant_lines(), p, per_line=30, per_page=12)
    master, found = parse_notice(p)
    # lines are PDF lines now, so only the content is compared, plus the unparsed text
    assert [t.id for t in master.tasks] == ["市-1", "市-2", "市-3.1", "市-3.2", "市-4"]
    expected, _ = parse_notice(VARIANT)
    assert master.tasks == expected.tasks
    assert [i.value for i in found] == ["这一行是无法识别的说明文字。"]


@pytest.mark.parametrize("user_password", ["", "secret"])
def test_encrypted_pdf(tmp_path, user_password):
    """A permissions-only PDF (empty open password) is read; one with an open password is not."""
    from pypdf import PdfReader, PdfWriter
    plain = tmp_path / "plain.pdf"
    write_text_pdf(_variant_lines(), plain)
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    locked = tmp_path / "locked.pdf"
    with open(locked, "wb") as fh:
        writer.write(fh)
    if user_password:
        with pytest.raises(MinshiError, match="密码"):
            parse_notice(locked)
    else:
        assert [t.id for t in parse_notice(locked)[0].tasks] == [
            "市-1", "市-2", "市-3.1", "市-3.2", "市-4"]


def test_bundled_notice_as_pdf_gives_the_same_master(tmp_path, master):
    p = tmp_path / "notice.pdf"
    lines = data_path("lianyungang_2024.txt").read_text(encoding="utf-8").split("\n")
    write_text_pdf(lines, p, per_line=40, per_page=45)
    from_pdf, found = parse_notice(p)
    assert from_pdf.tasks == master.tasks and found == []


@pytest.mark.parametrize("content,says", [
    (b"", "是空的"), (b"   \n\n", "是空的"), (bytes(range(256)) * 8, "无法识别通知文件 notice.txt 的文字编码"),
    ("这是一份会议纪要，没有任务。".encode("utf-8"), "未能从通知文件 notice.txt 中识别出任何任务")])
def test_empty_or_garbled_file_is_a_clear_error(tmp_path, content, says):
    p = tmp_path / "notice.txt"
    p.write_bytes(content)
    with pytest.raises(MinshiError, match=says):
        parse_notice(p)


def test_unsupported_or_broken_files(tmp_path):
    with pytest.raises(MinshiError, match="不支持"):
        parse_notice(_touch(tmp_path / "n.doc"))
    with pytest.raises(MinshiError, match="Word"):
        parse_notice(_touch(tmp_path / "n.docx", b"PK not really"))
    with pytest.raises(MinshiError, match="PDF"):
        parse_notice(_touch(tmp_path / "n.pdf", b"%PDF-1.4 broken"))
    with pytest.raises(MinshiError, match="找不到"):
        parse_notice(tmp_path / "missing.txt")


def _touch(p, data=b"x"):
    p.write_bytes(data)
    return p


def _parse_items(*items, lead_rule="first"):
    """Items under a level and a category heading (so the first item is line 3)."""
    return parse_lines(["二、市民生实事任务分解", "（一）测试", *items], default_registry(), "t.txt",
                       lead_rule=lead_rule)


def test_unknown_units_and_missing_units_are_reported():
    items = ("1. 新建 3 个驿站。(牵头单位: 市卫建委; 共同责任单位: 各县区)", "2. 新建 2 个公园。",
             "3. 新建 1 个广场。(责任单位: 各县区)")
    # the office's rule "none": a task naming 责任单位 only has no lead until one is entered
    master, found = _parse_items(*items, lead_rule="none")
    assert [t.id for t in master.tasks] == ["市-1", "市-2", "市-3"]
    got = [(i.code, i.cell, i.value) for i in found]
    assert ("no-lead-unit", "5", "市-3") in got
    assert ("unknown-unit", "3", "市卫建委") in got
    assert "市卫健委" in next(i.message for i in found if i.code == "unknown-unit")
    assert any(c == "notice-unparsed" and cell == "4" for c, cell, _ in got)
    assert master.task("市-1").responsible_units[0] == "市卫建委"  # kept as written, not guessed


def test_a_wrapped_line_starting_with_the_next_number_stays_in_its_task():
    master, found = _parse_items("1. 新建社区食堂",
                                 "2个，改造助餐点3个。(牵头单位: 市民政局)",
                                 "2 新建 4 个驿站。(牵头单位: 团市委)")
    assert found == []
    assert [(t.id, t.text) for t in master.tasks] == [
        ("市-1", "新建社区食堂2个，改造助餐点3个"), ("市-2", "新建4个驿站")]
    assert [i.target for i in master.task("市-1").indicators] == ["2", "3"]


def test_units_on_their_own_lines_without_brackets():
    master, found = _parse_items("1. 新建 3 个驿站。", "牵头单位：市卫健委", "责任单位：各县区",
                                 "2. 新建 2 个公园。（牵头单位：市住建局）")
    assert found == []
    t1, t2 = master.tasks
    assert (t1.text, t1.lead_units, t1.co_units) == ("新建3个驿站", ["市卫健委"], ["各县区"])
    assert (t2.lead_units, t2.co_units) == (["市住建局"], [])


def test_registry_default_has_every_unit_and_the_groups():
    reg = default_registry()
    assert reg.groups["各县区"] == ["东海县", "灌云县", "灌南县", "赣榆区", "海州区", "连云区"]
    assert reg.groups["功能板块"] == ["市开发区", "徐圩新区", "高新区", "云台山景区"]
    assert reg.get("连云港经济技术开发区").short == "市开发区"
    assert reg.get("云台山风景名胜区").kind == "功能板块"
    assert reg.get("市城建控股集团").kind == "企业/其他"
    assert {u.kind for u in reg.units} == {"市直部门", "县区", "功能板块", "企业/其他"}
    assert all(u.name for u in reg.units)
    assert len({u.short for u in reg.units}) == len(reg.units)


# --- a tiny PDF writer (LibreOffice here has Calc only, not Writer) ------------------------------

def write_text_pdf(lines, path, per_line=38, per_page=40):
    """A minimal PDF with a real text layer: CJK text in the standard STSong-Light font
    (UniGB-UCS2-H) with a ToUnicode map, long lines wrapped and pages broken like a print."""
    rows = []
    for line in lines:
        rows.extend([line[i:i + per_line] for i in range(0, len(line), per_line)] or [""])
    pages = [rows[i:i + per_page] for i in range(0, len(rows), per_page)] or [[]]
    chars = sorted({c for r in rows for c in r})
    bfchar = "".join(f"{len(chunk)} beginbfchar\n" + "".join(f"<{ord(c):04X}> <{ord(c):04X}>\n"
                                                              for c in chunk) + "endbfchar\n"
                     for chunk in (chars[i:i + 100] for i in range(0, len(chars), 100)))
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
            "1 begincodespacerange <0000> <FFFF> endcodespacerange\n" + bfchar +
            "endcmap CMapName currentdict /CMap defineresource pop end end\n").encode()
    objs = {}
    n_pages = len(pages)
    first_page = 7
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(n_pages))
    objs[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objs[2] = f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode()
    objs[3] = (b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H"
               b" /DescendantFonts [4 0 R] /ToUnicode 6 0 R >>")
    objs[4] = (b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo"
               b" << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 5 0 R"
               b" /DW 1000 >>")
    objs[5] = (b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254"
               b" 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")
    objs[6] = b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"endstream"
    for i, page in enumerate(pages):
        body = "BT /F1 12 Tf 16 TL 50 790 Td\n" + "".join(
            f"<{r.encode('utf-16-be').hex().upper()}> Tj T*\n" for r in page) + "ET\n"
        data = body.encode("ascii")
        objs[first_page + 2 * i] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
                                    f" /Resources << /Font << /F1 3 0 R >> >>"
                                    f" /Contents {first_page + 2 * i + 1} 0 R >>").encode()
        objs[first_page + 2 * i + 1] = (b"<< /Length %d >>\nstream\n" % len(data) + data
                                        + b"endstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    xref = len(out)
    size = max(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    with open(path, "wb") as fh:
        fh.write(bytes(out))
