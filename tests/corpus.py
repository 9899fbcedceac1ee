"""An adversarial corpus of returns: each case is a real template of the bundled notice, filled
as a bureau fills it (openpyxl; LibreOffice where it matters), then given one mistake or one
hostile twist, with the (code, sheet, cell) it must come out with and the status of the file.

A case's ``edit(book)`` makes the change and returns what to expect: a list of
``(code, sheet, cell)`` or a dict ``{"issues": [...], "numbers": {(sheet, cell): n},
"message": "text in some message"}``. :func:`run` builds every case into one folder and checks
them all in one guarded pool (``collect.check_items``), so a corpus of 50 stays quick.
"""
from __future__ import annotations

import copy
import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from minshi_xls import collect
from minshi_xls import columns as C
from minshi_xls import issues as I
from minshi_xls.model import Incoming
from test_collect_support import ON_TIME, PERIOD, cells, fill, soffice_convert, template
from test_collect_support import master as bundled

LEAD, CO = C.SHEET_LEAD, C.SHEET_CO
#: registered addresses for the cases about senders (the bundled registry has none)
EMAILS = {"市卫健委": "wjw@lyg.example", "市教育局": "jyj@lyg.example"}


@functools.lru_cache(maxsize=None)
def master():
    m = copy.deepcopy(bundled())
    for unit, addr in EMAILS.items():
        m.registry.get(unit).email = addr
    return m


class Book:
    """A filled workbook being spoiled, addressed the way a test thinks: the n-th indicator row
    of a sheet (in template order) and a header text."""

    def __init__(self, wb):
        self.wb = wb
        self._sheets = {s: wb[s] for s in (LEAD, CO) if s in wb.sheetnames}  # kept if renamed
        self._layout = {s: cells(ws) for s, ws in self._sheets.items()}

    def ws(self, sheet: str = LEAD):
        return self._sheets[sheet]

    def header_row(self, sheet: str = LEAD) -> int:
        return C.HEADER_ROW

    def ids(self, sheet: str = LEAD) -> List[str]:
        return list(self._layout[sheet][1])

    def id(self, n: int, sheet: str = LEAD) -> str:
        return self.ids(sheet)[n]

    def row(self, n: int, sheet: str = LEAD) -> int:
        return self._layout[sheet][1][self.id(n, sheet)]

    def col(self, header: str, sheet: str = LEAD) -> int:
        return self._layout[sheet][0][header]

    def letter(self, header: str, sheet: str = LEAD) -> str:
        return C.col_letter(self.col(header, sheet) - 1)

    def ref(self, header: str, n: int, sheet: str = LEAD) -> str:
        return f"{self.letter(header, sheet)}{self.row(n, sheet)}"

    def put(self, header: str, n: int, value, sheet: str = LEAD) -> str:
        self.ws(sheet).cell(self.row(n, sheet), self.col(header, sheet)).value = value
        return self.ref(header, n, sheet)

    def get(self, header: str, n: int, sheet: str = LEAD):
        return self.ws(sheet).cell(self.row(n, sheet), self.col(header, sheet)).value

    def retitle(self, header: str, text: str, sheet: str = LEAD) -> str:
        """Retype a header cell; its A1 reference."""
        c = self.ws(sheet).cell(C.HEADER_ROW, self.col(header, sheet))
        c.value = text
        return c.coordinate

    def first(self, predicate, sheet: str = LEAD) -> int:
        """The first indicator row (n) whose master indicator satisfies ``predicate``."""
        for n, ind_id in enumerate(self.ids(sheet)):
            if predicate(master().indicator(ind_id)):
                return n
        raise LookupError("no such row in this unit's workbook")


@dataclass
class Case:
    name: str
    edit: Optional[Callable[[Book], object]] = None
    unit: str = "市卫健委"
    status: str = "accepted"
    #: the file's name (default: the template's own, 2024-06_<unit>_民生实事填报表.xlsx)
    file_name: Optional[str] = None
    period: str = PERIOD  # the template's month
    filled: bool = True  # False: the template's bytes exactly as ``templates`` wrote them
    registered: bool = False  # the template's bytes are in the ledger's ``generated`` table
    sender: Optional[str] = None
    folder: str = ""  # folders above the file in its source path
    convert: Optional[str] = None  # re-saved by LibreOffice as "xlsx" or "ods"
    #: errors beyond the expected ones are tolerated (a hostile case whose side effects vary)
    loose: bool = False


@dataclass
class Outcome:
    case: Case
    expected: set
    numbers: Dict[tuple, float] = field(default_factory=dict)
    message: Optional[str] = None
    evaluation: Optional[collect.Evaluation] = None


def _expectation(got) -> tuple:
    if got is None:
        return set(), {}, None
    if isinstance(got, dict):
        return set(got.get("issues", ())), dict(got.get("numbers", {})), got.get("message")
    return set(got), {}, None


def build(case: Case, folder: Path) -> tuple:
    """(Incoming, Outcome, sha of the bytes ``templates`` wrote) for one case."""
    src = template(folder / "_t", case.unit, case.period)
    name = case.file_name or C.file_name(PERIOD, case.unit)
    out = folder / case.name / name
    holder: dict = {}
    if case.filled:
        def edit(wb):
            book = Book(wb)
            holder["got"] = case.edit(book) if case.edit else None
            if book.wb is not wb:  # the case re-typed everything into a new workbook
                holder["replacement"] = book.wb
        fill(src, out, edit=edit)
        if "replacement" in holder:
            holder["replacement"].save(out)
    else:  # the bytes as written; ``edit(None)`` only says what to expect
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(src.read_bytes())
        holder["got"] = case.edit(None) if case.edit else None
    if case.convert:
        conv = soffice_convert(out, case.convert, folder / case.name / "_conv")
        out = conv
        name = conv.name
    issues, numbers, message = _expectation(holder.get("got"))
    source = "/".join(p for p in (case.name, case.folder, name) if p)
    item = Incoming(name, out.read_bytes(), source, sender=case.sender,
                    message_id=f"<{case.name}@corpus>" if case.sender else None,
                    received_at=ON_TIME)
    sha = hashlib.sha256(src.read_bytes()).hexdigest() if case.registered else None
    return item, Outcome(case, issues, numbers, message), sha


def run(cases: List[Case], folder: Path) -> Dict[str, Outcome]:
    """Build and check every case in one pool; name -> outcome with its evaluation."""
    built = [build(c, Path(folder)) for c in cases]
    generated = frozenset(sha for _, _, sha in built if sha)
    report = collect.check_items([b[0] for b in built], master(), config={}, period=PERIOD,
                                 generated=generated)
    by_source = {ev.item.source_path: ev for ev in report.stats["evaluations"]}
    out = {}
    for item, outcome, _ in built:
        outcome.evaluation = by_source[item.source_path]
        out[outcome.case.name] = outcome
    return out


def verify(o: Outcome) -> None:
    """The case's expected issues are there at their cells, no other error is, the status is
    the expected one, and the named figures were read as the numbers given."""
    ev = o.evaluation
    shown = [i for i in ev.issues if i.severity in (I.ERROR, I.WARNING)]
    found = {(i.code, i.sheet, i.cell) for i in shown}
    listing = sorted((i.code, i.sheet, i.cell, i.message) for i in shown)
    assert o.expected <= found, listing
    if not o.case.loose:
        errors = {(i.code, i.sheet, i.cell) for i in shown if i.severity == I.ERROR}
        assert errors <= o.expected, listing
    assert ev.status == o.case.status, (ev.status, listing)
    if o.numbers:
        read = {(v[0], v[1]): v[5] for v in ev.values if v[6]}
        for where, number in o.numbers.items():
            assert read.get(where) == number, (where, read.get(where))
    if o.message:
        assert any(o.message in i.message for i in ev.issues), listing
