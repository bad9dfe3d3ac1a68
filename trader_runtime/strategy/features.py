"""The 26 ML features (spec 10 §4) — the one implementation used by the dataset builder, the backtester and the
live bot (REQ 10 §4.7). `compute_features` evaluates every row (batch) or only the rows from `start` on
(incremental); both paths run the same code, so their values are identical.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trader_runtime.strategy.zscore import rolling_zscore, trailing_nanmean

FEATURE_COLUMNS: tuple[str, ...] = (
    "rsi",
    "macd_hist",
    "bb_pct",
    "ema_align",
    "stoch_k",
    "stoch_d",
    "atr_pct",
    "vol_ratio",
    "ret_1",
    "ret_3",
    "ret_5",
    "signal_strength",
    "side",
    "btc_ret_1",
    "btc_ret_3",
    "btc_ret_5",
    "eth_ret_1",
    "eth_ret_3",
    "eth_ret_5",
    "primary_btc_rs",
    "primary_eth_rs",
    "oi_change",
    "funding_rate",
    "oi_change_ma5",
    "oi_price_spread",
    "adx",
)
CROSS_ASSET_COLUMNS = FEATURE_COLUMNS[13:21]
#: used when BTC or ETH data is absent (spec 10 §4.4)
FEATURE_COLUMNS_18 = tuple(c for c in FEATURE_COLUMNS if c not in CROSS_ASSET_COLUMNS)
#: optional columns that may be NaN in a valid row (no OI coverage yet, W-02)
OPTIONAL_FEATURES = ("oi_change", "funding_rate", "oi_change_ma5", "oi_price_spread")
#: 2: `oi_change` is the change over the candle known at its close (archive, REST and live agree); version 1 had
#: REST rows one candle behind. A model recording another version is refused by the trader (model_source.py).
FEATURE_SCHEMA_VERSION = 2

Z_GENERAL = 288  # 3 days of 15m candles
Z_OI = 96  # 1 day
#: rows of history needed so the last row's z288 window holds only mature indicator values (D11)
MIN_LIVE_CANDLES = 1000


def feature_columns_for(frame: pd.DataFrame) -> tuple[str, ...]:
    return FEATURE_COLUMNS if ("close_btc" in frame.columns and "close_eth" in frame.columns) else FEATURE_COLUMNS_18


def _returns(close: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros_like(close)
    if len(close) > n:
        out[n:] = close[n:] / close[:-n] - 1.0
    return out


def _missing_as_nan(frame: pd.DataFrame, col: str) -> np.ndarray:
    """0.0 = missing in legacy tables (spec 10 §1.3); NULL/absent = missing in ours."""
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    x = frame[col].to_numpy(dtype=np.float64).copy()
    x[x == 0.0] = np.nan
    return x


def compute_features(
    frame: pd.DataFrame,
    side: np.ndarray,
    strength: np.ndarray,
    start: int = 0,
) -> pd.DataFrame:
    """Feature rows for `frame` (combined schema + indicator columns).

    side: 1.0 LONG, 0.0 SHORT, NaN unknown (HOLD) per row; strength: score of that side (0 on HOLD).
    Rows before `start` are NaN (the incremental path asks for the last row only).
    """
    n = len(frame)
    start = max(0, min(int(start), n))
    sl = slice(start, n)
    close = frame["close"].to_numpy(np.float64)
    cols: dict[str, np.ndarray] = {}

    def raw(name: str, values: np.ndarray) -> None:
        cols[name] = values[sl]

    def z(name: str, values: np.ndarray, window: int = Z_GENERAL) -> np.ndarray:
        full = rolling_zscore(values, window, start)
        cols[name] = full[sl]
        return full

    raw("rsi", frame["rsi"].to_numpy(np.float64))
    raw("macd_hist", frame["macd_hist"].to_numpy(np.float64))
    bb_u, bb_l = frame["bb_upper"].to_numpy(np.float64), frame["bb_lower"].to_numpy(np.float64)
    raw("bb_pct", (close - bb_l) / (bb_u - bb_l + 1e-8))
    e9, e21, e50 = (frame[c].to_numpy(np.float64) for c in ("ema9", "ema21", "ema50"))
    with np.errstate(invalid="ignore"):
        align = np.where((e9 > e21) & (e21 > e50), 1.0, np.where((e9 < e21) & (e21 < e50), -1.0, 0.0))
    raw("ema_align", align)
    raw("stoch_k", frame["stoch_k"].to_numpy(np.float64))
    raw("stoch_d", frame["stoch_d"].to_numpy(np.float64))
    z("atr_pct", frame["atr"].to_numpy(np.float64) / (close + 1e-8))
    z("vol_ratio", frame["volume"].to_numpy(np.float64) / (frame["vol_ma20"].to_numpy(np.float64) + 1e-8))
    ret1 = _returns(close, 1)
    z_ret1 = z("ret_1", ret1)
    z("ret_3", _returns(close, 3))
    z("ret_5", _returns(close, 5))
    raw("signal_strength", np.asarray(strength, dtype=np.float64))
    raw("side", np.asarray(side, dtype=np.float64))

    if "close_btc" in frame.columns and "close_eth" in frame.columns:
        r1_32 = ret1.astype(np.float32)
        for asset in ("btc", "eth"):
            c = frame[f"close_{asset}"].to_numpy(np.float64)
            rets = {k: _returns(c, k).astype(np.float32) for k in (1, 3, 5)}
            for k, r in rets.items():
                z(f"{asset}_ret_{k}", r.astype(np.float64))
            b1 = rets[1]
            with np.errstate(divide="ignore", invalid="ignore"):
                rs = np.where(b1 != 0, r1_32 / np.where(b1 != 0, b1, np.float32(1)), np.float32(0)).astype(np.float32)
            z(f"primary_{asset}_rs", rs.astype(np.float64))

    o = _missing_as_nan(frame, "oi_change")
    f = _missing_as_nan(frame, "funding_rate")
    z_o = z("oi_change", o, Z_OI)
    z("funding_rate", f, Z_OI)
    z("oi_change_ma5", trailing_nanmean(o, 5, max(0, start - Z_OI)), Z_OI)
    raw("oi_price_spread", z_o - z_ret1)
    z("adx", frame["adx"].to_numpy(np.float64))

    names = [c for c in feature_columns_for(frame)]
    return pd.DataFrame({c: cols[c] for c in names}, index=frame.index[sl])


def side_feature(signal: np.ndarray) -> np.ndarray:
    """`side` feature from a signal array: 1.0 LONG, 0.0 SHORT, NaN HOLD."""
    return np.where(signal == 1, 1.0, np.where(signal == -1, 0.0, np.nan))
