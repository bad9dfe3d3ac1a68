"""point_client_at / client_for / async_client_for / socket_manager_for: every flag combination of python-binance
lands on the fake, and nothing is left pointing at Binance."""

from __future__ import annotations

import asyncio

import pytest
from binance import AsyncClient, Client

from tests.trader_runtime.testing.fake_exchange.conftest import run
from trader_runtime.testing.fake_exchange import (FakeExchange, async_client_for, client_for, point_client_at,
                                                  socket_manager_for)


@pytest.mark.parametrize("flags", [{}, {"demo": True}, {"testnet": True}])
def test_sync_client_in_any_mode_reaches_the_fake(fx: FakeExchange, flags: dict) -> None:
    client = Client(fx.api_key, fx.api_secret, ping=False, **flags)
    point_client_at(client, fx)
    client.futures_account_balance()
    client.futures_open_interest_hist(symbol="XRPUSDT", period="15m", limit=2)
    paths = [path for _, path, _ in fx.requests()]
    assert paths == ["/fapi/v3/balance", "/futures/data/openInterestHist"]


def test_no_endpoint_attribute_still_points_at_binance(fx: FakeExchange) -> None:
    client = client_for(fx, demo=True)
    urls = {name: getattr(client, name) for name in dir(client) if name.endswith("_URL") and isinstance(getattr(client, name), str)}
    leftovers = {n: u for n, u in urls.items() if "binance" in u and not n.startswith("WS_")}
    assert leftovers == {}
    assert client.ws_api._url.startswith(fx.ws_url.rstrip("/")) and client.ws_future._url.startswith(fx.ws_url.rstrip("/"))


def test_async_client_signs_with_the_exchange_clock(fx: FakeExchange) -> None:
    async def body() -> int:
        client = await async_client_for(fx)
        try:
            await client.futures_account_balance()
        finally:
            await client.close_connection()
        return int(fx.requests()[-1][2]["timestamp"])

    signed_at = run(body())
    replay_now = int(fx.snapshot().replay_time.timestamp() * 1000)
    assert abs(signed_at - replay_now) < 5_000  # timestamps follow the fake's (replay) server time, like create()


@pytest.mark.parametrize("demo", [False, True])
def test_socket_manager_streams_connect_to_the_fake_in_both_modes(fx: FakeExchange, demo: bool) -> None:
    async def body() -> dict:
        client: AsyncClient = await async_client_for(fx, demo=demo)
        try:
            bsm = socket_manager_for(client, fx)
            market = bsm.futures_multiplex_socket(["xrpusdt@kline_15m"])
            user = bsm.futures_user_socket()
            market.TIMEOUT = user.TIMEOUT = 0.3
            async with market, user:
                await fx.aadvance()
                kline = await asyncio.wait_for(market.recv(), 5)
                counts = await asyncio.to_thread(fx.connections)
        finally:
            await client.close_connection()
        return {"kline": kline["stream"], **counts}

    seen = run(body())
    assert seen["kline"] == "xrpusdt@kline_15m" and (seen["market"], seen["user"]) == (1, 1)
