"""Market-data assets: candles (symbol + BTC/ETH), open interest and funding into the warehouse, then the
combined 15m table. Every step that opens the DuckDB file runs in the `duckdb_warehouse` pool (limit 1). Their candle
checks (`checks.py`) are evaluated in the same step, on what it just stored."""

import datetime as dt
from typing import Iterator

import dagster as dg
import pandas as pd

from trader_runtime.domain.schema import OHLCV_COLUMNS

from cointrader_pipelines.defs.code_versions import code_version
from cointrader_pipelines.defs.market_data.checks import (
    COMBINED_CHECKS, CORRELATION_CHECKS, KLINES_CHECKS, combined_results, correlation_results, klines_results,
    stored_reports,
)
from cointrader_pipelines.ingest import build_combined, ingest_funding, ingest_klines, ingest_open_interest
from cointrader_pipelines.partitions import symbol_partitions
from cointrader_pipelines.priorities import LONGEST_CHAIN
from cointrader_pipelines.resources.market_api import MarketDataResource
from cointrader_pipelines.resources.warehouse import CANDLES, WAREHOUSE_POOL, WarehouseResource
from cointrader_pipelines.tracking.lineage import frame_digest

GROUP = "market_data"
#: refreshed daily at 00:10 UTC (market_data_schedule): late after 25 h, failed after 26 h
DAILY = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=26), warn_window=dt.timedelta(hours=25))


def _stored(warehouse: WarehouseResource, symbol: str, columns: list[str]) -> pd.DataFrame:
    frame = warehouse.open().read_candles(symbol)
    return frame[[c for c in columns if c in frame.columns]]


def _column_result(warehouse: WarehouseResource, symbol: str, column: str, metadata: dict) -> dg.MaterializeResult:
    """Publish the symbol's candles after a column was filled in; the stored column is the data version and its
    filled share the `coverage` (open interest and funding alike)."""
    warehouse.publish(CANDLES, [symbol])
    stored = _stored(warehouse, symbol, [column])
    coverage = float(stored[column].notna().mean()) if len(stored) else 0.0
    return dg.MaterializeResult(metadata={**metadata, "coverage": coverage}, data_version=dg.DataVersion(frame_digest(stored)))


@dg.asset(partitions_def=symbol_partitions, pool=WAREHOUSE_POOL, group_name=GROUP, freshness_policy=DAILY, code_version=code_version(__file__), kinds={"duckdb"},
          check_specs=KLINES_CHECKS, op_tags=LONGEST_CHAIN)
def klines(context: dg.AssetExecutionContext, market: MarketDataResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Closed 15m candles of the symbol; the first run backfills `backfill_days`, later runs upsert new candles."""
    wh = warehouse.open()
    result = [ingest_klines(src, wh, context.partition_key, market.backfill_days) for src in market.open_all()][-1]
    warehouse.publish(CANDLES, [context.partition_key])
    stored = _stored(warehouse, context.partition_key, list(OHLCV_COLUMNS))
    context.log.info(f"{context.partition_key}: fetched {result.fetched} candles, {len(stored)} stored")
    return dg.MaterializeResult(
        metadata={**result.metadata(), "rows_stored": len(stored), "last_candle": str(stored.index.max())},
        data_version=dg.DataVersion(frame_digest(stored)),
        check_results=klines_results(stored_reports(warehouse, [context.partition_key], market.open().now())),
    )


@dg.asset(pool=WAREHOUSE_POOL, group_name=GROUP, freshness_policy=DAILY, code_version=code_version(__file__), kinds={"duckdb"},
          check_specs=CORRELATION_CHECKS, op_tags=LONGEST_CHAIN)
def correlation_klines(context: dg.AssetExecutionContext, market: MarketDataResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """BTCUSDT and ETHUSDT candles, stored once for every traded symbol (embedded as *_btc / *_eth)."""
    wh = warehouse.open()
    results = [ingest_klines(src, wh, sym, market.backfill_days) for src in market.open_all()
               for sym in market.correlation_symbols]
    warehouse.publish(CANDLES, list(market.correlation_symbols))
    stored = pd.concat({sym: _stored(warehouse, sym, list(OHLCV_COLUMNS)) for sym in market.correlation_symbols})
    return dg.MaterializeResult(
        metadata={r.symbol: dg.MetadataValue.json(r.metadata()) for r in results} | {"rows_stored": len(stored)},
        data_version=dg.DataVersion(frame_digest(stored)),
        check_results=correlation_results(stored_reports(warehouse, market.correlation_symbols, market.open().now())),
    )


@dg.asset(partitions_def=symbol_partitions, deps=[klines], pool=WAREHOUSE_POOL, group_name=GROUP, freshness_policy=DAILY, code_version=code_version(__file__), kinds={"duckdb"},
          op_tags=LONGEST_CHAIN)
def open_interest(context: dg.AssetExecutionContext, market: MarketDataResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """`oi_change` of the last 30 days (all the exchange serves), accumulating in the warehouse run after run."""
    wh = warehouse.open()
    result = [ingest_open_interest(src, wh, context.partition_key) for src in market.open_all()][-1]
    return _column_result(warehouse, context.partition_key, "oi_change", result.metadata())


@dg.asset(partitions_def=symbol_partitions, deps=[klines], pool=WAREHOUSE_POOL, group_name=GROUP, freshness_policy=DAILY, code_version=code_version(__file__), kinds={"duckdb"},
          op_tags=LONGEST_CHAIN)
def funding_rate(context: dg.AssetExecutionContext, market: MarketDataResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Settled funding rate carried by each candle (latest settlement at or before its open time)."""
    wh = warehouse.open()
    result = [ingest_funding(src, wh, context.partition_key) for src in market.open_all()][-1]
    return _column_result(warehouse, context.partition_key, "funding_rate", result.metadata())


@dg.asset(
    partitions_def=symbol_partitions, deps=[klines, correlation_klines, open_interest, funding_rate],
    pool=WAREHOUSE_POOL, group_name=GROUP, freshness_policy=DAILY, code_version=code_version(__file__), kinds={"duckdb", "pandas"},
    check_specs=COMBINED_CHECKS, op_tags=LONGEST_CHAIN,
)
def combined_15m(context: dg.AssetExecutionContext, market: MarketDataResource, warehouse: WarehouseResource) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """The combined 15-minute table the strategy reads: the symbol's candles joined on time with BTC/ETH closes,
    open-interest change and the funding rate."""
    symbol = context.partition_key
    frame = build_combined(warehouse.open(), symbol, market.correlation_symbols, market.open().now())
    warehouse.publish(CANDLES, [symbol])
    oi = frame["oi_change"].notna().mean() if "oi_change" in frame.columns else 0.0
    funding = frame["funding_rate"].notna().mean() if "funding_rate" in frame.columns else 0.0
    yield dg.Output(
        frame,
        data_version=dg.DataVersion(frame_digest(frame)),
        metadata={"rows": len(frame), "start": str(frame.index[0]), "end": str(frame.index[-1]),
                  "columns": list(frame.columns), "oi_coverage": float(oi), "funding_coverage": float(funding)},
    )
    yield from combined_results(symbol, frame)
