"""Binance USD-M public market-data payloads -> domain frames, and their alignment to the 15m candle grid.

Pure functions (no I/O, `now` passed in). Nothing above this module sees a python-binance list or dict (STYLE 2.2).
Fetch rules of spec 10 §1.2 with the fixes of W-01/W-02 and BT-20:

- klines: only closed candles (close time < now); OHLCV as float64 with base-asset volume (kline field 5);
- open interest: `oi_change(t)` = OI(t + 15 min) / OI(t) − 1, the change over the candle known at its close, with
  OI(T) the record stamped exactly T (the rule of the bulk importer and of the live service: bulk, REST and live
  agree); a candle without both records is missing (NaN, stored as NULL), never 0.0. Before, the change was
  attached to the record nearest the candle's open (±8 min), i.e. the change over the previous candle;
- funding: the candle at t carries the latest settled rate with `fundingTime <= t`; before the first one: NaN;
- long/short ratios: a row exists only where the top-account and the global record carry the same period
  timestamp (keyed on both, BT-20); duplicate periods keep the first record.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from trader_runtime.domain.schema import BAR, LS_RATIO_COLUMNS, OHLCV_COLUMNS
from trader_runtime.errors import DataError


def _utc_ms(values: Any, what: str) -> pd.DatetimeIndex:
    try:
        ms = np.asarray(values, dtype="int64")
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what}: timestamps are not integers (ms): {exc}") from None
    return pd.DatetimeIndex(pd.to_datetime(ms, unit="ms", utc=True)).as_unit("ms")


def _floats(values: Sequence[Any], what: str) -> np.ndarray:
    try:
        out = np.asarray([float(v) for v in values], dtype="float64")
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what}: non-numeric value: {exc}") from None
    if not np.isfinite(out).all():
        raise DataError(f"{what}: non-finite value in the payload")
    return out


def _require_list(payload: Any, what: str) -> list[Any]:
    if not isinstance(payload, list):
        raise DataError(f"{what}: expected a JSON list, got {type(payload).__name__}: {str(payload)[:120]}")
    return payload


def _field(rows: list[dict[str, Any]], key: str, what: str) -> list[Any]:
    try:
        return [row[key] for row in rows]
    except (KeyError, TypeError):
        raise DataError(f"{what}: record without field {key!r}: {str(rows[0])[:160]}") from None


# ----------------------------------------------------------------------------------------------------- klines


def empty_klines() -> pd.DataFrame:
    idx = pd.DatetimeIndex([], tz="UTC", name="timestamp").as_unit("ms")
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in OHLCV_COLUMNS}, index=idx)


def parse_klines(rows: Any, now: pd.Timestamp, symbol: str = "") -> pd.DataFrame:
    """Kline rows `[open_time, o, h, l, c, volume, close_time, ...]` -> closed candles only (W-01), sorted, unique."""
    what = f"{symbol} klines".strip()
    rows = _require_list(rows, what)
    if not rows:
        return empty_klines()
    if any(not isinstance(r, (list, tuple)) or len(r) < 7 for r in rows):
        raise DataError(f"{what}: each kline must be a list of at least 7 fields, got {str(rows[0])[:120]}")
    index = _utc_ms([r[0] for r in rows], what).rename("timestamp")
    close_time = _utc_ms([r[6] for r in rows], what)
    data = {name: _floats([r[i + 1] for r in rows], f"{what} {name}") for i, name in enumerate(OHLCV_COLUMNS)}
    frame = pd.DataFrame(data, index=index)
    now_ts = pd.Timestamp(now).tz_convert("UTC")
    closed = np.asarray(close_time < now_ts) & np.asarray(index + BAR <= now_ts)
    frame = frame[closed]
    return frame[~frame.index.duplicated(keep="last")].sort_index()


# ----------------------------------------------------------------------------------------------------- open interest


def _empty_series(time_column: str, value_column: str) -> pd.DataFrame:
    return pd.DataFrame(
        {time_column: pd.DatetimeIndex([], tz="UTC").as_unit("ms"), value_column: pd.Series(dtype="float64")}
    )


def _parse_series(rows: Any, what: str, time_key: str, value_key: str, time_column: str, value_column: str) -> pd.DataFrame:
    """Records of a time and a number -> `time_column, value_column`, sorted by time, the last record of a time kept."""
    rows = _require_list(rows, what)
    if not rows:
        return _empty_series(time_column, value_column)
    ts = _utc_ms(_field(rows, time_key, what), what)
    value = _floats(_field(rows, value_key, what), what)
    frame = pd.DataFrame({time_column: ts, value_column: value})
    return frame.drop_duplicates(time_column, keep="last").sort_values(time_column, ignore_index=True)


def empty_open_interest() -> pd.DataFrame:
    return _empty_series("timestamp", "sum_open_interest")


def parse_open_interest(rows: Any, symbol: str = "") -> pd.DataFrame:
    """`openInterestHist` records -> `timestamp, sum_open_interest` (base asset), sorted, unique."""
    return _parse_series(rows, f"{symbol} open interest".strip(), "timestamp", "sumOpenInterest", "timestamp",
                         "sum_open_interest")  # fmt: skip


def oi_change_for_candles(candle_index: pd.DatetimeIndex, open_interest: pd.DataFrame) -> pd.Series:
    """Relative OI change over each candle, known at its close (spec "bulk history" §4); NaN where unknown."""
    from trader_runtime.market.bulk.align import oi_change_at_close

    if open_interest.empty or len(candle_index) == 0:
        return pd.Series(np.nan, index=candle_index, name="oi_change", dtype="float64")
    oi = pd.Series(open_interest["sum_open_interest"].to_numpy(dtype="float64"),
                   index=pd.DatetimeIndex(open_interest["timestamp"]))
    return oi_change_at_close(candle_index, oi)


# ----------------------------------------------------------------------------------------------------- funding


def empty_funding() -> pd.DataFrame:
    return _empty_series("funding_time", "funding_rate")


def parse_funding(rows: Any, symbol: str = "") -> pd.DataFrame:
    """`fundingRate` records -> `funding_time, funding_rate` (fraction per 8 h), sorted, unique."""
    return _parse_series(rows, f"{symbol} funding".strip(), "fundingTime", "fundingRate", "funding_time", "funding_rate")


def funding_for_candles(candle_index: pd.DatetimeIndex, funding: pd.DataFrame) -> pd.Series:
    """Latest settled funding rate with `funding_time <= candle open time`; NaN before the first settlement.

    When the settlements carry `interval_hours` (the public archive), a rate is not carried beyond its interval
    + 15 minutes, so it never bridges a missing settlement (same rule as the bulk importer)."""
    if "interval_hours" in funding.columns:
        from trader_runtime.market.bulk.align import funding_bounded

        return funding_bounded(candle_index, funding.rename(columns={"funding_time": "calc_time"}))
    out = pd.Series(np.nan, index=candle_index, name="funding_rate", dtype="float64")
    if funding.empty or len(candle_index) == 0:
        return out
    times = pd.DatetimeIndex(funding["funding_time"]).as_unit("ms").asi8
    slot = np.searchsorted(times, candle_index.as_unit("ms").asi8, side="right") - 1
    rates = funding["funding_rate"].to_numpy(dtype="float64")
    out[:] = np.where(slot >= 0, rates[np.clip(slot, 0, None)], np.nan)
    return out


# ----------------------------------------------------------------------------------------------------- L/S ratios


def empty_ls_ratio() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype="float64") for c in LS_RATIO_COLUMNS})
    out["timestamp"] = pd.DatetimeIndex([], tz="UTC").as_unit("ms")
    return out


def _ratio_frame(rows: Any, column: str, what: str) -> pd.DataFrame:
    rows = _require_list(rows, what)
    if not rows:
        return pd.DataFrame({"timestamp": pd.DatetimeIndex([], tz="UTC").as_unit("ms"), column: []})
    ts = _utc_ms(_field(rows, "timestamp", what), what)
    frame = pd.DataFrame({"timestamp": ts, column: _floats(_field(rows, "longShortRatio", what), what)})
    return frame.drop_duplicates("timestamp", keep="first")


def parse_ls_ratio(top_rows: Any, global_rows: Any, symbol: str = "") -> pd.DataFrame:
    """Top-account and global account ratios joined on the period timestamp (both must exist, BT-20)."""
    top = _ratio_frame(top_rows, "top_acct_ls_ratio", f"{symbol} top-account L/S ratio".strip())
    glob = _ratio_frame(global_rows, "global_ls_ratio", f"{symbol} global L/S ratio".strip())
    if top.empty or glob.empty:
        return empty_ls_ratio()
    joined = top.merge(glob, on="timestamp", how="inner").sort_values("timestamp", ignore_index=True)
    joined["timestamp"] = pd.DatetimeIndex(joined["timestamp"]).as_unit("ms")
    return joined[list(LS_RATIO_COLUMNS)]


def dedupe_ls_ratio(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per period (first record wins, like the warehouse), sorted; rows missing either ratio dropped.

    The collector's Parquet files hold duplicate timestamps (two cycles landing in the same period)."""
    missing = [c for c in LS_RATIO_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"L/S ratios: missing column(s) {missing}; expected {list(LS_RATIO_COLUMNS)}")
    out = frame[list(LS_RATIO_COLUMNS)].dropna()
    out = out.drop_duplicates("timestamp", keep="first").sort_values("timestamp", ignore_index=True)
    return out
