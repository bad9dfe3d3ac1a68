"""Fixtures for the fake exchange tests: candle builders, a running fake, and real python-binance clients.
The loopback-only guard is the root conftest's autouse `loopback_guard` fixture."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Iterator, TypeVar

import pandas as pd
import pytest
from binance import Client

from tests.trader_runtime.testing.fake_exchange.candles import flat_closes, make_candles
from trader_runtime.testing.fake_exchange import FakeExchange, FakeExchangeConfig, client_for

T = TypeVar("T")
HISTORY = 40


def run(coro: Awaitable[T], timeout: float = 25.0) -> T:
    """Run an async test body on a fresh loop with a hard timeout."""
    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


@pytest.fixture
def candles() -> pd.DataFrame:
    return make_candles(flat_closes())


@pytest.fixture
def fx(candles: pd.DataFrame) -> Iterator[FakeExchange]:
    with FakeExchange(candles, symbol="XRPUSDT", config=FakeExchangeConfig(history_candles=HISTORY)) as exchange:
        yield exchange


@pytest.fixture
def client(fx: FakeExchange) -> Iterator[Client]:
    c = client_for(fx, timeout_s=5)
    yield c
    c.close_connection()


def error_of(exc_info: Any) -> tuple[int, int]:
    """(HTTP status, Binance code) of a caught BinanceAPIException."""
    return exc_info.value.status_code, exc_info.value.code
