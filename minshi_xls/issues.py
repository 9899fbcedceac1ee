"""Validation problems: one catalogue of codes, severities and Chinese messages, one record type.

Modelled on frictionless: each problem type has a stable kebab-case code, a title and a message
template; checks *yield* :class:`Issue` records instead of raising, and a :class:`Report` holds
them. The codes, severities and locations are a public contract (reports, reminder emails and the
ledger's ``issues_v`` view are built from them): add codes, never rename them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, Iterable, List, Optional

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITY_LABELS = {ERROR: "错误", WARNING: "警告", INFO: "提示"}
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


@dataclass(frozen=True)
class IssueType:
    code: str
    severity: str
    title: str  # short Chinese title, used as a column value and in summaries
    template: str  # Chinese message; ``{name}`` fields come from the issue's context


def _t(code, severity, title, template):
    return IssueType(code, severity, title, template)


#: The catalogue. Messages say what is wrong and how to fix it, in the clerk's words.
TYPES: Dict[str, IssueType] = {t.code: t for t in [
    # --- file level -----------------------------------------------------------------------
    _t("file-unreadable", ERROR, "文件无法读取",
       "文件无法作为表格读取（{detail}）。请用 Excel 或 WPS 打开确认文件完好，另存为 .xlsx 后重新报送。"),
    _t("file-encrypted", ERROR, "文件已加密",
       "文件设置了打开密码，系统无法读取。请取消密码后重新报送。"),
    _t("file-too-large", ERROR, "文件过大",
       "文件或其中的工作表超出允许的大小（{detail}）。请使用下发的填报表填写，不要粘贴大量无关内容。"),
    _t("macro-present", WARNING, "含有宏",
       "文件中含有宏代码，系统不会运行宏。请另存为不含宏的 .xlsx 文件后报送。"),
    _t("unidentified-return", ERROR, "无法识别报表",
       "无法识别这份报表属于哪个单位或哪个月份（{detail}）。请使用下发的填报表填写并保留“填报单位”。"),
    _t("meta-missing", WARNING, "报表标识缺失",
       "报表中的隐藏标识页已丢失，系统根据{detail}识别为“{unit}”的报表。请尽量在下发的原表上填写。"),
    _t("wrong-period", ERROR, "月份不符",
       "这份报表是 {found} 的填报表，不是本次收集的 {period}。请使用本月下发的填报表重新填写。"),
    _t("wrong-unit", WARNING, "单位不符",
       "报表标识为“{unit}”，但{detail}显示为“{found}”。已按报表标识计入“{unit}”，请核实。"),
    _t("unexpected-sender", WARNING, "发件人未登记",
       "发件人 {found} 不是“{unit}”登记的邮箱。请核实来源，或在单位名册中登记该邮箱。"),
    _t("duplicate-return", INFO, "重复报送",
       "与已收到的文件完全相同（{detail}），不重复计入。"),
    _t("superseded", INFO, "已被新版替代",
       "该单位本月已报送更新的版本（{detail}），此版本保留备查，不再计入。"),
    _t("version-tie", WARNING, "版本无法区分",
       "本月收到的 {detail} 接收时间和文件保存时间都相同，无法判断哪一份是最后的版本，暂按 {found} 计入。请确认以哪一份为准（管理员运行 minshi accept --period {period} {unit} <文件> 指定）。"),
    _t("version-chosen", INFO, "已指定其他版本",
       "管理员已于 {found} 指定 {detail} 为本月计入的版本，此版本保留备查，不再计入。"),
    _t("late-return", WARNING, "逾期报送",
       "报送时间 {found} 晚于截止时间 {detail}。"),
    _t("identity-conflict", ERROR, "单位标识不一致",
       "这份报表的单位来源互相矛盾：{detail}。无法确定是哪个单位报送的，未计入任何单位。请使用本单位下发的填报表填写后重新报送。"),
    _t("blank-return", ERROR, "空白报表",
       "报表中没有填写任何{field}（{detail}），不能作为本月报送，该单位仍按未报送处理。请填写后重新报送。"),
    _t("missing-column", ERROR, "找不到列",
       "找不到“{field}”列（表头第 {found} 行）。请勿删除或改写表头，使用下发的原表重新填写。"),
    _t("ambiguous-column", ERROR, "列重复",
       "有多列都像是“{field}”列（{detail}），无法确定以哪一列为准。请删除多余的列后重新报送。"),
    _t("extra-table", WARNING, "多余的工作表",
       "工作表“{found}”中也有本单位的指标（{detail}），已按下发的“{expected}”表读取，“{found}”未读取。请确认数据填在“{expected}”表中。"),
    _t("ambiguous-table", ERROR, "工作表重复",
       "工作表“{found}”和“{expected}”都有本单位的指标（{detail}），无法确定哪一张是正式填报表。请删除多余的工作表后重新报送。"),
    _t("template-modified", ERROR, "锁定内容被改动",
       "锁定单元格的内容被改动：应为“{expected}”，实际为“{value}”。请勿修改任务、目标等锁定内容，恢复原值后重新报送。"),
    # --- row and cell level ---------------------------------------------------------------
    _t("missing-row", ERROR, "缺少行",
       "报表中缺少指标 {indicator_id} 的行。请勿删除行，使用下发的原表重新填写。"),
    _t("unknown-row", ERROR, "无法识别的行",
       "指标编号“{value}”不在本单位的任务清单中。请勿新增或改写指标编号。"),
    _t("duplicate-row", ERROR, "行重复",
       "指标 {indicator_id} 出现了不止一次（另见第 {found} 行），{detail}"),
    _t("missing-value", ERROR, "未填写数值",
       "“{field}”未填写。请填写截至本月底的累计完成数（没有进展请填 0）。"),
    _t("not-a-number", ERROR, "不是数字",
       "“{field}”应填写数字（计量单位：{measure}），实际填写了“{value}”。请只填写阿拉伯数字。"),
    _t("coerced-number", WARNING, "数字带单位",
       "“{field}”填写了“{value}”，已按 {number} 计入。今后请只填写数字，不带单位。"),
    _t("negative-value", ERROR, "负数",
       "“{field}”不能为负数（填写了 {value}）。"),
    _t("formula-no-value", ERROR, "公式无结果",
       "“{field}”是公式或错误值（{value}），没有可用的数值。请直接填写数字。"),
    _t("exceeds-target", WARNING, "远超目标",
       "“{field}”为 {value}，超过年度目标 {target}{measure} 的 {detail} 倍以上，可能把计量单位填错了（如把“万元”填成“元”）。请核实，如无误请在备注中说明。"),
    _t("cumulative-decreased", WARNING, "累计数减少",
       "本月累计 {value} 小于上月累计 {expected}。累计数一般不应减少，请核实，如无误请在备注中说明原因。"),
    _t("status-inconsistent", WARNING, "推进状态与数值不符",
       "推进状态为“{value}”，但本月累计 {number} {detail}。请核对推进状态。"),
    _t("missing-text", WARNING, "未填写进展情况",
       "已填写数值，但“进展情况”为空。请简要说明本月工作进展。"),
    _t("out-of-range", ERROR, "超出范围",
       "“{field}”是形象进度（0—100，45 表示完成 45%），填写了 {value}，超过 100。请改为 0—100 之间的数字。"),
    _t("unknown-status", WARNING, "推进状态不在列表中",
       "推进状态“{value}”不是下拉列表中的选项（{detail}）。请从下拉列表中选择。"),
    _t("text-too-long", WARNING, "文字过长",
       "“{field}”有 {found} 字，超过 {detail} 字的限制。请精简后填写，详细材料可另附。"),
    _t("plan-not-monotonic", WARNING, "季度计划不递增",
       "季度末计划应为累计数且逐季不减少，{field} 为 {value}，小于上一季度的 {expected}。"),
    # --- reconcile ------------------------------------------------------------------------
    _t("lead-mismatch", WARNING, "牵头单位数据不一致",
       "多个牵头单位报送的累计数不一致：{detail}。请牵头单位之间核对统一。"),
    _t("county-sum-mismatch", WARNING, "县区合计不符",
       "各县区、功能板块合计 {value} 与牵头单位累计 {expected} 相差 {detail}（涉及：{found}）。请核对。"),
    _t("not-returned", WARNING, "未报送",
       "截至汇总时未收到“{unit}”本月的填报表。"),
    _t("status-disagrees", INFO, "自报状态与计算不符",
       "单位自报推进状态为“{value}”，按序时进度计算为“{expected}”，以计算结果为准。"),
    # --- mail (fetch): replies that are not returns, per unit -------------------------------
    _t("mail-no-attachment", WARNING, "回复无附件",
       "{unit}的回复邮件（{detail}）没有附带填报表，不计为报送。请提醒该单位把填好的表格作为附件回复。"),
    _t("mail-auto-reply", INFO, "自动回复",
       "收到{unit}邮箱 {found} 的自动回复（{detail}），不计为报送。对方可能不在岗，请电话联系。"),
    _t("mail-bounced", ERROR, "退信：地址无效",
       "发往{unit}邮箱 {found} 的邮件被退回（{detail}），该地址无效。请向该单位核实邮箱，在总表“单位”表中更正后重新发送。"),
    _t("mail-link-only", WARNING, "超大附件链接，需手工下载",
       "{unit}的邮件（{detail}）只有下载链接（{found}），没有附件。请打开邮件手工下载表格，再用 minshi collect 收取。"),
    _t("mail-unreadable", WARNING, "邮件无法读取",
       "邮件（UID {cell}，发件人 {found}，主题“{detail}”）无法读取（{value}），已跳过，其余邮件照常收取。请在邮箱中查看该邮件。"),
    _t("mail-own-workbook", INFO, "退回的下发表格",
       "{found} 的邮件（{detail}）附带的是下发给{unit}的空白填报表，不是报送，不计入。"),
    _t("mail-too-large", ERROR, "文件过大",
       "{unit}的邮件（{detail}）超过大小限制，未下载。请该单位只发送填报表（不要附带大文件），或打开邮件手工下载后用 minshi collect 收取。"),
    # --- master list ----------------------------------------------------------------------
    _t("duplicate-id", ERROR, "编号重复",
       "编号“{value}”重复出现（另见 {detail}）。每个编号只能出现一次。"),
    _t("unknown-unit", ERROR, "单位未登记",
       "单位“{value}”不在单位名册中{detail}。请改为名册中的名称，或在“单位”表中登记。"),
    _t("bad-target", ERROR, "目标不是数字",
       "年度目标“{value}”不是数字。请只填写数字，计量单位写在“计量单位”列。"),
    _t("no-lead-unit", ERROR, "缺少牵头单位",
       "任务 {value} 没有牵头单位（本地实施的任务必须有牵头单位）。"),
    _t("notice-unparsed", WARNING, "通知中未能解析的内容",
       "第 {cell} 行未能解析：“{value}”{detail}。请在总表中人工补录。"),
    _t("notice-new-registry", INFO, "按通知新建单位名册",
       "通知中的单位大多不在默认（连云港）名册中，已按通知新建单位名册，登记单位 {value} 个。"
       "请在总表“单位”表中核对类别、补全全称、邮箱和所属分组，或用 --units 指定本地名册重新导入。"),
    _t("bad-unit-kind", ERROR, "单位类别无效",
       "单位类别“{value}”无效，应为：{kinds}。"),
    _t("bad-scope", ERROR, "实施方式无效",
       "实施方式“{value}”无效，应为：本地实施、省本级实施、我市不承担相关任务。"),
    _t("unknown-task", ERROR, "任务编号不存在",
       "指标所属的任务编号“{value}”不在“任务”表中。请改为“任务”表中的编号。"),
]}


# "{measure}" is the row's 计量单位 ("{unit}" is the reporting unit, an Issue field).
class _Ctx(dict):
    def __missing__(self, key):  # a missing field shows as empty rather than crashing a run
        return ""


@dataclass
class Issue:
    """One located problem. ``cell`` is an A1 reference (or a line number for notice issues)."""

    code: str
    severity: str
    message: str
    unit: Optional[str] = None
    period: Optional[str] = None
    file: Optional[str] = None
    sheet: Optional[str] = None
    cell: Optional[str] = None
    indicator_id: Optional[str] = None
    value: Optional[str] = None

    @property
    def title(self) -> str:
        return TYPES[self.code].title if self.code in TYPES else self.code

    @property
    def where(self) -> str:
        """Sheet!cell, else the sheet, the notice's line (第N行) or the file's name."""
        if self.sheet:
            return f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        if self.cell:
            return f"第{self.cell}行"
        return str(self.file or "").replace("\\", "/").rsplit("/", 1)[-1]

    def line(self, unknown_unit: Optional[str] = None, where: Optional[str] = None) -> str:
        """``[错误] 市卫健委 牵头任务!L6 不是数字：“本月累计”应填写数字……``: the one way an issue
        is printed for a clerk. The code is for JSON, SQL and the 问题代码 column, never the
        sentence. ``where`` replaces the location (a run of cells: "牵头任务!L5–L80 共 76 格")."""
        parts = [f"[{SEVERITY_LABELS.get(self.severity, self.severity)}]", self.unit or unknown_unit,
                 where or self.where]
        return " ".join(p for p in parts if p) + f" {self.title}：{self.message}"

    def to_dict(self) -> dict:
        return asdict(self)


#: Characters a clerk cannot see in a cell, shown by name inside a message: “3［零宽空格］”.
INVISIBLE = {"\u200b": "零宽空格", "\u200c": "零宽非连接符", "\u200d": "零宽连接符",
             "\ufeff": "零宽不换行空格", "\u2060": "零宽连接符", "\u00a0": "不换行空格",
             "\u3000": "全角空格", "\u00ad": "软连字符", "\t": "制表符", "\n": "换行",
             "\r": "回车", "\u2028": "换行", "\u202f": "窄空格", "\u200e": "方向标记",
             "\u200f": "方向标记", "\u202a": "方向标记", "\u202c": "方向标记"}


def visible(text) -> str:
    """``text`` with invisible characters (and leading/trailing spaces) named, so “3 ” and
    “3​” do not look like “3” in a message that says they are not numbers."""
    import unicodedata
    s = "" if text is None else str(text)
    out = []
    for ch in s:
        name = INVISIBLE.get(ch)
        if name is None and unicodedata.category(ch) in ("Cf", "Cc", "Zl", "Zp"):
            name = f"U+{ord(ch):04X}"
        out.append(f"［{name}］" if name else ch)
    shown = "".join(out)
    lead = len(shown) - len(shown.lstrip(" "))
    trail = len(shown) - len(shown.rstrip(" "))
    if shown.strip(" ") and (lead or trail):
        shown = "［空格］" * lead + shown.strip(" ") + "［空格］" * trail
    return shown


def make(code: str, *, unit=None, period=None, file=None, sheet=None, cell=None,
         indicator_id=None, value=None, severity=None, **ctx) -> Issue:
    """Build an issue of a catalogued type; extra keyword arguments fill the message template."""
    t = TYPES[code]
    fields = _Ctx(ctx)
    fields.update(unit=unit or "", period=period or "", indicator_id=indicator_id or "",
                  value="" if value is None else visible(value), cell=cell or "")
    return Issue(code=code, severity=severity or t.severity, message=t.template.format_map(fields),
                 unit=unit, period=period, file=file, sheet=sheet, cell=cell,
                 indicator_id=indicator_id, value=None if value is None else str(value))


@dataclass
class Report:
    """The issues of a run; ``valid`` is False when any is an error (exit code 1)."""

    issues: List[Issue] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    def extend(self, issues: Iterable[Issue]) -> "Report":
        self.issues.extend(issues)
        return self

    @property
    def errors(self) -> List[Issue]:
        return [i for i in self.issues if i.severity == ERROR]

    @property
    def warnings(self) -> List[Issue]:
        return [i for i in self.issues if i.severity == WARNING]

    @property
    def valid(self) -> bool:
        return not self.errors

    def flatten(self, fields=("sheet", "cell", "code")) -> List[list]:
        """E.g. ``[["牵头任务", "L7", "not-a-number"]]``: what tests assert against."""
        return [[getattr(i, f) for f in fields] for i in self.issues]

    def codes(self) -> List[str]:
        return [i.code for i in self.issues]
