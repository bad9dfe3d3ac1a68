"""A fake Binance venue on 127.0.0.1 replaying a synthetic XRPUSDT market, and a fetcher pointed at it."""

from __future__ import annotations

from typing import Iterator

import pandas as pd
import pytest

from trader_runtime.exchange.binance.market_data import BinanceMarketData, RetryPolicy, public_client
from trader_runtime.market.synthetic import generate_market
from trader_runtime.testing.fake_exchange import FakeExchange, FakeExchangeConfig

HISTORY_CANDLES = 3100  # > 30 days, > 2 kline pages


class Sleeps(list):
    """Records requested waits instead of sleeping (tests stay fast)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(scope="module")
def market_frame() -> pd.DataFrame:
    frame = generate_market("XRPUSDT", 34, seed=3).combined
    # the fake compounds oi_change into an OI level; the synthetic first value is NaN (unknown)
    frame["oi_change"] = frame["oi_change"].fillna(0.0)
    return frame


@pytest.fixture
def fx(market_frame: pd.DataFrame) -> Iterator[FakeExchange]:
    with FakeExchange(market_frame, symbol="XRPUSDT", config=FakeExchangeConfig(history_candles=HISTORY_CANDLES)) as ex:
        yield ex


@pytest.fixture
def now(fx: FakeExchange) -> pd.Timestamp:
    return fx.snapshot().replay_time


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def fetcher(fx: FakeExchange, sleeps: Sleeps) -> Iterator[BinanceMarketData]:
    client = public_client(fx.rest_url, timeout_s=5)
    yield BinanceMarketData(client, retry=RetryPolicy(attempts=3, base_delay_s=0.5), page_pause_s=0.0, sleep=sleeps)
    client.close_connection()
