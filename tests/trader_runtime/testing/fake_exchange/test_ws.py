"""Streams through the real `AsyncClient` + `BinanceSocketManager`: combined kline streams, the user-data stream
(ORDER_TRADE_UPDATE / ACCOUNT_UPDATE / ALGO_UPDATE), and the stream faults (drop, silence, listen-key expiry,
duplicated, reordered and edited events)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import pytest
from binance import AsyncClient
from binance.exceptions import BinanceAPIException
from binance.ws.streams import BinanceSocketManager

from tests.trader_runtime.testing.fake_exchange.conftest import HISTORY, run
from trader_runtime.testing.fake_exchange import (DropConnection, Duplicate, EditEvent, ExpireListenKey, FakeExchange,
                                                  FaultRule, PartialFill, Reorder, Silence, async_client_for,
                                                  socket_manager_for)

KLINES = ["xrpusdt@kline_15m", "btcusdt@kline_15m"]


@asynccontextmanager
async def binance(fx: FakeExchange) -> AsyncIterator[tuple[AsyncClient, BinanceSocketManager]]:
    client = await async_client_for(fx, timeout_s=5)
    try:
        yield client, socket_manager_for(client, fx)
    finally:
        await client.close_connection()


def fast(sock: Any) -> Any:
    """Shorten python-binance's 10 s read timeout: leaving `async with` waits for it (the fake is never slower)."""
    sock.TIMEOUT = 0.3
    return sock


async def wait_for_connections(fx: FakeExchange, kind: str, count: int = 1) -> None:
    """Until the library has reconnected (it waits 1-2 s); leaving a socket mid-reconnect hangs python-binance."""
    for _ in range(80):
        if (await asyncio.to_thread(fx.connections))[kind] == count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind} reconnection")


async def next_event(sock: Any, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next user event of type `kind` (other event types are skipped)."""
    async def wait() -> dict[str, Any]:
        while True:
            msg = await sock.recv()
            if msg.get("e") == kind:
                return msg
    return await asyncio.wait_for(wait(), timeout)


async def silent_for(sock: Any, seconds: float) -> bool:
    try:
        await asyncio.wait_for(sock.recv(), seconds)
    except asyncio.TimeoutError:
        return True
    return False


async def market_buy(client: AsyncClient, qty: str = "40") -> dict[str, Any]:
    return await client.futures_create_order(symbol="XRPUSDT", side="BUY", type="MARKET", quantity=qty)


def test_combined_kline_stream_gets_closed_then_forming_candles(fx: FakeExchange) -> None:
    async def body() -> list[dict[str, Any]]:
        async with binance(fx) as (_, bsm):
            async with fast(bsm.futures_multiplex_socket(KLINES)) as sock:
                await fx.aadvance()
                return [await asyncio.wait_for(sock.recv(), 5) for _ in range(4)]

    messages = run(body())
    closed = {m["stream"]: m["data"] for m in messages if m["data"]["k"]["x"]}
    forming = [m["data"]["k"] for m in messages if not m["data"]["k"]["x"]]
    assert set(closed) == set(KLINES) and len(forming) == 2
    xrp = closed["xrpusdt@kline_15m"]
    assert (xrp["e"], xrp["s"], xrp["k"]["i"], xrp["k"]["t"]) == ("kline", "XRPUSDT", "15m", 1740787200000 + HISTORY * 900_000)
    assert forming[0]["t"] == xrp["k"]["t"] + 900_000 and forming[0]["v"] == "0.000"


def test_market_order_reaches_the_user_stream(fx: FakeExchange) -> None:
    async def body() -> tuple[dict, dict, dict, dict]:
        async with binance(fx) as (client, bsm):
            async with fast(bsm.futures_user_socket()) as sock:
                placed = await market_buy(client)
                new = await next_event(sock, "ORDER_TRADE_UPDATE")
                trade = await next_event(sock, "ORDER_TRADE_UPDATE")
                account = await next_event(sock, "ACCOUNT_UPDATE")
                return placed, new["o"], trade["o"], account["a"]

    placed, new, trade, account = run(body())
    assert (new["x"], new["X"], new["i"]) == ("NEW", "NEW", placed["orderId"])
    assert {k: trade[k] for k in ("s", "S", "o", "ot", "x", "X", "R", "N")} == {
        "s": "XRPUSDT", "S": "BUY", "o": "MARKET", "ot": "MARKET", "x": "TRADE", "X": "FILLED", "R": False, "N": "USDT"}
    assert trade["ap"] == trade["L"] and trade["z"] == "40.0" and float(trade["n"]) > 0 and trade["rp"] == "0.00000000"
    assert account["m"] == "ORDER" and account["P"][0]["pa"] == "40.0" and account["P"][0]["s"] == "XRPUSDT"


def test_stop_market_triggered_by_advance_is_reported_as_a_reduce_only_fill(candles) -> None:
    candles.iloc[HISTORY, candles.columns.get_loc("low")] = 2.40
    with FakeExchange(candles, symbol="XRPUSDT", config=fx_config()) as fx:
        async def body() -> list[dict[str, Any]]:
            async with binance(fx) as (client, bsm):
                await market_buy(client)
                await client.futures_create_order(symbol="XRPUSDT", side="SELL", type="STOP_MARKET", stopPrice="2.4500",
                                                  quantity="40", reduceOnly="true")
                async with fast(bsm.futures_user_socket()) as sock:
                    await fx.aadvance()
                    return [await next_event(sock, kind) for kind in
                            ("ALGO_UPDATE", "ORDER_TRADE_UPDATE", "ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "ALGO_UPDATE")]

        triggered, new, fill, account, finished = run(body())
    assert triggered["o"]["X"] == "TRIGGERED" and finished["o"]["X"] == "FINISHED"
    assert (new["o"]["x"], fill["o"]["x"], fill["o"]["X"]) == ("NEW", "TRADE", "FILLED")
    assert (fill["o"]["o"], fill["o"]["ot"], fill["o"]["R"], fill["o"]["ap"]) == ("MARKET", "MARKET", True, "2.4500")
    assert fill["o"]["i"] != triggered["o"]["aid"] and str(fill["o"]["i"]) == triggered["o"]["ai"]  # live: i ≠ algoId
    assert float(fill["o"]["rp"]) < 0 and account["a"]["P"][0]["pa"] == "0.0"


def test_dropped_market_stream_reports_an_error_and_the_library_reconnects(fx: FakeExchange) -> None:
    async def body() -> tuple[dict[str, Any], dict[str, Any]]:
        async with binance(fx) as (_, bsm):
            async with fast(bsm.futures_multiplex_socket(KLINES)) as sock:
                assert await fx.ainject(DropConnection("market")) == 1
                error = await asyncio.wait_for(sock.recv(), 5)
                await wait_for_connections(fx, "market")
                await fx.aadvance()
                while True:
                    msg = await asyncio.wait_for(sock.recv(), 5)
                    if msg.get("e") != "error":
                        return error, msg

    error, resumed = run(body())
    assert error["e"] == "error" and error["type"] in ("ConnectionClosedError", "BinanceWebsocketClosed")
    assert resumed["data"]["e"] == "kline"
    assert fx.connections()["market_total"] == 2


def test_silent_user_stream_stays_open_but_delivers_nothing(fx: FakeExchange) -> None:
    async def body() -> tuple[bool, int, dict[str, Any]]:
        async with binance(fx) as (client, bsm):
            async with fast(bsm.futures_user_socket()) as sock:
                await fx.ainject(Silence("user"))
                await market_buy(client)
                quiet = await silent_for(sock, 1.0)
                still_open = fx.connections()["user"]
                await asyncio.to_thread(fx.unsilence)
                await market_buy(client, "10")
                return quiet, still_open, await next_event(sock, "ORDER_TRADE_UPDATE")

    quiet, still_open, after = run(body())
    assert quiet and still_open == 1
    assert after["o"]["q"] == "10.0"  # events from the silent period are lost, later ones arrive


def test_listen_key_expiry_is_announced_then_the_stream_goes_quiet(fx: FakeExchange) -> None:
    async def body() -> tuple[dict[str, Any], bool, int, str, str]:
        async with binance(fx) as (client, bsm):
            key = await client.futures_stream_get_listen_key()
            async with fast(bsm.futures_user_socket()) as sock:
                await fx.ainject(ExpireListenKey())
                expired = await next_event(sock, "listenKeyExpired")
                await market_buy(client)
                quiet = await silent_for(sock, 0.8)
                try:
                    await client.futures_stream_keepalive(key)
                    code = 0
                except BinanceAPIException as err:
                    code = err.code
                return expired, quiet, code, key, await client.futures_stream_get_listen_key()

    expired, quiet, keepalive_code, old_key, new_key = run(body())
    assert expired["listenKey"] == old_key and quiet and keepalive_code == -1125 and new_key != old_key


def test_duplicated_user_events(fx: FakeExchange) -> None:
    fx.faults.add(FaultRule(action=Duplicate(), params={"e": "ORDER_TRADE_UPDATE", "X": "FILLED"}))

    async def body() -> list[dict[str, Any]]:
        async with binance(fx) as (client, bsm):
            async with fast(bsm.futures_user_socket()) as sock:
                await market_buy(client)
                return [(await next_event(sock, "ORDER_TRADE_UPDATE"))["o"] for _ in range(3)]

    new, fill, again = run(body())
    assert new["X"] == "NEW" and fill == again and fill["X"] == "FILLED"


def test_out_of_order_partial_fills(fx: FakeExchange) -> None:
    fx.faults.add(FaultRule(action=PartialFill((0.5, 0.5))))
    fx.faults.add(FaultRule(action=Reorder(after=2), params={"e": "ORDER_TRADE_UPDATE", "X": "PARTIALLY_FILLED"}))

    async def body() -> list[str]:
        async with binance(fx) as (client, bsm):
            async with fast(bsm.futures_user_socket()) as sock:
                await market_buy(client)
                return [(await next_event(sock, "ORDER_TRADE_UPDATE"))["o"]["X"] for _ in range(3)]

    assert run(body()) == ["NEW", "FILLED", "PARTIALLY_FILLED"]


def test_edited_event_without_average_price(fx: FakeExchange) -> None:
    fx.faults.add(FaultRule(action=EditEvent(remove=("ap",)), params={"e": "ORDER_TRADE_UPDATE", "x": "TRADE"}))

    async def body() -> dict[str, Any]:
        async with binance(fx) as (client, bsm):
            async with fast(bsm.futures_user_socket()) as sock:
                await market_buy(client)
                await next_event(sock, "ORDER_TRADE_UPDATE")
                return (await next_event(sock, "ORDER_TRADE_UPDATE"))["o"]

    fill = run(body())
    assert fill["X"] == "FILLED" and "ap" not in fill


def test_rule_on_the_advance_hook_silences_the_market_stream_from_the_second_candle(fx: FakeExchange) -> None:
    rule = fx.faults.add(FaultRule(action=Silence("market"), on="advance", skip=1))

    async def body() -> tuple[int, bool]:
        async with binance(fx) as (_, bsm):
            async with fast(bsm.futures_multiplex_socket(KLINES)) as sock:
                await fx.aadvance()
                first = [await asyncio.wait_for(sock.recv(), 5) for _ in range(4)]
                await fx.aadvance()
                return len(first), await silent_for(sock, 0.6)

    assert run(body()) == (4, True) and (rule.matched, rule.injected) == (2, 1)


def test_rule_can_drop_the_user_stream_when_a_fill_is_due(fx: FakeExchange) -> None:
    """A stream action on the user_event hook: the connection dies instead of delivering the fill."""
    rule = fx.faults.add(FaultRule(action=DropConnection("user"), on="user_event", params={"x": "TRADE"}))

    async def body() -> dict[str, Any]:
        async with binance(fx) as (client, bsm):
            async with fast(bsm.futures_user_socket()) as sock:
                await market_buy(client)
                error = await next_event(sock, "error")
                await wait_for_connections(fx, "user")
                return error

    assert run(body())["type"] in ("ConnectionClosedError", "BinanceWebsocketClosed") and rule.injected == 1
    assert fx.connections()["user_total"] == 2


def fx_config():
    from trader_runtime.testing.fake_exchange import FakeExchangeConfig

    return FakeExchangeConfig(history_candles=HISTORY)


@pytest.fixture(autouse=True)
def _quiet_python_binance_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Reconnect noise from python-binance is expected here."""
    caplog.set_level("CRITICAL", logger="binance.ws.reconnecting_websocket")
