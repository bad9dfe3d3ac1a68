"""FakeExchange lifecycle: 127.0.0.1 only, start/stop, sync and async use, clock-driven replay, end of data."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pandas as pd
import pytest
import requests

from tests.trader_runtime.testing.fake_exchange.candles import make_candles
from tests.trader_runtime.testing.fake_exchange.conftest import HISTORY, run
from trader_runtime.testing.fake_exchange import (FakeExchange, FakeExchangeConfig, ReplayExhausted, async_client_for,
                                                  client_for)


def test_binds_loopback_on_a_free_port_and_stops_cleanly(candles: pd.DataFrame) -> None:
    fx = FakeExchange(candles, symbol="XRPUSDT").start()
    url = fx.rest_url
    assert url.startswith("http://127.0.0.1:") and fx.port > 0 and fx.ws_url == f"ws://127.0.0.1:{fx.port}/"
    assert requests.get(f"{url}/fapi/v1/ping", timeout=5).json() == {}
    fx.stop()
    fx.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/fapi/v1/ping", timeout=2)
    with pytest.raises(RuntimeError, match="not running"):
        fx.advance()
    with pytest.raises(RuntimeError, match="restarted"):
        fx.start()


def test_single_frame_needs_a_symbol(candles: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="symbol="):
        FakeExchange(candles)


def test_two_primary_symbols_on_one_exchange() -> None:
    xrp = make_candles(np.full(50, 2.5), with_corr=False)
    doge = make_candles(np.full(50, 0.2), with_corr=False)
    with FakeExchange({"XRPUSDT": xrp, "DOGEUSDT": doge}, config=FakeExchangeConfig(history_candles=HISTORY)) as fx:
        prices = {p["symbol"]: p["price"] for p in client_for(fx).futures_symbol_ticker()}
    assert prices == {"XRPUSDT": "2.5000", "DOGEUSDT": "0.200000"}


def test_advance_past_the_end_raises(candles: pd.DataFrame) -> None:
    with FakeExchange(candles, symbol="XRPUSDT", config=FakeExchangeConfig(history_candles=len(candles) - 2)) as fx:
        assert len(fx.advance(2)) == 2
        with pytest.raises(ReplayExhausted):
            fx.advance()


def test_clock_drives_the_replay(fx: FakeExchange) -> None:
    start = fx.snapshot().replay_time
    fx.start_clock(0.05)
    deadline = time.monotonic() + 5
    while fx.snapshot().replay_time < start + pd.Timedelta(minutes=45) and time.monotonic() < deadline:
        time.sleep(0.02)
    fx.stop_clock()
    moved = fx.snapshot().replay_time - start
    time.sleep(0.2)
    assert moved >= pd.Timedelta(minutes=45)
    assert fx.snapshot().replay_time - start == moved  # stopped


def test_replay_time_is_the_exchange_time(fx: FakeExchange) -> None:
    client = client_for(fx)
    before = client.futures_time()["serverTime"]
    fx.advance(2)
    assert client.futures_time()["serverTime"] - before == 2 * 900_000


def test_async_context_manager_and_async_client(candles: pd.DataFrame) -> None:
    async def body() -> tuple[int, list[pd.Timestamp]]:
        async with FakeExchange(candles, symbol="XRPUSDT", config=FakeExchangeConfig(history_candles=HISTORY)) as fx:
            client = await async_client_for(fx)
            try:
                balance = await client.futures_account_balance()
                closed = await fx.aadvance(3)
            finally:
                await client.close_connection()
            return len(balance), closed

    n, closed = run(body())
    assert n == 1 and [t.minute for t in closed] == [0, 15, 30]


def test_control_calls_from_the_server_loop_are_refused(fx: FakeExchange) -> None:
    async def inside() -> None:
        fx.advance()

    future = asyncio.run_coroutine_threadsafe(inside(), fx._loop)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="server's own loop"):
        future.result(timeout=5)
