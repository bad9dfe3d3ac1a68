"""The MTF pullback for the trader: a buffer of closed 15m candles decided one candle at a time.

Same surface as `strategy.incremental.IncrementalFeatureEngine` (seed / append / update / evaluate, min and max
candles), same decision code as the backtest (`kernel.entry_step`), same hourly visibility rule (`hourly.py`).
Seeding runs the decision state over the history as if flat, as the backtest does before its window; a candle
closing while the bot holds a position moves no state (the backtest skips it the same way). The hourly indicators
are recomputed only when a new hour becomes visible.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from trader_runtime.domain.schema import BAR_MS, OHLCV_COLUMNS, validate_combined_frame
from trader_runtime.errors import DataError
from trader_runtime.strategy.base import PositionOpen
from trader_runtime.strategy.incremental import CandleDecisionInput
from trader_runtime.strategy.mtf_pullback import kernel as K
from trader_runtime.strategy.mtf_pullback.backtest import kernel_vectors, warmup_index
from trader_runtime.strategy.mtf_pullback.hourly import MS_PER_HOUR, hourly_from_15m
from trader_runtime.strategy.mtf_pullback.market import META_HOLD, ema, hourly_indicators, meta_direction, prepare_mtf, sma
from trader_runtime.strategy.mtf_pullback.params import MIN_15M_CANDLES, MIN_HOURLY_CANDLES, MTFParams, MTFRules

#: closed 15m candles needed before the first decision on contiguous data (1,000 closed hours, D11 included)
LIVE_MIN_CANDLES = 4 * MIN_HOURLY_CANDLES + 8
#: candles kept: 2,000 hours, so the 1h EMA200's start-up error has decayed below 1e-7 of its value
LIVE_MAX_CANDLES = 8000


class MTFLiveEngine:
    """Rolling buffer + decision state of one symbol; `update` returns the decision input of the newest candle."""

    def __init__(
        self,
        symbol: str,
        params: MTFParams,
        rules: MTFRules | None = None,
        *,
        position_open: PositionOpen = lambda: False,
        min_candles: int = LIVE_MIN_CANDLES,
        max_candles: int = LIVE_MAX_CANDLES,
    ) -> None:
        self.symbol = symbol
        self.params = params
        self.rules = rules or MTFRules()
        if self.rules.warmup != "converged":
            raise DataError("the trader uses the platform warm-up (1,000 closed hourly candles)")
        self.position_open = position_open
        self.min_candles = min_candles
        self.max_candles = max(max_candles, min_candles)
        self._t = np.empty(0, dtype=np.int64)  # open times (ms) of the buffered candles
        self._ohlcv = np.empty((0, 5), dtype=np.float64)
        self._hour_n = 0
        self._state = np.zeros(K.N_ST, dtype=np.int64)
        self._decided: dict[int, CandleDecisionInput] = {}  # open time ms → decision (the newest only)
        self._hour_key: tuple[int, int] | None = None
        self._hour_cols: dict[str, np.ndarray] | None = None
        self._hour_open_ms: np.ndarray = np.empty(0, dtype=np.int64)
        self._ip, self._fp = kernel_vectors(params, self.rules)

    # ------------------------------------------------------------------------------------------ buffer
    @property
    def last_time(self) -> pd.Timestamp | None:
        return None if self._t.size == 0 else pd.Timestamp(int(self._t[-1]), unit="ms", tz="UTC")

    def __len__(self) -> int:
        return int(self._t.size)

    def seed(self, history: pd.DataFrame) -> None:
        """Replace the buffer with the newest closed candles of `history` and replay the decision state, flat."""
        df = validate_combined_frame(history, source=f"{self.symbol} history").iloc[-self.max_candles :]
        self._t = df.index.as_unit("ms").asi8.astype(np.int64)
        self._ohlcv = np.ascontiguousarray(df[list(OHLCV_COLUMNS)].to_numpy(np.float64))
        self._state[:] = 0
        self._decided.clear()
        self._hour_key = None
        if self._t.size == 0:
            return
        market = prepare_mtf(df, self.symbol)
        ema_t, vol_sma = market.trigger_columns(self.params)
        att = market.attached(self.params)
        meta = market.meta(self.params)
        c = self._ip
        for i in range(warmup_index(market), len(market)):
            K.entry_step(i, market.close, market.volume, ema_t, vol_sma, att["atr"], meta, True, self._state,
                         c[K.IP_SEQUENCE], c[K.IP_VOLUME_RULE], self._fp[K.FP_DRY_RATIO])  # fmt: skip

    def set_params(self, params: MTFParams) -> None:
        """New parameters (operator reload): the decision state is replayed over the buffered candles with them, as
        flat, exactly as a restart with these parameters would seed it; the next candle decides with them."""
        self.params = params
        self._ip, self._fp = kernel_vectors(params, self.rules)
        if self._t.size == 0:
            return
        index = pd.DatetimeIndex(pd.to_datetime(self._t, unit="ms", utc=True), name="timestamp")
        self.seed(pd.DataFrame(self._ohlcv.copy(), columns=list(OHLCV_COLUMNS), index=index))

    def append(self, candles: pd.DataFrame) -> None:
        """Add closed candles; a repeated open time replaces the stored row, an older or gapped one is refused."""
        if self._t.size == 0:
            self.seed(candles)
            return
        df = candles.set_index("timestamp") if "timestamp" in candles.columns else candles
        if not isinstance(df.index, pd.DatetimeIndex) or df.index.tz is None:
            raise DataError(f"{self.symbol}: candles need a UTC-aware 'timestamp' index (D14)")
        missing = [c for c in OHLCV_COLUMNS if c not in df.columns]
        if missing:
            raise DataError(f"{self.symbol}: candle lacks column(s) {missing}")
        df = df.sort_index()
        values = df[list(OHLCV_COLUMNS)].to_numpy(np.float64)
        if np.isnan(values).any():
            raise DataError(f"{self.symbol}: NaN in OHLCV of candle(s) {list(map(str, df.index))}")
        times = df.index.tz_convert("UTC").as_unit("ms").asi8.astype(np.int64)
        last = int(self._t[-1])
        if times[0] < last:
            raise DataError(f"{self.symbol}: candle {df.index[0]} is older than the buffer's last candle {self.last_time}")
        if times[0] > last + BAR_MS:
            raise DataError(f"{self.symbol}: gap between {self.last_time} and {df.index[0]}; reseed the buffer from history")
        keep = self._t < times[0]
        self._t = np.concatenate([self._t[keep], times])[-self.max_candles :]
        self._ohlcv = np.concatenate([self._ohlcv[keep], values])[-self.max_candles :]

    def update(self, candles: pd.DataFrame) -> CandleDecisionInput:
        self.append(candles)
        return self.evaluate()

    def update_candle(self, open_time_ms: int, values: Mapping[str, float]) -> CandleDecisionInput:
        """One closed candle in the live feed's form (the bot's call for every strategy); same checks as `update`."""
        idx = pd.DatetimeIndex([pd.Timestamp(int(open_time_ms), unit="ms", tz="UTC")], name="timestamp").as_unit("ms")
        return self.update(pd.DataFrame({k: [float(v)] for k, v in values.items()}, index=idx))

    # ------------------------------------------------------------------------------------------ decision
    def _closed_hours(self, t_ms: int) -> tuple[int, dict[str, np.ndarray]]:
        """(number of hourly candles closed by the newest candle's open, their indicators), recomputed only when
        that set changes. A full (rolling) buffer starts its hours at an hour boundary, so they change once an hour."""
        time_ms = self._t
        start = int(np.argmax(time_ms % MS_PER_HOUR == 0)) if time_ms.size >= self.max_candles else 0
        hour_now = (t_ms // MS_PER_HOUR) * MS_PER_HOUR
        stop = int(np.searchsorted(time_ms, hour_now, side="left"))  # candles of closed hours only
        key = (int(time_ms[start]), stop)
        if key != self._hour_key or self._hour_cols is None:
            cols = [np.ascontiguousarray(self._ohlcv[start:stop, k]) for k in range(5)]
            hourly = hourly_from_15m(time_ms[start:stop], *cols)
            self._hour_cols = hourly_indicators(hourly, self.params)
            self._hour_n = len(hourly)
            self._hour_key = key
        return self._hour_n, self._hour_cols

    def evaluate(self) -> CandleDecisionInput:
        """Decision input of the newest buffered candle; deciding it moves the state once (repeat calls are cached)."""
        if self._t.size == 0:
            raise DataError(f"{self.symbol}: no candles buffered")
        t_ms = int(self._t[-1])
        if t_ms in self._decided:
            return self._decided[t_ms]
        n_hours, hcols = self._closed_hours(t_ms)
        # the trigger columns over the whole buffer; the decision reads only the last three candles
        close_all = np.ascontiguousarray(self._ohlcv[:, 3])
        vol_all = np.ascontiguousarray(self._ohlcv[:, 4])
        n_buf = int(self._t.size)
        tail = slice(max(n_buf - 3, 0), n_buf)
        close, volume = close_all[tail].copy(), vol_all[tail].copy()
        ema_t = ema(close_all, self.params.trigger_ema)[tail].copy()
        vol_sma = sma(vol_all, self.params.volume_sma)[tail].copy()
        n = close.shape[0]
        j = n_hours - 1  # the newest closed hour is the one this candle may use (B.2)
        at = {k: (float(v[j]) if j >= 0 else float("nan")) for k, v in hcols.items()}
        meta_i = int(meta_direction(np.array([at["ema_fast"]]), np.array([at["ema_slow"]]), np.array([at["adx"]]), self.params.adx_threshold)[0])
        atr = np.full(n, at["atr"])
        meta = np.full(n, meta_i, dtype=np.int8)
        hours_seen = n_hours
        ready = hours_seen >= MIN_HOURLY_CANDLES and n_buf >= MIN_15M_CANDLES
        signal = 0
        if not ready:
            reason = f"warm-up: {hours_seen} of {MIN_HOURLY_CANDLES} closed hourly candles"
        elif self.position_open():
            reason = "position open: the strategy waits for its exit"
        else:
            before = int(self._state[K.ST_READY])
            signal = int(K.entry_step(n - 1, close, volume, ema_t, vol_sma, atr, meta, True, self._state,
                                      self._ip[K.IP_SEQUENCE], self._ip[K.IP_VOLUME_RULE], self._fp[K.FP_DRY_RATIO]))  # fmt: skip
            reason = _reason(meta_i, signal, before, int(self._state[K.ST_READY]), int(self._state[K.ST_READY_SIDE]))
        o, h, lo, c, _ = self._ohlcv[-1]
        feats = pd.Series(
            {
                "trigger_ema": ema_t[-1], "volume_sma": vol_sma[-1], "ema_fast_1h": at["ema_fast"],
                "ema_slow_1h": at["ema_slow"], "adx": at["adx"], "atr_1h": at["atr"], "meta": float(meta_i),
                "hours_seen": float(hours_seen),
            },
            dtype="float64",
        )  # fmt: skip
        d = CandleDecisionInput(
            time=pd.Timestamp(t_ms, unit="ms", tz="UTC"), close=float(c), high=float(h), low=float(lo),
            open=float(o), atr=at["atr"], signal=signal, long_score=0, short_score=0,
            vol_surge=False, hold_reason=reason, feature_values=feats.to_numpy(), feature_names=feats.index,
            ready=ready, buffered=n_buf,
        )  # fmt: skip
        self._decided = {t_ms: d}
        return d


def _reason(meta: int, signal: int, ready_before: int, ready_after: int, ready_side: int) -> str:
    names = {1: "LONG", -1: "SHORT"}
    if signal != 0:
        return f"{names[signal]} pullback resumed"
    if meta == META_HOLD:
        return "no 1h trend (EMAs or ADX)"
    if ready_after and not ready_before:
        return f"{names[ready_side]} pullback on dry volume; waiting for the resumption"
    if ready_after:
        return f"{names[ready_side]} pullback armed; waiting for the resumption"
    return f"1h trend {names[meta]}; waiting for a pullback"
