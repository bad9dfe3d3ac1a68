"""The combined 15m table of one symbol out of the warehouse, in the schema of the collector's Parquet files.

Rows are those that have their BTC/ETH candles when the symbol has any (the inner join of the combined table);
missing OI/funding stay NaN (never the legacy 0.0). `with_metrics` adds the market-metric inputs of the ML features
(`METRIC_INPUT_COLUMNS`, the 5-minute archive values at each candle's close) when the warehouse holds metrics.
"""

from __future__ import annotations

import pandas as pd

from trader_runtime.domain.schema import BAR, BTC_COLUMNS, COMBINED_COLUMNS, ETH_COLUMNS
from trader_runtime.market.bulk.align import metrics_at_close
from trader_runtime.storage.warehouse import Warehouse


def combined_table(warehouse: Warehouse, symbol: str, start: pd.Timestamp | None = None,
                   end: pd.Timestamp | None = None, *, with_metrics: bool = False) -> pd.DataFrame:
    frame = warehouse.read_candles(symbol, start, end)
    for group in (BTC_COLUMNS, ETH_COLUMNS):
        present = [c for c in group if c in frame.columns]
        if present:
            frame = frame[frame[present].notna().all(axis=1)]
    for col in ("oi_change", "funding_rate"):
        if col not in frame.columns:
            frame[col] = float("nan")
    frame = frame[[c for c in COMBINED_COLUMNS if c in frame.columns]]
    if with_metrics and len(frame):
        metrics = warehouse.read_metrics(symbol, frame.index[0] + BAR, frame.index[-1] + 2 * BAR)
        if len(metrics):
            frame = frame.join(metrics_at_close(pd.DatetimeIndex(frame.index), metrics))
    return frame
