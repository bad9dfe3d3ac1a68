"""Technical indicators (spec 10 §2). pandas-ta is the source of truth; TA-Lib is never used (talib=False).

The Bollinger bands are evaluated window by window (see `_window_mean_std`) and pinned to pandas-ta by a test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas_ta as ta
from numba import njit

INDICATOR_COLUMNS = (
    "rsi",
    "macd",
    "macd_signal",
    "macd_hist",
    "bb_upper",
    "bb_mid",
    "bb_lower",
    "ema9",
    "ema21",
    "ema50",
    "atr",
    "stoch_k",
    "stoch_d",
    "adx",
    "vol_ma20",
)

#: all indicators are valid from this row on a gap-free series; the backtester never trades before it
INDICATOR_WARMUP = 60


@njit(cache=True)
def _window_mean_std_kernel(x: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    n = x.shape[0]
    mean = np.full(n, np.nan)
    std = np.full(n, np.nan)
    for t in range(length - 1, n):
        s = 0.0
        for j in range(t - length + 1, t + 1):
            s += x[j]
        m = s / length
        ss = 0.0
        for j in range(t - length + 1, t + 1):
            ss += (x[j] - m) * (x[j] - m)
        mean[t] = m
        std[t] = np.sqrt(ss / (length - 1))
    return mean, std


def _window_mean_std(x: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Bollinger mid (SMA) and sample stdev (ddof=1), each from its own window only.

    Same definition as `ta.bbands(length=20, std=2)` (a test pins the two within 1e-9 relative), but pandas'
    online rolling variance carries rounding error from the first row of the series, so the value at a candle
    would depend on how much history precedes it and batch and live features would drift apart (~1e-9).
    """
    return _window_mean_std_kernel(np.ascontiguousarray(x), int(length))


def compute_indicators(df: pd.DataFrame) -> pd.DataFrame:
    """Indicator frame aligned with `df` (needs open/high/low/close/volume). Causal: row t uses rows <= t only."""
    close, high, low, volume = df["close"], df["high"], df["low"], df["volume"]
    macd = ta.macd(close, fast=12, slow=26, signal=9, talib=False)
    bb_mid, bb_std = _window_mean_std(close.to_numpy(np.float64), 20)
    stoch = ta.stochrsi(close, length=14, talib=False)
    cols = {
        "rsi": ta.rsi(close, length=14, talib=False),
        "macd": macd["MACD_12_26_9"],
        "macd_signal": macd["MACDs_12_26_9"],
        "macd_hist": macd["MACDh_12_26_9"],
        "bb_upper": pd.Series(bb_mid + 2.0 * bb_std),
        "bb_mid": pd.Series(bb_mid),
        "bb_lower": pd.Series(bb_mid - 2.0 * bb_std),
        "ema9": ta.ema(close, length=9, talib=False),
        "ema21": ta.ema(close, length=21, talib=False),
        "ema50": ta.ema(close, length=50, talib=False),
        "atr": ta.atr(high, low, close, length=14, talib=False),
        "stoch_k": stoch["STOCHRSIk_14_14_3_3"],
        "stoch_d": stoch["STOCHRSId_14_14_3_3"],
        "adx": ta.adx(high, low, close, length=14, talib=False)["ADX_14"],
        "vol_ma20": ta.sma(volume, length=20, talib=False),
    }
    return pd.DataFrame({k: v.to_numpy(dtype="float64") for k, v in cols.items()}, index=df.index)
