"""The command layer of ``minshi reconcile`` and ``minshi summary``: compute the period once
(:mod:`reconcile`), store it, then hand the same :class:`~minshi_xls.reconcile.Reconciliation`
to each writer (the workbook and its CSV, the 通报). A new output is one more writer here; it
never touches the arithmetic, and no writer imports another.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, List, Optional, Tuple

from minshi_xls import bulletin, clock, consolidated, reconcile as rc, settings, summary
from minshi_xls.model import Master
from minshi_xls.reconcile import Reconciliation


@dataclass
class ReconcileResult:
    workbook: Path
    csv: Path
    reconciliation: Reconciliation
    generated_at: str
    bulletin: Optional[Path] = None  # the 通报 .docx

    def summary_lines(self) -> List[str]:
        rec = self.reconciliation
        lines = [f"汇总表：{self.workbook}", f"明细 CSV：{self.csv}", f"通报：{self.bulletin}",
                 f"报送：{rec.received}/{len(rec.expected)} 个单位", *rec.headline_lines()]
        oi = rec.open_issues
        lines.append(f"待处理问题：错误 {oi['error']} 个，警告 {oi['warning']} 个")
        return lines


def output_dir(period: str, out_dir=None) -> Path:
    return Path(out_dir) if out_dir else Path(settings.DEFAULT_OUTPUT) / period


def reconcile(master: Master, period: str, db_path, out_dir=None, config: Optional[dict] = None,
              now: Optional[datetime] = None,
              progress: Optional[Callable[[int, int, str], None]] = None) -> ReconcileResult:
    """Reconcile ``period``: write the workbook and its 明细 CSV, then store history and issues.

    The ledger is written last, so a workbook that cannot be written (a locked file, a folder
    that cannot be made) leaves the ledger as it was. ``progress(done, total, step)`` is called
    after each of the three steps.
    """
    out = output_dir(period, out_dir)
    stamp = now or clock.local(clock.now(), clock.zone(config))  # the office's wall clock
    wb = out / consolidated.workbook_name(period)
    office = (config or settings.DEFAULTS).get("office", {}).get("name") or None
    con = rc.connect(db_path)
    try:
        rec = rc.compute(master, period, con, config)
        if progress:
            progress(1, 3, "读取台账")
        consolidated.write(rec, wb, generated_at=stamp, office=office)
        csv_path = consolidated.write_csv(rec, consolidated.csv_path(wb))
        doc = bulletin.write(rec, out / bulletin.bulletin_name(period), office,
                             stamp.date(), config)
        if progress:
            progress(2, 3, "生成汇总表")
        rc.store(con, rec)
        if progress:
            progress(3, 3, "写入台账")
    finally:
        con.close()
    return ReconcileResult(workbook=wb, csv=csv_path, reconciliation=rec,
                           generated_at=stamp.isoformat(sep=" "), bulletin=doc)


def run(master_path, period: str, db_path, out_dir=None, config_path=None,
        progress=None) -> ReconcileResult:
    """``minshi reconcile``: read the master and config, then :func:`reconcile`."""
    master, config = rc.open_inputs(master_path, period, db_path, config_path)
    return reconcile(master, period, db_path, out_dir, config, progress=progress)


def run_summary(master_path, period: str, db_path, out_dir=None,
                config_path=None) -> Tuple[str, Path]:
    """``minshi summary``: compute the period read-only and save its 通报 as text and as a Word
    document next to it (:func:`bulletin_path`); returns (text, .txt path)."""
    rec = rc.compute_period(master_path, period, db_path, config_path)
    out = output_dir(period, out_dir)
    text, path = summary.write_summary(rec, out)
    bulletin.write(rec, bulletin_path(path, period), config=settings.load_config(config_path))
    return text, path


def bulletin_path(summary_txt: Path, period: str) -> Path:
    """The 通报 .docx beside its text version."""
    return Path(summary_txt).with_name(bulletin.bulletin_name(period))
