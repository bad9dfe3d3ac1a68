"""ML dataset build on one year of 15m candles: indicators + signals + features + labels + HOLD negatives.

Median of 5 runs after one warm-up run (the warm-up pays numba compilation and pandas/pandas-ta first calls).
Two figures: the whole build from the combined table (`prepare_market` + `build_dataset`), and `build_dataset`
alone on an already prepared market (signals recomputed, as for a new threshold set).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import load_year  # noqa: E402
from _timing import timed  # noqa: E402

from trader_runtime.strategy.dataset import DatasetParams, build_dataset  # noqa: E402
from trader_runtime.strategy.pipeline import PreparedMarket, prepare_market  # noqa: E402

RUNS = 5


def _fresh(market: PreparedMarket) -> PreparedMarket:
    """Same indicators, empty signal cache."""
    return PreparedMarket(market.symbol, market.frame, market.long_score, market.short_score)


def main() -> None:
    df, source = load_year()
    params = DatasetParams()
    warm = prepare_market(df, "XRPUSDT")
    ds = build_dataset(warm, params)  # warm-up: numba compile, first pandas-ta calls

    full = timed(lambda: build_dataset(_fresh(prepare_market(df, "XRPUSDT")), params), RUNS)
    ds = full.result
    build = timed(lambda: build_dataset(_fresh(warm), params), RUNS)

    n_sig = int((ds["source"] == "signal").sum())
    print(f"data: {source}; {len(df)} candles -> dataset {len(ds)} rows ({n_sig} signal, {len(ds) - n_sig} HOLD)")
    print(f"{'stage (median of ' + str(RUNS) + ')':<40}{'wall ms':>10}{'CPU ms':>10}")
    for name, t in (("prepare_market + build_dataset", full), ("build_dataset on a prepared market", build)):
        print(f"{name:<40}{t.median_wall * 1000:>10.1f}{t.median_cpu * 1000:>10.1f}")


if __name__ == "__main__":
    main()
