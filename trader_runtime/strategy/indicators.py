"""Technical indicators (spec 10 §2). pandas-ta is the source of truth; TA-Lib is never used (talib=False)."""

from __future__ import annotations

import pandas as pd
import pandas_ta as ta

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
    """Indicator frame aligned with `df` (needs open/high/low/close/volume). Causal: row t uses rows <= t only."""
    close, high, low, volume = df["close"], df["high"], df["low"], df["volume"]
    out = pd.DataFrame(index=df.index)
    out["rsi"] = ta.rsi(close, length=14, talib=False)
    macd = ta.macd(close, fast=12, slow=26, signal=9, talib=False)
    out["macd"] = macd["MACD_12_26_9"]
    out["macd_signal"] = macd["MACDs_12_26_9"]
    out["macd_hist"] = macd["MACDh_12_26_9"]
    bb = ta.bbands(close, length=20, std=2, talib=False)
    out["bb_upper"] = bb.filter(like="BBU_20").iloc[:, 0]
    out["bb_mid"] = bb.filter(like="BBM_20").iloc[:, 0]
    out["bb_lower"] = bb.filter(like="BBL_20").iloc[:, 0]
    for n in (9, 21, 50):
        out[f"ema{n}"] = ta.ema(close, length=n, talib=False)
    out["atr"] = ta.atr(high, low, close, length=14, talib=False)
    stoch = ta.stochrsi(close, length=14, talib=False)
    out["stoch_k"] = stoch["STOCHRSIk_14_14_3_3"]
    out["stoch_d"] = stoch["STOCHRSId_14_14_3_3"]
    out["adx"] = ta.adx(high, low, close, length=14, talib=False)["ADX_14"]
    out["vol_ma20"] = ta.sma(volume, length=20, talib=False)
    return out.astype("float64")
