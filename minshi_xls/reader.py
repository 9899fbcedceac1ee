"""Reading a returned fill-in workbook: whatever sheet it is in, wherever its rows moved.

Runs inside a guard worker (:func:`read_guarded`) and returns plain, picklable data: the ``_meta``
identity, the header block (填报单位, 填报人, ...), and every table found by its header texts in
any sheet, with each row keyed by its 指标编号 and every value carrying its sheet and A1 cell.
Nothing is validated here (that is :mod:`minshi_xls.rules`); this module only makes sure that
what it reports is what the file holds, at the cell where it is.

python-calamine does the reading (20-40x faster than openpyxl). Its traps, all handled here:
``to_python()`` skips leading empty rows/columns unless ``skip_empty_area=False`` (positions
would shift); it reads '' for error cells and drops formulas with no cached value, so an input
cell that reads empty is looked up in the sheet XML (xlsx, ods) to tell formula-no-value from empty;
the format is taken from the bytes, not the file name.
"""
from __future__ import annotations

import datetime as _dt
import functools
import html
import io
import re
import unicodedata
import zipfile
from typing import Dict, Iterator, List, Optional, Tuple

import python_calamine as pc

from minshi_xls import columns as C
from minshi_xls import guard
from minshi_xls import versions

#: How far down a sheet the header row is looked for (rows inserted above the table included).
HEADER_SEARCH_ROWS = 40
LEAD, CO = "lead", "co"
_LABELS = {"unit": C.UNIT_LABEL, "reporter": C.REPORTER_LABEL, "phone": C.PHONE_LABEL,
           "date": C.DATE_LABEL}
_PERIOD_IN_TITLE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月")


def norm_text(v) -> str:
    """Header/label comparison key: NFKC (full-width brackets, colons) without any whitespace."""
    if v is None:
        return ""
    return _norm_str(str(v))


@functools.lru_cache(maxsize=4096)
def _norm_str(text: str) -> str:
    """Cached: the same headers and labels come back in every return of a run."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def a1(row0: int, col0: int) -> str:
    """0-based (row, col) -> "B5"."""
    return f"{C.col_letter(col0)}{row0 + 1}"


def _plain(v):
    """Calamine values made picklable and ledger-friendly (dates as ISO text)."""
    if type(v) in _PRIMITIVE:
        return v
    if isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, _dt.timedelta):
        return str(v)
    return v


_PRIMITIVE = {str, float, int, bool, type(None)}
_COLUMNS = {LEAD: C.LEAD_COLUMNS, CO: C.CO_COLUMNS}
#: header meaning (columns.header_key) -> column key, per table kind
_MEANINGS = {kind: C.header_keys(cols) for kind, cols in _COLUMNS.items()}
_OFFICIAL = {kind: {c.key: norm_text(c.header) for c in cols} for kind, cols in _COLUMNS.items()}
_ONLY = {LEAD: set(_MEANINGS[LEAD]) - set(_MEANINGS[CO]),
         CO: set(_MEANINGS[CO]) - set(_MEANINGS[LEAD])}
_ID_MEANINGS = {k for k, key in _MEANINGS[LEAD].items() if key == "indicator_id"}


#: No header is longer (an annotated one included); longer texts are never a header and are
#: not normalised or cached (a hostile header row of 32,000-character cells).
HEADER_MAX_CHARS = 60


def _meaning(text: str) -> str:
    return C.header_key(text) if text and len(text) <= HEADER_MAX_CHARS else ""


@functools.lru_cache(maxsize=1024)
def _locate(keys: Tuple[str, ...], kind: str, column_map: Optional[str]
            ) -> Tuple[Dict[str, int], Dict[str, List[int]]]:
    """({column key: column}, {column key: the columns it cannot choose between}) from the
    header row's meanings (``_meaning`` of each cell). Cached: every version a unit sends
    repeats its header row and map; do not modify the result.

    By meaning (official header or a synonym, annotations stripped). Two columns of one
    meaning (a "修正" copy next to the original) are ambiguous: taking either could be the
    wrong figure. A header retyped beyond recognition is taken from ``_meta``'s column map
    only while every recognised column still sits where the map put it (nothing inserted or
    moved)."""
    meanings = _MEANINGS[kind]
    mapped = C.parse_column_map(column_map)
    cands: Dict[str, List[int]] = {}
    for c, k in enumerate(keys):
        key = meanings.get(k) if k else None
        if key:
            cands.setdefault(key, []).append(c)
    cols = {key: found[0] for key, found in cands.items() if len(found) == 1}
    ambiguous = {key: found for key, found in cands.items() if len(found) > 1}
    if mapped and all(mapped.get(k) == c for k, c in cols.items()):
        used = set(cols.values()) | {c for v in ambiguous.values() for c in v}
        for key, c in mapped.items():
            if key not in cols and key not in ambiguous and c not in used \
                    and c < len(keys) and key in _OFFICIAL[kind]:
                cols[key] = c
    return cols, ambiguous


def _find_header(rows: List[list], meta: Optional[dict] = None
                 ) -> Optional[Tuple[int, str, Dict[str, int], Dict[str, List[int]]]]:
    """(row index, table kind, {column key: column index}, ambiguous) of the first header row:
    the row with a 指标编号 header and more headers of one kind of table than of the other."""
    for r, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        # cheap pre-test before normalising a row: a short cell naming 指标 (a guide sheet's
        # long texts name it too)
        if not any(type(v) is str and "指标" in v and len(v) <= HEADER_MAX_CHARS for v in row):
            continue
        texts = [v if isinstance(v, str) else "" for v in row]
        keys = [_meaning(t) for t in texts]
        if not _ID_MEANINGS.intersection(keys):
            continue
        scores = {k: sum(t in _ONLY[k] for t in keys) for k in (LEAD, CO)}
        kind = LEAD if scores[LEAD] >= scores[CO] else CO
        if scores[kind] == 0:
            continue
        cols, ambiguous = _locate(tuple(keys), kind, (meta or {}).get(f"columns_{kind}"))
        return r, kind, cols, ambiguous
    return None


def _label_values(rows: List[list], upto: int, sheet: str, out: dict) -> None:
    """填报单位：X and friends above the table; the value is after the colon or in a cell to
    the right."""
    for r in range(min(upto, len(rows))):
        row = rows[r]
        for c, v in enumerate(row):
            if type(v) is not str or not v or ("年" not in v and "填" not in v
                                                and "联系" not in v):
                continue  # every label and the title contain one of these
            t = norm_text(v)
            if "title" not in out and _PERIOD_IN_TITLE.search(t):
                out["title"] = (v, sheet, a1(r, c))
            for key, label in _LABELS.items():
                lab = norm_text(label)
                bare = lab.rstrip(":")
                if key in out or not t.startswith(bare):
                    continue
                rest = t[len(bare):].lstrip(":")
                if rest:
                    out[key] = (v.split("：", 1)[-1].split(":", 1)[-1].strip(), sheet, a1(r, c))
                    continue
                for c2 in range(c + 1, len(row)):
                    if row[c2] not in ("", None):
                        out[key] = (_plain(row[c2]), sheet, a1(r, c2))
                        break


def _read_meta(rows: List[list]) -> Tuple[dict, List[tuple]]:
    meta: Dict[str, str] = {}
    table: List[tuple] = []
    r = 0
    while r < len(rows) and rows[r] and rows[r][0] not in ("", None):
        key = str(rows[r][0]).strip()
        meta[key] = C._norm(rows[r][1]) if len(rows[r]) > 1 else ""
        r += 1
    width = len(C.META_ROW_HEADER)
    for row in rows[r:]:
        cells = [v.strip() if type(v) is str else C._norm(v) for v in row[:width]]
        cells += [""] * (width - len(cells))
        if not any(cells) or tuple(cells) == C.META_ROW_HEADER:
            continue
        table.append(tuple(cells))
    return meta, table


class SheetTooLarge(Exception):
    """A sheet's data reaches beyond the limits (.xls/.ods, whose cells the guard cannot see)."""


def read_workbook(data: bytes, fmt: str, parts: Optional[Dict[str, bytes]] = None,
                  limits: Optional[dict] = None) -> dict:
    """Everything the rules need from one workbook, as plain data."""
    lim = limits or guard.limits_from(None)
    wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    out: dict = {"sheets": list(wb.sheet_names), "meta": None, "meta_rows": [], "labels": {},
                 "tables": [], "formula_cells": {}}
    hidden = {m.name for m in wb.sheets_metadata if m.visible != pc.SheetVisibleEnum.Visible}

    def sheet_rows(name: str) -> List[list]:
        sheet = wb.get_sheet_by_name(name)
        end = sheet.end
        if end and (end[0] + 1 > lim["max_rows"] or end[1] + 1 > lim["max_cols"]):
            raise SheetTooLarge(f"工作表“{name}”数据区域达 {end[0] + 1} 行 × {end[1] + 1} 列")
        return sheet.to_python(skip_empty_area=False)
    # _meta first: its column map is where the tables' columns are looked for first
    meta_sheet = None
    for name in wb.sheet_names:
        if name == C.SHEET_META or name in hidden:
            rows = sheet_rows(name)
            if name == C.SHEET_META or (rows and rows[0] and rows[0][0] == C.META_KEYS[0]):
                out["meta"], out["meta_rows"] = _read_meta(rows)
                meta_sheet = name
                break
    for name in wb.sheet_names:
        if name == meta_sheet:
            continue
        rows = sheet_rows(name)
        found = _find_header(rows, out["meta"])
        if found is None:
            continue  # a guide, a chart, a sheet of the unit's own: not a table
        hr, kind, cols, ambiguous = found
        _label_values(rows, hr, name, out["labels"])
        id_col = cols.get("indicator_id")
        letters = [(key, c, a1(0, c)[:-1]) for key, c in cols.items()]
        table_rows = []
        for r in range(hr + 1, len(rows)):
            row = rows[r]
            ident = row[id_col] if id_col is not None and id_col < len(row) else ""
            if ident in ("", None):
                continue  # blank, spacer or a unit's own sub-total row: only rows with ids count
            n = str(r + 1)
            width = len(row)
            # _plain called only for the odd value (a date), not once per cell read
            cells = {key: ((v if type(v := row[c]) in _PRIMITIVE else _plain(v))
                           if c < width else "", col + n) for key, c, col in letters}
            table_rows.append({"row": r + 1, "id": C._norm(ident), "cells": cells})
        out["tables"].append({"sheet": name, "kind": kind, "header_row": hr + 1,
                              "hidden": name in hidden,
                              "columns": {key: col for key, _, col in letters},
                              "ambiguous": {k: [C.col_letter(c) for c in v]
                                            for k, v in ambiguous.items()},
                              "rows": table_rows})
    if fmt in ("xlsx", "xlsm"):
        out["formula_cells"], out["percent_cells"] = _formula_cells(data, out["tables"], parts)
    elif fmt == "ods":
        out["formula_cells"], out["percent_cells"] = _ods_formula_cells(
            data, out["tables"], parts)
    elif fmt == "xls":
        out["percent_cells"] = _xls_percent_cells(data, out["tables"])
    return out


def _percent_code(code: str) -> bool:
    """A number format code that shows a percentage: a % outside quotes and escapes."""
    return "%" in re.sub(r'"[^"]*"|\\.', "", code or "")


def _xls_percent_cells(data: bytes, tables: List[dict]) -> Dict[str, List[str]]:
    """The percent-formatted number cells of "%" rows in an .xls (calamine reads no formats;
    xlrd does), looked at only when such a cell holds a small number (``_empty_inputs``)."""
    _, wanted = _empty_inputs(tables)
    if not wanted:
        return {}
    import xlrd
    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
        out: Dict[str, List[str]] = {}
        for sheet, refs in wanted.items():
            sh = book.sheet_by_name(sheet)
            hits = []
            for ref in refs:
                row, col = _a1_key(ref)
                xf = book.xf_list[sh.cell_xf_index(row - 1, col - 1)]
                fmt = book.format_map.get(xf.format_key)
                if xf.format_key in (9, 10) or (fmt and _percent_code(fmt.format_str)):
                    hits.append(ref)
            out[sheet] = hits
        return out
    except Exception:  # noqa: BLE001 - xlrd on a hostile file: read the values as stored
        return {}


_WB_SHEET = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"')
_REL = re.compile(rb'<Relationship\b[^>]*?\bId="([^"]*)"[^>]*?\bTarget="([^"]*)"')
_REL2 = re.compile(rb'<Relationship\b[^>]*?\bTarget="([^"]*)"[^>]*?\bId="([^"]*)"')


_NUMBER_INPUTS = {c.key for c in C.LEAD_COLUMNS + C.CO_COLUMNS
                  if c.number and c.kind in (C.INPUT, C.PLAN)}
_PERCENT_UNITS = ("%", "％")
#: A number in a "%" row whose format is looked up: shown as a percentage it would read 100
#: times larger (0.85 -> 85%). Above this nobody formats a percentage (1,000 %), so a 形象进度
#: typed as 45 costs no look-up.
PERCENT_LOOKUP_MAX = 10


def _empty_inputs(tables: List[dict]) -> Tuple[Dict[str, set], Dict[str, set]]:
    """(sheet -> A1 refs of the number input cells that read empty, sheet -> refs of the
    number input cells of a "%" row holding a number a percent format would change (0 < v <=
    PERCENT_LOOKUP_MAX): their number format is looked up)."""
    wanted: Dict[str, set] = {}
    percent: Dict[str, set] = {}
    for t in tables:
        keys = [k for k in t["columns"] if k in _NUMBER_INPUTS]
        for row in t["rows"]:
            cells = row["cells"]
            unit = cells.get("unit")
            pct = unit is not None and type(unit[0]) is str and unit[0].strip() in _PERCENT_UNITS
            for key in keys:
                v, ref = cells[key]
                if v == "" or v is None:
                    wanted.setdefault(t["sheet"], set()).add(ref)
                elif pct and type(v) in (float, int) and 0 < v <= PERCENT_LOOKUP_MAX:
                    percent.setdefault(t["sheet"], set()).add(ref)
    return wanted, percent


_ODS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0"}


def _ods_formula_cells(data: bytes, tables: List[dict],
                       parts: Optional[Dict[str, bytes]] = None) -> Dict[str, List[str]]:
    """The same for .ods: empty input cells whose content.xml cell carries a formula (an error
    result or no cached value). Rows and columns are counted with their repeat attributes."""
    wanted, percent = _empty_inputs(tables)
    if not wanted and not percent:
        return {}, {}
    from defusedxml import ElementTree as DET
    xml = (parts or {}).get("content.xml") or zipfile.ZipFile(io.BytesIO(data)).read("content.xml")
    t = "{%s}" % _ODS["table"]
    value_type = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}value-type"
    out: Dict[str, List[str]] = {}
    pct_out: Dict[str, List[str]] = {}
    for table in DET.fromstring(xml).iter(t + "table"):
        name = table.get(t + "name")
        if name not in wanted and name not in percent:
            continue
        want, pct = wanted.get(name, set()), percent.get(name, set())
        hits, pct_hits, r = [], [], 0
        for row in table.iter(t + "table-row"):
            c = 0
            for cell in row:
                if cell.tag not in (t + "table-cell", t + "covered-table-cell"):
                    continue
                span = int(cell.get(t + "number-columns-repeated", "1"))
                ref = a1(r, c)
                if cell.get(t + "formula") is not None and ref in want:
                    hits.append(ref)
                elif ref in pct and cell.get(value_type) == "percentage":
                    pct_hits.append(ref)
                c += min(span, 16384)
            r += min(int(row.get(t + "number-rows-repeated", "1")), 1 << 20)
        out[name], pct_out[name] = hits, pct_hits
    return out, pct_out


def _formula_cells(data: bytes, tables: List[dict], parts: Optional[Dict[str, bytes]] = None
                   ) -> Tuple[Dict[str, List[str]], Dict[str, List[str]]]:
    """(input cells that read empty but hold a formula or an error, number cells of "%" rows
    shown as a percentage): calamine tells neither. Only sheets with such cells are looked at."""
    wanted, percent = _empty_inputs(tables)
    if not wanted and not percent:
        return {}, {}
    parts = parts or {}
    z = None

    def read(name: str) -> bytes:
        nonlocal z
        if name in parts:
            return parts[name]
        z = z or zipfile.ZipFile(io.BytesIO(data))
        return z.read(name)
    wbxml = read("xl/workbook.xml")
    rels = read("xl/_rels/workbook.xml.rels")
    targets = {i.decode(): t.decode() for i, t in _REL.findall(rels)}
    targets.update({i.decode(): t.decode() for t, i in _REL2.findall(rels)})
    out: Dict[str, List[str]] = {}
    pct_out: Dict[str, List[str]] = {}
    styles = None
    for name, rid in _WB_SHEET.findall(wbxml):
        sheet = html.unescape(name.decode("utf-8"))
        if sheet not in wanted and sheet not in percent:
            continue
        target = targets.get(rid.decode(), "")
        part = target.lstrip("/") if target.startswith("/") else "xl/" + target
        try:
            xml = read(part)
        except KeyError:
            continue
        out[sheet] = _formula_or_error_refs(xml, wanted.get(sheet, set()))
        if sheet in percent:
            if styles is None:
                try:
                    styles = _percent_styles(read("xl/styles.xml"))
                except KeyError:
                    styles = set()
            pct_out[sheet] = [ref for ref, tag, _ in _cell_tags(xml, percent[sheet])
                              if _style_of(tag) in styles]
    return out, pct_out


_XF = re.compile(rb"<(?:\w+:)?xf\b([^>]*)>")
_NUMFMT = re.compile(rb'<(?:\w+:)?numFmt\b[^>]*?numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"')
_STYLE_ATTR = re.compile(rb'\bs="(\d+)"')
_FMT_ID = re.compile(rb'\bnumFmtId="(\d+)"')


def _percent_styles(xml: bytes) -> set:
    """Indexes of the cell formats (cellXfs) that show a number as a percentage: built-in
    formats 9 and 10, or a format code with a % outside quotes."""
    percent_ids = {9, 10}
    for fid, code in _NUMFMT.findall(xml):
        if _percent_code(html.unescape(code.decode("utf-8", "replace"))):
            percent_ids.add(int(fid))
    start = xml.find(b"<cellXfs")
    if start < 0:
        start = xml.find(b":cellXfs")
    end = xml.find(b"cellXfs>", start + 8)
    out = set()
    for n, attrs in enumerate(_XF.findall(xml[start:end] if start >= 0 else b"")):
        m = _FMT_ID.search(attrs)
        if m and int(m.group(1)) in percent_ids:
            out.add(n)
    return out


def _style_of(tag: bytes) -> int:
    m = _STYLE_ATTR.search(tag)
    return int(m.group(1)) if m else 0


def _a1_key(ref: str) -> Tuple[int, int]:
    """Document order of a cell: (row, column)."""
    letters = ref.rstrip("0123456789")
    return int(ref[len(letters):] or 0), guard.col_number(letters)


def _cell_tags(xml: bytes, refs: set) -> Iterator[Tuple[str, bytes, bytes]]:
    """(ref, opening tag, what follows it) of each of ``refs`` present in the sheet XML. Cells
    are written in row and column order, so each is searched from where the previous one was
    found (one pass over the sheet, not one per cell: a unit leaving the plan columns blank
    made a find per cell a third of the read); a cell out of order is searched before that."""
    pos = 0
    for ref in sorted(refs, key=_a1_key):
        needle = b' r="%s"' % ref.encode()
        found = xml.find(needle, pos)
        if found < 0:  # out of order, or absent (never more than one pass per cell)
            found = xml.find(needle, 0, pos + len(needle))
        if found < 0:
            continue
        pos = found
        start = xml.rfind(b"<", 0, found)
        end = xml.find(b">", found)
        # <c ...> or, prefixed, <x:c ...> (the plain form tested first: nearly every cell)
        if xml[start:start + 3] != b"<c " and not guard.CELL_START.match(xml, start):
            continue
        yield ref, xml[start:end + 1], xml[end + 1:end + 64]


#: A cell's formula child, as Excel writes it (<f>) or with a namespace prefix (<x:f>, the
#: Open XML SDK's way; calamine reads such sheets alike).
_FORMULA_CHILD = re.compile(rb"\s*<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def _formula_or_error_refs(xml: bytes, refs: set) -> List[str]:
    """Those of ``refs`` whose cell in the sheet XML holds a formula or an error value."""
    hits = []
    for ref, tag, after in _cell_tags(xml, refs):
        if tag.endswith(b"/>"):
            continue
        if _FORMULA_CHILD.match(after) or b't="e"' in tag:
            hits.append(ref)
    return sorted(hits)


def read_guarded(name: str, data: bytes, limits: Optional[dict] = None) -> dict:
    """Guard, then read (the job a :class:`guard.WorkerPool` worker runs for each file)."""
    ins = guard.inspect(data, limits)
    result = {"format": ins.format, "findings": list(ins.findings), "workbook": None,
              "saved_at": versions.saved_time_ole(data) if ins.format == "xls"
              else versions.saved_time(ins.parts)}
    if ins.fatal:
        return result
    try:
        result["workbook"] = read_workbook(data, ins.format, ins.parts, limits)
    except SheetTooLarge as e:
        result["findings"].append(("file-too-large", str(e)))
    except pc.PasswordError:
        result["findings"].append(("file-encrypted", ""))
    except (pc.CalamineError, pc.XmlError, pc.ZipError, zipfile.BadZipFile, ValueError,
            KeyError, OSError) as e:
        # calamine's own words after ours: the clerk reads the first part, a helper the rest
        result["findings"].append(("file-unreadable",
                                   f"内容损坏或格式不受支持：{type(e).__name__}: {e}"[:200]))
    return result
