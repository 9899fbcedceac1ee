"""Faults of this machine (a full disk, a folder that cannot be written, a ledger that cannot
be opened) as one Chinese message naming the path: the CLI exits 2 with it, never a traceback.

A fault is not a problem of a unit's file: it stops the run (the ledger stays consistent, the
next run finishes the job), whereas a bad file is an issue and the run goes on.
"""
from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Optional

from minshi_xls import MinshiError

#: errno -> what the clerk is told about it
_REASONS = {
    errno.ENOSPC: "磁盘空间已满",
    errno.EFBIG: "文件超出本机允许的大小（磁盘配额已满）",
    errno.EDQUOT: "磁盘配额已满",
    errno.EACCES: "没有写入权限",
    errno.EPERM: "没有写入权限（文件或文件夹被锁定）",
    errno.EROFS: "磁盘是只读的",
    errno.ENOTDIR: "路径中有一个同名文件占用了文件夹的位置",
    errno.EEXIST: "路径中有一个同名文件占用了文件夹的位置",
    errno.EISDIR: "该路径是一个文件夹",
    errno.EIO: "磁盘读写出错",
    errno.ENAMETOOLONG: "路径太长",
    errno.EMFILE: "打开的文件过多",
    errno.ENFILE: "打开的文件过多",
}
MACHINE_ERRNOS = frozenset(_REASONS)

#: SQLite primary result codes of a ledger that cannot be written (not a programming error)
_SQLITE_REASONS = {
    3: "没有写入权限",  # SQLITE_PERM
    5: "台账正被另一个程序占用",  # SQLITE_BUSY
    6: "台账正被另一个程序占用",  # SQLITE_LOCKED
    8: "台账是只读的（没有写入权限）",  # SQLITE_READONLY
    10: "磁盘读写出错或磁盘空间已满",  # SQLITE_IOERR
    13: "磁盘空间已满",  # SQLITE_FULL
    14: "无法打开台账文件（文件夹不存在或不可写）",  # SQLITE_CANTOPEN
}  # NOTADB and CORRUPT are not this machine's doing: the caller says what the file is
_AFTER = "请处理后重新运行同一命令：已完成的部分不会重复，写了一半的文件会被清除。"


class MachineFault(MinshiError):
    """This machine could not do what the command needs; ``path`` is where."""

    def __init__(self, path, reason: str, action: str = "写入"):
        self.path = str(path)
        self.reason = reason
        self.action = action
        super().__init__(f"无法{action} {self.path}：{reason}。{_AFTER}")

    def __reduce__(self):  # crosses from a worker process to the parent
        return (MachineFault, (self.path, self.reason, self.action))


def is_machine(e: BaseException) -> bool:
    """An OSError of the machine (disk, permissions, paths), not of a unit's file contents."""
    return isinstance(e, OSError) and e.errno in MACHINE_ERRNOS


def from_os_error(e: OSError, path=None, action: str = "写入") -> MachineFault:
    where = path or e.filename or ""
    reason = _REASONS.get(e.errno, e.strerror or type(e).__name__)
    return MachineFault(where, reason, action)


def from_sqlite_error(e: sqlite3.Error, db_path) -> Optional[MachineFault]:
    """The fault of an SQLite error, or None when it is not one (a bug must still show)."""
    code = getattr(e, "sqlite_errorcode", None)
    if code is None:
        return None
    reason = _SQLITE_REASONS.get(code & 0xFF)
    return MachineFault(db_path, reason) if reason else None


def as_fault(e: BaseException, path, action: str = "写入") -> BaseException:
    """``e`` as a :class:`MachineFault` at ``path`` when it is one, else ``e`` itself (to be
    raised again: a bug must still show)."""
    if isinstance(e, MachineFault):
        return e
    if isinstance(e, sqlite3.Error):
        return from_sqlite_error(e, path) or e
    if is_machine(e):
        return from_os_error(e, path, action)
    return e


def atomic_write(path, data: Optional[bytes], source=None) -> None:
    """Write ``data`` (or copy the file ``source``) to ``path`` whole or not at all: through
    ``<name>.<pid>.part`` renamed into place, removed again on failure (a kill leaves it for
    :func:`sweep_partials`). A device such as /dev/stdout is written directly."""
    path = Path(path)
    if path.exists() and not path.is_file():
        with open(path, "wb") as f:
            f.write(data if source is None else Path(source).read_bytes())
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        if source is not None:
            shutil.copyfile(source, tmp)
        else:
            with open(tmp, "wb") as f:
                f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_not_open(path, what: str = "文件") -> None:
    """Refuse to replace a file that Excel/WPS/Word/LibreOffice holds open (their lock files):
    the clerk closes it first, and the previous version stays as it was."""
    path = Path(path)
    for lock in (path.with_name(f".~lock.{path.name}#"), path.with_name(f"~${path.name}")):
        if lock.exists():
            raise MinshiError(f"{what}“{path}”正在被其他程序打开（发现锁文件 {lock.name}）。"
                              "请先关闭该文件，再重新运行。")


def sweep_partials(folder) -> int:
    """Remove ``*.<pid>.part`` files under ``folder`` left by a process that is gone (killed,
    or stopped by a full disk); those of a run still going (same ledger, same time) stay."""
    removed = 0
    root = Path(folder)
    if not root.is_dir():
        return 0
    for p in root.rglob("*.part"):
        pid = p.suffixes[-2][1:] if len(p.suffixes) >= 2 else ""
        if pid.isdigit() and _alive(int(pid)):
            continue
        try:
            p.unlink()
            removed += 1
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, killed and not yet reaped, does not)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True
