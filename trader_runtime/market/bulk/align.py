"""Raw archive series -> values of the combined 15m table, without look-ahead (spec "bulk history" §4).

- oi_change(t) = OI(t + 15 min) / OI(t) − 1, where OI(T) is `sum_open_interest` observed at exactly T: the change
  over the candle, known at its close. Missing, blank, non-positive or conflicting values give NaN (never 0.0);
  no interpolation, no nearest match.
- funding_rate(t) = the rate of the latest settlement with calc_time ≤ t (raw calc_time, like REST), as long as
  t < N + interval + 15 min with N = calc_time cut to the minute; otherwise NaN, so a rate is never carried over
  a missing settlement or a missing month.
- L/S rows: observations on the 15-minute grid with positive account ratios, at their observation time.
- metric inputs of the ML features (`METRIC_INPUT_COLUMNS`): the observation at exactly t + 15 min, the candle's
  close, as the live service would know it at its decision; missing, blank, non-positive or conflicting -> NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trader_runtime.domain.schema import BAR, LS_RATIO_COLUMNS

_MINUTE_NS = 60 * 1_000_000_000


def oi_change_at_close(candle_index: pd.DatetimeIndex, open_interest: pd.Series) -> pd.Series:
    """Relative OI change over each candle; `open_interest` is indexed by observation time (UTC)."""
    oi = open_interest[open_interest > 0].astype("float64")
    oi = oi[~oi.index.duplicated(keep=False)]
    idx = pd.DatetimeIndex(candle_index).as_unit("ms")
    oi.index = pd.DatetimeIndex(oi.index).as_unit("ms")
    at_open = oi.reindex(idx).to_numpy()
    at_close = oi.reindex(idx + BAR).to_numpy()
    return pd.Series(at_close / at_open - 1.0, index=candle_index, name="oi_change", dtype="float64")


#: metric input column -> its column in `metrics_5m`
METRIC_SOURCES = {"oi_value": "sum_open_interest_value", "top_acct_ls_ratio": "top_acct_ls_ratio",
                  "global_ls_ratio": "global_ls_ratio", "taker_ls_vol_ratio": "taker_ls_vol_ratio"}


def metrics_at_close(candle_index: pd.DatetimeIndex, metrics: pd.DataFrame) -> pd.DataFrame:
    """`METRIC_INPUT_COLUMNS` per candle from `metrics_5m` rows (`obs_time` + columns): the value observed at the
    candle's close; no interpolation, no nearest match."""
    idx = pd.DatetimeIndex(candle_index)
    out = pd.DataFrame(index=idx)
    obs = pd.DatetimeIndex(metrics["obs_time"]).as_unit("ms") if len(metrics) else pd.DatetimeIndex([], tz="UTC")
    unique = ~obs.duplicated(keep=False)
    close = idx.as_unit("ms") + BAR
    for name, source in METRIC_SOURCES.items():
        values = metrics[source].to_numpy(np.float64) if len(metrics) else np.array([], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            keep = unique & (values > 0)
        series = pd.Series(values[keep], index=obs[keep])
        out[name] = series.reindex(close).to_numpy()
    return out


def funding_bounded(candle_index: pd.DatetimeIndex, settlements: pd.DataFrame) -> pd.Series:
    """Rate per candle from `calc_time, interval_hours, funding_rate` rows (sorted or not)."""
    out = pd.Series(np.nan, index=candle_index, name="funding_rate", dtype="float64")
    if settlements.empty or len(candle_index) == 0:
        return out
    rows = settlements.sort_values("calc_time")
    calc = pd.DatetimeIndex(rows["calc_time"]).as_unit("ns").asi8
    t = pd.DatetimeIndex(candle_index).as_unit("ns").asi8
    slot = np.searchsorted(calc, t, side="right") - 1
    has = slot >= 0
    pick = np.clip(slot, 0, None)
    settled = calc[pick] - calc[pick] % _MINUTE_NS
    hours = rows["interval_hours"].to_numpy(np.int64)[pick]
    limit = settled + hours * 3_600 * 1_000_000_000 + BAR.value
    valid = has & (t < limit)
    out[:] = np.where(valid, rows["funding_rate"].to_numpy(np.float64)[pick], np.nan)
    return out


def ls_ratio_rows(metrics: pd.DataFrame) -> pd.DataFrame:
    """`ls_ratio_15m` rows from metrics observations (`obs_time`, `top_acct_ls_ratio`, `global_ls_ratio`)."""
    obs = pd.DatetimeIndex(metrics["obs_time"]).as_unit("ms")
    on_grid = (obs.asi8 % (BAR.value // 1_000_000)) == 0
    top = metrics["top_acct_ls_ratio"].to_numpy(np.float64)
    glob = metrics["global_ls_ratio"].to_numpy(np.float64)
    with np.errstate(invalid="ignore"):
        keep = on_grid & (top > 0) & (glob > 0)
    out = pd.DataFrame({"timestamp": obs[keep], "top_acct_ls_ratio": top[keep], "global_ls_ratio": glob[keep]})
    return out[list(LS_RATIO_COLUMNS)].reset_index(drop=True)
