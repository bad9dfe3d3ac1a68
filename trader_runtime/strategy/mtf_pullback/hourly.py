"""Hourly candles built from closed 15-minute candles, and the rule saying which hour a 15m decision may see.

Visibility (spec 40 §B.2.3, decision MTF-B): an hour [H, H+1h) becomes usable only from the 15m candle that
*opens* at H+1h or later, so the candle opening at T (decided at its close T+15 min) uses the hour that opened at
`floor_hour(T) − 1h` (after a gap: the latest one before). Every 15m candle inside a usable hour opened before T
and closed by T, so nothing from the future of a decision reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MS_PER_HOUR = 3_600_000


@dataclass(frozen=True)
class HourlyCandles:
    """Clock-hour candles (left-closed, labelled by their open time); hours without any 15m candle are absent."""

    open_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    bars: np.ndarray  # number of 15m candles in the hour (1…4); kept as is, like the research script

    def __len__(self) -> int:
        return int(self.open_ms.shape[0])

    @property
    def close_ms(self) -> np.ndarray:
        return self.open_ms + MS_PER_HOUR

    def frame(self) -> pd.DataFrame:
        idx = pd.to_datetime(self.open_ms, unit="ms", utc=True)
        return pd.DataFrame(
            {"open": self.open, "high": self.high, "low": self.low, "close": self.close, "volume": self.volume, "bars": self.bars},
            index=pd.DatetimeIndex(idx, name="timestamp"),
        )


def hourly_from_15m(time_ms: np.ndarray, open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray) -> HourlyCandles:
    """Group sorted closed 15m candles by clock hour: first open, max high, min low, last close, summed volume."""
    hour = time_ms // MS_PER_HOUR
    if hour.size == 0:
        empty = np.empty(0, dtype=np.float64)
        return HourlyCandles(np.empty(0, dtype=np.int64), empty, empty, empty, empty, empty, np.empty(0, dtype=np.int64))
    starts = np.flatnonzero(np.r_[True, hour[1:] != hour[:-1]])
    ends = np.r_[starts[1:], hour.size]
    return HourlyCandles(
        open_ms=hour[starts] * MS_PER_HOUR,
        open=open_[starts],
        high=np.maximum.reduceat(high, starts),
        low=np.minimum.reduceat(low, starts),
        close=close[ends - 1],
        volume=np.add.reduceat(volume, starts),
        bars=(ends - starts).astype(np.int64),
    )


def visible_hour(time_ms: np.ndarray, hourly_open_ms: np.ndarray) -> np.ndarray:
    """Index of the hourly candle each 15m candle (by open time) may use, −1 when none has closed yet.

    Backward as-of match of the candle's open time on the hour's close time (an hour closing exactly at T counts).
    """
    return np.searchsorted(hourly_open_ms + MS_PER_HOUR, time_ms, side="right").astype(np.int64) - 1


def attach(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Hourly values gathered onto 15m candles through `visible_hour` (NaN where no hour is visible)."""
    out = np.full(index.shape[0], np.nan)
    ok = index >= 0
    out[ok] = values[index[ok]]
    return out
