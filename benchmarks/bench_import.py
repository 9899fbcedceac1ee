"""Time to parse the bundled notice, against the floor of reading and decoding it.

This was a timed unit test (``< 0.5 s``), which fails on a loaded machine and says nothing
about where the time goes; here it is a ratio against the floor (the file read, decoded with the
same encoding detection, split into lines) measured in the same process. Best of ``--repeat``.

    python3 benchmarks/bench_import.py [--repeat 10]
"""
from __future__ import annotations

import argparse

from bench_reconcile import best  # same folder: one best-of-n timer for the benchmarks

from minshi_xls import data_path
from minshi_xls.notice import _decode_text, parse_notice


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    path = data_path("lianyungang_2024.txt")
    parse_notice(path)  # warm imports and caches
    floor = best(lambda: _decode_text(path.read_bytes(), path).splitlines(), args.repeat)
    parse = best(lambda: parse_notice(path), args.repeat)
    master, _ = parse_notice(path)
    print(f"notice: {len(master.tasks)} tasks; floor {floor * 1000:.2f} ms, "
          f"parse {parse * 1000:.2f} ms, ratio {parse / floor:.1f}x")


if __name__ == "__main__":
    main()
