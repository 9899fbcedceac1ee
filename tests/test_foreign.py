"""The foreign corpus: 152 odd spreadsheet files from other readers' and writers' test suites
(calamine, Apache POI, SheetJS, ExcelDataReader, PhpSpreadsheet, …; ``SOURCES.md`` beside them
names each). None is a return, so ``minshi check`` and ``minshi collect`` must give each one an
error issue of its own and archive it byte for byte: never a traceback, a hang, exit 2, or a file
that silently disappears. Valid workbooks among them must be unidentified, never accepted.

The files belong to their projects and are read where they lie (``MINSHI_FOREIGN``, else
``<repo>/../shared/foreign`` as CI has it, else ``/work/shared/foreign``), never copied here.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from minshi_xls.cli import cli

REPO = Path(__file__).resolve().parents[1]


def _corpus() -> Path | None:
    for p in (os.environ.get("MINSHI_FOREIGN"), REPO.parent / "shared" / "foreign",
              "/work/shared/foreign"):
        if p and (Path(p) / "SOURCES.md").is_file():
            return Path(p)
    return None


FOREIGN = _corpus()
pytestmark = pytest.mark.skipif(FOREIGN is None, reason="no foreign corpus (../shared/foreign)")

#: The file-level errors a file that is no return may get (docs/collect.md, Rules).
FILE_ERRORS = {"file-unreadable", "file-encrypted", "file-too-large", "unidentified-return"}


@pytest.fixture(scope="module")
def files() -> list:
    got = sorted(p for p in FOREIGN.rglob("*") if p.is_file() and p.name != "SOURCES.md")
    listed = (FOREIGN / "SOURCES.md").read_text(encoding="utf-8")
    assert f"{len(got)} files." in listed  # the corpus as SOURCES.md describes it
    return got


def _sources() -> dict:
    """file -> (kind, why) from SOURCES.md's table."""
    out = {}
    for line in (FOREIGN / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and "/" in cells[0] and cells[0] != "file":
            out[cells[0]] = (cells[3], cells[5])
    return out


#: What the bytes are (SOURCES.md's kind, or its why) -> the one code they must get.
_LOCKED = ("encrypt", "password", "xor", "rc4")
_BROKEN_KINDS = {"biff2-4", "zip-broken", "zip-other", "empty", "other", "numbers", "xml"}


def _expected(kind: str, why: str) -> str | None:
    if kind == "ooxml-encrypted" or any(w in why.lower() for w in _LOCKED):
        return "file-encrypted"
    return "file-unreadable" if kind in _BROKEN_KINDS else None


def _by_file(issues: list) -> dict:
    out: dict = {}
    for i in issues:
        out.setdefault(i["file"], []).append(i)
    return out


def _assert_each_file_is_an_error(files, issues):
    by_file = _by_file(issues)
    wrong = {}
    for f in files:
        errors = [i["code"] for i in by_file.get(str(f), []) if i["severity"] == "error"]
        if not errors or not set(errors) <= FILE_ERRORS:
            wrong[f.relative_to(FOREIGN).as_posix()] = errors
    assert not wrong, wrong
    assert set(by_file) == {str(f) for f in files}  # nothing else, nothing from inside a file
    sources = _sources()
    assert set(sources) == {f.relative_to(FOREIGN).as_posix() for f in files}
    for name, (kind, why) in sources.items():
        want = _expected(kind, why)
        codes = {i["code"] for i in by_file[str(FOREIGN / name)]}
        assert want is None or want in codes, (name, kind, codes)
        assert ("file-encrypted" in codes) == (want == "file-encrypted"), (name, kind, codes)


def _run(args, tmp_path):
    result = CliRunner().invoke(cli, args, catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exc_info
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output[-2000:]
    return result


def test_collect_gives_every_foreign_file_an_error_and_keeps_it_byte_for_byte(
        files, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "out" / "minshi.sqlite"
    _run(["collect", str(FOREIGN), "--period", "2024-06", "--db", str(db),
          "--received", "2024-07-03T10:00", "--json", str(tmp_path / "c.json")], tmp_path)
    report = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    _assert_each_file_is_an_error(files, report["issues"])
    assert len(report["files"]) == len(files)
    assert {r["status"] for r in report["files"]} == {"unidentified"}  # none counts for a unit
    con = sqlite3.connect(db)
    kept = dict(con.execute(
        "SELECT r.source_path, f.archive_path FROM receipts r JOIN files f ON f.id = r.file_id"))
    for f in files:
        data = f.read_bytes()
        rel = kept.get(str(f))
        assert rel, f
        copy = (db.parent / rel).read_bytes()
        assert hashlib.sha256(copy).digest() == hashlib.sha256(data).digest(), f
    assert con.execute("SELECT COUNT(*) FROM values_v").fetchone()[0] == 0  # no figure taken
    codes = Counter(i["code"] for i in report["issues"])
    print("collect codes:", dict(codes.most_common()))


def test_check_gives_every_foreign_file_an_error(files, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _run(["check", *map(str, files), "--json", str(tmp_path / "k.json")], tmp_path)
    report = json.loads((tmp_path / "k.json").read_text(encoding="utf-8"))
    _assert_each_file_is_an_error(files, report["issues"])
    assert "可以接收" not in result.output
