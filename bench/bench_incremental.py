"""Incremental (live) feature update per closed candle on a 1,000-candle buffer. Target: < 20 ms per candle."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import load_year  # noqa: E402

from trader_runtime.config import PRODUCTION_PARAMS  # noqa: E402
from trader_runtime.strategy.incremental import IncrementalFeatureEngine  # noqa: E402


def main(n_candles: int = 1000) -> None:
    df, source = load_year()
    engine = IncrementalFeatureEngine("XRPUSDT", PRODUCTION_PARAMS)
    start = len(df) - n_candles
    engine.seed(df.iloc[:start])
    t0 = time.perf_counter()
    engine.update(df.iloc[start : start + 1])  # first call pays numba/pandas warm-up
    cold_ms = (time.perf_counter() - t0) * 1000
    times = []
    for i in range(start + 1, len(df)):
        t = time.perf_counter()
        engine.update(df.iloc[i : i + 1])
        times.append((time.perf_counter() - t) * 1000)
    arr = np.array(times)
    print(f"data: {source}; buffer {len(engine)} candles; {len(arr)} updates")
    print(f"{'metric':<28}{'ms':>10}")
    for name, val in (("cold first update", cold_ms), ("p50", np.percentile(arr, 50)), ("p90", np.percentile(arr, 90)),
                      ("p99", np.percentile(arr, 99)), ("max", arr.max())):
        print(f"{name:<28}{val:>10.2f}")
    print(f"target < 20 ms per candle: {'MET' if np.percentile(arr, 50) < 20 else 'MISSED'} (p50 {np.percentile(arr, 50):.2f} ms)")


if __name__ == "__main__":
    main()
