"""Public market data through the real `Client`: exchange info, kline pagination, OI, funding, long/short ratios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from binance import Client
from binance.exceptions import BinanceAPIException

from tests.trader_runtime.testing.fake_exchange.candles import START, make_candles
from tests.trader_runtime.testing.fake_exchange.conftest import HISTORY, error_of
from trader_runtime.testing.fake_exchange import FakeExchange, FakeExchangeConfig, client_for

BAR_MS = 900_000
T0 = int(START.timestamp() * 1000)


def test_exchange_info_lists_every_served_symbol_with_filters(client: Client) -> None:
    info = client.futures_exchange_info()
    by_symbol = {s["symbol"]: s for s in info["symbols"]}
    xrp_filters = {f["filterType"]: f for f in by_symbol["XRPUSDT"]["filters"]}
    assert set(by_symbol) == {"XRPUSDT", "BTCUSDT", "ETHUSDT"}
    assert (by_symbol["XRPUSDT"]["pricePrecision"], by_symbol["XRPUSDT"]["quantityPrecision"]) == (4, 1)
    assert xrp_filters["PRICE_FILTER"]["tickSize"] == "0.0001" and xrp_filters["LOT_SIZE"]["stepSize"] == "0.1"


def test_klines_end_with_the_forming_candle_and_advance_reveals_one_more(fx: FakeExchange, client: Client) -> None:
    before = client.futures_klines(symbol="XRPUSDT", interval="15m", limit=2)
    fx.advance()
    after = client.futures_klines(symbol="XRPUSDT", interval="15m", limit=2)
    assert before[-1][0] == T0 + HISTORY * BAR_MS and before[-1][5] == "0.000"  # just opened, no volume
    assert after[0][0] == before[-1][0] and after[0][5] == "150000.000"  # the same candle, now closed
    assert after[-1][0] == T0 + (HISTORY + 1) * BAR_MS


def test_historical_klines_paginate_through_the_library() -> None:
    closes = 2.0 + 0.001 * np.arange(2600)
    with FakeExchange(make_candles(closes, with_corr=False), symbol="DOGEUSDT",
                      config=FakeExchangeConfig(history_candles=2400)) as fx:
        client = client_for(fx)
        rows = client.futures_historical_klines("DOGEUSDT", "15m", T0)
        pages = [params for method, path, params in fx.requests() if path == "/fapi/v1/klines"]
    opens = [r[0] for r in rows]
    assert len(rows) == 2401 and opens == sorted(set(opens))  # 2400 closed + the forming one, no duplicates
    assert opens[-1] == T0 + 2400 * BAR_MS  # nothing beyond the replay cursor
    assert len(pages) == 1 + 3  # earliest-timestamp probe, then pages of 1000, 1000, 401
    assert rows[10][4] == "2.010000"  # DOGE prices carry 6 decimals


def test_manual_pagination_by_start_time(client: Client) -> None:
    page1 = client.futures_klines(symbol="XRPUSDT", interval="15m", startTime=T0, limit=25)
    page2 = client.futures_klines(symbol="XRPUSDT", interval="15m", startTime=page1[-1][0] + 1, limit=25)
    assert [r[0] for r in page1 + page2] == [T0 + i * BAR_MS for i in range(HISTORY + 1)]


def test_unsupported_interval_is_refused(client: Client) -> None:
    with pytest.raises(BinanceAPIException) as err:
        client.futures_klines(symbol="XRPUSDT", interval="1m")
    assert error_of(err) == (400, -1120)


def test_unknown_symbol_is_refused(client: Client) -> None:
    with pytest.raises(BinanceAPIException) as err:
        client.futures_klines(symbol="ADAUSDT", interval="15m")
    assert error_of(err) == (400, -1121)


def oi_frame() -> pd.DataFrame:
    frame = make_candles(np.full(60, 2.5))
    frame["oi_change"] = 0.0
    frame.iloc[HISTORY - 4:, frame.columns.get_loc("oi_change")] = 0.01
    frame["funding_rate"] = 0.0
    frame.loc[frame.index >= pd.Timestamp("2025-03-01 08:00", tz="UTC"), "funding_rate"] = 0.0003
    return frame


def test_open_interest_follows_oi_change() -> None:
    with FakeExchange(oi_frame(), symbol="XRPUSDT", config=FakeExchangeConfig(history_candles=HISTORY)) as fx:
        client = client_for(fx)
        hist = client.futures_open_interest_hist(symbol="XRPUSDT", period="15m", limit=6)
        now = client.futures_open_interest(symbol="XRPUSDT")
    values = [float(r["sumOpenInterest"]) for r in hist]
    changes = [b / a - 1 for a, b in zip(values, values[1:], strict=False)]
    assert changes[0] == pytest.approx(0.0) and changes[1:] == pytest.approx([0.01] * 4)
    assert hist[-1]["timestamp"] == T0 + HISTORY * BAR_MS  # stamped at the close of the last closed candle
    assert float(now["openInterest"]) == pytest.approx(values[-1], rel=1e-9)


def test_funding_history_and_premium_index() -> None:
    with FakeExchange(oi_frame(), symbol="XRPUSDT", config=FakeExchangeConfig(history_candles=HISTORY)) as fx:
        client = client_for(fx)
        history = client.futures_funding_rate(symbol="XRPUSDT", startTime=T0)
        premium = client.futures_mark_price(symbol="XRPUSDT")
    assert [(r["fundingTime"], r["fundingRate"]) for r in history] == [(T0, "0.00000000"), (T0 + 8 * 3_600_000, "0.00030000")]
    assert premium["lastFundingRate"] == "0.00030000" and premium["nextFundingTime"] == T0 + 16 * 3_600_000


def test_long_short_ratios_from_a_given_frame_and_synthetic() -> None:
    stamps = pd.date_range(START, periods=HISTORY + 5, freq="15min", tz="UTC")
    ls = pd.DataFrame({"timestamp": stamps, "top_acct_ls_ratio": np.linspace(1.0, 2.0, len(stamps)),
                       "global_ls_ratio": 1.25})
    with FakeExchange(make_candles(np.full(60, 2.5)), symbol="XRPUSDT", ls_ratios={"XRPUSDT": ls},
                      config=FakeExchangeConfig(history_candles=HISTORY)) as fx:
        client = client_for(fx)
        top = client.futures_top_longshort_account_ratio(symbol="XRPUSDT", period="15m", limit=1)
        glob = client.futures_global_longshort_ratio(symbol="XRPUSDT", period="15m", limit=2)
        btc = client.futures_top_longshort_account_ratio(symbol="BTCUSDT", period="1h", limit=3)
    assert top == [{"symbol": "XRPUSDT", "longShortRatio": "1.9091", "longAccount": "0.6562", "shortAccount": "0.3438",
                    "timestamp": T0 + HISTORY * BAR_MS}]  # rows after the replay time are not served
    assert [r["longShortRatio"] for r in glob] == ["1.2500", "1.2500"]
    assert [r["timestamp"] % 3_600_000 for r in btc] == [0, 0, 0] and btc[0]["longShortRatio"] == "1.5000"
