"""Replay adapter: fills before candles, one step per drain, history, resume from the journal, fingerprints."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fixtures.candles import random_walk
from trader_runtime.backtest.fills import FillModel
from trader_runtime.errors import ConfigError, DataError
from trader_runtime.exchange.port import CandleClosed, FillEvent, MarketDataExhausted, SymbolRules
from trader_runtime.exchange.replay import CURSOR_KEY, VENUE_KEY, ReplayExchange
from trader_runtime.exchange.simulated import SimulatedVenue

RULES = {"XRPUSDT": SymbolRules("XRPUSDT", 0.1, 0.0, 5.0)}


class RecordingSink:
    """Collects events; `drain` marks the step boundary (what the router's drain means to replay)."""

    def __init__(self) -> None:
        self.log: list[Any] = []

    async def deliver(self, event: Any) -> None:
        self.log.append(event)

    async def drain(self) -> None:
        self.log.append("drain")


def _replay(n: int = 40, warmup: int = 30, **kw) -> ReplayExchange:
    frame = random_walk(n, seed=3)
    return ReplayExchange({"XRPUSDT": frame}, SimulatedVenue(RULES, FillModel(), 1000.0), warmup=warmup, **kw)


def test_each_step_delivers_fills_then_the_candle_then_drains():
    ex = _replay()
    asyncio.run(ex.prepare_symbol("XRPUSDT", 10))
    asyncio.run(ex.market_order("XRPUSDT", "BUY", 100.0, reduce_only=False, client_id="e"))
    price = ex.venue.last_price["XRPUSDT"]
    asyncio.run(ex.place_protective("XRPUSDT", "SL", "SELL", 100.0, price * 0.9999, "s"))
    sink = RecordingSink()
    asyncio.run(ex.run(sink))
    first_fill = next(i for i, e in enumerate(sink.log) if isinstance(e, FillEvent))
    assert isinstance(sink.log[first_fill + 1], CandleClosed) and sink.log[first_fill + 2] == "drain"
    candles = [e for e in sink.log if isinstance(e, CandleClosed)]
    assert len(candles) == 40 - 30 and isinstance(sink.log[-2], MarketDataExhausted) and ex.finished
    fill = sink.log[first_fill].fill
    assert fill.time_ms == candles[[i for i, e in enumerate(sink.log) if isinstance(e, CandleClosed)].index(first_fill + 1)].open_time_ms + 15 * 60_000 - 1


def test_history_is_the_candles_already_closed():
    ex = _replay()
    hist = asyncio.run(ex.history("XRPUSDT", 10))
    assert len(hist) == 10 and hist.index[-1] == ex.index[29]
    with pytest.raises(DataError):
        asyncio.run(ex.history("DOGEUSDT", 10))


def test_too_little_data_for_the_warmup_is_refused():
    with pytest.raises(DataError, match="warm-up"):
        _replay(n=30, warmup=30)


def test_resume_continues_from_the_checkpointed_cursor_and_venue():
    store: dict[str, dict] = {}
    ex = _replay(persist=lambda k, v: store.__setitem__(k, v), fingerprint="fp")
    asyncio.run(ex.start())
    asyncio.run(ex.prepare_symbol("XRPUSDT", 10))
    asyncio.run(ex.market_order("XRPUSDT", "BUY", 100.0, reduce_only=False, client_id="e"))
    store[CURSOR_KEY] = {**store[CURSOR_KEY], "cursor": 35}
    venue = SimulatedVenue(RULES, FillModel(), 0.0, state=store[VENUE_KEY])
    again = ReplayExchange({"XRPUSDT": random_walk(40, seed=3)}, venue, warmup=30, resume=store[CURSOR_KEY], fingerprint="fp")
    sink = RecordingSink()
    asyncio.run(again.run(sink))
    assert [e.open_time_ms for e in sink.log if isinstance(e, CandleClosed)][0] == again.times_ms[36]
    assert asyncio.run(again.position("XRPUSDT")).amount == 100.0
    with pytest.raises(ConfigError, match="different data"):
        ReplayExchange({"XRPUSDT": random_walk(40, seed=3)}, venue, warmup=30, resume=store[CURSOR_KEY], fingerprint="other")


def test_speed_paces_the_replay_clock():
    ex = _replay(n=33, warmup=30, speed=900.0 * 50)  # 50 candles per second -> 3 steps >= 60 ms
    loop = asyncio.new_event_loop()
    t0 = loop.time()
    loop.run_until_complete(ex.run(RecordingSink()))
    assert loop.time() - t0 >= 0.055
    loop.close()
    with pytest.raises(ConfigError):
        _replay(speed=-1.0)
