"""Wall time to synthesise one year of one symbol; optionally compare realism figures with a real combined file.

    .venv/bin/python bench/bench_synthetic.py                       # timing only
    .venv/bin/python bench/bench_synthetic.py --seeds 1 2 3 \\
        --compare ../shared/data/binance-um-15m/xrpusdt_combined_15m.parquet   # + stats and signal counts

Signal counts use the strategy core (indicators + signal gates) at the defaults (3 / ADX 25 / vol 2.5) and at the
relaxed training thresholds (2 / 15 / 1.5), after the 60-candle warm-up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import timed  # noqa: E402

from trader_runtime.config import TRAIN_SIGNAL_PARAMS, StrategyParams  # noqa: E402
from trader_runtime.market.synthetic import generate_market  # noqa: E402
from trader_runtime.strategy.pipeline import prepare_market  # noqa: E402

WARMUP = 60


def realism(df: pd.DataFrame, symbol: str) -> dict[str, float]:
    """The figures the synthetic model is tuned on."""
    r = np.log(df["close"]).diff().dropna()
    rb = np.log(df["close_btc"]).diff().dropna()
    re = np.log(df["close_eth"]).diff().dropna()
    v = df["volume"]
    ratio = v / v.rolling(20).mean()
    prepared = prepare_market(df, symbol)
    default = prepared.signals(StrategyParams()).signal[WARMUP:]
    relaxed = prepared.signals(TRAIN_SIGNAL_PARAMS).signal[WARMUP:]
    adx = prepared.frame["adx"].to_numpy()[WARMUP:]
    return {
        "return std (15m)": r.std(),
        "return kurtosis": r.kurt(),
        "BTC return kurtosis": rb.kurt(),
        "acf |r| lag 1": r.abs().autocorr(1),
        "acf |r| lag 96": r.abs().autocorr(96),
        "corr BTC/symbol": r.corr(rb),
        "corr BTC/ETH": rb.corr(re),
        "corr ETH/symbol": re.corr(r),
        "corr log volume/|r|": np.log(v.iloc[1:]).corr(np.log(r.abs() + 1e-6)),
        "share volume > 2.5x MA20": float((ratio > 2.5).mean()),
        "share ADX >= 25": float(np.mean(adx >= 25)),
        "signals/year 3/25/2.5": np.count_nonzero(default) * 35040 / len(default),
        "signals/year 2/15/1.5": np.count_nonzero(relaxed) * 35040 / len(relaxed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbol", default="XRPUSDT")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--compare", type=Path, help="real combined 15m Parquet file to compare against")
    args = parser.parse_args()

    generate_market(args.symbol, 2, 0)  # warm imports
    columns: dict[str, dict[str, float]] = {}
    for seed in args.seeds:
        run = timed(lambda: generate_market(args.symbol, args.days, seed))
        market, elapsed = run.result, run.min_wall
        print(f"generate_market({args.symbol!r}, days={args.days}, seed={seed}): {len(market.combined)} candles "
              f"in {elapsed:.3f} s")
        if args.compare:
            columns[f"seed {seed}"] = realism(market.combined, args.symbol)
    if args.compare:
        real = pd.read_parquet(args.compare)
        columns = {f"real {args.compare.stem}": realism(real, args.symbol), **columns}
        print(pd.DataFrame(columns).to_string(float_format=lambda x: f"{x:.4g}"))


if __name__ == "__main__":
    main()
