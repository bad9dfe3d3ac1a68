"""Portfolio engine on the real data of all four shared symbols (XRP, DOGE, TRX, SOL on one account).

Targets: one portfolio walk-forward backtest (WF 3/1, continuous account) < 0.2 s; the 324-combination portfolio
walk-forward sweep < 5 s; memory linear in history length (one symbol, synthetic 1/2/4/8 years, peak RSS of a
fresh process running one walk-forward). Prints min/median wall time and CPU seconds; indicator preparation is
timed separately (done once per data set).

    .venv/bin/python bench/bench_portfolio.py [--repeat 10] [--sweep-repeat 3] [--no-memory]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _data import REAL  # noqa: E402
from _timing import Timings, timed  # noqa: E402

import pandas as pd  # noqa: E402

from trader_runtime.backtest.portfolio import run_portfolio_walk_forward  # noqa: E402
from trader_runtime.backtest.sweep import run_sweep  # noqa: E402
from trader_runtime.config import PRODUCTION_PARAMS, BacktestConfig, WalkForwardConfig  # noqa: E402
from trader_runtime.strategy.pipeline import prepare_market  # noqa: E402

SYMBOLS = ("XRPUSDT", "DOGEUSDT", "TRXUSDT", "SOLUSDT")
WF = WalkForwardConfig(3, 1)
TARGET_WF_S = 0.2
TARGET_SWEEP_S = 5.0

MEMORY_CODE = """
import resource, sys, time
from trader_runtime.market.synthetic import generate_market
from trader_runtime.strategy.pipeline import prepare_market
from trader_runtime.backtest.walk_forward import run_walk_forward
from trader_runtime.config import BacktestConfig, WalkForwardConfig
days = int(sys.argv[1])
m = prepare_market(generate_market('XRPUSDT', days, 7).combined, 'XRPUSDT')
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
r = run_walk_forward(m, BacktestConfig(), WalkForwardConfig(3, 1))
print(len(m), len(r.folds), before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - t)
"""


def line(name: str, m: Timings, target: float | None = None) -> str:
    verdict = "" if target is None else (
        f"  target < {target} s: wall {'MET' if m.min_wall < target else 'MISSED'}, "
        f"CPU {'MET' if m.median_cpu < target else 'MISSED'}"
    )
    return (f"  {name:<46} min {m.min_wall:8.4f} s  median {m.median_wall:8.4f} s  "
            f"CPU median {m.median_cpu:8.4f} s{verdict}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--sweep-repeat", type=int, default=3)
    ap.add_argument("--no-memory", dest="memory", action="store_false")
    args = ap.parse_args(argv)
    paths = {s: REAL / f"{s.lower()}_combined_15m.parquet" for s in SYMBOLS}
    missing = [str(p) for p in paths.values() if not p.exists()]
    if missing:
        print(f"real data missing: {', '.join(missing)}")
        return 1
    frames = {s: pd.read_parquet(p) for s, p in paths.items()}
    prep = timed(lambda: [prepare_market(f, s) for s, f in frames.items()])
    markets = prep.result
    cfg = BacktestConfig(params=PRODUCTION_PARAMS, symbols=SYMBOLS)
    print(f"== portfolio engine, {', '.join(SYMBOLS)} on one account ({sum(len(m) for m in markets)} candles), "
          f"walk-forward 3/1 step 1, continuous account, ML off; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} (wall time above CPU time means other processes shared the cores)")  # fmt: skip
    print(line("indicator preparation, 4 symbols (once)", prep))
    print(line("first walk-forward (numba cache load/compile)", timed(lambda: run_portfolio_walk_forward(markets, cfg, WF))))
    wf_runs = timed(lambda: run_portfolio_walk_forward(markets, cfg, WF), args.repeat)
    r = wf_runs.result
    print(line("one portfolio walk-forward backtest", wf_runs, TARGET_WF_S))
    print(f"    {r.summary['total_trades']} trades, PF {r.summary['profit_factor']}, {len(r.folds)} folds, "
          f"final equity {r.summary['final_equity']}, lowest {r.summary['min_equity']}")
    run_sweep(markets, cfg, WF, workers=1, progress=False)  # warm
    sweeps = timed(lambda: run_sweep(markets, cfg, WF, workers=1, progress=False), args.sweep_repeat)
    print(line("324-combination portfolio WF sweep (1 process)", sweeps, TARGET_SWEEP_S))
    top = sweeps.result.rows[0]
    print(f"    rank 1: {top['params']} → {top['summary']['total_trades']} trades, PF {top['summary']['profit_factor']}, "
          f"final equity {top['summary']['final_equity']}")
    if args.memory:
        print("  memory, one symbol, synthetic history, one walk-forward in a fresh process (peak RSS):")
        repo = Path(__file__).resolve().parents[1]
        for years in (1, 2, 4, 8):
            out = subprocess.run([sys.executable, "-c", MEMORY_CODE, str(365 * years)], cwd=repo, capture_output=True,
                                 text=True, check=True).stdout.split()  # fmt: skip
            n, folds, before, peak, secs = int(out[0]), int(out[1]), int(out[2]), int(out[3]), float(out[4])
            print(f"    {years} year(s): {n:>7} candles, {folds:>3} folds, peak RSS {peak / 1024:7.1f} MiB "
                  f"(after preparation {before / 1024:7.1f} MiB), walk-forward {secs:.2f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
