"""The REST market-data fetcher with the real python-binance client against the local fake venue."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trader_runtime.errors import ConfigError, TemporaryExchangeError
from trader_runtime.exchange.binance.market_data import BinanceMarketData, RetryPolicy, public_client
from trader_runtime.testing.fake_exchange import Delay, FaultRule, HttpError, ip_banned, rate_limited, server_error

BAR = pd.Timedelta(minutes=15)


def _requests(fx, path: str) -> list[dict[str, str]]:
    return [params for method, p, params in fx.requests() if p == path]


def test_klines_paginate_and_return_only_closed_candles(fx, fetcher, now, market_frame):
    start = now - pd.Timedelta(days=31)
    frame = fetcher.klines("XRPUSDT", start, now)
    assert len(frame) == 31 * 96
    assert frame.index[0] == start and frame.index[-1] == now - BAR  # the forming candle is not there
    assert len(_requests(fx, "/fapi/v1/klines")) == 2  # 2976 candles = 2 pages of 1500
    expected = market_frame.loc[frame.index, "close"].to_numpy()
    np.testing.assert_allclose(frame["close"].to_numpy(), expected, rtol=1e-3)


def test_klines_of_an_empty_range_make_no_request(fx, fetcher, now):
    assert fetcher.klines("XRPUSDT", now, now).empty
    assert _requests(fx, "/fapi/v1/klines") == []


def test_open_interest_stays_inside_the_30_day_window(fx, fetcher, now):
    oi = fetcher.open_interest("XRPUSDT", now - pd.Timedelta(days=60), now)
    calls = _requests(fx, "/futures/data/openInterestHist")
    first_start = pd.Timestamp(int(calls[0]["startTime"]), unit="ms", tz="UTC")
    assert first_start > now - pd.Timedelta(days=30)
    assert len(calls) >= 5  # ~2879 rows in pages of 500
    assert len(oi) > 2800 and oi["timestamp"].is_unique
    assert oi["timestamp"].max() <= now


def test_funding_rates_are_the_8h_settlements(fetcher, now):
    funding = fetcher.funding_rates("XRPUSDT", now - pd.Timedelta(days=10), now)
    assert len(funding) in (30, 31)
    assert (funding["funding_time"].diff().dropna() == pd.Timedelta(hours=8)).all()


def test_ls_ratios_backfill_both_ratios(fetcher, now):
    ls = fetcher.ls_ratios("XRPUSDT", now - pd.Timedelta(days=2), now)
    assert list(ls.columns) == ["timestamp", "top_acct_ls_ratio", "global_ls_ratio"]
    assert len(ls) == 2 * 96 + 1  # statistics are stamped at candle close: both ends count
    assert ls["timestamp"].is_unique and (ls[["top_acct_ls_ratio", "global_ls_ratio"]] > 0).all().all()


def test_rate_limit_then_success_waits_retry_after(fx, fetcher, sleeps, now):
    fx.faults.add(FaultRule(path="/fapi/v1/klines", error=rate_limited(retry_after=3), times=1))
    frame = fetcher.klines("XRPUSDT", now - pd.Timedelta(days=1), now)
    assert len(frame) == 96
    assert sleeps == [3.0]
    assert len(_requests(fx, "/fapi/v1/klines")) == 2


def test_server_errors_exhaust_retries_with_a_clear_error(fx, fetcher, sleeps, now):
    fx.faults.add(FaultRule(path="/fapi/v1/klines", error=server_error(503), times=None))
    with pytest.raises(TemporaryExchangeError, match=r"klines for XRPUSDT failed after 3 attempts: HTTP 503"):
        fetcher.klines("XRPUSDT", now - pd.Timedelta(days=1), now)
    assert sleeps == [0.5, 1.0]


def test_failure_on_a_later_page_returns_nothing(fx, fetcher, now):
    fx.faults.add(FaultRule(path="/futures/data/openInterestHist", error=server_error(500), times=None, skip=2))
    with pytest.raises(TemporaryExchangeError, match="openInterestHist"):
        fetcher.open_interest("XRPUSDT", now - pd.Timedelta(days=30), now)


def test_ip_ban_longer_than_allowed_fails_at_once(fx, fetcher, sleeps, now):
    fx.faults.add(FaultRule(path="/fapi/v1/fundingRate", error=ip_banned(retry_after=600), times=None))
    with pytest.raises(TemporaryExchangeError, match="Retry-After 600s"):
        fetcher.funding_rates("XRPUSDT", now - pd.Timedelta(days=1), now)
    assert sleeps == [] and len(_requests(fx, "/fapi/v1/fundingRate")) == 1


def test_refusal_is_not_retried(fx, fetcher, now):
    with pytest.raises(ConfigError, match="code -1121"):
        fetcher.klines("NOPEUSDT", now - pd.Timedelta(days=1), now)
    assert len(_requests(fx, "/fapi/v1/klines")) == 1


def test_timeout_is_retried(fx, sleeps, now):
    client = public_client(fx.rest_url, timeout_s=0.3)
    fetcher = BinanceMarketData(client, retry=RetryPolicy(attempts=2, base_delay_s=0.0), page_pause_s=0.0, sleep=sleeps)
    fx.faults.add(FaultRule(path="/fapi/v1/klines", action=Delay(1.0, execute=False), times=1))
    frame = fetcher.klines("XRPUSDT", now - pd.Timedelta(hours=5), now)
    assert len(frame) == 20 and len(sleeps) == 1


def test_used_weight_above_budget_waits_for_the_next_minute(fx, sleeps, now):
    client = public_client(fx.rest_url, timeout_s=5)
    fetcher = BinanceMarketData(client, page_pause_s=0.0, weight_budget=1, sleep=sleeps, clock=lambda: 1_000_040.0)
    fetcher.klines("XRPUSDT", now - pd.Timedelta(hours=2), now)
    assert sleeps == [41.0]


def test_naive_times_are_refused(fetcher, now):
    with pytest.raises(ConfigError, match="timezone-naive"):
        fetcher.klines("XRPUSDT", pd.Timestamp("2026-01-01"), now)
