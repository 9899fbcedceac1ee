"""The ledger and the archive when the machine or the archive misbehaves: faults of this machine
are exit 2 with a Chinese message naming the path and leave the ledger consistent (the next run
finishes the job); workers end with their parent; archives as people make them (macOS and
Windows litter, names too long for the disk, the .zip/.eml itself kept byte for byte).

Faults are made with real means that work as root: a file where a folder must be, an immutable
ledger (chattr +i), a 256 KB tmpfs in a user namespace (a real ENOSPC), /dev/full, RLIMIT_FSIZE
(EFBIG) and SIGKILL."""
from __future__ import annotations

import email.message
import hashlib
import io
import json
import os
import resource
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from minshi_xls import collect, ledger
from minshi_xls import columns as C
from test_collect_support import ON_TIME, PERIOD, fill, master, ref, template

ROOT = Path(__file__).resolve().parents[1]
UNITS = master().reporting_units()[:12]


def returns(tmp_path: Path, units=UNITS, folder="in") -> Path:
    out = tmp_path / folder
    for u in units:
        fill(template(tmp_path, u), out / C.file_name(PERIOD, u))
    return out


def minshi(*args, cwd, limit_fsize=None, timeout=300) -> subprocess.CompletedProcess:
    """The real command in its own process (this worktree's package), as a clerk runs it."""
    def limits():
        if limit_fsize:  # a disk quota: a write past it fails with EFBIG instead of a signal
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_fsize, limit_fsize))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "minshi_xls", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=limits)


def consistent(db: Path) -> dict:
    """The ledger is whole: SQLite's own check, no row pointing nowhere, every file archived
    byte for byte, no half-written file left in the archive. Returns status counts."""
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        if not con.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
            return {}  # stopped before the schema was written: nothing half done
        for sql in ("SELECT COUNT(*) FROM cell_values WHERE return_id NOT IN (SELECT id FROM returns)",
                    "SELECT COUNT(*) FROM issues WHERE return_id NOT IN (SELECT id FROM returns)",
                    "SELECT COUNT(*) FROM returns WHERE receipt_id NOT IN (SELECT id FROM receipts)",
                    "SELECT COUNT(*) FROM receipts WHERE file_id NOT IN (SELECT id FROM files)"):
            assert con.execute(sql).fetchone()[0] == 0, sql
        for sha, rel in con.execute("SELECT sha256, archive_path FROM files"):
            assert hashlib.sha256((db.parent / rel).read_bytes()).hexdigest() == sha, rel
        assert not list((db.parent).rglob("*.part"))
        return dict(con.execute("SELECT status, COUNT(*) FROM returns GROUP BY status"))
    finally:
        con.close()


# --- faults of this machine: the corpus -------------------------------------------------------

def _db_under_a_file(tmp):
    (tmp / "output").write_text("这是一个文件，不是文件夹")
    return ["--db", tmp / "output" / "minshi.sqlite"], tmp / "output", "同名文件"


def _archive_is_a_file(tmp):
    (tmp / "out").mkdir()
    (tmp / "out" / "archive").write_bytes(b"")
    return ["--db", tmp / "out" / "minshi.sqlite"], tmp / "out" / "archive", "同名文件"


def _annotated_is_a_file(tmp):
    (tmp / "out").mkdir()
    (tmp / "out" / "annotated").write_bytes(b"")
    return ["--db", tmp / "out" / "minshi.sqlite"], tmp / "out" / "annotated", "同名文件"


def _json_under_a_file(tmp):
    (tmp / "report").write_bytes(b"")
    return (["--db", tmp / "out" / "minshi.sqlite", "--json", tmp / "report" / "问题.json"],
            tmp / "report" / "问题.json", "同名文件")


def _json_to_a_full_disk(tmp):
    return ["--db", tmp / "out" / "minshi.sqlite", "--json", "/dev/full"], "/dev/full", "磁盘空间已满"


def _immutable_ledger(tmp):
    db = tmp / "out" / "minshi.sqlite"
    ledger.connect(db).close()
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        pytest.xfail("chattr +i is not supported on this file system")
    return ["--db", db], db, "只读"


def _disk_quota(tmp):
    # whichever file grows past the quota first (the ledger's journal or an archived copy)
    return ["--db", tmp / "out" / "minshi.sqlite"], tmp / "out", "磁盘"


FAULTS = {
    "ledger folder is a file": _db_under_a_file,
    "archive folder is a file": _archive_is_a_file,
    "annotated-copy folder is a file": _annotated_is_a_file,
    "--json folder is a file": _json_under_a_file,
    "--json on a full disk (ENOSPC)": _json_to_a_full_disk,
    "ledger is immutable": _immutable_ledger,
    "file size quota (EFBIG)": _disk_quota,
}


@pytest.mark.parametrize("case", list(FAULTS))
def test_a_fault_of_this_machine_is_exit_2_naming_the_path_and_the_next_run_finishes(
        tmp_path, case):
    src = returns(tmp_path, UNITS[:3])
    # one return with a mistake, so there is an annotated copy to write
    bad = src / C.file_name(PERIOD, UNITS[0])

    def typo(wb):
        ws = wb[C.SHEET_LEAD]
        ws[ref(ws, "本月累计完成", "省-1#1")] = "三家"
    fill(template(tmp_path, UNITS[0]), bad, edit=typo)
    args, path, reason = FAULTS[case](tmp_path)
    fsize = 12_000 if "EFBIG" in case else None
    try:
        got = minshi("collect", src, "--period", PERIOD, "--received", ON_TIME, *args,
                     cwd=tmp_path, limit_fsize=fsize)
    finally:
        subprocess.run(["chattr", "-i", str(tmp_path / "out" / "minshi.sqlite")],
                       capture_output=True)
    assert got.returncode == 2, (got.stdout, got.stderr)
    assert "Traceback" not in got.stderr
    assert str(path) in got.stderr and reason in got.stderr, got.stderr
    db = Path(args[args.index("--db") + 1])
    before = consistent(db) if db.is_file() else {}
    # the ledger is written before the report: then the returns are in, whole
    # the clerk clears the fault; the same command finishes the job
    for blocker in (tmp_path / "output", tmp_path / "out" / "archive",
                    tmp_path / "out" / "annotated", tmp_path / "report"):
        if blocker.is_file():
            blocker.unlink()
    args = [a for a in args if a != "/dev/full"]
    if "--json" in args and args[-1] == "--json":
        args = args[:-1]
    again = minshi("collect", src, "--period", PERIOD, "--received", ON_TIME, *args, cwd=tmp_path)
    # the typo is reported by the run that records it (a rerun only finds them collected)
    assert again.returncode == (0 if before else 1), again.stderr
    assert before in ({}, {"accepted": 3})
    assert consistent(db) == {"accepted": 3}


def test_every_command_reports_a_folder_it_cannot_write_as_exit_2(tmp_path):
    assert minshi("import", cwd=tmp_path).returncode == 0
    (tmp_path / "templates").write_text("")  # a file where the fill-in workbooks' folder goes
    got = minshi("templates", "--period", PERIOD, cwd=tmp_path)
    assert got.returncode == 2 and "Traceback" not in got.stderr, got.stderr
    assert "templates" in got.stderr and "同名文件" in got.stderr


def _namespaced_tmpfs_works() -> bool:
    try:
        return subprocess.run(["unshare", "-Urm", "sh", "-c", "mount -t tmpfs none /mnt"],
                              capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


FULL_DISK = textwrap.dedent("""
    import json, subprocess, sys, sqlite3, pathlib
    inp, disk, period, received = sys.argv[1:5]
    cmd = [sys.executable, "-m", "minshi_xls", "collect", inp, "--period", period,
           "--received", received, "--db", disk + "/minshi.sqlite"]
    first = subprocess.run(cmd, capture_output=True, text=True)
    parts = [str(p) for p in pathlib.Path(disk).rglob("*.part")]
    con = sqlite3.connect(disk + "/minshi.sqlite")
    check = con.execute("PRAGMA integrity_check").fetchone()[0]
    counted = con.execute("SELECT COUNT(*) FROM returns").fetchone()[0]
    con.close()
    if sys.argv[5] == "remount":
        subprocess.run(["mount", "-o", "remount,size=16m", disk], check=True)
    second = subprocess.run(cmd, capture_output=True, text=True)
    con = sqlite3.connect(disk + "/minshi.sqlite")
    archived = all(
        __import__("hashlib").sha256((pathlib.Path(disk) / rel).read_bytes()).hexdigest() == sha
        for sha, rel in con.execute("SELECT sha256, archive_path FROM files"))
    statuses = dict(con.execute("SELECT status, COUNT(*) FROM returns GROUP BY status"))
    print(json.dumps({"first": [first.returncode, first.stderr], "parts": parts,
                      "check": check, "counted": counted, "second": second.returncode,
                      "archived": archived, "statuses": statuses}))
""")


def test_a_full_disk_stops_the_run_cleanly_and_the_next_run_finishes(tmp_path):
    """A 256 KB disk holding the ledger and the archive (tmpfs in a user namespace: a real
    ENOSPC); where that is not allowed, a 256 KB file size quota (EFBIG) instead."""
    src = returns(tmp_path)
    script = tmp_path / "full_disk.py"
    script.write_text(FULL_DISK, encoding="utf-8")
    disk = tmp_path / "disk"
    disk.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if _namespaced_tmpfs_works():
        cmd = ["unshare", "-Urm", "sh", "-c",
               f'mount -t tmpfs -o size=256k none "{disk}" && exec "{sys.executable}" "{script}" '
               f'"{src}" "{disk}" {PERIOD} {ON_TIME} remount']
        reason, preexec = "磁盘空间已满", None
    else:
        cmd = [sys.executable, str(script), str(src), str(disk), PERIOD, ON_TIME, "quota"]
        reason = "磁盘配额已满"

        def preexec():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (256_000, resource.RLIM_INFINITY))
    got = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600,
                         preexec_fn=preexec, cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    out = json.loads(got.stdout.strip().splitlines()[-1])
    code, stderr = out["first"]
    assert code == 2 and "Traceback" not in stderr, stderr
    assert reason in stderr or "磁盘读写出错" in stderr, stderr
    assert str(disk) in stderr  # the ledger or the archive file it could not write
    assert out["parts"] == [] and out["check"] == "ok"
    assert out["counted"] < len(UNITS)  # it really stopped part way
    if preexec is None:  # the space is there now: the same command finishes the job
        assert out["second"] == 0 and out["archived"]
        assert out["statuses"] == {"accepted": len(UNITS)}


# --- workers end with their parent ------------------------------------------------------------

def _children(pid: int):
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except OSError:
        return True


def test_workers_end_when_the_collecting_process_is_killed_and_the_next_run_finishes(tmp_path):
    one = fill(template(tmp_path, "市卫健委"), tmp_path / "r.xlsx")
    src = tmp_path / "in"
    src.mkdir()
    for n in range(400):  # a morning's worth of copies: keeps the workers busy a while
        shutil.copy(one, src / f"{n:03d}_{one.name}")
    db = tmp_path / "out" / "minshi.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "minshi_xls", "collect", str(src), "--period",
                             PERIOD, "--received", ON_TIME, "--db", str(db)], cwd=tmp_path,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = []
    deadline = time.monotonic() + 60
    while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        time.sleep(0.02)
    assert len(workers) == 2, "the run ended before its workers could be seen"
    time.sleep(0.3)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while not all(_gone(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(w) for w in workers), "orphaned workers still running"
    # what the kill left half written goes; a live run's part file is not touched
    folder = db.parent / "archive" / PERIOD / "市卫健委"
    folder.mkdir(parents=True, exist_ok=True)
    dead = folder / f"0123456789ab_x.xlsx.{proc.pid}.part"
    live = folder / f"0123456789ab_y.xlsx.{os.getpid()}.part"
    dead.write_bytes(b"half")
    live.write_bytes(b"being written")
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    again = minshi("collect", src, "--period", PERIOD, "--received", ON_TIME, "--db", db,
                   cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert not dead.exists() and live.exists()
    live.unlink()
    assert consistent(db) == {"accepted": 1, "duplicate": 399}


# --- archives as people make them: the corpus -------------------------------------------------

def apple_double(name: str) -> bytes:
    """The AppleDouble resource fork macOS's Archive Utility stores as __MACOSX/._<name>."""
    attrs = b"ATTR" + b"\0" * 28 + b"com.apple.quarantine\0" + b"0083;66850a2b;Safari;"
    head = struct.pack(">II16sH", 0x00051607, 0x00020000, b"Mac OS X        ", 2)
    entries = struct.pack(">III", 9, 50, 32) + struct.pack(">III", 2, 82, len(attrs))
    return head + entries + b"\0" * 32 + attrs


def zipped(members) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in members:
            z.writestr(name, body)
    return buf.getvalue()


def mailed(attachments, subject="6月民生实事报表") -> bytes:
    msg = email.message.EmailMessage()
    msg["From"] = "市卫健委 <wjw@example.cn>"
    msg["To"] = "office@example.cn"
    msg["Subject"] = subject
    msg["Date"] = "Wed, 03 Jul 2024 10:00:00 +0800"
    msg["Message-ID"] = f"<{abs(hash(subject))}@example.cn>"
    msg.set_content("您好，报表见附件。")
    for name, body in attachments:
        msg.add_attachment(body, maintype="application", subtype="octet-stream", filename=name)
    return bytes(msg)


LONG = ("连云港市卫生健康委员会关于报送二〇二四年六月份民生实事项目推进情况暨半年工作总结及下半年工作"
        "计划的函（附件一：民生实事填报表，已经分管领导审核签字同意，请查收并反馈意见）最终修改版")


def _good(tmp):
    return fill(template(tmp, "市卫健委"), tmp / "src" / "good.xlsx").read_bytes()


def _typo(tmp):
    def edit(wb):
        ws = wb[C.SHEET_LEAD]
        ws[ref(ws, "本月累计完成", "省-1#1")] = "三家"
    out = fill(template(tmp, "市卫健委"), tmp / "src" / "typo.xlsx", edit=edit)
    ws = openpyxl.load_workbook(out)[C.SHEET_LEAD]
    return out.read_bytes(), (C.SHEET_LEAD, ref(ws, "本月累计完成", "省-1#1"), "not-a-number")


def _mac_zip(tmp):
    name = C.file_name(PERIOD, "市卫健委")
    return {"报送.zip": zipped([(f"报表/{name}", _good(tmp)),
                              (f"__MACOSX/报表/._{name}", apple_double(name)),
                              ("报表/.DS_Store", b"\0\0\0\1Bud1" + b"\0" * 64)])}, set(), 1


def _windows_zip(tmp):
    body, at = _typo(tmp)
    return {"卫健委.zip": zipped([("市卫健委6月.xlsx", body), ("Thumbs.db", b"\xd0\xcf\x11\xe0" * 8),
                               ("desktop.ini", "[.ShellClassInfo]\r\n".encode("utf-16"))])}, {at}, 1


def _mac_folder(tmp):
    name = C.file_name(PERIOD, "市卫健委")
    return {name: _good(tmp), f"__MACOSX/._{name}": apple_double(name),
            "__MACOSX/2024-06_旧版.xlsx": apple_double("旧版"), "Thumbs.db": b"\0" * 32,
            "desktop.ini": b"[.ShellClassInfo]"}, set(), 1


def _long_member(tmp):
    return {"长文件名.zip": zipped([(LONG + ".xlsx", _good(tmp))])}, set(), 1


def _long_member_with_typo(tmp):
    body, at = _typo(tmp)
    return {"长文件名.zip": zipped([(LONG + ".xlsx", body)])}, {at}, 1


def _long_attachment(tmp):
    return {"来信.eml": mailed([(LONG + ".xlsx", _good(tmp))])}, set(), 1


def _zip_in_mail_with_mac_litter(tmp):
    name = C.file_name(PERIOD, "市卫健委")
    inner = zipped([(name, _good(tmp)), (f"__MACOSX/._{name}", apple_double(name))])
    return {"转发.eml": mailed([("报表.zip", inner), ("._报表.zip", apple_double("报表.zip"))])}, \
        set(), 1


def _seven_zip_from_a_mac(tmp):
    import libarchive
    name = C.file_name(PERIOD, "市卫健委")
    path = tmp / "made.7z"
    with libarchive.file_writer(str(path), "7zip") as w:
        for member, body in [(f"报表/{name}", _good(tmp)),
                             (f"__MACOSX/报表/._{name}", apple_double(name))]:
            w.add_file_from_memory(member, len(body), body)
    return {"报送.7z": path.read_bytes()}, set(), 1


def _only_litter(tmp):
    return {"空.zip": zipped([("__MACOSX/._a.xlsx", apple_double("a.xlsx")),
                             ("Thumbs.db", b"\0" * 16)])}, set(), 0


ARCHIVES = {
    "macOS zip: __MACOSX/._*, .DS_Store": _mac_zip,
    "Windows zip: Thumbs.db, desktop.ini": _windows_zip,
    "mac zip unpacked on Windows (folder)": _mac_folder,
    "zip member name too long for the disk": _long_member,
    "long member name, with a typo": _long_member_with_typo,
    "mail attachment name too long": _long_attachment,
    "zip in a mail, macOS litter in both": _zip_in_mail_with_mac_litter,
    "7z made on a Mac": _seven_zip_from_a_mac,
    "zip of litter only": _only_litter,
}


@pytest.mark.parametrize("case", list(ARCHIVES))
def test_archives_as_people_make_them(tmp_path, case):
    files, expected, n_returns = ARCHIVES[case](tmp_path)
    src = tmp_path / "in"
    for name, body in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(body)
    db = tmp_path / "out" / "minshi.sqlite"
    got = minshi("collect", src, "--period", PERIOD, "--received", ON_TIME, "--db", db,
                 "--json", tmp_path / "out.json", cwd=tmp_path)
    assert "Traceback" not in got.stderr
    report = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    found = {(i["sheet"], i["cell"], i["code"]) for i in report["issues"]}
    assert found == expected  # litter is skipped without an issue
    assert got.returncode == (1 if any(c in ("not-a-number",) for *_, c in expected) else 0)
    assert [f["status"] for f in report["files"]] == ["accepted"] * n_returns
    con = ledger.connect(db)
    # every original as it arrived: the files dropped in the folder, byte for byte
    kept = {sha: rel for sha, rel in con.execute("SELECT sha256, archive_path FROM files")}
    for name, body in files.items():
        if collect.is_junk(name) or Path(name).suffix not in (".xlsx", ".zip", ".eml", ".7z"):
            continue
        rel = kept[hashlib.sha256(body).hexdigest()]
        assert (db.parent / rel).read_bytes() == body, name
    for rel in kept.values():  # every name fits the disk
        assert len(Path(rel).name.encode()) <= 255
    # the full name as sent is in the ledger, the return traceable to what it came in
    for (source, container) in con.execute(
            "SELECT rc.source_path, c.archive_path FROM returns r JOIN receipts rc ON "
            "rc.id = r.receipt_id LEFT JOIN files c ON c.id = rc.container_id"):
        if "!" in source:
            assert container is not None, source
        if "长" in case or "too long" in case:
            assert source.endswith(LONG + ".xlsx")
    assert consistent(db) == ({"accepted": n_returns} if n_returns else {})
    if expected:  # the annotated copy of a long-named return is written under a shortened name
        (copy,) = (db.parent / "annotated" / PERIOD).iterdir()
        assert len(copy.name.encode()) <= 255 and copy.name.endswith("_问题标注.xlsx")


def test_a_zip_collected_twice_is_kept_once_and_its_returns_are_duplicates(tmp_path):
    name = C.file_name(PERIOD, "市卫健委")
    data = zipped([(name, _good(tmp_path))])
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "报送.zip").write_bytes(data)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "报送(1).zip").write_bytes(data)  # downloaded twice
    db = tmp_path / "l.sqlite"
    res = collect.collect_paths([tmp_path / "a", tmp_path / "b"], PERIOD, db, master=master(),
                                config={}, received=ON_TIME)
    assert sorted(r.status for r in res.rows) == ["accepted", "duplicate"]
    again = collect.collect_paths([tmp_path / "a"], PERIOD, db, master=master(), config={},
                                  received=ON_TIME)
    assert [r.status for r in again.rows] == ["duplicate"]
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM files WHERE format = 'zip'").fetchone()[0] == 1
    assert con.execute("SELECT COUNT(*) FROM receipts rc JOIN files f ON f.id = rc.file_id "
                       "WHERE f.format = 'zip'").fetchone()[0] == 2  # one per arrival
    consistent(db)
