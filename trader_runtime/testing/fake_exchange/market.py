"""The replayed market behind the fake exchange: candle series per symbol and a cursor that never looks ahead.

Candles come from frames in the combined 15m schema (`domain.schema`). The primary OHLCV columns serve the frame's
symbol and the optional `*_btc` / `*_eth` columns serve BTCUSDT / ETHUSDT. `cursor` counts closed candles; the
candle at `cursor` is the one forming now, and nothing after it is ever served (no look-ahead, D14).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from trader_runtime.domain.schema import BTC_COLUMNS, ETH_COLUMNS, OHLCV_COLUMNS, validate_combined_frame
from trader_runtime.errors import DataError

_INTERVALS = {60_000: "1m", 180_000: "3m", 300_000: "5m", 900_000: "15m", 1_800_000: "30m", 3_600_000: "1h",
              7_200_000: "2h", 14_400_000: "4h", 21_600_000: "6h", 43_200_000: "12h", 86_400_000: "1d"}
INTERVAL_MS = {name: ms for ms, name in _INTERVALS.items()}


class ReplayExhausted(DataError):
    """advance() was asked for a candle beyond the end of the replayed series."""


@dataclass(frozen=True, slots=True)
class Candle:
    """One candle as the exchange reports it (times in epoch ms)."""

    open_time: int
    close_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    closed: bool


class ReplayMarket:
    """Per-symbol OHLCV arrays on one shared time axis, plus the replay cursor."""

    def __init__(self, frames: Mapping[str, pd.DataFrame], *, history_candles: int | None = None) -> None:
        if not frames:
            raise DataError("fake exchange: at least one candle frame is required")
        canonical = {sym.upper(): validate_combined_frame(df, source=f"fake exchange candles for {sym}") for sym, df in frames.items()}
        first_sym, first = next(iter(canonical.items()))
        for sym, df in canonical.items():
            if not df.index.equals(first.index):
                raise DataError(f"fake exchange: candles for {sym} are not on the same timestamps as {first_sym}")
        if len(first) < 2:
            raise DataError(f"fake exchange: need at least 2 candles, got {len(first)}")
        times = first.index.as_unit("ms").asi8
        steps = np.diff(times)
        if (steps <= 0).any() or len(set(steps.tolist())) != 1:
            raise DataError("fake exchange: candle timestamps must be evenly spaced without gaps")
        self.bar_ms = int(steps[0])
        if self.bar_ms not in _INTERVALS:
            raise DataError(f"fake exchange: candle spacing {self.bar_ms} ms is not a Binance kline interval")
        self.interval = _INTERVALS[self.bar_ms]
        self.open_times = times
        self.series: dict[str, np.ndarray] = {}
        for sym, df in canonical.items():
            self.series[sym] = df[list(OHLCV_COLUMNS)].to_numpy(dtype="float64")
            for columns, corr in ((BTC_COLUMNS, "BTCUSDT"), (ETH_COLUMNS, "ETHUSDT")):
                if columns[0] in df.columns and corr not in self.series and corr not in canonical:
                    self.series[corr] = df[list(columns)].to_numpy(dtype="float64")
        self.extra: dict[tuple[str, str], np.ndarray] = {
            (sym, col): df[col].to_numpy(dtype="float64")
            for sym, df in canonical.items()
            for col in df.columns
            if col not in OHLCV_COLUMNS + BTC_COLUMNS + ETH_COLUMNS
        }
        n = len(times)
        start = min(1000, n - 1) if history_candles is None else history_candles
        if not 1 <= start <= n - 1:
            raise DataError(f"fake exchange: history_candles={start} must be in [1, {n - 1}] for {n} candles")
        self.cursor = start

    # ------------------------------------------------------------------ time
    @property
    def size(self) -> int:
        return len(self.open_times)

    @property
    def remaining(self) -> int:
        """Candles still to be closed by advance()."""
        return self.size - self.cursor

    @property
    def now_ms(self) -> int:
        """Replay time: the instant the last candle closed (= open time of the forming candle)."""
        return int(self.open_times[self.cursor - 1]) + self.bar_ms

    def forming_index(self) -> int:
        """Index of the candle that advance() will close next."""
        if self.cursor >= self.size:
            last = pd.Timestamp(int(self.open_times[-1]), unit="ms", tz="UTC")
            raise ReplayExhausted(f"fake exchange: replay exhausted after the candle opened at {last} ({self.size} candles)")
        return self.cursor

    def close_forming(self) -> int:
        """Mark the forming candle closed and return its index."""
        index = self.forming_index()
        self.cursor += 1
        return index

    def symbols(self) -> list[str]:
        return list(self.series)

    def has(self, symbol: str) -> bool:
        return symbol in self.series

    # ---------------------------------------------------------------- prices
    def row(self, symbol: str, index: int) -> np.ndarray:
        return self.series[symbol][index]

    def last_price(self, symbol: str) -> float:
        """Last traded price = close of the last closed candle."""
        return float(self.series[symbol][self.cursor - 1, 3])

    def candle(self, symbol: str, index: int) -> Candle:
        o, h, l, c, v = (float(x) for x in self.series[symbol][index])
        t = int(self.open_times[index])
        return Candle(t, t + self.bar_ms - 1, o, h, l, c, v, closed=index < self.cursor)

    def forming_candle(self, symbol: str) -> Candle:
        """The candle that has just opened: one trade at the last close, no volume yet."""
        last = self.last_price(symbol)
        t = self.now_ms
        return Candle(t, t + self.bar_ms - 1, last, last, last, last, 0.0, closed=False)

    def klines(self, symbol: str, *, start_ms: int | None, end_ms: int | None, limit: int) -> list[Candle]:
        """Closed candles plus the forming one, like `GET /fapi/v1/klines`: open time in [start, end]; the first
        `limit` of them when `start` is given, else the newest `limit`."""
        now = self.now_ms
        forming = (start_ms is None or now >= start_ms) and (end_ms is None or now <= end_ms)
        lo, hi = self._bounds(start_ms, end_ms)
        if start_ms is not None:
            closed = range(lo, min(hi, lo + limit))
            forming = forming and len(closed) < limit
        else:
            closed = range(max(lo, hi - (limit - 1 if forming else limit)), hi)
            forming = forming and limit > 0
        out = [self.candle(symbol, i) for i in closed]
        if forming:
            out.append(self.forming_candle(symbol))
        return out

    def closed_indices(self, *, start_ms: int | None, end_ms: int | None, limit: int) -> range:
        """Indices of closed candles with open time in [start, end]: the first `limit` if start is given, else the newest."""
        lo, hi = self._bounds(start_ms, end_ms)
        return range(lo, min(hi, lo + limit)) if start_ms is not None else range(max(lo, hi - limit), hi)

    def _bounds(self, start_ms: int | None, end_ms: int | None) -> tuple[int, int]:
        lo = 0 if start_ms is None else int(np.searchsorted(self.open_times, start_ms, side="left"))
        hi = self.cursor if end_ms is None else min(self.cursor, int(np.searchsorted(self.open_times, end_ms, side="right")))
        return lo, max(lo, hi)

    def extra_value(self, symbol: str, column: str, index: int) -> float | None:
        """A non-OHLCV column (oi_change, funding_rate) of a primary symbol's frame, if present."""
        values = self.extra.get((symbol, column))
        return None if values is None else float(values[index])
