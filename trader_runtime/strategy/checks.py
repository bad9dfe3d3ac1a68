"""Checks any strategy behind the interface can be put through (`cointrader strategy check`).

- Look-ahead: decide on the data cut off at several moments; every indicator value and decision before the cut
  must equal the one computed on the whole data. A difference means a value read candles from its future.
- Warm-up sensitivity: compute a fixed target window with different amounts of history before it; recursive
  indicators (EMA, RMA-based ATR/ADX) depend on where they start, so short warm-ups give other values and,
  eventually, other decisions. The table says how much history the strategy's numbers need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trader_runtime.domain.schema import validate_combined_frame
from trader_runtime.errors import DataError
from trader_runtime.strategy.base import Strategy

#: relative difference below which two indicator values are the same number (float noise of different start points)
SAME = 1e-9


@dataclass(frozen=True)
class CutResult:
    cut: pd.Timestamp
    candles: int
    columns_changed: list[str]
    max_diff: float  # largest relative difference of an indicator value before the cut
    decisions_compared: int
    decisions_changed: int

    @property
    def ok(self) -> bool:
        return not self.columns_changed and self.decisions_changed == 0


@dataclass(frozen=True)
class WarmupResult:
    warmup: int  # candles of history before the target window
    worst_column: str | None
    max_diff: float
    decisions_compared: int
    decisions_changed: int
    column_diffs: dict[str, float]

    @property
    def ok(self) -> bool:
        return self.max_diff <= 1e-6 and self.decisions_changed == 0 and self.decisions_compared > 0


def _rel_diff(a: pd.DataFrame, b: pd.DataFrame) -> pd.Series:
    """Per column: max |a − b| over mean |b| (NaN on one side only counts as a full difference)."""
    out = {}
    for col in b.columns:
        x, y = a[col].to_numpy(np.float64), b[col].to_numpy(np.float64)
        nan_x, nan_y = np.isnan(x), np.isnan(y)
        scale = float(np.nanmean(np.abs(y))) if (~nan_y).any() else 1.0
        scale = scale if scale > 0 else 1.0
        both = ~nan_x & ~nan_y
        diff = float(np.max(np.abs(x[both] - y[both]))) / scale if both.any() else 0.0
        out[col] = 1.0 if (nan_x != nan_y).any() else diff
    return pd.Series(out, dtype="float64")


def look_ahead(strategy: Strategy, frame: pd.DataFrame, symbol: str, params: object, cuts: int = 6) -> list[CutResult]:
    """Cut the data at `cuts` moments spread over the decidable part (each at a different quarter of an hour)."""
    df = validate_combined_frame(frame, source=symbol)
    full = strategy.prepare(df, symbol)
    ind = strategy.indicator_frame(full, params)
    dec = strategy.decisions(full, params)
    first = max(strategy.warmup_candles(params), 1)
    if len(df) <= first + 8:
        raise DataError(f"{symbol}: {len(df)} candles; the look-ahead check needs more than the {first}-candle warm-up")
    positions = np.linspace(first + 4, len(df) - 2, num=cuts).astype(int)
    results = []
    for n, pos in enumerate(positions):
        cut = df.index[pos] + pd.Timedelta(minutes=15 * (n % 4))  # the cut lands inside an hour 3 times in 4
        part = df.loc[df.index < cut]
        prepared = strategy.prepare(part, symbol)
        got = strategy.indicator_frame(prepared, params)
        diff = _rel_diff(got, ind.loc[got.index])
        got_dec = strategy.decisions(prepared, params)
        ref_dec = dec.reindex(got_dec.index)
        results.append(
            CutResult(
                cut=cut,
                candles=len(part),
                columns_changed=[c for c, v in diff.items() if v > SAME],
                max_diff=float(diff.max()) if len(diff) else 0.0,
                decisions_compared=int(len(got_dec)),
                decisions_changed=int((got_dec.to_numpy() != ref_dec.to_numpy()).sum()),
            )
        )
    return results


def warmup_sensitivity(
    strategy: Strategy, frame: pd.DataFrame, symbol: str, params: object, window: int = 2880, warmups: list[int] | None = None
) -> list[WarmupResult]:
    """Recompute the last `window` candles with each amount of history before them; compare with all history."""
    df = validate_combined_frame(frame, source=symbol)
    if len(df) <= window + 60:
        raise DataError(f"{symbol}: {len(df)} candles; the warm-up check needs more than {window + 60}")
    start = len(df) - window
    ref_prepared = strategy.prepare(df, symbol)
    target = df.index[start:]
    ref_ind = strategy.indicator_frame(ref_prepared, params).loc[target]
    ref_dec = strategy.decisions(ref_prepared, params).reindex(target)
    candidates = warmups or [60, 250, 500, 1000, 2000, 4000, 8000, 16000]
    results = []
    for w in sorted({w for w in candidates if 0 < w < start}):
        prepared = strategy.prepare(df.iloc[start - w :], symbol)
        ind = strategy.indicator_frame(prepared, params).loc[target]
        diff = _rel_diff(ind, ref_ind)
        dec = strategy.decisions(prepared, params).reindex(target)
        both = dec.notna() & ref_dec.notna()
        worst = str(diff.idxmax()) if len(diff) and diff.max() > 0 else None
        results.append(
            WarmupResult(
                warmup=w,
                worst_column=worst,
                max_diff=float(diff.max()) if len(diff) else 0.0,
                decisions_compared=int(both.sum()),
                decisions_changed=int((dec[both] != ref_dec[both]).sum()),
                column_diffs={str(k): float(v) for k, v in diff.sort_values(ascending=False).items()},
            )
        )
    return results
