"""Live (incremental) path: a rolling buffer of closed candles evaluated with the batch functions.

The buffer keeps at least `MIN_LIVE_CANDLES` (D11) so that EMA/RMA initialisation has decayed below 1e-12 and
every z288 window of the decision row contains only mature values; the last row then equals the batch value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trader_runtime.config import StrategyParams
from trader_runtime.domain.schema import BAR, validate_combined_frame
from trader_runtime.errors import DataError
from trader_runtime.strategy.features import MIN_LIVE_CANDLES, compute_features, side_feature
from trader_runtime.strategy.indicators import compute_indicators
from trader_runtime.strategy.signals import score_sides, signals_from_scores


@dataclass(frozen=True, slots=True)
class CandleDecisionInput:
    """Everything the per-candle decision needs about the candle that just closed."""

    time: pd.Timestamp  # open time of the decision candle (UTC)
    close: float
    high: float
    low: float
    open: float
    atr: float
    signal: int  # 1 LONG, -1 SHORT, 0 HOLD
    long_score: int
    short_score: int
    vol_surge: bool
    hold_reason: str
    features: pd.Series  # FEATURE_COLUMNS order; side/strength of the live signal
    ready: bool  # buffer long enough to trade (D11)
    buffered: int


class IncrementalFeatureEngine:
    """Rolling per-symbol buffer merged by open time; `update` returns the decision input of the newest candle."""

    def __init__(
        self,
        symbol: str,
        params: StrategyParams,
        *,
        min_candles: int = MIN_LIVE_CANDLES,
        max_candles: int | None = None,
    ) -> None:
        self.symbol = symbol
        self.params = params
        self.min_candles = min_candles
        self.max_candles = max_candles or min_candles
        if self.max_candles < self.min_candles:
            raise DataError(f"{symbol}: max_candles={self.max_candles} must be >= min_candles={self.min_candles}")
        self._buf: pd.DataFrame | None = None

    @property
    def last_time(self) -> pd.Timestamp | None:
        return None if self._buf is None or self._buf.empty else self._buf.index[-1]

    def __len__(self) -> int:
        return 0 if self._buf is None else len(self._buf)

    def seed(self, history: pd.DataFrame) -> None:
        """Replace the buffer with the newest closed candles of `history` (combined schema)."""
        df = validate_combined_frame(history, source=f"{self.symbol} history")
        self._buf = df.iloc[-self.max_candles :].copy()

    def append(self, candles: pd.DataFrame) -> None:
        """Add closed candles; a repeated open time replaces the stored row, an older one is refused."""
        if self._buf is None or self._buf.empty:
            self.seed(candles)
            return
        new = self._conform(candles)
        last = self._buf.index[-1]
        if new.index[0] < last:
            raise DataError(f"{self.symbol}: candle {new.index[0]} is older than the buffer's last candle {last}")
        if new.index[0] > last + BAR:
            # a gap: keep the buffer but never pretend it is continuous; callers reseed from the store
            raise DataError(f"{self.symbol}: gap between {last} and {new.index[0]}; reseed the buffer from history")
        buf = pd.concat([self._buf[self._buf.index < new.index[0]], new])
        self._buf = buf.iloc[-self.max_candles :]

    def _conform(self, candles: pd.DataFrame) -> pd.DataFrame:
        """Cheap per-candle validation against the buffer's schema (the full check ran at seed time)."""
        assert self._buf is not None
        df = candles.set_index("timestamp") if "timestamp" in candles.columns else candles
        if not isinstance(df.index, pd.DatetimeIndex) or df.index.tz is None:
            raise DataError(f"{self.symbol}: candles need a UTC-aware 'timestamp' index")
        missing = [c for c in self._buf.columns if c not in df.columns]
        if missing:
            raise DataError(f"{self.symbol}: candle lacks column(s) {missing} present in the buffer")
        df = df[list(self._buf.columns)].astype("float64")
        if df[["open", "high", "low", "close", "volume"]].isna().to_numpy().any():
            raise DataError(f"{self.symbol}: NaN in OHLCV of candle(s) {list(map(str, df.index))}")
        df.index = df.index.tz_convert("UTC").as_unit("ms")
        df.index.name = "timestamp"
        return df.sort_index()

    def update(self, candles: pd.DataFrame) -> CandleDecisionInput:
        self.append(candles)
        return self.evaluate()

    def evaluate(self) -> CandleDecisionInput:
        """Indicators, signal and features of the newest buffered candle."""
        if self._buf is None or self._buf.empty:
            raise DataError(f"{self.symbol}: no candles buffered")
        frame = self._buf.join(compute_indicators(self._buf))
        long_score, short_score = score_sides(frame)
        tail = slice(len(frame) - 1, len(frame))
        sig = signals_from_scores(
            long_score[tail],
            short_score[tail],
            frame["volume"].to_numpy()[tail],
            frame["vol_ma20"].to_numpy()[tail],
            frame["adx"].to_numpy()[tail],
            self.params,
        )
        side = np.full(len(frame), np.nan)
        strength = np.zeros(len(frame), dtype=np.int8)
        side[-1] = side_feature(sig.signal)[0]
        strength[-1] = sig.strength[0]
        feats = compute_features(frame, side, strength, start=len(frame) - 1).iloc[-1]
        row = frame.iloc[-1]
        return CandleDecisionInput(
            time=frame.index[-1],
            close=float(row["close"]),
            high=float(row["high"]),
            low=float(row["low"]),
            open=float(row["open"]),
            atr=float(row["atr"]),
            signal=int(sig.signal[0]),
            long_score=int(long_score[-1]),
            short_score=int(short_score[-1]),
            vol_surge=bool(sig.vol_surge[0]),
            hold_reason=sig.hold_reason(0),
            features=feats,
            ready=len(frame) >= self.min_candles,
            buffered=len(frame),
        )
