"""`paper` mode (D4): live public market data from Binance, simulated fills, no keys.

The candles come from the same closed-candle feed as demo/live (`binance.streams.MarketFeed`, public endpoints);
orders fill on the simulated venue with the backtest's fill model, exactly as in replay: market orders at the last
closed candle's close with slippage, SL/TP legs checked against each closed candle before the bots see it. The
venue state is checkpointed in the journal, so a restarted paper trader keeps its account and positions.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pandas as pd
from binance import AsyncClient

from trader_runtime.domain.schema import BAR_MS
from trader_runtime.errors import ConfigError
from trader_runtime.exchange.binance import parsing
from trader_runtime.exchange.binance.client import BinanceEndpoints, endpoints_for, fetch_history, new_client, socket_manager
from trader_runtime.exchange.binance.errors import call
from trader_runtime.exchange.binance.streams import MarketFeed
from trader_runtime.exchange.port import (
    CandleClosed,
    EventSink,
    ExchangeEvent,
    ExchangePosition,
    Fill,
    IncomeRow,
    OpenOrder,
    OrderResult,
    OrderSide,
    ProtectiveOrder,
    Purpose,
    SymbolRules,
)
from trader_runtime.exchange.simulated import Bar, SimulatedVenue
from trader_runtime.backtest.fills import FillModel

logger = logging.getLogger(__name__)

VENUE_KEY = "paper.venue"


class PaperExchange:
    mode = "paper"

    def __init__(self, ep: BinanceEndpoints, symbols: list[str], corr_symbols: list[str], fill_model: FillModel,
                 initial_balance: float, *, state: dict[str, Any] | None = None, persist: Any = None,
                 corr_wait_s: float = 3.0, reconnect_delay_s: float = 5.0) -> None:  # fmt: skip
        self.ep = ep
        self.symbols = symbols
        self.corr_symbols = corr_symbols
        self.fill_model = fill_model
        self.initial_balance = initial_balance
        self._state = state
        self.persist = persist
        self.venue: SimulatedVenue | None = None
        self.client: AsyncClient | None = None
        self._offset_ms = 0
        self.feed = MarketFeed(self._fresh_client, lambda c: socket_manager(c, ep), symbols, corr_symbols,
                               corr_wait_s=corr_wait_s, reconnect_delay_s=reconnect_delay_s, now_ms=self.now_ms)  # fmt: skip
        self.feed.on_candle = self._on_candle

    async def _fresh_client(self) -> AsyncClient:
        client = await new_client(self.ep)
        self._offset_ms = int(client.timestamp_offset)
        return client

    def _venue(self) -> SimulatedVenue:
        if self.venue is None:
            raise ConfigError("the paper adapter is not started")
        return self.venue

    def _save(self) -> None:
        if self.persist is not None and self.venue is not None:
            self.persist(VENUE_KEY, self.venue.to_state())

    async def start(self) -> None:
        self.client = await new_client(self.ep)
        self._offset_ms = int(self.client.timestamp_offset)
        info = await call(lambda: self.client.futures_exchange_info(), "exchange info")
        rules = {s: parsing.symbol_rules(info, s) for s in self.symbols}
        self.venue = SimulatedVenue(rules, self.fill_model, self.initial_balance, state=self._state)
        for s in self.symbols:
            if s not in self.venue.last_price:
                hist = await self.history(s, 2)
                self.venue.last_price[s] = float(hist["close"].iloc[-1])
        self._save()

    async def close(self) -> None:
        self._save()
        if self.client is not None:
            await self.client.close_connection()
            self.client = None

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self._offset_ms

    async def run(self, sink: EventSink) -> None:
        await self.feed.run(sink)

    async def _on_candle(self, ev: CandleClosed) -> list[ExchangeEvent]:
        v = ev.values
        venue = self._venue()
        events = venue.on_candle(ev.symbol, Bar(v["open"], v["high"], v["low"], v["close"]), ev.open_time_ms + BAR_MS - 1)
        self._save()
        return list(events)

    async def history(self, symbol: str, n: int) -> pd.DataFrame:
        assert self.client is not None
        return await fetch_history(self.client, symbol, self.corr_symbols, n, self.now_ms())

    async def symbol_rules(self, symbol: str) -> SymbolRules:
        return self._venue().rules_for(symbol)

    async def one_way_mode(self) -> bool:
        return True

    async def balance(self) -> float:
        return self._venue().balance()

    async def prepare_symbol(self, symbol: str, leverage: int) -> None:
        self._venue().prepare_symbol(symbol, leverage)
        self._save()

    async def market_order(self, symbol: str, side: OrderSide, quantity: float, *, reduce_only: bool, client_id: str) -> OrderResult:
        venue = self._venue()
        venue.clock_ms = max(venue.clock_ms, self.now_ms())
        result, _ = venue.market_order(symbol, side, quantity, reduce_only=reduce_only, client_id=client_id)
        self._save()
        return result

    async def place_protective(self, symbol: str, purpose: Purpose, side: OrderSide, quantity: float, trigger_price: float,
                               client_id: str) -> ProtectiveOrder:
        order = self._venue().place_protective(symbol, purpose, side, quantity, trigger_price, client_id)
        self._save()
        return order

    async def cancel_order(self, symbol: str, order_id: str, *, is_algo: bool) -> bool:
        ok = self._venue().cancel(symbol, order_id)
        self._save()
        return ok

    async def open_orders(self, symbol: str) -> list[OpenOrder]:
        return self._venue().open_orders(symbol)

    async def position(self, symbol: str) -> ExchangePosition | None:
        return self._venue().position(symbol)

    async def fills_since(self, symbol: str, start_ms: int) -> list[Fill]:
        return self._venue().fills_since(symbol, start_ms)

    async def lookup_order(self, symbol: str, client_id: str) -> OrderResult | None:
        return self._venue().lookup_order(symbol, client_id)

    async def income_since(self, symbol: str, start_ms: int) -> list[IncomeRow]:
        return self._venue().income_since(symbol, start_ms)


def build_paper(ctx: Any) -> PaperExchange:
    corr = [c.strip() for c in ctx.settings.correlation_symbols.split(",") if c.strip()]
    return PaperExchange(endpoints_for(ctx, public=True), ctx.symbols, corr, ctx.fill_model, ctx.initial_balance,
                         state=ctx.load_state(VENUE_KEY), persist=ctx.save_state)  # fmt: skip
