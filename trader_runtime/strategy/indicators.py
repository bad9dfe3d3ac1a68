"""Technical indicators (spec 10 §2), computed by our compiled kernels with a fixed operation order.

pandas-ta 0.4.71b0 (talib=False) is the definition: `reference_indicators` calls it, and tests pin every column of
`compute_indicators` to it within 1e-9 relative (bit-identical except the simple moving averages). Why not call
pandas-ta directly: its SMA sums through a BLAS dot product whose order depends on the CPU, which changed signals
between machines (see `kernels`); and a per-candle step lets the live engine update in constant time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trader_runtime.strategy import kernels

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


def compute_indicators(df: pd.DataFrame) -> pd.DataFrame:
    """Indicator frame aligned with `df` (needs high/low/close/volume). Causal: row t uses rows <= t only."""
    buf = kernels.indicator_matrix(*(df[c].to_numpy(np.float64) for c in ("high", "low", "close", "volume")))
    out = buf[:, kernels.OUT0 : kernels.OUT0 + len(INDICATOR_COLUMNS)]
    return pd.DataFrame(out, index=df.index, columns=list(INDICATOR_COLUMNS))


def reference_indicators(df: pd.DataFrame) -> pd.DataFrame:
    """The same columns from pandas-ta (the definition; used by the tests and the equivalence check)."""
    import pandas_ta as ta  # heavy import, only for the reference

    close, high, low, volume = df["close"], df["high"], df["low"], df["volume"]
    macd = ta.macd(close, fast=12, slow=26, signal=9, talib=False)
    bb = ta.bbands(close, length=20, std=2, talib=False)
    stoch = ta.stochrsi(close, length=14, talib=False)
    cols = {
        "rsi": ta.rsi(close, length=14, talib=False),
        "macd": macd["MACD_12_26_9"],
        "macd_signal": macd["MACDs_12_26_9"],
        "macd_hist": macd["MACDh_12_26_9"],
        "bb_upper": bb.filter(like="BBU").iloc[:, 0],
        "bb_mid": bb.filter(like="BBM").iloc[:, 0],
        "bb_lower": bb.filter(like="BBL").iloc[:, 0],
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
