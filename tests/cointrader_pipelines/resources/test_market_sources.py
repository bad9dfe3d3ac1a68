"""Synthetic and Parquet market sources: closed candles only, exchange windows, legacy 0.0 = missing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cointrader_pipelines.resources.market_api import MarketDataResource
from cointrader_pipelines.resources.market_sources import ParquetSource, SyntheticSource
from trader_runtime.errors import ConfigError, DataError
from trader_runtime.market.synthetic import generate_market

END = pd.Timestamp("2026-01-01", tz="UTC")
BAR = pd.Timedelta(minutes=15)


def test_synthetic_klines_stop_at_the_last_closed_candle():
    source = SyntheticSource(days=10, seed=1, end=END)
    now = END - pd.Timedelta(minutes=5)  # mid-candle
    frame = source.klines("XRPUSDT", END - pd.Timedelta(days=1), now)
    assert frame.index[-1] + BAR <= now
    assert len(frame) == 95


def test_synthetic_statistics_respect_the_30_day_window():
    source = SyntheticSource(days=60, seed=1, end=END)
    oi = source.open_interest("XRPUSDT", END - pd.Timedelta(days=60), END)
    ls = source.ls_ratios("XRPUSDT", END - pd.Timedelta(days=60), END)
    for frame in (oi, ls):
        assert frame["timestamp"].min() >= END - pd.Timedelta(days=30)


def test_btc_candles_are_the_btc_columns_of_every_symbol():
    source = SyntheticSource(days=10, seed=1, end=END)
    btc = source.klines("BTCUSDT", END - pd.Timedelta(days=2), END)
    xrp = source._market("XRPUSDT").combined
    np.testing.assert_allclose(btc["close"], xrp.loc[btc.index, "close_btc"])


@pytest.fixture
def parquet_dir(tmp_path):
    combined = generate_market("XRPUSDT", 20, seed=2).combined.copy()
    combined["oi_change"] = 0.0  # the legacy files: OI never collected (spec 10 §1.5)
    combined.iloc[:40, combined.columns.get_loc("funding_rate")] = 0.0
    combined.to_parquet(tmp_path / "xrpusdt_combined_15m.parquet")
    ls = generate_market("XRPUSDT", 20, seed=2).ls_ratio.iloc[-50:]
    pd.concat([ls, ls.iloc[:5]]).to_parquet(tmp_path / "xrpusdt_ls_ratio_15m.parquet")  # duplicates, as collected
    return tmp_path


def test_parquet_source_serves_the_collector_layout(parquet_dir):
    source = ParquetSource(parquet_dir)
    now = source.now()
    assert now == END
    start = END - pd.Timedelta(days=5)
    assert len(source.klines("XRPUSDT", start, now)) == 5 * 96
    assert len(source.klines("ETHUSDT", start, now)) == 5 * 96
    assert source.open_interest("XRPUSDT", start, now).empty  # 0.0 means missing
    funding = source.funding_rates("XRPUSDT", END - pd.Timedelta(days=30), now)
    assert (funding["funding_time"].dt.hour % 8 == 0).all() and (funding["funding_rate"] != 0).all()
    ls = source.ls_ratios("XRPUSDT", END - pd.Timedelta(days=30), now)
    assert len(ls) == 50 and ls["timestamp"].is_unique


def test_parquet_source_names_a_missing_symbol(parquet_dir):
    with pytest.raises(DataError, match="dogeusdt_combined_15m.parquet"):
        ParquetSource(parquet_dir).klines("DOGEUSDT", END - pd.Timedelta(days=1), END)


@pytest.mark.parametrize("fields, match", [({"source": "kraken"}, "unknown"), ({"source": "parquet"}, "parquet_dir"),
                                           ({"synthetic_end": "2026-01-01"}, "timezone")])
def test_resource_refuses_bad_configuration(fields, match):
    with pytest.raises(ConfigError, match=match):
        MarketDataResource(**fields).open()
