"""Market context of a walk-forward test window (spec 20 §8): BTC/ETH return, BTC regime, L/S ratio averages.

Rules (N/A policy): a window with fewer than `MIN_ROWS` candles, or a frame without the BTC/ETH columns, has no
context (`None`, shown as N/A) and the reason is returned beside it. BTC ADX(14) is the core indicator computed
on the window's BTC candles only (warm-up NaNs ignored; all NaN → 0). Regime: ADX ≥ 25 → "uptrend" when the
BTC return is > 0 else "downtrend" (a zero return counts as down), ADX < 25 → "range". L/S ratios: for each of
the fixed symbols, the mean of the rows in [start, end) (2 dp); a symbol without rows is omitted and no symbol
with rows gives `ls_ratio: None`. Nothing is fetched from the network.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from trader_runtime.domain.schema import BTC_COLUMNS, ETH_COLUMNS, OHLCV_COLUMNS
from trader_runtime.strategy.indicators import compute_indicators

MIN_ROWS = 20
#: the core indicator frame needs the MACD's 26 + 9 rows; a shorter window has no ADX (treated as all NaN → 0)
MIN_INDICATOR_ROWS = 35
TREND_ADX = 25.0
#: L/S ratio symbols shown in every context, independent of the traded symbols (spec 20 §8)
LS_SYMBOLS = {"xrp": "XRPUSDT", "btc": "BTCUSDT", "eth": "ETHUSDT"}
REGIME_UP, REGIME_DOWN, REGIME_RANGE = "uptrend", "downtrend", "range"


def _return_pct(close: pd.Series) -> float:
    first, last = float(close.iloc[0]), float(close.iloc[-1])
    return round((last - first) / first * 100.0, 1)


def btc_adx(window: pd.DataFrame) -> float:
    """Mean ADX(14) of the BTC candles of the window (core indicator, window-only history)."""
    if len(window) < MIN_INDICATOR_ROWS:
        return 0.0
    btc = window[list(BTC_COLUMNS)].rename(columns=dict(zip(BTC_COLUMNS, OHLCV_COLUMNS)))
    adx = compute_indicators(btc)["adx"].to_numpy(np.float64)
    adx = adx[np.isfinite(adx)]
    return round(float(adx.mean()), 1) if adx.size else 0.0


def classify_regime(adx: float, btc_return_pct: float) -> str:
    if adx >= TREND_ADX:
        return REGIME_UP if btc_return_pct > 0 else REGIME_DOWN
    return REGIME_RANGE


def ls_ratio_averages(
    ls_frames: Mapping[str, pd.DataFrame], start: pd.Timestamp, end: pd.Timestamp
) -> dict[str, dict[str, float]] | None:
    """{short name: {top_acct_avg, global_avg}} over [start, end); None when no symbol has rows."""
    out: dict[str, dict[str, float]] = {}
    for short in LS_SYMBOLS:
        frame = ls_frames.get(short)
        if frame is None or frame.empty:
            continue
        ts = pd.to_datetime(frame["timestamp"], utc=True)
        rows = frame[(ts >= start) & (ts < end)]
        if rows.empty:
            continue
        out[short] = {
            "top_acct_avg": round(float(rows["top_acct_ls_ratio"].mean()), 2),
            "global_avg": round(float(rows["global_ls_ratio"].mean()), 2),
        }
    return out or None


def market_context(
    frame: pd.DataFrame, ls_frames: Mapping[str, pd.DataFrame], start: pd.Timestamp, end: pd.Timestamp
) -> tuple[dict[str, object] | None, str | None]:
    """(context, reason it is missing). `frame` is a combined 15m frame with a UTC index."""
    if not all(c in frame.columns for c in BTC_COLUMNS + ETH_COLUMNS):
        return None, "the market data has no BTC/ETH columns"
    window = frame[(frame.index >= start) & (frame.index < end)]
    if len(window) < MIN_ROWS:
        return None, f"only {len(window)} candles in the window (need {MIN_ROWS})"
    btc_ret = _return_pct(window["close_btc"])
    adx = btc_adx(window)
    context = {
        "btc_return_pct": btc_ret,
        "eth_return_pct": _return_pct(window["close_eth"]),
        "btc_avg_adx": adx,
        "market_regime": classify_regime(adx, btc_ret),
        "ls_ratio": ls_ratio_averages(ls_frames, start, end),
    }
    return context, None
