"""The fill-in workbook contract: sheets, columns, header texts, the ``_meta`` sheet, fingerprints.

The template writer and the return reader both use these definitions; nothing else spells a
header text or a sheet name of the fill-in workbook. Changing anything here changes the format:
bump ``settings.FORMAT_VERSION``.
"""
from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

# Kinds of cell in a table column.
LOCKED = "locked"  # pre-filled from the master; a change is template-modified
INPUT = "input"  # typed by the unit
FORMULA = "formula"  # the template's own formula (ignored by the reader; rates are recomputed)
PLAN = "plan"  # input while the master has no plan, locked and pre-filled once it has one
PREFILL = "prefill"  # locked, pre-filled from the ledger (上月累计); not part of the fingerprint


@dataclass(frozen=True)
class Column:
    key: str  # identifier used in code and in the ledger's ``field``-independent logic
    header: str  # exact header text in the workbook (and ``field`` in the ledger)
    kind: str
    width: float
    number: bool = False  # a numeric cell (validated as a non-negative number)
    text: bool = False  # free text, limited to settings.text_max_length (validation and rule)
    #: other header texts clerks give the same column (compared by :func:`header_key`)
    synonyms: Tuple[str, ...] = ()
    #: an input the return cannot do without: missing-column (error) when it cannot be found
    required: bool = False


SHEET_GUIDE = "填报说明"
SHEET_LEAD = "牵头任务"
SHEET_CO = "配合任务"
SHEET_META = "_meta"

_CUMULATIVE = ("本月累计完成数", "累计完成", "累计完成数", "本月累计", "截至本月底累计完成",
               "年初至本月底累计完成", "本年累计完成")
_PROBLEMS = ("存在的问题", "主要问题", "问题")
_NOTE = ("备注", "说明")

LEAD_COLUMNS: List[Column] = [
    Column("task_id", "任务编号", LOCKED, 9, synonyms=("任务序号",)),
    Column("indicator_id", "指标编号", LOCKED, 11, synonyms=("指标序号", "指标代码")),
    Column("task_text", "任务内容", LOCKED, 34, synonyms=("任务名称", "民生实事任务")),
    Column("indicator", "指标", LOCKED, 12, synonyms=("指标名称", "具体指标")),
    Column("target", "年度目标", LOCKED, 9, synonyms=("全年目标", "年度目标任务", "目标任务")),
    Column("unit", "计量单位", LOCKED, 7),
    Column("plan_q1", "一季度末计划", PLAN, 8, number=True,
           synonyms=("一季度计划", "第一季度末计划", "第一季度计划", "1季度末计划")),
    Column("plan_q2", "二季度末计划", PLAN, 8, number=True,
           synonyms=("二季度计划", "第二季度末计划", "第二季度计划", "2季度末计划")),
    Column("plan_q3", "三季度末计划", PLAN, 8, number=True,
           synonyms=("三季度计划", "第三季度末计划", "第三季度计划", "3季度末计划")),
    Column("plan_q4", "四季度末计划", PLAN, 8, number=True,
           synonyms=("四季度计划", "第四季度末计划", "第四季度计划", "4季度末计划")),
    Column("previous", "上月累计", PREFILL, 8, number=True, synonyms=("上月累计完成",
                                                                      "上月累计完成数")),
    Column("cumulative", "本月累计完成", INPUT, 9, number=True, synonyms=_CUMULATIVE,
           required=True),
    Column("rate", "完成率", FORMULA, 8, synonyms=("完成比例",)),
    Column("status", "推进状态", INPUT, 9, synonyms=("进展状态",), required=True),
    Column("progress", "进展情况", INPUT, 26, text=True,
           synonyms=("工作进展", "工作进展情况", "进展情况说明", "推进情况"), required=True),
    Column("problems", "存在问题", INPUT, 18, text=True, synonyms=_PROBLEMS),
    Column("next_steps", "下步计划", INPUT, 18, text=True,
           synonyms=("下一步计划", "下步工作计划", "下一步工作计划")),
    Column("note", "备注（说明）", INPUT, 14, text=True, synonyms=_NOTE),
]

CO_COLUMNS: List[Column] = [
    Column("task_id", "任务编号", LOCKED, 9, synonyms=("任务序号",)),
    Column("indicator_id", "指标编号", LOCKED, 11, synonyms=("指标序号", "指标代码")),
    Column("task_text", "任务内容", LOCKED, 30, synonyms=("任务名称", "民生实事任务")),
    Column("indicator", "指标", LOCKED, 12, synonyms=("指标名称", "具体指标")),
    Column("lead_units", "牵头单位", LOCKED, 11),
    # What the county needs beside its own figure: the task's annual target, its own share
    # where the office allocated one, and the figure it reported last month (pre-filled).
    Column("target", "年度目标", LOCKED, 9, synonyms=("全年目标", "年度目标任务", "目标任务")),
    Column("unit_target", "本单位目标", LOCKED, 9, synonyms=("本单位目标任务", "分解目标")),
    Column("unit", "计量单位", LOCKED, 7),
    Column("previous", "上月累计", PREFILL, 8, number=True, synonyms=("上月累计完成",
                                                                      "上月累计完成数")),
    # INPUT for counties and functional zones; bureaus get it locked and empty (text only).
    # Required only where it is an input (the reader asks :func:`required_keys`).
    Column("cumulative", "本单位累计完成", INPUT, 10, number=True,
           synonyms=("本单位累计完成数", "本地累计完成") + _CUMULATIVE, required=True),
    Column("progress", "配合工作情况", INPUT, 26, text=True,
           synonyms=("配合情况", "配合工作进展", "工作进展", "进展情况"), required=True),
    Column("problems", "存在问题", INPUT, 18, text=True, synonyms=_PROBLEMS),
    Column("note", "备注（说明）", INPUT, 14, text=True, synonyms=_NOTE),
]

SHEET_COLUMNS: Dict[str, List[Column]] = {SHEET_LEAD: LEAD_COLUMNS, SHEET_CO: CO_COLUMNS}

#: Header block above each table (label cell in column A, value cell in column B/C...).
TITLE_ROW = 1  # "2024年省市民生实事推进情况填报表（2024年6月）"
UNIT_ROW = 2  # 填报单位：<short name> (locked) ... 填报人 / 联系电话 / 填报日期 (inputs)
HEADER_ROW = 4  # 1-based row of the table's header texts in a fresh template
FIRST_DATA_ROW = HEADER_ROW + 1
UNIT_LABEL = "填报单位："
REPORTER_LABEL = "填报人："
PHONE_LABEL = "联系电话："
DATE_LABEL = "填报日期："

STATUS_CHOICES = ("已完成", "超序时", "序时推进", "滞后", "未启动")

# _meta (very hidden): key/value rows from A1, then a blank row, then a row table.
META_KEYS = ("format_version", "unit", "period", "deadline", "generated_at", "year", "co_numbers",
             "columns_lead", "columns_co")
# "columns_<kind>" (format 2): where the template put each column, "task_id=A;indicator_id=B;..."
# (see :func:`column_map`); the reader looks there first, then by header text.
# "co_numbers" (added by the template writer, issue 3): "1" when 本单位累计完成 on 配合任务 is an
# input (counties, functional zones), "0" when it is locked and empty (bureaus: text only).
META_ROW_HEADER = ("sheet", "indicator_id", "row", "fingerprint", "plan_locked")
# "plan_locked" (added by the template writer, issue 3): "1" when the row's PLAN cells were locked
# and pre-filled (so they are part of its fingerprint), "0" when they were input cells.

#: Where the header-block fields sit on each sheet: label -> (label cell, value cell). The value
#: cell is the top-left cell of a merged range; the unit's short name is locked, the others are
#: inputs.
HEADER_CELLS: Dict[str, Dict[str, tuple]] = {
    SHEET_LEAD: {UNIT_LABEL: ("A2", "B2"), REPORTER_LABEL: ("D2", "E2"),
                 PHONE_LABEL: ("G2", "I2"), DATE_LABEL: ("K2", "M2")},
    SHEET_CO: {UNIT_LABEL: ("A2", "B2"), REPORTER_LABEL: ("D2", "E2"),
               PHONE_LABEL: ("G2", "I2"), DATE_LABEL: ("J2", "K2")},
}


def title(year: int, month: int) -> str:
    return f"{year}年省市民生实事推进情况填报表（{year}年{month}月）"


def file_name(period: str, unit_short: str) -> str:
    """``2024-06_市卫健委_民生实事填报表.xlsx``; characters no file system accepts (a hand-edited
    short name like "市A/B局") become "_": the reader identifies returns by ``_meta``, not by name,
    and every stage (templates, send, remind, demo) finds the file through this one rule."""
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", unit_short).strip(" .") or "_"
    return f"{period}_{safe}_民生实事填报表.xlsx"


def _norm(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def fingerprint(values: Sequence) -> str:
    """Fingerprint of a row's locked content (values in the order of the sheet's LOCKED columns,
    then its PLAN columns when they are locked), so a return checked without the master still
    shows that a target or a task text was changed."""
    joined = "\x1f".join(_norm(v) for v in values)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


def locked_columns(columns: Iterable[Column]) -> List[Column]:
    return [c for c in columns if c.kind == LOCKED]


def plan_columns(columns: Iterable[Column]) -> List[Column]:
    return [c for c in columns if c.kind == PLAN]


def row_fingerprint(columns: Sequence[Column], values: Dict[str, object],
                    plan_locked: bool) -> str:
    """:func:`fingerprint` of one table row given its cell values by column key: the writer
    passes what it wrote, the reader what it read (same order, same normalisation)."""
    keys = [c.key for c in locked_columns(columns)]
    if plan_locked:
        keys += [c.key for c in plan_columns(columns)]
    return fingerprint([values.get(k) for k in keys])


def by_header(columns: Iterable[Column]) -> Dict[str, Column]:
    return {c.header: c for c in columns}


def column(columns: Iterable[Column], key: str) -> Optional[Column]:
    for c in columns:
        if c.key == key:
            return c
    return None


#: Brackets a clerk adds to a header: "本月累计完成（截至6月底）", "年度目标(个)", "【必填】".
_ANNOTATION = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^】]*】|〔[^〕]*〕|<[^<>]*>")


#: Words a header ends with that a line break may not split ("一季度末计划" breaks before 计划).
_HEADER_TAILS = ("计划", "累计", "完成", "情况", "目标", "状态", "问题", "单位", "编号", "内容")


def display_header(column: Column) -> str:
    """The header as written in the workbook: the official text, with a line break where it
    wraps cleanly when the column is too narrow for one line ("一季度末\n计划", "备注\n（说明）"),
    never mid-word as a renderer would ("一季度末计/划"). Readers compare headers through
    :func:`header_key`, which drops the break."""
    text = column.header
    per_line = max(int((column.width * 7 + 5 - 6) // 13.5), 1)  # bold 10-pt CJK characters
    if len(text) <= per_line:
        return text
    if "（" in text:
        head, _, note = text.partition("（")
        return f"{head}\n（{note}"
    for tail in _HEADER_TAILS:
        if text.endswith(tail) and len(text) > len(tail):
            head = text[:-len(tail)]
            if head.endswith(("累计", "本月")) and len(head) > per_line:
                return f"{head[:-2]}\n{head[-2:]}{tail}"  # 本单位\n累计完成
            return f"{head}\n{tail}"
    return text


def plain_header(text) -> str:
    """A header cell's text without the line breaks :func:`display_header` puts in."""
    return str(text).replace("\n", "") if text is not None else ""


@functools.lru_cache(maxsize=8192)
def header_key(text: str) -> str:
    """The meaning of a header text: NFKC, no whitespace or line breaks, no invisible
    characters, no bracketed annotation, no required-marks or trailing colon. Headers of the
    template and their synonyms are compared through it ("备注（说明）" -> "备注")."""
    t = unicodedata.normalize("NFKC", str(text))
    t = "".join(ch for ch in t if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc"))
    t = _ANNOTATION.sub("", t)
    return t.strip("*＊:：")


def header_keys(columns: Iterable[Column]) -> Dict[str, str]:
    """{header_key: column key} of a sheet's columns, the official header first, then its
    synonyms (a synonym never takes the meaning of another column's own header)."""
    out: Dict[str, str] = {}
    cols = list(columns)
    for c in cols:
        out.setdefault(header_key(c.header), c.key)
    for c in cols:
        for s in c.synonyms:
            out.setdefault(header_key(s), c.key)
    return out


def column_map(columns: Sequence[Column]) -> str:
    """The ``_meta`` value naming where the template put each column: "task_id=A;..."."""
    return ";".join(f"{c.key}={col_letter(i)}" for i, c in enumerate(columns))


@functools.lru_cache(maxsize=64)
def parse_column_map(text: Optional[str]) -> Dict[str, int]:
    """{column key: 0-based column} from a ``_meta`` column map (empty when absent or bad).
    Cached (every return of a run carries the same map): do not modify the result."""
    out: Dict[str, int] = {}
    for part in (text or "").split(";"):
        key, _, letters = part.partition("=")
        letters = letters.strip().upper()
        if key and letters.isalpha() and letters.isascii() and len(letters) <= 3:
            n = 0
            for ch in letters:
                n = n * 26 + ord(ch) - 64
            out[key.strip()] = n - 1
    return out


@functools.lru_cache(maxsize=1024)
def col_letter(col0: int) -> str:
    """0-based column -> "A", "AB" (cached: the reader names a cell of every row read)."""
    col, letters = col0 + 1, ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
