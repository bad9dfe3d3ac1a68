"""ML dataset build on one year of 15m candles: indicators + signals + features + labels + HOLD negatives.

Median of 5 runs after one warm-up run (the warm-up pays numba compilation and pandas/pandas-ta first calls).
Two figures: the whole build from the combined table (`prepare_market` + `build_dataset`), and `build_dataset`
alone on an already prepared market (signals recomputed, as for a new threshold set).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import load_year  # noqa: E402

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

    full_ms, build_ms = [], []
    for _ in range(RUNS):
        t = time.perf_counter()
        market = prepare_market(df, "XRPUSDT")
        ds = build_dataset(_fresh(market), params)
        end = time.perf_counter()
        full_ms.append((end - t) * 1000)
        t = time.perf_counter()
        build_dataset(_fresh(market), params)
        build_ms.append((time.perf_counter() - t) * 1000)

    n_sig = int((ds["source"] == "signal").sum())
    print(f"data: {source}; {len(df)} candles -> dataset {len(ds)} rows ({n_sig} signal, {len(ds) - n_sig} HOLD)")
    print(f"{'stage (median of ' + str(RUNS) + ')':<40}{'ms':>10}")
    print(f"{'prepare_market + build_dataset':<40}{statistics.median(full_ms):>10.1f}")
    print(f"{'build_dataset on a prepared market':<40}{statistics.median(build_ms):>10.1f}")


if __name__ == "__main__":
    main()
