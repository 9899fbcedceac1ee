"""Read the year's notice (.txt / .docx / .pdf) into the model: leaf tasks, units, indicators.

The notice is prose extracted from a PDF, so the parser works line by line on a normalised copy
(full-width digits and letters made ASCII, ASCII brackets and colons made full-width, spaces
between Chinese characters dropped) and rejoins what page breaks split ("市文" / "广旅局").
Whatever it cannot place becomes a ``notice-unparsed`` issue with its line number instead of a
silent guess: the master it feeds is reviewed by hand.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import List, Optional, Tuple

from minshi_xls import MinshiError, data_path, issues
from minshi_xls.issues import Issue
from minshi_xls.model import Indicator, Master, Registry, Task
from minshi_xls.registry import (closest_name, default_registry, known_names,
                                 registry_from_names)

BUNDLED_NOTICE = "lianyungang_2024.txt"

# --- text normalisation ------------------------------------------------------------------------

_CN_DIGITS = "零一二三四五六七八九十"
_TO_FULL = {"(": "（", ")": "）", ":": "：", ";": "；", ",": "，", "[": "（", "]": "）",
            "【": "（", "】": "）"}


def _halfwidth(ch: str) -> str:
    """Full-width ASCII letters/digits/./% become ASCII; Chinese punctuation stays as it is."""
    o = ord(ch)
    if 0xFF10 <= o <= 0xFF19 or 0xFF21 <= o <= 0xFF3A or 0xFF41 <= o <= 0xFF5A:
        return chr(o - 0xFEE0)
    return {"．": ".", "％": "%", "\u3000": " ", "－": "-", "／": "/", "～": "~"}.get(ch, ch)


_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def normalize(s: str) -> str:
    """One canonical spelling of a piece of notice text (see the module docstring).

    Whitespace survives only between two ASCII letters/digits ("Word Excel"), because a PDF
    text layer puts spaces around every number and inside names at random.
    """
    s = "".join(_halfwidth(c) for c in unicodedata.normalize("NFC", s))
    s = _THOUSANDS.sub("", s)
    s = "".join(_TO_FULL.get(c, c) for c in s)
    out = []
    parts = re.split(r"(\s+)", s)
    for i, p in enumerate(parts):
        if p and p.isspace():
            before = parts[i - 1][-1:] if i > 0 else ""
            after = parts[i + 1][:1] if i + 1 < len(parts) else ""
            if before and after and _ASCII_ALNUM.match(before) and _ASCII_ALNUM.match(after):
                out.append(" ")
        else:
            out.append(p)
    return "".join(out)


# --- reading the file ---------------------------------------------------------------------------

def _plausibility(text: str) -> float:
    """Share of characters a Chinese notice is made of (CJK, ASCII, punctuation, line breaks)."""
    if not text:
        return 0.0
    good = sum(1 for c in text if c in "\n\r\t" or " " <= c <= "~" or "\u4e00" <= c <= "\u9fff"
               or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef"
               or "\u2000" <= c <= "\u206f")
    return good / len(text)


def _decode_text(data: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM), UTF-16 (with or without BOM) or GBK/GB18030.

    Without a BOM, UTF-8 is tried first (it almost never decodes by accident); otherwise the
    candidate that reads most like Chinese text wins, and a file that reads like nothing is
    refused rather than imported as gibberish.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best, score = None, 0.0
    for enc in ("gb18030", "utf-16-le", "utf-16-be"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        s = _plausibility(text)
        if s > score:
            best, score = text, s
    if best is None or score < 0.9:
        raise MinshiError(f"无法识别通知文件 {path.name} 的文字编码，或文件不是文本"
                          "（应为 UTF-8、GBK 或 UTF-16 编码的 .txt）。")
    return best


#: Header words of a task table, by column role, in the order they are tried on a header cell
#: ("牵头责任单位" is a lead column before it is a 责任单位 one; "区政府分管领导" is a person).
_TABLE_HEADERS = (("skip", ("完成时限", "时限", "备注", "分管领导", "分管市领导", "市领导", "责任领导",
                            "牵头领导", "责任人", "资金", "投资", "完成情况", "成效", "电话")),
                  ("category", ("类别", "类型", "领域")),
                  ("number", ("序号", "编号")),
                  ("name", ("项目名称", "事项名称", "实事名称", "任务名称", "名称", "民生实事")),
                  ("lead", ("牵头单位", "主办单位", "牵头部门", "牵头责任单位")),
                  ("co", ("责任单位", "协同单位", "配合单位", "协办单位", "责任部门", "配合部门")),
                  ("text", ("项目内容", "主要内容", "任务内容", "建设内容", "目标任务", "具体内容",
                            "内容", "任务", "项目", "目标")))
_HEADER_WORDS = frozenset(w for _, words in _TABLE_HEADERS for w in words)


def _table_columns(cells: List[str]) -> dict:
    """Column index by role for a header row, or {} when it is not a task table's header."""
    cols: dict = {}
    for i, c in enumerate(cells):
        c = "".join(c.split())
        for key, words in _TABLE_HEADERS:
            if any(w in c for w in words):
                if key == "co":  # 责任单位 and 协同单位 columns both hold co-units
                    cols.setdefault("co", [])
                    cols["co"].append(i)
                elif key not in cols:
                    cols[key] = i
                break
    return cols if ({"text", "name"} & set(cols)) and ({"lead", "co"} & set(cols)) else {}


def _units_cell(c: str) -> str:
    """Several units in one cell, one per paragraph or separated by 、."""
    return "、".join(x for x in (" ".join(part.split()) for part in c.split("\n")) if x)


def _table_lines(rows: List[List[str]]) -> List[str]:
    """A 任务分解表 laid out as a table (序号 | 项目名称 | 项目内容 | 牵头单位 | 责任单位 | 完成时限
    …, any of the usual headers) as the lines the notice would have in prose:
    "1、name：text（牵头单位：A；责任单位：B）". See :func:`_table_rows`."""
    return [line for _, line in _table_rows(rows)]


def _table_rows(rows: List[List[str]]) -> List[Tuple[int, str]]:
    """(row index, line) for every line a table gives. A row whose cells are all the same (a
    merged category row) stays one line; a 类别 column gives a heading line where it changes;
    a row without 序号 or name under a numbered one is a second part of that item (N.1, N.2…);
    a row with fewer cells than the header lost its leading, merged-down cells; tables that are
    not task tables pass through."""
    cols: dict = {}
    out: List[Tuple[int, str]] = []
    width = 0
    category = ""
    parent: Optional[Tuple[int, str, int]] = None  # (index in out, number, parts so far)
    for ri, cells in enumerate(rows):
        if not cols:
            cols, width = _table_columns(cells), len(cells)
            if not cols:
                out.append((ri, "  ".join(dict.fromkeys(" ".join(c.split())
                                                        for c in cells if c.strip()))))
            continue
        distinct = list(dict.fromkeys(" ".join(c.split()) for c in cells if c.strip()))
        if len(distinct) <= 1:
            out.append((ri, distinct[0] if distinct else ""))
            parent = None
            continue
        cells = [""] * (width - len(cells)) + list(cells)
        get = {k: (cells[i] if i < len(cells) else "") for k, i in cols.items() if k != "co"}
        get["co"] = "\n".join(cells[i] for i in cols.get("co", []) if i < len(cells))
        cat = "".join(get.get("category", "").split())
        if cat and cat != category:
            category = cat
            out.append((ri, cat if _CATEGORY_RE.match(cat) else f"——{cat}"))
        number = "".join(get.get("number", "").split())
        name = "".join(get.get("name", "").split())
        text = "".join(get.get("text", "").split())
        lead, co = _units_cell(get.get("lead", "")), _units_cell(get.get("co", ""))
        body = f"{name}：{text}" if name and text and name != text else (name or text)
        units = "；".join(part for part in (f"牵头单位：{lead}" if lead else "",
                                            f"责任单位：{co}" if co else "") if part)
        line = f"{body}（{units}）" if units else body
        if not number and not name and parent is not None:
            idx, num, k = parent
            if k == 1:
                out[idx] = (out[idx][0], f"{num}.1、" + out[idx][1][len(num) + 1:])
            parent = (idx, num, k + 1)
            out.append((ri, f"{num}.{k + 1}、{line}"))
            continue
        if re.fullmatch(r"\d+(?:\.\d+)?", number):
            parent = (len(out), number, 1)
            out.append((ri, f"{number}、{line}"))
        else:
            parent = None
            out.append((ri, f"{number}{line}"))
    return out


_CELL_SEP = re.compile(r"\t+|\s*[|｜]\s*")


def _delimited(raws: List[str]) -> Tuple[List[str], List[int], dict]:
    """Tables pasted as text with a tab or | between cells (a Word table copied into a .txt, a
    web table scraped with separators) as the prose lines of their items. Returns the lines,
    for each the index of the raw line it came from (a row may give a heading line and an
    item), and {raw index: place} for header rows."""
    out: List[str] = []
    src: List[int] = []
    forced: dict = {}
    i = 0
    while i < len(raws):
        cells = [c.strip() for c in _CELL_SEP.split(raws[i].strip().strip("|｜"))]
        if len(cells) < 3 or not _table_columns([normalize(c) for c in cells]):
            out.append(raws[i])
            src.append(i)
            i += 1
            continue
        forced[i] = HEADING
        table = [cells]
        j = i + 1
        while j < len(raws) and len(_CELL_SEP.split(raws[j].strip().strip("|｜"))) >= 2:
            table.append([c.strip() for c in _CELL_SEP.split(raws[j].strip().strip("|｜"))])
            j += 1
        for ri, line in _table_rows(table):
            out.append(line)
            src.append(i + ri)
        i = j
    return out, src, forced


def _unflatten(norm: List[str]) -> Tuple[List[str], dict]:
    """A web table pasted as text (one cell per line: "序号" "项目名称" "牵头单位" … then the
    cells of each row) as one line per row, like a Word table. Returns the new lines (a row at
    its first line, "" at the others) and, for each merged line, the line it went into."""
    out, owner = list(norm), {}
    i = 0
    while i < len(norm):
        j = i
        while j < len(norm) and norm[j] in _HEADER_WORDS:
            j += 1
        if j - i < 3 or not _table_columns(norm[i:j]):
            i = max(j, i + 1)
            continue
        header = norm[i:j]
        for k in range(i, j):
            out[k], owner[k] = "", k  # header cells: counted as a heading
        rows: List[List[str]] = [header]
        starts: List[int] = []
        k = j
        numbered = "序号" in header[0] or "编号" in header[0]
        while k < len(norm) and not _END_RE.match(norm[k]):
            if not norm[k]:
                k += 1
                continue
            if numbered and not re.fullmatch(r"\d{1,3}", norm[k]):
                rows.append([norm[k]])  # a category row spanning the table
                starts.append(k)
                k += 1
                continue
            row, first = [norm[k]], k
            k += 1
            while k < len(norm) and len(row) < len(header) and not (
                    numbered and re.fullmatch(r"\d{1,3}", norm[k])) and not _END_RE.match(norm[k]):
                if norm[k]:
                    row.append(norm[k])
                    out[k], owner[k] = "", first
                k += 1
            rows.append(row + [""] * (len(header) - len(row)))
            starts.append(first)
        for first, line in zip(starts, _table_lines(rows)):  # the header row gives no line
            out[first] = line
        i = k
    return out, owner


def _docx_lines(doc) -> List[str]:
    """Paragraphs and table rows of a Word file, in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    lines: List[str] = []
    for el in doc.element.body.iterchildren():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(el, doc).text)
        elif tag == "tbl":
            table = Table(el, doc)
            lines.extend(_table_lines([[c.text for c in row.cells] for row in table.rows]))
    return lines


def to_simplified(text: str) -> str:
    """Traditional characters (牽頭單位, 萬) made Simplified with OpenCC, so every rule below is
    written once; a Simplified text is returned as it is (t2s would still touch a few rare
    characters that are valid in both)."""
    if not any(c in _TRADITIONAL_MARKS for c in text):
        return text
    import opencc
    return opencc.OpenCC("t2s").convert(text)


#: Characters that only Traditional texts use, among those every notice has (单位, 项目, 万...).
_TRADITIONAL_MARKS = frozenset("單頭責實項區縣萬億務會設衛醫農發財廳園戶點築網辦幣與資開鎮鄉這個")


def read_notice_lines(path) -> List[str]:
    """The notice's text as lines (line numbers in issues refer to these).

    .txt lines are file lines, .docx lines are paragraphs and table rows, .pdf lines are lines
    of the text layer.
    """
    p = Path(path)
    if not p.is_file():
        raise MinshiError(f"找不到通知文件：{p}")
    suffix = p.suffix.lower()
    if suffix == ".docx":
        try:
            import docx  # python-docx
            doc = docx.Document(str(p))
        except Exception as e:  # a broken zip, not a Word file: python-docx raises many kinds
            raise MinshiError(f"无法读取 Word 文件 {p.name}（{type(e).__name__}）。请确认文件完好。") from e
        text = "\n".join(_docx_lines(doc))
    elif suffix == ".pdf":
        try:
            from pypdf import PdfReader
            reader = PdfReader(str(p))
            # Official PDFs are often "encrypted" with an empty open password (permissions
            # only): they open in any viewer, so they must open here too.
            if reader.is_encrypted and not reader.decrypt(""):
                raise MinshiError(f"PDF 文件 {p.name} 设置了打开密码，请提供未加密的文件。")
            text = "\n".join((page.extract_text() or "") for page in reader.pages)
        except MinshiError:
            raise
        except Exception as e:
            raise MinshiError(f"无法读取 PDF 文件 {p.name}（{type(e).__name__}）。请确认文件完好。") from e
        if not text.strip():
            raise MinshiError(f"PDF 文件 {p.name} 没有文字层（可能是扫描件），请提供 Word 或文本版通知。")
    elif suffix in (".txt", ".text", ""):
        text = _decode_text(p.read_bytes(), p)
    else:
        raise MinshiError(f"不支持的通知文件类型 {p.suffix}：请提供 .txt、.docx 或 .pdf 文件。")
    if not text.strip():
        raise MinshiError(f"通知文件 {p.name} 是空的。")
    return to_simplified(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")


# --- line classification -----------------------------------------------------------------------

_CN_NUM = f"[{_CN_DIGITS}]+"
#: "一、省民生实事任务分解" / "（二）市级民生实事项目" / "县政府十件民生实事": a level heading.
_LEVEL_RE = re.compile(rf"^(?:{_CN_NUM}、|（{_CN_NUM}）)?(?:[^\d，。；：（]{{0,8}}?)?"
                       rf"(省|市|县|区)(?:级|本级|政府)?(?:\d+件|[{_CN_DIGITS}]+件|十大)?"
                       rf"(?:民生实事|为民办实事)(?!.*[：。])")
_CATEGORY_RE = re.compile(
    rf"^(?:（(?P<a>{_CN_NUM})）|(?P<b>{_CN_NUM})[、.]|(?P<c>{_CN_NUM})是|——)"
    rf"(?P<name>.+?)(?:（(?:\d+|{_CN_NUM})(?:件|项)）)?[。.]?$")
_COUNT_LINE = re.compile(rf"^（(?:\d+|{_CN_NUM})(?:件|项)）[。.]?$")
_ITEM_RE = re.compile(r"^(?P<num>\d{1,3}(?:\.\d{1,2})?)(?P<sep>[、.]|(?=[^\d.A-Za-z%]))(?P<rest>.*)$")
#: "5.1 新建" / "12 新建": a number without "." or "、" starts an item only when a space follows it
#: in the file, or when it is a sub-number; "13个…" at the start of a wrapped line does not.
_SPACED_NUMBER = re.compile(r"^\s*[0-9０-９]+(?:[.．][0-9０-９]+)?\s")
_PAREN_ITEM_RE = re.compile(r"^（(?P<num>\d{1,3})）(?P<rest>.*)$")
_END_RE = re.compile(r"^(?:抄送|主送|\d{4}年\d{1,2}月\d{1,2}日印发)")
#: A heading that is the title of the list itself ("附件2", "2024年民生实事项目清单").
_TITLE_RE = re.compile(r"^(?:附件\d*|.{0,30}(?:民生|实事项目|为民办实事|任务分解|责任分解|分解表|"
                       r"清单|一览表).{0,12})$")

_LEAD_LABELS = ("牵头责任单位", "牵头单位", "主办单位", "牵头部门")
_CO_LABELS = ("共同责任单位", "协同责任单位", "责任单位", "协同单位", "协办单位", "配合单位",
              "责任部门", "配合部门", "参与单位")
#: Labels whose value is not a unit: people, deadlines, remarks (cut out, never units).
_OTHER_LABELS = ("牵头市领导", "牵头领导", "责任领导", "分管领导", "市领导", "项目责任人", "责任人",
                 "联系人", "完成时限", "时间节点", "实际完成情况", "备注")
_ALL_LABELS = sorted(_LEAD_LABELS + _CO_LABELS + _OTHER_LABELS, key=len, reverse=True)
_LABELS_ALT = "|".join(_ALL_LABELS)
_SCOPE_WORDS = "省本级|省级实施|我市不承担|本市不承担|不承担"
_UNITS_START = re.compile(rf"（(?=(?:{_LABELS_ALT}|{_SCOPE_WORDS}))|(?<![（])(?=(?:{_LABELS_ALT})：)")
_LABEL_RE = re.compile(rf"({_LABELS_ALT})：?")
#: A line that starts with a label: the units of the item above, on a line of their own.
_LABEL_LINE = re.compile(rf"^（?(?:{_LABELS_ALT})：")


#: The name line of a newspaper-style item: short, no punctuation, ending like a project name.
_NAME_LINE = re.compile(r"[^，。；：！？]{2,40}(?:项目|工程|行动|计划|体检|服务|（票决项目）)")


@dataclass
class _Block:
    """The lines of one item as they come, before it is split into text / units / indicators."""

    level: str
    category_no: int
    category: str
    number: str
    line: int
    parts: List[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The parts joined; a name line ("1.…配套管网建设项目") and the content line under it
        are joined with "：" (as a table row's name and content are)."""
        if len(self.parts) > 1 and _NAME_LINE.fullmatch(self.parts[0]) \
                and not _UNITS_START.match(self.parts[1]):
            return f"{self.parts[0]}：" + "".join(self.parts[1:])
        return "".join(self.parts)

    def takes(self, line: str) -> bool:
        """Whether ``line`` (not an item or heading) continues this item.

        Before the units start, anything does (a sentence wrapped by the page). Inside brackets,
        until they close. After units on lines of their own, another label line does, and a
        short fragment does when the list was cut ("市文" / "广旅局"); a sentence does not.
        """
        t = self.text
        starts = list(_UNITS_START.finditer(t))
        if not starts:
            return not _PROSE_UNITS.search(t)
        brackets = [m for m in starts if t[m.start()] == "（"]
        if brackets:
            m = brackets[-1]
            depth = 0
            for ch in t[m.start():]:
                depth += ch == "（"
                depth -= ch == "）"
                if depth == 0:
                    return False
            return True
        if _LABEL_LINE.match(line):
            return True
        return t[-1:] in "、，；" or (len(line) <= 12 and "。" not in line)


# --- indicators ---------------------------------------------------------------------------------

_MEASURES = ("平方公里", "平方米", "公里", "千米", "人次", "场次", "项次", "批次", "户次", "架次",
             "个百分点", "个工作日", "分钟", "小时",
             "间", "家", "个", "所", "栋", "幢", "名", "人", "座", "处", "条", "支", "场", "台", "辆",
             "户", "套", "元", "张", "副", "片", "亩", "吨", "件", "次", "项", "床", "份",
             "册", "批", "米", "km", "艘", "只", "盏", "棵", "株", "例", "宗", "部", "块")
_NUM = r"\d+(?:\.\d+)?"
_IND_RE = re.compile(
    r"(?P<pre>不少于|不低于|至少|不超过|超过|控制在|低于|约)?"
    r"(?<![\d.A-Za-z/])(?P<num>" + _NUM + r")"
    r"(?:(?P<pct>%)|(?P<mag>万|亿)?(?P<more>多|余)?(?P<unit>" + "|".join(_MEASURES) + r"))"
    r"(?P<post>以上|左右|以内|以下|多|余)?")
_RANGE_CHARS = "—–~至到-"
#: "3—5个": the low end of a range, just before the range sign.
_RANGE_LOW = re.compile(r"(?P<lo>" + _NUM + r")(?:万|亿)?(?:" + "|".join(_MEASURES) + r"|%)?"
                        r"[" + re.escape(_RANGE_CHARS) + r"]$")
#: A range in a clause with these words is a condition (a subsidy per person, an age band).
_CONDITION_WORDS = ("给予", "补贴", "补助", "奖补", "奖励", "每", "岁")
_PRE_QUALIFIER = {"不少于": ">=", "不低于": ">=", "至少": ">=", "超过": ">", "约": "~",
                  "不超过": "<=", "控制在": "<=", "低于": "<="}
_POST_QUALIFIER = {"以上": ">=", "左右": "~", "多": ">", "余": ">", "以内": "<=", "以下": "<="}
_MAGNITUDE = {"万": Decimal(10000), "亿": Decimal(100000000)}
_DELIMS = "，。；：！？"
#: Verbs a target may be named by alone when it shares the noun of the one before it.
_VERBS = ("新改扩建", "改扩建", "新改建", "新扩建", "新建", "改建", "扩建", "改造提升", "改造",
          "提升", "建设", "新增", "建成", "完成")
_PARENS = re.compile(r"（[^（）]*）")


def to_base(target: str, unit: str) -> Tuple[Optional[float], str]:
    """"2.28","万名" -> (22800.0, "名"); 万 and 亿 multiplied out exactly; (None, unit) if
    the target is not a number."""
    try:
        value = Decimal(str(target).strip())
    except (InvalidOperation, ValueError):
        return None, unit
    if unit[:1] in _MAGNITUDE and len(unit) > 1:
        return float(value * _MAGNITUDE[unit[0]]), unit[1:]
    return float(value), unit


def _clean_name(s: str) -> str:
    s = _PARENS.sub("", s)
    s = re.sub(r"[“”‘’\"']", "", s)
    return s.strip("、，及和与并").strip()


def _range_low(text: str, m: re.Match) -> Optional[str]:
    """The low end when ``m`` is the high end of "X—Y" (a digit right before the sign: "提高到
    95%" is a target, not a range), else None."""
    lo = _RANGE_LOW.search(text[:m.start("num")])
    return lo.group("lo") if lo else None


def _starts_range(text: str, m: re.Match) -> bool:
    return bool(re.match(rf"[{re.escape(_RANGE_CHARS)}]\d", text[m.end():]))


def extract_indicators(task_id: str, text: str) -> List[Indicator]:
    """Every quantitative target of a task sentence, in order of appearance.

    A number counts only with a measure word (个, 家, 万名, 亿元, %...), so years, "连续3年",
    "0—14岁", ordinals ("第3批", 一期, 五级) and "4G/5G" are left out; "X—Y" is one target with
    both ends kept, unless the clause makes it a condition ("每月给予500—3000元"); the size of a
    single project ("8万吨…项目") is not a target.
    """
    matches = []
    for m in _IND_RE.finditer(text):
        if _starts_range(text, m) or text[:m.start("num")].endswith("第"):
            continue
        low = _range_low(text, m)
        if low is not None:
            clause = re.split(rf"[{_DELIMS}]", text[:m.start()])[-1]
            if any(w in clause for w in _CONDITION_WORDS):
                continue
        matches.append((m, low))
    out: List[Indicator] = []
    prev_end = 0
    for i, (m, low) in enumerate(matches):
        next_start = matches[i + 1][0].start() if i + 1 < len(matches) else len(text)
        after = text[m.end():next_start]
        a_name = _clean_name(re.split(rf"[{_DELIMS}、]", after, maxsplit=1)[0])
        head = text[prev_end:m.start()]
        if low is not None:
            head = head[:_RANGE_LOW.search(head).start()] if _RANGE_LOW.search(head) else head
        b_name = _clean_name(re.split(rf"[{_DELIMS}]", head)[-1])
        prev_end = m.end()
        if a_name.endswith(("项目", "工程")) and m.group("unit") in ("吨", "平方米", "米"):
            continue  # "建成8万吨市级政府储备粮专库项目": size of one project
        unit = "%" if m.group("pct") else (m.group("mag") or "") + m.group("unit")
        if m.group("pct"):
            name = b_name + a_name
        else:
            name = a_name or b_name
        if name in _VERBS and out and out[-1].unit == unit:
            # "新建学校4所、改扩建9所": the second counts 学校 too
            prev = out[-1].name
            verb = next((v for v in _VERBS if prev.startswith(v)), None)
            if verb and len(prev) > len(verb):
                name += prev[len(verb):]
        qualifier = "="
        if m.group("pre"):
            qualifier = _PRE_QUALIFIER[m.group("pre")]
        if m.group("more"):
            qualifier = ">"
        if m.group("post"):
            qualifier = _POST_QUALIFIER[m.group("post")]
        target, high = m.group("num"), ""
        if low is not None:
            target, high, qualifier = low, m.group("num"), "range"
        base_value, base_unit = to_base(target, unit)
        out.append(Indicator(id=f"{task_id}#{len(out) + 1}", name=name, target=target, unit=unit,
                             qualifier=qualifier, base_value=base_value, base_unit=base_unit,
                             target_high=high))
    return out


# --- units --------------------------------------------------------------------------------------

#: What a unit's name ends with; a fragment without one shares the suffix of the next
#: ("人民大垸、荒湖管理区" = 人民大垸管理区 + 荒湖管理区, "东海、灌云县" = 东海县 + 灌云县).
_UNIT_END = set("局委办院府区县市镇乡道心司团会队站所部处行社馆厅署联室台场园校组协厂科块")
_SHARED_SUFFIXES = ("街道办事处", "管理区", "管委会", "办事处", "人民政府", "开发区", "新区", "街道",
                    "镇", "乡", "县", "区")
#: A parenthesised remark in a list of units ("（列第一位者为牵头单位，下同）") is not a unit.
_UNIT_REMARK = re.compile(r"（[^（）]*(?:下同|第一位|为准|牵头单位或|汇总单位)[^（）]*）")
_FIRST_LEADS = re.compile(r"(?:列|排)(?:在)?第一位(?:的|者)?(?:单位)?为(?:工作)?牵头")
_TRAILING_ETC = re.compile(r"等(?:相关|有关|其他)?(?:单位|部门)?$")


def _split_top(s: str) -> List[str]:
    """Split a list of names on 、，,/；; outside parentheses ("县发改局（粮食局）" stays whole)."""
    out, cur, depth = [], "", 0
    for ch in s:
        depth += ch == "（"
        depth -= ch == "）" and depth > 0
        if depth == 0 and ch in "、，,/；;":
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def _is_group_token(name: str) -> bool:
    return name.startswith("各") or name in ("功能板块", "有关单位", "相关单位", "相关部门")


def _split_names(s: str, known: frozenset = frozenset()) -> List[str]:
    """Unit names of one label's list, each whole: a 、 inside one name joined back
    (各乡、镇人民政府), a shared suffix given to the fragment before it, trailing 等 removed."""
    s = re.sub(r"及(?=各)", "、", s)  # "市级各有关部门及各县市区政府": two groups
    raw = [_TRAILING_ETC.sub("", x.strip().strip("。 ")) for x in _split_top(s)]
    names = [n for n in raw if n]
    joined: List[str] = []
    for n in names:
        if joined:
            prev = joined[-1]
            pair = f"{prev}、{n}"
            if pair in known or (re.fullmatch(r"各[乡镇县区市街]", prev) and n[:1] in "乡镇县区市街"):
                joined[-1] = pair
                continue
        joined.append(n)
    suffix = ""
    for i in range(len(joined) - 1, -1, -1):
        n = joined[i]
        if n[-1:] in _UNIT_END or n in known or _is_group_token(n) or "（" in n:
            suffix = next((x for x in _SHARED_SUFFIXES if n.endswith(x) and len(n) > len(x)), "")
            continue
        if suffix:
            joined[i] = n + suffix
    return joined


def _balanced(s: str) -> str:
    """Drop a bracket left over from the enclosing units parenthesis."""
    while s.endswith("）") and s.count("）") > s.count("（"):
        s = s[:-1]
    while s.startswith("（") and s.count("（") > s.count("）"):
        s = s[1:]
    return s


#: Units written as prose at the end of an item: "（市政府办公室、市审改办牵头，市级各有关部门及各县
#: 市区政府按职责分工负责）" / "（市教育局牵头，市财政局配合）".
_PROSE_UNITS = re.compile(r"（(?P<lead>[^（）：]{2,60}?)(?:共同)?牵头(?:负责|抓总)?(?:[，,；;](?P<co>[^（）：]*?))?"
                          r"(?:按职责分工负责|按职责分工落实|分工负责|配合|参与|负责|落实)?）[。.]?$")
_LEAD_MARK = re.compile(r"（牵头(?:单位)?）$")


def _prose_units(text: str, known: frozenset = frozenset()) -> Optional[Tuple[int, List[str], List[str]]]:
    """(where the units start, lead, co) for units written as prose, else None."""
    m = _PROSE_UNITS.search(text)
    if not m:
        return None
    lead = _split_names(m.group("lead"), known)
    co = _split_names(m.group("co") or "", known)
    return m.start(), lead, [n for n in co if n not in lead]


def parse_units(part: str, known: frozenset = frozenset()) -> Tuple[str, List[str], List[str]]:
    """"（牵头单位：A；共同责任单位：B，各县区）" -> ("local", [A], [B, 各县区]).

    Labels may come in any order, in brackets or on lines of their own; the values of people
    and deadline labels (牵头领导, 项目责任人, 完成时限) are dropped."""
    inner = _UNIT_REMARK.sub("", part.strip()).rstrip("。")
    if inner.startswith("（") and inner.endswith("）"):
        inner = inner[1:-1]
    if "省本级" in inner or "省级实施" in inner:
        return "province", [], []
    if "不承担" in inner:
        return "not_applicable", [], []
    lead: List[str] = []
    co: List[str] = []
    pieces = _LABEL_RE.split(inner)
    # pieces: [before, label, names, label, names, ...]
    for label, names in zip(pieces[1::2], pieces[2::2]):
        if label in _OTHER_LABELS:
            continue
        for n in _split_names(_balanced(names.strip("；;。 ")), known):
            # "责任单位：市教育局（牵头）、市财政局": a mark after the name makes it the lead
            target = lead if label in _LEAD_LABELS or _LEAD_MARK.search(n) else co
            n = _LEAD_MARK.sub("", n)
            if n not in target and n not in lead:
                target.append(n)
    return "local", lead, [n for n in co if n not in lead]


def responsible(registry: Registry, lead: List[str], co: List[str],
                memo: Optional[dict] = None) -> List[str]:
    """Concrete units: groups expanded through the registry, lead units first, no duplicates.

    ``memo`` (token -> short names) is shared across the tasks of one master: Registry.expand
    rebuilds its name index on every call, and the same dozen tokens recur in every task.
    """
    memo = {} if memo is None else memo
    out: List[str] = []
    for token in [*lead, *co]:
        if token not in memo:
            memo[token] = registry.expand(token)
        for u in memo[token]:
            if u not in out:
                out.append(u)
    return out


# --- the parser ---------------------------------------------------------------------------------

#: Where a line of the notice ends up (the 说明 sheet and the import report count them).
PREAMBLE, HEADING, ITEM, UNPARSED, BLANK = "前言", "标题", "任务", "未解析", "空行"
PLACES = (PREAMBLE, HEADING, ITEM, UNPARSED, BLANK)
_PLACE_RANK = {BLANK: 0, PREAMBLE: 1, HEADING: 2, UNPARSED: 3, ITEM: 4}


def _level_of(line: str) -> Optional[str]:
    """省/市/县/区 for a level heading; a title ("…关于印发…的通知") is not one."""
    if len(line) > 30 or re.search(r"关于|通知|公告|印发", line):
        return None
    m = _LEVEL_RE.match(line)
    return m.group(1) if m else None


def _unparsed(line_no: int, text: str, hint: str = "") -> Issue:
    return issues.make("notice-unparsed", cell=str(line_no), value=text[:80],
                       detail=f"（{hint}）" if hint else "")


def _cn_int(s: str) -> int:
    """"三" -> 3, "十二" -> 12, "二十" -> 20 (category and item ordinals)."""
    if s == "十":
        return 10
    if "十" in s:
        a, _, b = s.partition("十")
        return (_CN_DIGITS.index(a) if a else 1) * 10 + (_CN_DIGITS.index(b) if b else 0)
    return _CN_DIGITS.index(s[-1])


def _finish(block: _Block, registry: Registry, memo: dict, known: frozenset,
            lead_rule: str) -> Task:
    text = block.text
    starts = [m for m in _UNITS_START.finditer(text)]
    label_starts = [m for m in starts if _LABEL_RE.match(text, m.end() if text[m.start()] == "（"
                                                         else m.start())]
    task_id = f"{block.level}-{block.number}"
    scope, lead, co = "local", [], []
    body = text
    prose = None if starts else _prose_units(text, known)
    if starts:
        cut = (label_starts or starts)[0 if label_starts else -1].start()
        body = text[:cut]
        scope, lead, co = parse_units(text[cut:], known)
    elif prose:
        body, lead, co = text[:prose[0]], prose[1], prose[2]
    if scope == "local" and co and not lead and lead_rule != "none":
        if lead_rule == "all":
            lead, co = co, []
        else:  # "first": the first unit named (not a group token such as 各县区) leads
            k = next((i for i, n in enumerate(co) if not _is_group_token(n)), 0)
            lead, co = [co[k]], co[:k] + co[k + 1:]
    body = body.strip().rstrip("。.；，：").strip()
    return Task(id=task_id, level=block.level, category_no=block.category_no,
                category=block.category, number=block.number, text=body, lead_units=lead,
                co_units=co, responsible_units=responsible(registry, lead, co, memo), scope=scope,
                indicators=extract_indicators(task_id, body))


_YEAR_PATTERNS = (re.compile(r"(20\d\d)年(?:度)?[^。，；]{0,14}?(?:民生实事|实事项目|为民办实事)"),
                  re.compile(r"〔(20\d\d)〕"),
                  re.compile(r"(20\d\d)年\d{1,2}月\d{1,2}日"))


def _find_year(lines: List[str]) -> Optional[int]:
    """The notice's year: from the title ("2024年省市民生实事"), else the 文号 (〔2024〕), else
    the date it was signed."""
    norm = [normalize(raw) for raw in lines]
    for pattern in _YEAR_PATTERNS:
        for line in norm:
            m = pattern.search(line)
            if m:
                return int(m.group(1))
    for line in [x for x in norm if x.strip()][:5]:  # "关于2021年“民生100”工程项目的通知"
        m = re.search(r"(20\d\d)年", line)
        if m:
            return int(m.group(1))
    return None


_ISSUER_RE = re.compile(r"(?:^|[^各])(省|市|县|区)(?:人民)?政府(?:办公室|办公厅)?(?:关于|文件|印发|$)")


def _issuer_level(norm: List[str]) -> str:
    """The issuing government's level (市/县/区) for a notice without level headings: from the
    title or the signature ("立山区人民政府关于…", "湖州市人民政府办公室"); 市 if none says."""
    for line in norm:
        if line.endswith("：") or line.startswith("各"):
            continue  # the addressees ("各县、区人民政府：")
        m = _ISSUER_RE.search(line) or re.search(r"(市|县|区)(?:级)?20\d\d年", line) or \
            re.search(r"20\d\d年(?:度)?(市|县|区)(?:级|政府|委)", line)
        if m:
            return "市" if m.group(1) == "省" else m.group(1)
    return "市"


def _is_category(line: str, m: re.Match) -> bool:
    """A heading "（一）幼有所育（4件）。" / "二、健康服务" / "一是…" / "——推进…": short and
    without units; a sentence ("一、请各单位……报送。") is one only with a count of items."""
    name = m.group("name")
    if _UNITS_START.search(line) or len(name) > 30:
        return False
    has_count = re.search(rf"（(?:\d+|{_CN_NUM})(?:件|项)）[。.]?$", line) is not None
    return has_count or not (re.search(r"[；：]", name) or "。" in name[:-1])


def _item_number(line: str, raw: str, current: Optional[_Block], last_main: Optional[int],
                 sub_parent: Optional[str]) -> Tuple[Optional[str], str, Optional[str]]:
    """(number, rest of the line, sub-item parent) if ``line`` starts an item, else (None, ...).

    "5.1" / "1." / "1、" start items; "（1）" starts a sub-item "N.1" while it follows an item
    "N." that has no units of its own (a heading), else it is an item by itself. The first
    number may be anything (204.); later ones go on in sequence, or jump ahead when written
    with "." or "、", so a wrapped line starting with a number stays part of its task.
    """
    item = _ITEM_RE.match(line)
    if item and not item.group("sep") and "." not in item.group("num") \
            and not _SPACED_NUMBER.match(raw):
        item = None
    if item:
        main = int(item.group("num").split(".")[0])
        if last_main is None or main in (last_main, last_main + 1) or main == 1 or (
                item.group("sep") and last_main < main <= last_main + 30
                and "." not in item.group("num")):
            return item.group("num"), item.group("rest"), None
        return None, line, sub_parent
    paren = _PAREN_ITEM_RE.match(line)
    if paren:
        k = paren.group("num")
        if sub_parent is None and current is not None and "." not in current.number \
                and not _UNITS_START.search(current.text):
            sub_parent = current.number
        if sub_parent is not None:
            return f"{sub_parent}.{k}", paren.group("rest"), sub_parent
        return k, paren.group("rest"), None
    return None, line, sub_parent


def _starts_item(line: str, raw: str) -> bool:
    """Whether a line looks like the start of an item, sequence aside (finding the list)."""
    item = _ITEM_RE.match(line)
    if item and (item.group("sep") or "." in item.group("num") or _SPACED_NUMBER.match(raw)):
        return True
    return bool(_PAREN_ITEM_RE.match(line) or _CATEGORY_RE.match(line))


def _heading_like(line: str) -> bool:
    cat = _CATEGORY_RE.match(line)
    return bool(_level_of(line) or (cat and _is_category(line, cat)) or _COUNT_LINE.match(line)
                or (_TITLE_RE.match(line) and not line.endswith(("。", "：", "；"))
                    and not _ITEM_RE.match(line)))


def _body_start(norm: List[str], raws: List[str]) -> int:
    """Index of the first line of the list: the first level heading; else the item that holds
    the first unit label, with the headings right above it; else the first heading or item.
    Everything before (covering letter, questionnaire, numbered requests) is preamble."""
    for i, line in enumerate(norm):
        if line and _level_of(line):
            return i
    first_label = next((i for i, line in enumerate(norm) if line and (
        _UNITS_START.search(line) or _PROSE_UNITS.search(line))), None)
    if first_label is None:
        return next((i for i, line in enumerate(norm)
                     if line and (_heading_like(line) or _starts_item(line, raws[i]))), len(norm))
    k = first_label
    for j in range(first_label, max(first_label - 15, -1), -1):
        if norm[j] and _starts_item(norm[j], raws[j]):
            k = j
            break
    start = k
    for j in range(k - 1, -1, -1):
        if not norm[j]:
            continue
        if not _heading_like(norm[j]):
            break
        start = j
    return start


def parse_lines(lines: List[str], registry: Registry, source: str = "",
                lead_rule: str = "first") -> Tuple[Master, List[Issue]]:
    """The parser proper, on lines already read (see :func:`parse_notice`).

    Every line ends up in exactly one place (``Master.coverage``): the preamble (covering
    letter before the list, 抄送 and what follows it), a heading, an item, or an unparsed line
    reported as ``notice-unparsed`` with its number and what was expected there.
    """
    raws = to_simplified("\n".join(lines)).split("\n")
    lines, src, forced = _delimited(raws)
    norm, merged = _unflatten([normalize(raw).strip() for raw in lines])
    if any(_FIRST_LEADS.search(line) for line in norm):
        lead_rule = "first"  # the notice says so itself
    place = [BLANK if not line else PREAMBLE for line in norm]
    found: List[Issue] = []
    blocks: List[_Block] = []
    start = _body_start(norm, lines)
    issuer = _issuer_level(norm[:start] or norm[:15])
    level: Optional[str] = None
    category_no = 0
    category = ""
    current: Optional[_Block] = None
    last_main: Optional[int] = None
    sub_parent: Optional[str] = None
    for idx in range(start, len(norm)):
        line, line_no = norm[idx], src[idx] + 1
        if not line:
            continue
        if blocks and _END_RE.match(line):
            break
        lvl = _level_of(line)
        if lvl:
            level, category_no = lvl, 0
            current = last_main = sub_parent = None
            place[idx] = HEADING
            continue
        cat = _CATEGORY_RE.match(line)
        if cat and _is_category(line, cat):
            category_no += 1
            category = cat.group("name").strip().rstrip("。.")
            current, sub_parent = None, None
            place[idx] = HEADING
            continue
        if re.fullmatch(r"附件\d*[：:]?", line) and blocks:
            # a second appendix: its numbering may start again at 1 (ids then carry the section)
            category_no, category = category_no + 1, ""
            current = last_main = sub_parent = None
            place[idx] = HEADING
            continue
        if _COUNT_LINE.match(line) or (current is None and _heading_like(line)):
            place[idx] = HEADING
            continue
        number, rest, sub_parent = _item_number(line, lines[idx], current, last_main, sub_parent)
        if number is None and cat and (cat.group("a") or cat.group("b")):
            number, rest = str(_cn_int(cat.group("a") or cat.group("b"))), cat.group("name")
            if (cat.group("a") or cat.group("b")) == "一":
                last_main = None  # "（一）…（牵头单位…）": items numbered in Chinese
        if number is not None:
            last_main = int(number.split(".")[0])
            current = _Block(level or issuer, category_no, category or "", number, line_no,
                             [rest])
            blocks.append(current)
            place[idx] = ITEM
        elif current is not None and current.takes(line):
            current.parts.append(line)
            place[idx] = ITEM
        else:
            hint = "应为条目（如“1.”“（1）”）、标题或单位（“牵头单位：…”）" if current is None else \
                f"第 {current.line} 行条目的单位已结束，此行不是新条目"
            found.append(_unparsed(line_no, line, hint))
            place[idx] = UNPARSED

    known = frozenset(known_names(registry))
    memo: dict = {}
    tasks: List[Task] = [_finish(b, registry, memo, known, lead_rule) for b in blocks]
    _number_by_category(tasks)
    line_of = {id(t): b.line for t, b in zip(tasks, blocks)}
    tasks = _resolve_parents(tasks)
    seen: dict = {}
    reported = set()
    for t in tasks:
        line = line_of[id(t)]
        if t.id in seen:
            found.append(issues.make("duplicate-id", value=t.id, cell=str(line),
                                     detail=f"第 {seen[t.id]} 行"))
        seen.setdefault(t.id, line)
        if t.scope == "local" and not t.lead_units and not t.co_units:
            found.append(_unparsed(line, f"{t.id}（未找到牵头单位）{t.text}",
                                   "条目后应有“牵头单位：…”或“责任单位：…”"))
        elif t.scope == "local" and not t.lead_units:
            found.append(issues.make("no-lead-unit", value=t.id, cell=str(line)))
        for name in [*t.lead_units, *t.co_units]:
            if name not in known and name not in reported:
                guess = closest_name(registry, name)
                hint = f"，是否为“{guess}”？" if guess else ""
                found.append(issues.make("unknown-unit", value=name, detail=f"（任务 {t.id}{hint}）",
                                         severity=issues.WARNING, cell=str(line)))
                reported.add(name)
    found.sort(key=lambda i: int(i.cell or 0))
    for idx, first in merged.items():
        place[idx] = place[first] if place[first] != BLANK else HEADING
    by_raw = [BLANK] * len(raws)  # a raw line that gave several lines takes the strongest place
    for idx, where in enumerate(place):
        if _PLACE_RANK[where] > _PLACE_RANK[by_raw[src[idx]]]:
            by_raw[src[idx]] = where
    by_raw = [forced.get(i, where) for i, where in enumerate(by_raw)]
    coverage = {p: by_raw.count(p) for p in PLACES}
    master = Master(source=source, tasks=tasks, registry=registry, year=_find_year(raws),
                    lead_rule=lead_rule, coverage=coverage)
    return master, found


def _number_by_category(tasks: List[Task]) -> None:
    """Numbering that restarts in every category ("1." under each heading) would give the same
    id twice: the ids of such a level carry the category ("市-2-1")."""
    by_level: dict = {}
    for t in tasks:
        by_level.setdefault(t.level, []).append(t)
    for level_tasks in by_level.values():
        ids = [t.id for t in level_tasks]
        cats = {t.category_no for t in level_tasks}
        if len(set(ids)) == len(ids) or len(cats) < 2:
            continue
        pairs = [(t.category_no, t.number) for t in level_tasks]
        if len(set(pairs)) != len(pairs):
            continue  # duplicates inside one category: a real mistake, reported as such
        section = {c: k for k, c in enumerate(dict.fromkeys(t.category_no for t in level_tasks), 1)}
        for t in level_tasks:
            t.id = f"{t.level}-{section[t.category_no]}-{t.number}"
            for k, ind in enumerate(t.indicators, start=1):
                ind.id = f"{t.id}#{k}"


def _resolve_parents(tasks: List[Task]) -> List[Task]:
    """An item with sub-items is represented by its sub-items only; they inherit its units."""
    by_level_parent = {}
    for t in tasks:
        if "." in t.number:
            by_level_parent.setdefault((t.level, t.number.split(".")[0]), []).append(t)
    out = []
    for t in tasks:
        children = by_level_parent.get((t.level, t.number)) if "." not in t.number else None
        if children:
            for c in children:
                if not c.lead_units and not c.co_units and c.scope == "local":
                    c.lead_units, c.co_units = list(t.lead_units), list(t.co_units)
                    c.responsible_units = list(t.responsible_units)
                    c.scope = t.scope
            continue
        out.append(t)
    return out


def parse_notice(path, registry: Optional[Registry] = None,
                 lead_rule: str = "first") -> Tuple[Master, List[Issue]]:
    """Parse a notice file into a :class:`Master` and the issues met on the way.

    Without ``registry``, the bundled Lianyungang one is used for a Lianyungang notice (or one
    whose units it mostly knows); a notice of another city gets a new registry of the units it
    names, so they are not forced onto Lianyungang's. Raises MinshiError for a file that cannot
    be read or holds no recognisable task, saying what the parser looked for and which lines it
    skipped: importing nothing is better than an empty master.
    """
    p = Path(path)
    lines = read_notice_lines(p)
    master, found = parse_lines(lines, registry or default_registry(), p.name, lead_rule)
    if registry is None and master.tasks and not _is_home(master, lines):
        names = [n for t in master.tasks for n in (*t.lead_units, *t.co_units)]
        master, found = parse_lines(lines, registry_from_names(names), p.name, lead_rule)
        found.insert(0, issues.make("notice-new-registry", value=str(len(master.registry.units))))
    if not master.tasks:
        first = [(n, t) for n, t in enumerate((normalize(x).strip() for x in lines), 1) if t][:5]
        skipped = "；".join(f"第{n}行“{t[:30]}”" for n, t in first) or "（无）"
        raise MinshiError(
            f"未能从通知文件 {p.name} 中识别出任何任务（文件可能为空、乱码或格式不符）。"
            "解析器查找的是：级别标题（“一、省民生实事”“县级民生实事”）、类别标题（“（一）幼有所育（4件）”"
            "“一、教育惠民”“一是…”“——…”）、编号条目（“1.”“1、”“5.1”“（1）”）及其单位"
            f"（“牵头单位：…”“责任单位：…”）。跳过的前几行：{skipped}。"
            "请确认这是民生实事任务分解方案的通知。")
    return master, found


def _is_home(master: Master, lines: List[str]) -> bool:
    """A Lianyungang notice, or one whose units the registry mostly knows."""
    if any("连云港" in line for line in lines[:40]):
        return True
    names = {n for t in master.tasks for n in (*t.lead_units, *t.co_units)}
    if not names:
        return True
    known = set(known_names(master.registry))
    return len(names & known) >= 0.6 * len(names)


def bundled_notice_path() -> Path:
    return data_path(BUNDLED_NOTICE)


def load_bundled(registry: Optional[Registry] = None) -> Master:
    """The bundled 2024 Lianyungang notice parsed with the default registry (demos, tests)."""
    return parse_notice(bundled_notice_path(), registry)[0]
