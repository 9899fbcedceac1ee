"""Shared xlsxwriter formatting of the workbooks clerks open and print (fill-in and consolidated).

One look across the tool: a CJK font, grey for locked content, light yellow for cells to fill, a
blue header row, A4 landscape one page wide with the header repeated. Formats are cached because
xlsxwriter writes one style record per Format object: creating one per cell bloats the file and
slows writing.
"""
from __future__ import annotations

import functools
import math
import unicodedata
from typing import Dict, Iterable, Optional, Sequence, Tuple

from xlsxwriter.utility import xl_rowcol_to_cell

from minshi_xls import MinshiError, settings

FONT_SIZE = 10
TITLE_SIZE = 16
LOCKED_FILL = "F2F2F2"  # grey: pre-filled, do not change
INPUT_FILL = "FFF8DC"  # light yellow: fill in here
HEADER_FILL = "DDEBF7"
BORDER_COLOR = "808080"
#: Conditional-format highlights (background, font) for live hints in input cells.
HINT_ERROR = {"bg_color": "FFC7CE", "font_color": "9C0006"}
HINT_WARNING = {"bg_color": "FFEB9C", "font_color": "9C5700"}

A4 = 9


class Styles:
    """Cached formats of one workbook; ``fmt(**props)`` returns the same Format for equal props."""

    def __init__(self, workbook, font_size: int = FONT_SIZE):
        self.workbook = workbook
        self.base = {"font_name": settings.FONT, "font_size": font_size, "valign": "vcenter"}
        self._cache: Dict[tuple, object] = {}

    def fmt(self, **props):
        full = {**self.base, **props}
        key = tuple(sorted(full.items()))
        f = self._cache.get(key)
        if f is None:
            f = self._cache[key] = self.workbook.add_format(full)
        return f

    # --- presets ---------------------------------------------------------------------------
    def title(self):
        return self.fmt(font_name=settings.TITLE_FONT, font_size=TITLE_SIZE, bold=True,
                        align="center")

    def header(self):
        return self.fmt(bold=True, align="center", text_wrap=True, border=1,
                        border_color=BORDER_COLOR, bg_color=HEADER_FILL)

    def label(self, align: str = "right"):
        return self.fmt(bold=True, align=align)

    def note(self):
        # Grey, never italic: a CJK font has no italic, so renderers slant it artificially.
        return self.fmt(font_color="595959", text_wrap=True, align="left")

    def cell(self, *, locked: bool = True, wrap: bool = False, align: Optional[str] = None,
             num_format: Optional[str] = None, bold: bool = False):
        """A bordered table cell: grey and locked, or light yellow and open for input."""
        key = ("__cell__", locked, wrap, align, num_format, bold)  # hot path: one lookup
        f = self._cache.get(key)
        if f is not None:
            return f
        props = {"border": 1, "border_color": BORDER_COLOR,
                 "bg_color": LOCKED_FILL if locked else INPUT_FILL, "locked": locked}
        if wrap:
            props["text_wrap"] = True
        if align:
            props["align"] = align
        if num_format:
            props["num_format"] = num_format
        if bold:
            props["bold"] = True
        f = self._cache[key] = self.fmt(**props)
        return f

    def hint(self, kind: dict):
        """A conditional-format highlight (HINT_ERROR or HINT_WARNING)."""
        key = ("__hint__",) + tuple(sorted(kind.items()))
        f = self._cache.get(key)
        if f is None:
            f = self._cache[key] = self.workbook.add_format(dict(kind))
        return f


def display_width(text) -> int:
    """Width of ``text`` in Excel character units: CJK and full-width characters count two."""
    text = str(text or "")
    return len(text) if text.isascii() else _wide_width(text)


@functools.lru_cache(maxsize=8192)
def _wide_width(text: str) -> int:  # task texts repeat in every county's workbook
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


LINE_HEIGHT = 14.0  # points per wrapped line at FONT_SIZE with a CJK font (Noto/SimSun)


def text_lines(text, width: float) -> int:
    """Lines ``text`` wraps to in a column ``width`` characters wide (an estimate that errs on
    the tall side: a clipped task text is worse than a little white space)."""
    per_line = max(1.0, float(width))
    return sum(max(1, math.ceil(display_width(part) / per_line))
               for part in str(text or "").split("\n"))


def row_height(cells: Iterable[Tuple[object, float]], min_lines: int = 1,
               line: float = LINE_HEIGHT) -> float:
    """Height in points that shows every (text, column width) of a row without clipping.

    Needed because LibreOffice does not grow rows for wrapped text in an .xlsx on load, so a
    row without an explicit height prints clipped."""
    lines = max([min_lines] + [text_lines(t, w) for t, w in cells])
    return lines * line + 4


def set_widths(ws, widths: Sequence[float]) -> None:
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)


def write_title(ws, styles: Styles, row: int, last_col: int, text: str,
                height: float = 30) -> None:
    """A title merged across the table's width (0-based ``row``)."""
    ws.set_row(row, height)
    ws.merge_range(row, 0, row, last_col, text, styles.title())


def write_header(ws, styles: Styles, row: int, headers: Sequence[str],
                 height: Optional[float] = None) -> None:
    if height:
        ws.set_row(row, height)
    fmt = styles.header()
    for col, h in enumerate(headers):
        ws.write_string(row, col, h, fmt)


def print_setup(ws, *, header_row: Optional[int] = None, last_col: Optional[int] = None,
                last_row: Optional[int] = None, landscape: bool = True,
                footer: str = "") -> None:
    """A4, one page wide and as many tall as needed, the table header (0-based ``header_row``)
    repeated on every page, page numbers in the footer."""
    ws.set_paper(A4)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.center_horizontally()
    if header_row is not None:
        ws.repeat_rows(header_row)
    if last_col is not None and last_row is not None:
        ws.print_area(0, 0, last_row, last_col)
    # `&"-,Regular"` closes the size code, so a footer starting with a digit ("2024年…") is not
    # read as font size 82024; a literal & in it is doubled.
    left = f'&L&8&"-,Regular"{footer.replace("&", "&&")}' if footer else ""
    ws.set_footer(f"{left}&C&8第 &P 页，共 &N 页")


def cell_ref(row: int, col: int, absolute_col: bool = False) -> str:
    """A1 reference of a 0-based cell (``$L5`` with ``absolute_col``), for formulas."""
    return xl_rowcol_to_cell(row, col, col_abs=absolute_col)


def close_workbook(workbook, path) -> None:
    """Write the file; a file the clerk still has open in Excel/WPS becomes a clear MinshiError."""
    import xlsxwriter.exceptions
    try:
        workbook.close()
    except (OSError, xlsxwriter.exceptions.FileCreateError) as e:
        raise MinshiError(f"无法写入文件 {path}：{e}。如果该文件已在 Excel/WPS 中打开，请先关闭。") from e
