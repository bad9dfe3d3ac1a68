"""Ingestion steps on the synthetic source and a real DuckDB warehouse: backfill, incremental upsert, accumulation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from cointrader_pipelines.ingest import (
    OVERLAP_BARS,
    build_combined,
    fetch_start,
    ingest_funding,
    ingest_klines,
    ingest_ls_ratio,
    ingest_open_interest,
)
from cointrader_pipelines.resources.market_sources import SyntheticSource
from trader_runtime.errors import ConfigError, DataError
from trader_runtime.storage.warehouse import Warehouse

END = pd.Timestamp("2026-01-01", tz="UTC")
BAR = pd.Timedelta(minutes=15)


@pytest.fixture
def source() -> SyntheticSource:
    return SyntheticSource(days=45, seed=5, end=END)


@pytest.fixture
def warehouse(tmp_path) -> Warehouse:
    return Warehouse(tmp_path / "wh.duckdb")


def test_fetch_start_backfills_first_then_overlaps_the_newest_candle():
    assert fetch_start(None, END, 10) == END - pd.Timedelta(days=10)
    last = END - 3 * BAR
    assert fetch_start(last, END, 10) == last - OVERLAP_BARS * BAR


def test_first_run_backfills_and_second_run_only_touches_the_overlap(source, warehouse):
    first = ingest_klines(source, warehouse, "XRPUSDT", backfill_days=30)
    assert first.inserted == 30 * 96 and first.updated == 0
    second = ingest_klines(source, warehouse, "XRPUSDT", backfill_days=30)
    assert second.inserted == 0 and second.updated == OVERLAP_BARS + 1
    stored = warehouse.read_candles("XRPUSDT")
    assert stored.index[-1] == END - BAR and len(stored) == 30 * 96


def test_later_market_adds_new_candles_incrementally(warehouse):
    ingest_klines(SyntheticSource(days=45, seed=5, end=END - pd.Timedelta(days=1)), warehouse, "XRPUSDT", 20)
    result = ingest_klines(SyntheticSource(days=45, seed=5, end=END), warehouse, "XRPUSDT", 20)
    assert result.inserted == 96
    assert warehouse.coverage("XRPUSDT").rows == 21 * 96


@dataclass
class EarlierClock:
    """The same market seen at an earlier instant (the synthetic source's own clock is its end)."""

    source: SyntheticSource
    at: pd.Timestamp
    name: str = "synthetic"

    def now(self) -> pd.Timestamp:
        return self.at

    def __getattr__(self, item):
        return getattr(self.source, item)


def test_open_interest_accumulates_beyond_the_30_day_window(warehouse):
    late = SyntheticSource(days=60, seed=5, end=END)
    early = EarlierClock(late, END - pd.Timedelta(days=10))
    ingest_klines(late, warehouse, "XRPUSDT", backfill_days=50)
    ingest_open_interest(early, warehouse, "XRPUSDT")
    ingest_open_interest(late, warehouse, "XRPUSDT")
    oi = warehouse.read_candles("XRPUSDT")["oi_change"]
    known = oi.dropna()
    assert known.index[0] < END - pd.Timedelta(days=30)  # values from the earlier window survived
    assert len(known) > 38 * 96
    expected = late._market("XRPUSDT").combined["oi_change"]
    np.testing.assert_allclose(known.to_numpy(), expected.loc[known.index].to_numpy(), rtol=1e-9)


def test_funding_is_carried_to_every_candle(source, warehouse):
    ingest_klines(source, warehouse, "XRPUSDT", backfill_days=20)
    ingest_funding(source, warehouse, "XRPUSDT")
    stored = warehouse.read_candles("XRPUSDT")
    assert stored["funding_rate"].notna().all()
    expected = source._market("XRPUSDT").combined["funding_rate"]
    np.testing.assert_allclose(stored["funding_rate"].to_numpy(), expected.loc[stored.index].to_numpy())


def test_oi_before_klines_is_refused_and_writes_nothing(source, warehouse):
    with pytest.raises(DataError, match="materialise `klines` first"):
        ingest_open_interest(source, warehouse, "XRPUSDT")
    assert warehouse.coverage("XRPUSDT").rows == 0


def test_ls_ratio_backfills_30_days_then_adds_new_periods_once(warehouse):
    ingest_ls_ratio(SyntheticSource(days=45, seed=5, end=END - pd.Timedelta(days=1)), warehouse, "XRPUSDT")
    again = ingest_ls_ratio(SyntheticSource(days=45, seed=5, end=END), warehouse, "XRPUSDT")
    stored = warehouse.read_ls_ratio("XRPUSDT")
    assert stored["timestamp"].is_unique
    assert again.inserted == 96
    assert stored["timestamp"].iloc[0] >= END - pd.Timedelta(days=32)


def test_combined_joins_btc_eth_and_is_stored_back(source, warehouse):
    for sym in ("XRPUSDT", "BTCUSDT", "ETHUSDT"):
        ingest_klines(source, warehouse, sym, backfill_days=20)
    ingest_funding(source, warehouse, "XRPUSDT")
    combined = build_combined(warehouse, "XRPUSDT", ["BTCUSDT", "ETHUSDT"], END)
    reference = source._market("XRPUSDT").combined
    assert len(combined) == 20 * 96
    np.testing.assert_allclose(combined["close_btc"], reference.loc[combined.index, "close_btc"])
    stored = warehouse.read_candles("XRPUSDT")
    assert "close_eth" in stored.columns and stored["close_eth"].notna().all()


def test_combined_refuses_unknown_correlation_symbols(source, warehouse):
    ingest_klines(source, warehouse, "XRPUSDT", backfill_days=5)
    with pytest.raises(ConfigError, match="SOLUSDT"):
        build_combined(warehouse, "XRPUSDT", ["SOLUSDT"], END)
