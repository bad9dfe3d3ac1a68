"""The demo/live adapter with the real python-binance AsyncClient and socket manager against the local fake venue:
order routing (INC-22/23), isolated margin (INC-20), fills with PnL from the stream, user-stream reconnects with a
fresh client and listen key (INC-19), kline backfill after a market-stream drop (DEF-09), clean cancellation (INC-05)."""

from __future__ import annotations

import asyncio
from typing import Any

import pandas as pd
import pytest

from trader_runtime.errors import OrderRejected
from trader_runtime.exchange.binance.client import BinanceEndpoints, BinanceExchange
from trader_runtime.exchange.port import CandleClosed, FillEvent, ProtectiveTriggered, StreamReconnected
from trader_runtime.market.synthetic import generate_market
from trader_runtime.testing.fake_exchange import DropConnection, ExpireListenKey, FakeExchange, FakeExchangeConfig, FaultRule, HttpError


class Sink:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def deliver(self, event: Any) -> None:
        self.events.append(event)

    async def drain(self) -> None:
        return None

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    f = generate_market("XRPUSDT", 14, seed=3).combined
    f["oi_change"] = f["oi_change"].fillna(0.0)
    return f


def _run(frame: pd.DataFrame, scenario, **cfg: Any) -> Any:
    """Start a fake venue and the adapter (streams running), run `scenario(fx, ex, sink)`, shut everything down."""

    async def main() -> Any:
        config = FakeExchangeConfig(history_candles=1100, **cfg)
        async with FakeExchange(frame, symbol="XRPUSDT", config=config) as fx:
            ex = BinanceExchange("live", BinanceEndpoints(False, fx.rest_url, fx.ws_url, fx.api_key, fx.api_secret),
                                 ["XRPUSDT"], ["BTCUSDT", "ETHUSDT"], reconnect_delay_s=0.05, corr_wait_s=0.5, order_wait_s=3.0)
            await ex.start()
            sink = Sink()
            task = asyncio.create_task(ex.run(sink))
            await _until(lambda: fx.connections()["market"] >= 1 and fx.connections()["user"] >= 1)
            try:
                return await scenario(fx, ex, sink)
            finally:
                task.cancel()
                t0 = asyncio.get_running_loop().time()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert asyncio.get_running_loop().time() - t0 < 1.0  # INC-05
                await ex.close()

    return asyncio.run(main())


async def _until(cond, timeout: float = 10.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while not cond():
        if asyncio.get_running_loop().time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def test_orders_route_to_the_right_endpoints_and_fills_carry_pnl(frame):
    async def scenario(fx, ex, sink):
        rules = await ex.symbol_rules("XRPUSDT")
        assert (rules.qty_step, rules.tick_size, rules.min_notional) == (0.1, 0.0001, 5.0) and await ex.one_way_mode()
        await ex.prepare_symbol("XRPUSDT", 10)
        await ex.prepare_symbol("XRPUSDT", 10)  # -4046 "no need to change margin type" is success (INC-20)
        entry = await ex.market_order("XRPUSDT", "BUY", 100.0, reduce_only=False, client_id="ct-E-1")
        pos = await ex.position("XRPUSDT")
        sl = await ex.place_protective("XRPUSDT", "SL", "SELL", 100.0, rules.round_price(pos.entry_price * 0.9), "ct-S-2")
        tp = await ex.place_protective("XRPUSDT", "TP", "SELL", 100.0, rules.round_price(pos.entry_price * 1.1), "ct-T-3")
        listed = await ex.open_orders("XRPUSDT")
        close = await ex.market_order("XRPUSDT", "SELL", 100.0, reduce_only=True, client_id="ct-R-4")
        assert await ex.cancel_order("XRPUSDT", sl.order_id, is_algo=True)
        assert await ex.cancel_order("XRPUSDT", tp.order_id, is_algo=True)
        assert not await ex.cancel_order("XRPUSDT", tp.order_id, is_algo=True)  # already gone
        with pytest.raises(OrderRejected):
            await ex.market_order("XRPUSDT", "SELL", 10.0, reduce_only=True, client_id="ct-R-5")  # -2022
        return entry, close, listed, fx.requests()

    entry, close, listed, requests = _run(frame, scenario, slippage_bps=10.0)
    f = entry.fills[0]
    assert entry.status == "FILLED" and f.fill_key.split(":")[1] != "order" and f.commission > 0  # from the stream
    assert close.fills[0].realized_pnl != 0 and close.fills[0].reduce_only
    assert sorted(o.purpose for o in listed) == ["SL", "TP"] and all(o.is_algo for o in listed)
    orders = [(p, params) for m, p, params in requests if m == "POST" and p in ("/fapi/v1/order", "/fapi/v1/algoOrder")]
    assert [p for p, _ in orders].count("/fapi/v1/algoOrder") == 2  # SL/TP only ever on the algo endpoint (INC-23)
    assert all(params["type"] == "MARKET" for p, params in orders if p == "/fapi/v1/order")
    assert ("POST", "/fapi/v1/marginType") in {(m, p) for m, p, _ in requests}


def test_live_stop_trigger_is_linked_to_its_leg(frame):
    async def scenario(fx, ex, sink):
        await ex.prepare_symbol("XRPUSDT", 10)
        await ex.market_order("XRPUSDT", "BUY", 100.0, reduce_only=False, client_id="ct-E-1")
        last = float(frame["close"].iloc[1099])
        # a stop just under the price: the next candles cross it
        low = float(frame["low"].iloc[1100:1130].min())
        sl = await ex.place_protective("XRPUSDT", "SL", "SELL", 100.0, round(max(low, last * 0.97) + 0.0001, 4), "ct-S-2")
        for _ in range(30):
            await fx.aadvance()
            if sink.of(ProtectiveTriggered):
                break
        await _until(lambda: sink.of(FillEvent) and any(e.fill.reduce_only for e in sink.of(FillEvent)))
        return sl, sink.of(ProtectiveTriggered), [e.fill for e in sink.of(FillEvent) if e.fill.reduce_only]

    sl, triggered, fills = _run(frame, scenario)
    assert triggered[0].algo_id == sl.order_id and triggered[0].actual_order_id == fills[0].order_id != sl.order_id
    assert fills[0].order_type == "MARKET" and fills[0].price == pytest.approx(sl.trigger_price)  # live: `ot = MARKET`


def test_user_stream_reconnects_with_a_fresh_listen_key_and_announces_it(frame):
    async def scenario(fx, ex, sink):
        await fx.ainject(DropConnection("user"))
        await _until(lambda: len(sink.of(StreamReconnected)) >= 1)
        await _until(lambda: fx.connections()["user"] >= 1)
        await fx.ainject(ExpireListenKey(close_connection=False))  # listenKeyExpired -> reconnect
        await _until(lambda: len(sink.of(StreamReconnected)) >= 2)
        await _until(lambda: fx.connections()["user"] >= 1)
        await ex.prepare_symbol("XRPUSDT", 10)
        await ex.market_order("XRPUSDT", "BUY", 50.0, reduce_only=False, client_id="ct-E-9")
        await _until(lambda: any(e.fill.client_id == "ct-E-9" for e in sink.of(FillEvent)))  # fills flow again
        return ex.user.connects, fx.connections()["user_total"], ex.user.listen_keys

    connects, total, keys = _run(frame, scenario)
    assert connects >= 3 and total >= 3 and len(set(keys)) >= 2


def test_market_stream_drop_is_backfilled_in_order(frame):
    async def scenario(fx, ex, sink):
        await fx.aadvance()
        await _until(lambda: len(sink.of(CandleClosed)) == 1)
        fx.faults.add(FaultRule(action=DropConnection("market"), times=1))
        await fx.aadvance(2)  # the drop happens on the first of these; both candles are missed
        await _until(lambda: fx.connections()["market"] >= 1)
        await fx.aadvance()
        await _until(lambda: len(sink.of(CandleClosed)) >= 4)
        return sink.of(CandleClosed), sink.of(StreamReconnected)

    candles, reconnects = _run(frame, scenario)
    times = [c.open_time_ms for c in candles]
    assert times == sorted(set(times)) and len(times) == 4 and all(b - a == 900_000 for a, b in zip(times, times[1:]))
    assert any(r.stream == "market" for r in reconnects)
    assert all(not pd.isna(c.values["close_btc"]) for c in candles)  # aligned by open time (DEF-15)


def test_rate_limited_reads_are_retried(frame):
    async def scenario(fx, ex, sink):
        fx.faults.add(FaultRule(method="GET", path="/fapi/v2/balance", error=HttpError(429, -1003), times=1))
        fx.faults.add(FaultRule(method="GET", path="/fapi/v3/balance", error=HttpError(429, -1003), times=1))
        return await ex.balance()

    assert _run(frame, scenario) == 1000.0


def test_history_longer_than_one_kline_page_is_fetched_in_pages():
    """The MTF strategy preloads ~4,000 candles (1,000 closed hours): more than the 1,500 one request returns."""
    frame = generate_market("XRPUSDT", 50, seed=4).combined
    frame["oi_change"] = frame["oi_change"].fillna(0.0)

    async def main() -> pd.DataFrame:
        async with FakeExchange(frame, symbol="XRPUSDT", config=FakeExchangeConfig(history_candles=4500)) as fx:
            ex = BinanceExchange("live", BinanceEndpoints(False, fx.rest_url, fx.ws_url, fx.api_key, fx.api_secret),
                                 ["XRPUSDT"], ["BTCUSDT", "ETHUSDT"])  # fmt: skip
            await ex.start()
            try:
                return await ex.history("XRPUSDT", 4100)
            finally:
                await ex.close()

    got = asyncio.run(main())
    assert len(got) == 4100 and got.index.is_monotonic_increasing and got.index.is_unique
    assert (got.index.to_series().diff().dropna() == pd.Timedelta(minutes=15)).all()
    expected = frame.loc[got.index, "close"].to_numpy()
    assert abs(got["close"].to_numpy() - expected).max() < 1e-3  # the venue rounds prices to its tick
