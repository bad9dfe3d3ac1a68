"""Replay of a real year as users run it: `cointrader trader run --mode replay --source FILE --speed 0`.

Target: a real year (about 35,000 decided candles) in under 20 s, i.e. >= 2,000 candles per second. Each run is a
fresh process on a fresh journal; the figures are the process's wall time and CPU seconds (user + system, which a
busy machine changes least), min and median over the repeats. A one-day replay of the same file gives the fixed
cost (start-up, data load, warm-up seed), so the per-candle rate of the loop itself is printed too.

    .venv/bin/python bench/bench_replay.py [--repeats 3] [--symbol XRPUSDT]
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import REAL  # noqa: E402
from _timing import timed  # noqa: E402

CLI = Path(sys.executable).with_name("cointrader")


def replay(source: Path, journal: Path, *extra: str) -> tuple[float, float, int]:
    """(wall s, CPU s, decided candles) of one replay process."""
    run = timed(lambda: subprocess.run(
        [str(CLI), "trader", "run", "--mode", "replay", "--source", str(source), "--speed", "0", "--http-port", "-1",
         "--journal", str(journal), *extra],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=journal.parent,
    ), children=True)  # fmt: skip
    wall, cpu = run.min_wall, run.min_cpu
    with sqlite3.connect(journal) as con:
        decided = int(con.execute("SELECT COUNT(*) FROM decisions WHERE action != 'WARMUP'").fetchone()[0])
    return wall, cpu, decided


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--symbol", default="XRPUSDT")
    args = ap.parse_args()
    source = REAL / f"{args.symbol.lower()}_combined_15m.parquet"
    if not source.exists():
        print(f"real data not found: {source}")
        return 2
    index = pd.read_parquet(source, columns=["close"]).index
    one_day_end = (index[0] + pd.Timedelta(minutes=15 * 1100)).isoformat()  # warm-up + about a day

    year, day = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(max(1, args.repeats)):
            year.append(replay(source, Path(tmp) / f"year{k}.sqlite"))
            day.append(replay(source, Path(tmp) / f"day{k}.sqlite", "--end", one_day_end))

    def med(rows: list[tuple[float, float, int]], j: int) -> float:
        return float(np.median([r[j] for r in rows]))

    def low(rows: list[tuple[float, float, int]], j: int) -> float:
        return min(r[j] for r in rows)

    n_year, n_day = year[0][2], day[0][2]
    print(f"data: {source.name}; {len(year)} runs each")
    print(f"{'replay':<34}{'candles':>9}{'wall min':>10}{'wall med':>10}{'CPU min':>10}{'CPU med':>10}")
    for name, rows, n in (("the year", year, n_year), ("one day (fixed cost)", day, n_day)):
        print(f"{name:<34}{n:>9}{low(rows, 0):>10.2f}{med(rows, 0):>10.2f}{low(rows, 1):>10.2f}{med(rows, 1):>10.2f}")
    loop_cpu = med(year, 1) - med(day, 1)
    print(f"candles per CPU-second, whole process: {n_year / med(year, 1):,.0f}; "
          f"loop alone: {(n_year - n_day) / loop_cpu:,.0f}")
    ok = med(year, 1) < 20.0
    print(f"target a real year < 20 s (CPU, median): {'MET' if ok else 'MISSED'} ({med(year, 1):.1f} CPU-s; "
          f"wall {med(year, 0):.1f} s includes waiting for a busy machine's cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
