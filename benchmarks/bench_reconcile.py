"""Reconcile after 1,000 returns, against the time it takes just to read those returns.

The corpus is bench_collect's (every unit's real fill-in workbook for the bundled notice, filled
once, ~24 distinct versions per unit), collected into a real ledger; then the period is
reconciled: the ledger read (current returns, their values, the period's issues), history and
issues stored, the consolidated workbook and its 明细 CSV written.

    floor:     python-calamine reading every sheet of the 1,000 files (one process, no checks)
    reconcile: minshi_xls.report.reconcile (best of --repeat runs), and compute() alone

    python3 benchmarks/bench_reconcile.py [--n 1000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench_collect import calamine_only, make_corpus  # same folder: the corpus is shared

from minshi_xls import collect, ledger, reconcile, report
from minshi_xls.notice import load_bundled

PERIOD = "2024-06"


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    master = load_bundled()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = make_corpus(args.n, tmp)
        db = tmp / "out" / "minshi.sqlite"
        t = time.perf_counter()
        collect.ingest(list(collect.expand_paths([tmp / "returns"])), PERIOD, db, master, {},
                       received=None)
        took_collect = time.perf_counter() - t
        con = ledger.connect(db)
        n_returns = con.execute("SELECT COUNT(*) FROM returns").fetchone()[0]
        n_values = con.execute("SELECT COUNT(*) FROM cell_values").fetchone()[0]

        floor = best(lambda: calamine_only(paths), args.repeat)
        compute = best(lambda: reconcile.compute(master, PERIOD, con, None), args.repeat)
        con.close()
        out = tmp / "out" / PERIOD
        full = best(lambda: report.reconcile(master, PERIOD, db, out), args.repeat)
        res = report.reconcile(master, PERIOD, db, out)
        rec = res.reconciliation
        print(f"ledger: {n_returns} returns, {n_values} values (collected in {took_collect:.1f} s);"
              f" {rec.received}/{len(rec.expected)} units current, {len(rec.values)} values used")
        print(f"floor (calamine reads {len(paths)} files): {floor:6.2f} s")
        print(f"reconcile, compute only:                {compute:6.2f} s  "
              f"= {compute / floor:.2f}x the floor")
        print(f"reconcile, full (ledger + workbook + CSV + 通报): {full:6.2f} s  "
              f"= {full / floor:.2f}x the floor "
              f"(workbook {res.workbook.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
