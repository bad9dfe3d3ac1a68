"""`MarketDataResource`: which market-data source the assets read (`synthetic` default, `binance`, `parquet`, `bulk`).

`bulk` reads Binance's public archive (`bulk_source`: a mirror folder or a base URL); with `bulk_rest_tail` the REST
endpoints follow it for the days the archive has not published yet (history from the archive, the tail from REST;
both are keyed upserts, so nothing is stored twice)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import dagster as dg
import pandas as pd
from pydantic import Field

from trader_runtime.errors import ConfigError
from trader_runtime.exchange.binance.market_data import BinanceMarketData, RetryPolicy, public_client
from trader_runtime.market.synthetic import DEFAULT_END

from cointrader_pipelines.resources.market_sources import BinanceSource, MarketSource, ParquetSource, SyntheticSource


class MarketDataResource(dg.ConfigurableResource):
    """Plain fields only; `open()` builds the source. Binance needs no keys (public endpoints)."""

    source: str = Field(default="synthetic", description="synthetic | binance | parquet | bulk")
    synthetic_days: int = Field(default=365, description="length of the synthetic market in days")
    synthetic_seed: int = 42
    synthetic_end: str = Field(default=DEFAULT_END.isoformat(), description="UTC instant the synthetic market ends")
    parquet_dir: str = Field(default="", description="folder of <sym>_combined_15m.parquet files (source=parquet)")
    parquet_reference_symbol: str = Field(default="XRPUSDT", description="file whose *_btc/*_eth columns serve BTC/ETH")
    binance_rest_url: str = Field(default="", description="REST base URL override (empty: Binance production)")
    bulk_source: str = Field(default="", description="archive mirror folder or base URL (source=bulk)")
    bulk_rest_tail: bool = Field(default=False, description="source=bulk: fetch the newest days over REST too")
    backfill_days: int = Field(default=365, description="days fetched on the first run of a symbol")
    correlation_symbols: list[str] = Field(default=["BTCUSDT", "ETHUSDT"], description="embedded as *_btc/*_eth")
    request_timeout_s: float = 10.0
    page_pause_s: float = 0.3
    retry_attempts: int = 4
    retry_base_delay_s: float = 1.0

    def open(self) -> MarketSource:
        builders: dict[str, Callable[[], MarketSource]] = {
            "synthetic": self._synthetic,
            "binance": self._binance,
            "parquet": self._parquet,
            "bulk": self._bulk,
        }
        if self.source not in builders:
            raise ConfigError(f"market source {self.source!r} is unknown; choose one of {sorted(builders)}")
        if self.source == "bulk" and self.bulk_rest_tail:
            return self._binance()  # the freshest clock: REST serves the newest days
        return builders[self.source]()

    def open_all(self) -> list[MarketSource]:
        """Every source an ingestion step reads, oldest data first (bulk history, then the REST tail)."""
        if self.source == "bulk" and self.bulk_rest_tail:
            return [self._bulk(), self._binance()]
        return [self.open()]

    def _bulk(self) -> MarketSource:
        from trader_runtime.market.bulk.store import open_store

        from cointrader_pipelines.resources.bulk_source import BulkSource, mirror_end

        if not self.bulk_source:
            raise ConfigError("market source bulk needs COINTRADER_BULK_SOURCE (a mirror folder or a base URL)")
        store = open_store(self.bulk_source)
        return BulkSource(store, mirror_end(store, self.parquet_reference_symbol))

    def _synthetic(self) -> MarketSource:
        end = pd.Timestamp(self.synthetic_end)
        if end.tzinfo is None:
            raise ConfigError(f"synthetic_end={self.synthetic_end!r} must carry a timezone, e.g. 2026-01-01T00:00Z")
        return SyntheticSource(days=self.synthetic_days, seed=self.synthetic_seed, end=end.tz_convert("UTC"))

    def _binance(self) -> MarketSource:
        client = public_client(self.binance_rest_url or None, timeout_s=self.request_timeout_s)
        retry = RetryPolicy(attempts=self.retry_attempts, base_delay_s=self.retry_base_delay_s)
        return BinanceSource(BinanceMarketData(client, retry=retry, page_pause_s=self.page_pause_s))

    def _parquet(self) -> MarketSource:
        folder = Path(self.parquet_dir)
        if not self.parquet_dir or not folder.is_dir():
            raise ConfigError(f"parquet_dir={self.parquet_dir!r} is not a folder; set COINTRADER_PARQUET_DIR")
        return ParquetSource(folder, self.parquet_reference_symbol)
