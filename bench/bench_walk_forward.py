"""One walk-forward backtest on the real XRP year (synthetic year if absent). Target: < 0.5 s.

Prints the median of several runs after the first call (which pays numba compilation or its cache load), the
cold first call itself, the one-off indicator/score preparation, and the end-to-end figure (preparation + run).

    .venv/bin/python bench/bench_walk_forward.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _data import load_year  # noqa: E402
from _timing import timed  # noqa: E402

from trader_runtime.backtest import kernel  # noqa: E402
from trader_runtime.backtest.rules import EngineRules  # noqa: E402
from trader_runtime.backtest.walk_forward import run_walk_forward  # noqa: E402
from trader_runtime.config import PRODUCTION_PARAMS, BacktestConfig, WalkForwardConfig  # noqa: E402
from trader_runtime.strategy.pipeline import prepare_market  # noqa: E402

TARGET_S = 0.5


def numba_cache_present() -> bool:
    folder = Path(kernel.__file__).parent / "__pycache__"
    return any(folder.glob("kernel.run_bars-*.nbi"))


def compile_seconds() -> float:
    """First WF call in a fresh interpreter with an empty numba cache, i.e. with full compilation."""
    code = (
        "import sys, time; sys.path.insert(0, 'bench'); from _data import load_year;"
        "from trader_runtime.strategy.pipeline import prepare_market;"
        "from trader_runtime.backtest.walk_forward import run_walk_forward;"
        "from trader_runtime.config import BacktestConfig, WalkForwardConfig;"
        "p = prepare_market(load_year()[0], 'XRPUSDT'); t = time.perf_counter();"
        "run_walk_forward(p, BacktestConfig(), WalkForwardConfig(3, 1)); print(time.perf_counter() - t)"
    )
    repo = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as cache:
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=repo, env={**os.environ, "NUMBA_CACHE_DIR": cache},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--no-compile", dest="compile", action="store_false", help="skip the fresh-cache compile timing")
    args = ap.parse_args(argv)
    df, source = load_year()
    cached = numba_cache_present()
    prep_cold = timed(lambda: prepare_market(df, "XRPUSDT")).min_wall
    prep = timed(lambda: prepare_market(df, "XRPUSDT"), 5)
    prep_s, prepared = prep.median_wall, prep.result
    cfg = BacktestConfig(params=PRODUCTION_PARAMS)
    cases = [
        ("platform, WF 3/1 step 1 (D12)", cfg, WalkForwardConfig(3, 1)),
        ("platform, WF 3/1 step 3", cfg, WalkForwardConfig(3, 1, 3)),
        ("legacy rules, WF 3/1 step 3", replace(cfg, rules=EngineRules.legacy()), WalkForwardConfig(3, 1, 3)),
    ]
    cold_s = timed(lambda: run_walk_forward(prepared, cases[0][1], cases[0][2])).min_wall
    print(f"data: {source}; {len(df)} candles; params SL/TP/sig/ADX/vol = {PRODUCTION_PARAMS.as_dict()}")
    print(f"{'measure':<50}{'seconds':>10}")
    print(f"{'preparation (indicators + scores), 1st call':<50}{prep_cold:>10.3f}")
    print(f"{'preparation, median':<50}{prep_s:>10.3f}")
    print(f"{'first WF call (numba cache ' + ('present)' if cached else 'absent)'):<50}{cold_s:>10.3f}")
    if args.compile:
        print(f"{'first WF call, empty numba cache (compile)':<50}{compile_seconds():>10.3f}")
    medians = {}
    for name, c, wf in cases:
        runs = timed(lambda: run_walk_forward(prepared, c, wf), args.repeat)
        medians[name] = runs.median_wall
        folds = len(runs.result.folds)
        print(f"{name + f' ({folds} folds), median':<50}{medians[name]:>10.4f}")
    e2e_med = timed(lambda: run_walk_forward(prepare_market(df, "XRPUSDT"), cfg, WalkForwardConfig(3, 1)), 5).median_wall
    print(f"{'end-to-end: prepare + WF step 1, median':<50}{e2e_med:>10.3f}")
    worst = max(medians.values())
    print(f"target one walk-forward backtest < {TARGET_S} s: {'MET' if worst < TARGET_S else 'MISSED'} "
          f"(slowest median {worst:.4f} s; end-to-end incl. preparation {e2e_med:.3f} s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
