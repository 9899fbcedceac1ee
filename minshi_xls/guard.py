"""Untrusted files: cheap checks before anything parses them, and parsing where a crash is harmless.

Returns come from outside. A 5 KB xlsx with values at A1 and XFD1048576 makes python-calamine
allocate 512 GB and abort the whole process (SIGABRT, not an exception); a 2 GB text node makes
openpyxl run for a minute and then raise MemoryError. So every file passes :func:`inspect`
(magic bytes, zip member sizes and ratios checked *before* decompressing, DOCTYPE/ENTITY, the
extent of cells that carry a value, macros), and is then parsed in a :class:`WorkerPool` process
with an address-space and a time limit: a crash or a runaway becomes that file's issue and the
run goes on.
"""
from __future__ import annotations

import contextlib
import io
import multiprocessing
import faulthandler
import functools
import os
import pickle
import posixpath
import re
import signal
import sys
import time
import zipfile
import zlib
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import wait as _wait
from typing import Callable, Deque, Dict, Iterable, Iterator, List, Optional, Tuple

import defusedxml  # noqa: F401  (asserted at start-up: openpyxl then parses with it)
import openpyxl.xml

from minshi_xls import settings

assert openpyxl.xml.DEFUSEDXML, "openpyxl must parse with defusedxml (OPENPYXL_DEFUSEDXML=True)"

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_ENC_INFO = "EncryptionInfo".encode("utf-16-le")
_OLE_VBA = "_VBA_PROJECT_CUR".encode("utf-16-le")
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_READ_CHUNK = 1 << 20
#: A member this small cannot be a bomb whatever its ratio (an all-blank styles part compresses
#: 50x); the ratio limit applies above it.
_RATIO_MIN_BYTES = 1 << 20



def limits_from(config: Optional[dict]) -> dict:
    """The ``limits`` section of a loaded config (defaults when none)."""
    out = dict(settings.DEFAULTS["limits"])
    out.update((config or {}).get("limits", {}))
    return out


def col_number(letters: bytes | str) -> int:
    """"A" -> 1, "XFD" -> 16384."""
    n = 0
    for ch in letters if isinstance(letters, str) else letters.decode():
        n = n * 26 + ord(ch) - 64
    return n


@dataclass
class Inspection:
    """What the guard found: the real format and file-level findings as (code, detail)."""

    format: str  # xlsx | xlsm | xlsb | ods | xls | unknown
    findings: List[Tuple[str, str]] = field(default_factory=list)
    #: sheet XML members (xlsx) whose value extent was checked; name -> (max row, max col)
    extents: Dict[str, Tuple[int, int]] = field(default_factory=dict)
    #: the workbook, rels and sheet parts already decompressed (the reader looks at the sheet
    #: XML of empty input cells; decompressing twice would cost a quarter of a read)
    parts: Dict[str, bytes] = field(default_factory=dict)

    @property
    def fatal(self) -> bool:
        return any(code in FATAL_CODES for code, _ in self.findings)


FATAL_CODES = ("file-unreadable", "file-encrypted", "file-too-large")


def sniff(data: bytes) -> str:
    """The format from the bytes (never the extension: renamed files are common)."""
    if data.startswith(OLE_MAGIC):
        return "ole"
    if data.startswith(ZIP_MAGIC) or data.startswith(b"PK\x05\x06"):
        return "zip"
    return "unknown"


def inspect(data: bytes, limits: Optional[dict] = None) -> Inspection:
    """Pre-open checks; cheap (no sheet is parsed) and safe (nothing is decompressed unbounded)."""
    lim = limits or limits_from(None)
    if len(data) > lim["max_file_bytes"]:
        detail = f"文件 {len(data) // 1024} KB，上限 {lim['max_file_bytes'] // 1024} KB"
        return Inspection("unknown", [("file-too-large", detail)])
    kind = sniff(data)
    if kind == "ole":
        if _ENC_INFO in data:  # OOXML with an open password is an OLE container
            return Inspection("xlsx", [("file-encrypted", "")])
        found = [("macro-present", "")] if _OLE_VBA in data else []
        return Inspection("xls", found + _ole_findings(data))
    if kind == "zip":
        return _inspect_zip(data, lim)
    return Inspection("unknown", [("file-unreadable", not_a_workbook(data))])


#: What people send as a "spreadsheet" that is none we read, by its first bytes: the clerk is
#: told what the file is, so the unit knows what to re-save (the bytes decide, not the name).
_OTHER_KINDS = (
    (re.compile(rb"\x09[\x00\x02\x04]\x04?[\x04\x06]\x00"),
     "Excel 2.x–4.0 的旧版 .xls 格式，需用 Excel 或 WPS 另存为 .xlsx"),
    (re.compile(rb"\x09\x08[\x06\x08\x10]\x00"), "没有 Office 文件结构的 Excel 数据（其他软件导出），需用 Excel 或 WPS 另存为 .xlsx"),
    (re.compile(rb"%PDF-"), "PDF 文件"),
    (re.compile(rb"(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html|table)", re.I),
     "网页（HTML）格式，只是扩展名为表格"),
    (re.compile(rb"(?:\xef\xbb\xbf)?\s*<\?xml[^>]*>\s*<\?mso-application\s+progid=\"Excel", re.I),
     "Excel 2003 XML 表格"),
    (re.compile(rb"(?:\xef\xbb\xbf)?\s*<\?xml[^>]*>\s*<office:document\b", re.I),
     "单文件 XML 格式的 ODS 表格（.fods）"),
)


def not_a_workbook(data: bytes) -> str:
    """The file-unreadable detail of bytes that are no workbook: what they are, when known."""
    if not data:
        return "空文件（0 字节）"
    head = data[:512]
    for pattern, what in _OTHER_KINDS:
        if pattern.match(head):
            return what
    return "不是 Excel/WPS/ODS 表格文件"


#: BIFF record ids met before the first sheet (BOUNDSHEET) in a workbook stream.
_FILEPASS, _BOUNDSHEET, _EOF = 0x002F, 0x0085, 0x000A
_WORKBOOK_STREAMS = ("workbook", "book")


def _ole_findings(data: bytes) -> List[Tuple[str, str]]:
    """An .xls with an open password (its FILEPASS record, RC4 or XOR obfuscation) is
    ``file-encrypted``; an OLE file without a workbook stream (a Word .doc, a broken directory)
    is ``file-unreadable``. A directory olefile cannot parse is left to the reader to judge."""
    import olefile
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:  # bytes < 1.5 KB would be a path
            names = ["/".join(e) for e in ole.listdir()]
            book = next((n for n in names if n.lower() in _WORKBOOK_STREAMS), None)
            if book is None:
                return [("file-unreadable", "Office 97-2003 文件中找不到工作簿（结构损坏，或是 Word 等其他文档）")]
            with ole.openstream(book) as f:
                head = f.read(4096)
    except Exception:  # noqa: BLE001 - olefile raises many kinds on hostile directories
        return []
    pos = 0
    for _ in range(64):
        if pos + 4 > len(head):
            break
        rid, size = int.from_bytes(head[pos:pos + 2], "little"), \
            int.from_bytes(head[pos + 2:pos + 4], "little")
        if rid == _FILEPASS:
            return [("file-encrypted", "")]
        if rid in (_BOUNDSHEET, _EOF):
            break
        pos += 4 + size
    return []


def _inspect_zip(data: bytes, lim: dict) -> Inspection:
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as e:
        return Inspection("unknown", [("file-unreadable", f"压缩包损坏：{e}")])
    names = {i.filename: i for i in infos}
    mime = names.get("mimetype")
    if "xl/workbook.xml" in names:
        fmt = "xlsx"
    elif "xl/workbook.bin" in names:
        fmt = "xlsb"  # Excel's binary workbook: calamine reads it; its cells are checked there
    elif "content.xml" in names and mime is not None and mime.file_size < 200 \
            and _read_member(z, mime).startswith(_ODS_MIME):
        fmt = "ods"
        manifest = names.get("META-INF/manifest.xml")
        if manifest is not None and manifest.file_size < (1 << 20) and \
                b"encryption-data" in _read_member(z, manifest):
            return Inspection("ods", [("file-encrypted", "")])  # an .ods with a password
    else:
        return Inspection("unknown", [("file-unreadable", _zip_kind(names))])
    ins = Inspection(fmt)
    total = sum(i.file_size for i in infos)
    if total > lim["max_uncompressed_bytes"]:
        ins.findings.append(("file-too-large", f"解压后 {total // (1 << 20)} MB"))
        return ins
    for i in infos:
        if i.file_size >= _RATIO_MIN_BYTES and \
                i.file_size > lim["max_compression_ratio"] * max(i.compress_size, 1):
            ins.findings.append(("file-too-large",
                                 f"{i.filename} 压缩比 {i.file_size // max(i.compress_size, 1)}:1"))
            return ins
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        ins.format = "xlsm" if fmt == "xlsx" else fmt
        ins.findings.append(("macro-present", ""))
    rels_info = names.get("xl/_rels/workbook.xml.rels")
    sheets, rels = _sheet_parts(z, rels_info)
    for i in infos:
        sheet = i.filename.startswith("xl/worksheets/") or i.filename in sheets
        if not (sheet or i.filename.endswith((".xml", ".rels"))):
            continue
        full = sheet or i.filename in _FULL_PARTS
        try:
            if i is rels_info and rels is not None:
                body = rels  # already read whole by _sheet_parts
            else:
                body = _read_member(z, i) if full else _read_prolog(z, i)
        except _TooLarge as e:
            ins.findings.append(("file-too-large", str(e)))
            return ins
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, RuntimeError) as e:
            # zlib errors, CRC mismatch, truncation, a member that is itself encrypted
            ins.findings.append(("file-unreadable", f"{i.filename} 损坏：{e}"))
            return ins
        if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
            ins.findings.append(("file-unreadable", f"{i.filename} 含有 DOCTYPE/ENTITY 声明"))
            return ins
        if i.filename in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels") or \
                i.filename in _SAVED_PARTS:
            ins.parts[i.filename] = body
        if sheet:
            ins.parts[i.filename] = body
            rows, cols = _value_extent(body, lim)
            ins.extents[i.filename] = (rows, cols)
            if rows > lim["max_rows"] or cols > lim["max_cols"]:
                ins.findings.append(("file-too-large",
                                     f"工作表数据区域达 {rows} 行 × {cols} 列"))
                return ins
    return ins


class _TooLarge(Exception):
    pass


_RELATIONSHIP = re.compile(rb"<(?:[\w.-]+:)?Relationship\b[^>]*>")
_REL_ATTR = re.compile(rb'\b(Type|Target)\s*=\s*"([^"]*)"')


def _sheet_parts(z: zipfile.ZipFile, rels: Optional[zipfile.ZipInfo]
                 ) -> Tuple[frozenset, Optional[bytes]]:
    """The worksheet parts the workbook's rels name, wherever they lie: calamine follows the
    rels, so a sheet outside ``xl/worksheets/`` must not escape the value-extent check. Also
    the rels body (None when unread), so the member loop does not decompress it again; a rels
    part that cannot be read is reported by the member loop."""
    try:
        body = _read_member(z, rels) if rels is not None else None
    except (_TooLarge, zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError,
            RuntimeError):
        return frozenset(), None
    if body is None:
        return frozenset(), None
    parse = _worksheet_targets if len(body) <= _RELS_CACHED_BYTES else \
        _worksheet_targets.__wrapped__
    return parse(body), body


#: Rels parts up to this size are parsed once per run (every return of a template has the same).
_RELS_CACHED_BYTES = 16 * 1024


@functools.lru_cache(maxsize=64)
def _worksheet_targets(body: bytes) -> frozenset:
    out = set()
    for m in _RELATIONSHIP.finditer(body):
        attrs = dict(_REL_ATTR.findall(m.group(0)))
        if attrs.get(b"Type", b"").endswith(b"/worksheet"):
            target = attrs.get(b"Target", b"").decode("utf-8", "replace")
            out.add(target.lstrip("/") if target.startswith("/")
                    else posixpath.normpath("xl/" + target))
    return frozenset(out)


def _zip_kind(names: Dict[str, zipfile.ZipInfo]) -> str:
    """What a zip without a workbook part is, for the clerk (the unit re-saves it as .xlsx)."""
    lower = {n.lower().replace("\\", "/") for n in names}
    if any(("/" + n).endswith("/index.zip") or ("/index/" in "/" + n and n.endswith(".iwa"))
           for n in lower):
        return "Apple Numbers 表格"
    if "word/document.xml" in lower:
        return "Word 文档"
    if "ppt/presentation.xml" in lower:
        return "PowerPoint 演示文稿"
    if "xl/workbook.xml" in lower or "xl/workbook.bin" in lower:
        return "压缩包的内部路径不规范（如用反斜杠），Excel 修复后另存为 .xlsx 即可"
    return "压缩包中没有工作簿"


#: Parts read whole (the reader may look into them); of the others (styles, theme, document
#: properties) only the prolog is read, which is where a DOCTYPE must stand.
#: the workbook's own saved time (versions.saved_time): small, kept whole
_SAVED_PARTS = ("docProps/core.xml", "meta.xml")
_FULL_PARTS = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "content.xml") + _SAVED_PARTS
_PROLOG_BYTES = 4096
_ROOT_START = re.compile(rb"<[A-Za-z_]")


def _read_prolog(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The member's start up to its root element. A prolog longer than 4 KB is refused: no
    office suite writes one, and a DOCTYPE hidden behind it would otherwise go unseen."""
    with z.open(info) as f:
        head = f.read(_PROLOG_BYTES)
    m = _ROOT_START.search(head)
    if m is None and len(head) >= _PROLOG_BYTES:
        return b"<!DOCTYPE (prolog too long)"
    return head[:m.start()] if m else head


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Decompress a member, never past its declared size (a lying header is a bomb)."""
    with z.open(info) as f:
        body = f.read(info.file_size + 1)
    if len(body) > info.file_size:
        raise _TooLarge(f"{info.filename} 实际大小超过声明的 {info.file_size} 字节")
    return body


def _candidates(limits: dict) -> "re.Pattern[bytes]":
    """Cell refs that could lie beyond the limits: as many row digits as ``max_rows`` has, or
    as many column letters as ``max_cols`` needs. Searching only for those (a literal-led
    pattern) is 5x faster than visiting every cell; a normal return has no candidate at all."""
    digits = len(str(int(limits["max_rows"])))
    letters = len(col_letters(int(limits["max_cols"])))
    key = (digits, letters)
    if key not in _CANDIDATE_CACHE:
        _CANDIDATE_CACHE[key] = re.compile(
            rb'r="(?:([A-Z]{%d,})([0-9]+)|([A-Z]+)([0-9]{%d,}))"' % (letters, digits))
    return _CANDIDATE_CACHE[key]


_CANDIDATE_CACHE: Dict[tuple, "re.Pattern[bytes]"] = {}


def col_letters(n: int) -> str:
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out or "A"


def _holds_value(xml: bytes, pos: int) -> bool:
    """Whether the attribute at ``pos`` belongs to a <c> element that carries a value or a
    formula (a styled empty cell, self-closed or not, is harmless: the reader skips it)."""
    if xml[pos - 1:pos] not in (b" ", b"\t", b"\n", b"\r"):
        return False
    start = xml.rfind(b"<", 0, pos)
    if not CELL_START.match(xml, start):
        return False
    end = xml.find(b">", pos)
    if end < 0 or xml[end - 1:end] == b"/":
        return False
    return bool(_VALUE_CHILD.match(xml, end + 1))


#: A cell element and its value or formula child, with or without a namespace prefix (<x:c>):
#: calamine reads prefixed sheets, so a prefix must not hide a far corner cell from the guard.
CELL_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[ \t\r\n]")
_VALUE_CHILD = re.compile(rb"\s*<(?:[A-Za-z_][\w.-]*:)?(?:v|f|is)[\s>/]")


def _value_extent(xml: bytes, limits: Optional[dict] = None) -> Tuple[int, int]:
    """(last row, last column) of the value cells that may exceed the limits ((0, 0) when none
    can); the declared <dimension> is ignored on purpose: a sheet formatted down to row
    1,048,576 is harmless, values out there are not (the reader allocates the whole
    rectangle between the first and the last value)."""
    max_row = max_col = 0
    for m in _candidates(limits or limits_from(None)).finditer(xml):
        if not _holds_value(xml, m.start()):
            continue
        letters, digits = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        max_row = max(max_row, int(digits))
        max_col = max(max_col, col_number(letters))
    return max_row, max_col


# --- the worker pool --------------------------------------------------------------------------

def _address_space() -> int:
    """Bytes of address space this process already has (a forked worker inherits the parent's,
    files included): the limit is set on top of it, so it bounds what one file may cost."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _set_limits(memory_mb: float) -> None:
    try:
        import resource
        cap = _address_space() + int(memory_mb * (1 << 20))
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - non-POSIX
        pass


def _die_with_parent(parent: int) -> None:
    """End this worker when the parent ends, even by SIGKILL: on Linux the kernel sends it
    SIGKILL (PR_SET_PDEATHSIG); elsewhere the closed pipe ends it once the job at hand is done.
    (A sibling worker forked later holds the parent's end of the pipe too, so EOF alone does
    not come while that sibling lives.)"""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError, TypeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)


def _worker_main(conn, fn, memory_mb, parent=None):
    if parent is not None:
        _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    os.environ["RUST_BACKTRACE"] = "0"
    _set_limits(memory_mb)
    # A Rust abort prints its message on fd 2, and openpyxl prints "0 is out of range" on
    # fd 1 for a bad style index; the parent reports the file instead, and its own output
    # (the table, --json to /dev/stdout) stays clean.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = open(os.devnull, "w")  # also when sys.stdout is not fd 1 (a captured run)
    faulthandler.disable()  # an inherited handler would still dump the crash to the terminal
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        key, args = job
        try:
            result = fn(*args)
        except MemoryError:
            result = crash_result("file-too-large", "读取时内存超出上限")
        except Exception as e:  # noqa: BLE001 - a parser bug on one file must not stop the run
            result = crash_result("file-unreadable", f"{type(e).__name__}: {e}"[:200])
        try:
            conn.send((key, result))
        except (BrokenPipeError, OSError):
            return


class TimeLimit(BaseException):
    """Raised by :func:`time_limit` (a BaseException, so a library's ``except Exception``
    cannot swallow it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Stop pure-Python work in this worker after ``seconds`` (SIGALRM): a step whose overrun
    must cost only itself (the annotated copy), not the whole job, which the pool's timeout
    would replace by ``file-too-large``. Outside the main thread there is no alarm: no limit."""
    if seconds <= 0:
        raise TimeLimit()

    def alarm(signum, frame):
        raise TimeLimit()
    try:
        before = signal.signal(signal.SIGALRM, alarm)
    except ValueError:  # not the main thread
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


def crash_result(code: str, detail: str) -> dict:
    """The result of a file whose parsing failed outside the parser's own error handling."""
    return {"format": "unknown", "findings": [(code, detail)], "workbook": None}


class _Worker:
    def __init__(self, ctx, fn, memory_mb):
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, fn, memory_mb, os.getpid()),
                                daemon=True)
        self.proc.start()
        child.close()
        #: jobs sent and not answered, oldest first: [key, payload, started or None]
        self.queue: Deque[list] = deque()

    def kill(self):
        try:
            self.proc.kill()
        except (OSError, AttributeError):
            pass
        self.proc.join(5)
        self.conn.close()


#: A second job is queued to a busy worker only when it is this small: it then fits the pipe's
#: buffer, so sending it never waits for the worker (no deadlock with a large result coming
#: back), and the worker starts on it the moment it has answered, not when the parent has
#: recorded the answer.
PREFETCH_BYTES = 64 * 1024


class WorkerPool:
    """Long-lived worker processes (one per core by default), each with memory and time limits.

    Unlike ProcessPoolExecutor, one crashed or stuck job costs only that job: the worker is
    killed and replaced, the job gets a file-level result, the jobs queued behind it are sent
    again, and the other jobs carry on.
    """

    def __init__(self, fn: Callable[..., dict], workers: Optional[int] = None,
                 limits: Optional[dict] = None):
        self.fn = fn
        self.limits = limits or limits_from(None)
        self.n = max(1, workers or min(2, os.cpu_count() or 1))
        methods = multiprocessing.get_all_start_methods()
        self.ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.workers: List[_Worker] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _spawn(self) -> _Worker:
        return _Worker(self.ctx, self.fn, self.limits["worker_memory_mb"])

    def close(self):
        for w in self.workers:
            try:
                w.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        for w in self.workers:
            w.proc.join(2)
            if w.proc.is_alive():
                w.kill()
            else:
                w.conn.close()
        self.workers = []

    def imap(self, jobs: Iterable[tuple]) -> Iterator[Tuple[int, dict]]:
        """Run ``fn(*job)`` for each job; yield (index, result) in completion order."""
        pending = iter(enumerate(jobs))
        retry: Deque[tuple] = deque()  # (key, payload) of jobs a dead worker never started
        timeout = float(self.limits["worker_timeout_s"])
        while len(self.workers) < self.n:
            self.workers.append(self._spawn())
        exhausted = False

        def next_job() -> Optional[tuple]:
            nonlocal exhausted
            if retry:
                return retry.popleft()
            if exhausted:
                return None
            try:
                key, args = next(pending)
            except StopIteration:
                exhausted = True
                return None
            return key, pickle.dumps((key, args), protocol=pickle.HIGHEST_PROTOCOL)

        held: List[tuple] = []  # a job too large to queue behind a busy worker

        def feed(w: _Worker) -> None:
            while len(w.queue) < 2:
                job = held.pop() if held else next_job()
                if job is None:
                    return
                if w.queue and len(job[1]) > PREFETCH_BYTES:
                    held.append(job)
                    return
                w.conn.send_bytes(job[1])
                w.queue.append([job[0], job[1], None if w.queue else time.monotonic()])

        def restart(w: _Worker) -> _Worker:
            for key, payload, _ in list(w.queue)[1:]:
                retry.append((key, payload))
            new = self._replace(w)
            feed(new)
            return new

        for w in self.workers:
            feed(w)
        while any(w.queue for w in self.workers):
            busy = {w.conn: w for w in self.workers if w.queue}
            now = time.monotonic()
            deadline = min(w.queue[0][2] + timeout for w in busy.values())
            ready = _wait(list(busy), timeout=max(0.0, deadline - now) + 0.01)
            for conn in ready:
                w = busy[conn]
                key = w.queue[0][0]
                try:
                    got_key, result = conn.recv()
                except (EOFError, OSError):  # the worker died: SIGABRT in a parser, OOM kill
                    restart(w)
                    yield key, crash_result("file-unreadable", "读取时解析程序异常终止")
                    continue
                w.queue.popleft()
                if w.queue:
                    w.queue[0][2] = time.monotonic()
                feed(w)  # before yielding: the worker parses while the caller records
                for other in self.workers:  # a held large job may go to an idle worker
                    if not other.queue:
                        feed(other)
                yield got_key, result
            now = time.monotonic()
            for w in list(self.workers):
                if w.queue and w.queue[0][2] is not None and now - w.queue[0][2] > timeout:
                    key = w.queue[0][0]
                    restart(w)
                    yield key, crash_result("file-too-large", f"读取超过 {timeout:g} 秒")
            for w in self.workers:
                if not w.queue and (held or retry):
                    feed(w)

    def _replace(self, w: _Worker) -> _Worker:
        w.kill()
        new = self._spawn()
        self.workers[self.workers.index(w)] = new
        return new
