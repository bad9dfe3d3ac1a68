"""A data set prepared once for the MTF pullback: 15m arrays, hourly candles and cached indicator columns.

Indicators follow spec 10 §2 through pandas-ta (SMA-seeded EMA, RMA-based ATR/ADX, SMA including the current
candle). Every cached column is causal: the value at candle i uses candles ≤ i only (hourly ones through the
visibility rule of `hourly.py`), so a sweep can share them across parameter sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandas_ta as ta

from trader_runtime.domain.schema import validate_combined_frame
from trader_runtime.errors import DataError
from trader_runtime.strategy.mtf_pullback.hourly import HourlyCandles, attach, hourly_from_15m, visible_hour
from trader_runtime.strategy.mtf_pullback.params import MTFParams

META_HOLD, META_LONG, META_SHORT = 0, 1, -1


def _f64(series: pd.Series | None, n: int) -> np.ndarray:
    if series is None:  # pandas-ta returns None when the series is shorter than the length
        return np.full(n, np.nan)
    return np.ascontiguousarray(series.to_numpy(dtype=np.float64))


def ema(values: np.ndarray, length: int) -> np.ndarray:
    return _f64(ta.ema(pd.Series(values), length=length, talib=False), values.shape[0])


def sma(values: np.ndarray, length: int) -> np.ndarray:
    return _f64(ta.sma(pd.Series(values), length=length, talib=False), values.shape[0])


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, length: int) -> np.ndarray:
    out = ta.atr(pd.Series(high), pd.Series(low), pd.Series(close), length=length, talib=False)
    return _f64(out, close.shape[0])


def adx(high: np.ndarray, low: np.ndarray, close: np.ndarray, length: int) -> np.ndarray:
    out = ta.adx(pd.Series(high), pd.Series(low), pd.Series(close), length=length, talib=False)
    return _f64(None if out is None else out[f"ADX_{length}"], close.shape[0])


def meta_direction(ema_fast: np.ndarray, ema_slow: np.ndarray, adx_values: np.ndarray, threshold: float) -> np.ndarray:
    """Trend filter per 15m candle (B.3): HOLD when a value is missing or ADX < threshold (ADX = threshold passes);
    LONG when the fast EMA is above the slow one, SHORT below, HOLD when equal."""
    with np.errstate(invalid="ignore"):
        valid = ~(np.isnan(ema_fast) | np.isnan(ema_slow) | np.isnan(adx_values)) & (adx_values >= threshold)
        out = np.where(ema_fast > ema_slow, META_LONG, np.where(ema_fast < ema_slow, META_SHORT, META_HOLD))
    return np.ascontiguousarray(np.where(valid, out, META_HOLD).astype(np.int8))


def hourly_indicators(h: HourlyCandles, params: MTFParams) -> dict[str, np.ndarray]:
    """EMA fast/slow, ADX and ATR per hourly candle."""
    return {
        "ema_fast": ema(h.close, params.ema_fast_1h),
        "ema_slow": ema(h.close, params.ema_slow_1h),
        "adx": adx(h.high, h.low, h.close, params.adx_length),
        "atr": atr(h.high, h.low, h.close, params.atr_length),
    }


@dataclass
class MTFMarket:
    """Validated 15m candles of one symbol with their hourly candles; indicator columns are computed on demand."""

    symbol: str
    index: pd.DatetimeIndex
    time_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    hourly: HourlyCandles
    hour_idx: np.ndarray  # visible hourly candle per 15m candle (−1 = none yet)
    _cache: dict[tuple, object] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return int(self.time_ms.shape[0])

    @property
    def hours_seen(self) -> np.ndarray:
        """Closed hourly candles visible to each 15m candle."""
        return self.hour_idx + 1

    def trigger_columns(self, params: MTFParams) -> tuple[np.ndarray, np.ndarray]:
        """(15m trigger EMA, 15m volume SMA)."""
        key = ("trigger", params.trigger_ema, params.volume_sma)
        if key not in self._cache:
            self._cache[key] = (ema(self.close, params.trigger_ema), sma(self.volume, params.volume_sma))
        return self._cache[key]  # type: ignore[return-value]

    def hourly_columns(self, params: MTFParams) -> dict[str, np.ndarray]:
        """Hourly EMA fast/slow, ADX and ATR, per hourly candle (not yet attached)."""
        key = ("hourly", params.ema_fast_1h, params.ema_slow_1h, params.adx_length, params.atr_length)
        if key not in self._cache:
            self._cache[key] = hourly_indicators(self.hourly, params)
        return self._cache[key]  # type: ignore[return-value]

    def attached(self, params: MTFParams) -> dict[str, np.ndarray]:
        """Hourly columns as each 15m candle sees them (B.2 visibility rule)."""
        key = ("attached", params.ema_fast_1h, params.ema_slow_1h, params.adx_length, params.atr_length)
        if key not in self._cache:
            self._cache[key] = {k: attach(v, self.hour_idx) for k, v in self.hourly_columns(params).items()}
        return self._cache[key]  # type: ignore[return-value]

    def meta(self, params: MTFParams) -> np.ndarray:
        key = ("meta", params.ema_fast_1h, params.ema_slow_1h, params.adx_length, params.atr_length, params.adx_threshold)
        if key not in self._cache:
            a = self.attached(params)
            self._cache[key] = meta_direction(a["ema_fast"], a["ema_slow"], a["adx"], params.adx_threshold)
        return self._cache[key]  # type: ignore[return-value]

    def indicator_frame(self, params: MTFParams) -> pd.DataFrame:
        """Every column a decision reads, one row per 15m candle (for checks, reports and debugging)."""
        ema_t, vol_sma = self.trigger_columns(params)
        a = self.attached(params)
        return pd.DataFrame(
            {
                "close": self.close,
                "volume": self.volume,
                "trigger_ema": ema_t,
                "volume_sma": vol_sma,
                "ema_fast_1h": a["ema_fast"],
                "ema_slow_1h": a["ema_slow"],
                "adx_1h": a["adx"],
                "atr_1h": a["atr"],
                "meta": self.meta(params),
                "hours_seen": self.hours_seen,
            },
            index=self.index,
        )


def prepare_mtf(df: pd.DataFrame, symbol: str = "XRPUSDT", history_start: pd.Timestamp | None = None) -> MTFMarket:
    """Validate a combined 15m frame (closed candles only) and build its hourly candles.

    `history_start` drops earlier rows before anything is computed (the research script's START − 250 h slice).
    """
    base = validate_combined_frame(df, source=symbol)
    if history_start is not None:
        base = base.loc[base.index >= history_start]
    if base.empty:
        raise DataError(f"{symbol}: no candles" + (f" from {history_start}" if history_start is not None else ""))
    time_ms = base.index.as_unit("ms").asi8.astype(np.int64)

    def col(name: str) -> np.ndarray:
        return np.ascontiguousarray(base[name].to_numpy(np.float64))

    o, h, l, c, v = col("open"), col("high"), col("low"), col("close"), col("volume")
    hourly = hourly_from_15m(time_ms, o, h, l, c, v)
    return MTFMarket(
        symbol=symbol,
        index=base.index,  # type: ignore[arg-type]
        time_ms=time_ms,
        open=o,
        high=h,
        low=l,
        close=c,
        volume=v,
        hourly=hourly,
        hour_idx=visible_hour(time_ms, hourly.open_ms),
    )
