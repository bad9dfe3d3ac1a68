"""MTF pullback on the real XRP year (synthetic year if absent). Targets: one backtest < 0.5 s; the 162-combination
sweep in seconds (in the library and as the `cointrader sweep --strategy mtf-pullback` command). Also the research walk-forward and the trader's per-candle decision.

Prints min and median wall time and CPU seconds over several runs after a first call (numba cache load), plus
the one-off preparation (hourly candles) and the end-to-end figure for a backtest from the raw frame.

    .venv/bin/python bench/bench_mtf.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _data import load_year  # noqa: E402
from _timing import Timings, timed  # noqa: E402

from trader_runtime.config import WalkForwardConfig  # noqa: E402
from trader_runtime.domain.schema import validate_combined_frame  # noqa: E402
from trader_runtime.strategy.mtf_pullback import MTFParams, MTFRules, backtest_market, prepare_mtf, run_mtf_backtest  # noqa: E402
from trader_runtime.strategy.mtf_pullback.live import LIVE_MIN_CANDLES, MTFLiveEngine  # noqa: E402
from trader_runtime.strategy.mtf_pullback.research import run_mtf_sweep, run_mtf_walk_forward  # noqa: E402

TARGET_BACKTEST_S = 0.5


def line(name: str, m: Timings, extra: str = "") -> None:
    print(f"{name:<44} wall min {m.min_wall:8.4f} s  median {m.median_wall:8.4f} s | cpu min {m.min_cpu:8.4f} s  "
          f"median {m.median_cpu:8.4f} s{extra}")  # fmt: skip


def cli_sweep(frame, repeat: int) -> None:
    """`cointrader sweep --strategy mtf-pullback` end to end in this process: data file check and load, hourly
    candles, indicators, 162 combinations, the ranked table (printed output discarded)."""
    import contextlib
    import io
    import tempfile

    from trader_runtime.cli.main import main as cli

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "xrpusdt_combined_15m.parquet"
        frame.to_parquet(path)
        argv = ["sweep", "--strategy", "mtf-pullback", "--data", str(path), "--top", "1"]

        def run() -> None:
            with contextlib.redirect_stdout(io.StringIO()):
                assert cli(argv) == 0

        line("cointrader sweep --strategy mtf-pullback", timed(run, repeat), "  (162 combinations, end to end)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    frame, source = load_year()
    frame = validate_combined_frame(frame)
    print(f"data: {source}, {len(frame)} candles {frame.index[0]} → {frame.index[-1]}")
    params, rules = MTFParams(), MTFRules()

    first = timed(lambda: run_mtf_backtest(frame, "XRPUSDT", params=params, rules=rules))
    print(f"first call (numba cache load or compile): {first.min_wall:.3f} s, {len(first.result.trades)} trades")
    line("prepare (hourly candles, validation)", timed(lambda: prepare_mtf(frame, "XRPUSDT"), args.repeat))
    market = prepare_mtf(frame, "XRPUSDT")
    market.meta(params)
    market.trigger_columns(params)
    line("indicators (pandas-ta, once per data set)", timed(lambda: (prepare_mtf(frame, "XRPUSDT").meta(params)), args.repeat))
    m = timed(lambda: backtest_market(market, params, rules), args.repeat)
    line("one backtest, prepared market", m)
    e2e = timed(lambda: run_mtf_backtest(frame, "XRPUSDT", params=params, rules=rules), args.repeat)
    ok = "OK" if e2e.median_wall < TARGET_BACKTEST_S else "OVER"
    line("one backtest from the raw frame (end to end)", e2e, f"  target < {TARGET_BACKTEST_S} s: {ok} (median wall)")

    sweep_market = prepare_mtf(frame, "XRPUSDT")
    cold = timed(lambda: run_mtf_sweep(sweep_market))
    res = cold.result
    print(f"{'sweep, 162 combinations (cold indicators)':<44} wall {cold.min_wall:8.3f} s | cpu {cold.min_cpu:8.3f} s, "
          f"best PF {res.best()['summary']['profit_factor'] if res.best() else '-'}")  # fmt: skip
    line("sweep, 162 combinations (warm)", timed(lambda: run_mtf_sweep(sweep_market), max(2, args.repeat // 5)))
    line("walk-forward 3/1, grid chosen per fold", timed(lambda: run_mtf_walk_forward(sweep_market, WalkForwardConfig(3, 1)), 2))
    cli_sweep(frame, max(2, args.repeat // 5))

    engine = MTFLiveEngine("XRPUSDT", params)
    start = LIVE_MIN_CANDLES + 400
    engine.seed(frame.iloc[:start])
    lat = sorted(timed(lambda i=i: engine.update(frame.iloc[i : i + 1])).min_wall * 1000 for i in range(start, start + 400))
    print(f"{'trader per-candle decision (400 candles)':<44} median {statistics.median(lat):.2f} ms  p95 {lat[int(len(lat) * 0.95)]:.2f} ms"
          f"  max {lat[-1]:.2f} ms (an hour's first candle recomputes the hourly indicators)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
