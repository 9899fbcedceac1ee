"""Collect 1,000 synthetic returns and compare with the two obvious ways of reading them.

The returns are every unit's real fill-in workbook for the bundled notice, filled once with
openpyxl as a bureau would, then made distinct per copy (a different figure in one cell, a
different reporter) by rewriting the sheet XML, so no two files are byte-identical and each unit
sends ~24 versions (the ledger's supersede path is exercised, not its duplicate short-cut).

    (a) floor: python-calamine reading every sheet of every file, one process, no checks
    (b) what a user writes by hand: pandas.read_excel(sheet_name=None, engine="openpyxl") in a
        loop (timed on --pandas-sample files and scaled)
    collect: minshi_xls.collect.collect_paths (guard + worker pool + rules + ledger + archive)

    python3 benchmarks/bench_collect.py [--n 1000] [--pandas-sample 100] [--workers 2] [--repeat 3]
                                        [--breakdown 200]
"""
from __future__ import annotations

import argparse
import io
import os
import re
import tempfile
import time
import zipfile
from pathlib import Path

import openpyxl
import python_calamine as pc

from minshi_xls import collect, templates
from minshi_xls import columns as C
from minshi_xls.notice import load_bundled


def filled(master, unit: str, folder: Path) -> bytes:
    path = folder / f"{unit}.xlsx"
    templates.write_workbook(master, unit, "2024-06", path, config={})
    wb = openpyxl.load_workbook(path)
    for sheet in (C.SHEET_LEAD, C.SHEET_CO):
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        hdr = {C.plain_header(ws.cell(C.HEADER_ROW, c).value): c
               for c in range(1, ws.max_column + 1)}
        cum = hdr.get("本月累计完成") or hdr.get("本单位累计完成")
        text = hdr.get("进展情况") or hdr.get("配合工作情况")
        for r in range(C.FIRST_DATA_ROW, ws.max_row + 1):
            ind_id = ws.cell(r, hdr["指标编号"]).value
            if not ind_id:
                continue
            t = master.indicator(ind_id).target_number or 10
            ws.cell(r, cum).value = round(t * 0.5, 2)
            ws.cell(r, text).value = "按计划推进，已完成年度目标的一半。"
            if "推进状态" in hdr:
                ws.cell(r, hdr["推进状态"]).value = "序时推进"
        ws["E2"] = "张三"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def variant(data: bytes, i: int) -> bytes:
    """A distinct copy: the reporter's name carries the copy number."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zi, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zo:
        for info in zi.infolist():
            body = zi.read(info)
            if info.filename.startswith("xl/worksheets/"):
                # openpyxl writes CJK text as character references
                for old in ("张三".encode(), b"&#24352;&#19977;"):
                    body = body.replace(old, old + str(i).encode(), 1)
            zo.writestr(info, body)
    return out.getvalue()


def make_corpus(n: int, folder: Path) -> list:
    master = load_bundled()
    units = master.reporting_units()
    base = {u: filled(master, u, folder) for u in units}
    paths = []
    for i in range(n):
        u = units[i % len(units)]
        p = folder / "returns" / f"{i:04d}_{u}.xlsx"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(variant(base[u], i))
        t = 1720000000 + i * 60  # received one minute apart
        os.utime(p, (t, t))
        paths.append(p)
    return paths


def cpu() -> float:
    """CPU seconds of this process and its finished children (the collect workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def calamine_only(paths):
    t, c = time.perf_counter(), cpu()
    for p in paths:
        calamine_only_one(p.read_bytes())
    return time.perf_counter() - t, cpu() - c


def breakdown(paths, master, folder: Path) -> dict:
    """CPU ms per return of each stage of collect, in this one process (no pool, no
    contention between the two workers): where the time beyond the calamine floor goes."""
    from minshi_xls import guard, reader
    items = collect._order(list(collect.expand_paths(paths)), None)
    lim = guard.limits_from({})
    job = collect._Job(master, {}, "2024-06", {}, str(folder), "", None)
    led = collect._Ledger(folder / "minshi.sqlite", "2024-06")
    collect.R.forget()
    out = {}

    def stage(name, fn, args):
        t = time.process_time()
        got = [fn(*a) for a in args]
        out[name] = (time.process_time() - t) * 1000 / len(items)
        return got
    stage("calamine floor", lambda it: calamine_only_one(it.data), [(it,) for it in items])
    ins = stage("guard (zip, sizes, DOCTYPE, value extent)",
                lambda it: guard.inspect(it.data, lim), [(it,) for it in items])
    res = stage("read (calamine + tables + formula lookups)",
                lambda it, i: {"format": i.format, "findings": i.findings,
                               "workbook": reader.read_workbook(it.data, i.format, i.parts, lim)},
                list(zip(items, ins)))
    evs = stage("rules and values", lambda it, r: collect.evaluate(
        it, r, master, {}, "2024-06", lambda u, p: {}), list(zip(items, res)))
    stage("hash, archive, slim", lambda it, ev: _archive_slim(job, it, ev),
          list(zip(items, evs)))
    for ev, it in zip(evs, items):
        ev.item = it

    def record(k, ev):
        if k % collect.BATCH == 0:
            led.con.execute("BEGIN IMMEDIATE")
        led.record(ev)
        if k % collect.BATCH == collect.BATCH - 1 or k == len(evs) - 1:
            led.con.execute("COMMIT")
    stage(f"ledger (transactions of {collect.BATCH} returns)", record, list(enumerate(evs)))
    led.con.close()
    return out


def _archive_slim(job, item, ev):
    ev.sha256 = collect.hashlib.sha256(item.data).hexdigest()
    ev.size = len(item.data)
    ev.archive_path, ev.archive_created = collect.write_archive(
        Path(job.archive_root), job.run_period, ev)
    return ev


def calamine_only_one(data: bytes) -> None:
    wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    for name in wb.sheet_names:
        wb.get_sheet_by_name(name).to_python(skip_empty_area=False)


def pandas_loop(paths) -> float:
    import pandas as pd
    t = time.perf_counter()
    for p in paths:
        pd.read_excel(p, sheet_name=None, engine="openpyxl")
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--pandas-sample", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs (noisy hosts)")
    ap.add_argument("--breakdown", type=int, default=200,
                    help="time each stage in one process on this many returns (0: skip)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        paths = make_corpus(args.n, tmp)
        size = sum(p.stat().st_size for p in paths)
        print(f"corpus: {len(paths)} returns, {size / len(paths) / 1024:.1f} KB each "
              f"(made in {time.perf_counter() - t:.1f} s)")
        master = load_bundled()
        floors, runs = [], []
        for n in range(args.repeat):  # interleaved: a neighbour's load hits both alike
            floors.append(calamine_only(paths))
            db = tmp / f"out{n}" / "minshi.sqlite"  # a fresh ledger each time
            t, c = time.perf_counter(), cpu()
            items = list(collect.expand_paths([tmp / "returns"]))
            res = collect.ingest(items, "2024-06", db, master, {}, workers=args.workers,
                                 received=None)
            runs.append((time.perf_counter() - t, cpu() - c))
        floor, floor_cpu = min(floors)
        took, took_cpu = min(runs)
        pairs = sorted(r[0] / f[0] for r, f in zip(runs, floors))
        sample = paths[:args.pandas_sample]
        pd_time = pandas_loop(sample) * len(paths) / len(sample)
        statuses = {}
        for r in res.rows:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        load = os.getloadavg()[0]
        print(f"machine: {os.cpu_count()} cores, load average {load:.1f} during the run")
        print(f"collect:         {took:7.2f} s  {len(paths) / took:7.1f} returns/s  "
              f"CPU {took_cpu:6.2f} s  {statuses}")
        print(f"(a) calamine:    {floor:7.2f} s  {len(paths) / floor:7.1f} returns/s  "
              f"CPU {floor_cpu:6.2f} s")
        print(f"    collect/(a): wall {took / floor:.2f}x, CPU {took_cpu / floor_cpu:.2f}x "
              f"(wall reaches CPU/{args.workers} only on otherwise idle cores); "
              f"per interleaved pair {pairs[0]:.2f}x-{pairs[-1]:.2f}x")
        print(f"(b) pandas loop: {pd_time:7.2f} s  {len(paths) / pd_time:7.1f} returns/s  "
              f"(b)/collect = {pd_time / took:.1f}x faster "
              f"(timed on {len(sample)} files, scaled)")
        if args.breakdown:
            runs = [breakdown(paths[:args.breakdown], master, tmp / f"bd{n}")
                    for n in range(args.repeat)]
            print(f"where the CPU goes, ms per return (one process, {args.breakdown} returns, "
                  f"best of {args.repeat}):")
            for name in runs[0]:
                print(f"    {name:44s} {min(r[name] for r in runs):5.2f}")


if __name__ == "__main__":
    main()
