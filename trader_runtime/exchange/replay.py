"""`replay` mode (D4 default): historical or synthetic candles, an accelerated clock and simulated fills.

Each step closes one candle for every symbol: the simulated venue checks resting SL/TP legs against it (the
backtest's intrabar rule), the resulting fills are delivered, funding settles for open positions when a
settlement falls on the candle's close (the backtest's rule and amount), then the closed candles are delivered, and the step waits until
the service has processed them (`sink.drain`) so the market never runs ahead of the bots. Market orders placed
while a candle is being decided fill at that candle's close with the backtest's slippage. The venue state and the
cursor are checkpointed through `persist` so a restarted replay continues where it stopped. `speed` is simulated
seconds per real second (0 = as fast as possible).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from trader_runtime.backtest.accounting import frame_settlement_rates
from trader_runtime.domain.schema import BAR_MS, validate_combined_frame
from trader_runtime.errors import ConfigError, DataError
from trader_runtime.exchange.port import (
    CandleClosed,
    EventSink,
    ExchangePosition,
    Fill,
    IncomeRow,
    MarketDataExhausted,
    OpenOrder,
    OrderResult,
    OrderSide,
    ProtectiveOrder,
    Purpose,
    SymbolRules,
)
from trader_runtime.exchange.simulated import Bar, SimulatedVenue

logger = logging.getLogger(__name__)

Persist = Callable[[str, dict[str, Any]], None]
CURSOR_KEY = "replay.cursor"
VENUE_KEY = "replay.venue"


class ReplayExchange:
    """A simulated venue over fixed candle frames (one per symbol, combined schema)."""

    mode = "replay"

    def __init__(
        self,
        frames: dict[str, pd.DataFrame],
        venue: SimulatedVenue,
        *,
        warmup: int,
        speed: float = 0.0,
        persist: Persist | None = None,
        persist_progress: Persist | None = None,
        resume: dict[str, Any] | None = None,
        fingerprint: str = "",
    ) -> None:
        if not frames:
            raise ConfigError("replay needs at least one symbol's candles")
        if speed < 0:
            raise ConfigError(f"speed={speed!r} must be >= 0 (0 = as fast as possible)")
        self.frames = {s: validate_combined_frame(f, source=f"replay {s}") for s, f in frames.items()}
        self.venue = venue
        self.speed = float(speed)
        self.persist = persist
        self.persist_progress = persist_progress or persist  # the per-candle cursor (may be coalesced)
        self.fingerprint = fingerprint
        index = self.frames[next(iter(self.frames))].index
        for sym, f in self.frames.items():
            if not f.index.equals(index):
                raise DataError(f"replay {sym}: candle times differ from the first symbol's; replay symbols must share one time axis")
        self.index = index
        self.times_ms = index.as_unit("ms").asi8.astype(np.int64)
        if len(index) <= warmup:
            raise DataError(f"replay: {len(index)} candles; need more than the {warmup}-candle warm-up history "
                            f"(about {warmup / 96:.0f} days, read from the start of the replayed data): start earlier")  # fmt: skip
        self._arrays = {s: f[["open", "high", "low", "close"]].to_numpy(np.float64) for s, f in self.frames.items()}
        # each candle as the feed hands it to the bots (column -> float), read by row without pandas per candle
        self._columns = {s: tuple(f.columns) for s, f in self.frames.items()}
        self._values = {s: f.to_numpy(np.float64, na_value=np.nan) for s, f in self.frames.items()}
        # funding settled at each candle's close, by the backtest's rule (D20, spec 50 §4 Q4)
        self._funding = {s: frame_settlement_rates(f) for s, f in self.frames.items()}
        self.cursor = warmup - 1  # index of the last closed candle
        if resume is not None:
            if resume.get("fingerprint") != fingerprint:
                raise ConfigError(
                    "the journal holds a replay of different data "
                    f"({resume.get('fingerprint')!r} vs {fingerprint!r}); use another journal or --restart-replay"
                )
            self.cursor = int(resume["cursor"])
        else:
            for sym in self.frames:
                self.venue.last_price[sym] = float(self._arrays[sym][self.cursor, 3])
            self.venue.clock_ms = int(self.times_ms[self.cursor]) + BAR_MS - 1
        self.finished = bool(resume.get("finished")) if resume else False

    # ------------------------------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self._checkpoint(venue=True)

    async def close(self) -> None:
        self._checkpoint(venue=True)

    def now_ms(self) -> int:
        return self.venue.clock_ms

    def _checkpoint(self, *, venue: bool) -> None:
        """Cursor every step (tiny, through `persist_progress`); the venue only when it changed (orders, fills),
        together with the cursor through `persist`."""
        if self.persist is None:
            return
        cursor = {"fingerprint": self.fingerprint, "cursor": self.cursor, "finished": self.finished}
        if venue:
            self.persist(VENUE_KEY, self.venue.to_state())
            self.persist(CURSOR_KEY, cursor)
        else:
            assert self.persist_progress is not None
            self.persist_progress(CURSOR_KEY, cursor)

    async def run(self, sink: EventSink) -> None:
        n = len(self.index)
        step_s = (BAR_MS / 1000.0) / self.speed if self.speed > 0 else 0.0
        while self.cursor < n - 1:
            i = self.cursor + 1
            close_ms = int(self.times_ms[i]) + BAR_MS - 1
            for sym in self.frames:
                o, h, lo, c = self._arrays[sym][i]
                events = self.venue.on_candle(sym, Bar(o, h, lo, c), close_ms)
                if events:
                    self._checkpoint(venue=True)
                for ev in events:
                    await sink.deliver(ev)
            for sym in self.frames:  # after every symbol's SL/TP, before the decisions: the kernel's order
                rate = self._funding[sym][i]
                if rate == rate and self.venue.settle_funding(sym, rate, self._arrays[sym][i, 3], close_ms):
                    self._checkpoint(venue=True)
            for sym in self.frames:
                values = dict(zip(self._columns[sym], self._values[sym][i].tolist()))
                await sink.deliver(CandleClosed(sym, int(self.times_ms[i]), values))
            # delivered = will be processed (a graceful stop lets the bots finish their queues), so a resumed replay
            # continues with the next candle instead of deciding this one twice
            self.cursor = i
            self._checkpoint(venue=False)
            await sink.drain()
            if step_s:
                await asyncio.sleep(step_s)
            else:
                await asyncio.sleep(0)
        self.finished = True
        await sink.deliver(MarketDataExhausted(self.venue.clock_ms))
        await sink.drain()
        self._checkpoint(venue=True)

    # ------------------------------------------------------------------------------------------ market data
    async def history(self, symbol: str, n: int) -> pd.DataFrame:
        frame = self._frame(symbol)
        return frame.iloc[max(0, self.cursor + 1 - n) : self.cursor + 1]

    def _frame(self, symbol: str) -> pd.DataFrame:
        if symbol not in self.frames:
            raise DataError(f"replay has no candles for {symbol}; loaded {sorted(self.frames)}")
        return self.frames[symbol]

    # ------------------------------------------------------------------------------------------ account
    async def symbol_rules(self, symbol: str) -> SymbolRules:
        self._frame(symbol)
        return self.venue.rules_for(symbol)

    async def one_way_mode(self) -> bool:
        return True

    async def balance(self) -> float:
        return self.venue.balance()

    async def prepare_symbol(self, symbol: str, leverage: int) -> None:
        self.venue.prepare_symbol(symbol, leverage)
        self._checkpoint(venue=True)

    async def market_order(self, symbol: str, side: OrderSide, quantity: float, *, reduce_only: bool, client_id: str) -> OrderResult:
        result, _events = self.venue.market_order(symbol, side, quantity, reduce_only=reduce_only, client_id=client_id)
        self._checkpoint(venue=True)
        # the answer carries the fills; the duplicate stream events are not needed in a simulated venue
        return result

    async def place_protective(self, symbol: str, purpose: Purpose, side: OrderSide, quantity: float,
                               trigger_price: float, client_id: str) -> ProtectiveOrder:
        order = self.venue.place_protective(symbol, purpose, side, quantity, trigger_price, client_id)
        self._checkpoint(venue=True)
        return order

    async def cancel_order(self, symbol: str, order_id: str, *, is_algo: bool) -> bool:
        ok = self.venue.cancel(symbol, order_id)
        self._checkpoint(venue=True)
        return ok

    async def open_orders(self, symbol: str) -> list[OpenOrder]:
        return self.venue.open_orders(symbol)

    async def position(self, symbol: str) -> ExchangePosition | None:
        return self.venue.position(symbol)

    async def fills_since(self, symbol: str, start_ms: int) -> list[Fill]:
        return self.venue.fills_since(symbol, start_ms)

    async def lookup_order(self, symbol: str, client_id: str) -> OrderResult | None:
        return self.venue.lookup_order(symbol, client_id)

    async def income_since(self, symbol: str, start_ms: int) -> list[IncomeRow]:
        return self.venue.income_since(symbol, start_ms)
