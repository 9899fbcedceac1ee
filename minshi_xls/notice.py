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
from typing import Callable, List, Optional, Tuple

from minshi_xls import MinshiError, data_path, issues
from minshi_xls.issues import Issue
from minshi_xls.model import Indicator, Master, Registry, Task
from minshi_xls.registry import closest_name, default_registry

BUNDLED_NOTICE = "lianyungang_2024.txt"

# --- text normalisation ------------------------------------------------------------------------

_CN_DIGITS = "零一二三四五六七八九十"
_TO_FULL = {"(": "（", ")": "）", ":": "：", ";": "；", ",": "，"}


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

def _decode_text(data: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM), UTF-16 (BOM or NUL pattern) or GBK/GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    sample = data[:4000]
    if sample and sample.count(b"\x00") > len(sample) // 4:
        even, odd = sample[0::2].count(b"\x00"), sample[1::2].count(b"\x00")
        return data.decode("utf-16-be" if even > odd else "utf-16-le", errors="replace")
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise MinshiError(f"无法识别通知文件 {path.name} 的文字编码（应为 UTF-8、GBK 或 UTF-16）。")


def read_notice_lines(path) -> List[str]:
    """The notice's text as lines (line numbers in issues refer to these).

    .txt lines are file lines, .docx lines are paragraphs, .pdf lines are lines of the text layer.
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
        text = "\n".join(par.text for par in doc.paragraphs)
    elif suffix == ".pdf":
        try:
            from pypdf import PdfReader
            reader = PdfReader(str(p))
            if reader.is_encrypted:
                raise MinshiError(f"PDF 文件 {p.name} 已加密，请提供未加密的文件。")
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
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


# --- line classification -----------------------------------------------------------------------

_CN_NUM = f"[{_CN_DIGITS}]+"
_LEVEL_RE = re.compile(rf"^(?:{_CN_NUM}、|（{_CN_NUM}）)?(省|市)级?(?:政府)?民生实事")
_CATEGORY_RE = re.compile(
    rf"^(?:（(?P<a>{_CN_NUM})）|(?P<b>{_CN_NUM})[、.])(?P<name>.+?)(?:（\d+件）)?[。.]?$")
_ITEM_RE = re.compile(r"^(?P<num>\d{1,3}(?:\.\d{1,2})?)(?:[、.]|(?=[^\d.A-Za-z%]))(?P<rest>.*)$")
_PAREN_ITEM_RE = re.compile(r"^（(?P<num>\d{1,3})）(?P<rest>.*)$")
_END_RE = re.compile(r"^(?:抄送|主送|\d{4}年\d{1,2}月\d{1,2}日印发)")

_LEAD_LABELS = ("牵头单位",)
_CO_LABELS = ("共同责任单位", "责任单位", "配合单位", "协办单位")
_UNITS_START = re.compile(r"（(?=(?:牵头单位|共同责任单位|责任单位|配合单位|省本级|省级实施|我市不承担|本市不承担|不承担))"
                          r"|(?<![（])(?=牵头单位：)")
_LABEL_RE = re.compile(r"(牵头单位|共同责任单位|责任单位|配合单位|协办单位)：?")


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
        return "".join(self.parts)

    def closed(self) -> bool:
        """True once the units parenthesis has been opened and closed again."""
        t = self.text
        m = None
        for m in _UNITS_START.finditer(t):
            pass
        if m is None:
            return False
        if not t[m.start():].startswith("（"):
            return False
        depth = 0
        for ch in t[m.start():]:
            depth += ch == "（"
            depth -= ch == "）"
            if depth == 0:
                return True
        return False


# --- indicators ---------------------------------------------------------------------------------

_MEASURES = ("平方公里", "平方米", "公里", "千米", "人次", "场次", "项次", "批次", "户次", "架次",
             "间", "家", "个", "所", "栋", "幢", "名", "人", "座", "处", "条", "支", "场", "台", "辆",
             "户", "套", "元", "张", "副", "片", "亩", "吨", "件", "次", "项", "床", "张", "份",
             "册", "批", "米", "km")
_IND_RE = re.compile(
    r"(?P<pre>不少于|不低于|至少|超过|约)?"
    r"(?<![\d.A-Za-z/])(?P<num>\d+(?:\.\d+)?)"
    r"(?:(?P<pct>%)|(?P<mag>万|亿)?(?P<more>多|余)?(?P<unit>" + "|".join(_MEASURES) + r"))"
    r"(?P<post>以上|左右|多|余)?")
_RANGE_CHARS = "—–~至到-"
_PRE_QUALIFIER = {"不少于": ">=", "不低于": ">=", "至少": ">=", "超过": ">", "约": "~"}
_POST_QUALIFIER = {"以上": ">=", "左右": "~", "多": ">", "余": ">"}
_MAGNITUDE = {"万": Decimal(10000), "亿": Decimal(100000000)}
_DELIMS = "，。；：！？"
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


def _is_range(text: str, m: re.Match) -> bool:
    """"5万—200万元", "500—3000元", "0—14岁": a span of numbers is a condition, not a target."""
    before = text[:m.start("num")].rstrip()
    if before[-1:] and before[-1] in _RANGE_CHARS:
        return True
    after = text[m.end():]
    return bool(re.match(rf"[{re.escape(_RANGE_CHARS)}]\d", after))


def extract_indicators(task_id: str, text: str) -> List[Indicator]:
    """Every quantitative target of a task sentence, in order of appearance.

    A number counts only with a measure word (个, 家, 万名, 亿元, %...), so years, "连续3年",
    "0—14岁", ordinals written in Chinese (一期, 五级) and "4G/5G" are left out; ranges of
    numbers are conditions, and the size of a single project ("8万吨…项目") is not a target.
    """
    matches = [m for m in _IND_RE.finditer(text) if not _is_range(text, m)]
    out: List[Indicator] = []
    prev_end = 0
    for i, m in enumerate(matches):
        next_start = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        after = text[m.end():next_start]
        a_name = _clean_name(re.split(rf"[{_DELIMS}、]", after, maxsplit=1)[0])
        head = text[prev_end:m.start()]
        b_name = _clean_name(re.split(rf"[{_DELIMS}]", head)[-1])
        prev_end = m.end()
        if a_name.endswith(("项目", "工程")) and not m.group("pct") and m.group("unit") in ("吨", "平方米", "米"):
            continue  # "建成8万吨市级政府储备粮专库项目": size of one project
        if m.group("pct"):
            name = b_name + a_name
        else:
            name = a_name or b_name
        unit = "%" if m.group("pct") else (m.group("mag") or "") + m.group("unit")
        qualifier = "="
        if m.group("pre"):
            qualifier = _PRE_QUALIFIER[m.group("pre")]
        if m.group("more"):
            qualifier = ">"
        if m.group("post"):
            qualifier = _POST_QUALIFIER[m.group("post")]
        target = m.group("num")
        base_value, base_unit = to_base(target, unit)
        out.append(Indicator(id=f"{task_id}#{len(out) + 1}", name=name, target=target, unit=unit,
                             qualifier=qualifier, base_value=base_value, base_unit=base_unit))
    return out


# --- units --------------------------------------------------------------------------------------

def _split_names(s: str) -> List[str]:
    return [n for n in (x.strip() for x in re.split(r"[、，,/]", s)) if n]


def parse_units(part: str) -> Tuple[str, List[str], List[str]]:
    """"（牵头单位：A；共同责任单位：B，各县区）" -> ("local", [A], [B, 各县区])."""
    inner = part.strip().rstrip("。")
    if inner.startswith("（"):
        inner = inner[1:]
    if inner.endswith("）"):
        inner = inner[:-1]
    if "省本级" in inner or "省级实施" in inner:
        return "province", [], []
    if "不承担" in inner:
        return "not_applicable", [], []
    lead: List[str] = []
    co: List[str] = []
    pieces = _LABEL_RE.split(inner)
    # pieces: [before, label, names, label, names, ...]
    for label, names in zip(pieces[1::2], pieces[2::2]):
        target = lead if label in _LEAD_LABELS else co
        for n in _split_names(names.strip("；;。 ")):
            if n not in target:
                target.append(n)
    return "local", lead, co


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

def _level_of(line: str) -> Optional[str]:
    m = _LEVEL_RE.match(line)
    return m.group(1) if m else None


def _unparsed(line_no: int, text: str) -> Issue:
    return issues.make("notice-unparsed", cell=str(line_no), value=text[:80])


def _finish(block: _Block, registry: Registry, found: List[Issue], memo: dict) -> Task:
    text = block.text
    starts = list(_UNITS_START.finditer(text))
    task_id = f"{block.level}-{block.number}"
    if starts:
        cut = starts[-1].start()
        body, units = text[:cut], text[cut:]
        scope, lead, co = parse_units(units)
        if scope == "local" and not lead and not co:
            found.append(_unparsed(block.line, text))
    else:
        body, scope, lead, co = text, "local", [], []
    body = body.strip().rstrip("。.；，").strip()
    return Task(id=task_id, level=block.level, category_no=block.category_no,
                category=block.category, number=block.number, text=body, lead_units=lead,
                co_units=co, responsible_units=responsible(registry, lead, co, memo), scope=scope,
                indicators=extract_indicators(task_id, body))


def _find_year(lines: List[str]) -> Optional[int]:
    for raw in lines:
        m = re.search(r"(20\d\d)年(?:度)?(?:省市|省|市)?(?:级)?民生实事", normalize(raw))
        if m:
            return int(m.group(1))
    return None


def parse_lines(lines: List[str], registry: Registry, source: str = "") -> Tuple[Master, List[Issue]]:
    """The parser proper, on lines already read (see :func:`parse_notice`)."""
    found: List[Issue] = []
    blocks: List[_Block] = []
    level: Optional[str] = None
    category_no = 0
    category = ""
    in_body = False
    current: Optional[_Block] = None
    last_main: Optional[int] = None
    for line_no, raw in enumerate(lines, start=1):
        line = normalize(raw).strip()
        if not line:
            continue
        if in_body and _END_RE.match(line):
            break
        lvl = _level_of(line)
        if lvl:
            level, category_no, in_body, current, last_main = lvl, 0, True, None, None
            continue
        cat = _CATEGORY_RE.match(line)
        if cat and not _UNITS_START.search(line) and len(cat.group("name")) <= 30:
            if level is None:
                level = "市"  # a notice with one level only: municipal
            category_no += 1
            category = cat.group("name").strip()
            in_body, current = True, None
            continue
        if not in_body:
            continue
        item = _ITEM_RE.match(line)
        paren_item = _PAREN_ITEM_RE.match(line)
        number = None
        if item:
            main = int(item.group("num").split(".")[0])
            if last_main is None or main in (last_main, last_main + 1) or main == 1:
                number, rest = item.group("num"), item.group("rest")
        elif paren_item:
            k = paren_item.group("num")
            if current is not None and "." not in current.number and not current.closed() \
                    and not _UNITS_START.search(current.text) and current.parts:
                number = f"{current.number.split('.')[0]}.{k}"  # "（1）" under "5." : 5.1
            else:
                number = k
            rest = paren_item.group("rest")
        if number is not None and category:
            last_main = int(number.split(".")[0])
            current = _Block(level or "市", category_no, category, number, line_no, [rest])
            blocks.append(current)
            continue
        if current is not None and not current.closed():
            current.parts.append(line)
            continue
        found.append(_unparsed(line_no, line))

    memo: dict = {}
    tasks: List[Task] = [_finish(b, registry, found, memo) for b in blocks]
    line_of = {id(t): b.line for t, b in zip(tasks, blocks)}
    tasks = _resolve_parents(tasks)
    seen: dict = {}
    for t in tasks:
        if t.id in seen:
            found.append(issues.make("duplicate-id", value=t.id, cell=str(line_of[id(t)]),
                                     detail=f"第 {seen[t.id]} 行"))
        seen.setdefault(t.id, line_of[id(t)])
    known = set(registry.groups)
    for t in tasks:
        for name in [*t.lead_units, *t.co_units]:
            if name not in known and registry.get(name) is None:
                guess = closest_name(registry, name)
                hint = f"，是否为“{guess}”？" if guess else ""
                found.append(issues.make("unknown-unit", value=name, detail=f"（任务 {t.id}{hint}）",
                                         severity=issues.WARNING, cell=str(line_of[id(t)])))
                known.add(name)
    return Master(source=source, tasks=tasks, registry=registry, year=_find_year(lines)), found


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


def parse_notice(path, registry: Optional[Registry] = None) -> Tuple[Master, List[Issue]]:
    """Parse a notice file into a :class:`Master` and the issues met on the way.

    Raises MinshiError for a file that cannot be read or holds no recognisable task (empty,
    garbled, wrong encoding): importing nothing is better than an empty master.
    """
    p = Path(path)
    lines = read_notice_lines(p)
    master, found = parse_lines(lines, registry or default_registry(), source=p.name)
    if not master.tasks:
        raise MinshiError(f"未能从通知文件 {p.name} 中识别出任何任务（文件可能为空、乱码或格式不符）。"
                          "请确认这是民生实事任务分解方案的通知。")
    return master, found


def bundled_notice_path() -> Path:
    return data_path(BUNDLED_NOTICE)


def load_bundled(registry: Optional[Registry] = None) -> Master:
    """The bundled 2024 Lianyungang notice parsed with the default registry (for demos and tests)."""
    return parse_notice(bundled_notice_path(), registry)[0]
