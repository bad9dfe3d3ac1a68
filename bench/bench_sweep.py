"""Full 324-combination walk-forward sweep on the real XRP year (synthetic year if absent). Target: < 10 s.

Measures the whole `run_sweep` call (fold segments + 36 signal arrays + all kernel runs + metrics + ranking) with
the default 2 worker processes and in-process, for the D12 default step (1 month) and the reference step (3).
The cold first call pays the worker start (forkserver) and numba cache load; medians exclude it.

    .venv/bin/python bench/bench_sweep.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _data import load_year  # noqa: E402
from _timing import timed  # noqa: E402

from trader_runtime.backtest.sweep import run_sweep  # noqa: E402
from trader_runtime.config import BacktestConfig, WalkForwardConfig  # noqa: E402
from trader_runtime.strategy.pipeline import prepare_market  # noqa: E402

TARGET_S = 10.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    df, source = load_year()
    prep = timed(lambda: prepare_market(df, "XRPUSDT"))
    prep_s, prepared = prep.min_wall, prep.result
    cfg = BacktestConfig()
    print(f"data: {source}; {len(df)} candles; preparation (indicators + scores, once) {prep_s:.3f} s")
    cold_s = timed(lambda: run_sweep(prepared, cfg, WalkForwardConfig(3, 1), workers=2, progress=False)).min_wall
    print(f"cold first sweep (2 workers, pool start + numba cache load): {cold_s:.3f} s")
    print(f"{'sweep (324 combos)':<36}{'folds':>6}{'median s':>10}{'min s':>8}{'combos/s':>10}")
    slowest = 0.0
    for step in (1, 3):
        for workers in (2, 1):
            runs = timed(lambda: run_sweep(prepared, cfg, WalkForwardConfig(3, 1, step), workers=workers, progress=False), args.repeat)
            med = runs.median_wall
            slowest = max(slowest, med) if workers == 2 else slowest
            name = f"step {step}, {workers} worker{'s' if workers > 1 else ''}"
            print(f"{name:<36}{runs.result.folds:>6}{med:>10.3f}{runs.min_wall:>8.3f}{324 / med:>10.0f}")
    e2e = prep_s + slowest
    print(f"target full sweep < {TARGET_S:.0f} s: {'MET' if e2e < TARGET_S else 'MISSED'} "
          f"(slowest 2-worker median {slowest:.3f} s; + preparation = {e2e:.3f} s; cold {cold_s:.3f} s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
