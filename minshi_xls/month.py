"""``minshi month``: the unattended part of a month in one command.

Fetch (when a mailbox is configured), collect the folders given, reconcile, write the 通报, and
say who still needs a reminder. A step that fails (the mail server is down) is reported and the
others still run on what the ledger holds, so a scheduled run always leaves a current workbook.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence

from minshi_xls import MinshiError, settings


@dataclass
class MonthResult:
    period: str
    lines: List[str] = field(default_factory=list)
    silent: List[str] = field(default_factory=list)  # units that have not reported
    with_errors: List[str] = field(default_factory=list)  # units whose return has errors
    failed: bool = False  # a step could not run

    @property
    def exit_code(self) -> int:
        return 1 if self.with_errors or self.failed else 0

    def remind_lines(self) -> List[str]:
        if not (self.silent or self.with_errors):
            return ["所有单位均已报送且没有错误，无需提醒。"]
        out = ["需要提醒："]
        if self.silent:
            out.append(f"  未报送 {len(self.silent)} 个：{'、'.join(self.silent)}")
        if self.with_errors:
            out.append(f"  报表有错误 {len(self.with_errors)} 个：{'、'.join(self.with_errors)}")
        out.append(f"发送提醒：minshi remind --period {self.period}（先加 --dry-run 查看）")
        return out


def run(period: str, paths: Sequence = (), master_path=settings.DEFAULT_MASTER,
        db_path=settings.DEFAULT_DB, config_path=None, out_dir=None,
        progress: Optional[Callable[..., None]] = None) -> MonthResult:
    """Fetch → collect → reconcile → 通报, then who to remind (see the module docstring)."""
    from minshi_xls import collect, mail, report
    settings.period_parts(period)
    config = settings.load_config(config_path)
    result = MonthResult(period)
    if (config.get("imap") or {}).get("host"):
        try:
            fetched = mail.fetch(master_path, period, db_path, config_path, None, progress)
            result.lines.append(fetched.summary())
        except MinshiError as e:
            result.failed = True
            result.lines.append(f"收取邮件未完成：{e}（以下按台账中已有的报表汇总）")
    else:
        result.lines.append("未设收信服务器（[imap] host），跳过收取邮件。")
    if paths:
        got = collect.run(paths, period, db_path, master_path, config_path, None, None, progress)
        result.lines.extend(ln for ln in got.summary_lines()
                            if ln.startswith(("共 ", "没有找到")))
    if not Path(db_path).exists():
        raise MinshiError(f"台账 {db_path} 中还没有 {period} 的报表：请设置收信服务器，"
                          "或把收到的报表存进文件夹，用 minshi month --period … 文件夹 收取。")
    done = report.run(master_path, period, db_path, out_dir, config_path)
    result.lines.extend(done.summary_lines())
    _, saved = report.run_summary(master_path, period, db_path, out_dir, config_path)
    result.lines.append(f"通报：{saved}")
    for ur in done.reconciliation.expected:
        if not ur.returned:
            result.silent.append(ur.unit)
        elif ur.errors:
            result.with_errors.append(ur.unit)
    return result
