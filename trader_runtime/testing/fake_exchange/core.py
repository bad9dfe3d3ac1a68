"""The fake exchange assembled: state, engine and services wired to the stream hub, plus replay and event delivery.

Everything here runs on the server's event loop (see `server.py`). `advance_one()` closes one candle: conditional
orders are checked against it, the resulting user events are delivered (through the user-event faults), then the
closed kline (and the next forming one) is published on the market streams.
"""

from __future__ import annotations

import asyncio
import copy
import time
from decimal import Decimal
from typing import Any, Mapping

import pandas as pd
from aiohttp import web

from trader_runtime.testing.fake_exchange import payloads as P
from trader_runtime.testing.fake_exchange.account import AccountService
from trader_runtime.testing.fake_exchange.config import FakeExchangeConfig
from trader_runtime.testing.fake_exchange.engine import Event, MatchingEngine
from trader_runtime.testing.fake_exchange.faults import (DropConnection, DropEvent, Duplicate, EditEvent,
                                                         ExpireListenKey, FaultAction, FaultBook, Reorder, Silence)
from trader_runtime.testing.fake_exchange.market import ReplayMarket
from trader_runtime.testing.fake_exchange.market_data import MarketDataService
from trader_runtime.testing.fake_exchange.state import AccountState, ListenKeys
from trader_runtime.testing.fake_exchange.symbols import DEFAULT_SYMBOL_SPECS, SymbolSpec, generic_spec
from trader_runtime.testing.fake_exchange.ws import StreamHub


class ExchangeCore:
    """One account on one replayed market, with its streams and faults."""

    def __init__(self, frames: Mapping[str, pd.DataFrame], config: FakeExchangeConfig, *,
                 symbol_specs: Mapping[str, SymbolSpec] | None = None,
                 ls_ratios: Mapping[str, pd.DataFrame] | None = None) -> None:
        self.config = config
        self.market = ReplayMarket(frames, history_candles=config.history_candles)
        specs = {**DEFAULT_SYMBOL_SPECS, **(symbol_specs or {})}
        self.specs = {s: specs.get(s) or generic_spec(s) for s in self.market.symbols()}
        self.faults = FaultBook()
        self.account = AccountState(Decimal(str(config.initial_balance_usdt)), config.default_leverage, config.default_margin_type)
        self.listen_keys = ListenKeys(config.listen_key_ttl_s, time.monotonic)
        self.engine = MatchingEngine(self.account, self.market, self.specs, self.faults, config)
        self.accounts = AccountService(self.engine)
        self.market_data = MarketDataService(self.market, self.specs, config, ls_ratios)
        self.hub = StreamHub(self.listen_keys)
        self.request_log: list[tuple[str, str, dict[str, str]]] = []
        self.user_log: list[Event] = []
        self._deliver_lock = asyncio.Lock()

    # ------------------------------------------------------------------------------------------ time
    def now_ms(self) -> int:
        """Exchange time: replay clock (deterministic) or the machine clock (config.time_source)."""
        if self.config.time_source == "wall":
            return int(time.time() * 1000)
        return self.market.now_ms

    # ------------------------------------------------------------------------------------------ replay
    async def advance_one(self) -> pd.Timestamp:
        index = self.market.forming_index()
        open_time = int(self.market.open_times[index])
        action = self.faults.match("advance", {"index": index, "open_time": open_time})
        if action is not None:
            await self.apply_stream_action(action)
        in_candle = open_time + self.market.bar_ms // 2 if self.config.time_source == "replay" else self.now_ms()
        async with self._deliver_lock:
            events = self.engine.on_candle(index, in_candle)
            self.market.close_forming()
            await self._deliver_user(events)
            closed_at = self.now_ms()
            for sym in self.market.symbols():
                event = P.kline_event(self.market.candle(sym, index), self.specs[sym], self.market.interval, closed_at)
                await self._deliver_market(sym, event)
            if self.config.emit_forming_klines:
                for sym in self.market.symbols():
                    event = P.kline_event(self.market.forming_candle(sym), self.specs[sym], self.market.interval, closed_at)
                    await self._deliver_market(sym, event)
        return pd.Timestamp(open_time, unit="ms", tz="UTC")

    # ------------------------------------------------------------------------------------------ delivery
    async def deliver(self, events: list[Event]) -> None:
        """Deliver user events caused by a REST request (serialised with replay deliveries)."""
        if events:
            async with self._deliver_lock:
                await self._deliver_user(events)

    async def _deliver_user(self, events: list[Event]) -> None:
        held: list[list[Any]] = []  # [event, events still to pass before release]
        for event in events:
            for out in await self._apply_user_faults(event, held):
                await self._publish_user(out)
                for entry in held:
                    entry[1] -= 1
                for entry in [h for h in held if h[1] <= 0]:
                    held.remove(entry)
                    await self._publish_user(entry[0])
        for entry in held:
            await self._publish_user(entry[0])

    async def _apply_user_faults(self, event: Event, held: list[list[Any]]) -> list[Event]:
        raw = event.get("o")
        order: dict[str, Any] = raw if isinstance(raw, dict) else {}
        action = self.faults.match("user_event", {"e": event.get("e"), "symbol": order.get("s"), **order})
        if action is None:
            return [event]
        if isinstance(action, DropEvent):
            return []
        if isinstance(action, Duplicate):
            return [event] * (1 + action.copies)
        if isinstance(action, Reorder):
            held.append([event, action.after])
            return []
        if isinstance(action, EditEvent):
            edited = copy.deepcopy(event)
            edited["o"].update(action.set)
            for key in action.remove:
                edited["o"].pop(key, None)
            return [edited]
        await self.apply_stream_action(action)
        return [event]

    async def _publish_user(self, event: Event) -> None:
        self.user_log.append(event)
        await self.hub.publish_user(event, self.now_ms())

    async def _deliver_market(self, symbol: str, event: Event) -> None:
        stream = f"{symbol.lower()}@kline_{self.market.interval}"
        action = self.faults.match("market_event", {"stream": stream, "s": symbol, "symbol": symbol, "x": event["k"]["x"]})
        if action is not None:
            await self.apply_stream_action(action)
        await self.hub.publish_market(stream, event)

    # ------------------------------------------------------------------------------------------ stream faults
    async def apply_stream_action(self, action: FaultAction) -> int:
        """Act on the streams now; returns how many connections were affected."""
        if isinstance(action, DropConnection):
            return await self.hub.drop(action.stream, abort=action.abort)
        if isinstance(action, Silence):
            return self.hub.silence(action.stream)
        if isinstance(action, ExpireListenKey):
            keys = self.listen_keys.expire()
            return await self.hub.expire_keys(keys, self.now_ms(), close=action.close_connection)
        raise TypeError(f"{type(action).__name__} is not a stream action")


CORE_KEY: web.AppKey[ExchangeCore] = web.AppKey("core", ExchangeCore)
