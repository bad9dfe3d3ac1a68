"""Deterministic candle frames for the fake exchange tests (combined schema, BTC/ETH columns included)."""

from __future__ import annotations

import numpy as np
import pandas as pd

START = pd.Timestamp("2025-03-01 00:00", tz="UTC")


def make_candles(closes: list[float] | np.ndarray, *, wick: float = 0.001, with_corr: bool = True,
                 start: pd.Timestamp = START) -> pd.DataFrame:
    """Combined-schema frame whose candle i opens at close i-1 and closes at `closes[i]` (wicks ± `wick`)."""
    close = np.asarray(closes, dtype="float64")
    open_ = np.concatenate(([close[0]], close[:-1]))
    frame = pd.DataFrame(
        {"open": open_, "high": np.maximum(open_, close) * (1 + wick), "low": np.minimum(open_, close) * (1 - wick),
         "close": close, "volume": np.full(len(close), 150_000.0)},
        index=pd.date_range(start, periods=len(close), freq="15min", tz="UTC", unit="ms", name="timestamp"),
    )
    if with_corr:
        for suffix, scale in (("btc", 32_000.0), ("eth", 800.0)):
            for col in ("open", "high", "low", "close"):
                frame[f"{col}_{suffix}"] = frame[col] * scale
            frame[f"volume_{suffix}"] = 1_000.0
    return frame


def flat_closes(n: int = 60, price: float = 2.5) -> np.ndarray:
    """A gently oscillating series that stays within ±0.2 % of `price` (no stop is crossed by accident)."""
    return price * (1 + 0.001 * np.sin(np.arange(n)))
