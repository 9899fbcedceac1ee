"""Time to write every unit's fill-in workbook for the bundled notice, against the floor.

The floor writes the same cells (title, header block, header row, every row's values and the
``_meta`` table) with xlsxwriter and no formatting, validation, hints or protection, in the same
process, so the ratio shows what the clerk-facing finish costs. Best of ``--repeat`` runs.

    python3 benchmarks/bench_templates.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import xlsxwriter

from minshi_xls import columns as C, settings, templates
from minshi_xls.notice import load_bundled


def write_plain(master, unit, period, path):
    """The same cell values as the real workbook, nothing else."""
    rows = templates.rows_for(master, unit)
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True})  # as the real writer
    meta = []
    for sheet, table in rows.sheets().items():
        ws = wb.add_worksheet(sheet)
        cols = C.SHEET_COLUMNS[sheet]
        ws.write(0, 0, C.title(2024, 6))
        ws.write(1, 0, C.UNIT_LABEL)
        ws.write(1, 1, unit)
        for i, c in enumerate(cols):
            ws.write(C.HEADER_ROW - 1, i, c.header)
        for n, (task, ind) in enumerate(table):
            r = C.FIRST_DATA_ROW - 1 + n
            values = (templates.lead_values(task, ind, {}) if sheet == C.SHEET_LEAD
                      else templates.co_values(master, unit, task, ind))
            for i, c in enumerate(cols):
                if values.get(c.key) is not None:
                    ws.write(r, i, values[c.key])
            meta.append((sheet, ind.id, r + 1, C.row_fingerprint(cols, values, False)))
    ws = wb.add_worksheet(C.SHEET_META)
    for r, row in enumerate(meta):
        ws.write_row(r, 0, row)
    wb.close()


def best_of(repeat, *fns):
    """Best (wall, CPU) time of each function; runs interleaved so a busy machine hurts both
    alike, and CPU time of this process is reported too because wall time on a shared machine
    swings with the neighbours' load."""
    times = [[] for _ in fns]
    for _ in range(repeat):
        for fn, ts in zip(fns, times):
            t, c = time.perf_counter(), time.process_time()
            fn()
            ts.append((time.perf_counter() - t, time.process_time() - c))
    return [(min(w for w, _ in ts), min(c for _, c in ts)) for ts in times]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    master = load_bundled()
    units = master.reporting_units()
    n_rows = sum(templates.rows_for(master, u).count for u in units)
    period = "2024-06"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)

        def full():
            for u in units:
                templates.write_workbook(master, u, period, out / f"full_{u}.xlsx",
                                         config=settings.DEFAULTS)

        def plain():
            for u in units:
                write_plain(master, u, period, out / f"plain_{u}.xlsx")

        t_full, t_plain = best_of(args.repeat, full, plain)
        size_full = sum(p.stat().st_size for p in out.glob("full_*.xlsx"))
    print(f"units: {len(units)}  rows: {n_rows}  (best of {args.repeat})")
    n = len(units)
    for label, (wall, cpu) in (("fill-in workbooks", t_full), ("floor (no format)", t_plain)):
        print(f"{label} : wall {wall:5.2f} s = {1000 * wall / n:5.1f} ms/workbook   "
              f"cpu {cpu:5.2f} s = {1000 * cpu / n:5.1f} ms/workbook")
    print(f"size              : {size_full / n / 1024:5.1f} KiB/workbook")
    print(f"ratio to floor    : wall {t_full[0] / t_plain[0]:4.2f}x   "
          f"cpu {t_full[1] / t_plain[1]:4.2f}x")

if __name__ == "__main__":
    main()
