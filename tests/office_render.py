"""Looking at the paper as a clerk does: LibreOffice prints a workbook or a .docx to PDF (with a
private profile, since several runs share the machine), poppler reads the pages back."""
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Tuple

TOOLS = all(shutil.which(t) for t in ("soffice", "pdftotext", "pdfinfo"))


def to_pdf(src: Path, outdir: Path, pages: Optional[str] = None) -> Path:
    """``src`` printed to PDF by LibreOffice (only ``pages``, e.g. "1-30", when given)."""
    outdir.mkdir(parents=True, exist_ok=True)
    profile = Path("/tmp") / f"lo_minshi_render_{uuid.uuid4().hex}"
    filt = "pdf"
    if pages:
        kind = "calc" if src.suffix in (".xlsx", ".xls", ".ods") else "writer"
        filt = f'pdf:{kind}_pdf_Export:{{"PageRange":{{"type":"string","value":"{pages}"}}}}'
    try:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                        "--convert-to", filt, "--outdir", str(outdir), str(src)],
                       check=True, capture_output=True, timeout=400)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return outdir / (src.stem + ".pdf")


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def page_texts(pdf: Path, layout: bool = False) -> List[str]:
    """The text of each page (in drawing order, or laid out as printed with ``layout``)."""
    mode = "-layout" if layout else "-raw"
    text = subprocess.run(["pdftotext", mode, str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    return text.split("\f")[:-1]


def flat(text: str) -> str:
    """Text without any white space, to find a wrapped cell's text as one string."""
    return re.sub(r"\s+", "", text)


Box = Tuple[float, float, float, float]


def _bbox_pages(pdf: Path, flag: str) -> List[str]:
    """pdftotext's XHTML with word (``-bbox``) or line (``-bbox-layout``) boxes, a page each."""
    xml = subprocess.run(["pdftotext", flag, str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    return xml.split("<page ")[1:]


def line_boxes(pdf: Path) -> List[List[Tuple[Box, str]]]:
    """Per page, every printed line of text with its box (x0, y0, x1, y1)."""
    pages = []
    for page in _bbox_pages(pdf, "-bbox-layout"):
        lines = []
        for m in re.finditer(r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                             r'yMax="([\d.]+)">(.*?)</line>', page, re.S):
            words = "".join(re.findall(r">([^<]*)</word>", m.group(5)))
            lines.append(((float(m.group(1)), float(m.group(2)), float(m.group(3)),
                           float(m.group(4))), words))
        pages.append(lines)
    return pages


def overlapping(lines: List[Tuple[Box, str]], share: float = 0.3) -> List[Tuple[str, str]]:
    """Pairs of printed lines whose boxes cover each other by more than ``share`` of the smaller
    one: text printed over text (a row too short for its wrapped text does this)."""
    out = []
    lines = sorted(lines, key=lambda b: b[0][1])
    for i, ((ax0, ay0, ax1, ay1), a) in enumerate(lines):
        for (bx0, by0, bx1, by1), b in lines[i + 1:]:
            if by0 >= ay1:
                break
            w, h = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
            if w > 0 and h > 0:
                small = min((ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0))
                if small > 0 and w * h > share * small:
                    out.append((a, b))
    return out


def pages_per_sheet(texts: List[str], footer: str) -> Dict[str, int]:
    """Pages per sheet, read from each page's footer (``<footer>·<sheet>`` or ``<footer>（``)."""
    out: Dict[str, int] = {}
    for t in texts:
        m = re.search(re.escape(footer) + r"(?:·(\S+)|（)", t)
        if m:
            name = m.group(1) or "汇总"
            out[name] = out.get(name, 0) + 1
    return out


def cjk_sizes(pdf: Path) -> List[List[Tuple[float, str]]]:
    """Per page, the printed size in points of every word made only of CJK ideographs (each
    one em wide, so the word's width over its length is the size it prints at)."""
    pages = []
    for page in _bbox_pages(pdf, "-bbox"):
        sizes = []
        for m in re.finditer(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" '
                             r'yMax="[\d.]+">([\u4e00-\u9fff]{2,})</word>', page):
            sizes.append(((float(m.group(2)) - float(m.group(1))) / len(m.group(3)), m.group(3)))
        pages.append(sizes)
    return pages
