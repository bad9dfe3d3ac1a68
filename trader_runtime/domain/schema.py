"""The combined 15-minute table (spec 10 §1.1): one row per closed candle of the traded symbol."""

from __future__ import annotations

import pandas as pd

from trader_runtime.errors import DataError

BAR = pd.Timedelta(minutes=15)
BAR_MS = 15 * 60 * 1000

OHLCV_COLUMNS = ("open", "high", "low", "close", "volume")
BTC_COLUMNS = tuple(f"{c}_btc" for c in OHLCV_COLUMNS)
ETH_COLUMNS = tuple(f"{c}_eth" for c in OHLCV_COLUMNS)
OI_FUNDING_COLUMNS = ("oi_change", "funding_rate")
COMBINED_COLUMNS = OHLCV_COLUMNS + BTC_COLUMNS + ETH_COLUMNS + OI_FUNDING_COLUMNS
#: optional market-metric inputs of the ML features, each the 5-minute archive value observed at the candle's close
#: (open interest in USDT, top-trader and all-accounts long/short account ratios, taker buy/sell volume ratio of the
#: last 5 minutes). Not stored in `candles_15m` (they live raw in `metrics_5m`); missing = NaN, 0.0 = missing.
METRIC_INPUT_COLUMNS = ("oi_value", "top_acct_ls_ratio", "global_ls_ratio", "taker_ls_vol_ratio")
LS_RATIO_COLUMNS = ("timestamp", "top_acct_ls_ratio", "global_ls_ratio")
_ALLOWED = COMBINED_COLUMNS + METRIC_INPUT_COLUMNS


def validate_combined_frame(df: pd.DataFrame, *, source: str = "frame") -> pd.DataFrame:
    """Return a canonical copy (UTC `timestamp` index, float64 columns, sorted) or raise DataError.

    Accepts either a `timestamp` index or a `timestamp` column. BTC/ETH, OI/funding and the market-metric input
    columns (`METRIC_INPUT_COLUMNS`, after the combined ones) are optional, the five primary OHLCV columns are not.
    """
    if "timestamp" in df.columns:
        df = df.set_index("timestamp")
    if not isinstance(df.index, pd.DatetimeIndex):
        raise DataError(f"{source}: expected a 'timestamp' index or column of datetimes, got {type(df.index).__name__}")
    missing = [c for c in OHLCV_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{source}: missing required column(s) {missing}; expected the combined 15m schema {list(COMBINED_COLUMNS)}")
    unknown = [c for c in df.columns if c not in _ALLOWED]
    if unknown:
        raise DataError(f"{source}: unexpected column(s) {unknown}; expected a subset of {list(COMBINED_COLUMNS)} "
                        f"(optionally with {list(METRIC_INPUT_COLUMNS)})")
    for group in (BTC_COLUMNS, ETH_COLUMNS):
        present = [c for c in group if c in df.columns]
        if present and len(present) != len(group):
            raise DataError(f"{source}: incomplete correlation columns {present}; need all of {list(group)}")
    idx = df.index
    if idx.tz is None:
        raise DataError(f"{source}: timestamps are timezone-naive; the combined table must be UTC-aware")
    out = df.copy()
    out.index = idx.tz_convert("UTC").as_unit("ms")
    out.index.name = "timestamp"
    for col, dtype in out.dtypes.items():
        if not pd.api.types.is_numeric_dtype(dtype):
            raise DataError(f"{source}: column {col!r} has non-numeric dtype {dtype}")
    if not (out.dtypes == "float64").all():
        out = out.astype("float64")
    if out[list(OHLCV_COLUMNS)].isna().any().any():
        bad = out.index[out[list(OHLCV_COLUMNS)].isna().any(axis=1)][:5]
        raise DataError(f"{source}: NaN in OHLCV at {list(map(str, bad))}")
    _check_grid(out.index, source)
    _check_values(out, source)
    out = drop_identical_duplicates(out, source).sort_index()
    ordered = [c for c in _ALLOWED if c in out.columns]
    return out[ordered]


def _first(idx: pd.Index, n: int = 3) -> str:
    shown = ", ".join(str(t) for t in idx[:n])
    return shown + (f" and {len(idx) - n} more" if len(idx) > n else "")


def _check_grid(idx: pd.DatetimeIndex, source: str) -> None:
    """Candles open on the 15-minute grid; an off-grid stamp is a different bar size or a corrupted time."""
    off = idx[idx.as_unit("ms").asi8 % BAR_MS != 0]
    if len(off):
        raise DataError(f"{source}: {len(off)} timestamp(s) off the 15-minute grid: {_first(off)}")


def _check_values(frame: pd.DataFrame, source: str) -> None:
    """Prices finite and positive, volumes finite and non-negative, nothing infinite. NaN stays allowed where it
    means "missing" (BTC/ETH candles, OI change, funding)."""
    import numpy as np

    for col in frame.columns:
        values = frame[col].to_numpy(dtype="float64")
        bad = np.isinf(values)
        if col in OHLCV_COLUMNS or col in BTC_COLUMNS or col in ETH_COLUMNS:
            is_volume = col.startswith("volume")
            with np.errstate(invalid="ignore"):
                bad |= (values < 0) if is_volume else (values <= 0)
            what = "finite and >= 0" if is_volume else "finite and > 0"
        else:
            what = "finite or missing"
        if bad.any():
            raise DataError(f"{source}: column {col!r} must be {what}; bad value(s) at {_first(frame.index[bad])}")


def drop_identical_duplicates(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Drop rows repeated with identical values; refuse timestamps repeated with different values, naming them —
    which of two conflicting candles is right cannot be decided here."""
    dup = frame.index.duplicated(keep=False)
    if not dup.any():
        return frame
    rows = frame[dup]
    keyed = rows.reset_index()
    same = keyed.duplicated(keep=False)  # the whole row (timestamp + values) repeats; NaN equals NaN here
    conflicting = pd.DatetimeIndex(keyed.loc[~same, keyed.columns[0]].unique())
    if len(conflicting):
        raise DataError(
            f"{source}: {len(conflicting)} timestamp(s) appear more than once with different values: "
            f"{_first(conflicting)}; keep one row per candle"
        )
    return frame[~frame.index.duplicated(keep="first")]


def count_duplicate_rows(frame: pd.DataFrame) -> int:
    """How many rows `drop_identical_duplicates` would drop (for reports)."""
    idx = frame.set_index("timestamp").index if "timestamp" in frame.columns else frame.index
    return int(pd.Index(idx).duplicated(keep="first").sum())
