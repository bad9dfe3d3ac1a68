"""The Binance market source through the real python-binance client against the local fake venue, as the
`klines` asset uses it: a complete fetch is stored, a failed one leaves the warehouse untouched."""

from __future__ import annotations

from typing import Iterator

import dagster as dg
import pandas as pd
import pytest

from cointrader_pipelines.defs.market_data.assets import klines
from cointrader_pipelines.resources.market_api import MarketDataResource
from cointrader_pipelines.resources.warehouse import WarehouseResource
from trader_runtime.market.synthetic import generate_market
from trader_runtime.testing.fake_exchange import FakeExchange, FakeExchangeConfig, FaultRule, rate_limited, server_error


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    out = generate_market("XRPUSDT", 20, seed=4).combined
    out["oi_change"] = out["oi_change"].fillna(0.0)
    return out


@pytest.fixture
def fx(frame) -> Iterator[FakeExchange]:
    with FakeExchange(frame, symbol="XRPUSDT", config=FakeExchangeConfig(history_candles=1800)) as ex:
        yield ex


def _resources(fx: FakeExchange, tmp_path) -> dict[str, object]:
    # a generous request timeout: on a loaded machine (parallel workers) a 1,500-candle page can take longer than
    # the production 10 s, and the retry of a timed-out page would be counted as an extra call
    market = MarketDataResource(source="binance", binance_rest_url=fx.rest_url, page_pause_s=0.0, retry_attempts=3,
                                retry_base_delay_s=0.0, backfill_days=30, request_timeout_s=120.0)
    return {"market": market, "warehouse": WarehouseResource(path=str(tmp_path / "wh.duckdb"))}


def _run(resources: dict[str, object]) -> dg.ExecuteInProcessResult:
    return dg.materialize([klines], partition_key="XRPUSDT", resources=resources, raise_on_error=False)


def test_binance_source_uses_the_exchange_clock(fx):
    source = MarketDataResource(source="binance", binance_rest_url=fx.rest_url).open()
    assert source.now() == fx.snapshot().replay_time


def test_klines_asset_paginates_through_a_rate_limit(fx, tmp_path):
    fx.faults.add(FaultRule(path="/fapi/v1/klines", error=rate_limited(retry_after=0), times=1))
    result = _run(_resources(fx, tmp_path))
    assert result.success
    stored = WarehouseResource(path=str(tmp_path / "wh.duckdb")).open().read_candles("XRPUSDT")
    assert len(stored) == 1800  # every closed candle the venue has, over two pages
    assert stored.index[-1] + pd.Timedelta(minutes=15) == fx.snapshot().replay_time
    kline_calls = [p for _, path, p in fx.requests() if path == "/fapi/v1/klines"]
    assert len(kline_calls) == 3  # 429, page 1, page 2


def test_exhausted_retries_fail_the_run_and_write_nothing(fx, tmp_path):
    resources = _resources(fx, tmp_path)
    assert _run(resources).success
    before = WarehouseResource(path=str(tmp_path / "wh.duckdb")).open().read_candles("XRPUSDT")
    fx.advance(100)  # new candles exist, but every fetch attempt fails
    fx.faults.add(FaultRule(path="/fapi/v1/klines", error=server_error(502), times=None, skip=0))
    result = _run(resources)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    cause = failure.event_specific_data.error.cause
    assert cause.cls_name == "TemporaryExchangeError"
    assert "failed after 3 attempts: HTTP 502" in cause.message
    after = WarehouseResource(path=str(tmp_path / "wh.duckdb")).open().read_candles("XRPUSDT")
    pd.testing.assert_frame_equal(before, after)


def test_failure_on_a_later_page_writes_nothing(fx, tmp_path):
    resources = _resources(fx, tmp_path)
    fx.faults.add(FaultRule(path="/fapi/v1/klines", error=server_error(503), times=None, skip=1))
    result = _run(resources)
    assert not result.success
    assert WarehouseResource(path=str(tmp_path / "wh.duckdb")).open().coverage("XRPUSDT").rows == 0
