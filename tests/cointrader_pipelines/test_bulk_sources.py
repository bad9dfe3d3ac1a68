"""The main job's data assets on Binance's public archive (`COINTRADER_MARKET_SOURCE=bulk`), with and without the
REST tail against the local fake exchange; the month × symbol `bulk_history` asset; the REST close-time OI rule."""

from __future__ import annotations

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from cointrader_pipelines.defs.bulk_history.assets import bulk_history
from cointrader_pipelines.defs.ls_ratio.assets import correlation_ls_ratio, ls_ratio
from cointrader_pipelines.defs.market_data.assets import (
    combined_15m, correlation_klines, funding_rate, klines, open_interest,
)
from cointrader_pipelines.ingest import ingest_klines, ingest_open_interest
from cointrader_pipelines.resources.bulk_archive import BulkArchiveResource
from cointrader_pipelines.resources.market_api import MarketDataResource
from cointrader_pipelines.resources.warehouse import WarehouseResource
from trader_runtime.market.bulk.importer import BulkImporter, BulkRequest
from trader_runtime.market.bulk.layout import Month
from trader_runtime.market.bulk.store import MirrorFolder
from trader_runtime.market.synthetic import generate_market
from trader_runtime.storage.warehouse import Warehouse
from trader_runtime.testing.bulk_mirror import synthetic_mirror
from trader_runtime.testing.fake_exchange import FakeExchange, FakeExchangeConfig

END = pd.Timestamp("2025-03-01", tz="UTC")
DATA_ASSETS = [klines, correlation_klines, open_interest, funding_rate, ls_ratio, correlation_ls_ratio, combined_15m]


def _materialize(market: MarketDataResource, wh_path) -> dg.ExecuteInProcessResult:
    return dg.materialize(DATA_ASSETS, partition_key="XRPUSDT",
                          resources={"market": market, "warehouse": WarehouseResource(path=str(wh_path))})


def test_data_assets_on_the_archive_match_the_bulk_importer(tmp_path):
    mirror = synthetic_mirror(tmp_path / "m", "XRPUSDT", days=59, seed=3, end=END)
    market = MarketDataResource(source="bulk", bulk_source=str(mirror.root), backfill_days=120)
    assert _materialize(market, tmp_path / "job.duckdb").success
    job = Warehouse(tmp_path / "job.duckdb").read_candles("XRPUSDT")
    assert len(job) == 59 * 96
    assert job["oi_change"].iloc[1:].notna().all() and job["funding_rate"].iloc[1:].notna().all()  # no 30-day window
    imported = Warehouse(tmp_path / "imp.duckdb")
    with imported:
        BulkImporter(MirrorFolder(mirror.root), imported, END).run(BulkRequest(("XRPUSDT",), Month(2025, 1), Month(2025, 2)))
    pd.testing.assert_frame_equal(job, imported.read_candles("XRPUSDT"), check_exact=True)
    assert set(Warehouse(tmp_path / "job.duckdb").coverage_by_source("XRPUSDT")["source"]) == {"bulk"}
    assert len(Warehouse(tmp_path / "job.duckdb").read_ls_ratio("XRPUSDT")) == 59 * 96  # 00:15 .. the end


def test_archive_history_then_rest_tail_without_duplicates(tmp_path):
    frame = generate_market("XRPUSDT", 40, seed=6, end=END).combined
    frame["oi_change"] = frame["oi_change"].fillna(0.0)  # the venue builds its OI series from the changes
    mirror = synthetic_mirror(tmp_path / "m", "XRPUSDT", days=40, seed=6, end=END, until=END - pd.Timedelta(days=5))
    with FakeExchange(frame, symbol="XRPUSDT", config=FakeExchangeConfig(history_candles=len(frame) - 1)) as fx:
        market = MarketDataResource(source="bulk", bulk_source=str(mirror.root), bulk_rest_tail=True,
                                    binance_rest_url=fx.rest_url, page_pause_s=0.0, retry_base_delay_s=0.0,
                                    backfill_days=60)
        assert _materialize(market, tmp_path / "w.duckdb").success
    wh = Warehouse(tmp_path / "w.duckdb")
    stored = wh.read_candles("XRPUSDT")
    assert len(stored) == 40 * 96 - 1 and stored.index.is_unique  # the venue's last candle is still forming
    expected = frame.iloc[:-1]
    history = stored.index < END - pd.Timedelta(days=5, hours=2)  # REST rewrites a few candles of overlap
    for col in ("close", "close_btc"):  # the archive is exact; the venue rounds prices to its tick size
        np.testing.assert_array_equal(stored.loc[history, col].to_numpy(), expected.loc[history, col].to_numpy())
        np.testing.assert_allclose(stored[col].to_numpy(), expected[col].to_numpy(), rtol=1e-4)
    by_source = wh.coverage_by_source("XRPUSDT").set_index(["kind", "source"])
    assert by_source.loc[("candles", "rest"), "first"] >= END - pd.Timedelta(days=5, hours=2)  # tail + overlap
    assert by_source.loc[("candles", "bulk"), "rows"] >= 34 * 96


def test_bulk_history_asset_imports_one_month_of_one_symbol(tmp_path):
    mirror = synthetic_mirror(tmp_path / "m", "XRPUSDT", days=59, seed=3, end=END)
    key = dg.MultiPartitionKey({"month": "2025-02-01", "symbol": "XRPUSDT"})
    result = dg.materialize([bulk_history], partition_key=key, resources={
        "bulk_archive": BulkArchiveResource(source=str(mirror.root)),
        "market": MarketDataResource(), "warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb"))})
    assert result.success
    wh = Warehouse(tmp_path / "w.duckdb")
    assert len(wh.read_candles("XRPUSDT")) == 28 * 96
    meta = result.asset_materializations_for_node("bulk_history")[0].metadata
    assert {row["data_type"] for row in meta["coverage"].data} >= {"klines", "fundingRate", "metrics"}


def test_rest_open_interest_uses_the_close_rule_like_the_archive(tmp_path):
    frame = generate_market("XRPUSDT", 20, seed=4).combined
    frame["oi_change"] = frame["oi_change"].fillna(0.0)
    with FakeExchange(frame, symbol="XRPUSDT", config=FakeExchangeConfig(history_candles=1800)) as fx:
        source = MarketDataResource(source="binance", binance_rest_url=fx.rest_url, page_pause_s=0.0,
                                    backfill_days=30).open()
        wh = Warehouse(tmp_path / "w.duckdb")
        ingest_klines(source, wh, "XRPUSDT", 30)
        ingest_open_interest(source, wh, "XRPUSDT")
    stored = wh.read_candles("XRPUSDT")["oi_change"].dropna()
    assert len(stored) > 1700
    # the venue's records are the OI at each candle's close: the stored change is that candle's own change
    np.testing.assert_allclose(stored.to_numpy(), frame.loc[stored.index, "oi_change"].to_numpy(), rtol=1e-6, atol=1e-12)
