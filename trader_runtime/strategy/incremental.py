"""Live (streaming) path: per-symbol indicator state advanced one closed candle at a time, constant work per candle.

The engine runs the batch kernels (`kernels.indicator_rows`, `features.feature_rows`) on a rolling buffer that keeps
the last `KEEP` rows, which covers every window a value reads, and the signal rules through their compiled row form
(`signals.signal_row`); so a candle's indicators, signal and features are the bits the batch path computes for that
candle over the same history. `seed` runs the whole history through the
indicator step once (D11: at least `MIN_LIVE_CANDLES` before trading).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from trader_runtime.config import StrategyParams
from trader_runtime.domain.schema import BAR_MS, validate_combined_frame
from trader_runtime.errors import DataError
from trader_runtime.strategy import kernels
from trader_runtime.strategy.features import (
    FEATURE_COLUMNS,
    FEATURE_COLUMNS_18,
    FEATURE_LOOKBACK,
    MIN_LIVE_CANDLES,
    ZSCORED_INPUTS,
    feature_rows,
    input_columns,
)
from trader_runtime.strategy.indicators import INDICATOR_COLUMNS
from trader_runtime.strategy.signals import signal_row

#: rows kept behind the newest candle (the longest window any indicator or feature reads, plus margin)
KEEP = max(kernels.LOOKBACK, FEATURE_LOOKBACK) + 16
#: buffer rows; when full, the last KEEP rows move to the front (amortised O(1) per candle)
CAPACITY = 4 * KEEP
_OHLCV = ("open", "high", "low", "close", "volume")
_BUF_OF = {"high": kernels.HIGH, "low": kernels.LOW, "close": kernels.CLOSE, "volume": kernels.VOLUME,
           **{c: kernels.OUT0 + i for i, c in enumerate(INDICATOR_COLUMNS)}}
_FEATURE_INPUTS = input_columns()
#: feature index of a decision row, built once (an index of strings is costly to build per candle)
_NAMES = {True: pd.Index(FEATURE_COLUMNS), False: pd.Index(FEATURE_COLUMNS_18)}
_SELECT_18 = np.array([FEATURE_COLUMNS.index(c) for c in FEATURE_COLUMNS_18], dtype=np.int64)
_F_STRENGTH, _F_SIDE = FEATURE_COLUMNS.index("signal_strength"), FEATURE_COLUMNS.index("side")
_METRIC0 = len(_FEATURE_INPUTS) - len(ZSCORED_INPUTS)
#: feature inputs that are buffer columns (candle close and indicators), copied after each indicator step
_X_FROM_BUF = np.array([j for j, c in enumerate(_FEATURE_INPUTS) if c in _BUF_OF], dtype=np.int64)
_NO_ROW = np.full(kernels.N_BUF, np.nan)
#: buffer columns `signal_row` reads from the decision candle's row
_ROW_INPUTS = np.array([kernels.RSI, kernels.MACD, kernels.MACD_SIGNAL, kernels.CLOSE, kernels.BB_LOWER,
                        kernels.BB_UPPER, kernels.EMA9, kernels.EMA21, kernels.EMA50, kernels.STOCH_K,
                        kernels.STOCH_D, kernels.VOLUME, kernels.VOL_MA20, kernels.ADX], dtype=np.int64)  # fmt: skip
_BUF_TO_X = np.array([_BUF_OF[c] for c in _FEATURE_INPUTS if c in _BUF_OF], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class CandleDecisionInput:
    """Everything the per-candle decision needs about the candle that just closed.

    The features are kept as values plus names: a pandas Series costs more to build than the whole decision, and
    most candles never need one (`features` builds it on demand)."""

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
    feature_values: np.ndarray  # float64, in `feature_names` order; side/strength of the live signal
    feature_names: pd.Index
    ready: bool  # enough history to trade (D11)
    buffered: int

    @property
    def features(self) -> pd.Series:
        """The feature row as a Series named by the candle time (a copy: the caller may keep or change it)."""
        return pd.Series(self.feature_values.copy(), index=self.feature_names, name=self.time)

    def feature(self, name: str) -> float | None:
        """One feature's value, None if this strategy has no feature of that name."""
        try:
            loc = self.feature_names.get_loc(name)
        except KeyError:
            return None
        return float(self.feature_values[loc])


class IncrementalFeatureEngine:
    """Per-symbol streaming state; `update` adds closed candles and returns the decision input of the newest."""

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
        #: history the caller seeds with (the engine itself keeps only KEEP rows)
        self.max_candles = max_candles or min_candles
        if self.max_candles < self.min_candles:
            raise DataError(f"{symbol}: max_candles={self.max_candles} must be >= min_candles={self.min_candles}")
        self._columns: tuple[str, ...] = ()
        self._has_cross = False
        self._rows = 0  # valid buffer rows
        self._g0 = 0  # series row of buffer row 0
        self._times = np.zeros(CAPACITY, dtype=np.int64)
        self._open = np.zeros(CAPACITY)
        self._ind = np.zeros((CAPACITY, kernels.N_BUF))
        self._x = np.zeros((CAPACITY, len(_FEATURE_INPUTS)))
        self._state = kernels.new_state()
        self._prev_state = self._state.copy()
        self._column_set: frozenset[str] = frozenset()
        self._x_inputs: tuple[tuple[int, str], ...] = ()  # (input column, candle field) the candle carries
        self._volume_multiplier = float(params.volume_multiplier)
        self._threshold = int(params.signal_threshold)
        self._adx_threshold = float(params.adx_threshold)

    # ------------------------------------------------------------------ buffer bookkeeping
    @property
    def seen(self) -> int:
        """Candles processed since the last seed (the series length behind the newest candle)."""
        return self._g0 + self._rows

    @property
    def last_time(self) -> pd.Timestamp | None:
        if self._rows == 0:
            return None
        return pd.Timestamp(int(self._times[self._rows - 1]), unit="ms", tz="UTC")

    def __len__(self) -> int:
        return min(self.seen, self.max_candles)

    def seed(self, history: pd.DataFrame) -> None:
        """Start over from `history` (combined schema, oldest first): run every candle through the indicator step."""
        df = validate_combined_frame(history, source=f"{self.symbol} history")
        self._columns = tuple(df.columns)
        self._column_set = frozenset(self._columns)
        self._x_inputs = tuple((j, c) for j, c in enumerate(_FEATURE_INPUTS)
                               if c in self._column_set and j not in _X_FROM_BUF)  # fmt: skip
        self._has_cross = "close_btc" in df.columns and "close_eth" in df.columns
        n = len(df)
        self._state = kernels.new_state()
        self._g0, self._rows = 0, 0
        if n == 0:
            return
        ind = np.empty((n, kernels.N_BUF))
        for name in ("high", "low", "close", "volume"):
            ind[:, _BUF_OF[name]] = df[name].to_numpy(np.float64)
        kernels.indicator_rows(ind, self._state, 0, n - 1)
        keep = min(n, KEEP)
        self._g0, self._rows = n - keep, keep
        self._ind[:keep] = ind[n - keep :]
        self._times[:keep] = df.index.as_unit("ms").asi8[n - keep :]
        self._open[:keep] = df["open"].to_numpy(np.float64)[n - keep :]
        x = self._x[:keep]
        x[:] = np.nan
        for j, name in enumerate(_FEATURE_INPUTS):
            if name in df.columns:
                x[:, j] = df[name].to_numpy(np.float64)[n - keep :]
        metrics = x[:, _METRIC0:]
        metrics[metrics == 0.0] = np.nan  # 0.0 = missing (spec 10 §1.3)
        self._sync_x(0, keep - 1)
        self._step(keep - 1)  # the newest row through the same path as a live candle

    def append(self, candles: pd.DataFrame) -> None:
        """Add closed candles; a repeated open time replaces the newest candle, an older one is refused."""
        if self._rows == 0:
            self.seed(candles)
            return
        df = self._conform(candles)
        times = df.index.as_unit("ms").asi8.tolist()
        self._check_time(times[0])
        for a, b in zip(times, times[1:]):
            if b - a != BAR_MS:
                raise DataError(f"{self.symbol}: candles {_ts(a)} and {_ts(b)} are not consecutive")
        values = {c: df[c].to_numpy(np.float64) for c in df.columns}
        for i, t in enumerate(times):
            self._push(t, {c: float(v[i]) for c, v in values.items()})

    def update_candle(self, open_time_ms: int, values: Mapping[str, float]) -> CandleDecisionInput:
        """Fast path for one closed candle given as a mapping (the live feed's form); same checks as `update`."""
        if self._rows == 0:
            idx = pd.DatetimeIndex([_ts(int(open_time_ms))], name="timestamp").as_unit("ms")
            self.seed(pd.DataFrame({k: [float(v)] for k, v in values.items()}, index=idx))
            return self.evaluate()
        if not self._column_set <= values.keys():
            missing = [c for c in self._columns if c not in values]
            raise DataError(f"{self.symbol}: candle lacks column(s) {missing} present in the buffer")
        row = {c: float(values[c]) for c in self._columns}
        o, h, lo, c, v = (row[k] for k in _OHLCV)
        if o != o or h != h or lo != lo or c != c or v != v:
            raise DataError(f"{self.symbol}: NaN in OHLCV of candle {pd.Timestamp(open_time_ms, unit='ms', tz='UTC')}")
        self._check_time(int(open_time_ms))
        self._push(int(open_time_ms), row)
        return self.evaluate()

    def update(self, candles: pd.DataFrame) -> CandleDecisionInput:
        self.append(candles)
        return self.evaluate()

    def _check_time(self, t: int) -> None:
        last = int(self._times[self._rows - 1])
        if t < last:
            raise DataError(f"{self.symbol}: candle {_ts(t)} is older than the buffer's last candle {_ts(last)}")
        if t > last + BAR_MS:
            # a gap: keep the buffer but never pretend it is continuous; callers reseed from the store
            raise DataError(f"{self.symbol}: gap between {_ts(last)} and {_ts(t)}; reseed the buffer from history")

    def _push(self, t: int, row: Mapping[str, float]) -> None:
        replace = t == int(self._times[self._rows - 1])
        if replace:
            self._state[:] = self._prev_state  # undo the newest candle, then recompute it with the new values
            i = self._rows - 1
        else:
            if self._rows == CAPACITY:
                self._compact()
            i = self._rows
            self._rows += 1
        self._times[i] = t
        self._open[i] = row["open"]
        ind = self._ind[i]
        ind[kernels.HIGH], ind[kernels.LOW] = row["high"], row["low"]
        ind[kernels.CLOSE], ind[kernels.VOLUME] = row["close"], row["volume"]
        x = self._x[i]
        x[:] = math.nan  # inputs the candle does not carry stay missing
        for j, name in self._x_inputs:
            v = row[name]
            x[j] = math.nan if (j >= _METRIC0 and v == 0.0) else v
        self._step(i)

    def _step(self, i: int) -> None:
        self._prev_state[:] = self._state
        kernels.indicator_rows(self._ind, self._state, i, i + 1)
        self._x[i, _X_FROM_BUF] = self._ind[i, _BUF_TO_X]

    def _sync_x(self, a: int, b: int) -> None:
        self._x[a:b, _X_FROM_BUF] = self._ind[a:b][:, _BUF_TO_X]

    def _compact(self) -> None:
        drop = self._rows - KEEP
        for arr in (self._times, self._open, self._ind, self._x):
            arr[:KEEP] = arr[drop : self._rows]
        self._g0 += drop
        self._rows = KEEP

    def _conform(self, candles: pd.DataFrame) -> pd.DataFrame:
        """Cheap per-candle validation against the seeded schema (the full check ran at seed time)."""
        df = candles.set_index("timestamp") if "timestamp" in candles.columns else candles
        if not isinstance(df.index, pd.DatetimeIndex) or df.index.tz is None:
            raise DataError(f"{self.symbol}: candles need a UTC-aware 'timestamp' index")
        missing = [c for c in self._columns if c not in df.columns]
        if missing:
            raise DataError(f"{self.symbol}: candle lacks column(s) {missing} present in the buffer")
        df = df[list(self._columns)].astype("float64")
        if df[list(_OHLCV)].isna().to_numpy().any():
            raise DataError(f"{self.symbol}: NaN in OHLCV of candle(s) {list(map(str, df.index))}")
        df.index = df.index.tz_convert("UTC").as_unit("ms")
        return df.sort_index()

    # ------------------------------------------------------------------ decision input
    def evaluate(self) -> CandleDecisionInput:
        """Indicators, signal and features of the newest candle."""
        if self._rows == 0:
            raise DataError(f"{self.symbol}: no candles buffered")
        i = self._rows - 1
        r = self._ind[i]
        (rsi, macd, macd_signal, close, bb_lower, bb_upper, e9, e21, e50, k, d, volume, vol_ma20,
         adx) = r[_ROW_INPUTS].tolist()  # fmt: skip
        p = self._ind[i - 1] if i > 0 else _NO_ROW  # no previous candle: no MACD cross, as in batch
        signal, long_score, short_score, vol_surge, adx_blocked, collision = signal_row(
            rsi, macd, macd_signal, p[kernels.MACD], p[kernels.MACD_SIGNAL], close, bb_lower, bb_upper, e9, e21, e50,
            k, d, volume, vol_ma20, adx, self._volume_multiplier, self._threshold, self._adx_threshold,
        )  # fmt: skip
        row = feature_rows(self._x[: i + 1], i, i + 1, has_cross=self._has_cross, g0=self._g0)[0]
        row[_F_STRENGTH] = long_score if signal == 1 else (short_score if signal == -1 else 0)
        row[_F_SIDE] = 1.0 if signal == 1 else (0.0 if signal == -1 else math.nan)
        hold_reason = "adx" if adx_blocked else ("both_sides" if collision else ("" if signal else "score"))
        return CandleDecisionInput(
            time=pd.Timestamp(int(self._times[i]), unit="ms", tz="UTC"),
            close=close,
            high=float(r[kernels.HIGH]),
            low=float(r[kernels.LOW]),
            open=float(self._open[i]),
            atr=float(r[kernels.ATR]),
            signal=signal,
            long_score=long_score,
            short_score=short_score,
            vol_surge=vol_surge,
            hold_reason=hold_reason,
            feature_values=row if self._has_cross else row[_SELECT_18],
            feature_names=_NAMES[self._has_cross],
            ready=self.seen >= self.min_candles,
            buffered=len(self),
        )


def _ts(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")
